/**
 * `tickpath run`: the main feed-router.
 *
 * With --config DIR it loads DIR/feed_config.yml, performance.yml and routing_config.yml and runs
 * that. With no arguments it runs the bundled default, so `npm start` shows the whole system:
 * a seeded synthetic NASDAQ ITCH 5.0 session (generated once into the temp directory) replayed at
 * its recorded rate into the best backend here (DPDK: sent through a net_ring port's TX and
 * received by its RX lcore; otherwise the pcap backend, paced), decoded into books, a sample
 * strategy sending orders through the router to in-process venue simulators (OUCH and FIX over
 * real TCP on loopback). One status line per second; SIGINT/SIGTERM stop it cleanly, exit 0.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCommandLine } from './args';
import { PortOptions } from '../lib/binding';
import { loadConfigs } from '../lib/config';
import { checkConfigDir, formatCheck } from '../lib/config/check';
import { TickpathError } from '../lib/errors';
import { diagnose } from '../lib/ops/doctor';
import { kDefaultMetricsPort, MetricsServer } from '../lib/ops/metrics-server';
import { defaultStatsDir, StatsPublisher } from '../lib/ops/stats-publisher';
import { formatNs, latencyWithUnits } from '../lib/ops/units';
import { bookFilePath } from '../lib/pipeline/book-mailbox';
import { writeInterruptibly } from '../lib/tools/interruptible-write';
import { Pipeline, PipelineStats, recoveryFromConfig } from '../lib/pipeline/pipeline';
import { MessageJournal } from '../lib/feed/recovery/message-journal';
import { RerequestServer } from '../lib/feed/recovery/rerequest-server';
import { PacedSender } from '../lib/tools/paced-sender';
import { cpusAllowedOf, pinCurrentThread } from '../lib/binding/threads';
import { formatSchedReport, schedDelta, schedSnapshot } from '../lib/ops/thread-sched';
import { loadRoutingConfig } from '../lib/router/routing-config';
import { parseVenuePlacement, startVenueProcess, type VenueProcess } from '../lib/venue-sim/venue-process';

export const summary = 'run the feed handler and router (default: a bundled session end to end)';

const kRoot = path.join(__dirname, '..', '..');

const kHelp = `Usage: tickpath run [options]

  --config DIR       run DIR/feed_config.yml, performance.yml, routing_config.yml
                     (without it: the bundled default described below)
  --backend NAME     bundled default only: auto (default: dpdk if usable, else pcap) | dpdk | pcap
  --pcap FILE        replay this MoldUDP64/ITCH capture instead of the generated session, at its
                     recorded pace, through the same backend and pipeline (the replay testbench)
  --rate N           bundled default: ITCH messages/s of the generated session (default 100000)
  --symbols N        bundled default: symbols in the generated session (default 50)
  --duration S       stop after S seconds (default 15; 0 = until the source ends or SIGINT)
  --venue-sim        with --config: start venue simulators for the configured venues
  --venue-process MODE@CPU  bundled default only: the venue simulators in a child process
                     (tickpath venue-sim) pinned to CPU and idling by MODE (block: epoll between
                     orders; spin: never sleeps, the router's send(2) finds it running), instead
                     of in this process's main thread; e.g. spin@1
  --standby HOST:PORT  with --config: run as the hot standby of the primary that runs the same
                     config (its routing.failover.standby names HOST:PORT): listen there for the
                     primary's journal stream and heartbeats, keep the feed and books warm, route
                     nothing; when the heartbeats stop for failover.heartbeat_timeout_ms, take over
                     (restart path on the streamed journal, OUCH sessions from the next sequence)
  --strategy FILE    a strategy module exporting createStrategy(params) (default: the sample)
  --metrics-port N   Prometheus /metrics, /api/stats and the live dashboard page on
                     127.0.0.1:N (default ${kDefaultMetricsPort}; 0 = any free port; off = none)
  --instance ID      name of the live stats in /dev/shm that \`tickpath monitor\` reads (default: pid)
  --json             print the final stats as one JSON object on the last line

Bundled default: a seeded synthetic MoldUDP64/ITCH 5.0 session is generated once into the temp
directory, replayed at its recorded rate into the best backend, decoded into order books; a sample
strategy sends orders through risk, routing and the journal to venue simulators over OUCH and FIX.
Every second: messages/s, drops, gaps, p99 latencies and orders. SIGINT/SIGTERM: stop RX, drain,
print final stats, exit 0.`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('run', kHelp, argv, {
      config: { type: 'string' }, backend: { type: 'string', default: 'auto' }, rate: { type: 'string', default: '100000' },
      symbols: { type: 'string', default: '50' }, pcap: { type: 'string' }, duration: { type: 'string', default: '15' }, 'venue-sim': { type: 'boolean' },
      'venue-process': { type: 'string' },
      standby: { type: 'string' }, strategy: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      'metrics-port': { type: 'string', default: String(kDefaultMetricsPort) }, instance: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  // Bad usage is exit 2, as in every other command; errors of the run itself are 1.
  const usage = (message: string): number => { console.error(`tickpath run: ${message}\n\n${kHelp}`); return 2; };
  const duration = Number(values.duration);
  const rate = Number(values.rate);
  const symbols = Number(values.symbols);
  if (!(duration >= 0)) return usage(`option --duration is '${values.duration}', expected seconds >= 0`);
  if (!(rate > 0 && rate <= 50_000_000)) return usage(`option --rate is '${values.rate}', expected messages/s from 1 to 50000000`);
  if (!(Number.isInteger(symbols) && symbols >= 1 && symbols <= 10000)) return usage(`option --symbols is '${values.symbols}', expected 1 to 10000`);
  const metricsPort = values['metrics-port'] === 'off' ? undefined : Number(values['metrics-port']);
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535)) return usage(`option --metrics-port is '${values['metrics-port']}', expected a port from 0 to 65535 or off`);
  if (!['auto', 'dpdk', 'pcap'].includes(values.backend!)) return usage(`option --backend is '${values.backend}', expected auto, dpdk or pcap`);
  let venuePlacement: { idle: 'block' | 'spin'; cpu: number } | undefined;
  if (values['venue-process'] !== undefined) {
    if (values.config) return usage('option --venue-process is for the bundled default; with --config, run `tickpath venue-sim` yourself and name its ports in routing_config.yml');
    try { venuePlacement = parseVenuePlacement('--venue-process', values['venue-process'] as string, os.cpus().length); } catch (e) { return usage((e as Error).message); }
  }
  let standby: { host: string; port: number } | undefined;
  if (values.standby !== undefined) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(values.standby);
    if (!m || !(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) return usage(`option --standby is '${values.standby}', expected HOST:PORT to listen on for the primary (port 1 to 65535)`);
    if (!values.config) return usage('option --standby needs --config DIR: the standby runs the primary\'s config (with routing.failover)');
    if (values['venue-sim']) return usage('option --standby cannot be used with --venue-sim: a standby takes over the primary\'s venues');
    standby = { host: m[1], port: Number(m[2]) };
  }
  // The whole config is checked before anything starts: a bad routing file must not surface as a
  // stage worker crash after the backend opened.
  const check = checkConfigDir(values.config ? path.resolve(values.config) : path.join(kRoot, 'configs'));
  if (check.problems.length > 0) {
    console.error(`tickpath run: the configs have problems; nothing was started\n${formatCheck(check)}`);
    return 1;
  }
  const strategy = values.strategy ? { module: path.resolve(values.strategy), params: {} } : undefined;
  if (strategy && !fs.existsSync(strategy.module)) {
    throw new TickpathError('ERR_NOT_FOUND', `--strategy ${values.strategy}: no such file (${strategy.module})`,
      'give the path of a module exporting createStrategy(params), e.g. dist/lib/pipeline/sample-strategy.js');
  }
  if (values.pcap && !fs.existsSync(path.resolve(values.pcap))) {
    throw new TickpathError('ERR_NOT_FOUND', `--pcap ${values.pcap}: no such file`, 'give a classic pcap capture, e.g. one written by tickpath gen');
  }

  // Everything this run creates registers its release here, so every exit path (a start-up error,
  // a failed stage, SIGINT/SIGTERM) releases it, newest first: servers, workers, the stats file
  // and the temporary run directory. A command that leaves a server listening never exits.
  const cleanup = new CleanupStack();
  try {
    return await runWith(values, { duration, rate, symbols, metricsPort, strategy, standby, venuePlacement }, cleanup);
  } finally {
    await cleanup.releaseAll();
  }
}

/** Releases what a command created, newest first; a failing release does not stop the others. */
class CleanupStack {
  private readonly steps: { what: string; release: () => unknown }[] = [];
  add(what: string, release: () => unknown): void { this.steps.push({ what, release }); }
  async releaseAll(): Promise<void> {
    while (this.steps.length > 0) {
      const { what, release } = this.steps.pop()!;
      try {
        await release();
      } catch (err) {
        console.error(`tickpath run: releasing ${what} failed: ${(err as Error).message}`);
      }
    }
  }
}

