/**
 * Resting orders by Order Reference Number, indexed by the reference itself.
 *
 * Exchanges number orders almost sequentially through the day (NASDAQ: one counter for every
 * symbol), so an order's reference says where it sits: the store keeps a sliding window of recent
 * references split into pages of 2^pageBits records, and a reference's record is
 * `page(ref) + (ref & pageMask)`. Adds land beside the previous add (the cache line is already
 * hot), and orders of the same moment share lines. A hash table spreads neighbours over random lines
 * instead, so every lookup missed the cache (the book benchmark was bound by those misses).
 *
 * - Records are 12 bytes in one Uint32Array arena, five and a third to a cache line:
 *   [shares, price, meta]; meta = hint << 24 | locate << 8 | side, 0 marks a free record (side is
 *   'B' or 'S', locate below 2^16). The hint (7 bits, 0 = none) is the level store's: where the
 *   order's level sat in its side's ladder when last placed, checked against the price before use
 *   (see LevelStore.reduceAt), so a stale hint is never wrong, only slower. 12 rather than 16 bytes:
 *   a delete's wait is on this record (a reference added tens of thousands of references ago), and
 *   a quarter fewer bytes per reference keeps more of the live window in L2. 16-byte records (none
 *   straddling a line, where one in eight of the 12-byte ones does) were measured against them on
 *   perf:fast's session (old and new builds alternated in one process, load 4.7-5): per-round
 *   new/old ratio 1.023 (new lower in 3 of 12) and 0.990 the other way round: even, not kept.
 * - A directory of `windowPages` entries (a ring indexed by the page number's low bits) maps a page
 *   of references to its arena page. A page whose orders are all gone goes back to the pool and is
 *   recycled for the next references; its records are already zero.
 * - References the window cannot hold go to an overflow hash table (reference -> record): survivors
 *   of a page pushed out when the window moved on (the day's long-lived orders), references far
 *   behind the window, and references far ahead of it (a corrupt or non-sequential feed). The window
 *   only moves forward, and only by at most half its span per add, so an overflow reference's page
 *   is never again inside the window: a reference is in its page iff its page is installed,
 *   otherwise in the overflow table. One lookup path, no double checks.
 *
 * Slot indexes (record numbers) are valid until the next insert or remove (an insert may move a
 * page's survivors into the overflow table). References are unique per day across all symbols (ITCH
 * 5.0), so one store serves every book. Keys are used as given, as readU64 returns them (exact below
 * 2^53; above that the page arithmetic stays exact because a page start is the key with its low
 * bits cleared). Single writer: the book builder's thread.
 */
const kWords = 3;
/** The warm walk's recent pages, walked four times as often as the older ones (warmStep). */
const kWarmNearPages = 8;
/** Records a warm-walk step advances: 5 records, 60 bytes, about a cache line. */
const kWarmRecordsPerLine = 5;
const kShares = 0;
const kPrice = 1;
const kMeta = 2;
/** Free-list link of a free overflow record (its shares word: a free record's meta is 0). */
const kNext = 0;
const kFreePage = -1;
const kOverflowPage = -2;

export interface OrderStoreLayout {
  /** Records per page, as a power of two (default 10: 1024 references, 16 KiB). */
  pageBits?: number;
  /** Pages in the window, a power of two (default 4096: the last 4 M references indexed directly). */
  windowPages?: number;
}

export class OrderStore {
  /** Resting orders. */
  size = 0;
  private readonly pageBits: number;
  private readonly pageSize: number;
  private readonly pageMask: number;
  private readonly windowMask: number;
  /**
   * Per directory entry: first reference of the installed page, -1 when none. Kept apart from the
   * record numbers (an Int32Array): interleaved in one Float64Array, a lookup read one line instead
   * of two, but the record number came back as a double and every slot computed from it was float
   * arithmetic. Side by side in one process (loaded machine, noisy), the interleaved layout came out
   * behind this one in most runs: per-round CPU ratio medians 0.90-1.0 on the day session, about
   * 0.97-0.98 on the generated one, so it was reverted (the insert's fast path split stays).
   */
  private readonly dirStart: Float64Array;
  /** Per directory entry: record number of the installed page's first record. */
  private readonly dirBase: Int32Array;
  /** Highest page start installed so far; the window is (maxStart - span, maxStart]. */
  private maxStart = -Infinity;
  private windowLow = -Infinity;
  /** Furthest page start an add may move the window to (half a span ahead); unbounded when empty. */
  private windowHigh = Infinity;
  /** Range of references put in the overflow table for being too far ahead (empty: lo > hi). */
  private aheadLow = Infinity;
  private aheadHigh = -Infinity;
  private readonly span: number;

