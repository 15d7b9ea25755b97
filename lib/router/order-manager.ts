/**
 * Order state for the router: a fixed-capacity slot table in typed arrays with a free list, so a
 * new order costs one slot, not an object. Two kinds of slot:
 *
 *  - a PARENT is what the caller sent (one client order id). Its state is derived from its
 *    children and never set by a venue event.
 *  - a CHILD is what one venue sees. Venue events drive it through
 *    PENDING -> SENT -> ACKNOWLEDGED -> PARTIALLY_FILLED -> FILLED, or to CANCELLED / REJECTED,
 *    with PENDING_CANCEL and PENDING_REPLACE in between. A replace keeps the slot and changes its
 *    id: the old id ends in REPLACED, the order lives on under the new id.
 *
 * Invariants (checked by the property tests): filled never exceeds qty; nothing leaves a terminal
 * state (a terminal order's id is forgotten, so later events for it are refused as unknown);
 * every refused event is counted. Positions are kept per symbol from child fills.
 *
 * Ids: an id the router generates is a number (its order key, see OrderIdFormat) held in a
 * Float64Array and found through an open-addressing table; its text ('P'/'C' + epoch + counter) is
 * written as bytes into the journal and the wire from the number and only becomes a string when an
 * API edge asks (`idOf`). Ids that arrive as strings (a caller's clOrdId, ids restored from the
 * journal of an earlier run) keep the string and a Map entry. Either form answers `slotOf(string)`.
 *
 * Threading: single writer, the router worker. A slot released on reaching a terminal state keeps
 * its data readable until the next `createParent`/`createChild`, so the caller can journal and
 * report the final state right after the transition.
 */
import { TickpathError } from '../errors';
import { writeAlpha, writeAsciiZ } from '../common/bytes';
import { OrderState, sideCode, isTerminal } from './types';
import type { OrdType, Side, TimeInForce } from './types';

/** Negative results of the transition methods. */
export const enum OmResult {
  UNKNOWN_ORDER = -1,
  ILLEGAL_TRANSITION = -2,
  OVERFILL = -3,
  TABLE_FULL = -4,
}

/**
 * The router's own client order ids: 'P' (parent) or 'C' (child) + 8 base-36 digits of the
 * router's start time in milliseconds + a base-36 counter, at most 14 characters (OUCH token).
 * Inside the process such an id is its key, counter * 2 + (child ? 1 : 0): a number that can be
 * written as the id's ASCII bytes and parsed back from them without a string.
 */
export class OrderIdFormat {
  readonly epoch: string;
  private readonly epochBytes = new Uint8Array(8);
  private readonly digits = new Uint8Array(16);
  private readonly text = Buffer.alloc(16);
  /**
   * The last counter written per kind (0 parent, 1 child; -1 none) and its base-36 digits, most
   * significant first (16 bytes per kind): `write` carries the next counter's digits from them.
   */
  private readonly lastCounter = new Float64Array([-1, -1]);
  private readonly counterDigits = new Uint8Array(32);
  private readonly digitCount = new Uint8Array(2);
  /** Per kind, the last id written as the journal keeps it (14 bytes NUL padded in 16), and as words. */
  private readonly template = new Uint8Array(32);
  private readonly templateWords = new Uint32Array(this.template.buffer);

  constructor(epochMs: number) {
    const ms = Math.floor(epochMs) % 2821109907456;   // 36^8
    this.epoch = ms.toString(36).padStart(8, '0');
    for (let i = 0; i < 8; i++) this.epochBytes[i] = this.epoch.charCodeAt(i);
    // Each kind's template starts with its prefix and the epoch, which never change.
    for (let kind = 0; kind < 2; kind++) {
      this.template[kind * 16] = kind === 1 ? 0x43 : 0x50;
      for (let i = 0; i < 8; i++) this.template[kind * 16 + 1 + i] = this.epochBytes[i];
    }
  }

  /** Keep-warm: reads the lines writing the next id touches (templates, digits, counters); returns a sum. */
  touch(): number {
    return this.template[0] + this.template[16] + this.counterDigits[0] + this.counterDigits[16] + this.lastCounter[0]
      + this.digitCount[0] + this.epochBytes[0];
  }

  static key(child: boolean, counter: number): number {
    return counter * 2 + (child ? 1 : 0);
  }

  static isChildKey(key: number): boolean {
    return key % 2 === 1;
  }

  /** The id as text. Allocates one flat string (written as bytes, decoded once): for API edges and logs. */
  format(key: number): string {
    const b = this.text;
    this.write(key, b, 0, 16, 0);
    let len = 10;
    while (len < 16 && b[len] !== 0) len++;
    return b.toString('latin1', 0, len);
  }

  /** Writes the id's ASCII into `width` bytes, padded with `pad` (0 for the journal, 0x20 for OUCH). */
  write(key: number, b: Uint8Array, o: number, width: number, pad: number): void {
    const kind = this.prepare(key);
    const nd = this.digitCount[kind];
    const d = this.counterDigits;
    const base = kind * 16;
    let i = 0;
    if (i < width) b[o + i++] = kind === 1 ? 0x43 : 0x50;
    for (let k = 0; k < 8 && i < width; k++) b[o + i++] = this.epochBytes[k];
    for (let k = 0; k < nd && i < width; k++) b[o + i++] = d[base + k];
    while (i < width) b[o + i++] = pad;
  }

  /**
   * The id as the journal and the order table keep it: 14 ASCII bytes, NUL padded, in 16, stored
   * as four words into `u32` from word index `i` (a 16-byte aligned field).
   */
  writeWords(key: number, u32: Uint32Array, i: number): void {
    const t = this.templateWords;
    const k = this.prepare(key) * 4;
    u32[i] = t[k]; u32[i + 1] = t[k + 1]; u32[i + 2] = t[k + 2]; u32[i + 3] = t[k + 3];
  }

  /**
   * Makes kind's digits (and its 16-byte template) those of `key`'s counter; returns the kind.
   * Counters go up one by one per kind: the next id's digits are the last one's plus one, carried in
   * place (a division by 36 per digit was ~5 % of a lifecycle: two ids per order).
   */
  private prepare(key: number): number {
    const kind = key % 2 === 1 ? 1 : 0;
    const n = key < 0x80000000 ? key >>> 1 : Math.floor(key / 2);
    const last = this.lastCounter[kind];
    if (n === last) return kind;
    const base = kind * 16;
    const t = this.template;
    const d = this.counterDigits;
    const nd = this.digitCount[kind];
    this.lastCounter[kind] = n;
    if (n === last + 1 && this.increment(base, nd)) {
      // Same number of digits: only they change (prefix, epoch and NULs stay).
      for (let k = 0; k < nd && k < 5; k++) t[base + 9 + k] = d[base + k];
      return kind;
    }
    this.digitsOf(n, kind);
    const nd2 = this.digitCount[kind];
    // Digits cut at 14 bytes, NULs after.
    for (let k = 9; k < 16; k++) t[base + k] = k - 9 < nd2 && k < 14 ? d[base + k - 9] : 0;
    return kind;
  }

