import * as os from 'node:os';
import { ConfigReader } from './config-reader';
import { kIdleStrategyNames, type IdleStrategyName } from '../common/idle-strategy';

/** Pipeline stages in data-flow order. rx is the native poller; the rest are JS stages. */
export type StageName = 'rx' | 'decoder' | 'book' | 'strategy' | 'router';
export const kStageNames: readonly StageName[] = ['rx', 'decoder', 'book', 'strategy', 'router'];
export type JsStageName = Exclude<StageName, 'rx'>;
export const kJsStageNames: readonly JsStageName[] = ['decoder', 'book', 'strategy', 'router'];

export interface StageConfig {
  /** CPU the stage's thread is pinned to. */
  cpu: number;
  /** Most items handled per turn of the stage's loop (rx: packets per rx burst). */
  burst: number;
}

export interface RouterStageConfig extends StageConfig {
  /**
   * Least time between two polls of the venue sessions from the router stage's loop (us; 0 = every
   * turn). Each poll is a recv(2) per session: polled every turn, a spinning fused worker spends
   * about 40 % of its CPU in those system calls, and a packet arriving meanwhile waits for them.
   * An ack is read at most this much later.
   */
  venuePollMicros: number;
  /**
   * venue_idle_poll_us: the same while no order this stage sent awaits its venue's answer (ack,
   * reject, fill or cancel); absent = venue_poll_us. Each poll's recv(2)s run kernel code on the
   * stage's core, which leaves the order path colder for the next order: polled every 100 us
   * instead of 10 between orders, md_to_send_call from the packet's decoder entry was ~2 us
   * shorter (perf:latency). Unsolicited messages (a fill of an order resting after its ack,
   * heartbeats) are read at most this much later.
   */
  venueIdlePollMicros: number;
  /**
   * Keep the order path warm (us; 0 = off): when no order has gone out for this long, the router
   * stage runs a dry-run order through the real risk check (a shadow RiskChecker), the journal's
   * record encoding (a scratch journal) and the OUCH/FIX encoders (scratch buffers), at most once
   * per this period. Nothing is sent, journaled or booked (lib/pipeline/stages/order-path.ts).
   */
  keepWarmMicros: number;
  /** keep_warm_path_us: how often (us of quiet) a dry run also goes through the real router and OUCH code on shadow objects; 0 = never. */
  keepWarmPathMicros: number;
  /**
   * keep_warm_socket_us: how often (us of quiet) a dry run also sends one message over a private
   * loopback TCP connection and reads it back, so the kernel's send path stays warm; 0 = never.
   */
  keepWarmSocketMicros: number;
}

export interface RxStageConfig extends StageConfig {
  /** 'thread': a native poller thread per queue; 'inline': the decoder worker polls the backend itself. */
  poller: 'thread' | 'inline';
  /**
   * The poller thread's idle strategy (default: performance.idle.strategy, with its spins and
   * parks). On a 2-core machine the poller shares its CPU with the main thread and the venue
   * sessions' peers, so it backs off while the stage worker spins on the other CPU.
   */
  idle: IdleStrategyName;
}

/**
 * The book stage, optionally sharded by ITCH Stock Locate: `shards` book workers, each with its own
 * books and conflator, fed by the decoder over one ring each (locate % shards picks the ring) and
 * read by the strategy's worker, which merges their events (lib/pipeline/pipeline.ts).
 */
export interface BookStageConfig extends StageConfig {
  /**
   * warm_idle: while the decoder on the books' worker finds no packet, each such turn walks a slice
   * of the books' hot lines (the best levels of a few book sides, recent order records), so the
   * next packet finds them in the caches (BookBuilder.warmStep). Read-only. Only where decoder and
   * book share a worker, for ITCH.
   */
  warmIdle: boolean;
  /** Book workers (1: the book stage is one stage like the others). */
  shards: number;
  /** The CPU of each shard's worker (`cpus`; absent: every shard on `cpu`). */
  shardCpus?: number[];
}

export interface IdleConfig {
  strategy: IdleStrategyName;
  maxSpins: number;
  maxYields: number;
  minParkMicros: number;
  maxParkMicros: number;
}

export interface RingSizes {
  /** Native RX descriptor ring (per queue). */
  rxDescriptors: number;
  decoderToBook: number;
  bookToStrategy: number;
  strategyToRouter: number;
}

/**
 * The burst the RX buffering must absorb without loss: `multiplier` x the normal rate for
 * `durationMs`, while the decoder drains `drainMsgsPerS` (perf:throughput's lossless rate on the
 * machine). What piles up meanwhile must fit in the RX descriptor ring and, on dpdk, in the mbuf
 * pool (on hugepages); `tickpath doctor --config` checks both against this machine.
 */
