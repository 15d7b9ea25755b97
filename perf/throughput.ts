/**
 * perf:throughput: the largest sustained market-data message rate through RX, decode, books and
 * conflation with zero loss.
 *
 * Headline (a source that drops like a NIC): the pcap backend with `lossy: true` replays a
 * generated session paced at a set offered rate (pace = offered / the capture's own rate) and
 * drops a packet when the JS ring is full, as a NIC drops when its descriptors run out. The offered
 * rate is searched (geometric steps up from --start, then bisection between the last lossless and
 * the first lossy rate, --steps trials in all); each trial replays the whole capture (--messages,
 * default 10 M) and is lossless only if every message was decoded and no packet was dropped. The
 * highest lossless offered rate is the headline; the loss at 1.5x that rate is reported beside it.
 * One JS core (all stages fused on one worker, performance.yml as shipped); the sharded layouts are
 * measured the same way below.
 *
 * Second row (lossless source at top speed, labelled as such): the pcap backend replays a generated ITCH session
 * (SessionGenerator) `pace: 'fast'` and waits for the consumer when the ring is full, so nothing
 * can be lost and the rate it reaches is the pipeline's ceiling. The backend is 'pcap', not dpdk:
 * dpdk vdevs here either replay as fast as polled and drop at a full ring (net_pcap) or need a JS
 * sender sharing the two CPUs (net_ring).
 * Also measured: the same capture through dpdk net_pcap (rx_pcap=the capture) into the same
 * pipeline at top speed: the rate the pipeline drained and the loss at the ring.
 * Baseline, same run: dpdk-testpmd --forward-mode=rxonly on net_pcap over the same capture.
 *
 * The sample strategy runs (it is fused with the book) but sends no orders (maxOrders 0): the
 * order path is perf:latency's subject, and its cost would hide the market-data ceiling.
 *
 * The shipped pipeline per stage layout (`shipped_layouts` in the JSON; `--only layouts` runs just
 * this part and keeps the rest of the last results): performance.yml as shipped (fused, the
 * baseline), then performance.stages.book.shards = 1, 2 (`--layouts 1,2`): one decoder worker
 * fanning out by stock locate to that many book workers, strategy+router merging them, each layout
 * searched with the same lossy paced source over one capture (`--layout-messages`, default
 * --messages; `--layout-steps` trials), its loss at 1.5x, and every worker's CPU per message at 1.5x
 * (saturated), from which the cores a 10 M msgs/s layout needs. Sharded layouts idle with
 * `--layout-idle` (default backoff): they run more threads than a 2-vCPU machine has CPUs.
 *
 * Sharded books (`sharded_books` in the JSON; `--only shards` runs just this part and keeps the
 * rest of the last results): one decoder thread fanning out by stock locate to 1..--shards book
 * workers over SpscRings (perf/lib/sharded-books.ts), in memory, beside the same work fused on one
 * thread and the fan-out ceiling (workers that only read). Per shard count: msgs/s and msgs/s per
 * book worker, and from them how many book workers and decoders a 10 M msgs/s layout needs. On this
 * 2-vCPU machine two shards plus the decoder are three threads on two CPUs: read it as scaling
 * per worker, not as the rate of a machine with a core per thread.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BenchArgs } from './lib/args';
import { marketSession } from './lib/book-sessions';
import { runFused, runSharded, ShardRun } from './lib/sharded-books';
import { dpdkUnavailable, nowNs, sleep, tmpDir } from './lib/machine';
import type { PerformanceConfig } from '../lib/config/performance-config';
import { dpdkPortOptions, loadBenchConfigs, pcapPortOptions, startPipeline, waitForDrain } from './lib/pipeline-harness';
import { RingMonitor } from './lib/ring-monitor';
import { generateSession, SessionCapture } from './lib/session-capture';
import { testpmdRxOnly } from './lib/testpmd';
import { schedDelta, schedSnapshot, workerTidFromLog } from './lib/thread-sched';
import { tenMillion } from './lib/ten-million';
import { fmtRate, report, Row } from './report';

const args = new BenchArgs();
const messages = args.number('messages', 10e6, 1000);
const startRate = args.number('start', 1e6, 1);
const steps = args.number('steps', 7, 1);
const seconds = args.number('seconds', 2, 0.1);
const symbols = args.number('symbols', 100, 1);
// Spin by default: a latency/throughput figure with the stage parked on a back-off timer measures the
// timer. (The shipped performance.yml spins too; --idle to change.)
const idle = (args.string('idle') ?? 'spin') as 'spin' | 'yield' | 'backoff';
const verbose = args.has('verbose');
const maxShards = args.number('shards', 2, 1);
const shardMessages = args.number('shard-messages', Math.min(2e6, messages), 1000);
const only = args.string('only');
// The shipped pipeline per book-shard count (performance.stages.book.shards), each searched with the lossy source.
const layoutShards = (args.string('layouts') ?? '1,2').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1);
const layoutMessages = args.number('layout-messages', messages, 1000);
const layoutSteps = args.number('layout-steps', steps, 1);
// Sharded layouts run more threads than this machine has CPUs: idle ones must give theirs away.
const layoutIdle = (args.string('layout-idle') ?? 'backoff') as 'spin' | 'yield' | 'backoff';
const log = verbose ? (l: string) => console.error(l) : undefined;
const noOrders = { maxOrders: 0 };

interface RunResult { msgs_per_s: number; packets_per_s: number; loss: number; messages: number; packets: number; drops: number; seconds: number; complete: boolean }

/** pcap backend, pace fast, holds when the ring is full: time from RX start to the end of the file. */
async function lossless(cap: SessionCapture): Promise<RunResult> {
  const { performance: perf } = loadBenchConfigs({ idle });
  const p = await startPipeline(pcapPortOptions(perf, cap.file, { pace: 'fast', loops: 1 }), { idle, log, strategyParams: noOrders });
  const t0 = nowNs();
  let t1 = 0;
  const deadline = Date.now() + 600_000;
  while (!p.sourceDone && Date.now() < deadline) await sleep(1);
  t1 = nowNs();
  const st = await p.stop();
  const c = st.counters, s = (t1 - t0) / 1e9;
  return {
    msgs_per_s: c.itch_messages / s, packets_per_s: c.rx_packets / s, loss: 1 - c.itch_messages / cap.messages,
    messages: c.itch_messages, packets: c.rx_packets, drops: c.rx_ring_drops, seconds: s, complete: c.itch_messages === cap.messages,
  };
}