  private records: Uint32Array;
  private pages = 0;
  /** Per arena page: its first reference when installed, kFreePage or kOverflowPage. */
  private pageStart: Float64Array;
  /** Per arena page: live orders (installed pages only). */
  private pageLive: Int32Array;
  /** Free arena pages, a stack. */
  private freePages: Int32Array;
  private freeTop = 0;

  /** Per arena page holding overflow records: its number among those pages. */
  private overflowPageOf: Int32Array;
  private overflowPages = 0;
  /** References of overflow records, pageSize per overflow page (only those pages pay for it). */
  private overflowRefs: Float64Array;
  /** Head of the free overflow records list, -1 when empty. */
  private freeRecord = -1;
  private readonly overflow: OverflowIndex;
  private readonly overflowPending: number[] = [];

  constructor(initialCapacity = 1 << 16, layout: OrderStoreLayout = {}) {
    const pageBits = layout.pageBits ?? 10;
    const windowPages = layout.windowPages ?? 4096;
    if (!(pageBits >= 1 && pageBits <= 16) || windowPages < 2 || (windowPages & (windowPages - 1)) !== 0 || pageBits + Math.log2(windowPages) > 31) {
      throw new RangeError(`OrderStore layout: pageBits ${pageBits} (1..16), windowPages ${windowPages} (a power of two, pageBits + log2 <= 31)`);
    }
    this.pageBits = pageBits;
    this.pageSize = 1 << pageBits;
    this.pageMask = this.pageSize - 1;
    this.windowMask = windowPages - 1;
    this.span = windowPages * this.pageSize;
    this.dirStart = new Float64Array(windowPages).fill(-1);
    this.dirBase = new Int32Array(windowPages);
    const pages = Math.max(4, Math.ceil((2 * initialCapacity) / this.pageSize));
    this.records = new Uint32Array(pages * this.pageSize * kWords);
    this.pageStart = new Float64Array(pages).fill(kFreePage);
    this.pageLive = new Int32Array(pages);
    this.freePages = new Int32Array(pages);
    this.overflowPageOf = new Int32Array(pages);
    this.overflowRefs = new Float64Array(this.pageSize);
    this.addPages(pages);
    this.overflow = new OverflowIndex();
  }

  /** Slot of `ref`, or -1. */
  find(ref: number): number {
    const off = (ref >>> 0) & this.pageMask;
    const d = ((ref >>> 0) >>> this.pageBits) & this.windowMask;
    if (this.dirStart[d] === ref - off) {
      const slot = this.dirBase[d] + off;
      return this.records[slot * kWords + kMeta] !== 0 ? slot : -1;
    }
    return this.overflow.size === 0 ? -1 : this.overflow.find(ref);
  }

  /**
   * One slice of the idle warm walk: loads `lines` cache lines of order records among the newest
   * kWarmNearPages installed pages (the window's head: adds land there and most deletes and
   * executions find their orders there; exchanges cancel most orders soon after sending them) and
   * a quarter as many among the older ones up to `pages` pages back, each walk from where its last
   * slice stopped, and the directory entries that lead to them. Read-only; returns a number to sink.
   */
  warmStep(lines: number, pages: number): number {
    if (this.maxStart < 0) return 0;
    const head = this.maxStart + this.pageSize;
    const near = Math.min(pages, kWarmNearPages) * this.pageSize;
    let sink = 0;
    let at = this.warmNear;
    if (at < head - near || at >= head) at = head - near;
    for (let i = 0; i < lines; i++) {
      sink += this.warmLine(at);
      at += kWarmRecordsPerLine;
      if (at >= head) at = head - near;
    }
    this.warmNear = at;
    if (pages <= kWarmNearPages) return sink;
    const far = pages * this.pageSize;
    at = this.warmFar;
    if (at < head - far || at >= head - near) at = head - far;
    for (let i = lines >> 2; i > 0; i--) {
      sink += this.warmLine(at);
      at += kWarmRecordsPerLine;
      if (at >= head - near) at = head - far;
    }
    this.warmFar = at;
    return sink;
  }

