/**
 * Order router cost per order, in process: the production OrderRouter (RiskChecker -> SmartRouter ->
 * OrderManager -> OrderJournal -> connector) with a connector that encodes each child as a 49-byte
 * OUCH 4.2 Enter Order into one preallocated buffer, against a baseline loop that only builds the
 * same token strings and encodes the same Enter Orders. The difference is what the router's own
 * work costs.
 *
 * One "order" is a full lifecycle so the slot table stays bounded: sendOrder, then the venue's
 * Accepted and one full execution delivered through the VenueListener (ack and fill are journaled
 * and reported to the caller's listener like in production).
 *
 * Journal: the main figure keeps it on tmpfs (/dev/shm, fsync 'group'), so it
 * measures the router's CPU work (risk, routing, state, journal encoding, OUCH encoding) rather
 * than this machine's disk. Two more rows put the same journal on the disk (os.tmpdir()): fsync
 * 'group' (a commit thread fdatasyncs every millisecond) and, over fewer orders, fsync 'always'.
 * Best of N iterations, interleaved with the baseline. Never asserts timings; exits 1 if an order
 * was not accepted and filled, since then the two loops did not do the same work.
 *
 * Then the order round trip over loopback TCP (perf/router-rtt.ts, run as a child process so its
 * sockets and venue processes do not share this process's heap or JIT state) lands under `rtt`:
 * ouch, fix (venue simulator) and fix_quickfix (QuickFIX acceptor, the baseline; skipped with a
 * note when it cannot be built). `--no-rtt` leaves it out; --rtt-rate/--rtt-seconds/--rtt-rounds
 * pass through.
 *
 *   node dist/perf/router.js [--orders 200000] [--iterations 5] [--always-orders 2000]
 *        [--no-rtt] [--rtt-rate 2000] [--rtt-seconds 3] [--rtt-rounds 3] [--json]
 */
import { writeAlpha } from '../lib/common/bytes';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OrderRouter } from '../lib/router/order-router';
import { OrderManager } from '../lib/router/order-manager';
import { RiskChecker } from '../lib/router/risk-checker';
import { SmartRouter } from '../lib/router/smart-router';
import { OrderJournal, FsyncPolicy } from '../lib/router/journal';
import type { OrderRequest, RejectReason, RouterListener, Side } from '../lib/router/types';
import type { VenueConnector, VenueListener, VenueOrder } from '../lib/router/venue';
import { spawnSync } from 'child_process';
import { report, type Row } from './report';
import { rttRows, type RttProtocol, type RttResult, type RttSkipped } from './router-rtt';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

export const ENTER_ORDER_SIZE = 49;

/**
 * OUCH 4.2 Enter Order: type 'O', token 14, side 1, shares u32, stock 8, price u32, time in force
 * u32, firm 4, display 1, capacity 1, intermarket sweep 1, minimum quantity u32, cross type 1,
 * customer type 1. Big-endian integers, space-padded alphas.
 */
export function encodeEnterOrder(b: Uint8Array, off: number, token: string, side: Side, shares: number,
  stock: string, price: number, tifSeconds: number): number {
  b[off] = 0x4f;                                            // 'O'
  writeAlpha(b, off + 1, 14, token);
  b[off + 15] = side === 'B' ? 0x42 : side === 'S' ? 0x53 : 0x54;   // 'B' 'S' 'T' (short)
  writeU32(b, off + 16, shares);
  writeAlpha(b, off + 20, 8, stock);
  writeU32(b, off + 28, price);
  writeU32(b, off + 32, tifSeconds);
  b[off + 36] = 0x54; b[off + 37] = 0x50; b[off + 38] = 0x41; b[off + 39] = 0x54;   // firm 'TPAT'
  b[off + 40] = 0x59;                                       // display 'Y'
  b[off + 41] = 0x41;                                       // capacity 'A' (agency)
  b[off + 42] = 0x4e;                                       // intermarket sweep 'N'
  writeU32(b, off + 43, 0);                                 // minimum quantity
  b[off + 47] = 0x4e;                                       // cross type 'N'
  b[off + 48] = 0x52;                                       // customer type 'R'
  return ENTER_ORDER_SIZE;
}


function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24; b[off + 1] = (v >>> 16) & 0xff; b[off + 2] = (v >>> 8) & 0xff; b[off + 3] = v & 0xff;
}

const TIF_DAY = 99998;     // OUCH: market hours
const TIF_IOC = 0;