/** source_msgs_per_s: the rate the replay really offered (messages / time until the file ended). */
interface PacedResult extends RunResult {
  offered_msgs_per_s: number; source_msgs_per_s: number; lossless: boolean;
  /** Every stage worker: its stages, CPU time and the CPU it cost per message it handled. */
  workers: { stages: string; cpu: string; run_ms: number; run_delay_ms: number; messages: number; cpu_ns_per_msg: number }[];
  /** The CPU the stage worker got: time on CPU and time runnable but waiting (other tenants of the 2 cores). */
  stage_worker: { run_ms: number; run_delay_ms: number; involuntary_switches: number } | null;
}

const fmtCount = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : `${n}`);

/** pcap backend, lossy, paced at `offered` msgs/s: every message decoded and no drop, or the loss. */
async function pacedLossy(cap: SessionCapture, capRate: number, offered: number, layout?: Layout): Promise<PacedResult> {
  const harness = layout ? { idle: layout.idle, performance: layout.performance } : { idle };
  const { performance: perf } = loadBenchConfigs(harness);
  let stageTid = -1;
  const trialLog = (l: string) => {
    const w = workerTidFromLog(l);
    if (w && stageTid < 0) stageTid = w.tid;
    if (verbose && !/unrecovered_gap/.test(l)) console.error(l);
  };
  const p = await startPipeline(pcapPortOptions(perf, cap.file, { pace: offered / capRate, loops: 1, lossy: true }), { ...harness, log: trialLog, strategyParams: noOrders });
  try {
    const monitor = new RingMonitor(p.port.rxTransfer(0).ring);
    const s0 = schedSnapshot();
    const t0 = nowNs();
    const until = Date.now() + 600_000;
    while (!p.sourceDone && Date.now() < until) await sleep(1);
    const tSource = nowNs();
    const complete = await waitForDrain(monitor, cap.packets, 600_000);
    // Sharded: the books drain their rings after the decoder has read the RX ring.
    if (layout) await sleep(50);
    const t1 = nowNs();
    const threads = schedDelta(s0, schedSnapshot()).threads;
    const sw = threads.find((t) => t.tid === stageTid);
    const placement = p.placement();
    const st = await p.stop();
    const c = st.counters, s = (t1 - t0) / 1e9;
    const offeredPackets = c.rx_packets + c.rx_ring_drops;
    const lossless = complete && c.rx_ring_drops === 0 && c.itch_messages === cap.messages;
    // CPU each worker used per message it handled (a book shard: its share of the book events).
    const events = c.book_events || 1;
    const workers = placement.map((w, i) => {
      const t = threads.find((x) => x.tid === w.tid);
      const handled = w.group.includes('book') ? (c.itch_messages * (st.workers[i]?.book_events ?? 0)) / events : c.itch_messages;
      return { stages: w.group.join('+') + (w.shard !== undefined ? ` shard ${w.shard}` : ''), cpu: w.cpusAllowed ?? '?', run_ms: t ? t.run_ms : NaN, run_delay_ms: t ? t.run_delay_ms : NaN,
        messages: Math.round(handled), cpu_ns_per_msg: t && handled > 0 ? Number(((t.run_ms * 1e6) / handled).toFixed(1)) : NaN };
    });
    return {
      offered_msgs_per_s: offered, source_msgs_per_s: cap.messages / ((tSource - t0) / 1e9), lossless, workers,
      stage_worker: sw ? { run_ms: sw.run_ms, run_delay_ms: sw.run_delay_ms, involuntary_switches: sw.involuntary_switches } : null,
      msgs_per_s: c.itch_messages / s, packets_per_s: c.rx_packets / s, loss: offeredPackets ? c.rx_ring_drops / offeredPackets : 0,
      messages: c.itch_messages, packets: c.rx_packets, drops: c.rx_ring_drops, seconds: s, complete,
    };
  } catch (e) {
    await p.stop().catch(() => undefined);
    throw e;
  }
}

