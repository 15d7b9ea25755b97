/**
 * Restart recovery for the order router, kept apart from live routing (order-router.ts) because it
 * runs once, at start-up, and reasons about a different question: which of the orders the journal
 * holds are still live, and what to do with the requests that were in flight when the process died.
 *
 *  restore(): rebuilds open orders, positions, used ids, day notional and seen exec ids from what
 *    the journal held when it was opened. Before any new order.
 *  resume(): once the venue sessions are logged in, settles the requests that were in flight:
 *    - cancels are sent again to every venue (a cancel for a gone order is refused, which only
 *      returns the order to its previous state);
 *    - new orders never acknowledged and replaces never answered are sent again with the same ids
 *      when the connector says its venue ignores an id it has already seen that day
 *      (`VenueConnector.resendsIdempotently`, true for OUCH tokens); otherwise (FIX, whose venue
 *      would reject a reused ClOrdID and make the router wrongly mark a live order rejected) new
 *      orders get an order status request and replaces one for the original and one for the new
 *      ClOrdID (`requestReplaceStatus`), so the order ends as the venue holds it.
 *
 * Threading: the router's thread, start-up only; allocation here is fine.
 */
import { TickpathError } from '../errors';
import type { OrderJournal } from './journal';
import type { OrderManager } from './order-manager';
import type { RiskChecker } from './risk-checker';
import { OrderState } from './types';
import type { VenueConnector, VenueOrder } from './venue';

export interface RestartContext {
  readonly om: OrderManager;
  readonly risk: RiskChecker;
  readonly journal: OrderJournal;
  /** Indexed like the journal's venue numbers (the SmartRouter's venue order). */
  readonly connectors: readonly VenueConnector[];
  /** Exec ids seen per venue, filled from the journal so a replayed fill is not counted twice. */
  readonly execIds: readonly Set<string>[];
  /**
   * Filled here: restored child slot -> its id and the highest venue sequence number applied to it,
   * so a venue message the venue replays after the restart (a partial cancel, which carries no id
   * of its own) is not applied twice.
   */
  readonly restoredSeqs?: Map<number, { id: string; seq: number }>;
}

export interface ResumeResult {
  /** Requests sent again with their original ids. */
  resent: number;
  /** Order status requests sent (venues that refuse a reused id: FIX). */
  statusRequests: number;
  /** Children restored with a request in flight at the crash (new, cancel or replace). */
  inFlightAtCrash: number;
  /** Child ids whose fate only the venue knows (order status request). */
  toReconcile: string[];
}

export class RestartRecovery {
  /** Children restored with a request in flight: restore() fills them, resume() settles them. */
  private readonly pendingNew: number[] = [];
  private readonly pendingCancel: number[] = [];
  private readonly pendingReplace: number[] = [];
  /** Every child restored with a request in flight, kept after resume() to tell when all are settled. */
  private readonly inFlightSlots: number[] = [];
  private readonly venueOrder: VenueOrder = {
    clOrdId: '', symbol: '', side: 'B', qty: 0, price: 0, ordType: 'LIMIT', tif: 'DAY',
  };

  constructor(private readonly ctx: RestartContext) {}

  /** Returns how many open parent orders came back. */
  restore(): number {
    const { om, risk, journal, execIds } = this.ctx;
    const rec = journal.recovered;
    for (const [id, o] of rec.orders) {
      risk.reserveClOrdId(id);
      if (o.kind === 'parent' && o.state !== OrderState.REJECTED) {
        risk.restoreNotional(o.symbol, (o.qty * o.price) / 10000);
      }
    }
    let restored = 0;
    for (const parent of rec.openParents) {
      const children = rec.openChildren.filter((c) => c.parentId === parent.clOrdId);
      if (children.length === 0) continue;
      const p = om.createParent(parent.clOrdId, parent.symbol, parent.side, parent.qty, parent.price,
        parent.ordType, parent.tif);
      if (p < 0) throw new TickpathError('ERR_ROUTER_RESTORE', `OrderRouter: cannot restore ${parent.clOrdId} (table full)`);
      for (const ch of children) {
        const c = om.restoreChild(p, ch.clOrdId, ch.venue, ch.qty, ch.price, ch.state, ch.filled, ch.cancelled);
        if (c >= 0 && ch.venueSeq > 0) this.ctx.restoredSeqs?.set(c, { id: ch.clOrdId, seq: ch.venueSeq });
        if (ch.state === OrderState.SENT) this.pendingNew.push(c);
        else if (ch.state === OrderState.PENDING_CANCEL && om.requestCancel(c) === c) this.pendingCancel.push(c);
        else if (ch.state === OrderState.PENDING_REPLACE && ch.pendingId !== '' &&
          om.requestReplace(c, ch.pendingId, ch.pendingQty, ch.pendingPrice) === c) {
          risk.reserveClOrdId(ch.pendingId);
          this.pendingReplace.push(c);
        }
      }
      // Totals over every child the parent ever had (finished ones included), except ids that were
      // replaced: their successor carries the same shares.
      let qty = 0;
      let filled = 0;
      for (const o of rec.orders.values()) {
        if (o.kind === 'child' && o.parentId === parent.clOrdId && o.state !== OrderState.REPLACED) {
          qty += o.qty;
          filled += o.filled;
        }
      }
      om.restoreParentTotals(p, qty, filled);
      restored++;
    }
    for (const [symbol, shares] of rec.positions) om.setPosition(symbol, shares);
    for (const key of rec.fillExecIds) {
      const slash = key.indexOf('/');
      const v = Number(key.slice(0, slash));
      if (v >= 0 && v < execIds.length) execIds[v].add(key.slice(slash + 1));
    }
    this.ctx.connectors.forEach((c, v) => { if (execIds[v].size > 0) c.restoreExecIds?.(execIds[v]); });
    return restored;
  }

