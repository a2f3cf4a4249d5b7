// Tokens interoperate with LiveKit's own server SDK, both ways:
// ours pass its TokenVerifier, and its AccessToken passes our verification.
// Prints TAP. Needs VOXGATE_BIN and VOXGATE_BUILD_DIR (set by meson).
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const KEY = 'interop-key';
const SECRET = 'interop-secret-that-is-long-enough-for-livekit';
const env = { ...process.env, VOXGATE_AUTH_API_KEY: KEY, VOXGATE_AUTH_API_SECRET: SECRET,
              VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE: '0' };
const bin = process.env.VOXGATE_BIN;
const verifyBin = join(process.env.VOXGATE_BUILD_DIR, 'tests', 'api', 'verify-token');

let n = 0, failed = 0;
async function test(name, fn) {
  n++;
  try { await fn(); console.log(`ok ${n} - ${name}`); }
  catch (e) { failed++; console.log(`not ok ${n} - ${name}`); console.log(`# ${String(e.stack || e).replaceAll('\n', '\n# ')}`); }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
function eq(a, b, what) { if (a !== b) throw new Error(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`); }

function ourVerify(token, room) {
  const args = room ? [token, room] : [token];
  return JSON.parse(execFileSync(verifyBin, args, { env }).toString());
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'vg-interop-'));
const port = await freePort();
const gateway = spawn(bin, ['serve', '--port', String(port), '--data-dir', dataDir], { env, stdio: 'ignore' });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
  await new Promise((r) => setTimeout(r, 50));
}
const verifier = new TokenVerifier(KEY, SECRET);

try {
  await test('getToken: TokenVerifier accepts our token with its grants', async () => {
    const res = await (await fetch(`${base}/api/getToken?room=interop&name=Ada`)).json();
    const claims = await verifier.verify(res.token);
    eq(claims.iss, KEY, 'iss');
    eq(claims.sub, res.identity, 'sub');
    eq(claims.name, 'Ada', 'name');
    eq(claims.video.room, 'interop', 'video.room');
    eq(claims.video.roomJoin, true, 'roomJoin');
    eq(claims.video.canPublish, true, 'canPublish');
    eq(claims.video.canSubscribe, true, 'canSubscribe');
    eq(claims.exp, res.expires_at, 'exp');
  });

  await test('POST /api/token: TokenVerifier accepts metadata and attributes', async () => {
    const res = await (await fetch(`${base}/api/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ room_name: 'interop', participant_identity: 'zoë', participant_name: 'Zoë',
                             participant_metadata: '{"level":3}', participant_attributes: { lang: 'fr' } }),
    })).json();
    eq(res.server_url, base, 'server_url');
    const claims = await verifier.verify(res.participant_token);
    eq(claims.sub, 'zoë', 'sub');
    eq(claims.metadata, '{"level":3}', 'metadata');
    eq(claims.attributes.lang, 'fr', 'attributes.lang');
  });

  await test('voxgate token --admin: TokenVerifier accepts the admin grants', async () => {
    const token = execFileSync(bin, ['token', '--admin', '--identity', 'ops', '--ttl', '300'], { env }).toString().trim();
    const claims = await verifier.verify(token);
    eq(claims.video.roomAdmin, true, 'roomAdmin');
    eq(claims.video.roomCreate, true, 'roomCreate');
    eq(claims.video.roomList, true, 'roomList');
    assert(claims.exp - claims.nbf === 300, 'ttl 300');
  });

  await test('TokenVerifier with another secret refuses our token', async () => {
    const token = execFileSync(bin, ['token', '--room', 'r'], { env }).toString().trim();
    let refused = false;
    try { await new TokenVerifier(KEY, 'a-different-secret-of-some-length').verify(token); } catch { refused = true; }
    assert(refused, 'expected a refusal');
  });

  await test('AccessToken from the SDK passes our verification with its grants', async () => {
    const at = new AccessToken(KEY, SECRET, { identity: 'sdk-user', name: 'SDK User', ttl: '10m',
                                              metadata: 'm', attributes: { team: 'blue' } });
    at.addGrant({ room: 'lk-room', roomJoin: true, canPublish: false, canPublishData: true });
    const out = ourVerify(await at.toJwt(), 'lk-room');
    eq(out.status, 200, 'status');
    eq(out.sub, 'sdk-user', 'sub');
    eq(out.name, 'SDK User', 'name');
    eq(out.metadata, 'm', 'metadata');
    eq(out.room, 'lk-room', 'room');
    eq(out.roomJoin, true, 'roomJoin');
    eq(out.canPublish, false, 'canPublish');
    eq(out.canSubscribe, true, 'canSubscribe defaults to true');
    eq(out.attributes.team, 'blue', 'attributes');
  });

  await test('AccessToken admin grants pass our verification', async () => {
    const at = new AccessToken(KEY, SECRET, { identity: 'admin', ttl: 60 });
    at.addGrant({ roomCreate: true, roomList: true, roomAdmin: true });
    const out = ourVerify(await at.toJwt());
    eq(out.status, 200, 'status');
    eq(out.roomAdmin && out.roomList && out.roomCreate, true, 'admin grants');
  });

  await test('AccessToken for another room, secret or key is refused', async () => {
    const at = new AccessToken(KEY, SECRET, { identity: 'u' });
    at.addGrant({ room: 'other', roomJoin: true });
    eq(ourVerify(await at.toJwt(), 'lk-room').code, 'wrong_room', 'other room');
    const wrong = new AccessToken(KEY, 'not-the-secret-at-all-but-long-enough', { identity: 'u' });
    wrong.addGrant({ room: 'lk-room', roomJoin: true });
    eq(ourVerify(await wrong.toJwt(), 'lk-room').code, 'token_signature', 'wrong secret');
    const unknown = new AccessToken('who-is-this', SECRET, { identity: 'u' });
    unknown.addGrant({ room: 'lk-room', roomJoin: true });
    eq(ourVerify(await unknown.toJwt(), 'lk-room').code, 'token_issuer', 'unknown key');
  });

  await test('an AccessToken expired beyond the 10 s skew is refused', async () => {
    const at = new AccessToken(KEY, SECRET, { identity: 'u', ttl: -60 });
    at.addGrant({ room: 'r', roomJoin: true });
    eq(ourVerify(await at.toJwt(), 'r').code, 'token_expired', 'expired');
  });
} finally {
  gateway.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
