/**
 * How the owner of native venue sessions idles between turns that found nothing (a router loop,
 * `tickpath order`, perf's sender), per venue (`routing_config.yml` venues[].idle and spin_us):
 *
 * - 'block' (default): after `spinUs` µs without work (default 0: at once), sleep in epoll on the
 *   sessions' wait set (NativeWaitSet) until an ack, a fill or a heartbeat arrives or the owner's
 *   next deadline comes. The spin is adaptive: it starts again after every turn that did work, so
 *   an ack expected a few microseconds after an order is read by a spinning thread, and a quiet
 *   session costs no CPU `spinUs` after its last message.
 * - 'spin': never sleeps (one CPU at 100 % for the session's owner).
 *
 * Why spinning matters here: measured with perf/router-rtt --split on the shared 2-vCPU machine,
 * every hop that lands on a sleeping thread costs 10-15 µs of wakeup (epoll, the scheduler, the
 * hypervisor's IPI), against 5 µs for the whole loopback hop to a spinning one.
 *
 * Several venues on one loop: the most eager policy wins (any 'spin' spins; otherwise the longest
 * spinUs), since one epoll set serves them all (`SessionWaiter.combine`).
 *
 * Threading: the owner's thread; allocates nothing per turn.
 */
import { performance } from 'perf_hooks';
import { invalidOption } from '../../errors';
import { realtimePolicy, kRealtimeSpinPeriodUs, type RealtimePolicy } from './thread-realtime';

export type SessionIdleName = 'block' | 'spin';
export const kSessionIdleNames: readonly SessionIdleName[] = ['block', 'spin'];

export interface SessionIdlePolicy { idle: SessionIdleName; spinUs: number }
export const kDefaultSessionIdle: SessionIdlePolicy = { idle: 'block', spinUs: 0 };

/** What a waiter sleeps on (NativeWaitSet's wait; bit 1 = a session socket is readable). */
export interface SessionSleeper { wait(maxUs: number, withLoop?: boolean): number }

/** Checks a policy the way routing_config's loader and option parsers do; returns it. */
export function sessionIdlePolicy(where: string, idle: unknown, spinUs: unknown): SessionIdlePolicy {
  if (!kSessionIdleNames.includes(idle as SessionIdleName)) throw invalidOption(where, 'idle', idle, kSessionIdleNames.map((n) => `'${n}'`).join(' or '));
  if (!Number.isInteger(spinUs) || (spinUs as number) < 0 || (spinUs as number) > 1_000_000) {
    throw invalidOption(where, 'spin_us', spinUs, 'an integer number of microseconds from 0 to 1000000');
  }
  return { idle: idle as SessionIdleName, spinUs: spinUs as number };
}

export class SessionWaiter {
  readonly policy: SessionIdlePolicy;
  private readonly spinMs: number;
  private lastWorkMs = performance.now();
  readonly counters = { turns: 0, spinTurns: 0, sleeps: 0, wakeups: 0, budgetSleeps: 0 };
  /**
   * The owner thread runs SCHED_FIFO (thread-realtime.ts; the owner applied it): with 'spin' the
   * waiter then sleeps `realtime.sleepUs` on the wait set after every kRealtimeSpinPeriodUs of
   * empty turns (the sleep budget), so the kernel's threads on that CPU are not starved.
   */
  readonly realtime: RealtimePolicy | null;
  private nextBudgetMs = 0;

  /** `sleeper` may be null only for 'spin' without `realtime`. */
  constructor(private readonly sleeper: SessionSleeper | null, policy: SessionIdlePolicy = kDefaultSessionIdle, realtime: RealtimePolicy | null = null) {
    this.policy = sessionIdlePolicy('SessionWaiter', policy.idle, policy.spinUs);
    if (this.policy.idle === 'block' && !sleeper) throw invalidOption('SessionWaiter', 'idle', 'block', "a wait set to sleep on (the native transport), or 'spin'");
    this.spinMs = this.policy.spinUs / 1000;
    this.realtime = realtime ? realtimePolicy('SessionWaiter', realtime.priority, realtime.sleepUs, this.policy) : null;
    if (this.realtime && !sleeper) throw invalidOption('SessionWaiter', 'realtime', this.realtime.priority, 'a wait set to sleep on (the sleep budget of a real-time owner)');
    this.nextBudgetMs = performance.now() + kRealtimeSpinPeriodUs / 1000;
  }

  /** The policy for one loop over several venues' sessions: any 'spin' spins, else the longest spin. */
  static combine(policies: readonly (SessionIdlePolicy | undefined)[]): SessionIdlePolicy {
    let spinUs = 0;
    for (const p of policies) {
      if (!p) continue;
      if (p.idle === 'spin') return { idle: 'spin', spinUs: 0 };
      if (p.spinUs > spinUs) spinUs = p.spinUs;
    }
    return { idle: 'block', spinUs };
  }

  /**
   * After one turn of the owner's loop: `work` done in it (bytes or messages; 0 = nothing), and the
   * longest the owner may sleep (µs) before its next deadline (an order due, a heartbeat). Returns
   * the wait's bits when it slept (1 = a session has data), else 0.
   */
  idle(work: number, maxSleepUs: number): number {
    const c = this.counters;
    c.turns++;
    if (work > 0) { if (this.spinMs > 0) this.lastWorkMs = performance.now(); return 0; }
    if (this.policy.idle === 'spin' || maxSleepUs <= 0 || (this.spinMs > 0 && performance.now() - this.lastWorkMs < this.spinMs)) {
      c.spinTurns++;
      // Real-time spin: the sleep budget, checked every 16 empty turns (a clock read each).
      if (this.realtime !== null && this.policy.idle === 'spin' && maxSleepUs > 0 && (c.spinTurns & 15) === 0) {
        const now = performance.now();
        if (now >= this.nextBudgetMs) {
          c.budgetSleeps++;
          const r = this.sleeper!.wait(Math.min(this.realtime.sleepUs, maxSleepUs), false);
          if (r & 1) c.wakeups++;
          this.nextBudgetMs = performance.now() + kRealtimeSpinPeriodUs / 1000;
          return r;
        }
      }
      return 0;
    }
    c.sleeps++;
    const r = this.sleeper!.wait(maxSleepUs, false);
    if (r & 1) c.wakeups++;
    return r;
  }

  stats(): SessionIdlePolicy & SessionWaiter['counters'] & { realtimePriority: number } {
    return { ...this.policy, ...this.counters, realtimePriority: this.realtime?.priority ?? 0 };
  }
}
