/**
 * Record readers: a template's hot fields decoded straight from the packet into a small Float64Array
 * record, by one function generated from the template at start-up, for a handler that reads a few
 * fields of a few templates (the book adapter and X-OLR/X-OBR). The general decoder writes every field
 * of every element onto the value tape (three typed-array stores a field, dictionary entries in
 * arrays, a block allocation per sequence) and the handler then reads the tape back through
 * layouts; at about 52 bytes an X-OLR message, that was ~120 ns of decode against ~50 for walking
 * the bytes at all. Here copy-operator dictionary entries are locals of the function (the caller
 * resets the dictionaries before every message: MOEX datagrams); a field nobody asked for whose
 * dictionary entry nobody reads is only scanned for its stop bit (an integer of more than four
 * bytes is read again with its range checks, since it could be out of range); stop-bit integers
 * take their first four bytes in int32 shifts (28 bits cannot overflow any type), a presence map
 * of up to four bytes is one register, and a wanted string can come with its decimal-digit value
 * (order ids) or a hash of its bytes (instrument keys), computed in the same pass that finds its
 * stop bit. A loop that only tests each byte's stop bit, and nothing else, is the floor of this
 * design: on a shared 2-vCPU machine at load 6-9 it cost 40-52 ns a message, the reader 15-20 more.
 *
 * The message end is checked once per field, before the field's first byte, not before every byte:
 * the reader first moves E back to just after the last byte with a stop bit (a valid message ends
 * on one, so this never cuts a message the general decoder would read), and then no stop-bit scan
 * that starts below E can pass it. Bytes after the cut are only ever ones a field could not end in,
 * so a reader returns the same for (B, p, E) as before. Measured on X-OLR-CURR (decode alone, the
 * old and new reader alternated in one process, 25 rounds each, load 5-6 on 2 vCPUs): 2-3% less
 * (about 1.5 ns of 56-60), in every run and in both orders. Not done (the floor leaves little):
 * skipping a run of skipped fields by counting stop bits (MOEX's X-OLR as generated has one
 * skipped field present per entry, MDEntryTime), word-at-a-time stop-bit search.
 *
 * A wanted ASCII string can also come as an exact key (want 'key', for instrument keys): up to 12
 * characters in three int32 words of four characters, 8 bits each with the stop bit cleared (7 bits
 * each until the word path below), read by the stop-bit scan in readWord's
 * unrolled form (nothing per byte but the shift and the stop-bit test, like the hash it replaced on
 * X-OLR's Symbol and TradingSessionID), so a look-up compares integers instead of hashing and then
 * comparing bytes (moex-instruments.ts resolveKey); a longer string, a preamble or an empty one has
 * k0 = -1 and the caller takes the bytes. A copied key keeps its words in the dictionary locals, and
 * its state is 2 (copied: the previous element's string, the dictionaries being the message's own),
 * so a caller can reuse what it made of the previous element's key.
 * Decode alone measured the same as with the hash (61-65 ns a message both, load 7-11). Not kept:
 * the key read a little-endian word at a time through a DataView when twelve bytes are left (the
 * stop bits of four bytes in one mask, the first by its trailing zeros, the key word the word
 * masked): the reader alone took 1.035-1.048 of the byte-at-a-time reader's time (two runs of 31
 * alternated rounds in one process, load 6-10), the DataView's checks and the mask-to-index chain
 * dearer than four unrolled byte steps.
 *
 * The word path (fn): strings, uInt64, decimal mantissas and integers nobody reads are read four
 * bytes a load (DataView.getInt32, big-endian), the field's end found by the leading zeros of the
 * four stop bits (Math.clz32), when the message has three bytes after its end in its array; other
 * integers that are read, exponents, presence maps and anything else stay byte by byte in the same
 * function. Whatever the word path would refuse or does not read (a preamble, a uInt64 of nine
 * bytes or more, a mantissa or skipped integer of five or more, a message within three bytes of its
 * array's end) breaks out to the byte path
 * (`bytes`, the reader as it was) over the whole message, which decides: the word path only ever
 * answers what the byte path answers. A key word is then the field's four bytes as loaded, stop bit
 * cleared, right-aligned: hence 8 bits a character. Digits go four a load (SWAR: '0'..'9' checked
 * in all four bytes at once, then pairs, then the pairs joined). Measured on X-OLR-CURR (the reader
 * alone, this build and the byte path as it was compiled side by side in one process, alternated
 * over the same 300k messages, 9 rounds, load 3-6 on 2 vCPUs): 0.871-0.911 of the time (46-47 ns
 * against 52-53) without the mantissas, and 0.80-0.815 with them (42-43 ns: the byte path's
 * mantissa, 1-4 bytes varying message to message, mispredicts its unrolled stop-bit tests). By part
 * (each run without it, before the mantissas): uInt64 0.905, digits 0.907, skipped fields 0.921
 * against 0.885 with all. Not kept: every integer that is read as a word (1.10: most are one byte,
 * one load and a test, where a word costs the load, the leading zeros and the 7-bit groups joined),
 * the first byte read and a word only past it (0.83 against 0.81), RptSeq as a word too (0.83),
 * a decimal's exponent and mantissa from one load (0.84-0.86), a digit word checked after one
 * subtraction of '0' from every byte (0.756-0.761 against 0.762-0.768: noise), eight digits in
 * int32 arithmetic before doubles (no change), the presence map's byte loop unrolled (no change),
 * presence maps as words (0.949
 * against 0.885), key words of 7 bits a character as words
 * (1.026: joining the groups cost more than the loads saved; 8 bits need no join), a call to the
 * byte path at every refusal instead of one exit (the word path's frame alone 1.018 of the byte
 * path's time with those calls, 1.011 with one labelled block left by `break`). A template whose
 * header has no presence bit but the template id's (X-OLR) has its first bytes, 0xC0 and the id,
 * compared as one word before the presence map and id are read: 0.78-0.795 against 0.81 (load 4-5).
 * All of it, old build against this one in one process (alternated, 7-9 rounds, load 6.2-6.6):
 * FastFeedDecoder into the reader alone (perf:fast's decode split) 0.803-0.829 of the time (best
 * 58.6 -> 47.2 ns a message), and into the book adapter 0.906-0.940 (best 165.4 -> 152.6); one
 * run at load 10.7 gave 0.813 and, for the books, 1.08 (its rounds' medians 20% apart).
 * The
 * DataView is made once per packet array (the last one and eight kept, a receiver's regions), so
 * a source that hands a new array with every datagram pays one allocation a message.
 * Where the rest goes (X-OLR-CURR, one entry, load 1-3): a byte loop that only tests stop bits
 * costs 30 ns of the 46-52; the same message repeated (every branch predicted) 46 of 53 (the byte
 * path); the record stores (Float64) about 8; the dictionary locals and state stores nothing
 * measurable. FastFeedDecoder.decodePayload around the reader adds 3.5 ns with one handler class,
 * more in perf:fast, whose decodePayload call site sees four handler classes.
 *
 * Order-id digits are read two a step (w * 100 + the pair, the first eight in an int32), which halves
 * the multiply-add chain a digit waits for: the X-OLR reader alone, the one-digit loop and this one
 * compiled side by side in one process and alternated over the same 300k messages (31 rounds, load
 * 8-11 on 2 vCPUs): 0.954-0.958 of the time (about 4 ns of 93-97 at that load). A profile of the
 * reader (positionTicks) had the digits loop as its dearest line, 14% of the reader's samples.
 *
 * A reader accepts only what it decodes exactly like the general path, and returns -1 for anything
 * else: a truncated or overlong message, an integer out of range, a bad exponent, a missing
 * mandatory value, an overlong presence map, another template id, more elements than the record
 * holds. The caller then decodes the same bytes with the general decoder, which counts the error as
 * always (or decodes the rare case it handles), so every edge case stays the general path's.
 * Templates with operators or kinds the reader does not implement (increment, delta, tail, uInt64
 * operators, unicode, byte vectors, groups, template references, split decimals, string initial
 * values, the reset attribute, dictionary keys shared between kinds) get no reader at all.
 *
 * Record layout: header fields at 1 + 4k (slot 0 is the sequence length), each element's fields at
 * `headerSize + i * stride + 4k`; per field [state 0 absent / 1 present, value, aux, extra]:
 * integers value; decimals mantissa, exponent; uInt64 high, low halves; ASCII strings offset in the
 * packet, length, and extra = digits value (-1 unless 1-15 ASCII digits) or hash; a 'key' string
 * has six slots, offset, length and the key words k0..k2 after its state (1 present, 2 copied).
 *
 * Generated once, shared; the record belongs to the caller (single writer: the decoding thread).
 */
