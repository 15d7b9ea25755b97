/**
 * The pcap replay testbench's transmit side: sends the frames of a CaptureFile into a FrameSink
 * (a port's TX ring through TxProducer, or anything else with the same three members, e.g. a
 * pipeline's input ring) at the recorded pace, a multiple of it, a fixed packet rate or top speed,
 * for a number of loops, and reports what was sent.
 *
 * Pacing keeps an absolute schedule (frame i is due at start + its offset), so a late batch does
 * not push every later frame back: the replayer catches up at top speed and then paces again.
 * Gaps longer than `sleepThresholdMs` are slept through (the event loop stays responsive for
 * SIGINT and progress); shorter ones are spun. Frames are offered in batches and published once
 * per batch. Single producer: the thread that calls run().
 */
import { invalidOption } from '../errors';
import { TxProducer } from '../binding/tx-producer';
import { CaptureFile, MoldSummary } from './capture-file';

/** Where replayed frames go. */
export interface FrameSink {
  /** 'ethernet': whole frames; 'l4-payload': the UDP payload only (a kernel UDP socket adds the headers). */
  readonly framing: 'ethernet' | 'l4-payload';
  /** Queues one frame; false when there is no room now (the replayer flushes and retries). */
  offer(b: Uint8Array, offset: number, length: number): boolean;
  /** Makes queued frames visible to the device (once per batch). */
  flush(): void;
  /** Frames queued but not yet taken by the device. */
  readonly inFlight: number;
}

/** A port's TX queue as a FrameSink. */
export class TxProducerSink implements FrameSink {
  constructor(private readonly tx: TxProducer, readonly framing: 'ethernet' | 'l4-payload' = 'ethernet') {}

  offer(b: Uint8Array, offset: number, length: number): boolean {
    const tx = this.tx;
    const slot = tx.tryClaim();
    if (slot < 0) return false;
    const at = tx.slotOffset(slot);
    const n = length < tx.slotBytes ? length : tx.slotBytes;
    tx.bytes.set(b.subarray(offset, offset + n), at);
    tx.commit(slot, n);
    return true;
  }

  flush(): void { this.tx.publish(); }

  get inFlight(): number { return this.tx.inFlight; }
}

export type ReplayPace =
  | { mode: 'recorded'; speed?: number }
  | { mode: 'pps'; pps: number }
  | { mode: 'topspeed' };

export interface ReplayerOptions {
  pace?: ReplayPace;
  /** Times through the file; 0 = until stop() (default 1). */
  loops?: number;
  /** Frames per published batch at most (default 64). */
  batch?: number;
  /** Called at most every progressIntervalMs with the frames offered so far. */
  onProgress?: (offered: number) => void;
  progressIntervalMs?: number;
  /** Give up draining in-flight frames after this long at the end (default 2000 ms). */
  drainTimeoutMs?: number;
  sleepThresholdMs?: number;
  /** Monotonic nanoseconds (injected in tests). */
  nowNs?: () => number;
}

export interface ReplayReport {
  framesInCapture: number;
  loops: number;
  /** Frames handed to the sink. */
  offered: number;
  /** Frames the device took (offered minus those still in flight at the end). */
  sent: number;
  /** Frames left in flight when draining timed out; the caller adds device errors. */
  notDrained: number;
  /** Frames skipped: not UDP while the sink wants UDP payloads. */
  skipped: number;
  bytes: number;
  durationSeconds: number;
  packetsPerSecond: number;
  megabitsPerSecond: number;
  stopped: boolean;
  mold?: MoldSummary;
}

