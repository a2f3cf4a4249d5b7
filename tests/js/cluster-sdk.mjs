// LiveKit's server SDK against two voxgate nodes sharing Redis (started by
// tests/cluster/test-cluster.sh, which passes them in the environment): the
// room lives on node A with one participant; everything here goes through
// both nodes, mutations through B, the node that does not own the room.
// Prints one line per check; exits 1 when one fails.
import { RoomServiceClient } from 'livekit-server-sdk';

const { VG_NODE_A: A, VG_NODE_B: B, VG_ROOM: ROOM, VG_IDENTITY: IDENTITY, VG_KEY: KEY, VG_SECRET: SECRET } = process.env;
const a = new RoomServiceClient(A, KEY, SECRET);
const b = new RoomServiceClient(B, KEY, SECRET);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failed = 0;
async function check(name, fn) {
  try { await fn(); console.log(`ok - ${name}`); }
  catch (e) { failed++; console.log(`not ok - ${name}: ${e.message || e}`); }
}
async function eventually(fn, what, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const roomOn = async (client) => (await client.listRooms()).find((r) => r.name === ROOM);

await check('ListRooms on node A lists the room with its participant', async () => {
  await eventually(async () => (await roomOn(a))?.numParticipants === 1, 'A to list it');
});
await check('ListRooms on node B (not the owner) lists the same room', async () => {
  await eventually(async () => (await roomOn(b))?.numParticipants === 1, 'B to list it');
  const ra = await roomOn(a), rb = await roomOn(b);
  if (ra.sid !== rb.sid) throw new Error(`sid ${ra.sid} on A, ${rb.sid} on B`);
});
await check('ListRooms with names on node B', async () => {
  const rooms = await b.listRooms([ROOM]);
  if (rooms.length !== 1 || rooms[0].name !== ROOM) throw new Error(JSON.stringify(rooms));
  if ((await b.listRooms(['no-such-room'])).length !== 0) throw new Error('an unknown name was listed');
});
await check('ListParticipants through node B', async () => {
  const ps = await b.listParticipants(ROOM);
  if (ps.length !== 1 || ps[0].identity !== IDENTITY) throw new Error(JSON.stringify(ps));
});
await check('GetParticipant through node B (forwarded to the owner)', async () => {
  const p = await b.getParticipant(ROOM, IDENTITY);
  if (p.identity !== IDENTITY) throw new Error(JSON.stringify(p));
});
await check('UpdateRoomMetadata through node B is seen on node A', async () => {
  const room = await b.updateRoomMetadata(ROOM, 'set-through-b');
  if (room.metadata !== 'set-through-b') throw new Error(`reply metadata ${room.metadata}`);
  if ((await roomOn(a)).metadata !== 'set-through-b') throw new Error('A does not have it');
  await eventually(async () => (await roomOn(b))?.metadata === 'set-through-b', "B's view to follow");
});
await check('a refusal from the owner keeps its Twirp code through node B', async () => {
  try {
    await b.removeParticipant(ROOM, 'nobody-here');
    throw new Error('resolved');
  } catch (e) {
    if (e.status !== 404 && e.code !== 'not_found') throw new Error(`got ${e.status} ${e.code} ${e.message}`);
  }
});
await check('RemoveParticipant through node B removes it on the owner', async () => {
  await b.removeParticipant(ROOM, IDENTITY);
  await eventually(async () => (await a.listParticipants(ROOM)).length === 0, 'the owner to drop it');
  await eventually(async () => (await b.listParticipants(ROOM)).length === 0, "B's view to follow");
});
process.exit(failed ? 1 : 0);
