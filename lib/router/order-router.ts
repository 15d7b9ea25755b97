/**
 * The order router: risk -> smart routing -> order state -> journal -> venue, and venue events
 * back into order state, the journal and the caller's RouterListener.
 *
 * Guarantees a desk relies on:
 *  - every request ends in an event: accepted, or rejected with a RejectReason (journaled as a
 *    REQUEST_REJECTED record) — nothing is dropped silently;
 *  - every state change of every order is journaled, and a child's NEW record is written before
 *    it goes to the venue (in the page cache under every fsync policy; with 'always', durable);
 *  - risk runs on every new order and replace; with the kill switch engaged nothing new goes out
 *    and every open order is cancelled.
 *
 * Client order ids: the caller's id (or a generated one) names the parent; each venue sees a
 * generated child id. Generated ids are 'P'/'C' + 8 base-36 digits of the start time (milliseconds)
 * + a base-36 counter, at most 14 characters (OUCH token), unique across restarts.
 *
 * Threading: everything runs on the router worker; connectors call the VenueListener on the same
 * thread (see venue.ts). Listener callbacks run synchronously inside sendOrder/cancelOrder/... and
 * inside venue callbacks. The VenueOrder passed to `sendNew` is reused: connectors must copy what
 * they need before returning.
 */
import { TickpathError } from '../errors';
import type { OrderJournal } from './journal';
import { JournalRecordType, execIdKey } from './journal';
import type { OrderManager } from './order-manager';
import type { RiskChecker } from './risk-checker';
import type { SmartRouter } from './smart-router';
import { OrderState, isTerminal, sideCode } from './types';
import type { OrderRequest, RejectReason, RouterListener } from './types';
import type { SessionState, VenueConnector, VenueListener, VenueOrder } from './venue';
import { RestartRecovery, type ResumeResult } from './restart';

export interface OrderRouterOptions {
  risk: RiskChecker;
  smartRouter: SmartRouter;
  orderManager: OrderManager;
  journal: OrderJournal;
  /** One connector per SmartRouter venue, matched by name. */
  connectors: readonly VenueConnector[];
  listener: RouterListener;
  /** Clock for id generation (seconds part). */
  now?: () => number;
}

const PRINTABLE = /^[\x21-\x7e]+$/;

export class OrderRouter {
  private readonly risk: RiskChecker;
  private readonly sor: SmartRouter;
  private readonly om: OrderManager;
  private readonly journal: OrderJournal;
  private readonly connectors: VenueConnector[];
  private readonly listener: RouterListener;

  private readonly epoch: string;
  private parentSeq = 0;
  private childSeq = 0;
  private readonly childSlots: Int32Array;
  private readonly venueOrder: VenueOrder = {
    clOrdId: '', symbol: '', side: 'B', qty: 0, price: 0, ordType: 'LIMIT', tif: 'DAY',
  };
  /** Exec ids seen per venue: a fill replayed after a session recovery is not counted twice. */
  private readonly execIds: Set<string>[];
  private readonly restart: RestartRecovery;
  /** Last venue sequence journaled per venue (endOfBatch). */
  private readonly journaledSeqs: Float64Array;

  /** Router-level counters (OrderManager and RiskChecker keep their own). */
  readonly counters = {
    accepted: 0, rejected: 0, duplicateFills: 0, refusedVenueEvents: 0, cancelSendFailures: 0,
  };

