import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderRouter } from '../../lib/router/order-router';
import { OrderManager } from '../../lib/router/order-manager';
import { RiskChecker, RiskLimits } from '../../lib/router/risk-checker';
import { SmartRouter, RouteRule } from '../../lib/router/smart-router';
import { OrderJournal, JournalRecordType, RECORD_SIZE, crc32 } from '../../lib/router/journal';
import { OrderState } from '../../lib/router/types';
import type { OrderRequest, RejectReason, RouterListener } from '../../lib/router/types';
import type { Side, VenueConnector, VenueListener, VenueOrder } from '../../lib/router/venue';
import { TickpathError } from '../../lib/errors';

/** In-memory venue double: records what the router sends; the test plays the venue's answers. */
class FakeVenue implements VenueConnector {
  readonly protocol = 'ouch' as const;
  resendsIdempotently = true;
  listener!: VenueListener;
  up = true;
  /** When set, acks every new order from inside sendNew (a connector that answers synchronously). */
  ackInline = false;
  /** When set, sendNew throws (an order the protocol cannot carry). */
  throwOnNew: string | undefined;
  news: VenueOrder[] = [];
  cancels: { clOrdId: string; symbol: string; side: Side; remaining: number }[] = [];
  replaces: { orig: string; next: string; qty: number; price: number }[] = [];
  constructor(readonly name: string) {}
  setListener(l: VenueListener): void { this.listener = l; }
  async connect(): Promise<void> { /* in memory */ }
  sendNew(o: VenueOrder): boolean {
    if (!this.up) return false;
    if (this.throwOnNew) throw new Error(this.throwOnNew);
    this.news.push({ ...o });      // copy: the router reuses the object
    if (this.ackInline) this.listener.onAck(o.clOrdId, `V${o.clOrdId}`);
    return true;
  }
  sendCancel(clOrdId: string, symbol: string, side: Side, remaining: number): boolean {
    if (!this.up) return false;
    this.cancels.push({ clOrdId, symbol, side, remaining });
    return true;
  }
  sendReplace(orig: string, next: string, _s: string, _side: Side, qty: number, price: number): boolean {
    if (!this.up) return false;
    this.replaces.push({ orig, next, qty, price });
    return true;
  }
  async close(): Promise<void> { /* in memory */ }
  stats(): Record<string, number> { return { out: this.news.length }; }
}

class RecordingListener implements RouterListener {
  events: string[] = [];
  onAccepted(id: string, n: number) { this.events.push(`accepted ${id} ${n}`); }
  onRejected(id: string, reason: RejectReason, _d: string) { this.events.push(`rejected ${id} ${reason}`); }
  onAcked(id: string) { this.events.push(`acked ${id}`); }
  onPartiallyFilled(id: string, q: number, p: number, cum: number) { this.events.push(`partial ${id} ${q}@${p} cum ${cum}`); }
  onFilled(id: string, q: number, p: number, cum: number) { this.events.push(`filled ${id} ${q}@${p} cum ${cum}`); }
  onCancelled(id: string, cum: number, reason: string) { this.events.push(`cancelled ${id} cum ${cum} ${reason}`); }
  onReplaced(id: string, qty: number, price: number) { this.events.push(`replaced ${id} ${qty}@${price}`); }
  onVenueReject(id: string, venue: string, reason: string) { this.events.push(`venueReject ${id} ${venue} ${reason}`); }
  onRequestRejected(id: string, reason: RejectReason, _d: string) { this.events.push(`requestRejected ${id} ${reason}`); }
}

const LIMITS: RiskLimits = {
  maxOrderQty: 10_000, maxOrderNotional: 1_000_000, maxDailyNotional: 5_000_000, maxSymbolNotional: 2_000_000,
  maxOpenOrdersPerSymbol: 50, priceCollarBps: 500, maxOrdersPerSecond: 1000,
};
const rule = (venue: string, share: number, priority: number): RouteRule => ({ venue, share, priority, active: true, feePerShare: 0 });

function tmpJournal(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-router-')), 'orders.journal');
}

