/**
 * Child process of order-alloc.test.ts, run with a 1 MiB semi-space so every ~1 MiB of young
 * objects shows up as a scavenge. Pushes orders through the router stage's order path
 * (attachOrderHandlers: OrderSink.sendOrder, the stage's OrderSlotListener, send times, events
 * into the router -> strategy ring) with a connector double that encodes each child as an OUCH
 * 4.2 Enter Order and answers with an Accepted and an Executed whose token it reads back out of
 * those bytes (`tokenKey`, the keyed venue calls). Prints one JSON line: scavenges seen by a
 * PerformanceObserver over the measured orders, after a warm-up.
 *
 *   node --max-semi-space-size=1 dist/test/router/order-alloc-child.js [--orders 100000] [--warmup 50000]
 *        [--strings]        (the string API instead: sendOrder, RouterListener, VenueListener by id string)
 *        [--stopped-clocks] (journal, risk and stage clocks that return a stored number)
 *        [--ring]           (orders arrive through the strategy -> router ring, as in a split pipeline)
 *        [--split]          (--ring, and the order events go back through the router -> strategy ring and
 *                            are read on the strategy's side, RouterEventReader, into an OrderEventListener)
 *        [--fused-strategy] (the order events go to a fused strategy's OrderEventListener, as the router
 *                            stage does when the strategy shares its worker)
 *
 * Why --stopped-clocks: on Node 20 every clock read (Date.now, performance.now, the addon's nowNs)
 * returns a freshly boxed 16-byte HeapNumber, and a lifecycle reads a clock 4 times (risk's
 * throttle, 3 latency stamps; the journal's records read the commit thread's clock from shared
 * memory). The test asserts the router's own code with the
 * clocks stopped, and the real clocks' cost separately.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PerformanceObserver, constants } from 'perf_hooks';
import { OrderRouter, type ChildOrder, type KeyedVenueListener } from '../../lib/router/order-router';
import { OrderManager } from '../../lib/router/order-manager';
import { RiskChecker } from '../../lib/router/risk-checker';
import { SmartRouter } from '../../lib/router/smart-router';
import { OrderJournal } from '../../lib/router/journal';
import type { OrderRequest, RouterListener } from '../../lib/router/types';
import type { VenueConnector, VenueListener, VenueOrder } from '../../lib/router/venue';
import { EnterOrderEncoder, encodeEnterOrder, readToken, kEnterOrderLen, kEnterOrderToken } from '../../lib/protocols/ouch/ouch42';
import { attachOrderHandlers, eventClOrdId } from '../../lib/pipeline/stages/router-stage';
import { OrderRecordReader, OrderRecordWriter, RouterEventReader, RouterEventWriter, kOrderRecordBytes, kRouterEventRecordBytes,
  type OrderEventListener } from '../../lib/pipeline/stage-rings';
import { SpscRing } from '../../lib/common/spsc-ring';
import { MonotonicClock } from '../../lib/common/clock';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const strings = process.argv.includes('--strings');
const stopped = process.argv.includes('--stopped-clocks');
const split = process.argv.includes('--split');
const fusedStrategy = process.argv.includes('--fused-strategy');
const viaRing = process.argv.includes('--ring') || split;
const stoppedMs = Date.now();
const msClock = stopped ? () => stoppedMs : Date.now;
const clock = stopped ? { nowNs: () => 1e12 } : new MonotonicClock();

class EncodingConnector implements VenueConnector {
  readonly protocol = 'ouch' as const;
  readonly resendsIdempotently = true;
  listener!: VenueListener;
  readonly out = Buffer.alloc(kEnterOrderLen * 1024);
  private readonly enter = new EnterOrderEncoder('TPAT');
  pos = 0;
  last = 0;
  lastQty = 0;
  lastPrice = 0;
  constructor(readonly name: string) {}
  setListener(l: VenueListener): void { this.listener = l; }
  async connect(): Promise<void> { /* in process */ }
  sendNew(o: VenueOrder): boolean {
    if (this.pos === this.out.length) this.pos = 0;
    this.last = this.pos;
    this.pos = strings
      ? encodeEnterOrder(this.out, this.pos, o.clOrdId, 0x42, o.qty, o.symbol, o.price, 99998, 'TPAT')
      : this.enter.encode(this.out, this.pos, o as ChildOrder, 0x42, o.qty, o.price, 99998);
    this.lastQty = o.qty;
    this.lastPrice = o.price;
    return true;
  }
  sendCancel(): boolean { return true; }
  sendReplace(): boolean { return true; }
  async close(): Promise<void> { /* in process */ }
  stats(): Record<string, number> { return {}; }
}