/** A stage layout of the shipped pipeline other than performance.yml's own. */
interface Layout { name: string; shards: number; idle: 'spin' | 'yield' | 'backoff'; performance: (p: PerformanceConfig) => PerformanceConfig }

/**
 * The shipped sharded layout: decoder alone on CPU 0, `shards` book workers on CPUs 1, 0, 1, ...,
 * the strategy and router fused on CPU 0 (performance.stages.book.shards with
 * fusion [[decoder], [book], [strategy, router]]), as configs/performance.yml documents it.
 */
function shardedLayout(shards: number): Layout {
  return {
    name: `1 decoder + ${shards} book worker${shards > 1 ? 's' : ''} + strategy/router (performance.stages.book.shards: ${shards})`,
    shards, idle: layoutIdle,
    performance: (p) => ({
      ...p,
      workers: [['decoder'], ['book'], ['strategy', 'router']],
      stages: {
        ...p.stages, decoder: { ...p.stages.decoder, cpu: 0 }, strategy: { ...p.stages.strategy, cpu: 0 }, router: { ...p.stages.router, cpu: 0 },
        book: { ...p.stages.book, cpu: 1, shards, shardCpus: Array.from({ length: shards }, (_, i) => (i + 1) % 2) },
      },
    }),
  };
}

/** Highest lossless offered rate: geometric steps up, then bisection, `steps` trials in all. */
async function searchLossless(cap: SessionCapture, capRate: number, layout?: Layout, trialsMax = steps): Promise<{ best?: PacedResult; trials: PacedResult[] }> {
  const trials: PacedResult[] = [];
  let lo: PacedResult | undefined, hi: PacedResult | undefined;
  let rate = startRate;
  for (let i = 0; i < trialsMax; i++) {
    const r = await pacedLossy(cap, capRate, rate, layout);
    trials.push(r);
    if (log) log(`${layout ? layout.name + ': ' : ''}offered ${fmtRate(rate)}: ${r.lossless ? 'lossless' : `loss ${(r.loss * 100).toFixed(3)}%`}; workers ${JSON.stringify(r.workers)}`);
    if (r.lossless) lo = r; else hi = r;
    if (!hi) rate = rate * 2;
    else if (!lo) rate = rate / 2;
    else {
      if (hi.offered_msgs_per_s / lo.offered_msgs_per_s < 1.05) break;
      rate = Math.sqrt(lo.offered_msgs_per_s * hi.offered_msgs_per_s);
    }
  }
  return { best: lo, trials };
}

