/**
 * One side of a book: aggregated price levels kept sorted with the best level at the END, so the
 * common case (activity at or near the top) inserts and removes with a short shift, and best-price
 * reads are one index. Bids and asks share the code: levels are sorted ascending by a key that is the
 * price for bids and (2^32 - 1 - price) for asks, best = last.
 *
 * Levels live in one Float64Array, [key, shares, orders] per level, so a level is one cache line
 * access rather than one per field (the book benchmark is bound by cache misses, not instructions).
 * Shifts are element loops, not copyWithin: they are a few levels long and a builtin call costs more.
 * Totals are Float64 (a level's shares can exceed 2^32); prices are ITCH Price(4) integers.
 * Single writer: the book builder's thread.
 */
const kMaxPrice = 0xffffffff;
const kStride = 3;

export class PriceLevels {
  readonly isBid: boolean;
  private levels: Float64Array;
  /** Number of levels. */
  count = 0;
  /**
   * The best level, kept in fields so reading the top of book touches this object only, not the
   * levels array (a book builder reads both sides of a book on every top-of-book change).
   * Price 0 and shares 0 when the side is empty (0 is not a valid limit price in ITCH).
   */
  bestPrice = 0;
  bestShares = 0;
  bestOrders = 0;
  /** Whether the last addOrder/reduce changed the best level: only then can the BBO have moved. */
  touchedTop = false;

  constructor(isBid: boolean, initialCapacity = 16) {
    this.isBid = isBid;
    this.levels = new Float64Array(Math.max(1, initialCapacity) * kStride);
  }

  /** Add an order's shares at `price`. */
  addOrder(price: number, shares: number): void {
    const key = this.isBid ? price : kMaxPrice - price;
    const i = this.search(key);
    let l = this.levels;
    const at = i * kStride;
    if (i < this.count && l[at] === key) {
      l[at + 1] += shares;
      l[at + 2] += 1;
    } else {
      if ((this.count + 1) * kStride > l.length) l = this.grow();
      for (let j = this.count * kStride - 1; j >= at; j--) l[j + kStride] = l[j];
      l[at] = key;
      l[at + 1] = shares;
      l[at + 2] = 1;
      this.count++;
    }
    this.touchedTop = i === this.count - 1;
    if (this.touchedTop) this.refreshBest();
  }

  /**
   * Take `shares` off the level at `price`; `removeOrder` also drops one order from its count. The
   * level disappears when it has no orders left. Returns false when there is no such level (a book
   * builder bug or a corrupted order, counted by the caller; the levels are left untouched).
   */
  reduce(price: number, shares: number, removeOrder: boolean): boolean {
    const key = this.isBid ? price : kMaxPrice - price;
    const i = this.search(key);
    const l = this.levels;
    const at = i * kStride;
    if (i >= this.count || l[at] !== key) { this.touchedTop = false; return false; }
    this.touchedTop = i === this.count - 1;
    const left = l[at + 1] - shares;
    const orders = l[at + 2] - (removeOrder ? 1 : 0);
    if (orders <= 0) {
      const end = (this.count - 1) * kStride;
      for (let j = at; j < end; j++) l[j] = l[j + kStride];
      this.count--;
    } else {
      l[at + 1] = left < 0 ? 0 : left;
      l[at + 2] = orders;
    }
    if (this.touchedTop) this.refreshBest();
    return true;
  }

  /** Level `rank` from the best (0 = best). */
  priceAt(rank: number): number { return this.priceOf(this.count - 1 - rank); }
  sharesAt(rank: number): number { return this.levels[(this.count - 1 - rank) * kStride + 1]; }
  ordersAt(rank: number): number { return this.levels[(this.count - 1 - rank) * kStride + 2]; }

  /** Shares resting at `price`, 0 if no level. */
  sharesAtPrice(price: number): number {
    const key = this.isBid ? price : kMaxPrice - price;
    const i = this.search(key);
    return i < this.count && this.levels[i * kStride] === key ? this.levels[i * kStride + 1] : 0;
  }

  /** Copy up to `n` levels from the best into the caller's arrays; returns how many. */
  depth(n: number, prices: Float64Array, shares: Float64Array, orders?: Uint32Array): number {
    const m = Math.min(n, this.count, prices.length, shares.length, orders ? orders.length : Infinity);
    for (let r = 0; r < m; r++) {
      prices[r] = this.priceAt(r);
      shares[r] = this.sharesAt(r);
      if (orders) orders[r] = this.ordersAt(r);
    }
    return m;
  }

  clear(): void { this.count = 0; this.refreshBest(); }

  private refreshBest(): void {
    const n = this.count;
    if (n === 0) { this.bestPrice = this.bestShares = this.bestOrders = 0; return; }
    const l = this.levels;
    const at = (n - 1) * kStride;
    this.bestPrice = this.isBid ? l[at] : kMaxPrice - l[at];
    this.bestShares = l[at + 1];
    this.bestOrders = l[at + 2];
  }

  private priceOf(i: number): number {
    const key = this.levels[i * kStride];
    return this.isBid ? key : kMaxPrice - key;
  }

  /** First index whose key is >= key; checks the best end first (most updates are near the top). */
  private search(key: number): number {
    const l = this.levels;
    let hi = this.count;
    if (hi === 0 || l[(hi - 1) * kStride] < key) return hi;
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (l[mid * kStride] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  private grow(): Float64Array {
    const bigger = new Float64Array(this.levels.length * 2);
    bigger.set(this.levels);
    this.levels = bigger;
    return bigger;
  }
}
