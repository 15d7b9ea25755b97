import { expect } from 'chai';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AgentRunner, kRunnerTurnsI32, type Agent } from '../../lib/common/agent-runner';
import { BusySpinIdleStrategy } from '../../lib/common/idle-strategy';
import { SpscRing } from '../../lib/common/spsc-ring';
import { workerResult } from '../helpers/worker-result';

describe('AgentRunner', () => {
  it('hands each doWork() count to the idle strategy and closes the agent when stopped', () => {
    const control = AgentRunner.createControl();
    const seen: number[] = [];
    let closed = 0;
    const agent: Agent = {
      roleName: 'test',
      doWork: () => {
        const n = seen.length % 3;
        if (seen.length === 5) AgentRunner.requestStop(control);
        return n;
      },
      onClose: () => closed++,
    };
    const idle = { name: 'spin' as const, idle: (n: number) => seen.push(n), reset: () => {} };
    expect(new AgentRunner(agent, idle, control).run()).to.equal(6);
    expect(seen).to.deep.equal([0, 1, 2, 0, 1, 2]);
    expect(closed).to.equal(1);
    expect(AgentRunner.isStopped(control)).to.equal(true);
    expect(new Int32Array(control)[kRunnerTurnsI32]).to.equal(6);
  });

  it('marks the runner stopped and closes the agent even when doWork throws', () => {
    const control = AgentRunner.createControl();
    let closed = false;
    const agent: Agent = {
      roleName: 'boom',
      doWork: () => {
        throw new Error('boom');
      },
      onClose: () => (closed = true),
    };
    expect(() => new AgentRunner(agent, new BusySpinIdleStrategy(), control).run()).to.throw('boom');
    expect(closed).to.equal(true);
    expect(AgentRunner.isStopped(control)).to.equal(true);
  });

  it('stops a worker stage from another thread after it drained a ring', async function () {
    this.timeout(20_000);
    const ring = SpscRing.create({ capacity: 128, recordBytes: 8 });
    const control = AgentRunner.createControl();
    const worker = new Worker(path.join(__dirname, 'helpers', 'agent-worker.js'), { workerData: { ring: ring.sab, control } });
    const result = workerResult<{ sum: number; count: number; turns: number; closed: boolean }>(worker, { name: 'agent worker', timeoutMs: 15_000 });
    const n = 100_000;
    let sent = 0;
    while (sent < n) {
      const got = ring.tryClaim(Math.min(64, n - sent));
      for (let i = 0; i < got; i++) ring.i32[ring.offsetOfClaimed(i) >> 2] = sent + i;
      ring.publish();
      sent += got;
      if (got === 0) await new Promise((r) => setImmediate(r));
    }
    while (ring.size() > 0) await new Promise((r) => setTimeout(r, 1));
    AgentRunner.requestStop(control);
    const r = await result;
    expect(r.count).to.equal(n);
    expect(r.sum).to.equal((n * (n - 1)) / 2);
    expect(r.closed).to.equal(true);
    expect(r.turns).to.be.greaterThan(0);
    expect(AgentRunner.isStopped(control)).to.equal(true);
  });
});