/** dpdk net_pcap over the same file, as fast as the RX lcore polls: drained rate and ring loss. */
async function dpdkTopSpeed(cap: SessionCapture): Promise<RunResult> {
  const { performance: perf } = loadBenchConfigs({ idle });
  const p = await startPipeline(dpdkPortOptions(perf, `net_pcap_tput,rx_pcap=${cap.file}`), { idle, log, strategyParams: noOrders });
  const monitor = new RingMonitor(p.port.rxTransfer(0).ring);
  const t0 = nowNs();
  const complete = await waitForDrain(monitor, cap.packets, 600_000);
  const t1 = nowNs();
  const st = await p.stop();
  const c = st.counters, s = (t1 - t0) / 1e9;
  const offered = c.rx_packets + c.rx_ring_drops;
  return {
    msgs_per_s: c.itch_messages / s, packets_per_s: c.rx_packets / s, loss: offered ? c.rx_ring_drops / offered : 0,
    messages: c.itch_messages, packets: c.rx_packets, drops: c.rx_ring_drops, seconds: s, complete,
  };
}

/**
 * Books sharded by locate: each layout run twice (the first warms the JIT and is not kept), fused
 * and fan-out baselines in the same run; the layout that reaches 10 M msgs/s, by arithmetic on the
 * measured per-thread rates.
 */
async function shardedBooks(): Promise<{ result: Record<string, unknown>; rows: Row[] }> {
  const session = marketSession(shardMessages, Math.max(symbols, 2000));
  const best = async (f: () => Promise<ShardRun> | ShardRun): Promise<ShardRun> => {
    const a = await f();
    const b = await f();
    return a.msgs_per_s > b.msgs_per_s ? a : b;
  };
  const fused = await best(() => runFused(session));
  const runs: ShardRun[] = [];
  for (let n = 1; n <= maxShards; n++) runs.push(await best(() => runSharded(session, n, true)));
  const fanout = await best(() => runSharded(session, maxShards, false));
  // Capacities from CPU time per message (what each thread costs, whatever else shared its CPU).
  const workerCpu = runs.flatMap((r) => r.worker_cpu_ns_per_msg).filter(Number.isFinite);
  const bookWorkerCap = 1e9 / (workerCpu.length ? workerCpu.reduce((a, b) => a + b, 0) / workerCpu.length : fused.decoder_cpu_ns_per_msg);
  const decoderCap = 1e9 / fanout.decoder_cpu_ns_per_msg;
  const workersFor10M = Math.ceil(10e6 / bookWorkerCap);
  const decodersFor10M = Math.ceil(10e6 / decoderCap);
  const loadavg = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const cpus = (await import('os')).cpus().length;
  const how = decodersFor10M > 1 ? `${decodersFor10M} decoders on RSS queues (each its share of the lines) and ${workersFor10M} book workers by locate`
    : `one decoder fanning out by locate to ${workersFor10M} book workers`;
  const result = {
    session: { messages: session.messages, packets: session.packets, symbols: Math.max(symbols, 2000), flow: 'tickpath gen (market-like), in memory' },
    fused, shards: runs, fanout_ceiling: fanout,
    book_worker_cpu_msgs_per_s: Math.round(bookWorkerCap), decoder_fanout_cpu_msgs_per_s: Math.round(decoderCap),
    fused_cpu_msgs_per_s: Math.round(1e9 / fused.decoder_cpu_ns_per_msg),
    layout_for_10m: { book_workers: workersFor10M, decoders: decodersFor10M, cores: workersFor10M + decodersFor10M, how },
    loadavg, cpus,
  };
  const rows: Row[] = [
    { label: 'books by locate: decode + books + conflation fused on one thread, in memory', ours: `${fmtRate(fused.msgs_per_s)} msgs wall; ${fmtRate(1e9 / fused.decoder_cpu_ns_per_msg)} per CPU-second`, baseline: '', note: `load ${loadavg[0]} on ${cpus} CPUs` },
    ...runs.map((r): Row => ({
      label: `books by locate: 1 decoder + ${r.shards} book worker${r.shards > 1 ? 's' : ''}`,
      ours: `${fmtRate(r.msgs_per_s)} msgs wall; worker CPU ${r.worker_cpu_ns_per_msg.join(', ')} ns/msg`, baseline: `fused ${fmtRate(fused.msgs_per_s)}`,
      ratio: r.msgs_per_s / fused.msgs_per_s, note: `decoder CPU ${r.decoder_cpu_ns_per_msg} ns/msg; stalls on a full ring ${r.stalls}; bad refs ${r.bad_references}`,
    })),
    { label: `fan-out ceiling: 1 decoder + ${fanout.shards} readers, no books`, ours: `${fmtRate(fanout.msgs_per_s)} msgs wall; decoder CPU ${fanout.decoder_cpu_ns_per_msg} ns/msg`, baseline: '', note: `10 M msgs/s: ${how} (${workersFor10M + decodersFor10M} cores)` },
  ];
  return { result, rows };
}

