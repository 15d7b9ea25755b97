/**
 * perf:latency: generated ITCH traffic at fixed offered rates through the whole pipeline (decoder,
 * books, conflation, the sample strategy sending orders, the router, in-process venue simulators)
 * on the dpdk backend, per-stage percentiles from Pipeline.stats().latency.
 *
 * Source: dpdk `net_ring` loopback. A paced sender worker (perf/lib/paced-sender-worker.ts) writes
 * the frames of a capture generated at exactly the target rate (SessionGenerator) into the port's
 * TX slots on an absolute schedule; the port's RX lcore transmits them into the ring and receives
 * them back. The wire timestamp is the RX lcore's poll time (CLOCK_MONOTONIC), so every stage
 * figure starts at the moment the packet was in the JS-visible ring's producer's hands.
 * (net_pcap replays as fast as it is polled and the pcap backend is not dpdk, so neither gives a
 * paced dpdk source.)
 *
 * Baseline, same run, same rate and CPUs: the bare transport, a worker that only reads each
 * packet with RxConsumer (perf/lib/rx-latency-worker.ts): poll time to JS read. And, at the first
 * rate, the order path as it was (`before`): no keep-warm dry runs, the strategy deciding on
 * conflated quotes at the end of each packet's batch; same capture and layout, run right after.
 *
 * md_to_order ends when the order's first send(2) returned (the bytes are in the kernel);
 * order_send is the router's part of it, split into order_risk, order_journal, order_encode and
 * order_syscall (lib/pipeline/stages/order-path.ts). md_to_wire ends instead at the order's kernel
 * TX software timestamp (the driver's xmit took its last byte: where it leaves this host's stack,
 * without the loopback receiver's softirq that send(2) also runs), and order_wire is send(2) called
 * to that stamp (lib/pipeline/stages/tx-stamps.ts). --every-quotes N sets the sample strategy's
 * order rate (one order per N-th quote of a symbol; default 50); --max-orders caps it. With
 * TICKPATH_DECIDE_STEPS=1 in the environment the stage worker prints signal_decide split by part
 * to stderr (lib/pipeline/stages/decide-steps.ts; diagnosis only, its clock reads are in the figures).
 *
 * Coordinated omission: the sender is open-loop (it never waits for the pipeline), so every packet
 * is measured and the stage histograms are plain. Beside wire_to_handler, the HdrHistogram
 * expected-interval correction of it is computed after the run (copyCorrectedForCoordinatedOmission,
 * never on the record path, where it would turn a stall into a longer one); with an open-loop sender
 * it double-counts stalls, so both are reported. The sender's lateness is reported too.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Port } from '../lib/binding';
import { LatencyRecorder, LatencySummary, SerializedLatency } from '../lib/common/latency-recorder';
import { BenchArgs } from './lib/args';
import { dpdkUnavailable, kRxCpu, sleep, tmpDir } from './lib/machine';
import { currentThreadAffinity, pinCurrentThread, setCurrentThreadAffinity } from '../lib/binding/threads';
import { PacedSender } from './lib/paced-sender';
import type { PacedSenderReport } from './lib/paced-sender-worker';
import { dpdkPortOptions, loadBenchConfigs, startPipeline, waitForDrain } from './lib/pipeline-harness';
import { RingMonitor } from './lib/ring-monitor';
import { parseVenuePlacement, startVenueProcess } from '../lib/venue-sim/venue-process';
import type { RxLatencyJob } from './lib/rx-latency-worker';
import { generateSession, SessionCapture } from './lib/session-capture';
import { schedDelta, schedSnapshot, workerTidFromLog } from './lib/thread-sched';
import { fmtRate, report, Row } from './report';

const args = new BenchArgs();
const rates = args.rates('rates', [100e3, 1e6, 5e6]);
const seconds = args.number('seconds', 2, 0.01);
const symbols = args.number('symbols', 100, 1);
// ITCH messages per packet at most (the generator's default, ~20 at 100 k msgs/s, when absent): the
// order's trigger waits for the messages ahead of it in its packet, so signal_decide depends on it.
const msgsPerPacketArg = args.string('msgs-per-packet');
const msgsPerPacket = msgsPerPacketArg === undefined ? undefined : args.number('msgs-per-packet', 20, 1);
// Spin by default: a latency/throughput figure with the stage parked on a back-off timer measures the
// timer. (The shipped performance.yml spins too; --idle to change.)
const idle = (args.string('idle') ?? 'spin') as 'spin' | 'yield' | 'backoff';
// The RX poller backs off (npm start's layout): it shares its CPU with the paced sender and the main
// thread, where the venue simulators answer orders. --rx-idle spin to make it spin as well.
const rxIdle = (args.string('rx-idle') ?? 'backoff') as 'spin' | 'yield' | 'backoff';
const senderCpu = args.number('sender-cpu', kRxCpu, -1);
const maxOrders = args.string('max-orders');
// The sample strategy's order rate: an order every N-th quote of a symbol (default 50).
const everyQuotes = args.string('every-quotes');
const strategyParams = maxOrders !== undefined || everyQuotes !== undefined
  ? { ...(maxOrders !== undefined ? { maxOrders: Number(maxOrders) } : {}), ...(everyQuotes !== undefined ? { everyQuotes: Number(everyQuotes) } : {}) }
  : undefined;
const journalFsync = args.string('journal-fsync') as 'always' | 'group' | 'never' | undefined;
const verbose = args.has('verbose');
// Beside the shipped order path, the same rate with it as it was: no keep-warm dry runs, the
// strategy deciding on conflated quotes at the end of each packet's batch. At the first rate only
// (--compare-all for every rate, --no-compare for none).
const compareAll = args.has('compare-all');
const compareNone = args.has('no-compare');
// Beside the shipped run, the same with keep-warm but no shadow route (keep_warm_path_us 0), at the
// first rate (--no-shadow-compare for none): what the dry runs through the real order code buy.
const shadowCompare = !args.has('no-shadow-compare');
// And the same without the private loopback send(2) of the keep-warm turns (keep_warm_socket_us 0),
// at the first rate (--no-socket-compare for none).
const socketCompare = !args.has('no-socket-compare');
// And without the books' idle warm walk (performance.stages.book.warm_idle), right after, at the
// first rate (--no-books-warm-compare for none): what the walk buys signal_decide.
const booksWarmCompare = !args.has('no-books-warm-compare');
// The venue out of this process (a venue-sim child), at the first rate: MODE@CPU, comma-separated
// (MODE block or spin). Default spin on the RX CPU, the one the stage worker does not use: the
// router's send(2) then finds a receiver already running. 'none' for no such run.
// Keep-warm intervals beside the shipped ones, at the first rate: comma-separated `K` (keep_warm_us,
// keep_warm_path_us and keep_warm_socket_us all K) or `K/P/S` (each its own; e.g. 20/20/200), each a
// run right after the shipped one with the same capture and layout. Default none.
// `@V` after either also sets venue_idle_poll_us to V (the venue polls while no order awaits an answer), e.g. 50/50/200@100.
const keepWarmVariants = (args.string('keep-warm-variants') ?? '').split(',').filter((v) => v !== '' && v !== 'none').map((v) => {
  const [kw, poll] = v.split('@');
  const n = kw.split('/').map(Number);
  const p = poll === undefined ? undefined : Number(poll);
  if (!(n.length === 1 || n.length === 3) || n.some((x) => !Number.isInteger(x) || x < 0) || (p !== undefined && !(Number.isInteger(p) && p >= 0))) {
    throw new Error(`--keep-warm-variants ${v}: expected K or K/P/S in microseconds (keep_warm_us, keep_warm_path_us, keep_warm_socket_us), ` +
      'optionally @V (venue_idle_poll_us), e.g. 20, 20/20/200 or 50/50/200@100');
  }
  return { label: v, keepWarmUs: n[0], keepWarmPathUs: n.length === 3 ? n[1] : n[0], keepWarmSocketUs: n.length === 3 ? n[2] : n[0], venuePollUs: p };
});
// The venue sessions polled every N us instead of the shipped venue_poll_us and venue_idle_poll_us
// (both), at the first rate (comma-separated; default none): each poll is a recv(2) per session on
// the stage's core.
const venuePollVariants = (args.string('venue-poll-variants') ?? '').split(',').filter((v) => v !== '' && v !== 'none').map((v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--venue-poll-variants ${v}: expected microseconds (an integer >= 0), e.g. 100`);
  return n;
});
const venueVariants = (args.string('venue-variants') ?? `spin@${kRxCpu}`).split(',').filter((v) => v !== '' && v !== 'none')
  .map((v) => parseVenuePlacement('--venue-variants', v, kRxCpu + 1));

interface Percentiles { p50_ns: number; p99_ns: number; p999_ns: number; max_ns: number; count: number }
const pct = (s: LatencySummary): Percentiles => ({ p50_ns: s.p50, p99_ns: s.p99, p999_ns: s.p999, max_ns: s.max, count: s.count });
const us = (ns: number) => `${(ns / 1000).toFixed(ns < 10_000 ? 2 : 0)}us`;
const fmtP = (p: Percentiles) => (p.count ? `p50 ${us(p.p50_ns)} p99 ${us(p.p99_ns)} p99.9 ${us(p.p999_ns)} max ${us(p.max_ns)}` : 'no samples');

const kTargets = { wire_to_handler: { p50_ns: 1000, p99_ns: 5000 }, md_to_order: { p50_ns: 5000, p99_ns: 10000 } };

/** The bare transport at this rate: net_ring -> RxConsumer in a worker, poll time to read. */
async function baseline(cap: SessionCapture): Promise<{ wire_to_read: Percentiles; achieved: number; drops: number; sender: PacedSenderReport }> {
  const { performance: perf } = loadBenchConfigs({ idle, rxIdle });
  const port = Port.open(dpdkPortOptions(perf, 'net_ring_latb', { txSlots: 4096 }));
  const control = new SharedArrayBuffer(64);
  const job: RxLatencyJob = { transfer: port.rxTransfer(0), cpu: perf.stages.decoder.cpu, control, idle: perf.idle.strategy, maxSpins: perf.idle.maxSpins, burst: perf.stages.decoder.burst };
  const worker = new Worker(path.join(__dirname, 'lib', 'rx-latency-worker.js'), { workerData: job });
  const msgs: unknown[] = [];
  let wake: () => void = () => {};
  worker.on('message', (m) => { msgs.push(m); wake(); });
  const next = () => new Promise<void>((r) => { if (msgs.length) r(); else wake = r; });
  await next(); msgs.shift();
  port.start();
  const monitor = new RingMonitor(port.rxTransfer(0).ring);
  const sender = new PacedSender(port.txTransfer(0), cap.file, [{ captureSeconds: Infinity, speed: 1 }], senderCpu);
  const r = await sender.run();
  await waitForDrain(monitor, r.frames, 10_000);
  Atomics.store(new Int32Array(control), 0, 1);
  await next();
  const res = msgs.shift() as { packets: number; latency: SerializedLatency };
  const drops = port.stats().queues[0].ringFullDrops;
  port.stop(); port.close();
  await worker.terminate();
  const h = LatencyRecorder.merge('wire_to_read', [res.latency]);
  return { wire_to_read: pct(h.summary()), achieved: r.messages / ((r.endNs - r.startNs) / 1e9), drops, sender: r };
}

