/**
 * Opens and closes a venue session at the edges of its SessionWindow (routing_config.yml
 * `venues[].schedule`), for the OUCH and FIX connectors alike: the connector calls `start` from
 * connect() and `poll(nowMs)` every turn of its owner's loop, and gets `onOpen` when a window
 * begins (log on; a new session day) and `onClose` when it ends (log out, no reconnect). As with
 * ReconnectSchedule, the edges run on the loop's clock, and a backstop timer (unref'd) covers an
 * owner that does not poll. The clock is injected so tests need not wait for a real day.
 *
 * Threading: the connector's thread; no allocation per poll (one compare until an edge is due).
 */
import type { SessionWindow, WindowSpan } from '../../protocols/session-schedule';

const kMaxTimerMs = 2 ** 31 - 1;

export class SessionGate {
  /** The window the session is in now (null: closed). */
  private span: WindowSpan | null = null;
  private started = false;
  /** When the next edge is due (the window's end, or the next start). */
  private nextEdge = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly window: SessionWindow, private readonly now: () => number,
    private readonly onOpen: (span: WindowSpan) => void, private readonly onClose: (nextStart: number) => void) {}

  /** From connect(): the window open now, or null; the edges are watched from here on. */
  start(): WindowSpan | null {
    const t = this.now();
    this.started = true;
    this.span = this.window.windowAt(t);
    this.arm(t);
    return this.span;
  }

  stop(): void {
    this.started = false;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }

  get isOpen(): boolean { return !this.started || this.span !== null; }

  /** One turn of the owner's loop. */
  poll(nowMs: number): void {
    if (!this.started || nowMs < this.nextEdge) return;
    const was = this.span;
    const now = this.window.windowAt(nowMs);
    this.span = now;
    // A window that ends where the next begins (start == end) closes and opens: a new day.
    if (was !== null && (now === null || now.start !== was.start)) this.onClose(now !== null ? now.start : this.window.nextStartAfter(nowMs));
    if (now !== null && (was === null || now.start !== was.start)) this.onOpen(now);
    this.arm(nowMs);
  }

  /** '' while open; else what the router tells a refused order. */
  closedDetail(): string {
    if (this.isOpen) return '';
    return `session window ${this.window.describe()} is closed; it opens at ${new Date(this.window.nextStartAfter(this.now())).toISOString()}`;
  }

  private arm(t: number): void {
    this.nextEdge = this.span !== null ? this.span.end : this.window.nextStartAfter(t);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.now();
      if (now < this.nextEdge) this.arm(now); else this.poll(now);   // a timer may fire a little early
    }, Math.min(kMaxTimerMs, Math.max(1, this.nextEdge - t)));
    this.timer.unref();
  }
}
