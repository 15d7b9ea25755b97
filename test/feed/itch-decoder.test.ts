import { expect } from 'chai';
import {
  ItchDecoder, kItchAddOrder, kItchDecodeTruncated, kItchDecodeUnknownType, kItchDecodeZeroLength,
} from '../../lib/feed/itch/itch-decoder';
import { ItchEncoder, stockBytes } from '../../lib/feed/itch/itch-encoder';
import { kItchMessageSpecs } from '../../lib/feed/itch/itch-schema';

describe('ItchDecoder', () => {
  const b = new Uint8Array(64);
  new ItchEncoder().addOrder(b, 0, 7, 1, 34200000000000, 2 ** 52 + 3, true, 100, stockBytes('META'), 805200);

  it('wraps the flyweight of the type and reads fields in place', () => {
    const d = new ItchDecoder();
    expect(d.decode(b, 0, 36)).to.equal(kItchAddOrder);
    const m = d.addOrder;
    expect([m.stockLocate, m.trackingNumber, m.timestamp, m.orderReferenceNumber, m.buySellIndicator, m.isBuy, m.shares, m.stock, m.price])
      .to.deep.equal([7, 1, 34200000000000, 2 ** 52 + 3, 'B', true, 100, 'META', 805200]);
    expect(b[m.stockOffset]).to.equal('M'.charCodeAt(0));
    expect(d.counters.messages).to.equal(1);
    expect(d.counters.byType[kItchAddOrder]).to.equal(1);
  });

  it('counts zero-length, truncated and unknown messages by kind and never throws', () => {
    const d = new ItchDecoder();
    expect(d.decode(b, 0, 0)).to.equal(kItchDecodeZeroLength);
    expect(d.decode(b, 0, 35)).to.equal(kItchDecodeTruncated);
    const z = Uint8Array.of(0x5a, 0, 0);
    expect(d.decode(z, 0, 3)).to.equal(kItchDecodeUnknownType);
    // every type, one byte short
    for (const s of kItchMessageSpecs) {
      const m = new Uint8Array(s.length);
      m[0] = s.code;
      expect(d.decode(m, 0, s.length - 1), s.type).to.equal(kItchDecodeTruncated);
      expect(d.decode(m, 0, s.length), s.type).to.equal(s.code);
    }
    expect({ zero: d.counters.zeroLength, truncated: d.counters.truncated, unknown: d.counters.unknownType, ok: d.counters.messages })
      .to.deep.equal({ zero: 1, truncated: 1 + kItchMessageSpecs.length, unknown: 1, ok: kItchMessageSpecs.length });
  });

  it('accepts a message longer than the spec length (fields appended by a later revision)', () => {
    const d = new ItchDecoder();
    expect(d.decode(b, 0, 40)).to.equal(kItchAddOrder);
    expect(d.addOrder.price).to.equal(805200);
  });
});
