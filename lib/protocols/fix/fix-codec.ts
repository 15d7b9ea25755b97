/**
 * FIX 4.2 / 4.4 tag=value codec.
 *
 * `FixEncoder` writes one message at a time into a caller-owned buffer (normally a `TxRing`),
 * leaving headroom in front of the body so BeginString and BodyLength(9) can be written once the
 * body length is known, then appends CheckSum(10): no string concatenation, no per-message Buffer.
 *
 * `FixParser` turns a TCP byte stream into messages, validating BeginString, BodyLength and
 * CheckSum. It never throws on network input: garbage before a message, bad lengths and bad
 * checksums are counted and reported (with the raw bytes) through `onBad`, and parsing resumes at
 * the next "8=FIX". Each good message is handed out as the flyweight `FixMessage`, whose field
 * index lives in typed arrays allocated once. Messages are parsed where they lie in the pushed
 * chunk (a transport's receive region) unless bytes are held from an earlier chunk; only an
 * incomplete tail is copied, so a `FixMessage` is valid during its callback only.
 *
 * Threading: a parser and an encoder belong to one session on one event loop.
 */

export const SOH = 0x01;
const kEq = 0x3d;

// Tags the session layer and connectors use.
export const Tag = {
  Account: 1, AvgPx: 6, BeginSeqNo: 7, BeginString: 8, BodyLength: 9, CheckSum: 10, ClOrdID: 11, CumQty: 14,
  EndSeqNo: 16, ExecID: 17, ExecTransType: 20, HandlInst: 21, LastPx: 31, LastShares: 32, MsgSeqNum: 34,
  MsgType: 35, NewSeqNo: 36, OrderID: 37, OrderQty: 38, OrdStatus: 39, OrdType: 40, OrigClOrdID: 41,
  PossDupFlag: 43, Price: 44, RefSeqNum: 45, SenderCompID: 49, SendingTime: 52, Side: 54, Symbol: 55,
  TargetCompID: 56, Text: 58, TimeInForce: 59, TransactTime: 60, EncryptMethod: 98, CxlRejReason: 102,
  PossResend: 97, OrdRejReason: 103, HeartBtInt: 108, TestReqID: 112, OrigSendingTime: 122, GapFillFlag: 123,
  ResetSeqNumFlag: 141, ExecType: 150, LeavesQty: 151, SessionRejectReason: 373, CxlRejResponseTo: 434,
} as const;

export const MsgType = {
  Heartbeat: 0x30, TestRequest: 0x31, ResendRequest: 0x32, Reject: 0x33, SequenceReset: 0x34, Logout: 0x35,
  ExecutionReport: 0x38, OrderCancelReject: 0x39, Logon: 0x41, NewOrderSingle: 0x44, OrderCancelRequest: 0x46,
  OrderCancelReplaceRequest: 0x47,
} as const;

/** Admin (session-level) message types are single characters 0-5 and A. */
export function isAdminMsgType(t: number): boolean {
  return (t >= 0x30 && t <= 0x35) || t === 0x41;
}

export type FixVersion = 'FIX.4.2' | 'FIX.4.4';

/** Room left in front of the body for "8=FIX.4.4<SOH>9=NNNNNNN<SOH>". */
const kHeadroom = 24;
const kBegin42 = Buffer.from('8=FIX.4.2', 'latin1');
const kBegin44 = Buffer.from('8=FIX.4.4', 'latin1');
const byteSum = (b: Buffer): number => { let t = 0; for (let i = 0; i < b.length; i++) t += b[i]; return t; };
/** Sums of "8=FIX.4.x<SOH>9=" and the "<SOH>" after BodyLength: constant CheckSum terms. */
const kBeginSum42 = byteSum(kBegin42) + SOH + 0x39 + kEq + SOH;
const kBeginSum44 = byteSum(kBegin44) + SOH + 0x39 + kEq + SOH;

/**
 * A session's standard header laid out once per message type: "35=<type><SOH>49=<sender><SOH>
 * 56=<target><SOH>34=" and the sum of its bytes, so `FixEncoder.beginHeader` copies it and the
 * CheckSum does not sum it again. Only MsgSeqNum and SendingTime are written per message.
 */
