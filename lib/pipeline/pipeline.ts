/**
 * The running system: one packet port, its native RX poller, and the JS stages on pinned workers
 * (decoder -> book/conflation -> strategy -> router -> venues), placed and fused as
 * configs/performance.yml says. Runs on the main thread, which never pins itself and never touches
 * a packet: it creates, starts, watches and stops. With performance.stages.book.shards > 1 the book
 * group runs once per shard (a worker each, with its own rings to the decoder and the strategy) and
 * this thread relays the live book view to the shards (BookMailboxRelay, a 2 ms timer off the hot path).
 *
 * Start order matters (threads inherit CPU masks): warm the libuv pool, open the port (the EAL
 * restores the main thread's mask), create every worker (each pins itself), wait until the router
 * has logged in to its venues, and only then start RX.
 *
 * Stop order: stop RX, let each worker drain its inputs in pipeline order, flush, close venue
 * sessions, merge stats and histograms. A worker that dies is reported with its error and the
 * whole pipeline is stopped the same way.
 */
import type { MoexFeedLine } from '../feed/fast/moex/moex-feed-receiver';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Port, PortOptions, PortStats, warmUpThreadPool } from '../binding';
import { AgentRunner } from '../common/agent-runner';
import { CountersBlock } from '../common/counters';
import { LatencyRecorder, LatencySummary, SerializedLatency } from '../common/latency-recorder';
import { SpscRing } from '../common/spsc-ring';
import { FeedConfig } from '../config/feed-config';
import { PerformanceConfig } from '../config/performance-config';
import { adviseHugePagesAsync } from './huge-pages';
import { portOptionsFrom } from '../config/port-options';
import { TickpathError } from '../errors';
import { loadRoutingConfig } from '../router/routing-config';
import { VenueSimulator } from '../venue-sim/venue-simulator';
import { VenueLoop } from '../venue-sim/venue-loop';
import { NativeWaitSet } from '../protocols/transport/tcp-server';
import { defaultTransportKind } from '../protocols/transport/create-transport';
import { BboTable, TopOfBook } from './bbo-table';
import { BookAnswer, BookMailboxClient, BookMailboxRelay, createBookMailbox } from './book-mailbox';
import type { FeedRecoveryOptions } from './feed-receiver';
import { kItchRecordBytes, kMarketEventRecordBytes, kOrderRecordBytes, kRouterEventRecordBytes } from './stage-rings';
import {
  JsStage, kLatencyNames, kStageControlBytes, kStageSourceDoneI32, kWorkerCounterNames, StageWorkerData, StageWorkerMessage, WorkerHealth,
} from './worker-messages';
import { SubscriptionMailbox } from './subscriptions';
import { LogDrain, Logger } from '../common/logger';
import { kPipelineLogEvents } from './log-events';

export interface PipelineOptions {
  feed: FeedConfig;
  performance: PerformanceConfig;
  /** Port options instead of portOptionsFrom(feed, performance) (the bundled default run). */
  portOptions?: PortOptions;
  /** routing_config.yml; without it there is no router stage output (orders are refused). */
  routingFile: string;
  strategy?: { module: string; params?: Record<string, unknown> };
  /** Start a venue simulator in this process and point every venue at it. */
  venueSimulator?: boolean;
  /**
   * Venues served elsewhere on this host (a `tickpath venue-sim` child process), by routing
   * config venue name: the router connects to these ports. Not with venueSimulator.
   */
  venuePorts?: Record<string, number>;
  journalPath?: string;
  /** Start the router as the hot standby listening here (routing.failover in the routing config). */
  standby?: { host: string; port: number };
  /** FIX sequence/message stores (default: beside the journal). A fresh venue needs a fresh store. */
  fixStoreDir?: string;
  conflate?: boolean;
  conflationIntervalUs?: number;
  /** Feed lines (A/B arbitration) and retransmission; see FeedRecoveryOptions. */
  recovery?: FeedRecoveryOptions;
  log?: (line: string) => void;
  /**
   * Where the live book view's mailbox lives (/dev/shm/tickpath-<instance>.book, book-mailbox.ts) so
   * `tickpath book --instance` can ask from another process; without it, in memory (this process only).
   */
  bookFile?: string;
}

