/**
 * FAST 1.1 encoder for tests, session generators and replay tools: the mirror of FastDecoder over the
 * same compiled templates, with its own dictionaries. Not a hot path: it builds plain arrays, uses
 * BigInt for exact 64-bit integers and throws FastEncodeError on a value the template cannot carry
 * (a mandatory field left out, a constant that differs, a tail that would shorten the previous value).
 *
 * Values are plain records keyed by field name: integers as number or bigint, decimals as
 * { mantissa, exponent }, strings as string (ASCII or UTF-8 per charset), byte vectors as Uint8Array,
 * sequences as arrays of records, groups as nested records, absent optional fields as undefined or
 * null. Fields of statically referenced templates sit in the referrer's record; a dynamic
 * `<templateRef/>` is `$ref` ({ template: name or id, values }). Operators pick the shortest legal
 * encoding: a copy whose value equals the dictionary's is left out of the stream, an increment of
 * previous + 1 likewise, a default equal to the initial value likewise.
 */
import {
  FastGroup, FastInstruction, FastTemplate, FastTemplateRegistry, isFastInteger, kFastAscii, kFastByteVector, kFastDecimal,
  kFastDecimalSplit, kFastDynamicRef, kFastGroup, kFastInt32, kFastOpConstant, kFastOpCopy, kFastOpDefault,
  kFastOpDelta, kFastOpIncrement, kFastOpNone, kFastOpTail, kFastSequence, kFastUInt32, kFastUInt64, kFastUnicode,
} from './fast-templates';

export class FastEncodeError extends Error {
  readonly code = 'ERR_FAST_ENCODE';
  constructor(message: string) { super(message); this.name = 'FastEncodeError'; }
}

export interface FastDecimalValue { mantissa: number; exponent: number }
export interface FastRecord { [name: string]: FastValue }
export interface FastRefValue { template: string | number; values: FastRecord }
export type FastValue = number | bigint | string | Uint8Array | FastDecimalValue | FastRecord | FastRecord[] | FastRefValue | null | undefined;

type Entry = { state: 'assigned'; value: bigint | FastDecimalValue | Uint8Array } | { state: 'empty' };

/** Stop-bit bytes of an unsigned integer. */
export function encodeUnsigned(v: bigint, out: number[]): void {
  if (v < 0n) throw new FastEncodeError(`unsigned value ${v} is negative`);
  const groups: number[] = [];
  do { groups.push(Number(v & 0x7fn)); v >>= 7n; } while (v > 0n);
  for (let i = groups.length - 1; i > 0; i--) out.push(groups[i]);
  out.push(groups[0] | 0x80);
}

/** Stop-bit bytes of a signed integer (two's complement, sign in bit 6 of the first byte). */
export function encodeSigned(v: bigint, out: number[]): void {
  const groups: number[] = [];
  for (;;) {
    const g = Number(v & 0x7fn);
    v >>= 7n;
    groups.push(g);
    if ((v === 0n && (g & 0x40) === 0) || (v === -1n && (g & 0x40) !== 0)) break;
  }
  for (let i = groups.length - 1; i > 0; i--) out.push(groups[i]);
  out.push(groups[0] | 0x80);
}

function nullableUnsigned(v: bigint | null, out: number[]): void {
  if (v === null) out.push(0x80); else encodeUnsigned(v + 1n, out);
}

function nullableSigned(v: bigint | null, out: number[]): void {
  if (v === null) out.push(0x80); else encodeSigned(v >= 0n ? v + 1n : v, out);
}

/**
 * ASCII string bytes with the zero preamble rules of spec 10.6.3: "" and "\0" take the preamble
 * (00 80, nullable 00 80 / 00 00 80). A string of more than one character that starts with NUL has
 * no encoding (a decoder refuses the preamble followed by more: fast-decoder.ts
 * kFastDecodeOverlongString), so it is refused here rather than sent.
 */
export function encodeAscii(bytes: Uint8Array | null, optional: boolean, out: number[], where = 'ASCII string'): void {
  if (bytes === null) { out.push(0x80); return; }
  if (bytes.length === 0) { if (optional) out.push(0x00); out.push(0x80); return; }
  if (bytes[0] === 0 && bytes.length > 1) {
    throw new FastEncodeError(`${where}: an ASCII string of ${bytes.length} characters that starts with NUL has no FAST encoding (only "\\0" alone takes the zero preamble, spec 10.6.3); drop the NUL or make the field a byteVector`);
  }
  if (bytes[0] === 0) { out.push(0x00); if (optional) out.push(0x00); }
  for (let i = 0; i < bytes.length - 1; i++) out.push(bytes[i] & 0x7f);
  out.push((bytes[bytes.length - 1] & 0x7f) | 0x80);
}

