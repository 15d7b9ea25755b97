/**
 * One side of a book: aggregated price levels kept sorted in typed arrays with the best level at the
 * END, so the common case (activity at or near the top) inserts and removes with a short
 * copyWithin, and best-price reads are one index. Bids and asks share the code: levels are sorted by
 * a key that is the price for bids and (2^32 - 1 - price) for asks, ascending, best = last.
 *
 * Totals are Float64 (a level's shares can exceed 2^32); prices are ITCH Price(4) integers.
 * Single writer: the book builder's thread.
 */
const kMaxPrice = 0xffffffff;

export class PriceLevels {
  readonly isBid: boolean;
  private keys: Float64Array;
  private shares: Float64Array;
  private orders: Uint32Array;
  /** Number of levels. */
  count = 0;

  constructor(isBid: boolean, initialCapacity = 16) {
    this.isBid = isBid;
    this.keys = new Float64Array(initialCapacity);
    this.shares = new Float64Array(initialCapacity);
    this.orders = new Uint32Array(initialCapacity);
  }

  /** Best price, or 0 when the side is empty (0 is not a valid limit price in ITCH). */
  get bestPrice(): number {
    return this.count === 0 ? 0 : this.priceOf(this.count - 1);
  }

  get bestShares(): number {
    return this.count === 0 ? 0 : this.shares[this.count - 1];
  }

  get bestOrders(): number {
    return this.count === 0 ? 0 : this.orders[this.count - 1];
  }

  /** Add an order's shares at `price`. */
  addOrder(price: number, shares: number): void {
    const key = this.isBid ? price : kMaxPrice - price;
    const i = this.search(key);
    if (i < this.count && this.keys[i] === key) {
      this.shares[i] += shares;
      this.orders[i]++;
      return;
    }
    if (this.count === this.keys.length) this.grow();
    // Element loops, not copyWithin: shifts are a few levels (activity is near the top, which is the
    // end) and three builtin calls cost more than the moves.
    const keys = this.keys; const sh = this.shares; const ord = this.orders;
    for (let j = this.count; j > i; j--) { keys[j] = keys[j - 1]; sh[j] = sh[j - 1]; ord[j] = ord[j - 1]; }
    this.keys[i] = key;
    this.shares[i] = shares;
    this.orders[i] = 1;
    this.count++;
  }

  /**
   * Take `shares` off the level at `price`; `removeOrder` also drops one order from its count. The
   * level disappears when it has no orders left. Returns false when there is no such level (a book
   * builder bug or a corrupted order, counted by the caller; the levels are left untouched).
   */
  reduce(price: number, shares: number, removeOrder: boolean): boolean {
    const key = this.isBid ? price : kMaxPrice - price;
    const i = this.search(key);
    if (i >= this.count || this.keys[i] !== key) return false;
    const left = this.shares[i] - shares;
    const orders = this.orders[i] - (removeOrder ? 1 : 0);
    if (orders <= 0) {
      const keys = this.keys; const sh = this.shares; const ord = this.orders;
      const last = this.count - 1;
      for (let j = i; j < last; j++) { keys[j] = keys[j + 1]; sh[j] = sh[j + 1]; ord[j] = ord[j + 1]; }
      this.count = last;
      return true;
    }
    this.shares[i] = left < 0 ? 0 : left;
    this.orders[i] = orders;
    return true;
  }

  /** Level `rank` from the best (0 = best). */
  priceAt(rank: number): number { return this.priceOf(this.count - 1 - rank); }
  sharesAt(rank: number): number { return this.shares[this.count - 1 - rank]; }
  ordersAt(rank: number): number { return this.orders[this.count - 1 - rank]; }

  /** Shares resting at `price`, 0 if no level. */
  sharesAtPrice(price: number): number {
    const key = this.isBid ? price : kMaxPrice - price;
    const i = this.search(key);
    return i < this.count && this.keys[i] === key ? this.shares[i] : 0;
  }

  /** Copy up to `n` levels from the best into the caller's arrays; returns how many. */
  depth(n: number, prices: Float64Array, shares: Float64Array, orders?: Uint32Array): number {
    const m = Math.min(n, this.count, prices.length, shares.length);
    for (let r = 0; r < m; r++) {
      const i = this.count - 1 - r;
      prices[r] = this.priceOf(i);
      shares[r] = this.shares[i];
      if (orders) orders[r] = this.orders[i];
    }
    return m;
  }

  clear(): void { this.count = 0; }

  private priceOf(i: number): number {
    return this.isBid ? this.keys[i] : kMaxPrice - this.keys[i];
  }

  /** First index whose key is >= key, searching from the best end first (most updates are near the top). */
  private search(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.count;
    // Fast path: at or above the current best.
    if (hi > 0 && keys[hi - 1] < key) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    const k = new Float64Array(n); k.set(this.keys); this.keys = k;
    const s = new Float64Array(n); s.set(this.shares); this.shares = s;
    const o = new Uint32Array(n); o.set(this.orders); this.orders = o;
  }
}
