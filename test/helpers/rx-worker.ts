/**
 * Test worker: reads one RX queue in place through RxConsumer and reports back.
 *  mode 'collect': copies every packet (test only) until `expect` packets or EOF, then posts them.
 *  mode 'count': counts packets and sums one payload word until told to stop; `delayUs` makes it
 *  a deliberately slow consumer. `pinCpu` pins the worker first and reports its tid.
 */
import { parentPort, workerData } from 'worker_threads';
import { RxConsumer, RxQueueTransfer } from '../../lib/binding/rx-consumer';
import { pinCurrentThread, cpusAllowedOf } from '../../lib/binding/threads';

interface Job { transfer: RxQueueTransfer; mode: 'collect' | 'count'; expect?: number; delayUs?: number; pinCpu?: number; timeoutMs?: number }
const job = workerData as Job;
const consumer = new RxConsumer(job.transfer);
let tid = -1, allowed = '';
if (job.pinCpu !== undefined) {
  tid = pinCurrentThread(job.pinCpu);
  allowed = cpusAllowedOf(tid);
}

let stop = false;
parentPort!.on('message', (m) => { if (m === 'stop') stop = true; });

const frames: Uint8Array[] = [];
let count = 0, words = 0;
const collect = (buf: Uint8Array, off: number, len: number) => { frames.push(buf.slice(off, off + len)); count++; };
const countOnly = (buf: Uint8Array, off: number, len: number) => { count++; words += buf[off + (len > 20 ? 20 : 0)]; };

// On the full monotonic clock: the nanosecond field of process.hrtime() wraps every second, and a
// wait computed on it that straddles a second boundary could spin until it happened to sample the
// few nanoseconds after a later wrap, which on a preempted (virtualised) CPU may be never.
function spinDelay(us: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  while (process.hrtime.bigint() < end) { /* busy wait */ }
}

const deadline = Date.now() + (job.timeoutMs ?? 20000);
function loop(): void {
  for (let k = 0; k < 2000; k++) {
    const n = consumer.read(job.mode === 'collect' ? collect : countOnly, job.delayUs ? 1 : 256);
    if (n && job.delayUs) spinDelay(job.delayUs);
    const done = job.mode === 'collect'
      ? (job.expect !== undefined && count >= job.expect) || consumer.eof
      : stop && consumer.backlog === 0;
    if (done || Date.now() > deadline) {
      parentPort!.postMessage({ count, words, tid, allowed, frames: job.mode === 'collect' ? frames : [], timedOut: !done });
      return;
    }
    if (stop && job.mode === 'count') break;
  }
  setImmediate(loop);
}
loop();
