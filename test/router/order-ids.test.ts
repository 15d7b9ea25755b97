import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderIdFormat, OrderManager } from '../../lib/router/order-manager';
import { OrderRouter, type KeyedVenueListener } from '../../lib/router/order-router';
import { RiskChecker } from '../../lib/router/risk-checker';
import { SmartRouter } from '../../lib/router/smart-router';
import { OrderJournal } from '../../lib/router/journal';
import { OrderState } from '../../lib/router/types';
import type { OrderRequest, OrderSlotListener, RouterListener } from '../../lib/router/types';
import type { VenueConnector, VenueListener, VenueOrder } from '../../lib/router/venue';
import { EnterOrderEncoder, encodeEnterOrder, encodeEnterOrderFrom, kEnterOrderToken } from '../../lib/protocols/ouch/ouch42';
import type { ChildOrder } from '../../lib/router/order-router';

const EPOCH_MS = 1_700_000_000_000;

describe('OrderIdFormat: ids as numbers, text only at the edges', () => {
  const f = new OrderIdFormat(EPOCH_MS);

  it('property: format, write (NUL and space padded), parse and parseBytes agree for every counter', () => {
    const b = new Uint8Array(16);
    fc.assert(fc.property(fc.integer({ min: 1, max: 36 ** 5 - 1 }), fc.boolean(), (n, child) => {
      const key = OrderIdFormat.key(child, n);
      const text = f.format(key);
      expect(text).to.match(child ? /^C[0-9a-z]{9,13}$/ : /^P[0-9a-z]{9,13}$/);
      expect(text.length).to.be.at.most(14);
      expect(f.parse(text)).to.equal(key);
      for (const pad of [0, 0x20]) {
        f.write(key, b, 1, 14, pad);
        expect(Buffer.from(b.subarray(1, 1 + text.length)).toString('latin1')).to.equal(text);
        for (let i = text.length; i < 14; i++) expect(b[1 + i]).to.equal(pad);
        expect(f.parseBytes(b, 1, 14)).to.equal(key);
      }
    }), { numRuns: 2000 });
  });

  it('consecutive counters (carried from the last id\'s digits) write what a fresh division gives, across every digit carry, parents and children interleaved', () => {
    const g = new OrderIdFormat(EPOCH_MS);
    const b = new Uint8Array(14);
    const expectId = (key: number, n: number, child: boolean) => {
      g.write(key, b, 0, 14, 0x20);
      const want = (child ? 'C' : 'P') + g.epoch + n.toString(36);
      expect(Buffer.from(b).toString('latin1').trimEnd(), `counter ${n}`).to.equal(want);
    };
    // Through the 1 -> 2, 2 -> 3 and 3 -> 4 digit carries (35, 1295, 46655), both kinds in turn.
    for (let n = 1; n <= 47000; n++) {
      expectId(OrderIdFormat.key(false, n), n, false);
      expectId(OrderIdFormat.key(true, n), n, true);
      if (n % 997 === 0) expectId(OrderIdFormat.key(true, n * 7), n * 7, true);   // a jump, then on from n + 1
    }
    // Same key twice, and a counter going down.
    expectId(OrderIdFormat.key(false, 5), 5, false);
    expectId(OrderIdFormat.key(false, 5), 5, false);
    expectId(OrderIdFormat.key(false, 36 ** 4 - 1), 36 ** 4 - 1, false);
    expectId(OrderIdFormat.key(false, 36 ** 4), 36 ** 4, false);   // 4 -> 5 digits: one more than the carry holds
  });

  it('parses only its own ids: another epoch, another prefix or a bad digit is -1', () => {
    const other = new OrderIdFormat(EPOCH_MS + 1);
    const id = f.format(OrderIdFormat.key(true, 42));
    expect(other.parse(id)).to.equal(-1);
    expect(f.parse('X' + id.slice(1))).to.equal(-1);
    expect(f.parse(id + '!')).to.equal(-1);
    expect(f.parse('ORD1')).to.equal(-1);
    expect(f.parse('')).to.equal(-1);
  });
});