import {
  FastGroup, FastInstruction, FastTemplate, kFastAscii, kFastDecimal, kFastInt32, kFastInt64, kFastOpConstant, kFastOpCopy, kFastOpDefault,
  kFastOpNone, kFastSequence, kFastUInt32, kFastUInt64,
} from './fast-templates';

/**
 * What a wanted field's extra slot carries: 'key' (ASCII only) takes six slots, [state, offset,
 * length, k0, k1, k2]: the string's exact key (fastRecordKeyWords), or k0 = -1 when it has none.
 */
export type FastRecordWant = 'value' | 'digits' | 'hash' | 'key';

/** ASCII bytes an exact key holds (three words of four characters). */
export const kFastKeyBytes = 12;

/**
 * The exact key of an ASCII string of 1..kFastKeyBytes bytes, as the generated readers compute it
 * (`want: 'key'`): characters 1-4, 5-8 and 9-12 in three words, 8 bits a character (its low 7:
 * the first one highest, so a word is never negative; a word of fewer characters holds only
 * those), into out[at..at+2]. With the
 * length beside it, equal keys are equal strings. Returns false (out untouched) for an empty or
 * longer string.
 */
export function fastRecordKeyWords(src: Uint8Array, offset: number, length: number, out: Int32Array | Float64Array, at: number): boolean {
  if (length < 1 || length > kFastKeyBytes) return false;
  for (let w = 0; w < 3; w++) {
    let k = 0;
    for (let i = w * 4; i < length && i < w * 4 + 4; i++) k = (k << 8) | (src[offset + i] & 127);
    out[at + w] = k;
  }
  return true;
}

/** (buffer, message start, message end, record, max elements) -> position after the message, or -1 (use the general decoder). */
export type FastRecordReaderFn = (B: Uint8Array, p: number, E: number, R: Float64Array, cap: number) => number;

export interface FastRecordReader {
  readonly templateId: number;
  readonly fn: FastRecordReaderFn;
  /** Slot of each wanted header field (its state; value at +1, aux at +2, extra at +3). */
  readonly header: Map<string, number>;
  /** Offset of each wanted element field within an element's record block. */
  readonly element: Map<string, number>;
  readonly headerSize: number;
  readonly stride: number;
  readonly source: string;
  /**
   * The byte-at-a-time reader: the same answers as fn, which takes it for a message within three
   * bytes of its array's end and for whatever its word path does not take (tests compare the two).
   */
  readonly bytes: FastRecordReaderFn;
  /** Messages fn handed to bytes so far (tests: the word path took the rest). */
  readonly byteFallbacks: () => number;
}

/**
 * A record hash keeps 30 bits: a small integer (a Smi) wherever it goes, so passing it to a function
 * V8 does not inline (MoexInstrumentTable.resolveBytes from the adapter) never boxes it in a heap
 * number (an int32 hash did for half the keys: an allocation per entry).
 */
const kHashMask = 0x3fffffff;

/** Record hash of an ASCII string's bytes, the same function the generated readers compute. */
export function fastRecordHash(src: Uint8Array, offset: number, length: number, mask: number): number {
  let h = 0;
  for (let i = 0; i < length; i++) h = ((h << 5) ^ (h >>> 27) ^ (src[offset + i] & mask)) | 0;
  return h & kHashMask;
}

const kMaxSafe = Number.MAX_SAFE_INTEGER;
const kShiftLimit = 70368744177664;

class Unsupported extends Error {}

/**
 * A reader of `t` for the wanted fields (header fields by name, the one sequence's element fields by
 * name), or undefined when the template uses something a reader does not implement.
 */
