import { TickpathError } from '../errors';
import {
  checkRingHeader,
  isPowerOfTwo,
  kCapacityI32,
  kConsumerPosI32,
  kMagicI32,
  kMaskI32,
  kMaxRingCapacity,
  kProducerPosI32,
  kRecordBytesI32,
  kRingHeaderBytes,
  kSpscRingMagic,
} from './ring-layout';

/**
 * Called once per record by SpscRing.read(). `offset` is the record's first byte in the ring's
 * SharedArrayBuffer: read words with ring.i32[(offset >> 2) + k] or ring.f64[(offset >> 3) + k].
 * `endOfBatch` is true on the last record of this read() call: the place to flush conflated state.
 * The record may be overwritten as soon as the handler returns; copy what must outlive it.
 */
export type RecordHandler = (offset: number, endOfBatch: boolean) => void;

export interface SpscRingOptions {
  /** Number of records; a power of two in [2, 2**30]. */
  capacity: number;
  /** Bytes per record; a multiple of 8 (so Float64 words stay aligned), at least 8. */
  recordBytes: number;
  /**
   * First position of both sides (default 0). Positions are 32-bit and wrap; tests start near
   * 2**32 to cross the wrap without pushing four billion records.
   */
  startPosition?: number;
}

/**
 * Single-producer single-consumer ring of fixed-size records in a SharedArrayBuffer, for handing
 * work between pipeline stages on worker_threads (decoder -> book -> strategy -> router).
 *
 * Threading contract: exactly one thread calls the producer methods (tryClaim, offsetOfClaimed,
 * publish) and exactly one thread calls the consumer methods (read). Each thread builds its own
 * SpscRing object over the same buffer: create() on one side, postMessage(ring.sab), attach() on
 * the other. The two objects keep private copies of their positions; only the two position words
 * in the buffer are shared.
 *
 * Cost model (why it looks like this): an Atomics access to a line the other core just wrote costs
 * a cache-line transfer, tens of ns. So each side caches the other's position and re-reads it only
 * when the ring looks full (producer) or empty (consumer), and each side publishes its own position
 * once per batch, not per record. No object is created per record.
 */
