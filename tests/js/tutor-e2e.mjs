// The tutor end to end in Debian's Chromium: the gateway runs tutor.pipeline
// (openairealtime) against the fake Realtime server (vg-realtime-server), whose
// script (tutor-script.json) makes the model call check_understanding,
// end_session and switch_subtopic when the learner types given words. The learner picks a subtopic, connects, hears the greeting,
// types two answers, sees the assessment in words and the progress panel
// update live, hears the goodbye, and sees the summary when the session
// closes. A reload (same remembered identity) shows the history before
// joining, the second greeting is a returning learner's welcome, and the
// learner asks for another subtopic (switch_subtopic). The
// fake server's log (--log) shows what the gateway sent it. Screenshots go to
// $VOXGATE_BUILD_DIR/meson-logs/browser/. Prints TAP.
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { assert, done, eventually, freePort, test } from './tap.mjs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const build = process.env.VOXGATE_BUILD_DIR ?? '.';
const source = process.env.VOXGATE_SOURCE_DIR ?? join(here, '..', '..');
const shots = join(build, 'meson-logs', 'browser');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'vg-tutor-e2e-'));
const started = Date.now();

const script = JSON.parse(readFileSync(join(here, 'tutor-script.json'), 'utf8'));
const check = script.find((s) => s.call === 'check_understanding').arguments;
const summary = script.find((s) => s.call === 'end_session').arguments.summary;

// Silence only: every turn of the learner is typed, so the scenario does not
// depend on voice activity detection on a loaded machine.
const wav = join(work, 'silence.wav');
execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'trim', '0', '10']);

const children = [];
function start(cmd, args, env) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  return proc;
}

// The fake Realtime server prints its URL first.
const rtLog = join(work, 'realtime.jsonl');
const rt = start(join(build, 'tests', 'realtime-server', 'vg-realtime-server'),
  ['--port', '0', '--script', join(here, 'tutor-script.json'), '--log', rtLog, '--response-ms', '1200']);
const rtUrl = await new Promise((resolve, reject) => {
  createInterface({ input: rt.stdout }).once('line', resolve);
  rt.once('exit', (code) => reject(new Error(`vg-realtime-server exited (${code})`)));
});
const clientEvents = () => readFileSync(rtLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const gateway = start(process.env.VOXGATE_BIN, ['serve', '--port', String(port), '--data-dir', join(work, 'data')], {
  OPENAI_API_KEY: 'test-key', VOXGATE_AGENT_PIPELINE: 'tutor.pipeline', VOXGATE_AGENT_REALTIME_URL: rtUrl,
  VOXGATE_AGENT_PIPELINES_DIR: join(source, 'pipelines'), VOXGATE_WEBRTC_DISCONNECT_TIMEOUT: '2',
});
gateway.stdout.resume();
await eventually(async () => { try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; } }, 'the gateway');
const admin = execFileSync(process.env.VOXGATE_BIN, ['token', '--admin', '--identity', 'admin'], { env: process.env }).toString().trim();
const adminGet = async (path) => (await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${admin}` } })).json();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--disable-quic', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
         `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
});

