/**
 * FAST 1.1 decoder: reads one message in place from (buffer, offset, length) by walking the compiled
 * template (fast-templates.ts) and leaves every field's value on a reusable value tape.
 *
 * The tape is the flyweight: typed arrays indexed by slot, one block of slots per template body,
 * per sequence element and per dynamically referenced segment, allocated from the front of the
 * tape for each message. A field's value is `num[slot]` (integer, decimal mantissa, sequence length),
 * `aux[slot]` (decimal exponent, string length, sequence block base) and `state[slot]` (absent, or
 * where a string's bytes are: the packet itself, the per-message scratch area, or the constants
 * arena). ASCII strings are read in place: their last byte still carries the stop bit, so the byte
 * accessors mask 0x7f. Strings that come from a dictionary (copy, tail, delta) are copied to the
 * scratch area because a later field may overwrite the entry in the same message. Typed flyweights
 * (moex-messages.ts) resolve slots by name once at start-up and read the tape by index.
 *
 * Allocation: none per message once the tape, scratch and dictionary arenas are large enough; they
 * double when a message needs more (a rare start-up cost, bounded by `maxSequenceLength`).
 * Integers are JS numbers: uInt32/int32 exact; int64 exact within +-(2^53 - 1) and larger
 * magnitudes are a counted overflow; uInt64 is kept exact up to 2^64 - 1 as two 32-bit halves
 * (`uint64High`/`uint64Low`; `int(slot)` is then the nearest double), because venues put 17-digit
 * timestamps there. Arithmetic operators (increment, delta) on a uInt64 beyond 2^53 are a counted
 * overflow. No BigInt anywhere on this path.
 *
 * Errors are counted by kind and returned as negative kFastDecode* codes, never thrown: truncation,
 * integer overflow, an unknown template, a mandatory field with no value (spec D5/D6), a bad string
 * delta (D7), an exponent outside [-63, 63] (R1), a sequence longer than the limit. A presence map
 * longer than the message needed (R7/R8) is counted and the message is still decoded. After an
 * error the dictionaries may hold part of the failed message: a stream decoder should reset them
 * (MOEX resets per packet anyway).
 *
 * Dictionaries: entry state is valid only for the current generation, so `resetDictionaries()` is
 * one increment, cheap enough for venues that reset before every packet.
 *
 * Single writer: the thread that owns the decoder. Templates may be shared between decoders.
 */
import {
  FastGroup, FastInstruction, FastTemplate, FastTemplateRegistry, kFastAscii, kFastByteVector, kFastDecimal,
  kFastDecimalSplit, kFastDynamicRef, kFastGroup, kFastInt32, kFastInt64, kFastOpConstant, kFastOpCopy, kFastOpDefault,
  kFastOpDelta, kFastOpIncrement, kFastOpNone, kFastOpTail, kFastSequence, kFastUInt32, kFastUInt64, kFastUnicode,
} from './fast-templates';
import { compileFastTemplates } from './fast-compiler';

export const kFastDecodeEmpty = -1;
export const kFastDecodeTruncated = -2;
export const kFastDecodeUnknownTemplate = -3;
export const kFastDecodeOverflow = -4;
export const kFastDecodeMissingValue = -5;
export const kFastDecodeBadDelta = -6;
export const kFastDecodeBadExponent = -7;
export const kFastDecodeTooLong = -8;
export const kFastDecodeNoTemplateId = -9;
/**
 * An ASCII string whose zero preamble (first byte 0x00) is followed by anything but the spec's two
 * forms (10.6.3: `00 80` is "\0", or the empty string when nullable; nullable `00 00 80` is "\0"):
 * an overlong encoding with no value it could stand for. Refused the way the independent mFAST
 * decoder refuses it (its D9); tickpath's decoders took the bytes after the preamble as the string
 * until a cross-check against mFAST showed the difference (test/feed/fast/fast-mfast-crosscheck.test.ts).
 */
export const kFastDecodeOverlongString = -10;

export const kFastDecodeErrorNames: Record<number, string> = {
  [kFastDecodeEmpty]: 'empty', [kFastDecodeTruncated]: 'truncated', [kFastDecodeUnknownTemplate]: 'unknownTemplate',
  [kFastDecodeOverflow]: 'overflow', [kFastDecodeMissingValue]: 'missingValue', [kFastDecodeBadDelta]: 'badDelta',
  [kFastDecodeBadExponent]: 'badExponent', [kFastDecodeTooLong]: 'tooLong', [kFastDecodeNoTemplateId]: 'noTemplateId',
  [kFastDecodeOverlongString]: 'overlongString',
};

// Tape slot states.
export const kFastAbsent = 0;
export const kFastPresent = 1;
/** String bytes in the decoded packet, ASCII: mask 0x7f (the last byte has the stop bit). */
const kInPacketAscii = 2;
/** String bytes in the decoded packet, raw (unicode, byteVector). */
const kInPacket = 3;
const kInScratch = 4;
const kInConstants = 5;

// Dictionary entry states (valid only when the entry's generation is current).
const kUndefined = 0;
const kAssigned = 1;
const kEmptyEntry = 2;

const kTwo32 = 4294967296;
/** A value at or above this cannot take another 7 bits and stay below 2^53. */
const kShiftLimit = 70368744177664; // 2^46
const kMaxSafe = Number.MAX_SAFE_INTEGER;

export class FastDecodeCounters {
  messages = 0;
  empty = 0;
  truncated = 0;
  unknownTemplate = 0;
  overflow = 0;
  missingValue = 0;
  badDelta = 0;
  badExponent = 0;
  tooLong = 0;
  noTemplateId = 0;
  /** ASCII strings with a zero preamble followed by more than the spec allows (kFastDecodeOverlongString). */
  overlongString = 0;
  /** Presence maps longer than the message needed (R7/R8): counted, the message is still decoded. */
  pmapOverlong = 0;
  /** Dictionary resets by a Reset message or a template with the reset attribute. */
  resets = 0;

  get errors(): number {
    return this.empty + this.truncated + this.unknownTemplate + this.overflow + this.missingValue + this.badDelta
      + this.badExponent + this.tooLong + this.noTemplateId + this.overlongString;
  }
}