const defaultNow = (): number => Number(process.hrtime.bigint());
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export class Replayer {
  private stopRequested = false;
  private readonly pace: ReplayPace;
  private readonly loops: number;
  private readonly batch: number;
  private readonly nowNs: () => number;

  constructor(private readonly capture: CaptureFile, private readonly sink: FrameSink, private readonly options: ReplayerOptions = {}) {
    const where = 'Replayer';
    this.pace = options.pace ?? { mode: 'recorded', speed: 1 };
    const p = this.pace;
    if (p.mode === 'recorded' && p.speed !== undefined && !(p.speed > 0 && Number.isFinite(p.speed))) throw invalidOption(where, 'pace.speed', p.speed, 'a number > 0');
    if (p.mode === 'pps' && !(p.pps > 0 && Number.isFinite(p.pps))) throw invalidOption(where, 'pace.pps', p.pps, 'a number > 0');
    if (!['recorded', 'pps', 'topspeed'].includes(p.mode)) throw invalidOption(where, 'pace.mode', p.mode, "'recorded', 'pps' or 'topspeed'");
    this.loops = options.loops ?? 1;
    if (!Number.isInteger(this.loops) || this.loops < 0) throw invalidOption(where, 'loops', this.loops, 'an integer >= 0 (0 = until stopped)');
    this.batch = options.batch ?? 64;
    if (!Number.isInteger(this.batch) || this.batch < 1 || this.batch > 4096) throw invalidOption(where, 'batch', this.batch, 'an integer from 1 to 4096');
    this.nowNs = options.nowNs ?? defaultNow;
  }

  /** Frames the whole replay will offer (0 when looping until stopped). */
  get total(): number {
    return this.loops === 0 ? 0 : this.capture.count * this.loops;
  }

  /** Ends the replay after the current batch (safe from a signal handler). */
  stop(): void {
    this.stopRequested = true;
  }

  async run(): Promise<ReplayReport> {
    const cap = this.capture, sink = this.sink, n = cap.count;
    const payloadOnly = sink.framing === 'l4-payload';
    const pace = this.pace;
    const sleepNs = (this.options.sleepThresholdMs ?? 2) * 1e6;
    const progressNs = (this.options.progressIntervalMs ?? 200) * 1e6;
    const onProgress = this.options.onProgress;
    // Recorded pace: a loop lasts the file's span plus one mean gap, so loops do not overlap.
    const speed = pace.mode === 'recorded' ? pace.speed ?? 1 : 1;
    const loopSpan = n > 1 ? cap.spanNanos + cap.spanNanos / (n - 1) : 0;
    const ppsGap = pace.mode === 'pps' ? 1e9 / pace.pps : 0;
    const total = this.total;
    let offered = 0, skipped = 0, bytes = 0, loop = 0, i = 0, k = 0;
    const start = this.nowNs();
    let lastProgress = start, lastYield = start;
    outer:
    while (n > 0 && !this.stopRequested && (total === 0 || k < total)) {
      let now = this.nowNs();
      if (pace.mode !== 'topspeed') {
        const due = start + (pace.mode === 'pps' ? k * ppsGap : (loop * loopSpan + cap.times[i]) / speed);
        if (due > now) {
          sink.flush();
          if (due - now > sleepNs) await sleep(Math.min((due - now - sleepNs / 2) / 1e6, 100));
          else if (now - lastYield > 10e6) { lastYield = now; await yieldToLoop(); }
          continue;
        }
      }
      // A batch of everything due now (all of it at top speed), up to `batch` frames.
      let inBatch = 0;
      while (inBatch < this.batch) {
        const len = payloadOnly ? cap.payloadLengths[i] : cap.lengths[i];
        if (len < 0) skipped++;
        else {
          const off = payloadOnly ? cap.payloadOffsets[i] : cap.offsets[i];
          if (!sink.offer(cap.data, off, len)) {
            // Ring full: publish what we have and let the device catch up.
            sink.flush();
            now = this.nowNs();
            if (now - lastYield > 10e6) { lastYield = now; await yieldToLoop(); }
            if (this.stopRequested) break outer;
            continue;
          }
          offered++;
          bytes += len;
        }
        inBatch++;
        k++;
        if (++i === n) { i = 0; loop++; }
        if (total !== 0 && k >= total) break;
        if (pace.mode !== 'topspeed') {
          const due = start + (pace.mode === 'pps' ? k * ppsGap : (loop * loopSpan + cap.times[i]) / speed);
          if (due > now) break;
        }
      }
      sink.flush();
      now = this.nowNs();
      if (onProgress && now - lastProgress >= progressNs) { lastProgress = now; onProgress(offered); }
      if (now - lastYield > 10e6) { lastYield = now; await yieldToLoop(); }
    }
    // Drain: keep publishing (an inline port transmits on publish) until the device took everything.
    const drainUntil = this.nowNs() + (this.options.drainTimeoutMs ?? 2000) * 1e6;
    while (sink.inFlight > 0 && this.nowNs() < drainUntil) {
      sink.flush();
      await sleep(1);
    }
    const end = this.nowNs();
    const notDrained = sink.inFlight;
    if (onProgress) onProgress(offered);
    const seconds = (end - start) / 1e9;
    return {
      framesInCapture: n, loops: loop + (i > 0 ? 1 : 0), offered, sent: offered - notDrained, notDrained, skipped, bytes,
      durationSeconds: seconds,
      packetsPerSecond: seconds > 0 ? (offered - notDrained) / seconds : 0,
      megabitsPerSecond: seconds > 0 ? (bytes * 8) / seconds / 1e6 : 0,
      stopped: this.stopRequested,
      mold: cap.moldSummary(),
    };
  }
}
