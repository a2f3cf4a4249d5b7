// TAP and waiting helpers shared by the browser tests.
import net from 'node:net';

let n = 0, failed = 0;
export async function test(name, fn) {
  n++;
  try { await fn(); console.log(`ok ${n} - ${name}`); }
  catch (e) { failed++; console.log(`not ok ${n} - ${name}`); console.log(`# ${String(e.stack || e).replaceAll('\n', '\n# ')}`); }
}
// Prints the plan and exits with the suite's status.
export function done() {
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}
export const assert = (cond, msg) => { if (!cond) throw new Error(msg); };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function eventually(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
