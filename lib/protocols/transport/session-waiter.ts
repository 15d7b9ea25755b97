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
  readonly counters = { turns: 0, spinTurns: 0, sleeps: 0, wakeups: 0 };

  /** `sleeper` may be null only for 'spin'. */
  constructor(private readonly sleeper: SessionSleeper | null, policy: SessionIdlePolicy = kDefaultSessionIdle) {
    this.policy = sessionIdlePolicy('SessionWaiter', policy.idle, policy.spinUs);
    if (this.policy.idle === 'block' && !sleeper) throw invalidOption('SessionWaiter', 'idle', 'block', "a wait set to sleep on (the native transport), or 'spin'");
    this.spinMs = this.policy.spinUs / 1000;
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
      return 0;
    }
    c.sleeps++;
    const r = this.sleeper!.wait(maxSleepUs, false);
    if (r & 1) c.wakeups++;
    return r;
  }

  stats(): SessionIdlePolicy & SessionWaiter['counters'] {
    return { ...this.policy, ...this.counters };
  }
}
