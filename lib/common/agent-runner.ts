import type { IdleStrategy } from './idle-strategy';

/** A pipeline stage's duty cycle: do what is ready, say how much. */
export interface Agent {
  readonly roleName: string;
  /** One turn: poll inputs, handle up to a burst, return the number of items handled (0 = idle). */
  doWork(): number;
  /** Called once on the agent's thread after the last doWork(). */
  onClose?(): void;
}

// Control block shared between the thread that owns a worker and the worker's runner:
//   [kRunnerStateI32]   0 running, 1 stop requested (owner writes), 2 stopped (runner writes)
//   [kRunnerTurnsI32]   turns since start, wrapping (runner writes, relaxed; for liveness checks)
export const kRunnerStateI32 = 0;
export const kRunnerTurnsI32 = 16; // own cache line: written every turn, read rarely
export const kRunnerControlBytes = 128;
export const kRunnerRunning = 0;
export const kRunnerStopRequested = 1;
export const kRunnerStopped = 2;

/**
 * Runs `idle(agent.doWork())` on the current thread until another thread asks it to stop through a
 * shared control block (Aeron's AgentRunner). Synchronous on purpose: a stage worker owns its
 * thread; its event loop does not turn while it runs, so anything the stage needs from
 * postMessage must arrive through shared memory instead.
 *
 * A worker whose stages also need their event loop (venue sockets, the retransmission socket,
 * timers) runs the same loop in slices instead: runSlice() until the slice's time is up, one trip
 * through the event loop, runSlice() again, and close() once stopped and drained.
 *
 * Threading contract: run()/runSlice()/close() on the worker; requestStop()/isStopped() from any thread.
 */
/** runSlice reads the clock at most every this many empty turns. */
const kTurnsPerClockRead = 16;

export class AgentRunner {
  readonly control: Int32Array;

  static createControl(): SharedArrayBuffer {
    return new SharedArrayBuffer(kRunnerControlBytes);
  }

  constructor(
    readonly agent: Agent,
    readonly idle: IdleStrategy,
    control: SharedArrayBuffer = AgentRunner.createControl(),
  ) {
    this.control = new Int32Array(control);
  }

  /** Loops until a stop is requested; returns the number of turns it ran. */
  run(): number {
    const control = this.control;
    const agent = this.agent;
    const idle = this.idle;
    let turns = 0;
    try {
      // The state word is read every turn: it sits on a line nobody writes while running, so the
      // load stays in this core's cache until the owner's stop store invalidates it.
      while (Atomics.load(control, kRunnerStateI32) === kRunnerRunning) {
        idle.idle(agent.doWork());
        turns++;
        control[kRunnerTurnsI32] = turns;
      }
    } finally {
      if (agent.onClose) agent.onClose();
      Atomics.store(control, kRunnerStateI32, kRunnerStopped);
      Atomics.notify(control, kRunnerStateI32);
    }
    return turns;
  }

  /** True once the owner asked this runner to stop. */
  get stopRequested(): boolean {
    return Atomics.load(this.control, kRunnerStateI32) === kRunnerStopRequested;
  }

  /**
   * Runs turns back to back for up to `sliceNs` (read on `nowNs`) and returns the work done, so the
   * caller can let its event loop turn and call again. If a stop was requested when the slice
   * began, the slice also ends at the first turn without work: the inputs are drained. It is the
   * caller that decides when to close() (after a slice that did no work at all, say).
   */
  runSlice(sliceNs: number, nowNs: () => number): number {
    const control = this.control;
    const agent = this.agent;
    const idle = this.idle;
    const draining = this.stopRequested;
    const start = nowNs();
    let work = 0;
    // The slice's time is checked every kTurnsPerClockRead turns (and after any turn that did work),
    // not every turn: on Node 20 a clock read returns a fresh HeapNumber, and a spinning worker's
    // millions of empty turns a second made enough of that garbage to promote short-lived objects.
    let sinceClock = 0;
    for (;;) {
      const w = agent.doWork();
      work += w;
      this.turns++;
      control[kRunnerTurnsI32] = this.turns;
      if (w === 0 && draining) break;
      idle.idle(w);
      if (w > 0 || ++sinceClock >= kTurnsPerClockRead) {
        sinceClock = 0;
        if (nowNs() - start >= sliceNs) break;
      }
    }
    return work;
  }

  /** After the last slice: closes the agent and marks the runner stopped. */
  close(): void {
    try {
      if (this.agent.onClose) this.agent.onClose();
    } finally {
      Atomics.store(this.control, kRunnerStateI32, kRunnerStopped);
      Atomics.notify(this.control, kRunnerStateI32);
    }
  }

  private turns = 0;

  /** Asks the runner using `control` to stop after its current turn. */
  static requestStop(control: SharedArrayBuffer): void {
    const c = new Int32Array(control);
    Atomics.compareExchange(c, kRunnerStateI32, kRunnerRunning, kRunnerStopRequested);
  }

  static isStopped(control: SharedArrayBuffer): boolean {
    return Atomics.load(new Int32Array(control), kRunnerStateI32) === kRunnerStopped;
  }
}
