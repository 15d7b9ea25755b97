/**
 * The one way tests wait for a worker thread's answer: the first message it posts.
 *
 * A worker that throws, exits (with any code) before answering, or gives no answer within
 * `timeoutMs` rejects the promise at once with what happened, and a silent one is terminated, so a
 * broken worker fails its own test with its own error instead of hanging the suite until mocha's
 * test timeout (which names neither the worker nor the cause, and leaves the worker spinning on a
 * CPU while later tests run).
 *
 * Threading: call from the thread that created the worker (the test's main thread). The bound is a
 * main-thread timer, so it fires even when the worker is stuck in a busy loop that never yields to
 * its own event loop. The timer is unref'd and cleared on any outcome, so it never holds the
 * process open.
 */
import { Worker } from 'worker_threads';

export interface WorkerResultOptions {
  /** How long to wait for the answer, from the call (default 30 s: below mocha's 60 s). */
  timeoutMs?: number;
  /** Names the worker in errors (default: its threadId). */
  name?: string;
}

/** Resolves with the first message `worker` posts; rejects on error, early exit or timeout. */
export function workerResult<T>(worker: Worker, opts: WorkerResultOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const name = opts.name ?? `worker ${worker.threadId}`;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      if (timer) clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: T): void => { settle(); resolve(m); };
    const onError = (e: unknown): void => {
      settle();
      const err = e instanceof Error ? e : new Error(String(e));
      err.message = `${name} failed: ${err.message}`;
      reject(err);
    };
    const onExit = (code: number): void => {
      settle();
      reject(new Error(`${name} exited with code ${code} before posting its result`));
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    timer = setTimeout(() => {
      settle();
      // Stop a stuck worker now: left running it would keep a CPU busy under every later test.
      void worker.terminate();
      reject(new Error(`${name} posted no result within ${timeoutMs} ms (terminated)`));
    }, timeoutMs);
    timer.unref();
  });
}