export interface FastDecoderOptions {
  /** Longest sequence accepted (default 65536); longer is a counted kFastDecodeTooLong. */
  maxSequenceLength?: number;
  /** Initial tape size in slots (default 4096); doubles on demand. */
  initialSlots?: number;
  /**
   * 'compiled' (default): each template decodes through the function fast-compiler.ts generated for
   * it. 'interpreted': the generic walk over the instruction tree, the reference the compiled code
   * is tested against.
   */
  engine?: FastDecoderEngine;
  /**
   * The caller resets the dictionaries before every message (MOEX: FastFeedDecoder with its
   * per-datagram reset and one message per datagram), so a string a copy operator stores needs to
   * live only as long as the message: the entry then points at the bytes in the packet instead of
   * copying them into the dictionary arena. Default false (entries own their bytes).
   */
  transientStrings?: boolean;
}

export type FastDecoderEngine = 'compiled' | 'interpreted';

export class FastDecoder {
  /** Engine of decoders built without an `engine` option (tests run the suite under both). */
  static defaultEngine: FastDecoderEngine = 'compiled';
  readonly registry: FastTemplateRegistry;
  readonly engine: FastDecoderEngine;
  readonly counters = new FastDecodeCounters();
  /** Template of the last message decoded (top-level segment). */
  template: FastTemplate | undefined = undefined;
  /** Its id, or the negative code of the last failure. */
  templateId = -1;
  /** Offset just past the last message decoded (messages may be concatenated in a stream). */
  position = 0;
  /** The buffer of the last message (packet strings point into it). */
  buffer: Uint8Array = new Uint8Array(0);

  // Value tape.
  num: Float64Array;
  aux: Int32Array;
  ext: Float64Array;
  state: Uint8Array;
  private tapeSize = 0;
  private scratch = new Uint8Array(4096);
  private scratchLength = 0;

  // Dictionaries.
  private readonly dGeneration: Uint32Array;
  private readonly dState: Uint8Array;
  private readonly dNum: Float64Array;
  private readonly dAux: Float64Array;
  private readonly dExt: Float64Array;
  private readonly dOffset: Int32Array;
  private readonly dCapacity: Int32Array;
  /** Entries pointing into the current packet (transientStrings): 0 = none, else the byte mask (0x7f ASCII, 0xff raw). */
  private readonly dInPacket: Uint8Array;
  private readonly dPacketOffset: Int32Array;
  private readonly transientStrings: boolean;
  private dBytes = new Uint8Array(4096);
  private dBytesLength = 0;
  private generation = 1;
  private lastTemplateId = -1;
  private lastTemplateGeneration = 0;

  // Cursor.
  private pos = 0;
  private end = 0;
  private err = 0;
  private pmIndex = 0;
  private pmEnd = 0;
  private pmMask = 0;
  // Out-values of the wire readers (fields instead of objects: no allocation).
  private value = 0;
  private valueNull = false;
  private high = 0;
  private low = 0;
  private strOffset = 0;
  private strLength = 0;
  private strWhere = 0;
  private segmentTemplate: FastTemplate | undefined = undefined;

  private readonly maxSequenceLength: number;
  private readonly constants: Uint8Array;
  private readonly compiled: boolean;

  constructor(registry: FastTemplateRegistry, options: FastDecoderOptions = {}) {
    this.registry = registry;
    this.maxSequenceLength = options.maxSequenceLength ?? 65536;
    this.engine = options.engine ?? FastDecoder.defaultEngine;
    if (this.engine !== 'compiled' && this.engine !== 'interpreted') throw new TypeError(`FastDecoder: option engine is ${JSON.stringify(this.engine)}, expected 'compiled' or 'interpreted'`);
    this.compiled = this.engine === 'compiled';
    if (this.compiled) compileFastTemplates(registry);
    const slots = Math.max(64, options.initialSlots ?? 4096);
    this.num = new Float64Array(slots);
    this.aux = new Int32Array(slots);
    this.ext = new Float64Array(slots);
    this.state = new Uint8Array(slots);
    const n = Math.max(1, registry.dictionarySize);
    this.dGeneration = new Uint32Array(n);
    this.dState = new Uint8Array(n);
    this.dNum = new Float64Array(n);
    this.dAux = new Float64Array(n);
    this.dExt = new Float64Array(n);
    this.dOffset = new Int32Array(n);
    this.dInPacket = new Uint8Array(n);
    this.dPacketOffset = new Int32Array(n);
    this.transientStrings = options.transientStrings ?? false;
    this.dCapacity = new Int32Array(n);
    this.constants = registry.constants;
  }

  /** Every dictionary entry (and the previous template id) back to undefined: one increment. */
  resetDictionaries(): void {
    this.generation++;
    if (this.generation === 0xffffffff) { this.dGeneration.fill(0); this.generation = 1; }
  }

  /**
   * Decode one message at (offset, length). Returns its template id (>= 0) or a negative
   * kFastDecode* code; `position` is where the next message would start.
   */
  decode(buffer: Uint8Array, offset: number, length: number): number {
    this.buffer = buffer;
    this.pos = offset;
    this.end = offset + length;
    this.err = 0;
    this.tapeSize = 0;
    this.scratchLength = 0;
    this.template = undefined;
    if (length <= 0) return this.finish(kFastDecodeEmpty);
    const base = this.segment();
    if (base < 0) return this.finish(this.err);
    this.template = this.segmentTemplate;
    this.position = this.pos;
    this.counters.messages++;
    return (this.templateId = this.template!.id);
  }

  // ---- Tape accessors (slot = block base + instruction slot).