  /** The record line of reference `ref` if its page is installed (the warm walk). */
  private warmLine(ref: number): number {
    const off = (ref >>> 0) & this.pageMask;
    const d = ((ref >>> 0) >>> this.pageBits) & this.windowMask;
    if (this.dirStart[d] !== ref - off) return 0;
    const w = (this.dirBase[d] + off) * kWords;
    return w < this.records.length ? this.records[w] : 0;
  }

  private warmNear = 0;
  private warmFar = 0;

  /** Insert a new order; returns its slot, or -1 if `ref` is already resting (caller counts it). */
  insert(ref: number, locate: number, side: number, price: number, shares: number): number {
    // The common case (the reference's page is installed) here; the rest in insertSlow, so this
    // stays small enough for TurboFan to inline into the add's handler.
    const off = (ref >>> 0) & this.pageMask;
    const d = ((ref >>> 0) >>> this.pageBits) & this.windowMask;
    if (this.dirStart[d] !== ref - off) return this.insertSlow(ref, locate, side, price, shares);
    const slot = this.dirBase[d] + off;
    const r = this.records;
    const o = slot * kWords;
    if (r[o + kMeta] !== 0) return -1;
    this.pageLive[slot >>> this.pageBits]++;
    r[o + kShares] = shares;
    r[o + kPrice] = price;
    r[o + kMeta] = locate * 256 + side;
    this.size++;
    return slot;
  }

  /** insert() of a reference whose page is not installed: install it (the window moves) or use the overflow table. */
  private insertSlow(ref: number, locate: number, side: number, price: number, shares: number): number {
    const off = (ref >>> 0) & this.pageMask;
    const d = ((ref >>> 0) >>> this.pageBits) & this.windowMask;
    const start = ref - off;
    const installed = this.dirStart[d];
    let slot: number;
    if (start >= this.windowLow && start <= this.windowHigh && installed < start) {
      slot = this.install(d, start, installed) + off;
      if (this.records[slot * kWords + kMeta] !== 0) return -1; // adopted from the overflow table
      this.pageLive[slot >>> this.pageBits]++;
    } else {
      // Behind the window, or too far ahead of it to move the window there: the overflow table,
      // probed once (a duplicate is met on the way to the empty slot the new entry takes).
      slot = this.takeOverflowRecord(ref);
      if (!this.overflow.insert(ref, slot)) {
        this.freeOverflowRecord(slot);
        return -1;
      }
      if (start > this.windowHigh) {
        if (ref < this.aheadLow) this.aheadLow = ref;
        if (ref > this.aheadHigh) this.aheadHigh = ref;
      }
    }
    const r = this.records;
    const o = slot * kWords;
    r[o + kShares] = shares;
    r[o + kPrice] = price;
    r[o + kMeta] = locate * 256 + side;
    this.size++;
    return slot;
  }

  locate(slot: number): number { return (this.records[slot * kWords + kMeta] >>> 8) & 0xffff; }
  /** 0x42 'B' or 0x53 'S'. */
  side(slot: number): number { return this.records[slot * kWords + kMeta] & 0xff; }
  /**
   * The whole meta word (hint << 24 | locate << 8 | side): one load for a delete's locate, side and
   * level hint.
   */
  meta(slot: number): number { return this.records[slot * kWords + kMeta]; }
  /** Level hint of a resting order, 0..127 (0: none); see LevelStore.reduceAt. */
  setHint(slot: number, hint: number): void {
    const at = slot * kWords + kMeta;
    this.records[at] = (this.records[at] & 0xffffff) | (hint << 24);
  }
  price(slot: number): number { return this.records[slot * kWords + kPrice]; }
  shares(slot: number): number { return this.records[slot * kWords + kShares]; }
  setShares(slot: number, shares: number): void { this.records[slot * kWords + kShares] = shares; }
  /**
   * A resting order's new price, shares and level hint in one call (a venue's modify that keeps the
   * order's reference and may move it to another level: FAST's MDUpdateAction 1). The locate and
   * side stay.
   */
  update(slot: number, price: number, shares: number, hint: number): void {
    const r = this.records;
    const o = slot * kWords;
    r[o + kShares] = shares;
    r[o + kPrice] = price;
    r[o + kMeta] = (r[o + kMeta] & 0xffffff) | (hint << 24);
  }