export interface BurstSizing {
  normalMsgsPerS: number;
  multiplier: number;
  durationMs: number;
  msgsPerPacket: number;
  drainMsgsPerS: number;
}

/** Packets waiting in the RX ring at the end of the burst: (burst rate - drain rate) x duration. */
export function burstBacklogPackets(b: BurstSizing): number {
  const excess = Math.max(0, b.normalMsgsPerS * b.multiplier - b.drainMsgsPerS);
  return Math.ceil((excess * b.durationMs) / 1000 / b.msgsPerPacket);
}

/** Time to drain that backlog after the burst, at drain rate minus the normal rate (ms; Infinity if it never drains). */
export function burstDrainMs(b: BurstSizing): number {
  const spare = b.drainMsgsPerS - b.normalMsgsPerS;
  return spare > 0 ? (burstBacklogPackets(b) * b.msgsPerPacket * 1000) / spare : Infinity;
}

export interface PerformanceConfig {
  file: string;
  numaNode: number;
  idle: IdleConfig;
  stages: { rx: RxStageConfig; router: RouterStageConfig; book: BookStageConfig } & Record<JsStageName, StageConfig>;
  rings: RingSizes;
  /**
   * Which JS stages share one worker thread, in pipeline order. A fused group calls the next stage
   * directly instead of through a ring: on a 2-core machine a ring hand-off between threads that
   * share a core costs a context switch per batch.
   */
  workers: JsStageName[][];
  /** The burst to size the RX buffering for (absent: not checked). */
  burst: BurstSizing | undefined;
  /**
   * huge_pages: transparent huge pages for the process's anonymous memory by madvise, once the
   * workers are up (lib/pipeline/huge-pages.ts): 'off' (default), 'advise' or 'collapse'.
   */
  hugePages: 'off' | 'advise' | 'collapse';
}

export interface PerformanceConfigLoadOptions {
  /** CPUs on the machine that will run this config (default: this host's). */
  cpuCount?: number;
}

const kTopKeys = ['performance'];
const kPerfKeys = ['numa_node', 'idle', 'stages', 'rings', 'fusion', 'burst', 'huge_pages'];
const kBurstKeys = ['normal_msgs_per_s', 'multiplier', 'duration_ms', 'msgs_per_packet', 'drain_msgs_per_s'];
const kIdleKeys = ['strategy', 'max_spins', 'max_yields', 'min_park_us', 'max_park_us'];
const kRxStageKeys = ['cpu', 'burst', 'poller', 'idle'];
const kStageKeys = ['cpu', 'burst'];
const kBookStageKeys = ['cpu', 'burst', 'shards', 'cpus', 'warm_idle'];
/** More book workers than this would each get too few symbols to pay for their ring. */
export const kMaxBookShards = 64;
const kRouterStageKeys = ['cpu', 'burst', 'venue_poll_us', 'venue_idle_poll_us', 'keep_warm_us', 'keep_warm_path_us', 'keep_warm_socket_us'];
const kRingKeys = ['rx_descriptors', 'decoder_to_book', 'book_to_strategy', 'strategy_to_router'];

/** Reads and validates `file`; throws a ConfigError (a TickpathError) naming the first problem. */
export function loadPerformanceConfig(file: string, options: PerformanceConfigLoadOptions = {}): PerformanceConfig {
  const r = ConfigReader.read(file);
  const config = performanceConfigFrom(r, options);
  r.throwIfProblems();
  return config;
}

export function parsePerformanceConfig(text: string, file: string, options: PerformanceConfigLoadOptions = {}): PerformanceConfig {
  const r = ConfigReader.parse(text, file);
  const config = performanceConfigFrom(r, options);
  r.throwIfProblems();
  return config;
}

