import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';

interface AllocResult { orders: number; scavenges: number; filled: number; strategy_events: number; cpu_us: number; path: string; clocks: string }

/** Runs order-alloc-child.js with a 1 MiB semi-space: every ~1 MiB of young objects is one scavenge. */
function measure(...flags: string[]): AllocResult {
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', path.join(__dirname, 'order-alloc-child.js'),
    '--orders', '100000', '--warmup', '50000', ...flags], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`order-alloc-child exited ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as AllocResult;
}

describe('router: nothing allocated per order', function () {
  this.timeout(240000);

  it('100k send/ack/fill lifecycles through the router stage path (OUCH encoder, keyed venue calls) cause at most 2 scavenges', () => {
    // Clocks stopped: a clock read itself boxes 16 bytes on Node 20 (see the child); the router's code must add nothing.
    const r = measure('--stopped-clocks');
    expect(r.filled, JSON.stringify(r)).to.equal(100000);
    expect(r.scavenges, JSON.stringify(r)).to.be.at.most(2);
  });

  it('the same through the strategy -> router ring (split pipeline): at most 2 scavenges', () => {
    const r = measure('--stopped-clocks', '--ring');
    expect(r.filled, JSON.stringify(r)).to.equal(100000);
    expect(r.scavenges, JSON.stringify(r)).to.be.at.most(2);
  });

  // The Strategy API hands an order's id to onOrderEvent as a string: one string per order, made
  // once and shared by its events (about 32 bytes, 3-4 scavenges per 100k), is the floor there.
  it('a fused strategy receiving every event with its id string: at most one id string per order (6 scavenges)', () => {
    const r = measure('--stopped-clocks', '--fused-strategy');
    expect(r.filled, JSON.stringify(r)).to.equal(100000);
    expect(r.strategy_events, JSON.stringify(r)).to.equal(300000);
    expect(r.scavenges, JSON.stringify(r)).to.be.at.most(6);
  });

  it('split pipeline both ways: orders through the strategy -> router ring, events back through the router -> strategy ring to the strategy: at most one id string per order (6 scavenges)', () => {
    const r = measure('--stopped-clocks', '--split');
    expect(r.filled, JSON.stringify(r)).to.equal(100000);
    expect(r.strategy_events, JSON.stringify(r)).to.be.at.least(299000);
    expect(r.scavenges, JSON.stringify(r)).to.be.at.most(6);
  });

  it('with the real clocks, what is left is the clock reads: at most ~130 bytes per lifecycle (13 scavenges per 100k)', () => {
    const r = measure();
    expect(r.filled, JSON.stringify(r)).to.equal(100000);
    // 4 clock reads x 16 bytes = 64 bytes per lifecycle (risk's throttle, 3 latency stamps), about 7-9
    // scavenges per 100k with a 1 MiB semi-space. The journal's records read the commit thread's
    // clock from shared memory (journal.test.ts checks that no record calls Date.now). Measured
    // 8-12 here; the old per-order strings and Maps made 77-81.
    expect(r.scavenges, JSON.stringify(r)).to.be.at.most(13);
  });
});