  constructor(opts: OrderRouterOptions) {
    this.risk = opts.risk;
    this.sor = opts.smartRouter;
    this.om = opts.orderManager;
    this.journal = opts.journal;
    this.listener = opts.listener;
    this.connectors = this.sor.venues.map((name) => {
      const c = opts.connectors.find((x) => x.name === name);
      if (!c) {
        throw new TickpathError('ERR_ROUTER_NO_CONNECTOR', `OrderRouter: no connector for venue '${name}'`,
          `pass a VenueConnector named '${name}' or remove the venue from routing_config.yml`);
      }
      return c;
    });
    this.execIds = this.connectors.map(() => new Set<string>());
    this.connectors.forEach((c, i) => c.setListener(this.makeVenueListener(i)));
    // Milliseconds, not seconds: two routers started in the same second (a quick restart, two
    // order tools) must not hand a venue the same ClOrdID. 'P'/'C' + 8 + a 5-digit counter = 14.
    const ms = Math.floor((opts.now ?? Date.now)()) % 2821109907456;   // 36^8
    this.epoch = ms.toString(36).padStart(8, '0');
    this.childSlots = new Int32Array(this.sor.sliceQty.length);
    this.journaledSeqs = new Float64Array(this.connectors.length);
    this.connectors.forEach((c, i) => { this.journaledSeqs[i] = this.journal.recovered.venueSeqs.get(c.name) ?? 0; });
    this.restart = new RestartRecovery({ om: this.om, risk: this.risk, journal: this.journal, connectors: this.connectors, execIds: this.execIds });
  }

  // ---------------------------------------------------------------- requests

  /** Returns the client order id at once; the outcome arrives through the RouterListener. */
  sendOrder(req: OrderRequest): string {
    const id = req.clOrdId ?? this.nextId('P');
    if (!this.journal.writable) return this.rejectNew(id, req, 'JOURNAL_UNAVAILABLE', this.journal.path);
    try {
      return this.routeNew(req, id);
    } catch (e) {
      // A journal write failed mid-order: the error goes to the caller, and with no journal the
      // router must stop trading, so the kill switch goes on and cancels what is open.
      if (!this.journal.writable) this.engageKillSwitch('journal write failed');
      throw e;
    }
  }

  private routeNew(req: OrderRequest, id: string): string {
    const invalid = validateRequest(req, id);
    if (invalid !== null) return this.rejectNew(id, req, 'INVALID_ORDER', invalid);
    const price = req.ordType === 'MARKET' ? 0 : req.price;
    const riskReason = this.risk.checkNew(req, id);
    if (riskReason !== null) return this.rejectNew(id, req, riskReason, this.risk.lastDetail);
    const n = this.sor.route(req.symbol, req.side, req.qty, price, req.ordType);
    if (n === 0) return this.rejectNew(id, req, 'NO_ROUTE', `no venue up for ${req.symbol}`);
    if (this.om.freeSlots < n + 1) return this.rejectNew(id, req, 'ORDER_TABLE_FULL', `${this.om.capacity} slots`);
    const p = this.om.createParent(id, req.symbol, req.side, req.qty, price, req.ordType, req.tif);
    if (p < 0) return this.rejectNew(id, req, 'DUPLICATE_CLORDID', `${id} is live`);

    const journal = this.journal;
    journal.appendOrder(JournalRecordType.NEW_PARENT, this.om, p, null, 0, 0, '');
    for (let i = 0; i < n; i++) {
      const cid = this.nextId('C');
      this.risk.reserveClOrdId(cid);
      const c = this.om.createChild(p, cid, this.sor.sliceVenue[i], this.sor.sliceQty[i], price);
      this.childSlots[i] = c;
      // SENT is set and journaled before the send (one record: NEW_CHILD in state SENT), so a
      // connector that answers synchronously, or a crash right after the wire write, finds the
      // order where it should be. A refused send is journaled as REJECTED right after.
      this.om.markSent(c);
      journal.appendOrder(JournalRecordType.NEW_CHILD, this.om, c, null, 0, 0, id);
    }
    this.counters.accepted++;
    this.listener.onAccepted(id, n);

    const vo = this.venueOrder;
    vo.symbol = req.symbol;
    vo.side = req.side;
    vo.price = price;
    vo.ordType = req.ordType;
    vo.tif = req.tif;
    for (let i = 0; i < n; i++) {
      const c = this.childSlots[i];
      const venue = this.om.venueOf(c);
      vo.clOrdId = this.om.idOf(c);
      vo.qty = this.om.qty(c);
      // A connector refuses (false: not logged in) or throws (the order cannot be put in its
      // protocol, e.g. OUCH's 6-digit share field): either way the child is rejected here,
      // journaled and reported, never left SENT.
      let refusal: string | undefined;
      try {
        if (!this.connectors[venue].sendNew(vo)) refusal = 'session not logged in';
      } catch (err) {
        refusal = (err as Error).message;
      }
      if (refusal !== undefined) {
        const reason = refusal === 'session not logged in' ? 'VENUE_UNAVAILABLE' : 'INVALID_ORDER';
        const before = this.om.state(p);
        this.om.onReject(vo.clOrdId);
        journal.appendOrder(JournalRecordType.STATE, this.om, c, reason, 0, 0, id);
        this.listener.onVenueReject(id, this.sor.venues[venue], reason);
        this.parentChanged(p, before, reason, refusal);
      }
    }
    return id;
  }

