/**
 * Every price level of every book of one builder: per side, a ladder indexed by price around the
 * touch, and the levels further away kept sorted in a SortedLevels (the deep part).
 *
 * Why: nearly every order message lands within a few ticks of the best price. With the levels
 * kept sorted, each add or removal was a binary search with unpredictable branches plus a shift of
 * the levels behind it, about 55 ns per level change on the generated session (two thirds of the
 * book builder's cost). On the ladder, the level of a price is one index: `(price / tick) -
 * origin` for bids, `origin - price / tick` for asks, so a better price has a higher index on both
 * sides, and the best level is the highest occupied index. A bitmap of occupied slots finds the
 * next best in one or two `Math.clz32` when the best level empties.
 *
 * - A side's ladder is kLadderSlots slots of [shares, orders] (16 bytes, four neighbouring prices
 *   to a cache line), its region taken from one arena the first time the side gets an order.
 * - Tick: a side's first order sets it: 100 (one cent in Price(4)) when its price is a whole
 *   number of cents, else 1. A later price that is not a multiple of it turns the side to tick 1,
 *   every level re-placed (rare: sub-penny prices are for stocks under $1). With `{ tick: 'gcd' }`
 *   (feeds whose ticks are not a power of ten of the price scale, e.g. MOEX's 0.0025 at 5
 *   decimals) the tick is the greatest common divisor of the side's prices so far instead: the
 *   first price, then gcd(tick, price) for a price off the tick (levels re-placed), kept when the
 *   side empties; a few re-ticks per side and it is the instrument's real tick.
 * - Invariant: every level whose index falls in [0, kLadderSlots) is in the ladder, every level
 *   below index 0 is in the deep part, none is above the ladder; so when the side has levels its
 *   best is the ladder's best. Re-centering (moving the origin so the best sits kHeadroom slots
 *   below the top) keeps it: on an add better than the ladder's top, when the ladder empties while
 *   deep levels remain, and when the best has fallen into the bottom quarter with deep levels
 *   below it. Levels leaving the ladder at the bottom are better than every deep level, so the
 *   deep part appends them; levels coming back leave from its best end.
 *
 * Slots stay 16 bytes: 8-byte slots (two Uint32 words, a level of 2^32 shares or more held wide in
 * a side table) were measured side by side and came out within the noise for both ITCH and FAST
 * (fast-book-adapter.ts records the figures). addOrder divides the price by the tick on the way to
 * the slot (a sixth of the FAST add's samples sit on that division and the meta load before it);
 * multiplying by a per-side 1 / tick (a side array, `Math.round` and a multiply back for the whole-
 * tick test) instead came out even on perf:fast's session, old and new builds alternated in one
 * process (load 5.3): per-round new/old ratio 1.014 (new lower in 4 of 10), and 0.995 the other way
 * round; not kept.
 *
 * Per side, one cache line of meta: origin, tick, best index, level count, best price and shares,
 * and the last published quote (see takeQuoteChange). Totals are Float64 (a level's shares can
 * exceed 2^32); prices are ITCH Price(4) integers. A side is `locate * 2` (bids) or `locate * 2 + 1`
 * (asks). Single writer: the book builder's thread.
 */
import { SortedLevels } from './sorted-levels';

/** Slots per side's ladder (a multiple of 32: the occupancy bitmap is 32-bit words). */
export const kLadderSlots = 64;
const kWordsPerSide = kLadderSlots / 32;
/** Slots left above the best after a re-centre, room for the best to improve in place. */
const kHeadroom = 16;
/** Re-centre downwards when the best falls below this index and deep levels remain. */
const kLowWater = kLadderSlots / 4;
const kSlot = 2; // [shares, orders]

// Per side, 8 numbers (one cache line):
const kOrigin = 0;
/** 0 until the side's first order. */
const kTick = 1;
/** Highest occupied ladder index, -1 when the side is empty. */
const kBestIndex = 2;
const kCount = 3;
const kBestPrice = 4;
const kBestShares = 5;
/** Best price and shares as last published in a QUOTE (see takeQuoteChange). */
const kQuotedPrice = 6;
const kQuotedShares = 7;
const kMeta = 8;

