/**
 * The venue simulator's own loop over native sessions: `poll()` every session on the main thread,
 * in slices of `sliceUs`, each slice followed by one event-loop turn (setImmediate) so signals, the
 * SoupBinTCP and FIX heartbeat timers and `--latency-ms` timers still run. Orders are read, matched
 * and acknowledged inside a slice: no event-loop wakeup between the kernel and the matching engine.
 *
 * Idle (`idle`), what the loop does when a turn found nothing:
 * - 'block' (default): spins `spinTurns` empty turns (default 0), then sleeps in the kernel on the
 *   sessions' wait set (epoll over the listeners, the sessions and the event loop's own fd, never past the
 *   event loop's next timer). A packet wakes it as it would wake an event loop, but the order is
 *   handled right there, and while orders flow the loop stays in its spin. Costs no CPU when idle,
 *   and on a shared or overloaded machine the scheduler favours a thread that sleeps and wakes.
 *   Why no spin by default: on the shared 2-vCPU machines this is built on, 100 spin turns after
 *   each message (100-300 µs of CPU) doubled the simulator's OUCH round-trip p50 (175-206 µs vs
 *   89 µs measured side by side under load): a thread that burns its share is woken later by the
 *   scheduler. Spin turns pay off on a dedicated core (`--spin-turns N`, or 'spin').
 * - 'spin': never gives the core away: the lowest latency on an isolated core, and one CPU at
 *   100 % for as long as the simulator runs. With a spinning client on a 2-vCPU machine the pair
 *   takes both cores, and on a loaded machine a spinner waits behind every other runnable thread.
 * - 'backoff': spins, then parks (Atomics.wait, a futex sleep with a timeout) for 1 µs doubling to
 *   `maxParkUs`, as the stage workers do. The thread's timer slack is set to 1 µs where allowed, so
 *   a park sleeps about what it asks for. After `quietMs` without work it polls once a millisecond.
 *
 * Threading: the thread that created it (its event loop). Allocates nothing per turn.
 */
import { performance } from 'perf_hooks';
import { invalidOption } from '../errors';
import { createIdleStrategy, type IdleStrategy } from '../common/idle-strategy';
import { nativeTcpBinding } from '../protocols/transport/native-tcp-transport';
import type { NativeWaitSet } from '../protocols/transport/tcp-server';
import { applyRealtime, realtimePolicy, kRealtimeSpinPeriodUs, type RealtimePolicy, type ThreadSchedPolicy } from '../protocols/transport/thread-realtime';

export type VenueIdle = 'block' | 'spin' | 'backoff';
export const kVenueIdleNames: readonly VenueIdle[] = ['block', 'spin', 'backoff'];

export interface VenueLoopOptions {
  idle?: VenueIdle;
  /** block: empty turns spun before sleeping on the wait set; default 0 (see the file comment). */
  spinTurns?: number;
  /**
   * block: keep spinning this long (µs) after the last turn that had work, then sleep (an adaptive
   * spin: a session that answers every few microseconds is never slept on, an idle one costs
   * nothing after spinUs). Default 0. Measured on the shared 2-vCPU machine: a sleeping peer costs
   * each hop of a round trip 10-15 µs of wakeup; a spin only pays off if the next message comes
   * within it (at 2,000 orders/s, spinUs >= 500).
   */
  spinUs?: number;
  /** backoff: longest park (µs); default 20. */
  maxParkUs?: number;
  /** Time spent polling before one event-loop turn (µs); default 1000. */
  sliceUs?: number;
  /** backoff: no work for this long, poll once a millisecond (ms); default 1000; 0 = never. */
  quietMs?: number;
  /**
   * SCHED_FIFO for the loop's thread (thread-realtime.ts: priority 1..49, applied at start() and
   * read back). With idle 'spin' the loop then sleeps `sleepUs` on the wait set after every
   * millisecond of spinning (the sleep budget the kernel's own threads need); 'block' sleeps when
   * idle anyway. 'backoff' is refused. Needs a wait set for 'spin' too.
   */
  realtime?: RealtimePolicy | null;
}

