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
 * Two ways through the same router, interleaved and best of N each:
 *  - slots: the path that allocates nothing per order (submitOrder, an OrderSlotListener, the child
 *    token and stock written from the order table by ouch42's EnterOrderEncoder, the venue's answers read back
 *    from the encoded token's bytes and delivered by key with a numeric exec id);
 *  - strings: the API as it was (sendOrder returning the id string, a RouterListener, the connector
 *    reading VenueOrder.clOrdId, answers by id string): the previous code path's cost.
 *
 * Journal: the main figure uses the shipped policy, fsync 'group' (a native commit thread copies
 * the shared-memory ring into the file and fdatasyncs every millisecond), on the disk under
 * os.tmpdir() (its filesystem type is in the JSON). The runs are one table (RUNS), interleaved, best
 * of N each: the shipped journal, the string-id API, the journal file on tmpfs (/dev/shm), the
 * same disk written straight into the file's mapping without the ring (the previous writer),
 * without the ring, the journal's clock or pre-faulting (a clock call per record, no pages
 * pre-faulted by the commit thread), and the ring with each record's crc computed by the router
 * (ringCrcBy 'writer', before the commit thread sealed them); then, over fewer orders, on disk
 * with fsync 'always'.
 *
 * Send latency, per order (slots path, journal on disk, group): from the strategy's call into the
 * router to the 49 encoded bytes being ready, and to the same bytes handed to the kernel by
 * socket.write() on a connected loopback TCP socket (node's net: libuv writes synchronously when
 * its queue is empty; orders go in bursts of 64 with a turn of the event loop between, so the
 * reader keeps the socket empty). p50/p99 of the clock difference, with the cost of the clock
 * read pair itself reported beside them (not subtracted).
 *
 * Never asserts timings; exits 1 if an order was not accepted and filled, since then the loops
 * did not do the same work.
 *
 * Then the order round trip over loopback TCP (perf/router-rtt.ts, run as a child process so its
 * sockets and venue processes do not share this process's heap or JIT state) lands under `rtt`:
 * ouch, fix (venue simulator) and fix_quickfix (QuickFIX acceptor, the baseline; skipped with a
 * note when it cannot be built). `--no-rtt` leaves it out; --rtt-rate/--rtt-seconds/--rtt-rounds
 * pass through.
 *
 *   node dist/perf/router.js [--orders 200000] [--iterations 5] [--always-orders 2000]
 *        [--latency-orders 50000] [--no-rtt] [--rtt-rate 2000] [--rtt-seconds 3] [--rtt-rounds 3] [--json]
 */
import { writeAlpha } from '../lib/common/bytes';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as net from 'net';
import { execFileSync } from 'child_process';
import { performance } from 'perf_hooks';
import { OrderRouter, type ChildOrder, type KeyedVenueListener } from '../lib/router/order-router';
import { EnterOrderEncoder, encodeEnterOrder as encodeEnterOrderString, kEnterOrderToken } from '../lib/protocols/ouch/ouch42';
import { OrderManager } from '../lib/router/order-manager';
import { RiskChecker } from '../lib/router/risk-checker';
import { SmartRouter } from '../lib/router/smart-router';
import { OrderJournal, FsyncPolicy, type JournalOptions } from '../lib/router/journal';
import type { OrderRequest, OrderSlotListener, RejectReason, RouterListener, Side } from '../lib/router/types';
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

type Path = 'slots' | 'strings';

/**
 * Connector double that encodes Enter Orders with lib/protocols/ouch/ouch42.ts into a preallocated
 * ring of 49-byte messages: the token from its number (slots) or from VenueOrder.clOrdId (strings).
 * With a socket, each message is also written to it (socket.write) and `kernelNs` stamped after.
 */
class EncodingConnector implements VenueConnector {
  readonly protocol = 'ouch' as const;
  readonly resendsIdempotently = true;
  listener!: VenueListener;
  readonly out = Buffer.alloc(ENTER_ORDER_SIZE * 1024);
  private pos = 0;
  last = 0;
  sent = 0;
  lastId = '';
  lastQty = 0;
  lastPrice = 0;
  encodedNs = 0;
  kernelNs = 0;
  socket: net.Socket | undefined;
  stamp = false;
  private readonly enter = new EnterOrderEncoder('TPAT');
  constructor(readonly name: string, private readonly path: Path) {}
  setListener(l: VenueListener): void { this.listener = l; }
  async connect(): Promise<void> { /* in process */ }
  sendNew(o: VenueOrder): boolean {
    if (this.pos === this.out.length) this.pos = 0;
    this.last = this.pos;
    const buySell = o.side === 'B' ? 0x42 : o.side === 'S' ? 0x53 : 0x54;
    const tif = o.tif === 'DAY' ? TIF_DAY : TIF_IOC;
    if (this.path === 'slots') {
      this.pos = this.enter.encode(this.out, this.pos, o as ChildOrder, buySell, o.qty, o.price, tif);
    } else {
      this.lastId = o.clOrdId;
      this.pos = encodeEnterOrderString(this.out, this.pos, this.lastId, buySell, o.qty, o.symbol, o.price, tif, 'TPAT');
    }
    if (this.stamp) this.encodedNs = performance.now();
    if (this.socket !== undefined) {
      this.socket.write(this.out.subarray(this.last, this.pos));
      if (this.stamp) this.kernelNs = performance.now();
    }
    this.sent++;
    this.lastQty = o.qty;
    this.lastPrice = o.price;
    return true;
  }
  sendCancel(): boolean { return true; }
  sendReplace(): boolean { return true; }
  async close(): Promise<void> { /* in process */ }
  stats(): Record<string, number> { return { sent: this.sent }; }
}

class CountingSlotListener implements OrderSlotListener {
  accepted = 0; rejected = 0; filled = 0; other = 0;
  onAccepted(): void { this.accepted++; }
  onRejected(): void { this.rejected++; }
  onAcked(): void { this.other++; }
  onPartiallyFilled(): void { this.other++; }
  onFilled(): void { this.filled++; }
  onCancelled(): void { this.other++; }
  onReplaced(): void { this.other++; }
  onVenueReject(): void { this.other++; }
  onRequestRejected(): void { this.other++; }
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

interface Bench {
  router: OrderRouter; venue: EncodingConnector; journal: OrderJournal; dir: string;
  ok(n: number): boolean;
}

/** The journal writer as it was: a clock call per record, no pages pre-faulted by the commit thread. */
const PREVIOUS_WRITER: Partial<JournalOptions> = { now: Date.now, prefaultBytes: 0 };

function makeRouter(fsync: FsyncPolicy, base: string, mode: Path, journalOpts: Partial<JournalOptions> = {}): Bench {
  const dir = fs.mkdtempSync(path.join(base, 'tickpath-perf-router-'));
  const journal = OrderJournal.open(path.join(dir, 'orders.journal'), { ...journalOpts, fsync });
  const om = new OrderManager({ capacity: 4096 });
  const bbo = { bestBid: () => 999_000, bestAsk: () => 1_000_000 };
  const risk = new RiskChecker({ maxOrderQty: 1e6, maxOrderNotional: 1e9, maxDailyNotional: 1e15, maxSymbolNotional: 1e15,
    maxOpenOrdersPerSymbol: 1000, priceCollarBps: 1000, maxOrdersPerSecond: 1e9 }, bbo, om);
  const sor = new SmartRouter({ venues: ['NSDQ'], defaultVenue: 'NSDQ', mode: 'rules', rules: {} });
  const venue = new EncodingConnector('NSDQ', mode);
  const listener = new CountingListener();
  const router = new OrderRouter({ risk, smartRouter: sor, orderManager: om, journal, connectors: [venue], listener });
  const slotListener = new CountingSlotListener();
  if (mode === 'slots') router.setOrderListener(slotListener);
  const counts = mode === 'slots' ? slotListener : listener;
  return { router, venue, journal, dir, ok: (n) => counts.accepted === n && counts.filled === n && counts.rejected === 0 };
}

function closeBench(b: Bench): void {
  b.journal.close();
  fs.rmSync(b.dir, { recursive: true, force: true });
}

let execNo = 1;

/** One lifecycle: send; the venue's Accepted and Executed, naming the token read from the encoded bytes. */
function lifecycle(b: Bench, mode: Path, r: OrderRequest): void {
  const { router, venue } = b;
  if (mode === 'slots') {
    router.submitOrder(r);
    const vl = venue.listener as KeyedVenueListener;
    const key = router.tokenKey(venue.out, venue.last + kEnterOrderToken, 14);
    vl.onAckKey(key);
    vl.onFillKey(key, venue.lastQty, venue.lastPrice, execNo++);
  } else {
    router.sendOrder(r);
    const id = venue.lastId;
    venue.listener.onAck(id, id);
    venue.listener.onFill(id, venue.lastQty, venue.lastPrice, id);    // child ids are unique: a fine exec id
  }
}

/** CPU time of the calling thread alone, ns (schedstat: the commit thread's work is not in it); NaN without /proc. */
function threadCpuNs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

const CHUNK = 1024;

interface RunResult { ns: number; cpuNs: number; threadCpuNs: number; quietNs: number; ok: boolean; records: number; ringFullCopies: number }

/**
 * One run of `reqs` lifecycles. Besides the wall time per lifecycle: CPU time of all threads and of
 * this thread alone, and `quietNs`, the 10th percentile of the wall time per lifecycle over chunks
 * of 1024 (on a loaded machine most chunks include a preemption; the fastest tenth do not).
 */
function runRouter(reqs: OrderRequest[], fsync: FsyncPolicy, base: string, mode: Path = 'slots',
  journalOpts: Partial<JournalOptions> = {}): RunResult {
  const b = makeRouter(fsync, base, mode, journalOpts);
  const chunks = new Float64Array(Math.floor(reqs.length / CHUNK));
  const c0 = process.cpuUsage();
  const tc0 = threadCpuNs();
  const t0 = process.hrtime.bigint();
  let tChunk = performance.now();
  for (let i = 0; i < reqs.length; i++) {
    lifecycle(b, mode, reqs[i]);
    if ((i & (CHUNK - 1)) === CHUNK - 1) {
      b.router.endOfBatch();
      const t = performance.now();
      chunks[i >>> 10] = t - tChunk;
      tChunk = t;
    }
  }
  b.router.endOfBatch();
  const ns = Number(process.hrtime.bigint() - t0) / reqs.length;
  const tcpu = (threadCpuNs() - tc0) / reqs.length;
  const cpu = process.cpuUsage(c0);
  const ok = b.ok(reqs.length);
  const records = b.journal.stats().records / reqs.length;
  const ringFullCopies = b.journal.stats().ringFullCopies;
  closeBench(b);
  chunks.sort();
  const quietNs = chunks.length > 0 ? (chunks[Math.floor(chunks.length / 10)] * 1e6) / CHUNK : ns;
  return { ns, cpuNs: ((cpu.user + cpu.system) * 1000) / reqs.length, threadCpuNs: tcpu, quietNs, ok, records, ringFullCopies };
}

interface Latency { p50: number; p99: number; p999: number; max: number }

function percentiles(samples: Float64Array, n: number): Latency {
  const s = samples.subarray(0, n).sort();
  const at = (q: number) => s[Math.min(n - 1, Math.floor(q * n))];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[n - 1] };
}

/**
 * Send latency on the slots path, journal on disk (group): call -> encoded bytes, and with a loopback
 * TCP socket call -> socket.write() returned. Also the encode-only baseline (the same Enter Order
 * encoded alone) and the cost of two clock reads.
 */
async function measureLatency(reqs: OrderRequest[], n: number): Promise<Record<string, Latency | number | string>> {
  const server = net.createServer((s) => { s.on('data', () => {}); });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((res) => socket.once('connect', () => res()));
  const b = makeRouter('group', os.tmpdir(), 'slots');
  const toEncoded = new Float64Array(n);
  const toKernel = new Float64Array(n);
  const encodeOnly = new Float64Array(n);
  const clockPair = new Float64Array(n);
  const venue = b.venue;
  venue.stamp = true;
  const run = async (withSocket: boolean, count: number, record: boolean): Promise<void> => {
    venue.socket = withSocket ? socket : undefined;
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      b.router.submitOrder(reqs[i % reqs.length]);
      if (record) {
        if (withSocket) toKernel[i] = (venue.kernelNs - t0) * 1e6;
        else toEncoded[i] = (venue.encodedNs - t0) * 1e6;
      }
      const vl = venue.listener as KeyedVenueListener;
      const key = b.router.tokenKey(venue.out, venue.last + kEnterOrderToken, 14);
      vl.onAckKey(key);
      vl.onFillKey(key, venue.lastQty, venue.lastPrice, execNo++);
      // Bursts of 64, then a turn of the loop: the reader empties the socket, libuv's queue stays empty.
      if ((i & 63) === 63) await new Promise((r) => setImmediate(r));
    }
  };
  await run(false, Math.min(n, 20000), false);
  await run(true, Math.min(n, 20000), false);
  await run(false, n, true);
  await run(true, n, true);
  // Baseline: the same Enter Order encoded alone (string token, as before), and the clock pair.
  const out = Buffer.alloc(ENTER_ORDER_SIZE);
  for (let rep = 0; rep < 2; rep++) {
    for (let i = 0; i < n; i++) {
      const r = reqs[i % reqs.length];
      const t0 = performance.now();
      encodeEnterOrderString(out, 0, 'C0000000012345', 0x42, r.qty, r.symbol, r.price, TIF_DAY, 'TPAT');
      encodeOnly[i] = (performance.now() - t0) * 1e6;
      const c0 = performance.now();
      clockPair[i] = (performance.now() - c0) * 1e6;
    }
  }
  const ok = b.ok(n * 2 + 2 * Math.min(n, 20000));
  closeBench(b);
  socket.destroy();
  server.close();
  if (!ok) { console.error('latency run did not accept and fill every order'); process.exit(1); }
  return {
    send_to_encoded_ns: percentiles(toEncoded, n),
    send_to_kernel_ns: percentiles(toKernel, n),
    encode_only_ns: percentiles(encodeOnly, n),
    clock_pair_ns: percentiles(clockPair, n),
    kernel_path: 'node net.Socket.write on a connected loopback TCP socket (libuv, synchronous write when its queue is empty)',
    orders: n,
  };
}

