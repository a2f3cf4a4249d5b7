// The browser path end to end: Debian's Chromium (headless, fake microphone
// playing speech from espeak-ng) opens the page the gateway serves, connects
// through WHIP, hears the agent, sees transcripts and states, types, and
// disconnects; then the failure paths. Screenshots of each state go to
// $VOXGATE_BUILD_DIR/meson-logs/browser/. Prints TAP.
//   node browser-e2e.mjs            (pipeline from VOXGATE_E2E_PIPELINE, default echo.pipeline)
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { assert, done, eventually, freePort, test } from './tap.mjs';
import { parseIceServers } from '../../web/whip.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pipeline = process.env.VOXGATE_E2E_PIPELINE ?? 'echo.pipeline';
const withAgent = pipeline !== 'loopback.pipeline';
const shots = join(process.env.VOXGATE_BUILD_DIR ?? '.', 'meson-logs', 'browser');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'vg-browser-'));


// Speech, then silence, so a voice-activity detector sees a whole turn.
const wav = join(work, 'speech.wav');
execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', join(work, 'raw.wav'),
                           'Hello tutor. Can you help me with fractions today?']);
execFileSync('sox', [join(work, 'raw.wav'), '-r', '48000', '-c', '1', '-b', '16', wav, 'pad', '0.5', '3']);

async function startGateway(extraEnv = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(work, 'data-'));
  const proc = spawn(process.env.VOXGATE_BIN, ['serve', '--port', String(port), '--data-dir', dataDir], {
    env: { ...process.env, VOXGATE_AGENT_PIPELINE: pipeline, VOXGATE_WEBRTC_DISCONNECT_TIMEOUT: '2', ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => { try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; } }, 'the gateway');
  return { proc, base, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--disable-quic', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
         `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
});

async function openPage(base, room, name = 'Ada') {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  await context.grantPermissions(['microphone'], { origin: base });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e}`));
  await page.goto(`${base}/?room=${room}`);
  await page.fill('#name', name);
  // Remember every state the indicator shows.
  await page.evaluate(() => {
    window.__states = [];
    const el = document.getElementById('state');
    new MutationObserver(() => { if (window.__states.at(-1) !== el.dataset.state) window.__states.push(el.dataset.state); })
      .observe(el, { attributes: true, attributeFilter: ['data-state'] });
  });
  return { context, page };
}

