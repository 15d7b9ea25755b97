import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderRouter } from '../../lib/router/order-router';
import { OrderManager } from '../../lib/router/order-manager';
import { RiskChecker } from '../../lib/router/risk-checker';
import { SmartRouter } from '../../lib/router/smart-router';
import { OrderJournal } from '../../lib/router/journal';
import type { RejectReason, RouterListener, Side } from '../../lib/router/types';
import type { VenueConnector, VenueListener, VenueOrder } from '../../lib/router/venue';

class Venue implements VenueConnector {
  readonly protocol = 'ouch' as const;
  resendsIdempotently = true;
  listener!: VenueListener;
  up = true;
  ids: string[] = [];                  // every child id this venue was told about
  pendingReplaces: { orig: string; next: string; qty: number; price: number }[] = [];
  constructor(readonly name: string) {}
  setListener(l: VenueListener): void { this.listener = l; }
  async connect(): Promise<void> { /* in memory */ }
  sendNew(o: VenueOrder): boolean { if (!this.up) return false; this.ids.push(o.clOrdId); return true; }
  sendCancel(): boolean { return this.up; }
  sendReplace(orig: string, next: string, _s: string, _d: Side, qty: number, price: number): boolean {
    if (!this.up) return false;
    this.ids.push(next);
    this.pendingReplaces.push({ orig, next, qty, price });
    return true;
  }
  async close(): Promise<void> { /* in memory */ }
  stats(): Record<string, number> { return {}; }
}

/** Checks the caller-visible contract while recording. */
class ContractListener implements RouterListener {
  outcomes = new Map<string, string[]>();  // id -> accepted/rejected events
  terminal = new Set<string>();
  /** The parent state each terminal event means. */
  terminalState = new Map<string, number>();
  cum = new Map<string, number>();
  violations: string[] = [];
  private after(id: string, what: string): void {
    if (this.terminal.has(id)) this.violations.push(`${what} after terminal for ${id}`);
  }
  private outcome(id: string, what: string): void {
    const l = this.outcomes.get(id) ?? [];
    l.push(what);
    this.outcomes.set(id, l);
  }
  onAccepted(id: string): void { this.outcome(id, 'accepted'); }
  onRejected(id: string, _r: RejectReason): void {
    if (!this.outcomes.has(id) || this.outcomes.get(id)!.length === 0) this.outcome(id, 'rejected');
    this.after(id, 'rejected');
    this.terminal.add(id);
    this.terminalState.set(id, 6);
  }
  onAcked(id: string): void { this.after(id, 'acked'); }
  onPartiallyFilled(id: string, q: number, _p: number, cum: number): void { this.fill(id, q, cum); }
  onFilled(id: string, q: number, _p: number, cum: number): void { this.fill(id, q, cum); this.terminal.add(id); this.terminalState.set(id, 4); }
  onCancelled(id: string): void { this.after(id, 'cancelled'); this.terminal.add(id); this.terminalState.set(id, 5); }
  replaced = 0;
  onReplaced(id: string): void { this.after(id, 'replaced'); this.replaced++; }
  onVenueReject(id: string): void { this.after(id, 'venueReject'); }
  onRequestRejected(): void { /* a refused cancel/replace is always allowed */ }
  private fill(id: string, q: number, cum: number): void {
    this.after(id, 'fill');
    const prev = this.cum.get(id) ?? 0;
    if (prev + q !== cum) this.violations.push(`${id}: cum ${cum} != ${prev} + ${q}`);
    this.cum.set(id, cum);
  }
}

type Cmd =
  | { t: 'send'; sym: number; side: number; qty: number; px: number; tif: number }
  | { t: 'cancel' | 'kill' | 'release'; k: number }
  | { t: 'replace'; k: number; qty: number; px: number }
  | { t: 'ack' | 'reject' | 'replaced'; k: number; v: number }
  | { t: 'fill' | 'vcancel'; k: number; v: number; qty: number; all: boolean }
  | { t: 'session'; v: number; up: boolean };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('send' as const), sym: fc.nat(2), side: fc.nat(2), qty: fc.integer({ min: 1, max: 400 }), px: fc.integer({ min: -3, max: 3 }), tif: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('cancel' as const, 'kill' as const, 'release' as const), k: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('replace' as const), k: fc.nat(20), qty: fc.integer({ min: 1, max: 500 }), px: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constantFrom('ack' as const, 'reject' as const, 'replaced' as const), k: fc.nat(30), v: fc.nat(1) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constantFrom('fill' as const, 'vcancel' as const), k: fc.nat(30), v: fc.nat(1), qty: fc.integer({ min: 1, max: 300 }), all: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('session' as const), v: fc.nat(1), up: fc.boolean() }) },
);

