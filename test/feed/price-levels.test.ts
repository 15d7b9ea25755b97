import { expect } from 'chai';
import * as fc from 'fast-check';
import { PriceLevels } from '../../lib/feed/book/price-levels';

describe('PriceLevels', () => {
  it('keeps bids best-high and asks best-low, aggregating orders per price', () => {
    const bids = new PriceLevels(true, 1);
    const asks = new PriceLevels(false, 1);
    for (const [p, s] of [[100, 1], [300, 2], [200, 3], [300, 4]]) { bids.addOrder(p, s); asks.addOrder(p, s); }
    expect([0, 1, 2].map((r) => [bids.priceAt(r), bids.sharesAt(r), bids.ordersAt(r)])).to.deep.equal([[300, 6, 2], [200, 3, 1], [100, 1, 1]]);
    expect([0, 1, 2].map((r) => asks.priceAt(r))).to.deep.equal([100, 200, 300]);
    expect([bids.bestPrice, bids.bestShares, bids.bestOrders, asks.bestPrice]).to.deep.equal([300, 6, 2, 100]);
    expect(bids.sharesAtPrice(200)).to.equal(3);
    expect(bids.sharesAtPrice(250)).to.equal(0);
  });

  it('drops a level when its last order goes and reports a missing level', () => {
    const bids = new PriceLevels(true);
    bids.addOrder(100, 10); bids.addOrder(100, 5);
    expect(bids.reduce(100, 4, false)).to.equal(true);
    expect(bids.bestShares).to.equal(11);
    expect(bids.reduce(100, 6, true)).to.equal(true);
    expect([bids.count, bids.bestShares, bids.bestOrders]).to.deep.equal([1, 5, 1]);
    expect(bids.reduce(100, 5, true)).to.equal(true);
    expect([bids.count, bids.bestPrice, bids.bestShares]).to.deep.equal([0, 0, 0]);
    expect(bids.reduce(100, 1, true)).to.equal(false);
  });

  it('depth copies the top N best first', () => {
    const asks = new PriceLevels(false);
    for (let p = 10; p >= 1; p--) asks.addOrder(p * 100, p);
    const prices = new Float64Array(3); const shares = new Float64Array(3);
    expect(asks.depth(5, prices, shares)).to.equal(3);
    expect([...prices]).to.deep.equal([100, 200, 300]);
    expect([...shares]).to.deep.equal([1, 2, 3]);
  });

  it('matches a sorted-map model under random adds and reduces, growth included (fast-check)', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 1000 }));
    fc.assert(fc.property(fc.boolean(), fc.array(op, { maxLength: 300 }), (isBid, ops) => {
      const levels = new PriceLevels(isBid, 2);
      const model = new Map<number, { shares: number; orders: number }>();
      for (const [isAdd, price, shares] of ops) {
        const m = model.get(price);
        if (isAdd) {
          levels.addOrder(price, shares);
          model.set(price, { shares: (m?.shares ?? 0) + shares, orders: (m?.orders ?? 0) + 1 });
        } else if (m) {
          const take = Math.min(shares, m.shares);
          expect(levels.reduce(price, take, true)).to.equal(true);
          if (m.orders === 1) model.delete(price); else model.set(price, { shares: m.shares - take, orders: m.orders - 1 });
        } else {
          expect(levels.reduce(price, shares, true)).to.equal(false);
        }
      }
      const want = [...model.entries()].sort((a, b) => (isBid ? b[0] - a[0] : a[0] - b[0]));
      const got = Array.from({ length: levels.count }, (_, r) => [levels.priceAt(r), { shares: levels.sharesAt(r), orders: levels.ordersAt(r) }]);
      expect(got).to.deep.equal(want);
    }), { numRuns: 300 });
  });
});
