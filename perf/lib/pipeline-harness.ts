/**
 * The whole pipeline as the benchmarks run it: configs/feed_config.yml + performance.yml (CPUs,
 * rings, bursts, idle strategy), configs/routing_config.yml with the in-process venue simulators,
 * the sample strategy, and a port the benchmark chooses (dpdk net_ring, net_pcap, pcap file).
 * The order journal and FIX stores go to a fresh scratch directory per run, so every run starts
 * with an empty book of orders and fresh venue sessions.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { PortOptions } from '../../lib/binding';
import { loadConfigs } from '../../lib/config';
import type { PerformanceConfig } from '../../lib/config/performance-config';
import { Pipeline, PipelineStats } from '../../lib/pipeline/pipeline';
import { RingMonitor } from './ring-monitor';
import { kConfigDir, kEal, kRxCpu, nowNs, sleep, tmpDir } from './machine';

export interface HarnessOptions {
  /** Override performance.yml's idle strategy (workers and the RX poller). */
  idle?: 'spin' | 'yield' | 'backoff';
  /** Then override the RX poller's alone (performance.stages.rx.idle). */
  rxIdle?: 'spin' | 'yield' | 'backoff';
  strategyParams?: Record<string, unknown>;
  /** Override performance.stages.router.keep_warm_us (0 = no keep-warm dry runs). */
  keepWarmUs?: number;
  /** Override routing_config.yml's journal fsync policy (a copy of the file is written to the scratch directory). */
  journalFsync?: 'always' | 'group' | 'never';
  log?: (line: string) => void;
  /**
   * Venues already running elsewhere (a venue-sim child process), by routing_config.yml venue name:
   * their ports go into a copy of the routing file and no in-process simulator is started.
   */
  venuePorts?: Record<string, number>;
  /** Edits performance.yml's config after the overrides above (another stage layout, e.g. sharded books). */
  performance?: (p: PerformanceConfig) => PerformanceConfig;
}

export function loadBenchConfigs(o: HarnessOptions = {}): { feed: ReturnType<typeof loadConfigs>['feed']; performance: PerformanceConfig } {
  const c = loadConfigs(kConfigDir);
  if (o.idle) {
    c.performance = { ...c.performance, idle: { ...c.performance.idle, strategy: o.idle }, stages: { ...c.performance.stages, rx: { ...c.performance.stages.rx, idle: o.idle } } };
  }
  if (o.rxIdle) c.performance = { ...c.performance, stages: { ...c.performance.stages, rx: { ...c.performance.stages.rx, idle: o.rxIdle } } };
  if (o.performance) c.performance = o.performance(c.performance);
  if (o.keepWarmUs !== undefined) c.performance = { ...c.performance, stages: { ...c.performance.stages, router: { ...c.performance.stages.router, keepWarmMicros: o.keepWarmUs } } };
  return c;
}

let vdevSeq = 0;

/** A dpdk port on a fresh virtual device, with the process's one set of EAL arguments. */
export function dpdkPortOptions(perf: PerformanceConfig, vdev: string, extra: Partial<PortOptions> = {}): PortOptions {
  const name = vdev.split(',');
  name[0] = `${name[0]}${vdevSeq++}`;
  return {
    backend: 'dpdk', poller: 'thread', idle: perf.stages.rx.idle, burst: perf.stages.rx.burst,
    ringSize: perf.rings.rxDescriptors, rxCpus: [kRxCpu], dpdk: { vdev: name.join(','), ...kEal }, ...extra,
  };
}

export function pcapPortOptions(perf: PerformanceConfig, file: string, extra: Partial<PortOptions['pcap']> = {}): PortOptions {
  return {
    backend: 'pcap', poller: 'thread', idle: perf.stages.rx.idle, burst: perf.stages.rx.burst,
    ringSize: perf.rings.rxDescriptors, rxCpus: [kRxCpu], pcap: { file, pace: 'fast', loops: 1, ...extra },
  };
}

export async function startPipeline(portOptions: PortOptions, o: HarnessOptions = {}): Promise<Pipeline> {
  const { feed, performance } = loadBenchConfigs(o);
  const scratch = tmpDir('tp-perf-run-');
  let routingFile = path.join(kConfigDir, 'routing_config.yml');
  if (o.journalFsync) {
    const text = fs.readFileSync(routingFile, 'utf8');
    const changed = text.replace(/^(\s*fsync:\s*)\w+/m, `$1${o.journalFsync}`);
    if (changed === text && !/^\s*fsync:/m.test(text)) throw new Error(`${routingFile}: no journal fsync key to override`);
    routingFile = path.join(scratch, 'routing_config.yml');
    fs.writeFileSync(routingFile, changed);
  }
  if (o.venuePorts) {
    const doc = YAML.parse(fs.readFileSync(routingFile, 'utf8')) as { routing: { venues: { name: string; port: number }[]; journal: { path: string } } };
    for (const v of doc.routing.venues) {
      const port = o.venuePorts[v.name];
      if (port === undefined) throw new Error(`venuePorts: no port for venue ${v.name}`);
      v.port = port;
    }
    doc.routing.journal.path = path.join(scratch, 'orders.journal');
    routingFile = path.join(scratch, 'routing_config.venues.yml');
    fs.writeFileSync(routingFile, YAML.stringify(doc));
  }
  return Pipeline.start({
    feed, performance, portOptions,
    routingFile,
    venueSimulator: o.venuePorts === undefined,
    journalPath: path.join(scratch, 'orders.journal'),
    fixStoreDir: path.join(scratch, 'fix-store'),
    strategy: o.strategyParams ? { module: path.join(__dirname, '..', '..', 'lib', 'pipeline', 'sample-strategy.js'), params: o.strategyParams } : undefined,
    log: o.log,
  });
}

/**
 * Waits until the poller has handled `packets` packets (into the ring or dropped at it) and the
 * decoder has read everything in the ring; returns whether that happened within `timeoutMs`.
 */
export async function waitForDrain(monitor: RingMonitor, packets: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const s = monitor.sample();
    if (s.rxPackets + s.drops >= packets && s.backlog === 0) return true;
    await sleep(2);
  }
  return false;
}

/** The main thread's share of a run: poll a condition every ms, report when it became true. */
export async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<number | undefined> {
  const t0 = nowNs(), until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (cond()) return nowNs() - t0;
    await sleep(1);
  }
  return undefined;
}

export type { Pipeline, PipelineStats };