export class FixHeaderTemplate {
  readonly bytes: Buffer;
  readonly sum: number;
  constructor(msgType: string, senderCompId: string, targetCompId: string) {
    this.bytes = Buffer.from(`35=${msgType}\x0149=${senderCompId}\x0156=${targetCompId}\x0134=`, 'latin1');
    this.sum = byteSum(this.bytes);
  }
}
/**
 * The sum of buf[s, e), four bytes per step: each 32-bit word's bytes go into two 16-bit lanes
 * (bytes 0 and 2, bytes 1 and 3), folded every 128 words before a lane can overflow. Why: the
 * CheckSum over a message's body was a byte loop on every send (both ends of the round trip);
 * measured alone on a 190-byte body, 157 -> 81 ns per message. `dv` views the same bytes as `buf`.
 */
export function byteSumOf(buf: Buffer, dv: DataView<ArrayBufferLike>, s: number, e: number): number {
  let sum = 0;
  let p = s;
  while (e - p >= 4) {
    let lanes = 0;
    const stop = Math.min(e - 3, p + 512);
    for (; p < stop; p += 4) {
      const w = dv.getUint32(p, true);
      lanes += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
    }
    sum += (lanes & 0xffff) + (lanes >>> 16);
  }
  for (; p < e; p++) sum += buf[p];
  return sum;
}

/** Bytes after the body: "10=NNN<SOH>". */
const kTrailer = 7;

/** Writes `value` (a non-negative integer) as ASCII digits at `o`; returns the end offset. */
export function writeUint(buf: Buffer, o: number, value: number): number {
  if (value === 0) { buf[o] = 0x30; return o + 1; }
  if (value < 0x80000000) {
    // Small integers (sequence numbers, quantities, tags): int32 division, no Math.floor.
    let digits = 1;
    for (let v = (value / 10) | 0; v > 0; v = (v / 10) | 0) digits++;
    let v = value | 0;
    for (let i = o + digits - 1; i >= o; i--) { const q = (v / 10) | 0; buf[i] = 0x30 + v - q * 10; v = q; }
    return o + digits;
  }
  let digits = 0;
  for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = o + digits - 1; i >= o; i--) {
    buf[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return o + digits;
}

/**
 * Writes a Price(4) integer as a decimal ("12.345", "7", "-0.01"), trailing zeros trimmed: FIX
 * prices are decimals, OUCH/ITCH prices are integer ten-thousandths.
 */
export function writePrice4(buf: Buffer, o: number, price4: number): number {
  if (price4 < 0) { buf[o++] = 0x2d; price4 = -price4; }
  if (price4 < 0x80000000) {
    // Int32 arithmetic for the usual prices (under $214,748): no Math.floor, no float modulo.
    const w = (price4 / 10000) | 0;
    let f = price4 - w * 10000;
    o = writeUint(buf, o, w);
    if (f === 0) return o;
    buf[o++] = 0x2e;
    let width = 4;
    while (f - ((f / 10) | 0) * 10 === 0) { f = (f / 10) | 0; width--; }
    for (let i = width - 1; i >= 0; i--) { const q = (f / 10) | 0; buf[o + i] = 0x30 + f - q * 10; f = q; }
    return o + width;
  }
  const whole = Math.floor(price4 / 10000);
  let frac = price4 - whole * 10000;
  o = writeUint(buf, o, whole);
  if (frac === 0) return o;
  buf[o++] = 0x2e;
  let width = 4;
  while (frac % 10 === 0) { frac /= 10; width--; }
  for (let i = width - 1; i >= 0; i--) {
    buf[o + i] = 0x30 + (frac % 10);
    frac = Math.floor(frac / 10);
  }
  return o + width;
}

/** Parses a decimal at buf[s, e) into Price(4), rounding half away from zero; NaN when malformed. */
export function parsePrice4(buf: Buffer, s: number, e: number): number {
  let neg = false;
  if (s < e && buf[s] === 0x2d) { neg = true; s++; }
  if (s >= e) return NaN;
  let whole = 0;
  let frac = 0;
  let fracDigits = -1;
  let roundUp = false;
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c === 0x2e) { if (fracDigits >= 0) return NaN; fracDigits = 0; continue; }
    if (c < 0x30 || c > 0x39) return NaN;
    if (fracDigits < 0) whole = whole * 10 + (c - 0x30);
    else if (fracDigits < 4) { frac = frac * 10 + (c - 0x30); fracDigits++; }
    else if (fracDigits === 4) { roundUp = c >= 0x35; fracDigits++; }
  }
  for (let d = Math.max(fracDigits, 0); d < 4; d++) frac *= 10;
  const v = whole * 10000 + frac + (roundUp ? 1 : 0);
  return neg ? -v : v;
}