interface RunOptions {
  duration: number;
  rate: number;
  symbols: number;
  metricsPort: number | undefined;
  strategy: { module: string; params: Record<string, unknown> } | undefined;
  standby: { host: string; port: number } | undefined;
  /** --venue-process: the venue simulators in a child process, placed and idling so. */
  venuePlacement: { idle: 'block' | 'spin'; cpu: number } | undefined;
}

async function runWith(values: Record<string, string | boolean | undefined>, o: RunOptions, cleanup: CleanupStack): Promise<number> {
  const { duration, rate, symbols, metricsPort, strategy, venuePlacement } = o;
  const log = (line: string) => console.log(line);
  // The default run's journal and FIX stores live in tmpfs when there is one: a demo should not
  // wait on disk fsyncs (a production config points routing.journal.path at a real disk).
  let runDir = '';
  const makeRunDir = (): string => {
    runDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `tickpath-run-${process.pid}-`));
    cleanup.add(`run directory ${runDir}`, () => fs.rmSync(runDir, { recursive: true, force: true }));
    return runDir;
  };

  let pipeline: Pipeline;
  let replayer: PacedSender | undefined;
  let venueProcess: VenueProcess | undefined;
  let venueProcessStats: Record<string, unknown> | null = null;
  let replayDone: Promise<unknown> | undefined;
  // Stats first: a second run under the same --instance must fail before anything starts.
  const publisher = new StatsPublisher({ instance: values.instance as string | undefined });
  cleanup.add('stats publisher', () => publisher.close());
  if (values.config) {
    const dir = path.resolve(values.config as string);
    const { feed, performance } = loadConfigs(dir);
    const sim = values['venue-sim'] === true;
    if (sim) makeRunDir();
    pipeline = await Pipeline.start({
      feed, performance, routingFile: path.join(dir, 'routing_config.yml'), venueSimulator: sim, strategy, log,
      recovery: recoveryFromConfig(feed), bookFile: bookFilePath(publisher.instance, defaultStatsDir()), standby: o.standby,
      // The configured journal always (a restart resumes from it); the in-process simulators start
      // empty on every run, so only their FIX stores are per run.
      ...(sim ? { fixStoreDir: path.join(runDir, 'fix') } : {}),
    });
  } else {
    // The bundled default: generate (once) a session as long as the run, at the asked rate.
    const seconds = duration > 0 ? duration + 1 : 30;
    const capture = values.pcap ? path.resolve(values.pcap as string) : path.join(os.tmpdir(), `tickpath-default-s${symbols}-r${rate}-d${seconds}.pcap`);
    if (!fs.existsSync(capture)) {
      // On a worker into a file of this process's own, renamed when complete: SIGINT/SIGTERM stop it
      // at once and leave no partial file, and two first runs at once do not write the same file.
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const s = await writeInterruptibly('itchSession', { options: { symbols, rate, durationSeconds: seconds, seed: 1 } }, capture, { signal: abort.signal })
        .finally(() => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); });
      if (!s) { log('stopped while generating the default session; nothing was started'); return 0; }
      log(`generated ${capture}: ${s.messages} ITCH messages in ${s.packets} packets, ${s.symbols} symbols`);
    }
    const dpdkUsable = diagnose().backends.some((b) => b.name === 'dpdk' && b.usable);
    const useDpdk = values.backend === 'dpdk' || (values.backend === 'auto' && dpdkUsable);
    if (values.backend === 'auto') log(`backend auto: ${useDpdk ? 'dpdk is usable here' : 'dpdk is not usable here (see tickpath doctor)'}, using ${useDpdk ? 'dpdk' : 'pcap'}`);
    const { feed, performance } = loadConfigs(path.join(kRoot, 'configs'));
    // The shipped layout (configs/performance.yml says why): the stage worker spins on CPU 0, the
    // RX poller backs off on the last CPU, which it shares with this thread and the paced sender.
    const rxIdle = { idle: performance.stages.rx.idle, idleOptions: { maxSpins: performance.idle.maxSpins, maxYields: performance.idle.maxYields,
      minParkMicros: performance.idle.minParkMicros, maxParkMicros: performance.idle.maxParkMicros } };
    const cpus = os.cpus().length;
    // The RX ring as performance.yml sizes it (rings.rx_descriptors, what `tickpath doctor --config`
    // checks against the burst it must absorb), and enough mbufs to fill it with the sender's
    // 2,048 in flight: with the old 4,096-slot default a stage worker off its CPU for ~1.6 s dropped.
    const ringSize = performance.rings.rxDescriptors;
    const mbufs = Math.max(8191, 2 ** Math.ceil(Math.log2(ringSize + 2048 + 1)) - 1);
    const portOptions: PortOptions = useDpdk
      ? { backend: 'dpdk', ...rxIdle, ringSize, dpdk: { vdev: 'net_ring_run0', rxCpus: [cpus - 1], mbufs } }
      : { backend: 'pcap', ...rxIdle, ringSize, rxCpus: [cpus - 1], pcap: { file: capture, pace: 'recorded', loops: 1 } };
    // Gap recovery as configured (lines A/B), with a re-request server in this process that serves
    // the same session, as the exchange's would.
    const rerequest = new RerequestServer(MessageJournal.fromPcap(fs.readFileSync(capture)));
    const rerequestPort = await rerequest.listen(0);
    cleanup.add('re-request server', () => rerequest.close());
    const recovery = recoveryFromConfig(feed);
    if (recovery) recovery.rerequest = { host: '127.0.0.1', port: rerequestPort, timeoutMs: 200 };
    log(`re-request server: 127.0.0.1:${rerequestPort} (MoldUDP64 retransmissions of the session)`);
    makeRunDir();
    // The sample strategy at most one order per 20 ms: orders spread over the whole run, each one
    // after a quiet stretch, the case the keep-warm is for; unpaced it reached its 1,000 orders in
    // the first 3 s, while V8 was still compiling, and sent nothing after.
    const bundledStrategy = strategy ?? { module: path.join(kRoot, 'dist', 'lib', 'pipeline', 'sample-strategy.js'), params: { minGapUs: 20_000 } };
    // The venue simulators: on this thread (default), or in a child process placed as asked.
    const routingFile = path.join(kRoot, 'configs', 'routing_config.yml');
    let venuePorts: Record<string, number> | undefined;
    if (venuePlacement) {
      const venues = loadRoutingConfig(routingFile).venues;
      const fix = venues.filter((v) => v.protocol !== 'ouch'), ouch = venues.filter((v) => v.protocol === 'ouch');
      if (fix.length > 1 || ouch.length > 1) {
        throw new TickpathError('ERR_INVALID_OPTION', `tickpath run --venue-process: ${routingFile} has ${ouch.length} OUCH and ${fix.length} FIX venues; one venue process serves one of each`,
          'run without --venue-process (in-process simulators serve any number)');
      }
      const vp = await startVenueProcess({ cpu: venuePlacement.cpu, idle: venuePlacement.idle, fixCompId: fix[0]?.targetId ?? 'VENUE' });
      venueProcess = vp;
      cleanup.add('venue process', async () => { venueProcessStats = await vp.stop(); });
      venuePorts = Object.fromEntries(venues.map((v) => [v.name, v.protocol === 'ouch' ? vp.ouchPort : vp.fixPort]));
      log(`venue simulators: ${vp.label}, pid ${vp.pid}, OUCH 127.0.0.1:${vp.ouchPort}, FIX 127.0.0.1:${vp.fixPort}`);
    }
    pipeline = await Pipeline.start({
      feed, performance, portOptions, routingFile, venueSimulator: venuePorts === undefined, venuePorts, recovery,
      journalPath: path.join(runDir, 'orders.journal'), fixStoreDir: path.join(runDir, 'fix'), strategy: bundledStrategy, log,
      bookFile: bookFilePath(publisher.instance, defaultStatsDir()),
    });
  }
  // Registered at once so a later start-up error still stops the workers and the port.
  cleanup.add('pipeline', () => pipeline.stop());
  if (values.config === undefined && pipeline.port.backend === 'dpdk') {
    // The sender: a worker pinned beside the RX lcore replays the capture at its recorded pace into
    // the port's TX ring (parked between packets, not spinning); the RX lcore sends it through
    // net_ring and receives it back: the pipeline sees a live feed. The main thread stays free for
    // the venue simulators' sockets and the stats, and the stage worker keeps its CPU to itself.
    const capture = values.pcap ? path.resolve(values.pcap as string) : path.join(os.tmpdir(), `tickpath-default-s${symbols}-r${rate}-d${duration > 0 ? duration + 1 : 30}.pcap`);
    const sender = new PacedSender(pipeline.port.txTransfer(0), capture, [{ captureSeconds: Infinity, speed: 1 }], os.cpus().length - 1);
    replayer = sender;
    replayDone = sender.run();
    cleanup.add('replayer', async () => { sender.stop(); await replayDone; });
  }
  if (values.config === undefined) {
    // The bundled layout on two CPUs: the stage worker has its CPU to itself; the RX poller, the
    // paced sender and this thread (the venue simulators' sockets, stats, the dashboard) share the
    // other. Unpinned, this thread is woken onto the stage's CPU by every order the stage sends over
    // loopback and preempts it there (see configs/performance.yml). Pinned last: threads inherit
    // their creator's CPUs, and every worker and lcore already exists and has pinned itself.
    pinCurrentThread(os.cpus().length - 1);
  }

  // Off the hot path: a stats snapshot in /dev/shm once a second (tickpath monitor) and, on scrape,
  // Prometheus metrics and the dashboard page, both read from pipeline.stats() on this thread.
  publisher.start(() => pipeline.stats(), 1000, () => ({ placement: pipeline.placement() }));
  log(`live stats: /dev/shm/tickpath-${publisher.instance}.stats (tickpath monitor --instance ${publisher.instance})`);
  if (metricsPort !== undefined) {
    const m = new MetricsServer({
      port: metricsPort, provider: () => pipeline.stats(), extra: () => ({ instance: publisher.instance, placement: pipeline.placement() }),
      books: { book: (symbol, depth) => pipeline.book(symbol, depth), top: () => pipeline.topOfBook(), priceDecimals: pipeline.priceDecimals },
    });
    try {
      await m.listen();
      cleanup.add('metrics server', () => m.close());
      log(`metrics: ${m.url}/metrics, dashboard: ${m.url}/`);
    } catch (err) {
      log(`metrics: not served (${(err as Error).message}); pass --metrics-port 0 for any free port`);
    }
  }

  let stopping = false;
  let resolveStop: () => void = () => {};
  const stopRequested = new Promise<void>((r) => { resolveStop = r; });
  const stop = (): void => { if (!stopping) { stopping = true; replayer?.stop(); resolveStop(); } };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  cleanup.add('signal handlers', () => { process.removeListener('SIGINT', stop); process.removeListener('SIGTERM', stop); });
  void pipeline.failed().then(stop);

  const t0 = Date.now();
  const children = venueProcess ? [venueProcess.pid] : [];
  const sched0 = schedSnapshot(children);
  let last = pipeline.stats();
  let seconds = 0;
  const tick = setInterval(() => {
    seconds++;
    const now = pipeline.stats();
    console.log(statusLine(seconds, last, now));
    last = now;
    const sourceDone = replayDone ? false : pipeline.sourceDone;
    if ((duration > 0 && seconds >= duration) || sourceDone) stop();
  }, 1000);
  cleanup.add('status timer', () => clearInterval(tick));
  if (replayDone) void replayDone.then(() => setTimeout(stop, 500));
  await stopRequested;
  // What the scheduler did to our threads while the feed ran (read before the workers exit).
  const sched = schedDelta(sched0, schedSnapshot(children), threadRoles(pipeline, replayer, venueProcess));
  clearInterval(tick);
  if (replayDone) await replayDone;
  const final = await pipeline.stop();
  if (venueProcess) {
    // The venue process's own counts stand where the in-process simulators' would.
    venueProcessStats = await venueProcess.stop();
    if (venueProcessStats) {
      const t = (venueProcessStats.transport ?? {}) as { transport?: 'native' | 'libuv' };
      final.venue = Object.fromEntries(Object.entries(venueProcessStats).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
      final.venueSimTransport = t.transport;
    }
  }
  publisher.publish(final);
  const secs = (Date.now() - t0) / 1000;
  printFinal(final, secs);
  for (const line of formatSchedReport(sched)) console.log(line);
  if (values.json) console.log(JSON.stringify({ ...runJson(final, secs), scheduler: sched }));
  const failure = await Promise.race([pipeline.failed(), Promise.resolve(undefined)]);
  if (failure) {
    console.error(`tickpath run: ${failure.message}`);
    return 1;
  }
  return 0;
}