export interface PipelineStats {
  backend: string;
  counters: Record<string, number>;
  workers: Record<string, number>[];
  latency: Record<string, LatencySummary>;
  port: PortStats;
  venue?: Record<string, number>;
  /** Transport of the router's venue sessions: 'native', 'libuv', 'mixed', or absent without a router. */
  venueTransport?: 'native' | 'libuv' | 'mixed';
  /** Transport of the in-process venue simulators' sessions (absent without them). */
  venueSimTransport?: 'native' | 'libuv';
  /** native: their shared loop on the main thread (turns, sleeps on the wait set, socket wakeups). */
  venueSimLoop?: ReturnType<VenueLoop['stats']>;
  strategy?: Record<string, number>;
  /**
   * How the router stage waits for acks, which is the stage worker's idle (performance.idle), not
   * the venues' `idle`/`spin_us` (routing_config.yml): those apply where a connector's owner runs a
   * SessionWaiter (`tickpath order`, perf/router-rtt), and are listed here as configured.
   */
  routerIdle?: RouterIdleReport;
}

/** The router stage's idle policy as it runs, beside what each venue configured. */
export interface RouterIdleReport {
  /** performance.idle.strategy of the router's worker: what runs. */
  strategy: string;
  /** Always false: the router stage does not apply a venue's idle/spin_us. */
  venuePolicyApplied: false;
  /** routing_config.yml venues[].idle / spin_us, as configured. */
  venues: Record<string, { idle: string; spinUs: number }>;
}

/**
 * What the router stage runs, and a warning for each venue that asks for more eagerness than the
 * stage's idle gives it (spin, or spin_us, under a stage that parks).
 */
export function routerIdleReport(strategy: string, venues: ReadonlyArray<{ name: string; idle?: string; spinUs?: number }>):
  { report: RouterIdleReport; warnings: string[] } {
  const report: RouterIdleReport = { strategy, venuePolicyApplied: false, venues: {} };
  const warnings: string[] = [];
  for (const v of venues) {
    const idle = v.idle ?? 'block';
    const spinUs = v.spinUs ?? 0;
    report.venues[v.name] = { idle, spinUs };
    if (strategy !== 'spin' && (idle === 'spin' || spinUs > 0)) {
      warnings.push(`router stage: venue ${v.name} asks idle ${idle}${spinUs ? `, spin_us ${spinUs}` : ''} (routing_config.yml), which tickpath run ` +
        `does not apply: the router stage idles by performance.idle.strategy (${strategy}); fix: set performance.idle.strategy: spin ` +
        'for a router stage that never sleeps while an ack is due');
    }
  }
  return { report, warnings };
}

export type { WorkerHealth } from './worker-messages';

interface WorkerState {
  worker: Worker;
  group: JsStage[];
  /** The book shard this worker runs, when the books are sharded. */
  shard?: number;
  tid?: number;
  cpusAllowed?: string;
  health: WorkerHealth[];
  counters?: CountersBlock;
  latency: SerializedLatency[];
  done?: { counters: Record<string, number>; strategy?: Record<string, number> };
  control: Int32Array;
  drain: LogDrain;
}

const kDefaultStrategy = path.join(__dirname, 'sample-strategy.js');

