import { expect } from 'chai';
import { LatencyRecorder } from '../../lib/common/latency-recorder';
import { TickpathError } from '../../lib/errors';

describe('LatencyRecorder', () => {
  it('reports exact percentiles for 1..10000 ns within 3 significant digits', () => {
    const r = new LatencyRecorder({ name: 'decode' });
    for (let v = 1; v <= 10_000; v++) r.record(v);
    const s = r.summary();
    expect(s.count).to.equal(10_000);
    expect(s.min).to.equal(1);
    expect(s.p50).to.be.within(4995, 5005);
    expect(s.p90).to.be.within(8990, 9010);
    expect(s.p99).to.be.within(9890, 9910);
    expect(s.p999).to.be.within(9985, 10_005);
    expect(s.max).to.be.within(9995, 10_005);
  });

  it('never reports a percentile above the max (bucket tops lie above the largest value recorded)', () => {
    const r = new LatencyRecorder({ name: 'rtt' });
    // One value in a bucket whose highest equivalent value is above it: p50 == p99 == max.
    r.record(50_123_457);
    const s = r.summary();
    expect(s.max).to.be.at.least(50_123_457);
    for (const p of [s.p50, s.p90, s.p99, s.p999, s.p9999]) expect(p).to.be.at.most(s.max);
    const c = r.correctedSummary(1_000_000)!;
    for (const p of [c.p50, c.p90, c.p99, c.p999, c.p9999]) expect(p).to.be.at.most(c.max);
  });

  it('clamps values above the range and counts them instead of throwing or resizing', () => {
    const r = new LatencyRecorder({ name: 'x', highestTrackableNs: 1_000_000 });
    r.record(5_000_000);
    r.record(-3);
    expect(r.clamped).to.equal(1);
    expect(r.count).to.equal(2);
    expect(r.summary().max).to.be.within(999_000, 1_001_000);
  });

  it('corrects for coordinated omission when told the send interval', () => {
    const plain = new LatencyRecorder({ name: 'plain' });
    const corrected = new LatencyRecorder({ name: 'co' });
    // 99 fast responses and one 1 ms stall, with a send every 10 us.
    for (let i = 0; i < 99; i++) {
      plain.record(1_000);
      corrected.recordWithExpectedInterval(1_000, 10_000);
    }
    plain.record(1_000_000);
    corrected.recordWithExpectedInterval(1_000_000, 10_000);
    expect(plain.count).to.equal(100);
    // The stall hid 99 sends whose latencies would have been 990 us, 980 us, ... 10 us.
    expect(corrected.count).to.equal(199);
    expect(plain.valueAtPercentile(90)).to.be.within(999, 1001);
    expect(corrected.valueAtPercentile(90)).to.be.greaterThan(700_000);
  });

  it('serialises per-worker histograms and merges them on the monitor into the same distribution', () => {
    const a = new LatencyRecorder({ name: 'worker-a' });
    const b = new LatencyRecorder({ name: 'worker-b' });
    const all = new LatencyRecorder({ name: 'all' });
    for (let v = 1; v <= 5000; v++) {
      a.record(v * 3);
      all.record(v * 3);
      b.record(v * 7 + 1);
      all.record(v * 7 + 1);
    }
    b.record(1e12);
    all.record(1e12);
    // Through structured clone, as postMessage would carry them.
    const snapshots = structuredClone([a.serialize(), b.serialize()]);
    const merged = LatencyRecorder.merge('monitor', snapshots);
    const m = merged.summary();
    const s = all.summary();
    // Percentiles come from the same buckets, so they match exactly; a merged max is only known to
    // its bucket (HdrHistogram keeps counts, not values), i.e. within 3 significant digits.
    expect({ ...m, max: 0 }).to.deep.equal({ ...s, max: 0 });
    expect(Math.abs(m.max - s.max) / s.max).to.be.lessThan(1e-3);
    expect(merged.clamped).to.equal(1);
  });

  it('refuses to merge histograms with different ranges', () => {
    const a = new LatencyRecorder({ name: 'a', highestTrackableNs: 1_000_000 });
    const b = new LatencyRecorder({ name: 'b' });
    expect(() => a.add(b.serialize()))
      .to.throw(TickpathError, "LatencyRecorder.add: snapshot 'b' has range [1, 10000000000] with 3 digits, expected [1, 1000000] with 3")
      .with.property('code', 'ERR_HISTOGRAM_MISMATCH');
  });

  it('validates its options with exact messages', () => {
    expect(() => new LatencyRecorder({ name: 'x', significantDigits: 6 })).to.throw(
      "LatencyRecorder: option 'significantDigits' is 6, expected an integer in [1, 5]",
    );
  });

  it('correctedSummary: the coordinated-omission copy, computed off the record path, refused for huge expansions', () => {
    const r = new LatencyRecorder({ name: 'co' });
    for (let i = 0; i < 100; i++) r.record(1_000);
    r.record(1_000_000); // one 1 ms stall with a packet due every 100 us: 9 packets it could have hidden
    const plain = r.summary();
    const c = r.correctedSummary(100_000)!;
    expect(plain.count).to.equal(101);
    expect(c.count).to.equal(110);
    expect(c.max).to.be.closeTo(1_000_000, 1_000);
    expect(r.summary().count, 'the recorder itself is untouched').to.equal(101);
    expect(r.correctedSummary(10, 1000)).to.equal(undefined); // 1 ms / 10 ns = 1e5 intervals > 1000
    expect(r.correctedSummary(0)).to.equal(undefined);
  });
});