function encodeRaw(bytes: Uint8Array | null, optional: boolean, out: number[]): void {
  if (bytes === null) { out.push(0x80); return; }
  if (optional) nullableUnsigned(BigInt(bytes.length), out); else encodeUnsigned(BigInt(bytes.length), out);
  for (const b of bytes) out.push(b);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function range(kind: number): [bigint, bigint] {
  switch (kind) {
    case kFastUInt32: return [0n, 0xffffffffn];
    case kFastInt32: return [-(2n ** 31n), 2n ** 31n - 1n];
    case kFastUInt64: return [0n, 2n ** 64n - 1n];
    default: return [-(2n ** 63n), 2n ** 63n - 1n];
  }
}

class Segment {
  readonly bits: number[] = [];
  readonly body: number[] = [];
}

export class FastEncoder {
  private dictionary = new Map<number, Entry>();
  private lastTemplateId = -1;

  constructor(readonly registry: FastTemplateRegistry) {}

  resetDictionaries(): void {
    this.dictionary = new Map();
    this.lastTemplateId = -1;
  }

  /** Encode one message of `template` (name or id). */
  encode(template: string | number, values: FastRecord): Uint8Array {
    const out: number[] = [];
    this.segment(this.resolve(template), values, out);
    return Uint8Array.from(out);
  }

  private resolve(template: string | number): FastTemplate {
    const t = typeof template === 'number' ? this.registry.template(template) : this.registry.byName.get(template);
    if (t === undefined) throw new FastEncodeError(`no template ${template}`);
    return t;
  }

  private segment(t: FastTemplate, values: FastRecord, out: number[]): void {
    if (t.reset) this.resetDictionaries();
    const seg = new Segment();
    if (this.lastTemplateId === t.id) seg.bits.push(0);
    else { seg.bits.push(1); encodeUnsigned(BigInt(t.id), seg.body); }
    this.lastTemplateId = t.id;
    this.fields(t.body, values, seg, t.name);
    emitPmap(seg.bits, out);
    for (const b of seg.body) out.push(b);
  }

  private fields(g: FastGroup, values: FastRecord, seg: Segment, where: string): void {
    let refs = 0;
    for (const ins of g.instructions) {
      if (ins.kind === kFastDynamicRef) {
        const key = refs === 0 ? '$ref' : `$ref${refs}`;
        refs++;
        const ref = values[key] as FastRefValue | undefined;
        if (ref === undefined || ref === null) throw new FastEncodeError(`${where}: dynamic templateRef ${key} needs { template, values }`);
        this.segment(this.resolve(ref.template), ref.values, seg.body);
        continue;
      }
      this.field(ins, values[ins.name], seg, `${where}.${ins.name}`);
    }
  }

  private group(g: FastGroup, values: FastRecord, out: number[], where: string): void {
    const seg = new Segment();
    this.fields(g, values, seg, where);
    if (g.needsPmap) emitPmap(seg.bits, out);
    for (const b of seg.body) out.push(b);
  }

  private field(ins: FastInstruction, v: FastValue, seg: Segment, where: string): void {
    const absent = v === undefined || v === null;
    if (absent && !ins.optional && ins.kind !== kFastGroup && !(ins.op === kFastOpConstant)) {
      throw new FastEncodeError(`${where}: mandatory field has no value`);
    }
    switch (ins.kind) {
      case kFastSequence: {
        const list = absent ? null : v as FastRecord[];
        if (list !== null && !Array.isArray(list)) throw new FastEncodeError(`${where}: a sequence takes an array`);
        this.scalar(ins.length!, list === null ? null : BigInt(list.length), seg, `${where}.length`);
        if (list !== null) for (let i = 0; i < list.length; i++) this.group(ins.group!, list[i], seg.body, `${where}[${i}]`);
        return;
      }
      case kFastGroup:
        if (ins.optional) seg.bits.push(absent ? 0 : 1);
        else if (absent) throw new FastEncodeError(`${where}: mandatory group has no value`);
        if (!absent) this.group(ins.group!, v as FastRecord, seg.body, where);
        return;
      case kFastDecimalSplit: {
        const d = absent ? null : v as FastDecimalValue;
        this.scalar(ins.exponent!, d === null ? null : BigInt(d.exponent), seg, `${where}.exponent`);
        if (d !== null) this.scalar(ins.mantissa!, BigInt(d.mantissa), seg, `${where}.mantissa`);
        return;
      }
      default:
        this.scalar(ins, absent ? null : normalize(ins, v, where), seg, where);
    }
  }

  /** Apply the operator to one scalar (bigint, decimal or bytes); null = absent. */
  private scalar(ins: FastInstruction, value: bigint | FastDecimalValue | Uint8Array | null, seg: Segment, where: string): void {
    const op = ins.op;
    const initial = initialOf(ins, this.registry);
    const equal = (a: bigint | FastDecimalValue | Uint8Array, b: bigint | FastDecimalValue | Uint8Array): boolean => {
      if (typeof a === 'bigint') return a === b;
      if (a instanceof Uint8Array) return b instanceof Uint8Array && sameBytes(a, b);
      const bd = b as FastDecimalValue;
      return a.mantissa === bd.mantissa && a.exponent === bd.exponent;
    };
    switch (op) {
      case kFastOpNone:
        this.wire(ins, value, seg.body);
        return;
      case kFastOpConstant:
        if (value !== null && !equal(value, initial!)) throw new FastEncodeError(`${where}: value differs from the constant`);
        if (ins.optional) seg.bits.push(value === null ? 0 : 1);
        return;
      case kFastOpDefault:
        if (value === null ? (initial === null) : (initial !== null && equal(value, initial))) { seg.bits.push(0); return; }
        seg.bits.push(1);
        this.wire(ins, value, seg.body);
        return;
      case kFastOpCopy:
      case kFastOpIncrement:
      case kFastOpTail: {
        const prior = this.dictionary.get(ins.entry);
        // What the decoder would produce with the bit clear.
        let implied: bigint | FastDecimalValue | Uint8Array | null | 'error' = 'error';
        if (prior?.state === 'assigned') {
          implied = op === kFastOpIncrement ? (prior.value as bigint) + 1n : prior.value;
        } else if (prior === undefined) {
          implied = initial !== null ? initial : ins.optional ? null : 'error';
        } else {
          implied = ins.optional ? null : 'error';
        }
        if (implied !== 'error' && (value === null ? implied === null : implied !== null && equal(value, implied))) {
          seg.bits.push(0);
          if (implied !== null && (prior === undefined || op === kFastOpIncrement)) this.dictionary.set(ins.entry, { state: 'assigned', value: implied });
          return;
        }
        seg.bits.push(1);
        if (op === kFastOpTail && value !== null) {
          const base = prior?.state === 'assigned' ? prior.value as Uint8Array : (initial as Uint8Array | null) ?? new Uint8Array(0);
          const v = value as Uint8Array;
          if (v.length < base.length) throw new FastEncodeError(`${where}: tail cannot shorten ${base.length} bytes to ${v.length}`);
          let common = 0;
          if (v.length === base.length) while (common < v.length && v[common] === base[common]) common++;
          this.wire(ins, v.subarray(common), seg.body);
        } else {
          this.wire(ins, value, seg.body);
        }
        this.dictionary.set(ins.entry, value === null ? { state: 'empty' } : { state: 'assigned', value });
        return;
      }
      case kFastOpDelta: {
        if (value === null) { seg.body.push(0x80); return; }
        const prior = this.dictionary.get(ins.entry);
        if (prior?.state === 'empty') throw new FastEncodeError(`${where}: delta from an empty dictionary entry`);
        const base = prior?.state === 'assigned' ? prior.value : initial;
        if (typeof value === 'bigint') {
          const d = value - ((base as bigint | null) ?? 0n);
          if (ins.optional) nullableSigned(d, seg.body); else encodeSigned(d, seg.body);
        } else if (value instanceof Uint8Array) {
          const b = (base as Uint8Array | null) ?? new Uint8Array(0);
          let prefix = 0;
          while (prefix < b.length && prefix < value.length && b[prefix] === value[prefix]) prefix++;
          let suffix = 0;
          while (suffix < b.length && suffix < value.length && b[b.length - 1 - suffix] === value[value.length - 1 - suffix]) suffix++;
          let sub: bigint; let diff: Uint8Array;
          if (prefix >= suffix) { sub = BigInt(b.length - prefix); diff = value.subarray(prefix); }
          else { sub = -BigInt(b.length - suffix) - 1n; diff = value.subarray(0, value.length - suffix); }
          if (ins.optional) nullableSigned(sub, seg.body); else encodeSigned(sub, seg.body);
          if (ins.kind === kFastAscii) encodeAscii(diff, false, seg.body, `${where} (the delta's string part)`); else encodeRaw(diff, false, seg.body);
        } else {
          const b = (base as FastDecimalValue | null) ?? { mantissa: 0, exponent: 0 };
          const de = BigInt(value.exponent - b.exponent);
          if (ins.optional) nullableSigned(de, seg.body); else encodeSigned(de, seg.body);
          encodeSigned(BigInt(value.mantissa) - BigInt(b.mantissa), seg.body);
        }
        this.dictionary.set(ins.entry, { state: 'assigned', value });
        return;
      }
      default:
        throw new FastEncodeError(`${where}: unknown operator`);
    }
  }

  /** The field's value as it goes on the wire (nullable when optional). */
  private wire(ins: FastInstruction, value: bigint | FastDecimalValue | Uint8Array | null, out: number[]): void {
    const kind = ins.kind;
    if (isFastInteger(kind)) {
      const v = value as bigint | null;
      if (kind === kFastUInt32 || kind === kFastUInt64) { if (ins.optional) nullableUnsigned(v, out); else encodeUnsigned(v!, out); }
      else if (ins.optional) nullableSigned(v, out); else encodeSigned(v!, out);
      return;
    }
    if (kind === kFastDecimal) {
      const d = value as FastDecimalValue | null;
      if (d === null) { out.push(0x80); return; }
      if (ins.optional) nullableSigned(BigInt(d.exponent), out); else encodeSigned(BigInt(d.exponent), out);
      encodeSigned(BigInt(d.mantissa), out);
      return;
    }
    if (kind === kFastAscii) encodeAscii(value as Uint8Array | null, ins.optional, out, ins.name);
    else encodeRaw(value as Uint8Array | null, ins.optional, out);
  }
}

function normalize(ins: FastInstruction, v: FastValue, where: string): bigint | FastDecimalValue | Uint8Array {
  const kind = ins.kind;
  if (isFastInteger(kind)) {
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new FastEncodeError(`${where}: ${typeof v} is not an integer`);
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new FastEncodeError(`${where}: ${v} is not a safe integer (pass a bigint)`);
    const b = BigInt(v);
    const [lo, hi] = range(kind);
    if (b < lo || b > hi) throw new FastEncodeError(`${where}: ${b} is out of range`);
    return b;
  }
  if (kind === kFastDecimal) {
    const d = v as FastDecimalValue;
    if (typeof d !== 'object' || !Number.isSafeInteger(d.mantissa) || !Number.isInteger(d.exponent) || d.exponent < -63 || d.exponent > 63) {
      throw new FastEncodeError(`${where}: a decimal is { mantissa, exponent } with exponent in [-63, 63]`);
    }
    return { mantissa: d.mantissa, exponent: d.exponent };
  }
  if (kind === kFastByteVector) {
    if (!(v instanceof Uint8Array)) throw new FastEncodeError(`${where}: a byteVector takes a Uint8Array`);
    return v;
  }
  if (typeof v !== 'string') throw new FastEncodeError(`${where}: a string field takes a string`);
  if (kind === kFastUnicode) return new Uint8Array(Buffer.from(v, 'utf8'));
  const bytes = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 0x7f) throw new FastEncodeError(`${where}: "${v}" is not ASCII`);
    bytes[i] = c;
  }
  return bytes;
}

function initialOf(ins: FastInstruction, registry: FastTemplateRegistry): bigint | FastDecimalValue | Uint8Array | null {
  if (!ins.hasInitial) return null;
  if (isFastInteger(ins.kind)) {
    return ins.kind === kFastUInt64 ? (BigInt(ins.initialHigh) << 32n) + BigInt(ins.initialLow) : BigInt(ins.initial);
  }
  if (ins.kind === kFastDecimal) return { mantissa: ins.initial, exponent: ins.initialExponent };
  return registry.constants.subarray(ins.initialOffset, ins.initialOffset + ins.initialLength);
}

/** Presence map bits as stop-bit bytes, trailing all-zero bytes dropped (at least one byte). */
function emitPmap(bits: number[], out: number[]): void {
  let n = Math.max(1, Math.ceil(bits.length / 7));
  const bytes: number[] = [];
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 0; k < 7; k++) if (bits[i * 7 + k]) b |= 0x40 >> k;
    bytes.push(b);
  }
  while (n > 1 && bytes[n - 1] === 0) n--;
  for (let i = 0; i < n - 1; i++) out.push(bytes[i]);
  out.push(bytes[n - 1] | 0x80);
}