export class Pipeline {
  readonly port: Port;
  readonly subscriptions = new SubscriptionMailbox();
  private readonly workers: WorkerState[] = [];
  private readonly log: (line: string) => void;
  private venues: VenueSimulator[] = [];
  private venueLoop: VenueLoop | null = null;
  private stopVenues: () => Promise<void> = async () => {};
  private stopped: Promise<PipelineStats> | undefined;
  private failure: TickpathError | undefined;
  private onFailure: ((e: TickpathError) => void) | undefined;
  private readonly bbo = new BboTable();
  private bookMailbox: SharedArrayBuffer | undefined;
  private bookClient: BookMailboxClient | undefined;
  private bookFile: string | undefined;
  private bookRelay: BookMailboxRelay | undefined;
  private routerIdle: RouterIdleReport | undefined;

  private constructor(port: Port, log: (line: string) => void) {
    this.port = port;
    this.log = log;
  }

  static async start(o: PipelineOptions): Promise<Pipeline> {
    const log = o.log ?? (() => {});
    await warmUpThreadPool();
    const perf = o.performance;

    // Venues: an in-process simulator on ephemeral ports when asked (the bundled default).
    // One simulator per configured venue, each with its own matching engine, like separate venues.
    // They serve their sessions from one VenueLoop on this thread (native transport when the addon is
    // built): polled in slices with an event-loop turn after each, sleeping in epoll on all their
    // sockets and the event loop's fd when idle. One loop for all of them: with a loop each, one
    // simulator would sleep on its own sockets while an order to the other waited.
    const venues: VenueSimulator[] = [];
    if (o.venueSimulator && o.venuePorts) {
      throw new TickpathError('ERR_INVALID_OPTION', 'Pipeline: venueSimulator and venuePorts both given', 'start the simulators in this process or name the ports of ones elsewhere, not both');
    }
    const portOverrides: Record<string, number> = { ...(o.venuePorts ?? {}) };
    let venueLoop: VenueLoop | null = null;
    let venueWaitSet: NativeWaitSet | null = null;
    if (o.venueSimulator) {
      const native = defaultTransportKind() === 'native';
      if (native) venueWaitSet = new NativeWaitSet();
      for (const v of loadRoutingConfig(o.routingFile).venues) {
        const ouch = v.protocol === 'ouch';
        const sim = new VenueSimulator({ ouchPort: ouch ? 0 : null, fixPort: ouch ? null : 0, fixCompId: v.targetId,
          transport: native ? 'native' : 'libuv', ownLoop: false, waitSet: venueWaitSet ?? undefined,
          // Its sessions' events (a refused Logon, a dropped frame) with their causes, else unseen.
          log });
        const ports = await sim.start();
        venues.push(sim);
        portOverrides[v.name] = ouch ? ports.ouchPort : ports.fixPort;
        log(`venue simulator ${v.name}: ${ouch ? 'OUCH 4.2/SoupBinTCP' : v.protocol.toUpperCase()} on 127.0.0.1:${portOverrides[v.name]} (${sim.transport} TCP)`);
      }
      if (native) {
        const sims = venues;
        const pollAll = (): number => { let n = 0; for (let i = 0; i < sims.length; i++) n += sims[i].poll(); return n; };
        venueLoop = new VenueLoop(pollAll, venueWaitSet);
        venueLoop.start();
      }
    }
    const stopVenues = async (): Promise<void> => {
      venueLoop?.stop();
      await Promise.all(venues.map((v) => v.stop().catch(() => undefined)));
      venueWaitSet?.close();
    };

    let port: Port;
    try {
      port = Port.open(o.portOptions ?? portOptionsFrom(o.feed, perf), log);
    } catch (err) {
      // Nothing else may outlive a failed start: the simulators' servers would keep the process alive.
      await stopVenues();
      throw err;
    }
    const p = new Pipeline(port, log);
    p.venues = venues;
    p.venueLoop = venueLoop;
    p.stopVenues = stopVenues;
    try {
      await p.spawnWorkers(o, portOverrides);
    } catch (err) {
      await p.stop().catch(() => undefined);
      throw err;
    }
    port.start();
    log(`pipeline: RX started; ${p.workers.map((w) => `[${w.group.join('+')}${w.shard !== undefined ? ` shard ${w.shard}` : ''}]`).join(' -> ')}`);
    return p;
  }

