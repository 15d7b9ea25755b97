import { expect } from 'chai';
import * as fc from 'fast-check';
import { FixEncoder, FixParser, Tag, writePrice4, parsePrice4, latin1Short, byteSumOf, type FixMessage, type FixBadReason } from '../../lib/protocols/fix/fix-codec';

function encode(fields: Array<[number, string]>, version: 'FIX.4.2' | 'FIX.4.4' = 'FIX.4.2', msgType = 'D'): Buffer {
  const buf = Buffer.alloc(8192);
  const e = new FixEncoder().begin(buf, 0, version, msgType);
  for (const [t, v] of fields) e.str(t, v);
  const start = e.finish();
  return Buffer.from(buf.subarray(start, e.end));
}

interface Parsed { type: string; fields: Array<[number, string]> }

function parser(): [FixParser, Parsed[], Array<[FixBadReason, string]>] {
  const out: Parsed[] = [];
  const bad: Array<[FixBadReason, string]> = [];
  const p = new FixParser((m: FixMessage) => {
    const fields: Array<[number, string]> = [];
    for (let i = 0; i < m.count; i++) fields.push([m.tags[i], m.buf.toString('latin1', m.valueStart[i], m.valueEnd[i])]);
    out.push({ type: m.getStr(Tag.MsgType), fields });
  }, { onBad: (r, raw) => bad.push([r, raw.toString('latin1')]) });
  return [p, out, bad];
}

function split(p: FixParser, b: Buffer, cuts: number[]): void {
  const pts = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  let prev = 0;
  for (const c of [...pts, b.length]) { if (c > prev) p.push(b.subarray(prev, c)); prev = Math.max(prev, c); }
}

const value = fc.stringMatching(/^[ -~]{1,30}$/).filter((s) => !s.includes('\x01'));
const field = fc.tuple(fc.integer({ min: 11, max: 9999 }).filter((t) => t !== 35 && t !== 10 && t !== 9 && t !== 8), value);