// "YYYYMMDD-HH:MM:SS" of the last second formatted: a Date is built once per second, not per message.
const kSecondText = Buffer.alloc(17);
let cachedSecond = -1;

/** Writes UTCTimestamp "YYYYMMDD-HH:MM:SS.sss" for `ms` since the epoch; returns the end offset. */
export function writeUtcTimestamp(buf: Buffer, o: number, ms: number): number {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    const t = kSecondText;
    const two = (v: number, at: number) => { t[at] = 0x30 + Math.floor(v / 10); t[at + 1] = 0x30 + (v % 10); };
    const y = d.getUTCFullYear();
    two(Math.floor(y / 100), 0); two(y % 100, 2); two(d.getUTCMonth() + 1, 4); two(d.getUTCDate(), 6); t[8] = 0x2d;
    two(d.getUTCHours(), 9); t[11] = 0x3a; two(d.getUTCMinutes(), 12); t[14] = 0x3a; two(d.getUTCSeconds(), 15);
    cachedSecond = second;
  }
  for (let i = 0; i < 17; i++) buf[o + i] = kSecondText[i]; // cheaper than a native copy for 17 bytes
  const msec = ms - second * 1000;
  buf[o + 17] = 0x2e;
  buf[o + 18] = 0x30 + Math.floor(msec / 100);
  buf[o + 19] = 0x30 + (Math.floor(msec / 10) % 10);
  buf[o + 20] = 0x30 + (msec % 10);
  return o + 21;
}

/**
 * buf[s, e) as a latin1 string. Values up to 12 bytes (ids, symbols, numbers) are made by one
 * String.fromCharCode call: a flat string, 2-4x cheaper than Buffer#toString's native call for a
 * value this short (several per message on each end). Longer ones go through toString.
 */
const fc = String.fromCharCode;
export function latin1Short(b: Buffer, s: number, e: number): string {
  switch (e - s) {
    case 0: return '';
    case 1: return fc(b[s]);
    case 2: return fc(b[s], b[s + 1]);
    case 3: return fc(b[s], b[s + 1], b[s + 2]);
    case 4: return fc(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    case 9: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8]);
    case 10: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9]);
    case 11: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10]);
    case 12: return fc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11]);
    default: return b.toString('latin1', s, e);
  }
}

/**
 * Encoder for one outbound message at a time. Usage: `begin(buf, base, version, msgType)`, then
 * field calls in wire order, then `finish()` which returns the message's start offset (the end
 * is `end`). `base` must leave `maxMessage` bytes of room.
 */