describe('OrderManager: slots found by id key and by id string', () => {
  it('property: under random create/finish churn every live id (key or string) finds its slot and a finished one is unknown', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(1000)), { minLength: 1, maxLength: 400 }), (ops) => {
      const om = new OrderManager({ capacity: 64 });
      om.idFormat = new OrderIdFormat(EPOCH_MS);
      const live: { child: number; id: string }[] = [];
      const gone: string[] = [];
      let seq = 0;
      for (const [create, pick] of ops) {
        if (create && om.freeSlots >= 2) {
          seq++;
          // Half generated (key), half a caller's string.
          const p = seq % 2 === 0 ? om.createParentKey(OrderIdFormat.key(false, seq), 'AAPL', 'B', 100, 1, 'LIMIT', 'DAY')
            : om.createParent(`ORD${seq}`, 'AAPL', 'B', 100, 1, 'LIMIT', 'DAY');
          const c = om.createChildKey(p, OrderIdFormat.key(true, seq), 0, 100, 1);
          om.markSent(c);
          live.push({ child: c, id: om.idOf(c) });
        } else if (live.length > 0) {
          const { child, id } = live.splice(pick % live.length, 1)[0];
          expect(om.fillAt(om.lookupChildKey(om.idFormat.parse(id)), 100)).to.equal(child);
          expect(om.state(child)).to.equal(OrderState.FILLED);
          gone.push(id);
        }
        for (const o of live) expect(om.slotOf(o.id)).to.equal(o.child);
      }
      for (const id of gone) expect(om.slotOf(id)).to.be.below(0);
    }), { numRuns: 200 });
  });
});

class OuchDouble implements VenueConnector {
  readonly protocol = 'ouch' as const;
  readonly resendsIdempotently = true;
  listener!: VenueListener;
  readonly out = Buffer.alloc(49);
  readonly viaString = Buffer.alloc(49);
  /** The same order by EnterOrderEncoder: token and stock from the order table's bytes. */
  readonly viaEncoder = Buffer.alloc(49);
  private readonly enter = new EnterOrderEncoder('TPAT');
  qty = 0;
  constructor(readonly name: string) {}
  setListener(l: VenueListener): void { this.listener = l; }
  async connect(): Promise<void> { /* in memory */ }
  sendNew(o: VenueOrder): boolean {
    encodeEnterOrderFrom(this.out, 0, o as ChildOrder, 0x42, o.qty, o.symbol, o.price, 99998, 'TPAT');
    encodeEnterOrder(this.viaString, 0, o.clOrdId, 0x42, o.qty, o.symbol, o.price, 99998, 'TPAT');
    this.enter.encode(this.viaEncoder, 0, o as ChildOrder, 0x42, o.qty, o.price, 99998);
    this.qty = o.qty;
    return true;
  }
  sendCancel(): boolean { return true; }
  sendReplace(): boolean { return true; }
  async close(): Promise<void> { /* in memory */ }
  stats(): Record<string, number> { return {}; }
}

function build(journalPath: string) {
  const venue = new OuchDouble('NSDQ');
  const om = new OrderManager({ capacity: 256 });
  const bbo = { bestBid: () => 999_000, bestAsk: () => 1_000_000 };
  const risk = new RiskChecker({ maxOrderQty: 1e6, maxOrderNotional: 1e9, maxDailyNotional: 1e12, maxSymbolNotional: 1e12,
    maxOpenOrdersPerSymbol: 100, priceCollarBps: 1000, maxOrdersPerSecond: 1e6 }, bbo, om, () => 0);
  const sor = new SmartRouter({ venues: ['NSDQ'], defaultVenue: 'NSDQ', mode: 'rules', rules: {} });
  const journal = OrderJournal.open(journalPath, { fsync: 'never' });
  const strings: string[] = [];
  const listener: RouterListener = {
    onAccepted: (id) => strings.push(`accepted ${id}`), onRejected: (id, r) => strings.push(`rejected ${id} ${r}`),
    onAcked: (id) => strings.push(`acked ${id}`), onPartiallyFilled: (id, q) => strings.push(`partial ${id} ${q}`),
    onFilled: (id, q) => strings.push(`filled ${id} ${q}`), onCancelled: () => {}, onReplaced: () => {}, onVenueReject: () => {},
    onRequestRejected: () => {},
  };
  const router = new OrderRouter({ risk, smartRouter: sor, orderManager: om, journal, connectors: [venue], listener, now: () => EPOCH_MS });
  return { router, venue, journal, om, strings, vl: () => venue.listener as KeyedVenueListener };
}