  isPresent(slot: number): boolean { return this.state[slot] !== kFastAbsent; }
  /** Integer value, decimal mantissa, or sequence length. */
  int(slot: number): number { return this.num[slot]; }
  mantissa(slot: number): number { return this.num[slot]; }
  exponent(slot: number): number { return this.aux[slot]; }
  /** Decimal as a double (tools; lossy beyond 15-17 digits). */
  decimal(slot: number): number {
    const e = this.aux[slot];
    return e >= 0 ? this.num[slot] * 10 ** e : this.num[slot] / 10 ** -e;
  }
  uint64High(slot: number): number { return this.ext[slot]; }
  uint64Low(slot: number): number { return this.aux[slot] >>> 0; }
  /** Byte length of a string/byteVector field. */
  byteLength(slot: number): number { return this.aux[slot]; }
  /** Byte `k` of a string/byteVector field (ASCII has its stop bit masked). */
  byteAt(slot: number, k: number): number {
    const off = this.num[slot] + k;
    switch (this.state[slot]) {
      case kInPacketAscii: return this.buffer[off] & 0x7f;
      case kInPacket: return this.buffer[off];
      case kInScratch: return this.scratch[off];
      case kInConstants: return this.constants[off];
      default: return 0;
    }
  }
  /** The array holding a string field's bytes (packet, scratch or constants): with sourceOffset and sourceMask, for hashing in place. */
  source(slot: number): Uint8Array {
    switch (this.state[slot]) {
      case kInScratch: return this.scratch;
      case kInConstants: return this.constants;
      default: return this.buffer;
    }
  }
  sourceOffset(slot: number): number { return this.num[slot]; }
  /** 0x7f for ASCII still in the packet (stop bit on the last byte), else 0xff. */
  sourceMask(slot: number): number { return this.state[slot] === kInPacketAscii ? 0x7f : 0xff; }
  /** Sequence: block base of element `index`. */
  elementBase(slot: number, index: number): number { return this.aux[slot] + index * this.ext[slot]; }
  /** Sequence length (0 when absent). */
  sequenceLength(slot: number): number { return this.state[slot] === kFastAbsent ? 0 : this.num[slot]; }
  /** Dynamic template reference: the nested segment's template id and block base. */
  refTemplateId(slot: number): number { return this.num[slot]; }
  refBase(slot: number): number { return this.aux[slot]; }

  /** A string field as a JS string (tools: allocates). ASCII and unicode; byteVector as latin1. */
  string(slot: number): string {
    const n = this.aux[slot];
    const bytes = new Uint8Array(n);
    for (let k = 0; k < n; k++) bytes[k] = this.byteAt(slot, k);
    return Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('utf8');
  }

  /** A string/byteVector field's bytes (tools: allocates). */
  bytes(slot: number): Uint8Array {
    const n = this.aux[slot];
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = this.byteAt(slot, k);
    return out;
  }

  /** Parse an ASCII field of decimal digits as a number; -1 if absent, empty, not digits or beyond 2^53. */
  digits(slot: number): number {
    const where = this.state[slot];
    const n = this.aux[slot];
    if (where === kFastAbsent || n === 0 || n > 15) return -1;
    // One source array and mask for the whole field, not a switch per byte (order ids, every entry).
    const src = where === kInScratch ? this.scratch : where === kInConstants ? this.constants : this.buffer;
    const mask = where === kInPacketAscii ? 0x7f : 0xff;
    const o = this.num[slot];
    let v = 0;
    for (let k = 0; k < n; k++) {
      const c = (src[o + k] & mask) - 48;
      if (c < 0 || c > 9) return -1;
      v = v * 10 + c;
    }
    return v;
  }

  // ---- Segments and groups.

  private finish(code: number): number {
    const c = this.counters;
    switch (code) {
      case kFastDecodeEmpty: c.empty++; break;
      case kFastDecodeTruncated: c.truncated++; break;
      case kFastDecodeUnknownTemplate: c.unknownTemplate++; break;
      case kFastDecodeOverflow: c.overflow++; break;
      case kFastDecodeMissingValue: c.missingValue++; break;
      case kFastDecodeBadDelta: c.badDelta++; break;
      case kFastDecodeBadExponent: c.badExponent++; break;
      case kFastDecodeTooLong: c.tooLong++; break;
      case kFastDecodeNoTemplateId: c.noTemplateId++; break;
      case kFastDecodeOverlongString: c.overlongString++; break;
    }
    this.template = undefined;
    this.position = this.end;
    return (this.templateId = code);
  }

  private fail(code: number): boolean {
    if (this.err === 0) this.err = code;
    return false;
  }

  /** Presence map, template id and body of one segment; returns the block base or -1. */
  private segment(): number {
    if (!this.readPmap()) return -1;
    const pmStart = this.pmIndex;
    let id: number;
    if (this.nextBit() !== 0) {
      id = this.readUint();
      if (id < 0) return -1;
    } else {
      if (this.lastTemplateGeneration !== this.generation || this.lastTemplateId < 0) { this.fail(kFastDecodeNoTemplateId); return -1; }
      id = this.lastTemplateId;
    }
    const t = this.registry.template(id);
    if (t === undefined) { this.fail(kFastDecodeUnknownTemplate); return -1; }
    if (t.reset) { this.resetDictionaries(); this.counters.resets++; }
    this.lastTemplateId = id;
    this.lastTemplateGeneration = this.generation;
    const body = t.body;
    const base = this.compiled && t.decodeBodyWritesEverySlot ? this.allocFilled(body.slotCount) : this.alloc(body.slotCount);
    this.segmentTemplate = t;
    if (this.compiled) {
      if (!t.decodeBody!(this, base, pmStart, this.pmEnd - pmStart)) return -1;
    } else {
      if (!this.fields(body, base)) return -1;
      this.checkPmapUsed();
    }
    this.segmentTemplate = t;
    return base;
  }

  private fields(g: FastGroup, base: number): boolean {
    const list = g.instructions;
    for (let i = 0; i < list.length; i++) if (!this.field(list[i], base)) return false;
    return true;
  }

  /** A sequence element or group body: its own presence map when some field takes a bit. */
  private group(g: FastGroup, base: number): boolean {
    if (!g.needsPmap) return this.fields(g, base);
    const savedIndex = this.pmIndex; const savedEnd = this.pmEnd; const savedMask = this.pmMask;
    if (!this.readPmap()) return false;
    if (!this.fields(g, base)) return false;
    this.checkPmapUsed();
    this.pmIndex = savedIndex; this.pmEnd = savedEnd; this.pmMask = savedMask;
    return true;
  }

