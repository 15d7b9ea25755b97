/**
 * Worker script for the ring tests (compiled to dist/test/common/helpers/ring-worker.js and started
 * with new Worker(path)). One side of a producer/consumer pair; both sides derive every record and
 * frame from the same seeded xorshift so the consumer knows exactly what must arrive next.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SpscRing } from '../../../lib/common/spsc-ring';
import { FrameRing } from '../../../lib/common/frame-ring';
import { BackoffIdleStrategy } from '../../../lib/common/idle-strategy';

export interface RingWorkerData {
  role: 'record-producer' | 'record-consumer' | 'frame-producer' | 'frame-consumer';
  sab: SharedArrayBuffer;
  count: number;
  seed: number;
  maxBatch: number;
  /** Every this many records the side sleeps, forcing the other side onto its full/empty edge. */
  stallEvery: number;
  maxFrameLength?: number;
}

export interface RingWorkerResult {
  role: string;
  processed: number;
  error: string | null;
  /** Producer: tryClaim returned 0/-1. Consumer: read returned 0. */
  edgeTurns: number;
  /** Producer: claims granted fewer than asked. Consumer: batches (non-zero reads). */
  partialOrBatches: number;
}

class XorShift32 {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
  /** Uniform-ish in [1, n]. */
  upTo(n: number): number {
    return 1 + (this.next() % n);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function recordWord1(seq: number): number {
  return (seq ^ 0x5a5a5a5a) | 0;
}
function recordF64(seq: number): number {
  return seq * 0.5 + 0.25;
}
function frameByte(seq: number, j: number): number {
  return (seq * 31 + j) & 0xff;
}

function recordProducer(d: RingWorkerData): RingWorkerResult {
  const ring = SpscRing.attach(d.sab);
  const rng = new XorShift32(d.seed);
  const idle = new BackoffIdleStrategy({ maxSpins: 50, maxYields: 5, minParkMicros: 1, maxParkMicros: 200 });
  const i32 = ring.i32;
  const f64 = ring.f64;
  let seq = 0;
  let edgeTurns = 0;
  let partial = 0;
  let nextStall = d.stallEvery;
  while (seq < d.count) {
    let want = rng.upTo(d.maxBatch);
    if (want > d.count - seq) want = d.count - seq;
    let got = ring.tryClaim(want);
    if (got === 0) {
      edgeTurns++;
      idle.idle(0);
      // Ask again for the same batch size next turn (keeps the rng stream independent of timing).
      while ((got = ring.tryClaim(want)) === 0) idle.idle(0);
    }
    if (got < want) partial++;
    for (let i = 0; i < got; i++) {
      const off = ring.offsetOfClaimed(i);
      i32[off >> 2] = seq;
      i32[(off >> 2) + 1] = recordWord1(seq);
      f64[(off >> 3) + 1] = recordF64(seq);
      seq++;
    }
    ring.publish();
    idle.idle(got);
    if (seq >= nextStall) {
      nextStall += d.stallEvery;
      sleepMs(2);
    }
  }
  return { role: d.role, processed: seq, error: null, edgeTurns, partialOrBatches: partial };
}

function recordConsumer(d: RingWorkerData): RingWorkerResult {
  const ring = SpscRing.attach(d.sab);
  const rng = new XorShift32(d.seed ^ 0x1234567);
  const idle = new BackoffIdleStrategy({ maxSpins: 50, maxYields: 5, minParkMicros: 1, maxParkMicros: 200 });
  const i32 = ring.i32;
  const f64 = ring.f64;
  let expected = 0;
  let error: string | null = null;
  let seenInBatch = 0;
  let endFlagAt = -1;
  const handler = (off: number, endOfBatch: boolean): void => {
    seenInBatch++;
    if (endOfBatch) {
      if (endFlagAt !== -1 && error === null) error = `endOfBatch seen twice in one batch at seq ${expected}`;
      endFlagAt = seenInBatch;
    }
    if (error === null) {
      const seq = i32[off >> 2];
      if (seq !== expected) error = `record ${expected}: seq word is ${seq}`;
      else if (i32[(off >> 2) + 1] !== recordWord1(seq)) error = `record ${expected}: word 1 is ${i32[(off >> 2) + 1]}`;
      else if (f64[(off >> 3) + 1] !== recordF64(seq)) error = `record ${expected}: f64 word is ${f64[(off >> 3) + 1]}`;
    }
    expected++;
  };
  let edgeTurns = 0;
  let batches = 0;
  let nextStall = d.stallEvery;
  // Keep draining after an error so the producer never blocks on a full ring and the test fails fast.
  while (expected < d.count) {
    seenInBatch = 0;
    endFlagAt = -1;
    const n = ring.read(handler, rng.upTo(d.maxBatch));
    if (n === 0) edgeTurns++;
    else {
      batches++;
      if (endFlagAt !== n && error === null) error = `batch of ${n} ended with endOfBatch at ${endFlagAt}`;
    }
    idle.idle(n);
    if (expected >= nextStall) {
      nextStall += d.stallEvery;
      sleepMs(2);
    }
  }
  if (error === null && ring.size() !== 0) error = `ring not empty after the last record: ${ring.size()}`;
  return { role: d.role, processed: expected, error, edgeTurns, partialOrBatches: batches };
}

function frameProducer(d: RingWorkerData): RingWorkerResult {
  const ring = FrameRing.attach(d.sab);
  const lengths = new XorShift32(d.seed);
  const batchRng = new XorShift32(d.seed ^ 0x7777);
  const idle = new BackoffIdleStrategy({ maxSpins: 50, maxYields: 5, minParkMicros: 1, maxParkMicros: 200 });
  const u8 = ring.u8;
  const maxLen = d.maxFrameLength ?? 300;
  let seq = 0;
  let edgeTurns = 0;
  let nextStall = d.stallEvery;
  let pendingLength = -1;
  while (seq < d.count) {
    const batch = batchRng.upTo(d.maxBatch);
    let claimed = 0;
    while (claimed < batch && seq < d.count) {
      // lengths in [0, maxLen]; drawn once per frame so the consumer can replay the stream.
      if (pendingLength < 0) pendingLength = lengths.next() % (maxLen + 1);
      const off = ring.tryClaim(pendingLength);
      if (off < 0) {
        edgeTurns++;
        break;
      }
      for (let j = 0; j < pendingLength; j++) u8[off + j] = frameByte(seq, j);
      seq++;
      claimed++;
      pendingLength = -1;
    }
    if (claimed > 0) ring.publish();
    idle.idle(claimed);
    if (seq >= nextStall) {
      nextStall += d.stallEvery;
      sleepMs(2);
    }
  }
  return { role: d.role, processed: seq, error: null, edgeTurns, partialOrBatches: 0 };
}

function frameConsumer(d: RingWorkerData): RingWorkerResult {
  const ring = FrameRing.attach(d.sab);
  const lengths = new XorShift32(d.seed);
  const limits = new XorShift32(d.seed ^ 0x4242);
  const idle = new BackoffIdleStrategy({ maxSpins: 50, maxYields: 5, minParkMicros: 1, maxParkMicros: 200 });
  const u8 = ring.u8;
  const maxLen = d.maxFrameLength ?? 300;
  let expected = 0;
  let error: string | null = null;
  let seenInBatch = 0;
  let endFlagAt = -1;
  const handler = (off: number, length: number, endOfBatch: boolean): void => {
    seenInBatch++;
    if (endOfBatch) {
      if (endFlagAt !== -1 && error === null) error = `endOfBatch seen twice in one batch at frame ${expected}`;
      endFlagAt = seenInBatch;
    }
    const want = lengths.next() % (maxLen + 1);
    if (error === null) {
      if (length !== want) error = `frame ${expected}: length ${length}, expected ${want}`;
      else if ((off & 7) !== 0) error = `frame ${expected}: payload offset ${off} not 8-aligned`;
      else {
        for (let j = 0; j < length; j++) {
          if (u8[off + j] !== frameByte(expected, j)) {
            error = `frame ${expected}: byte ${j} is ${u8[off + j]}, expected ${frameByte(expected, j)}`;
            break;
          }
        }
      }
    }
    expected++;
  };
  let edgeTurns = 0;
  let batches = 0;
  let nextStall = d.stallEvery;
  // Keep draining after an error so the producer never blocks on a full ring and the test fails fast.
  while (expected < d.count) {
    seenInBatch = 0;
    endFlagAt = -1;
    const n = ring.read(handler, limits.upTo(d.maxBatch));
    if (n === 0) edgeTurns++;
    else {
      batches++;
      if (endFlagAt !== n && error === null) error = `batch of ${n} ended with endOfBatch at ${endFlagAt}`;
    }
    idle.idle(n);
    if (expected >= nextStall) {
      nextStall += d.stallEvery;
      sleepMs(2);
    }
  }
  if (error === null && ring.size() !== 0) error = `ring not empty after the last frame: ${ring.size()} bytes`;
  return { role: d.role, processed: expected, error, edgeTurns, partialOrBatches: batches };
}

if (parentPort) {
  const d = workerData as RingWorkerData;
  let result: RingWorkerResult;
  switch (d.role) {
    case 'record-producer':
      result = recordProducer(d);
      break;
    case 'record-consumer':
      result = recordConsumer(d);
      break;
    case 'frame-producer':
      result = frameProducer(d);
      break;
    case 'frame-consumer':
      result = frameConsumer(d);
      break;
  }
  parentPort.postMessage(result);
}