  /** Adds one to the base-36 digits at `base` (most significant first); false when it needs another digit. */
  private increment(base: number, nd: number): boolean {
    const d = this.counterDigits;
    for (let k = base + nd - 1; k >= base; k--) {
      const c = d[k];
      if (c === 0x7a) { d[k] = 0x30; continue; }   // 'z' + 1: '0', carry
      d[k] = c === 0x39 ? 0x61 : c + 1;            // '9' + 1: 'a'
      return true;
    }
    return false;
  }

  /** The base-36 digits of `n` into kind's digit buffer, most significant first. */
  private digitsOf(n: number, kind: number): void {
    const tmp = this.digits;
    let nd = 0;
    if (n < 0x80000000) {
      // int32 arithmetic instead of floating-point division per digit.
      let m = n | 0;
      do { const q = (m / 36) | 0; const x = m - q * 36; tmp[nd++] = x < 10 ? 0x30 + x : 0x57 + x; m = q; } while (m > 0);
    } else {
      let m = n;
      do { const x = m % 36; tmp[nd++] = x < 10 ? 0x30 + x : 0x57 + x; m = Math.floor(m / 36); } while (m > 0);
    }
    const base = kind * 16;
    for (let k = 0; k < nd; k++) this.counterDigits[base + k] = tmp[nd - 1 - k];
    this.digitCount[kind] = nd;
  }

  /** The key of an id of this format and epoch, else -1. No allocation. */
  parse(id: string): number {
    const len = id.length;
    if (len < 10 || len > 14) return -1;
    const k = id.charCodeAt(0);
    if (k !== 0x50 && k !== 0x43) return -1;
    for (let i = 0; i < 8; i++) if (id.charCodeAt(1 + i) !== this.epochBytes[i]) return -1;
    let n = 0;
    for (let i = 9; i < len; i++) {
      const d = digit36(id.charCodeAt(i));
      if (d < 0) return -1;
      n = n * 36 + d;
    }
    return n * 2 + (k === 0x43 ? 1 : 0);
  }

  /** Same from bytes (a wire token or journal field): `width` bytes, trailing spaces or NULs ignored. */
  parseBytes(b: Uint8Array, o: number, width: number): number {
    let len = width;
    while (len > 0 && (b[o + len - 1] === 0x20 || b[o + len - 1] === 0)) len--;
    if (len < 10) return -1;
    const k = b[o];
    if (k !== 0x50 && k !== 0x43) return -1;
    for (let i = 0; i < 8; i++) if (b[o + 1 + i] !== this.epochBytes[i]) return -1;
    let n = 0;
    for (let i = 9; i < len; i++) {
      const d = digit36(b[o + i]);
      if (d < 0) return -1;
      n = n * 36 + d;
    }
    return n * 2 + (k === 0x43 ? 1 : 0);
  }
}

function digit36(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x7a) return c - 0x57;
  return -1;
}

/**
 * Order key -> slot, linear probing with backward-shift deletion (no tombstones), sized at start
 * for every slot plus a pending replace id each, at most half full.
 */
class KeyTable {
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(entries: number) {
    let bits = 4;
    while ((1 << bits) < entries * 2) bits++;
    this.keys = new Float64Array(1 << bits).fill(-1);
    this.vals = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  private home(key: number): number {
    // Scattered, not the key's low bits: live keys are runs of consecutive counters, and with
    // linear probing a run of resting orders would become one long cluster that every
    // backward-shift delete walks to its end.
    return Math.imul((key >>> 0) ^ ((key / 4294967296) >>> 0), 0x9e3779b1) >>> this.shift;
  }

  get(key: number): number {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === key) return this.vals[i];
      if (k === -1) return -1;
    }
  }

  has(key: number): boolean {
    return this.get(key) >= 0;
  }

  /** Sets `key` to `val` unless it is present (then false, nothing changed): one probe where has + set take two. */
  insert(key: number, val: number): boolean {
    let i = this.home(key);
    for (;;) {
      const k = this.keys[i];
      if (k === key) return false;
      if (k === -1) break;
      i = (i + 1) & this.mask;
    }
    this.keys[i] = key;
    this.vals[i] = val;
    return true;
  }

  /**
   * Keep-warm (OrderManager.warmNext): stores back, unchanged, each entry `insert(key)` would probe,
   * up to the free entry it would take (or the key, if present), so those lines (a scattered home:
   * a random line of the table for every new key) are this thread's before the order's insert.
   * Returns that last entry's index (where the insert will store). Changes no byte.
   */
  warm(key: number): number {
    const keys = this.keys, vals = this.vals, mask = this.mask;
    let i = this.home(key);
    for (let n = 0; n <= mask; n++, i = (i + 1) & mask) {
      const k = keys[i];
      keys[i] = k;
      vals[i] = vals[i];
      if (k === key || k === -1) break;
    }
    return i;
  }

  set(key: number, val: number): void {
    let i = this.home(key);
    while (this.keys[i] !== -1 && this.keys[i] !== key) i = (i + 1) & this.mask;
    this.keys[i] = key;
    this.vals[i] = val;
  }

  delete(key: number): void {
    let i = this.home(key);
    while (this.keys[i] !== key) {
      if (this.keys[i] === -1) return;
      i = (i + 1) & this.mask;
    }
    // Backward shift: pull later entries of the same run into the hole so lookups never stop early.
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      const k = this.keys[j];
      if (k === -1) break;
      const h = this.home(k);
      if (((j - h) & this.mask) >= ((j - i) & this.mask)) {
        this.keys[i] = k;
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    this.keys[i] = -1;
  }
}

const KIND_CHILD = 0;
const KIND_PARENT = 1;
const NONE = -1;

export interface OrderManagerOptions {
  capacity: number;      // max live slots (parents + children)
  maxSymbols?: number;   // default 4096
}

export class OrderManager {
  readonly capacity: number;

