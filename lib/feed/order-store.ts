/**
 * Resting orders by Order Reference Number: an open-addressing hash table (linear probing,
 * backward-shift deletion, no tombstones) whose slots hold the order itself in parallel typed
 * arrays: no object per order, no Map entry per order, nothing for the GC to trace as the day's
 * millions of orders come and go. Grows by doubling at 50% load (allocation at growth only).
 *
 * Slot indexes are valid until the next insert or remove (both may move entries).
 * Order Reference Numbers are unique per day across all symbols (ITCH 5.0), so one store serves
 * every book. Single writer: the book builder's thread.
 */
export class OrderStore {
  private capacity: number;
  private mask: number;
  /** 32 - log2(capacity): Fibonacci hashing takes the top bits of the product. */
  private shift: number;
  private used: Uint8Array;
  private keys: Float64Array;
  /** Per slot: the order's stock locate, side (0x42 'B' / 0x53 'S'), price and open shares. */
  locate: Uint16Array;
  side: Uint8Array;
  price: Uint32Array;
  shares: Uint32Array;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let c = 16;
    while (c < initialCapacity) c *= 2;
    this.capacity = c;
    this.mask = c - 1;
    this.shift = 32 - Math.log2(c);
    this.used = new Uint8Array(c);
    this.keys = new Float64Array(c);
    this.locate = new Uint16Array(c);
    this.side = new Uint8Array(c);
    this.price = new Uint32Array(c);
    this.shares = new Uint32Array(c);
  }

  /** Slot of `ref`, or -1. */
  find(ref: number): number {
    const used = this.used;
    const keys = this.keys;
    const mask = this.mask;
    let i = hash(ref) >>> this.shift;
    while (used[i] !== 0) {
      if (keys[i] === ref) return i;
      i = (i + 1) & mask;
    }
    return -1;
  }

  /** Insert a new order; returns its slot, or -1 if `ref` is already resting (caller counts it). */
  insert(ref: number, locate: number, side: number, price: number, shares: number): number {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const used = this.used;
    const keys = this.keys;
    const mask = this.mask;
    let i = hash(ref) >>> this.shift;
    while (used[i] !== 0) {
      if (keys[i] === ref) return -1;
      i = (i + 1) & mask;
    }
    used[i] = 1;
    keys[i] = ref;
    this.locate[i] = locate;
    this.side[i] = side;
    this.price[i] = price;
    this.shares[i] = shares;
    this.size++;
    return i;
  }

  /** Remove the order in `slot` (from find/insert). */
  remove(slot: number): void {
    const used = this.used;
    const keys = this.keys;
    const mask = this.mask;
    let hole = slot;
    let i = (slot + 1) & mask;
    // Backward-shift: move later members of the probe run into the hole so lookups never stop early.
    while (used[i] !== 0) {
      const home = hash(keys[i]) >>> this.shift;
      // Move i into hole unless its home lies cyclically in (hole, i].
      const between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!between) {
        keys[hole] = keys[i];
        this.locate[hole] = this.locate[i];
        this.side[hole] = this.side[i];
        this.price[hole] = this.price[i];
        this.shares[hole] = this.shares[i];
        hole = i;
      }
      i = (i + 1) & mask;
    }
    used[hole] = 0;
    keys[hole] = 0;
    this.size--;
  }

  /** Key stored in `slot` (tests and tools). */
  keyAt(slot: number): number { return this.keys[slot]; }

  clear(): void {
    this.used.fill(0);
    this.size = 0;
  }

  /** Visit every resting order (tests, snapshots; not the hot path). */
  forEach(fn: (ref: number, locate: number, side: number, price: number, shares: number) => void): void {
    for (let i = 0; i < this.capacity; i++) {
      if (this.used[i] !== 0) fn(this.keys[i], this.locate[i], this.side[i], this.price[i], this.shares[i]);
    }
  }

  private grow(): void {
    const old = { used: this.used, keys: this.keys, locate: this.locate, side: this.side, price: this.price, shares: this.shares, capacity: this.capacity };
    const c = this.capacity * 2;
    this.capacity = c;
    this.mask = c - 1;
    this.shift = 32 - Math.log2(c);
    this.used = new Uint8Array(c);
    this.keys = new Float64Array(c);
    this.locate = new Uint16Array(c);
    this.side = new Uint8Array(c);
    this.price = new Uint32Array(c);
    this.shares = new Uint32Array(c);
    this.size = 0;
    for (let i = 0; i < old.capacity; i++) {
      if (old.used[i] !== 0) this.insert(old.keys[i], old.locate[i], old.side[i], old.price[i], old.shares[i]);
    }
  }
}

/** Fibonacci hash of both 32-bit halves (callers take the top bits); order references are mostly sequential, this spreads them. */
function hash(ref: number): number {
  const lo = ref >>> 0;
  const hi = (ref / 4294967296) >>> 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
}
