import { expect } from 'chai';
import { MemoryPool } from '../../lib/common/memory-pool';
import { TickpathError } from '../../lib/errors';

describe('MemoryPool', () => {
  it('hands out every slot once, then -1 and counts each exhausted alloc', () => {
    const pool = new MemoryPool({ slotBytes: 60, slotCount: 4 });
    expect(pool.slotBytes).to.equal(64);
    const slots = [pool.alloc(), pool.alloc(), pool.alloc(), pool.alloc()];
    expect(slots).to.deep.equal([0, 1, 2, 3]);
    expect(pool.available).to.equal(0);
    expect(pool.alloc()).to.equal(-1);
    expect(pool.alloc()).to.equal(-1);
    expect(pool.exhaustedCount).to.equal(2);
    expect(pool.inUse).to.equal(4);
  });

  it('reuses the most recently freed slot first and keeps slots disjoint', () => {
    const pool = new MemoryPool({ slotBytes: 16, slotCount: 3 });
    const a = pool.alloc();
    const b = pool.alloc();
    pool.u8.fill(0xaa, pool.offsetOf(a), pool.offsetOf(a) + pool.slotBytes);
    pool.u8.fill(0xbb, pool.offsetOf(b), pool.offsetOf(b) + pool.slotBytes);
    expect(pool.offsetOf(b) - pool.offsetOf(a)).to.equal(16);
    expect(pool.u8[pool.offsetOf(a) + 15]).to.equal(0xaa);
    pool.free(a);
    expect(pool.isAllocated(a)).to.equal(false);
    expect(pool.alloc()).to.equal(a);
    expect(pool.available).to.equal(1);
  });

  it('detects a double free and a slot out of range', () => {
    const pool = new MemoryPool({ slotBytes: 8, slotCount: 2 });
    const a = pool.alloc();
    pool.free(a);
    expect(() => pool.free(a))
      .to.throw(TickpathError, 'MemoryPool.free: slot 0 is not allocated (double free?)')
      .with.property('code', 'ERR_DOUBLE_FREE');
    expect(() => pool.free(1)).to.throw(TickpathError).with.property('code', 'ERR_DOUBLE_FREE');
    expect(() => pool.free(2))
      .to.throw(TickpathError, 'MemoryPool.free: slot 2 is outside [0, 1]')
      .with.property('code', 'ERR_BAD_SLOT');
    expect(pool.available).to.equal(2);
  });

  it('survives random alloc/free sequences without handing out a slot twice', () => {
    const pool = new MemoryPool({ slotBytes: 8, slotCount: 32 });
    const held = new Set<number>();
    let seed = 12345;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      if (seed % 3 !== 0) {
        const s = pool.alloc();
        if (held.size === 32) expect(s).to.equal(-1);
        else {
          expect(held.has(s)).to.equal(false);
          held.add(s);
        }
      } else if (held.size > 0) {
        const s = held.values().next().value as number;
        held.delete(s);
        pool.free(s);
      }
      expect(pool.inUse).to.equal(held.size);
    }
  });

  it('can live in a SharedArrayBuffer', () => {
    expect(new MemoryPool({ slotBytes: 8, slotCount: 2, shared: true }).buffer).to.be.instanceOf(SharedArrayBuffer);
    expect(new MemoryPool({ slotBytes: 8, slotCount: 2 }).buffer).to.be.instanceOf(ArrayBuffer);
  });

  it('validates its options with exact messages', () => {
    expect(() => new MemoryPool({ slotBytes: 0, slotCount: 1 })).to.throw(
      "MemoryPool: option 'slotBytes' is 0, expected an integer >= 1",
    );
    expect(() => new MemoryPool({ slotBytes: 8, slotCount: 1.5 })).to.throw(
      "MemoryPool: option 'slotCount' is 1.5, expected an integer in [1, 2147483647]",
    );
  });
});