const buy: OrderRequest = { symbol: 'AAPL', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' };

describe('OrderRouter: the allocation-free path (submitOrder, slot listener, keyed venue calls)', () => {
  it('the token written from the number is the same bytes as from the string; ack and fill by key reach the slot listener', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ids-')), 'orders.journal');
    const a = build(file);
    const calls: string[] = [];
    const slots: OrderSlotListener = {
      onAccepted: (p, n) => calls.push(`accepted ${a.router.clOrdIdOf(p)} ${n}`), onRejected: (p, r) => calls.push(`rejected ${p} ${r}`),
      onAcked: (p) => calls.push(`acked ${a.router.clOrdIdOf(p)}`), onPartiallyFilled: (p, q, _px, cum) => calls.push(`partial ${a.router.clOrdIdOf(p)} ${q} ${cum}`),
      onFilled: (p, q, _px, cum) => calls.push(`filled ${a.router.clOrdIdOf(p)} ${q} ${cum}`), onCancelled: () => {}, onReplaced: () => {},
      onVenueReject: () => {}, onRequestRejected: () => {},
    };
    a.router.setOrderListener(slots);
    const p = a.router.submitOrder(buy);
    expect(p).to.be.at.least(0);
    const pid = a.router.clOrdIdOf(p);
    expect(pid).to.match(/^P[0-9a-z]{8}1$/);
    expect(a.venue.out.equals(a.venue.viaString)).to.equal(true);
    expect(a.venue.viaEncoder.equals(a.venue.viaString), 'EnterOrderEncoder: stock from the order table').to.equal(true);
    const key = a.router.tokenKey(a.venue.out, kEnterOrderToken, 14);
    expect(key).to.be.at.least(0);
    a.vl().onAckKey(key);
    a.vl().onFillKey(key, 40, 1_000_000, 123456789);
    a.vl().onFillKey(key, 40, 1_000_000, 123456789);    // replayed: dropped
    a.vl().onFillKey(-1, 10, 1_000_000, 5);             // not ours: refused
    expect(calls).to.deep.equal([`accepted ${pid} 1`, `acked ${pid}`, `partial ${pid} 40 40`]);
    expect(a.router.counters).to.include({ duplicateFills: 1, refusedVenueEvents: 1 });
    a.journal.close();

    // Restart compatibility: the journal holds the ids as ASCII and the exec number as its digits.
    const rec = OrderJournal.recover(file);
    expect(rec.orders.get(pid)?.kind).to.equal('parent');
    const childId = a.venue.viaString.toString('latin1', kEnterOrderToken, kEnterOrderToken + 14).trim();
    expect(rec.orders.get(childId)).to.include({ parentId: pid, filled: 40 });
    expect([...rec.fillExecIds]).to.deep.equal(['0/123456789']);
    const b = build(file);
    expect(b.router.restoreFromJournal()).to.equal(1);
    b.vl().onFillKey(key, 40, 1_000_000, 123456789);    // the venue replays it after the restart
    b.vl().onFill(childId, 40, 1_000_000, '123456789'); // or names it by string
    expect(b.router.counters.duplicateFills).to.equal(2);
    b.vl().onFillKey(key, 60, 1_000_000, 987);
    expect(b.strings.at(-1)).to.equal(`filled ${pid} 60`);
    // New ids after the restart never reuse the restored ones, even with the same clock reading.
    const id2 = b.router.sendOrder(buy);
    expect(id2).to.not.equal(pid);
    b.journal.close();
  });

  it('refuses a caller id in the router\'s own id space, and a request refused before a slot is named in onRejected', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ids-')), 'orders.journal');
    const a = build(file);
    const own = new OrderIdFormat(EPOCH_MS).format(OrderIdFormat.key(false, 7));
    expect(a.router.sendOrder({ ...buy, clOrdId: own })).to.equal(own);
    expect(a.strings.at(-1)).to.equal(`rejected ${own} INVALID_ORDER`);
    const id = a.router.sendOrder({ ...buy, qty: -1 });
    expect(a.strings.at(-1)).to.equal(`rejected ${id} INVALID_ORDER`);
    expect(id).to.match(/^P/);
    a.journal.close();
  });
});