  private field(ins: FastInstruction, base: number): boolean {
    const slot = base + ins.slot;
    switch (ins.kind) {
      case kFastUInt32:
      case kFastInt32:
      case kFastInt64:
        return this.integer(ins, slot);
      case kFastUInt64:
        return this.uint64(ins, slot);
      case kFastDecimal:
        return this.decimalField(ins, slot);
      case kFastDecimalSplit:
        return this.decimalSplit(ins, slot);
      case kFastAscii:
      case kFastUnicode:
      case kFastByteVector:
        return this.stringField(ins, slot);
      case kFastSequence:
        return this.sequence(ins, slot);
      case kFastGroup:
        if (ins.optional && this.nextBit() === 0) { this.state[slot] = kFastAbsent; return true; }
        this.state[slot] = kFastPresent;
        return this.group(ins.group!, base);
      case kFastDynamicRef:
        return this.dynamicRef(slot);
      default:
        return true;
    }
  }

  private sequence(ins: FastInstruction, slot: number): boolean {
    if (!this.integer(ins.length!, slot)) return false;
    if (this.state[slot] === kFastAbsent) return true;
    const n = this.num[slot];
    if (n > this.maxSequenceLength) return this.fail(kFastDecodeTooLong);
    const g = ins.group!;
    const stride = g.slotCount;
    const base = this.alloc(n * stride);
    this.aux[slot] = base;
    this.ext[slot] = stride;
    for (let i = 0; i < n; i++) if (!this.group(g, base + i * stride)) return false;
    return true;
  }

  private dynamicRef(slot: number): boolean {
    const savedIndex = this.pmIndex; const savedEnd = this.pmEnd; const savedMask = this.pmMask;
    const outer = this.segmentTemplate;
    const base = this.segment();
    if (base < 0) return false;
    this.num[slot] = this.segmentTemplate!.id;
    this.aux[slot] = base;
    this.state[slot] = kFastPresent;
    this.segmentTemplate = outer;
    this.pmIndex = savedIndex; this.pmEnd = savedEnd; this.pmMask = savedMask;
    return true;
  }

  private alloc(n: number): number {
    const base = this.tapeSize;
    const size = base + n;
    if (size > this.state.length) this.growTape(size);
    // A plain loop for the usual block (a dozen slots): TypedArray#fill is a builtin call whose
    // entry cost is larger than clearing a message's slots.
    const state = this.state;
    if (n <= 64) for (let i = base; i < size; i++) state[i] = 0; // kFastAbsent (a literal: not a load of exports.kFastAbsent)
    else state.fill(0, base, size);
    this.tapeSize = size;
    return base;
  }

  /**
   * A block whose compiled code sets every slot's state (fast-compiler.ts writesEverySlot): nothing to
   * clear. Clearing was about a tenth of decoding an X-OLR message.
   */
  private allocFilled(n: number): number {
    const base = this.tapeSize;
    const size = base + n;
    if (size > this.state.length) this.growTape(size);
    this.tapeSize = size;
    return base;
  }

  private growTape(need: number): void {
    let cap = this.state.length;
    while (cap < need) cap *= 2;
    const num = new Float64Array(cap); num.set(this.num); this.num = num;
    const aux = new Int32Array(cap); aux.set(this.aux); this.aux = aux;
    const ext = new Float64Array(cap); ext.set(this.ext); this.ext = ext;
    const state = new Uint8Array(cap); state.set(this.state); this.state = state;
  }

  // ---- Presence map.

  private readPmap(): boolean {
    const b = this.buffer;
    let p = this.pos;
    const end = this.end;
    const start = p;
    for (;;) {
      if (p >= end) return this.fail(kFastDecodeTruncated);
      if ((b[p++] & 0x80) !== 0) break;
    }
    this.pmIndex = start;
    this.pmEnd = p;
    this.pmMask = 0x40;
    this.pos = p;
    return true;
  }

  private nextBit(): number {
    const i = this.pmIndex;
    if (i >= this.pmEnd) return 0;
    const bit = this.buffer[i] & this.pmMask;
    if ((this.pmMask >>= 1) === 0) { this.pmMask = 0x40; this.pmIndex = i + 1; }
    return bit;
  }

  /** A whole byte of the map left unread means the map was longer than the message needed. */
  private checkPmapUsed(): void {
    if (this.pmIndex < this.pmEnd - 1 || (this.pmIndex === this.pmEnd - 1 && this.pmMask === 0x40)) this.counters.pmapOverlong++;
  }

  // ---- Stop-bit integers.

  /** Unsigned, exact below 2^53; -1 on truncation or overflow (err set). */
  private readUint(): number {
    const b = this.buffer;
    let p = this.pos;
    const end = this.end;
    let v = 0;
    for (;;) {
      if (p >= end) { this.fail(kFastDecodeTruncated); return -1; }
      const c = b[p++];
      v = v * 128 + (c & 0x7f);
      if ((c & 0x80) !== 0) break;
      if (v >= kShiftLimit) { this.fail(kFastDecodeOverflow); return -1; }
    }
    this.pos = p;
    return v;
  }

  /** Signed (two's complement, sign in bit 6 of the first byte), exact within +-2^53; err set on failure. */
  private readInt(): number {
    const b = this.buffer;
    let p = this.pos;
    const end = this.end;
    if (p >= end) { this.fail(kFastDecodeTruncated); return 0; }
    let c = b[p++];
    let v = (c & 0x40) !== 0 ? (c & 0x7f) - 128 : c & 0x7f;
    while ((c & 0x80) === 0) {
      if (v >= kShiftLimit || v < -kShiftLimit) { this.fail(kFastDecodeOverflow); return 0; }
      if (p >= end) { this.fail(kFastDecodeTruncated); return 0; }
      c = b[p++];
      v = v * 128 + (c & 0x7f);
    }
    this.pos = p;
    return v;
  }

  /** One integer of `kind` from the wire into value/valueNull (nullable when `optional`). */
  private wireInt(kind: number, optional: boolean): boolean {
    let v: number;
    if (kind === kFastUInt32) {
      v = this.readUint();
      if (v < 0) return false;
      if (optional) {
        if (v === 0) { this.valueNull = true; return true; }
        v--;
      }
      if (v > 0xffffffff) return this.fail(kFastDecodeOverflow);
    } else {
      v = this.readInt();
      if (this.err !== 0) return false;
      if (optional) {
        if (v === 0) { this.valueNull = true; return true; }
        if (v > 0) v--;
      }
      if (kind === kFastInt32 ? (v > 0x7fffffff || v < -0x80000000) : (v > kMaxSafe || v < -kMaxSafe)) return this.fail(kFastDecodeOverflow);
    }
    this.value = v;
    this.valueNull = false;
    return true;
  }

