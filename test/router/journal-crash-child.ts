/**
 * Child process for the journal crash and power-loss tests (not a test file itself). Runs the
 * production OrderRouter with the given fsync policy against an in-memory venue that acks from
 * inside sendNew and fills every fourth order, and only after sendOrder has returned (and the
 * caller's listener has seen the ack) tells the parent on stdout what was acknowledged and when
 * (CLOCK_MONOTONIC, the fsync shim's clock). The parent SIGKILLs it mid-stream and checks the
 * journal, or the fsync shim's snapshot of it.
 *
 * argv: <journal path> [always|group|never (default always)] [groupCommitUs] [growRecords] [pause us per order]
 *       [hold: after 100 orders nothing more is copied from the shared-memory ring into the file]
 * stdout lines: <parent id> <child id> <filled shares> <venue seq> <monotonic ns> <keep-warm slot stores so far>
 */
import * as fs from 'fs';
import { OrderJournal, type FsyncPolicy } from '../../lib/router/journal';
import { OrderManager } from '../../lib/router/order-manager';
import { OrderRouter } from '../../lib/router/order-router';
import { RiskChecker } from '../../lib/router/risk-checker';
import { SmartRouter } from '../../lib/router/smart-router';
import type { RouterListener } from '../../lib/router/types';
import type { VenueConnector, VenueListener, VenueOrder } from '../../lib/router/venue';

class AckingVenue implements VenueConnector {
  readonly name = 'NSDQ';
  readonly protocol = 'ouch' as const;
  resendsIdempotently = true;
  listener!: VenueListener;
  lastId = '';
  setListener(l: VenueListener): void { this.listener = l; }
  async connect(): Promise<void> { /* in memory */ }
  sendNew(o: VenueOrder): boolean { this.lastId = o.clOrdId; this.listener.onAck(o.clOrdId, o.clOrdId); return true; }
  sendCancel(): boolean { return true; }
  sendReplace(): boolean { return true; }
  async close(): Promise<void> { /* in memory */ }
  stats(): Record<string, number> { return {}; }
}

let acked = 0;
const nop = (): void => { /* not needed here */ };
const listener: RouterListener = {
  onAccepted: nop, onRejected: (id, reason) => { throw new Error(`${id} rejected: ${reason}`); },
  onAcked: () => { acked++; }, onPartiallyFilled: nop, onFilled: nop, onCancelled: nop, onReplaced: nop,
  onVenueReject: nop, onRequestRejected: nop,
};

const policy = (process.argv[3] ?? 'always') as FsyncPolicy;
// JOURNAL_CHILD_RING: ring records (a small ring laps often); JOURNAL_CHILD_WARM: keep-warm stores
// (OrderJournal.warmNextSlot) after each record, as the router stage's dry runs make between orders.
const ringRecords = process.env.JOURNAL_CHILD_RING ? Number(process.env.JOURNAL_CHILD_RING) : undefined;
const warmPerRecord = Number(process.env.JOURNAL_CHILD_WARM ?? 0);
const journal = OrderJournal.open(process.argv[2], { fsync: policy, groupCommitUs: Number(process.argv[4] ?? 1000),
  growRecords: Number(process.argv[5] ?? 16384), ...(ringRecords !== undefined ? { ringRecords } : {}) });
if (warmPerRecord > 0) {
  const appendOrder = journal.appendOrder.bind(journal);
  journal.appendOrder = (...a: Parameters<OrderJournal['appendOrder']>) => {
    appendOrder(...a);
    for (let k = 0; k < warmPerRecord; k++) journal.warmNextSlot();
  };
}
const om = new OrderManager({ capacity: 1 << 16 });
const venue = new AckingVenue();
const risk = new RiskChecker({ maxOrderQty: 1e6, maxOrderNotional: 1e12, maxDailyNotional: 1e15, maxSymbolNotional: 1e15,
  maxOpenOrdersPerSymbol: 1 << 16, priceCollarBps: 0, maxOrdersPerSecond: 1e9 },
{ bestBid: () => 1_000_000, bestAsk: () => 1_000_100 }, om);
const router = new OrderRouter({ risk, smartRouter: new SmartRouter({ venues: ['NSDQ'], defaultVenue: 'NSDQ', mode: 'rules', rules: {} }),
  orderManager: om, journal, connectors: [venue], listener });

const pauseUs = Number(process.argv[6] ?? 0);
const holdAfter = process.argv[7] === 'hold' ? 100 : -1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < 30000; i++) {
  if (pauseUs > 0) Atomics.wait(sleeper, 0, 0, pauseUs / 1000);
  if (i === holdAfter) journal.holdFileCopy(true);
  const before = acked;
  const pid = router.sendOrder({ symbol: i % 2 ? 'MSFT' : 'AAPL', side: i % 3 ? 'B' : 'S', qty: 100,
    price: 1_000_000 + i, ordType: 'LIMIT', tif: 'DAY' });
  if (acked !== before + 1) throw new Error(`${pid} not acked`);
  let filled = 0;
  if (i % 4 === 0) {
    venue.listener.onFill(venue.lastId, 30, 1_000_000 + i, `E${i}`);
    filled = 30;
  }
  router.recordVenueSeq('NSDQ', i + 1);
  fs.writeSync(1, `${pid} ${venue.lastId} ${filled} ${i + 1} ${process.hrtime.bigint()} ${journal.warmedSlots}\n`);
}
journal.close();