const orders = arg('orders', 100_000);
const warmup = arg('warmup', 50_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-alloc-'));
// Real clocks: the journal's own clock, as shipped (the commit thread's; no clock call per record).
const journal = OrderJournal.open(path.join(dir, 'orders.journal'), stopped ? { fsync: 'group', now: msClock } : { fsync: 'group' });
const om = new OrderManager({ capacity: 4096 });
const bbo = { bestBid: () => 999_000, bestAsk: () => 1_000_000 };
const risk = new RiskChecker({ maxOrderQty: 1e6, maxOrderNotional: 1e9, maxDailyNotional: 1e15, maxSymbolNotional: 1e15,
  maxOpenOrdersPerSymbol: 1000, priceCollarBps: 1000, maxOrdersPerSecond: 1e9 }, bbo, om, msClock);
const sor = new SmartRouter({ venues: ['NSDQ'], defaultVenue: 'NSDQ', mode: 'rules', rules: {} });
const venue = new EncodingConnector('NSDQ');
let filled = 0;
const stringListener: RouterListener = {
  onAccepted() {}, onRejected() {}, onAcked() {}, onPartiallyFilled() {}, onFilled() { filled++; }, onCancelled() {},
  onReplaced() {}, onVenueReject() {}, onRequestRejected() {},
};
const router = new OrderRouter({ risk, smartRouter: sor, orderManager: om, journal, connectors: [venue], listener: stringListener });

// The router stage's handlers, with its counters and recorders stood in by plain arrays.
const K = { orders_accepted: 0, orders_rejected: 1, orders_acked: 2, orders_partially_filled: 3, orders_filled: 4,
  orders_cancelled: 5, venue_rejects: 6, orders_sent: 7 };
const c = new Float64Array(8);
const sink = { n: 0, record(v: number): void { this.n += v > 0 ? 1 : 0; } };
const ring = SpscRing.create({ capacity: 1024, recordBytes: kRouterEventRecordBytes });
const events = new RouterEventWriter(ring);
// A strategy's side of the order events: it reads what a Strategy's onOrderEvent is given.
let strategyEvents = 0;
let idChars = 0;
const strategyListener: OrderEventListener = (kind, clOrdId, qty) => { strategyEvents++; idChars += clOrdId.length + (kind === 'filled' ? qty & 1 : 0); };
const eventReader = split ? new RouterEventReader(ring, strategyListener, 1024) : undefined;
const drain = (): void => { if (eventReader !== undefined) eventReader.doWork(); else ring.read(() => {}, 1024); };
const handlers = strings ? undefined : attachOrderHandlers(router, {
  c, K, clock,
  latency: { order_ack: sink, order_fill: sink, md_to_order: sink },
  logger: { info: () => true, warn: () => true },
}, fusedStrategy
  // As buildRouterStage's emitter for a strategy on the router's worker.
  ? (k, p, q, px, detail, id) => strategyListener(k, eventClOrdId(router, p, id), q, px, detail)
  : (k, p, q, px, detail) => { if (p >= 0) events.writeSlot(k, router, p, q, px, detail); });

const orderRing = SpscRing.create({ capacity: 256, recordBytes: kOrderRecordBytes });
const orderWriter = new OrderRecordWriter(orderRing);
const orderReader = handlers !== undefined ? new OrderRecordReader(orderRing, handlers, 64) : undefined;

const symbols = ['AAPL', 'MSFT', 'AMZN', 'NVDA', 'GOOGL', 'META', 'TSLA', 'AMD'];
const reqs: OrderRequest[] = symbols.map((symbol) => ({ symbol, side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' }));
let matchNo = 1;

function run(n: number): void {
  const vl = venue.listener as KeyedVenueListener;
  for (let i = 0; i < n; i++) {
    if (handlers !== undefined) {
      if (orderReader !== undefined && viaRing) {
        orderWriter.sendOrder(reqs[i & 7], 0);
        orderReader.doWork();
      } else {
        handlers.sendOrder(reqs[i & 7], 0);
      }
      // The venue's Accepted and Executed name the token: read it back from the encoded bytes.
      const key = router.tokenKey(venue.out, venue.last + kEnterOrderToken, 14);
      vl.onAckKey(key);
      vl.onFillKey(key, venue.lastQty, venue.lastPrice, matchNo++);
      if (c[K.orders_filled] > filled) filled = c[K.orders_filled];
    } else {
      router.sendOrder(reqs[i & 7]);
      const token = readToken(venue.out, venue.last + kEnterOrderToken);
      vl.onAck(token, token);
      vl.onFill(token, venue.lastQty, venue.lastPrice, String(matchNo++));
    }
    if ((i & 255) === 255) { router.endOfBatch(); drain(); }
  }
}

run(warmup);
let scavenges = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
});
obs.observe({ entryTypes: ['gc'] });
const filledBefore = strings ? filled : c[K.orders_filled];
const eventsBefore = strategyEvents;
const t0 = process.cpuUsage();
run(orders);
const cpu = process.cpuUsage(t0);
const filledNow = (strings ? filled : c[K.orders_filled]) - filledBefore;
// GC entries are delivered asynchronously: count once the loop has given them a turn.
setTimeout(() => {
  obs.disconnect();
  journal.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ orders, scavenges, filled: filledNow, strategy_events: strategyEvents - eventsBefore, id_chars: idChars,
    cpu_us: cpu.user + cpu.system,
    path: strings ? 'strings' : split ? 'slots via both rings' : viaRing ? 'slots via ring' : fusedStrategy ? 'slots, fused strategy' : 'slots',
    clocks: stopped ? 'stopped' : 'real' }));
}, 100);