/** Our threads by role, for the scheduler report: stage workers, the RX poller, the sender, the main thread. */
function threadRoles(pipeline: Pipeline, sender: PacedSender | undefined, venueProcess: VenueProcess | undefined): Map<number, string> {
  const roles = new Map<number, string>();
  const cpuOf = (tid: number): string => { try { return cpusAllowedOf(tid); } catch { return '?'; } };  // a thread may just have ended
  pipeline.placement().forEach((w, i) => { if (w.tid) roles.set(w.tid, `stage worker ${i} ${w.group.join('+')} (CPU ${w.cpusAllowed})`); });
  if (sender && sender.tid) roles.set(sender.tid, `paced sender (CPU ${sender.cpu})`);
  roles.set(process.pid, `main thread: ${venueProcess ? '' : 'venue simulators, '}stats (CPU ${cpuOf(process.pid)})`);
  if (venueProcess) roles.set(venueProcess.pid, `venue simulators: ${venueProcess.label}`);
  for (const name of fs.readdirSync('/proc/self/task')) {
    const tid = Number(name);
    if (roles.has(tid)) continue;
    try {
      const comm = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      if (/^(rte-worker|tp-poll)/.test(comm)) roles.set(tid, `RX poller ${comm} (CPU ${cpuOf(tid)})`);
    } catch { /* ended meanwhile */ }
  }
  return roles;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));
}