  // Per-slot fields. Single writer: the router worker.
  private readonly kind: Uint8Array;
  private readonly inUse: Uint8Array;          // 1 from create until released to the free list
  private readonly st: Uint8Array;
  private readonly prevSt: Uint8Array;         // state to return to when a cancel/replace is refused
  private readonly sideArr: Uint8Array;
  private readonly ordTypeArr: Uint8Array;     // 0 LIMIT, 1 MARKET
  private readonly tifArr: Uint8Array;         // 0 DAY, 1 IOC
  private readonly venueArr: Int16Array;
  private readonly symArr: Int32Array;
  private readonly qtyArr: Uint32Array;
  private readonly priceArr: Uint32Array;
  private readonly filledArr: Uint32Array;
  private readonly cancelledArr: Uint32Array;
  private readonly pendQty: Uint32Array;
  private readonly pendPrice: Uint32Array;
  private readonly parentArr: Int32Array;
  private readonly firstChild: Int32Array;     // parents: head of the live-children list
  private readonly nextSib: Int32Array;
  private readonly prevSib: Int32Array;
  // Parent aggregates, so a parent's state is O(1) to derive after its children are released.
  private readonly liveChildren: Uint16Array;
  private readonly ackedChildren: Uint16Array;
  private readonly rejectedChildren: Uint16Array;
  private readonly totalChildren: Uint16Array;
  private readonly parentFlags: Uint8Array;    // bit 0: cancel requested, bit 1: replace pending
  // A slot's id is either a key (>= 0: a router-generated id) or a string (key -1).
  private readonly idKeys: Float64Array;
  private readonly pendKeys: Float64Array;
  private readonly ids: (string | undefined)[];
  private readonly pendIds: (string | undefined)[];
  private readonly idToSlot = new Map<string, number>();
  private readonly keyToSlot: KeyTable;
  /** How the router's own ids look; set by OrderRouter at start (its clock). */
  idFormat = new OrderIdFormat(Date.now());

  private readonly freeList: Int32Array;
  private freeTop: number;

  // Per-symbol: open parent orders and net position (shares; sells and shorts negative).
  private readonly symbolIdx = new Map<string, number>();
  private readonly symbolNames: string[] = [];
  /**
   * Each slot's id as the journal writes it (14 ASCII bytes, NUL padded, in 16), made when the
   * slot gets its id: a record copies 7 half-words instead of formatting the id again (two ids,
   * three records per lifecycle). As Uint16 for the copy.
   */
  private readonly idBytes: Uint8Array;
  private readonly idHalves: Uint16Array;
  private readonly idWords: Uint32Array;
  /** Each symbol's 8 journal bytes (ASCII, NUL padded) by index: a record copies them, no string read. */
  private readonly symbolBytes: Uint8Array;
  /** `symbolBytes` as words: the journal copies a symbol in two stores. */
  private readonly symbolWords: Uint32Array;
  /** The same symbols space padded (OUCH's stock field). */
  private readonly symbolSpaced: Uint8Array;
  private readonly openCount: Int32Array;
  private readonly positionArr: Float64Array;

  /** Refused events, by cause. */
  illegalTransitions = 0;
  unknownOrders = 0;
  overfills = 0;

  constructor(opts: OrderManagerOptions) {
    const n = opts.capacity;
    if (!Number.isInteger(n) || n < 2 || n > 0x7fffffff) {
      throw new TickpathError('ERR_INVALID_OPTION', `OrderManager: option 'capacity' is ${JSON.stringify(n)}, expected an integer >= 2`);
    }
    const maxSymbols = opts.maxSymbols ?? 4096;
    this.capacity = n;
    this.kind = new Uint8Array(n);
    this.inUse = new Uint8Array(n);
    this.st = new Uint8Array(n);
    this.prevSt = new Uint8Array(n);
    this.sideArr = new Uint8Array(n);
    this.ordTypeArr = new Uint8Array(n);
    this.tifArr = new Uint8Array(n);
    this.venueArr = new Int16Array(n);
    this.symArr = new Int32Array(n);
    this.qtyArr = new Uint32Array(n);
    this.priceArr = new Uint32Array(n);
    this.filledArr = new Uint32Array(n);
    this.cancelledArr = new Uint32Array(n);
    this.pendQty = new Uint32Array(n);
    this.pendPrice = new Uint32Array(n);
    this.parentArr = new Int32Array(n).fill(NONE);
    this.firstChild = new Int32Array(n).fill(NONE);
    this.nextSib = new Int32Array(n).fill(NONE);
    this.prevSib = new Int32Array(n).fill(NONE);
    this.liveChildren = new Uint16Array(n);
    this.ackedChildren = new Uint16Array(n);
    this.rejectedChildren = new Uint16Array(n);
    this.totalChildren = new Uint16Array(n);
    this.parentFlags = new Uint8Array(n);
    this.idKeys = new Float64Array(n).fill(-1);
    this.pendKeys = new Float64Array(n).fill(-1);
    this.keyToSlot = new KeyTable(2 * n);
    this.ids = new Array<string | undefined>(n).fill(undefined);
    this.pendIds = new Array<string | undefined>(n).fill(undefined);
    this.freeList = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeList[i] = n - 1 - i;   // pop order 0, 1, 2 ...
    this.freeTop = n;
    this.openCount = new Int32Array(maxSymbols);
    this.positionArr = new Float64Array(maxSymbols);
    this.symbolBytes = new Uint8Array(maxSymbols * 8);
    this.symbolWords = new Uint32Array(this.symbolBytes.buffer);
    this.symbolSpaced = new Uint8Array(maxSymbols * 8);
    this.idBytes = new Uint8Array(n * 16);
    this.idHalves = new Uint16Array(this.idBytes.buffer);
    this.idWords = new Uint32Array(this.idBytes.buffer);
  }

  // ---------------------------------------------------------------- creation

  /** A client order. Returns its slot or OmResult.TABLE_FULL. */
  createParent(clOrdId: string, symbol: string, side: Side, qty: number, price: number, ordType: OrdType, tif: TimeInForce): number {
    return this.createParentWith(this.idFormat.parse(clOrdId), clOrdId, symbol, side, qty, price, ordType, tif);
  }

  /**
   * A client order under a router-generated id, given as its key (OrderIdFormat). `sym`: the
   * symbol's index from `internSymbol` when the caller has it (no lookup here).
   */
  createParentKey(key: number, symbol: string, side: Side, qty: number, price: number, ordType: OrdType, tif: TimeInForce,
    sym = -1): number {
    return this.createParentWith(key, undefined, symbol, side, qty, price, ordType, tif, sym);
  }