export class FixEncoder {
  buf: Buffer = Buffer.alloc(0);
  private base = 0;
  private bodyStart = 0;
  start = 0;
  end = 0;
  private version: FixVersion = 'FIX.4.2';
  /** CheckSum terms already known: bytes [bodyStart, sumFrom) sum to `preSum` (a header template's). */
  private sumFrom = 0;
  private preSum = 0;
  /** A view of `buf` for the CheckSum's word reads, made again only when the buffer changes (a session's is its send ring). */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(8));
  private viewOf: Buffer | null = null;

  begin(buf: Buffer, base: number, version: FixVersion, msgType: string): this {
    this.buf = buf;
    this.base = base;
    this.version = version;
    this.bodyStart = base + kHeadroom;
    this.end = this.bodyStart;
    this.sumFrom = this.bodyStart;
    this.preSum = 0;
    return this.str(Tag.MsgType, msgType);
  }

  /**
   * `begin` plus the standard header from a template: the same bytes as
   * begin(msgType).str(49, sender).str(56, target).int(34, seq).time(52, ms), with the template
   * copied by a byte loop (cheaper than a native copy at this size) and its sum taken as known.
   */
  beginHeader(buf: Buffer, base: number, version: FixVersion, t: FixHeaderTemplate, seq: number, ms: number): this {
    this.buf = buf;
    this.base = base;
    this.version = version;
    let o = base + kHeadroom;
    this.bodyStart = o;
    const src = t.bytes;
    const n = src.length;
    for (let i = 0; i < n; i++) buf[o + i] = src[i];
    o += n;
    this.sumFrom = o;
    this.preSum = t.sum;
    o = writeUint(buf, o, seq);
    buf[o] = SOH; buf[o + 1] = 0x35; buf[o + 2] = 0x32; buf[o + 3] = kEq;
    o = writeUtcTimestamp(buf, o + 4, ms);
    buf[o] = SOH;
    this.end = o + 1;
    return this;
  }

  /** "tag=": the tags of the standard and order messages (1-999) straight-line, no digit loop. */
  private tag(tag: number): void {
    const buf = this.buf;
    let o = this.end;
    if (tag < 10) buf[o++] = 0x30 + tag;
    else if (tag < 100) { const q = (tag / 10) | 0; buf[o] = 0x30 + q; buf[o + 1] = 0x30 + tag - q * 10; o += 2; }
    else if (tag < 1000) {
      const h = (tag / 100) | 0;
      const r = tag - h * 100;
      const q = (r / 10) | 0;
      buf[o] = 0x30 + h; buf[o + 1] = 0x30 + q; buf[o + 2] = 0x30 + r - q * 10; o += 3;
    } else o = writeUint(buf, o, tag);
    buf[o] = kEq;
    this.end = o + 1;
  }

  str(tag: number, value: string): this {
    this.tag(tag);
    const n = value.length;
    if (n <= 32) {
      // Short values (ids, symbols): a JS loop beats the native Buffer.write call's fixed cost.
      const buf = this.buf;
      let o = this.end;
      for (let i = 0; i < n; i++) buf[o++] = value.charCodeAt(i);
      this.end = o;
    } else {
      this.end += this.buf.write(value, this.end, 'latin1');
    }
    this.buf[this.end++] = SOH;
    return this;
  }

  char(tag: number, code: number): this {
    this.tag(tag);
    this.buf[this.end++] = code;
    this.buf[this.end++] = SOH;
    return this;
  }

  int(tag: number, value: number): this {
    this.tag(tag);
    if (value < 0) { this.buf[this.end++] = 0x2d; value = -value; }
    this.end = writeUint(this.buf, this.end, value);
    this.buf[this.end++] = SOH;
    return this;
  }

  /** A value of one ASCII character then a non-negative integer (an id such as X123), without building its string. */
  prefixedUint(tag: number, prefix: number, value: number): this {
    this.tag(tag);
    this.buf[this.end++] = prefix;
    this.end = writeUint(this.buf, this.end, value);
    this.buf[this.end++] = SOH;
    return this;
  }

  price4(tag: number, price4: number): this {
    this.tag(tag);
    this.end = writePrice4(this.buf, this.end, price4);
    this.buf[this.end++] = SOH;
    return this;
  }

  time(tag: number, ms: number): this {
    this.tag(tag);
    this.end = writeUtcTimestamp(this.buf, this.end, ms);
    this.buf[this.end++] = SOH;
    return this;
  }

  /** Copies a field's raw "tag=value<SOH>" bytes from another message (resends). */
  rawField(src: Buffer, s: number, e: number): this {
    src.copy(this.buf, this.end, s, e);
    this.end += e - s;
    return this;
  }

  /** Writes BeginString and BodyLength in front of the body and CheckSum after it. */
  finish(): number {
    const buf = this.buf;
    const bodyLen = this.end - this.bodyStart;
    // "9=<len><SOH>" ending right before the body.
    let digits = 1;
    for (let v = bodyLen; v >= 10; v = Math.floor(v / 10)) digits++;
    let p = this.bodyStart - 1;
    buf[p] = SOH;
    let v = bodyLen;
    for (let i = 0; i < digits; i++) { buf[--p] = 0x30 + (v % 10); v = Math.floor(v / 10); }
    buf[--p] = kEq;
    buf[--p] = 0x39; // '9'
    buf[--p] = SOH;
    p -= 9;
    const v44 = this.version === 'FIX.4.4';
    const begin = v44 ? kBegin44 : kBegin42;
    for (let i = 0; i < 9; i++) buf[p + i] = begin[i];
    this.start = p;
    // CheckSum: the constant BeginString/"9=" terms, BodyLength's digits, the template's known sum
    // and the rest of the body summed here.
    let sum = (v44 ? kBeginSum44 : kBeginSum42) + this.preSum;
    for (let i = this.bodyStart - 1 - digits; i < this.bodyStart - 1; i++) sum += buf[i];
    if (this.viewOf !== buf) { this.view = new DataView(buf.buffer, buf.byteOffset, buf.length); this.viewOf = buf; }
    sum = (sum + byteSumOf(buf, this.view, this.sumFrom, this.end)) & 0xff;
    buf[this.end] = 0x31; buf[this.end + 1] = 0x30; buf[this.end + 2] = kEq;
    buf[this.end + 3] = 0x30 + Math.floor(sum / 100);
    buf[this.end + 4] = 0x30 + (Math.floor(sum / 10) % 10);
    buf[this.end + 5] = 0x30 + (sum % 10);
    buf[this.end + 6] = SOH;
    this.end += kTrailer;
    return p;
  }

  get length(): number { return this.end - this.start; }
  /** Offset where `begin` started this message (for ring bookkeeping). */
  get reservedAt(): number { return this.base; }
}

