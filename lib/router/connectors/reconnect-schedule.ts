/**
 * When a venue session's next reconnect attempt is due, shared by the OUCH and FIX connectors.
 * Attempt n waits n * delayMs after the drop. The owner's loop calls `poll(nowMs)` every turn (the
 * native transport's clock drives it); a timer is the backstop for owners that do not poll, so the
 * attempt runs once, whichever comes first. Past `attempts`, `giveUp` is told instead.
 * Threading: the connector's thread.
 */
export class ReconnectSchedule {
  private timer: NodeJS.Timeout | null = null;
  private dueAt = 0;
  private attempt = 0;

  constructor(
    private readonly attempts: number,
    private readonly delayMs: number,
    private readonly attemptNow: (attempt: number) => void,
    private readonly giveUp: (detail: string) => void,
  ) {}

  /** Schedules attempt `attempt` (1 for the first after a drop). */
  schedule(attempt: number): void {
    if (attempt > this.attempts) {
      this.giveUp(`gave up after ${this.attempts} reconnect attempts`);
      return;
    }
    const delay = this.delayMs * attempt;
    this.attempt = attempt;
    this.dueAt = Date.now() + delay;
    this.timer = setTimeout(() => this.fire(), delay + 1);
  }

  /** The owner's loop turn: runs the attempt when it is due on `nowMs`. */
  poll(nowMs: number): void {
    if (this.dueAt !== 0 && nowMs >= this.dueAt) this.fire();
  }

  /** Nothing further: the session is being closed. */
  cancel(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.dueAt = 0;
  }

  private fire(): void {
    if (this.dueAt === 0) return;
    this.cancel();
    this.attemptNow(this.attempt);
  }
}