/** Connector double that encodes Enter Orders into a preallocated ring of 49-byte messages. */
class EncodingConnector implements VenueConnector {
  readonly protocol = 'ouch' as const;
  readonly resendsIdempotently = true;
  listener!: VenueListener;
  readonly out = new Uint8Array(ENTER_ORDER_SIZE * 1024);
  private pos = 0;
  sent = 0;
  lastId = '';
  lastQty = 0;
  lastPrice = 0;
  constructor(readonly name: string) {}
  setListener(l: VenueListener): void { this.listener = l; }
  async connect(): Promise<void> { /* in process */ }
  sendNew(o: VenueOrder): boolean {
    if (this.pos === this.out.length) this.pos = 0;
    this.pos += encodeEnterOrder(this.out, this.pos, o.clOrdId, o.side, o.qty, o.symbol, o.price,
      o.tif === 'DAY' ? TIF_DAY : TIF_IOC);
    this.sent++;
    this.lastId = o.clOrdId;
    this.lastQty = o.qty;
    this.lastPrice = o.price;
    return true;
  }
  sendCancel(): boolean { return true; }
  sendReplace(): boolean { return true; }
  async close(): Promise<void> { /* in process */ }
  stats(): Record<string, number> { return { sent: this.sent }; }
}

class CountingListener implements RouterListener {
  accepted = 0; rejected = 0; filled = 0; other = 0;
  onAccepted(): void { this.accepted++; }
  onRejected(_id: string, _r: RejectReason): void { this.rejected++; }
  onAcked(): void { this.other++; }
  onPartiallyFilled(): void { this.other++; }
  onFilled(): void { this.filled++; }
  onCancelled(): void { this.other++; }
  onReplaced(): void { this.other++; }
  onVenueReject(): void { this.other++; }
  onRequestRejected(): void { this.other++; }
}

const SYMBOLS = ['AAPL', 'MSFT', 'AMZN', 'NVDA', 'GOOGL', 'META', 'TSLA', 'AMD'];
const SIDES: Side[] = ['B', 'S', 'B', 'SS'];

/** Requests built before timing: the caller's objects are not the router's cost. */
function makeRequests(n: number): OrderRequest[] {
  const out: OrderRequest[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ symbol: SYMBOLS[i & 7], side: SIDES[i & 3], qty: 100 + (i % 9) * 100, price: 1_000_000 + (i % 50) * 100,
      ordType: 'LIMIT', tif: i % 5 === 0 ? 'IOC' : 'DAY' });
  }
  return out;
}

const MEMORY_DIR = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

function runRouter(reqs: OrderRequest[], fsync: FsyncPolicy, base: string): { ns: number; ok: boolean } {
  const dir = fs.mkdtempSync(path.join(base, 'tickpath-perf-router-'));
  const journal = OrderJournal.open(path.join(dir, 'orders.journal'), { fsync });
  const om = new OrderManager({ capacity: 4096 });
  const bbo = { bestBid: () => 999_000, bestAsk: () => 1_000_000 };
  const risk = new RiskChecker({ maxOrderQty: 1e6, maxOrderNotional: 1e9, maxDailyNotional: 1e15, maxSymbolNotional: 1e15,
    maxOpenOrdersPerSymbol: 1000, priceCollarBps: 1000, maxOrdersPerSecond: 1e9 }, bbo, om);
  const sor = new SmartRouter({ venues: ['NSDQ'], defaultVenue: 'NSDQ', mode: 'rules', rules: {} });
  const venue = new EncodingConnector('NSDQ');
  const listener = new CountingListener();
  const router = new OrderRouter({ risk, smartRouter: sor, orderManager: om, journal, connectors: [venue], listener });
  const vl = venue.listener;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reqs.length; i++) {
    router.sendOrder(reqs[i]);
    const id = venue.lastId;
    vl.onAck(id, id);
    vl.onFill(id, venue.lastQty, venue.lastPrice, id);    // child ids are unique: a fine exec id
    if ((i & 1023) === 1023) router.endOfBatch();
  }
  router.endOfBatch();
  const ns = Number(process.hrtime.bigint() - t0) / reqs.length;
  journal.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const ok = listener.accepted === reqs.length && listener.filled === reqs.length && listener.rejected === 0;
  return { ns, ok };
}

