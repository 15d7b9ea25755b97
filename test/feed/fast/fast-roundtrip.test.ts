/**
 * Property tests: for every template of both MOEX files and of an all-operators template, random
 * message streams encode and decode back to the same values, with the dictionaries carried across
 * the stream (copy, increment, delta and tail see each other's previous values) and without.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { FastDecoder } from '../../../lib/feed/fast/fast-decoder';
import { FastEncoder, FastRecord, FastValue } from '../../../lib/feed/fast/fast-encoder';
import { fastMessageToObject } from '../../../lib/feed/fast/fast-json';
import {
  FastGroup, FastInstruction, FastTemplate, FastTemplateRegistry, kFastAscii, kFastByteVector, kFastDecimal, kFastDecimalSplit,
  kFastDynamicRef, kFastGroup, kFastInt32, kFastInt64, kFastOpConstant, kFastOpDelta, kFastOpIncrement, kFastOpTail, kFastSequence,
  kFastUInt32, kFastUInt64, kFastUnicode, loadFastTemplates,
} from '../../../lib/feed/fast/fast-templates';
import { moexTemplates, forEachEngine } from './fast-helpers';

const kAllOperators = `<templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
<template name="Hdr" id="5"><uInt32 name="seq"><increment value="1"/></uInt32></template>
<template name="All" id="1">
  <templateRef name="Hdr"/>
  <uInt32 name="u32n"/><uInt32 name="u32c"><copy/></uInt32><uInt32 name="u32i" presence="optional"><increment/></uInt32>
  <uInt32 name="u32d"><delta/></uInt32><uInt32 name="u32def" presence="optional"><default value="7"/></uInt32>
  <int32 name="i32c" presence="optional"><copy value="-5"/></int32><int32 name="i32d" presence="optional"><delta/></int32>
  <int64 name="i64d"><delta/></int64><int64 name="i64n" presence="optional"/>
  <uInt64 name="u64n"/><uInt64 name="u64c" presence="optional"><copy/></uInt64><uInt64 name="u64d"><delta/></uInt64>
  <decimal name="dn" presence="optional"/><decimal name="dc"><copy/></decimal><decimal name="dd" presence="optional"><delta/></decimal>
  <decimal name="ddef"><default value="1.25"/></decimal>
  <decimal name="split" presence="optional"><exponent><copy value="-2"/></exponent><mantissa><delta/></mantissa></decimal>
  <string name="sc" presence="optional"><copy/></string><string name="sd"><delta/></string><string name="st" presence="optional"><tail/></string>
  <string name="sconst"><constant value="MOEX"/></string><string name="sopt" presence="optional"><constant value="X"/></string>
  <string name="uni" charset="unicode" presence="optional"><copy/></string><string name="unid" charset="unicode"><delta/></string>
  <byteVector name="bv" presence="optional"/><byteVector name="bvd"><delta/></byteVector><byteVector name="bvt"><tail/></byteVector>
  <group name="g" presence="optional"><uInt32 name="ga"><copy/></uInt32><string name="gb" presence="optional"/></group>
  <sequence name="seqs" presence="optional"><length name="n"><copy/></length>
    <uInt32 name="x"><increment/></uInt32><string name="y" presence="optional"><copy/></string>
    <sequence name="inner"><decimal name="z"><copy/></decimal></sequence></sequence>
  <templateRef/>
</template>
<template name="Leaf" id="2"><string name="leaf"><copy/></string><uInt32 name="v" presence="optional"/></template>
</templates>`;

const ascii = (min: number, max: number): fc.Arbitrary<string> => fc.array(fc.integer({ min: 0, max: 127 }), { minLength: min, maxLength: max }).map((a) => String.fromCharCode(...a));

function scalarArb(ins: FastInstruction, reg: FastTemplateRegistry): fc.Arbitrary<FastValue> {
  const arith = ins.op === kFastOpDelta || ins.op === kFastOpIncrement;
  if (ins.op === kFastOpConstant) {
    const v = ins.kind === kFastAscii || ins.kind === kFastUnicode ? Buffer.from(reg.constants.subarray(ins.initialOffset, ins.initialOffset + ins.initialLength)).toString('utf8')
      : ins.kind === kFastDecimal ? { mantissa: ins.initial, exponent: ins.initialExponent } : ins.initial;
    return fc.constant(v);
  }
  switch (ins.kind) {
    case kFastUInt32: return fc.integer({ min: 0, max: 0xffffffff });
    case kFastInt32: return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case kFastInt64: return fc.integer({ min: -(2 ** 50), max: 2 ** 50 });
    case kFastUInt64: return arith ? fc.integer({ min: 0, max: 2 ** 52 }) : fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }));
    case kFastDecimal: return fc.record({ mantissa: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), exponent: fc.integer({ min: arith ? -30 : -63, max: arith ? 30 : 63 }) });
    case kFastDecimalSplit: return fc.record({ mantissa: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), exponent: fc.integer({ min: -30, max: 30 }) });
    case kFastAscii: return ins.op === kFastOpTail ? ascii(4, 4) : ascii(0, 12);
    case kFastUnicode: return fc.fullUnicodeString({ maxLength: 8 });
    case kFastByteVector: return ins.op === kFastOpTail ? fc.uint8Array({ minLength: 3, maxLength: 3 }) : fc.uint8Array({ maxLength: 10 });
    default: throw new Error(`no arbitrary for ${ins.kind}`);
  }
}

function groupArb(g: FastGroup, reg: FastTemplateRegistry, depth = 0): fc.Arbitrary<FastRecord> {
  const parts: Record<string, fc.Arbitrary<FastValue>> = {};
  for (const ins of g.instructions) {
    let a: fc.Arbitrary<FastValue>;
    if (ins.kind === kFastDynamicRef) { parts.$ref = groupArb(reg.templateNamed('Leaf').body, reg).map((values) => ({ template: 'Leaf', values })); continue; }
    if (ins.kind === kFastSequence) a = fc.array(groupArb(ins.group!, reg, depth + 1), { maxLength: depth > 0 ? 2 : 4 });
    else if (ins.kind === kFastGroup) a = groupArb(ins.group!, reg, depth + 1);
    else a = scalarArb(ins, reg);
    parts[ins.name] = ins.optional ? fc.option(a, { nil: undefined }) : a;
  }
  return fc.record(parts);
}

/** What the decoder reports for a value: absent fields dropped, uInt64 below 2^53 as a number. */
function normalize(v: FastValue): FastValue {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'bigint') return v < 2n ** 53n ? Number(v) : v;
  if (Array.isArray(v)) return v.map((r) => normalize(r) as FastRecord);
  if (v instanceof Uint8Array || typeof v !== 'object') return v;
  if ('template' in v && 'values' in v) return { template: v.template, values: normalize(v.values as FastRecord) as FastRecord };
  if ('mantissa' in v && 'exponent' in v && Object.keys(v).length === 2) return v;
  const out: FastRecord = {};
  for (const [k, x] of Object.entries(v as FastRecord)) { const n = normalize(x); if (n !== undefined) out[k] = n; }
  return out;
}

