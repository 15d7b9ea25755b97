import { expect } from 'chai';
import { AgentRunner, type Agent } from '../../lib/common/agent-runner';
import { CompositeAgent } from '../../lib/common/composite-agent';

describe('CompositeAgent and AgentRunner.runSlice', () => {
  it('gives each agent a turn in order, sums their work, and closes them all', () => {
    const calls: string[] = [];
    const closed: string[] = [];
    const agent = (name: string, work: number): Agent => ({ roleName: name, doWork: () => { calls.push(name); return work; }, onClose: () => closed.push(name) });
    const composite = new CompositeAgent([agent('decoder', 2), agent('book', 3)]);
    expect(composite.roleName).to.equal('decoder+book');
    expect(composite.doWork()).to.equal(5);
    expect(calls).to.deep.equal(['decoder', 'book']);
    composite.onClose();
    expect(closed).to.deep.equal(['decoder', 'book']);
  });

  it('runs turns until the slice time is up; once a stop is requested, until the first idle turn; close() marks it stopped', () => {
    const control = AgentRunner.createControl();
    const work = [1, 1, 0, 1, 1, 0, 0];
    let i = 0, closed = 0;
    const agent: Agent = { roleName: 'test', doWork: () => work[i++] ?? 0, onClose: () => closed++ };
    const idled: number[] = [];
    const runner = new AgentRunner(agent, { name: 'spin', idle: (n) => idled.push(n), reset: () => {} }, control);
    let t = 0;
    const clock = () => (t += 10);
    // A 25 ns slice on a clock that moves 10 ns a read, read after every turn with work and every
    // 16th empty turn: turns of work 1 (t=20), 1 (t=30), 0 (no read), 1 (t=40: over), each idled.
    expect(runner.runSlice(25, clock)).to.equal(3);
    expect(idled).to.deep.equal([1, 1, 0, 1]);
    expect(runner.stopRequested).to.equal(false);
    AgentRunner.requestStop(control);
    expect(runner.stopRequested).to.equal(true);
    // Draining: the slice ends at the first turn without work, whatever the time.
    expect(runner.runSlice(1e9, clock)).to.equal(1);
    expect(idled).to.deep.equal([1, 1, 0, 1, 1]);
    expect(runner.runSlice(1e9, clock)).to.equal(0);
    expect(AgentRunner.isStopped(control)).to.equal(false);
    runner.close();
    expect(closed).to.equal(1);
    expect(AgentRunner.isStopped(control)).to.equal(true);
  });

  it('empty turns read the clock once every 16 turns, not every turn (a clock read is a fresh HeapNumber)', () => {
    let turns = 0, reads = 0;
    const runner = new AgentRunner({ roleName: 'idle', doWork: () => { turns++; return 0; } }, { name: 'spin', idle: () => {}, reset: () => {} });
    // Reads at the start (t=10) and after turns 16 (20), 32 (30) and 48 (40: 30 ns >= the 25 ns slice).
    expect(runner.runSlice(25, () => { reads++; return reads * 10; })).to.equal(0);
    expect([turns, reads]).to.deep.equal([48, 4]);
  });
});
