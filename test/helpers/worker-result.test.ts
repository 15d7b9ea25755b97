/**
 * workerResult: a worker that throws, exits without answering, or never answers fails the waiting
 * test at once with the reason, instead of leaving it to mocha's timeout.
 */
import { expect } from 'chai';
import { Worker } from 'worker_threads';
import { workerResult } from './worker-result';

const evalWorker = (code: string): Worker => new Worker(code, { eval: true });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('test helper workerResult', function () {
  this.timeout(10_000);

  it('resolves with the first message the worker posts', async () => {
    const w = evalWorker(`require('worker_threads').parentPort.postMessage({ n: 42 });`);
    expect(await workerResult<{ n: number }>(w)).to.deep.equal({ n: 42 });
    await w.terminate();
  });

  it('rejects at once with the error of a worker that throws', async () => {
    const t0 = Date.now();
    const err = await rejection(workerResult(evalWorker(`throw new Error('boom in worker');`), { name: 'thrower', timeoutMs: 30_000 }));
    expect(err.message).to.match(/thrower failed: boom in worker/);
    expect(Date.now() - t0).to.be.below(5000);
  });

  it('rejects at once when the worker exits without answering, with its exit code', async () => {
    const t0 = Date.now();
    const quiet = await rejection(workerResult(evalWorker(`/* returns without posting */`), { name: 'quiet', timeoutMs: 30_000 }));
    expect(quiet.message).to.equal('quiet exited with code 0 before posting its result');
    const exits = await rejection(workerResult(evalWorker(`process.exit(3);`), { name: 'exiter', timeoutMs: 30_000 }));
    expect(exits.message).to.equal('exiter exited with code 3 before posting its result');
    expect(Date.now() - t0).to.be.below(5000);
  });

  it('rejects after timeoutMs when a worker spins without answering, and terminates it', async () => {
    const w = evalWorker(`for (;;) {}`);
    const exited = new Promise<number>((r) => w.once('exit', r));
    const t0 = Date.now();
    const err = await rejection(workerResult(w, { name: 'spinner', timeoutMs: 200 }));
    expect(err.message).to.equal('spinner posted no result within 200 ms (terminated)');
    expect(Date.now() - t0).to.be.within(150, 5000);
    expect(await exited, 'terminated: exit code 1').to.equal(1);
  });
});
