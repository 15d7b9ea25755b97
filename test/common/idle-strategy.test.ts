import { expect } from 'chai';
import {
  BackoffIdleStrategy,
  BusySpinIdleStrategy,
  YieldIdleStrategy,
  createIdleStrategy,
} from '../../lib/common/idle-strategy';
import { systemClock } from '../../lib/common/clock';

describe('IdleStrategy', () => {
  it('createIdleStrategy picks the class by name and rejects unknown names', () => {
    expect(createIdleStrategy('spin')).to.be.instanceOf(BusySpinIdleStrategy);
    expect(createIdleStrategy('yield')).to.be.instanceOf(YieldIdleStrategy);
    expect(createIdleStrategy('backoff')).to.be.instanceOf(BackoffIdleStrategy);
    expect(() => createIdleStrategy('sleep' as never)).to.throw(
      "createIdleStrategy: option 'name' is \"sleep\", expected one of spin, yield, backoff",
    );
  });

  it('backoff spins, then parks for minPark, then doubles up to maxPark, and resets on work', () => {
    const idle = new BackoffIdleStrategy({ maxSpins: 3, maxYields: 2, minParkMicros: 1, maxParkMicros: 8 });
    const parks: number[] = [];
    for (let i = 0; i < 3 + 2 + 6; i++) {
      idle.idle(0);
      parks.push(idle.currentParkMicros);
    }
    // 3 spins and 2 short parks leave the park time at 1; then 2, 4, 8, 8, 8.
    expect(parks).to.deep.equal([1, 1, 1, 1, 1, 2, 4, 8, 8, 8, 8]);
    idle.idle(5);
    expect(idle.currentParkMicros).to.equal(1);
  });

  it('backoff really gives the core away once parked: 50 empty turns at max 1 ms take >= 20 ms', () => {
    const idle = new BackoffIdleStrategy({ maxSpins: 0, maxYields: 0, minParkMicros: 1000, maxParkMicros: 1000 });
    const t0 = systemClock.nowNs();
    for (let i = 0; i < 50; i++) idle.idle(0);
    expect(systemClock.nowNs() - t0).to.be.at.least(20_000_000);
  });

  it('validates backoff options with exact messages', () => {
    expect(() => new BackoffIdleStrategy({ maxSpins: -1 })).to.throw(
      "BackoffIdleStrategy: option 'maxSpins' is -1, expected an integer >= 0",
    );
    expect(() => new BackoffIdleStrategy({ minParkMicros: 10, maxParkMicros: 5 })).to.throw(
      "BackoffIdleStrategy: option 'maxParkMicros' is 5, expected a number >= minParkMicros (10)",
    );
    expect(() => new YieldIdleStrategy(0)).to.throw(
      "YieldIdleStrategy: option 'parkMicros' is 0, expected a number of microseconds in (0, 1000000]",
    );
  });
});