/** Baseline: the same token strings and the same Enter Orders, nothing else. */
function runBaseline(reqs: OrderRequest[]): number {
  const venue = new EncodingConnector('NSDQ', 'strings');
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

function fsType(dir: string): string {
  try {
    return execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n').pop()!.split(/\s+/)[1];
  } catch {
    return 'unknown';
  }
}

/** One measured way through the router: a row of RUNS. */
interface RouterRun {
  key: 'slots' | 'strings' | 'memory' | 'noRing' | 'previousWriter' | 'writerCrc';
  dir: 'disk' | 'memory';
  mode: Path;
  journal: Partial<JournalOptions>;
}

/** Every run of an iteration, in order; each keeps its best (wall) time over the iterations. */
const RUNS: readonly RouterRun[] = [
  { key: 'slots', dir: 'disk', mode: 'slots', journal: {} },                                 // shipped
  { key: 'strings', dir: 'disk', mode: 'strings', journal: {} },                             // the string-id API
  { key: 'memory', dir: 'memory', mode: 'slots', journal: {} },                              // journal file on tmpfs
  { key: 'noRing', dir: 'disk', mode: 'slots', journal: { ringRecords: 0 } },                // straight into the file mapping
  { key: 'previousWriter', dir: 'disk', mode: 'slots', journal: { ringRecords: 0, ...PREVIOUS_WRITER } },
  { key: 'writerCrc', dir: 'disk', mode: 'slots', journal: { ringCrcBy: 'writer' } },                  // ring records sealed by the router (before)
];

interface Best { ns: number; cpuNs: number; threadCpuNs: number; quietNs: number; records: number; ringFullCopies: number }

async function main(): Promise<void> {
  const orders = Number(arg('orders', '200000'));
  const iterations = Number(arg('iterations', '5'));
  const alwaysOrders = Number(arg('always-orders', '2000'));
  const latencyOrders = Number(arg('latency-orders', '50000'));
  const reqs = makeRequests(orders);
  if (process.argv.includes('--latency-only')) return latencyOnly(reqs, latencyOrders, Number(arg('latency-rounds', '3')));
  const DISK_DIR = os.tmpdir();
  const dirOf = (r: RouterRun) => r.dir === 'disk' ? DISK_DIR : MEMORY_DIR;
  const best = new Map<RouterRun['key'], Best>(RUNS.map((r) => [r.key, { ns: Infinity, cpuNs: Infinity, threadCpuNs: Infinity, quietNs: Infinity, records: 0, ringFullCopies: 0 }]));
  let baseline = Infinity;
  const runs: string[] = [];
  for (const r of RUNS) runRouter(reqs.slice(0, 20000), 'group', dirOf(r), r.mode, r.journal);   // warm-up: JIT every path
  runBaseline(reqs.slice(0, 20000));
  for (let it = 0; it < iterations; it++) {
    const line: string[] = [];
    for (const r of RUNS) {
      const m = runRouter(reqs, 'group', dirOf(r), r.mode, r.journal);
      if (!m.ok) { console.error(`router run ${r.key} did not accept and fill every order`); process.exit(1); }
      const b = best.get(r.key)!;
      if (m.ns < b.ns) { b.ns = m.ns; b.cpuNs = m.cpuNs; }
      b.threadCpuNs = Math.min(b.threadCpuNs, m.threadCpuNs);
      b.quietNs = Math.min(b.quietNs, m.quietNs);
      b.records = m.records;
      b.ringFullCopies = Math.max(b.ringFullCopies, m.ringFullCopies);
      line.push(m.ns.toFixed(0));
    }
    const e = runBaseline(reqs);
    if (e < baseline) baseline = e;
    runs.push(`${line.join('/')}/${e.toFixed(0)}`);
  }
  const slots = best.get('slots')!;
  const strings = best.get('strings')!;
  const memory = best.get('memory')!;
  const noRing = best.get('noRing')!;
  const previousWriter = best.get('previousWriter')!;
  const writerCrc = best.get('writerCrc')!;
  const always = runRouter(reqs.slice(0, alwaysOrders), 'always', DISK_DIR, 'slots');
  if (!always.ok) { console.error('fsync always run did not accept and fill every order'); process.exit(1); }
  const lat = await measureLatency(reqs, latencyOrders);
  const enc = lat.send_to_encoded_ns as Latency;
  const ker = lat.send_to_kernel_ns as Latency;
  const encOnly = lat.encode_only_ns as Latency;
  const clk = lat.clock_pair_ns as Latency;

  const rtt = process.argv.includes('--no-rtt') ? null : measureRttInChild();
  // The same round trips with both ends spinning, each pinned to a CPU of its own: the placement a
  // box with isolated cores would run. On 2 shared vCPUs the two spinners hold every CPU, so their
  // p99 is whatever else the scheduler must run; the p50 is what spinning removes (two wakeups).
  const rttSpin = process.argv.includes('--no-rtt') || os.cpus().length < 2 ? null
    : measureRttInChild(['--protocols', 'ouch,fix,fix_quickfix,echo_native', '--transports', 'native', '--idle', 'spin',
      '--venue-idle', 'spin', '--cpu', '0', '--venue-cpu', '1'], 'spinning, pinned: ');
  const fmtNs = (ns: number) => `${ns.toFixed(0)} ns/order`;
  const diskType = fsType(DISK_DIR);
  console.log(`order router, in process, ${orders} lifecycles (send + ack + fill), best of ${iterations}; journal fsync group on ${DISK_DIR} (${diskType}); load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  report('router', [
    { label: 'lifecycles/s, journal on disk (group), allocation-free path', ours: `${Math.round(1e9 / slots.ns)}/s`,
      baseline: `${Math.round(1e9 / strings.ns)}/s`, ratio: strings.ns / slots.ns,
      note: `baseline: the string-id API (previous path), same run; runs ${RUNS.map((r) => r.key).join('/')}/encode-only ns: ${runs.join(', ')}` },
    { label: 'router vs encode-only loop', ours: fmtNs(slots.ns), baseline: fmtNs(baseline), ratio: slots.ns / baseline },
    { label: 'CPU time per lifecycle (best run)', ours: fmtNs(slots.cpuNs), baseline: fmtNs(strings.cpuNs), ratio: slots.cpuNs / strings.cpuNs,
      note: 'baseline: string-id API; all threads (the commit thread\'s copy and fdatasync included)' },
    { label: 'router thread CPU per lifecycle (best run)', ours: fmtNs(slots.threadCpuNs), baseline: fmtNs(strings.threadCpuNs),
      ratio: slots.threadCpuNs / strings.threadCpuNs, note: 'baseline: string-id API; this thread only (schedstat), not the commit thread' },
    { label: 'lifecycles/s in the quietest tenth of 1024-lifecycle chunks', ours: `${Math.round(1e9 / slots.quietNs)}/s`,
      baseline: `${Math.round(1e9 / strings.quietNs)}/s`, ratio: strings.quietNs / slots.quietNs,
      note: `baseline: string-id API; p10 of chunk times, best run: ${fmtNs(slots.quietNs)} (on a loaded machine most chunks include a preemption)` },
    { label: 'journal ring in /dev/shm vs writing into the file mapping', ours: fmtNs(slots.ns), baseline: fmtNs(noRing.ns),
      ratio: slots.ns / noRing.ns, note: `baseline: the same router and disk, records stored straight into the ext4 file's mapping (ringRecords 0); quietest tenth ${fmtNs(slots.quietNs)} vs ${fmtNs(noRing.quietNs)}, thread CPU ${fmtNs(slots.threadCpuNs)} vs ${fmtNs(noRing.threadCpuNs)}` },
    { label: 'ring records sealed by the commit thread vs by the router', ours: fmtNs(slots.ns), baseline: fmtNs(writerCrc.ns),
      ratio: slots.ns / writerCrc.ns, note: `baseline: the same router, disk and ring, each record's crc computed on the router's thread (ringCrcBy 'writer', the path before ring layout 3); quietest tenth ${fmtNs(slots.quietNs)} vs ${fmtNs(writerCrc.quietNs)}, thread CPU ${fmtNs(slots.threadCpuNs)} vs ${fmtNs(writerCrc.threadCpuNs)}` },
    { label: 'journal clock and pre-faulting on vs off (no ring)', ours: fmtNs(noRing.ns), baseline: fmtNs(previousWriter.ns),
      ratio: noRing.ns / previousWriter.ns,
      note: `baseline: the same router and disk, no ring, a clock call per record and no pages pre-faulted; ${slots.records.toFixed(2)} journal records per lifecycle` },
    { label: 'router, journal file on tmpfs (group)', ours: fmtNs(memory.ns), baseline: fmtNs(slots.ns), ratio: memory.ns / slots.ns,
      note: 'baseline: the same router, journal file on disk' },
    { label: `router, journal on disk, fsync always (${alwaysOrders} orders)`, ours: fmtNs(always.ns), baseline: fmtNs(slots.ns),
      ratio: always.ns / slots.ns, note: 'baseline: the same router, fsync group' },
    { label: 'send -> encoded bytes p50 / p99', ours: `${enc.p50.toFixed(0)} / ${enc.p99.toFixed(0)} ns`,
      baseline: `${encOnly.p50.toFixed(0)} / ${encOnly.p99.toFixed(0)} ns`, ratio: enc.p50 / encOnly.p50,
      note: `baseline: the Enter Order encoded alone; a clock read pair costs ${clk.p50.toFixed(0)} / ${clk.p99.toFixed(0)} ns (included)` },
    { label: 'send -> socket.write returned (loopback TCP) p50 / p99', ours: `${ker.p50.toFixed(0)} / ${ker.p99.toFixed(0)} ns`,
      baseline: `${enc.p50.toFixed(0)} / ${enc.p99.toFixed(0)} ns`, ratio: ker.p50 / enc.p50, note: 'baseline: send -> encoded bytes' },
    ...(rtt ? rtt.rows : []),
    ...(rttSpin ? rttSpin.rows : []),
  ], {
    lifecycles_per_s: Math.round(1e9 / slots.ns),
    orders_per_s: Math.round(1e9 / slots.ns),
    ns_per_order: Math.round(slots.ns),
    cpu_ns_per_order: Math.round(slots.cpuNs),
    thread_cpu_ns_per_order: Math.round(slots.threadCpuNs),
    quiet_chunk_ns_per_order: Math.round(slots.quietNs),
    quiet_chunk_lifecycles_per_s: Math.round(1e9 / slots.quietNs),
    no_ring_thread_cpu_ns_per_order: Math.round(noRing.threadCpuNs),
    no_ring_quiet_chunk_ns_per_order: Math.round(noRing.quietNs),
    strings_path_quiet_chunk_ns_per_order: Math.round(strings.quietNs),
    strings_path_ns_per_order: Math.round(strings.ns),
    strings_path_cpu_ns_per_order: Math.round(strings.cpuNs),
    baseline_ns_per_order: Math.round(baseline),
    ratio: Number((slots.ns / baseline).toFixed(2)),
    journal_dir: DISK_DIR,
    journal_fs: diskType,
    journal_fsync: 'group',
    journal_ring: 'on (/dev/shm, 16384 records, the default)',
    ring_full_copies_max: slots.ringFullCopies,
    no_ring_ns_per_order: Math.round(noRing.ns),
    writer_crc_ns_per_order: Math.round(writerCrc.ns),
    writer_crc_thread_cpu_ns_per_order: Math.round(writerCrc.threadCpuNs),
    writer_crc_quiet_chunk_ns_per_order: Math.round(writerCrc.quietNs),
    memory_group_ns_per_order: Math.round(memory.ns),
    previous_writer_ns_per_order: Math.round(previousWriter.ns),
    journal_records_per_lifecycle: Number(slots.records.toFixed(2)),
    load_avg: os.loadavg().map((l) => Number(l.toFixed(2))),
    disk_always_ns_per_order: Math.round(always.ns),
    journal_memory_dir: MEMORY_DIR,
    latency: lat,
    orders,
    iterations,
    ...(rtt ? { rtt: rtt.rtt } : {}),
    ...(rttSpin ? { rtt_spin: rttSpin.rtt, rtt_spin_placement: 'sender --idle spin on CPU 0, every venue process --venue-idle spin on CPU 1' } : {}),
  });
}