  /** Cancels every open child of the order. Returns the id; refusals arrive as onRequestRejected. */
  cancelOrder(clOrdId: string): string {
    const p = this.om.slotOf(clOrdId);
    if (p < 0 || !this.om.isParent(p) || isTerminal(this.om.state(p))) {
      this.listener.onRequestRejected(clOrdId, 'UNKNOWN_ORDER', 'not an open order');
      return clOrdId;
    }
    const sent = this.cancelChildren(p);
    if (sent === 0) this.listener.onRequestRejected(clOrdId, 'ILLEGAL_STATE', 'no child order can be cancelled now');
    return clOrdId;
  }

  /**
   * Changes the order's total quantity and price. The client id stays the same; the venue sees a
   * new child id. Only orders working on one venue can be replaced (REPLACE_SPLIT_ORDER otherwise).
   */
  replaceOrder(clOrdId: string, newQty: number, newPrice: number): string {
    const om = this.om;
    const p = om.slotOf(clOrdId);
    if (p < 0 || !om.isParent(p) || isTerminal(om.state(p))) {
      this.listener.onRequestRejected(clOrdId, 'UNKNOWN_ORDER', 'not an open order');
      return clOrdId;
    }
    if (om.liveChildCount(p) !== 1) {
      this.listener.onRequestRejected(clOrdId, 'REPLACE_SPLIT_ORDER', `${om.liveChildCount(p)} venues`);
      return clOrdId;
    }
    const c = om.firstLiveChild(p);
    const childNewQty = newQty - (om.qty(p) - om.qty(c));
    if (!Number.isInteger(newQty) || !Number.isInteger(newPrice) || newPrice <= 0 ||
      childNewQty <= om.filled(c) + om.cancelledQty(c)) {
      this.listener.onRequestRejected(clOrdId, 'INVALID_ORDER', `qty ${newQty} price ${newPrice}`);
      return clOrdId;
    }
    const st = om.state(c);
    if (st !== OrderState.ACKNOWLEDGED && st !== OrderState.PARTIALLY_FILLED) {
      this.listener.onRequestRejected(clOrdId, 'ILLEGAL_STATE', `child is ${st}`);
      return clOrdId;
    }
    const newChildId = this.nextId('C');
    const symbol = om.symbolOf(c);
    const side = om.sideOf(c);
    const reason = this.risk.checkReplace(symbol, side, om.qty(c), om.price(c), childNewQty, newPrice, newChildId);
    if (reason !== null) {
      this.listener.onRequestRejected(clOrdId, reason, this.risk.lastDetail);
      return clOrdId;
    }
    const oldChildId = om.idOf(c);
    om.requestReplace(c, newChildId, childNewQty, newPrice);
    // The new id and qty/price are journaled so a restart can still match the venue's answer.
    this.journal.appendOrder(JournalRecordType.STATE, om, c, null, childNewQty, newPrice, newChildId);
    if (!this.connectors[om.venueOf(c)].sendReplace(oldChildId, newChildId, symbol, side, childNewQty, newPrice)) {
      om.revertPending(c);
      this.journal.appendOrder(JournalRecordType.STATE, om, c, 'VENUE_UNAVAILABLE', 0, 0, clOrdId);
      this.listener.onRequestRejected(clOrdId, 'VENUE_UNAVAILABLE', this.sor.venues[om.venueOf(c)]);
    }
    return clOrdId;
  }

