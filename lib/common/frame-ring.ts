import { TickpathError } from '../errors';
import {
  checkRingHeader,
  isPowerOfTwo,
  kCapacityI32,
  kConsumerPosI32,
  kFrameRingMagic,
  kMagicI32,
  kMaskI32,
  kMaxRingCapacity,
  kProducerPosI32,
  kRecordBytesI32,
  kRingHeaderBytes,
} from './ring-layout';

/**
 * Called once per frame by FrameRing.read(): the payload is ring.u8[offset .. offset + length).
 * It may be overwritten once the handler returns.
 */
export type FrameHandler = (offset: number, length: number, endOfBatch: boolean) => void;

/** Every frame starts with this header: [int32 payload length | kPaddingLength][int32 reserved]. */
export const kFrameHeaderBytes = 8;
/** Frames start on 8-byte boundaries so Float64 payloads stay aligned. */
export const kFrameAlignment = 8;
/** Length word of the filler that runs from a frame that would not fit to the end of the buffer. */
export const kPaddingLength = -1;

export interface FrameRingOptions {
  /** Data bytes; a power of two in [64, 2**30]. */
  capacity: number;
  /** First position of both sides (default 0); must be a multiple of 8. For wrap tests. */
  startPosition?: number;
}

/**
 * Single-producer single-consumer ring of variable-length byte frames (Aeron's spsc_rb): each frame
 * is an 8-byte header plus payload, padded to 8 bytes. A frame never straddles the end of the
 * buffer: when it would, the producer writes a padding record to the end and starts at byte 0, so
 * the consumer always gets one contiguous (offset, length).
 *
 * Threading contract, position caching and once-per-batch publication as in SpscRing.
 */