/**
 * What books, their sides and the builder use of a level store: LevelStore (the ladder) or
 * SortedLevels (the sorted baseline perf:book measures beside it).
 */
export interface Levels {
  /** Whether the last addOrder/reduce changed its side's best level. */
  readonly touchedTop: boolean;
  /** After addOrder: where the level sits (1 + ladder index), 0 for none; the order keeps it for reduceAt. */
  readonly placedHint: number;
  addOrder(side: number, price: number, shares: number): void;
  reduce(side: number, price: number, shares: number, removeOrder: boolean): boolean;
  /** reduce() of a resting order's level, with the hint placedHint gave when the order was added (0: none). */
  reduceAt(side: number, price: number, hint: number, shares: number, removeOrder: boolean): boolean;
  count(side: number): number;
  bestPrice(side: number): number;
  bestShares(side: number): number;
  bestOrders(side: number): number;
  quotedPrice(side: number): number;
  quotedShares(side: number): number;
  takeQuoteChange(bidSide: number): boolean;
  /**
   * One slice of the idle warm walk: loads the meta line and the ladder lines of the best levels of
   * up to `sides` sides that have levels, from where the last slice stopped (BookBuilder.warmStep).
   * Read-only (but for the walk's own cursor); returns a number to sink.
   */
  warmStep(sides: number): number;
  priceAt(side: number, rank: number): number;
  sharesAt(side: number, rank: number): number;
  ordersAt(side: number, rank: number): number;
  sharesAtPrice(side: number, price: number): number;
  clear(side: number): void;
}

export class LevelStore implements Levels {
  /** Whether the last addOrder/reduce changed its side's best level: only then can the BBO have moved. */
  touchedTop = false;
  /**
   * After addOrder: 1 + the ladder index the order's level took, 0 when it went deep. The order
   * table keeps it in the order's record; reduceAt checks it against the price (one multiply:
   * `(origin ± index) * tick === price`, exact for the integer prices and ticks here) instead of
   * dividing the price by the tick, which sat on a delete's chain of dependent loads right after
   * the order's record (the record, then the level's index, then the level's slot). A re-centre or
   * re-tick moves levels and makes the hint fail the check, never point at the wrong level: the
   * ladder's index and price are one-to-one for a given origin and tick.
   */
  placedHint = 0;
  private readonly meta: Float64Array;
  /** Per side: its ladder region, -1 before its first order. */
  private readonly regionOf: Int32Array;
  /** Ladder slots, kLadderSlots * kSlot numbers per region. */
  private slots: Float64Array;
  /** Occupancy bitmap, kWordsPerSide words per region (bit i of word w: index w * 32 + i). */
  private bits: Int32Array;
  private regions = 0;
  /** Per region: its side (the idle warm walk visits the sides that have levels). */
  private regionSides = new Int32Array(1024);
  private warmCursor = 0;
  private readonly deep: SortedLevels;
  /** Levels in transit while a side is re-centred or re-ticked: [price, shares, orders] each. */
  private moving = new Float64Array(kLadderSlots * 3);

  /** `sides`: 2 per stock locate the store may see (131072 for every locate); `initialLevels` sizes the deep part. */
  /** Ticks from the gcd of a side's prices (options.tick 'gcd') rather than cent-or-1. */
  private readonly gcdTicks: boolean;

  constructor(sides: number, initialLevels = 1 << 12, options: { tick?: 'cent' | 'gcd' } = {}) {
    this.gcdTicks = options.tick === 'gcd';
    // A side's best index is set to -1 with its first order: the meta of locates never seen stays
    // untouched (zero pages never faulted in), and its tick 0 sends every add to the slow path.
    this.meta = new Float64Array(sides * kMeta);
    this.regionOf = new Int32Array(sides).fill(-1);
    // Room for 1024 sides' ladders (1 MiB) before the arena first doubles.
    const regions = Math.min(sides, 1024);
    this.slots = new Float64Array(regions * kLadderSlots * kSlot);
    this.bits = new Int32Array(regions * kWordsPerSide);
    this.deep = new SortedLevels(sides, initialLevels);
  }