  private async spawnWorkers(o: PipelineOptions, portOverrides: Record<string, number>): Promise<void> {
    const perf = o.performance;
    const groups = perf.workers as JsStage[][];
    if (groups.some((g) => g.includes('router'))) {
      const { report, warnings } = routerIdleReport(perf.idle.strategy, loadRoutingConfig(o.routingFile).venues);
      this.routerIdle = report;
      for (const w of warnings) this.log(w);
    }
    const groupOf = (s: JsStage) => groups.findIndex((g) => g.includes(s));
    const split = (a: JsStage, b: JsStage) => groupOf(a) !== groupOf(b);
    if (o.feed.fast && split('decoder', 'book')) {
      throw new TickpathError('ERR_CONFIG', "feed.protocol moex-fast needs the decoder and book stages on one worker (FAST books are built as the messages are decoded)",
        'put decoder and book in the same group of performance.yml workers');
    }
    // Books sharded by stock locate: `shards` book workers, each with its own pair of rings.
    const shards = perf.stages.book.shards;
    if (shards > 1 && o.feed.fast) {
      throw new TickpathError('ERR_CONFIG', `performance.stages.book.shards is ${shards}; feed.protocol moex-fast builds its books in the decoder, which cannot be sharded behind it`,
        'set performance.stages.book.shards: 1 for a FAST feed');
    }
    if (shards > 1 && (!split('decoder', 'book') || !split('book', 'strategy'))) {
      throw new TickpathError('ERR_CONFIG', `performance.stages.book.shards is ${shards} but performance.fusion runs book with another stage on one worker`,
        'give book a fusion group of its own, e.g. fusion: [[decoder], [book], [strategy, router]], or set shards: 1');
    }
    const perShard = <T>(make: () => T): T[] => Array.from({ length: shards }, make);
    const rings = {
      decoderToBook: split('decoder', 'book') ? perShard(() => SpscRing.create({ capacity: perf.rings.decoderToBook, recordBytes: kItchRecordBytes }).sab) : undefined,
      bookToStrategy: split('book', 'strategy') ? perShard(() => SpscRing.create({ capacity: perf.rings.bookToStrategy, recordBytes: kMarketEventRecordBytes }).sab) : undefined,
      strategyToRouter: split('strategy', 'router') ? SpscRing.create({ capacity: perf.rings.strategyToRouter, recordBytes: kOrderRecordBytes }).sab : undefined,
      routerToStrategy: split('strategy', 'router') ? SpscRing.create({ capacity: perf.rings.strategyToRouter, recordBytes: kRouterEventRecordBytes }).sab : undefined,
    };
    const bbo = this.bbo;
    this.bookFile = o.bookFile;
    this.priceDecimals = o.feed.fast?.priceDecimals ?? 4;
    this.bookMailbox = createBookMailbox(o.bookFile);
    this.bookClient = new BookMailboxClient(this.bookMailbox);
    // Sharded books: each shard answers a mailbox of its own; this thread relays the instance's to them.
    const shardMailboxes = shards > 1 ? perShard(() => createBookMailbox()) : [this.bookMailbox];
    if (shards > 1) {
      this.bookRelay = new BookMailboxRelay(this.bookMailbox, shardMailboxes, this.priceDecimals);
      this.bookRelay.start();
    }
    const stages = perf.stages;
    const ready: Promise<void>[] = [];
    // One worker per fusion group, the book group once per shard.
    const specs = groups.flatMap((group) => (group.includes('book')
      ? (stages.book.shardCpus ?? new Array<number>(shards).fill(stages.book.cpu)).map((cpu, shard) => ({ group, cpu, shard }))
      : [{ group, cpu: stages[group[0]].cpu, shard: 0 }]));
    specs.forEach(({ group, cpu, shard }, index) => {
      const data: StageWorkerData = {
        index, group, cpu, bookShard: { index: shard, count: shards },
        idle: perf.idle,
        bursts: { decoder: stages.decoder.burst, book: stages.book.burst, strategy: stages.strategy.burst, router: stages.router.burst },
        venuePollUs: stages.router.venuePollMicros,
        venueIdlePollUs: stages.router.venueIdlePollMicros,
        keepWarmUs: stages.router.keepWarmMicros,
        keepWarmPathUs: stages.router.keepWarmPathMicros,
        keepWarmSocketUs: stages.router.keepWarmSocketMicros,
        booksWarmIdle: stages.book.warmIdle,
        rx: group.includes('decoder') ? this.port.rxTransfer(0) : undefined,
        rings,
        feed: { conflate: o.conflate ?? true, conflationIntervalUs: o.conflationIntervalUs ?? 0, recovery: o.feed.fast ? undefined : o.recovery, source: this.replaysCapture(o) ? 'capture' : 'live', fast: fastFeedOf(o.feed) },
        subscriptions: this.subscriptions.sab,
        bbo: bbo.sab,
        bookMailbox: group.includes('book') ? shardMailboxes[shard] : undefined,
        strategy: group.includes('strategy') ? { module: o.strategy?.module ?? kDefaultStrategy, params: o.strategy?.params ?? {} } : undefined,
        routing: group.includes('router') ? { configFile: o.routingFile, portOverrides, journalPath: o.journalPath, fixStoreDir: o.fixStoreDir, standby: o.standby } : undefined,
        control: new SharedArrayBuffer(kStageControlBytes),
        logRing: Logger.createRing(4096).sab,
      };
      const worker = new Worker(path.join(__dirname, 'stage-worker.js'), { workerData: data });
      const drain = new LogDrain(SpscRing.attach(data.logRing), kPipelineLogEvents, { sink: (line) => this.log(`[worker ${index}] ${line}`) });
      drain.start(20);
      const state: WorkerState = { worker, group, shard: shards > 1 && group.includes('book') ? shard : undefined, latency: [], health: [], control: new Int32Array(data.control), drain };
      this.workers.push(state);
      ready.push(new Promise<void>((resolve, reject) => {
        worker.on('message', (m: StageWorkerMessage) => {
          switch (m.type) {
            case 'ready':
              state.counters = CountersBlock.attach(m.counters);
              state.tid = m.tid;
              state.cpusAllowed = m.cpusAllowed;
              resolve();
              break;
            case 'log':
              this.log(m.line);
              break;
            case 'latency':
              state.latency = m.histograms;
              state.health.push(m.health);
              break;
            case 'done':
              state.done = { counters: m.counters, strategy: m.strategy };
              break;
            case 'fatal': {
              const e = new TickpathError(m.code ?? 'ERR_STAGE_FAILED', `stage worker [${group.join('+')}] failed: ${m.message}`);
              reject(e);
              this.fail(e);
              break;
            }
          }
        });
        worker.once('error', (err) => {
          const e = new TickpathError('ERR_STAGE_CRASHED', `stage worker [${group.join('+')}] crashed: ${err.message}`);
          reject(e);
          this.fail(e);
        });
      }));
    });
    await Promise.all(ready);
    // Huge pages for the whole process (every worker shares its address space): once the stages
    // have made their books, rings and order tables, before the run (huge-pages.ts).
    // An optimisation only: if it cannot run (no /proc), the run goes on without it and says so.
    if (perf.hugePages !== 'off') {
      const t0 = Date.now();
      try {
        // On a pool thread: on this one, the copy stalled the event loop (venue simulators, mailbox).
        const r = await adviseHugePagesAsync(perf.hugePages);
        if (r !== null) {
          this.log(`huge pages (performance.huge_pages: ${perf.hugePages}): ${(r.collapsed / 1048576).toFixed(0)} MiB made huge in ${Date.now() - t0} ms` +
            (r.failed > 0 ? `; ${r.failed} madvise call(s) failed (errno ${r.errno})` : ''));
        }
      } catch (e) {
        this.log(`huge pages (performance.huge_pages: ${perf.hugePages}): not applied: ${(e as Error).message}; fix: check that /proc is mounted, or set performance.huge_pages: off`);
      }
      // A stage that failed while the advice ran (the event loop ran meanwhile) fails the start
      // here, as it would have before the await: RX is never started on a failed pipeline.
      if (this.failure) throw this.failure;
    }
  }