  /** Children restored with a request in flight (before resume()). */
  get pendingCount(): number {
    return this.pendingNew.length + this.pendingCancel.length + this.pendingReplace.length;
  }

  resume(): ResumeResult {
    const { om, connectors } = this.ctx;
    let resent = 0;
    const toReconcile: string[] = [];
    for (const c of this.pendingCancel) {
      if (om.state(c) !== OrderState.PENDING_CANCEL) continue;
      if (connectors[om.venueOf(c)].sendCancel(om.idOf(c), om.symbolOf(c), om.sideOf(c), om.leavesQty(c))) resent++;
      else toReconcile.push(om.idOf(c));
    }
    for (const c of this.pendingNew) {
      if (om.state(c) !== OrderState.SENT) continue;
      const conn = connectors[om.venueOf(c)];
      if (!conn.resendsIdempotently) { toReconcile.push(om.idOf(c)); continue; }
      const vo = this.venueOrder;
      vo.clOrdId = om.idOf(c); vo.symbol = om.symbolOf(c); vo.side = om.sideOf(c); vo.qty = om.qty(c);
      vo.price = om.price(c); vo.ordType = om.ordTypeOf(c); vo.tif = om.tifOf(c);
      if (conn.sendNew(vo)) resent++; else toReconcile.push(vo.clOrdId);
    }
    let statusRequests = 0;
    for (const c of this.pendingReplace) {
      if (om.state(c) !== OrderState.PENDING_REPLACE) continue;
      const conn = connectors[om.venueOf(c)];
      if (conn.resendsIdempotently) {
        if (conn.sendReplace(om.idOf(c), om.pendingIdOf(c) as string, om.symbolOf(c), om.sideOf(c),
          om.pendingReplaceQty(c), om.pendingReplacePrice(c))) resent++;
        else toReconcile.push(om.idOf(c));
        continue;
      }
      // FIX: ask about both ids; the answers settle it to whatever the venue holds.
      const vo = this.venueOrder;
      vo.clOrdId = om.idOf(c); vo.symbol = om.symbolOf(c); vo.side = om.sideOf(c); vo.qty = om.qty(c);
      vo.price = om.price(c); vo.ordType = om.ordTypeOf(c); vo.tif = om.tifOf(c);
      if (conn.requestReplaceStatus && conn.requestReplaceStatus(vo, om.pendingIdOf(c) as string, om.pendingReplaceQty(c),
        om.pendingReplacePrice(c), om.filled(c))) statusRequests += 2;
      else toReconcile.push(vo.clOrdId);
    }
    for (const c of this.pendingNew) this.inFlightSlots.push(c);
    for (const c of this.pendingCancel) this.inFlightSlots.push(c);
    for (const c of this.pendingReplace) this.inFlightSlots.push(c);
    this.pendingNew.length = 0;
    this.pendingCancel.length = 0;
    this.pendingReplace.length = 0;
    // What only the venue knows is asked for (FIX Order Status Request) where the connector can.
    const unasked: string[] = [];
    for (const id of toReconcile) {
      const c = om.slotOf(id);
      const conn = c >= 0 ? connectors[om.venueOf(c)] : undefined;
      if (!conn || !conn.requestStatus) { unasked.push(id); continue; }
      const vo = this.venueOrder;
      vo.clOrdId = id; vo.symbol = om.symbolOf(c); vo.side = om.sideOf(c); vo.qty = om.qty(c);
      vo.price = om.price(c); vo.ordType = om.ordTypeOf(c); vo.tif = om.tifOf(c);
      if (conn.requestStatus(vo, om.filled(c))) statusRequests++; else unasked.push(id);
    }
    return { resent, statusRequests, inFlightAtCrash: this.inFlightSlots.length, toReconcile: unasked };
  }

  /** Restored children whose request in flight at the crash is still unanswered. */
  inFlight(): number {
    const { om } = this.ctx;
    let n = 0;
    for (const c of this.inFlightSlots) {
      const st = om.state(c);
      if (st === OrderState.SENT || st === OrderState.PENDING || st === OrderState.PENDING_CANCEL ||
        st === OrderState.PENDING_REPLACE) n++;
    }
    return n;
  }
}