export class SpscRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly recordBytes: number;
  /** Views over the whole buffer (header included); record offsets index into these. */
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  private readonly mask: number;

  // Producer-side private state (only the producer thread touches these).
  private claimStart: number;
  private claimEnd: number;
  private cachedConsumerPos: number;

  // Consumer-side private state (only the consumer thread touches these).
  private consumerPos: number;
  private cachedProducerPos: number;

  /** Bytes a ring of this shape needs, header included. */
  static bytesFor(capacity: number, recordBytes: number): number {
    return kRingHeaderBytes + capacity * recordBytes;
  }

  static create(options: SpscRingOptions): SpscRing {
    const { capacity, recordBytes } = options;
    const startPosition = options.startPosition ?? 0;
    if (!isPowerOfTwo(capacity) || capacity < 2 || capacity > kMaxRingCapacity) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `SpscRing.create: option 'capacity' is ${JSON.stringify(capacity)}, expected a power of two in [2, ${kMaxRingCapacity}]`,
      );
    }
    if (!Number.isInteger(recordBytes) || recordBytes < 8 || recordBytes % 8 !== 0) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `SpscRing.create: option 'recordBytes' is ${JSON.stringify(recordBytes)}, expected a multiple of 8 >= 8`,
      );
    }
    if (!Number.isInteger(startPosition) || startPosition < 0 || startPosition > 0xffffffff) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `SpscRing.create: option 'startPosition' is ${JSON.stringify(startPosition)}, expected an integer in [0, 4294967295]`,
      );
    }
    const bytes = SpscRing.bytesFor(capacity, recordBytes);
    if (bytes > 0x7fffffff) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `SpscRing.create: option 'capacity' is ${capacity}, expected capacity * recordBytes below 2 GiB`,
      );
    }
    const sab = new SharedArrayBuffer(bytes);
    const i32 = new Int32Array(sab, 0, kRingHeaderBytes >> 2);
    i32[kCapacityI32] = capacity;
    i32[kMaskI32] = capacity - 1;
    i32[kRecordBytesI32] = recordBytes;
    i32[kProducerPosI32] = startPosition | 0;
    i32[kConsumerPosI32] = startPosition | 0;
    // Magic last, with a release store: attach() on another thread sees a complete header.
    Atomics.store(i32, kMagicI32, kSpscRingMagic);
    return new SpscRing(sab);
  }

  /** Builds this thread's view of a ring created elsewhere (the buffer came through postMessage). */
  static attach(sab: SharedArrayBuffer): SpscRing {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < kRingHeaderBytes) {
      throw new TickpathError(
        'ERR_RING_ATTACH',
        `SpscRing.attach: expected a SharedArrayBuffer from SpscRing.create(), got ${describe(sab)}`,
      );
    }
    return new SpscRing(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    const header = checkRingHeader(sab, 'SpscRing', 'an SpscRing', kSpscRingMagic, (capacity, recordBytes) => SpscRing.bytesFor(capacity, recordBytes));
    this.sab = sab;
    this.capacity = header[kCapacityI32];
    this.mask = header[kMaskI32];
    this.recordBytes = header[kRecordBytesI32];
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab, 0, sab.byteLength >> 3);
    this.u8 = new Uint8Array(sab);
    const producerPos = Atomics.load(this.i32, kProducerPosI32);
    const consumerPos = Atomics.load(this.i32, kConsumerPosI32);
    this.claimStart = producerPos;
    this.claimEnd = producerPos;
    this.cachedConsumerPos = consumerPos;
    this.consumerPos = consumerPos;
    this.cachedProducerPos = producerPos;
  }

  // ---- producer side ----

  /**
   * Claims up to `n` free records and returns how many it got (0 when full). Write them through
   * offsetOfClaimed(0 .. count-1), then publish(). Several claims may precede one publish();
   * offsetOfClaimed() indexes the most recent claim.
   */
  tryClaim(n: number): number {
    let free = this.capacity - ((this.claimEnd - this.cachedConsumerPos) | 0);
    if (free < n) {
      // Looks full from the cache: only now pay for reading the consumer's line.
      this.cachedConsumerPos = Atomics.load(this.i32, kConsumerPosI32);
      free = this.capacity - ((this.claimEnd - this.cachedConsumerPos) | 0);
    }
    const count = n < free ? n : free;
    this.claimStart = this.claimEnd;
    this.claimEnd = (this.claimEnd + count) | 0;
    return count;
  }

  /** Byte offset in `sab` of the i-th record of the latest claim. */
  offsetOfClaimed(i: number): number {
    return kRingHeaderBytes + ((this.claimStart + i) & this.mask) * this.recordBytes;
  }

  /** Makes every claimed record visible to the consumer with one release store. */
  publish(): void {
    Atomics.store(this.i32, kProducerPosI32, this.claimEnd);
  }

  // ---- consumer side ----

  /**
   * Hands up to `limit` published records to `handler`, oldest first, and returns how many.
   * The consumer position is published once, after the batch. If the handler throws, the records
   * before it and the one that threw count as consumed (a poison record is not redelivered).
   */
  read(handler: RecordHandler, limit: number): number {
    let available = (this.cachedProducerPos - this.consumerPos) | 0;
    if (available === 0) {
      // Looks empty from the cache: only now pay for reading the producer's line.
      this.cachedProducerPos = Atomics.load(this.i32, kProducerPosI32);
      available = (this.cachedProducerPos - this.consumerPos) | 0;
      if (available === 0) return 0;
    }
    const count = available < limit ? available : limit;
    const start = this.consumerPos;
    const last = count - 1;
    let i = 0;
    try {
      for (; i < count; i++) {
        handler(kRingHeaderBytes + ((start + i) & this.mask) * this.recordBytes, i === last);
      }
    } finally {
      const done = i < count ? i + 1 : count;
      this.consumerPos = (start + done) | 0;
      Atomics.store(this.i32, kConsumerPosI32, this.consumerPos);
    }
    return count;
  }

  /** Published records not yet consumed (a snapshot; either thread may call it). */
  size(): number {
    return (Atomics.load(this.i32, kProducerPosI32) - Atomics.load(this.i32, kConsumerPosI32)) | 0;
  }

  /** Positions as unsigned 32-bit values, for monitoring and tests. */
  get producerPosition(): number {
    return Atomics.load(this.i32, kProducerPosI32) >>> 0;
  }
  get consumerPosition(): number {
    return Atomics.load(this.i32, kConsumerPosI32) >>> 0;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