function us(ns: number): string {
  return formatNs(ns);
}

export function statusLine(second: number, a: PipelineStats, b: PipelineStats): string {
  const d = (k: string) => (b.counters[k] ?? 0) - (a.counters[k] ?? 0);
  const c = b.counters;
  return `[${String(second).padStart(3)}s] ${b.backend}: ${fmt(d('itch_messages'))} msgs/s ${fmt(d('rx_packets'))} pkts/s | ` +
    `drops ${c.rx_ring_drops} gaps ${c.sequence_gaps} (recovered ${c.retransmit_requests ? c.messages_recovered : 0}, lost ${c.messages_lost}) bad ${c.bad_frames + c.itch_errors} | ` +
    `p99 wire→handler ${us(b.latency.wire_to_handler.p99)} md→order ${us(b.latency.md_to_order.p99)} ack ${us(b.latency.order_ack.p99)} | ` +
    `orders ${c.orders_sent} acked ${c.orders_acked} filled ${c.orders_filled} rejected ${c.orders_rejected + c.venue_rejects}`;
}

/** --json: raw counters, and latency with the unit in every key ({count, p50_ns, p99_ns, ..., max_ns}). */
export function runJson(s: PipelineStats, secs: number): Record<string, unknown> {
  const latency: Record<string, Record<string, number>> = {};
  for (const [name, l] of Object.entries(s.latency)) latency[name] = latencyWithUnits(l);
  return { seconds: secs, backend: s.backend, counters: s.counters, latency, strategy: s.strategy, venue: s.venue, venueTransport: s.venueTransport,
    venueSimTransport: s.venueSimTransport, venueSimLoop: s.venueSimLoop, routerIdle: s.routerIdle };
}