  /**
   * Blocks new orders and replaces (RiskChecker) and cancels every open order on every venue.
   * Returns how many cancels went out; cancels a connector refused are counted in
   * `counters.cancelSendFailures` and reported per order through onVenueReject.
   */
  engageKillSwitch(reason: string): number {
    this.risk.engageKillSwitch(reason);
    let sent = 0;
    for (const c of this.om.liveChildSlots()) sent += this.cancelChild(c);
    return sent;
  }

  releaseKillSwitch(): void {
    this.risk.releaseKillSwitch();
  }

  /**
   * Journals the last sequence number processed from a venue session, so a restart can ask the
   * venue to resend from there. Connectors (or their owner) call it once per batch of messages.
   */
  recordVenueSeq(venueName: string, seq: number): void {
    const v = this.sor.venueIndex(venueName);
    if (v < 0) throw new TickpathError('ERR_ROUTER_UNKNOWN_VENUE', `OrderRouter: unknown venue '${venueName}'`);
    this.journal.appendVenueSeq(v, venueName, seq);
  }

  /** Sequence number recovered from the journal for a venue (0 if none). */
  recoveredVenueSeq(venueName: string): number {
    return this.journal.recovered.venueSeqs.get(venueName) ?? 0;
  }

  /** Start of a trading day: day notional, used ids and exec ids are forgotten (open orders are kept). */
  resetDay(): void {
    this.risk.resetDay();
    for (const s of this.execIds) s.clear();
    for (const c of this.om.liveChildSlots()) this.risk.reserveClOrdId(this.om.idOf(c));
  }

  /**
   * End of the caller's batch: journals each venue session's latest sequence number if it moved
   * (one record per venue per batch, not one per message), so a restart asks the venue to replay
   * only from there. A sequence journaled late only makes the replay longer: replayed fills are
   * dropped by exec id and replayed acks change nothing.
   */
  endOfBatch(): void {
    const seqs = this.journaledSeqs;
    for (let v = 0; v < this.connectors.length; v++) {
      const seq = this.connectors[v].lastSequence;
      if (seq !== undefined && seq > seqs[v]) {
        seqs[v] = seq;
        if (this.journal.writable) this.journal.appendVenueSeq(v, this.sor.venues[v], seq);
      }
    }
    this.journal.flush();
  }

  /**
   * Rebuilds open orders, positions, used ids and day notional from what the journal held when it
   * was opened (restart.ts). Call once, before any new order. Returns how many open parent orders came back.
   */
  restoreFromJournal(): number {
    return this.restart.restore();
  }

  /** After a restart, once the connectors are logged in: settles the requests in flight at the crash (restart.ts). */
  resumeAfterRestart(): ResumeResult {
    return this.restart.resume();
  }

  /** Restored orders whose request in flight at the crash the venue has not answered yet. */
  restoredInFlight(): number {
    return this.restart.inFlight();
  }

  stats(): Record<string, number> {
    return { ...this.counters, ...this.om.stats(), ...this.risk.stats(), ...prefixed('journal_', this.journal.stats()) };
  }

  // ---------------------------------------------------------------- venue events

  private makeVenueListener(venue: number): VenueListener {
    // One listener object per venue, made at start-up: the venue index rides in the closure.
    return {
      onAck: (clOrdId) => this.onVenueAck(clOrdId),
      onReject: (clOrdId, reason) => this.onVenueReject(venue, clOrdId, reason),
      onFill: (clOrdId, qty, price, execId) => this.onVenueFill(venue, clOrdId, qty, price, execId),
      onCancelled: (clOrdId, qty, reason) => this.onVenueCancelled(clOrdId, qty, reason),
      onReplaced: (orig, next, qty, price) => this.onVenueReplaced(orig, next, qty, price),
      onSessionState: (state) => this.onVenueSession(venue, state),
    };
  }