/** Most fields a message may carry; longer messages are counted malformed. */
const kMaxFields = 512;

/** Tags below this are found through a direct table (FixMessage.indexOf); every tag this project reads but two is. */
const kDirectTags = 256;

/**
 * Flyweight over one parsed message. Valid only during the parser callback (the bytes live in the
 * parser's buffer). Allocates nothing. A tag below 256 is found through a table the parser fills
 * as it indexes the fields (its first field's index, marked with the message's generation, so no
 * table is cleared per message); others by a linear scan. Why: a message was looked up a dozen to
 * two dozen times (the session's MsgSeqNum twice and PossDupFlag, which an order does not carry, so
 * every field; the front end's or connector's fields), each a scan from the first field.
 */
export class FixMessage {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  count = 0;
  readonly tags = new Int32Array(kMaxFields);
  readonly valueStart = new Int32Array(kMaxFields);
  readonly valueEnd = new Int32Array(kMaxFields);
  /** First byte of MsgType(35) (the message types this project uses are one character). */
  msgType = 0;
  msgTypeLen = 0;
  /** Per tag below kDirectTags: its first field's index, valid while tagGen[tag] === gen. */
  private readonly tagPos = new Int16Array(kDirectTags);
  private readonly tagGen = new Int32Array(kDirectTags);
  private gen = 1;

