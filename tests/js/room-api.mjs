// The room API seen through LiveKit's own server SDK: RoomServiceClient over
// Twirp, SendData into a participant's data channel, WebhookReceiver for
// every webhook, plus the REST shape and the refusals. A real participant
// (tests/roomapi/participant-probe, a webrtcbin peer) joins through WHIP.
// Prints TAP. Needs VOXGATE_BIN and VOXGATE_BUILD_DIR (set by meson).
import { AccessToken, DataPacket_Kind, RoomServiceClient, TrackType, WebhookReceiver } from 'livekit-server-sdk';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';

const KEY = 'api-key-test';
const SECRET = 'api-secret-test-that-is-long-enough';
const ROOM = 'lk-api';
const probeBin = join(process.env.VOXGATE_BUILD_DIR, 'tests', 'roomapi', 'participant-probe');

let n = 0, failed = 0;
async function test(name, fn) {
  n++;
  try { await fn(); console.log(`ok ${n} - ${name}`); }
  catch (e) { failed++; console.log(`not ok ${n} - ${name}`); console.log(`# ${String(e.stack || e).replaceAll('\n', '\n# ')}`); }
}
const assert = (cond, msg) => { if (!cond) throw new Error(msg); };
const eq = (a, b, what) => { if (a !== b) throw new Error(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function eventually(fn, what, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
async function expectTwirpError(promise, code, status) {
  try { await promise; } catch (e) { eq(e.code ?? e.name, code, 'twirp code'); if (status) eq(e.status, status, 'status'); return; }
  throw new Error(`expected a ${code} error`);
}

// Webhook receiver: keeps every delivery, answers 200.
const hooks = [];
const receiverPort = await freePort();
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => { hooks.push({ body, auth: req.headers.authorization, type: req.headers['content-type'] }); res.end('ok'); });
}).listen(receiverPort, '127.0.0.1');

