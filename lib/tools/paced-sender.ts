/**
 * Main-thread handle on the paced sender worker (paced-sender-worker.ts): start it on a port's TX
 * queue, wait until it has loaded its capture, go, and collect its report.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { TxQueueTransfer } from '../binding/tx-producer';
import { kGoI32, kPhaseI32, kSentI32, kStopI32, PaceSegment, PacedSenderJob, PacedSenderReport } from './paced-sender-worker';

export class PacedSender {
  readonly control = new Int32Array(new SharedArrayBuffer(64));
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  /** The sender thread's kernel tid once it has loaded its capture (0 before): for the scheduler report. */
  tid = 0;
  private readonly done: Promise<PacedSenderReport>;

  constructor(tx: TxQueueTransfer, file: string, schedule: PaceSegment[], readonly cpu: number, options: { batch?: number; spinNs?: number } = {}) {
    const job: PacedSenderJob = { tx, file, schedule, control: this.control.buffer as SharedArrayBuffer, cpu, ...options };
    this.worker = new Worker(path.join(__dirname, 'paced-sender-worker.js'), { workerData: job });
    let onReady: () => void = () => {};
    this.ready = new Promise<void>((r) => { onReady = r; });
    this.done = new Promise<PacedSenderReport>((resolve, reject) => {
      this.worker.on('message', (m: { type: string; report?: PacedSenderReport; message?: string; tid?: number }) => {
        if (m.type === 'ready') { this.tid = m.tid ?? 0; onReady(); }
        else if (m.type === 'done') resolve(m.report!);
        else if (m.type === 'fatal') reject(new Error(`paced sender failed: ${m.message}`));
      });
      this.worker.once('error', reject);
    });
    this.done.catch(() => onReady());
  }

  /** Loads the capture, then starts sending; resolves when the last frame was published. */
  async run(): Promise<PacedSenderReport> {
    await this.ready;
    Atomics.store(this.control, kGoI32, 1);
    Atomics.notify(this.control, kGoI32);
    const r = await this.done;
    await this.worker.terminate();
    return r;
  }

  stop(): void { Atomics.store(this.control, kStopI32, 1); }

  /** Segment of the last frame sent: -1 before the first, schedule.length after the last. */
  get phase(): number { return Atomics.load(this.control, kPhaseI32); }

  get sent(): number { return Atomics.load(this.control, kSentI32); }
}
