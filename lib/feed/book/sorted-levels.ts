/**
 * Price levels kept sorted in flat typed arrays: the deep part of every side of a LevelStore (the
 * levels too far from the touch for its price-indexed ladder), and the whole side before the
 * ladder existed. Applying a change touches few cache lines and follows no pointers: the side's
 * record in `meta` (its region, level count, best level), then the level itself in `data`.
 *
 * A side is `locate * 2` (bids) or `locate * 2 + 1` (asks). Its levels are sorted ascending by a key
 * that is the price for bids and (2^32 - 1 - price) for asks, best LAST, so levels moved in from
 * the ladder (always better than every deep level) are appended at the end, and the best level is
 * one index; [key, shares, orders] per level. A side's region starts at 8 levels and doubles when
 * full; outgrown regions are kept on free lists by size and reused. Totals are Float64 (a level's
 * shares can exceed 2^32); prices are ITCH Price(4) integers.
 * Single writer: the book builder's thread.
 */
import type { Levels } from './level-store';

const kMaxPrice = 0xffffffff;
const kLevel = 3;
const kInitialLevels = 8;
const kClasses = 32;
/** Levels from the best end that search() scans one by one before halving (see search). */
const kScanLevels = 8;

// Per side, 8 numbers (one cache line):
const kBase = 0;
const kCapacity = 1;
const kCount = 2;
const kBestPrice = 3;
const kBestShares = 4;
const kBestOrders = 5;
/** Best price and shares as last published in a QUOTE (see takeQuoteChange). */
const kQuotedPrice = 6;
const kQuotedShares = 7;
const kMeta = 8;

export class SortedLevels implements Levels {
  private readonly meta: Float64Array;
  private data: Float64Array;
  /** Next unused level in `data`. */
  private top = 0;
  /** Per capacity class (log2 of levels): first free region's base, -1 when none; a free region's first key holds the next. */
  private readonly freeRegions = new Int32Array(kClasses).fill(-1);
  /** Whether the last addOrder/reduce changed its side's best level: only then can the BBO have moved. */
  touchedTop = false;
  /** The level takeBest removed. */
  takenPrice = 0;
  takenShares = 0;
  takenOrders = 0;

  /** `sides`: 2 per stock locate the store may see (131072 for every locate). */
  constructor(sides: number, initialLevels = 1 << 16) {
    this.meta = new Float64Array(sides * kMeta);
    this.data = new Float64Array(Math.max(kInitialLevels, initialLevels) * kLevel);
  }

  /** Add an order's shares at `price` on `side`. */
  addOrder(side: number, price: number, shares: number): void {
    const m = this.meta;
    const o = side * kMeta;
    const key = (side & 1) === 0 ? price : kMaxPrice - price;
    const count = m[o + kCount];
    let base = m[o + kBase];
    const i = this.search(base, count, key);
    let d = this.data;
    if (i < count && d[(base + i) * kLevel] === key) {
      const at = (base + i) * kLevel;
      d[at + 1] += shares;
      d[at + 2] += 1;
    } else {
      if (count === m[o + kCapacity]) {
        base = this.growSide(o);
        d = this.data;
      }
      const at = (base + i) * kLevel;
      for (let j = (base + count) * kLevel - 1; j >= at; j--) d[j + kLevel] = d[j];
      d[at] = key;
      d[at + 1] = shares;
      d[at + 2] = 1;
      m[o + kCount] = count + 1;
    }
    this.touchedTop = i === m[o + kCount] - 1;
    if (this.touchedTop) this.refreshBest(o);
  }

