/**
 * MOEX instruments (Symbol + TradingSessionID) to dense book locates 1..capacity, without building a
 * string: from the decoder's tape (resolve: the key bytes copied into a buffer zero-padded to whole
 * 32-bit words and compared a word at a time) or from the packet in place with the hashes a record
 * reader computed while decoding (resolveBytes: the incremental refresh's path, nothing copied).
 * Both hash the same way (fastRecordHash of each string, then keyHash), so an instrument has one
 * locate whichever channel names it. The display string ("CETS:USD000UTSTOM") is built once, the
 * first time an instrument is seen. Open addressing, linear probing; instruments are never removed
 * within a session. A full table counts `overflows` and returns 0 (the caller skips the entry).
 *
 * resolveBytes compares a candidate's key with the packet four bytes at a time (a DataView over the
 * packet's buffer, kept while the caller passes the same array): each string is stored a second
 * time as it is on the wire (the stop bit on its last byte) in little-endian words, so a word of
 * the packet compares as it is, the last one masked to the string's length. A byte at a time (with
 * the stop-bit mask) was about 20 ns of the 35 ns an incremental refresh entry spent resolving its
 * 14-byte SESSION:SYMBOL key. A key too near the end of the packet for a whole word, or a packet
 * with no buffer to view, is compared a byte at a time as before.
 *
 * In front of that table, resolveBytes keeps a direct-mapped cache of the keys it resolved: one
 * 64-byte line per slot (kCacheInts Int32 slots: both record hashes, both lengths, locate, the
 * session's wire word and up to 11 symbol wire words), indexed by the record hashes. A hit reads one line where the
 * table read six arrays (index, hashes, lengths, session and symbol words), about 30 ns an entry
 * at 500 instruments. A hit still compares every word of the key with the packet (equal hash and
 * lengths are not enough: keys built to collide in fastRecordHash stay apart), and a miss or a key
 * whose session is longer than one word goes to the table, which refills the slot.
 *
 * The incremental refresh now resolves with resolveKey: its record reader reads Symbol and
 * TradingSessionID as exact keys (fast-record-compiler.ts, want 'key': up to 12 ASCII characters in
 * three words, 8 bits a character), and a two-way set-associative cache of exact keys
 * (one 64-byte set: two lines of lengths, three symbol words, one session word, locate) answers with
 * five integer compares and no read of the packet: no DataView, no masks, no bounds to check, and
 * no hash in the reader. Keys that are not exact (a Symbol of more than 12 characters, a
 * TradingSessionID of more than 4, a preamble) are hashed from the packet and take resolveBytes as
 * before; a miss goes to the same table. Measured (perf:fast split, 300k X-OLR messages, separate
 * processes alternated old/new, load 7-11 on 2 vCPUs): instrument resolution 15.1-15.3 ns an entry
 * against 18.7-27.0 before (one new run at 37, noise), decode alone unchanged (61-65 both). Not
 * kept: a direct-mapped exact-key cache (500 keys over 8192 lines left about 20 pairs sharing a line,
 * evicting each other in turn: 4088 misses a session against 501); the second way fixed it (500).
 * Not looked up at all: an entry whose Symbol and TradingSessionID the reader copied from the
 * previous entry (the adapter reuses that entry's locate; several entries of one instrument in a
 * message, as a sweep of orders sends; the perf sessions pick instruments at random, so no figure).
 *
 * Single writer: the book adapter's thread.
 */
import { invalidOption } from '../../../errors';
import { FastDecoder } from '../fast-decoder';
import { fastRecordHash, kFastKeyBytes } from '../fast-record-compiler';

const kKeyBytes = 48;
/** TradingSessionID bytes at most (longer ones are not tracked), and its wire words per locate. */
const kSessionBytes = 15;
const kSessionWords = 4;
/** Symbol wire words per locate (kKeyBytes - 1 bytes at most). */
const kSymbolWords = kKeyBytes >> 2;
/**
 * resolveBytes' cache: Int32 slots a line (the Symbol's and TradingSessionID's record hashes, symbol
 * length * 256 + session length, locate, session wire word, symbol wire words), lines in the cache
 * (a power of two: any number of instruments, a line each, the rest never touched). A line is
 * chosen by one multiply of the record hashes (cacheLine), not keyHash's three: the look-up's
 * latency is the hash and the line's load in a row.
 */
