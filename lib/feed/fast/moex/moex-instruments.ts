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
 * Single writer: the book adapter's thread.
 */
import { FastDecoder } from '../fast-decoder';
import { fastRecordHash } from '../fast-record-compiler';

const kKeyBytes = 48;

/** One hash of an instrument key from its Symbol's and TradingSessionID's fastRecordHash and lengths. */
function keyHash(symbolHash: number, symbolLength: number, sessionHash: number, sessionLength: number): number {
  let h = Math.imul(symbolHash ^ Math.imul(sessionHash, 0x9e3779b1) ^ ((symbolLength << 8) | sessionLength), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
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

  constructor(capacity = 16384) {
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
      if (len > 15) return 0;
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
    return this.add(i, h);
  }

  /**
   * Locate of the instrument whose ASCII Symbol and TradingSessionID (sessionLength 0: absent) are in
   * `b` in place (stop bit still set on their last bytes), with their hashes as the record readers
   * computed them while decoding (fast-record-compiler.ts): the incremental refresh's path, no copy.
   */
  resolveBytes(b: Uint8Array, symbolOffset: number, symbolLength: number, symbolHash: number, sessionOffset: number, sessionLength: number, sessionHash: number): number {
    if (symbolLength === 0 || sessionLength > 15 || symbolLength > kKeyBytes - 1 - sessionLength) return 0;
    const n = sessionLength + 1 + symbolLength;
    const h = keyHash(symbolHash, symbolLength, sessionHash, sessionLength);
    const table = this.table;
    const mask = this.mask;
    const keys = this.keys;
    let i = h & mask;
    for (;;) {
      const locate = table[i];
      if (locate === 0) break;
      if (this.hashes[locate] === h && this.keyLengths[locate] === n) {
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
    return this.add(i, h);
  }

  /** Locate of an instrument by its display name (tools, tests); 0 if unknown. */
  locateOf(session: string, symbol: string): number {
    const name = `${session}:${symbol}`;
    for (let i = 1; i <= this.count; i++) if (this.names[i] === name) return i;
    return 0;
  }

  name(locate: number): string { return this.names[locate] ?? ''; }

  /** A new locate for this.key (keyLength bytes) at free table index `i`; 0 when the table is full. */
  private add(i: number, h: number): number {
    if (this.count >= this.capacity) { this.overflows++; return 0; }
    const n = this.keyLength;
    const words = (n + 3) >> 2;
    const locate = ++this.count;
    this.table[i] = locate;
    this.hashes[locate] = h;
    this.keyLengths[locate] = n;
    const base = locate * kKeyBytes;
    for (let j = 0; j < words * 4; j++) this.keys[base + j] = this.key[j]; // zero padding included
    this.names[locate] = String.fromCharCode(...this.key.subarray(0, n)).replace(/^:/, '');
    return locate;
  }

  /** The stored key of `locate` equals this.key, compared in whole (zero-padded) words. */
  private sameKey(locate: number, words: number): boolean {
    const keys32 = this.keys32; const k32 = this.key32; const base = locate * (kKeyBytes >> 2);
    for (let j = 0; j < words; j++) if (keys32[base + j] !== k32[j]) return false;
    return true;
  }
}
