/**
 * Latency baseline: the bare transport, RX descriptor timestamp (poll time on the lcore) to the
 * moment a JS worker reads the packet with RxConsumer, with no decoding. Pinned where the
 * pipeline's decoder runs and idling the same way (spin, or back off to 1 ms timers), so the
 * difference from the pipeline's wire_to_handler is the decode/book/conflation/strategy work.
 */
import { parentPort, workerData } from 'worker_threads';
import { RxConsumer, RxQueueTransfer } from '../../lib/binding/rx-consumer';
import { pinCurrentThread } from '../../lib/binding/threads';
import { MonotonicClock } from '../../lib/common/clock';
import { LatencyRecorder } from '../../lib/common/latency-recorder';

export interface RxLatencyJob { transfer: RxQueueTransfer; cpu: number; control: SharedArrayBuffer; idle: 'spin' | 'yield' | 'backoff'; maxSpins: number; burst: number }

if (parentPort && workerData && (workerData as RxLatencyJob).transfer) {
  const job = workerData as RxLatencyJob;
  if (job.cpu >= 0) pinCurrentThread(job.cpu);
  const rx = new RxConsumer(job.transfer);
  const ctl = new Int32Array(job.control);
  const clock = new MonotonicClock();
  const latency = new LatencyRecorder({ name: 'wire_to_read', highestTrackableNs: 60_000_000_000 });
  let packets = 0;
  const onPacket = (_b: Uint8Array, _o: number, _l: number, ts: number): void => { packets++; latency.record(clock.nowNs() - ts); };
  let idleTurns = 0;
  const loop = (): void => {
    let work = 0;
    for (let t = 0; t < 256; t++) {
      const n = rx.read(onPacket, job.burst);
      work += n;
      if (n === 0) break;
    }
    if (Atomics.load(ctl, 0) === 1 && work === 0) {
      parentPort!.postMessage({ packets, latency: latency.serialize() });
      return;
    }
    if (work > 0) idleTurns = 0; else idleTurns++;
    if (job.idle === 'spin' || idleTurns < job.maxSpins) setImmediate(loop);
    else setTimeout(loop, 1);
  };
  parentPort.postMessage({ ready: true });
  loop();
}