  private createParentWith(key: number, id: string | undefined, symbol: string, side: Side, qty: number, price: number,
    ordType: OrdType, tif: TimeInForce, sym = -1): number {
    if (this.freeTop === 0) return OmResult.TABLE_FULL;
    const symIdx = sym >= 0 ? sym : this.internSymbol(symbol);
    const s = this.freeList[this.freeTop - 1];
    if (!this.claimId(key, id, s)) return OmResult.ILLEGAL_TRANSITION;
    this.freeTop--;
    this.initSlot(s, KIND_PARENT, key, id, symIdx, side, qty, price, ordType, tif, NONE, NONE);
    this.openCount[this.symArr[s]]++;
    return s;
  }

  /** One venue's share of a parent. State PENDING until `markSent`. */
  createChild(parent: number, clOrdId: string, venue: number, qty: number, price: number): number {
    return this.createChildWith(parent, this.idFormat.parse(clOrdId), clOrdId, venue, qty, price);
  }

  /** A child under a router-generated id, given as its key. */
  createChildKey(parent: number, key: number, venue: number, qty: number, price: number): number {
    return this.createChildWith(parent, key, undefined, venue, qty, price);
  }

  /**
   * `createChildKey` then `markSent` in one step (the router's send path: it journals the child as
   * SENT before the wire): the same slot, state and parent state, with one parent refresh, not two.
   */
  createSentChildKey(parent: number, key: number, venue: number, qty: number, price: number): number {
    return this.createChildWith(parent, key, undefined, venue, qty, price, OrderState.SENT);
  }

  private createChildWith(parent: number, key: number, id: string | undefined, venue: number, qty: number, price: number,
    state: OrderState = OrderState.PENDING): number {
    if (this.freeTop === 0) return OmResult.TABLE_FULL;
    const s = this.freeList[this.freeTop - 1];
    if (!this.claimId(key, id, s)) return OmResult.ILLEGAL_TRANSITION;
    this.freeTop--;
    this.initSlot(s, KIND_CHILD, key, id, this.symArr[parent], this.sideArr[parent], qty, price,
      this.ordTypeArr[parent], this.tifArr[parent], venue, parent);
    this.st[s] = state;
    // Link at the head of the parent's live-children list.
    const head = this.firstChild[parent];
    this.nextSib[s] = head;
    if (head !== NONE) this.prevSib[head] = s;
    this.firstChild[parent] = s;
    this.liveChildren[parent]++;
    this.totalChildren[parent]++;
    this.refreshParent(parent);
    return s;
  }

  /** A parent whose children could not be created (table full): REJECTED and released. */
  abandonParent(parent: number): void {
    if (this.kind[parent] !== KIND_PARENT || this.totalChildren[parent] !== 0 || isTerminal(this.st[parent])) return;
    this.st[parent] = OrderState.REJECTED;
    this.openCount[this.symArr[parent]]--;
    this.forgetId(parent);
    this.release(parent);
  }

  /** The slot the next create will take (the free list's top), or -1 when the table is full. */
  nextFreeSlot(): number {
    return this.freeTop > 0 ? this.freeList[this.freeTop - 1] : -1;
  }

  get freeSlots(): number {
    return this.freeTop;
  }

  /**
   * Keep-warm (the router stage's OrderPathWarmer): reads the slots the next parent and child will
   * be created in (the free list's top two), in the arrays creating them writes, so those lines
   * are at hand when an order comes. Reads only; returns a sum the caller keeps (so the loads stay).
   */
  touchNextFree(): number {
    let sum = 0;
    for (let k = 1; k <= 2 && k <= this.freeTop; k++) {
      const s = this.freeList[this.freeTop - k];
      sum += this.kind[s] + this.inUse[s] + this.st[s] + this.sideArr[s] + this.venueArr[s] + this.symArr[s] + this.qtyArr[s]
        + this.priceArr[s] + this.filledArr[s] + this.parentArr[s] + this.firstChild[s] + this.nextSib[s] + this.liveChildren[s]
        + this.idKeys[s] + this.idHalves[s * 8] + this.parentFlags[s];
    }
    return sum;
  }

  /**
   * Keep-warm (OrderPathWarmer through OrderRouter.warmNextOrder): the lines the next order's
   * createParentKey(parentKey) and createSentChildKey(childKey) will write, written now with the
   * values they hold. The next parent and child take the free list's top two slots, so every
   * per-slot array initSlot and the child link write is stored back at those two slots; the key
   * table's entries each key's insert will probe (KeyTable.warm: the home of a generated key is
   * scattered, so a random line of a 2-3 MB table per key, cold unless warmed); the symbol's open
   * count and journal bytes; the id formatter's template. touchNextFree reads a few of these
   * arrays; this reaches every line the creates write (the key entries above all), and a store
   * holds each line for writing, as the order's own stores will.
   *
   * Why a store-back changes nothing anyone can see: every array here is this OrderManager's own
   * (plain ArrayBuffers and arrays, never shared with another thread) and the single writer is the
   * router worker that calls this; a store of the value just read, with nothing in between, leaves
   * every byte as it was, and the free slots' stale data stays readable as release() left it. No
   * slot, key, count or free-list position moves. Returns a sum the caller keeps (so the loads stay).
   */
  warmNext(parentKey: number, childKey: number, sym: number): number {
    const top = this.freeTop;
    if (top < 2) return 0;
    const fl = this.freeList;
    const p = fl[top - 1], c = fl[top - 2];
    fl[top - 1] = p; fl[top - 2] = c;
    this.warmSlot(p);
    this.warmSlot(c);
    let sum = p + c + this.keyToSlot.warm(parentKey) + this.keyToSlot.warm(childKey);
    if (sym >= 0 && sym < this.openCount.length) {
      this.openCount[sym] = this.openCount[sym];
      sum += this.symbolWords[sym * 2] + this.symbolSpaced[sym * 8];
    }
    return sum + this.idFormat.touch();
  }

  /** Stores back slot `s` of every per-slot array a create writes (warmNext). */
  private warmSlot(s: number): void {
    this.kind[s] = this.kind[s]; this.inUse[s] = this.inUse[s]; this.st[s] = this.st[s]; this.prevSt[s] = this.prevSt[s];
    this.sideArr[s] = this.sideArr[s]; this.ordTypeArr[s] = this.ordTypeArr[s]; this.tifArr[s] = this.tifArr[s];
    this.venueArr[s] = this.venueArr[s]; this.symArr[s] = this.symArr[s]; this.qtyArr[s] = this.qtyArr[s];
    this.priceArr[s] = this.priceArr[s]; this.filledArr[s] = this.filledArr[s]; this.cancelledArr[s] = this.cancelledArr[s];
    this.parentArr[s] = this.parentArr[s]; this.firstChild[s] = this.firstChild[s]; this.nextSib[s] = this.nextSib[s];
    this.prevSib[s] = this.prevSib[s]; this.liveChildren[s] = this.liveChildren[s]; this.ackedChildren[s] = this.ackedChildren[s];
    this.rejectedChildren[s] = this.rejectedChildren[s]; this.totalChildren[s] = this.totalChildren[s];
    this.parentFlags[s] = this.parentFlags[s]; this.idKeys[s] = this.idKeys[s]; this.pendKeys[s] = this.pendKeys[s];
    const w = this.idWords, i = s * 4;
    w[i] = w[i]; w[i + 1] = w[i + 1]; w[i + 2] = w[i + 2]; w[i + 3] = w[i + 3];
  }

