/**
 * Big-endian reads and writes on a Uint8Array at an absolute offset.
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

/** Latin-1 alphanumeric field, right-trimmed of spaces. Allocates a string: tools and tests only. */
export function readAlpha(b: Uint8Array, o: number, length: number): string {
  let end = o + length;
  while (end > o && b[end - 1] === 0x20) end--;
  let s = '';
  for (let i = o; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
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

/** Left-justified, space-padded alphanumeric; characters beyond `length` are cut off. */
export function writeAlpha(b: Uint8Array, o: number, length: number, s: string): void {
  for (let i = 0; i < length; i++) b[o + i] = i < s.length ? s.charCodeAt(i) & 0xff : 0x20;
}