  /** Add an order's shares at `price` on `side`. */
  addOrder(side: number, price: number, shares: number): void {
    const m = this.meta;
    const o = side * kMeta;
    const t = price / m[o + kTick];
    const index = (side & 1) === 0 ? t - m[o + kOrigin] : m[o + kOrigin] - t;
    // One test covers in the ladder, a whole tick, and a side that has a ladder (tick 0 gives NaN or Infinity).
    if (index >= 0 && index < kLadderSlots && t === Math.floor(t)) {
      const at = (this.regionOf[side] * kLadderSlots + index) * kSlot;
      const s = this.slots;
      this.placedHint = index + 1;
      s[at] += shares;
      if (s[at + 1]++ === 0) {
        this.bits[this.regionOf[side] * kWordsPerSide + (index >>> 5)] |= 1 << (index & 31);
        m[o + kCount]++;
      }
      if (index >= m[o + kBestIndex]) {
        this.touchedTop = true;
        m[o + kBestIndex] = index;
        m[o + kBestPrice] = price;
        m[o + kBestShares] = s[at];
      } else {
        this.touchedTop = false;
      }
      return;
    }
    this.addOrderSlow(side, price, shares);
  }

  /**
   * Take `shares` off the level at `price` on `side`; `removeOrder` also drops one order from its
   * count. The level disappears when it has no orders left. Returns false when there is no such level
   * (a book builder bug or a corrupted order, counted by the caller; the levels are left untouched).
   */
  reduce(side: number, price: number, shares: number, removeOrder: boolean): boolean {
    return this.reduceAt(side, price, 0, shares, removeOrder);
  }

  /**
   * reduce() with the order's placedHint (0: none): a hint that still names `price`'s slot spares the
   * division. Only the common cases are here (the hint holds, and the level keeps orders or empties
   * without being its side's best); the rest (no hint or a stale one, a deep level, the best level
   * emptied, a missing level) is reduceAtSlow, which starts over. Why: TurboFan inlines a callee into
   * an optimized caller only while the caller's cumulative budget (920 bytes of bytecode) lasts, and
   * counts a callee that has optimized code of its own at its bytecode plus everything inlined into
   * that code. With the removal, the best-level search and the re-centre reachable from here,
   * reduceAt counted 1107 bytes and was a call from every order path; with no callee of its own
   * (reduceAtSlow is above TurboFan's 460-byte limit for inlining one function) it counts its own
   * bytecode only and fits into a caller's delete path.
   */
  reduceAt(side: number, price: number, hint: number, shares: number, removeOrder: boolean): boolean {
    const m = this.meta;
    const o = side * kMeta;
    const index = hint - 1;
    if (hint !== 0 && ((side & 1) === 0 ? m[o + kOrigin] + index : m[o + kOrigin] - index) * m[o + kTick] === price) {
      const at = (this.regionOf[side] * kLadderSlots + index) * kSlot;
      const s = this.slots;
      const orders = s[at + 1] - (removeOrder ? 1 : 0);
      const best = index === m[o + kBestIndex];
      if (orders > 0) {
        const left = s[at] - shares;
        s[at] = left < 0 ? 0 : left;
        s[at + 1] = orders;
        this.touchedTop = best;
        if (best) m[o + kBestShares] = s[at];
        return true;
      }
      if (!best && s[at + 1] !== 0) {
        // The level's last order, below the best: the best and the quote stay.
        s[at] = 0;
        s[at + 1] = 0;
        this.bits[this.regionOf[side] * kWordsPerSide + (index >>> 5)] &= ~(1 << (index & 31));
        m[o + kCount]--;
        this.touchedTop = false;
        return true;
      }
    }
    return this.reduceAtSlow(side, price, hint, shares, removeOrder);
  }

