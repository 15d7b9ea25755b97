/**
 * perf:rx consumer: reads each packet's length and one 32-bit payload word in place, the minimum
 * a real decoder does, and counts. Pinned to the CPU it is given. Single consumer of its ring.
 */
import { parentPort, workerData } from 'worker_threads';
import { RxConsumer, RxQueueTransfer } from '../lib/binding/rx-consumer';
import { pinCurrentThread } from '../lib/binding/threads';

const job = workerData as { transfer: RxQueueTransfer; cpu: number; control: SharedArrayBuffer };
if (job.cpu >= 0) pinCurrentThread(job.cpu);
const rx = new RxConsumer(job.transfer);
const control = new Int32Array(job.control);
let packets = 0, bytes = 0, word = 0;
const onPacket = (b: Uint8Array, off: number, len: number): void => {
  packets++;
  bytes += len;
  word ^= b[off + 14] | (b[off + 15] << 8) | (b[off + 16] << 16) | (b[off + 17] << 24);
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
