import { expect } from 'chai';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CountersBlock } from '../../lib/common/counters';
import { TickpathError } from '../../lib/errors';
import { workerResult } from '../helpers/worker-result';

describe('CountersBlock', () => {
  it('keeps named counters and snapshots them', () => {
    const c = CountersBlock.create('rx', ['rx.packets', 'rx.bytes', 'rx.drops']);
    const kPackets = c.indexOf('rx.packets');
    c.increment(kPackets);
    c.add(c.indexOf('rx.bytes'), 1500);
    c.set(c.indexOf('rx.drops'), 2 ** 40);
    expect(c.snapshot()).to.deep.equal({ 'rx.packets': 1, 'rx.bytes': 1500, 'rx.drops': 2 ** 40 });
  });

  it('attach() recovers block and counter names from the buffer alone', () => {
    const c = CountersBlock.create('router', ['orders.sent', 'orders.rejected']);
    c.add(1, 3);
    const r = CountersBlock.attach(c.sab);
    expect(r.blockName).to.equal('router');
    expect(r.names).to.deep.equal(['orders.sent', 'orders.rejected']);
    expect(r.get(1)).to.equal(3);
  });

  it('rejects unknown and duplicate names with exact messages', () => {
    const c = CountersBlock.create('rx', ['a']);
    expect(() => c.indexOf('b'))
      .to.throw(TickpathError, "CountersBlock 'rx': no counter named 'b', expected one of a")
      .with.property('code', 'ERR_UNKNOWN_COUNTER');
    expect(() => CountersBlock.create('rx', ['a', 'a'])).to.throw(
      "CountersBlock.create: counter name 'a' appears twice in block 'rx', expected unique names",
    );
  });

  it('is read by another thread while a worker writes, never going backwards, and ends exact', async function () {
    this.timeout(20_000);
    const iterations = 5_000_000;
    const c = CountersBlock.create('rx', ['rx.packets', 'rx.bytes']);
    const worker = new Worker(path.join(__dirname, 'helpers', 'counters-worker.js'), {
      workerData: { sab: c.sab, iterations },
    });
    const done = workerResult<unknown>(worker, { name: 'counters worker', timeoutMs: 15_000 });
    let finished = false;
    // A failed worker ends the read loop too; `await done` below then rejects with its error.
    done.then(() => (finished = true), () => (finished = true));
    let prev = 0;
    let reads = 0;
    while (!finished) {
      const v = c.get(0);
      expect(v).to.be.at.least(prev);
      expect(Number.isInteger(v)).to.equal(true);
      prev = v;
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    await done;
    expect(reads).to.be.greaterThan(0);
    expect(c.snapshot()).to.deep.equal({ 'rx.packets': iterations, 'rx.bytes': iterations * 60 });
  });
});