  private integer(ins: FastInstruction, slot: number): boolean {
    switch (ins.op) {
      case kFastOpNone:
        if (!this.wireInt(ins.kind, ins.optional)) return false;
        if (this.valueNull) this.state[slot] = kFastAbsent;
        else { this.num[slot] = this.value; this.state[slot] = kFastPresent; }
        return true;
      case kFastOpConstant:
        if (ins.optional && this.nextBit() === 0) { this.state[slot] = kFastAbsent; return true; }
        this.num[slot] = ins.initial; this.state[slot] = kFastPresent;
        return true;
      case kFastOpDefault:
        if (this.nextBit() !== 0) {
          if (!this.wireInt(ins.kind, ins.optional)) return false;
          if (this.valueNull) this.state[slot] = kFastAbsent;
          else { this.num[slot] = this.value; this.state[slot] = kFastPresent; }
          return true;
        }
        if (ins.hasInitial) { this.num[slot] = ins.initial; this.state[slot] = kFastPresent; return true; }
        this.state[slot] = kFastAbsent;
        return ins.optional || this.fail(kFastDecodeMissingValue);
      case kFastOpCopy:
      case kFastOpIncrement: {
        const e = ins.entry;
        if (this.nextBit() !== 0) {
          if (!this.wireInt(ins.kind, ins.optional)) return false;
          this.dGeneration[e] = this.generation;
          if (this.valueNull) { this.state[slot] = kFastAbsent; this.dState[e] = kEmptyEntry; return true; }
          this.num[slot] = this.value; this.state[slot] = kFastPresent;
          this.dState[e] = kAssigned; this.dNum[e] = this.value;
          return true;
        }
        const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
        if (ds === kAssigned) {
          let v = this.dNum[e];
          if (ins.op === kFastOpIncrement) {
            v++;
            if (v > maxOf(ins.kind)) return this.fail(kFastDecodeOverflow);
            this.dNum[e] = v;
          }
          this.num[slot] = v; this.state[slot] = kFastPresent;
          return true;
        }
        if (ds === kUndefined && ins.hasInitial) {
          this.num[slot] = ins.initial; this.state[slot] = kFastPresent;
          this.dGeneration[e] = this.generation; this.dState[e] = kAssigned; this.dNum[e] = ins.initial;
          return true;
        }
        this.state[slot] = kFastAbsent;
        return ins.optional || this.fail(kFastDecodeMissingValue);
      }
      case kFastOpDelta: {
        let d = this.readInt();
        if (this.err !== 0) return false;
        if (ins.optional) {
          if (d === 0) { this.state[slot] = kFastAbsent; return true; }
          if (d > 0) d--;
        }
        const e = ins.entry;
        const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
        let base: number;
        if (ds === kAssigned) base = this.dNum[e];
        else if (ds === kUndefined) base = ins.hasInitial ? ins.initial : 0;
        else return this.fail(kFastDecodeMissingValue);
        const v = base + d;
        if (v > maxOf(ins.kind) || v < minOf(ins.kind)) return this.fail(kFastDecodeOverflow);
        this.num[slot] = v; this.state[slot] = kFastPresent;
        this.dGeneration[e] = this.generation; this.dState[e] = kAssigned; this.dNum[e] = v;
        return true;
      }
      default:
        return this.fail(kFastDecodeMissingValue);
    }
  }

  // ---- uInt64: exact as high/low halves.

  /** Unsigned 64-bit into high/low (and value = nearest double); nullable when `optional`. */
  private wireUint64(optional: boolean): boolean {
    const b = this.buffer;
    let p = this.pos;
    const end = this.end;
    let hi = 0;
    let lo = 0;
    // Exact in one double while below 2^46 (six 7-bit groups and change): no carry arithmetic for
    // the leading bytes of a 17-digit timestamp, or for any value that fits.
    for (;;) {
      if (p >= end) return this.fail(kFastDecodeTruncated);
      const c = b[p++];
      lo = lo * 128 + (c & 0x7f);
      if ((c & 0x80) !== 0) {
        if (lo >= kTwo32) { hi = Math.floor(lo / kTwo32); lo -= hi * kTwo32; }
        return this.endUint64(p, hi, lo, optional);
      }
      if (lo >= kShiftLimit) break;
    }
    hi = Math.floor(lo / kTwo32);
    lo -= hi * kTwo32;
    for (;;) {
      if (p >= end) return this.fail(kFastDecodeTruncated);
      const c = b[p++];
      lo = lo * 128 + (c & 0x7f);
      const carry = Math.floor(lo / kTwo32);
      lo -= carry * kTwo32;
      hi = hi * 128 + carry;
      if (hi > kTwo32) return this.fail(kFastDecodeOverflow);
      if ((c & 0x80) !== 0) break;
    }
    return this.endUint64(p, hi, lo, optional);
  }

  private endUint64(p: number, hi: number, lo: number, optional: boolean): boolean {
    this.pos = p;
    if (optional) {
      if (hi === 0 && lo === 0) { this.valueNull = true; return true; }
      if (lo === 0) { lo = kTwo32 - 1; hi--; } else lo--;
    }
    if (hi >= kTwo32) return this.fail(kFastDecodeOverflow);
    this.high = hi;
    this.low = lo;
    this.value = hi * kTwo32 + lo;
    this.valueNull = false;
    return true;
  }

  private setUint64(slot: number, hi: number, lo: number): void {
    this.num[slot] = hi * kTwo32 + lo;
    this.ext[slot] = hi;
    this.aux[slot] = lo | 0;
    this.state[slot] = kFastPresent;
  }

  private setUint64Entry(e: number, hi: number, lo: number): void {
    this.dGeneration[e] = this.generation;
    this.dState[e] = kAssigned;
    this.dNum[e] = hi * kTwo32 + lo;
    this.dExt[e] = hi;
    this.dAux[e] = lo;
  }