  /**
   * reduceAt() from the start, every case: the hint checked again (0 or stale: the index from the
   * price), a deep level, and the level's removal with its side's next best (the removal written
   * here, not a call, so this function stays one that TurboFan does not inline: see reduceAt).
   */
  private reduceAtSlow(side: number, price: number, hint: number, shares: number, removeOrder: boolean): boolean {
    const m = this.meta;
    const o = side * kMeta;
    let index = hint - 1;
    if (hint === 0 || ((side & 1) === 0 ? m[o + kOrigin] + index : m[o + kOrigin] - index) * m[o + kTick] !== price) {
      const t = price / m[o + kTick];
      index = (side & 1) === 0 ? t - m[o + kOrigin] : m[o + kOrigin] - t;
      if (!(index >= 0 && index < kLadderSlots && t === Math.floor(t))) return this.reduceDeep(side, price, shares, removeOrder);
    }
    const at = (this.regionOf[side] * kLadderSlots + index) * kSlot;
    const s = this.slots;
    const orders = s[at + 1] - (removeOrder ? 1 : 0);
    const best = index === m[o + kBestIndex];
    if (orders > 0) {
      const left = s[at] - shares;
      s[at] = left < 0 ? 0 : left;
      s[at + 1] = orders;
      this.touchedTop = best;
      if (best) m[o + kBestShares] = s[at];
      return true;
    }
    // The level's last order (or no level at all: false, nothing changed).
    if (s[at + 1] === 0) { this.touchedTop = false; return false; }
    this.touchedTop = best;
    s[at] = 0;
    s[at + 1] = 0;
    this.bits[this.regionOf[side] * kWordsPerSide + (index >>> 5)] &= ~(1 << (index & 31));
    m[o + kCount]--;
    if (best) this.bestRemoved(side, index);
    return true;
  }

  count(side: number): number { return this.meta[side * kMeta + kCount]; }
  /** Best price, or 0 when the side is empty (0 is not a valid limit price in ITCH). */
  bestPrice(side: number): number { return this.meta[side * kMeta + kBestPrice]; }
  bestShares(side: number): number { return this.meta[side * kMeta + kBestShares]; }
  bestOrders(side: number): number {
    const best = this.meta[side * kMeta + kBestIndex];
    return best < 0 || this.meta[side * kMeta + kCount] === 0 ? 0 : this.slots[(this.regionOf[side] * kLadderSlots + best) * kSlot + 1];
  }
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

  warmStep(count: number): number {
    const regions = this.regions;
    if (regions === 0) return 0;
    const m = this.meta, sidesOf = this.regionSides, slots = this.slots;
    let at = this.warmCursor, sink = 0;
    for (let i = 0; i < count; i++) {
      if (at >= regions) at = 0;
      const o = sidesOf[at] * kMeta;
      const best = m[o + kBestIndex];
      sink += m[o + kOrigin];
      // The best level's line and the two below it (four 16-byte slots a line): most order
      // messages land within a few ticks of the touch.
      if (best >= 0) {
        const base = at * kLadderSlots;
        sink += slots[(base + best) * kSlot];
        if (best >= 4) sink += slots[(base + best - 4) * kSlot];
        if (best >= 8) sink += slots[(base + best - 8) * kSlot];
      }
      at++;
    }
    this.warmCursor = at;
    return sink;
  }

  /** Level `rank` from the best (0 = best) of `side` (readers and tools: walks the ladder). */
  priceAt(side: number, rank: number): number {
    const index = this.ladderIndexAt(side, rank);
    return index >= 0 ? this.priceOf(side, index) : this.deep.priceAt(side, rank - this.ladderCount(side));
  }

  sharesAt(side: number, rank: number): number {
    const index = this.ladderIndexAt(side, rank);
    return index >= 0 ? this.slots[(this.regionOf[side] * kLadderSlots + index) * kSlot] : this.deep.sharesAt(side, rank - this.ladderCount(side));
  }

  ordersAt(side: number, rank: number): number {
    const index = this.ladderIndexAt(side, rank);
    return index >= 0 ? this.slots[(this.regionOf[side] * kLadderSlots + index) * kSlot + 1] : this.deep.ordersAt(side, rank - this.ladderCount(side));
  }

