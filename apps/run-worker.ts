/**
 * Decoder stage of `tickpath run` (the foundation version of the pipeline): reads one RX queue in
 * place, decodes Ethernet/IPv4/UDP/MoldUDP64/ITCH with the flyweight FeedDecoder, and publishes
 * its counters into shared memory once per batch for the main thread's per-second line.
 * Single writer of `stats`: this worker.
 */
import { parentPort, workerData } from 'worker_threads';
import { RxConsumer, RxQueueTransfer } from '../lib/binding/rx-consumer';
import { pinCurrentThread } from '../lib/binding/threads';
import { FeedDecoder } from '../lib/feed/feed-decoder';
import { ItchDecoder } from '../lib/feed/itch-decoder';

import { kStatAddOrders, kStatBadFrames, kStatBytes, kStatDone, kStatMessages, kStatPackets } from './run-stats';

interface Job { transfer: RxQueueTransfer; stats: SharedArrayBuffer; control: SharedArrayBuffer; cpu?: number }
const job = workerData as Job;
if (job.cpu !== undefined) pinCurrentThread(job.cpu);
const consumer = new RxConsumer(job.transfer);
const stats = new Float64Array(job.stats);
const control = new Int32Array(job.control);

let packets = 0, bytes = 0, messages = 0, adds = 0;
const decoder = new FeedDecoder({
  onMessage(_d: ItchDecoder, type: number): void {
    messages++;
    if (type === 0x41) adds++;
  },
  endOfBatch(): void {},
});
const onPacket = (buf: Uint8Array, off: number, len: number, _ts: number, endOfBatch: boolean): void => {
  packets++;
  bytes += len;
  decoder.decodeFrame(buf, off, len);
  if (endOfBatch) decoder.endOfBatch();
};

function publish(): void {
  stats[kStatPackets] = packets;
  stats[kStatBytes] = bytes;
  stats[kStatMessages] = messages;
  stats[kStatBadFrames] = decoder.frames.counters.truncated + decoder.frames.counters.notIpv4 + decoder.frames.counters.notUdp;
  stats[kStatAddOrders] = adds;
}

// Busy-poll in slices and yield to the event loop between them, so 'stop' can be seen.
function loop(): void {
  for (let i = 0; i < 10000; i++) {
    if (consumer.read(onPacket, 256) === 0 && consumer.eof) break;
  }
  publish();
  if (Atomics.load(control, 0) === 1 || consumer.eof) {
    while (consumer.read(onPacket, 256) > 0) { /* drain */ }
    publish();
    stats[kStatDone] = 1;
    parentPort!.postMessage('done');
    return;
  }
  setImmediate(loop);
}
loop();
