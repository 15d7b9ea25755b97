/**
 * `tickpath gen` writes its file in one synchronous loop; on the main thread, SIGINT and SIGTERM
 * would only be handled once that loop ended (minutes for a big session), and without a handler the
 * signal kills the process leaving half a file behind. So the loop runs on a worker thread into a
 * temporary file beside the output (`.NAME.partial-PID`): the main thread stays free, a signal
 * terminates the worker at once and removes the temporary file, and only a finished file is renamed
 * onto the output. A file there before is left untouched unless the new one is complete.
 *
 * Threading contract: `writeInterruptibly` on the command's main thread; the job on its own worker.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { TickpathError } from '../errors';
import { FastTemplateError, loadFastTemplates } from '../feed/fast/fast-templates';
import { MoexSessionPcapOptions, writeMoexSessionPcap } from '../feed/fast/moex/moex-session-pcap';
import { SessionGenerator, SessionGeneratorOptions } from './session-generator';

/** The writing jobs, by name: each writes `file` and returns a summary (structured-cloneable). */
const kJobs = {
  itchSession: (a: { options: SessionGeneratorOptions }, file: string, progress: (n: number) => void) =>
    new SessionGenerator(a.options).writePcap(file, progress),
  moexSession: (a: { xml: string; options: MoexSessionPcapOptions }, file: string) =>
    writeMoexSessionPcap(loadFastTemplates(a.xml), file, a.options),
};
export type WriteJob = keyof typeof kJobs;
type JobArgs<J extends WriteJob> = Parameters<(typeof kJobs)[J]>[0];
type JobResult<J extends WriteJob> = ReturnType<(typeof kJobs)[J]>;

/** An error from the worker, with the fields callers switch on (code, syscall, class name). */
interface WireError { name: string; message: string; code?: string; syscall?: string; fix?: string }

function revive(e: WireError): Error {
  let err: Error & { code?: string; syscall?: string };
  if (e.name === 'TickpathError') err = new TickpathError(e.code ?? 'ERR_GEN', e.message);
  else if (e.name === 'FastTemplateError') err = new FastTemplateError(e.message);
  else err = new Error(e.message);
  if (e.code !== undefined && err.code === undefined) err.code = e.code;
  if (e.syscall !== undefined) err.syscall = e.syscall;
  // TickpathError's constructor appends the fix; the worker's message already has it.
  Object.defineProperty(err, 'message', { value: e.message });
  return err;
}

export interface InterruptibleWriteOptions {
  /** Called now and then with the job's progress (messages written). */
  onProgress?: (done: number) => void;
  /** Aborting it stops the job at once; the output is not touched. */
  signal?: AbortSignal;
}

/**
 * Runs `job` into `.NAME.partial-PID` beside `file` on a worker, renames it onto `file` when done.
 * Resolves with the job's summary, or `undefined` when `signal` aborted it (temporary file removed).
 * Rejects with the job's error (temporary file removed).
 */
export async function writeInterruptibly<J extends WriteJob>(job: J, args: JobArgs<J>, file: string, o: InterruptibleWriteOptions = {}): Promise<JobResult<J> | undefined> {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}`);
  if (o.signal?.aborted) return undefined;
  const worker = new Worker(__filename, { workerData: { job, args, file: partial } });
  let aborted = false;
  const onAbort = (): void => { aborted = true; void worker.terminate(); };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const outcome = await new Promise<{ result?: JobResult<J>; error?: WireError }>((resolve) => {
      let settled: { result?: JobResult<J>; error?: WireError } | undefined;
      worker.on('message', (m: { progress?: number; result?: JobResult<J>; error?: WireError }) => {
        if (m.progress !== undefined) o.onProgress?.(m.progress);
        else settled = m;
      });
      worker.on('error', (e) => { settled = { error: { name: e.name, message: e.message } }; });
      worker.on('exit', () => resolve(settled ?? { error: { name: 'Error', message: aborted ? 'interrupted' : 'the writer thread exited without a result' } }));
    });
    if (aborted) return undefined;
    if (outcome.error) throw revive(outcome.error);
    fs.renameSync(partial, file);
    const r = outcome.result as JobResult<J> & { file?: string };
    if (r && typeof r === 'object' && r.file === partial) r.file = file;
    return r;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    fs.rmSync(partial, { force: true });
  }
}

// The worker's side: run the job, post progress (at most every 100 ms) and the outcome.
if (!isMainThread && workerData && typeof workerData.job === 'string' && workerData.job in kJobs) {
  const { job, args, file } = workerData as { job: WriteJob; args: never; file: string };
  let last = 0;
  const progress = (n: number): void => {
    const now = Date.now();
    if (now - last >= 100) { last = now; parentPort!.postMessage({ progress: n }); }
  };
  try {
    parentPort!.postMessage({ result: kJobs[job](args, file, progress) });
  } catch (err) {
    const e = err as Error & { code?: string; syscall?: string };
    parentPort!.postMessage({ error: { name: e.name ?? 'Error', message: e.message ?? String(err), code: e.code, syscall: e.syscall } });
  }
}
