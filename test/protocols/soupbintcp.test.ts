import { readAlpha, readNumeric } from '../../lib/common/bytes';
import { expect } from 'chai';
import * as fc from 'fast-check';
import {
  SoupFrameParser, encodeLoginRequest, encodeLoginAccepted, encodeLoginRejected, encodeEmpty, writeFrameHeader,
  kSoupLoginRequest, kSoupLoginAccepted, kSoupSequencedData, kSoupServerHeartbeat,
  kSoupLoginRejected, kSoupUsernameLen, kSoupPasswordLen, kSoupSessionLen,
} from '../../lib/protocols/soupbin/soupbintcp';

interface Seen { type: number; payload: Buffer }

function collect(): [SoupFrameParser, Seen[]] {
  const seen: Seen[] = [];
  const p = new SoupFrameParser((type, buf, off, len) => seen.push({ type, payload: Buffer.from(buf.subarray(off + 1, off + len)) }));
  return [p, seen];
}

/** Splits `bytes` at the given cut points and pushes the pieces. */
function pushInPieces(p: SoupFrameParser, bytes: Buffer, cuts: number[]): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const c of [...points, bytes.length]) {
    if (c > prev) p.push(bytes.subarray(prev, c));
    prev = Math.max(prev, c);
  }
}

describe('SoupBinTCP framing', () => {
  it('encodes Login Request with the spec field widths and decodes it back', () => {
    const b = Buffer.alloc(64);
    const end = encodeLoginRequest(b, 0, 'USER1', 'secret', 'SESS', 12345);
    expect(end).to.equal(49);
    expect(b.readUInt16BE(0)).to.equal(47);
    expect(b[2]).to.equal(kSoupLoginRequest);
    expect(readAlpha(b, 3, kSoupUsernameLen)).to.equal('USER1');
    expect(readAlpha(b, 9, kSoupPasswordLen)).to.equal('secret');
    expect(b.toString('latin1', 19, 29)).to.equal('      SESS');
    expect(b.toString('latin1', 29, 49)).to.equal('               12345');
    expect(readNumeric(b, 29, 20)).to.equal(12345);
    expect(kSoupSessionLen).to.equal(10);
  });

  it('property: any sequence of frames split anywhere is parsed back exactly', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(5000), { maxLength: 12 }),
      (payloads, cuts) => {
        const parts: Buffer[] = [];
        for (const pl of payloads) {
          const f = Buffer.alloc(3 + pl.length);
          writeFrameHeader(f, 0, kSoupSequencedData, pl.length);
          Buffer.from(pl).copy(f, 3);
          parts.push(f);
        }
        const hb = Buffer.alloc(3);
        encodeEmpty(hb, 0, kSoupServerHeartbeat);
        parts.push(hb);
        const [p, seen] = collect();
        pushInPieces(p, Buffer.concat(parts), cuts);
        expect(seen.length).to.equal(payloads.length + 1);
        payloads.forEach((pl, i) => expect(seen[i].payload.equals(Buffer.from(pl))).to.equal(true));
        expect(seen[seen.length - 1].type).to.equal(kSoupServerHeartbeat);
        expect(p.malformedFrames).to.equal(0);
      }), { numRuns: 200 });
  });

  it('property: Login Accepted round-trips session and sequence', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Z0-9]{1,10}$/), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (session, seq) => {
      const b = Buffer.alloc(40);
      encodeLoginAccepted(b, 0, session, seq);
      const [p, seen] = collect();
      p.push(b.subarray(0, 33));
      expect(seen).to.have.length(1);
      expect(seen[0].type).to.equal(kSoupLoginAccepted);
      expect(readAlpha(seen[0].payload, 0, 10).trim()).to.equal(session);
      expect(readNumeric(seen[0].payload, 10, 20)).to.equal(seq);
    }));
  });

  it('counts zero-length, unknown-type and wrong-size frames as malformed and keeps going', () => {
    const [p, seen] = collect();
    const good = Buffer.from([0, 2, kSoupSequencedData, 7]);
    const rej = Buffer.alloc(4);
    encodeLoginRejected(rej, 0, 0x41);
    const chunk = Buffer.concat([
      Buffer.from([0, 0]),                    // zero length: no type byte
      Buffer.from([0, 2, 0x7e, 1]),           // unknown type '~'
      Buffer.from([0, 3, kSoupLoginRejected, 0x41, 0x41]), // Login Rejected must be 2 bytes
      Buffer.from([0, 2, kSoupServerHeartbeat, 9]),        // heartbeat must be 1 byte
      good, rej,
    ]);
    expect(p.push(chunk)).to.equal(2);
    expect(p.malformedFrames).to.equal(4);
    expect(seen.map((s) => s.type)).to.deep.equal([kSoupSequencedData, kSoupLoginRejected]);
  });

  it('property: random garbage never throws and frames after a resync point still parse', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(3000), { maxLength: 8 }), (garbage, cuts) => {
      const [p] = collect();
      expect(() => pushInPieces(p, Buffer.from(garbage), cuts)).to.not.throw();
      expect(p.framesIn + p.malformedFrames).to.be.at.most(garbage.length);
    }), { numRuns: 300 });
  });

  it('reset() discards a partial frame so the next stream starts clean', () => {
    const [p, seen] = collect();
    p.push(Buffer.from([0, 10, kSoupSequencedData, 1, 2]));
    p.reset();
    p.push(Buffer.from([0, 2, kSoupSequencedData, 5]));
    expect(seen).to.have.length(1);
    expect([...seen[0].payload]).to.deep.equal([5]);
  });

  it('readNumeric rejects non-digits with -1', () => {
    expect(readNumeric(Buffer.from('  12a'), 0, 5)).to.equal(-1);
    expect(readNumeric(Buffer.from('1 2  '), 0, 5)).to.equal(-1);
    expect(readNumeric(Buffer.from('     '), 0, 5)).to.equal(0);
  });
});
