import { expect } from 'chai';
import * as fc from 'fast-check';
import * as o from '../../lib/protocols/ouch/ouch42';
import { readAlpha, readU64 } from '../../lib/common/bytes';

const token = fc.stringMatching(/^[A-Za-z0-9]{1,14}$/);
const stock = fc.stringMatching(/^[A-Z]{1,8}$/);
const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('OUCH 4.2 codec', () => {
  it('message lengths match the OUCH 4.2 spec', () => {
    const b = Buffer.alloc(100);
    expect(o.encodeEnterOrder(b, 0, 'T', 0x42, 1, 'A', 1, 0, 'F')).to.equal(49);
    expect(o.encodeReplaceOrder(b, 0, 'T', 'U', 1, 1, 0)).to.equal(47);
    expect(o.encodeCancelOrder(b, 0, 'T', 0)).to.equal(19);
    expect(o.encodeSystemEvent(b, 0, 0, 0x53)).to.equal(10);
    expect(o.encodeCanceled(b, 0, 0, 'T', 1, 0x55)).to.equal(28);
    expect(o.encodeExecuted(b, 0, 0, 'T', 1, 1, 0x41, 1)).to.equal(40);
    expect(o.encodeRejected(b, 0, 0, 'T', 0x4f)).to.equal(24);
  });

  it('Enter Order puts fields at the spec offsets', () => {
    const b = Buffer.alloc(49);
    o.encodeEnterOrder(b, 0, 'ORD1', 0x42, 300, 'AAPL', 1234500, 99998, 'FIRM');
    expect(b.toString('latin1', 0, 1)).to.equal('O');
    expect(b.toString('latin1', 1, 15)).to.equal('ORD1          ');
    expect(b.toString('latin1', 15, 16)).to.equal('B');
    expect(b.readUInt32BE(16)).to.equal(300);
    expect(b.toString('latin1', 20, 28)).to.equal('AAPL    ');
    expect(b.readUInt32BE(28)).to.equal(1234500);
    expect(b.readUInt32BE(32)).to.equal(99998);
    expect(b.toString('latin1', 36, 40)).to.equal('FIRM');
  });

  it('property: EnterOrderEncoder writes the same 49 bytes as encodeEnterOrder, at any offset, over stale bytes', () => {
    const enc = new o.EnterOrderEncoder('FIRM');
    fc.assert(fc.property(token, stock, fc.constantFrom(0x42, 0x53, 0x54), u32, u32, fc.constantFrom(0, 99998, 99999), fc.integer({ min: 0, max: 60 }),
      (tok, stk, side, shares, price, tif, at) => {
        const want = Buffer.alloc(49);
        o.encodeEnterOrder(want, 0, tok, side, shares, stk, price, tif, 'FIRM');
        const src = {
          writeToken: (b: Uint8Array, off: number, width: number, pad: number) => { for (let i = 0; i < width; i++) b[off + i] = i < tok.length ? tok.charCodeAt(i) : pad; },
          writeSymbol: (b: Uint8Array, off: number, pad: number) => { for (let i = 0; i < 8; i++) b[off + i] = i < stk.length ? stk.charCodeAt(i) : pad; },
        };
        const b = Buffer.alloc(120, 0xa5);
        expect(enc.encode(b, at, src, side, shares, price, tif)).to.equal(at + 49);
        expect(b.subarray(at, at + 49).equals(want)).to.equal(true);
        expect(b[at - 1] === undefined || b[at - 1] === 0xa5).to.equal(true);
        expect(b[at + 49]).to.equal(0xa5);
      }));
  });

  it('EnterOrderEncoder refuses a firm that is not 0-4 printable characters, naming the setting', () => {
    expect(() => new o.EnterOrderEncoder('TOOLONG')).to.throw(/firm "TOOLONG".*0-4 printable/).with.property('code', 'ERR_INVALID_OPTION');
    // An empty firm is four spaces, as encodeEnterOrder writes it.
    const want = Buffer.alloc(49);
    o.encodeEnterOrder(want, 0, 'T1', 0x42, 1, 'A', 1, 0, '');
    const b = Buffer.alloc(49);
    new o.EnterOrderEncoder('').encode(b, 0, { writeToken: (x, at, w, pad) => { x[at] = 0x54; x[at + 1] = 0x31; for (let i = 2; i < w; i++) x[at + i] = pad; },
      writeSymbol: (x, at, pad) => { x[at] = 0x41; for (let i = 1; i < 8; i++) x[at + i] = pad; } }, 0x42, 1, 1, 0);
    expect(b.equals(want)).to.equal(true);
  });

  it('property: Accepted and Replaced round-trip every field', () => {
    fc.assert(fc.property(token, token, stock, u32, u32, fc.integer({ min: 0, max: 2 ** 52 }), fc.integer({ min: 0, max: 86400e9 }),
      (tok, prev, stk, shares, price, ref, ts) => {
        const f = { token: tok, buySell: 0x53, shares, stock: stk, price, tif: 99998, firm: 'ABCD', orderRef: ref };
        const b = Buffer.alloc(80);
        expect(o.encodeAccepted(b, 0, ts, f)).to.equal(66);
        expect(o.readToken(b, o.kOutToken)).to.equal(tok);
        expect(readU64(b, o.kOutTimestamp)).to.equal(ts);
        expect(b.readUInt32BE(o.kAcceptedShares)).to.equal(shares);
        expect(readAlpha(b, o.kAcceptedStock, 8)).to.equal(stk);
        expect(b.readUInt32BE(o.kAcceptedPrice)).to.equal(price);
        expect(readU64(b, o.kAcceptedOrderRef)).to.equal(ref);
        expect(o.encodeReplaced(b, 0, ts, f, prev)).to.equal(80);
        expect(o.readToken(b, o.kReplacedPreviousToken)).to.equal(prev);
        expect(o.readToken(b, o.kOutToken)).to.equal(tok);
        expect(b.readUInt32BE(o.kReplacedShares)).to.equal(shares);
      }));
  });

  it('property: Executed round-trips shares, price and match number', () => {
    fc.assert(fc.property(token, u32, u32, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (tok, shares, price, match) => {
      const b = Buffer.alloc(40);
      o.encodeExecuted(b, 0, 5, tok, shares, price, 0x52, match);
      expect(o.readToken(b, o.kOutToken)).to.equal(tok);
      expect(b.readUInt32BE(o.kExecutedShares)).to.equal(shares);
      expect(b.readUInt32BE(o.kExecutedPrice)).to.equal(price);
      expect(readU64(b, o.kExecutedMatch)).to.equal(match);
      expect(o.outboundLength(b[0])).to.equal(40);
    }));
  });

  it('unknown types have length 0 so callers count them as malformed', () => {
    expect(o.outboundLength(0x7a)).to.equal(0);
    expect(o.inboundLength(0x41)).to.equal(0);
    expect(o.inboundLength(o.kOuchEnterOrder)).to.equal(o.kEnterOrderLen);
  });
});