  /**
   * True when the port reads a capture file rather than a live feed: the pcap backend, or a DPDK
   * pcap vdev (rx_pcap=). The default run's DPDK ring is fed from a file too, but its re-request
   * server serves the same session, so what it cannot fill is a real loss and stays one.
   */
  private replaysCapture(o: PipelineOptions): boolean {
    if (this.port.backend === 'pcap') return true;
    const opts = o.portOptions ?? portOptionsFrom(o.feed, o.performance);
    const vdev = opts.dpdk?.vdev ?? '';
    return this.port.backend === 'dpdk' && /(^|,)rx_pcap=/.test(vdev);
  }

  /** A stage died: stop everything and remember why. */
  private fail(e: TickpathError): void {
    if (this.failure) return;
    this.failure = e;
    this.log(`pipeline: ${e.message}; shutting down`);
    this.onFailure?.(e);
  }

  /** Resolves with the error when a stage dies (never resolves otherwise). */
  failed(): Promise<TickpathError> {
    return new Promise((resolve) => {
      if (this.failure) resolve(this.failure);
      else this.onFailure = resolve;
    });
  }

  /** Each worker: its stages, kernel thread id, CPUs it may run on (from /proc), heap/GC history. */
  placement(): { group: JsStage[]; shard?: number; tid: number | undefined; cpusAllowed: string | undefined; health: WorkerHealth[] }[] {
    return this.workers.map((w) => ({ group: w.group, ...(w.shard !== undefined ? { shard: w.shard } : {}), tid: w.tid, cpusAllowed: w.cpusAllowed, health: w.health }));
  }

