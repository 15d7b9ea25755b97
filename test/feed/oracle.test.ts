/**
 * Every field of every ITCH message in the vendored real captures, decoded by the production classes,
 * against values from an independent decoder (tshark + a third-party dissector).
 */
import { expect } from 'chai';
import * as path from 'path';
import { ItchDecoder } from '../../lib/feed/itch/itch-decoder';
import { kItchSpecByCode } from '../../lib/feed/itch/itch-schema';
import { decodeCapture, fixturePcaps, kEnvelopeKeys, kOracleKeyToField, parsePrice, readOracle } from './itch-fixtures';


// Message counts per type over all fixtures, counted from the oracle files.
const kExpectedTypeCounts: Record<string, number> = {
  A: 47, F: 12, P: 10, X: 10, D: 12, E: 11, C: 10, U: 11, Y: 10, N: 5, H: 11, S: 2, Q: 5, J: 5, L: 6, I: 6,
};

describe('ITCH 5.0 decoding against the oracle of real captures', () => {
  const pcaps = fixturePcaps();
  const decoder = new ItchDecoder();
  let comparedFields = 0;

  it('finds all 35 vendored captures', () => {
    expect(pcaps).to.have.length(35);
  });

  for (const pcap of pcaps) {
    const name = `${path.basename(path.dirname(pcap))}/${path.basename(pcap)}`;
    it(`${name}: every field of every message`, () => {
      const oracle = readOracle(pcap);
      const decoded = decodeCapture(pcap, decoder);
      expect(decoded.length, 'message count').to.equal(oracle.length);
      oracle.forEach((want, i) => {
        const got = decoded[i];
        const where = `${name} frame ${want.frame} message ${want.messageindex}`;
        expect(got.frame, where).to.equal(want.frame);
        expect(got.messageIndex, where).to.equal(Number(want.messageindex));
        expect(got.session, where).to.equal(want.session);
        expect(got.seq, where).to.equal(want.seq);
        expect(got.messageLength, where).to.equal(Number(want.messagelength));
        expect(got.fields.type, where).to.equal(want.messagetype);
        const spec = kItchSpecByCode[String(want.messagetype).charCodeAt(0)]!;
        const seen = new Set<string>();
        for (const [key, raw] of Object.entries(want)) {
          if (kEnvelopeKeys.has(key)) continue;
          const field = kOracleKeyToField[key];
          expect(field, `${where}: unmapped oracle key ${key}`).to.be.a('string');
          const fieldSpec = spec.fields.find((f) => f.name === field);
          expect(fieldSpec, `${where}: ${field} is not a field of ${spec.type}`).to.not.equal(undefined);
          const text = String(raw);
          let expected: number | string;
          switch (fieldSpec!.kind) {
            case 'price4': expected = parsePrice(text, 4); break;
            case 'price8': expected = parsePrice(text, 8); break;
            case 'char': case 'alpha': expected = text; break;
            default: expected = Number(text); expect(Number.isSafeInteger(expected), `${where} ${key}`).to.equal(true);
          }
          expect(got.fields[field!], `${where}: ${field}`).to.equal(expected);
          seen.add(field!);
          comparedFields++;
        }
        // Every field we decode is covered by the oracle, except empty alphanumerics the dissector omits.
        for (const f of spec.fields) {
          if (seen.has(f.name)) continue;
          expect(f.kind === 'alpha' && got.fields[f.name] === '', `${where}: ${f.name}=${JSON.stringify(got.fields[f.name])} missing from oracle`).to.equal(true);
        }
      });
    });
  }

  it('decoded exactly the oracle message counts per type, with no errors', () => {
    const c = decoder.counters;
    expect({ zeroLength: c.zeroLength, truncated: c.truncated, unknownType: c.unknownType })
      .to.deep.equal({ zeroLength: 0, truncated: 0, unknownType: 0 });
    const byType: Record<string, number> = {};
    for (let code = 0; code < 256; code++) if (c.byType[code] > 0) byType[String.fromCharCode(code)] = c.byType[code];
    expect(byType).to.deep.equal(kExpectedTypeCounts);
    expect(c.messages).to.equal(173);
    expect(comparedFields, "oracle fields compared").to.equal(1247);
  });
});
