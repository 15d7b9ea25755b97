/**
 * The worked examples of the FAST 1.1 specification (FIX Protocol Ltd, Appendix 3 "FAST Encoding
 * Examples" and the type encodings of section 10), checked from the bytes: each case decodes the
 * spec's bytes with FastDecoder and encodes the spec's values with FastEncoder, so neither side is
 * only checked against the other. The integer/string/byteVector vectors are the ones other FAST
 * implementations test against too (942755 -> 39 45 a3, "ABC" -> 41 42 c3, 00 00 80 for a
 * nullable "\0"...).
 */
import { expect } from 'chai';
import { FastDecoder } from '../../../lib/feed/fast/fast-decoder';
import { FastEncoder, FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { fastMessageToObject } from '../../../lib/feed/fast/fast-json';
import { hex, templates, toHex, forEachEngine } from './fast-helpers';

/** One field `f` in template 1: check value <-> field bytes (message = pmap c0, tid 81, then the field). */
function field(def: string, value: FastRecord[string], bytes: string, pmap = 'c0'): void {
  const reg = templates(['T', 1, def]);
  const message = hex(`${pmap} 81 ${bytes}`);
  const dec = new FastDecoder(reg);
  expect(dec.decode(message, 0, message.length), `decode ${bytes}`).to.equal(1);
  expect(dec.position).to.equal(message.length);
  const obj = fastMessageToObject(dec);
  if (value === undefined) expect(obj).to.not.have.property('f');
  else expect(obj.f).to.deep.equal(value);
  const enc = new FastEncoder(reg);
  expect(toHex(enc.encode('T', value === undefined ? {} : { f: value }))).to.equal(toHex(message));
}

forEachEngine('FAST 1.1 spec examples', () => {
  describe('integers (stop bit, nullable, sign)', () => {
    it('uInt32 mandatory 0 and 942755', () => {
      field('<uInt32 name="f"/>', 0, '80');
      field('<uInt32 name="f"/>', 942755, '39 45 a3');
    });
    it('uInt32 optional: null, 0, 942755 (value + 1 on the wire)', () => {
      field('<uInt32 name="f" presence="optional"/>', undefined, '80');
      field('<uInt32 name="f" presence="optional"/>', 0, '81');
      field('<uInt32 name="f" presence="optional"/>', 942755, '39 45 a4');
    });
    it('int32 mandatory and optional -942755 (negatives are not shifted)', () => {
      field('<int32 name="f"/>', -942755, '46 3a dd');
      field('<int32 name="f" presence="optional"/>', -942755, '46 3a dd');
    });
    it('sign-bit extension: 8193 -> 00 40 81, -8193 -> 7f 3f ff, 64 -> 00 c0, -1 -> ff', () => {
      field('<int32 name="f"/>', 8193, '00 40 81');
      field('<int32 name="f"/>', -8193, '7f 3f ff');
      field('<int32 name="f"/>', 64, '00 c0');
      field('<int32 name="f"/>', -1, 'ff');
    });
    it('uInt64 maximum, mandatory and nullable, exact beyond 2^53', () => {
      field('<uInt64 name="f"/>', 18446744073709551615n, '01 7f 7f 7f 7f 7f 7f 7f 7f ff');
      field('<uInt64 name="f" presence="optional"/>', 18446744073709551615n, '02 00 00 00 00 00 00 00 00 80');
      // A MOEX SendingTime (YYYYMMDDHHMMSSsss) is above 2^53 and must survive exactly.
      field('<uInt64 name="f"/>', 20170301101112123n, encodedU64(20170301101112123n));
    });
  });

  describe('strings and byte vectors', () => {
    it('ASCII "ABC" -> 41 42 c3', () => field('<string name="f"/>', 'ABC', '41 42 c3'));
    it('ASCII empty: mandatory 80, nullable 00 80; null 80', () => {
      field('<string name="f"/>', '', '80');
      field('<string name="f" presence="optional"/>', '', '00 80');
      field('<string name="f" presence="optional"/>', undefined, '80');
    });
    it('ASCII "\\0": mandatory 00 80, nullable 00 00 80', () => {
      field('<string name="f"/>', '\u0000', '00 80');
      field('<string name="f" presence="optional"/>', '\u0000', '00 00 80');
    });
    it('byteVector: length-prefixed; nullable null 80, [00] -> 82 00, [00 7f] -> 83 00 7f', () => {
      field('<byteVector name="f" presence="optional"/>', undefined, '80');
      field('<byteVector name="f" presence="optional"/>', new Uint8Array([0]), '82 00');
      field('<byteVector name="f" presence="optional"/>', new Uint8Array([0, 0x7f]), '83 00 7f');
      field('<byteVector name="f"/>', new Uint8Array([0, 0x7f]), '82 00 7f');
    });
    it('unicode string: UTF-8 bytes with a length prefix', () => {
      field('<string name="f" charset="unicode"/>', 'Ж', '82 d0 96');
    });
  });

  describe('decimals (exponent then mantissa)', () => {
    it('mandatory 94275500 (942755e2) -> 82 39 45 a3', () => field('<decimal name="f"/>', { mantissa: 942755, exponent: 2 }, '82 39 45 a3'));
    it('mandatory 9427.55 (942755e-2) -> fe 39 45 a3', () => field('<decimal name="f"/>', { mantissa: 942755, exponent: -2 }, 'fe 39 45 a3'));
    it('optional 9427.55: a negative exponent is not shifted -> fe 39 45 a3', () => field('<decimal name="f" presence="optional"/>', { mantissa: 942755, exponent: -2 }, 'fe 39 45 a3'));
    it('optional -9427.55 -> fe 46 3a dd', () => field('<decimal name="f" presence="optional"/>', { mantissa: -942755, exponent: -2 }, 'fe 46 3a dd'));
    it('optional 94275500: exponent 2 + 1 -> 83 39 45 a3; null -> 80 with no mantissa', () => {
      field('<decimal name="f" presence="optional"/>', { mantissa: 942755, exponent: 2 }, '83 39 45 a3');
      field('<decimal name="f" presence="optional"/>', undefined, '80');
    });
  });

  describe('operators over a stream (dictionary carried from message to message)', () => {
    /** Messages of template 1 with field f: each [value, field bytes, pmap byte]. */
    function stream(def: string, steps: [FastRecord[string], string, string][]): void {
      const reg = templates(['T', 1, def]);
      const enc = new FastEncoder(reg);
      const dec = new FastDecoder(reg);
      steps.forEach(([value, bytes, pmap], i) => {
        // The template id is copied after the first message: the pmap's first bit is clear.
        const message = hex(`${pmap} ${i === 0 ? '81 ' : ''}${bytes}`);
        expect(toHex(enc.encode('T', value === undefined ? {} : { f: value })), `encode step ${i}`).to.equal(toHex(message));
        expect(dec.decode(message, 0, message.length), `decode step ${i}`).to.equal(1);
        const obj = fastMessageToObject(dec);
        if (value === undefined) expect(obj).to.not.have.property('f'); else expect(obj.f).to.deep.equal(value);
      });
    }
    it('copy (mandatory string): CME, CME, ISE', () => stream('<string name="f"><copy/></string>', [
      ['CME', '43 4d c5', 'e0'], ['CME', '', '80'], ['ISE', '49 53 c5', 'a0'],
    ]));
    it('increment (mandatory uInt32): 1, 2, 4, 5', () => stream('<uInt32 name="f"><increment/></uInt32>', [
      [1, '81', 'e0'], [2, '', '80'], [4, '84', 'a0'], [5, '', '80'],
    ]));
    it('delta (mandatory int32): 942755, 942750, 942745, 942745', () => stream('<int32 name="f"><delta/></int32>', [
      [942755, '39 45 a3', 'c0'], [942750, 'fb', '80'], [942745, 'fb', '80'], [942745, '80', '80'],
    ]));
    it('delta (mandatory string): GEH6, GEM6, ESM6, RSESM6 (back, back, front, front)', () => stream('<string name="f"><delta/></string>', [
      ['GEH6', '80 47 45 48 b6', 'c0'], ['GEM6', '82 4d b6', '80'], ['ESM6', 'fd 45 d3', '80'], ['RSESM6', 'ff 52 d3', '80'],
    ]));
    it('delta (mandatory decimal): 9427.55, 9427.51, 9427.46', () => stream('<decimal name="f"><delta/></decimal>', [
      [{ mantissa: 942755, exponent: -2 }, 'fe 39 45 a3', 'c0'], [{ mantissa: 942751, exponent: -2 }, '80 fc', '80'], [{ mantissa: 942746, exponent: -2 }, '80 fb', '80'],
    ]));
    it('default (optional uInt32, value 0): 0 is implied, null and 5 are sent', () => stream('<uInt32 name="f" presence="optional"><default value="0"/></uInt32>', [
      [0, '', 'c0'], [undefined, '80', 'a0'], [5, '86', 'a0'],
    ]));
    it('constant: mandatory takes no bit; optional takes one', () => {
      stream('<string name="f"><constant value="CME"/></string>', [['CME', '', 'c0'], ['CME', '', '80']]);
      stream('<uInt32 name="f" presence="optional"><constant value="7"/></uInt32>', [[7, '', 'e0'], [undefined, '', '80'], [7, '', 'a0']]);
    });
    it('tail (mandatory string): ABCD, ABCE, ABCE, XYZE', () => stream('<string name="f"><tail/></string>', [
      ['ABCD', '41 42 43 c4', 'e0'], ['ABCE', 'c5', 'a0'], ['ABCE', '', '80'], ['XYZE', '58 59 5a c5', 'a0'],
    ]));
  });
});

function encodedU64(v: bigint): string {
  const groups: number[] = [];
  do { groups.push(Number(v & 0x7fn)); v >>= 7n; } while (v > 0n);
  groups.reverse();
  groups[groups.length - 1] |= 0x80;
  return groups.map((g) => g.toString(16).padStart(2, '0')).join(' ');
}