export class FrameRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  /** Largest payload: half the ring minus a header, so a frame plus worst-case padding always fits. */
  readonly maxFrameLength: number;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  private readonly mask: number;

  private claimEnd: number;
  private cachedConsumerPos: number;

  private consumerPos: number;
  private cachedProducerPos: number;

  static bytesFor(capacity: number): number {
    return kRingHeaderBytes + capacity;
  }

  static create(options: FrameRingOptions): FrameRing {
    const { capacity } = options;
    const startPosition = options.startPosition ?? 0;
    if (!isPowerOfTwo(capacity) || capacity < 64 || capacity > kMaxRingCapacity) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `FrameRing.create: option 'capacity' is ${JSON.stringify(capacity)}, expected a power of two in [64, ${kMaxRingCapacity}]`,
      );
    }
    if (!Number.isInteger(startPosition) || startPosition < 0 || startPosition > 0xffffffff || startPosition % kFrameAlignment !== 0) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `FrameRing.create: option 'startPosition' is ${JSON.stringify(startPosition)}, expected a multiple of 8 in [0, 4294967288]`,
      );
    }
    const sab = new SharedArrayBuffer(FrameRing.bytesFor(capacity));
    const i32 = new Int32Array(sab, 0, kRingHeaderBytes >> 2);
    i32[kCapacityI32] = capacity;
    i32[kMaskI32] = capacity - 1;
    i32[kRecordBytesI32] = 0;
    i32[kProducerPosI32] = startPosition | 0;
    i32[kConsumerPosI32] = startPosition | 0;
    Atomics.store(i32, kMagicI32, kFrameRingMagic);
    return new FrameRing(sab);
  }

  static attach(sab: SharedArrayBuffer): FrameRing {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < kRingHeaderBytes) {
      throw new TickpathError(
        'ERR_RING_ATTACH',
        'FrameRing.attach: expected a SharedArrayBuffer from FrameRing.create()',
      );
    }
    return new FrameRing(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    const header = checkRingHeader(sab, 'FrameRing', 'a FrameRing', kFrameRingMagic, (capacity) => FrameRing.bytesFor(capacity));
    this.sab = sab;
    this.capacity = header[kCapacityI32];
    this.mask = header[kMaskI32];
    this.maxFrameLength = (this.capacity >> 1) - kFrameHeaderBytes;
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
    const producerPos = Atomics.load(this.i32, kProducerPosI32);
    const consumerPos = Atomics.load(this.i32, kConsumerPosI32);
    this.claimEnd = producerPos;
    this.cachedConsumerPos = consumerPos;
    this.consumerPos = consumerPos;
    this.cachedProducerPos = producerPos;
  }

  // ---- producer side ----

  /**
   * Reserves a frame of `length` payload bytes and returns the payload's byte offset in `sab`,
   * or -1 when the ring has no room now. Fill u8[offset .. offset + length), then publish().
   * Several frames may be claimed before one publish().
   */
  tryClaim(length: number): number {
    if (length > this.maxFrameLength || length < 0) {
      throw new TickpathError(
        'ERR_FRAME_TOO_LONG',
        `FrameRing.tryClaim: length ${length} is outside [0, ${this.maxFrameLength}]`,
        'use a larger ring or split the frame',
      );
    }
    const recordBytes = (length + kFrameHeaderBytes + kFrameAlignment - 1) & ~(kFrameAlignment - 1);
    const index = this.claimEnd & this.mask;
    const toEnd = this.capacity - index;
    // A frame that would straddle the end costs the rest of the buffer as padding as well.
    const needed = recordBytes <= toEnd ? recordBytes : toEnd + recordBytes;
    if (this.capacity - ((this.claimEnd - this.cachedConsumerPos) | 0) < needed) {
      this.cachedConsumerPos = Atomics.load(this.i32, kConsumerPosI32);
      if (this.capacity - ((this.claimEnd - this.cachedConsumerPos) | 0) < needed) return -1;
    }
    let at = index;
    if (recordBytes > toEnd) {
      const padI32 = (kRingHeaderBytes + index) >> 2;
      this.i32[padI32] = kPaddingLength;
      this.i32[padI32 + 1] = toEnd;
      at = 0;
    }
    const headerI32 = (kRingHeaderBytes + at) >> 2;
    this.i32[headerI32] = length;
    this.i32[headerI32 + 1] = 0;
    this.claimEnd = (this.claimEnd + needed) | 0;
    return kRingHeaderBytes + at + kFrameHeaderBytes;
  }

  publish(): void {
    Atomics.store(this.i32, kProducerPosI32, this.claimEnd);
  }

  // ---- consumer side ----

  /** Hands up to `limit` published frames to `handler`, oldest first; returns how many. */
  read(handler: FrameHandler, limit: number): number {
    let end = this.cachedProducerPos;
    if (end === this.consumerPos) {
      end = this.cachedProducerPos = Atomics.load(this.i32, kProducerPosI32);
      if (end === this.consumerPos) return 0;
    }
    const i32 = this.i32;
    let pos = this.consumerPos;
    let count = 0;
    try {
      while (pos !== end && count < limit) {
        const headerI32 = (kRingHeaderBytes + (pos & this.mask)) >> 2;
        const length = i32[headerI32];
        if (length === kPaddingLength) {
          pos = (pos + i32[headerI32 + 1]) | 0;
          continue;
        }
        const next = (pos + ((length + kFrameHeaderBytes + kFrameAlignment - 1) & ~(kFrameAlignment - 1))) | 0;
        pos = next;
        count++;
        // A padding record is always claimed and published together with the frame after it, so
        // `next === end` never misses a last frame hidden behind padding.
        handler((headerI32 << 2) + kFrameHeaderBytes, length, count === limit || next === end);
      }
    } finally {
      this.consumerPos = pos;
      Atomics.store(this.i32, kConsumerPosI32, pos);
    }
    return count;
  }

  /** Bytes published and not yet consumed, padding included (a snapshot). */
  size(): number {
    return (Atomics.load(this.i32, kProducerPosI32) - Atomics.load(this.i32, kConsumerPosI32)) | 0;
  }
}
