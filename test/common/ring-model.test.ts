import { expect } from 'chai';
import * as fc from 'fast-check';
import { SpscRing } from '../../lib/common/spsc-ring';
import { FrameRing } from '../../lib/common/frame-ring';

// Model-based property tests: random interleavings of claim/publish/read against a plain array
// queue. They cover orders of operations the two-thread tests reach only by luck.

type Op = { kind: 'claim'; n: number } | { kind: 'publish' } | { kind: 'read'; limit: number };

const opArb = (maxN: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ kind: fc.constant('claim' as const), n: fc.integer({ min: 1, max: maxN }) }),
    fc.record({ kind: fc.constant('publish' as const) }),
    fc.record({ kind: fc.constant('read' as const), limit: fc.integer({ min: 1, max: maxN }) }),
  );

describe('ring model properties', () => {
  it('SpscRing behaves like a bounded FIFO for any sequence of claims, publishes and reads', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).map((b) => 1 << b),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.array(opArb(12), { maxLength: 200 }),
        (capacity, start, ops) => {
          const ring = SpscRing.create({ capacity, recordBytes: 8, startPosition: start });
          const published: number[] = [];
          let claimed: number[] = [];
          let next = 0;
          for (const op of ops) {
            if (op.kind === 'claim') {
              const free = capacity - published.length - claimed.length;
              const got = ring.tryClaim(op.n);
              expect(got).to.equal(Math.min(op.n, free));
              for (let i = 0; i < got; i++) {
                ring.i32[ring.offsetOfClaimed(i) >> 2] = next;
                claimed.push(next++);
              }
            } else if (op.kind === 'publish') {
              ring.publish();
              published.push(...claimed);
              claimed = [];
            } else {
              const seen: number[] = [];
              const ends: boolean[] = [];
              const n = ring.read((off, end) => {
                seen.push(ring.i32[off >> 2]);
                ends.push(end);
              }, op.limit);
              // The consumer may lag behind publications it has not re-read yet, but never
              // delivers anything unpublished or out of order.
              expect(n).to.be.at.most(Math.min(op.limit, published.length));
              expect(seen).to.deep.equal(published.slice(0, n));
              if (n > 0) expect(ends.lastIndexOf(true)).to.equal(n - 1);
              expect(ends.filter((e) => e)).to.have.length(n > 0 ? 1 : 0);
              // An empty read means nothing was published (the cache is refreshed on empty).
              if (n === 0) expect(published.length).to.equal(0);
              published.splice(0, n);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('FrameRing delivers every published frame intact and in order, whatever the lengths and wraps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 9 }).map((b) => 1 << b),
        fc.integer({ min: 0, max: 2 ** 29 - 1 }).map((x) => x * 8),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('claim' as const), n: fc.integer({ min: 0, max: 200 }) }),
            fc.record({ kind: fc.constant('publish' as const) }),
            fc.record({ kind: fc.constant('read' as const), limit: fc.integer({ min: 1, max: 8 }) }),
          ),
          { maxLength: 200 },
        ),
        (capacity, start, ops) => {
          const ring = FrameRing.create({ capacity, startPosition: start });
          const published: number[][] = [];
          let claimed: number[][] = [];
          let next = 0;
          for (const op of ops) {
            if (op.kind === 'claim') {
              const length = op.n % (ring.maxFrameLength + 1);
              const off = ring.tryClaim(length);
              if (off < 0) {
                // Refused only when the unconsumed bytes leave too little room.
                expect(published.length + claimed.length).to.be.greaterThan(0);
                continue;
              }
              const bytes = Array.from({ length }, (_, j) => (next * 7 + j) & 0xff);
              ring.u8.set(bytes, off);
              claimed.push(bytes);
              next++;
            } else if (op.kind === 'publish') {
              ring.publish();
              published.push(...claimed);
              claimed = [];
            } else {
              const seen: number[][] = [];
              const n = ring.read((off, len) => seen.push(Array.from(ring.u8.subarray(off, off + len))), op.limit);
              expect(seen).to.deep.equal(published.slice(0, n));
              if (n === 0) expect(published.length).to.equal(0);
              published.splice(0, n);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