  private uint64(ins: FastInstruction, slot: number): boolean {
    const op = ins.op;
    if (op === kFastOpNone || ((op === kFastOpDefault || op === kFastOpCopy || op === kFastOpIncrement) && this.nextBit() !== 0)) {
      if (!this.wireUint64(ins.optional)) return false;
      if (this.valueNull) {
        this.state[slot] = kFastAbsent;
        if (op === kFastOpCopy || op === kFastOpIncrement) { this.dGeneration[ins.entry] = this.generation; this.dState[ins.entry] = kEmptyEntry; }
        return true;
      }
      this.setUint64(slot, this.high, this.low);
      if (op === kFastOpCopy || op === kFastOpIncrement) this.setUint64Entry(ins.entry, this.high, this.low);
      return true;
    }
    switch (op) {
      case kFastOpConstant:
        if (ins.optional && this.nextBit() === 0) { this.state[slot] = kFastAbsent; return true; }
        this.setUint64(slot, ins.initialHigh, ins.initialLow);
        return true;
      case kFastOpDefault:
        if (ins.hasInitial) { this.setUint64(slot, ins.initialHigh, ins.initialLow); return true; }
        this.state[slot] = kFastAbsent;
        return ins.optional || this.fail(kFastDecodeMissingValue);
      case kFastOpCopy:
      case kFastOpIncrement: {
        const e = ins.entry;
        const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
        if (ds === kAssigned) {
          if (op === kFastOpIncrement) {
            const v = this.dNum[e] + 1;
            if (v > kMaxSafe) return this.fail(kFastDecodeOverflow);
            const hi = Math.floor(v / kTwo32);
            this.setUint64Entry(e, hi, v - hi * kTwo32);
          }
          this.setUint64(slot, this.dExt[e], this.dAux[e]);
          return true;
        }
        if (ds === kUndefined && ins.hasInitial) {
          this.setUint64(slot, ins.initialHigh, ins.initialLow);
          this.setUint64Entry(e, ins.initialHigh, ins.initialLow);
          return true;
        }
        this.state[slot] = kFastAbsent;
        return ins.optional || this.fail(kFastDecodeMissingValue);
      }
      case kFastOpDelta: {
        let d = this.readInt();
        if (this.err !== 0) return false;
        if (ins.optional) {
          if (d === 0) { this.state[slot] = kFastAbsent; return true; }
          if (d > 0) d--;
        }
        const e = ins.entry;
        const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
        let base: number;
        if (ds === kAssigned) base = this.dNum[e];
        else if (ds === kUndefined) base = ins.hasInitial ? ins.initial : 0;
        else return this.fail(kFastDecodeMissingValue);
        if (base > kMaxSafe) return this.fail(kFastDecodeOverflow);
        const v = base + d;
        if (v < 0 || v > kMaxSafe) return this.fail(kFastDecodeOverflow);
        const hi = Math.floor(v / kTwo32);
        this.setUint64(slot, hi, v - hi * kTwo32);
        this.setUint64Entry(e, hi, v - hi * kTwo32);
        return true;
      }
      default:
        return this.fail(kFastDecodeMissingValue);
    }
  }

  // ---- Decimals.

  /** Exponent (nullable when optional) then mantissa into low (exponent) / value (mantissa). */
  private wireDecimal(optional: boolean): boolean {
    let e = this.readInt();
    if (this.err !== 0) return false;
    if (optional) {
      if (e === 0) { this.valueNull = true; return true; }
      if (e > 0) e--;
    }
    if (e > 63 || e < -63) return this.fail(kFastDecodeBadExponent);
    const m = this.readInt();
    if (this.err !== 0) return false;
    if (m > kMaxSafe || m < -kMaxSafe) return this.fail(kFastDecodeOverflow);
    this.low = e;
    this.value = m;
    this.valueNull = false;
    return true;
  }

  private decimalField(ins: FastInstruction, slot: number): boolean {
    const op = ins.op;
    if (op === kFastOpNone || ((op === kFastOpDefault || op === kFastOpCopy) && this.nextBit() !== 0)) {
      if (!this.wireDecimal(ins.optional)) return false;
      if (this.valueNull) {
        this.state[slot] = kFastAbsent;
        if (op === kFastOpCopy) { this.dGeneration[ins.entry] = this.generation; this.dState[ins.entry] = kEmptyEntry; }
        return true;
      }
      this.num[slot] = this.value; this.aux[slot] = this.low; this.state[slot] = kFastPresent;
      if (op === kFastOpCopy) {
        const e = ins.entry;
        this.dGeneration[e] = this.generation; this.dState[e] = kAssigned; this.dNum[e] = this.value; this.dAux[e] = this.low;
      }
      return true;
    }
    switch (op) {
      case kFastOpConstant:
        if (ins.optional && this.nextBit() === 0) { this.state[slot] = kFastAbsent; return true; }
        this.num[slot] = ins.initial; this.aux[slot] = ins.initialExponent; this.state[slot] = kFastPresent;
        return true;
      case kFastOpDefault:
        if (ins.hasInitial) { this.num[slot] = ins.initial; this.aux[slot] = ins.initialExponent; this.state[slot] = kFastPresent; return true; }
        this.state[slot] = kFastAbsent;
        return ins.optional || this.fail(kFastDecodeMissingValue);
      case kFastOpCopy: {
        const e = ins.entry;
        const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
        if (ds === kAssigned) {
          this.num[slot] = this.dNum[e]; this.aux[slot] = this.dAux[e]; this.state[slot] = kFastPresent;
          return true;
        }
        if (ds === kUndefined && ins.hasInitial) {
          this.num[slot] = ins.initial; this.aux[slot] = ins.initialExponent; this.state[slot] = kFastPresent;
          this.dGeneration[e] = this.generation; this.dState[e] = kAssigned; this.dNum[e] = ins.initial; this.dAux[e] = ins.initialExponent;
          return true;
        }
        this.state[slot] = kFastAbsent;
        return ins.optional || this.fail(kFastDecodeMissingValue);
      }
      case kFastOpDelta: {
        let de = this.readInt();
        if (this.err !== 0) return false;
        if (ins.optional) {
          if (de === 0) { this.state[slot] = kFastAbsent; return true; }
          if (de > 0) de--;
        }
        const dm = this.readInt();
        if (this.err !== 0) return false;
        const e = ins.entry;
        const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
        let be: number; let bm: number;
        if (ds === kAssigned) { bm = this.dNum[e]; be = this.dAux[e]; }
        else if (ds === kUndefined) { bm = ins.hasInitial ? ins.initial : 0; be = ins.hasInitial ? ins.initialExponent : 0; }
        else return this.fail(kFastDecodeMissingValue);
        const exp = be + de;
        const m = bm + dm;
        if (exp > 63 || exp < -63) return this.fail(kFastDecodeBadExponent);
        if (m > kMaxSafe || m < -kMaxSafe) return this.fail(kFastDecodeOverflow);
        this.num[slot] = m; this.aux[slot] = exp; this.state[slot] = kFastPresent;
        this.dGeneration[e] = this.generation; this.dState[e] = kAssigned; this.dNum[e] = m; this.dAux[e] = exp;
        return true;
      }
      default:
        return this.fail(kFastDecodeMissingValue);
    }
  }