const kWhere = 'VenueLoop';
/**
 * block: longest sleep on the wait set. Called from a setImmediate callback, libuv cannot tell when
 * its next timer is due, so timers (heartbeats, --latency-ms) may run up to this late.
 */
const kMaxBlockUs = 2000;

export class VenueLoop {
  readonly idleName: VenueIdle;
  private readonly idle: IdleStrategy;
  private readonly spinTurns: number;
  readonly spinUs: number;
  private readonly spinMs: number;
  private readonly sliceMs: number;
  private readonly quietMs: number;
  private running = false;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastWorkMs = 0;
  /** block: empty turns since the last work (kept across slices). */
  private emptyTurns = 0;
  /** Timer slack in effect for this thread (ns), or -errno when the kernel refused, 0 = not set. */
  timerSlackNs = 0;
  readonly counters = { slices: 0, turns: 0, work: 0, quietPolls: 0, blocks: 0, wakeups: 0, budgetSleeps: 0 };
  readonly realtime: RealtimePolicy | null;
  /** The loop thread's policy as the kernel held it after start() (null before, or without realtime). */
  sched: ThreadSchedPolicy | null = null;
  private nextBudgetMs = 0;

  constructor(private readonly pollAll: () => number, private readonly waitSet: NativeWaitSet | null, options: VenueLoopOptions = {}) {
    const idle = options.idle ?? 'block';
    if (!kVenueIdleNames.includes(idle)) throw invalidOption(kWhere, 'idle', idle, kVenueIdleNames.map((n) => `'${n}'`).join(', '));
    if (idle === 'block' && !waitSet) throw invalidOption(kWhere, 'idle', idle, "a wait set to block on, or 'spin' / 'backoff'");
    const maxPark = options.maxParkUs ?? 20;
    if (!(maxPark >= 1 && maxPark <= 1_000_000)) throw invalidOption(kWhere, 'maxParkUs', maxPark, 'a number of microseconds from 1 to 1000000');
    const spinTurns = options.spinTurns ?? 0;
    if (!Number.isInteger(spinTurns) || spinTurns < 0) throw invalidOption(kWhere, 'spinTurns', spinTurns, 'an integer >= 0');
    const spinUs = options.spinUs ?? 0;
    if (!Number.isInteger(spinUs) || spinUs < 0 || spinUs > 1_000_000) throw invalidOption(kWhere, 'spinUs', spinUs, 'an integer number of microseconds from 0 to 1000000');
    if (spinUs > 0 && idle !== 'block') throw invalidOption(kWhere, 'spinUs', spinUs, "0 unless idle is 'block' (spin never sleeps; backoff parks by its own schedule)");
    this.spinUs = spinUs;
    this.spinMs = spinUs / 1000;
    const slice = options.sliceUs ?? 1000;
    if (!(slice >= 10 && slice <= 1_000_000)) throw invalidOption(kWhere, 'sliceUs', slice, 'a number of microseconds from 10 to 1000000');
    const quiet = options.quietMs ?? 1000;
    if (!(quiet >= 0)) throw invalidOption(kWhere, 'quietMs', quiet, 'a non-negative number of milliseconds');
    this.realtime = options.realtime ? realtimePolicy(kWhere, options.realtime.priority, options.realtime.sleepUs, { idle, spinUs }) : null;
    if (this.realtime && !waitSet) throw invalidOption(kWhere, 'realtime', this.realtime.priority, 'a wait set to sleep on (the sleep budget of a real-time spinning loop)');
    this.idleName = idle;
    this.idle = createIdleStrategy(idle === 'spin' ? 'spin' : 'backoff', { maxSpins: 200, maxYields: 20, minParkMicros: 1, maxParkMicros: maxPark });
    this.spinTurns = spinTurns;
    this.sliceMs = slice / 1000;
    this.quietMs = quiet;
  }

  get isRunning(): boolean { return this.running; }