  private onVenueAck(clOrdId: string): void {
    const c = this.om.onAck(clOrdId);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    const p = this.om.parentOf(c);
    this.journal.appendOrder(JournalRecordType.STATE, this.om, c, null, 0, 0, this.om.idOf(p));
    if (this.om.ackedChildCount(p) === 1) this.listener.onAcked(this.om.idOf(p));
  }

  private onVenueFill(venue: number, clOrdId: string, qty: number, price: number, execId: string): void {
    const seen = this.execIds[venue];
    const key = execIdKey(execId);
    if (seen.has(key)) { this.counters.duplicateFills++; return; }
    const slot = this.om.slotOf(clOrdId);
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = this.om.onFill(clOrdId, qty);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    seen.add(key);
    const pid = this.om.idOf(p);
    // The exec id key rides in the record's refId so a restarted router still drops a fill the
    // venue replays (a connector that logs in from sequence 1 replays the whole day).
    this.journal.appendOrder(JournalRecordType.FILL, this.om, c, null, qty, price, key);
    const cum = this.om.filled(p);
    if (this.om.state(p) === OrderState.FILLED) this.listener.onFilled(pid, qty, price, cum);
    else this.listener.onPartiallyFilled(pid, qty, price, cum);
    this.parentChanged(p, before, null, 'fill');
  }

  private onVenueCancelled(clOrdId: string, qty: number, reason: string): void {
    const slot = this.om.slotOf(clOrdId);
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = this.om.onCancelled(clOrdId, qty);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    this.journal.appendOrder(JournalRecordType.STATE, this.om, c, null, 0, 0, this.om.idOf(p));
    this.parentChanged(p, before, null, reason);
  }

  private onVenueReject(venue: number, clOrdId: string, reason: string): void {
    const slot = this.om.slotOf(clOrdId);
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = this.om.onReject(clOrdId);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    const pid = this.om.idOf(p);
    this.journal.appendOrder(JournalRecordType.STATE, this.om, c, 'VENUE_REJECT', 0, 0, pid);
    this.listener.onVenueReject(pid, this.sor.venues[venue], reason);
    this.parentChanged(p, before, 'VENUE_REJECT', reason);
  }

  private onVenueReplaced(origClOrdId: string, newClOrdId: string, qty: number, price: number): void {
    const slot = this.om.slotOf(origClOrdId);
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = this.om.onReplaced(origClOrdId, newClOrdId, qty, price);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    const pid = this.om.idOf(p);
    this.journal.appendOrder(JournalRecordType.REPLACED, this.om, c, null, 0, 0, origClOrdId);
    this.listener.onReplaced(pid, this.om.qty(p), price);
    this.parentChanged(p, before, null, 'replaced');
  }

  private onVenueSession(venue: number, state: SessionState): void {
    this.sor.setVenueUp(venue, state === 'LOGGED_IN');
  }

  // ---------------------------------------------------------------- internals

  /** Journals a parent whose state moved and reports it if it ended (fills are reported by the caller). */
  private parentChanged(p: number, before: number, rejectReason: RejectReason | null, detail: string): void {
    const after = this.om.state(p);
    if (after === before) return;
    this.journal.appendOrder(JournalRecordType.PARENT_STATE, this.om, p, rejectReason, 0, 0, '');
    const pid = this.om.idOf(p);
    if (after === OrderState.CANCELLED) this.listener.onCancelled(pid, this.om.filled(p), detail);
    else if (after === OrderState.REJECTED) {
      this.counters.rejected++;
      this.listener.onRejected(pid, rejectReason ?? 'VENUE_REJECT', detail);
    }
  }