  /** Exponent and mantissa with their own operators; the mantissa (and its map bit) only when the exponent is present. */
  private decimalSplit(ins: FastInstruction, slot: number): boolean {
    if (!this.integer(ins.exponent!, slot)) return false;
    if (this.state[slot] === kFastAbsent) return true;
    const exp = this.num[slot];
    if (exp > 63 || exp < -63) return this.fail(kFastDecodeBadExponent);
    if (!this.integer(ins.mantissa!, slot)) return false;
    this.aux[slot] = exp;
    this.state[slot] = kFastPresent;
    return true;
  }

  // ---- Strings and byte vectors.

  /** A string from the wire into strOffset/strLength/strWhere (valueNull when null). */
  private wireString(kind: number, optional: boolean): boolean {
    const b = this.buffer;
    let p = this.pos;
    const end = this.end;
    if (kind === kFastAscii) {
      const start = p;
      for (;;) {
        if (p >= end) return this.fail(kFastDecodeTruncated);
        if ((b[p++] & 0x80) !== 0) break;
      }
      this.pos = p;
      const n = p - start;
      this.valueNull = false;
      this.strWhere = kInPacketAscii;
      if (n === 1 && b[start] === 0x80) {
        if (optional) { this.valueNull = true; return true; }
        this.strOffset = start; this.strLength = 0;
        return true;
      }
      if (b[start] === 0) {
        // Zero preamble (spec 10.6.3): 00 80 is "\0" (nullable: the empty string), nullable 00 00 80
        // is "\0"; anything else after it is an overlong string (kFastDecodeOverlongString).
        if (n === 2 && b[start + 1] === 0x80) {
          if (optional) { this.strOffset = start; this.strLength = 0; } else { this.strOffset = start + 1; this.strLength = 1; }
          return true;
        }
        if (optional && n === 3 && b[start + 1] === 0 && b[start + 2] === 0x80) { this.strOffset = start + 2; this.strLength = 1; return true; }
        return this.fail(kFastDecodeOverlongString);
      }
      this.strOffset = start; this.strLength = n;
      return true;
    }
    let n = this.readUint();
    if (n < 0) return false;
    if (optional) {
      if (n === 0) { this.valueNull = true; return true; }
      n--;
    }
    p = this.pos;
    if (n > end - p) return this.fail(kFastDecodeTruncated);
    this.strOffset = p; this.strLength = n; this.strWhere = kInPacket; this.valueNull = false;
    this.pos = p + n;
    return true;
  }

  private setString(slot: number, where: number, offset: number, length: number): void {
    this.num[slot] = offset; this.aux[slot] = length; this.state[slot] = where;
  }

  /** Store bytes in a dictionary entry (ASCII from the packet loses its stop bit). */
  private setEntryBytes(e: number, src: Uint8Array, offset: number, length: number, mask: number): void {
    if (this.transientStrings && src === this.buffer) {
      // Valid until the next message, which comes after a reset: no copy.
      this.dGeneration[e] = this.generation; this.dState[e] = kAssigned; this.dAux[e] = length;
      this.dInPacket[e] = mask; this.dPacketOffset[e] = offset;
      return;
    }
    this.dInPacket[e] = 0;
    if (this.dGeneration[e] !== this.generation || this.dCapacity[e] < length) {
      if (this.dCapacity[e] < length) {
        const cap = Math.max(32, length);
        const need = this.dBytesLength + cap;
        if (need > this.dBytes.length) {
          let size = this.dBytes.length * 2;
          while (size < need) size *= 2;
          const grown = new Uint8Array(size); grown.set(this.dBytes); this.dBytes = grown;
        }
        this.dOffset[e] = this.dBytesLength;
        this.dCapacity[e] = cap;
        this.dBytesLength = need;
      }
    }
    const d = this.dBytes;
    const o = this.dOffset[e];
    for (let k = 0; k < length; k++) d[o + k] = src[offset + k] & mask;
    this.dGeneration[e] = this.generation;
    this.dState[e] = kAssigned;
    this.dAux[e] = length;
  }

