import { expect } from 'chai';
import { ManualClock, MonotonicClock, systemClock } from '../../lib/common/clock';

describe('MonotonicClock', () => {
  it('never goes backwards over many reads', () => {
    const clock = new MonotonicClock();
    let prev = clock.nowNs();
    for (let i = 0; i < 200_000; i++) {
      const t = clock.nowNs();
      expect(t >= prev, `read ${i}: ${t} < ${prev}`).to.equal(true);
      prev = t;
    }
  });

  it('agrees with process.hrtime.bigint() (CLOCK_MONOTONIC) to within 1 ms', () => {
    const clock = new MonotonicClock();
    for (let i = 0; i < 5; i++) {
      const hr = Number(process.hrtime.bigint());
      const ours = clock.nowNs();
      expect(Math.abs(ours - hr)).to.be.lessThan(1_000_000);
    }
    expect(clock.calibrationErrorNs).to.be.lessThan(1_000_000);
  });

  it('measures a sleep of 20 ms as at least 20 ms', () => {
    const t0 = systemClock.nowNs();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    expect(systemClock.nowNs() - t0).to.be.at.least(19_000_000);
  });
});

describe('ManualClock', () => {
  it('moves only when told', () => {
    const clock = new ManualClock(1_000);
    expect(clock.nowNs()).to.equal(1_000);
    clock.advance(500);
    expect(clock.nowNs()).to.equal(1_500);
    clock.set(42);
    expect(clock.nowNs()).to.equal(42);
  });
});