export function compileFastRecordReader(t: FastTemplate, wantHeader: Record<string, FastRecordWant>, wantElement: Record<string, FastRecordWant>): FastRecordReader | undefined {
  let byteLines: Generated;
  try {
    byteLines = new RecordCompiler(t, wantHeader, wantElement, false).generate();
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const wordLines = new RecordCompiler(t, wantHeader, wantElement, true).generate();
  const name = `rec_${t.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const body = (g: Generated): string => `  let ${g.decl.join(', ')};\n${g.lines.join('\n')}`;
  // The DataView of the packet array: the last one used, and up to eight arrays (a receiver's
  // regions) kept, so that a view is made once per array, not per message.
  const source = `const kPow10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];\nconst bytes = function ${name}_bytes(B, p, E, R, cap) {\n${body(byteLines)}\n};\n`
    + `const kFill = [${kDigitFill.join(', ')}];\nlet vB = null, vV = null, vN = 0, nB = 0;\nconst vA = [null, null, null, null, null, null, null, null], vD = [null, null, null, null, null, null, null, null];\n`
    + 'function viewOf(B) {\n  for (let i = 0; i < 8; i++) if (vA[i] === B) { vB = B; vV = vD[i]; return vV; }\n'
    + '  const d = new DataView(B.buffer, B.byteOffset, B.byteLength);\n  vA[vN] = B; vD[vN] = d; vN = (vN + 1) & 7; vB = B; vV = d;\n  return d;\n}\n'
    + `return [function ${name}(B, p, E, R, cap) {\n  const p0 = p, E0 = E;\n  words: {\n${body(wordLines)}\n  }\n  nB++;\n  return bytes(B, p0, E0, R, cap);\n}, bytes, () => nB];`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const [fn, bytes, byteFallbacks] = new Function(source)() as [FastRecordReaderFn, FastRecordReaderFn, () => number];
  return {
    templateId: t.id, fn, bytes, byteFallbacks, header: byteLines.header, element: byteLines.element,
    headerSize: byteLines.headerSize, stride: byteLines.stride, source,
  };
}

interface Generated {
  lines: string[];
  decl: string[];
  header: Map<string, number>;
  element: Map<string, number>;
  headerSize: number;
  stride: number;
}

/**
 * The first four bytes of a stop-bit integer into the int32 local w (28 bits: no range to check, no
 * floating point; `first` is how the first byte starts it), the stop bit left in c.
 */
function readWord(first: string): string {
  const next = 'c = B[p++]; w = (w << 7) | (c & 127);';
  return `if (p >= E) return -1; c = B[p++]; w = ${first}; if ((c & 128) === 0) { ${next} if ((c & 128) === 0) { ${next} if ((c & 128) === 0) { ${next} } } }`;
}
/**
 * Unsigned stop-bit integer into `to`: four bytes in int32 shifts (w), longer in a double loop (v)
 * with the range checks of fast-compiler.ts and then `long`, the caller's range check on the wire
 * value. Neither can fail within four bytes (28 bits), so the common path assigns the int32 and
 * compares nothing.
 */
function readUint(to: string, long = ''): string {
  return `${readWord('c & 127')} if ((c & 128) === 0) { v = w; for (;;) { c = B[p++]; v = v * 128 + (c & 127);`
    + ` if ((c & 128) !== 0) break; if (v >= ${kShiftLimit}) return -1; } ${long} ${to} = v; } else ${to} = w;`;
}
/** Signed: the first byte sign-extended from its bit 6 ((c << 25) >> 25), then as readUint. */
function readInt(to: string, long = ''): string {
  return `${readWord('(c << 25) >> 25')} if ((c & 128) === 0) { v = w; do { if (v >= ${kShiftLimit} || v < -${kShiftLimit}) return -1;`
    + ` c = B[p++]; v = v * 128 + (c & 127); } while ((c & 128) === 0); ${long} ${to} = v; } else ${to} = w;`;
}
/**
 * An integer nobody reads: its stop bit found without computing it, when it has at most four bytes
 * (28 bits: inside every integer type's range, so nothing to check); a longer one is read again from
 * its first byte with the range checks (`full`).
 */
function skipInt(full: string): string {
  return `if (p >= E) return -1; s0 = p; while ((B[p++] & 128) === 0); if (p - s0 > 4) { p = s0; ${full} }`;
}

// ---- The word path: four bytes a load (DataView.getInt32 at p, big-endian: the field's first byte
// highest), the stop bits of all four in one mask, the field's end by the mask's leading zeros. A
// load at p < E never passes the array (the word path runs only when E + 3 <= B.length), and never
// passes the field's end unseen (E is after a stop bit). Anything it does not take (a field of more
// than four bytes where a value is read, a preamble, any error) is `return -1`, which the word
// path's lines turn into the byte path over the whole message: that decides, as before.

/** 0x80808080 and 0x7f7f7f7f as int32. */
const kStops = -2139062144;
const kLow7 = 2139062143;
/** '0' bytes above a digit word's 1..4 characters (indexed by characters - 1): leading zeros. */
const kDigitFill = [0x30303000, 0x30300000, 0x30000000, 0];
/**
 * The four 7-bit groups of y (stop bits clear) joined, the first byte highest: 28 bits, in two
 * steps (bytes into 14-bit pairs, pairs into one; y is overwritten). Four masks and shifts at once
 * measured 0.782-0.796 of the old reader's time against 0.764-0.775 for this (load 6-7).
 */
const join = '(((y = ((y & 0x7f007f00) >>> 1) | (y & 0x007f007f)) & 0x3fff0000) >>> 2 | (y & 0x3fff))';
/** The word at p into w, its stop bits into sm. */
const load = `if (p >= E) return -1; w = V.getInt32(p); sm = w & ${kStops};`;
/** With a stop bit in w (sm !== 0): p past the field's last byte, y its bytes of w right-aligned without stop bits, z the leading zeros (8 * (bytes - 1)). */
const end = `z = Math.clz32(sm); p += (z >>> 3) + 1; y = (w & ${kLow7}) >>> (24 - z);`;
/** An integer nobody reads, of at most four bytes: only its end. */
const wordSkipInt = `${load} if (sm === 0) return -1; p += (Math.clz32(sm) >>> 3) + 1;`;
/**
 * A decimal's mantissa of at most four bytes into m (longer: the byte path), sign-extended from its
 * top group's bit 6. Mantissas are the one integer read as a word: a price's or a size's length
 * varies from message to message (1-4 bytes), where the other integers read are mostly one byte.
 */
const wordMantissa = `${load} if (sm === 0) return -1; ${end} m = ${join}; z = 25 - 7 * (z >>> 3); m = (m << z) >> z;`;
/** A string nobody reads: word after word to its stop bit. */
const wordSkipString = `${load} while (sm === 0) { p += 4; ${load} } p += (Math.clz32(sm) >>> 3) + 1;`;
/**
 * Digits of y (1..4 characters right-aligned, '0' above them): bad gets the top bit of any byte
 * outside '0'..'9' (b + 0x46 reaches 0x80 from ':' up; (b | 0x80) - 0x30 loses it below '0'; no
 * carry or borrow crosses a byte), g the value (pairs, then the pairs joined).
 */
const wordDigits = `bad |= (((y + 1179010630) | 0) | ((((y | ${kStops}) - 808464432) | 0) ^ ${kStops})) & ${kStops};`
  + ' y &= 252645135; y = ((y >>> 8) & 983055) * 10 + (y & 983055); g = (y >>> 16) * 100 + (y & 65535);';

class RecordCompiler {
  private readonly lines: string[] = [];
  private readonly locals = new Set<string>();
  private readonly entryKinds = new Map<number, string>();
  private readonly header = new Map<string, number>();
  private readonly element = new Map<string, number>();
  private headerSize = 1;
  private stride = 0;
  private bit = 0;
  private ps = 'pmS';
  private pl = 'pmL';
  /** Record index expression of the current block (header: '', element: 'rb + '). */
  private at = '';
  private inElement = false;
  private sequences = 0;

  constructor(private readonly t: FastTemplate, private readonly wantHeader: Record<string, FastRecordWant>, private readonly wantElement: Record<string, FastRecordWant>,
    private readonly word: boolean) {}

  generate(): Generated {
    const t = this.t;
    this.findNeededEntries(t.body, false);
    if (t.reset || t.id < 0) throw new Unsupported();
    for (const [name, want] of Object.entries(this.wantHeader)) { this.header.set(name, this.headerSize); this.headerSize += want === 'key' ? 6 : 4; }
    for (const [name, want] of Object.entries(this.wantElement)) { this.element.set(name, this.stride); this.stride += want === 'key' ? 6 : 4; }
    const headerBytes = Math.ceil((1 + t.body.pmapBits) / 7);
    // The end moved back to just after the last byte with a stop bit (a valid message ends on one;
    // the bytes after it cannot start a field that ends before E): every stop-bit scan that starts
    // below E then stops below E, so a field checks the bound once, before its first byte, not per byte.
    this.line('while (E > p && (B[E - 1] & 128) === 0) E--;');
    // The word path: loads of four bytes need three after E in the array; the last message of an
    // array goes byte by byte. The array's view made once (viewOf).
    if (this.word) this.line('if (E + 3 > B.length) return -1; const V = B === vB ? vV : viewOf(B);');
    // The word path's head: a template whose header has no presence bit but the template id's (X-OLR)
    // starts 0xC0 and the id's shortest encoding, compared as one word (anything else, an overlong
    // presence map or id included, is read as before).
    const idBytes: number[] = [];
    for (let v = t.id; ; v = Math.floor(v / 128)) { idBytes.unshift(v % 128); if (v < 128) break; }
    idBytes[idBytes.length - 1] |= 128;
    const fastHead = this.word && t.body.pmapBits === 0 && idBytes.length <= 3;
    if (fastHead) {
      const n = 1 + idBytes.length;
      const pattern = [0xc0, ...idBytes].reduce((a, b) => a * 256 + b, 0);
      this.line(`let pmL = 1; if (p >= E) return -1; w = V.getInt32(p); if ((w >>> ${8 * (4 - n)}) === ${pattern}) { p += ${n}; pmH = 64; } else {`);
      this.pmapStart('pmS', 'pmL2', 'pmH', headerBytes);
      this.line('pmL = pmL2;');
    } else this.pmapStart('pmS', 'pmL', 'pmH', headerBytes);
    // The template id: present (the dictionaries were just reset, so it cannot be copied) and this one.
    this.line(`if (!${this.nextBit()}) return -1;`);
    this.line(readUint('v'));
    // Another template's id is refused by the word path too: the byte path would read the same id.
    if (this.word) this.lines.push(`  if (v !== ${t.id}) return -1;`);
    else this.line(`if (v !== ${t.id}) return -1;`);
    if (fastHead) this.line('}');
    this.line('R[0] = 0;');
    this.fields(t.body);
    this.absentUnseen(t.body, this.header, '');
    if (this.bit !== 1 + t.body.pmapBits) throw new Error(`record reader of ${t.name}: ${this.bit} presence bits, the template has ${1 + t.body.pmapBits}`);
    this.line(`if (pmL > ${headerBytes}) return -1;`);
    this.line('return p;');
    const decl = ['v = 0', 'w = 0', 'a = 0', 'c = 0', 'pmH = 0', 'pmE = 0', 'nul = false', 'e1 = 0', 'm = 0', 's0 = 0', 'so = 0', 'sl = 0', 'hi = 0', 'lo = 0', 'x = 0', 'h = 0', 'g = 0', 'bad = 0', 'rb = 0', 'k0 = 0', 'k1 = 0', 'k2 = 0',
      ...(this.word ? ['sm = 0', 'z = 0', 'y = 0', 'f = 0'] : []), ...this.locals];
    return { lines: this.lines, decl, header: this.header, element: this.element, headerSize: this.headerSize, stride: this.stride };
  }

  /** A line of the reader; on the word path a refusal is the byte path over the whole message. */
  private line(s: string): void { this.lines.push(`  ${this.word ? s.split('return -1;').join('break words;') : s}`); }


  /**
   * Dictionary entries whose value someone reads: those of wanted fields and of mandatory copy
   * fields (a missing value is an error). An unwanted optional copy field with an entry of its own
   * keeps no dictionary at all: nothing reads what it would copy.
   */
  private readonly neededEntries = new Set<number>();
  private findNeededEntries(g: FastGroup, inElement: boolean): void {
    for (const ins of g.instructions) {
      if (ins.kind === kFastSequence) { this.findNeededEntries(ins.group!, true); continue; }
      const wanted = (inElement ? this.wantElement : this.wantHeader)[ins.name] !== undefined;
      if (ins.entry >= 0 && (wanted || !ins.optional)) this.neededEntries.add(ins.entry);
    }
  }

  /** An unwanted optional copy field nobody reads the entry of: its wire value is checked and dropped. */
  private dictionaryFree(ins: FastInstruction, k: number): boolean {
    return k < 0 && ins.optional && ins.op === kFastOpCopy && !ins.hasInitial && !this.neededEntries.has(ins.entry);
  }

  /** Wanted fields the block does not define: absent in every record (the record is reused). */
  private absentUnseen(g: FastGroup, wanted: Map<string, number>, at: string): void {
    for (const [name, k] of wanted) if (!g.instructions.some((i) => i.name === name)) this.line(`R[${at}${k}] = 0;`);
  }

  private fields(g: FastGroup): void {
    for (const ins of g.instructions) this.field(ins);
  }

  /**
   * A presence map at p: its start and length in `ps`/`pl`. One of at most four bytes (28 bits) is
   * also read into the int32 `word`, left-aligned to `bytes` (missing trailing bytes are zeros), so
   * a field's bit is one AND of a register (and one longer than `bytes` is refused at once: the end
   * check would refuse it anyway); a longer one is tested a byte at a time.
   */
  private pmapStart(ps: string, pl: string, word: string, bytes: number): void {
    this.ps = ps;
    this.pl = pl;
    this.bit = 0;
    if (bytes <= 4) {
      this.pmWord = word;
      this.pmBytes = bytes;
      this.line(`if (p >= E) return -1; const ${ps} = p; ${word} = 0; do { if (p - ${ps} >= ${bytes}) return -1; c = B[p++]; ${word} = (${word} << 7) | (c & 127); } while ((c & 128) === 0);`
        + ` const ${pl} = p - ${ps};${bytes > 1 ? ` ${word} <<= 7 * (${bytes} - ${pl});` : ''}`);
    } else {
      this.pmWord = '';
      this.line(`if (p >= E) return -1; const ${ps} = p; while ((B[p++] & 128) === 0); const ${pl} = p - ${ps};`);
    }
  }

  private pmWord = '';
  private pmBytes = 0;

  private nextBit(): string {
    const k = this.bit++;
    if (this.pmWord !== '') return `((${this.pmWord} & ${1 << (7 * this.pmBytes - 1 - k)}) !== 0)`;
    const byte = Math.floor(k / 7);
    return `(${this.pl} > ${byte} && (B[${this.ps} + ${byte}] & ${0x40 >> (k % 7)}) !== 0)`;
  }

  /** Record index of a wanted field, or -1. */
  private slotOf(ins: FastInstruction): number {
    const m = this.inElement ? this.element : this.header;
    return m.get(ins.name) ?? -1;
  }

  private want(ins: FastInstruction): FastRecordWant {
    return (this.inElement ? this.wantElement : this.wantHeader)[ins.name] ?? 'value';
  }

  private r(k: number, plus: number): string { return `R[${this.at}${k + plus}]`; }

  /** Dictionary entry locals, one set per entry index, typed by the first kind that uses it. */
  private entry(ins: FastInstruction, kind: string): string {
    const e = ins.entry;
    if (e < 0) throw new Unsupported();
    const seen = this.entryKinds.get(e);
    if (seen !== undefined && seen !== kind) throw new Unsupported();
    this.entryKinds.set(e, kind);
    for (const s of ['S', 'V', 'A', 'X', 'Y', 'Z']) this.locals.add(`d${s}${e} = 0`);
    return String(e);
  }

  private field(ins: FastInstruction): void {
    switch (ins.kind) {
      case kFastUInt32: case kFastInt32: case kFastInt64: this.integer(ins); return;
      case kFastUInt64: if (ins.op !== kFastOpNone) throw new Unsupported(); this.uint64(ins); return;
      case kFastDecimal: this.decimal(ins); return;
      case kFastAscii: this.ascii(ins); return;
      case kFastSequence: this.sequence(ins); return;
      default: throw new Unsupported();
    }
  }

  // ---- Integers.

  private wireInt(ins: FastInstruction, unread = false): void {
    if (unread) {
      // Nothing stored and no dictionary: only the stop bit and the range matter.
      const range = ins.kind === kFastUInt32 ? 'v > 4294967295' : ins.kind === kFastInt32 ? '(v > 2147483647 || v < -2147483648)' : `(v > ${kMaxSafe} || v < -${kMaxSafe})`;
      const nullable = ins.optional ? 'if (v > 0) v--; ' : '';
      this.line(this.word ? wordSkipInt : skipInt(`${ins.kind === kFastUInt32 ? readUint('v') : readInt('v')} ${nullable}if (${range}) return -1;`));
      return;
    }
    // The range on the wire: a nullable positive value is one more than the value (checked in the
    // long path only: four bytes cannot leave any of these ranges).
    const up = ins.optional ? 1 : 0;
    if (ins.kind === kFastUInt32) {
      this.line(readUint('v', `if (v > ${4294967295 + up}) return -1;`));
      if (ins.optional) this.line('if (v === 0) nul = true; else { nul = false; v--; }');
      return;
    }
    const max = ins.kind === kFastInt32 ? 2147483647 : kMaxSafe;
    const min = ins.kind === kFastInt32 ? -2147483648 : -kMaxSafe;
    this.line(readInt('v', `if (v > ${max + up} || v < ${min}) return -1;`));
    if (ins.optional) this.line('if (v === 0) nul = true; else { nul = false; if (v > 0) v--; }');
  }

  private storeInt(k: number, value: string): string { return k < 0 ? '' : `${this.r(k, 0)} = 1; ${this.r(k, 1)} = ${value};`; }
  private absent(k: number): string { return k < 0 ? '' : `${this.r(k, 0)} = 0;`; }

  private integer(ins: FastInstruction, lengthOf?: string): void {
    const k = lengthOf === undefined ? this.slotOf(ins) : -1;
    const present = lengthOf === undefined ? this.storeInt(k, 'v') : `${lengthOf} = v;`;
    const none = lengthOf === undefined ? this.absent(k) : `${lengthOf} = 0;`;
    const unread = k < 0 && lengthOf === undefined;
    const wire = unread ? '' : ins.optional ? `if (nul) { ${none} } else { ${present} }` : present;
    switch (ins.op) {
      case kFastOpNone:
        this.wireInt(ins, unread);
        this.line(wire);
        return;
      case kFastOpConstant:
        if (ins.optional) this.line(`if (!${this.nextBit()}) { ${none} } else { v = ${ins.initial}; ${present} }`);
        else this.line(`v = ${ins.initial}; ${present}`);
        return;
      case kFastOpDefault:
        this.line(`if (${this.nextBit()}) {`);
        this.wireInt(ins, unread);
        this.line(wire);
        this.line(ins.hasInitial ? `} else { v = ${ins.initial}; ${present} }` : ins.optional ? `} else { ${none} }` : '} else return -1;');
        return;
      case kFastOpCopy: {
        if (lengthOf === undefined && this.dictionaryFree(ins, k)) {
          this.line(`if (${this.nextBit()}) {`);
          this.wireInt(ins, true);
          this.line('}');
          return;
        }
        const e = this.entry(ins, 'int');
        this.line(`if (${this.nextBit()}) {`);
        this.wireInt(ins);
        this.line(ins.optional ? `if (nul) { dS${e} = 2; ${none} } else { dS${e} = 1; dV${e} = v; ${present} }` : `dS${e} = 1; dV${e} = v; ${present}`);
        this.line(`} else if (dS${e} === 1) { v = dV${e}; ${present} }`);
        if (ins.hasInitial) this.line(`else if (dS${e} === 0) { v = ${ins.initial}; dS${e} = 1; dV${e} = v; ${present} }`);
        this.line(ins.optional ? `else { ${none} }` : 'else return -1;');
        return;
      }
      default:
        throw new Unsupported();
    }
  }

  private uint64(ins: FastInstruction): void {
    const k = this.slotOf(ins);
    // Both halves as unsigned 32-bit integers shifted 7 bits a byte: no floating point, no division
    // (a SendingTime's 9 bytes took a division per byte past the 46th bit, about a third of the
    // X-OLR reader). Seven more bits overflow 64 exactly when the high half is already 2^25 or more.
    // The first four bytes into w and the next four into a (int32 shifts, 28 bits each), joined into
    // the halves once (a SendingTime has eight or nine bytes); from the ninth byte the per-byte loop.
    if (this.word) {
      // Up to eight bytes in two loads (a SendingTime has eight): the first word's 28 bits in a,
      // the second's g bits below them; nine or more bytes go byte by byte.
      this.line(`${load} if (sm !== 0) { ${end} hi = 0; lo = ${join}; } else {`);
      this.line(`y = w & ${kLow7}; a = ${join}; p += 4; ${load} if (sm === 0) return -1; ${end}`);
      this.line(`g = 7 * ((z >>> 3) + 1); hi = a >>> (32 - g); lo = ((a << g) | ${join}) >>> 0; }`);
    } else {
    this.line(readWord('c & 127'));
    this.line('if ((c & 128) !== 0) { hi = 0; lo = w; } else {');
    this.line('s0 = p; c = B[p++]; a = c & 127;');
    this.line('if ((c & 128) === 0) { c = B[p++]; a = (a << 7) | (c & 127); if ((c & 128) === 0) { c = B[p++]; a = (a << 7) | (c & 127);'
      + ' if ((c & 128) === 0) { c = B[p++]; a = (a << 7) | (c & 127); } } }');
    this.line('g = 7 * (p - s0); hi = w >>> (32 - g); lo = ((w << g) | a) >>> 0;');
    this.line('if ((c & 128) === 0) { for (;;) { c = B[p++]; if (hi >= 33554432) return -1; hi = ((hi << 7) | (lo >>> 25)) >>> 0; lo = ((lo << 7) | (c & 127)) >>> 0; if ((c & 128) !== 0) break; } }');
    this.line('}');
    }
    if (ins.optional) this.line('if (hi === 0 && lo === 0) nul = true; else { nul = false; if (lo === 0) { lo = 4294967295; hi--; } else lo--; }');
    const store = `if (hi >= 4294967296) return -1;${k < 0 ? '' : ` ${this.r(k, 0)} = 1; ${this.r(k, 1)} = hi; ${this.r(k, 2)} = lo;`}`;
    this.line(ins.optional ? `if (nul) { ${this.absent(k)} } else { ${store} }` : store);
  }

  // ---- Decimals.

  private wireDecimal(ins: FastInstruction): void {
    this.line(readInt('e1'));
    const rest = `if (e1 > 63 || e1 < -63) return -1; ${this.word ? wordMantissa : readInt('m', `if (v > ${kMaxSafe} || v < -${kMaxSafe}) return -1;`)}`;
    this.line(ins.optional ? `if (e1 === 0) nul = true; else { nul = false; if (e1 > 0) e1--; ${rest} }` : rest);
  }

  private decimal(ins: FastInstruction): void {
    const k = this.slotOf(ins);
    const present = k < 0 ? '' : `${this.r(k, 0)} = 1; ${this.r(k, 1)} = m; ${this.r(k, 2)} = e1;`;
    const none = this.absent(k);
    const initial = `m = ${ins.initial}; e1 = ${ins.initialExponent}; ${present}`;
    const op = ins.op;
    if (op === kFastOpConstant) {
      this.line(ins.optional ? `if (!${this.nextBit()}) { ${none} } else { ${initial} }` : initial);
      return;
    }
    if (op === kFastOpNone) {
      this.wireDecimal(ins);
      this.line(ins.optional ? `if (nul) { ${none} } else { ${present} }` : present);
      return;
    }
    if (op === kFastOpDefault) {
      this.line(`if (${this.nextBit()}) {`);
      this.wireDecimal(ins);
      this.line(ins.optional ? `if (nul) { ${none} } else { ${present} }` : present);
      this.line(ins.hasInitial ? `} else { ${initial} }` : ins.optional ? `} else { ${none} }` : '} else return -1;');
      return;
    }
    if (op !== kFastOpCopy) throw new Unsupported();
    if (this.dictionaryFree(ins, k)) {
      this.line(`if (${this.nextBit()}) {`);
      this.wireDecimal(ins);
      this.line('}');
      return;
    }
    const e = this.entry(ins, 'decimal');
    this.line(`if (${this.nextBit()}) {`);
    this.wireDecimal(ins);
    const keep = `dS${e} = 1; dV${e} = m; dA${e} = e1; ${present}`;
    this.line(ins.optional ? `if (nul) { dS${e} = 2; ${none} } else { ${keep} }` : keep);
    this.line(`} else if (dS${e} === 1) { m = dV${e}; e1 = dA${e}; ${present} }`);
    if (ins.hasInitial) this.line(`else if (dS${e} === 0) { m = ${ins.initial}; e1 = ${ins.initialExponent}; ${keep} }`);
    this.line(ins.optional ? `else { ${none} }` : 'else return -1;');
  }

  // ---- ASCII strings (in place: offset and length in the packet).

  /** so/sl (nul when null), and x: digits value or hash when wanted. */
  private wireAscii(ins: FastInstruction, want: FastRecordWant | undefined, unread = false): void {
    if (this.word && want !== 'hash') { this.wordAscii(ins, want, unread); return; }
    if (unread) {
      // Nothing stored and no dictionary: a string has no value to check, only its stop bit.
      this.line('if (p >= E) return -1; while ((B[p++] & 128) === 0);');
      return;
    }
    if (want === 'digits') {
      // Digits accumulate while the stop bit is looked for; any other byte (a preamble zero too) sets bad.
      // bad gets the sign bit of any byte outside '0'..'9' (g or 9 - g negative): no branch a digit.
      // The first nine digits in an int32 (a double multiply-add chain cost twice the latency a digit).
      // Two digits a step (w * 100 + the pair): half the multiply-add chain's latency a digit. The
      // first eight digits (nine when that is all) in the int32 w, the rest in x.
      this.line('if (p >= E) return -1; s0 = p; x = 0; bad = 0; w = 0; for (;;) { c = B[p++]; g = (c & 127) - 48; bad |= g | (9 - g);'
        + ' if ((c & 128) !== 0) { if (p - s0 <= 9) w = (w * 10 + g) | 0; else x = x * 10 + g; break; }'
        + ' c = B[p++]; a = (c & 127) - 48; bad |= a | (9 - a); if (p - s0 <= 8) w = (w * 100 + (g * 10 + a)) | 0; else x = x * 100 + (g * 10 + a);'
        + ' if ((c & 128) !== 0) break; }');
      this.line('x = p - s0 <= 9 ? w : p - s0 <= 15 ? w * kPow10[p - s0 - 8] + x : -1;');
    } else if (want === 'key') {
      // The exact key (fastRecordKeyWords) in the stop-bit pass: up to four bytes a word, each word
      // unrolled like readWord's; a string of more than kFastKeyBytes bytes is only scanned (k0 -1).
      const word = (k: string): string => `c = B[p++]; ${k} = c & 127; if ((c & 128) === 0) { c = B[p++]; ${k} = (${k} << 8) | (c & 127);`
        + ` if ((c & 128) === 0) { c = B[p++]; ${k} = (${k} << 8) | (c & 127); if ((c & 128) === 0) { c = B[p++]; ${k} = (${k} << 8) | (c & 127); } } }`;
      this.line(`if (p >= E) return -1; s0 = p; k1 = 0; k2 = 0; ${word('k0')}`);
      this.line(`if ((c & 128) === 0) { ${word('k1')} if ((c & 128) === 0) { ${word('k2')} if ((c & 128) === 0) { k0 = -1; while ((B[p++] & 128) === 0); } } }`);
    } else if (want === 'hash') {
      // The stop bit is hashed with the last byte and taken out after the loop (it was not rotated): one mask less a byte.
      this.line('if (p >= E) return -1; s0 = p; h = 0; for (;;) { c = B[p++]; h = (h << 5) ^ (h >>> 27) ^ c; if ((c & 128) !== 0) break; } h ^= 128;');
    } else {
      this.line('if (p >= E) return -1; s0 = p; while ((B[p++] & 128) === 0);');
    }
    this.line('sl = p - s0; so = s0; nul = false;');
    const nullOrEmpty = ins.optional ? 'nul = true;' : 'sl = 0;';
    this.line(`if (sl === 1 && B[s0] === 128) { ${nullOrEmpty} } else if (B[s0] === 0) {`);
    // Only the spec's two forms follow a preamble; an overlong string is refused (the general decoder counts it).
    if (ins.optional) this.line('if (sl === 2 && B[s0 + 1] === 128) sl = 0; else if (sl === 3 && B[s0 + 1] === 0 && B[s0 + 2] === 128) { so = s0 + 2; sl = 1; } else return -1;');
    else this.line('if (sl !== 2 || B[s0 + 1] !== 128) return -1; so = s0 + 1; sl = 1;');
    // A preamble changed the bytes the value covers: recompute it over the string itself (rare).
    if (want === 'hash') this.line('h = 0; for (c = 0; c < sl; c++) h = ((h << 5) ^ (h >>> 27) ^ (B[so + c] & 127)) | 0;');
    // A preamble: no exact key (rare; the caller takes the bytes).
    else if (want === 'key') this.line('k0 = -1;');
    else if (want === 'digits') this.line('x = 0; bad = 0; for (c = 0; c < sl; c++) { g = (B[so + c] & 127) - 48; bad |= g | (9 - g); x = x * 10 + g; }');
    this.line('}');
    if (want === 'digits') this.line('if (bad < 0 || sl === 0 || sl > 15) x = -1;');
    else if (want === 'hash') this.line(`if (sl === 0) h = 0; else h &= ${kHashMask};`);
    else if (want === 'key') this.line('if (sl === 0) k0 = -1;');
  }

  /**
   * wireAscii on the word path: the string's words loaded to its stop bit; f is its first byte (a
   * null or a preamble). A preamble goes to the byte path (rare); 'hash' has no word form.
   */
  private wordAscii(ins: FastInstruction, want: FastRecordWant | undefined, unread: boolean): void {
    if (unread) { this.line(wordSkipString); return; }
    const full = `y = w & ${kLow7};`;
    if (want === 'digits') {
      // Four digits a load (wordDigits), '0's above the last word's characters.
      this.line(`s0 = p; x = 0; bad = 0; ${load} f = w >>> 24;`);
      this.line(`for (;;) { if (sm !== 0) { ${end} y |= kFill[z >>> 3]; ${wordDigits} x = x * kPow10[(z >>> 3) + 1] + g; break; }`
        + ` ${full} ${wordDigits} x = x * 10000 + g; p += 4; ${load} }`);
    } else if (want === 'key') {
      // A word of the key is a word of the packet's bytes joined like an integer's (fastRecordKeyWords).
      this.line(`s0 = p; k1 = 0; k2 = 0; ${load} f = w >>> 24; if (sm !== 0) { ${end} k0 = y; } else { k0 = w & ${kLow7}; p += 4; ${load}`);
      this.line(`if (sm !== 0) { ${end} k1 = y; } else { k1 = w & ${kLow7}; p += 4; ${load}`);
      this.line(`if (sm !== 0) { ${end} k2 = y; } else { k2 = w & ${kLow7}; k0 = -1; p += 4; ${load} while (sm === 0) { p += 4; ${load} } p += (Math.clz32(sm) >>> 3) + 1; } } }`);
    } else {
      this.line(`s0 = p; ${load} f = w >>> 24; while (sm === 0) { p += 4; ${load} } p += (Math.clz32(sm) >>> 3) + 1;`);
    }
    this.line('sl = p - s0; so = s0; nul = false;');
    // 0x80 alone is null (optional) or empty; a first byte 0 is a preamble: the byte path.
    this.line(`if (f === 128) { ${ins.optional ? 'nul = true;' : 'sl = 0;'} } else if (f === 0) return -1;`);
    if (want === 'digits') this.line('if (bad !== 0 || sl === 0 || sl > 15) x = -1;');
    else if (want === 'key') this.line('if (sl === 0) k0 = -1;');
  }

  private ascii(ins: FastInstruction): void {
    const k = this.slotOf(ins);
    const want = k < 0 ? undefined : this.want(ins);
    if (ins.hasInitial && k >= 0) throw new Unsupported(); // the value would be in the constants arena, not the packet
    const xv = want === 'hash' ? 'h' : 'x';
    const x = want === 'key' ? ` ${this.r(k, 3)} = k0; ${this.r(k, 4)} = k1; ${this.r(k, 5)} = k2;`
      : want === 'digits' || want === 'hash' ? ` ${this.r(k, 3)} = ${xv};` : '';
    const present = k < 0 ? '' : `${this.r(k, 0)} = 1; ${this.r(k, 1)} = so; ${this.r(k, 2)} = sl;${x}`;
    const none = this.absent(k);
    const op = ins.op;
    if (op === kFastOpConstant) {
      this.line(ins.optional ? `if (!${this.nextBit()}) { ${none} } else { ${k < 0 ? '' : 'return -1;'} }` : '');
      if (!ins.optional && k >= 0) throw new Unsupported();
      return;
    }
    if (op === kFastOpNone) {
      this.wireAscii(ins, want, k < 0);
      if (k >= 0) this.line(ins.optional ? `if (nul) { ${none} } else { ${present} }` : present);
      return;
    }
    if (op === kFastOpDefault) {
      this.line(`if (${this.nextBit()}) {`);
      this.wireAscii(ins, want, k < 0);
      this.line(ins.optional ? `if (nul) { ${none} } else { ${present} }` : present);
      // An unwanted default with an initial value: nothing to keep.
      this.line(ins.hasInitial ? '}' : ins.optional ? `} else { ${none} }` : '} else return -1;');
      return;
    }
    if (op !== kFastOpCopy) throw new Unsupported();
    if (ins.hasInitial) throw new Unsupported();
    if (this.dictionaryFree(ins, k)) {
      this.line(`if (${this.nextBit()}) {`);
      this.wireAscii(ins, want, true);
      this.line('}');
      return;
    }
    const e = this.entry(ins, 'ascii');
    this.line(`if (${this.nextBit()}) {`);
    this.wireAscii(ins, want);
    const keepX = want === 'key' ? ` dX${e} = k0; dY${e} = k1; dZ${e} = k2;` : want === 'digits' || want === 'hash' ? ` dX${e} = ${xv};` : '';
    const copyX = want === 'key' ? ` k0 = dX${e}; k1 = dY${e}; k2 = dZ${e};` : keepX === '' ? '' : ` ${xv} = dX${e};`;
    const keep = `dS${e} = 1; dV${e} = so; dA${e} = sl;${keepX} ${present}`;
    this.line(ins.optional ? `if (nul) { dS${e} = 2; ${none} } else { ${keep} }` : keep);
    // A 'key' copied from the dictionary is state 2: the same string as the previous element's.
    const copied = want === 'key' ? present.replace(`${this.r(k, 0)} = 1;`, `${this.r(k, 0)} = 2;`) : present;
    this.line(`} else if (dS${e} === 1) { so = dV${e}; sl = dA${e};${copyX} ${copied} }`);
    this.line(ins.optional ? `else { ${none} }` : 'else return -1;');
  }

  // ---- The sequence (one per template: its elements are the record's elements).

  private sequence(ins: FastInstruction): void {
    if (this.inElement || this.sequences++ > 0) throw new Unsupported();
    this.locals.add('n = 0');
    this.integer(ins.length!, 'n');
    this.line('if (n > cap) return -1;');
    this.line('R[0] = n;');
    const g = ins.group!;
    const savedBit = this.bit;
    const saved = [this.ps, this.pl, this.pmWord, this.pmBytes] as const;
    this.inElement = true;
    this.at = 'rb + ';
    this.line(`for (let i = 0; i < n; i++) {`);
    this.line(`rb = ${this.headerSize} + i * ${this.stride};`);
    if (g.needsPmap) this.pmapStart('pS', 'pL', 'pmE', Math.ceil(g.pmapBits / 7));
    else { this.line('const pS = p, pL = 0;'); this.bit = 0; this.ps = 'pS'; this.pl = 'pL'; this.pmWord = ''; }
    this.fields(g);
    this.absentUnseen(g, this.element, 'rb + ');
    this.line(`if (pL > ${Math.ceil(this.bit / 7)}) return -1;`);
    this.line('}');
    this.inElement = false;
    this.bit = savedBit;
    [this.ps, this.pl, this.pmWord, this.pmBytes] = saved;
    this.at = '';
  }
}