  // ---------------------------------------------------------------- child transitions

  /** PENDING -> SENT. */
  markSent(slot: number): number {
    if (this.st[slot] !== OrderState.PENDING || this.kind[slot] !== KIND_CHILD) return this.illegal();
    this.st[slot] = OrderState.SENT;
    this.refreshParent(this.parentArr[slot]);
    return slot;
  }

  onAck(clOrdId: string): number {
    return this.ackAt(this.lookup(clOrdId));
  }

  /** `onAck` for a slot found by `lookupChildKey` (a negative result passes through). */
  ackAt(s: number): number {
    if (s < 0) return s;
    const state = this.st[s];
    if (state === OrderState.SENT) {
      this.st[s] = OrderState.ACKNOWLEDGED;
    } else if ((state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE) &&
      this.prevSt[s] === OrderState.SENT) {
      this.prevSt[s] = OrderState.ACKNOWLEDGED;   // cancel raced ahead of the ack
    } else {
      return this.illegal();
    }
    this.ackedChildren[this.parentArr[s]]++;
    this.refreshParent(this.parentArr[s]);
    return s;
  }

  onFill(clOrdId: string, qty: number): number {
    return this.fillAt(this.lookup(clOrdId), qty);
  }

  fillAt(s: number, qty: number): number {
    if (s < 0) return s;
    const state = this.st[s];
    if (state === OrderState.PENDING || !this.live(state)) return this.illegal();
    if (!(qty > 0) || !Number.isInteger(qty)) return this.illegal();
    const filled = this.filledArr[s] + qty;
    if (filled + this.cancelledArr[s] > this.qtyArr[s]) {
      this.overfills++;
      return OmResult.OVERFILL;
    }
    this.filledArr[s] = filled;
    const p = this.parentArr[s];
    this.filledArr[p] += qty;
    const sym = this.symArr[s];
    this.positionArr[sym] += this.sideArr[s] === 0 ? qty : -qty;
    if (filled + this.cancelledArr[s] === this.qtyArr[s]) {
      this.finish(s, OrderState.FILLED);
    } else if (state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE) {
      this.prevSt[s] = OrderState.PARTIALLY_FILLED;
    } else {
      this.st[s] = OrderState.PARTIALLY_FILLED;
    }
    this.refreshParent(p);
    return s;
  }

  /** `canceledQty` shares taken off the book; CANCELLED once nothing is left open. */
  onCancelled(clOrdId: string, canceledQty: number): number {
    return this.cancelledAt(this.lookup(clOrdId), canceledQty);
  }

  cancelledAt(s: number, canceledQty: number): number {
    if (s < 0) return s;
    const state = this.st[s];
    if (state === OrderState.PENDING || !this.live(state)) return this.illegal();
    if (!(canceledQty > 0) || !Number.isInteger(canceledQty)) return this.illegal();
    const leaves = this.leavesQty(s);
    const take = canceledQty > leaves ? leaves : canceledQty;
    this.cancelledArr[s] += take;
    if (take === leaves) {
      // A fully filled order would already be terminal, so this always ends in CANCELLED.
      this.finish(s, OrderState.CANCELLED);
    } else if (state === OrderState.PENDING_CANCEL) {
      this.st[s] = this.prevSt[s];   // partial cancel: the rest is still working
    }
    this.refreshParent(this.parentArr[s]);
    return s;
  }

  /**
   * Venue refused something. For a new order (PENDING/SENT) the child is REJECTED; for a pending
   * cancel or replace the order returns to the state it was in. Returns the slot; the caller reads
   * `state(slot)` to tell which.
   */
  onReject(clOrdId: string): number {
    return this.rejectAt(this.lookup(clOrdId));
  }

  rejectAt(s: number): number {
    if (s < 0) return s;
    const state = this.st[s];
    // A reject while a cancel of a never-acked order is pending is read as the new order's reject:
    // VenueListener.onReject does not say which request it answers (see the report on venue.ts).
    if (state === OrderState.PENDING || state === OrderState.SENT ||
      (state === OrderState.PENDING_CANCEL && this.prevSt[s] === OrderState.SENT)) {
      this.rejectedChildren[this.parentArr[s]]++;
      this.finish(s, OrderState.REJECTED);
    } else if (state === OrderState.PENDING_CANCEL) {
      this.st[s] = this.prevSt[s];
    } else if (state === OrderState.PENDING_REPLACE) {
      this.clearPendingReplace(s);
      this.st[s] = this.prevSt[s];
    } else {
      return this.illegal();
    }
    this.refreshParent(this.parentArr[s]);
    return s;
  }

  requestCancel(slot: number): number {
    if (this.kind[slot] !== KIND_CHILD) return this.illegal();
    const state = this.st[slot];
    if (state !== OrderState.SENT && state !== OrderState.ACKNOWLEDGED && state !== OrderState.PARTIALLY_FILLED) {
      return this.illegal();
    }
    this.prevSt[slot] = state;
    this.st[slot] = OrderState.PENDING_CANCEL;
    this.parentFlags[this.parentArr[slot]] |= 1;
    this.refreshParent(this.parentArr[slot]);
    return slot;
  }

  /** A cancel or replace that never reached the venue (send refused): back to where it was. */
  revertPending(slot: number): number {
    const state = this.st[slot];
    if (state === OrderState.PENDING_REPLACE) this.clearPendingReplace(slot);
    else if (state !== OrderState.PENDING_CANCEL) return this.illegal();
    this.st[slot] = this.prevSt[slot];
    this.refreshParent(this.parentArr[slot]);
    return slot;
  }

