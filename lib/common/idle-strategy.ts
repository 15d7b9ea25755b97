import { TickpathError } from '../errors';

/**
 * What a worker does after one turn of its duty cycle: `idle(doWork())`, Aeron-agent style.
 * A non-zero work count resets any back-off; zero means "nothing to do, wait a little".
 *
 * Threading contract: an instance belongs to exactly one thread (it keeps per-thread state).
 */
export interface IdleStrategy {
  readonly name: IdleStrategyName;
  idle(workCount: number): void;
  reset(): void;
}

export type IdleStrategyName = 'spin' | 'yield' | 'backoff';
export const kIdleStrategyNames: readonly IdleStrategyName[] = ['spin', 'yield', 'backoff'];

/**
 * Why Atomics.wait and not setImmediate: a stage worker owns its thread and runs a synchronous
 * `while (running) idle(doWork())` loop, so there is no event loop to yield to. Node has no
 * sched_yield(), but Atomics.wait on a private Int32Array (nobody ever notifies it) with a short
 * timeout becomes a futex sleep: the core is handed to another thread for about the timeout, with
 * no allocation and no event-loop turn. setImmediate is the right tool only for code that must keep
 * its event loop alive (the main thread with sockets); see `idleAsync` below.
 *
 * Node allows Atomics.wait on the main thread too, but there it blocks timers and I/O.
 */
function makeParkCell(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/**
 * How a park sleeps for `micros`: by default a futex sleep on a private cell (Atomics.wait, woken
 * only by its timeout). A worker whose stage owns sockets passes one that sleeps in epoll on them
 * for the same time instead (the router stage's venue sessions, router-stage.ts), so a packet ends
 * the park at once while ring input still waits at most the park, as it does here: nobody
 * notifies a park cell, and a native wake could not end an Atomics.wait anyway.
 */
export type Parker = (micros: number) => void;

export function futexParker(): Parker {
  const cell = makeParkCell();
  return (micros) => { Atomics.wait(cell, 0, 0, micros / 1000); };
}

/** Never gives the core away: lowest wake-up latency, burns a full CPU. For pinned, isolated cores. */
export class BusySpinIdleStrategy implements IdleStrategy {
  readonly name = 'spin' as const;
  idle(_workCount: number): void {
    // Deliberately empty: the caller's loop is the spin.
  }
  reset(): void {}
}

/** Gives the core away for `parkMicros` on every empty turn: for shared cores (2-core boxes, CI). */
export class YieldIdleStrategy implements IdleStrategy {
  readonly name = 'yield' as const;
  private readonly park: Parker;
  private readonly parkMicros: number;

  constructor(parkMicros = 1, park?: Parker) {
    validateMicros('YieldIdleStrategy', 'parkMicros', parkMicros);
    this.parkMicros = parkMicros;
    this.park = park ?? futexParker();
  }

  idle(workCount: number): void {
    if (workCount > 0) return;
    this.park(this.parkMicros);
  }
  reset(): void {}
}

export interface BackoffOptions {
  /** Empty turns spent spinning before the first park. */
  maxSpins?: number;
  /** Empty turns spent parking for minParkMicros before the park time starts doubling. */
  maxYields?: number;
  minParkMicros?: number;
  maxParkMicros?: number;
  /** How a park sleeps (default: futexParker()); see Parker. */
  park?: Parker;
}

/**
 * Spin, then short parks, then parks doubling up to maxParkMicros (Aeron's BackoffIdleStrategy).
 * Keeps latency low while traffic flows and gives the core back when the feed is quiet.
 */
export class BackoffIdleStrategy implements IdleStrategy {
  readonly name = 'backoff' as const;
  readonly maxSpins: number;
  readonly maxYields: number;
  readonly minParkMicros: number;
  readonly maxParkMicros: number;
  private readonly park: Parker;
  private spins = 0;
  private yields = 0;
  private parkMicros: number;

  constructor(options: BackoffOptions = {}) {
    this.maxSpins = options.maxSpins ?? 100;
    this.maxYields = options.maxYields ?? 10;
    this.minParkMicros = options.minParkMicros ?? 1;
    this.maxParkMicros = options.maxParkMicros ?? 1000;
    validateCount('BackoffIdleStrategy', 'maxSpins', this.maxSpins);
    validateCount('BackoffIdleStrategy', 'maxYields', this.maxYields);
    validateMicros('BackoffIdleStrategy', 'minParkMicros', this.minParkMicros);
    validateMicros('BackoffIdleStrategy', 'maxParkMicros', this.maxParkMicros);
    if (this.maxParkMicros < this.minParkMicros) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `BackoffIdleStrategy: option 'maxParkMicros' is ${this.maxParkMicros}, expected a number >= minParkMicros (${this.minParkMicros})`,
      );
    }
    this.parkMicros = this.minParkMicros;
    this.park = options.park ?? futexParker();
  }

  idle(workCount: number): void {
    if (workCount > 0) {
      if (this.spins !== 0 || this.yields !== 0) this.reset();
      return;
    }
    if (this.spins < this.maxSpins) {
      this.spins++;
      return;
    }
    if (this.yields < this.maxYields) {
      this.yields++;
      this.park(this.minParkMicros);
      return;
    }
    this.park(this.parkMicros);
    const next = this.parkMicros * 2;
    this.parkMicros = next < this.maxParkMicros ? next : this.maxParkMicros;
  }

  reset(): void {
    this.spins = 0;
    this.yields = 0;
    this.parkMicros = this.minParkMicros;
  }

  /** Current park time; exposed so tests can see the back-off progress. */
  get currentParkMicros(): number {
    return this.parkMicros;
  }
}

export function createIdleStrategy(name: IdleStrategyName, options: BackoffOptions = {}): IdleStrategy {
  switch (name) {
    case 'spin':
      return new BusySpinIdleStrategy();
    case 'yield':
      return new YieldIdleStrategy(options.minParkMicros ?? 1, options.park);
    case 'backoff':
      return new BackoffIdleStrategy(options);
    default:
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `createIdleStrategy: option 'name' is ${JSON.stringify(name)}, expected one of ${kIdleStrategyNames.join(', ')}`,
      );
  }
}

/**
 * For loops that must keep their event loop turning (main thread with sockets or timers): resolves
 * at once when work was done, else after one setImmediate so pending I/O callbacks run first.
 * Allocates a Promise per empty turn, so it is for control-plane loops, not per-packet paths.
 */
export function idleAsync(workCount: number): Promise<void> | undefined {
  if (workCount > 0) return undefined;
  return new Promise<void>((resolve) => setImmediate(resolve));
}

function validateCount(where: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new TickpathError(
      'ERR_INVALID_OPTION',
      `${where}: option '${name}' is ${JSON.stringify(value)}, expected an integer >= 0`,
    );
  }
}

function validateMicros(where: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1_000_000) {
    throw new TickpathError(
      'ERR_INVALID_OPTION',
      `${where}: option '${name}' is ${JSON.stringify(value)}, expected a number of microseconds in (0, 1000000]`,
    );
  }
}
