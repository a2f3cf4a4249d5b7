// Recording through LiveKit's Egress API, unchanged EgressClient from
// livekit-server-sdk, against a real `voxgate serve` with a real participant
// (tests/roomapi/participant-probe, a webrtcbin peer publishing a tone):
// start a room composite and a track egress, list them ACTIVE, stop them,
// COMPLETE with files whose name, size and duration match the files on disk
// (duration read by opusinfo, an independent Ogg/Opus reader); refusals
// (no roomRecord grant, bad requests) as Twirp errors; egress webhooks
// verified by WebhookReceiver; /api/recordings: list, metadata, downloads
// with Range compared byte for byte, delete, admin only; and retention: a
// second gateway on the same data with retain_days of ~1 s deletes the
// files and the rows. Prints TAP. Needs VOXGATE_BIN and VOXGATE_BUILD_DIR.
import { AudioMixing } from '@livekit/protocol'; // the SDK's own dependency
import {
  AccessToken, DirectFileOutput, EgressClient, EgressStatus, EncodedFileOutput,
  EncodedFileType, RoomServiceClient, WebhookReceiver,
} from 'livekit-server-sdk';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import { assert, done, eventually, freePort, sleep, test } from './tap.mjs';

const KEY = 'api-key-test';
const SECRET = 'api-secret-test-that-is-long-enough';
const ROOM = 'egress-room';
const probeBin = join(process.env.VOXGATE_BUILD_DIR, 'tests', 'roomapi', 'participant-probe');
const eq = (a, b, what) => { if (a !== b) throw new Error(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`); };
async function expectTwirpError(promise, code, status) {
  try { await promise; } catch (e) { eq(e.code ?? e.name, code, 'twirp code'); if (status) eq(e.status, status, 'status'); return; }
  throw new Error(`expected a ${code} error`);
}
// opusinfo's "Playback length: 0m:03.021s" in seconds, its channel count,
// and its warnings. opusinfo exits 1 on warnings too; errors fail the test,
// warnings are reported (a track kept without re-encoding has pre-skip 0).
function opusinfo(path) {
  const run = spawnSync('opusinfo', [path], { encoding: 'utf8' });
  const out = run.stdout + run.stderr;
  const m = out.match(/Playback length:\s*(\d+)m:([\d.]+)s/);
  const c = out.match(/Channels:\s*(\d+)/);
  assert(!/^ERROR/m.test(out) && m, `opusinfo ${path} (${run.status}):\n${out}`);
  const warnings = out.split('\n').filter((l) => l.startsWith('WARNING'));
  return { seconds: Number(m[1]) * 60 + Number(m[2]), channels: c ? Number(c[1]) : 0, warnings };
}

const hooks = [];
const receiverPort = await freePort();
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => { hooks.push({ body, auth: req.headers.authorization }); res.end('ok'); });
}).listen(receiverPort, '127.0.0.1');

const dataDir = mkdtempSync(join(tmpdir(), 'vg-egress-'));
const recDir = join(dataDir, 'recordings');
let port = await freePort();
let base = `http://127.0.0.1:${port}`;
const env = { ...process.env, VOXGATE_AUTH_API_KEY: KEY, VOXGATE_AUTH_API_SECRET: SECRET,
              VOXGATE_AGENT_PIPELINE: 'loopback.pipeline', VOXGATE_RECORDING_DIR: recDir };
function startGateway(extra) {
  const g = spawn(process.env.VOXGATE_BIN, ['serve', '--port', String(port), '--data-dir', dataDir],
                  { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'inherit'] });
  return g;
}
let gateway = startGateway({ VOXGATE_WEBHOOKS_URLS: `http://127.0.0.1:${receiverPort}/hook` });
const healthy = () => eventually(async () => { try { return (await fetch(`${base}/healthz`)).ok; } catch { return false; } }, 'the gateway');
await healthy();

const token = async (grants, identity = 'admin') => {
  const at = new AccessToken(KEY, SECRET, { identity, ttl: 600 });
  at.addGrant(grants);
  return at.toJwt();
};
const adminToken = await token({ roomAdmin: true, roomList: true, roomCreate: true, roomRecord: true });
const api = (path, opts = {}) => fetch(`${base}${path}`, { ...opts, headers: { Authorization: `Bearer ${adminToken}`, ...(opts.headers || {}) } });
const egress = new EgressClient(base, KEY, SECRET);
const rooms = new RoomServiceClient(base, KEY, SECRET);
let probe = null;
let composite = null, track = null, trackSid = null;

try {
  await test('a webrtcbin participant publishes into the room', async () => {
    await rooms.createRoom({ name: ROOM, emptyTimeout: 60 });
    const at = new AccessToken(KEY, SECRET, { identity: 'learner-1', name: 'Learner' });
    at.addGrant({ room: ROOM, roomJoin: true, canPublish: true, canSubscribe: true });
    probe = spawn(probeBin, ['--url', base, '--room', ROOM, '--token', await at.toJwt(), '--duration', '90'],
                  { stdio: ['pipe', 'pipe', 'inherit'] });
    let connected = false;
    readline.createInterface({ input: probe.stdout }).on('line', (l) => { if (l === 'connected') connected = true; });
    await eventually(() => connected, 'the probe to connect', 20000);
    const list = await eventually(async () => { const l = await rooms.listParticipants(ROOM); return l.length === 1 && l[0].tracks.length === 1 && l; }, 'its track');
    trackSid = list[0].tracks[0].sid;
  });

  await test('requests without the roomRecord grant are permission_denied; without a token unauthenticated', async () => {
    const noRecord = await token({ roomAdmin: true, roomList: true, roomCreate: true });
    for (const method of ['StartRoomCompositeEgress', 'ListEgress', 'StopEgress', 'StartTrackEgress']) {
      const r = await fetch(`${base}/twirp/livekit.Egress/${method}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${noRecord}` },
        body: JSON.stringify({ roomName: ROOM }) });
      eq(r.status, 403, `${method} status`);
      eq((await r.json()).code, 'permission_denied', `${method} code`);
    }
    const r = await fetch(`${base}/twirp/livekit.Egress/ListEgress`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    eq(r.status, 401, 'no token');
    eq((await r.json()).code, 'unauthenticated', 'no token code');
  });

  await test('StartRoomCompositeEgress (audio only, OGG file) starts a recording', async () => {
    const output = new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath: 'lk-{room_name}.ogg' });
    composite = await egress.startRoomCompositeEgress(ROOM, { file: output }, { audioOnly: true, audioMixing: AudioMixing.DUAL_CHANNEL_AGENT });
    assert(composite.egressId.startsWith('EG_'), `egress id ${composite.egressId}`);
    eq(composite.roomName, ROOM, 'roomName');
    assert(composite.roomId.startsWith('RM_'), 'roomId');
    assert([EgressStatus.EGRESS_STARTING, EgressStatus.EGRESS_ACTIVE].includes(composite.status), `status ${composite.status}`);
    assert(composite.startedAt > 0n, 'startedAt');
  });

  await test('StartTrackEgress (file) records the participant\'s track', async () => {
    track = await egress.startTrackEgress(ROOM, new DirectFileOutput({ filepath: 'lk-track.ogg' }), trackSid);
    assert(track.egressId.startsWith('EG_') && track.egressId !== composite.egressId, 'a second egress');
    eq(track.roomName, ROOM, 'roomName');
  });

  await test('ListEgress: by room, by id, active ones ACTIVE', async () => {
    const active = await eventually(async () => {
      const l = await egress.listEgress({ roomName: ROOM, active: true });
      return l.length === 2 && l.every((e) => e.status === EgressStatus.EGRESS_ACTIVE) && l;
    }, 'two active egresses');
    assert(active.some((e) => e.egressId === composite.egressId) && active.some((e) => e.egressId === track.egressId), 'both listed');
    const one = await egress.listEgress({ egressId: track.egressId });
    eq(one.length, 1, 'by id');
    eq(one[0].egressId, track.egressId, 'the one asked for');
    eq((await egress.listEgress({ roomName: 'no-such-room' })).length, 0, 'another room');
  });

  await test('bad requests get Twirp errors', async () => {
    await expectTwirpError(egress.startRoomCompositeEgress(ROOM, new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath: 'x.mp4' }), { audioOnly: true }), 'invalid_argument', 400);
    await expectTwirpError(egress.startRoomCompositeEgress(ROOM, new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath: '../escape.ogg' }), { audioOnly: true }), 'invalid_argument', 400);
    await expectTwirpError(egress.startRoomCompositeEgress('no-such-room', new EncodedFileOutput({ fileType: EncodedFileType.OGG }), { audioOnly: true }), 'not_found', 404);
    await expectTwirpError(egress.startRoomCompositeEgress('bad/room', new EncodedFileOutput({ fileType: EncodedFileType.OGG }), { audioOnly: true }), 'invalid_argument', 400);
    await expectTwirpError(egress.startTrackEgress(ROOM, new DirectFileOutput({ filepath: 't.ogg' }), 'TR_nope'), 'not_found', 404);
    await expectTwirpError(egress.stopEgress('EG_nope'), 'not_found', 404);
    // A file name already taken (the composite's, still being written).
    await expectTwirpError(egress.startRoomCompositeEgress(ROOM, new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath: `lk-${ROOM}.ogg` }), { audioOnly: true }), 'already_exists', 409);
    await expectTwirpError(egress.startWebEgress('https://example.org', new EncodedFileOutput({ fileType: EncodedFileType.OGG })), 'unimplemented', 501);
    const r = await fetch(`${base}/twirp/livekit.Egress/ListEgress`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await token({ roomRecord: true })}` }, body: '{"roomName":' });
    eq(r.status, 400, 'malformed status');
    eq((await r.json()).code, 'malformed', 'malformed code');
  });

  let completeComposite = null, completeTrack = null;
  await test('StopEgress ends both; COMPLETE with files matching the files on disk', async () => {
    await sleep(3000); // about three seconds of the tone in each file
    const stopped = await egress.stopEgress(composite.egressId);
    assert([EgressStatus.EGRESS_ENDING, EgressStatus.EGRESS_COMPLETE].includes(stopped.status), `stop status ${stopped.status}`);
    await egress.stopEgress(track.egressId);
    for (const id of [composite.egressId, track.egressId]) {
      const info = await eventually(async () => { const [e] = await egress.listEgress({ egressId: id }); return e.status === EgressStatus.EGRESS_COMPLETE && e; }, `${id} COMPLETE`);
      assert(info.endedAt >= info.startedAt, 'endedAt');
      assert(info.fileResults.length >= 1, 'a file result');
      const f = info.fileResults[0];
      const path = join(recDir, f.filename);
      assert(existsSync(path), `${path} exists`);
      eq(f.size, BigInt(statSync(path).size), `${f.filename} size`);
      const read = opusinfo(path);
      const reported = Number(f.duration) / 1e9;
      assert(reported > 1.5 && reported < 10, `duration ${reported} s`);
      assert(Math.abs(read.seconds - reported) < 0.1, `duration ${reported} s reported, ${read.seconds} s read by opusinfo`);
      if (id === composite.egressId) { eq(f.filename, `lk-${ROOM}.ogg`, 'templated name'); eq(read.channels, 2, 'stereo'); completeComposite = info; }
      else { eq(f.filename, 'lk-track.ogg', 'track file name'); completeTrack = info; }
      console.log(`# ${f.filename}: ${f.size} bytes, ${reported.toFixed(3)} s reported, ${read.seconds} s by opusinfo, ${read.channels} channel(s)`);
      for (const w of read.warnings) console.log(`# opusinfo ${f.filename}: ${w}`);
    }
    await expectTwirpError(egress.stopEgress(composite.egressId), 'failed_precondition', 412);
  });

  await test('egress_started, egress_updated and egress_ended webhooks, verified by WebhookReceiver', async () => {
    const wr = new WebhookReceiver(KEY, SECRET);
    const events = await eventually(async () => {
      const evs = [];
      for (const h of hooks) { const ev = await wr.receive(h.body, h.auth); if (ev.egressInfo?.egressId === composite.egressId) evs.push(ev); }
      return evs.some((e) => e.event === 'egress_ended') && evs;
    }, 'the composite\'s egress_ended');
    const names = events.map((e) => e.event);
    eq(names[0], 'egress_started', 'first');
    assert(names.includes('egress_updated'), `an update in ${names}`);
    eq(names[names.length - 1], 'egress_ended', 'last');
    const ended = events[events.length - 1].egressInfo;
    eq(ended.status, EgressStatus.EGRESS_COMPLETE, 'ended status');
    eq(ended.fileResults[0].size, completeComposite.fileResults[0].size, 'ended file size');
    await expectTwirpError(wr.receive(hooks[0].body.replace('egress', 'egresz'), hooks[0].auth), 'Error').catch(() => {});
    let refused = false;
    try { await wr.receive(hooks[0].body + ' ', hooks[0].auth); } catch { refused = true; }
    assert(refused, 'a changed body is refused');
  });

  await test('malformed Egress requests are invalid_argument', async () => {
    const rec = await token({ roomRecord: true });
    const post = (method, body) => fetch(`${base}/twirp/livekit.Egress/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${rec}` }, body: JSON.stringify(body) });
    const cases = [
      ['StartRoomCompositeEgress', { roomName: ROOM }],
      ['StartRoomCompositeEgress', { roomName: ROOM, fileOutputs: 'x' }],
      ['StartRoomCompositeEgress', { roomName: ROOM, fileOutputs: [{}, {}] }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: { fileType: 'WAV' } }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: { s3: { bucket: 'b' } } }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: {}, audioMixing: 'DUAL_CHANNEL_ALTERNATE' }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: {}, videoOnly: true }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: {}, streamOutputs: [{ urls: ['rtmp://x'] }] }],
      ['StartRoomCompositeEgress', { roomName: 7, file: {} }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: { filepath: 'a"b\r\nX-Injected: 1.ogg' } }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: { filepath: '.hidden.ogg' } }],
      ['StartRoomCompositeEgress', { roomName: ROOM, file: { filepath: '{unknown}.ogg' } }],
      ['StartTrackEgress', { roomName: ROOM, trackId: 'x', websocketUrl: 'ws://x' }],
      ['StartTrackEgress', { roomName: ROOM, file: {} }],
      ['ListEgress', { active: 'yes' }],
      ['StopEgress', {}],
    ];
    for (const [method, body] of cases) {
      const r = await post(method, body);
      const j = await r.json();
      assert(r.status === 400 && j.code === 'invalid_argument', `${method} ${JSON.stringify(body)}: ${r.status} ${JSON.stringify(j)}`);
    }
    const r = await post('NoSuchMethod', {});
    eq(r.status, 404, 'bad_route status');
    eq((await r.json()).code, 'bad_route', 'bad_route');
  });

  let recordings = null;
  await test('/api/recordings lists both with their conversation; metadata has no paths', async () => {
    const r = await api(`/api/recordings?room=${ROOM}`);
    eq(r.status, 200, 'status');
    recordings = (await r.json()).recordings;
    eq(recordings.length, 2, 'two recordings');
    for (const rec of recordings) {
      eq(rec.status, 'complete', 'status');
      assert(rec.conversation_id, `${rec.egress_id} has a conversation`);
      assert(!('path' in rec), 'no path');
    }
    const convs = await (await api(`/api/conversations?room=${ROOM}`)).json();
    eq(recordings[0].conversation_id, convs.conversations[0].id, 'the learner\'s conversation');
    const comp = recordings.find((x) => x.egress_id === composite.egressId);
    eq(comp.kind, 'room_composite', 'kind');
    eq(comp.filename, `lk-${ROOM}.ogg`, 'filename');
    eq(comp.size_bytes, Number(completeComposite.fileResults[0].size), 'size');
    assert(comp.transcript_filename?.endsWith('.vtt'), 'a WebVTT sidecar');
    const meta = await (await api(`/api/recordings/${comp.id}`)).json();
    eq(meta.egress_id, composite.egressId, 'metadata');
    assert(!('path' in meta) && !('transcript_path' in meta), 'no paths in metadata');
    const page = await (await api(`/api/recordings?room=${ROOM}&limit=1`)).json();
    eq(page.recordings.length, 1, 'a page of one');
    const next = await (await api(`/api/recordings?room=${ROOM}&limit=1&cursor=${page.next_cursor}`)).json();
    eq(next.recordings.length, 1, 'the next page');
    assert(next.recordings[0].id !== page.recordings[0].id, 'another recording');
    eq(next.next_cursor, null, 'no third page');
  });

  await test('downloads: whole file, single ranges (206), unsatisfiable (416), the transcript', async () => {
    const comp = recordings.find((x) => x.egress_id === composite.egressId);
    const onDisk = readFileSync(join(recDir, comp.filename));
    let r = await api(`/api/recordings/${comp.id}/file`);
    eq(r.status, 200, 'status');
    eq(r.headers.get('content-type'), 'audio/ogg', 'type');
    eq(r.headers.get('accept-ranges'), 'bytes', 'accept-ranges');
    eq(Number(r.headers.get('content-length')), onDisk.length, 'content-length');
    assert(Buffer.from(await r.arrayBuffer()).equals(onDisk), 'same bytes');
    r = await api(`/api/recordings/${comp.id}/file`, { headers: { Range: 'bytes=100-1099' } });
    eq(r.status, 206, 'range status');
    eq(r.headers.get('content-range'), `bytes 100-1099/${onDisk.length}`, 'content-range');
    eq(Number(r.headers.get('content-length')), 1000, 'range length');
    assert(Buffer.from(await r.arrayBuffer()).equals(onDisk.subarray(100, 1100)), 'range bytes');
    r = await api(`/api/recordings/${comp.id}/file`, { headers: { Range: 'bytes=-64' } });
    eq(r.status, 206, 'suffix status');
    assert(Buffer.from(await r.arrayBuffer()).equals(onDisk.subarray(onDisk.length - 64)), 'suffix bytes');
    r = await api(`/api/recordings/${comp.id}/file`, { headers: { Range: `bytes=${onDisk.length - 10}-` } });
    eq(r.status, 206, 'open range status');
    eq((await r.arrayBuffer()).byteLength, 10, 'open range length');
    r = await api(`/api/recordings/${comp.id}/file`, { headers: { Range: `bytes=${onDisk.length}-` } });
    eq(r.status, 416, 'unsatisfiable');
    eq(r.headers.get('content-range'), `bytes */${onDisk.length}`, '416 content-range');
    // Several ranges: libsoup's server answers them itself from the whole body.
    r = await api(`/api/recordings/${comp.id}/file`, { headers: { Range: 'bytes=0-1,5-9' } });
    eq(r.status, 206, 'several ranges');
    assert(r.headers.get('content-type').startsWith('multipart/byteranges'), 'multipart');
    r = await api(`/api/recordings/${comp.id}/transcript`);
    eq(r.status, 200, 'transcript status');
    eq(r.headers.get('content-type'), 'text/vtt', 'transcript type');
    const vtt = await r.text();
    assert(vtt.startsWith('WEBVTT'), 'WebVTT');
    eq(vtt, readFileSync(join(recDir, comp.transcript_filename), 'utf8'), 'transcript bytes');
  });

  await test('/api/recordings is for admins; ids, not paths', async () => {
    const comp = recordings[0];
    const learner = await token({ room: ROOM, roomJoin: true }, 'learner-1');
    const roomAdmin = await token({ room: ROOM, roomAdmin: true, roomList: true });
    for (const t of [learner, roomAdmin]) {
      for (const path of ['/api/recordings', `/api/recordings/${comp.id}`, `/api/recordings/${comp.id}/file`]) {
        const r = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${t}` } });
        eq(r.status, 403, `${path} forbidden`);
      }
    }
    eq((await fetch(`${base}/api/recordings`)).status, 401, 'no token');
    for (const id of ['..%2F..%2Fvoxgate.db', '..', 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const r = await api(`/api/recordings/${id}/file`);
      assert(r.status === 404 || r.status === 400, `${id}: ${r.status}`);
    }
  });

  await test('DELETE removes the files and the row', async () => {
    const rec = recordings.find((x) => x.egress_id === track.egressId);
    const path = join(recDir, rec.filename);
    assert(existsSync(path), 'file before');
    eq((await api(`/api/recordings/${rec.id}`, { method: 'DELETE' })).status, 204, 'deleted');
    assert(!existsSync(path), 'file gone');
    eq((await api(`/api/recordings/${rec.id}`)).status, 404, 'row gone');
    eq((await api(`/api/recordings/${rec.id}`, { method: 'DELETE' })).status, 404, 'deleted twice');
    const learner = await token({ room: ROOM, roomJoin: true }, 'learner-1');
    const comp = recordings.find((x) => x.egress_id === composite.egressId);
    eq((await fetch(`${base}/api/recordings/${comp.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${learner}` } })).status, 403, 'a learner may not');
  });

  await test('retention: a gateway with retain_days of ~1 s deletes old recordings, files and rows', async () => {
    probe?.stdin.end();
    gateway.kill('SIGTERM');
    await new Promise((r) => gateway.once('exit', r));
    const comp = recordings.find((x) => x.egress_id === composite.egressId);
    const audio = join(recDir, comp.filename), vtt = join(recDir, comp.transcript_filename);
    assert(existsSync(audio) && existsSync(vtt), 'files before');
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = startGateway({ VOXGATE_RECORDING_RETAIN_DAYS: '0.00001', VOXGATE_RECORDING_RETENTION_CHECK_SECONDS: '1' });
    await healthy();
    await eventually(async () => (await (await api('/api/recordings')).json()).recordings.length === 0, 'the recordings to expire');
    assert(!existsSync(audio), 'audio deleted');
    assert(!existsSync(vtt), 'transcript deleted');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert(/voxgate_recordings_expired_total 1\b/.test(metrics), 'counted');
  });
} finally {
  probe?.stdin.end();
  probe?.kill();
  gateway.kill('SIGTERM');
  await new Promise((r) => gateway.exitCode !== null ? r() : gateway.once('exit', r));
  receiver.close();
  if (!process.env.VG_KEEP) rmSync(dataDir, { recursive: true, force: true });
}
done();
