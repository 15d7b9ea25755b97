/**
 * perf:rx consumer (perf/rx.ts for dpdk, perf/rx-kernel.ts for af_xdp/af_packet/udp): the production
 * RxConsumer in a JS worker, reading each packet's length and one 32-bit payload word in place (at
 * `wordOffset`, default 14), the minimum a real decoder does, and counting. Pinned to `cpu` when
 * it is >= 0. Single consumer of its ring; with an inline port its read() also polls the device.
 */
import { parentPort, workerData } from 'worker_threads';
import { RxConsumer, RxQueueTransfer } from '../lib/binding/rx-consumer';
import { pinCurrentThread } from '../lib/binding/threads';

const job = workerData as { transfer: RxQueueTransfer; cpu: number; control: SharedArrayBuffer; wordOffset?: number };
if (job.cpu >= 0) pinCurrentThread(job.cpu);
const rx = new RxConsumer(job.transfer);
const control = new Int32Array(job.control);
const wordOffset = job.wordOffset ?? 14;
let packets = 0, bytes = 0, word = 0;
const onPacket = (b: Uint8Array, off: number, len: number): void => {
  const o = off + wordOffset;
  packets++;
  bytes += len;
  word ^= b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
};
// 0: wait, 1: measure, 2: stop. Counting starts when the main thread says so (after warm-up).
function loop(): void {
  for (let i = 0; i < 20000; i++) rx.read(onPacket, 256);
  const state = Atomics.load(control, 0);
  if (state === 0) { packets = 0; bytes = 0; }
  if (state === 2) {
    parentPort!.postMessage({ packets, bytes, word });
    return;
  }
  setImmediate(loop);
}
loop();