/** What each order-path figure spans ("order out" = the first child's send(2) returned). */
export const kLatencyLegend = [
  '  md_to_order = wire (RX poll) -> the order\'s first send(2) returned ≈ md_to_signal (-> strategy\'s sendOrder) + order_send',
  '  md_to_signal ≈ signal_wait (-> the order\'s packet entered the decoder) + signal_decide (-> sendOrder: that packet, books, strategy)',
  '  order_send  ≈ order_risk (risk) + order_journal (routing, order state, journal record) + order_encode (OUCH/FIX) + order_syscall (send(2))',
  '  md_to_wire  = wire (RX poll) -> the kernel\'s TX timestamp of the order\'s last byte (the driver\'s xmit: where it leaves this host\'s stack): tick-to-trade',
  '  order_wire  = the order\'s send(2) called -> that TX timestamp: TCP/IP and xmit only, without the loopback receiver\'s softirq order_syscall also holds',
];

function printFinal(s: PipelineStats, secs: number): void {
  const c = s.counters;
  console.log(`final (${secs.toFixed(1)} s, ${s.backend}): ${fmt(c.rx_packets)} packets, ${fmt(c.itch_messages)} ITCH messages, ` +
    `${fmt(c.book_events)} book events, ${fmt(c.quotes)} quotes; drops ${c.rx_ring_drops}, gaps ${c.sequence_gaps}, ` +
    `bad frames ${c.bad_frames}, ITCH errors ${c.itch_errors}, bad references ${c.book_bad_references}`);
  console.log(`orders: sent ${c.orders_sent}, accepted ${c.orders_accepted}, acked ${c.orders_acked}, filled ${c.orders_filled}, ` +
    `partially filled ${c.orders_partially_filled}, cancelled ${c.orders_cancelled}, rejected ${c.orders_rejected}, venue rejects ${c.venue_rejects}` +
    (s.venueTransport ? `; venue sessions over ${s.venueTransport} TCP` : ''));
  if (s.routerIdle) {
    console.log(`router stage idle: ${s.routerIdle.strategy} (performance.idle); venues' idle/spin_us not applied here (configured: ` +
      `${Object.entries(s.routerIdle.venues).map(([n, v]) => `${n} ${v.idle}${v.spinUs ? ` ${v.spinUs} us` : ''}`).join(', ')})`);
  }
  if (c.keep_warm_turns !== undefined) {
    // The shadow route's share (keep_warm_path_us): a real submitOrder to a shadow OUCH or FIX venue, rejected back.
    const shadow = (c.keep_warm_shadow_ouch_runs ?? 0) + (c.keep_warm_shadow_fix_runs ?? 0) > 0
      ? ` (shadow route: ${c.keep_warm_shadow_ouch_runs} to a shadow OUCH venue, ${c.keep_warm_shadow_fix_runs} to a shadow FIX venue)` : '';
    // warmSend: the real OUCH sessions' send path run with zero bytes (the addon stops before send(2)).
    const sendWarms = (c.keep_warm_send_warms ?? 0) > 0 ? `, ${c.keep_warm_send_warms} zero-byte sends through the real OUCH sessions (none reached a venue)` : '';
    console.log(`order path: ${c.keep_warm_turns} keep-warm dry runs (never sent)${shadow}${sendWarms}, ${c.strategy_quotes_immediate} quotes to the strategy as the books made them`);
  }
  if (c.books_warm_steps !== undefined && c.books_warm_steps > 0) {
    console.log(`books: ${c.books_warm_steps} idle warm-walk slices (performance.stages.book.warm_idle: the books' hot lines loaded while no packet came)`);
  }
  // Kernel TX stamps (order_wire, md_to_wire): how many orders have one, and why the others do not.
  if (c.orders_sent > 0 && c.tx_stamps !== undefined) {
    console.log(`order out (kernel TX timestamps): ${c.tx_stamps} stamped on ${c.venue_sessions_tx_stamped} of ${c.venue_sessions_native + c.venue_sessions_libuv} venue sessions; ` +
      `${c.tx_stamps_off} sent without (libuv transport, tx_timestamps: false or refused by the kernel), ${c.tx_stamps_missing} never came`);
  }
  console.log(`latency             ${['count', 'p50', 'p90', 'p99', 'p99.9', 'max'].map((h, i) => h.padStart(i === 0 ? 8 : 10)).join(' ')}`);
  for (const [name, l] of Object.entries(s.latency)) {
    const cells = l.count === 0 ? ['-', '-', '-', '-', '-'] : [l.p50, l.p90, l.p99, l.p999, l.max].map(formatNs);
    console.log(`  ${name.padEnd(16)} ${String(l.count).padStart(8)} ${cells.map((v) => v.padStart(10)).join(' ')}`);
  }
  for (const line of kLatencyLegend) console.log(line);
}