  /** Asks for the order to become newQty/newPrice under newClOrdId. newQty must exceed what is filled. */
  requestReplace(slot: number, newClOrdId: string, newQty: number, newPrice: number): number {
    if (this.kind[slot] !== KIND_CHILD) return this.illegal();
    const state = this.st[slot];
    if (state !== OrderState.ACKNOWLEDGED && state !== OrderState.PARTIALLY_FILLED) return this.illegal();
    const key = this.idFormat.parse(newClOrdId);
    if (!(newQty > this.filledArr[slot]) || this.known(key, newClOrdId)) return this.illegal();
    this.prevSt[slot] = state;
    this.st[slot] = OrderState.PENDING_REPLACE;
    this.pendKeys[slot] = key;
    this.pendIds[slot] = key >= 0 ? undefined : newClOrdId;
    this.pendQty[slot] = newQty;
    this.pendPrice[slot] = newPrice;
    // Either id may come back from the venue (FIX answers with the new one, OUCH with the old).
    if (key >= 0) this.keyToSlot.set(key, slot); else this.idToSlot.set(newClOrdId, slot);
    this.parentFlags[this.parentArr[slot]] |= 2;
    this.refreshParent(this.parentArr[slot]);
    return slot;
  }

  /** The venue confirmed a replace. The slot now answers to newClOrdId with qty/price. */
  onReplaced(origClOrdId: string, newClOrdId: string, qty: number, price: number): number {
    const s = this.lookup(origClOrdId);
    if (s < 0) return s;
    if (this.st[s] !== OrderState.PENDING_REPLACE || !this.isPendingId(s, newClOrdId)) return this.illegal();
    if (!(qty > 0) || !Number.isInteger(qty)) return this.illegal();
    const filled = this.filledArr[s];
    if (qty < filled + this.cancelledArr[s]) return this.illegal();
    const p = this.parentArr[s];
    this.qtyArr[p] = this.qtyArr[p] - this.qtyArr[s] + qty;
    this.qtyArr[s] = qty;
    this.priceArr[s] = price;
    if (this.parentArr[p] === NONE && this.liveChildren[p] === 1) this.priceArr[p] = price;
    this.forgetId(s);
    this.idKeys[s] = this.pendKeys[s];
    this.ids[s] = this.pendIds[s];
    this.formatId(s, this.idBytes, s * 16, 14, 0);
    this.pendKeys[s] = -1;
    this.pendIds[s] = undefined;
    this.parentFlags[p] &= ~2;
    if (filled + this.cancelledArr[s] === qty) {
      this.finish(s, OrderState.FILLED);
    } else {
      this.st[s] = filled > 0 ? OrderState.PARTIALLY_FILLED : OrderState.ACKNOWLEDGED;
    }
    this.refreshParent(p);
    return s;
  }

  // ---------------------------------------------------------------- queries

  slotOf(clOrdId: string): number {
    const key = this.idFormat.parse(clOrdId);
    const s = key >= 0 ? this.keyToSlot.get(key) : this.idToSlot.get(clOrdId);
    return s === undefined || s < 0 ? OmResult.UNKNOWN_ORDER : s;
  }
  /** Slot of a router-generated id by key, or UNKNOWN_ORDER. */
  slotOfKey(key: number): number {
    const s = this.keyToSlot.get(key);
    return s < 0 ? OmResult.UNKNOWN_ORDER : s;
  }
  /**
   * A venue event's child, by key: the slot, or a negative OmResult counted like `lookup` does.
   * Pair with ackAt/fillAt/cancelledAt/rejectAt.
   */
  lookupChildKey(key: number): number {
    const s = this.keyToSlot.get(key);
    if (s < 0) { this.unknownOrders++; return OmResult.UNKNOWN_ORDER; }
    if (this.kind[s] !== KIND_CHILD) return this.illegal();
    return s;
  }
  state(slot: number): number { return this.st[slot]; }
  /** The slot's id as a string. Allocates for router-generated ids: for API edges, not per event. */
  idOf(slot: number): string { return this.idKeys[slot] >= 0 ? this.idFormat.format(this.idKeys[slot]) : this.ids[slot] as string; }
  /** The slot's id key (OrderIdFormat), or -1 when the id is a caller's or a restored string. */
  idKeyOf(slot: number): number { return this.idKeys[slot]; }
  /** Writes the slot's id as ASCII into `width` bytes padded with `pad`, without a string for generated ids. */
  writeId(slot: number, b: Uint8Array, o: number, width: number, pad: number): void {
    if (width <= 14) {
      // From the bytes made when the slot got its id (NUL padded: ids are printable).
      const src = this.idBytes;
      const from = slot * 16;
      for (let i = 0; i < width; i++) { const c = src[from + i]; b[o + i] = c === 0 ? pad : c; }
      return;
    }
    this.formatId(slot, b, o, width, pad);
  }

