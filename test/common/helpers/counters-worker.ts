/** Worker for counters.test: the single writer of one block, incrementing while the test reads. */
import { parentPort, workerData } from 'node:worker_threads';
import { CountersBlock } from '../../../lib/common/counters';

if (parentPort) {
  const { sab, iterations } = workerData as { sab: SharedArrayBuffer; iterations: number };
  const block = CountersBlock.attach(sab);
  const kPackets = block.indexOf('rx.packets');
  const kBytes = block.indexOf('rx.bytes');
  for (let i = 0; i < iterations; i++) {
    block.increment(kPackets);
    block.add(kBytes, 60);
  }
  parentPort.postMessage('done');
}