const dataDir = mkdtempSync(join(tmpdir(), 'vg-roomapi-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const gateway = spawn(process.env.VOXGATE_BIN, ['serve', '--port', String(port), '--data-dir', dataDir], {
  env: { ...process.env, VOXGATE_AUTH_API_KEY: KEY, VOXGATE_AUTH_API_SECRET: SECRET,
         VOXGATE_WEBHOOKS_URLS: `http://127.0.0.1:${receiverPort}/hook`, VOXGATE_AGENT_PIPELINE: 'loopback.pipeline' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
await eventually(async () => { try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; } }, 'the gateway');

const svc = new RoomServiceClient(base, KEY, SECRET);
const adminToken = async (grants) => { const at = new AccessToken(KEY, SECRET, { identity: 'admin', ttl: 600 }); at.addGrant(grants); return at.toJwt(); };
let probe = null, probeEvents = [];

try {
  await test('CreateRoom creates, and returns the existing room on a duplicate', async () => {
    const room = await svc.createRoom({ name: ROOM, emptyTimeout: 30, maxParticipants: 5, metadata: 'm1' });
    eq(room.name, ROOM, 'name');
    eq(room.maxParticipants, 5, 'maxParticipants');
    eq(room.emptyTimeout, 30, 'emptyTimeout');
    eq(room.metadata, 'm1', 'metadata');
    assert(room.sid.startsWith('RM_'), 'sid');
    assert(room.creationTime > 0n, 'creationTime');
    const again = await svc.createRoom({ name: ROOM });
    eq(again.sid, room.sid, 'same room');
  });

  await test('ListRooms lists, and filters by names', async () => {
    assert((await svc.listRooms()).some((r) => r.name === ROOM), 'listed');
    eq((await svc.listRooms([ROOM])).length, 1, 'filtered');
    eq((await svc.listRooms(['no-such-room'])).length, 0, 'filtered out');
  });

  await test('UpdateRoomMetadata', async () => {
    eq((await svc.updateRoomMetadata(ROOM, 'm2')).metadata, 'm2', 'metadata');
  });

  await test('a webrtcbin participant joins through WHIP', async () => {
    const at = new AccessToken(KEY, SECRET, { identity: 'probe-1', name: 'Probe' });
    at.addGrant({ room: ROOM, roomJoin: true, canPublish: true, canSubscribe: true });
    probe = spawn(probeBin, ['--url', base, '--room', ROOM, '--token', await at.toJwt(), '--duration', '60'],
                  { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: probe.stdout });
    let connected = false;
    lines.on('line', (l) => { if (l === 'connected') connected = true; else if (l.startsWith('event ')) probeEvents.push(JSON.parse(l.slice(6))); });
    await eventually(() => connected, 'the probe to connect', 20000);
  });

  await test('ListParticipants and GetParticipant show it with its audio track', async () => {
    const list = await eventually(async () => { const l = await svc.listParticipants(ROOM); return l.length === 1 && l; }, 'one participant');
    eq(list[0].identity, 'probe-1', 'identity');
    eq(list[0].name, 'Probe', 'name');
    eq(list[0].tracks.length, 1, 'one track');
    eq(list[0].tracks[0].type, TrackType.AUDIO, 'audio track');
    const p = await svc.getParticipant(ROOM, 'probe-1');
    eq(p.sid, list[0].sid, 'same sid');
  });

  await test('SendData reaches the participant\'s data channel', async () => {
    await svc.sendData(ROOM, new TextEncoder().encode('hello from the server'), DataPacket_Kind.RELIABLE, { topic: 'chat' });
    const ev = await eventually(() => probeEvents.find((e) => e.type === 'data'), 'the data event');
    eq(ev.text, 'hello from the server', 'text');
    eq(ev.topic, 'chat', 'topic');
  });

  await test('MutePublishedTrack mutes the participant\'s audio', async () => {
    const p = await svc.getParticipant(ROOM, 'probe-1');
    const track = await svc.mutePublishedTrack(ROOM, 'probe-1', p.tracks[0].sid, true);
    eq(track.muted, true, 'muted');
    eq((await svc.getParticipant(ROOM, 'probe-1')).tracks[0].muted, true, 'reported muted');
    await svc.mutePublishedTrack(ROOM, 'probe-1', p.tracks[0].sid, false);
  });

  await test('REST: rooms and participants with an admin token', async () => {
    // roomAdmin applies to the room in the token, as LiveKit's SDK mints it.
    const auth = { Authorization: `Bearer ${await adminToken({ roomList: true, roomCreate: true, roomAdmin: true, room: ROOM })}` };
    const list = await (await fetch(`${base}/api/rooms`, { headers: auth })).json();
    assert(list.rooms.some((r) => r.name === ROOM && r.num_participants === 1), 'room in list');
    const one = await (await fetch(`${base}/api/rooms/${ROOM}`, { headers: auth })).json();
    eq(one.metadata, 'm2', 'metadata');
    const parts = await (await fetch(`${base}/api/rooms/${ROOM}/participants`, { headers: auth })).json();
    eq(parts.participants[0].identity, 'probe-1', 'participant');
    const created = await fetch(`${base}/api/rooms`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
                                                        body: JSON.stringify({ name: 'rest-room', empty_timeout: 5, metadata: 'x', subtopic_id: 3 }) });
    eq(created.status, 201, 'created');
    const dup = await fetch(`${base}/api/rooms`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'rest-room' }) });
    eq(dup.status, 200, 'duplicate returns the room');
    eq((await fetch(`${base}/api/rooms/rest-room`, { method: 'DELETE', headers: auth })).status, 200, 'deleted');
    eq((await fetch(`${base}/api/rooms/rest-room`, { headers: auth })).status, 404, 'gone');
  });

  await test('REST refusals: no token, missing grant, bad body, unknown room', async () => {
    eq((await fetch(`${base}/api/rooms`)).status, 401, 'no token');
    const joinOnly = await adminToken({ room: ROOM, roomJoin: true });
    const r = await fetch(`${base}/api/rooms`, { headers: { Authorization: `Bearer ${joinOnly}` } });
    eq(r.status, 403, 'no roomList');
    eq((await r.json()).error.code, 'permission_denied', 'code');
    const auth = { Authorization: `Bearer ${await adminToken({ roomList: true, roomCreate: true, roomAdmin: true })}` };
    const bad = await fetch(`${base}/api/rooms`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"name":"bad name!"}' });
    eq(bad.status, 400, 'bad name');
    const badType = await fetch(`${base}/api/rooms`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"name":"ok","max_participants":"many"}' });
    eq(badType.status, 400, 'mistyped field');
    eq((await fetch(`${base}/api/rooms/${ROOM}/participants`, { headers: auth })).status, 403, 'roomAdmin without a room');
    const nope = { Authorization: `Bearer ${await adminToken({ roomAdmin: true, room: 'nope' })}` };
    eq((await fetch(`${base}/api/rooms/nope/participants`, { headers: nope })).status, 404, 'unknown room');
  });

  await test('Twirp refusals: unauthenticated, permission_denied, not_found, invalid_argument', async () => {
    await expectTwirpError(new RoomServiceClient(base, KEY, 'wrong-secret-wrong-secret-wrong').listRooms(), 'unauthenticated', 401);
    const res = await fetch(`${base}/twirp/livekit.RoomService/ListRooms`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await adminToken({ roomJoin: true, room: ROOM })}` }, body: '{}' });
    eq(res.status, 403, 'status');
    eq(res.headers.get('content-type'), 'application/json', 'content type');
    eq((await res.json()).code, 'permission_denied', 'code');
    await expectTwirpError(svc.getParticipant('no-such-room', 'x'), 'not_found', 404);
    await expectTwirpError(svc.getParticipant(ROOM, 'nobody'), 'not_found', 404);
    await expectTwirpError(svc.createRoom({ name: 'bad name!' }), 'invalid_argument', 400);
    const bogus = await fetch(`${base}/twirp/livekit.RoomService/Nope`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    eq((await bogus.json()).code, 'bad_route', 'unknown method');
    const malformed = await fetch(`${base}/twirp/livekit.RoomService/ListRooms`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await adminToken({ roomList: true })}` }, body: '{"names":' });
    eq((await malformed.json()).code, 'malformed', 'malformed body');
  });

  await test('RemoveParticipant disconnects it', async () => {
    await svc.removeParticipant(ROOM, 'probe-1');
    await eventually(async () => (await svc.listParticipants(ROOM)).length === 0, 'no participants');
  });

  await test('DeleteRoom closes the room', async () => {
    await svc.deleteRoom(ROOM);
    eq((await svc.listRooms([ROOM])).length, 0, 'gone');
  });

  await test('webhooks: signed, in order, accepted by WebhookReceiver', async () => {
    const wr = new WebhookReceiver(KEY, SECRET);
    const want = ['room_started', 'participant_joined', 'track_published', 'participant_left', 'room_finished'];
    const events = await eventually(async () => {
      const got = [];
      for (const h of hooks) {
        const ev = await wr.receive(h.body, h.auth);
        if (ev.room?.name === ROOM) got.push(ev);
      }
      return got.length >= want.length && got;
    }, 'five webhooks');
    eq(events.map((e) => e.event).join(','), want.join(','), 'order');
    eq(hooks[0].type, 'application/webhook+json', 'content type');
    eq(events[1].participant.identity, 'probe-1', 'participant');
    eq(events[2].track.type, TrackType.AUDIO, 'track');
    let refused = false;
    try { await wr.receive(hooks[0].body.replace(ROOM, 'tampered'), hooks[0].auth); } catch { refused = true; }
    assert(refused, 'a tampered body fails the sha256 check');
  });
} finally {
  probe?.stdin.end();
  probe?.kill();
  gateway.kill('SIGTERM');
  receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
