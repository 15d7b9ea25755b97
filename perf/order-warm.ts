/**
 * perf:order-warm: order_send after a quiet stretch, cold beside kept warm, in one run.
 *
 * The router stage's keep-warm (OrderPathWarmer) runs dry-run orders between real ones. Its
 * shadow copies warm the code; the real next journal slot, order-table slots, risk entries and the
 * connector's send buffer are warmed only by its reads of them (touchReal). This measures what each
 * buys: a real router stack (configs/routing_config.yml: risk, routing, the journal under its
 * shipped policy, the OUCH connector over the native transport) sends orders for MSFT (routed
 * whole to NSDQ, one child) to a `tickpath venue-sim` child process; before each order this
 * thread walks --evict-mb of other memory (what the books do to the caches between two orders of
 * a strategy that sends one every few ms), then, by variant in turn (round robin, so load
 * changes hit all four alike):
 *   cold         nothing
 *   shadow       one dry run on the shadow copies only (touchReal: false; the keep-warm as it was)
 *   shadow+real  one dry run that also reads the real next slots (touchReal: true, ownLines and
 *                ownNext: false: loads only)
 *   shipped      as shadow+real, and stores back as read the real journal's next ring slot and
 *                written position (ownLines, OrderJournal.warmNextSlot) and the order table's next
 *                two slots and next keys' key-table entries (ownNext, OrderRouter.warmNextOrder)
 * then walks --after-kb more (the books' work between the last dry run and the order), and sends.
 * order_send and its split (risk, journal, encode, send(2)) come from the router stage's own
 * OrderPathProbe. Buys at the ask and sells at the bid alternate, so orders fill and none stay open.
 *
 * The venue process spins on the RX CPU (--venue-idle block for the shipped in-process behaviour's
 * wakeup); this thread is pinned to CPU 0. --huge-pages MODE applies performance.huge_pages to this
 * process once everything is allocated (huge-pages.ts), the evicting memory included.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pinCurrentThread } from '../lib/binding/threads';
import { MonotonicClock } from '../lib/common/clock';
import { LatencyRecorder } from '../lib/common/latency-recorder';
import { OrderPathProbe, OrderPathWarmer } from '../lib/pipeline/stages/order-path';
import { nativeTcpBinding } from '../lib/protocols/transport/native-tcp-transport';
import { createRouterStack } from '../lib/router/router-stack';
import { loadRoutingConfig } from '../lib/router/routing-config';
import type { OrderRequest } from '../lib/router/types';
import { BenchArgs } from './lib/args';
import { kConfigDir, kRxCpu, sleep, tmpDir } from './lib/machine';
import { startVenueProcess } from '../lib/venue-sim/venue-process';
import { report, Row } from './report';
import { adviseHugePages, type HugePageMode } from '../lib/pipeline/huge-pages';

const args = new BenchArgs();
const orders = args.number('orders', 600, 3);
const evictMb = args.number('evict-mb', 32, 0);
const afterKb = args.number('after-kb', 64, 0);
const venueIdle = (args.string('venue-idle') ?? 'spin') as 'spin' | 'block';
const gapMs = args.number('gap-ms', 3, 0);
// performance.huge_pages for this process (off, advise, collapse), applied once everything is allocated.
const hugePages = (args.string('huge-pages') ?? 'off') as HugePageMode;
// Orders sent first and not measured, no eviction between them: the order path's code optimized, as in a run that has been up a while.
const warmupOrders = args.number('warmup-orders', 300, 0);

const kVariants = ['cold', 'shadow', 'shadow+real', 'shipped'] as const;
type Variant = typeof kVariants[number];
const kStages = ['order_send', 'order_risk', 'order_journal', 'order_encode', 'order_syscall'] as const;

/** Other memory, walked one load per cache line (what the books do to the caches between orders). */
const evict = new Float64Array((evictMb * (1 << 20)) / 8);
const after = new Float64Array(Math.max(8, (afterKb * 1024) / 8));
let sink = 0;
function walk(a: Float64Array): void {
  let s = 0;
  for (let i = 0; i < a.length; i += 8) { s += a[i]; a[i] = s; }
  sink += s;
}