  /** Shares resting at `price` on `side`, 0 if no level. */
  sharesAtPrice(side: number, price: number): number {
    const o = side * kMeta;
    const t = price / this.meta[o + kTick];
    const index = (side & 1) === 0 ? t - this.meta[o + kOrigin] : this.meta[o + kOrigin] - t;
    if (index >= 0 && index < kLadderSlots && t === Math.floor(t)) return this.slots[(this.regionOf[side] * kLadderSlots + index) * kSlot];
    return this.deep.sharesAtPrice(side, price);
  }

  /** Empty `side` (its ladder region is kept for its next order). */
  clear(side: number): void {
    const m = this.meta;
    const o = side * kMeta;
    const region = this.regionOf[side];
    if (region >= 0) {
      this.slots.fill(0, region * kLadderSlots * kSlot, (region + 1) * kLadderSlots * kSlot);
      this.bits.fill(0, region * kWordsPerSide, (region + 1) * kWordsPerSide);
    }
    this.deep.clear(side);
    m[o + kTick] = 0;
    m[o + kOrigin] = 0;
    m[o + kBestIndex] = -1;
    m[o + kCount] = 0;
    m[o + kBestPrice] = m[o + kBestShares] = 0;
  }

  /** Levels of `side` held in the deep part, outside the ladder (tests, memory reports). */
  deepCount(side: number): number { return this.deep.count(side); }

  /** Levels held by the side's ladder (the rest are deep). */
  private ladderCount(side: number): number {
    return this.meta[side * kMeta + kCount] - this.deep.count(side);
  }

  private priceOf(side: number, index: number): number {
    const o = side * kMeta;
    const t = (side & 1) === 0 ? this.meta[o + kOrigin] + index : this.meta[o + kOrigin] - index;
    return t * this.meta[o + kTick];
  }

  /** Ladder index of the level `rank` from the best, or -1 when that level is deep (or absent). */
  private ladderIndexAt(side: number, rank: number): number {
    let index = this.meta[side * kMeta + kBestIndex];
    for (let r = 0; index >= 0 && r < rank; r++) index = this.highestAtOrBelow(side, index - 1);
    return index;
  }

  /** Highest occupied ladder index <= `index`, or -1. */
  private highestAtOrBelow(side: number, index: number): number {
    if (index < 0) return -1;
    const b = this.regionOf[side] * kWordsPerSide;
    let w = index >>> 5;
    let word = this.bits[b + w] & ((index & 31) === 31 ? -1 : (1 << ((index & 31) + 1)) - 1);
    for (;;) {
      if (word !== 0) return w * 32 + 31 - Math.clz32(word);
      if (--w < 0) return -1;
      word = this.bits[b + w];
    }
  }

  /** The best level (ladder index `index`) emptied: find the next, re-centring when needed. */
  private bestRemoved(side: number, index: number): void {
    const m = this.meta;
    const o = side * kMeta;
    const next = this.highestAtOrBelow(side, index - 1);
    m[o + kBestIndex] = next;
    if (this.deep.count(side) > 0 && next < kLowWater) {
      // The ladder ran (nearly) dry above deep levels: bring them back.
      this.recenter(side, next >= 0 ? this.priceOf(side, next) : this.deep.bestPrice(side));
      return;
    }
    this.refreshBest(side);
  }

  private refreshBest(side: number): void {
    const m = this.meta;
    const o = side * kMeta;
    const best = m[o + kBestIndex];
    if (best < 0) {
      m[o + kBestPrice] = m[o + kBestShares] = 0;
      return;
    }
    m[o + kBestPrice] = this.priceOf(side, best);
    m[o + kBestShares] = this.slots[(this.regionOf[side] * kLadderSlots + best) * kSlot];
  }