  /** The id's ASCII formatted from its key or string (writeId's source). */
  private formatId(slot: number, b: Uint8Array, o: number, width: number, pad: number): void {
    const key = this.idKeys[slot];
    if (key >= 0) { this.idFormat.write(key, b, o, width, pad); return; }
    const s = this.ids[slot] as string;
    for (let i = 0; i < width; i++) b[o + i] = i < s.length ? s.charCodeAt(i) & 0xff : pad;
  }
  /**
   * The slot's id as 14 ASCII bytes, NUL padded (the journal's id fields), into `u16` from half-word
   * index `i`: a copy of the bytes made when the slot got its id.
   */
  writeJournalId(slot: number, u16: Uint16Array, i: number): void {
    const src = this.idHalves;
    const from = slot * 8;
    u16[i] = src[from]; u16[i + 1] = src[from + 1]; u16[i + 2] = src[from + 2]; u16[i + 3] = src[from + 3];
    u16[i + 4] = src[from + 4]; u16[i + 5] = src[from + 5]; u16[i + 6] = src[from + 6];
  }
  pendingIdOf(slot: number): string | undefined {
    return this.pendKeys[slot] >= 0 ? this.idFormat.format(this.pendKeys[slot]) : this.pendIds[slot];
  }
  isParent(slot: number): boolean { return this.kind[slot] === KIND_PARENT; }
  parentOf(slot: number): number { return this.parentArr[slot]; }
  qty(slot: number): number { return this.qtyArr[slot]; }
  price(slot: number): number { return this.priceArr[slot]; }
  filled(slot: number): number { return this.filledArr[slot]; }
  cancelledQty(slot: number): number { return this.cancelledArr[slot]; }
  leavesQty(slot: number): number { return this.qtyArr[slot] - this.filledArr[slot] - this.cancelledArr[slot]; }
  sideOf(slot: number): Side { return this.sideArr[slot] === 0 ? 'B' : this.sideArr[slot] === 1 ? 'S' : 'SS'; }
  sideCodeOf(slot: number): number { return this.sideArr[slot]; }
  ordTypeOf(slot: number): OrdType { return this.ordTypeArr[slot] === 0 ? 'LIMIT' : 'MARKET'; }
  tifOf(slot: number): TimeInForce { return this.tifArr[slot] === 0 ? 'DAY' : 'IOC'; }
  venueOf(slot: number): number { return this.venueArr[slot]; }
  symbolOf(slot: number): string { return this.symbolNames[this.symArr[slot]]; }
  /** The order's symbol index (`internSymbol`). */
  symbolIndexOf(slot: number): number { return this.symArr[slot]; }
  /** Writes the order's symbol as 8 ASCII bytes, NUL padded (the journal's symbol field), from its index. */
  writeSymbol(slot: number, b: Uint8Array, o: number): void {
    const from = this.symArr[slot] * 8;
    const src = this.symbolBytes;
    for (let i = 0; i < 8; i++) b[o + i] = src[from + i];
  }
  /** The same as two 32-bit words into `u32` from word index `i` (the journal's aligned symbol field). */
  writeJournalSymbol(slot: number, u32: Uint32Array, i: number): void {
    const from = this.symArr[slot] * 2;
    u32[i] = this.symbolWords[from];
    u32[i + 1] = this.symbolWords[from + 1];
  }
  /** The order's symbol as 8 ASCII bytes padded with `pad` (OUCH: 0x20), from its index: no string read. */
  writeSymbolPadded(slot: number, b: Uint8Array, o: number, pad: number): void {
    const from = this.symArr[slot] * 8;
    if (pad === 0x20) {
      // OUCH's padding, kept per symbol: eight copies, no test per byte.
      const src = this.symbolSpaced;
      b[o] = src[from]; b[o + 1] = src[from + 1]; b[o + 2] = src[from + 2]; b[o + 3] = src[from + 3];
      b[o + 4] = src[from + 4]; b[o + 5] = src[from + 5]; b[o + 6] = src[from + 6]; b[o + 7] = src[from + 7];
      return;
    }
    const src = this.symbolBytes;
    for (let i = 0; i < 8; i++) { const c = src[from + i]; b[o + i] = c === 0 ? pad : c; }
  }
  ordTypeCodeOf(slot: number): number { return this.ordTypeArr[slot]; }
  tifCodeOf(slot: number): number { return this.tifArr[slot]; }
  liveChildCount(parent: number): number { return this.liveChildren[parent]; }
  ackedChildCount(parent: number): number { return this.ackedChildren[parent]; }
  pendingReplaceQty(slot: number): number { return this.pendQty[slot]; }
  pendingReplacePrice(slot: number): number { return this.pendPrice[slot]; }

  /** Live children of a parent, head first. Iterate with `nextLiveSibling` until -1. */
  firstLiveChild(parent: number): number { return this.firstChild[parent]; }
  nextLiveSibling(child: number): number { return this.nextSib[child]; }

  /** Open client (parent) orders for a symbol: what RiskChecker limits. */
  openOrders(symbol: string): number {
    const i = this.symbolIdx.get(symbol);
    return i === undefined ? 0 : this.openCount[i];
  }

  /** The same by the symbol's index (`internSymbol`): one typed-array load. */
  openOrdersAt(sym: number): number {
    return this.openCount[sym];
  }

  position(symbol: string): number {
    const i = this.symbolIdx.get(symbol);
    return i === undefined ? 0 : this.positionArr[i];
  }

  /** Sets a position outright (journal recovery). */
  setPosition(symbol: string, shares: number): void {
    this.positionArr[this.internSymbol(symbol)] = shares;
  }

  /** Symbols with a position or open orders. Not a hot-path call. */
  symbols(): string[] {
    return this.symbolNames.slice();
  }