  /** Starts a new message: no fields (FixParser, before it indexes them with addField). */
  begin(buf: Buffer, start: number, end: number): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.count = 0;
    this.msgType = 0;
    this.msgTypeLen = 0;
    if (this.gen === 0x7fffffff) { this.tagGen.fill(0); this.gen = 0; }
    this.gen++;
  }

  /** Appends field `tag` with its value at [vs, ve) (FixParser; the caller checks kMaxFields). */
  addField(tag: number, vs: number, ve: number): void {
    const i = this.count;
    this.tags[i] = tag;
    this.valueStart[i] = vs;
    this.valueEnd[i] = ve;
    this.count = i + 1;
    if (tag < kDirectTags && this.tagGen[tag] !== this.gen) { this.tagGen[tag] = this.gen; this.tagPos[tag] = i; }
  }

  indexOf(tag: number): number {
    if (tag >= 0 && tag < kDirectTags) return this.tagGen[tag] === this.gen ? this.tagPos[tag] : -1;
    for (let i = 0; i < this.count; i++) if (this.tags[i] === tag) return i;
    return -1;
  }
  has(tag: number): boolean { return this.indexOf(tag) >= 0; }
  getStr(tag: number, fallback = ''): string {
    const i = this.indexOf(tag);
    return i < 0 ? fallback : latin1Short(this.buf, this.valueStart[i], this.valueEnd[i]);
  }
  /** Integer value, or `fallback` when absent or not a plain non-negative integer. */
  getInt(tag: number, fallback = -1): number {
    const i = this.indexOf(tag);
    if (i < 0) return fallback;
    let v = 0;
    const s = this.valueStart[i];
    const e = this.valueEnd[i];
    if (s === e) return fallback;
    for (let p = s; p < e; p++) {
      const c = this.buf[p];
      if (c < 0x30 || c > 0x39) return fallback;
      v = v * 10 + (c - 0x30);
    }
    return v;
  }
  /** First character code of the value, or 0 when absent. */
  getChar(tag: number): number {
    const i = this.indexOf(tag);
    return i < 0 || this.valueStart[i] === this.valueEnd[i] ? 0 : this.buf[this.valueStart[i]];
  }
  getPrice4(tag: number): number {
    const i = this.indexOf(tag);
    return i < 0 ? NaN : parsePrice4(this.buf, this.valueStart[i], this.valueEnd[i]);
  }
  /** Offset of field `i`'s tag (its "tag=value<SOH>" bytes run to valueEnd[i] + 1). */
  fieldStart(i: number): number {
    let p = this.valueStart[i] - 2;
    while (p > this.start && this.buf[p - 1] !== SOH) p--;
    return p;
  }
  /** A copy of the whole message (stores and logs only). */
  copy(): Buffer { return Buffer.from(this.buf.subarray(this.start, this.end)); }
  toString(): string { return this.buf.toString('latin1', this.start, this.end).replace(/\x01/g, '|'); }
}

export type FixBadReason = 'garbage' | 'bad-begin-string' | 'bad-body-length' | 'bad-checksum' | 'bad-field' | 'too-large';

export interface FixParserOptions {
  /** Largest message accepted; longer ones are dropped as 'too-large'. */
  maxMessage?: number;
  /** Called for every dropped byte run; `raw` is a copy of the offending bytes (bounded). */
  onBad?: (reason: FixBadReason, raw: Buffer) => void;
}

const k8eqFIX = Buffer.from('8=FIX');

/** Incremental FIX stream parser; see the file comment. */
export class FixParser {
  private buf: Buffer;
  private len = 0;
  private readonly msg = new FixMessage();
  private readonly maxMessage: number;
  private readonly onBad: (reason: FixBadReason, raw: Buffer) => void;
  readonly counters = { messages: 0, badChecksums: 0, badFrames: 0, garbageBytes: 0 };

  constructor(private readonly onMessage: (msg: FixMessage) => void, options: FixParserOptions = {}) {
    this.maxMessage = options.maxMessage ?? 65536;
    this.buf = Buffer.allocUnsafe(Math.max(4096, this.maxMessage * 2));
    this.onBad = options.onBad ?? (() => {});
  }

