/**
 * Thread placement, callable from inside any worker: only the calling thread is pinned.
 *
 * Order matters: threads inherit their creator's CPU mask, so create workers and warm the libuv
 * pool (`warmUpThreadPool`) before pinning anything, or every later thread lands on one CPU.
 */
import * as fs from 'fs';
import * as os from 'os';
import { binding } from './native';
import { callNative } from './errors';
import { TickpathError } from '../errors';

/** Pins the calling thread to `cpu`; returns its kernel thread id (for /proc/self/task/<tid>). */
export function pinCurrentThread(cpu: number): number {
  const n = os.cpus().length;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= n) {
    throw new TickpathError('ERR_INVALID_OPTION', `pinCurrentThread: cpu is ${JSON.stringify(cpu)}, expected an integer from 0 to ${n - 1}`);
  }
  return callNative(undefined, () => binding().pinCurrentThread(cpu));
}

export function currentThreadAffinity(): number[] {
  return binding().threadAffinity();
}

export function setCurrentThreadAffinity(cpus: number[]): void {
  callNative(undefined, () => binding().setThreadAffinity(cpus));
}

export function currentTid(): number {
  return binding().currentTid();
}

/** CPUs a thread may run on, as the kernel reports it (Cpus_allowed_list of /proc/self/task/tid/status). */
export function cpusAllowedOf(tid: number): string {
  const status = fs.readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  return m ? m[1] : '';
}

export function numaNodeOfCpu(cpu: number): number {
  return binding().numaNodeOfCpu(cpu);
}

/** Starts every libuv pool thread now, while the caller is still unpinned. */
export async function warmUpThreadPool(): Promise<void> {
  const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  await Promise.all(Array.from({ length: size }, () => fs.promises.stat('/')));
}