const SYMBOLS = ['AAPL', 'SPLIT', 'MSFT'];
const SIDES: Side[] = ['B', 'S', 'SS'];

describe('OrderRouter property: random requests and venue events', () => {
  it('every request gets exactly one outcome, nothing follows a terminal event, and the journal recovers what the router holds', function () {
    // 300 runs open 600 journals, each creation made durable by a directory fsync: ~2.5 s of CPU,
    // but on a disk shared with other work the fsyncs alone took 20-30 s.
    this.timeout(90000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-router-prop-'));
    let run = 0;
    const seen = { replaced: 0, filled: 0, cancelled: 0, venueRejected: 0, live: 0 };
    fc.assert(fc.property(fc.array(cmdArb, { minLength: 40, maxLength: 150, size: 'max' }), (cmds) => {
      const file = path.join(dir, `j${run++}.bin`);
      const venues = [new Venue('NSDQ'), new Venue('ARCA')];
      const om = new OrderManager({ capacity: 64 });
      const risk = new RiskChecker({ maxOrderQty: 1000, maxOrderNotional: 1e9, maxDailyNotional: 1e12, maxSymbolNotional: 1e12,
        maxOpenOrdersPerSymbol: 8, priceCollarBps: 100, maxOrdersPerSecond: 1e6 },
      { bestBid: () => 1_000_000, bestAsk: () => 1_000_100 }, om, () => 0);
      const sor = new SmartRouter({ venues: ['NSDQ', 'ARCA'], defaultVenue: 'NSDQ', mode: 'rules',
        rules: { SPLIT: [{ venue: 'NSDQ', share: 1, priority: 1, active: true, feePerShare: 0 },
          { venue: 'ARCA', share: 1, priority: 2, active: true, feePerShare: 0 }] } });
      const journal = OrderJournal.open(file, { fsync: 'never' });
      const listener = new ContractListener();
      const router = new OrderRouter({ risk, smartRouter: sor, orderManager: om, journal, connectors: venues, listener });
      const parents: string[] = [];

      for (const c of cmds) {
        switch (c.t) {
          case 'send': {
            const before = listener.outcomes.size;
            const id = router.sendOrder({ symbol: SYMBOLS[c.sym], side: SIDES[c.side], qty: c.qty,
              price: 1_000_000 + c.px * 6_000, ordType: 'LIMIT', tif: c.tif ? 'IOC' : 'DAY' });
            expect(listener.outcomes.size, 'a new id gets an outcome at once').to.equal(before + 1);
            expect(listener.outcomes.get(id)!.length).to.equal(1);
            parents.push(id);
            break;
          }
          case 'cancel': if (parents.length) router.cancelOrder(parents[c.k % parents.length]); break;
          case 'replace': if (parents.length) router.replaceOrder(parents[c.k % parents.length], c.qty, 1_000_000 + c.px * 6_000); break;
          case 'kill': router.engageKillSwitch('test'); break;
          case 'release': router.releaseKillSwitch(); break;
          case 'session': venues[c.v].listener.onSessionState(c.up ? 'LOGGED_IN' : 'DISCONNECTED', ''); break;
          default: {
            const v = venues[c.v];
            if (v.ids.length === 0) break;
            const id = v.ids[c.k % v.ids.length];
            // 'all': the venue fills or cancels exactly what is left (it knows its own book).
            const slot = om.slotOf(id);
            const qty = c.t === 'fill' || c.t === 'vcancel' ? (c.all && slot >= 0 ? om.leavesQty(slot) : c.qty) : 0;
            if (c.t === 'ack') v.listener.onAck(id, 'x');
            else if (c.t === 'reject') v.listener.onReject(id, 'no');
            else if (c.t === 'fill') v.listener.onFill(id, qty, 1_000_000, `E${Math.random()}`);
            else if (c.t === 'vcancel') v.listener.onCancelled(id, qty, 'venue');
            else {
              const r = v.pendingReplaces.shift();
              if (r) v.listener.onReplaced(r.orig, r.next, r.qty, r.price);
            }
          }
        }
        expect(listener.violations).to.deep.equal([]);
        for (const id of parents) {
          const p = om.slotOf(id);
          if (p >= 0 && om.isParent(p)) expect(om.filled(p)).to.be.at.most(om.qty(p));
        }
      }
      for (const id of parents) expect(listener.outcomes.get(id), id).to.have.length(1);
      // The caller saw every end: a parent the router no longer holds had a terminal event, and a
      // parent it holds had none; reported cumulative fills match the order's fills.
      for (const id of new Set(parents)) {
        const p = om.slotOf(id);
        const live = p >= 0 && om.isParent(p);
        expect(listener.terminal.has(id), `${id} terminal event vs router state`).to.equal(!live);
        if (live) expect(listener.cum.get(id) ?? 0, `${id} reported fills`).to.equal(om.filled(p));
      }

      journal.close();
      const rec = OrderJournal.recover(file);
      expect(rec.tornRecords).to.equal(0);
      const live = parents.filter((id) => { const p = om.slotOf(id); return p >= 0 && om.isParent(p); });
      const recoveredOpen = rec.openParents.map((o) => o.clOrdId)
        .filter((id) => rec.openChildren.some((ch) => ch.parentId === id));
      expect(recoveredOpen.sort()).to.deep.equal([...new Set(live)].sort());
      for (const s of SYMBOLS) expect(rec.positions.get(s) ?? 0, s).to.equal(om.position(s));
      // Every live venue order is in the journal exactly as the router holds it, and nothing else is.
      const liveChildren = om.liveChildSlots();
      expect(rec.openChildren.map((o) => o.clOrdId).sort()).to.deep.equal(liveChildren.map((c) => om.idOf(c)).sort());
      for (const c of liveChildren) {
        const o = rec.orders.get(om.idOf(c))!;
        expect([o.state, o.qty, o.filled, o.cancelled, o.price], om.idOf(c))
          .to.deep.equal([om.state(c), om.qty(c), om.filled(c), om.cancelledQty(c), om.price(c)]);
      }
      // Reported fills equal journaled fills for every accepted order, open or closed.
      for (const id of new Set(parents)) {
        if (listener.outcomes.get(id)![0] !== 'accepted') continue;
        let filled = 0;
        for (const o of rec.orders.values()) if (o.kind === 'child' && o.parentId === id && o.state !== 9) filled += o.filled;
        expect(filled, `${id} journaled fills`).to.equal(listener.cum.get(id) ?? 0);
        // The parent's journaled state: what the router holds while it is open, what its terminal
        // event said once it ended (a whole order's parent is derived from its child's records).
        const p = om.slotOf(id);
        const expectedState = p >= 0 && om.isParent(p) ? om.state(p) : listener.terminalState.get(id);
        const journaled = rec.orders.get(id)!.state;
        if (p >= 0 && om.isParent(p) && rec.orders.get(id)!.symbol === 'SPLIT') {
          // A split order's parent is journaled on fills, cancels and rejects, not on sends and acks.
          expect([4, 5, 6, 9], `${id} journaled parent state`).to.not.include(journaled);
        } else {
          expect(journaled, `${id} journaled parent state`).to.equal(expectedState);
        }
        if (rec.orders.get(id)!.state === 4) seen.filled++;
        if (rec.orders.get(id)!.state === 5) seen.cancelled++;
      }
      seen.replaced += listener.replaced;
      seen.live += live.length;
      // Restart: a fresh router restores the same open orders and fills.
      const om2 = new OrderManager({ capacity: 64 });
      const j2 = OrderJournal.open(file, { fsync: 'never' });
      const r2 = new OrderRouter({ risk: new RiskChecker({ maxOrderQty: 1000, maxOrderNotional: 1e9, maxDailyNotional: 1e12,
        maxSymbolNotional: 1e12, maxOpenOrdersPerSymbol: 8, priceCollarBps: 100, maxOrdersPerSecond: 1e6 },
      { bestBid: () => 1_000_000, bestAsk: () => 1_000_100 }, om2, () => 0),
      smartRouter: sor, orderManager: om2, journal: j2, connectors: [new Venue('NSDQ'), new Venue('ARCA')], listener: new ContractListener() });
      expect(r2.restoreFromJournal()).to.equal(new Set(live).size);
      for (const id of new Set(live)) {
        const a = om.slotOf(id);
        const b = om2.slotOf(id);
        expect(b, id).to.be.at.least(0);
        expect([om2.filled(b), om2.qty(b)], id).to.deep.equal([om.filled(a), om.qty(a)]);
      }
      for (const s of SYMBOLS) expect(om2.position(s)).to.equal(om.position(s));
      j2.close();
      fs.unlinkSync(file);
    }), { numRuns: 300 });
    fs.rmSync(dir, { recursive: true, force: true });
    // The generator must reach the interesting paths, or the property says little.
    expect(seen.replaced, 'replaces confirmed').to.be.greaterThan(5);
    expect(seen.filled, 'orders filled').to.be.greaterThan(20);
    expect(seen.cancelled, 'orders cancelled').to.be.greaterThan(20);
    expect(seen.live, 'orders open at the end').to.be.greaterThan(20);
  });
});