  private ensureScratch(extra: number): void {
    const need = this.scratchLength + extra;
    if (need <= this.scratch.length) return;
    let size = this.scratch.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size); grown.set(this.scratch.subarray(0, this.scratchLength)); this.scratch = grown;
  }

  /** Copy a dictionary entry's bytes to the scratch area and point the slot at them. */
  private entryToSlot(e: number, slot: number): void {
    const inPacket = this.dInPacket[e];
    if (inPacket !== 0) { this.setString(slot, inPacket === 0x7f ? kInPacketAscii : kInPacket, this.dPacketOffset[e], this.dAux[e]); return; }
    const n = this.dAux[e];
    this.ensureScratch(n);
    const s = this.scratch; const d = this.dBytes; const o = this.dOffset[e]; const at = this.scratchLength;
    for (let k = 0; k < n; k++) s[at + k] = d[o + k];
    this.scratchLength = at + n;
    this.setString(slot, kInScratch, at, n);
  }

  private stringField(ins: FastInstruction, slot: number): boolean {
    const op = ins.op;
    const kind = ins.kind;
    if (op === kFastOpNone || ((op === kFastOpDefault || op === kFastOpCopy) && this.nextBit() !== 0)) {
      if (!this.wireString(kind, ins.optional)) return false;
      if (this.valueNull) {
        this.state[slot] = kFastAbsent;
        if (op === kFastOpCopy) { this.dGeneration[ins.entry] = this.generation; this.dState[ins.entry] = kEmptyEntry; }
        return true;
      }
      this.setString(slot, this.strWhere, this.strOffset, this.strLength);
      if (op === kFastOpCopy) this.setEntryBytes(ins.entry, this.buffer, this.strOffset, this.strLength, this.strWhere === kInPacketAscii ? 0x7f : 0xff);
      return true;
    }
    switch (op) {
      case kFastOpConstant:
        if (ins.optional && this.nextBit() === 0) { this.state[slot] = kFastAbsent; return true; }
        this.setString(slot, kInConstants, ins.initialOffset, ins.initialLength);
        return true;
      case kFastOpDefault:
        if (ins.hasInitial) { this.setString(slot, kInConstants, ins.initialOffset, ins.initialLength); return true; }
        this.state[slot] = kFastAbsent;
        return ins.optional || this.fail(kFastDecodeMissingValue);
      case kFastOpCopy:
        return this.previousString(ins, slot);
      case kFastOpTail:
        return this.tail(ins, slot);
      case kFastOpDelta:
        return this.stringDelta(ins, slot);
      default:
        return this.fail(kFastDecodeMissingValue);
    }
  }

  /** Copy/tail with the map bit clear: the previous value, else the initial value. */
  private previousString(ins: FastInstruction, slot: number): boolean {
    const e = ins.entry;
    const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
    if (ds === kAssigned) { this.entryToSlot(e, slot); return true; }
    if (ds === kUndefined && ins.hasInitial) {
      this.setEntryBytes(e, this.constants, ins.initialOffset, ins.initialLength, 0xff);
      this.setString(slot, kInConstants, ins.initialOffset, ins.initialLength);
      return true;
    }
    this.state[slot] = kFastAbsent;
    return ins.optional || this.fail(kFastDecodeMissingValue);
  }

  private tail(ins: FastInstruction, slot: number): boolean {
    if (this.nextBit() === 0) return this.previousString(ins, slot);
    if (!this.wireString(ins.kind, ins.optional)) return false;
    const e = ins.entry;
    if (this.valueNull) {
      this.state[slot] = kFastAbsent;
      this.dGeneration[e] = this.generation; this.dState[e] = kEmptyEntry;
      return true;
    }
    const mask = this.strWhere === kInPacketAscii ? 0x7f : 0xff;
    const tailOffset = this.strOffset; const tailLength = this.strLength;
    const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
    // Base: the previous value, else the initial value, else empty.
    let baseBuf: Uint8Array = this.constants; let baseOffset = ins.initialOffset; let baseLength = ins.hasInitial ? ins.initialLength : 0;
    let baseMask = 0xff;
    if (ds === kAssigned) {
      baseLength = this.dAux[e];
      if (this.dInPacket[e] !== 0) { baseBuf = this.buffer; baseOffset = this.dPacketOffset[e]; baseMask = this.dInPacket[e]; } else { baseBuf = this.dBytes; baseOffset = this.dOffset[e]; }
    }
    const keep = tailLength >= baseLength ? 0 : baseLength - tailLength;
    const n = keep + tailLength;
    this.ensureScratch(n);
    const s = this.scratch; const at = this.scratchLength; const src = this.buffer;
    for (let k = 0; k < keep; k++) s[at + k] = baseBuf[baseOffset + k] & baseMask;
    for (let k = 0; k < tailLength; k++) s[at + keep + k] = src[tailOffset + k] & mask;
    this.scratchLength = at + n;
    this.setString(slot, kInScratch, at, n);
    this.setEntryBytes(e, s, at, n, 0xff);
    return true;
  }

  private stringDelta(ins: FastInstruction, slot: number): boolean {
    let sub = this.readInt();
    if (this.err !== 0) return false;
    if (ins.optional) {
      if (sub === 0) { this.state[slot] = kFastAbsent; return true; }
      if (sub > 0) sub--;
    }
    if (sub > 0x7fffffff || sub < -0x80000000) return this.fail(kFastDecodeOverflow);
    if (!this.wireString(ins.kind, false)) return false;
    const mask = this.strWhere === kInPacketAscii ? 0x7f : 0xff;
    const diffOffset = this.strOffset; const diffLength = this.strLength;
    const e = ins.entry;
    const ds = this.dGeneration[e] === this.generation ? this.dState[e] : kUndefined;
    if (ds === kEmptyEntry) return this.fail(kFastDecodeMissingValue);
    let baseBuf: Uint8Array = this.constants; let baseOffset = ins.initialOffset; let baseLength = ins.hasInitial ? ins.initialLength : 0;
    let baseMask = 0xff;
    if (ds === kAssigned) {
      baseLength = this.dAux[e];
      if (this.dInPacket[e] !== 0) { baseBuf = this.buffer; baseOffset = this.dPacketOffset[e]; baseMask = this.dInPacket[e]; } else { baseBuf = this.dBytes; baseOffset = this.dOffset[e]; }
    }
    const front = sub < 0;
    const remove = front ? -sub - 1 : sub;
    if (remove > baseLength) return this.fail(kFastDecodeBadDelta);
    const keep = baseLength - remove;
    const n = keep + diffLength;
    this.ensureScratch(n);
    const s = this.scratch; const at = this.scratchLength; const src = this.buffer;
    if (front) {
      for (let k = 0; k < diffLength; k++) s[at + k] = src[diffOffset + k] & mask;
      for (let k = 0; k < keep; k++) s[at + diffLength + k] = baseBuf[baseOffset + remove + k] & baseMask;
    } else {
      for (let k = 0; k < keep; k++) s[at + k] = baseBuf[baseOffset + k] & baseMask;
      for (let k = 0; k < diffLength; k++) s[at + keep + k] = src[diffOffset + k] & mask;
    }
    this.scratchLength = at + n;
    this.setString(slot, kInScratch, at, n);
    this.setEntryBytes(e, s, at, n, 0xff);
    return true;
  }
}

function maxOf(kind: number): number {
  return kind === kFastUInt32 ? 0xffffffff : kind === kFastInt32 ? 0x7fffffff : kMaxSafe;
}

function minOf(kind: number): number {
  return kind === kFastUInt32 || kind === kFastUInt64 ? 0 : kind === kFastInt32 ? -0x80000000 : -kMaxSafe;
}