/** Roles of the threads the scheduler report names: stage workers (from their start-up log line), the RX lcore. */
function threadRoles(workerTids: Map<number, string>, snap: ReturnType<typeof schedSnapshot>): Map<number, string> {
  const roles = new Map(workerTids);
  for (const t of snap.threads.values()) {
    if (roles.has(t.tid)) continue;
    if (t.tid === process.pid) roles.set(t.tid, 'main thread');
    else if (/^rte-worker|lcore/i.test(t.comm)) roles.set(t.tid, `RX lcore (${t.comm})`);
  }
  return roles;
}

/** The order path's variant: `before` is no keep-warm and the strategy on conflated quotes. */
interface Variant {
  name: 'shipped' | 'before' | 'venue_process' | 'no_shadow' | 'no_socket' | 'no_books_warm' | 'keep_warm' | 'venue_poll'; keepWarmUs?: number; strategyParams?: Record<string, unknown>;
  /** Override performance.stages.book.warm_idle. */
  booksWarmIdle?: boolean;
  /** Override performance.stages.router.keep_warm_path_us (0: keep-warm without the shadow route). */
  keepWarmPathUs?: number;
  /** Override performance.stages.router.keep_warm_socket_us (0: no send(2) on the private loopback connection). */
  keepWarmSocketUs?: number;
  /** Override performance.stages.router.venue_poll_us and venue_idle_poll_us. */
  venuePollUs?: number;
  /** Override performance.stages.router.venue_idle_poll_us. */
  venueIdlePollUs?: number;
  /** A venue-sim child process instead of the in-process simulators on the main thread. */
  venue?: { idle: 'block' | 'spin'; cpu: number };
}
const kShipped: Variant = { name: 'shipped', strategyParams };
const kBefore: Variant = { name: 'before', keepWarmUs: 0, strategyParams: { ...(strategyParams ?? {}), immediate: false } };
const kNoShadow: Variant = { name: 'no_shadow', keepWarmPathUs: 0, strategyParams };
const kNoSocket: Variant = { name: 'no_socket', keepWarmSocketUs: 0, strategyParams };
const kNoBooksWarm: Variant = { name: 'no_books_warm', booksWarmIdle: false, strategyParams };

