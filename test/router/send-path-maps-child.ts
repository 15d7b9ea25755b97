/**
 * Run by send-path-maps.test.ts with --allow-natives-syntax: builds two routers in one process,
 * sends an order through each, and prints (JSON, last line) whether the VenueOrder objects their
 * connectors received share one hidden class. A map per router makes every property access on the
 * send path (routeNew, connector, OUCH encoder) polymorphic as soon as a process holds two routers.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderRouter } from '../../lib/router/order-router';
import { OrderManager } from '../../lib/router/order-manager';
import { RiskChecker } from '../../lib/router/risk-checker';
import { SmartRouter } from '../../lib/router/smart-router';
import { OrderJournal } from '../../lib/router/journal';
import type { OrderSlotListener } from '../../lib/router/types';
import type { VenueConnector, VenueListener, VenueOrder } from '../../lib/router/venue';

class CapturingConnector implements VenueConnector {
  readonly protocol = 'ouch' as const;
  readonly resendsIdempotently = true;
  seen: VenueOrder | undefined;
  copy: Record<string, unknown> | undefined;
  constructor(readonly name: string) {}
  setListener(_l: VenueListener): void { /* events not needed */ }
  async connect(): Promise<void> { /* in process */ }
  sendNew(o: VenueOrder): boolean { this.seen = o; this.copy = { ...o }; return true; }
  sendCancel(): boolean { return true; }
  sendReplace(): boolean { return true; }
  async close(): Promise<void> { /* in process */ }
  stats(): Record<string, number> { return {}; }
}

const silent: OrderSlotListener = {
  onAccepted() {}, onRejected() {}, onAcked() {}, onPartiallyFilled() {}, onFilled() {}, onCancelled() {},
  onReplaced() {}, onVenueReject() {}, onRequestRejected() {},
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-send-maps-'));
const journals: OrderJournal[] = [];
function routerWith(i: number): { router: OrderRouter; venue: CapturingConnector } {
  const journal = OrderJournal.open(path.join(dir, `orders${i}.journal`), { fsync: 'never' });
  journals.push(journal);
  const om = new OrderManager({ capacity: 64 });
  const bbo = { bestBid: () => 999_000, bestAsk: () => 1_000_000 };
  const risk = new RiskChecker({ maxOrderQty: 1e6, maxOrderNotional: 1e9, maxDailyNotional: 1e15, maxSymbolNotional: 1e15,
    maxOpenOrdersPerSymbol: 1000, priceCollarBps: 1000, maxOrdersPerSecond: 1e9 }, bbo, om);
  const sor = new SmartRouter({ venues: ['NSDQ'], defaultVenue: 'NSDQ', mode: 'rules', rules: {} });
  const venue = new CapturingConnector('NSDQ');
  const router = new OrderRouter({ risk, smartRouter: sor, orderManager: om, journal, connectors: [venue],
    listener: { onAccepted() {}, onRejected() {}, onAcked() {}, onPartiallyFilled() {}, onFilled() {}, onCancelled() {},
      onReplaced() {}, onVenueReject() {}, onRequestRejected() {} } });
  router.setOrderListener(silent);
  return { router, venue };
}

const a = routerWith(1);
const b = routerWith(2);
const req = { symbol: 'AAPL', side: 'B' as const, qty: 100, price: 1_000_000, ordType: 'LIMIT' as const, tif: 'DAY' as const };
a.router.submitOrder(req);
b.router.submitOrder(req);
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const haveSameMap = new Function('x', 'y', 'return %HaveSameMap(x, y)') as (x: unknown, y: unknown) => boolean;
const out = {
  sameMap: haveSameMap(a.venue.seen, b.venue.seen),
  distinctObjects: a.venue.seen !== b.venue.seen,
  idA: a.venue.copy?.clOrdId,
  idB: b.venue.copy?.clOrdId,
};
for (const j of journals) j.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(out));
