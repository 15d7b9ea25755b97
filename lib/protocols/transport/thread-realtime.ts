/**
 * A real-time scheduling policy for the thread that owns venue sessions (the venue simulator's
 * loop, `tickpath order`'s send loop, perf's sender): SCHED_FIFO at a low priority, applied to the
 * calling thread through the addon and read back from the kernel, never assumed.
 *
 * Why: on a shared machine a spinning session owner loses its CPU to every other runnable thread
 * (perf/router-rtt-sched: the spinning OUCH p99 was preemptions of the sender and the venue by
 * other processes, each costing a scheduler slice). A SCHED_FIFO thread is never preempted by
 * ordinary (SCHED_OTHER) threads, and its wakeup preempts them at once.
 *
 * Why a cap (kMaxRealtimePriority = 49): threaded interrupt handlers run at SCHED_FIFO 50 and the
 * kernel's migration/watchdog threads at 99; a session loop above them would starve the NIC's
 * interrupts it waits for. 1..10 is plenty: only ordering against SCHED_OTHER matters here.
 *
 * Why a sleep budget: a SCHED_FIFO thread that never sleeps starves the kernel's own threads
 * (ksoftirqd, kworkers, RCU) on its CPU; the kernel then takes the CPU back in one block (the RT
 * throttle, sched_rt_runtime_us of each sched_rt_period_us: 50 ms of every second here), which is
 * a 50 ms stall on the order path. So a real-time owner must sleep: with idle 'block' it sleeps in
 * epoll whenever it has had no work for spin_us (at most kRealtimeMaxSpinUs); with idle 'spin' it
 * sleeps `sleepUs` (default kRealtimeDefaultSleepUs) at its first turn without work after every
 * kRealtimeSpinPeriodUs of spinning, on its sessions' wait set, so a message that arrives meanwhile
 * ends the sleep. A loop with work at every turn never reaches that sleep: there the RT throttle is
 * the only backstop (tickpath doctor reports it), which is why the budget is a floor, not a cure.
 *
 * Refusals are errors, never ignored: a priority out of range is ERR_INVALID_OPTION; a kernel that
 * refuses (no CAP_SYS_NICE and RLIMIT_RTPRIO too low, or a cgroup without real-time runtime) is
 * ERR_REALTIME_REFUSED naming the cause and the fix.
 *
 * Threading: each call acts on the calling thread only.
 */
import * as fs from 'fs';
import { TickpathError, invalidOption } from '../../errors';
import { nativeTcpBinding, type NativeTcpBinding } from './native-tcp-transport';

export const kMaxRealtimePriority = 49;
/** idle 'block' under a real-time policy: the longest spin after the last work before sleeping. */
export const kRealtimeMaxSpinUs = 1000;
/** idle 'spin' under a real-time policy: the loop sleeps once per this much spinning... */
export const kRealtimeSpinPeriodUs = 1000;
/** ...for this long by default (µs): 5 % of the CPU back to the kernel's threads, in small pieces. */
export const kRealtimeDefaultSleepUs = 50;

export interface RealtimePolicy {
  /** SCHED_FIFO priority, 1..kMaxRealtimePriority. */
  priority: number;
  /** idle 'spin' only: µs slept after every kRealtimeSpinPeriodUs of spinning (1..500). */
  sleepUs: number;
}

/** What the kernel holds for the calling thread. */
export interface ThreadSchedPolicy { policy: 'other' | 'fifo' | 'rr' | 'batch' | 'idle' | 'deadline' | string; priority: number }

const kPolicyNames: Record<number, string> = { 0: 'other', 1: 'fifo', 2: 'rr', 3: 'batch', 5: 'idle', 6: 'deadline' };

/** The addon's scheduling calls (tcp_glue.cc), or undefined when the addon predates them. */
function schedBinding(): (NativeTcpBinding & { threadRealtime(p: number): number; threadScheduler(): [number, number] | number }) | undefined {
  const b = nativeTcpBinding() as (NativeTcpBinding & { threadRealtime?: unknown; threadScheduler?: unknown }) | undefined;
  return b && typeof b.threadRealtime === 'function' && typeof b.threadScheduler === 'function'
    ? b as NativeTcpBinding & { threadRealtime(p: number): number; threadScheduler(): [number, number] | number } : undefined;
}

/**
 * Checks a real-time option the way the CLI and config loaders do: `priority` 1..49 (or
 * undefined/0 for none), `sleepUs` 1..500; with idle 'block', spin_us at most kRealtimeMaxSpinUs.
 */