  /** Symbols the book stage keeps books for (['*'] = all); takes effect at the next batch. */
  subscribe(symbols: readonly string[]): void {
    this.subscriptions.publish(symbols);
  }

  /**
   * One symbol's book, answered by the book stage between two of its slices (the live book view:
   * /api/book, tickpath book --instance). Never touches the hot path beyond one atomic load per slice.
   */
  book(symbol: string, depth = 10, timeoutMs = 2000): Promise<BookAnswer> {
    if (!this.bookClient) return Promise.reject(new TickpathError('ERR_CLOSED', 'the pipeline has no book stage running'));
    return this.bookClient.ask(symbol, depth, timeoutMs);
  }

  /** Implied decimals of every book price: 4 (ITCH Price(4)) or the FAST feed's price_decimals. */
  priceDecimals = 4;

  /** Best bid and ask (Price(4)) and their shares, of every symbol that has had a quote, from the shared BBO table. */
  topOfBook(): TopOfBook[] {
    return this.bbo.entries();
  }

  /** True once a replayed source has been read to its end by the decoder. */
  get sourceDone(): boolean {
    const w = this.workers.find((x) => x.group.includes('decoder'));
    return w ? Atomics.load(w.control, kStageSourceDoneI32) === 1 : false;
  }

  /** One stage's latency histogram merged over the workers (for percentiles the summary lacks, or corrections). */
  mergedLatency(name: string): LatencyRecorder {
    const merged = new LatencyRecorder({ name, highestTrackableNs: 60_000_000_000 });
    for (const w of this.workers) for (const h of w.latency) if (h.name === name) merged.add(h);
    return merged;
  }

