/**
 * Price levels kept sorted in flat typed arrays: the deep part of every side of a LevelStore (the
 * levels too far from the touch for its price-indexed ladder), every side of a FAST book (MOEX
 * ticks are too fine for the ladder), and the whole side before the ladder existed. Applying a
 * change follows no pointers: the side's sizes (`sizes`: region base, capacity, level count, int32)
 * and best level (`meta`), then the levels themselves.
 *
 * A side is `locate * 2` (bids) or `locate * 2 + 1` (asks). Its levels are sorted ascending by a key
 * that is the price for bids and (2^32 - 1 - price) for asks, best LAST, so levels moved in from
 * the ladder (always better than every deep level) are appended at the end, and the best level is
 * one index. A level is its key (`keys`, uint32), shares (`shares`, Float64: a level's total can
 * exceed 2^32) and order count (`orders`, int32), each in its own array at the same index, so the
 * search reads four bytes a level. The sizes are int32 rather than doubles because every level
 * index is computed from them, and index arithmetic on doubles costs a conversion and a check per
 * access. The level calls of perf:fast's session, replayed alone: 93 ns a call with interleaved
 * [key, shares, orders] doubles and sizes in `meta`, 57 with these arrays and the scan below.
 * A side's region starts at 8 levels and doubles when full; outgrown regions are kept on free lists
 * by size and reused. Prices are integers below 2^32 (ITCH Price(4), a FAST feed's price_decimals).
 * Single writer: the book builder's thread.
 */
import type { Levels } from './level-store';

const kMaxPrice = 0xffffffff;
const kInitialLevels = 8;
const kClasses = 32;
/** Levels from the best end that search() scans one by one before halving (see search). */
const kScanLevels = 32;

// Per side in `sizes` (kSizes int32): region base, capacity, level count.
const kBase = 0;
const kCapacity = 1;
const kCount = 2;
const kSizes = 4;
// Per side in `meta`, 8 numbers (one cache line; 0-2 unused):
const kBestPrice = 3;
const kBestShares = 4;
const kBestOrders = 5;
/** Best price and shares as last published in a QUOTE (see takeQuoteChange). */
const kQuotedPrice = 6;
const kQuotedShares = 7;
const kMeta = 8;