export function realtimePolicy(where: string, priority: unknown, sleepUs: unknown = kRealtimeDefaultSleepUs,
  idle?: { idle: string; spinUs?: number }): RealtimePolicy | null {
  if (priority === undefined || priority === 0) return null;
  if (!Number.isInteger(priority) || (priority as number) < 1 || (priority as number) > kMaxRealtimePriority) {
    throw invalidOption(where, 'realtime', priority, `a SCHED_FIFO priority from 1 to ${kMaxRealtimePriority} (above it run the interrupt threads this loop waits for), or 0 for none`);
  }
  if (!Number.isInteger(sleepUs) || (sleepUs as number) < 1 || (sleepUs as number) > 500) {
    throw invalidOption(where, 'realtime_sleep_us', sleepUs, `an integer number of microseconds from 1 to 500 (slept after every ${kRealtimeSpinPeriodUs} us of spinning)`);
  }
  if (idle && idle.idle === 'block' && (idle.spinUs ?? 0) > kRealtimeMaxSpinUs) {
    throw invalidOption(where, 'spin_us', idle.spinUs, `at most ${kRealtimeMaxSpinUs} with a real-time priority: a SCHED_FIFO thread that keeps spinning starves the kernel's threads on its CPU until the RT throttle stalls it (use idle 'spin', which sleeps ${sleepUs} us per ms)`);
  }
  if (idle && idle.idle !== 'block' && idle.idle !== 'spin') {
    throw invalidOption(where, 'idle', idle.idle, "'block' or 'spin' with a real-time priority (the sleep budget is applied by those two)");
  }
  return { priority: priority as number, sleepUs: sleepUs as number };
}

/** The calling thread's policy and priority as the kernel holds them. */
export function threadSchedPolicy(): ThreadSchedPolicy {
  const b = schedBinding();
  if (!b) throw new TickpathError('ERR_BACKEND_UNAVAILABLE', 'reading the thread\'s scheduling policy needs the addon, which is not built (or predates threadScheduler)', 'npm run build:native');
  const r = b.threadScheduler();
  if (typeof r === 'number') throw new TickpathError('ERR_NATIVE', `sched_getscheduler failed: errno ${-r}`, undefined, -r);
  return { policy: kPolicyNames[r[0]] ?? String(r[0]), priority: r[1] };
}

function readNumber(file: string): number | null {
  try { return Number(fs.readFileSync(file, 'utf8').trim()); } catch { return null; }
}

/** RLIMIT_RTPRIO of this process (soft), from /proc/self/limits; null when unreadable. */
export function rtprioLimit(): number | null {
  try {
    const m = /^Max realtime priority\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null;
  } catch { return null; }
}

/**
 * Makes the calling thread SCHED_FIFO at `policy.priority` and reads it back. Throws
 * ERR_REALTIME_REFUSED (the kernel said no: cause and fix in the message) or
 * ERR_BACKEND_UNAVAILABLE (no addon). Returns what the kernel now holds.
 */
export function applyRealtime(where: string, policy: RealtimePolicy): ThreadSchedPolicy {
  const b = schedBinding();
  if (!b) throw new TickpathError('ERR_BACKEND_UNAVAILABLE', `${where}: a real-time priority needs the addon (threadRealtime), which is not built`, 'npm run build:native, or leave the realtime option out');
  const rc = b.threadRealtime(policy.priority);
  if (rc < 0) {
    const limit = rtprioLimit();
    const runtime = readNumber('/proc/sys/kernel/sched_rt_runtime_us');
    const cause = rc === -1
      ? `EPERM: this process may not use SCHED_FIFO (no CAP_SYS_NICE; RLIMIT_RTPRIO ${limit === null ? 'unknown' : limit === Infinity ? 'unlimited' : limit}${runtime === 0 ? '; kernel.sched_rt_runtime_us is 0' : ''}; a cgroup without real-time runtime refuses it too)`
      : `errno ${-rc}`;
    throw new TickpathError('ERR_REALTIME_REFUSED', `${where}: SCHED_FIFO priority ${policy.priority} refused by the kernel: ${cause}`,
      `run as root or give the binary CAP_SYS_NICE (setcap cap_sys_nice+ep "$(command -v node)"), or raise the limit (ulimit -r ${policy.priority}; LimitRTPRIO=${policy.priority} in a systemd unit), or leave the realtime option out`, -rc);
  }
  const now = threadSchedPolicy();
  if (now.policy !== 'fifo' || now.priority !== policy.priority) {
    throw new TickpathError('ERR_REALTIME_REFUSED', `${where}: asked for SCHED_FIFO ${policy.priority}, the kernel holds ${now.policy} ${now.priority}`, 'check for a tool resetting thread policies (tuned, a container runtime), or leave the realtime option out');
  }
  return now;
}

/** Puts the calling thread back to SCHED_OTHER (0 or -errno); a no-op without the addon. */
export function dropRealtime(): number {
  const b = schedBinding();
  return b ? b.threadRealtime(0) : 0;
}
