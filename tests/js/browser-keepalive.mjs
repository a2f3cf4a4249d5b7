// Keep-alive with a browser (issue 21): Debian's Chromium loads the page the
// gateway serves, then makes 40 requests from it (GET and POST, as the page's
// own code does); the gateway's own counts show that one kept-alive
// connection carried them, and the answers stay correct. Prints TAP.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, done, eventually, freePort, test } from './tap.mjs';

const work = mkdtempSync(join(tmpdir(), 'vg-keepalive-'));
const port = await freePort();
const gateway = spawn(process.env.VOXGATE_BIN, ['serve', '--port', String(port), '--data-dir', work], {
  env: { ...process.env, VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE: '0' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
await eventually(async () => { try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; } }, 'the gateway');

// Read over a connection of its own (Node's fetch keeps its own pool).
async function metric(name) {
  const text = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert(line, `no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-quic'],
});

await test('Chromium sends 40 requests over one kept-alive connection', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/?room=keepalive`);
  await page.waitForLoadState('networkidle');
  const accepted = await metric('voxgate_http_connections_accepted_total');
  const reused = await metric('voxgate_http_connection_reuses_total');
  const results = await page.evaluate(async () => {
    const out = [];
    for (let i = 0; i < 40; i++) {
      const r = i % 2
        ? await fetch(`/api/getToken?room=keepalive&name=n${i}`)
        : await fetch('/api/token', { method: 'POST', headers: { 'content-type': 'application/json' },
                                       body: JSON.stringify({ room_name: 'keepalive', participant_identity: `p${i}` }) });
      const body = await r.json();
      out.push({ status: r.status, token: body.token ?? body.participant_token ?? '' });
    }
    return out;
  });
  assert(results.every((r) => r.status === 200 && r.token.startsWith('eyJ')), `answers: ${JSON.stringify(results.slice(0, 3))}`);
  const newConnections = (await metric('voxgate_http_connections_accepted_total')) - accepted - 2; // the two reads
  const reuses = (await metric('voxgate_http_connection_reuses_total')) - reused;
  console.log(`# 40 requests: ${newConnections} new connection(s), ${reuses} on reused ones`);
  // The page's idle connection from loading may carry the first request.
  assert(newConnections <= 1, `${newConnections} new connections for 40 requests`);
  assert(reuses >= 39, `${reuses} requests on reused connections`);
  await page.close();
});

await browser.close();
await new Promise((r) => { gateway.once('exit', r); gateway.kill('SIGTERM'); });
rmSync(work, { recursive: true, force: true });
done();