describe('FIX codec', () => {
  it('property: every lookup finds the first field with the tag in this message, whatever the messages before it carried', () => {
    // Tags below 256 go through the per-message table, the rest through the scan: both, repeated
    // tags (repeating groups) and messages in a row on one parser (a stale table entry would show).
    const tag = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(11, 55, 150, 255, 256, 8013));
    const msg = fc.array(fc.tuple(tag, fc.stringMatching(/^[A-Z0-9]{1,6}$/)), { minLength: 0, maxLength: 25 })
      .map((fs) => fs.filter(([t]) => t !== 8 && t !== 9 && t !== 10 && t !== 35));
    fc.assert(fc.property(fc.array(msg, { minLength: 1, maxLength: 6 }), (msgs) => {
      const seen: Array<Map<number, number>> = [];
      const probes = [1, 11, 34, 35, 43, 55, 97, 150, 255, 256, 300, 8013, 9999];
      const p = new FixParser((m: FixMessage) => {
        const got = new Map<number, number>();
        for (const t of probes) {
          let first = -1;
          for (let i = 0; i < m.count; i++) if (m.tags[i] === t) { first = i; break; }
          expect(m.indexOf(t), `tag ${t}`).to.equal(first);
          got.set(t, first);
        }
        seen.push(got);
      });
      const all = Buffer.concat(msgs.map((fs) => encode(fs as Array<[number, string]>)));
      p.push(all);
      expect(seen.length).to.equal(msgs.length);
    }), { numRuns: 200 });
  });

  it('writes BeginString, BodyLength and CheckSum that a reference computation agrees with', () => {
    const b = encode([[49, 'A'], [56, 'B'], [34, '1'], [11, 'X1']]);
    const s = b.toString('latin1');
    expect(s.startsWith('8=FIX.4.2\x019=')).to.equal(true);
    const body = s.slice(s.indexOf('\x01', 10) + 1, s.lastIndexOf('10='));
    expect(Number(/9=(\d+)/.exec(s)![1])).to.equal(body.length);
    let sum = 0;
    for (const ch of s.slice(0, s.lastIndexOf('10='))) sum += ch.charCodeAt(0);
    expect(s.slice(-4, -1)).to.equal(String(sum % 256).padStart(3, '0'));
    expect(body.startsWith('35=D\x01')).to.equal(true);
  });

  it('property: encode then parse (split at any points) returns every field in order', () => {
    fc.assert(fc.property(fc.array(field, { maxLength: 30 }), fc.array(fc.nat(3000), { maxLength: 6 }), fc.constantFrom('FIX.4.2', 'FIX.4.4'),
      (fields, cuts, version) => {
        const one = encode(fields, version as 'FIX.4.2');
        const [p, out, bad] = parser();
        split(p, Buffer.concat([one, one]), cuts);
        expect(bad).to.deep.equal([]);
        expect(out).to.have.length(2);
        const body = out[0].fields.filter(([t]) => t !== 8 && t !== 9 && t !== 10 && t !== 35);
        expect(body).to.deep.equal(fields);
        expect(out[0].type).to.equal('D');
        expect(out[0].fields[0]).to.deep.equal([8, version]);
      }), { numRuns: 200 });
  });

  it('property: the CheckSum\'s word-at-a-time byte sum equals a byte loop, at any offset and length, 0xff bytes included', () => {
    // Lengths drawn explicitly (fast-check keeps generated arrays short): bodies past 512 bytes
    // cross a lane fold, and 0xff bytes would overflow a lane that was not folded.
    fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.nat(7), fc.integer(), fc.boolean(), (n, at, seed, ones) => {
      const buf = Buffer.alloc(n + 8);
      let x = seed | 0;
      for (let i = at; i < at + n; i++) { x = (Math.imul(x, 1103515245) + 12345) | 0; buf[i] = ones ? 0xff : x >>> 24; }
      const e = at + n;
      let want = 0;
      for (let i = at; i < e; i++) want += buf[i];
      expect(byteSumOf(buf, new DataView(buf.buffer, buf.byteOffset, buf.length), at, e) & 0xff).to.equal(want & 0xff);
    }), { numRuns: 300 });
  });

  it('writes every tag from 1 to 99999 as its digits', () => {
    const buf = Buffer.alloc(64);
    const e = new FixEncoder();
    for (let tag = 1; tag < 100000; tag++) {
      e.begin(buf, 0, 'FIX.4.4', 'D').int(tag, 7);
      const text = buf.toString('latin1', 24, e.end);
      if (text !== `35=D\x01${tag}=7\x01`) expect(text).to.equal(`35=D\x01${tag}=7\x01`);
    }
  });

  it('property: Price(4) -> decimal -> Price(4) is exact', () => {
    fc.assert(fc.property(fc.integer({ min: -1e12, max: 1e12 }), (p) => {
      const b = Buffer.alloc(32);
      const end = writePrice4(b, 0, p);
      expect(parsePrice4(b, 0, end)).to.equal(p);
    }));
    const b = Buffer.from('12.34567');
    expect(parsePrice4(b, 0, b.length)).to.equal(123457);
    expect(parsePrice4(Buffer.from('1.2.3'), 0, 5)).to.be.NaN;
  });

  it('drops a message with a bad checksum, reports its raw bytes, and parses the next one', () => {
    const good = encode([[11, 'OK']]);
    const badMsg = Buffer.from(encode([[11, 'BAD']]));
    badMsg[badMsg.length - 2] = badMsg[badMsg.length - 2] === 0x30 ? 0x31 : 0x30; // corrupt last checksum digit
    const [p, out, bad] = parser();
    p.push(Buffer.concat([badMsg, good]));
    expect(out.map((m) => m.fields.find(([t]) => t === 11)![1])).to.deep.equal(['OK']);
    expect(bad).to.have.length(1);
    expect(bad[0][0]).to.equal('bad-checksum');
    expect(bad[0][1]).to.include('11=BAD');
    expect(p.counters.badChecksums).to.equal(1);
  });

  it('skips garbage, a wrong BodyLength and a non-numeric BodyLength, and resynchronises on 8=FIX', () => {
    const good = encode([[11, 'G']]);
    const wrongLen = Buffer.from(encode([[11, 'W']]).toString('latin1').replace(/\x019=(\d+)\x01/, (_m, d) => `\x019=${Number(d) + 3}\x01`), 'latin1');
    const nanLen = Buffer.from('8=FIX.4.2\x019=abc\x0135=D\x0110=000\x01', 'latin1');
    const [p, out, bad] = parser();
    p.push(Buffer.concat([Buffer.from('hello world\x01'), nanLen, wrongLen, good, Buffer.from('junk'), good]));
    expect(out).to.have.length(2);
    expect(bad.map(([r]) => r)).to.include.members(['garbage', 'bad-body-length']);
  });

  it('waits for the rest of a truncated message instead of failing it', () => {
    const good = encode([[11, 'T']]);
    const [p, out, bad] = parser();
    for (let i = 0; i < good.length - 1; i++) p.push(good.subarray(i, i + 1));
    expect(out).to.have.length(0);
    p.push(good.subarray(good.length - 1));
    expect(out).to.have.length(1);
    expect(bad).to.deep.equal([]);
  });

  it('property: random bytes never throw, and a good message after them is still found', () => {
    const good = encode([[11, 'AFTER']]);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(2000), { maxLength: 5 }), (junk, cuts) => {
      const [p, out] = parser();
      // SOH then the message: a resync point the parser must find whatever came before.
      expect(() => split(p, Buffer.concat([Buffer.from(junk), Buffer.from([1]), good]), cuts)).to.not.throw();
      expect(out.length).to.be.at.least(1);
      expect(out.at(-1)!.fields.find(([t]) => t === 11)![1]).to.equal('AFTER');
    }), { numRuns: 300 });
  });

  it('flyweight getters: getInt, getChar, getPrice4 and absent tags', () => {
    const b = encode([[38, '300'], [44, '12.5'], [54, '1'], [58, 'x']]);
    let seen = 0;
    const p = new FixParser((m) => {
      seen++;
      expect(m.getInt(Tag.OrderQty)).to.equal(300);
      expect(m.getPrice4(Tag.Price)).to.equal(125000);
      expect(m.getChar(Tag.Side)).to.equal(0x31);
      expect(m.getInt(Tag.Text, -7)).to.equal(-7);
      expect(m.has(Tag.ClOrdID)).to.equal(false);
      expect(m.getStr(Tag.ClOrdID, 'none')).to.equal('none');
    });
    p.push(b);
    expect(seen).to.equal(1);
  });
});