async function main(): Promise<void> {
  const dir = tmpDir('tp-perf-order-warm-');
  const venue = await startVenueProcess({ cpu: kRxCpu, idle: venueIdle, fixCompId: 'ARCA' });
  const cfg = loadRoutingConfig(path.join(kConfigDir, 'routing_config.yml'));
  const px = 1_000_000;
  const bbo = { bestBid: () => px, bestAsk: () => px + 100, entries: () => [{ symbol: 'MSFT', bid: px, ask: px + 100 }] };
  const quiet = () => undefined;
  const listener = { onAccepted: quiet, onRejected: quiet, onAcked: quiet, onPartiallyFilled: quiet, onFilled: quiet, onCancelled: quiet,
    onReplaced: quiet, onVenueReject: quiet, onRequestRejected: quiet };
  const stack = createRouterStack(cfg, { bbo, listener, portOverrides: { NSDQ: venue.ouchPort, ARCA: venue.fixPort },
    journalPath: path.join(dir, 'orders.journal'), fixStoreDir: path.join(dir, 'fix-store'), log: () => undefined });
  const clock = new MonotonicClock();
  const rec = Object.fromEntries(kVariants.map((v) => [v, Object.fromEntries(kStages.map((s) => [s, new LatencyRecorder({ name: s })]))])) as
    Record<Variant, Record<typeof kStages[number], LatencyRecorder>>;
  try {
    await stack.connect();
    const probe = new OrderPathProbe(stack, clock, nativeTcpBinding());
    const shadow = new OrderPathWarmer(stack, cfg.risk, bbo, undefined, { touchReal: false });
    const real = new OrderPathWarmer(stack, cfg.risk, bbo, undefined, { touchReal: true, ownLines: false, ownNext: false });
    const own = new OrderPathWarmer(stack, cfg.risk, bbo, undefined, { touchReal: true, ownLines: true, ownNext: true });
    const huge = adviseHugePages(hugePages);
    pinCurrentThread(0);
    const req: OrderRequest = { symbol: 'MSFT', side: 'B', qty: 100, price: px + 100, ordType: 'LIMIT', tif: 'DAY' };
    shadow.noteOrder(req); real.noteOrder(req); own.noteOrder(req);
    const poll = () => { const now = Date.now(); for (const c of stack.connectors) c.poll?.(now); };
    // Warm-up: the code compiled before anything is measured.
    for (let i = 0; i < 200; i++) { shadow.run(); real.run(); own.run(); }
    let sent = 0;
    for (let i = 0; i < warmupOrders + orders; i++) {
      const measured = i >= warmupOrders;
      const v = kVariants[i % kVariants.length];
      // Acks and fills of the last order read, and the gap the throttle wants: spinning on the
      // venue polls, as the spinning stage worker does (sleeping would hand the CPU and its caches
      // to whatever else runs).
      const until = Date.now() + gapMs;
      while (Date.now() < until) poll();
      if (measured) walk(evict);
      if (v === 'shadow') shadow.run(); else if (v === 'shadow+real') real.run(); else if (v === 'shipped') own.run();
      if (measured) walk(after);
      req.side = i % 2 === 0 ? 'B' : 'S';
      req.price = req.side === 'B' ? px + 100 : px;
      const t0 = probe.begin();
      const p = stack.router.submitOrder(req);
      const out = probe.end(measured ? rec[v] : {});
      if (measured && p >= 0 && out > 0) { rec[v].order_send.record(out - t0); sent++; }
    }
    const until = Date.now() + 200;
    while (Date.now() < until) { poll(); await sleep(1); }
    shadow.close(); real.close(); own.close();
    const s = (v: Variant, k: typeof kStages[number]) => rec[v][k].summary();
    const fmt = (x: { p50: number; p99: number; count: number }) => (x.count ? `p50 ${(x.p50 / 1000).toFixed(2)}us p99 ${(x.p99 / 1000).toFixed(2)}us (${x.count})` : 'no samples');
    const rows: Row[] = [];
    for (const k of kStages) {
      rows.push({ label: `${k} shipped`, ours: fmt(s('shipped', k)), baseline: `cold: ${fmt(s('cold', k))}`,
        ratio: s('cold', k).p50 > 0 ? s('shipped', k).p50 / s('cold', k).p50 : undefined,
        note: `shadow only: ${fmt(s('shadow', k))}; shadow+real reads only: ${fmt(s('shadow+real', k))}` });
    }
    const result: Record<string, unknown> = {
      what: `order_send after walking ${evictMb} MB of other memory, then the variant, then ${afterKb} KB more; variants in turn in one run`,
      venue: venue.label, huge_pages: hugePages, huge_pages_collapsed_mib: huge === null ? 0 : Math.round(huge.collapsed / 1048576), orders_sent: sent, warmup_orders: warmupOrders, evict_mb: evictMb, after_kb: afterKb,
      variants: Object.fromEntries(kVariants.map((v) => [v, Object.fromEntries(kStages.map((k) => {
        const x = s(v, k);
        return [k, { p50_ns: x.p50, p99_ns: x.p99, max_ns: x.max, count: x.count }];
      }))])),
      loadavg: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
      sink: sink % 2,
    };
    report('order-warm', rows, result);
  } finally {
    await stack.close().catch(() => undefined);
    await venue.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
