import { TickpathError } from '../errors';

export interface MemoryPoolOptions {
  /** Bytes per slot; rounded up to a multiple of 8 so Float64 views of a slot stay aligned. */
  slotBytes: number;
  /** Number of slots, >= 1. */
  slotCount: number;
  /** Put the slots in a SharedArrayBuffer so other threads can read a slot handed to them. */
  shared?: boolean;
}

/**
 * Fixed-size slots carved from one buffer allocated at start-up, so a stage can take a buffer per
 * message without allocating: alloc() pops a slot index from a free stack kept in an Int32Array,
 * free() pushes it back. LIFO on purpose: the slot freed last is the one most likely still in cache.
 *
 * Threading contract: alloc() and free() belong to one owning thread (the free stack is not
 * atomic). With `shared: true` other threads may read or write the *bytes* of a slot they were
 * handed, e.g. through an SpscRing, and hand the index back to the owner to free.
 */
export class MemoryPool {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly slotBytes: number;
  readonly slotCount: number;
  readonly u8: Uint8Array;
  /** alloc() calls that found the pool empty; the caller decides whether that is a drop or a stall. */
  exhaustedCount = 0;
  private readonly freeStack: Int32Array;
  /** 1 while a slot is allocated: turns a double free into an error instead of a corrupt stack. */
  private readonly inUseFlags: Uint8Array;
  private freeTop: number;

  constructor(options: MemoryPoolOptions) {
    const { slotBytes, slotCount } = options;
    if (!Number.isInteger(slotBytes) || slotBytes < 1) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `MemoryPool: option 'slotBytes' is ${JSON.stringify(slotBytes)}, expected an integer >= 1`,
      );
    }
    if (!Number.isInteger(slotCount) || slotCount < 1 || slotCount > 0x7fffffff) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `MemoryPool: option 'slotCount' is ${JSON.stringify(slotCount)}, expected an integer in [1, 2147483647]`,
      );
    }
    this.slotBytes = (slotBytes + 7) & ~7;
    this.slotCount = slotCount;
    const total = this.slotBytes * slotCount;
    if (total > 0x7fffffff) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `MemoryPool: option 'slotCount' is ${slotCount}, expected slotBytes * slotCount below 2 GiB`,
      );
    }
    this.buffer = options.shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total);
    this.u8 = new Uint8Array(this.buffer);
    this.freeStack = new Int32Array(slotCount);
    this.inUseFlags = new Uint8Array(slotCount);
    // Slot 0 on top so a fresh pool hands out 0, 1, 2, ... (predictable in tests and dumps).
    for (let i = 0; i < slotCount; i++) this.freeStack[i] = slotCount - 1 - i;
    this.freeTop = slotCount;
  }

  /** Returns a free slot index, or -1 when every slot is in use (counted in exhaustedCount). */
  alloc(): number {
    if (this.freeTop === 0) {
      this.exhaustedCount++;
      return -1;
    }
    const slot = this.freeStack[--this.freeTop];
    this.inUseFlags[slot] = 1;
    return slot;
  }

  /** Returns `slot` to the pool. Throws ERR_DOUBLE_FREE or ERR_BAD_SLOT on misuse. */
  free(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotCount) {
      throw new TickpathError('ERR_BAD_SLOT', `MemoryPool.free: slot ${slot} is outside [0, ${this.slotCount - 1}]`);
    }
    if (this.inUseFlags[slot] === 0) {
      throw new TickpathError(
        'ERR_DOUBLE_FREE',
        `MemoryPool.free: slot ${slot} is not allocated (double free?)`,
        'free each slot exactly once, on the thread that owns the pool',
      );
    }
    this.inUseFlags[slot] = 0;
    this.freeStack[this.freeTop++] = slot;
  }

  /** First byte of `slot` in `buffer`. */
  offsetOf(slot: number): number {
    return slot * this.slotBytes;
  }

  isAllocated(slot: number): boolean {
    return this.inUseFlags[slot] === 1;
  }

  get available(): number {
    return this.freeTop;
  }

  get inUse(): number {
    return this.slotCount - this.freeTop;
  }
}
