import { expect } from 'chai';
import { SpscRing } from '../../lib/common/spsc-ring';
import { kRingHeaderBytes } from '../../lib/common/ring-layout';
import { TickpathError } from '../../lib/errors';
import { runPair } from './helpers/run-pair';

function drain(ring: SpscRing, limit: number): number[] {
  const seen: number[] = [];
  ring.read((off) => seen.push(ring.i32[off >> 2]), limit);
  return seen;
}

describe('SpscRing', () => {
  it('claims up to capacity, reports full with 0, and hands records back in order', () => {
    const ring = SpscRing.create({ capacity: 8, recordBytes: 16 });
    expect(ring.tryClaim(5)).to.equal(5);
    for (let i = 0; i < 5; i++) ring.i32[ring.offsetOfClaimed(i) >> 2] = i;
    // A partial grant when fewer slots are free than asked.
    expect(ring.tryClaim(5)).to.equal(3);
    for (let i = 0; i < 3; i++) ring.i32[ring.offsetOfClaimed(i) >> 2] = 5 + i;
    expect(ring.tryClaim(1)).to.equal(0);
    // Nothing is visible before publish().
    expect(drain(ring, 100)).to.deep.equal([]);
    ring.publish();
    expect(ring.size()).to.equal(8);
    expect(drain(ring, 3)).to.deep.equal([0, 1, 2]);
    expect(drain(ring, 100)).to.deep.equal([3, 4, 5, 6, 7]);
    expect(drain(ring, 100)).to.deep.equal([]);
    expect(ring.size()).to.equal(0);
  });

  it('wraps the index and keeps records 8-byte aligned in the data area', () => {
    const ring = SpscRing.create({ capacity: 4, recordBytes: 24 });
    const offsets: number[] = [];
    for (let round = 0; round < 3; round++) {
      expect(ring.tryClaim(3)).to.equal(3);
      for (let i = 0; i < 3; i++) {
        offsets.push(ring.offsetOfClaimed(i));
        ring.f64[(ring.offsetOfClaimed(i) >> 3) + 1] = round * 10 + i + 0.5;
      }
      ring.publish();
      const got: number[] = [];
      expect(ring.read((off) => got.push(ring.f64[(off >> 3) + 1]), 10)).to.equal(3);
      expect(got).to.deep.equal([round * 10 + 0.5, round * 10 + 1.5, round * 10 + 2.5]);
    }
    expect(offsets.slice(0, 6)).to.deep.equal([0, 1, 2, 3, 0, 1].map((s) => kRingHeaderBytes + s * 24));
    for (const off of offsets) expect(off % 8).to.equal(0);
  });

  it('flags only the last record of each read() as endOfBatch', () => {
    const ring = SpscRing.create({ capacity: 16, recordBytes: 8 });
    expect(ring.tryClaim(10)).to.equal(10);
    ring.publish();
    const flags: boolean[] = [];
    expect(ring.read((_off, end) => flags.push(end), 4)).to.equal(4);
    expect(ring.read((_off, end) => flags.push(end), 100)).to.equal(6);
    expect(flags).to.deep.equal([false, false, false, true, false, false, false, false, false, true]);
  });

  it('publishes its position once per batch: the producer sees the space only after read() returns', () => {
    const ring = SpscRing.create({ capacity: 4, recordBytes: 8 });
    const producer = SpscRing.attach(ring.sab);
    expect(producer.tryClaim(4)).to.equal(4);
    producer.publish();
    const claimsDuringBatch: number[] = [];
    ring.read(() => claimsDuringBatch.push(producer.tryClaim(1)), 4);
    expect(claimsDuringBatch).to.deep.equal([0, 0, 0, 0]);
    expect(producer.tryClaim(4)).to.equal(4);
  });

  it('counts the record whose handler threw as consumed and keeps the rest', () => {
    const ring = SpscRing.create({ capacity: 8, recordBytes: 8 });
    expect(ring.tryClaim(4)).to.equal(4);
    for (let i = 0; i < 4; i++) ring.i32[ring.offsetOfClaimed(i) >> 2] = i;
    ring.publish();
    expect(() =>
      ring.read((off) => {
        if (ring.i32[off >> 2] === 1) throw new Error('poison');
      }, 10),
    ).to.throw('poison');
    expect(drain(ring, 10)).to.deep.equal([2, 3]);
  });

  it('crosses the 32-bit position wrap', () => {
    const ring = SpscRing.create({ capacity: 4, recordBytes: 8, startPosition: 0xfffffffe });
    const seen: number[] = [];
    for (let n = 0; n < 6; n++) {
      expect(ring.tryClaim(1)).to.equal(1);
      ring.i32[ring.offsetOfClaimed(0) >> 2] = n;
      ring.publish();
      seen.push(...drain(ring, 10));
    }
    expect(seen).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(ring.producerPosition).to.equal(4);
    expect(ring.consumerPosition).to.equal(4);
  });

  it('attach() shares the buffer and rejects buffers that are not rings', () => {
    const ring = SpscRing.create({ capacity: 2, recordBytes: 8 });
    const other = SpscRing.attach(ring.sab);
    expect(other.capacity).to.equal(2);
    expect(other.recordBytes).to.equal(8);
    expect(() => SpscRing.attach(new SharedArrayBuffer(256)))
      .to.throw(TickpathError, 'SpscRing.attach: buffer is not an SpscRing (magic 0x0)')
      .with.property('code', 'ERR_RING_ATTACH');
  });

  it('validates its options with exact messages', () => {
    expect(() => SpscRing.create({ capacity: 6, recordBytes: 8 })).to.throw(
      "SpscRing.create: option 'capacity' is 6, expected a power of two in [2, 1073741824]",
    );
    expect(() => SpscRing.create({ capacity: 8, recordBytes: 12 })).to.throw(
      "SpscRing.create: option 'recordBytes' is 12, expected a multiple of 8 >= 8",
    );
    expect(() => SpscRing.create({ capacity: 8, recordBytes: 8, startPosition: -1 })).to.throw(
      "SpscRing.create: option 'startPosition' is -1, expected an integer in [0, 4294967295]",
    );
  });

  it('moves 2,000,000 records between two worker threads in order, across full, empty and the 2**32 wrap', async function () {
    this.timeout(60_000);
    const count = 2_000_000;
    // Start 1M records before the 32-bit wrap so positions cross it halfway through.
    const ring = SpscRing.create({ capacity: 256, recordBytes: 16, startPosition: 2 ** 32 - 1_000_000 });
    const common = { sab: ring.sab, count, seed: 0xc0ffee, maxBatch: 64, stallEvery: 250_000 };
    const [producer, consumer] = await runPair(
      { ...common, role: 'record-producer' },
      { ...common, role: 'record-consumer' },
    );
    expect(consumer.error).to.equal(null);
    expect(producer.processed).to.equal(count);
    expect(consumer.processed).to.equal(count);
    // Both edges were really exercised (each side stalls periodically to force the other onto them).
    expect(producer.edgeTurns, 'producer found the ring full').to.be.greaterThan(0);
    expect(consumer.edgeTurns, 'consumer found the ring empty').to.be.greaterThan(0);
    expect(ring.producerPosition).to.equal((2 ** 32 - 1_000_000 + count) % 2 ** 32);
    expect(ring.consumerPosition).to.equal(ring.producerPosition);
  });
});
