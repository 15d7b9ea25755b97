/**
 * Test listener: records everything a connector reports and keeps per-order state so tests can
 * assert that every order ends in exactly one terminal state and that fills add up.
 */
import type { VenueListener, SessionState } from '../../../lib/router/venue';

/** How often `until` re-checks a condition between listener events. */
const kRecheckMs = 10;

export interface OrderTrack {
  qty: number;
  acked: number;
  rejected: number;
  filled: number;
  cancelled: number;
  replacedBy: string | null;
  terminal: string[];
}

export class RecordingListener implements VenueListener {
  readonly orders = new Map<string, OrderTrack>();
  readonly execIds = new Set<string>();
  readonly duplicateExecIds: string[] = [];
  readonly states: Array<[SessionState, string]> = [];
  readonly rejects: Array<[string, string]> = [];
  readonly replacedQty: Array<[string, number]> = [];
  private waiters: Array<() => void> = [];

  track(clOrdId: string, qty: number): OrderTrack {
    let t = this.orders.get(clOrdId);
    if (!t) {
      t = { qty, acked: 0, rejected: 0, filled: 0, cancelled: 0, replacedBy: null, terminal: [] };
      this.orders.set(clOrdId, t);
    }
    return t;
  }

  private settle(t: OrderTrack, why: string): void {
    if (t.filled + t.cancelled >= t.qty) t.terminal.push(why);
  }

  onAck(clOrdId: string, _venueOrderId: string): void { this.track(clOrdId, 0).acked++; this.wake(); }
  onReject(clOrdId: string, reason: string): void {
    const t = this.track(clOrdId, 0);
    t.rejected++;
    t.terminal.push('rejected');
    this.rejects.push([clOrdId, reason]);
    this.wake();
  }
  onFill(clOrdId: string, qty: number, _price: number, execId: string): void {
    if (this.execIds.has(execId)) this.duplicateExecIds.push(execId);
    this.execIds.add(execId);
    const t = this.track(clOrdId, 0);
    t.filled += qty;
    this.settle(t, 'filled');
    this.wake();
  }
  onCancelled(clOrdId: string, canceledQty: number): void {
    const t = this.track(clOrdId, 0);
    t.cancelled += canceledQty;
    this.settle(t, 'cancelled');
    this.wake();
  }
  /** `qty` is the total order quantity; the new id inherits what the old one filled and cancelled. */
  onReplaced(origClOrdId: string, newClOrdId: string, qty: number): void {
    const old = this.track(origClOrdId, 0);
    old.replacedBy = newClOrdId;
    old.terminal.push('replaced');
    const n = this.track(newClOrdId, 0);
    n.qty = qty;
    n.filled += old.filled;
    n.cancelled += old.cancelled;
    this.replacedQty.push([newClOrdId, qty]);
    this.wake();
  }
  onSessionState(state: SessionState, detail: string): void { this.states.push([state, detail]); this.wake(); }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Resolves when `cond()` holds; rejects after `ms` with `what` in the message. Checked on every
   * listener event and every `kRecheckMs`: a condition on connector or session state (a counter
   * such as `stats().resendCapped`) can become true with no listener event after it, and waiting
   * for the next event alone waited for the timeout whenever that state changed after the first
   * check (a ResendRequest that arrived a moment after the call, on a loaded machine).
   */
  until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        clearInterval(poll);
        if (err) reject(err); else resolve();
      };
      const t = setTimeout(() => finish(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      const poll = setInterval(() => { if (cond()) finish(); }, kRecheckMs);
      const check = () => {
        if (done) return;
        if (cond()) finish(); else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }
}
