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

describe('OrderStore against a Map (differential)', () => {
  type Rec = { locate: number; side: number; price: number; shares: number };

  /** Apply ops to the store and to a Map; after each op both must agree on every key touched so far. */
  function replay(store: OrderStore, ops: [number, number, number][]): void {
    const model = new Map<number, Rec>();
    const seen = new Set<number>();
    for (const [kind, ref, v] of ops) {
      seen.add(ref);
      const slot = store.find(ref);
      expect(slot >= 0, `find ${ref}`).to.equal(model.has(ref));
      if (kind <= 3) {
        const rec = { locate: v % 65536, side: v & 1 ? 0x42 : 0x53, price: (v * 7) >>> 0, shares: 1 + (v % 100000) };
        const got = store.insert(ref, rec.locate, rec.side, rec.price, rec.shares);
        expect(got < 0, `insert ${ref}`).to.equal(model.has(ref));
        if (!model.has(ref)) model.set(ref, rec);
      } else if (kind <= 5) {
        if (slot >= 0) { store.remove(slot); model.delete(ref); }
      } else if (slot >= 0) {
        const shares = 1 + (v % 1000);
        store.setShares(slot, shares);
        model.get(ref)!.shares = shares;
      }
      expect(store.size).to.equal(model.size);
    }
    for (const ref of seen) {
      const slot = store.find(ref);
      const want = model.get(ref);
      if (!want) { expect(slot, `gone ${ref}`).to.equal(-1); continue; }
      expect(slot, `kept ${ref}`).to.be.at.least(0);
      expect({ ref: store.keyAt(slot), locate: store.locate(slot), side: store.side(slot), price: store.price(slot), shares: store.shares(slot) })
        .to.deep.equal({ ref, ...want });
    }
    const visited = new Map<number, Rec>();
    store.forEach((ref, locate, side, price, shares) => { expect(visited.has(ref)).to.equal(false); visited.set(ref, { locate, side, price, shares }); });
    expect(visited).to.deep.equal(model);
  }

  // Keys: mostly a slowly advancing sequence (the exchange's numbering) with jitter, plus reuse of
  // recent keys after delete, keys far behind, far ahead, and u64-derived ones above 2^53.
  const sequential = fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: -40, max: 40 }), fc.nat(), fc.integer({ min: 0, max: 19 })), { maxLength: 600 })
    .map((steps) => {
      let next = 1000;
      return steps.map(([kind, jitter, v, shape]): [number, number, number] => {
        let ref: number;
        if (shape === 0) ref = v % 64; // far behind
        else if (shape === 1) ref = next + 5000 + (v % 100000); // far ahead
        else if (shape === 2) ref = (v % 0xffffffff) * 4294967296 + (v >>> 3); // huge, inexact above 2^53
        else { ref = Math.max(0, next + jitter); if (kind <= 3 && jitter > 0) next += 1 + (v % 3); }
        return [kind, ref, v];
      });
    });

  for (const layout of [{ pageBits: 2, windowPages: 4 }, { pageBits: 3, windowPages: 8 }, { pageBits: 1, windowPages: 2 }, {}]) {
    it(`agrees with a Map on random ops, layout ${JSON.stringify(layout)} (window moves, pages evicted and recycled)`, () => {
      fc.assert(fc.property(sequential, (ops) => { replay(new OrderStore(4, layout), ops); }), { numRuns: 150 });
    });
  }

  it('agrees with a Map when a reference is deleted and added again, behind and ahead of the window', () => {
    const store = new OrderStore(4, { pageBits: 2, windowPages: 4 });
    const ops: [number, number, number][] = [];
    for (let i = 0; i < 4000; i++) {
      const ref = 1 + i;
      ops.push([0, ref, i]);
      if (i % 3 === 0) ops.push([4, ref - 2 > 0 ? ref - 2 : ref, i]);
      if (i % 7 === 0) ops.push([0, ref - 2 > 0 ? ref - 2 : ref, i + 1]); // reuse after delete
      if (i % 97 === 0) ops.push([0, ref + 100, i]); // ahead of the window: parked, adopted later
      if (i % 89 === 0) ops.push([0, 10 + (i % 50), i]); // far behind
    }
    replay(store, ops);
    expect(store.overflowSize).to.be.greaterThan(0);
  });

  // Real captures sampled over a day: references scattered over a span far wider than the window,
  // jumping back and forth, most of them far orders; some deleted and added again, some duplicated.
  const scattered = fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 40_000_000 }), fc.nat()), { maxLength: 500 })
    .map((steps) => {
      const used: number[] = [];
      return steps.map(([kind, ref, v]): [number, number, number] => {
        const r = used.length > 0 && v % 3 === 0 ? used[v % used.length] : ref; // revisit a reference already seen
        used.push(r);
        return [kind, r, v];
      });
    });

  it('agrees with a Map on references scattered far outside the window (captures sampled over a day)', () => {
    fc.assert(fc.property(scattered, (ops) => { replay(new OrderStore(8, { pageBits: 4, windowPages: 16 }), ops); }), { numRuns: 150 });
    fc.assert(fc.property(scattered, (ops) => { replay(new OrderStore(), ops); }), { numRuns: 50 });
  });

  it('a duplicate far reference is refused without taking a record', () => {
    const store = new OrderStore(4, { pageBits: 2, windowPages: 4 });
    store.insert(1_000_000, 1, 0x42, 100, 10); // installs the window here
    expect(store.insert(5, 2, 0x53, 200, 20)).to.be.at.least(0); // far behind: a far order
    const bytes = store.bytes;
    for (let i = 0; i < 100; i++) expect(store.insert(5, 3, 0x42, 300, 30)).to.equal(-1);
    expect([store.size, store.overflowSize, store.bytes]).to.deep.equal([2, 1, bytes]);
    const slot = store.find(5);
    expect([store.locate(slot), store.side(slot), store.price(slot), store.shares(slot)]).to.deep.equal([2, 0x53, 200, 20]);
  });

  it('keeps the level hint beside locate and side in the 12-byte record: full ranges, through eviction to the overflow table and a free record reused', () => {
    const store = new OrderStore(16, { pageBits: 2, windowPages: 2 });
    const meta = (locate: number, side: number, hint: number) => hint * 16777216 + locate * 256 + side;
    const a = store.insert(1, 65535, 0x53, 0xffffffff, 0xffffffff);
    const b = store.insert(2, 0, 0x42, 0, 1);
    store.setHint(a, 127);
    store.setHint(b, 1);
    expect([store.meta(a), store.locate(a), store.side(a), store.price(a), store.shares(a)]).to.deep.equal([meta(65535, 0x53, 127), 65535, 0x53, 0xffffffff, 0xffffffff]);
    expect([store.meta(b), store.locate(b), store.side(b)]).to.deep.equal([meta(0, 0x42, 1), 0, 0x42]);
    store.setHint(a, 0);
    expect(store.meta(a)).to.equal(meta(65535, 0x53, 0));
    store.setHint(a, 64);
    // The window moves on: references 1 and 2 are evicted to the overflow table with their words.
    for (let ref = 3; ref < 40; ref++) store.remove(store.insert(ref, 7, 0x42, 5, 5));
    expect(store.overflowSize).to.equal(2);
    const a2 = store.find(1);
    expect([store.meta(a2), store.price(a2), store.shares(a2), store.keyAt(a2)]).to.deep.equal([meta(65535, 0x53, 64), 0xffffffff, 0xffffffff, 1]);
    // A freed overflow record is linked through its shares word; reused, it holds only the new order.
    store.remove(a2);
    const c = store.insert(3, 9, 0x42, 77, 88);
    expect(c).to.equal(a2);
    expect([store.meta(c), store.price(c), store.shares(c), store.keyAt(c)]).to.deep.equal([meta(9, 0x42, 0), 77, 88, 3]);
    expect([store.find(1), store.size, store.meta(store.find(2))]).to.deep.equal([-1, 2, meta(0, 0x42, 1)]);
  });

  it('recycles pages: a day of sequential references with short lives keeps a few pages', () => {
    const store = new OrderStore(1024);
    const live: number[] = [];
    for (let ref = 1; ref <= 2_000_000; ref++) {
      store.insert(ref, 1, 0x42, 100, 100);
      live.push(ref);
      if (live.length > 5000) store.remove(store.find(live.shift()!));
    }
    expect(store.size).to.equal(5000);
    expect(store.pagesInUse).to.be.at.most(8);
    expect(store.overflowSize).to.equal(0);
  });
});