describe('latin1Short and the fields the encoder writes without strings', () => {
  it('gives what Buffer#toString(latin1) gives for every length 0..40 at any offset, high bytes included', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 48 }), fc.nat(8), fc.nat(40), (bytes, a, n) => {
      const b = Buffer.from(bytes);
      const s = Math.min(a, b.length);
      const e = Math.min(s + n, b.length);
      expect(latin1Short(b, s, e)).to.equal(b.toString('latin1', s, e));
    }), { numRuns: 2000 });
  });

  it('prefixedUint writes a one-character prefix then the digits, read back by getStr', () => {
    for (const v of [0, 7, 10, 99999, 2 ** 31, 2 ** 53 - 1]) {
      const buf = Buffer.alloc(512);
      const e = new FixEncoder().begin(buf, 0, 'FIX.4.4', '8').prefixedUint(Tag.ExecID, 0x58, v).int(Tag.OrderID, v);
      const start = e.finish();
      const got: string[] = [];
      new FixParser((m) => got.push(`${m.getStr(Tag.ExecID)} ${m.getStr(Tag.OrderID)}`)).push(buf, start, e.end);
      expect(got).to.deep.equal([`X${v} ${v}`]);
    }
  });
});

describe('FixParser parses in place off the caller\'s buffer', () => {
  const msgs = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) =>
    encode([[Tag.MsgSeqNum, String(i + 1)], [Tag.ClOrdID, `O${i}`], [Tag.Symbol, 'MSFT'], [Tag.Text, 'x'.repeat(i * 7 % 40)]], 'FIX.4.4', '8')));

  it('property: any cut of messages and garbage, each piece pushed from inside a larger region that is then overwritten, gives the one-shot result', () => {
    fc.assert(fc.property(fc.nat(6), fc.array(fc.nat(4000), { maxLength: 8 }), fc.nat(64), fc.uint8Array({ maxLength: 12 }), (n, cuts, lead, junk) => {
      const j = Buffer.from(junk.map((x) => x | 0x80)); // garbage that cannot end a tag (a digit before 8=FIX)
      const b = Buffer.concat([j, msgs(n + 1), j]);
      const [ref, want, wantBad] = parser();
      ref.push(b);
      const [p, got, gotBad] = parser();
      const pts = [0, ...[...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y), b.length];
      const region = Buffer.alloc(b.length + 128);
      for (let i = 0; i + 1 < pts.length; i++) {
        // Like the receive region: the piece at an offset, stale bytes around it, reused afterwards.
        region.fill(0x38);
        b.copy(region, lead, pts[i], pts[i + 1]);
        p.push(region, lead, lead + pts[i + 1] - pts[i]);
        region.fill(0x01);
      }
      expect(got).to.deep.equal(want);
      // Garbage is reported as it arrives, so in as many runs as the cuts make: compare its bytes.
      const garbage = (x: typeof wantBad) => x.filter(([r]) => r === 'garbage').map(([, t]) => t).join('');
      const others = (x: typeof wantBad) => x.filter(([r]) => r !== 'garbage');
      expect(garbage(gotBad)).to.equal(garbage(wantBad));
      expect(others(gotBad)).to.deep.equal(others(wantBad));
      expect(want.length).to.equal(n + 1);
    }), { numRuns: 500 });
  });

  it('reset() from the callback drops the rest of the chunk, in place or not', () => {
    for (const first of [0, 5]) {
      let seen = 0;
      const p = new FixParser(() => { seen++; p.reset(); });
      const b = msgs(3);
      if (first) p.push(b, 0, first); // something held: the copying path
      seen = 0;
      p.push(b, first, b.length);
      expect(seen, `first push ${first} bytes`).to.equal(1);
      p.push(msgs(1));
      expect(seen).to.equal(2);
    }
  });
});