/** Baseline: the same token strings and the same Enter Orders, nothing else. */
function runBaseline(reqs: OrderRequest[]): number {
  const venue = new EncodingConnector('NSDQ');
  const epoch = Math.floor(Date.now() / 1000).toString(36).padStart(6, '0');
  const vo: VenueOrder = { clOrdId: '', symbol: '', side: 'B', qty: 0, price: 0, ordType: 'LIMIT', tif: 'DAY' };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs[i];
    vo.clOrdId = 'C' + epoch + (i + 1).toString(36);
    vo.symbol = r.symbol; vo.side = r.side; vo.qty = r.qty; vo.price = r.price; vo.tif = r.tif;
    venue.sendNew(vo);
  }
  return Number(process.hrtime.bigint() - t0) / reqs.length;
}

function main(): void {
  const orders = Number(arg('orders', '200000'));
  const iterations = Number(arg('iterations', '5'));
  const alwaysOrders = Number(arg('always-orders', '2000'));
  const reqs = makeRequests(orders);
  let best = Infinity;
  let baseline = Infinity;
  const runs: string[] = [];
  runRouter(reqs.slice(0, 20000), 'group', MEMORY_DIR);   // warm-up: JIT both paths before timing
  runBaseline(reqs.slice(0, 20000));
  let disk = Infinity;
  for (let it = 0; it < iterations; it++) {
    const r = runRouter(reqs, 'group', MEMORY_DIR);
    const b = runBaseline(reqs);
    const d = runRouter(reqs, 'group', os.tmpdir());
    if (!r.ok || !d.ok) { console.error('router run did not accept and fill every order'); process.exit(1); }
    runs.push(`${r.ns.toFixed(0)}/${b.toFixed(0)}`);
    if (r.ns < best) best = r.ns;
    if (b < baseline) baseline = b;
    if (d.ns < disk) disk = d.ns;
  }
  const always = runRouter(reqs.slice(0, alwaysOrders), 'always', os.tmpdir());
  if (!always.ok) { console.error('fsync always run did not accept and fill every order'); process.exit(1); }

  const rtt = process.argv.includes('--no-rtt') ? null : measureRttInChild();
  const fmtNs = (ns: number) => `${ns.toFixed(0)} ns/order`;
  console.log(`order router, in process, ${orders} orders (send + ack + fill), best of ${iterations}`);
  report('router', [
    { label: 'router (journal on tmpfs) vs encode-only loop', ours: fmtNs(best), baseline: fmtNs(baseline), ratio: best / baseline,
      note: `runs router/baseline ns: ${runs.join(', ')}` },
    { label: 'router orders/s', ours: `${Math.round(1e9 / best)}/s`, baseline: `${Math.round(1e9 / baseline)}/s` },
    { label: 'router, journal on disk, fsync group', ours: fmtNs(disk), baseline: fmtNs(best), ratio: disk / best,
      note: 'baseline: the same router, journal on tmpfs' },
    { label: `router, journal on disk, fsync always (${alwaysOrders} orders)`, ours: fmtNs(always.ns), baseline: fmtNs(best),
      ratio: always.ns / best, note: 'baseline: the same router, journal on tmpfs' },
    ...(rtt ? rtt.rows : []),
  ], {
    orders_per_s: Math.round(1e9 / best),
    ns_per_order: Math.round(best),
    baseline_ns_per_order: Math.round(baseline),
    ratio: Number((best / baseline).toFixed(2)),
    disk_group_ns_per_order: Math.round(disk),
    disk_always_ns_per_order: Math.round(always.ns),
    journal_memory_dir: MEMORY_DIR,
    orders,
    iterations,
    ...(rtt ? { rtt: rtt.rtt } : {}),
  });
}

/** Runs perf/router-rtt.js and returns its `rtt` object and table rows (an error note if it failed). */
function measureRttInChild(): { rtt: Partial<Record<RttProtocol, RttResult | RttSkipped>> | { error: string }; rows: Row[] } {
  const rate = arg('rtt-rate', '2000');
  const args = [path.join(__dirname, 'router-rtt.js'), '--rate', rate, '--seconds', arg('rtt-seconds', '3'),
    '--rounds', arg('rtt-rounds', '3'), '--json'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 600000, stdio: ['ignore', 'pipe', 'inherit'] });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as { rtt: Partial<Record<RttProtocol, RttResult | RttSkipped>> };
    return { rtt: parsed.rtt, rows: rttRows(parsed.rtt, Number(rate)) };
  } catch {
    const error = `perf/router-rtt exited ${r.status ?? r.signal}: ${last || String(r.error)}`;
    return { rtt: { error }, rows: [{ label: 'rtt', ours: 'failed', baseline: '', note: error }] };
  }
}

main();