function build(journalPath = tmpJournal(), capacity = 1024) {
  const venues = [new FakeVenue('NSDQ'), new FakeVenue('ARCA')];
  const listener = new RecordingListener();
  const om = new OrderManager({ capacity });
  const bbo = { bestBid: () => 999_000, bestAsk: () => 1_000_000 };
  const risk = new RiskChecker(LIMITS, bbo, om, () => 0);
  const sor = new SmartRouter({ venues: ['NSDQ', 'ARCA'], defaultVenue: 'NSDQ', mode: 'rules',
    rules: { SPLIT: [rule('NSDQ', 1, 1), rule('ARCA', 1, 2)] } });
  const journal = OrderJournal.open(journalPath, { fsync: 'never' });
  const router = new OrderRouter({ risk, smartRouter: sor, orderManager: om, journal, connectors: venues, listener,
    now: () => 1_700_000_000_000 });
  return { router, venues, nsdq: venues[0], arca: venues[1], listener, om, risk, journal, journalPath };
}

const buy = (over: Partial<OrderRequest> = {}): OrderRequest =>
  ({ symbol: 'AAPL', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY', ...over });

describe('OrderRouter', () => {
  it('looks a new order\'s symbol up once: risk and the order table go by its index; the throttle reads the journal\'s clock, not Date.now', () => {
    const om = new OrderManager({ capacity: 64 });
    const bbo = { bestBid: () => 999_000, bestAsk: () => 1_000_000 };
    const risk = new RiskChecker({ ...LIMITS, maxOpenOrdersPerSymbol: 2, maxOrdersPerSecond: 1e6 }, bbo, om);   // default clock
    const journal = OrderJournal.open(tmpJournal(), { fsync: 'never' });
    const nsdq = new FakeVenue('NSDQ');
    const listener = new RecordingListener();
    const router = new OrderRouter({ risk, orderManager: om, journal, connectors: [nsdq], listener,
      smartRouter: new SmartRouter({ venues: ['NSDQ'], defaultVenue: 'NSDQ', mode: 'rules', rules: {} }) });
    expect(risk.sharesSymbolsWith(om)).to.equal(true);
    const calls = { lookup: 0, intern: 0, openOrders: 0, dateNow: 0 };
    const lookup = om.symbolIndex.bind(om);
    om.symbolIndex = (s: string) => { calls.lookup++; return lookup(s); };
    const intern = om.internSymbol.bind(om);
    om.internSymbol = (s: string) => { calls.intern++; return intern(s); };
    const openOrders = om.openOrders.bind(om);
    om.openOrders = (s: string) => { calls.openOrders++; return openOrders(s); };
    const realNow = Date.now;
    Date.now = () => { calls.dateNow++; return realNow(); };
    try {
      router.sendOrder(buy({ symbol: 'MSFT' }));
      router.sendOrder(buy({ symbol: 'MSFT' }));
      router.sendOrder(buy({ symbol: 'MSFT' }));          // the third open MSFT order: over the limit of 2
      router.sendOrder(buy({ symbol: 'AAPL' }));
    } finally {
      Date.now = realNow;
    }
    // One lookup per order; a symbol seen for the first time is validated and interned once more.
    expect(calls).to.deep.equal({ lookup: 4, intern: 2, openOrders: 0, dateNow: 0 });
    expect(listener.events.filter((e) => e.startsWith('rejected')).map((e) => e.split(' ')[2])).to.deep.equal(['MAX_OPEN_ORDERS']);
    expect(risk.usedSymbolNotional('MSFT')).to.equal(2 * 100 * 100);
    // An invalid symbol is refused before it is interned, every time.
    router.sendOrder(buy({ symbol: 'TOOLONGSYM' }));
    router.sendOrder(buy({ symbol: 'TOOLONGSYM' }));
    expect(listener.events.filter((e) => e.includes('INVALID_ORDER'))).to.have.length(2);
    expect(om.symbolIndex('TOOLONGSYM')).to.equal(-1);
    expect(om.openOrders('MSFT')).to.equal(2);
    journal.close();
    // The journal's records carry the symbol bytes written from the interned index.
    const r = OrderJournal.recover(journal.path);
    expect([...r.orders.values()].filter((o) => o.kind === 'child').map((o) => o.symbol)).to.deep.equal(['MSFT', 'MSFT', 'AAPL']);
  });

  it("a slot reused by a later order reports the later order's generated id (the per-slot id text follows the order)", () => {
    const { router, nsdq, listener } = build(undefined, 4);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = router.sendOrder(buy());
      ids.push(id);
      const child = nsdq.news[i].clOrdId;
      nsdq.listener.onAck(child, `X${i}`);
      nsdq.listener.onFill(child, 100, 1_000_000, `E${i}`);
    }
    expect(new Set(ids).size).to.equal(6);
    expect(listener.events).to.deep.equal(ids.flatMap((id) => [`accepted ${id} 1`, `acked ${id}`, `filled ${id} 100@1000000 cum 100`]));
  });

  it('sends, acks, partially fills and fills an order, reporting each step and the position', () => {
    const { router, nsdq, listener, om } = build();
    const id = router.sendOrder(buy({ clOrdId: 'ORD1' }));
    expect(id).to.equal('ORD1');
    expect(nsdq.news).to.have.length(1);
    const child = nsdq.news[0];
    expect(child).to.include({ symbol: 'AAPL', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' });
    expect(child.clOrdId).to.match(/^C[0-9a-z]{8}1$/);
    nsdq.listener.onAck(child.clOrdId, 'X1');
    nsdq.listener.onFill(child.clOrdId, 40, 999_900, 'E1');
    nsdq.listener.onFill(child.clOrdId, 60, 1_000_000, 'E2');
    expect(listener.events).to.deep.equal([
      'accepted ORD1 1', 'acked ORD1', 'partial ORD1 40@999900 cum 40', 'filled ORD1 60@1000000 cum 100',
    ]);
    expect(om.position('AAPL')).to.equal(100);
    expect(om.openOrders('AAPL')).to.equal(0);
  });

  it('generates a 14-character-or-shorter id when the caller gives none', () => {
    const { router } = build();
    const id = router.sendOrder(buy());
    expect(id).to.match(/^P[0-9a-z]{8}1$/);
    expect(id.length).to.be.at.most(14);
  });

  it('rejects with the risk reason, sends nothing and journals the reject', () => {
    const { router, nsdq, listener, journal, journalPath } = build();
    router.sendOrder(buy({ clOrdId: 'BIG', qty: 20_000 }));
    router.sendOrder(buy({ clOrdId: 'FAR', price: 1_100_000 }));
    expect(nsdq.news).to.have.length(0);
    expect(listener.events).to.deep.equal(['rejected BIG MAX_ORDER_QTY', 'rejected FAR PRICE_COLLAR']);
    journal.close();
    const rec = OrderJournal.recover(journalPath);
    expect(rec.rejectedRequests).to.equal(2);
    expect(rec.orders.get('BIG')).to.include({ state: OrderState.REJECTED, reason: 'MAX_ORDER_QTY', qty: 20_000 });
  });

  it('a connector that throws on an order it cannot encode rejects that order, never leaves it SENT', () => {
    const { router, nsdq, listener, om } = build();
    nsdq.throwOnNew = 'OuchConnector: shares 1000000 do not fit the 6-digit field';
    router.sendOrder(buy({ clOrdId: 'HUGE' }));
    expect(listener.events).to.include('venueReject HUGE NSDQ INVALID_ORDER');
    expect(listener.events[listener.events.length - 1]).to.match(/^rejected HUGE INVALID_ORDER/);
    expect(om.openOrders('AAPL')).to.equal(0);
  });

  it('rejects malformed requests as INVALID_ORDER', () => {
    const { router, listener } = build();
    router.sendOrder(buy({ clOrdId: 'Q0', qty: 0 }));
    router.sendOrder(buy({ clOrdId: 'SYM', symbol: 'TOOLONGSYM' }));
    router.sendOrder(buy({ clOrdId: 'PX', price: 10.5 }));
    router.sendOrder(buy({ clOrdId: 'WAYTOOLONGCLORDID' }));
    expect(listener.events).to.deep.equal(['rejected Q0 INVALID_ORDER', 'rejected SYM INVALID_ORDER',
      'rejected PX INVALID_ORDER', 'rejected WAYTOOLONGCLORDID INVALID_ORDER']);
  });

  it('rejects a duplicate client order id', () => {
    const { router, listener } = build();
    router.sendOrder(buy({ clOrdId: 'D1' }));
    router.sendOrder(buy({ clOrdId: 'D1' }));
    expect(listener.events).to.deep.equal(['accepted D1 1', 'rejected D1 DUPLICATE_CLORDID']);
  });

  it('splits across venues by rule and derives the parent from both children', () => {
    const { router, nsdq, arca, listener } = build();
    router.sendOrder(buy({ clOrdId: 'S1', symbol: 'SPLIT', qty: 101 }));
    expect(nsdq.news.map((o) => o.qty)).to.deep.equal([51]);
    expect(arca.news.map((o) => o.qty)).to.deep.equal([50]);
    nsdq.listener.onAck(nsdq.news[0].clOrdId, 'n');
    arca.listener.onAck(arca.news[0].clOrdId, 'a');
    arca.listener.onFill(arca.news[0].clOrdId, 50, 1_000_000, 'A1');
    nsdq.listener.onFill(nsdq.news[0].clOrdId, 51, 1_000_000, 'N1');
    expect(listener.events).to.deep.equal([
      'accepted S1 2', 'acked S1', 'partial S1 50@1000000 cum 50', 'filled S1 51@1000000 cum 101',
    ]);
  });

  it('reports a venue reject per child and rejects the parent when every child is rejected', () => {
    const { router, nsdq, arca, listener } = build();
    router.sendOrder(buy({ clOrdId: 'R1', symbol: 'SPLIT' }));
    nsdq.listener.onReject(nsdq.news[0].clOrdId, 'halted');
    arca.listener.onReject(arca.news[0].clOrdId, 'halted');
    expect(listener.events).to.deep.equal([
      'accepted R1 2', 'venueReject R1 NSDQ halted', 'venueReject R1 ARCA halted', 'rejected R1 VENUE_REJECT',
    ]);
  });

  it('a send the connector refuses is an explicit VENUE_UNAVAILABLE reject', () => {
    const { router, nsdq, listener, om } = build();
    nsdq.up = false;
    router.sendOrder(buy({ clOrdId: 'U1' }));
    expect(listener.events).to.deep.equal(['accepted U1 1', 'venueReject U1 NSDQ VENUE_UNAVAILABLE', 'rejected U1 VENUE_UNAVAILABLE']);
    expect(om.openOrders('AAPL')).to.equal(0);
  });

  it('routes around a venue whose session went down, and back when it logs in', () => {
    const { router, nsdq, arca } = build();
    nsdq.listener.onSessionState('DISCONNECTED', 'socket closed');
    router.sendOrder(buy({ symbol: 'SPLIT' }));
    expect(nsdq.news).to.have.length(0);
    expect(arca.news.map((o) => o.qty)).to.deep.equal([100]);
    nsdq.listener.onSessionState('LOGGED_IN', '');
    router.sendOrder(buy({ symbol: 'SPLIT' }));
    expect(nsdq.news).to.have.length(1);
  });

  it('cancels the leaves on every venue and reports the parent cancelled with its fills', () => {
    const { router, nsdq, arca, listener } = build();
    router.sendOrder(buy({ clOrdId: 'C1', symbol: 'SPLIT' }));
    nsdq.listener.onAck(nsdq.news[0].clOrdId, 'n');
    arca.listener.onAck(arca.news[0].clOrdId, 'a');
    nsdq.listener.onFill(nsdq.news[0].clOrdId, 20, 1_000_000, 'N1');
    router.cancelOrder('C1');
    expect(nsdq.cancels).to.deep.equal([{ clOrdId: nsdq.news[0].clOrdId, symbol: 'SPLIT', side: 'B', remaining: 30 }]);
    expect(arca.cancels[0].remaining).to.equal(50);
    router.cancelOrder('C1');                                  // both already pending: refused
    nsdq.listener.onCancelled(nsdq.news[0].clOrdId, 30, 'user');
    arca.listener.onCancelled(arca.news[0].clOrdId, 50, 'user');
    expect(listener.events.slice(3)).to.deep.equal(['requestRejected C1 ILLEGAL_STATE', 'cancelled C1 cum 20 user']);
    router.cancelOrder('C1');
    expect(listener.events[5]).to.equal('requestRejected C1 UNKNOWN_ORDER');
  });

  it('replaces a single-venue order under a new venue id and refuses to replace a split one', () => {
    const { router, nsdq, listener, om } = build();
    router.sendOrder(buy({ clOrdId: 'X1' }));
    const first = nsdq.news[0].clOrdId;
    router.replaceOrder('X1', 200, 990_000);
    expect(listener.events[1]).to.equal('requestRejected X1 ILLEGAL_STATE');    // not acked yet
    nsdq.listener.onAck(first, 'n');
    nsdq.listener.onFill(first, 30, 1_000_000, 'E1');
    expect(router.replaceOrder('X1', 200, 990_000)).to.equal('X1');
    const rep = nsdq.replaces[0];
    expect(rep).to.include({ orig: first, qty: 200, price: 990_000 });
    nsdq.listener.onReplaced(first, rep.next, 200, 990_000);
    nsdq.listener.onFill(rep.next, 170, 990_000, 'E2');
    expect(listener.events.slice(-2)).to.deep.equal(['replaced X1 200@990000', 'filled X1 170@990000 cum 200']);
    expect(om.position('AAPL')).to.equal(200);

    router.sendOrder(buy({ clOrdId: 'X2', symbol: 'SPLIT' }));
    router.replaceOrder('X2', 50, 1_000_000);
    expect(listener.events.at(-1)).to.equal('requestRejected X2 REPLACE_SPLIT_ORDER');
  });

  it('a replace that fails risk is refused and the order keeps working', () => {
    const { router, nsdq, listener } = build();
    router.sendOrder(buy({ clOrdId: 'Y1' }));
    nsdq.listener.onAck(nsdq.news[0].clOrdId, 'n');
    router.replaceOrder('Y1', 100, 2_000_000);
    expect(listener.events.at(-1)).to.equal('requestRejected Y1 PRICE_COLLAR');
    expect(nsdq.replaces).to.have.length(0);
    nsdq.listener.onFill(nsdq.news[0].clOrdId, 100, 1_000_000, 'E');
    expect(listener.events.at(-1)).to.equal('filled Y1 100@1000000 cum 100');
  });

  it('kill switch cancels every open order on every venue and blocks new ones', () => {
    const { router, nsdq, arca, listener } = build();
    router.sendOrder(buy({ clOrdId: 'K1', symbol: 'SPLIT' }));
    router.sendOrder(buy({ clOrdId: 'K2' }));
    nsdq.listener.onAck(nsdq.news[1].clOrdId, 'n');
    arca.up = false;                                            // one cancel cannot go out
    const sent = router.engageKillSwitch('desk halt');
    expect(sent).to.equal(2);
    expect(nsdq.cancels.map((c) => c.clOrdId).sort()).to.deep.equal([nsdq.news[0].clOrdId, nsdq.news[1].clOrdId].sort());
    expect(router.counters.cancelSendFailures).to.equal(1);
    expect(listener.events).to.include('venueReject K1 ARCA CANCEL_NOT_SENT: session not logged in');
    router.sendOrder(buy({ clOrdId: 'K3' }));
    expect(listener.events.at(-1)).to.equal('rejected K3 KILL_SWITCH');
    router.releaseKillSwitch();
    router.sendOrder(buy({ clOrdId: 'K4' }));
    expect(listener.events.at(-1)).to.equal('accepted K4 1');
  });

  it('ignores a fill replayed with the same exec id, and counts events for unknown orders', () => {
    const { router, nsdq, listener, om } = build();
    router.sendOrder(buy({ clOrdId: 'F1' }));
    const cid = nsdq.news[0].clOrdId;
    nsdq.listener.onAck(cid, 'n');
    nsdq.listener.onFill(cid, 10, 1_000_000, 'E1');
    nsdq.listener.onFill(cid, 10, 1_000_000, 'E1');
    nsdq.listener.onFill('NOPE', 10, 1_000_000, 'E9');
    expect(om.position('AAPL')).to.equal(10);
    expect(router.counters).to.include({ duplicateFills: 1, refusedVenueEvents: 1 });
    expect(listener.events.filter((e) => e.startsWith('partial'))).to.have.length(1);
  });

  it('resetDay frees the day notional and used ids but keeps open orders working', () => {
    const { router, nsdq, listener, risk, om } = build();
    router.sendOrder(buy({ clOrdId: 'DAY1' }));
    nsdq.listener.onAck(nsdq.news[0].clOrdId, 'n');
    expect(risk.usedDailyNotional).to.equal(10_000);
    router.resetDay();
    expect(risk.usedDailyNotional).to.equal(0);
    router.sendOrder(buy({ clOrdId: 'DAY1' }));                          // still live: refused by the order table
    expect(listener.events.at(-1)).to.equal('rejected DAY1 DUPLICATE_CLORDID');
    nsdq.listener.onFill(nsdq.news[0].clOrdId, 100, 1_000_000, 'E1');
    expect(om.openOrders('AAPL')).to.equal(0);
  });

  it('works with a connector that acks synchronously from inside sendNew', () => {
    const { router, nsdq, listener } = build();
    nsdq.ackInline = true;
    router.sendOrder(buy({ clOrdId: 'I1' }));
    expect(listener.events).to.deep.equal(['accepted I1 1', 'acked I1']);
  });

  it('journals every state change and restores open orders, positions, ids and venue seqs after a restart', () => {
    const a = build();
    a.router.sendOrder(buy({ clOrdId: 'J1', symbol: 'SPLIT' }));     // stays open, partly filled
    a.router.sendOrder(buy({ clOrdId: 'J2' }));                      // fully filled
    a.router.sendOrder(buy({ clOrdId: 'J3' }));                      // replaced, open
    const [n1, n2, n3] = a.nsdq.news.map((o) => o.clOrdId);
    const a1 = a.arca.news[0].clOrdId;
    for (const id of [n1, n2, n3]) a.nsdq.listener.onAck(id, 'x');
    a.arca.listener.onAck(a1, 'x');
    a.nsdq.listener.onFill(n1, 20, 1_000_000, 'E1');
    a.arca.listener.onFill(a1, 50, 1_000_000, 'E2');                 // ARCA child of J1 done
    a.nsdq.listener.onFill(n2, 100, 1_000_000, '123456789012345678-42');   // OUCH-style: match-seq, > 14 chars
    a.router.replaceOrder('J3', 300, 995_000);
    a.nsdq.listener.onReplaced(n3, a.nsdq.replaces[0].next, 300, 995_000);
    a.router.recordVenueSeq('NSDQ', 17);
    a.journal.close();

    const rec = OrderJournal.recover(a.journalPath);
    expect(rec.tornRecords).to.equal(0);
    // J1 split: NEW_PARENT + 2 NEW_CHILD; J2, J3 whole: one NEW_ORDER each; 4 acks, 3 fills + 1
    // parent change (J1 partial; J2's parent follows its child), replace request + REPLACED, venue seq
    expect(rec.records).to.equal(5 + 4 + 4 + 2 + 1);
    // The whole orders' parents, derived from their children's records.
    expect(rec.orders.get('J2')).to.include({ state: OrderState.FILLED, filled: 100, qty: 100 });
    expect(rec.orders.get('J3')).to.include({ state: OrderState.ACKNOWLEDGED, qty: 300, price: 995_000 });
    expect(rec.orders.get('J1')).to.include({ state: OrderState.PARTIALLY_FILLED });

    const b = build(a.journalPath);
    expect(b.router.restoreFromJournal()).to.equal(2);
    expect(b.om.openOrders('SPLIT')).to.equal(1);
    expect(b.om.openOrders('AAPL')).to.equal(1);
    expect(b.om.position('SPLIT')).to.equal(70);
    expect(b.om.position('AAPL')).to.equal(100);
    expect(b.router.recoveredVenueSeq('NSDQ')).to.equal(17);
    const j1 = b.om.slotOf('J1');
    expect(b.om.filled(j1)).to.equal(70);
    expect(b.om.qty(j1)).to.equal(100);
    expect(b.om.state(j1)).to.equal(OrderState.PARTIALLY_FILLED);
    // A fill replayed by the venue after the restart is dropped; new ones land on the restored ids.
    b.nsdq.listener.onFill(n1, 20, 1_000_000, 'E1');
    b.nsdq.listener.onFill(n2, 100, 1_000_000, '123456789012345678-42');  // long exec id replayed too
    expect(b.router.counters.duplicateFills).to.equal(2);
    b.nsdq.listener.onFill(n1, 30, 1_000_000, 'E4');
    expect(b.listener.events.at(-1)).to.equal('filled J1 30@1000000 cum 100');
    b.nsdq.listener.onFill(a.nsdq.replaces[0].next, 300, 995_000, 'E5');
    expect(b.listener.events.at(-1)).to.equal('filled J3 300@995000 cum 300');
    b.router.sendOrder(buy({ clOrdId: 'J2' }));
    expect(b.listener.events.at(-1)).to.equal('rejected J2 DUPLICATE_CLORDID');
    b.journal.close();
    const rec2 = OrderJournal.recover(a.journalPath);
    expect(rec2.openParents).to.have.length(0);
    expect(rec2.orders.get('J3')!.state).to.equal(OrderState.FILLED);
  });

  it('after a restart, resends what was in flight: new orders and replaces to OUCH, cancels everywhere', () => {
    const a = build();
    a.router.sendOrder(buy({ clOrdId: 'N1' }));                       // never acknowledged
    a.router.sendOrder(buy({ clOrdId: 'N2' }));                       // cancel in flight
    a.router.sendOrder(buy({ clOrdId: 'N3' }));                       // replace in flight
    a.router.sendOrder(buy({ clOrdId: 'N4', symbol: 'SPLIT' }));      // ARCA half never acknowledged
    const [c1, c2, c3, c4] = a.nsdq.news.map((o) => o.clOrdId);
    for (const id of [c2, c3, c4]) a.nsdq.listener.onAck(id, 'x');
    a.router.cancelOrder('N2');
    a.router.replaceOrder('N3', 150, 1_001_000);
    const next = a.nsdq.replaces[0].next;
    a.journal.close();                                                // "crash"

    const b = build(a.journalPath);
    b.arca.resendsIdempotently = false;                               // as a FIX venue: reconcile, never re-send
    expect(b.router.restoreFromJournal()).to.equal(4);
    // The fake ARCA connector cannot ask for an order's status: its order is left to reconcile.
    expect(b.router.resumeAfterRestart()).to.deep.equal({ resent: 3, statusRequests: 0, inFlightAtCrash: 4, toReconcile: [a.arca.news[0].clOrdId] });
    expect(b.router.restoredInFlight()).to.equal(4);
    expect(b.nsdq.news.map((o) => o.clOrdId)).to.deep.equal([c1]);
    expect(b.nsdq.news[0]).to.include({ symbol: 'AAPL', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' });
    expect(b.nsdq.cancels.map((c) => c.clOrdId)).to.deep.equal([c2]);
    expect(b.nsdq.replaces).to.deep.equal([{ orig: c3, next, qty: 150, price: 1_001_000 }]);
    // The venue's answers to the resent requests land where they should.
    b.nsdq.listener.onAck(c1, 'x');
    b.nsdq.listener.onCancelled(c2, 100, 'user');
    b.nsdq.listener.onReplaced(c3, next, 150, 1_001_000);
    expect(b.listener.events).to.deep.equal(['acked N1', 'cancelled N2 cum 0 user', 'replaced N3 150@1001000']);
    expect(b.router.counters.refusedVenueEvents).to.equal(0);
    expect(b.router.restoredInFlight(), 'only the ARCA half is still unanswered').to.equal(1);
    expect(b.router.resumeAfterRestart()).to.deep.equal({ resent: 0, statusRequests: 0, inFlightAtCrash: 4, toReconcile: [] });
  });

  it('a failed journal write reaches the caller, engages the kill switch and refuses everything after', () => {
    const { router, nsdq, listener, journal, risk } = build();
    router.sendOrder(buy({ clOrdId: 'G1' }));
    nsdq.listener.onAck(nsdq.news[0].clOrdId, 'n');
    // What the commit thread does when its fdatasync fails with EIO: it publishes the errno.
    const j = journal as unknown as { ctl: Int32Array };
    Atomics.store(j.ctl, 49, 5);
    expect(() => router.sendOrder(buy({ clOrdId: 'G2' }))).to.throw(TickpathError, /fdatasync or growth of .* failed with errno 5/)
      .with.property('code', 'ERR_JOURNAL_WRITE');
    expect(risk.killSwitchEngaged).to.equal(true);
    expect(nsdq.cancels.map((c) => c.clOrdId)).to.include(nsdq.news[0].clOrdId);
    expect(nsdq.news.map((o) => o.clOrdId)).to.have.length(1);       // G2 never reached the venue
    router.sendOrder(buy({ clOrdId: 'G3' }));
    expect(listener.events.at(-1)).to.equal('rejected G3 JOURNAL_UNAVAILABLE');
    expect(journal.stats().lostRecords).to.be.greaterThan(0);
  });

  it('writes a NEW_CHILD record before the order reaches the venue', () => {
    const journalPath = tmpJournal();
    const t = build(journalPath);
    let recordsAtSend = -1;
    const orig = t.nsdq.sendNew.bind(t.nsdq);
    t.nsdq.sendNew = (o) => {
      const rec = OrderJournal.recover(journalPath);   // every policy puts each record in the page cache at once
      recordsAtSend = rec.records;
      expect(rec.orders.get(o.clOrdId)).to.include({ kind: 'child', parentId: 'W1', state: OrderState.SENT });
      return orig(o);
    };
    t.router.sendOrder(buy({ clOrdId: 'W1' }));
    expect(recordsAtSend).to.equal(1);      // NEW_ORDER: the parent and its one child (in state SENT)
    const rec = OrderJournal.recover(journalPath);
    expect(rec.orders.get('W1')).to.include({ kind: 'parent', state: OrderState.SENT, qty: 100, price: 1_000_000, symbol: 'AAPL' });
    expect(JournalRecordType.NEW_ORDER).to.equal(10);
  });

  it('a split order is NEW_PARENT then one NEW_CHILD per venue, each child before its own send', () => {
    const journalPath = tmpJournal();
    const t = build(journalPath);
    const seen: number[] = [];
    for (const v of [t.nsdq, t.arca]) {
      const orig = v.sendNew.bind(v);
      v.sendNew = (o) => {
        const rec = OrderJournal.recover(journalPath);
        seen.push(rec.records);
        expect(rec.orders.get(o.clOrdId)).to.include({ kind: 'child', parentId: 'S1', state: OrderState.SENT });
        expect(rec.orders.get('S1')).to.include({ kind: 'parent', qty: 200 });
        return orig(o);
      };
    }
    t.router.sendOrder(buy({ clOrdId: 'S1', symbol: 'SPLIT', qty: 200 }));
    expect(seen).to.deep.equal([3, 3]);     // NEW_PARENT + 2 NEW_CHILD, all before the first send
  });

  it('continues a layout 2 journal as layout 2: NEW_PARENT and NEW_CHILD, never a NEW_ORDER its writer could not read', () => {
    const journalPath = tmpJournal();
    OrderJournal.open(journalPath, { fsync: 'never' }).close();
    const h = fs.readFileSync(journalPath);
    h.writeUInt16LE(2, 8);
    h.writeUInt32LE(crc32(h, 4, RECORD_SIZE), 0);
    fs.writeFileSync(journalPath, h);
    const t = build(journalPath);
    expect(t.journal.layout).to.equal(2);
    t.router.sendOrder(buy({ clOrdId: 'L2' }));
    t.journal.close();
    const data = fs.readFileSync(journalPath);
    expect(data.readUInt16LE(8)).to.equal(2);
    expect([data[RECORD_SIZE + 16], data[2 * RECORD_SIZE + 16]]).to.deep.equal([JournalRecordType.NEW_PARENT, JournalRecordType.NEW_CHILD]);
    expect(OrderJournal.recover(journalPath).orders.get('L2')).to.include({ kind: 'parent', qty: 100 });
  });
});
