/**
 * Resting orders by Order Reference Number: an open-addressing hash table (linear probing,
 * backward-shift deletion, no tombstones) whose slots hold the order itself: no object per order,
 * no Map entry per order, nothing for the GC to trace as the day's millions of orders come and go.
 *
 * Layout is one Float64Array with 4 numbers per slot [ref, locate * 256 + side, price, shares]:
 * 32 bytes, so a lookup touches one cache line (a structure-of-arrays layout costs one miss per
 * array once the table outgrows the cache). A meta word of 0 marks an empty slot: side is always
 * 'B' or 'S', so an occupied slot never has meta 0. The key is stored as given, never offset: above
 * 2^53 `ref + 1` can round back to `ref`, and rehashing a different number than was inserted broke
 * backward-shift deletion (found by test/feed/fuzz.test.ts). Grows by doubling at 50% load.
 *
 * Slot indexes are valid until the next insert or remove (both may move entries).
 * Order Reference Numbers are unique per day across all symbols (ITCH 5.0), so one store serves
 * every book. Single writer: the book builder's thread.
 */
const kStride = 4;

export class OrderStore {
  private capacity: number;
  private mask: number;
  /** 32 - log2(capacity): Fibonacci hashing takes the top bits of the product. */
  private shift: number;
  private slots: Float64Array;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let c = 16;
    while (c < initialCapacity) c *= 2;
    this.capacity = c;
    this.mask = c - 1;
    this.shift = 32 - Math.log2(c);
    this.slots = new Float64Array(c * kStride);
  }

  /** Slot of `ref`, or -1. */
  find(ref: number): number {
    const s = this.slots;
    const mask = this.mask;
    let i = hash(ref) >>> this.shift;
    for (;;) {
      const o = i * kStride;
      if (s[o + 1] === 0) return -1;
      if (s[o] === ref) return i;
      i = (i + 1) & mask;
    }
  }

  /** Insert a new order; returns its slot, or -1 if `ref` is already resting (caller counts it). */
  insert(ref: number, locate: number, side: number, price: number, shares: number): number {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const s = this.slots;
    const mask = this.mask;
    let i = hash(ref) >>> this.shift;
    for (;;) {
      const o = i * kStride;
      if (s[o + 1] === 0) break;
      if (s[o] === ref) return -1;
      i = (i + 1) & mask;
    }
    const o = i * kStride;
    s[o] = ref;
    s[o + 1] = locate * 256 + side;
    s[o + 2] = price;
    s[o + 3] = shares;
    this.size++;
    return i;
  }

  locate(slot: number): number { return Math.floor(this.slots[slot * kStride + 1] / 256); }
  /** 0x42 'B' or 0x53 'S'. */
  side(slot: number): number { return this.slots[slot * kStride + 1] % 256; }
  price(slot: number): number { return this.slots[slot * kStride + 2]; }
  shares(slot: number): number { return this.slots[slot * kStride + 3]; }
  setShares(slot: number, shares: number): void { this.slots[slot * kStride + 3] = shares; }
  /** Order Reference Number in `slot` (tests and tools). */
  keyAt(slot: number): number { return this.slots[slot * kStride]; }

  /** Remove the order in `slot` (from find/insert). */
  remove(slot: number): void {
    const s = this.slots;
    const mask = this.mask;
    const shift = this.shift;
    let hole = slot;
    let i = (slot + 1) & mask;
    // Backward-shift: move later members of the probe run into the hole so lookups never stop early.
    for (;;) {
      const f = i * kStride;
      if (s[f + 1] === 0) break;
      const k = s[f];
      const home = hash(k) >>> shift;
      // Move i into the hole unless its home lies cyclically in (hole, i].
      const between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!between) {
        const d = hole * kStride;
        s[d] = k; s[d + 1] = s[f + 1]; s[d + 2] = s[f + 2]; s[d + 3] = s[f + 3];
        hole = i;
      }
      i = (i + 1) & mask;
    }
    s[hole * kStride] = 0;
    s[hole * kStride + 1] = 0;
    this.size--;
  }

  clear(): void {
    this.slots.fill(0);
    this.size = 0;
  }

  /** Visit every resting order (tests, snapshots; not the hot path). */
  forEach(fn: (ref: number, locate: number, side: number, price: number, shares: number) => void): void {
    for (let i = 0; i < this.capacity; i++) {
      if (this.slots[i * kStride + 1] !== 0) fn(this.keyAt(i), this.locate(i), this.side(i), this.price(i), this.shares(i));
    }
  }

  private grow(): void {
    const old = this.slots;
    const oldCapacity = this.capacity;
    const c = oldCapacity * 2;
    this.capacity = c;
    this.mask = c - 1;
    this.shift = 32 - Math.log2(c);
    this.slots = new Float64Array(c * kStride);
    this.size = 0;
    for (let i = 0; i < oldCapacity; i++) {
      const o = i * kStride;
      const meta = old[o + 1];
      if (meta !== 0) {
        this.insert(old[o], Math.floor(meta / 256), meta % 256, old[o + 2], old[o + 3]);
      }
    }
  }
}

/** Fibonacci hash of both 32-bit halves (callers take the top bits); order references are mostly sequential, this spreads them. */
function hash(ref: number): number {
  const lo = ref >>> 0;
  const hi = (ref / 4294967296) >>> 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
}