const state = (page) => page.getAttribute('#state', 'data-state');
const assistantTexts = (page) => page.$$eval('#transcript li[data-role="assistant"][data-final="true"] span', (s) => s.map((e) => e.textContent));
async function inboundEnergy(page) {
  return page.evaluate(async () => {
    const s = window.voxgate.session;
    if (!s) return 0;
    let energy = 0;
    (await s.pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') energy = r.totalAudioEnergy ?? 0; });
    return energy;
  });
}
// The tutor's reply n (1-based) of this page is final and played out.
async function replyDone(page, n, what) {
  await eventually(async () => (await assistantTexts(page)).length >= n && await state(page) === 'listening', what, 30000);
}
async function say(page, text) {
  await page.fill('#message', text);
  await page.click('#send');
}

try {
  const context = await browser.newContext({ viewport: { width: 900, height: 1400 } });
  await context.grantPermissions(['microphone'], { origin: base });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e}`));
  let identity = null, subtopic = null, firstConversation = null;

  await test('a first visit: pick Fractions, connect, the tutor greets by name with audio', async () => {
    await page.goto(`${base}/?room=tutor-e2e`);
    await eventually(async () => (await page.locator('#subtopic optgroup').count()) > 1, 'the subtopic picker');
    subtopic = await page.$eval('#subtopic', (sel) => [...sel.options].find((o) => o.textContent === 'Fractions')?.value);
    assert(subtopic, 'Fractions is offered');
    await page.selectOption('#subtopic', subtopic);
    await page.fill('#name', 'Ada');
    await page.click('#connect');
    await replyDone(page, 1, 'the greeting');
    const greeting = (await assistantTexts(page))[0];
    console.log(`# greeting (the fake speaks back its instructions): ${greeting.slice(0, 160)}…`);
    // What the gateway composed, as the fake server said it back.
    assert(/Introduce today's subtopic, Fractions/.test(greeting), 'a first session introduces the subtopic');
    assert(/Ada/.test(greeting) && /Teach fractions with everyday examples/.test(greeting), 'the name and the subtopic instructions');
    assert(await page.locator('#transcript li[data-role="user"]').count() === 0, 'nothing from the learner before the greeting');
    const energy = await eventually(async () => { const e = await inboundEnergy(page); return e > 0.001 && e; }, 'greeting audio at the page');
    console.log(`# inbound audio energy after the greeting: ${energy.toFixed(4)}`);
    identity = await page.evaluate(() => localStorage.getItem('voxgate.identity'));
    await page.screenshot({ path: join(shots, 'tutor-e2e-01-greeted.png') });
  });

  await test('the gateway declared the tools with schemas and sent the composed instructions', async () => {
    const events = clientEvents();
    const update = events.find((e) => e.event.type === 'session.update' && e.event.session?.tools)?.event.session;
    assert(update, 'a session.update with tools');
    const tools = Object.fromEntries(update.tools.map((t) => [t.name, t]));
    for (const name of ['check_understanding', 'provide_example', 'switch_subtopic', 'get_learner_progress', 'end_session'])
      assert(tools[name]?.type === 'function' && tools[name].parameters?.type === 'object', `tool ${name} with a schema`);
    assert(tools.end_session.parameters.required?.includes('summary'), 'end_session requires a summary');
    const instructed = events.filter((e) => e.event.type === 'session.update' && /Fractions/.test(e.event.session?.instructions ?? ''));
    assert(instructed.length > 0, 'the session instructions name the subtopic');
  });

  await test('the learner answers; the tutor checks understanding: shown in words, progress updates live', async () => {
    assert(await page.isVisible('#progress-empty'), 'no progress before');
    await say(page, 'You make the bottoms the same, then add the tops.');
    const line = await eventually(async () => {
      const li = page.locator('#transcript li[data-tool="check_understanding"] span');
      return (await li.count()) > 0 && li.first().textContent();
    }, 'the tool activity');
    console.log(`# tool activity: ${line}`);
    assert(line === 'Understanding of common denominators: proficient (3/4)', line);
    const row = await eventually(async () => {
      const li = page.locator('#progress li[data-concept="common denominators"]');
      return (await li.count()) > 0 && li.textContent();
    }, 'the progress panel row', 5000);
    console.log(`# progress: ${row}`);
    assert(/common denominators: proficient \(3\/4\), 1 check/.test(row), row);
    assert(!await page.isVisible('#progress-empty'), 'the empty text is gone');
    // The model got the result and answered it (the fake's response 2 speaks).
    const output = await eventually(() => clientEvents().find((e) => e.event.type === 'conversation.item.create'
      && e.event.item?.type === 'function_call_output'), 'the function_call_output at the fake server');
    const result = JSON.parse(output.event.item.output);
    assert(result.level_name === 'proficient' && result.assessments === 1, output.event.item.output);
    await replyDone(page, 2, 'the tutor\'s answer to the assessment');
    await page.screenshot({ path: join(shots, 'tutor-e2e-02-assessed.png') });
  });

  await test('the tutor ends the session: goodbye, the session closes, the summary shows', async () => {
    const before = await inboundEnergy(page);
    await say(page, 'I think that is enough for today, thank you!');
    await eventually(async () => (await page.locator('#transcript li[data-tool="end_session"]').count()) > 0, 'the end_session activity');
    await eventually(async () => await page.isVisible('#summary'), 'the summary card', 5000);
    assert(await page.textContent('#summary-text') === summary, 'the summary text');
    const checks = await page.textContent('#summary-checks');
    assert(/common denominators: proficient \(3\/4\)/.test(checks), `checked today: ${checks}`);
    // The goodbye is spoken (audio at the page), then the session closes by itself.
    await eventually(async () => (await inboundEnergy(page)) > before + 0.0005, 'the goodbye audio', 20000);
    await eventually(async () => await state(page) === 'ended', 'the session to close', 25000);
    assert((await assistantTexts(page)).length >= 3, 'the goodbye\'s transcript');
    assert(await page.isEnabled('#connect') && !await page.isEnabled('#disconnect'), 'ready to connect again');
    assert(await page.isHidden('#alert'), 'no "connection lost" alert');
    assert(await page.isVisible('#summary'), 'the summary stays after the session closed');
    const session = await eventually(async () => {
      const li = page.locator('#sessions li[data-status="completed"]');
      return (await li.count()) > 0 && li.first().textContent();
    }, 'the session listed as finished', 10000);
    assert(session.includes(summary), `past session: ${session}`);
    const rows = (await adminGet(`/api/conversations?identity=${encodeURIComponent(identity)}`)).conversations;
    firstConversation = rows[0];
    assert(rows.length === 1 && rows[0].status === 'completed', `conversation ${JSON.stringify(rows[0])}`);
    const { messages, summary: stored } = await adminGet(`/api/conversations/${rows[0].id}`);
    assert(stored === summary, 'the stored summary');
    const tools = messages.filter((m) => m.role === 'tool').map((m) => m.tool_name ?? m.name ?? m.text);
    console.log(`# tool messages: ${JSON.stringify(tools)}`);
    assert(messages.filter((m) => m.role === 'tool').length === 2, 'two tool messages stored');
    await page.screenshot({ path: join(shots, 'tutor-e2e-03-summary.png') });
  });

  await test('a returning learner (reload) sees the history before joining', async () => {
    await page.reload();
    assert(await page.evaluate(() => localStorage.getItem('voxgate.identity')) === identity, 'the identity is remembered');
    await eventually(async () => await page.inputValue('#subtopic') === subtopic, 'the remembered subtopic');
    const past = await eventually(async () => {
      const li = page.locator('#sessions li');
      return (await li.count()) === 1 && li.first().textContent();
    }, 'the past session before connecting', 10000);
    assert(past.includes(summary) && /finished/.test(past), past);
    const row = await eventually(async () => {
      const li = page.locator('#progress li[data-concept="common denominators"]');
      return (await li.count()) > 0 && li.textContent();
    }, 'the stored progress in this subtopic', 5000);
    assert(/proficient \(3\/4\)/.test(row), `stored progress: ${row}`);
    assert(await page.isHidden('#summary'), 'no summary card outside a session');
    await page.screenshot({ path: join(shots, 'tutor-e2e-04-returning.png') });
  });

  await test('the second session greets a returning learner with the last summary', async () => {
    const sent = clientEvents().length;
    await page.click('#connect');
    await replyDone(page, 1, 'the second greeting');
    const greeting = (await assistantTexts(page))[0];
    console.log(`# returning greeting, its end: …${greeting.slice(-400)}`);
    assert(/Welcome them back to Fractions/.test(greeting), 'a welcome back');
    assert(greeting.includes(summary.slice(0, 40)), 'the last summary recalled');
    assert(/Weakest concept: "?common denominators/.test(greeting), 'the weakest concept offered');
    // The same composition reached the fake server as the response's instructions.
    const create = clientEvents().slice(sent).find((e) => e.event.type === 'response.create' && e.event.response?.instructions);
    assert(create && /Welcome them back/.test(create.event.response.instructions), 'response.create with the welcome');
    await eventually(async () => (await page.locator('#sessions li').count()) === 2, 'both sessions listed');
    const rows = (await adminGet(`/api/conversations?identity=${encodeURIComponent(identity)}`)).conversations;
    assert(rows.length === 2 && rows[1].id === firstConversation.id, 'a second conversation of the same learner');
    await page.screenshot({ path: join(shots, 'tutor-e2e-05-welcome-back.png') });
  });

  await test('the tutor switches the subtopic: shown in words, the picker and the panel follow', async () => {
    const percentages = await page.$eval('#subtopic', (sel) => [...sel.options].find((o) => o.textContent === 'Percentages')?.value);
    const sent = clientEvents().length;
    await say(page, 'Could we do percentages instead?');
    const line = await eventually(async () => {
      const li = page.locator('#transcript li[data-tool="switch_subtopic"] span');
      return (await li.count()) > 0 && li.first().textContent();
    }, 'the switch in the conversation');
    console.log(`# tool activity: ${line}`);
    assert(line === 'Moved on to Percentages (mathematics): Percent as a fraction of one hundred', line);
    await eventually(async () => await page.inputValue('#subtopic') === percentages, 'the picker on Percentages', 5000);
    assert(await page.textContent('#progress-title') === 'Your progress in Percentages', 'the panel\'s title');
    await eventually(async () => await page.isVisible('#progress-empty'), 'no progress yet in Percentages', 5000);
    assert(await page.evaluate(() => localStorage.getItem('voxgate.subtopic')) === percentages, 'the next visit starts there');
    // The live session runs under the new subtopic's instructions.
    await eventually(() => clientEvents().slice(sent).some((e) => e.event.type === 'session.update'
      && /Explain percentages through discounts/.test(e.event.session?.instructions ?? '')), 'the new instructions at the fake server', 5000);
    const rows = (await adminGet(`/api/conversations?identity=${encodeURIComponent(identity)}`)).conversations;
    assert(String(rows[0].subtopic_id) === percentages, `the conversation moved: ${rows[0].subtopic_id}`);
    await replyDone(page, 2, 'the tutor opening the new subtopic');
    await page.screenshot({ path: join(shots, 'tutor-e2e-06-switched.png') });
    await page.click('#disconnect');
    await eventually(async () => await state(page) === 'idle', 'idle', 5000);
  });
  await context.close();
} finally {
  await browser.close();
  for (const child of children.reverse())
    await new Promise((r) => { if (child.exitCode !== null) r(); else { child.once('exit', r); child.kill('SIGTERM'); } });
  rmSync(work, { recursive: true, force: true });
}
console.log(`# tutor-e2e took ${((Date.now() - started) / 1000).toFixed(1)} s`);
done();
