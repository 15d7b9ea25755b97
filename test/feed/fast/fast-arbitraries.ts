/**
 * Random FAST messages for property tests and the mFAST cross-check corpus (mfast-corpus.ts): an
 * arbitrary per template built from its instructions (every type and operator, optional fields
 * absent now and then, sequences, groups, a dynamic templateRef to Leaf), and kAllOperators, a
 * template set that uses every operator, type and structure.
 */
import fc from 'fast-check';
import type { FastRecord, FastValue } from '../../../lib/feed/fast/fast-encoder';
import {
  FastGroup, FastInstruction, FastTemplateRegistry, kFastAscii, kFastByteVector, kFastDecimal, kFastDecimalSplit,
  kFastDynamicRef, kFastGroup, kFastInt32, kFastInt64, kFastOpConstant, kFastOpDelta, kFastOpIncrement, kFastOpTail, kFastSequence,
  kFastUInt32, kFastUInt64, kFastUnicode,
} from '../../../lib/feed/fast/fast-templates';

export const kAllOperators = `<templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
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

/**
 * ASCII strings as FAST carries them: characters 1-127, and "\0" alone, the zero preamble's one
 * character. A longer string that starts with NUL (or a delta or tail part that does) has no
 * encoding: the encoder refuses it ('strings with NUL' below) and decoders refuse the bytes.
 */
const ascii = (min: number, max: number): fc.Arbitrary<string> => {
  const plain = fc.array(fc.integer({ min: 1, max: 127 }), { minLength: min, maxLength: max }).map((a) => String.fromCharCode(...a));
  return min > 1 ? plain : fc.oneof({ weight: 12, arbitrary: plain }, { weight: 1, arbitrary: fc.constant('\0') });
};

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

export function groupArb(g: FastGroup, reg: FastTemplateRegistry, depth = 0): fc.Arbitrary<FastRecord> {
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

