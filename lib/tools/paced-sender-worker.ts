/**
 * The paced sender: one worker thread that writes the frames of a capture into a port's TX slots
 * (TxProducer) on an absolute schedule, so the port's own RX lcore receives them (dpdk net_ring
 * loops TX back to RX). Single producer of that TX queue. `tickpath run` feeds its bundled session
 * this way, and perf:latency and perf:burst their generated ones.
 *
 * Why a worker and not the main thread: a 100 k msgs/s capture has a packet every 200 us, too short
 * for a timer, so a main-thread replayer spins between packets; on a 2-core machine that spinning
 * thread takes a whole CPU from the RX lcore and the stage worker, and the venue simulators on the
 * main thread's event loop answer orders only when it yields. Parked here with Atomics.wait between
 * packets, the sender costs a few percent of the CPU it is pinned to.
 *
 * Frame i is due at start + its capture time mapped through the schedule: segments of capture time
 * replayed at a speed multiple (1 = the rate the capture was generated at; the burst test uses
 * 100 for 100 ms). A late frame is sent at once (no slip of later frames), and its lateness is
 * recorded: that is the sender's own share of coordinated omission, reported beside the results.
 * Gaps longer than `spinNs` are slept with Atomics.wait (sub-millisecond, gives the core away);
 * shorter ones are spun. Nothing is allocated per frame: Buffer.copy between two views made once.
 *
 * Control (Int32Array over a SharedArrayBuffer, main thread <-> this worker):
 *   [kGoI32] main writes 1 to start; [kStopI32] main writes 1 to stop early;
 *   [kPhaseI32] this worker: index of the segment of the last frame sent (-1 before, nSegments after);
 *   [kSentI32] this worker: frames published so far.
 */
import { parentPort, workerData } from 'worker_threads';
import * as fs from 'fs';
import * as path from 'path';
import { TxProducer, TxQueueTransfer } from '../binding/tx-producer';
import { currentTid, pinCurrentThread } from '../binding/threads';
import { MonotonicClock } from '../common/clock';
import { LatencyRecorder, SerializedLatency } from '../common/latency-recorder';
import { CaptureFile } from './capture-file';

export const kGoI32 = 0;
export const kStopI32 = 1;
export const kPhaseI32 = 2;
export const kSentI32 = 3;
const kSleepI32 = 8;

export interface PaceSegment {
  /** Capture time this segment covers (Infinity: to the end of the file). */
  captureSeconds: number;
  /** Speed multiple of the capture's own rate. */
  speed: number;
}

export interface PacedSenderJob {
  tx: TxQueueTransfer;
  file: string;
  schedule: PaceSegment[];
  control: SharedArrayBuffer;
  cpu: number;
  /** Frames per publish at most (default 32). */
  batch?: number;
  /** Gaps shorter than this are spun, longer ones slept (default 50 us). */
  spinNs?: number;
}

export interface PhaseReport { frames: number; messages: number; firstNs: number; lastNs: number; maxLagNs: number }

export interface PacedSenderReport {
  frames: number;
  messages: number;
  startNs: number;
  endNs: number;
  phases: PhaseReport[];
  /** Sender lateness (send time minus due time), ns. */
  lag: SerializedLatency;
  /** Times every TX slot was in flight (the device was behind). */
  txFullWaits: number;
  /** Capture records that could not be read as frames (not sent). */
  skipped: number;
  stopped: boolean;
}

/**
 * Due offset (real ns from the start) and schedule segment of each of the `n` frames at capture
 * times `times` (ns). Also used after a run to say in which phase a lost packet was sent.
 */
export function scheduleFrames(times: ArrayLike<number>, n: number, segs: PaceSegment[]): { due: Float64Array; phase: Uint8Array } {
  const due = new Float64Array(n);
  const phase = new Uint8Array(n);
  let seg = 0, segCap0 = 0, segReal0 = 0;
  for (let i = 0; i < n; i++) {
    const t = times[i];
    while (seg < segs.length - 1 && t >= segCap0 + segs[seg].captureSeconds * 1e9) {
      const end = segCap0 + segs[seg].captureSeconds * 1e9;
      segReal0 += (end - segCap0) / segs[seg].speed;
      segCap0 = end;
      seg++;
    }
    due[i] = segReal0 + (t - segCap0) / segs[seg].speed;
    phase[i] = seg;
  }
  return { due, phase };
}