  /** Order Reference Number in `slot` (tests, tools and snapshots). */
  keyAt(slot: number): number {
    const start = this.pageStart[slot >>> this.pageBits];
    return start >= 0 ? start + (slot & this.pageMask) : this.overflowRefs[this.overflowRefAt(slot)];
  }

  /** Remove the order in `slot` (from find/insert). */
  remove(slot: number): void {
    const r = this.records;
    r[slot * kWords + kMeta] = 0;
    this.size--;
    const page = slot >>> this.pageBits;
    if (this.pageStart[page] >= 0) {
      if (--this.pageLive[page] === 0) this.uninstall(page);
      return;
    }
    this.removeOverflow(slot);
  }

  /** remove() of an order held in the overflow table (a call of its own: keeps remove() small enough to inline). */
  private removeOverflow(slot: number): void {
    this.overflow.remove(this.overflowRefs[this.overflowRefAt(slot)]);
    this.freeOverflowRecord(slot);
  }

  private freeOverflowRecord(slot: number): void {
    this.records[slot * kWords + kNext] = this.freeRecord;
    this.freeRecord = slot;
  }

  clear(): void {
    this.records.fill(0);
    this.dirStart.fill(-1);
    this.pageStart.fill(kFreePage);
    this.pageLive.fill(0);
    this.freeTop = 0;
    const pages = this.pages;
    this.pages = 0;
    this.addPages(pages);
    this.freeRecord = -1;
    this.overflowPages = 0;
    this.overflow.clear();
    this.maxStart = this.windowLow = -Infinity;
    this.windowHigh = this.aheadLow = Infinity;
    this.aheadHigh = -Infinity;
    this.size = 0;
  }

  /** Visit every resting order (tests, snapshots; not the hot path). */
  forEach(fn: (ref: number, locate: number, side: number, price: number, shares: number) => void): void {
    const r = this.records;
    for (let p = 0; p < this.pages; p++) {
      if (this.pageStart[p] === kFreePage) continue;
      for (let slot = p * this.pageSize; slot < (p + 1) * this.pageSize; slot++) {
        if (r[slot * kWords + kMeta] !== 0) fn(this.keyAt(slot), this.locate(slot), this.side(slot), this.price(slot), this.shares(slot));
      }
    }
  }

  /** Arena pages in use (installed or holding overflow records): tests and memory reports. */
  get pagesInUse(): number { return this.pages - this.freeTop; }
  /** Orders held in the overflow table. */
  get overflowSize(): number { return this.overflow.size; }
  /** Bytes held by the store's arrays (memory reports). */
  get bytes(): number {
    return this.records.byteLength + this.pageStart.byteLength + this.pageLive.byteLength + this.freePages.byteLength
      + this.overflowPageOf.byteLength + this.overflowRefs.byteLength + this.dirStart.byteLength + this.dirBase.byteLength + this.overflow.bytes;
  }

  /**
   * Put a page for references [start, start + pageSize) in directory entry d, first moving the
   * older page there (if any) to the overflow table; returns the page's first record.
   */
  private install(d: number, start: number, installed: number): number {
    if (installed >= 0) this.evict(d);
    if (start > this.maxStart) {
      this.maxStart = start;
      this.windowLow = start - this.span + this.pageSize;
      this.windowHigh = start + this.span / 2;
    }
    const page = this.takePage();
    this.pageStart[page] = start;
    const base = page << this.pageBits;
    this.dirStart[d] = start;
    this.dirBase[d] = base;
    // Rare: the window reached references once parked in the overflow table for being ahead of it.
    if (start + this.pageSize > this.aheadLow && start <= this.aheadHigh) this.adoptAhead(start, base);
    return base;
  }