  start(): void {
    if (this.running) return;
    // Before anything runs: a refusal throws to the caller (never a silent SCHED_OTHER loop).
    if (this.realtime) this.sched = applyRealtime(kWhere, this.realtime);
    this.running = true;
    const b = nativeTcpBinding();
    if (this.idleName === 'backoff' && b) {
      const prev = b.threadTimerSlackNs(1000);
      this.timerSlackNs = prev < 0 ? prev : 1000;
    }
    this.lastWorkMs = performance.now();
    this.nextBudgetMs = this.lastWorkMs + kRealtimeSpinPeriodUs / 1000;
    this.immediate = setImmediate(this.idleName === 'block' ? this.blockSlice : this.slice);
  }

  stop(): void {
    this.running = false;
    if (this.immediate) { clearImmediate(this.immediate); this.immediate = null; }
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }

  /** block: spin while there is work, sleep on the wait set when there is none. */
  private readonly blockSlice = (): void => {
    this.immediate = null;
    if (!this.running) return;
    this.counters.slices++;
    const ws = this.waitSet!;
    const end = performance.now() + this.sliceMs;
    for (let i = 1; ; i++) {
      const w = this.pollAll();
      this.counters.turns++;
      if (w > 0) { this.counters.work += w; this.emptyTurns = 0; if (this.spinMs > 0) this.lastWorkMs = performance.now(); }
      else if (++this.emptyTurns > this.spinTurns && (this.spinMs === 0 || performance.now() - this.lastWorkMs >= this.spinMs)) {
        this.counters.blocks++;
        const r = ws.wait(kMaxBlockUs);
        // Woken by a socket: spin again. By a timeout or the event loop: stay ready to sleep again
        // at the next empty turn (an idle venue costs one poll per wait, not a spin each time).
        if (r & 1) { this.counters.wakeups++; this.emptyTurns = 0; }
        // The event loop has work (a signal, a timer due, other I/O): give it its turn now.
        if (r !== 1) break;
      }
      if ((i & 3) === 0 && performance.now() >= end) break;
    }
    this.immediate = setImmediate(this.blockSlice);
  };

  /** spin / backoff. */
  private readonly slice = (): void => {
    this.immediate = null;
    this.timer = null;
    if (!this.running) return;
    this.counters.slices++;
    const end = performance.now() + this.sliceMs;
    for (let i = 1; ; i++) {
      const w = this.pollAll();
      this.counters.turns++;
      if (w > 0) { this.counters.work += w; this.lastWorkMs = performance.now(); }
      this.idle.idle(w);
      if ((i & 3) === 0) {
        const now = performance.now();
        // Real-time spin: the sleep budget, on the sessions' wait set (a message ends it early).
        if (this.realtime !== null && w === 0 && now >= this.nextBudgetMs) {
          this.counters.budgetSleeps++;
          if (this.waitSet!.wait(this.realtime.sleepUs, false) & 1) this.counters.wakeups++;
          this.nextBudgetMs = performance.now() + kRealtimeSpinPeriodUs / 1000;
        }
        if (now >= end) break;
      }
    }
    if (this.idleName === 'backoff' && this.quietMs > 0 && performance.now() - this.lastWorkMs > this.quietMs) this.timer = setTimeout(this.quiet, 1);
    else this.immediate = setImmediate(this.slice);
  };

  /** backoff, quiet: one poll per timer tick until there is work again. */
  private readonly quiet = (): void => {
    this.timer = null;
    if (!this.running) return;
    this.counters.quietPolls++;
    const w = this.pollAll();
    if (w > 0) {
      this.counters.work += w;
      this.lastWorkMs = performance.now();
      this.idle.reset();
      this.immediate = setImmediate(this.slice);
      return;
    }
    this.timer = setTimeout(this.quiet, 1);
  };

  stats(): { idle: VenueIdle; spinTurns: number; spinUs: number; timerSlackNs: number; sched: ThreadSchedPolicy | null; realtimeSleepUs: number } & VenueLoop['counters'] {
    return { idle: this.idleName, spinTurns: this.spinTurns, spinUs: this.spinUs, timerSlackNs: this.timerSlackNs, sched: this.sched, realtimeSleepUs: this.realtime?.sleepUs ?? 0, ...this.counters };
  }
}