/** ITCH messages in each frame of a MoldUDP64 capture (its header's message count; 0 for others). */
export function messagesPerFrame(cap: CaptureFile): Uint16Array {
  const out = new Uint16Array(cap.count);
  for (let i = 0; i < cap.count; i++) {
    if (cap.payloadLengths[i] < 20) continue;
    const at = cap.payloadOffsets[i] + 18;
    const n = (cap.data[at] << 8) | cap.data[at + 1];
    out[i] = n === 0xffff ? 0 : n;
  }
  return out;
}

export function loadCapture(file: string): CaptureFile {
  return new CaptureFile(new Uint8Array(fs.readFileSync(file)), path.basename(file));
}

function run(job: PacedSenderJob): PacedSenderReport {
  const tid = job.cpu >= 0 ? pinCurrentThread(job.cpu) : currentTid();
  const ctl = new Int32Array(job.control);
  const cap = loadCapture(job.file);
  const msgs = messagesPerFrame(cap);
  const n = cap.count;
  // Due offset (real ns from start) and segment of every frame: computed once, before the clock starts.
  const segs = job.schedule;
  const { due, phase } = scheduleFrames(cap.times, n, segs);
  const phases: PhaseReport[] = segs.map(() => ({ frames: 0, messages: 0, firstNs: 0, lastNs: 0, maxLagNs: 0 }));
  const tx = new TxProducer(job.tx);
  const src = Buffer.from(cap.data.buffer, cap.data.byteOffset, cap.data.byteLength);
  const dst = Buffer.from(tx.bytes.buffer, tx.bytes.byteOffset, tx.bytes.byteLength);
  const lag = new LatencyRecorder({ name: 'sender_lag', highestTrackableNs: 60_000_000_000 });
  const clock = new MonotonicClock();
  const batch = job.batch ?? 32, spinNs = job.spinNs ?? 50_000;
  Atomics.store(ctl, kPhaseI32, -1);
  parentPort!.postMessage({ type: 'ready', frames: n, tid });
  Atomics.wait(ctl, kGoI32, 0);
  let txFullWaits = 0, sent = 0, skipped = 0, i = 0;
  const start = clock.nowNs();
  while (i < n) {
    if (Atomics.load(ctl, kStopI32) === 1) break;
    let now = clock.nowNs();
    const wait = start + due[i] - now;
    if (wait > 0) {
      if (wait > spinNs) Atomics.wait(ctl, kSleepI32, 0, (wait - spinNs / 2) / 1e6);
      continue;
    }
    // Everything due now, up to one batch, then one publish.
    let k = 0;
    while (k < batch && i < n && start + due[i] <= now) {
      if (cap.lengths[i] < 0) { i++; skipped++; continue; }  // a record the capture could not read: not sent
      const slot = tx.tryClaim();
      if (slot < 0) { txFullWaits++; break; }
      const off = cap.offsets[i], len = cap.lengths[i] < tx.slotBytes ? cap.lengths[i] : tx.slotBytes;
      src.copy(dst, tx.slotOffset(slot), off, off + len);
      tx.commit(slot, len);
      const late = now - (start + due[i]);
      lag.record(late);
      const p = phases[phase[i]];
      if (p.frames === 0) p.firstNs = now;
      p.frames++; p.messages += msgs[i]; p.lastNs = now;
      if (late > p.maxLagNs) p.maxLagNs = late;
      i++; k++;
    }
    if (k > 0) {
      tx.publish();
      sent += k;
      Atomics.store(ctl, kSentI32, sent);
      Atomics.store(ctl, kPhaseI32, phase[i - 1]);
    } else Atomics.wait(ctl, kSleepI32, 0, 0.005); // TX full: let the lcore catch up
    now = clock.nowNs();
  }
  tx.publish();
  const end = clock.nowNs();
  Atomics.store(ctl, kPhaseI32, segs.length);
  return {
    frames: sent, messages: phases.reduce((a, p) => a + p.messages, 0), startNs: start, endNs: end, phases,
    lag: lag.serialize(), txFullWaits, skipped, stopped: i < n,
  };
}

if (parentPort && workerData && (workerData as PacedSenderJob).tx) {
  try {
    parentPort.postMessage({ type: 'done', report: run(workerData as PacedSenderJob) });
  } catch (err) {
    parentPort.postMessage({ type: 'fatal', message: (err as Error).stack ?? String(err) });
  }
}
