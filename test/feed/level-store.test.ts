import { expect } from 'chai';
import * as fc from 'fast-check';
import { kLadderSlots, LevelStore } from '../../lib/feed/book/level-store';

interface Level { shares: number; orders: number }

/** Every level of `side`, best first, as [price, shares, orders]. */
function levelsOf(store: LevelStore, side: number): number[][] {
  return Array.from({ length: store.count(side) }, (_, r) => [store.priceAt(side, r), store.sharesAt(side, r), store.ordersAt(side, r)]);
}

function modelLevels(model: Map<number, Level>, bid: boolean): number[][] {
  return [...model.entries()].sort((a, b) => (bid ? b[0] - a[0] : a[0] - b[0])).map(([p, l]) => [p, l.shares, l.orders]);
}

describe('LevelStore (price ladder around the touch, deep levels sorted)', () => {
  it('finds the next best in the deep part when the ladder empties after a jump far above it', () => {
    const store = new LevelStore(2);
    // Bids at 10.00, 9.99 ... then one at 500.00: the ladder moves to 500.00, the rest go deep.
    for (let c = 0; c < 5; c++) store.addOrder(0, 100000 - c * 100, 100 + c);
    expect(store.deepCount(0)).to.equal(0);
    store.addOrder(0, 5000000, 7);
    expect(store.touchedTop).to.equal(true);
    expect([store.bestPrice(0), store.bestShares(0), store.count(0), store.deepCount(0)]).to.deep.equal([5000000, 7, 6, 5]);
    expect(store.reduce(0, 5000000, 7, true)).to.equal(true);
    expect(store.touchedTop).to.equal(true);
    // The ladder came back down to the deep levels.
    expect([store.bestPrice(0), store.bestShares(0), store.count(0), store.deepCount(0)]).to.deep.equal([100000, 100, 5, 0]);
    expect(levelsOf(store, 0)).to.deep.equal([[100000, 100, 1], [99900, 101, 1], [99800, 102, 1], [99700, 103, 1], [99600, 104, 1]]);
  });

  it('keeps asks best-low across a re-centre below the ladder and levels far above it', () => {
    const store = new LevelStore(2);
    store.addOrder(1, 200000, 1); // 20.00
    store.addOrder(1, 900000, 2); // 90.00: far worse, deep
    store.addOrder(1, 10000, 3); // 1.00: far better, the ladder moves
    expect(levelsOf(store, 1)).to.deep.equal([[10000, 3, 1], [200000, 1, 1], [900000, 2, 1]]);
    expect(store.deepCount(1)).to.equal(2);
    expect(store.reduce(1, 200000, 1, true)).to.equal(true);
    expect(store.touchedTop).to.equal(false);
    expect(store.reduce(1, 10000, 3, true)).to.equal(true);
    expect([store.bestPrice(1), store.count(1), store.deepCount(1)]).to.deep.equal([900000, 1, 0]);
  });

  it('reduceAt: a hint from before a re-centre or re-tick is checked against the price, never applied to the level now at that index', () => {
    const store = new LevelStore(2);
    store.addOrder(0, 100000, 10); // 10.00
    const hintA = store.placedHint;
    store.addOrder(0, 99900, 20); // 9.99, one slot below
    const hintB = store.placedHint;
    expect([hintA, hintB - hintA]).to.deep.equal([kLadderSlots - 16, -1]);
    // A bid far above moves the ladder: both levels go deep, and the slots their hints name hold nothing (or another level).
    store.addOrder(0, 5000000, 7);
    expect(store.deepCount(0)).to.equal(2);
    expect(store.reduceAt(0, 100000, hintA, 4, false)).to.equal(true);
    expect(store.sharesAtPrice(0, 100000)).to.equal(6);
    // Levels that now sit exactly at the old hints' indexes (the new origin is 49,000.00 ticks higher).
    const moved = store.placedHint;
    store.addOrder(0, 5000000 - (moved - hintB) * 100, 3);
    expect(store.placedHint).to.equal(hintB);
    expect(store.reduceAt(0, 99900, hintB, 20, true)).to.equal(true); // the 9.99 level, deep, not the one at hintB's index
    expect(levelsOf(store, 0)).to.deep.equal([[5000000, 7, 1], [5000000 - (moved - hintB) * 100, 3, 1], [100000, 6, 1]]);
    // A sub-penny bid turns the side to tick 1: every ladder index now means another price.
    store.addOrder(0, 5000001, 1);
    expect(store.reduceAt(0, 5000000, moved, 7, true)).to.equal(true);
    expect(store.reduceAt(0, 5000001, store.placedHint, 1, true)).to.equal(true);
    expect(levelsOf(store, 0)).to.deep.equal([[5000000 - (moved - hintB) * 100, 3, 1], [100000, 6, 1]]);
    // A current hint and no hint reach the same level.
    store.addOrder(0, 100000, 5);
    expect(store.reduceAt(0, 100000, store.placedHint, 5, true)).to.equal(true);
    expect(store.reduceAt(0, 100000, 0, 6, true)).to.equal(true);
    expect(levelsOf(store, 0)).to.deep.equal([[5000000 - (moved - hintB) * 100, 3, 1]]);
    expect(store.reduceAt(0, 100000, hintA, 1, true)).to.equal(false); // no level there any more
  });

  it('turns a side to tick 1 when a sub-penny price arrives, keeping every level', () => {
    const store = new LevelStore(2);
    for (const p of [10000, 10100, 9900, 500000]) store.addOrder(0, p, p / 100);
    store.addOrder(0, 10050, 5); // $1.005
    expect(levelsOf(store, 0)).to.deep.equal([[500000, 5000, 1], [10100, 101, 1], [10050, 5, 1], [10000, 100, 1], [9900, 99, 1]]);
    expect(store.sharesAtPrice(0, 10050)).to.equal(5);
    expect(store.sharesAtPrice(0, 10051)).to.equal(0);
    expect(store.reduce(0, 10051, 1, true)).to.equal(false);
    expect(store.reduce(0, 500000, 5000, true)).to.equal(true);
    expect([store.bestPrice(0), store.bestShares(0), store.bestOrders(0)]).to.deep.equal([10100, 101, 1]);
  });

  it('starts an emptied side over at a price far away, with the new price\'s tick', () => {
    const store = new LevelStore(2);
    store.addOrder(0, 12345, 1);
    expect(store.reduce(0, 12345, 1, true)).to.equal(true);
    expect([store.count(0), store.bestPrice(0), store.bestShares(0), store.bestOrders(0)]).to.deep.equal([0, 0, 0, 0]);
    store.addOrder(0, 77700, 4);
    store.addOrder(0, 77700 - 100 * (kLadderSlots + 5), 6);
    expect(levelsOf(store, 0)).to.deep.equal([[77700, 4, 1], [77700 - 100 * (kLadderSlots + 5), 6, 1]]);
    expect(store.deepCount(0)).to.equal(1);
  });

  it('a best that walks down the ladder brings the deep levels back before adds land below it', () => {
    const store = new LevelStore(2);
    // 200 cent levels: the ladder holds the top ones, the rest are deep.
    for (let c = 0; c < 200; c++) store.addOrder(0, 1000000 - c * 100, 1);
    expect(store.deepCount(0)).to.be.greaterThan(100);
    // Remove from the top: the best falls through the ladder, the deep part refills it.
    for (let c = 0; c < 150; c++) {
      expect(store.reduce(0, 1000000 - c * 100, 1, true)).to.equal(true);
      expect(store.bestPrice(0)).to.equal(1000000 - (c + 1) * 100);
      // Contiguous cents: a quarter of the ladder at least stays below the best.
      expect(store.count(0) - store.deepCount(0)).to.be.at.least(kLadderSlots / 4);
    }
    expect(store.count(0)).to.equal(50);
    const deep = store.deepCount(0);
    store.addOrder(0, 1000000 - 151 * 100, 9); // just below the best: a ladder level
    expect([store.count(0), store.deepCount(0), store.touchedTop]).to.deep.equal([50, deep, false]);
    expect(levelsOf(store, 0).map((l) => l[0])).to.deep.equal(Array.from({ length: 50 }, (_, i) => 1000000 - (150 + i) * 100));
  });

  it("{ tick: 'gcd' }: a side's tick becomes the gcd of its prices (MOEX 0.0025 at 5 decimals), so its levels stay on the ladder", () => {
    const store = new LevelStore(2, 1 << 12, { tick: 'gcd' });
    // 60.00000, 60.00250, then 60.00025: the tick goes 6000000 -> 250 -> 25; 39 levels over 40 ticks fit the ladder.
    store.addOrder(0, 6000000, 1);
    store.addOrder(0, 6000250, 2);
    store.addOrder(0, 6000025, 3);
    for (let k = 2; k < 40; k++) if (k !== 10) store.addOrder(0, 6000250 - k * 25, 4);
    expect([store.count(0), store.deepCount(0), store.bestPrice(0), store.bestShares(0)]).to.deep.equal([39, 0, 6000250, 2]);
    // The same prices with the cent-or-1 tick: tick 100 from the first, 1 after 6000250 is off it;
    // 64 slots of 1 unit hold at most 3 of the levels, the rest are deep.
    const cents = new LevelStore(2);
    cents.addOrder(0, 6000000, 1); cents.addOrder(0, 6000250, 2); cents.addOrder(0, 6000025, 3);
    for (let k = 2; k < 40; k++) if (k !== 10) cents.addOrder(0, 6000250 - k * 25, 4);
    expect(cents.deepCount(0)).to.be.greaterThan(30);
    expect(levelsOf(store, 0)).to.deep.equal(levelsOf(cents, 0));
    // A zero price (gcd 0) keeps a tick of 1, not a division by zero.
    const zero = new LevelStore(2, 1 << 12, { tick: 'gcd' });
    zero.addOrder(1, 0, 5); zero.addOrder(1, 7, 1);
    expect(levelsOf(zero, 1)).to.deep.equal([[0, 5, 1], [7, 1, 1]]);
  });

  it("reduceAt's in-line cases (the hint holds; the level keeps orders, or loses its last one below the best) leave the store as the full path does", () => {
    const store = new LevelStore(2);
    store.addOrder(0, 100000, 10); // best
    store.addOrder(0, 99900, 20);
    const hint = store.placedHint;
    store.addOrder(0, 99800, 30);
    // The 9.99 level's last order, below the best: gone from the count, the bitmap walk and sharesAtPrice; the best and quote stay.
    expect(store.reduceAt(0, 99900, hint, 20, true)).to.equal(true);
    expect(store.touchedTop).to.equal(false);
    expect([store.count(0), store.bestPrice(0), store.bestShares(0), store.sharesAtPrice(0, 99900)]).to.deep.equal([2, 100000, 10, 0]);
    expect(levelsOf(store, 0)).to.deep.equal([[100000, 10, 1], [99800, 30, 1]]);
    // The same hint again names an empty slot: no level, nothing changed.
    expect(store.reduceAt(0, 99900, hint, 1, true)).to.equal(false);
    expect(levelsOf(store, 0)).to.deep.equal([[100000, 10, 1], [99800, 30, 1]]);
    // The level comes back in the same slot.
    store.addOrder(0, 99900, 5);
    expect(store.placedHint).to.equal(hint);
    expect(levelsOf(store, 0)).to.deep.equal([[100000, 10, 1], [99900, 5, 1], [99800, 30, 1]]);
  });

  it('reduceAt with each order\'s hint and with none (0: every case from the start) give the same store after every step (fast-check, gcd ticks)', () => {
    const price = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 120 }).map((k) => 6000000 + k * 25), weight: 12 }, { arbitrary: fc.integer({ min: 5999000, max: 6004000 }), weight: 1 });
    const op = fc.tuple(fc.integer({ min: 0, max: 9 }), price, fc.integer({ min: 1, max: 1000 }));
    fc.assert(fc.property(fc.boolean(), fc.array(op, { maxLength: 300 }), (bid, ops) => {
      const hinted = new LevelStore(4, 1 << 12, { tick: 'gcd' });
      const plain = new LevelStore(4, 1 << 12, { tick: 'gcd' });
      const side = bid ? 2 : 3;
      const orders: { price: number; shares: number; hint: number }[] = [];
      for (const [kind, p, shares] of ops) {
        if (kind < 5 || orders.length === 0) {
          hinted.addOrder(side, p, shares);
          plain.addOrder(side, p, shares);
          orders.push({ price: p, shares, hint: hinted.placedHint });
        } else {
          const i = shares % orders.length;
          const o = orders[i];
          const whole = kind >= 7;
          const take = whole ? o.shares : Math.min(o.shares - 1, 1 + (p % 7));
          expect(hinted.reduceAt(side, o.price, o.hint, take, whole)).to.equal(plain.reduceAt(side, o.price, 0, take, whole));
          expect(hinted.touchedTop).to.equal(plain.touchedTop);
          if (whole) orders.splice(i, 1); else o.shares -= take;
        }
        expect([hinted.count(side), hinted.bestPrice(side), hinted.bestShares(side)]).to.deep.equal([plain.count(side), plain.bestPrice(side), plain.bestShares(side)]);
      }
      expect(levelsOf(hinted, side)).to.deep.equal(levelsOf(plain, side));
    }), { numRuns: 200 });
  });

  /**
   * A resting order's modify as the FAST adapter's change path makes it (reduceOrderEntry): at the
   * same price its level's shares change by a reduction (negative to grow); at a new price it leaves
   * its level through its hint and joins the new price's. touchedTop: either level was the best.
   */
  const move = (store: LevelStore, side: number, oldPrice: number, hint: number, oldShares: number, newPrice: number, newShares: number): boolean => {
    if (newPrice === oldPrice) {
      store.placedHint = hint;
      return store.reduceAt(side, oldPrice, hint, oldShares - newShares, false);
    }
    const found = store.reduceAt(side, oldPrice, hint, oldShares, true);
    const top = store.touchedTop;
    store.addOrder(side, newPrice, newShares);
    if (top) store.touchedTop = true;
    return found;
  };

  it('a modify (reduceAt, then addOrder at a new price): orders that keep their hints through price and size changes, re-centres and re-ticks match a sorted-map model (fast-check, gcd ticks)', () => {
    // Prices 25 apart over 300 ticks (the ladder holds 64) and a few off the tick: re-centres and
    // re-ticks leave the hints the orders hold stale, which must cost a division, never the wrong level.
    const price = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 300 }).map((k) => 6000000 + k * 25), weight: 12 }, { arbitrary: fc.integer({ min: 5995000, max: 6010000 }), weight: 1 });
    const op = fc.tuple(fc.integer({ min: 0, max: 9 }), price, fc.integer({ min: 1, max: 1000 }));
    fc.assert(fc.property(fc.boolean(), fc.array(op, { maxLength: 300 }), (bid, ops) => {
      const store = new LevelStore(4, 1 << 12, { tick: 'gcd' });
      const side = bid ? 2 : 3;
      const orders: { price: number; shares: number; hint: number }[] = [];
      const model = (): number[][] => {
        const m = new Map<number, Level>();
        for (const o of orders) { const l = m.get(o.price); m.set(o.price, { shares: (l?.shares ?? 0) + o.shares, orders: (l?.orders ?? 0) + 1 }); }
        return modelLevels(m, bid);
      };
      for (const [kind, p, shares] of ops) {
        const before = [store.bestPrice(side), store.bestShares(side)];
        if (kind < 4 || orders.length === 0) {
          store.addOrder(side, p, shares);
          orders.push({ price: p, shares, hint: store.placedHint });
        } else {
          const i = shares % orders.length;
          const o = orders[i];
          if (kind < 6) {
            expect(store.reduceAt(side, o.price, o.hint, o.shares, true)).to.equal(true);
            orders.splice(i, 1);
          } else {
            const to = kind < 8 ? p : o.price; // a move, or a size change in place
            expect(move(store, side, o.price, o.hint, o.shares, to, 1 + (shares % 97))).to.equal(true);
            orders[i] = { price: to, shares: 1 + (shares % 97), hint: store.placedHint };
          }
        }
        const want = model();
        const best = want.length > 0 ? [want[0][0], want[0][1]] : [0, 0];
        expect([store.bestPrice(side), store.bestShares(side)]).to.deep.equal(best);
        if (!store.touchedTop) expect(best, 'a change below the top left the best alone').to.deep.equal(before);
      }
      expect(levelsOf(store, side)).to.deep.equal(model());
    }), { numRuns: 200 });
  });

  for (const [name, priceArb, tick] of [
    ['cent prices over a range wider than the ladder', fc.integer({ min: 1, max: 400 }).map((c) => c * 100), 'cent'],
    ['cent and sub-penny prices mixed', fc.oneof(fc.integer({ min: 1, max: 300 }).map((c) => c * 100), fc.integer({ min: 1, max: 30000 })), 'cent'],
    ['prices near the top of Price(4)', fc.integer({ min: 0, max: 150 }).map((c) => 0xffffffff - 95 - c * 100), 'cent'],
    ["gcd ticks: MOEX-like prices 25 apart over a range wider than the ladder, a few off the tick",
      fc.oneof({ arbitrary: fc.integer({ min: 0, max: 200 }).map((k) => 6000000 + k * 25), weight: 9 }, { arbitrary: fc.integer({ min: 5990000, max: 6010000 }), weight: 1 }), 'gcd'],
    ["gcd ticks: cent and sub-penny prices mixed", fc.oneof(fc.integer({ min: 1, max: 300 }).map((c) => c * 100), fc.integer({ min: 1, max: 30000 })), 'gcd'],
  ] as const) {
    it(`matches a sorted-map model, best and touchedTop included: ${name} (fast-check, tick ${tick})`, () => {
      const op = fc.tuple(fc.integer({ min: 0, max: 9 }), priceArb, fc.integer({ min: 1, max: 1000 }));
      fc.assert(fc.property(fc.boolean(), fc.array(op, { maxLength: 400 }), (bid, ops) => {
        const store = new LevelStore(4, 1 << 12, { tick });
        const side = bid ? 2 : 3;
        const model = new Map<number, Level>();
        const live: number[] = [];
        for (const [kind, price, shares] of ops) {
          const before = [store.bestPrice(side), store.bestShares(side)];
          if (kind < 5 || live.length === 0) {
            store.addOrder(side, price, shares);
            const m = model.get(price);
            model.set(price, { shares: (m?.shares ?? 0) + shares, orders: (m?.orders ?? 0) + 1 });
            live.push(price);
          } else {
            // Reduce a resting price (chosen by `shares`), whole order or part of it.
            const p = live[shares % live.length];
            const m = model.get(p)!;
            const take = Math.min(m.shares, 1 + (price % 7));
            const whole = kind >= 8;
            expect(store.reduce(side, p, take, whole)).to.equal(true);
            if (whole && m.orders === 1) model.delete(p); else model.set(p, { shares: m.shares - take, orders: m.orders - (whole ? 1 : 0) });
            if (whole) live.splice(live.indexOf(p), 1);
          }
          const want = modelLevels(model, bid);
          const best = want.length > 0 ? [want[0][0], want[0][1]] : [0, 0];
          expect([store.bestPrice(side), store.bestShares(side)]).to.deep.equal(best);
          if (!store.touchedTop) expect(best, 'a change below the top left the best alone').to.deep.equal(before);
        }
        expect(levelsOf(store, side)).to.deep.equal(modelLevels(model, bid));
        expect(store.count(side ^ 1)).to.equal(0);
        for (const [p, l] of model) expect(store.sharesAtPrice(side, p)).to.equal(l.shares);
        expect(store.reduce(side, 123457, 1, true)).to.equal(model.has(123457));
      }), { numRuns: 300 });
    });
  }
});