  /** Move overflow orders of the page [start, start + pageSize) into it (installed at `base`). */
  private adoptAhead(start: number, base: number): void {
    const r = this.records;
    this.overflow.forEach((ref, slot) => {
      if (ref < start || ref >= start + this.pageSize) return;
      const to = (base + (ref - start)) * kWords;
      const from = slot * kWords;
      r[to + kShares] = r[from + kShares];
      r[to + kPrice] = r[from + kPrice];
      r[to + kMeta] = r[from + kMeta];
      this.pageLive[base >>> this.pageBits]++;
      this.overflowPending.push(slot);
    });
    for (const slot of this.overflowPending) {
      this.overflow.remove(this.overflowRefs[this.overflowRefAt(slot)]);
      r[slot * kWords + kMeta] = 0;
      r[slot * kWords + kNext] = this.freeRecord;
      this.freeRecord = slot;
    }
    this.overflowPending.length = 0;
  }

  /** The window moved past this entry's page: its survivors become overflow orders. */
  private evict(d: number): void {
    const base = this.dirBase[d];
    const start = this.dirStart[d];
    for (let off = 0; off < this.pageSize; off++) {
      const from = (base + off) * kWords;
      if (this.records[from + kMeta] === 0) continue;
      const slot = this.takeOverflowRecord(start + off);
      const r = this.records; // taking a record may have grown the arena
      const to = slot * kWords;
      r[to + kShares] = r[from + kShares];
      r[to + kPrice] = r[from + kPrice];
      r[to + kMeta] = r[from + kMeta];
      r[from + kMeta] = 0;
      this.overflow.insert(start + off, slot);
    }
    this.uninstall(base >>> this.pageBits);
  }

  private uninstall(page: number): void {
    const start = this.pageStart[page];
    this.dirStart[((start >>> 0) >>> this.pageBits) & this.windowMask] = -1;
    this.pageStart[page] = kFreePage;
    this.pageLive[page] = 0;
    this.freePages[this.freeTop++] = page;
  }

  private takeOverflowRecord(ref: number): number {
    if (this.freeRecord < 0) {
      const page = this.takePage();
      this.pageStart[page] = kOverflowPage;
      this.overflowPageOf[page] = this.overflowPages++;
      if (this.overflowPages * this.pageSize > this.overflowRefs.length) {
        const refs = new Float64Array(this.overflowRefs.length * 2);
        refs.set(this.overflowRefs);
        this.overflowRefs = refs;
      }
      const base = page << this.pageBits;
      // Thread the page's records, lowest first.
      for (let i = this.pageSize - 1; i >= 0; i--) {
        this.records[(base + i) * kWords + kNext] = this.freeRecord;
        this.freeRecord = base + i;
      }
    }
    const slot = this.freeRecord;
    this.freeRecord = this.records[slot * kWords + kNext] | 0;
    this.overflowRefs[this.overflowRefAt(slot)] = ref;
    return slot;
  }

  /** Index in overflowRefs of an overflow record's reference. */
  private overflowRefAt(slot: number): number {
    return this.overflowPageOf[slot >>> this.pageBits] * this.pageSize + (slot & this.pageMask);
  }

  private takePage(): number {
    if (this.freeTop === 0) this.grow();
    return this.freePages[--this.freeTop];
  }

  /** Make pages [this.pages, this.pages + n) free; the arrays must already hold them. */
  private addPages(n: number): void {
    // Pushed highest first so the lowest page is handed out first.
    for (let p = this.pages + n - 1; p >= this.pages; p--) this.freePages[this.freeTop++] = p;
    this.pages += n;
  }