  /** An add outside the ladder: first order of the side, off the tick, above the ladder, or deep. */
  private addOrderSlow(side: number, price: number, shares: number): void {
    const m = this.meta;
    const o = side * kMeta;
    if (m[o + kCount] === 0) {
      // Empty side: it starts over, with the tick of this price.
      if (this.regionOf[side] < 0) {
        this.regionOf[side] = this.takeRegion(side);
        m[o + kBestIndex] = -1;
      }
      const tick = this.gcdTicks ? gcdTick(m[o + kTick], price)
        : Math.floor(price / 100) * 100 === price ? 100 : 1; // not %: on a double it is a call
      const index = kLadderSlots - 1 - kHeadroom;
      const t = price / tick;
      m[o + kTick] = tick;
      m[o + kOrigin] = (side & 1) === 0 ? t - index : t + index;
      // The one level, written here: sides that empty and refill elsewhere (thin books) come this way often.
      const region = this.regionOf[side];
      const at = (region * kLadderSlots + index) * kSlot;
      this.slots[at] = shares;
      this.slots[at + 1] = 1;
      this.bits[region * kWordsPerSide + (index >>> 5)] |= 1 << (index & 31);
      m[o + kCount] = 1;
      m[o + kBestIndex] = index;
      m[o + kBestPrice] = price;
      m[o + kBestShares] = shares;
      this.touchedTop = true;
      this.placedHint = index + 1;
      return;
    } else if (Math.floor(price / m[o + kTick]) * m[o + kTick] !== price) {
      this.retick(side, this.gcdTicks ? gcdTick(m[o + kTick], price) : 1);
    }
    const t = price / m[o + kTick];
    let index = (side & 1) === 0 ? t - m[o + kOrigin] : m[o + kOrigin] - t;
    if (index >= kLadderSlots || (index < 0 && m[o + kBestIndex] < kLowWater)) {
      // Better than the ladder's top, or deep while the best sits low: move the ladder to the new level.
      this.recenter(side, index >= 0 ? price : this.priceOf(side, m[o + kBestIndex]));
      index = (side & 1) === 0 ? t - m[o + kOrigin] : m[o + kOrigin] - t;
    }
    if (index < 0) {
      const before = this.deep.count(side);
      this.deep.putLevel(side, price, shares, 1);
      m[o + kCount] += this.deep.count(side) - before;
      this.touchedTop = false;
      this.placedHint = 0;
      return;
    }
    this.addOrder(side, price, shares); // now in the ladder
  }

  private reduceDeep(side: number, price: number, shares: number, removeOrder: boolean): boolean {
    this.touchedTop = false;
    const before = this.deep.count(side);
    if (!this.deep.reduce(side, price, shares, removeOrder)) return false;
    if (this.deep.count(side) < before) this.meta[side * kMeta + kCount]--;
    return true;
  }

  /** Origin for `bestPrice` kHeadroom slots below the ladder's top. */
  private setOrigin(side: number, bestPrice: number): void {
    const o = side * kMeta;
    const t = bestPrice / this.meta[o + kTick];
    this.meta[o + kOrigin] = (side & 1) === 0 ? t - (kLadderSlots - 1 - kHeadroom) : t + (kLadderSlots - 1 - kHeadroom);
  }

  /**
   * Move the ladder so `bestPrice` (a multiple of the tick, and no worse than the side's best) sits
   * kHeadroom below the top: ladder levels that fall below go deep, deep levels now inside come up.
   */
  private recenter(side: number, bestPrice: number): void {
    const n = this.takeLadder(side);
    this.setOrigin(side, bestPrice);
    this.placeMoving(side, n);
    // Deep levels now inside the ladder leave from the deep part's best end.
    const m = this.meta;
    const o = side * kMeta;
    const deep = this.deep;
    while (deep.count(side) > 0) {
      const t = deep.bestPrice(side) / m[o + kTick];
      const index = (side & 1) === 0 ? t - m[o + kOrigin] : m[o + kOrigin] - t;
      if (index < 0) break;
      deep.takeBest(side);
      this.putLadder(side, index, deep.takenShares, deep.takenOrders);
    }
    m[o + kBestIndex] = this.highestAtOrBelow(side, kLadderSlots - 1);
    this.refreshBest(side);
  }