/**
 * `--latency-only`: the send -> encoded bytes row alone, `--latency-rounds` times (each a fresh
 * router after its own warm-up), for before/after comparisons in a few seconds: the best p50 of the
 * rounds and every round's p50/p99, printed (and as JSON, last line, with --json), not written to
 * perf/results.
 */
async function latencyOnly(reqs: OrderRequest[], n: number, rounds: number): Promise<void> {
  const all: Array<Record<string, Latency | number | string>> = [];
  for (let r = 0; r < rounds; r++) all.push(await measureLatency(reqs, n));
  const enc = (l: Record<string, Latency | number | string>) => l.send_to_encoded_ns as Latency;
  const bestOf = all.reduce((a, l) => (enc(l).p50 < enc(a).p50 ? l : a));
  const e = enc(bestOf);
  const o = bestOf.encode_only_ns as Latency;
  const c = bestOf.clock_pair_ns as Latency;
  const each = all.map((l) => `${enc(l).p50.toFixed(0)}/${enc(l).p99.toFixed(0)}`).join(', ');
  // A quick check, not a result: printed, never written to perf/results (the README's table stays
  // the full run's).
  console.log(`send latency only, ${n} orders x ${rounds} rounds; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`send -> encoded bytes p50 / p99 (best round): ${e.p50.toFixed(0)} / ${e.p99.toFixed(0)} ns; ` +
    `baseline, the Enter Order encoded alone: ${o.p50.toFixed(0)} / ${o.p99.toFixed(0)} ns (ratio ${(e.p50 / o.p50).toFixed(3)}); ` +
    `clock pair ${c.p50.toFixed(0)} / ${c.p99.toFixed(0)} ns (included); rounds p50/p99: ${each}`);
  if (process.argv.includes('--json')) console.log(JSON.stringify({
    send_to_encoded_ns: e,
    encode_only_ns: o,
    clock_pair_ns: c,
    rounds_send_to_encoded_ns: all.map(enc),
    load_avg: os.loadavg().map((l) => Number(l.toFixed(2))),
    orders: n,
    rounds,
  }));
}

/** Runs perf/router-rtt.js and returns its `rtt` object and table rows (an error note if it failed). */
function measureRttInChild(extra: string[] = [], prefix = ''): { rtt: Partial<Record<RttProtocol, RttResult | RttSkipped>> | { error: string }; rows: Row[] } {
  const rate = arg('rtt-rate', '2000');
  const args = [path.join(__dirname, 'router-rtt.js'), '--rate', rate, '--seconds', arg('rtt-seconds', '3'),
    '--rounds', arg('rtt-rounds', '3'), ...extra, '--json'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 600000, stdio: ['ignore', 'pipe', 'inherit'] });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as { rtt: Partial<Record<RttProtocol, RttResult | RttSkipped>> };
    return { rtt: parsed.rtt, rows: rttRows(parsed.rtt, Number(rate)).map((row) => ({ ...row, label: prefix + row.label })) };
  } catch {
    const error = `perf/router-rtt exited ${r.status ?? r.signal}: ${last || String(r.error)}`;
    return { rtt: { error }, rows: [{ label: `${prefix}rtt`, ours: 'failed', baseline: '', note: error }] };
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
