/**
 * The one byte-helper module: big-endian integers and fixed-width text fields on a Uint8Array at an
 * absolute offset, used by the feed (ITCH, MoldUDP64), the wire protocols (SoupBinTCP, OUCH, FIX
 * store), the order journal and the stage rings.
 *
 * Plain byte arithmetic instead of a DataView: these are small enough for V8 to inline at every call
 * site, and they work on any Uint8Array view (a SharedArrayBuffer slot, a Buffer, a pool slice)
 * without creating a view object per message. 64-bit integers come back as JS numbers, exact below
 * 2^53: ITCH order reference and match numbers stay far below that in a trading day, and a BigInt per
 * message would allocate on the hot path.
 */

const kTwo32 = 4294967296;

export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function readU32(b: Uint8Array, o: number): number {
  // `>>> 0` keeps the top byte unsigned; the rest fits in 24 bits so `|` is safe.
  return ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

export function readU48(b: Uint8Array, o: number): number {
  return ((b[o] << 8) | b[o + 1]) * kTwo32 + readU32(b, o + 2);
}

export function readU64(b: Uint8Array, o: number): number {
  return readU32(b, o) * kTwo32 + readU32(b, o + 4);
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export function writeU48(b: Uint8Array, o: number, v: number): void {
  const hi = Math.floor(v / kTwo32);
  writeU16(b, o, hi);
  writeU32(b, o + 2, v - hi * kTwo32);
}

export function writeU64(b: Uint8Array, o: number, v: number): void {
  const hi = Math.floor(v / kTwo32);
  writeU32(b, o, hi);
  writeU32(b, o + 4, v - hi * kTwo32);
}


// ---- Fixed-width text fields. One argument order everywhere: (buffer, offset, width, value).
// Alpha fields (ITCH, SoupBinTCP, OUCH) are space-padded; the AsciiZ ones (journal records, stage
// rings) are NUL-padded. Writers return the offset just past the field so encoders can chain them.

/** Left-justified, space-padded alphanumeric; characters beyond `width` are cut off. */
export function writeAlpha(b: Uint8Array, o: number, width: number, s: string): number {
  for (let i = 0; i < width; i++) b[o + i] = i < s.length ? s.charCodeAt(i) & 0xff : 0x20;
  return o + width;
}

/** Right-justified, space-padded alphanumeric (SoupBinTCP session). */
export function writeAlphaRight(b: Uint8Array, o: number, width: number, s: string): number {
  const n = s.length < width ? s.length : width;
  const pad = width - n;
  for (let i = 0; i < pad; i++) b[o + i] = 0x20;
  for (let i = 0; i < n; i++) b[o + pad + i] = s.charCodeAt(i) & 0xff;
  return o + width;
}

/** Per length, an array of that many codes for readAlpha's one String.fromCharCode call (this thread's). */
const kAlphaCodes: number[][] = Array.from({ length: 33 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Latin-1 alpha field, right-trimmed of space (and NUL) padding. Allocates a string: not for
 * per-message hot paths. Up to 32 characters the codes go through one String.fromCharCode call
 * (a string made once): appending character by character made a new string per character, and a
 * 14-character OUCH token about twice as dear to read and hash (the venue simulator reads one
 * per order on the way to its ack).
 */
export function readAlpha(b: Uint8Array, o: number, width: number): string {
  let end = o + width;
  while (end > o && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  const n = end - o;
  if (n <= 0) return '';
  if (n < kAlphaCodes.length) {
    const codes = kAlphaCodes[n];
    for (let i = 0; i < n; i++) codes[i] = b[o + i];
    return String.fromCharCode.apply(null, codes);
  }
  let s = '';
  for (let i = o; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** A non-negative integer right-justified and space-padded in `width` bytes (SoupBinTCP numeric). */
export function writeNumeric(b: Uint8Array, o: number, width: number, value: number): number {
  let v = Math.floor(value);
  let i = o + width - 1;
  if (v === 0) b[i--] = 0x30;
  while (v > 0 && i >= o) {
    b[i--] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  while (i >= o) b[i--] = 0x20;
  return o + width;
}

/** A space-padded numeric field; -1 when it holds anything but spaces and digits (or a space after a digit). */
export function readNumeric(b: Uint8Array, o: number, width: number): number {
  let v = 0;
  let digits = 0;
  for (let i = o; i < o + width; i++) {
    const c = b[i];
    if (c === 0x20) { if (digits > 0) return -1; continue; }
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
    digits++;
  }
  return v;
}

/** A non-negative integer as `width` decimal digits, zero-padded (fixed-width index records). */
export function writeZeroPadded(b: Uint8Array, o: number, width: number, value: number): number {
  let v = Math.floor(value);
  for (let i = o + width - 1; i >= o; i--) { b[i] = 0x30 + (v % 10); v = Math.floor(v / 10); }
  return o + width;
}

/** ASCII, NUL-padded to `width` (a string shorter than the field ends at the first NUL). */
export function writeAsciiZ(b: Uint8Array, o: number, width: number, s: string): number {
  for (let i = 0; i < width; i++) b[o + i] = i < s.length ? s.charCodeAt(i) & 0xff : 0;
  return o + width;
}

/** Reads a NUL-padded field up to its first NUL. Allocates a string. */
export function readAsciiZ(b: Uint8Array, o: number, width: number): string {
  let s = '';
  for (let i = o; i < o + width; i++) {
    const c = b[i];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