async function pipelineAt(cap: SessionCapture, variant: Variant = kShipped) {
  const venue = variant.venue ? await startVenueProcess({ cpu: variant.venue.cpu, idle: variant.venue.idle, fixCompId: 'ARCA' }) : undefined;
  try {
    const run = await pipelineWith(cap, variant, venue ? { NSDQ: venue.ouchPort, ARCA: venue.fixPort } : undefined);
    const venueStats = venue ? await venue.stop() : null;
    return { ...run, venueLabel: venue?.label, venueOrdersIn: venueStats ? Number(venueStats.ordersIn) : run.st.venue?.ordersIn };
  } finally {
    await venue?.stop();
  }
}

async function pipelineWith(cap: SessionCapture, variant: Variant, venuePorts: Record<string, number> | undefined) {
  const { performance: perf } = loadBenchConfigs({ idle, rxIdle, keepWarmUs: variant.keepWarmUs });
  const workerTids = new Map<number, string>();
  const log = (l: string) => {
    const w = workerTidFromLog(l);
    if (w) workerTids.set(w.tid, w.label);
    if (verbose) console.error(l);
  };
  const pathUs = variant.keepWarmPathUs, socketUs = variant.keepWarmSocketUs, pollUs = variant.venuePollUs, idlePollUs = variant.venueIdlePollUs ?? pollUs;
  const booksWarm = variant.booksWarmIdle;
  const performance = pathUs === undefined && socketUs === undefined && pollUs === undefined && idlePollUs === undefined && booksWarm === undefined ? undefined
    : (c: typeof perf) => ({ ...c, stages: { ...c.stages, book: { ...c.stages.book, warmIdle: booksWarm ?? c.stages.book.warmIdle }, router: { ...c.stages.router, venuePollMicros: pollUs ?? c.stages.router.venuePollMicros,
      venueIdlePollMicros: idlePollUs ?? c.stages.router.venueIdlePollMicros,
      keepWarmPathMicros: pathUs ?? c.stages.router.keepWarmPathMicros, keepWarmSocketMicros: socketUs ?? c.stages.router.keepWarmSocketMicros } } });
  const p = await startPipeline(dpdkPortOptions(perf, 'net_ring_lat', { txSlots: 4096 }),
    { idle, rxIdle, log, strategyParams: variant.strategyParams, journalFsync, keepWarmUs: variant.keepWarmUs, venuePorts, performance });
  // npm start's layout: this thread (the venue simulators) beside the RX poller and the sender, not
  // woken onto the stage's CPU by every order; restored after the run (later runs create threads).
  const mainCpus = currentThreadAffinity();
  pinCurrentThread(kRxCpu);
  const failed = p.failed().then((e) => { throw e; });
  try {
    const monitor = new RingMonitor(p.port.rxTransfer(0).ring);
    monitor.start(1);
    const sender = new PacedSender(p.port.txTransfer(0), cap.file, [{ captureSeconds: Infinity, speed: 1 }], senderCpu);
    const s0 = schedSnapshot();
    const r = await Promise.race([sender.run(), failed]);
    const drained = await waitForDrain(monitor, r.frames, 20_000);
    const s1 = schedSnapshot();
    const sched = schedDelta(s0, s1, threadRoles(workerTids, s1));
    monitor.stop();
    await sleep(200); // let orders in flight come back from the venue (order_ack, order_fill)
    const st = await p.stop();
    // Coordinated-omission view of wire_to_handler for this fixed packet rate, computed off the hot path.
    const corrected = p.mergedLatency('wire_to_handler').correctedSummary((seconds * 1e9) / cap.packets);
    return { r, st, drained, highWater: monitor.highWater, ringCapacity: monitor.capacity, corrected, sched };
  } catch (e) {
    await p.stop().catch(() => undefined);
    throw e;
  } finally {
    setCurrentThreadAffinity(mainCpus);
  }
}

