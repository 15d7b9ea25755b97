import { expect } from 'chai';
import { FrameRing, kFrameHeaderBytes } from '../../lib/common/frame-ring';
import { TickpathError } from '../../lib/errors';
import { runPair } from './helpers/run-pair';

function put(ring: FrameRing, bytes: number[]): boolean {
  const off = ring.tryClaim(bytes.length);
  if (off < 0) return false;
  ring.u8.set(bytes, off);
  return true;
}

function take(ring: FrameRing, limit = 100): { frames: number[][]; ends: boolean[] } {
  const frames: number[][] = [];
  const ends: boolean[] = [];
  ring.read((off, len, end) => {
    frames.push(Array.from(ring.u8.subarray(off, off + len)));
    ends.push(end);
  }, limit);
  return { frames, ends };
}

describe('FrameRing', () => {
  it('carries frames of different lengths, zero included, in order', () => {
    const ring = FrameRing.create({ capacity: 256 });
    expect(put(ring, [1, 2, 3])).to.equal(true);
    expect(put(ring, [])).to.equal(true);
    expect(put(ring, [9, 8, 7, 6, 5, 4, 3, 2, 1])).to.equal(true);
    ring.publish();
    const { frames, ends } = take(ring);
    expect(frames).to.deep.equal([[1, 2, 3], [], [9, 8, 7, 6, 5, 4, 3, 2, 1]]);
    expect(ends).to.deep.equal([false, false, true]);
    expect(ring.size()).to.equal(0);
  });

  it('pads to the end instead of splitting a frame across the wrap', () => {
    const ring = FrameRing.create({ capacity: 64 });
    // 24 + 24 bytes used; the next 24-byte record does not fit in the 16 left before the end.
    expect(put(ring, new Array(16).fill(1))).to.equal(true);
    expect(put(ring, new Array(16).fill(2))).to.equal(true);
    ring.publish();
    expect(take(ring).frames).to.have.length(2);
    expect(put(ring, new Array(16).fill(3))).to.equal(true);
    ring.publish();
    // 16 bytes of padding plus the 24-byte frame at byte 0.
    expect(ring.size()).to.equal(16 + 24);
    const got = take(ring);
    expect(got.frames).to.deep.equal([new Array(16).fill(3)]);
    expect(got.ends).to.deep.equal([true]);
  });

  it('skips padding inside a batch: endOfBatch stays on the last real frame', () => {
    const ring = FrameRing.create({ capacity: 64 });
    expect(put(ring, new Array(16).fill(1))).to.equal(true);
    ring.publish();
    take(ring);
    // Frame A at 24..48; frame B does not fit in the 16 bytes left: padding 48..64, B at 0..24.
    expect(put(ring, new Array(16).fill(2))).to.equal(true);
    expect(put(ring, new Array(16).fill(3))).to.equal(true);
    ring.publish();
    const got = take(ring);
    expect(got.frames).to.deep.equal([new Array(16).fill(2), new Array(16).fill(3)]);
    expect(got.ends).to.deep.equal([false, true]);
    expect(ring.size()).to.equal(0);
  });

  it('refuses a frame when full and accepts it once the consumer has moved on', () => {
    const ring = FrameRing.create({ capacity: 64 });
    expect(put(ring, new Array(24).fill(1))).to.equal(true); // 32 bytes
    expect(put(ring, new Array(24).fill(2))).to.equal(true); // 32 bytes: full
    expect(put(ring, [7])).to.equal(false);
    ring.publish();
    expect(take(ring, 1).frames).to.deep.equal([new Array(24).fill(1)]);
    expect(put(ring, [7])).to.equal(true);
    ring.publish();
    // The consumer drains up to the producer position it cached, then re-reads it when empty.
    expect(take(ring).frames).to.deep.equal([new Array(24).fill(2)]);
    expect(take(ring).frames).to.deep.equal([[7]]);
  });

  it('rejects frames longer than half the ring with ERR_FRAME_TOO_LONG', () => {
    const ring = FrameRing.create({ capacity: 64 });
    expect(ring.maxFrameLength).to.equal(32 - kFrameHeaderBytes);
    expect(() => ring.tryClaim(25))
      .to.throw(TickpathError, 'FrameRing.tryClaim: length 25 is outside [0, 24]')
      .with.property('code', 'ERR_FRAME_TOO_LONG');
  });

  it('validates its options with exact messages', () => {
    expect(() => FrameRing.create({ capacity: 32 })).to.throw(
      "FrameRing.create: option 'capacity' is 32, expected a power of two in [64, 1073741824]",
    );
    expect(() => FrameRing.create({ capacity: 64, startPosition: 4 })).to.throw(
      "FrameRing.create: option 'startPosition' is 4, expected a multiple of 8 in [0, 4294967288]",
    );
  });

  it('moves 400,000 random-length frames between two worker threads, every byte checked, across the 2**32 wrap', async function () {
    this.timeout(60_000);
    const count = 400_000;
    const ring = FrameRing.create({ capacity: 4096, startPosition: 2 ** 32 - (1 << 24) });
    const common = { sab: ring.sab, count, seed: 0xbadf00d, maxBatch: 16, stallEvery: 50_000, maxFrameLength: 300 };
    const [producer, consumer] = await runPair(
      { ...common, role: 'frame-producer' },
      { ...common, role: 'frame-consumer' },
    );
    expect(consumer.error).to.equal(null);
    expect(producer.processed).to.equal(count);
    expect(consumer.processed).to.equal(count);
    expect(producer.edgeTurns, 'producer found the ring full').to.be.greaterThan(0);
    expect(consumer.edgeTurns, 'consumer found the ring empty').to.be.greaterThan(0);
  });
});