  /** A price off the side's tick arrived: every level re-placed with `tick` (1, or the gcd with that price). */
  private retick(side: number, tick: number): void {
    const deep = this.deep;
    let n = this.takeLadder(side);
    while (deep.count(side) > 0) {
      deep.takeBest(side);
      n = this.pushMoving(n, deep.takenPrice, deep.takenShares, deep.takenOrders);
    }
    const o = side * kMeta;
    this.meta[o + kTick] = tick;
    this.setOrigin(side, this.moving[0]); // the best: the ladder's levels come first, best first
    this.placeMoving(side, n);
    this.meta[o + kBestIndex] = this.highestAtOrBelow(side, kLadderSlots - 1);
    this.refreshBest(side);
  }

  /** Empty the side's ladder into `moving`, best first; returns how many levels. */
  private takeLadder(side: number): number {
    const region = this.regionOf[side];
    const s = this.slots;
    let n = 0;
    for (let index = this.highestAtOrBelow(side, kLadderSlots - 1); index >= 0; index = this.highestAtOrBelow(side, index - 1)) {
      const at = (region * kLadderSlots + index) * kSlot;
      n = this.pushMoving(n, this.priceOf(side, index), s[at], s[at + 1]);
      s[at] = s[at + 1] = 0;
    }
    this.bits.fill(0, region * kWordsPerSide, (region + 1) * kWordsPerSide);
    return n;
  }

  private pushMoving(n: number, price: number, shares: number, orders: number): number {
    if ((n + 1) * 3 > this.moving.length) {
      const bigger = new Float64Array(this.moving.length * 2);
      bigger.set(this.moving);
      this.moving = bigger;
    }
    this.moving[n * 3] = price;
    this.moving[n * 3 + 1] = shares;
    this.moving[n * 3 + 2] = orders;
    return n + 1;
  }

  /** Place `n` moving levels (best first, no better than the origin's best) in the ladder or deep. */
  private placeMoving(side: number, n: number): void {
    const m = this.meta;
    const o = side * kMeta;
    for (let i = 0; i < n; i++) {
      const t = this.moving[i * 3] / m[o + kTick];
      const index = (side & 1) === 0 ? t - m[o + kOrigin] : m[o + kOrigin] - t;
      if (index >= 0) this.putLadder(side, index, this.moving[i * 3 + 1], this.moving[i * 3 + 2]);
      else this.deep.putLevel(side, this.moving[i * 3], this.moving[i * 3 + 1], this.moving[i * 3 + 2]);
    }
  }

  /** Set an empty ladder slot to a whole level (the side's count is unchanged: the level moved). */
  private putLadder(side: number, index: number, shares: number, orders: number): void {
    const region = this.regionOf[side];
    const at = (region * kLadderSlots + index) * kSlot;
    this.slots[at] = shares;
    this.slots[at + 1] = orders;
    this.bits[region * kWordsPerSide + (index >>> 5)] |= 1 << (index & 31);
  }

  /** A ladder region for a side's first order; the arena doubles when full (region numbers stay valid). */
  private takeRegion(side: number): number {
    const region = this.regions++;
    if (region >= this.regionSides.length) {
      const sides = new Int32Array(this.regionSides.length * 2);
      sides.set(this.regionSides);
      this.regionSides = sides;
    }
    this.regionSides[region] = side;
    if (this.regions * kWordsPerSide > this.bits.length) {
      const slots = new Float64Array(this.slots.length * 2);
      slots.set(this.slots);
      this.slots = slots;
      const bits = new Int32Array(this.bits.length * 2);
      bits.set(this.bits);
      this.bits = bits;
    }
    return region;
  }
}

/**
 * gcd(tick, price) for integer prices below 2^53 (tick 0: a side never seen, the price itself); 1 when
 * that would be 0 (a zero price). Rare path (a side's first level, a price off its tick): % is fine.
 */
function gcdTick(tick: number, price: number): number {
  let a = tick;
  let b = price;
  while (b !== 0) { const r = a % b; a = b; b = r; }
  return a > 0 ? a : 1;
}