export class SortedLevels implements Levels {
  private readonly meta: Float64Array;
  private readonly sizes: Int32Array;
  /** Per level (region base + index): key, shares, orders. */
  private keys: Uint32Array;
  private shares: Float64Array;
  private orders: Int32Array;
  /** Next unused level. */
  private top = 0;
  /** Per capacity class (log2 of levels): first free region's base, -1 when none; a free region's first key holds the next + 1. */
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
    this.sizes = new Int32Array(sides * kSizes);
    const levels = Math.max(kInitialLevels, initialLevels);
    this.keys = new Uint32Array(levels);
    this.shares = new Float64Array(levels);
    this.orders = new Int32Array(levels);
  }

  warmStep(_sides: number): number { return 0; }

  /** Add an order's shares at `price` on `side`. */
  addOrder(side: number, price: number, shares: number): void {
    this.insert(side, price, shares, 1);
    this.touchedTop = this.lastInsertAtTop;
  }

  /**
   * Take `shares` off the level at `price` on `side`; `removeOrder` also drops one order from its
   * count. The level disappears when it has no orders left. Returns false when there is no such level
   * (a book builder bug or a corrupted order, counted by the caller; the levels are left untouched).
   */
  /** No ladder here: never a hint. */
  readonly placedHint = 0;
  reduceAt(side: number, price: number, _hint: number, shares: number, removeOrder: boolean): boolean {
    return this.reduce(side, price, shares, removeOrder);
  }

  reduce(side: number, price: number, shares: number, removeOrder: boolean): boolean {
    const o = side * kMeta;
    const key = (side & 1) === 0 ? price : kMaxPrice - price;
    const count = this.sizes[(o >> 1) + kCount];
    const base = this.sizes[(o >> 1) + kBase];
    const i = this.search(base, count, key);
    const at = base + i;
    if (i >= count || this.keys[at] !== key) { this.touchedTop = false; return false; }
    this.touchedTop = i === count - 1;
    const left = this.shares[at] - shares;
    const orders = this.orders[at] - (removeOrder ? 1 : 0);
    if (orders <= 0) {
      const end = base + count - 1;
      const k = this.keys, sh = this.shares, or = this.orders;
      for (let j = at; j < end; j++) { k[j] = k[j + 1]; sh[j] = sh[j + 1]; or[j] = or[j + 1]; }
      this.sizes[(o >> 1) + kCount] = count - 1;
    } else {
      this.shares[at] = left < 0 ? 0 : left;
      this.orders[at] = orders;
    }
    if (this.touchedTop) this.refreshBest(o);
    return true;
  }

  /**
   * Insert a whole level (`orders` orders, `shares` shares) at `price`, merged into an existing one.
   * The ladder moves levels in and out with it; a level better than every other is appended.
   */
  putLevel(side: number, price: number, shares: number, orders: number): void {
    this.insert(side, price, shares, orders);
  }

  /** Add shares and orders at `price`, a new level if none; lastInsertAtTop says whether it was the best. */
  private lastInsertAtTop = false;
  private insert(side: number, price: number, shares: number, orders: number): void {
    const o = side * kMeta;
    const key = (side & 1) === 0 ? price : kMaxPrice - price;
    const count = this.sizes[(o >> 1) + kCount];
    let base = this.sizes[(o >> 1) + kBase];
    const i = this.search(base, count, key);
    if (i < count && this.keys[base + i] === key) {
      const at = base + i;
      this.shares[at] += shares;
      this.orders[at] += orders;
    } else {
      if (count === this.sizes[(o >> 1) + kCapacity]) base = this.growSide(o);
      const at = base + i;
      const k = this.keys, sh = this.shares, or = this.orders;
      for (let j = base + count - 1; j >= at; j--) { k[j + 1] = k[j]; sh[j + 1] = sh[j]; or[j + 1] = or[j]; }
      k[at] = key;
      sh[at] = shares;
      or[at] = orders;
      this.sizes[(o >> 1) + kCount] = count + 1;
    }
    this.lastInsertAtTop = i === this.sizes[(o >> 1) + kCount] - 1;
    if (this.lastInsertAtTop) this.refreshBest(o);
  }

  /** Remove the best level of a non-empty `side`; its price, shares and orders are left in taken*. */
  takeBest(side: number): void {
    const o = side * kMeta;
    const count = this.sizes[(o >> 1) + kCount];
    const at = this.sizes[(o >> 1) + kBase] + count - 1;
    const key = this.keys[at];
    this.takenPrice = (side & 1) === 0 ? key : kMaxPrice - key;
    this.takenShares = this.shares[at];
    this.takenOrders = this.orders[at];
    this.sizes[(o >> 1) + kCount] = count - 1;
    this.refreshBest(o);
  }

  count(side: number): number { return this.sizes[side * kSizes + kCount]; }
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
    const key = this.keys[this.sizes[(o >> 1) + kBase] + this.sizes[(o >> 1) + kCount] - 1 - rank];
    return (side & 1) === 0 ? key : kMaxPrice - key;
  }

  sharesAt(side: number, rank: number): number {
    const o = side * kMeta;
    return this.shares[this.sizes[(o >> 1) + kBase] + this.sizes[(o >> 1) + kCount] - 1 - rank];
  }

  ordersAt(side: number, rank: number): number {
    const o = side * kMeta;
    return this.orders[this.sizes[(o >> 1) + kBase] + this.sizes[(o >> 1) + kCount] - 1 - rank];
  }

  /** Shares resting at `price` on `side`, 0 if no level. */
  sharesAtPrice(side: number, price: number): number {
    const o = side * kMeta;
    const key = (side & 1) === 0 ? price : kMaxPrice - price;
    const base = this.sizes[(o >> 1) + kBase];
    const count = this.sizes[(o >> 1) + kCount];
    const i = this.search(base, count, key);
    return i < count && this.keys[base + i] === key ? this.shares[base + i] : 0;
  }

  /** Empty `side` (its region is kept). */
  clear(side: number): void {
    this.sizes[side * kSizes + kCount] = 0;
    this.refreshBest(side * kMeta);
  }

  private refreshBest(o: number): void {
    const m = this.meta;
    const n = this.sizes[(o >> 1) + kCount];
    if (n === 0) { m[o + kBestPrice] = m[o + kBestShares] = m[o + kBestOrders] = 0; return; }
    const at = this.sizes[(o >> 1) + kBase] + n - 1;
    const key = this.keys[at];
    m[o + kBestPrice] = (o & kMeta) === 0 ? key : kMaxPrice - key; // o = side * 8: bit 3 is the side's parity
    m[o + kBestShares] = this.shares[at];
    m[o + kBestOrders] = this.orders[at];
  }

  /**
   * First index in [0, count) whose key is >= key. The last kScanLevels levels (the best ones, where
   * most updates land) are scanned linearly from the best end, and only a deeper key is searched by
   * halves: in a side of a dozen levels the halving's branches are each a coin toss the CPU cannot
   * predict, while the scan's branch is taken until the one exit (an insert then moves exactly the
   * levels the scan passed). perf:fast's FAST books keep 12-20 levels a side: scanning 32 rather than 8
   * took a tenth off the replayed level calls. A deep part of hundreds of levels is still halved.
   */
  private search(base: number, count: number, key: number): number {
    const k = this.keys;
    let i = count;
    const stop = count > kScanLevels ? count - kScanLevels : 0;
    while (i > stop && k[base + i - 1] >= key) i--;
    if (i > stop || i === 0) return i;
    let lo = 0;
    let hi = stop;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (k[base + mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Give the side at meta offset `o` a region twice its size (8 levels the first time); returns its base. */
  private growSide(o: number): number {
    const oldCapacity = this.sizes[(o >> 1) + kCapacity];
    const capacity = oldCapacity === 0 ? kInitialLevels : oldCapacity * 2;
    const base = this.takeRegion(capacity);
    const oldBase = this.sizes[(o >> 1) + kBase];
    const n = this.sizes[(o >> 1) + kCount];
    this.keys.copyWithin(base, oldBase, oldBase + n);
    this.shares.copyWithin(base, oldBase, oldBase + n);
    this.orders.copyWithin(base, oldBase, oldBase + n);
    if (oldCapacity > 0) this.freeRegion(oldBase, oldCapacity);
    this.sizes[(o >> 1) + kBase] = base;
    this.sizes[(o >> 1) + kCapacity] = capacity;
    return base;
  }

  private takeRegion(capacity: number): number {
    const c = Math.log2(capacity);
    const free = this.freeRegions[c];
    if (free >= 0) {
      this.freeRegions[c] = this.keys[free] - 1;
      return free;
    }
    if (this.top + capacity > this.keys.length) {
      // Rare: double the arena (start-up sizing covers a day's books; bases stay valid).
      let length = this.keys.length * 2;
      while (this.top + capacity > length) length *= 2;
      const keys = new Uint32Array(length); keys.set(this.keys); this.keys = keys;
      const shares = new Float64Array(length); shares.set(this.shares); this.shares = shares;
      const orders = new Int32Array(length); orders.set(this.orders); this.orders = orders;
    }
    const base = this.top;
    this.top += capacity;
    return base;
  }

  private freeRegion(base: number, capacity: number): void {
    const c = Math.log2(capacity);
    this.keys[base] = this.freeRegions[c] + 1;
    this.freeRegions[c] = base;
  }
}
