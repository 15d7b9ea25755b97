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
 * Threading contract: run() on the worker; requestStop()/isStopped() from any thread.
 */
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

  /** Asks the runner using `control` to stop after its current turn. */
  static requestStop(control: SharedArrayBuffer): void {
    const c = new Int32Array(control);
    Atomics.compareExchange(c, kRunnerStateI32, kRunnerRunning, kRunnerStopRequested);
  }

  static isStopped(control: SharedArrayBuffer): boolean {
    return Atomics.load(new Int32Array(control), kRunnerStateI32) === kRunnerStopped;
  }
}