  /**
   * Take `shares` off the level at `price` on `side`; `removeOrder` also drops one order from its
   * count. The level disappears when it has no orders left. Returns false when there is no such level
   * (a book builder bug or a corrupted order, counted by the caller; the levels are left untouched).
   */
  reduce(side: number, price: number, shares: number, removeOrder: boolean): boolean {
    const m = this.meta;
    const o = side * kMeta;
    const key = (side & 1) === 0 ? price : kMaxPrice - price;
    const count = m[o + kCount];
    const base = m[o + kBase];
    const i = this.search(base, count, key);
    const d = this.data;
    const at = (base + i) * kLevel;
    if (i >= count || d[at] !== key) { this.touchedTop = false; return false; }
    this.touchedTop = i === count - 1;
    const left = d[at + 1] - shares;
    const orders = d[at + 2] - (removeOrder ? 1 : 0);
    if (orders <= 0) {
      const end = (base + count - 1) * kLevel;
      for (let j = at; j < end; j++) d[j] = d[j + kLevel];
      m[o + kCount] = count - 1;
    } else {
      d[at + 1] = left < 0 ? 0 : left;
      d[at + 2] = orders;
    }
    if (this.touchedTop) this.refreshBest(o);
    return true;
  }

  /**
   * Insert a whole level (`orders` orders, `shares` shares) at `price`, merged into an existing one.
   * The ladder moves levels in and out with it; a level better than every other is appended.
   */
  putLevel(side: number, price: number, shares: number, orders: number): void {
    const m = this.meta;
    const o = side * kMeta;
    const key = (side & 1) === 0 ? price : kMaxPrice - price;
    const count = m[o + kCount];
    let base = m[o + kBase];
    const i = this.search(base, count, key);
    let d = this.data;
    if (i < count && d[(base + i) * kLevel] === key) {
      const at = (base + i) * kLevel;
      d[at + 1] += shares;
      d[at + 2] += orders;
    } else {
      if (count === m[o + kCapacity]) {
        base = this.growSide(o);
        d = this.data;
      }
      const at = (base + i) * kLevel;
      for (let j = (base + count) * kLevel - 1; j >= at; j--) d[j + kLevel] = d[j];
      d[at] = key;
      d[at + 1] = shares;
      d[at + 2] = orders;
      m[o + kCount] = count + 1;
    }
    if (i === m[o + kCount] - 1) this.refreshBest(o);
  }

  /** Remove the best level of a non-empty `side`; its price, shares and orders are left in taken*. */
  takeBest(side: number): void {
    const m = this.meta;
    const o = side * kMeta;
    const count = m[o + kCount];
    const at = (m[o + kBase] + count - 1) * kLevel;
    const key = this.data[at];
    this.takenPrice = (side & 1) === 0 ? key : kMaxPrice - key;
    this.takenShares = this.data[at + 1];
    this.takenOrders = this.data[at + 2];
    m[o + kCount] = count - 1;
    this.refreshBest(o);
  }

  count(side: number): number { return this.meta[side * kMeta + kCount]; }
  /** Best price, or 0 when the side is empty (0 is not a valid limit price in ITCH). */
  bestPrice(side: number): number { return this.meta[side * kMeta + kBestPrice]; }
  bestShares(side: number): number { return this.meta[side * kMeta + kBestShares]; }
  bestOrders(side: number): number { return this.meta[side * kMeta + kBestOrders]; }
  quotedPrice(side: number): number { return this.meta[side * kMeta + kQuotedPrice]; }
  quotedShares(side: number): number { return this.meta[side * kMeta + kQuotedShares]; }

  /**
   * True when the BBO of the book whose bid side is `bidSide` differs from the one last published;
   * records it as published. Reads the two sides' meta lines only.
   */
  takeQuoteChange(bidSide: number): boolean {
    const m = this.meta;
    const b = bidSide * kMeta;
    const a = b + kMeta;
    if (m[b + kBestPrice] === m[b + kQuotedPrice] && m[b + kBestShares] === m[b + kQuotedShares]
      && m[a + kBestPrice] === m[a + kQuotedPrice] && m[a + kBestShares] === m[a + kQuotedShares]) return false;
    m[b + kQuotedPrice] = m[b + kBestPrice]; m[b + kQuotedShares] = m[b + kBestShares];
    m[a + kQuotedPrice] = m[a + kBestPrice]; m[a + kQuotedShares] = m[a + kBestShares];
    return true;
  }

  /** Level `rank` from the best (0 = best) of `side`. */
  priceAt(side: number, rank: number): number {
    const o = side * kMeta;
    const key = this.data[(this.meta[o + kBase] + this.meta[o + kCount] - 1 - rank) * kLevel];
    return (side & 1) === 0 ? key : kMaxPrice - key;
  }

