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
 * + a base-36 counter, at most 14 characters (OUCH token), unique across restarts. Inside the
 * router a generated id is a number (OrderIdFormat key): it goes into the journal record and, for a
 * connector that asks (`ChildOrder.writeToken`), onto the wire as bytes, and comes back through the
 * keyed venue calls (`KeyedVenueListener`) as a number parsed from the token's bytes. A string is
 * made only where an API speaks strings: `sendOrder`'s return value, a RouterListener, a
 * connector that reads `VenueOrder.clOrdId`. `submitOrder` with an OrderSlotListener
 * (`setOrderListener`) is the path that allocates nothing per order.
 *
 * Threading: everything runs on the router worker; connectors call the VenueListener on the same
 * thread (see venue.ts). Listener callbacks run synchronously inside sendOrder/cancelOrder/... and
 * inside venue callbacks. The VenueOrder passed to `sendNew` is reused: connectors must copy what
 * they need before returning.
 */
import { TickpathError } from '../errors';
import type { OrderJournal } from './journal';
import { JournalRecordType, execIdKey } from './journal';
import { OrderIdFormat } from './order-manager';
import type { OrderManager } from './order-manager';
import type { RiskChecker } from './risk-checker';
import type { SmartRouter } from './smart-router';
import { OrderState, isTerminal, sideCode } from './types';
import type { OrderRequest, OrderSlotListener, RejectReason, RouterListener } from './types';
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
  /** Rare events worth an operator's line (a venue session ended with orders open). */
  log?: (line: string) => void;
}