const kCacheInts = 16;
const kCacheSymbolHash = 0;
const kCacheSessionHash = 1;
const kCacheLengths = 2;
const kCacheLocate = 3;
const kCacheSession = 4;
const kCacheSymbol = 5;
const kCacheLineBits = 13;
const kCacheLines = 1 << kCacheLineBits;
/** Session bytes a cache line holds (one word); symbol bytes likewise (kCacheInts - kCacheSymbol words). */
const kCacheSessionBytes = 4;
const kCacheSymbolBytes = (kCacheInts - kCacheSymbol) * 4;

/**
 * resolveKey's cache of exact keys: Int32 slots a line (symbol length * 256 + session length, the
 * Symbol's three key words, the TradingSessionID's first key word, locate), two lines a set.
 */
const kKeyCacheInts = 8;
const kKeyCacheLengths = 0;
const kKeyCacheSymbol = 1;
const kKeyCacheSession = 4;
const kKeyCacheLocate = 5;
/** Sets of two lines (ways) in the cache. */
const kKeyCacheSetBits = 13;
/** TradingSessionID bytes an exact key of the cache holds (its first key word). */
const kKeyCacheSessionBytes = 4;

/** One hash of an instrument key from its Symbol's and TradingSessionID's fastRecordHash and lengths. */
function keyHash(symbolHash: number, symbolLength: number, sessionHash: number, sessionLength: number): number {
  let h = Math.imul(symbolHash ^ Math.imul(sessionHash, 0x9e3779b1) ^ ((symbolLength << 8) | sessionLength), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  // 30 bits: a small integer wherever it is kept or passed.
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

export class MoexInstrumentTable {
  /** Instruments seen so far (locates 1..count). */
  count = 0;
  overflows = 0;
  private readonly capacity: number;
  private readonly table: Uint32Array;
  private readonly mask: number;
  private readonly keys: Uint8Array;
  private readonly keyLengths: Uint8Array;
  private readonly hashes: Uint32Array;
  private readonly names: string[];
  private readonly key = new Uint8Array(kKeyBytes);
  /** Word views of key and keys (kKeyBytes is a multiple of 4: a locate's key starts on a word). */
  private readonly key32 = new Uint32Array(this.key.buffer);
  private readonly keys32: Uint32Array;
  private keyLength = 0;
  /** Per locate: TradingSessionID's length, and both strings as on the wire (stop bit on the last byte) in little-endian words. */
  private readonly sessionLengths: Uint8Array;
  private readonly sessionWire: Int32Array;
  private readonly symbolWire: Int32Array;
  /** A little-endian view of the last packet array resolveBytes saw (a new one only when the array changes). */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewOf: Uint8Array | undefined;
  /** resolveBytes' direct-mapped cache (kCache* layout); a line whose lengths word is 0 is empty. */
  private readonly cache = new Int32Array(kCacheLines * kCacheInts);
  /** resolveKey's cache of exact keys (kKeyCache* layout); a line whose lengths word is 0 is empty. */
  private readonly keyCache: Int32Array;
  /** resolveBytes and resolveKey calls that missed their cache (tests, perf). */
  cacheMisses = 0;
  /** The view covers b exactly (false for an array with no ArrayBuffer of its own to view: bytes only). */
  private viewWhole = false;

  /** resolveKey's sets - 1 (a power of two less one): the set is bits 16.. of the key's hash. */
  private readonly keySetMask: number;

  /** keyCacheSetBits: log2 of resolveKey's sets (0..16; tests use one set, so that every key shares it). */
  constructor(capacity = 16384, keyCacheSetBits = kKeyCacheSetBits) {
    if (!Number.isInteger(keyCacheSetBits) || keyCacheSetBits < 0 || keyCacheSetBits > 16) {
      throw invalidOption('MoexInstrumentTable', 'keyCacheSetBits', keyCacheSetBits, 'an integer 0..16');
    }
    this.keySetMask = (1 << keyCacheSetBits) - 1;
    this.keyCache = new Int32Array((2 << keyCacheSetBits) * kKeyCacheInts);
    this.capacity = Math.min(65535, capacity);
    let size = 16;
    while (size < this.capacity * 2) size *= 2;
    this.table = new Uint32Array(size);
    this.mask = size - 1;
    this.keys = new Uint8Array((this.capacity + 1) * kKeyBytes);
    this.keys32 = new Uint32Array(this.keys.buffer);
    this.keyLengths = new Uint8Array(this.capacity + 1);
    this.hashes = new Uint32Array(this.capacity + 1);
    this.names = new Array<string>(this.capacity + 1).fill('');
    this.sessionLengths = new Uint8Array(this.capacity + 1);
    this.sessionWire = new Int32Array((this.capacity + 1) * kSessionWords);
    this.symbolWire = new Int32Array((this.capacity + 1) * kSymbolWords);
  }

  /** Locate of the instrument whose Symbol and TradingSessionID are at these tape slots (-1 = absent); 0 if it cannot be tracked. */
  resolve(d: FastDecoder, symbolSlot: number, sessionSlot: number): number {
    // Snapshots, trades and status (the incremental refresh uses resolveBytes on the packet). The
    // key's bytes are copied (unmasked from the packet's stop bit) into a buffer zero-padded to whole
    // 32-bit words and compared a word at a time; the hash is the record readers' (keyHash).
    const k = this.key;
    let n = 0;
    let sessionHash = 0;
    let sessionLength = 0;
    if (sessionSlot >= 0 && d.isPresent(sessionSlot)) {
      const len = d.byteLength(sessionSlot);
      if (len > kSessionBytes) return 0;
      const src = d.source(sessionSlot); const o = d.sourceOffset(sessionSlot); const m = d.sourceMask(sessionSlot);
      for (let i = 0; i < len; i++) k[n++] = src[o + i] & m;
      sessionHash = fastRecordHash(src, o, len, m);
      sessionLength = len;
    }
    k[n++] = 0x3a; // ':'
    if (symbolSlot < 0 || !d.isPresent(symbolSlot)) return 0;
    const len = d.byteLength(symbolSlot);
    if (len === 0 || len > kKeyBytes - n) return 0;
    const src = d.source(symbolSlot); const o = d.sourceOffset(symbolSlot); const m = d.sourceMask(symbolSlot);
    for (let i = 0; i < len; i++) k[n++] = src[o + i] & m;
    const words = (n + 3) >> 2;
    for (let i = n; i < words * 4; i++) k[i] = 0;
    this.keyLength = n;
    const h = keyHash(fastRecordHash(src, o, len, m), len, sessionHash, sessionLength);
    const table = this.table;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const locate = table[i];
      if (locate === 0) break;
      if (this.hashes[locate] === h && this.keyLengths[locate] === n && this.sameKey(locate, words)) return locate;
      i = (i + 1) & mask;
    }
    return this.add(i, h, sessionLength);
  }

  /**
   * Locate of the instrument whose ASCII Symbol and TradingSessionID (sessionLength 0: absent) are in
   * `b` in place (stop bit still set on their last bytes), with their hashes as the record readers
   * computed them while decoding (fast-record-compiler.ts): the incremental refresh's path, no copy.
   */
  resolveBytes(b: Uint8Array, symbolOffset: number, symbolLength: number, symbolHash: number, sessionOffset: number, sessionLength: number, sessionHash: number): number {
    // Kept small enough for V8 to inline into the caller's loop (a call took the arguments out of
    // registers); everything but a cache hit is in resolveMiss.
    const cache = this.cache;
    const line = (Math.imul(symbolHash ^ (sessionHash << 11) ^ symbolLength, 0x9e3779b1) >>> (32 - kCacheLineBits)) * kCacheInts;
    // The line holds these hashes and lengths, the words read stay inside the packet, and every word
    // of the key equals the packet's (the last one masked to the key's length).
    if (cache[line + kCacheSymbolHash] === symbolHash && cache[line + kCacheSessionHash] === sessionHash
      && cache[line + kCacheLengths] === symbolLength * 256 + sessionLength && sessionLength <= kCacheSessionBytes
      && b === this.viewOf && this.viewWhole && symbolOffset + symbolLength + 3 < b.length && sessionOffset + kCacheSessionBytes < b.length) {
      const view = this.view;
      let same = sessionLength === 0 || (view.getInt32(sessionOffset, true) & (-1 >>> (32 - (sessionLength << 3)))) === cache[line + kCacheSession];
      let j = 0;
      let at = line + kCacheSymbol;
      for (; same && j + 4 < symbolLength; j += 4) same = view.getInt32(symbolOffset + j, true) === cache[at++];
      if (same && (view.getInt32(symbolOffset + j, true) & (-1 >>> (32 - ((symbolLength - j) << 3)))) === cache[at]) return cache[line + kCacheLocate];
    }
    return this.resolveMiss(b, symbolOffset, symbolLength, symbolHash, sessionOffset, sessionLength, sessionHash, line);
  }

  /**
   * Locate of the instrument whose ASCII Symbol and TradingSessionID (sessionLength 0: absent) are in
   * `b` in place, with the exact keys a record reader computed while decoding (`want: 'key'`,
   * fastRecordKeyWords: symbol words y0..y2, the session's first word t0; y0 or t0 -1: no exact key,
   * a string longer than kFastKeyBytes or with a preamble). The incremental refresh's path: a hit
   * compares five integers with one cache line and reads nothing of the packet.
   */
  resolveKey(b: Uint8Array, symbolOffset: number, symbolLength: number, y0: number, y1: number, y2: number, sessionOffset: number, sessionLength: number, t0: number): number {
    // Kept small enough to be inlined into the caller's loop; everything but a hit is in resolveKeyMiss.
    // A line only ever holds an exact key (y0, t0 >= 0) with a session of at most one key word, so
    // equal lengths and words are the same strings: -1 never matches a stored word, and a longer
    // session's lengths word never matches a stored line.
    const cache = this.keyCache;
    // Two ways a set (a 64-byte set: one CPU cache line): the first tried here, the second in
    // resolveKeyMiss. Direct-mapped, 500 random keys left about 20 pairs sharing a line, and each
    // pair evicted the other in turn: 4088-4408 misses over the perf session against 501.
    let h = (y0 ^ Math.imul(y1, 0x85ebca6b) ^ Math.imul(y2 ^ (t0 << 4) ^ symbolLength, 0xc2b2ae35)) | 0;
    h = Math.imul(h ^ (h >>> 15), 0x9e3779b1);
    const line = ((h >>> 16) & this.keySetMask) * (2 * kKeyCacheInts);
    if (cache[line + kKeyCacheLengths] === symbolLength * 256 + sessionLength && cache[line + kKeyCacheSymbol] === y0 && cache[line + kKeyCacheSymbol + 1] === y1
      && cache[line + kKeyCacheSymbol + 2] === y2 && cache[line + kKeyCacheSession] === t0) return cache[line + kKeyCacheLocate];
    return this.resolveKeyMiss(b, symbolOffset, symbolLength, y0, y1, y2, sessionOffset, sessionLength, t0, line);
  }

  /** resolveKey past its cache: the table (an exact key refills the line), or resolveBytes' hashed path for a key that is not exact. */
  private resolveKeyMiss(b: Uint8Array, symbolOffset: number, symbolLength: number, y0: number, y1: number, y2: number, sessionOffset: number, sessionLength: number, t0: number,
    line: number): number {
    const cache = this.keyCache;
    const way = line + kKeyCacheInts;
    if (cache[way + kKeyCacheLengths] === symbolLength * 256 + sessionLength && cache[way + kKeyCacheSymbol] === y0 && cache[way + kKeyCacheSymbol + 1] === y1
      && cache[way + kKeyCacheSymbol + 2] === y2 && cache[way + kKeyCacheSession] === t0) return cache[way + kKeyCacheLocate];
    const symbolHash = symbolLength === 0 ? 0 : fastRecordHash(b, symbolOffset, symbolLength, 0x7f);
    const sessionHash = sessionLength === 0 ? 0 : fastRecordHash(b, sessionOffset, sessionLength, 0x7f);
    const exact = y0 >= 0 && t0 >= 0 && symbolLength >= 1 && symbolLength <= kFastKeyBytes && sessionLength <= kKeyCacheSessionBytes;
    if (!exact) return this.resolveBytes(b, symbolOffset, symbolLength, symbolHash, sessionOffset, sessionLength, sessionHash);
    this.cacheMisses++;
    if (b !== this.viewOf) this.viewOn(b);
    const locate = this.probe(b, this.view, symbolOffset, symbolLength, sessionOffset, sessionLength, keyHash(symbolHash, symbolLength, sessionHash, sessionLength));
    if (locate !== 0) {
      // The first way's key moves to the second (a set keeps its two most recent keys), this one into the first.
      if (cache[line + kKeyCacheLengths] !== 0) for (let k = 0; k < kKeyCacheInts; k++) cache[way + k] = cache[line + k];
      cache[line + kKeyCacheLengths] = symbolLength * 256 + sessionLength;
      cache[line + kKeyCacheSymbol] = y0;
      cache[line + kKeyCacheSymbol + 1] = y1;
      cache[line + kKeyCacheSymbol + 2] = y2;
      cache[line + kKeyCacheSession] = t0;
      cache[line + kKeyCacheLocate] = locate;
    }
    return locate;
  }

  /** resolveBytes past its cache: the table (a new locate for a key seen the first time), and the cache line refilled. */
  private resolveMiss(b: Uint8Array, symbolOffset: number, symbolLength: number, symbolHash: number, sessionOffset: number, sessionLength: number, sessionHash: number,
    line: number): number {
    this.cacheMisses++;
    if (symbolLength === 0 || sessionLength > kSessionBytes || symbolLength > kKeyBytes - 1 - sessionLength) return 0;
    if (b !== this.viewOf) this.viewOn(b);
    const locate = this.probe(b, this.view, symbolOffset, symbolLength, sessionOffset, sessionLength, keyHash(symbolHash, symbolLength, sessionHash, sessionLength));
    if (locate !== 0 && this.viewWhole && sessionLength <= kCacheSessionBytes && symbolLength <= kCacheSymbolBytes) {
      // The line now holds this key (the key as the table stored it, on the wire).
      const cache = this.cache;
      cache[line + kCacheSymbolHash] = symbolHash;
      cache[line + kCacheSessionHash] = sessionHash;
      cache[line + kCacheLengths] = symbolLength * 256 + sessionLength;
      cache[line + kCacheLocate] = locate;
      cache[line + kCacheSession] = this.sessionWire[locate * kSessionWords];
      const from = locate * kSymbolWords;
      for (let w = 0; w < (symbolLength + 3) >> 2; w++) cache[line + kCacheSymbol + w] = this.symbolWire[from + w];
    }
    return locate;
  }

  /** resolveBytes past its cache: the open-addressed table, and a new locate for a key seen the first time. */
  private probe(b: Uint8Array, view: DataView<ArrayBufferLike>, symbolOffset: number, symbolLength: number, sessionOffset: number, sessionLength: number, h: number): number {
    const n = sessionLength + 1 + symbolLength;
    const table = this.table;
    const mask = this.mask;
    const keys = this.keys;
    // Whole words of the packet when every word read stays inside it (the key's last word may run
    // past its last byte: masked); else bytes.
    const wordsFit = this.viewWhole && symbolOffset + symbolLength + 3 < b.length && sessionOffset + sessionLength + 3 < b.length;
    let i = h & mask;
    for (;;) {
      const locate = table[i];
      if (locate === 0) break;
      if (this.hashes[locate] === h && this.keyLengths[locate] === n && this.sessionLengths[locate] === sessionLength && wordsFit) {
        // In line (two calls cost what the words save): whole words, then the last one masked.
        const sw = this.sessionWire; const yw = this.symbolWire;
        let at = locate * kSessionWords;
        let j = 0;
        for (; j + 4 <= sessionLength; j += 4) if (view.getInt32(sessionOffset + j, true) !== sw[at++]) break;
        if (j + 4 <= sessionLength || (j < sessionLength && (view.getInt32(sessionOffset + j, true) & ((1 << ((sessionLength - j) << 3)) - 1)) !== sw[at])) { i = (i + 1) & mask; continue; }
        at = locate * kSymbolWords;
        j = 0;
        for (; j + 4 <= symbolLength; j += 4) if (view.getInt32(symbolOffset + j, true) !== yw[at++]) break;
        if (j + 4 <= symbolLength || (j < symbolLength && (view.getInt32(symbolOffset + j, true) & ((1 << ((symbolLength - j) << 3)) - 1)) !== yw[at])) { i = (i + 1) & mask; continue; }
        return locate;
      } else if (this.hashes[locate] === h && this.keyLengths[locate] === n) {
        const base = locate * kKeyBytes;
        let same = true;
        for (let j = 0; j < sessionLength; j++) if (keys[base + j] !== (b[sessionOffset + j] & 0x7f)) { same = false; break; }
        if (same) {
          const at = base + sessionLength + 1;
          for (let j = 0; j < symbolLength; j++) if (keys[at + j] !== (b[symbolOffset + j] & 0x7f)) { same = false; break; }
          if (same) return locate;
        }
      }
      i = (i + 1) & mask;
    }
    // First sight: the key into this.key, as resolve() builds it.
    const k = this.key;
    let w = 0;
    for (let j = 0; j < sessionLength; j++) k[w++] = b[sessionOffset + j] & 0x7f;
    k[w++] = 0x3a;
    for (let j = 0; j < symbolLength; j++) k[w++] = b[symbolOffset + j] & 0x7f;
    const words = (w + 3) >> 2;
    for (let j = w; j < words * 4; j++) k[j] = 0;
    this.keyLength = w;
    return this.add(i, h, sessionLength);
  }

  /** A DataView of `b`'s bytes (resolveBytes; once per array, not per packet, when the caller reuses its buffer). */
  private viewOn(b: Uint8Array): DataView<ArrayBufferLike> {
    this.viewOf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.viewWhole = this.view.byteLength === b.length;
    return this.view;
  }


  /** Locate of an instrument by its display name (tools, tests); 0 if unknown. */
  locateOf(session: string, symbol: string): number {
    const name = `${session}:${symbol}`;
    for (let i = 1; i <= this.count; i++) if (this.names[i] === name) return i;
    return 0;
  }

  name(locate: number): string { return this.names[locate] ?? ''; }

  /** A new locate for this.key (keyLength bytes, its first sessionLength the TradingSessionID) at free table index `i`; 0 when the table is full. */
  private add(i: number, h: number, sessionLength: number): number {
    if (this.count >= this.capacity) { this.overflows++; return 0; }
    const n = this.keyLength;
    const words = (n + 3) >> 2;
    const locate = ++this.count;
    this.table[i] = locate;
    this.hashes[locate] = h;
    this.keyLengths[locate] = n;
    const base = locate * kKeyBytes;
    for (let j = 0; j < words * 4; j++) this.keys[base + j] = this.key[j]; // zero padding included
    this.sessionLengths[locate] = sessionLength;
    this.storeWire(0, sessionLength, this.sessionWire, locate * kSessionWords);
    this.storeWire(sessionLength + 1, n - sessionLength - 1, this.symbolWire, locate * kSymbolWords);
    this.names[locate] = String.fromCharCode(...this.key.subarray(0, n)).replace(/^:/, '');
    return locate;
  }

  /** this.key's bytes from..from+length as on the wire (stop bit on the last) into little-endian words at `base`, zero-padded. */
  private storeWire(from: number, length: number, wire: Int32Array, base: number): void {
    for (let j = 0; j < length; j += 4) {
      let w = 0;
      for (let k = 0; k < 4 && j + k < length; k++) w |= (this.key[from + j + k] | (j + k === length - 1 ? 0x80 : 0)) << (8 * k);
      wire[base + (j >> 2)] = w;
    }
  }

  /** The stored key of `locate` equals this.key, compared in whole (zero-padded) words. */
  private sameKey(locate: number, words: number): boolean {
    const keys32 = this.keys32; const k32 = this.key32; const base = locate * (kKeyBytes >> 2);
    for (let j = 0; j < words; j++) if (keys32[base + j] !== k32[j]) return false;
    return true;
  }
}