  /** Slots of every live child order (kill switch, reconciliation). A scan of the table; not a hot-path call. */
  liveChildSlots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.capacity; s++) {
      if (this.inUse[s] === 1 && this.kind[s] === KIND_CHILD && !isTerminal(this.st[s])) out.push(s);
    }
    return out;
  }

  /**
   * Restores a child as it was (journal recovery). The parent must be restored first. Fills are
   * added to the parent but not to positions: recovery restores positions separately.
   */
  restoreChild(parent: number, clOrdId: string, venue: number, qty: number, price: number, state: number,
    filled: number, cancelled: number): number {
    const s = this.createChild(parent, clOrdId, venue, qty, price);
    if (s < 0) return s;
    this.filledArr[s] = filled;
    this.cancelledArr[s] = cancelled;
    this.filledArr[parent] += filled;
    // A recovered order whose cancel/replace was in flight comes back live; OrderRouter puts the
    // request back in flight (requestCancel/requestReplace) and sends it again after login.
    const live = state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE
      ? (filled > 0 ? OrderState.PARTIALLY_FILLED : OrderState.ACKNOWLEDGED) : state;
    this.st[s] = live;
    if (live !== OrderState.PENDING && live !== OrderState.SENT) this.ackedChildren[parent]++;
    this.refreshParent(parent);
    return s;
  }

  /** Sets a restored parent's total qty and fills (including children that finished before the restart). */
  restoreParentTotals(parent: number, qty: number, filled: number): void {
    this.qtyArr[parent] = qty;
    this.filledArr[parent] = filled;
    this.refreshParent(parent);
  }

  stats(): Record<string, number> {
    return {
      liveSlots: this.capacity - this.freeTop,
      capacity: this.capacity,
      illegalTransitions: this.illegalTransitions,
      unknownOrders: this.unknownOrders,
      overfills: this.overfills,
    };
  }

  // ---------------------------------------------------------------- internals

  private release(s: number): void {
    this.inUse[s] = 0;
    this.freeList[this.freeTop++] = s;
  }

  private initSlot(s: number, kind: number, key: number, id: string | undefined, sym: number, side: Side | number, qty: number, price: number,
    ordType: OrdType | number, tif: TimeInForce | number, venue: number, parent: number): void {
    this.kind[s] = kind;
    this.inUse[s] = 1;
    this.st[s] = OrderState.PENDING;
    this.prevSt[s] = OrderState.PENDING;
    this.sideArr[s] = typeof side === 'number' ? side : sideCode(side);
    this.ordTypeArr[s] = typeof ordType === 'number' ? ordType : ordType === 'LIMIT' ? 0 : 1;
    this.tifArr[s] = typeof tif === 'number' ? tif : tif === 'DAY' ? 0 : 1;
    this.venueArr[s] = venue;
    this.symArr[s] = sym;
    this.qtyArr[s] = qty;
    this.priceArr[s] = price;
    this.filledArr[s] = 0;
    this.cancelledArr[s] = 0;
    this.parentArr[s] = parent;
    this.firstChild[s] = NONE;
    this.nextSib[s] = NONE;
    this.prevSib[s] = NONE;
    this.liveChildren[s] = 0;
    this.ackedChildren[s] = 0;
    this.rejectedChildren[s] = 0;
    this.totalChildren[s] = 0;
    this.parentFlags[s] = 0;
    this.idKeys[s] = key;
    this.ids[s] = key >= 0 ? undefined : id;
    this.pendKeys[s] = -1;
    this.pendIds[s] = undefined;
    if (key >= 0) this.idFormat.writeWords(key, this.idWords, s * 4);
    else this.formatId(s, this.idBytes, s * 16, 14, 0);
    // The id was claimed for the slot by claimId.
  }

  /** Maps the id to slot `s` unless it is live already (false): a generated id in one probe. */
  private claimId(key: number, id: string | undefined, s: number): boolean {
    if (key >= 0) return this.keyToSlot.insert(key, s);
    if (this.idToSlot.has(id as string)) return false;
    this.idToSlot.set(id as string, s);
    return true;
  }

  private known(key: number, id: string | undefined): boolean {
    return key >= 0 ? this.keyToSlot.has(key) : this.idToSlot.has(id as string);
  }

  private forgetId(s: number): void {
    const key = this.idKeys[s];
    if (key >= 0) this.keyToSlot.delete(key); else this.idToSlot.delete(this.ids[s] as string);
  }

  private isPendingId(s: number, id: string): boolean {
    const key = this.idFormat.parse(id);
    return key >= 0 ? this.pendKeys[s] === key : this.pendIds[s] === id;
  }

  private lookup(clOrdId: string): number {
    const s = this.slotOf(clOrdId);
    if (s < 0) {
      this.unknownOrders++;
      return OmResult.UNKNOWN_ORDER;
    }
    if (this.kind[s] !== KIND_CHILD) return this.illegal();   // venues never see parent ids
    return s;
  }

  private live(state: number): boolean {
    return state === OrderState.SENT || state === OrderState.ACKNOWLEDGED || state === OrderState.PARTIALLY_FILLED ||
      state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE;
  }

  private illegal(): number {
    this.illegalTransitions++;
    return OmResult.ILLEGAL_TRANSITION;
  }

  private clearPendingReplace(s: number): void {
    const pkey = this.pendKeys[s];
    const pid = this.pendIds[s];
    if (pkey >= 0) this.keyToSlot.delete(pkey);
    else if (pid !== undefined) this.idToSlot.delete(pid);
    this.pendKeys[s] = -1;
    this.pendIds[s] = undefined;
    this.parentFlags[this.parentArr[s]] &= ~2;
  }

  /** Child reaches a terminal state: unlink from the parent, forget its id(s), free the slot. */
  private finish(s: number, state: number): void {
    if (this.st[s] === OrderState.PENDING_REPLACE) this.clearPendingReplace(s);
    this.st[s] = state;
    const p = this.parentArr[s];
    const prev = this.prevSib[s];
    const next = this.nextSib[s];
    if (prev !== NONE) this.nextSib[prev] = next; else this.firstChild[p] = next;
    if (next !== NONE) this.prevSib[next] = prev;
    this.liveChildren[p]--;
    this.forgetId(s);
    this.release(s);
  }

  /** Parent state from its children's aggregates; releases the parent when it becomes terminal. */
  private refreshParent(p: number): void {
    if (isTerminal(this.st[p])) return;
    let next: number;
    if (this.liveChildren[p] > 0) {
      const flags = this.parentFlags[p];
      // Pending flags are cleared lazily: only meaningful while some child is still pending.
      let pendingCancel = false;
      let pendingReplace = false;
      if (flags !== 0) {
        for (let c = this.firstChild[p]; c !== NONE; c = this.nextSib[c]) {
          if (this.st[c] === OrderState.PENDING_CANCEL) pendingCancel = true;
          else if (this.st[c] === OrderState.PENDING_REPLACE) pendingReplace = true;
        }
        if (!pendingCancel) this.parentFlags[p] &= ~1;
        if (!pendingReplace) this.parentFlags[p] &= ~2;
      }
      if (pendingCancel) next = OrderState.PENDING_CANCEL;
      else if (pendingReplace) next = OrderState.PENDING_REPLACE;
      else if (this.filledArr[p] > 0) next = OrderState.PARTIALLY_FILLED;
      else if (this.ackedChildren[p] > 0) next = OrderState.ACKNOWLEDGED;
      else {
        let anySent = false;
        for (let c = this.firstChild[p]; c !== NONE; c = this.nextSib[c]) if (this.st[c] !== OrderState.PENDING) anySent = true;
        next = anySent ? OrderState.SENT : OrderState.PENDING;
      }
      this.st[p] = next;
      return;
    }
    if (this.totalChildren[p] === 0) return;   // just created, children not yet added
    if (this.filledArr[p] === this.qtyArr[p]) next = OrderState.FILLED;
    else if (this.filledArr[p] === 0 && this.rejectedChildren[p] === this.totalChildren[p]) next = OrderState.REJECTED;
    else next = OrderState.CANCELLED;
    this.st[p] = next;
    this.openCount[this.symArr[p]]--;
    this.forgetId(p);
    this.release(p);
  }

  /**
   * The symbol's index, the same for the order table, RiskChecker's limits and the journal's symbol
   * bytes: a new order looks its symbol up once (OrderRouter), everything after goes by index.
   */
  internSymbol(symbol: string): number {
    let i = this.symbolIdx.get(symbol);
    if (i === undefined) {
      i = this.symbolNames.length;
      if (i >= this.openCount.length) {
        throw new TickpathError('ERR_ROUTER_SYMBOLS_FULL', `OrderManager: more than ${this.openCount.length} symbols`,
          'raise maxSymbols');
      }
      this.symbolIdx.set(symbol, i);
      this.symbolNames.push(symbol);
      writeAsciiZ(this.symbolBytes, i * 8, 8, symbol);
      writeAlpha(this.symbolSpaced, i * 8, 8, symbol);
    }
    return i;
  }

  /** The symbol's index if it was interned, else -1 (interns nothing). */
  symbolIndex(symbol: string): number {
    const i = this.symbolIdx.get(symbol);
    return i === undefined ? -1 : i;
  }

  /** Symbols interned so far (indices 0 .. symbolCount - 1). */
  get symbolCount(): number {
    return this.symbolNames.length;
  }
}
