/**
 * Every operator's edge cases and every malformed input as a counted error, never an exception:
 * nulls, stop-bit overflow of each integer type, a presence map longer than the template needs, a
 * truncated message at every length, an unknown template id, missing dictionary values, bad deltas,
 * out-of-range exponents; plus dictionaries (global, template, type, named), the reset template,
 * static and dynamic template references, groups and nested sequences. Template files with static
 * errors are refused at load with a FastTemplateError.
 */
import { expect } from 'chai';
import {
  FastDecoder, kFastDecodeBadDelta, kFastDecodeBadExponent, kFastDecodeMissingValue, kFastDecodeNoTemplateId, kFastDecodeOverflow,
  kFastDecodeOverlongString, kFastDecodeTooLong, kFastDecodeTruncated, kFastDecodeUnknownTemplate,
} from '../../../lib/feed/fast/fast-decoder';
import { FastEncodeError, FastEncoder } from '../../../lib/feed/fast/fast-encoder';
import { fastMessageToObject } from '../../../lib/feed/fast/fast-json';
import { compileFastRecordReader } from '../../../lib/feed/fast/fast-record-compiler';
import { FastTemplateError, loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { decodeAll, hex, moexTemplates, templates, forEachEngine } from './fast-helpers';

function decodeOne(reg: ReturnType<typeof templates>, bytes: string): { code: number; dec: FastDecoder } {
  const dec = new FastDecoder(reg);
  const b = hex(bytes);
  return { code: dec.decode(b, 0, b.length), dec };
}

forEachEngine('FAST edge cases', () => {
  describe('integer overflow is counted', () => {
    const cases: [string, string][] = [
      ['<uInt32 name="f"/>', '10 00 00 00 80'], // 2^32
      ['<uInt32 name="f" presence="optional"/>', '10 00 00 00 82'], // 2^32 + 1 - 1 = 2^32
      ['<int32 name="f"/>', '08 00 00 00 80'], // 2^31
      ['<int32 name="f"/>', '77 7f 7f 7f ff'], // -2^31 - 1
      ['<int64 name="f"/>', '00 7f 7f 7f 7f 7f 7f 7f 7f ff'], // beyond 2^53
      ['<uInt64 name="f"/>', '02 00 00 00 00 00 00 00 00 80'], // 2^64
      ['<uInt32 name="f"/>', '7f 7f 7f 7f 7f 7f 7f 7f 7f 7f 7f ff'], // endless stop-bit run
    ];
    for (const [def, bytes] of cases) {
      it(`${def} ${bytes}`, () => {
        const { code, dec } = decodeOne(templates(['T', 1, def]), `c0 81 ${bytes}`);
        expect(code).to.equal(kFastDecodeOverflow);
        expect(dec.counters.overflow).to.equal(1);
      });
    }
    it('an increment past uInt32 max is an overflow, the copy at max is not', () => {
      const reg = templates(['T', 1, '<uInt32 name="f"><increment/></uInt32>']);
      const dec = new FastDecoder(reg);
      const first = hex('e0 81 0f 7f 7f 7f ff');
      expect(dec.decode(first, 0, first.length)).to.equal(1);
      expect(dec.int(0)).to.equal(0xffffffff);
      const next = hex('80');
      expect(dec.decode(next, 0, 1)).to.equal(kFastDecodeOverflow);
    });
  });

  it('a presence map longer than needed is counted and the message still decodes', () => {
    const reg = templates(['T', 1, '<uInt32 name="f"><copy/></uInt32>']);
    const { code, dec } = decodeOne(reg, '60 00 80 81 85');
    expect(code).to.equal(1);
    expect(dec.counters.pmapOverlong).to.equal(1);
    expect(fastMessageToObject(dec)).to.deep.equal({ f: 5 });
  });

  /**
   * The ASCII zero preamble (spec 10.6.3) has two forms: 00 80 is "\0" (nullable: the empty string)
   * and nullable 00 00 80 is "\0". Anything else after the preamble is an overlong string: a counted
   * error, as the independent mFAST decoder refuses it (fast-mfast-crosscheck.test.ts). Fails if a
   * decoder takes the bytes after the preamble as the string again, or refuses one of the two forms.
   */
  describe('ASCII zero preamble: its two forms decode, anything longer is a counted overlong string', () => {
    const ok: [string, string, string | undefined][] = [
      ['<string name="f"/>', '00 80', '\0'],
      ['<string name="f"/>', '80', ''],
      ['<string name="f" presence="optional"/>', '00 80', ''],
      ['<string name="f" presence="optional"/>', '00 00 80', '\0'],
      ['<string name="f" presence="optional"/>', '80', undefined],
      ['<string name="f"><delta/></string>', '80 00 80', '\0'],
    ];
    for (const [def, bytes, value] of ok) {
      it(`${def} ${bytes} is ${JSON.stringify(value)}`, () => {
        const { code, dec } = decodeOne(templates(['T', 1, def]), `c0 81 ${bytes}`);
        expect(code).to.equal(1);
        expect(fastMessageToObject(dec).f).to.equal(value);
        expect(dec.counters.errors).to.equal(0);
      });
    }
    const bad: [string, string][] = [
      ['<string name="f"/>', '00 00 80'],
      ['<string name="f"/>', '00 c1'],
      ['<string name="f"/>', '00 41 c2'],
      ['<string name="f" presence="optional"/>', '00 c1'],
      ['<string name="f" presence="optional"/>', '00 00 c1'],
      ['<string name="f" presence="optional"/>', '00 00 00 80'],
      ['<string name="f"><delta/></string>', '80 00 c1'],
      ['<string name="f"><copy/></string>', '00 c1'],
    ];
    for (const [def, bytes] of bad) {
      it(`${def} ${bytes} is an overlong string`, () => {
        const pmap = def.includes('<copy/>') ? 'e0' : 'c0';
        const { code, dec } = decodeOne(templates(['T', 1, def]), `${pmap} 81 ${bytes}`);
        expect(code).to.equal(kFastDecodeOverlongString);
        expect(dec.counters.overlongString).to.equal(1);
        expect(dec.counters.errors).to.equal(1);
      });
    }
  });

  it('the encoder refuses an ASCII string it cannot send (NUL first, more than one character), and sends "\\0" alone', () => {
    const reg = templates(['T', 1, '<string name="f"/><string name="g" presence="optional"/><string name="d"><delta/></string><string name="t" presence="optional"><tail/></string>']);
    const enc = new FastEncoder(reg);
    expect(() => enc.encode('T', { f: '\0A', d: '' })).to.throw(FastEncodeError, /f: an ASCII string of 2 characters that starts with NUL/);
    expect(() => new FastEncoder(reg).encode('T', { f: 'x', g: '\0\0', d: '' })).to.throw(FastEncodeError, /g: .*starts with NUL/);
    // A delta whose string part would start with NUL: "A" then "A\0B" appends "\0B".
    const e2 = new FastEncoder(reg);
    e2.encode('T', { f: 'x', d: 'A' });
    expect(() => e2.encode('T', { f: 'x', d: 'A\0B' })).to.throw(FastEncodeError, /d \(the delta's string part\)/);
    // A tail whose part starts with NUL.
    const e3 = new FastEncoder(reg);
    e3.encode('T', { f: 'x', d: '', t: 'ABCD' });
    expect(() => e3.encode('T', { f: 'x', d: '', t: 'AB\0D' })).to.throw(FastEncodeError, /t: .*starts with NUL/);
    // What it can send decodes back.
    const e4 = new FastEncoder(reg);
    const dec = new FastDecoder(reg);
    for (const r of [{ f: '\0', g: '\0', d: 'A\0' }, { f: 'A\0B', g: '', d: '\0' }]) {
      const b = e4.encode('T', r);
      expect(dec.decode(b, 0, b.length)).to.equal(1);
      expect(fastMessageToObject(dec)).to.deep.equal(r);
    }
  });

  it('a truncated message is counted at every cut, never thrown', () => {
    const reg = moexTemplates();
    const enc = new FastEncoder(reg);
    const b = enc.encode('X-OLR-CURR', {
      MsgSeqNum: 1, SendingTime: 20170301101112123n, GroupMDEntries: [
        { MDUpdateAction: 0, MDEntryType: '0', MDEntryID: '77', Symbol: 'EUR_RUB__TOD', RptSeq: 3, MDEntryPx: { mantissa: 1, exponent: 0 }, MDEntrySize: { mantissa: 2, exponent: 0 } },
      ],
    });
    const dec = new FastDecoder(reg);
    for (let n = 1; n < b.length; n++) expect(dec.decode(b, 0, n), `cut at ${n}`).to.equal(kFastDecodeTruncated);
    expect(dec.counters.truncated).to.equal(b.length - 1);
    expect(dec.decode(b, 0, b.length)).to.equal(3610);
  });

  it('an unknown template id, and a copied id with no previous one, are counted', () => {
    const reg = templates(['T', 1, '<uInt32 name="f"/>']);
    expect(decodeOne(reg, 'c0 82 81').code).to.equal(kFastDecodeUnknownTemplate);
    expect(decodeOne(reg, '80 81').code).to.equal(kFastDecodeNoTemplateId);
  });

  it('a mandatory copy with nothing to copy (D5) and an empty entry (D6) are counted', () => {
    const reg = templates(['T', 1, '<uInt32 name="f"><copy/></uInt32>'], ['U', 2, '<uInt32 name="f" presence="optional"><copy/></uInt32>']);
    expect(decodeOne(reg, 'c0 81').code).to.equal(kFastDecodeMissingValue);
    const dec = new FastDecoder(reg);
    const b = hex('e0 82 80 c0 81');
    expect(dec.decode(b, 0, 3)).to.equal(2); // U sets the shared entry empty (null)
    expect(dec.decode(b, 3, 2)).to.equal(kFastDecodeMissingValue); // T, mandatory, bit clear
  });

  it('a string delta removing more than the base has (D7) is counted', () => {
    const reg = templates(['T', 1, '<string name="f"><delta/></string>']);
    expect(decodeOne(reg, 'c0 81 83 c1').code).to.equal(kFastDecodeBadDelta);
  });

  it('an exponent outside [-63, 63] is counted', () => {
    const reg = templates(['T', 1, '<decimal name="f"/>']);
    expect(decodeOne(reg, 'c0 81 00 c0 81').code).to.equal(kFastDecodeBadExponent);
  });

  it('a sequence longer than the limit is counted', () => {
    const reg = templates(['T', 1, '<sequence name="s"><uInt32 name="a"><constant value="1"/></uInt32></sequence>']);
    const dec = new FastDecoder(reg, { maxSequenceLength: 10 });
    const b = hex('c0 81 8b');
    expect(dec.decode(b, 0, b.length)).to.equal(kFastDecodeTooLong);
  });

  it('nullable fields of every kind decode as absent', () => {
    const reg = templates(['T', 1, `<uInt32 name="a" presence="optional"/><int64 name="b" presence="optional"/>
      <uInt64 name="c" presence="optional"/><decimal name="d" presence="optional"/><string name="e" presence="optional"/>
      <byteVector name="f" presence="optional"/><string name="g" charset="unicode" presence="optional"/>
      <sequence name="s" presence="optional"><uInt32 name="x"/></sequence>`]);
    const { code, dec } = decodeOne(reg, 'c0 81 80 80 80 80 80 80 80 80');
    expect(code).to.equal(1);
    expect(fastMessageToObject(dec)).to.deep.equal({});
  });

  describe('dictionaries', () => {
    it('global (default): two templates share a key; template scope keeps them apart', () => {
      const shared = templates(['A', 1, '<uInt32 name="x"><copy/></uInt32>'], ['B', 2, '<uInt32 name="x"><copy/></uInt32>']);
      const s = new FastDecoder(shared);
      expect(decodeAll(s, hex('e0 81 85 c0 82'))).to.deep.equal([{ x: 5 }, { x: 5 }]);
      const scoped = loadFastTemplates(`<templates dictionary="template"><template name="A" id="1"><uInt32 name="x"><copy/></uInt32></template>
        <template name="B" id="2"><uInt32 name="x"><copy/></uInt32></template></templates>`);
      const t = new FastDecoder(scoped);
      const b = hex('e0 81 85 c0 82');
      expect(t.decode(b, 0, 3)).to.equal(1);
      expect(t.decode(b, 3, 2)).to.equal(kFastDecodeMissingValue);
    });
    it('named dictionaries and keys: a field copies another field\'s value through a shared key', () => {
      const reg = templates(['A', 1, '<uInt32 name="x"><copy dictionary="d1" key="k"/></uInt32><uInt32 name="y"><copy dictionary="d1" key="k"/></uInt32>']);
      const dec = new FastDecoder(reg);
      expect(decodeAll(dec, hex('e0 81 87'))).to.deep.equal([{ x: 7, y: 7 }]);
    });
    it('type dictionary: entries are per application type (typeRef)', () => {
      const reg = loadFastTemplates(`<templates><template name="A" id="1"><typeRef name="Quote"/><uInt32 name="x"><copy dictionary="type"/></uInt32></template>
        <template name="B" id="2"><typeRef name="Quote"/><uInt32 name="x"><copy dictionary="type"/></uInt32></template>
        <template name="C" id="3"><typeRef name="Trade"/><uInt32 name="x"><copy dictionary="type"/></uInt32></template></templates>`);
      const dec = new FastDecoder(reg);
      const b = hex('e0 81 89 c0 82 c0 83');
      expect(dec.decode(b, 0, 3)).to.equal(1);
      expect(dec.decode(b, 3, 2)).to.equal(2);
      expect(dec.int(0)).to.equal(9);
      expect(dec.decode(b, 5, 2)).to.equal(kFastDecodeMissingValue);
    });
    it('the Reset template (id 120) and a template with reset="Y" clear every dictionary', () => {
      const reg = loadFastTemplates(`<templates xmlns:scp="http://www.fixprotocol.org/ns/fast/scp/1.1">
        <template name="A" id="1"><uInt32 name="x"><copy/></uInt32></template>
        <template name="R" id="2" scp:reset="Y"><uInt32 name="y"/></template></templates>`);
      const dec = new FastDecoder(reg);
      const b = hex('e0 81 85 c0 f8 c0 81 85');
      expect(dec.decode(b, 0, 3)).to.equal(1);
      expect(dec.decode(b, 3, 2)).to.equal(120);
      expect(dec.counters.resets).to.equal(1);
      expect(dec.decode(b, 5, 2)).to.equal(kFastDecodeMissingValue);
      const dec2 = new FastDecoder(reg);
      const c = hex('e0 81 85 c0 82 81 c0 81');
      expect(dec2.decode(c, 0, 3)).to.equal(1);
      expect(dec2.decode(c, 3, 3)).to.equal(2);
      expect(dec2.decode(c, 6, 2)).to.equal(kFastDecodeMissingValue);
    });
  });

  describe('structure', () => {
    it('static templateRef inlines the fields into the referrer (one presence map)', () => {
      const reg = templates(['Hdr', 10, '<uInt32 name="seq"><increment/></uInt32>'], ['Msg', 1, '<templateRef name="Hdr"/><string name="s"/>']);
      const enc = new FastEncoder(reg);
      const dec = new FastDecoder(reg);
      const a = enc.encode('Msg', { seq: 1, s: 'A' });
      const b = enc.encode('Msg', { seq: 2, s: 'B' });
      expect(b.length).to.equal(2); // pmap + "B": id copied, seq incremented
      expect(decodeAll(dec, new Uint8Array([...a, ...b]))).to.deep.equal([{ seq: 1, s: 'A' }, { seq: 2, s: 'B' }]);
    });
    it('dynamic templateRef: a nested segment with its own presence map and template id', () => {
      const reg = templates(['Inner', 2, '<uInt32 name="v"><copy/></uInt32>'], ['Outer', 1, '<string name="s"/><templateRef/>']);
      const enc = new FastEncoder(reg);
      const dec = new FastDecoder(reg);
      const m = { s: 'X', $ref: { template: 'Inner', values: { v: 3 } } };
      expect(decodeAll(dec, enc.encode('Outer', m))).to.deep.equal([{ s: 'X', $ref: { template: 'Inner', values: { v: 3 } } }]);
    });
    it('optional groups take a bit; nested sequences nest presence maps', () => {
      const reg = templates(['T', 1, `<group name="g" presence="optional"><uInt32 name="a"><copy/></uInt32></group>
        <sequence name="outer"><uInt32 name="n"/><sequence name="inner"><string name="t"><copy/></string></sequence></sequence>`]);
      const enc = new FastEncoder(reg);
      const dec = new FastDecoder(reg);
      const m1 = { g: { a: 4 }, outer: [{ n: 1, inner: [{ t: 'x' }, { t: 'x' }] }, { n: 2, inner: [] }] };
      const m2 = { outer: [{ n: 3, inner: [{ t: 'y' }] }] };
      const bytes = new Uint8Array([...enc.encode('T', m1), ...enc.encode('T', m2)]);
      expect(decodeAll(dec, bytes)).to.deep.equal([m1, m2]);
    });
  });

  describe('static errors are refused at load', () => {
    const bad: [string, RegExp][] = [
      ['<string name="f"><increment/></string>', /increment applies only to integers/],
      ['<uInt32 name="f"><tail/></uInt32>', /tail applies only to strings/],
      ['<uInt32 name="f"><constant/></uInt32>', /constant needs a value/],
      ['<uInt32 name="f"><default/></uInt32>', /mandatory default needs a value/],
      ['<uInt32 name="f"><copy value="x"/></uInt32>', /not an integer/],
      ['<int32 name="f"><copy value="3000000000"/></int32>', /out of range/],
      ['<templateRef name="Nope"/>', /unknown template Nope/],
      ['<widget name="f"/>', /unknown field element/],
    ];
    for (const [def, re] of bad) it(def, () => expect(() => templates(['T', 1, def])).to.throw(FastTemplateError, re));
    it('a templateRef cycle', () => {
      expect(() => templates(['A', 1, '<templateRef name="B"/>'], ['B', 2, '<templateRef name="A"/>'])).to.throw(FastTemplateError, /cycle/);
    });
    it('malformed XML names the line', () => {
      expect(() => loadFastTemplates('<templates>\n<template name="A" id="1">\n<uInt32 name="x">\n</templates>')).to.throw(FastTemplateError, /line 4/);
    });
  });
});

describe('FAST record readers and the ASCII zero preamble', () => {
  /**
   * The record reader (fast-record-compiler.ts, the MOEX hot path) takes the preamble's two forms
   * and refuses anything longer, for every string want: refused, the message goes to the general
   * decoder, which counts it (kFastDecodeOverlongString). Fails if the reader reads the bytes after
   * a preamble as the string again.
   */
  for (const want of ['value', 'key', 'digits', 'hash'] as const) {
    it(`want '${want}': 00 80 and nullable 00 00 80 are "\\0", anything longer is refused`, () => {
      const reg = templates(['T', 7, '<string name="m"/><string name="o" presence="optional"/>']);
      const reader = compileFastRecordReader(reg.templateNamed('T'), { m: want, o: want }, {})!;
      const r = new Float64Array(reader.headerSize + 8);
      const read = (bytes: string): number => { const b = hex(`c0 87 ${bytes} 81`); return reader.fn(b, 0, b.length, r, 8); };
      const m = reader.header.get('m')!;
      const o = reader.header.get('o')!;
      expect(read('00 80 00 00 80')).to.be.greaterThan(0);
      expect([r[m], r[m + 2], r[o], r[o + 2]], 'both present, one character').to.deep.equal([1, 1, 1, 1]);
      expect(read('00 80 00 80')).to.be.greaterThan(0);
      expect([r[o], r[o + 2]], 'nullable 00 80: present, empty').to.deep.equal([1, 0]);
      for (const bad of ['00 00 80 80', '00 c1 80', '00 41 c2 80', '00 80 00 c1', '00 80 00 00 c1', '00 80 00 00 00 80']) {
        expect(read(bad), bad).to.equal(-1);
        const dec = new FastDecoder(reg);
        const b = hex(`c0 87 ${bad} 81`);
        expect(dec.decode(b, 0, b.length), `${bad}: the general decoder`).to.equal(kFastDecodeOverlongString);
      }
    });
  }
});