  private cancelChildren(p: number): number {
    let sent = 0;
    // Collect first: a refused send may not unlink, but keep iteration independent of callbacks.
    let n = 0;
    for (let c = this.om.firstLiveChild(p); c >= 0; c = this.om.nextLiveSibling(c)) this.childSlots[n++] = c;
    for (let i = 0; i < n; i++) sent += this.cancelChild(this.childSlots[i]);
    return sent;
  }

  /** Sends one cancel; 1 if it went out. */
  private cancelChild(c: number): number {
    const om = this.om;
    const st = om.state(c);
    // A cancel already pending (or a replace in flight) is skipped, not an error.
    if (st !== OrderState.SENT && st !== OrderState.ACKNOWLEDGED && st !== OrderState.PARTIALLY_FILLED) return 0;
    om.requestCancel(c);
    const p = om.parentOf(c);
    const pid = om.idOf(p);
    this.journal.appendOrder(JournalRecordType.STATE, om, c, null, 0, 0, pid);
    const venue = om.venueOf(c);
    if (this.connectors[venue].sendCancel(om.idOf(c), om.symbolOf(c), om.sideOf(c), om.leavesQty(c))) return 1;
    om.revertPending(c);
    this.journal.appendOrder(JournalRecordType.STATE, om, c, 'VENUE_UNAVAILABLE', 0, 0, pid);
    this.counters.cancelSendFailures++;
    this.listener.onVenueReject(pid, this.sor.venues[venue], 'CANCEL_NOT_SENT: session not logged in');
    return 0;
  }

  private rejectNew(id: string, req: OrderRequest, reason: RejectReason, detail: string): string {
    this.counters.rejected++;
    const side = req.side === 'B' || req.side === 'S' || req.side === 'SS' ? sideCode(req.side) : 255;
    if (this.journal.writable) this.journal.appendRequestRejected(typeof id === 'string' ? id : '', typeof req.symbol === 'string' ? req.symbol : '',
      side, Number.isFinite(req.qty) ? req.qty : 0, Number.isFinite(req.price) ? req.price : 0, reason);
    this.listener.onRejected(id, reason, detail);
    return id;
  }

  private nextId(kind: 'P' | 'C'): string {
    const n = kind === 'P' ? ++this.parentSeq : ++this.childSeq;
    return kind + this.epoch + n.toString(36);
  }
}

/** Null if the request is well formed, else what is wrong. Runs before risk so risk sees clean input. */
function validateRequest(req: OrderRequest, id: string): string | null {
  if (typeof id !== 'string' || id.length === 0 || id.length > 14 || !PRINTABLE.test(id)) {
    return `clOrdId ${JSON.stringify(id)}: expected 1-14 printable ASCII characters`;
  }
  if (typeof req.symbol !== 'string' || req.symbol.length === 0 || req.symbol.length > 8 || !PRINTABLE.test(req.symbol)) {
    return `symbol ${JSON.stringify(req.symbol)}: expected 1-8 printable ASCII characters`;
  }
  if (req.side !== 'B' && req.side !== 'S' && req.side !== 'SS') return `side ${JSON.stringify(req.side)}: expected 'B', 'S' or 'SS'`;
  if (!Number.isInteger(req.qty) || req.qty <= 0 || req.qty > 0xffffffff) return `qty ${req.qty}: expected a positive integer`;
  if (req.ordType !== 'LIMIT' && req.ordType !== 'MARKET') return `ordType ${JSON.stringify(req.ordType)}: expected 'LIMIT' or 'MARKET'`;
  if (req.tif !== 'DAY' && req.tif !== 'IOC') return `tif ${JSON.stringify(req.tif)}: expected 'DAY' or 'IOC'`;
  if (req.ordType === 'LIMIT' && (!Number.isInteger(req.price) || req.price <= 0 || req.price > 0xffffffff)) {
    return `price ${req.price}: expected a positive Price(4) integer`;
  }
  return null;
}

function prefixed(prefix: string, o: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(o)) out[prefix + k] = o[k];
  return out;
}