/**
 * The shipped pipeline per stage layout, in one run over one capture: performance.yml as shipped
 * (everything fused on one spinning worker), then `tickpath run`'s sharded books with 1, 2, ...
 * book workers, each searched for its highest lossless offered rate from the lossy paced source,
 * and its loss at 1.5x that rate. CPU per message of each worker is read from the 1.5x trial, where
 * every worker is saturated (an idle spinning worker would count its spinning); from it, how many
 * of each worker a 10 M msgs/s layout needs, with a core each.
 */
async function shippedLayouts(): Promise<{ result: Record<string, unknown>; rows: Row[] }> {
  const dir = tmpDir('tp-perf-layouts-');
  const capRate = 10e6;
  const cap = generateSession(dir, { rate: capRate, seconds: layoutMessages / capRate, symbols: Math.max(symbols, 100) });
  const fused: Layout = { name: 'performance.yml as shipped: decoder+book+strategy+router fused on one worker', shards: 0, idle, performance: (p) => p };
  // The same fused worker idling as the sharded layouts do: on a loaded machine a spinning worker
  // spends its share of the CPU on empty turns, so this is the like-for-like baseline for them.
  const fusedLikeShards: Layout = { ...fused, name: `fused on one worker, idle ${layoutIdle} as the sharded layouts`, idle: layoutIdle };
  const layouts = [fused, ...(layoutIdle !== idle && layoutShards.length > 0 ? [fusedLikeShards] : []), ...layoutShards.map(shardedLayout)];
  const runs: Record<string, unknown>[] = [];
  const rows: Row[] = [];
  let fusedBest = 0;
  const load0 = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  for (const layout of layouts) {
    const search = await searchLossless(cap, capRate, layout, layoutSteps);
    const best = search.best;
    const over = await pacedLossy(cap, capRate, (best ? best.offered_msgs_per_s : startRate / 2) * 1.5, layout);
    if (layout === fused || layout === fusedLikeShards) fusedBest = best?.offered_msgs_per_s ?? 0;
    // Per worker kind: the most CPU per message any worker of that kind needed, saturated.
    const perKind = (match: (stages: string) => boolean): number => {
      const ns = over.workers.filter((w) => match(w.stages)).map((w) => w.cpu_ns_per_msg).filter(Number.isFinite);
      return ns.length > 0 ? Math.max(...ns) : NaN;
    };
    const decoderNs = perKind((x) => x.startsWith('decoder'));
    const bookNs = layout.shards > 0 ? perKind((x) => x.startsWith('book')) : NaN;
    const strategyNs = layout.shards > 0 ? perKind((x) => x.startsWith('strategy')) : NaN;
    const capOf = (ns: number) => (ns > 0 ? 1e9 / ns : NaN);
    // What 10 M msgs/s takes (perf/lib/ten-million.ts): this layout's ceiling, and the strategy-per-shard
    // layout's cores. The fused layout is one worker whatever the machine: its ceiling is that worker.
    const perCore = { decoder: capOf(decoderNs), book_worker: capOf(bookNs), strategy_router: capOf(strategyNs) };
    const for10m = layout.shards > 0 ? tenMillion(perCore, layout.shards)
      : { ceiling_msgs_per_s: Math.round(capOf(decoderNs)), limited_by: 'the one fused worker', reaches_10m: capOf(decoderNs) >= 10e6 };
    runs.push({
      layout: layout.name, book_shards: layout.shards, idle: layout.idle,
      lossless_offered_msgs_per_s: best ? Math.round(best.offered_msgs_per_s) : 0,
      loss_at_1_5x: over.loss, offered_at_1_5x: Math.round(over.offered_msgs_per_s),
      workers_at_1_5x: over.workers,
      per_core_msgs_per_s: layout.shards > 0
        ? { decoder: Math.round(capOf(decoderNs)), book_worker: Math.round(capOf(bookNs)), strategy_router: Math.round(capOf(strategyNs)) }
        : { fused_worker: Math.round(capOf(decoderNs)) },
      for_10m: for10m,
      search: search.trials.map((r) => ({ offered_msgs_per_s: Math.round(r.offered_msgs_per_s), lossless: r.lossless, loss: r.loss, drops: r.drops, messages: r.messages, workers: r.workers })),
    });
    rows.push({
      label: `shipped pipeline, ${layout.name}: highest lossless offered rate (lossy paced pcap)`,
      ours: best ? `${fmtRate(best.offered_msgs_per_s)} msgs, 0 loss over ${fmtCount(cap.messages)} msgs` : `none lossless from ${fmtRate(startRate)}`,
      baseline: layout.shards === 0 ? '' : `fused, idle ${layout.idle}: ${fmtRate(fusedBest)}`, ratio: layout.shards === 0 || !best || !fusedBest ? undefined : best.offered_msgs_per_s / fusedBest,
      note: `loss at 1.5x ${(over.loss * 100).toFixed(2)}%; CPU/msg saturated: ${over.workers.map((w) => `${w.stages} ${w.cpu_ns_per_msg} ns`).join(', ')}; 10 M msgs/s: ${JSON.stringify(for10m)}`,
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const load1 = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  return {
    result: {
      capture: { messages: cap.messages, packets: cap.packets, symbols: Math.max(symbols, 100) }, layouts: runs, loadavg_before: load0, loadavg_after: load1,
      cpus: (await import('os')).cpus().length,
      note: 'sharded layouts run decoder, each book worker, strategy+router, the RX poller and the main thread: more threads than this machine\'s CPUs, so their wall-clock rate here is bounded by CPU sharing; per_core_msgs_per_s (1e9 / CPU ns per message, saturated) is what each worker does with a core of its own',
      at: new Date().toISOString(),
    },
    rows,
  };
}

/** Runs one part and keeps the rest of the last results. */
function reportPart(key: string, part: { result: Record<string, unknown>; rows: Row[] }): void {
  const file = path.join(__dirname, '..', '..', 'perf', 'results', 'throughput.json');
  const last = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> : {};
  const restAt = last.rest_measured_at ?? last.at;
  delete last.name; delete last.at; delete last.machine;
  report('throughput', part.rows, { ...last, rest_measured_at: restAt, [key]: { ...part.result, at: new Date().toISOString() } });
}

async function main(): Promise<void> {
  if (only === 'layouts') { reportPart('shipped_layouts', await shippedLayouts()); return; }
  if (only === 'shards') {
    const { result, rows } = await shardedBooks();
    const file = path.join(__dirname, '..', '..', 'perf', 'results', 'throughput.json');
    const last = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> : {};
    const restAt = last.rest_measured_at ?? last.at;
    delete last.name; delete last.at; delete last.machine;
    report('throughput', rows, { ...last, rest_measured_at: restAt, sharded_books: { ...result, at: new Date().toISOString() } });
    return;
  }
  if (only !== undefined) throw new Error(`--only ${only}: expected 'shards' or 'layouts'`);
  const shards = await shardedBooks();
  const layouts = await shippedLayouts();
  const dir = tmpDir('tp-perf-tput-');
  // Generated at 10 M msgs/s of capture time so packets are as full as the generator makes them.
  const capRate = 10e6;
  const cap = generateSession(dir, { rate: capRate, seconds: messages / capRate, symbols });
  const search = await searchLossless(cap, capRate);
  const best = search.best;
  const over = best ? await pacedLossy(cap, capRate, best.offered_msgs_per_s * 1.5) : undefined;
  const ours = await lossless(cap);
  const why = dpdkUnavailable();
  const dpdk = why ? { error: why } : await dpdkTopSpeed(cap);
  // testpmd's net_pcap infinite_rx holds the whole file in mbufs: a 10 M message capture would not fit
  // the hugepages, so its baseline replays the first 2 M messages of the same session (same packets).
  const baseCap = cap.messages > 2e6 ? generateSession(dir, { rate: capRate, seconds: 2e6 / capRate, symbols }) : cap;
  const base = why ? { error: why } : await testpmdRxOnly(baseCap.file, baseCap.packets, seconds);
  const bpps = 'pps' in base ? base.pps : NaN;
  const bmsgs = bpps * cap.messagesPerPacket;
  const trialRow = (r: PacedResult) => ({ offered_msgs_per_s: Math.round(r.offered_msgs_per_s), source_msgs_per_s: Math.round(r.source_msgs_per_s), lossless: r.lossless, loss: r.loss, drops: r.drops, messages: r.messages, drained_msgs_per_s: Math.round(r.msgs_per_s), seconds: r.seconds, stage_worker: r.stage_worker });
  const result = {
    lossless_offered_msgs_per_s: best ? Math.round(best.offered_msgs_per_s) : 0,
    lossless_source: 'pcap backend, lossy (drops at a full ring like a NIC), paced at the offered rate',
    messages_per_trial: cap.messages,
    loss_at_1_5x: over ? over.loss : null,
    offered_at_1_5x: over ? Math.round(over.offered_msgs_per_s) : null,
    search: search.trials.map(trialRow),
    load: { loadavg: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number), note: 'shared 2-core machine: stage_worker.run_delay_ms per trial is the time the stage was runnable but another thread had its CPU' },
    layout: 'one JS worker (decoder+book+strategy+router fused) on CPU 0, pcap poller on CPU 1; books not sharded',
    msgs_per_s: Math.round(ours.msgs_per_s), packets_per_s: Math.round(ours.packets_per_s), loss: ours.loss, backend: 'pcap',
    source: 'pcap backend, pace fast, waits for the consumer (lossless)', complete: ours.complete, messages: ours.messages, seconds: ours.seconds,
    baseline: `dpdk-testpmd rxonly, net_pcap infinite_rx over the same session's first ${baseCap.messages} messages`,
    baseline_msgs_per_s: Math.round(bmsgs), baseline_packets_per_s: Math.round(bpps), ratio: Number((ours.msgs_per_s / bmsgs).toFixed(4)),
    baseline_error: 'error' in base ? base.error : undefined,
    dpdk: 'error' in dpdk ? dpdk : { ...dpdk, msgs_per_s: Math.round(dpdk.msgs_per_s), packets_per_s: Math.round(dpdk.packets_per_s), backend: 'dpdk net_pcap (top speed, drops at a full ring)' },
    capture: { messages: cap.messages, packets: cap.packets, messages_per_packet: Number(cap.messagesPerPacket.toFixed(2)), symbols },
    target_msgs_per_s: 10e6,
    sharded_books: { ...shards.result, at: new Date().toISOString() },
    shipped_layouts: layouts.result,
  };
  const rows: Row[] = [
    {
      label: 'RX+decode+books+conflation+strategy, highest lossless offered rate (lossy paced pcap, 1 JS core)',
      ours: best ? `${fmtRate(best.offered_msgs_per_s)} msgs, 0 loss over ${fmtCount(cap.messages)} msgs (replay offered ${fmtRate(best.source_msgs_per_s)})` : `none lossless from ${fmtRate(startRate)}`,
      baseline: `${fmtRate(bmsgs)} msgs testpmd rxonly`, ratio: best ? best.offered_msgs_per_s / bmsgs : undefined,
      note: `loss at 1.5x (${over ? fmtRate(over.offered_msgs_per_s) : 'n/a'}): ${over ? (over.loss * 100).toFixed(3) + '%' : 'n/a'}; target >= 10 M msgs/s over >= 10 M msgs`,
    },
    { label: 'same, pcap source that waits for the consumer (lossless by construction)', ours: `${fmtRate(ours.msgs_per_s)} msgs (${fmtRate(ours.packets_per_s)} pkts)`, baseline: `${fmtRate(bmsgs)} msgs (${fmtRate(bpps)} pkts) testpmd rxonly`, ratio: ours.msgs_per_s / bmsgs, note: `loss ${ours.loss}; top speed, not a NIC-like source` },
  ];
  if ('error' in dpdk) rows.push({ label: 'same, dpdk net_pcap top speed', ours: 'n/a', baseline: '', note: dpdk.error });
  else rows.push({ label: 'same, dpdk net_pcap top speed', ours: `${fmtRate(dpdk.msgs_per_s)} msgs drained`, baseline: `${fmtRate(bmsgs)} msgs testpmd`, ratio: dpdk.msgs_per_s / bmsgs, note: `loss ${(dpdk.loss * 100).toFixed(2)}% at the ring` });
  rows.push(...layouts.rows, ...shards.rows);
  report('throughput', rows, result);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