async function main(): Promise<void> {
  const why = dpdkUnavailable();
  if (why) throw new Error(`perf:latency needs the dpdk backend: ${why}`);
  const dir = tmpDir('tp-perf-latency-');
  const out: Record<string, unknown>[] = [];
  const rows: Row[] = [];
  for (const rate of rates) {
    const cap = generateSession(dir, { rate, seconds, symbols, maxMessagesPerPacket: msgsPerPacket });
    const base = await baseline(cap);
    const { r, st, drained, highWater, ringCapacity, corrected, sched } = await pipelineAt(cap);
    const L = st.latency;
    const achieved = r.messages / ((r.endNs - r.startNs) / 1e9);
    const lag = LatencyRecorder.merge('sender_lag', [r.lag]).summary();
    const drops = st.counters.rx_ring_drops;
    const stages = {
      wire_to_handler: pct(L.wire_to_handler), decode: pct(L.wire_to_decode), md_to_order: pct(L.md_to_order),
      md_to_signal: pct(L.md_to_signal), order_send: pct(L.order_send), md_to_send_call: pct(L.md_to_send_call),
      dec_to_send_call: pct(L.dec_to_send_call),
      order_risk: pct(L.order_risk), order_journal: pct(L.order_journal), order_encode: pct(L.order_encode), order_syscall: pct(L.order_syscall),
      signal_wait: pct(L.signal_wait), signal_decide: pct(L.signal_decide),
      md_to_wire: pct(L.md_to_wire), order_wire: pct(L.order_wire),
      wire_to_handler_corrected: corrected ? pct(corrected) : null,
      order_ack: pct(L.order_ack), order_fill: pct(L.order_fill),
    };
    // The order path as it was, same rate and capture, right after: the side-by-side baseline.
    let before: Record<string, unknown> | null = null;
    if (!compareNone && (compareAll || rate === rates[0])) {
      const b = await pipelineAt(cap, kBefore);
      const BL = b.st.latency;
      before = {
        what: 'no keep-warm (keep_warm_us 0), the strategy deciding on conflated quotes (immediate: false); same rate, capture and layout, run right after',
        orders_sent: b.st.counters.orders_sent, keep_warm_turns: b.st.counters.keep_warm_turns,
        stages: {
          wire_to_handler: pct(BL.wire_to_handler), md_to_order: pct(BL.md_to_order), md_to_signal: pct(BL.md_to_signal), order_send: pct(BL.order_send),
          order_risk: pct(BL.order_risk), order_journal: pct(BL.order_journal), order_encode: pct(BL.order_encode), order_syscall: pct(BL.order_syscall),
        },
        stage_worker_run_delay_ms: b.sched.threads.find((t) => t.role?.startsWith('stage worker'))?.run_delay_ms ?? null,
        loadavg: b.sched.loadavg,
      };
    }
    // Keep-warm without the shadow route, and without the private loopback send(2), same rate and
    // capture, each right after (first rate only).
    const warmOff = async (v: Variant, what: string): Promise<Record<string, unknown>> => {
      const b = await pipelineAt(cap, v);
      const BL = b.st.latency;
      return {
        what, orders_sent: b.st.counters.orders_sent, keep_warm_turns: b.st.counters.keep_warm_turns, keep_warm_socket_turns: b.st.counters.keep_warm_socket_turns,
        books_warm_steps: b.st.counters.books_warm_steps,
        stages: {
          wire_to_handler: pct(BL.wire_to_handler), md_to_order: pct(BL.md_to_order), md_to_send_call: pct(BL.md_to_send_call), dec_to_send_call: pct(BL.dec_to_send_call), md_to_signal: pct(BL.md_to_signal),
          signal_wait: pct(BL.signal_wait), signal_decide: pct(BL.signal_decide), order_send: pct(BL.order_send),
          order_risk: pct(BL.order_risk), order_journal: pct(BL.order_journal), order_encode: pct(BL.order_encode), order_syscall: pct(BL.order_syscall),
          md_to_wire: pct(BL.md_to_wire), order_wire: pct(BL.order_wire),
        },
        stage_worker_run_delay_ms: b.sched.threads.find((t) => t.role?.startsWith('stage worker'))?.run_delay_ms ?? null,
        rx_ring_drops: b.st.counters.rx_ring_drops, loadavg: b.sched.loadavg,
      };
    };
    const noShadow = shadowCompare && rate === rates[0]
      ? await warmOff(kNoShadow, 'keep-warm without the shadow route (keep_warm_path_us 0); everything else as shipped; same rate, capture and layout, run right after') : null;
    const noSocket = socketCompare && rate === rates[0]
      ? await warmOff(kNoSocket, 'keep-warm without the send(2) on a private loopback connection (keep_warm_socket_us 0); everything else as shipped; run right after') : null;
    const noBooksWarm = booksWarmCompare && rate === rates[0]
      ? await warmOff(kNoBooksWarm, 'without the books\' idle warm walk (performance.stages.book.warm_idle false); everything else as shipped; run right after') : null;
    // Other keep-warm intervals (--keep-warm-variants), same rate and capture, each right after (first rate only).
    const keepWarmRuns: Record<string, unknown>[] = [];
    if (rate === rates[0]) {
      for (const k of keepWarmVariants) {
        const v: Variant = { name: 'keep_warm', keepWarmUs: k.keepWarmUs, keepWarmPathUs: k.keepWarmPathUs, keepWarmSocketUs: k.keepWarmSocketUs, venueIdlePollUs: k.venuePollUs, strategyParams };
        const poll = k.venuePollUs === undefined ? '' : `, venue sessions polled every ${k.venuePollUs} us while no order awaits an answer`;
        keepWarmRuns.push({ label: k.label, keep_warm_us: k.keepWarmUs, keep_warm_path_us: k.keepWarmPathUs, keep_warm_socket_us: k.keepWarmSocketUs, venue_idle_poll_us: k.venuePollUs ?? null,
          ...await warmOff(v, `keep-warm every ${k.keepWarmUs} us of quiet (shadow route every ${k.keepWarmPathUs} us, loopback send(2) every ${k.keepWarmSocketUs} us${poll}); everything else as shipped; run right after`) });
      }
    }
    // Other venue poll intervals (--venue-poll-variants), same rate and capture, each right after (first rate only).
    const pollRuns: Record<string, unknown>[] = [];
    if (rate === rates[0]) {
      for (const us of venuePollVariants) {
        const v: Variant = { name: 'venue_poll', venuePollUs: us, strategyParams };
        pollRuns.push({ label: `poll${us}`, venue_poll_us: us, ...await warmOff(v, `venue sessions polled every ${us} us; everything else as shipped; run right after`) });
      }
    }
    // The venue in a process of its own, pinned and idling as asked (first rate only): what differs
    // from the shipped run is only where the venue runs and how it waits.
    const venueRuns: Record<string, unknown>[] = [];
    if (rate === rates[0]) {
      for (const v of venueVariants) {
        const x = await pipelineAt(cap, { name: 'venue_process', strategyParams, venue: v });
        const XL = x.st.latency;
        venueRuns.push({
          what: `the venue simulators in a separate process (${x.venueLabel}) instead of in-process on this process's main thread (CPU ${kRxCpu}, blocking in epoll between orders); everything else as shipped`,
          venue_idle: v.idle, venue_cpu: v.cpu, orders_sent: x.st.counters.orders_sent, venue_orders_in: x.venueOrdersIn,
          stages: {
            wire_to_handler: pct(XL.wire_to_handler), md_to_order: pct(XL.md_to_order), md_to_signal: pct(XL.md_to_signal), order_send: pct(XL.order_send),
            order_risk: pct(XL.order_risk), order_journal: pct(XL.order_journal), order_encode: pct(XL.order_encode), order_syscall: pct(XL.order_syscall),
            order_ack: pct(XL.order_ack), md_to_wire: pct(XL.md_to_wire), order_wire: pct(XL.order_wire),
          },
          stage_worker_run_delay_ms: x.sched.threads.find((t) => t.role?.startsWith('stage worker'))?.run_delay_ms ?? null,
          rx_ring_drops: x.st.counters.rx_ring_drops, loadavg: x.sched.loadavg,
        });
      }
    }
    out.push({
      rate, achieved: Math.round(achieved), packets: r.frames, messages: r.messages, messages_per_packet: cap.messagesPerPacket,
      keep_warm_turns: st.counters.keep_warm_turns, strategy_quotes_immediate: st.counters.strategy_quotes_immediate, before, no_shadow: noShadow, no_socket: noSocket, no_books_warm: noBooksWarm, books_warm_steps: st.counters.books_warm_steps, keep_warm_variants: keepWarmRuns, venue_poll_variants: pollRuns, venue_process: venueRuns,
      keep_warm_socket_turns: st.counters.keep_warm_socket_turns,
      keep_warm_order_entry_turns: st.counters.keep_warm_order_entry_turns,
      messages_decoded: st.counters.itch_messages, rx_ring_drops: drops, loss: r.frames ? drops / r.frames : 0, drained,
      ring_high_water: highWater, ring_capacity: ringCapacity, orders_sent: st.counters.orders_sent, orders_filled: st.counters.orders_filled,
      tx_stamps: { stamped: st.counters.tx_stamps, off: st.counters.tx_stamps_off, missing: st.counters.tx_stamps_missing, sessions_stamped: st.counters.venue_sessions_tx_stamped },
      stages, coordinated_omission: 'stages are every packet, uncorrected (open-loop sender); wire_to_handler_corrected adds HdrHistogram expected-interval fill-ins',
      sender_lag: pct(lag), sender_tx_full_waits: r.txFullWaits,
      scheduler: { what: 'per-thread schedstat run delay (runnable, not running) and context switches, per-CPU tick shares, over the send + drain window', ...sched },
      baseline: { what: 'net_ring -> bare RxConsumer worker (poll ts to read)', wire_to_read: base.wire_to_read, achieved: Math.round(base.achieved), drops: base.drops },
    });
    const tag = `${fmtRate(rate)} (got ${fmtRate(achieved)})`;
    rows.push({ label: `${tag} wire_to_handler`, ours: fmtP(stages.wire_to_handler), baseline: `bare read ${fmtP(base.wire_to_read)}`, note: `target p50 < 1us, p99 < 5us; drops ${drops}` });
    rows.push({ label: `${tag} wire_to_handler CO-corrected`, ours: stages.wire_to_handler_corrected ? fmtP(stages.wire_to_handler_corrected) : 'n/a: stalls longer than 100k intervals', baseline: '', note: 'HdrHistogram expected-interval copy; over-counts stalls with an open-loop sender' });
    rows.push({ label: `${tag} decode`, ours: fmtP(stages.decode), baseline: '', note: 'wire_to_decode: poll ts to decoder entry' });
    rows.push({ label: `${tag} md_to_order`, ours: fmtP(stages.md_to_order), baseline: '', note: `wire to the order's first send(2) returned; target p50 < 5us, p99 < 10us; ${st.counters.orders_sent} orders` });
    rows.push({ label: `${tag} md_to_signal`, ours: fmtP(stages.md_to_signal), baseline: '', note: 'md_to_order up to the strategy\'s sendOrder call: wait, decode, books, conflation, strategy' });
    const bs = before ? (before.stages as Record<string, Percentiles>) : null;
    const was = (k: string) => (bs ? `before: ${fmtP(bs[k])}` : '');
    rows[rows.length - 2].baseline = was('md_to_order');
    rows[rows.length - 1].baseline = was('md_to_signal');
    rows.push({ label: `${tag} md_to_wire`, ours: fmtP(stages.md_to_wire), baseline: `md_to_order ${fmtP(stages.md_to_order)}`,
      note: `wire to the order's kernel TX timestamp (where it leaves this host's stack): tick-to-trade; ${st.counters.tx_stamps} stamped, ${st.counters.tx_stamps_off} without, ${st.counters.tx_stamps_missing} missing` });
    rows.push({ label: `${tag} md_to_send_call`, ours: fmtP(stages.md_to_send_call), baseline: '', note: 'md_to_order up to the order\'s bytes handed to send(2): our code, without the kernel\'s part' });
    rows.push({ label: `${tag}   dec_to_send_call`, ours: fmtP(stages.dec_to_send_call), baseline: '', note: 'the same from the order\'s packet\'s decoder entry: without signal_wait, which the scheduler decides on a loaded machine' });
    rows.push({ label: `${tag}   signal_wait`, ours: fmtP(stages.signal_wait), baseline: '', note: 'the order\'s packet: RX poll to decoder entry (RX ring hop, the worker finishing its previous work)' });
    rows.push({ label: `${tag}   signal_decide`, ours: fmtP(stages.signal_decide), baseline: '', note: 'decoder entry to sendOrder: the packet\'s messages before the trigger, books, the immediate QUOTE, the strategy' });
    rows.push({ label: `${tag} order_send`, ours: fmtP(stages.order_send), baseline: was('order_send'), note: 'sendOrder to the first child\'s send(2) returned: risk, routing, journal, OUCH/FIX encode, the loopback TCP send' });
    for (const k of ['order_risk', 'order_journal', 'order_encode', 'order_syscall'] as const) {
      rows.push({ label: `${tag}   ${k}`, ours: fmtP(stages[k]), baseline: was(k), note: k === 'order_syscall' ? 'send(2) alone (loopback: includes the receiver\'s TCP processing)' : '' });
    }
    rows.push({ label: `${tag}   order_wire`, ours: fmtP(stages.order_wire), baseline: `order_syscall ${fmtP(stages.order_syscall)}`, note: 'send(2) called to its kernel TX timestamp: TCP/IP and the driver\'s xmit, without the loopback receiver' });
    rows.push({ label: `${tag} order_ack`, ours: fmtP(stages.order_ack), baseline: '', note: 'router send to venue ack (TCP loopback)' });
    for (const [off, label] of [[noShadow, 'shadow route off'], [noSocket, 'socket warm off'], [noBooksWarm, 'books warm off'], ...keepWarmRuns.map((k) => [k, `keep-warm ${k.label as string}`] as const),
      ...pollRuns.map((k) => [k, `venue poll ${k.venue_poll_us as number} us`] as const)] as const) {
      if (!off) continue;
      const ns = off.stages as Record<string, Percentiles>;
      for (const k of ['md_to_order', 'md_to_send_call', 'dec_to_send_call', 'order_send', 'order_risk', 'order_journal', 'order_encode', 'order_syscall', 'signal_wait', 'signal_decide', 'md_to_wire'] as const) {
        rows.push({ label: `${tag} ${label} ${k}`, ours: fmtP(ns[k]), baseline: `shipped: ${fmtP(stages[k] as Percentiles)}`,
          note: k === 'md_to_order' ? `run right after; ${off.orders_sent} orders, load ${(off.loadavg as number[])[0]}` : '' });
      }
    }
    for (const v of venueRuns) {
      const vs = v.stages as Record<string, Percentiles>;
      const vt = `${tag} venue ${v.venue_idle}@CPU${v.venue_cpu}`;
      const shipped = (k: keyof typeof stages) => `shipped: ${fmtP(stages[k] as Percentiles)}`;
      rows.push({ label: `${vt} md_to_order`, ours: fmtP(vs.md_to_order), baseline: shipped('md_to_order'), note: `${v.what}; ${v.orders_sent} orders, venue got ${v.venue_orders_in}` });
      for (const k of ['wire_to_handler', 'order_send', 'order_syscall', 'order_wire', 'md_to_wire', 'order_ack'] as const) {
        rows.push({ label: `${vt} ${k}`, ours: fmtP(vs[k]), baseline: shipped(k), note: k === 'wire_to_handler' ? `RX drops ${v.rx_ring_drops}; stage run delay ${v.stage_worker_run_delay_ms} ms; load ${(v.loadavg as number[])[0]}` : '' });
      }
    }
    const stage = sched.threads.find((t) => t.role?.startsWith('stage worker'));
    const rxT = sched.threads.find((t) => t.role?.startsWith('RX lcore'));
    const steal = Math.max(...sched.cpus.filter((c) => c.cpu !== 'cpu').map((c) => c.steal));
    const fmtT = (t: typeof stage) => (t ? `run delay ${t.run_delay_ms.toFixed(1)} ms of ${(t.run_ms + t.run_delay_ms).toFixed(0)} ms, ${t.involuntary_switches} involuntary switches, ${Math.round(t.system_share * 100)} % in the kernel` : 'not found');
    rows.push({ label: `${tag} what stole the time`, ours: `stage worker: ${fmtT(stage)}`, baseline: `RX lcore: ${fmtT(rxT)}`, note: `max CPU steal ${(steal * 100).toFixed(1)}%; load ${sched.loadavg[0]}; other processes ${sched.other_processes.slice(0, 3).map((o) => `${o.comm} ${o.cpu_ms} ms`).join(', ')}` });
    rows.push({ label: `${tag} sender lag`, ours: fmtP(pct(lag)), baseline: '', note: `paced sender lateness; TX-full waits ${r.txFullWaits}` });
  }
  report('latency', rows, { rates: out, backend: 'dpdk', source: 'net_ring loopback, paced TX sender worker', targets: kTargets, seconds, symbols });
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
