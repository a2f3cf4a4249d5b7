// The tutor page in Debian's Chromium against echo.pipeline: the learner
// picks a subtopic (the public catalogue, grouped by topic), connects, the
// tutor greets first, the token request carried the subtopic (the
// conversation row says so), the progress panel renders, and a reload keeps
// the learner's identity and shows the past session (before joining, too). Screenshots go to
// $VOXGATE_BUILD_DIR/meson-logs/browser/. Prints TAP.
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { assert, done, eventually, freePort, test } from './tap.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const shots = join(process.env.VOXGATE_BUILD_DIR ?? '.', 'meson-logs', 'browser');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'vg-tutor-page-'));


// Silence only: the greeting must come before the learner says anything.
const wav = join(work, 'silence.wav');
execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'trim', '0', '10']);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const proc = spawn(process.env.VOXGATE_BIN, ['serve', '--port', String(port), '--data-dir', join(work, 'data')], {
  env: { ...process.env, VOXGATE_AGENT_PIPELINE: 'echo.pipeline', VOXGATE_WEBRTC_DISCONNECT_TIMEOUT: '2' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
await eventually(async () => { try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; } }, 'the gateway');
const admin = execFileSync(process.env.VOXGATE_BIN, ['token', '--admin', '--identity', 'admin'], { env: process.env }).toString().trim();
const adminGet = async (path) => (await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${admin}` } })).json();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--disable-quic', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
         `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
});

try {
  const context = await browser.newContext({ viewport: { width: 900, height: 1200 } });
  await context.grantPermissions(['microphone'], { origin: base });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e}`));
  const tokenBodies = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/token') && r.method() === 'POST') tokenBodies.push(JSON.parse(r.postData())); });
  let chosen = null, identity = null;

  await test('the picker lists the subtopics grouped by topic', async () => {
    await page.goto(`${base}/?room=tutor-page`);
    await eventually(async () => (await page.locator('#subtopic optgroup').count()) > 1, 'topic groups');
    const groups = await page.$$eval('#subtopic optgroup', (gs) => gs.map((g) => ({ label: g.label, n: g.children.length })));
    console.log(`# groups: ${JSON.stringify(groups)}`);
    assert(groups.every((g) => g.n > 0), 'every group has subtopics');
    chosen = await page.$eval('#subtopic optgroup:last-of-type option', (o) => ({ id: Number(o.value), name: o.textContent }));
    await page.selectOption('#subtopic', String(chosen.id));
    await page.fill('#name', 'Ada');
    await page.screenshot({ path: join(shots, 'tutor-01-picker.png') });
  });

  await test('the tutor greets first: an assistant entry before the learner speaks', async () => {
    await page.click('#connect');
    await eventually(async () => (await page.locator('#transcript li[data-role="assistant"]').count()) > 0, 'the greeting', 30000);
    assert(await page.locator('#transcript li[data-role="user"]').count() === 0, 'no learner entry before the greeting');
    const text = await page.textContent('#transcript li[data-role="assistant"]');
    console.log(`# greeting: ${text}`);
    assert(/without input/.test(text), 'echo.pipeline\'s greeting');
  });

  await test('the token request carried the identity and the subtopic; the conversation row has it', async () => {
    assert(tokenBodies.length === 1, `${tokenBodies.length} token requests`);
    identity = tokenBodies[0].participant_identity;
    assert(identity && identity === await page.evaluate(() => localStorage.getItem('voxgate.identity')), 'identity from localStorage');
    assert(JSON.parse(tokenBodies[0].participant_metadata).subtopic_id === chosen.id, 'metadata subtopic_id');
    const rows = await eventually(async () => {
      const r = (await adminGet(`/api/conversations?identity=${encodeURIComponent(identity)}`)).conversations;
      return r?.length && r;
    }, 'the conversation row');
    assert(Number(rows[0].subtopic_id) === chosen.id, `conversation subtopic ${rows[0].subtopic_id} != ${chosen.id}`);
  });

  await test('the progress panel renders (empty with echo.pipeline) and lists this session', async () => {
    await eventually(async () => (await page.locator('#sessions li').count()) >= 1, 'the session list');
    assert(await page.isVisible('#progress-empty'), 'the empty progress text');
    assert(/No progress recorded yet/.test(await page.textContent('#progress-empty')), 'empty-state text');
    await page.screenshot({ path: join(shots, 'tutor-02-greeted.png') });
  });

  await test('a returning learner (reload) keeps the identity and sees the past session', async () => {
    await page.click('#disconnect');
    await eventually(async () => (await page.getAttribute('#state', 'data-state')) === 'idle', 'idle', 5000);
    await page.reload();
    await eventually(async () => (await page.locator('#subtopic optgroup').count()) > 1, 'topic groups');
    assert(await page.inputValue('#subtopic') === String(chosen.id), 'the subtopic is remembered');
    // Before joining: the page reads the history with a token of the remembered identity.
    await eventually(async () => (await page.locator('#sessions li').count()) === 1, 'the past session before connecting', 10000);
    await page.click('#connect');
    await eventually(async () => (await page.locator('#sessions li').count()) >= 2, 'two sessions listed', 20000);
    assert(tokenBodies.length === 3 && tokenBodies.every((b) => b.participant_identity === identity), 'same identity on the second visit');
    assert(JSON.parse(tokenBodies[2].participant_metadata).subtopic_id === chosen.id, 'the join carries the subtopic');
    const rows = (await adminGet(`/api/conversations?identity=${encodeURIComponent(identity)}`)).conversations;
    assert(rows.length === 2, `${rows.length} conversations for the learner`);
    await page.screenshot({ path: join(shots, 'tutor-03-returning.png') });
    await page.click('#disconnect');
  });

  await test('tool events read as the learner would put them', async () => {
    const lines = await page.evaluate(async () => {
      const { describeTool } = await import('/assets/transcript.js');
      return [
        describeTool('check_understanding', { concept: 'common denominators' },
                     { concept: 'common denominators', level: 3, level_name: 'proficient', assessments: 2 }),
        describeTool('provide_example', '{"concept":"x"}', '{"concept":"x","difficulty":"easy","problem":"1/2 + 1/4 = ?"}'),
        describeTool('end_session', {}, { ended: true }),
      ];
    });
    console.log(`# ${JSON.stringify(lines)}`);
    assert(lines[0] === 'Understanding of common denominators: proficient (3/4)', lines[0]);
    assert(lines[1] === 'Example (easy): 1/2 + 1/4 = ?', lines[1]);
    assert(/wrapped up/.test(lines[2]), lines[2]);
  });
  await context.close();
} finally {
  await browser.close();
  await new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); });
  rmSync(work, { recursive: true, force: true });
}
done();
