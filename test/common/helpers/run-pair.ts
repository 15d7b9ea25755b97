import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RingWorkerData, RingWorkerResult } from './ring-worker';
import { workerResult } from '../../helpers/worker-result';

const kWorkerScript = path.join(__dirname, 'ring-worker.js');

/** Runs one worker to completion and resolves with the result it posts. */
export function runRingWorker(data: RingWorkerData): Promise<RingWorkerResult> {
  const worker = new Worker(kWorkerScript, { workerData: data });
  return workerResult<RingWorkerResult>(worker, { name: `${data.role} worker` });
}

/** Starts producer and consumer on two real worker threads over the same buffer. */
export async function runPair(
  producer: RingWorkerData,
  consumer: RingWorkerData,
): Promise<[RingWorkerResult, RingWorkerResult]> {
  return Promise.all([runRingWorker(producer), runRingWorker(consumer)]);
}
