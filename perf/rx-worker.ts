/**
 * perf:rx consumer (perf/rx.ts for dpdk, perf/rx-kernel.ts for af_xdp/af_packet/udp): the production
 * RxConsumer in a JS worker, reading each packet's length and, unless `wordOffset` is -1, one 32-bit
 * payload word in place (at `wordOffset`, default 14), and counting. Pinned to `cpu` when it is >= 0.
 * Single consumer of its ring; with an inline port its read() also polls the device.
 *
 * The window is the worker's own: it looks at the control word every 64 reads; while it is 0 the
 * count is reset, when it first sees 1 (measure) it starts its clock, and when it sees 2 (stop) it
 * stops both, so the rate is packets over the time this thread was counting, not over the main
 * thread's sleep.
 */
import * as fs from 'fs';
import { parentPort, workerData } from 'worker_threads';
import { RxConsumer, RxQueueTransfer } from '../lib/binding/rx-consumer';
import { pinCurrentThread } from '../lib/binding/threads';

const job = workerData as { transfer: RxQueueTransfer; cpu: number; control: SharedArrayBuffer; wordOffset?: number; limit?: number };
if (job.cpu >= 0) pinCurrentThread(job.cpu);
const rx = new RxConsumer(job.transfer);
const control = new Int32Array(job.control);
const wordOffset = job.wordOffset ?? 14;
const limit = job.limit ?? 256;
// The tallies live in a typed array, not in `let`s: a closure's variable that outgrows a small
// integer (bytes does after 16 M packets of 64 B) is a boxed double, and every `+=` then allocated
// a new box (a write barrier and scavenges: 12 % of the inline consumer's samples in `perf record`).
const kPackets = 0, kBytes = 1, kWord = 2;
const tally = new Float64Array(3);
const onPacket = (b: Uint8Array, off: number, len: number): void => {
  const o = off + wordOffset;
  tally[kPackets]++;
  tally[kBytes] += len;
  tally[kWord] = (tally[kWord] ^ (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24))) >>> 0;
};
const onPacketLengthOnly = (_b: Uint8Array, _off: number, len: number): void => {
  tally[kPackets]++;
  tally[kBytes] += len;
};
const handler = wordOffset < 0 ? onPacketLengthOnly : onPacket;
let measuring = false;
let t0 = 0n, cpu0 = 0;
/** This thread's time on a CPU, ns (schedstat's first field): under load it is less than the window. */
const cpuNs = (): number => { try { return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]); } catch { return NaN; } };
// 0: wait (not counted), 1: measure, 2: stop and report.
function loop(): void {
  for (let i = 0; i < 2000; i++) {
    for (let j = 0; j < 64; j++) rx.read(handler, limit);
    const state = Atomics.load(control, 0);
    if (state === 0) { tally[kPackets] = 0; tally[kBytes] = 0; continue; }
    // What the last 64 reads took stays counted: a paced sender may have started while this thread
    // was off its CPU, and the ladder needs every packet sent after the flag (at most 64 reads'
    // worth ahead of the clock for a rate, under 0.1 % of a second-long window).
    if (!measuring) { measuring = true; t0 = process.hrtime.bigint(); cpu0 = cpuNs(); }
    if (state === 2) {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      parentPort!.postMessage({ packets: tally[kPackets], bytes: tally[kBytes], word: tally[kWord], seconds, cpuSeconds: (cpuNs() - cpu0) / 1e9 });
      return;
    }
  }
  setImmediate(loop);
}
loop();