async function inboundAudio(page) {
  return page.evaluate(async () => {
    const s = window.voxgate.session;
    if (!s) return null;
    let out = null;
    (await s.pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') out = r; });
    return out && { packets: out.packetsReceived, level: out.audioLevel ?? 0, energy: out.totalAudioEnergy ?? 0 };
  });
}

const main = await startGateway();
try {
  const { context, page } = await openPage(main.base, 'e2e-room');

  await test('the page loads with the room from the URL', async () => {
    assert(await page.inputValue('#room') === 'e2e-room', 'room field');
    await page.screenshot({ path: join(shots, '01-idle.png') });
  });

  await test('Connect joins through WHIP and the state leaves "connecting"', async () => {
    await page.click('#connect');
    await eventually(async () => ['listening', 'speaking', 'thinking'].includes(await page.getAttribute('#state', 'data-state')), 'a live state');
    await page.screenshot({ path: join(shots, '02-connected.png') });
  });

  await test('the agent\'s voice arrives (inbound audio with energy)', async () => {
    const stats = await eventually(async () => { const s = await inboundAudio(page); return s && s.packets > 100 && s.energy > 0.001 && s; },
                                   'inbound audio above silence', 30000);
    console.log(`# inbound: ${JSON.stringify(stats)}`);
    await page.screenshot({ path: join(shots, '03-audio.png') });
  });

  await test('the gateway counts the participant', async () => {
    const health = await (await fetch(`${main.base}/api/health`)).json();
    assert(health.counts.participants >= 1, `participants ${health.counts.participants}`);
  });

  if (withAgent) {
    await test('user and agent transcript entries appear', async () => {
      await eventually(async () => (await page.locator('#transcript li[data-role="user"]').count()) > 0, 'a user entry', 30000);
      await eventually(async () => (await page.locator('#transcript li[data-role="assistant"]').count()) > 0, 'an agent entry', 30000);
      await page.screenshot({ path: join(shots, '04-transcript.png') });
    });

    await test('the state moves through listening → speaking → listening', async () => {
      await eventually(async () => {
        const states = await page.evaluate(() => window.__states);
        const i = states.indexOf('listening'), j = states.indexOf('speaking', i), k = states.indexOf('listening', j);
        return i >= 0 && j > i && k > j;
      }, 'listening → speaking → listening', 40000);
    });
  }

  await test('typing a message adds it to the conversation', async () => {
    await page.fill('#message', 'What is one half plus one quarter?');
    await page.press('#message', 'Enter');
    await eventually(async () => (await page.locator('#transcript li', { hasText: 'one half plus one quarter' }).count()) > 0, 'the typed entry');
    assert(await page.inputValue('#message') === '', 'the box is cleared');
    if (withAgent) {
      // The agent got the text: its answer to it appears, and no error does.
      await eventually(async () => (await page.locator('#transcript li[data-role="assistant"]', { hasText: 'one half plus one quarter' }).count()) > 0,
                       'the agent\'s answer to the typed message');
      assert(await page.isHidden('#alert'), 'no error shown');
    }
    await page.screenshot({ path: join(shots, '05-typed.png') });
  });

  await test('Disconnect ends the session (participant count drops to 0)', async () => {
    await page.click('#disconnect');
    await eventually(async () => (await page.getAttribute('#state', 'data-state')) === 'idle', 'idle', 5000);
    await eventually(async () => (await (await fetch(`${main.base}/api/health`)).json()).counts.participants === 0, 'no participants', 10000);
    await page.screenshot({ path: join(shots, '06-disconnected.png') });
  });
  await context.close();

  await test('a stopped gateway shows the connection-lost state with a reconnect button', async () => {
    const gw = await startGateway();
    const { context: c2, page: p2 } = await openPage(gw.base, 'lost-room');
    await p2.click('#connect');
    await eventually(async () => (await inboundAudio(p2))?.packets > 10, 'media flowing');
    await gw.stop();
    await eventually(async () => await p2.getAttribute('#state', 'data-state') === 'lost', 'the lost state', 30000);
    assert(await p2.isVisible('#retry'), 'reconnect button');
    await p2.screenshot({ path: join(shots, '07-connection-lost.png') });
    await c2.close();
  });

  await test('the page\'s Link parser reads RFC 9725 ICE servers, credentials included', async () => {
    const got = parseIceServers('<stun:stun.example.org:3478>; rel="ice-server", '
      + '<turn:turn.example.org:3478?transport=udp>; rel="ice-server"; username="a,b"; credential="p;q"; credential-type="password", '
      + '<https://example.org/>; rel="next", <turn:x.example.org>; rel="other"');
    const want = [{ urls: 'stun:stun.example.org:3478' },
                  { urls: 'turn:turn.example.org:3478?transport=udp', username: 'a,b', credential: 'p;q' }];
    assert(JSON.stringify(got) === JSON.stringify(want), JSON.stringify(got));
    assert(parseIceServers(null).length === 0 && parseIceServers('garbage').length === 0, 'nothing from nothing');
  });

  await test('with STUN/TURN, a port range and a NAT address set, the page uses the announced ICE servers and connects', async () => {
    // Nothing listens on these ports: the servers only have to be announced
    // and tried; host candidates still connect on this machine.
    const [stunPort, turnPort, icePort] = [await freePort(), await freePort(), 40000 + Math.floor(Math.random() * 20000)];
    const gw = await startGateway({
      VOXGATE_WEBRTC_STUN_SERVER: `stun:127.0.0.1:${stunPort}`,
      VOXGATE_WEBRTC_TURN_SERVER: `turn://learner:s3cret@127.0.0.1:${turnPort}`,
      VOXGATE_WEBRTC_ICE_PORT_MIN: String(icePort), VOXGATE_WEBRTC_ICE_PORT_MAX: String(icePort + 20),
      VOXGATE_WEBRTC_NAT_1_1_ADDRESS: '203.0.113.7',
    });
    const { context: c4, page: p4 } = await openPage(gw.base, 'ice-room');
    await p4.click('#connect');
    await eventually(async () => (await inboundAudio(p4))?.packets > 10, 'media flowing', 30000);
    const config = await p4.evaluate(() => window.voxgate.session.pc.getConfiguration().iceServers);
    console.log(`# page iceServers: ${JSON.stringify(config)}`);
    const urls = config.flatMap((s) => [s.urls].flat());
    assert(urls.includes(`stun:127.0.0.1:${stunPort}`), 'STUN server in the page configuration');
    const turn = config.find((s) => [s.urls].flat().includes(`turn:127.0.0.1:${turnPort}`));
    assert(turn && turn.username === 'learner' && turn.credential === 's3cret', 'TURN server with its credentials');
    const remote = await p4.evaluate(() => window.voxgate.session.pc.remoteDescription.sdp);
    assert(/ 203\.0\.113\.7 \d+ typ host/.test(remote), 'the NAT address in the answer');
    for (const m of remote.matchAll(/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/gi)) {
      const port = Number(m[1]);
      assert(port >= icePort && port <= icePort + 20, `port ${port} outside ${icePort}-${icePort + 20}`);
    }
    await c4.close();
    await gw.stop();
  });

  await test('an exhausted rate limit shows the wait', async () => {
    const gw = await startGateway({ VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE: '1' });
    const { context: c3, page: p3 } = await openPage(gw.base, 'limited-room');
    await p3.click('#connect');
    await eventually(async () => ['listening', 'speaking', 'thinking'].includes(await p3.getAttribute('#state', 'data-state')), 'connected');
    await p3.click('#disconnect');
    await p3.click('#connect');
    const text = await eventually(async () => { const t = await p3.textContent('#alert-text'); return /try again in \d+ s/.test(t ?? '') && t; }, 'the wait message');
    console.log(`# alert: ${text}`);
    await p3.screenshot({ path: join(shots, '08-rate-limited.png') });
    await c3.close();
    await gw.stop();
  });
} finally {
  await browser.close();
  await main.stop();
  rmSync(work, { recursive: true, force: true });
}
done();