  sharesAt(side: number, rank: number): number {
    const o = side * kMeta;
    return this.data[(this.meta[o + kBase] + this.meta[o + kCount] - 1 - rank) * kLevel + 1];
  }

  ordersAt(side: number, rank: number): number {
    const o = side * kMeta;
    return this.data[(this.meta[o + kBase] + this.meta[o + kCount] - 1 - rank) * kLevel + 2];
  }

  /** Shares resting at `price` on `side`, 0 if no level. */
  sharesAtPrice(side: number, price: number): number {
    const o = side * kMeta;
    const key = (side & 1) === 0 ? price : kMaxPrice - price;
    const base = this.meta[o + kBase];
    const count = this.meta[o + kCount];
    const i = this.search(base, count, key);
    return i < count && this.data[(base + i) * kLevel] === key ? this.data[(base + i) * kLevel + 1] : 0;
  }

  /** Empty `side` (its region is kept). */
  clear(side: number): void {
    this.meta[side * kMeta + kCount] = 0;
    this.refreshBest(side * kMeta);
  }

  private refreshBest(o: number): void {
    const m = this.meta;
    const n = m[o + kCount];
    if (n === 0) { m[o + kBestPrice] = m[o + kBestShares] = m[o + kBestOrders] = 0; return; }
    const at = (m[o + kBase] + n - 1) * kLevel;
    const key = this.data[at];
    m[o + kBestPrice] = (o & kMeta) === 0 ? key : kMaxPrice - key; // o = side * 8: bit 3 is the side's parity
    m[o + kBestShares] = this.data[at + 1];
    m[o + kBestOrders] = this.data[at + 2];
  }

  /**
   * First index in [0, count) whose key is >= key. The last kScanLevels levels (the best ones, where
   * most updates land) are scanned linearly from the best end, and only a deeper key is searched by
   * halves: in a side of a dozen levels the halving's branches are each a coin toss the CPU cannot
   * predict, while the scan's branch is taken until the one exit (an insert then moves exactly the
   * levels the scan passed). perf:fast (FAST books are all sorted levels): levels per side about 16.
   */
  private search(base: number, count: number, key: number): number {
    const d = this.data;
    let i = count;
    const stop = count > kScanLevels ? count - kScanLevels : 0;
    while (i > stop && d[(base + i - 1) * kLevel] >= key) i--;
    if (i > stop || i === 0) return i;
    let lo = 0;
    let hi = stop;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (d[(base + mid) * kLevel] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Give the side at meta offset `o` a region twice its size (8 levels the first time); returns its base. */
  private growSide(o: number): number {
    const m = this.meta;
    const oldCapacity = m[o + kCapacity];
    const capacity = oldCapacity === 0 ? kInitialLevels : oldCapacity * 2;
    const base = this.takeRegion(capacity);
    const oldBase = m[o + kBase];
    const d = this.data;
    const n = m[o + kCount] * kLevel;
    for (let j = 0; j < n; j++) d[base * kLevel + j] = d[oldBase * kLevel + j];
    if (oldCapacity > 0) this.freeRegion(oldBase, oldCapacity);
    m[o + kBase] = base;
    m[o + kCapacity] = capacity;
    return base;
  }

  private takeRegion(capacity: number): number {
    const c = Math.log2(capacity);
    const free = this.freeRegions[c];
    if (free >= 0) {
      this.freeRegions[c] = this.data[free * kLevel];
      return free;
    }
    if ((this.top + capacity) * kLevel > this.data.length) {
      // Rare: double the arena (start-up sizing covers a day's books; bases stay valid).
      let length = this.data.length * 2;
      while ((this.top + capacity) * kLevel > length) length *= 2;
      const bigger = new Float64Array(length);
      bigger.set(this.data);
      this.data = bigger;
    }
    const base = this.top;
    this.top += capacity;
    return base;
  }

  private freeRegion(base: number, capacity: number): void {
    const c = Math.log2(capacity);
    this.data[base * kLevel] = this.freeRegions[c];
    this.freeRegions[c] = base;
  }
}