/** 1+ characters from '!' to '~'. A loop, not a RegExp: it runs for every order (~3 % of a lifecycle as a RegExp). */
function printable(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * VenueListener calls by id key for connectors that read the token's bytes
 * (`OrderRouter.tokenKey`) instead of making a string. `execNo`: a numeric exec id (OUCH match
 * number), unique per venue per day. A key of -1 (not one of this router's ids) is refused as unknown.
 */
export interface KeyedVenueListener extends VenueListener {
  onAckKey(key: number): void;
  onRejectKey(key: number, reason: string): void;
  onFillKey(key: number, qty: number, price: number, execNo: number): void;
  onCancelledKey(key: number, canceledQty: number, reason: string): void;
}

/** ChildOrder's `clOrdId`: the child's id text, made on read. Shared so every instance has the same map. */
const CLORDID_ACCESSOR: PropertyDescriptor = {
  enumerable: true,
  get(this: ChildOrder): string { return this.idText(); },
};

/**
 * The VenueOrder handed to `sendNew`, reused for every child. `clOrdId` is made on first read (a
 * string per order for connectors that read it); `writeToken` writes the same id as bytes.
 */
export class ChildOrder implements VenueOrder {
  declare clOrdId: string;
  symbol = '';
  side: VenueOrder['side'] = 'B';
  qty = 0;
  price = 0;
  ordType: VenueOrder['ordType'] = 'LIMIT';
  tif: VenueOrder['tif'] = 'DAY';
  /** The child's OrderManager slot while `sendNew` runs. */
  slot = -1;

  constructor(private readonly om: OrderManager) {
    // An own enumerable accessor, so `{ ...order }` copies still carry the id. One getter function
    // for every instance: a closure per instance gave each router's ChildOrder a map of its own, so
    // with a second router in the process (a restart drill, a standby, a benchmark's baseline) every
    // access on the send path (routeNew, the connector, the encoder) went polymorphic (~100 ns a send).
    Object.defineProperty(this, 'clOrdId', CLORDID_ACCESSOR);
  }

  /** The id as text (`clOrdId`): a string per call, for connectors that read it. */
  idText(): string {
    return this.om.idOf(this.slot);
  }

  /** Writes the id into `width` bytes padded with `pad` (OUCH: 14, 0x20), no string made. */
  writeToken(b: Uint8Array, o: number, width: number, pad: number): void {
    this.om.writeId(this.slot, b, o, width, pad);
  }

  /** Writes the symbol into 8 bytes padded with `pad` (OUCH: 0x20) from the order table, no string read. */
  writeSymbol(b: Uint8Array, o: number, pad: number): void {
    this.om.writeSymbolPadded(this.slot, b, o, pad);
  }

  /** The id's key (OrderIdFormat), or -1 for an id that is a string. */
  get key(): number {
    return this.om.idKeyOf(this.slot);
  }
}

/** Adapts the string-id RouterListener to the slot calls the router makes. */
class StringIdListener implements OrderSlotListener {
  constructor(private readonly l: RouterListener, private readonly router: OrderRouter) {}
  onAccepted(p: number, n: number): void { this.l.onAccepted(this.router.clOrdIdOf(p), n); }
  onRejected(p: number, r: RejectReason, d: string): void { this.l.onRejected(this.router.clOrdIdOf(p), r, d); }
  onAcked(p: number): void { this.l.onAcked(this.router.clOrdIdOf(p)); }
  onPartiallyFilled(p: number, q: number, px: number, cum: number): void { this.l.onPartiallyFilled(this.router.clOrdIdOf(p), q, px, cum); }
  onFilled(p: number, q: number, px: number, cum: number): void { this.l.onFilled(this.router.clOrdIdOf(p), q, px, cum); }
  onCancelled(p: number, cum: number, reason: string): void { this.l.onCancelled(this.router.clOrdIdOf(p), cum, reason); }
  onReplaced(p: number, q: number, px: number): void { this.l.onReplaced(this.router.clOrdIdOf(p), q, px); }
  onVenueReject(p: number, venue: string, reason: string): void { this.l.onVenueReject(this.router.clOrdIdOf(p), venue, reason); }
  onRequestRejected(clOrdId: string, r: RejectReason, d: string): void { this.l.onRequestRejected(clOrdId, r, d); }
}

/** Exec ids that are numbers, per venue: an open-addressing set that doubles when half full. */
class ExecNumberSet {
  private keys = new Float64Array(1 << 12).fill(-1);
  private count = 0;

  has(n: number): boolean {
    const mask = this.keys.length - 1;
    for (let i = hashNo(n) & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === n) return true;
      if (k === -1) return false;
    }
  }

  add(n: number): void {
    if (this.count * 2 >= this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let i = hashNo(n) & mask;
    while (this.keys[i] !== -1) { if (this.keys[i] === n) return; i = (i + 1) & mask; }
    this.keys[i] = n;
    this.count++;
  }

  clear(): void {
    this.keys.fill(-1);
    this.count = 0;
  }

  /** Rare (the set doubles): one larger typed array, outside the young generation. */
  private grow(): void {
    const old = this.keys;
    this.keys = new Float64Array(old.length * 2).fill(-1);
    this.count = 0;
    for (let i = 0; i < old.length; i++) if (old[i] !== -1) this.add(old[i]);
  }
}

/**
 * The slot of exec number `n`: its low 32 bits as they are, the high ones mixed in. Venue exec
 * numbers (OUCH match numbers) grow nearly one by one, so consecutive fills land in neighbouring
 * slots and an insert touches the cache line the previous one did; a scattering hash made each
 * probe a cache miss in a table of megabytes (~300 ns of a 1.5 us lifecycle in perf:router).
 * A stride of a large power of two would only lengthen probes.
 */
function hashNo(n: number): number {
  return ((n >>> 0) ^ Math.imul((n / 4294967296) >>> 0, 0x9e3779b1)) >>> 0;
}

export class OrderRouter {
  private readonly risk: RiskChecker;
  private readonly sor: SmartRouter;
  private readonly om: OrderManager;
  private readonly journal: OrderJournal;
  private readonly connectors: VenueConnector[];
  private listener: OrderSlotListener;

  private readonly ids: OrderIdFormat;
  private parentSeq = 0;
  private childSeq = 0;
  private readonly childSlots: Int32Array;
  private readonly venueOrder: ChildOrder;
  /** Exec ids seen per venue: a fill replayed after a session recovery is not counted twice. */
  private readonly execIds: Set<string>[];
  /** The same for exec ids that arrive as numbers (keyed venue calls). */
  private readonly execNos: ExecNumberSet[];
  /** The id of the last request refused before it had a slot (listener calls with slot -1). */
  private rejectedId = '';
  private readonly restart: RestartRecovery;
  /** Last venue sequence journaled per venue (endOfBatch). */
  private readonly journaledSeqs: Float64Array;
  /** Our next outbound sequence journaled per venue (FIX; endOfBatch). */
  private readonly journaledOutSeqs: Float64Array;
  /** clOrdIdOf's text per slot, and the id key it was made for (-1: none). */
  private readonly idTexts: string[];
  /**
   * Per parent slot: 1 when the order was journaled as NEW_ORDER (one child for life), whose state
   * recovery derives from the child's records, so it gets no PARENT_STATE records.
   */
  private readonly wholeParents: Uint8Array;
  private readonly idTextKeys: Float64Array;
  /** The venue session identity journaled per venue ('' none yet): endOfBatch compares the connector's. */
  private readonly venueSessions: string[];
  private readonly log: (line: string) => void;
  /**
   * Restored children -> the id and the highest venue sequence the journal shows applied to them
   * (restart.ts fills it): a venue message at or below it is a replay of one already applied.
   * Empty outside the restart window's orders, so live routing pays one size check per cancel.
   */
  private readonly restoredSeqs = new Map<number, { id: string; seq: number }>();
  /** True when the RiskChecker numbers symbols with this router's OrderManager (routeNew passes the index). */
  private readonly sharedSymbols: boolean;

  /** Router-level counters (OrderManager and RiskChecker keep their own). */
  readonly counters = {
    accepted: 0, rejected: 0, duplicateFills: 0, refusedVenueEvents: 0, cancelSendFailures: 0, duplicateVenueEvents: 0,
  };

  constructor(opts: OrderRouterOptions) {
    this.risk = opts.risk;
    this.sor = opts.smartRouter;
    this.om = opts.orderManager;
    this.journal = opts.journal;
    this.sharedSymbols = this.risk.sharesSymbolsWith(this.om);
    this.listener = new StringIdListener(opts.listener, this);
    this.venueOrder = new ChildOrder(this.om);
    this.connectors = this.sor.venues.map((name) => {
      const c = opts.connectors.find((x) => x.name === name);
      if (!c) {
        throw new TickpathError('ERR_ROUTER_NO_CONNECTOR', `OrderRouter: no connector for venue '${name}'`,
          `pass a VenueConnector named '${name}' or remove the venue from routing_config.yml`);
      }
      return c;
    });
    this.execIds = this.connectors.map(() => new Set<string>());
    this.execNos = this.connectors.map(() => new ExecNumberSet());
    this.connectors.forEach((c, i) => c.setListener(this.makeVenueListener(i)));
    // Milliseconds, not seconds: two routers started in the same second (a quick restart, two
    // order tools) must not hand a venue the same ClOrdID. 'P'/'C' + 8 + a 5-digit counter = 14.
    this.ids = new OrderIdFormat((opts.now ?? Date.now)());
    this.om.idFormat = this.ids;
    this.childSlots = new Int32Array(this.sor.sliceQty.length);
    this.idTexts = new Array<string>(this.om.capacity).fill('');
    this.wholeParents = new Uint8Array(this.om.capacity);
    this.idTextKeys = new Float64Array(this.om.capacity).fill(-1);
    this.journaledSeqs = new Float64Array(this.connectors.length);
    this.journaledOutSeqs = new Float64Array(this.connectors.length);
    this.connectors.forEach((c, i) => {
      this.journaledSeqs[i] = this.journal.recovered.venueSeqs.get(c.name) ?? 0;
      this.journaledOutSeqs[i] = this.journal.recovered.venueOutSeqs.get(c.name) ?? 0;
    });
    this.venueSessions = this.connectors.map((c) => this.journal.recovered.venueSessions.get(c.name) ?? '');
    this.log = opts.log ?? (() => {});
    this.restart = new RestartRecovery({ om: this.om, risk: this.risk, journal: this.journal, connectors: this.connectors, execIds: this.execIds,
      restoredSeqs: this.restoredSeqs });
  }

  // ---------------------------------------------------------------- requests

  /** Returns the client order id at once; the outcome arrives through the RouterListener. */
  sendOrder(req: OrderRequest): string {
    const p = this.submitOrder(req);
    // The slot stays readable until the next order is created, even if the order already ended.
    return p >= 0 ? this.om.idOf(p) : this.rejectedId;
  }

  /**
   * `sendOrder` without the string: returns the parent's slot (valid until the order ends; read
   * its id with `clOrdIdOf`), or -1 when it was refused before it had one (the id is then in the
   * onRejected call).
   */
  submitOrder(req: OrderRequest): number {
    const callerId = req.clOrdId ?? undefined;
    if (typeof callerId === 'string' && this.ids.parse(callerId) >= 0) {
      this.rejectNew(callerId, req, 'INVALID_ORDER', `clOrdId ${callerId}: the router's own id space ('P'/'C' + ${this.ids.epoch})`);
      return -1;
    }
    const key = callerId === undefined ? OrderIdFormat.key(false, ++this.parentSeq) : -1;
    if (!this.journal.writable) { this.rejectNew(this.idText(callerId, key), req, 'JOURNAL_UNAVAILABLE', this.journal.path); return -1; }
    try {
      return this.routeNew(req, callerId, key);
    } catch (e) {
      // A journal write failed mid-order: the error goes to the caller, and with no journal the
      // router must stop trading, so the kill switch goes on and cancels what is open.
      if (!this.journal.writable) this.engageKillSwitch('journal write failed');
      throw e;
    }
  }

  /** A caller's id, or the text of a generated key: only on reject paths. */
  private idText(callerId: string | undefined, key: number): string {
    return callerId !== undefined ? callerId : this.ids.format(key);
  }

  private routeNew(req: OrderRequest, callerId: string | undefined, key: number): number {
    // The symbol is looked up once, here: risk, the order table and the journal go by its index.
    // A symbol the table knows was validated when it was first interned.
    const known = this.sharedSymbols && typeof req.symbol === 'string' ? this.om.symbolIndex(req.symbol) : -1;
    const invalid = validateRequest(req, callerId, known >= 0);
    if (invalid !== null) return this.rejectNew(this.idText(callerId, key), req, 'INVALID_ORDER', invalid);
    const price = req.ordType === 'MARKET' ? 0 : req.price;
    const sym = known >= 0 ? known : this.sharedSymbols ? this.om.internSymbol(req.symbol) : -1;
    // Generated ids are unique by construction: only a caller's id is checked against used ids.
    // The throttle reads the journal's clock (one load, no clock call).
    const riskReason = this.risk.checkNew(req, callerId === undefined ? null : callerId, sym, this.journal.clockMs);
    if (riskReason !== null) return this.rejectNew(this.idText(callerId, key), req, riskReason, this.risk.lastDetail);
    const n = this.sor.route(req.symbol, req.side, req.qty, price, req.ordType);
    if (n === 0) {
      // Rare path: a venue down because its session window is closed is said so, with when it opens.
      const closed = this.closedSessionWindows();
      if (closed !== '') return this.rejectNew(this.idText(callerId, key), req, 'SESSION_CLOSED', closed);
      return this.rejectNew(this.idText(callerId, key), req, 'NO_ROUTE', `no venue up for ${req.symbol}`);
    }
    if (this.om.freeSlots < n + 1) return this.rejectNew(this.idText(callerId, key), req, 'ORDER_TABLE_FULL', `${this.om.capacity} slots`);
    const p = callerId === undefined
      ? this.om.createParentKey(key, req.symbol, req.side, req.qty, price, req.ordType, req.tif, sym)
      : this.om.createParent(callerId, req.symbol, req.side, req.qty, price, req.ordType, req.tif);
    if (p < 0) return this.rejectNew(this.idText(callerId, key), req, 'DUPLICATE_CLORDID', `${this.idText(callerId, key)} is live`);

    const journal = this.journal;
    // An order routed whole to one venue is one record, NEW_ORDER (parent and child), where the
    // journal's layout has it; a split order is NEW_PARENT and one NEW_CHILD per venue.
    const whole = n === 1 && this.sor.sliceQty[0] === req.qty && journal.layout >= 3;
    this.wholeParents[p] = whole ? 1 : 0;
    if (!whole) journal.appendOrder(JournalRecordType.NEW_PARENT, this.om, p, null, 0, 0, '');
    for (let i = 0; i < n; i++) {
      // SENT is set (the child is created in it) and journaled before the send (NEW_CHILD or
      // NEW_ORDER in state SENT), so a connector that answers synchronously, or a crash right after
      // the wire write, finds the order where it should be. A refused send is journaled as REJECTED
      // right after.
      const c = this.om.createSentChildKey(p, OrderIdFormat.key(true, ++this.childSeq), this.sor.sliceVenue[i], this.sor.sliceQty[i], price);
      this.childSlots[i] = c;
      journal.appendOrder(whole ? JournalRecordType.NEW_ORDER : JournalRecordType.NEW_CHILD, this.om, c, null, 0, 0, p);
    }
    this.counters.accepted++;
    this.listener.onAccepted(p, n);

    const vo = this.venueOrder;
    vo.symbol = req.symbol;
    vo.side = req.side;
    vo.price = price;
    vo.ordType = req.ordType;
    vo.tif = req.tif;
    for (let i = 0; i < n; i++) {
      const c = this.childSlots[i];
      const venue = this.om.venueOf(c);
      vo.slot = c;
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
        this.om.rejectAt(c);
        journal.appendOrder(JournalRecordType.STATE, this.om, c, reason, 0, 0, p);
        this.listener.onVenueReject(p, this.sor.venues[venue], reason);
        this.parentChanged(p, before, reason, refusal);
      }
    }
    return p;
  }

  /**
   * Keep-warm (the router stage's OrderPathWarmer, between real orders): takes for writing, with
   * their own values, the lines the next order of `symbol` routed whole to one venue will write in
   * this router's real objects, which the keep-warm's shadow objects cannot reach: the order
   * table's next two free slots and the key table entries of the next parent and child keys
   * (OrderManager.warmNext; the keys are the next counters, so known now), and this router's
   * per-parent-slot arrays at the next parent slot. Also looks the symbol up as routeNew will
   * (a read of the real symbol map). Changes nothing: no counter, key, slot or state moves (see
   * warmNext for why the store-backs are invisible; this router's arrays are likewise only its
   * own thread's). Returns a sum the caller keeps.
   */
  warmNextOrder(symbol: string): number {
    const om = this.om;
    const sym = om.symbolIndex(symbol);
    const sum = om.warmNext(OrderIdFormat.key(false, this.parentSeq + 1), OrderIdFormat.key(true, this.childSeq + 1), sym);
    const p = om.nextFreeSlot();
    if (p >= 0) {
      this.wholeParents[p] = this.wholeParents[p];
      this.idTextKeys[p] = this.idTextKeys[p];
    }
    const vo = this.venueOrder;
    return sum + sym + vo.qty + vo.slot;
  }

  /** Replaces the RouterListener with slot calls (no id strings); ids on demand with `clOrdIdOf`. */
  setOrderListener(listener: OrderSlotListener): void {
    this.listener = listener;
  }

  /**
   * The client order id of a parent slot named in an OrderSlotListener call (or returned by
   * submitOrder); for slot -1, the id of the request refused before it had a slot. Allocates for
   * generated ids.
   */
  clOrdIdOf(parentSlot: number): string {
    if (parentSlot < 0) return this.rejectedId;
    // A generated id's text is made once per order and kept with its slot: an order's events
    // (accepted, acked, filled ...) then share one string. A reused slot has another key.
    const key = this.om.idKeyOf(parentSlot);
    if (key < 0) return this.om.idOf(parentSlot);
    if (this.idTextKeys[parentSlot] !== key) {
      this.idTexts[parentSlot] = this.om.idOf(parentSlot);
      this.idTextKeys[parentSlot] = key;
    }
    return this.idTexts[parentSlot];
  }

  /** Writes a parent's id as ASCII (NUL padded) without making a string. */
  writeClOrdId(parentSlot: number, b: Uint8Array, o: number, width: number): void {
    this.om.writeId(parentSlot, b, o, width, 0);
  }

  /** True while the parent in `parentSlot` is open (it has not ended and released its slot). */
  isLiveOrder(parentSlot: number): boolean {
    return this.om.isParent(parentSlot) && !isTerminal(this.om.state(parentSlot));
  }

  /** Slots the order table has: parent slots are below this. */
  get orderCapacity(): number {
    return this.om.capacity;
  }

  /** The id key of a token read from a venue message (`width` bytes, space or NUL padded), or -1. */
  tokenKey(b: Uint8Array, o: number, width: number): number {
    return this.ids.parseBytes(b, o, width);
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
    const newChildId = this.ids.format(OrderIdFormat.key(true, ++this.childSeq));
    const symbol = om.symbolOf(c);
    const side = om.sideOf(c);
    const reason = this.risk.checkReplace(symbol, side, om.qty(c), om.price(c), childNewQty, newPrice, null);
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
      this.journal.appendOrder(JournalRecordType.STATE, om, c, 'VENUE_UNAVAILABLE', 0, 0, p);
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
    for (const s of this.execNos) s.clear();
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
    const outSeqs = this.journaledOutSeqs;
    for (let v = 0; v < this.connectors.length; v++) {
      // One compare per venue: the connector hands back the same string until its session changes.
      const session = this.connectors[v].venueSession;
      if (session !== undefined && session !== '' && session !== this.venueSessions[v]) this.venueSessionChanged(v, session);
      const seq = this.connectors[v].lastSequence;
      // FIX: our own next MsgSeqNum too (a hot standby logs on above it); OUCH has none.
      const out = this.connectors[v].nextOutSequence;
      if ((seq !== undefined && seq > seqs[v]) || (out !== undefined && out > outSeqs[v])) {
        if (seq !== undefined && seq > seqs[v]) seqs[v] = seq;
        if (out !== undefined) outSeqs[v] = out;
        if (this.journal.writable) this.journal.appendVenueSeq(v, this.sor.venues[v], seqs[v], out ?? 0);
      }
    }
    this.journal.flush();
  }

  /**
   * Journals every venue session a connector is logged in to that the journal does not name yet,
   * settling what ended with the old one (see venueSessionChanged). The router stack calls it right
   * after login, before resuming; endOfBatch calls it too. Returns the child orders settled.
   */
  checkVenueSessions(): number {
    let settled = 0;
    for (let v = 0; v < this.connectors.length; v++) {
      const session = this.connectors[v].venueSession;
      if (session !== undefined && session !== '' && session !== this.venueSessions[v]) settled += this.venueSessionChanged(v, session);
    }
    return settled;
  }

  /**
   * The venue answered the login with another session than the one journaled: a new day, or a
   * fresh venue (a restarted simulator). Its sequence numbers and exec ids start again, and the
   * orders we still hold open there ended with the old session: they are settled as cancelled,
   * journaled with reason DONE_FOR_DAY, and stop counting against the open-order limit. The first
   * session a journal sees is only recorded (a journal written before sessions were recorded
   * cannot tell). Rare: a scan of the order table.
   */
  private venueSessionChanged(v: number, session: string): number {
    const old = this.venueSessions[v];
    this.venueSessions[v] = session;
    if (!this.journal.writable) return 0;
    const name = this.sor.venues[v];
    this.journal.appendVenueSession(v, name, session);
    if (old === '') return 0;
    this.journaledSeqs[v] = 0;
    this.journaledOutSeqs[v] = 0;
    this.execIds[v].clear();
    this.execNos[v].clear();
    for (const slot of [...this.restoredSeqs.keys()]) if (this.om.venueOf(slot) === v) this.restoredSeqs.delete(slot);
    const om = this.om;
    let settled = 0;
    let shares = 0;
    const detail = `done for day: venue ${name} session ${old} ended (now ${session})`;
    for (const c of om.liveChildSlots()) {
      if (om.venueOf(c) !== v) continue;
      const p = om.parentOf(c);
      const before = om.state(p);
      const leaves = om.leavesQty(c);
      if (leaves <= 0 || om.cancelledAt(c, leaves) < 0) continue;
      this.journal.appendOrder(JournalRecordType.STATE, om, c, 'DONE_FOR_DAY', 0, 0, p);
      this.parentChanged(p, before, 'DONE_FOR_DAY', detail);
      settled++;
      shares += leaves;
    }
    this.log(`router: venue ${name} answered with session ${session}, not ${old} (a new day or a fresh venue): ` +
      `${settled} order(s) open there in the old session settled as done for day (${shares} shares), open-order limits released`);
    return settled;
  }

  /**
   * Rebuilds open orders, positions, used ids and day notional from what the journal held when it
   * was opened (restart.ts). Call once, before any new order. Returns how many open parent orders came back.
   */
  restoreFromJournal(): number {
    const n = this.restart.restore();
    // Ids of this router's own format in the journal (a restart with the same clock reading, as
    // tests do) must never be handed out again: the counters continue after them.
    for (const id of this.journal.recovered.orders.keys()) {
      const key = this.ids.parse(id);
      if (key < 0) continue;
      const seq = Math.floor(key / 2);
      if (OrderIdFormat.isChildKey(key)) { if (seq > this.childSeq) this.childSeq = seq; } else if (seq > this.parentSeq) this.parentSeq = seq;
    }
    return n;
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

  private makeVenueListener(venue: number): KeyedVenueListener {
    // One listener object per venue, made at start-up: the venue index rides in the closure. The
    // string calls find the slot by id (a key parse, else a Map), the keyed calls by key.
    const om = this.om;
    return {
      onAck: (clOrdId) => this.onVenueAck(om.onAck(clOrdId)),
      onReject: (clOrdId, reason) => this.onVenueReject(venue, om.slotOf(clOrdId), clOrdId, -1, reason),
      onFill: (clOrdId, qty, price, execId) => this.onVenueFill(venue, om.slotOf(clOrdId), clOrdId, -1, qty, price, execId, -1),
      onCancelled: (clOrdId, qty, reason) => this.onVenueCancelled(venue, om.slotOf(clOrdId), clOrdId, -1, qty, reason),
      onReplaced: (orig, next, qty, price) => this.onVenueReplaced(orig, next, qty, price),
      onSessionState: (state) => this.onVenueSession(venue, state),
      onAckKey: (key) => this.onVenueAck(key >= 0 ? om.ackAt(om.lookupChildKey(key)) : this.unknownKey()),
      onRejectKey: (key, reason) => this.onVenueReject(venue, key >= 0 ? om.slotOfKey(key) : -1, undefined, key, reason),
      onFillKey: (key, qty, price, execNo) => this.onVenueFill(venue, key >= 0 ? om.slotOfKey(key) : -1, undefined, key, qty, price, '', execNo),
      onCancelledKey: (key, qty, reason) => this.onVenueCancelled(venue, key >= 0 ? om.slotOfKey(key) : -1, undefined, key, qty, reason),
    };
  }

  /** '' or, per venue whose session window is closed now, its name and why ('; ' between venues). */
  private closedSessionWindows(): string {
    let out = '';
    for (let v = 0; v < this.connectors.length; v++) {
      const why = this.connectors[v].sessionWindowClosed;
      if (why) out += `${out === '' ? '' : '; '}venue ${this.sor.venues[v]}: ${why}`;
    }
    return out;
  }

  /** The sequence number of the venue message being handled (the connector's last), 0 if it has none. */
  private venueSeqNow(venue: number): number {
    return this.connectors[venue].lastSequence ?? 0;
  }

  /** True when the venue message being handled was already applied to restored child `slot` before the restart. */
  private replayedToRestored(venue: number, slot: number): boolean {
    if (slot < 0) return false;
    const r = this.restoredSeqs.get(slot);
    if (r === undefined) return false;
    if (this.om.idOf(slot) !== r.id || isTerminal(this.om.state(slot))) { this.restoredSeqs.delete(slot); return false; }
    const seq = this.venueSeqNow(venue);
    return seq > 0 && seq <= r.seq;
  }

  private unknownKey(): number {
    this.om.unknownOrders++;
    return -1;
  }

  /** The child of a venue event: by id string when given, else by key (negative results counted by the manager). */
  private eventChild(clOrdId: string | undefined, key: number): number {
    if (clOrdId !== undefined) return -2;   // the string transition methods look it up themselves
    return key >= 0 ? this.om.lookupChildKey(key) : this.unknownKey();
  }

  private onVenueAck(c: number): void {
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    const p = this.om.parentOf(c);
    this.journal.appendOrder(JournalRecordType.STATE, this.om, c, null, 0, 0, p);
    if (this.om.ackedChildCount(p) === 1) this.listener.onAcked(p);
  }

  /** `execId` (a string) or `execNo` (a number, >= 0) names the execution. */
  private onVenueFill(venue: number, slot: number, clOrdId: string | undefined, key: number, qty: number, price: number,
    execId: string, execNo: number): void {
    const byNo = execNo >= 0;
    const seen = this.execIds[venue];
    const seenNo = this.execNos[venue];
    // A restart fills the string set from the journal; a numeric exec id is looked up there too
    // (its key is its decimal digits), which makes a string only while that set is not empty.
    const strKey = byNo ? '' : execIdKey(execId);
    if (byNo ? seenNo.has(execNo) || (seen.size > 0 && seen.has(String(execNo))) : seen.has(strKey)) {
      this.counters.duplicateFills++;
      return;
    }
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = clOrdId !== undefined ? this.om.onFill(clOrdId, qty) : this.om.fillAt(this.eventChild(undefined, key), qty);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    // The exec id key rides in the record's refId so a restarted router still drops a fill the
    // venue replays (a connector that logs in from sequence 1 replays the whole day).
    if (byNo) {
      seenNo.add(execNo);
      this.journal.appendFillNo(this.om, c, qty, price, execNo, this.venueSeqNow(venue));
    } else {
      seen.add(strKey);
      this.journal.appendOrder(JournalRecordType.FILL, this.om, c, null, qty, price, strKey, this.venueSeqNow(venue));
    }
    const cum = this.om.filled(p);
    if (this.om.state(p) === OrderState.FILLED) this.listener.onFilled(p, qty, price, cum);
    else this.listener.onPartiallyFilled(p, qty, price, cum);
    this.parentChanged(p, before, null, 'fill');
  }

  private onVenueCancelled(venue: number, slot: number, clOrdId: string | undefined, key: number, qty: number, reason: string): void {
    // A cancel carries no id of its own: one the venue replays after a restart (its sequence at or
    // below what the journal shows applied to this order) would take the shares off twice.
    if (this.restoredSeqs.size > 0 && this.replayedToRestored(venue, slot)) { this.counters.duplicateVenueEvents++; return; }
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = clOrdId !== undefined ? this.om.onCancelled(clOrdId, qty) : this.om.cancelledAt(this.eventChild(undefined, key), qty);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    this.journal.appendOrder(JournalRecordType.STATE, this.om, c, null, 0, 0, p, this.venueSeqNow(venue));
    this.parentChanged(p, before, null, reason);
  }

  private onVenueReject(venue: number, slot: number, clOrdId: string | undefined, key: number, reason: string): void {
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = clOrdId !== undefined ? this.om.onReject(clOrdId) : this.om.rejectAt(this.eventChild(undefined, key));
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    this.journal.appendOrder(JournalRecordType.STATE, this.om, c, 'VENUE_REJECT', 0, 0, p);
    this.listener.onVenueReject(p, this.sor.venues[venue], reason);
    this.parentChanged(p, before, 'VENUE_REJECT', reason);
  }

  private onVenueReplaced(origClOrdId: string, newClOrdId: string, qty: number, price: number): void {
    const slot = this.om.slotOf(origClOrdId);
    const p = slot >= 0 ? this.om.parentOf(slot) : -1;
    const before = p >= 0 ? this.om.state(p) : 0;
    const c = this.om.onReplaced(origClOrdId, newClOrdId, qty, price);
    if (c < 0) { this.counters.refusedVenueEvents++; return; }
    this.journal.appendOrder(JournalRecordType.REPLACED, this.om, c, null, 0, 0, origClOrdId);
    this.listener.onReplaced(p, this.om.qty(p), price);
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
    if (this.wholeParents[p] === 0) this.journal.appendOrder(JournalRecordType.PARENT_STATE, this.om, p, rejectReason, 0, 0, '');
    if (after === OrderState.CANCELLED) this.listener.onCancelled(p, this.om.filled(p), detail);
    else if (after === OrderState.REJECTED) {
      this.counters.rejected++;
      this.listener.onRejected(p, rejectReason ?? 'VENUE_REJECT', detail);
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
    this.journal.appendOrder(JournalRecordType.STATE, om, c, null, 0, 0, p);
    const venue = om.venueOf(c);
    if (this.connectors[venue].sendCancel(om.idOf(c), om.symbolOf(c), om.sideOf(c), om.leavesQty(c))) return 1;
    om.revertPending(c);
    this.journal.appendOrder(JournalRecordType.STATE, om, c, 'VENUE_UNAVAILABLE', 0, 0, p);
    this.counters.cancelSendFailures++;
    this.listener.onVenueReject(p, this.sor.venues[venue], 'CANCEL_NOT_SENT: session not logged in');
    return 0;
  }

  private rejectNew(id: string, req: OrderRequest, reason: RejectReason, detail: string): number {
    this.counters.rejected++;
    this.rejectedId = id;
    const side = req.side === 'B' || req.side === 'S' || req.side === 'SS' ? sideCode(req.side) : 255;
    if (this.journal.writable) this.journal.appendRequestRejected(typeof id === 'string' ? id : '', typeof req.symbol === 'string' ? req.symbol : '',
      side, Number.isFinite(req.qty) ? req.qty : 0, Number.isFinite(req.price) ? req.price : 0, reason);
    this.listener.onRejected(-1, reason, detail);
    return -1;
  }
}

/**
 * Null if the request is well formed, else what is wrong. Runs before risk so risk sees clean input.
 * `id` undefined: the router generates it (well formed by construction).
 */
function validateRequest(req: OrderRequest, id: string | undefined, knownSymbol = false): string | null {
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 14 || !printable(id))) {
    return `clOrdId ${JSON.stringify(id)}: expected 1-14 printable ASCII characters`;
  }
  if (!knownSymbol && (typeof req.symbol !== 'string' || req.symbol.length === 0 || req.symbol.length > 8 || !printable(req.symbol))) {
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