  /**
   * Feeds chunk[start, end) (the native transport's receive region, without a view per read);
   * returns how many good messages it completed.
   */
  push(chunk: Buffer, start = 0, end = chunk.length): number {
    if (this.len === 0) return this.pushInPlace(chunk, start, end);
    const n = end - start;
    if (this.len + n > this.buf.length) {
      // Only reachable with a chunk larger than the buffer: grow once, rare.
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    chunk.copy(this.buf, this.len, start, end);
    this.len += n;
    const resets = this.resets;
    let pos = 0;
    let count = 0;
    for (;;) {
      const r = this.parseOne(pos);
      if (r === 0) break;      // need more bytes
      if (r > 0) count++;
      pos = Math.abs(r);
    }
    if (this.resets !== resets) this.len = 0; // reset() from a callback: the rest is dropped
    else if (pos >= this.len) this.len = 0;
    else if (pos > 0) {
      this.buf.copy(this.buf, 0, pos, this.len);
      this.len -= pos;
    }
    return count;
  }

  /**
   * Nothing held from earlier chunks: the messages are parsed where they lie in the caller's
   * buffer (the receive region), and only an incomplete tail is copied in to wait for the rest.
   * The usual case (whole messages per read) costs no copy at all.
   */
  private pushInPlace(chunk: Buffer, start: number, end: number): number {
    const own = this.buf;
    const resets = this.resets;
    this.buf = chunk;
    this.len = end;
    let pos = start;
    let count = 0;
    try {
      for (;;) {
        const r = this.parseOne(pos);
        if (r === 0) break;
        if (r > 0) count++;
        pos = Math.abs(r);
      }
    } finally {
      this.buf = own;
      this.len = 0;
    }
    const rest = end - pos;
    if (rest > 0 && this.resets === resets) {
      if (rest > own.length) this.buf = Buffer.allocUnsafe(Math.max(own.length * 2, rest));
      chunk.copy(this.buf, 0, pos, end);
      this.len = rest;
    }
    return count;
  }

  /** Bumped by reset(), so a push whose callback reset the parser keeps nothing of its chunk. */
  private resets = 0;

  reset(): void { this.len = 0; this.resets++; }

  private bad(reason: FixBadReason, s: number, e: number): void {
    if (reason === 'garbage') this.counters.garbageBytes += e - s;
    else if (reason === 'bad-checksum') this.counters.badChecksums++;
    else this.counters.badFrames++;
    this.onBad(reason, Buffer.from(this.buf.subarray(s, Math.min(e, s + 512))));
  }

  /**
   * Next "8=FIX" at or after `from` that can start a message; -1 if none in the buffer. One
   * preceded by a digit is the tail of another tag (58=FIX..., 108=...) and is skipped.
   */
  private findStart(from: number): number {
    let i = from;
    for (;;) {
      i = this.buf.indexOf(k8eqFIX, i);
      if (i < 0 || i + 5 > this.len) return -1;
      const before = i === 0 ? SOH : this.buf[i - 1];
      if (before < 0x30 || before > 0x39) return i;
      i++;
    }
  }

  /**
   * Tries to parse one message at `pos`. Returns 0 when more bytes are needed, +next after a good
   * message, -next after skipping bad bytes.
   */
  private parseOne(pos: number): number {
    const buf = this.buf;
    const len = this.len;
    if (pos >= len) return 0;
    if (len - pos < 5) {
      // Could still be the start of "8=FIX": wait, unless it clearly is not.
      for (let i = 0; i < len - pos; i++) if (buf[pos + i] !== k8eqFIX[i]) return this.skipGarbage(pos);
      return 0;
    }
    // Byte compares and a short scan: a native compare/indexOf call costs more than these bytes.
    if (buf[pos] !== 0x38 || buf[pos + 1] !== kEq || buf[pos + 2] !== 0x46 || buf[pos + 3] !== 0x49 || buf[pos + 4] !== 0x58) return this.skipGarbage(pos);
    // BeginString value ends at the first SOH (within 12 bytes: "8=FIXT.1.1" is the longest).
    let bsEnd = pos + 5;
    const bsLimit = Math.min(len, pos + 13);
    while (bsEnd < bsLimit && buf[bsEnd] !== SOH) bsEnd++;
    if (bsEnd >= bsLimit) {
      if (bsLimit === pos + 13) return this.skipBad('bad-begin-string', pos, pos + 1);
      return len - pos > 32 ? this.skipBad('bad-begin-string', pos, pos + 1) : 0;
    }
    // "9=<digits><SOH>"
    let p = bsEnd + 1;
    if (len - p < 3) return 0;
    if (buf[p] !== 0x39 || buf[p + 1] !== kEq) return this.skipBad('bad-body-length', pos, bsEnd + 1);
    p += 2;
    let bodyLen = 0;
    const digitsStart = p;
    while (p < len && buf[p] >= 0x30 && buf[p] <= 0x39 && p - digitsStart < 8) bodyLen = bodyLen * 10 + (buf[p++] - 0x30);
    if (p >= len) return 0;
    if (p === digitsStart || buf[p] !== SOH) return this.skipBad('bad-body-length', pos, p);
    const bodyStart = p + 1;
    const trailerStart = bodyStart + bodyLen;
    const end = trailerStart + kTrailer;
    if (end - pos > this.maxMessage) return this.skipBad('too-large', pos, bodyStart);
    if (end > len) return 0;
    if (buf[trailerStart] !== 0x31 || buf[trailerStart + 1] !== 0x30 || buf[trailerStart + 2] !== kEq || buf[end - 1] !== SOH ||
      (bodyLen > 0 && buf[trailerStart - 1] !== SOH)) {
      return this.skipBad('bad-body-length', pos, bodyStart);
    }
    const want = (buf[trailerStart + 3] - 0x30) * 100 + (buf[trailerStart + 4] - 0x30) * 10 + (buf[trailerStart + 5] - 0x30);
    // One pass indexes the fields and sums the bytes for CheckSum; a message that does not index
    // is summed alone, so a damaged one is still reported as a bad checksum first.
    const sum = this.index(pos, bodyStart, trailerStart, end);
    if (sum < 0) {
      let all = 0;
      for (let i = pos; i < trailerStart; i++) all += buf[i];
      return this.skipBad((all & 0xff) !== want ? 'bad-checksum' : 'bad-field', pos, end, end);
    }
    if ((sum & 0xff) !== want) return this.skipBad('bad-checksum', pos, end, end);
    this.counters.messages++;
    this.onMessage(this.msg);
    return end;
  }

  private skipGarbage(pos: number): number {
    const next = this.findStart(pos + 1);
    const stop = next < 0 ? Math.max(pos + 1, this.len - 4) : next;
    this.bad('garbage', pos, stop);
    return -stop;
  }

  /** Reports [s, e) and resumes at `resume` (default: the next "8=FIX" after s). */
  private skipBad(reason: FixBadReason, s: number, e: number, resume = -1): number {
    this.bad(reason, s, e);
    if (resume >= 0) return -resume;
    const next = this.findStart(s + 1);
    return -(next < 0 ? Math.max(s + 1, this.len - 4) : next);
  }

  /**
   * Fills the flyweight's field index and returns the sum of the bytes [start, trailerStart) (the
   * CheckSum's), or -1 when a field is not tag=value.
   */
  private index(start: number, bodyStart: number, trailerStart: number, end: number): number {
    const m = this.msg;
    const buf = this.buf;
    m.begin(buf, start, end);
    let sum = 0;
    let p = start;
    while (p < trailerStart) {
      let tag = 0;
      const ts = p;
      let c = buf[p];
      while (p < trailerStart && c >= 0x30 && c <= 0x39) { tag = tag * 10 + (c - 0x30); sum += c; c = buf[++p]; }
      if (p === ts || p >= trailerStart || c !== kEq || m.count >= kMaxFields) return -1;
      sum += kEq;
      const vs = ++p;
      while (p < trailerStart && (c = buf[p]) !== SOH) { sum += c; p++; }
      if (p >= trailerStart) return -1;
      sum += SOH;
      // Tag 8's value starts at 2, 9's too; everything counted from here.
      m.addField(tag, vs, p);
      if (tag === Tag.MsgType) { m.msgType = buf[vs]; m.msgTypeLen = p - vs; }
      p++;
    }
    // Index the checksum too, so a copy carries every field.
    m.addField(Tag.CheckSum, trailerStart + 3, end - 1);
    return m.count >= 4 && m.tags[2] === Tag.MsgType && bodyStart > start ? sum : -1;
  }
}