/** Reads the performance config from `r`, recording every problem in `r.problems` (usable only when there are none). */
export function performanceConfigFrom(r: ConfigReader, options: PerformanceConfigLoadOptions = {}): PerformanceConfig {
  const cpuCount = options.cpuCount ?? os.availableParallelism();
  const top = r.object('(top level)', r.root, kTopKeys);
  const p = r.object('performance', top.performance, kPerfKeys);

  const i = r.object('performance.idle', p.idle ?? {}, kIdleKeys);
  const minPark = r.int('performance.idle.min_park_us', i.min_park_us, 1, 1_000_000, 1);
  const maxPark = r.int('performance.idle.max_park_us', i.max_park_us, 1, 1_000_000, 1000);
  if (maxPark < minPark && !r.failed('performance.idle')) {
    r.problem('performance.idle.max_park_us', i.max_park_us, `an integer >= performance.idle.min_park_us (${minPark})`);
  }
  const idle: IdleConfig = {
    strategy: r.oneOf('performance.idle.strategy', i.strategy, kIdleStrategyNames, 'backoff'),
    maxSpins: r.int('performance.idle.max_spins', i.max_spins, 0, 1_000_000, 100),
    maxYields: r.int('performance.idle.max_yields', i.max_yields, 0, 1_000_000, 10),
    minParkMicros: minPark,
    maxParkMicros: maxPark,
  };

  const s = r.object('performance.stages', p.stages, kStageNames);
  const cpuExpected = `a CPU from 0 to ${cpuCount - 1} (this machine has ${cpuCount})`;
  const readCpu = (at: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= cpuCount) {
      r.problem(at, v, cpuExpected, `pick a CPU from 0 to ${cpuCount - 1} (nproc lists them; stages that share one must be fused or idle with backoff)`);
      return typeof v === 'number' ? v : 0;
    }
    return v;
  };
  const rx = r.object('performance.stages.rx', s.rx, kRxStageKeys);
  const rxStage: RxStageConfig = {
    cpu: readCpu('performance.stages.rx.cpu', rx.cpu),
    burst: r.int('performance.stages.rx.burst', rx.burst, 1, 512, 32),
    poller: r.oneOf('performance.stages.rx.poller', rx.poller, ['thread', 'inline'] as const, 'thread'),
    idle: r.oneOf('performance.stages.rx.idle', rx.idle, kIdleStrategyNames, idle.strategy),
  };
  const js = {} as Record<JsStageName, StageConfig> & { router: RouterStageConfig; book: BookStageConfig };
  for (const name of kJsStageNames) {
    const at = `performance.stages.${name}`;
    const st = r.object(at, s[name], name === 'router' ? kRouterStageKeys : name === 'book' ? kBookStageKeys : kStageKeys);
    const stage: StageConfig = { cpu: readCpu(`${at}.cpu`, st.cpu), burst: r.int(`${at}.burst`, st.burst, 1, 65536, 64) };
    if (name === 'router') {
      const venuePollMicros = r.int(`${at}.venue_poll_us`, st.venue_poll_us, 0, 1_000_000, 10);
      js.router = { ...stage, venuePollMicros, venueIdlePollMicros: r.int(`${at}.venue_idle_poll_us`, st.venue_idle_poll_us, 0, 1_000_000, venuePollMicros),
        keepWarmMicros: r.int(`${at}.keep_warm_us`, st.keep_warm_us, 0, 1_000_000, 0),
        keepWarmPathMicros: r.int(`${at}.keep_warm_path_us`, st.keep_warm_path_us, 0, 1_000_000, 0),
        keepWarmSocketMicros: r.int(`${at}.keep_warm_socket_us`, st.keep_warm_socket_us, 0, 1_000_000, 0) };
    }
    else if (name === 'book') js.book = readBookStage(r, st, stage, readCpu);
    else js[name] = stage;
  }

  const g = r.object('performance.rings', p.rings ?? {}, kRingKeys);
  const rings: RingSizes = {
    rxDescriptors: r.powerOfTwo('performance.rings.rx_descriptors', g.rx_descriptors, 64, 1 << 22, 4096),
    decoderToBook: r.powerOfTwo('performance.rings.decoder_to_book', g.decoder_to_book, 64, 1 << 22, 4096),
    bookToStrategy: r.powerOfTwo('performance.rings.book_to_strategy', g.book_to_strategy, 64, 1 << 22, 4096),
    strategyToRouter: r.powerOfTwo('performance.rings.strategy_to_router', g.strategy_to_router, 64, 1 << 22, 1024),
  };

  const workers = readFusion(r, p.fusion, js);
  if (js.book.shards > 1 && !r.failed('performance.fusion') && !r.failed('performance.stages.book.shards')) {
    const group = workers.find((g) => g.includes('book'));
    if (group !== undefined && group.length > 1) {
      r.problem('performance.stages.book.shards', js.book.shards,
        `1 while performance.fusion runs book with ${group.filter((n) => n !== 'book').join(', ')} on one worker (sharded books run on workers of their own)`,
        'give book a fusion group of its own, e.g. fusion: [[decoder], [book], [strategy, router]], or set shards: 1');
    }
  }
  const burst = p.burst === undefined || p.burst === null ? undefined : readBurst(r, p.burst);
  return { file: r.file, numaNode: r.int('performance.numa_node', p.numa_node, 0, 63, 0), idle, stages: { rx: rxStage, ...js }, rings, workers, burst,
    hugePages: r.oneOf('performance.huge_pages', p.huge_pages, ['off', 'advise', 'collapse'] as const, 'off') };
}

