/**
 * The send path's shortcuts write what the generic encoder writes: `beginHeader` (the header laid
 * out once per message type, its bytes' sum taken as known by the CheckSum) against
 * begin().str(49).str(56).int(34).time(52) for random orders, with BodyLength and CheckSum
 * recomputed here from the bytes; `writeUint` against String(); and FixMappedStore's sequence
 * number index for numbers far from 1, below the first one stored, and across a reset.
 */
import { expect } from 'chai';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixEncoder, FixHeaderTemplate, Tag, writePrice4, writeUint, type FixVersion } from '../../lib/protocols/fix/fix-codec';
import { FixMappedStore, mappedStoreAvailable } from '../../lib/protocols/fix/fix-mapped-store';

const id = fc.stringMatching(/^[!-~]{1,20}$/);
const order = fc.record({
  version: fc.constantFrom<FixVersion>('FIX.4.2', 'FIX.4.4'), msgType: fc.constantFrom('D', 'F', 'G', '8', '0', 'A'),
  sender: id, target: id, seq: fc.nat(), ms: fc.integer({ min: 0, max: 4_102_444_800_000 }), clOrdId: id, symbol: id,
  side: fc.constantFrom(0x31, 0x32, 0x35), qty: fc.integer({ min: 1, max: 2 ** 40 }), price: fc.integer({ min: -1e9, max: 1e12 }),
  tif: fc.constantFrom(0x30, 0x33),
});
type Order = typeof order extends fc.Arbitrary<infer T> ? T : never;

function body(e: FixEncoder, o: Order): Buffer {
  e.str(Tag.ClOrdID, o.clOrdId).char(Tag.HandlInst, 0x31).str(Tag.Symbol, o.symbol).char(Tag.Side, o.side)
    .time(Tag.TransactTime, o.ms).int(Tag.OrderQty, o.qty).char(Tag.OrdType, 0x32).price4(Tag.Price, o.price).char(Tag.TimeInForce, o.tif);
  const start = e.finish();
  return Buffer.from(e.buf.subarray(start, e.end));
}

/** BodyLength and CheckSum from the text alone, not from the encoder's bookkeeping. */
function checkFraming(b: Buffer): void {
  const s = b.toString('latin1');
  const m = /^8=FIX\.4\.[24]\x019=(\d+)\x01/.exec(s);
  expect(m, s).to.not.equal(null);
  const trailer = s.lastIndexOf('\x0110=') + 1;
  expect(trailer + 7).to.equal(s.length);
  expect(Number(m![1]), 'BodyLength').to.equal(trailer - m![0].length);
  let sum = 0;
  for (let i = 0; i < trailer; i++) sum += s.charCodeAt(i);
  expect(s.slice(trailer + 3, trailer + 6), 'CheckSum').to.equal(String(sum % 256).padStart(3, '0'));
}

describe('FIX header template (the send path\'s encoder)', () => {
  it('property: beginHeader writes the generic encoder\'s bytes for random orders, BodyLength and CheckSum right', () => {
    const a = Buffer.alloc(4096);
    const b = Buffer.alloc(4096);
    fc.assert(fc.property(order, fc.nat(1024), (o, base) => {
      const generic = body(new FixEncoder().begin(a, base, o.version, o.msgType).str(Tag.SenderCompID, o.sender)
        .str(Tag.TargetCompID, o.target).int(Tag.MsgSeqNum, o.seq).time(Tag.SendingTime, o.ms), o);
      const t = new FixHeaderTemplate(o.msgType, o.sender, o.target);
      const fast = body(new FixEncoder().beginHeader(b, 1024 - base, o.version, t, o.seq, o.ms), o);
      expect(fast.toString('latin1')).to.equal(generic.toString('latin1'));
      checkFraming(fast);
    }), { numRuns: 3000 });
  });

  it('one encoder alternating generic and template messages keeps each CheckSum its own', () => {
    const buf = Buffer.alloc(4096);
    const e = new FixEncoder();
    const t = new FixHeaderTemplate('D', 'ME', 'YOU');
    for (let i = 0; i < 50; i++) {
      if (i % 2) e.beginHeader(buf, 0, 'FIX.4.4', t, i, 1_700_000_000_000 + i);
      else e.begin(buf, 0, 'FIX.4.4', '0').str(Tag.Text, 'x'.repeat(i));
      checkFraming(Buffer.from(buf.subarray(e.finish(), e.end)));
    }
  });

  it('property: writePrice4 writes the decimal of price / 10^4, trailing zeros trimmed, on both sides of 2^31', () => {
    const buf = Buffer.alloc(40);
    const decimal = (p: number): string => {
      const neg = p < 0 ? '-' : '';
      const a = Math.abs(p);
      const frac = String(a % 10000).padStart(4, '0').replace(/0+$/, '');
      return neg + String(Math.floor(a / 10000)) + (frac ? '.' + frac : '');
    };
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -(2 ** 31) - 5, max: 2 ** 31 + 5 }), fc.integer({ min: -(2 ** 45), max: 2 ** 45 }),
      fc.constantFrom(0, 1, 10, 100, 1000, 10000, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 123400, 120000)), (p) => {
      const end = writePrice4(buf, 2, p);
      expect(buf.toString('latin1', 2, end), String(p)).to.equal(decimal(p));
    }), { numRuns: 5000 });
  });

  it('property: writeUint writes String(value) for any safe integer', () => {
    const buf = Buffer.alloc(32);
    fc.assert(fc.property(fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 9, 10, 2 ** 31 - 1, 2 ** 31, 2 ** 32)), (v) => {
      const end = writeUint(buf, 3, v);
      expect(buf.toString('latin1', 3, end)).to.equal(String(v));
    }), { numRuns: 5000 });
  });
});

describe('FixMappedStore sequence index', function () {
  let dir: string;
  before(function () { if (!mappedStoreAvailable()) this.skip(); });
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fixindex-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const msg = (seq: number): Buffer => Buffer.from(`8=FIX.4.4\x019=5\x0135=D\x0134=${seq}\x0110=000\x01`, 'latin1');

  it('finds messages from a session adopted at a high number, ones below it, past 2^24 and after reopening; none after a reset', () => {
    const s = new FixMappedStore(dir, 'IDX');
    s.open();
    s.adopt(Date.now(), 5_000_000, 1);
    const seqs = [5_000_000, 5_000_001, 5_004_000, 4_999_990, 3, 5_000_000 + 2 ** 24 + 7];
    for (let q = 5_000_002; q < 5_003_000; q += 3) seqs.push(q);
    for (const q of seqs) s.append(q, msg(q), 0, msg(q).length);
    for (const q of seqs) expect(s.get(q)!.equals(msg(q)), `seq ${q}`).to.equal(true);
    for (const q of [4_999_999, 5_000_003, 5_004_001, 1, 0]) expect(s.get(q), `seq ${q}`).to.equal(null);
    s.close();
    const r = new FixMappedStore(dir, 'IDX');
    r.open();
    for (const q of seqs) expect(r.get(q)!.equals(msg(q)), `reopened seq ${q}`).to.equal(true);
    r.reset();
    for (const q of seqs) expect(r.get(q), `after reset ${q}`).to.equal(null);
    r.append(1, msg(1), 0, msg(1).length);
    expect(r.get(1)!.equals(msg(1))).to.equal(true);
    expect(r.get(5_000_000)).to.equal(null);
    r.close();
  });
});