  /** Double the arena (rare: the working set outgrew it). Record numbers stay valid. */
  private grow(): void {
    const pages = this.pages;
    const records = new Uint32Array(pages * 2 * this.pageSize * kWords);
    records.set(this.records);
    this.records = records;
    const starts = new Float64Array(pages * 2).fill(kFreePage);
    starts.set(this.pageStart);
    this.pageStart = starts;
    const live = new Int32Array(pages * 2);
    live.set(this.pageLive);
    this.pageLive = live;
    const free = new Int32Array(pages * 2);
    free.set(this.freePages.subarray(0, this.freeTop));
    this.freePages = free;
    const overflowPageOf = new Int32Array(pages * 2);
    overflowPageOf.set(this.overflowPageOf);
    this.overflowPageOf = overflowPageOf;
    this.addPages(pages);
  }
}

/**
 * Reference -> record number for the orders outside the window: open addressing, linear probing,
 * backward-shift deletion (no tombstones), slots [ref, record + 1] with 0 marking an empty slot.
 * The key is stored as given, never offset: above 2^53 `ref + 1` can round back to `ref`.
 */
class OverflowIndex {
  size = 0;
  private capacity: number;
  private mask: number;
  private shift: number;
  private slots: Float64Array;

  /**
   * Starts small and doubles. Sizing it for the expected peak up front was measured: at a sampled
   * capture's scale it saved the rehashes but a table sized for every resting order is mostly
   * empty for an in-order feed (the day session's 37 k far orders would spread over 32 MB), and the
   * instruction and simulated miss counts came out even.
   */
  constructor() {
    this.capacity = 64;
    this.mask = 63;
    this.shift = 32 - 6;
    this.slots = new Float64Array(64 * 2);
  }

  find(ref: number): number {
    const s = this.slots;
    for (let i = hash(ref) >>> this.shift; ; i = (i + 1) & this.mask) {
      const v = s[i * 2 + 1];
      if (v === 0) return -1;
      if (s[i * 2] === ref) return v - 1;
    }
  }

  /** Add ref -> record; false (nothing changed) when `ref` is already there. */
  insert(ref: number, record: number): boolean {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const s = this.slots;
    let i = hash(ref) >>> this.shift;
    while (s[i * 2 + 1] !== 0) {
      if (s[i * 2] === ref) return false;
      i = (i + 1) & this.mask;
    }
    s[i * 2] = ref;
    s[i * 2 + 1] = record + 1;
    this.size++;
    return true;
  }

  remove(ref: number): void {
    const s = this.slots;
    const mask = this.mask;
    let hole = hash(ref) >>> this.shift;
    while (s[hole * 2] !== ref || s[hole * 2 + 1] === 0) {
      if (s[hole * 2 + 1] === 0) return;
      hole = (hole + 1) & mask;
    }
    // Backward shift: move later members of the probe run into the hole so lookups never stop early.
    for (let i = (hole + 1) & mask; s[i * 2 + 1] !== 0; i = (i + 1) & mask) {
      const home = hash(s[i * 2]) >>> this.shift;
      const between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!between) {
        s[hole * 2] = s[i * 2];
        s[hole * 2 + 1] = s[i * 2 + 1];
        hole = i;
      }
    }
    s[hole * 2] = 0;
    s[hole * 2 + 1] = 0;
    this.size--;
  }

  clear(): void {
    if (this.size > 0) this.slots.fill(0);
    this.size = 0;
  }

  get bytes(): number { return this.slots.byteLength; }

  /** Visit every entry (the store's rare paths); the visitor must not change the table. */
  forEach(fn: (ref: number, record: number) => void): void {
    const s = this.slots;
    for (let i = 0; i < this.capacity; i++) if (s[i * 2 + 1] !== 0) fn(s[i * 2], s[i * 2 + 1] - 1);
  }

  private grow(): void {
    const old = this.slots;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    this.mask = this.capacity - 1;
    this.shift--;
    this.slots = new Float64Array(this.capacity * 2);
    this.size = 0;
    for (let i = 0; i < oldCapacity; i++) if (old[i * 2 + 1] !== 0) this.insert(old[i * 2], old[i * 2 + 1] - 1);
  }
}

/** Fibonacci hash of both 32-bit halves (callers take the top bits). */
function hash(ref: number): number {
  const lo = ref >>> 0;
  const hi = (ref / 4294967296) >>> 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
}
