import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RingWorkerData, RingWorkerResult } from './ring-worker';

const kWorkerScript = path.join(__dirname, 'ring-worker.js');

/** Runs one worker to completion and resolves with the result it posts. */
export function runRingWorker(data: RingWorkerData): Promise<RingWorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(kWorkerScript, { workerData: data });
    let result: RingWorkerResult | undefined;
    worker.once('message', (m: RingWorkerResult) => (result = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`${data.role} worker exited with code ${code} and no result`));
    });
  });
}

/** Starts producer and consumer on two real worker threads over the same buffer. */
export async function runPair(
  producer: RingWorkerData,
  consumer: RingWorkerData,
): Promise<[RingWorkerResult, RingWorkerResult]> {
  return Promise.all([runRingWorker(producer), runRingWorker(consumer)]);
}
