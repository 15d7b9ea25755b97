import { expect } from 'chai';
import * as fc from 'fast-check';
import { OrderStore } from '../../lib/feed/book/order-store';

describe('OrderStore', () => {
  it('behaves like a Map under random insert/find/remove, growth included, for any u64-derived key (fast-check)', () => {
    // Keys as readU64 produces them: hi * 2^32 + lo, inexact above 2^53, clustered small ones too.
    const key = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })).map(([hi, lo]) => hi * 4294967296 + lo));
    const op = fc.tuple(fc.integer({ min: 0, max: 2 }), key, fc.integer({ min: 0, max: 0xffffffff }));
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const store = new OrderStore(16);
      const model = new Map<number, number>();
      for (const [kind, k, shares] of ops) {
        if (kind === 0) {
          const slot = store.insert(k, k % 65536, shares & 1 ? 0x42 : 0x53, 100, shares);
          expect(slot < 0, `insert ${k}`).to.equal(model.has(k));
          if (!model.has(k)) model.set(k, shares);
        } else if (kind === 1) {
          const slot = store.find(k);
          if (slot >= 0) { store.remove(slot); model.delete(k); } else expect(model.has(k)).to.equal(false);
        }
        for (const [mk, ms] of model) {
          const slot = store.find(mk);
          expect(slot, `find ${mk}`).to.be.at.least(0);
          expect([store.keyAt(slot), store.shares(slot), store.locate(slot), store.price(slot)]).to.deep.equal([mk, ms, mk % 65536, 100]);
          expect(store.side(slot)).to.equal(ms & 1 ? 0x42 : 0x53);
        }
        expect(store.size).to.equal(model.size);
      }
      let visited = 0;
      store.forEach(() => { visited++; });
      expect(visited).to.equal(model.size);
    }), { numRuns: 200 });
  });

  it('updates shares in place', () => {
    const s = new OrderStore();
    const slot = s.insert(42, 7, 0x42, 805200, 100);
    s.setShares(slot, 60);
    expect(s.shares(s.find(42))).to.equal(60);
    expect(s.insert(42, 7, 0x42, 1, 1)).to.equal(-1);
    s.clear();
    expect([s.size, s.find(42)]).to.deep.equal([0, -1]);
  });
});
