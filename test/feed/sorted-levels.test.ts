/**
 * SortedLevels on its own (the FAST books' level store and LevelStore's deep part): random adds and
 * reduces on both sides against a sorted-map model, with sides deep enough that search() both scans
 * its best levels and halves below them, and with updates at, near and far from the touch. Fails if
 * a level lands out of order, an update hits the wrong level, a missing level is not reported, or
 * touchedTop / the best level disagree with the model.
 */
import { expect } from 'chai';
import * as fc from 'fast-check';
import { SortedLevels } from '../../lib/feed/book/sorted-levels';

interface Level { shares: number; orders: number }

function levelsOf(store: SortedLevels, side: number): number[][] {
  return Array.from({ length: store.count(side) }, (_, r) => [store.priceAt(side, r), store.sharesAt(side, r), store.ordersAt(side, r)]);
}

function modelLevels(model: Map<number, Level>, bid: boolean): number[][] {
  return [...model.entries()].sort((a, b) => (bid ? b[0] - a[0] : a[0] - b[0])).map(([p, l]) => [p, l.shares, l.orders]);
}

describe('SortedLevels (sorted flat levels: FAST books, the ladder\'s deep part)', () => {
  it('matches a sorted-map model on both sides, 0-60 levels deep, best and touchedTop included (fast-check)', () => {
    // [side 0/1, add? (6 in 10: sides fill up), price step 1..60, shares]; prices a tick of 25 apart (MOEX at 5 decimals).
    const op = fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 9 }).map((k) => k < 6), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1000 }));
    fc.assert(fc.property(fc.array(op, { minLength: 100, maxLength: 600 }), (ops) => {
      const store = new SortedLevels(4, 8);
      const models = [new Map<number, Level>(), new Map<number, Level>()];
      for (const [side, isAdd, step, shares] of ops) {
        const price = 6000000 + step * 25;
        const s = 2 + side; // locate 1
        const model = models[side];
        const before = modelLevels(model, side === 0)[0]?.[0];
        const m = model.get(price);
        if (isAdd || !m) {
          if (!isAdd) {
            expect(store.reduce(s, price, shares, true)).to.equal(false);
            expect(store.touchedTop).to.equal(false);
            continue;
          }
          store.addOrder(s, price, shares);
          model.set(price, { shares: (m?.shares ?? 0) + shares, orders: (m?.orders ?? 0) + 1 });
        } else {
          const take = Math.min(shares, m.shares);
          expect(store.reduce(s, price, take, true)).to.equal(true);
          if (m.orders === 1) model.delete(price); else model.set(price, { shares: m.shares - take, orders: m.orders - 1 });
        }
        // The best level before or after the change is the changed one exactly when touchedTop says so.
        const after = modelLevels(model, side === 0)[0]?.[0];
        expect(store.touchedTop, `${isAdd ? 'add' : 'reduce'} ${price} side ${side}`).to.equal(price === before || price === after);
        const want = modelLevels(model, side === 0);
        expect(store.bestPrice(s)).to.equal(want.length > 0 ? want[0][0] : 0);
        expect(store.bestShares(s)).to.equal(want.length > 0 ? want[0][1] : 0);
      }
      expect(levelsOf(store, 2)).to.deep.equal(modelLevels(models[0], true));
      expect(levelsOf(store, 3)).to.deep.equal(modelLevels(models[1], false));
    }), { numRuns: 200 });
  });

  it('finds a level by halving below the scanned best levels: 40 levels, updates on every one', () => {
    const store = new SortedLevels(2, 8);
    for (let k = 0; k < 40; k++) store.addOrder(0, 1000 + k * 10, 1 + k);
    for (let k = 0; k < 40; k++) store.addOrder(0, 1000 + k * 10, 100);
    expect(store.count(0)).to.equal(40);
    for (let r = 0; r < 40; r++) {
      const price = 1000 + (39 - r) * 10;
      expect([store.priceAt(0, r), store.sharesAt(0, r), store.ordersAt(0, r)]).to.deep.equal([price, 101 + (39 - r), 2]);
      expect(store.sharesAtPrice(0, price)).to.equal(101 + (39 - r));
    }
    expect(store.sharesAtPrice(0, 1005)).to.equal(0);
    expect(store.reduce(0, 1005, 1, true)).to.equal(false);
  });
});