  /** Counters and latency right now, without stopping anything. */
  stats(): PipelineStats {
    const workers = this.workers.map((w) => w.done?.counters ?? w.counters?.snapshot() ?? {});
    const counters: Record<string, number> = {};
    for (const name of kWorkerCounterNames) counters[name] = workers.reduce((a, w) => a + (w[name] ?? 0), 0);
    const latency: Record<string, LatencySummary> = {};
    for (const name of kLatencyNames) {
      const merged = new LatencyRecorder({ name, highestTrackableNs: 60_000_000_000 });
      for (const w of this.workers) for (const h of w.latency) if (h.name === name) merged.add(h);
      latency[name] = merged.summary();
    }
    const strategy = this.workers.find((w) => w.done?.strategy)?.done?.strategy;
    const nat = counters.venue_sessions_native, uv = counters.venue_sessions_libuv;
    const venueTransport = nat + uv === 0 ? undefined : uv === 0 ? 'native' : nat === 0 ? 'libuv' : 'mixed';
    const venueSimTransport = this.venues.length ? this.venues[0].transport : undefined;
    return { backend: this.port.backend, counters, workers, latency, port: this.port.stats(), venue: this.venueStats(), venueTransport, strategy,
      venueSimTransport, venueSimLoop: this.venueLoop?.stats(), routerIdle: this.routerIdle };
  }

  private venueStats(): Record<string, number> | undefined {
    if (!this.venues.length) return undefined;
    const out: Record<string, number> = {};
    for (const v of this.venues) for (const [k, n] of Object.entries(v.stats())) out[k] = (out[k] ?? 0) + n;
    return out;
  }

  /** Stops RX, drains every stage, closes venues and the port; resolves with the final stats. */
  stop(): Promise<PipelineStats> {
    if (!this.stopped) this.stopped = this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<PipelineStats> {
    this.port.stop();
    // Drain in pipeline order: a later stage stops only after the one feeding it has finished.
    for (const w of this.workers) {
      AgentRunner.requestStop(w.control.buffer as SharedArrayBuffer);
      const deadline = Date.now() + 10_000;
      while (!w.done && !this.failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      if (!w.done && !this.failure) this.log(`pipeline: worker [${w.group.join('+')}] did not finish draining in 10 s; terminating it`);
    }
    const stats = this.stats();
    this.bookRelay?.stop();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    for (const w of this.workers) { w.drain.drainAll(); w.drain.stop(); }
    this.port.close();
    if (this.bookFile) fs.rmSync(this.bookFile, { force: true });
    await this.stopVenues();
    return stats;
  }
}

/** Recovery options from feed_config.yml: its lines and re-request server. */
export function recoveryFromConfig(feed: FeedConfig): FeedRecoveryOptions | undefined {
  if (!feed.lines.length) return undefined;
  return {
    lines: feed.lines.map((l) => ({ name: l.name, group: l.group, port: l.port })),
    lineWaitMs: feed.lineWaitMs,
    rerequest: feed.rerequest ? { host: feed.rerequest.host, port: feed.rerequest.port, timeoutMs: feed.rerequest.timeoutMs } : undefined,
  };
}

/** The FAST part of a stage worker's feed data: lines with their channel roles (incremental first). */
export function fastFeedOf(feed: FeedConfig): StageWorkerData['feed']['fast'] {
  const f = feed.fast;
  if (f === undefined) return undefined;
  const role = (name: string): MoexFeedLine['role'] | undefined => (f.incremental.includes(name) ? 'incremental' : f.snapshot.includes(name) ? 'snapshot'
    : f.trades.includes(name) ? 'trades' : f.status.includes(name) ? 'status' : undefined);
  const lines = feed.lines.filter((l) => role(l.name) !== undefined).map((l) => ({ name: l.name, group: l.group, port: l.port, role: role(l.name)! }));
  return { templatesXml: f.templatesXml, priceDecimals: f.priceDecimals, market: f.market, lineWaitMs: feed.lineWaitMs, lines };
}