function readBookStage(r: ConfigReader, st: Record<string, unknown>, stage: StageConfig, readCpu: (at: string, v: unknown) => number): BookStageConfig {
  const shards = r.int('performance.stages.book.shards', st.shards, 1, kMaxBookShards, 1);
  const warmIdle = r.bool('performance.stages.book.warm_idle', st.warm_idle, false);
  if (st.cpus === undefined || st.cpus === null) return { ...stage, shards, warmIdle };
  const cpus = r.list('performance.stages.book.cpus', st.cpus, shards, shards, `CPUs, one per book shard (shards is ${shards})`)
    .map((v, i) => readCpu(`performance.stages.book.cpus[${i}]`, v));
  return { ...stage, shards, warmIdle, ...(cpus.length === shards ? { shardCpus: cpus } : {}) };
}

function readBurst(r: ConfigReader, value: unknown): BurstSizing {
  const b = r.object('performance.burst', value, kBurstKeys);
  return {
    normalMsgsPerS: r.int('performance.burst.normal_msgs_per_s', b.normal_msgs_per_s, 1, 1e9, 100_000),
    multiplier: r.int('performance.burst.multiplier', b.multiplier, 1, 1_000_000, 100),
    durationMs: r.int('performance.burst.duration_ms', b.duration_ms, 1, 3_600_000, 100),
    msgsPerPacket: r.int('performance.burst.msgs_per_packet', b.msgs_per_packet, 1, 1000, 20),
    drainMsgsPerS: r.int('performance.burst.drain_msgs_per_s', b.drain_msgs_per_s, 1, 1e10, 1_000_000),
  };
}

/**
 * fusion: a list of groups; every JS stage appears in exactly one, each group is a run of adjacent
 * stages in pipeline order (a worker cannot skip a stage another worker runs), and its stages sit
 * on one CPU. Missing fusion means no fusion: one worker per stage.
 */
function readFusion(r: ConfigReader, value: unknown, stages: Record<JsStageName, StageConfig>): JsStageName[][] {
  if (value === undefined || value === null) return kJsStageNames.map((n) => [n]);
  const groups = r.list('performance.fusion', value, 1, kJsStageNames.length, 'stage groups such as [decoder, book, strategy, router]');
  const seen = new Map<JsStageName, number>();
  const out = groups.map((gv, gi) => {
    const at = `performance.fusion[${gi}]`;
    const names = r.list(at, gv, 1, kJsStageNames.length, `stage names from ${kJsStageNames.join(', ')}`).map((nv, ni) => {
      const name = r.oneOf(`${at}[${ni}]`, nv, kJsStageNames);
      const previous = seen.get(name);
      if (previous !== undefined) r.problem(`${at}[${ni}]`, name, `each stage in one group only (already in performance.fusion[${previous}])`, `remove ${name} from one of the two groups`);
      seen.set(name, gi);
      return name;
    });
    if (r.failed(at)) return names;
    for (let k = 1; k < names.length; k++) {
      if (kJsStageNames.indexOf(names[k]) !== kJsStageNames.indexOf(names[k - 1]) + 1) {
        r.problem(at, names, `adjacent stages in pipeline order (${kJsStageNames.join(' -> ')})`, 'list each group\'s stages in pipeline order without gaps');
        break;
      }
      const cpuOf = (n: JsStageName) => `performance.stages.${n}.cpu`;
      if (stages[names[k]].cpu !== stages[names[0]].cpu && !r.failed(cpuOf(names[k])) && !r.failed(cpuOf(names[0]))) {
        r.problem(cpuOf(names[k]), stages[names[k]].cpu, `${stages[names[0]].cpu}, the CPU of ${names[0]}, because performance.fusion[${gi}] runs them on one worker`,
          `give the stages of performance.fusion[${gi}] one CPU, or split the group`);
      }
    }
    return names;
  });
  const missing = kJsStageNames.filter((n) => !seen.has(n));
  if (missing.length > 0 && !r.failed('performance.fusion')) {
    r.problem('performance.fusion', value, `every stage in some group (missing: ${missing.join(', ')})`, `add ${missing.join(', ')} to a group`);
  }
  return out;
}