function roundTrip(reg: FastTemplateRegistry, t: FastTemplate, runs: number): void {
  fc.assert(fc.property(fc.array(groupArb(t.body, reg), { minLength: 1, maxLength: 6 }), fc.boolean(), (records, resetEach) => {
    const enc = new FastEncoder(reg);
    const dec = new FastDecoder(reg);
    for (const r of records) {
      if (resetEach) { enc.resetDictionaries(); dec.resetDictionaries(); }
      const bytes = enc.encode(t.name, r);
      const id = dec.decode(bytes, 0, bytes.length);
      expect(id, `decode error ${id}`).to.equal(t.id);
      expect(dec.position).to.equal(bytes.length);
      expect(fastMessageToObject(dec)).to.deep.equal(normalize(r));
    }
  }), { numRuns: runs });
}

forEachEngine('FAST encode/decode round trip (property)', () => {
  const all = loadFastTemplates(kAllOperators);
  it('every operator, type and structure (All template)', () => roundTrip(all, all.templateNamed('All'), 300));
  for (const file of ['moex-asts-fix50sp2-2017-mar.xml', 'moex-asts-fix50sp2-2015-apr.xml']) {
    const reg = moexTemplates(file);
    for (const t of reg.byName.values()) {
      it(`${file}: ${t.name} (${t.id})`, () => roundTrip(reg, t, 40));
    }
  }
});

/**
 * Differential: random streams, encoded then damaged (bytes overwritten, the stream cut), decoded by
 * the compiled templates and by the reference interpreter side by side. Every message must give the
 * same result code, end position and values, and the error counters must agree at the end.
 */
function differential(reg: FastTemplateRegistry, t: FastTemplate, runs: number, transient = false): void {
  const damage = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });
  fc.assert(fc.property(fc.array(groupArb(t.body, reg), { minLength: 1, maxLength: 5 }), damage, fc.nat(), (records, edits, cut) => {
    const enc = new FastEncoder(reg);
    // transient: every message from a reset state (as MOEX sends them), the compiled decoder keeping copied strings in the packet.
    const parts = records.map((r) => { if (transient) enc.resetDictionaries(); return enc.encode(t.name, r); });
    const total = parts.reduce((n, p) => n + p.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { bytes.set(p, at); at += p.length; }
    for (const [where, value] of edits) bytes[where % total] = value;
    const length = edits.length > 0 && cut % 3 === 0 ? cut % (total + 1) : total;
    const compiled = new FastDecoder(reg, { engine: 'compiled', maxSequenceLength: 1000, transientStrings: transient });
    const reference = new FastDecoder(reg, { engine: 'interpreted', maxSequenceLength: 1000 });
    let pc = 0; let pr = 0;
    while (pc < length && pr < length) {
      if (transient) { compiled.resetDictionaries(); reference.resetDictionaries(); }
      const a = compiled.decode(bytes, pc, length - pc);
      const b = reference.decode(bytes, pr, length - pr);
      expect(a, `result at ${pr}`).to.equal(b);
      if (b < 0) break;
      expect(compiled.position).to.equal(reference.position);
      expect(fastMessageToObject(compiled)).to.deep.equal(fastMessageToObject(reference));
      pc = compiled.position; pr = reference.position;
    }
    expect({ ...compiled.counters }).to.deep.equal({ ...reference.counters });
  }), { numRuns: runs });
}

describe('FAST compiled templates vs the reference interpreter (differential)', () => {
  const all = loadFastTemplates(kAllOperators);
  it('every operator, type and structure (All template), damaged streams', () => differential(all, all.templateNamed('All'), 1500));
  it('the same, every message from a reset state, copied strings kept in the packet (transientStrings)', () => differential(all, all.templateNamed('All'), 1500, true));
  for (const file of ['moex-asts-fix50sp2-2017-mar.xml', 'moex-asts-fix50sp2-2015-apr.xml']) {
    const reg = moexTemplates(file);
    it(`${file}: every template, damaged streams`, () => { for (const t of reg.byName.values()) differential(reg, t, 25); });
    it(`${file}: every template, reset per message, transientStrings`, () => { for (const t of reg.byName.values()) differential(reg, t, 25, true); });
  }
});
