/**
 * Order round trip over loopback TCP at a fixed offered rate: order sent -> ack received, through
 * the production connectors the router uses, per protocol:
 *   ouch          OuchConnector (OUCH 4.2 / SoupBinTCP)  -> `tickpath venue-sim` (child process)
 *   fix           FixConnector FIX.4.4                    -> `tickpath venue-sim` (child process)
 *   fix_quickfix  FixConnector FIX.4.2                    -> test/interop/quickfix-acceptor (QuickFIX C++), the baseline
 *   fix_store_files  (opt-in) as fix, with both ends' FIX stores the three-file pwrite store
 *                 (storeKind 'files', venue-sim --fix-store files) instead of the mapped one: the
 *                 store's share, measured side by side
 *   echo_native   the native transport on both ends (`--echo-server`: a child process whose
 *                 VenueLoop, with the venue side's idle settings, sends back what it reads), no
 *                 codec and no matching: the floor of our transport, two loopback hops and wakeups
 *   echo_node     the native transport alone -> a Node net echo server (child process): the floor
 *                 any Node venue on libuv puts under the round trip (the simulator's share)
 * Every venue runs in its own process, so each round trip is two loopback hops.
 *
 * Transports (--transports native,libuv; default both, side by side): over `native` the sender
 * spins on one thread, sending when an order is due and calling connector.poll() every turn (as
 * the router stage does), so an ack is read as soon as the kernel has it; over `libuv` orders are
 * paced by timers and acks arrive on the event loop, as before the native transport.
 *
 * Orders alternate buy/sell at one price, so on the simulator each sell fills the buy before it and
 * the book stays bounded; QuickFIX acks and fills everything. Sends follow a fixed schedule
 * (order i due at t0 + i / rate; a late timer sends what is due at once), and the histogram is
 * corrected for coordinated omission with recordWithExpectedInterval(1 / rate). The first
 * --warmup-seconds of orders are sent but not recorded. The machine may be shared: --rounds rounds
 * run with the protocols interleaved, and each protocol keeps its round with the lowest p50.
 *
 * Never asserts timings. Exits 1 if a protocol did not get an ack for every order it sent.
 *
 *   node dist/perf/router-rtt.js [--rate 2000] [--seconds 3] [--warmup-seconds 1]
 *        [--rounds 3] [--protocols ouch,fix,fix_quickfix,echo_node] [--transports native,libuv]
 *        [--idle block|backoff|spin|yield] [--spin-us N] [--venue-transport native|libuv] [--venue-idle block|spin|backoff]
 *        [--venue-busy-poll US] [--venue-spin-turns N] [--venue-spin-us N] [--cpu N] [--venue-cpu N] [--split] [--json]
 *        [--realtime PRIO [--realtime-sleep-us N]] [--venue-realtime PRIO [--venue-realtime-sleep-us N]]
 *        [--busy-poll US] [--epoll-busy-poll US] [--venue-epoll-busy-poll US] [--slow-us N] [--no-results]
 *   --realtime: the sender's thread SCHED_FIFO (thread-realtime.ts; with --idle spin it sleeps N us
 *   per ms); --venue-realtime: venue-sim --realtime. --busy-poll: SO_BUSY_POLL on the sender's
 *   socket; --epoll-busy-poll: EPIOCSPARAMS on its wait set. --slow-us N: each result lists its
 *   round trips above N µs (send time on CLOCK_MONOTONIC) for perf/router-rtt-sched. Every result
 *   carries `sched`: schedstat run delay and context switches of the sender and the venue.
 *        [--child-cpu-prof DIR]   (a V8 CPU profile of every node child: with node --cpu-prof on this process, both ends)
 *
 * --split: both sides record their timelines (session-trace.ts; the venue with --trace) and each
 * protocol's table gains a row splitting its round trip (see splitRtt). The points cost ~35 ns each.
 *
 * Placement: none by default (the kernel places both processes); --cpu pins the sender's thread,
 * --venue-cpu runs every venue process (QuickFIX included) under taskset. With --idle spin and
 * --venue-idle spin (or spin-us above the order interval) each side holds a vCPU while it spins.
 *
 * The venue side (--venue-*): `tickpath venue-sim --transport native` (default, as the command
 * runs by default: the simulator's own loop polls its sessions, no event-loop wakeup per order)
 * or libuv (net.Server, the simulator before the native server).
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LatencyRecorder } from '../lib/common/latency-recorder';
import type { VenueConnector, VenueListener, VenueOrder } from '../lib/router/venue';
import { createVenueConnector } from '../lib/router/connectors/create-connector';
import { report, type Row } from './report';
import type { SessionTransport } from '../lib/protocols/transport/session-transport';
import { NativeTcpTransport } from '../lib/protocols/transport/native-tcp-transport';
import { LibuvTcpTransport } from '../lib/protocols/transport/libuv-tcp-transport';
import { createIdleStrategy, type IdleStrategyName } from '../lib/common/idle-strategy';
import { NativeWaitSet } from '../lib/protocols/transport/tcp-server';
import { nativeTcpBinding } from '../lib/protocols/transport/native-tcp-transport';
import { performance } from 'perf_hooks';
import { pinCurrentThread } from '../lib/binding/threads';
import { NativeTcpServer } from '../lib/protocols/transport/tcp-server';
import { SessionWaiter, type SessionIdlePolicy } from '../lib/protocols/transport/session-waiter';
import { VenueLoop } from '../lib/venue-sim/venue-loop';
import { applyRealtime, realtimePolicy, type RealtimePolicy, type ThreadSchedPolicy } from '../lib/protocols/transport/thread-realtime';
import { schedSnapshot, schedDelta, type SchedSnapshot, type ThreadSchedDelta } from '../lib/ops/thread-sched';
import {
  SessionTrace, setSessionTrace, sessionTrace, kTraceWake, kTraceRx, kTraceTxBegin, kTraceTxEnd, kTraceCall, kTraceAck,
} from '../lib/protocols/transport/session-trace';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const kRoot = path.resolve(__dirname, '..', '..');
const kVenueSim = path.join(__dirname, '..', 'apps', 'venue-sim.js');
const kQuickfixScript = path.join(kRoot, 'scripts', 'build_quickfix_acceptor.sh');
const kQuickfixBinary = path.join(kRoot, 'build', 'quickfix-acceptor', 'quickfix-acceptor');
const kMemoryDir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

/**
 * ouch_venue_libuv / fix_venue_libuv (opt-in): the same as ouch / fix, against `tickpath venue-sim
 * --transport libuv`, interleaved in the same rounds: the venue side's share, measured side by side.
 */
export type RttProtocol = 'ouch' | 'fix' | 'fix_quickfix' | 'echo_native' | 'echo_node' | 'ouch_venue_libuv' | 'fix_venue_libuv' | 'fix_store_files';
const kProtocols: readonly RttProtocol[] = ['ouch', 'fix', 'fix_quickfix', 'echo_native', 'echo_node', 'ouch_venue_libuv', 'fix_venue_libuv', 'fix_store_files'];
export type RttTransport = 'native' | 'libuv';

/**
 * How the native sender idles between orders (--idle): 'block' (default: spins 100 empty turns,
 * then sleeps in epoll on the session's socket until the ack arrives or the next order is due,
 * microsecond timeout), 'backoff' (spins, then parks for 1..50 µs, as the stage workers do) or
 * 'spin' (never sleeps: one CPU at 100 %). backoff and block set the thread's timer slack to 1 µs.
 */
let gIdle: IdleStrategyName | 'block' = 'block';
/** block: the sender's wait set; the connector's socket joins it when it connects. */
let gWaitSet: NativeWaitSet | null = null;
/** block: the sender keeps spinning this long after its last work (an order sent, an ack read) before it sleeps (--spin-us; SessionWaiter). */
let gSpinUs = 0;
/** --cpu / --venue-cpu: the sender's thread and every venue process pinned (-1 = where the kernel puts them). */
let gCpu = -1;
let gVenueCpu = -1;
/** --realtime / --realtime-sleep-us: the sender's thread SCHED_FIFO (thread-realtime.ts), and what the kernel held. */
let gRealtime: RealtimePolicy | null = null;
let gSenderSched: ThreadSchedPolicy | null = null;
/** --epoll-busy-poll: EPIOCSPARAMS on the sender's wait set (µs; 0 = off). */
let gEpollBusyPollUs = 0;
/** --busy-poll: SO_BUSY_POLL on the sender's sockets (µs; 0 = off). */
let gBusyPollUs = 0;
/**
 * --slow-us: round trips above this are listed (CLOCK_MONOTONIC send time, round trip) in the
 * result, so perf/router-rtt-sched can line them up with the scheduler's trace. 0 = off.
 */
let gSlowNs = 0;
const kMaxSlowTrips = 4000;
/** performance.now() * 1e6 + this = CLOCK_MONOTONIC ns (process.hrtime's clock, the one perf's -k CLOCK_MONOTONIC uses). */
const kMonoOffsetNs = Number(process.hrtime.bigint()) - performance.now() * 1e6;

/** The slow round trips of one run: [send time (CLOCK_MONOTONIC ns), round trip ns] pairs. */
class SlowTrips {
  readonly at = new Float64Array(kMaxSlowTrips);
  readonly ns = new Float64Array(kMaxSlowTrips);
  count = 0;
  over = 0;
  record(sentMonoNs: number, rttNs: number): void {
    if (rttNs <= gSlowNs) return;
    this.over++;
    if (this.count < kMaxSlowTrips) { this.at[this.count] = sentMonoNs; this.ns[this.count] = rttNs; this.count++; }
  }
  toJSON(): RttSlow { const trips: [number, number][] = []; for (let i = 0; i < this.count; i++) trips.push([Math.round(this.at[i]), Math.round(this.ns[i])]); return { threshold_ns: gSlowNs, over: this.over, trips }; }
}
let gLastSlow: SlowTrips | null = null;

/** The last simulator's transport stats line (its loop's turns, sleeps and wakeups). */
let gLastVenueStats: unknown = null;

/**
 * The venue side (`tickpath venue-sim` options): its session transport, and for native how its
 * loop idles and SO_BUSY_POLL. Default: what `tickpath venue-sim` runs by default.
 */
export interface RttVenueSide {
  transport: RttTransport; idle: 'block' | 'spin' | 'backoff'; busyPollUs: number; spinTurns?: number; spinUs?: number;
  /** `venue-sim --realtime PRIO [--realtime-sleep-us N]` (every venue process but QuickFIX's). */
  realtime?: number; realtimeSleepUs?: number;
  /** `venue-sim --epoll-busy-poll US`. */
  epollBusyPollUs?: number;
}
let gVenue: RttVenueSide = { transport: 'native', idle: 'block', busyPollUs: 0 };
const venueLabel = (v: RttVenueSide): string => (v.transport === 'libuv' ? 'venue libuv'
  : `venue native, ${v.idle}${v.idle === 'block' && v.spinTurns !== undefined ? ` after ${v.spinTurns} spins` : ''}${v.idle === 'block' && v.spinUs ? ` after ${v.spinUs} us of spin` : ''}, busy-poll ${v.busyPollUs ? `${v.busyPollUs} us` : 'off'}${v.epollBusyPollUs ? `, epoll busy-poll ${v.epollBusyPollUs} us` : ''}${v.realtime ? `, SCHED_FIFO ${v.realtime}${v.idle === 'spin' ? ` sleeping ${v.realtimeSleepUs ?? 50} us/ms` : ''}` : ''}`);

/** What the scheduler did to the two ends during one run (schedstat and /proc/<tid>/status, before and after). */
export interface RttSched {
  seconds: number;
  loadavg: number[];
  sender?: ThreadSchedDelta;
  venue?: ThreadSchedDelta;
  /** The sender's tid (this process's main thread) and the venue's pid (its main thread runs the loop). */
  sender_tid: number;
  venue_pid: number;
  cpus: { cpu: string; user: number; system: number; irq: number; softirq: number; steal: number; idle: number }[];
  other_processes: { pid: number; comm: string; cpu_ms: number }[];
  /** The sender thread's policy as the kernel held it (read back). */
  sender_policy: ThreadSchedPolicy | null;
}
export interface RttSlow { threshold_ns: number; over: number; trips: [number, number][] }

function schedAround(before: SchedSnapshot, venuePid: number): RttSched {
  const d = schedDelta(before, schedSnapshot(venuePid > 0 ? [venuePid] : []));
  return {
    seconds: d.seconds, loadavg: d.loadavg, sender: d.threads.find((t) => t.tid === process.pid), venue: d.threads.find((t) => t.tid === venuePid),
    sender_tid: process.pid, venue_pid: venuePid, cpus: d.cpus, other_processes: d.other_processes, sender_policy: gSenderSched,
  };
}
let gLastSched: RttSched | null = null;

export interface RttResult {
  venue: string;
  orders: number;
  recorded: number;
  acked: number;
  rejected: number;
  rtt_p50_ns: number;
  rtt_p99_ns: number;
  rtt_p999_ns: number;
  rtt_p9999_ns: number;
  rtt_max_ns: number;
  /** How late the sender's timer sent orders (actual - scheduled), p99: pacing quality. */
  send_lag_p99_ns: number;
  /** p50 and p99 of every round, in run order. */
  rounds_p50_ns: number[];
  rounds_p99_ns: number[];
  /** The session transport the figure was measured over. */
  transport?: RttTransport;
  /** venue-sim only: its transport stats at stop (loop turns, sleeps, wakeups). */
  venue_stats?: unknown;
  /** The sender's idle policy and what it did (SessionWaiter: spin turns, sleeps, wakeups). */
  sender_idle?: unknown;
  /** --split: where the round trip's time went (see splitRtt). */
  split?: RttSplit;
  /** What the scheduler did to the sender and the venue during the kept round. */
  sched?: RttSched;
  /** --slow-us: the kept round's slow round trips. */
  slow?: RttSlow;
}

export interface RttSkipped { skipped: string }

/** Starts a child and waits for `ready` to match its output; returns the child and the match. */
async function startChild(cmd: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; m: RegExpExecArray; output: () => string }> {
  // --child-cpu-prof DIR: every node child (venue-sim, echo server) writes a V8 CPU profile there at exit.
  const profDir = arg('child-cpu-prof', '');
  if (profDir && cmd === process.execPath) args = ['--cpu-prof', '--cpu-prof-dir', profDir, ...args];
  // --venue-cpu: every venue (ours, QuickFIX, the echo servers) on the same CPU, so the baseline
  // shares the placement.
  const child = gVenueCpu >= 0 ? spawn('taskset', ['-c', String(gVenueCpu), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const t0 = Date.now();
  for (;;) {
    const m = ready.exec(out);
    if (m) return { child, m, output: () => out };
    if (Date.now() - t0 > 10000 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`${path.basename(cmd)} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = require('net').createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

/** Paced load through one connected connector. Single writer: this thread. */
async function drive(c: VenueConnector, rate: number, seconds: number, warmupSeconds: number): Promise<Omit<RttResult, 'venue' | 'rounds_p50_ns' | 'rounds_p99_ns'>> {
  if (c.transport === 'native') return driveSpinning(c, rate, seconds, warmupSeconds);
  const warmup = Math.round(rate * warmupSeconds);
  const total = warmup + Math.round(rate * seconds);
  const intervalNs = 1e9 / rate;
  // Send times by order number, preallocated: the ack's token carries the number in base 36.
  const sentAt = new Float64Array(total);
  const rtt = new LatencyRecorder({ name: 'rtt', highestTrackableNs: 60_000_000_000 });
  const lag = new LatencyRecorder({ name: 'send-lag', highestTrackableNs: 60_000_000_000 });
  let acked = 0;
  let rejected = 0;
  const listener: VenueListener = {
    onAck(clOrdId) {
      const now = Number(process.hrtime.bigint());
      const i = parseInt(clOrdId.slice(1), 36);
      acked++;
      if (i >= warmup) rtt.recordWithExpectedInterval(now - sentAt[i], intervalNs);
    },
    onReject() { rejected++; },
    onFill() {},
    onCancelled() {},
    onReplaced() {},
    onSessionState() {},
  };
  c.setListener(listener);
  const order: VenueOrder = { clOrdId: '', symbol: 'RTT', side: 'B', qty: 100, price: 100_000, ordType: 'LIMIT', tif: 'DAY' };
  let next = 0;
  const t0 = Number(process.hrtime.bigint()) + 1e6;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = Number(process.hrtime.bigint());
      while (next < total && t0 + next * intervalNs <= now) {
        order.clOrdId = `R${next.toString(36)}`;
        order.side = (next & 1) === 0 ? 'B' : 'S';
        const at = Number(process.hrtime.bigint());
        sentAt[next] = at;
        if (next >= warmup) lag.record(at - (t0 + next * intervalNs));
        if (!c.sendNew(order)) throw new Error(`${c.name}: session refused order ${next}`);
        next++;
      }
      if (next >= total) { resolve(); return; }
      const dueMs = (t0 + next * intervalNs - Number(process.hrtime.bigint())) / 1e6;
      setTimeout(tick, dueMs > 1 ? Math.floor(dueMs) : 0);
    };
    tick();
  });
  const deadline = Date.now() + 10000;
  while (acked + rejected < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const s = rtt.summary();
  return {
    orders: total, recorded: total - warmup, acked, rejected,
    rtt_p50_ns: s.p50, rtt_p99_ns: s.p99, rtt_p999_ns: s.p999, rtt_p9999_ns: s.p9999, rtt_max_ns: s.max,
    send_lag_p99_ns: lag.summary().p99,
  };
}

/**
 * The native transport's owner loop: one thread spins, sends each order when due and polls the
 * session every turn (acks are handled inside poll()). The event loop is not entered until the
 * run is over, so nothing but the kernel sits between the venue's ack and the session.
 */
function driveSpinning(c: VenueConnector, rate: number, seconds: number, warmupSeconds: number): Omit<RttResult, 'venue' | 'rounds_p50_ns' | 'rounds_p99_ns'> {
  const warmup = Math.round(rate * warmupSeconds);
  const total = warmup + Math.round(rate * seconds);
  const intervalNs = 1e9 / rate;
  const sentAt = new Float64Array(total);
  const rtt = new LatencyRecorder({ name: 'rtt', highestTrackableNs: 60_000_000_000 });
  const lag = new LatencyRecorder({ name: 'send-lag', highestTrackableNs: 60_000_000_000 });
  let acked = 0;
  let rejected = 0;
  const tr = sessionTrace();
  const slow = gSlowNs > 0 ? new SlowTrips() : null;
  gLastSlow = slow;
  c.setListener({
    onAck(clOrdId) {
      if (tr !== null) tr.mark(kTraceAck);
      const now = performance.now() * 1e6;
      const i = parseInt(clOrdId.slice(1), 36);
      acked++;
      if (i >= warmup) {
        rtt.recordWithExpectedInterval(now - sentAt[i], intervalNs);
        if (slow !== null) slow.record(sentAt[i] + kMonoOffsetNs, now - sentAt[i]);
      }
    },
    onReject() { rejected++; },
    onFill() {}, onCancelled() {}, onReplaced() {}, onSessionState() {},
  });
  const order: VenueOrder = { clOrdId: '', symbol: 'RTT', side: 'B', qty: 100, price: 100_000, ordType: 'LIMIT', tif: 'DAY' };
  let next = 0;
  const t0 = performance.now() * 1e6 + 1e6;
  const deadlineNs = t0 + total * intervalNs + 10e9;
  const idle = createIdleStrategy(gIdle === 'block' ? 'backoff' : gIdle, { maxSpins: 200, maxYields: 50, minParkMicros: 1, maxParkMicros: 50 });
  // block and spin: the session's own policy (what routing_config's venues[].idle / spin_us give the connector).
  const waiter = (gIdle === 'block' || gIdle === 'spin') && c.idle ? new SessionWaiter(gWaitSet, c.idle, gRealtime) : null;
  gLastWaiter = waiter;
  for (;;) {
    // performance.now(): the same monotonic clock as hrtime, without a BigInt per turn.
    const now = performance.now() * 1e6;
    let work = c.poll!(Date.now());
    if (next < total && t0 + next * intervalNs <= now) {
      work++;
      order.clOrdId = `R${next.toString(36)}`;
      order.side = (next & 1) === 0 ? 'B' : 'S';
      const at = performance.now() * 1e6;
      sentAt[next] = at;
      if (next >= warmup) lag.record(at - (t0 + next * intervalNs));
      if (tr !== null) tr.mark(kTraceCall);
      if (!c.sendNew(order)) throw new Error(`${c.name}: session refused order ${next}`);
      next++;
    }
    if ((next >= total && acked + rejected >= total) || now > deadlineNs) break;
    if (!waiter) { idle.idle(work); continue; }
    // Sleep (after the spin) until the ack arrives, or until shortly before the next order is due (at most 1 ms).
    const dueUs = next < total ? (t0 + next * intervalNs - performance.now() * 1e6) / 1000 : 1000;
    waiter.idle(work, dueUs > 5 ? Math.min(1000, Math.floor(dueUs - 3)) : 0);
  }
  const s = rtt.summary();
  return {
    orders: total, recorded: total - warmup, acked, rejected,
    rtt_p50_ns: s.p50, rtt_p99_ns: s.p99, rtt_p999_ns: s.p999, rtt_p9999_ns: s.p9999, rtt_max_ns: s.max,
    send_lag_p99_ns: lag.summary().p99,
  };
}

/**
 * The floor under any Node venue: 48-byte messages (an OUCH Enter Order's size) ping-ponged over the
 * native transport with a Node net echo server in a child process, one in flight at a time.
 */
async function runEcho(server: 'node' | 'native', transport: RttTransport, rate: number, seconds: number, warmupSeconds: number): Promise<RttResult> {
  const src = "const s=require('net').createServer((c)=>{c.setNoDelay(true);c.on('data',(d)=>c.write(d));}).listen(0,'127.0.0.1',()=>console.log('ECHO '+s.address().port));";
  const traceFile = server === 'native' && gSplit ? path.join(kMemoryDir, `tickpath-rtt-echo-${process.pid}.trace`) : '';
  const { child, m } = server === 'node' ? await startChild(process.execPath, ['-e', src], /ECHO (\d+)/)
    : await startChild(process.execPath, [__filename, '--echo-server', ...venueArgs(gVenue).slice(2), ...(traceFile ? ['--trace', traceFile] : [])], /ECHO (\d+)/);
  const tr = server === 'native' ? sessionTrace() : null;
  if (tr) tr.count = 0;
  const ws = transport === 'native' && (gIdle === 'block' || gRealtime) ? new NativeWaitSet() : null;
  if (ws && gEpollBusyPollUs) ws.busyPoll(gEpollBusyPollUs);
  const t: SessionTransport = transport === 'native' ? new NativeTcpTransport({ idlePollMs: 0, waitSet: ws ?? undefined, busyPollUs: gBusyPollUs }) : new LibuvTcpTransport();
  try {
    let got = 0;
    let up = false;
    let closed = '';
    t.connect('127.0.0.1', Number(m[1]), { onConnect() { up = true; }, onData(_b, _o, len) { got += len; }, onClose(r) { closed = r; } });
    while (!up && !closed) { t.poll(); await new Promise((r) => setImmediate(r)); }
    if (!up) throw new Error(`echo: ${closed}`);
    const msg = Buffer.alloc(48, 0x55);
    const warmup = Math.round(rate * warmupSeconds);
    const total = warmup + Math.round(rate * seconds);
    const intervalNs = 1e9 / rate;
    const rtt = new LatencyRecorder({ name: 'rtt', highestTrackableNs: 60_000_000_000 });
    let next = 0;
    const echoIdle = createIdleStrategy(gIdle === 'block' ? 'backoff' : gIdle, { maxSpins: 200, maxYields: 50, minParkMicros: 1, maxParkMicros: 50 });
    const waiter = gIdle === 'spin' ? new SessionWaiter(ws, { idle: 'spin', spinUs: 0 }, gRealtime) : ws ? new SessionWaiter(ws, { idle: 'block', spinUs: gSpinUs }, gRealtime) : null;
    const slow = gSlowNs > 0 && transport === 'native' ? new SlowTrips() : null;
    gLastSlow = slow;
    const before = schedSnapshot([child.pid!]);
    const idleTurn = (w: number): void => {
      if (!waiter) { echoIdle.idle(w); return; }
      waiter.idle(w, 200);
    };
    const t0 = Number(process.hrtime.bigint());
    while (next < total) {
      const due = t0 + next * intervalNs;
      if (transport === 'native') { while (Number(process.hrtime.bigint()) < due) idleTurn(t.poll()); }
      else { const ms = (due - Number(process.hrtime.bigint())) / 1e6; await new Promise((r) => (ms > 1 ? setTimeout(r, Math.floor(ms)) : setImmediate(r))); }
      const want = got + msg.length;
      const at = Number(process.hrtime.bigint());
      if (tr !== null) tr.mark(kTraceCall);
      t.send(msg, 0, msg.length);
      if (transport === 'native') { while (got < want) idleTurn(t.poll()); }
      else { while (got < want) await new Promise((r) => setImmediate(r)); }
      if (tr !== null) tr.mark(kTraceAck);
      if (next >= warmup) {
        const rttNs = Number(process.hrtime.bigint()) - at;
        rtt.recordWithExpectedInterval(rttNs, intervalNs);
        if (slow !== null) slow.record(at, rttNs);
      }
      next++;
    }
    gLastSched = schedAround(before, child.pid!);
    const s = rtt.summary();
    return {
      venue: server === 'node' ? 'Node net echo server (child process): the floor of a Node venue'
        : `native echo server (child process: the addon's TCP channel on both ends, no codec, ${venueLabel(gVenue)}): the floor of our transport`, orders: total, recorded: total - warmup, acked: total, rejected: 0,
      rtt_p50_ns: s.p50, rtt_p99_ns: s.p99, rtt_p999_ns: s.p999, rtt_p9999_ns: s.p9999, rtt_max_ns: s.max, send_lag_p99_ns: 0,
      rounds_p50_ns: [], rounds_p99_ns: [],
    };
  } finally {
    t.close();
    ws?.close();
    await stopChild(child);
    if (traceFile) gLastVenueTrace = readTrace(traceFile);
  }
}

/** --split: the venue's (or native echo server's) timeline of the last run, read from its --trace file. */
let gLastVenueTrace: Float64Array | null = null;
let gSplit = false;

function readTrace(file: string): Float64Array | null {
  try { return SessionTrace.readFile(file); } catch { return null; } finally { fs.rmSync(file, { force: true }); }
}

/**
 * Where a round trip's time goes, from the two timelines (client: this process; venue: its --trace
 * file; both CLOCK_MONOTONIC, shared by every process on the host). Per recorded order, from the
 * call that sends it (kTraceCall) to the ack handed to the listener (kTraceAck):
 *   client_out     call -> the client's send(2) begins (risk-free perf path: the codec, the session)
 *   to_venue       the client's send begins -> the venue's epoll wait returns (or, when the venue
 *                  did not sleep, its recv returns the bytes): loopback TCP and the venue's wakeup
 *   venue_wake     epoll returned -> the venue's recv returned the order (0 when it did not sleep)
 *   venue_work     recv returned -> the venue's first send begins (decode, match, encode)
 *   to_client      the venue's send begins -> the client's epoll wait returns (or its recv returns)
 *   client_wake    epoll returned -> the client's recv returned the ack (0 when it did not sleep)
 *   client_in      recv returned -> the ack reached the listener (decode, session, connector)
 * The parts add up to each order's round trip; p50 of each part is reported (so the p50s add up to
 * about, not exactly, the round trip's p50). send_syscall: the client's send(2), inside to_venue
 * (on loopback the kernel delivers the segment to the peer's socket inside the sender's syscall).
 */
export interface RttSplit {
  /** Orders split (alone on the wire); overlapped: orders left out because another was in flight. */
  orders: number;
  overlapped: number;
  venue_slept: number;
  client_slept: number;
  p50_ns: Record<string, number>;
}
const kSplitParts = ['client_out', 'to_venue', 'venue_wake', 'venue_work', 'to_client', 'client_wake', 'client_in', 'send_syscall', 'total'] as const;

export function splitRtt(client: Float64Array, clientCount: number, venue: Float64Array, skip: number): RttSplit | null {
  // Indices of the client's points by kind, in time order (one thread records them in order).
  const vn = venue.length / 2;
  const parts: Record<string, number[]> = {};
  for (const k of kSplitParts) parts[k] = [];
  let vi = 0;
  let overlapped = 0;
  let venueSlept = 0;
  let clientSlept = 0;
  const firstAfter = (arr: Float64Array, n: number, from: number, kind: number, t: number, until: number): number => {
    for (let i = from; i < n; i++) {
      const ti = arr[i * 2 + 1];
      if (ti > until) return -1;
      if (arr[i * 2] === kind && ti >= t) return i;
    }
    return -1;
  };
  // Acks come back in order: the k-th ack answers the k-th call. An order is split only when it
  // was alone on the wire (the previous ack came before its call, its ack before the next call):
  // a late sender catching up puts several in flight, and their points cannot be told apart.
  const callAt: number[] = [];
  const ackAt: number[] = [];
  for (let i = 0; i < clientCount; i++) {
    const k = client[i * 2];
    if (k === kTraceCall) callAt.push(i); else if (k === kTraceAck) ackAt.push(i);
  }
  for (let k = skip; k < callAt.length && k < ackAt.length; k++) {
    const i = callAt[k];
    const iAck = ackAt[k];
    if ((k > 0 && ackAt[k - 1] > i) || (k + 1 < callAt.length && callAt[k + 1] < iAck)) { overlapped++; continue; }
    const tCall = client[i * 2 + 1];
    const tAck = client[iAck * 2 + 1];
    const iTxB = firstAfter(client, iAck, i + 1, kTraceTxBegin, tCall, tAck);
    const iTxE = iTxB < 0 ? -1 : firstAfter(client, iAck, iTxB + 1, kTraceTxEnd, tCall, tAck);
    // The client's recv that delivered the ack: the last Rx before the ack.
    let iRx = -1;
    for (let j = iAck - 1; j > i; j--) if (client[j * 2] === kTraceRx) { iRx = j; break; }
    if (iTxB < 0 || iTxE < 0 || iRx < 0) continue;
    const tTxB = client[iTxB * 2 + 1];
    const tRx = client[iRx * 2 + 1];
    // The venue: its first recv of bytes after the client's send began, and its first send after that.
    while (vi < vn && venue[vi * 2 + 1] < tTxB) vi++;
    const vRx = firstAfter(venue, vn, vi, kTraceRx, tTxB, tRx);
    if (vRx < 0) continue;
    const vTx = firstAfter(venue, vn, vRx + 1, kTraceTxBegin, tTxB, tRx);
    if (vTx < 0) continue;
    const tvRx = venue[vRx * 2 + 1];
    const tvTx = venue[vTx * 2 + 1];
    // A wake between the client's send and the venue's recv: the venue slept.
    let tvWake = tvRx;
    for (let j = vRx - 1; j >= vi; j--) if (venue[j * 2] === kTraceWake) { tvWake = venue[j * 2 + 1]; venueSlept++; break; }
    // A client wake between the venue's send and the client's recv.
    let tcWake = tRx;
    for (let j = iRx - 1; j > iTxE; j--) {
      if (client[j * 2] === kTraceWake) { if (client[j * 2 + 1] >= tvTx) { tcWake = client[j * 2 + 1]; clientSlept++; } break; }
    }
    parts.client_out.push(tTxB - tCall);
    parts.to_venue.push(tvWake - tTxB);
    parts.venue_wake.push(tvRx - tvWake);
    parts.venue_work.push(tvTx - tvRx);
    parts.to_client.push(tcWake - tvTx);
    parts.client_wake.push(tRx - tcWake);
    parts.client_in.push(tAck - tRx);
    parts.send_syscall.push(client[iTxE * 2 + 1] - tTxB);
    parts.total.push(tAck - tCall);
    vi = vRx;
  }
  const n = parts.total.length;
  if (n === 0) return null;
  const p50_ns: Record<string, number> = {};
  for (const k of kSplitParts) {
    const a = Float64Array.from(parts[k]).sort();
    p50_ns[k] = Math.round(a[a.length >> 1]);
  }
  return { orders: n, overlapped, venue_slept: venueSlept, client_slept: clientSlept, p50_ns };
}

/**
 * `--echo-server`: the native echo floor's server (a child process of this script): the addon's
 * TCP listener and channels, polled by the simulator's own VenueLoop with the venue side's idle
 * settings, every byte received sent straight back. No codec, no matching: what is left is the
 * transport, the two kernels' loopback paths and the two wakeups.
 */
async function echoServerMain(): Promise<void> {
  const idle = arg('idle', 'block') as 'block' | 'spin' | 'backoff';
  const busyPollUs = Number(arg('busy-poll', '0'));
  const spinTurns = Number(arg('spin-turns', '0'));
  const spinUs = Number(arg('spin-us', '0'));
  const traceFile = arg('trace', '');
  const trace = traceFile ? new SessionTrace(1 << 20) : null;
  setSessionTrace(trace);
  const rtPrio = Number(arg('realtime', '0'));
  const realtime = rtPrio ? { priority: rtPrio, sleepUs: Number(arg('realtime-sleep-us', '50')) } : null;
  const ws = idle === 'block' || realtime ? new NativeWaitSet() : null;
  const epollBp = Number(arg('epoll-busy-poll', '0'));
  if (ws && epollBp) ws.busyPoll(epollBp);
  const server = new NativeTcpServer({ busyPollUs, waitSet: ws ?? undefined });
  const port = await server.listen('127.0.0.1', 0, (t) => ({
    onConnect() {},
    onData(buf, off, len) { t.send(buf, off, len); },
    onClose() {},
  }));
  const loop = new VenueLoop(() => server.poll(), ws, { idle, spinTurns, spinUs, realtime });
  loop.start();
  // A spinning (or real-time) echo server must not outlive a killed run: reparented = parent gone.
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 200).unref();
  console.log(`ECHO ${port}`);
  process.once('SIGTERM', () => {
    loop.stop();
    if (trace) trace.writeFile(traceFile);
    void server.close().then(() => process.exit(0));
  });
}

/** The sender's session idle policy, as routing_config's venues[].idle / spin_us would give it. */
function senderIdle(): SessionIdlePolicy { return gIdle === 'spin' ? { idle: 'spin', spinUs: 0 } : { idle: 'block', spinUs: gSpinUs }; }
/** The last run's sender waiter (its stats go into the result). */
let gLastWaiter: SessionWaiter | null = null;

/** A fresh wait set for this run's sender (block idle over native), or none. */
function clientWaitSet(transport: RttTransport): NativeWaitSet | undefined {
  gWaitSet?.close();
  gWaitSet = transport === 'native' && (gIdle === 'block' || gRealtime) ? new NativeWaitSet() : null;
  if (gWaitSet && gEpollBusyPollUs) gWaitSet.busyPoll(gEpollBusyPollUs);
  return gWaitSet ?? undefined;
}

/** `tickpath venue-sim`'s arguments for a venue-side setup (--venue). */
function venueArgs(v: RttVenueSide): string[] {
  if (v.transport === 'libuv') return ['--transport', 'libuv'];
  return ['--transport', 'native', '--idle', v.idle, ...(v.busyPollUs ? ['--busy-poll', String(v.busyPollUs)] : []),
    ...(v.spinTurns !== undefined && v.idle === 'block' ? ['--spin-turns', String(v.spinTurns)] : []),
    ...(v.spinUs && v.idle === 'block' ? ['--spin-us', String(v.spinUs)] : []),
    ...(v.realtime ? ['--realtime', String(v.realtime), ...(v.realtimeSleepUs ? ['--realtime-sleep-us', String(v.realtimeSleepUs)] : [])] : []),
    ...(v.epollBusyPollUs ? ['--epoll-busy-poll', String(v.epollBusyPollUs)] : [])];
}

async function runSimulator(protocol: 'ouch' | 'fix', transport: RttTransport, rate: number, seconds: number, warmupSeconds: number, dir: string,
  venue: RttVenueSide = gVenue, fixStore: 'mapped' | 'files' = 'mapped'): Promise<RttResult> {
  const traceFile = gSplit && venue.transport === 'native' ? path.join(dir, 'venue.trace') : '';
  const tr = sessionTrace();
  if (tr) tr.count = 0;
  // The venue's FIX store on tmpfs as well (the default is a directory under os.tmpdir(), a disk
  // here: one write(2) per message to ext4 was most of the FIX venue's share of the round trip).
  const venueStore = path.join(dir, 'venue-store');
  // --stop-with-parent: a spinning (or real-time) simulator must not outlive a killed run.
  const { child, m, output } = await startChild(process.execPath, [kVenueSim, '--ouch-port', '0', '--fix-port', '0', '--store-dir', venueStore, '--fix-store', fixStore, '--stop-with-parent', ...venueArgs(venue),
    ...(traceFile ? ['--trace', traceFile] : [])],
    /SoupBinTCP listening on 127\.0\.0\.1:(\d+)[\s\S]*FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)[\s\S]*venue-sim: transport (\w+)/);
  if (m[3] !== venue.transport) throw new Error(`venue-sim runs transport ${m[3]}, asked for ${venue.transport}`);
  // The production factory, as the router stage and `tickpath order` build their sessions.
  const c = protocol === 'ouch'
    ? createVenueConnector({ name: 'SIM', protocol: 'ouch', host: '127.0.0.1', port: Number(m[1]), senderId: 'RTT', targetId: '', heartbeatIntervalS: 1 },
      { reconnectAttempts: 0, transport, waitSet: clientWaitSet(transport), idle: senderIdle(), busyPollUs: gBusyPollUs })
    : createVenueConnector({ name: 'SIM', protocol: 'fix44', host: '127.0.0.1', port: Number(m[2]), senderId: 'RTT', targetId: 'VENUE', heartbeatIntervalS: 30 },
      { fixStoreDir: path.join(dir, 'fix44'), fixStoreKind: fixStore, resetOnLogon: true, reconnectAttempts: 0, transport, waitSet: clientWaitSet(transport), idle: senderIdle(), busyPollUs: gBusyPollUs });
  try {
    await c.connect();
    const before = schedSnapshot([child.pid!]);
    const r = await drive(c, rate, seconds, warmupSeconds);
    gLastSched = schedAround(before, child.pid!);
    await c.close();
    const result: RttResult = { venue: `tickpath venue-sim (${protocol === 'ouch' ? 'OUCH 4.2' : 'FIX 4.4'}, node child process, ${venueLabel(venue)}${protocol === 'fix' ? `, FIX stores ${fixStore}` : ''})`, ...r, rounds_p50_ns: [], rounds_p99_ns: [] };
    return result;
  } finally {
    await stopChild(child);
    // The simulator's own account of its loop (native: turns, sleeps, wakeups), for the JSON.
    const stop = /venue-sim: SIGTERM, stopping; (.*)/.exec(output());
    if (stop) gLastVenueStats = JSON.parse(stop[1]).transport;
    if (traceFile) gLastVenueTrace = readTrace(traceFile);
  }
}

/** The QuickFIX acceptor, or why it is not available. */
function buildQuickfix(): string | null {
  const build = spawnSync('bash', [kQuickfixScript], { encoding: 'utf8', timeout: 120000 });
  if (build.status !== 0 || !fs.existsSync(kQuickfixBinary)) {
    return `quickfix-acceptor could not be built: ${(build.stderr || build.stdout || String(build.error)).trim()}`;
  }
  return null;
}

async function runQuickfix(transport: RttTransport, rate: number, seconds: number, warmupSeconds: number, dir: string): Promise<RttResult | RttSkipped> {
  const why = buildQuickfix();
  if (why !== null) return { skipped: why };
  const port = await freePort();
  const { child } = await startChild(kQuickfixBinary, [String(port), path.join(dir, 'qf-venue'), 'QFVENUE', 'RTT'], new RegExp(`READY ${port}`));
  const c = createVenueConnector({ name: 'QF', protocol: 'fix42', host: '127.0.0.1', port, senderId: 'RTT', targetId: 'QFVENUE', heartbeatIntervalS: 30 },
    { fixStoreDir: path.join(dir, 'fix42'), resetOnLogon: true, reconnectAttempts: 0, transport, waitSet: clientWaitSet(transport), idle: senderIdle(), busyPollUs: gBusyPollUs });
  try {
    await c.connect();
    const before = schedSnapshot([child.pid!]);
    const r = await drive(c, rate, seconds, warmupSeconds);
    gLastSched = schedAround(before, child.pid!);
    await c.close();
    return { venue: 'test/interop/quickfix-acceptor (QuickFIX C++ acceptor, FIX 4.2, ack + fill per order)', ...r, rounds_p50_ns: [], rounds_p99_ns: [] };
  } finally {
    await stopChild(child);
  }
}

/**
 * Runs `rounds` rounds, protocols interleaved within each round so a noisy neighbour hits them
 * alike; per protocol the round with the lowest p50 is kept (every round's p50/p99 is listed).
 */
export async function measureRtt(protocols: readonly RttProtocol[], rate: number, seconds: number, warmupSeconds: number, rounds = 1,
  transport: RttTransport = 'native', venue?: RttVenueSide): Promise<Partial<Record<RttProtocol, RttResult | RttSkipped>>> {
  if (venue) gVenue = venue;
  // FIX message stores (ours and QuickFIX's) on tmpfs: the figure is protocol, engine and event
  // loop, not this machine's disk (perf/router.ts measures the journal on disk separately).
  const dir = fs.mkdtempSync(path.join(kMemoryDir, 'tickpath-perf-rtt-'));
  const out: Partial<Record<RttProtocol, RttResult | RttSkipped>> = {};
  try {
    for (let round = 0; round < rounds; round++) {
      for (const p of protocols) {
        const prev = out[p];
        if (prev && 'skipped' in prev) continue;
        const sub = path.join(dir, `${p}-${round}`);
        fs.mkdirSync(sub);
        gLastVenueTrace = null;
        gLastSched = null;
        gLastSlow = null;
        const r = p === 'fix_quickfix' ? await runQuickfix(transport, rate, seconds, warmupSeconds, sub)
          : p === 'echo_node' || p === 'echo_native' ? await runEcho(p === 'echo_node' ? 'node' : 'native', transport, rate, seconds, warmupSeconds)
            : p === 'ouch_venue_libuv' || p === 'fix_venue_libuv'
              ? await runSimulator(p === 'ouch_venue_libuv' ? 'ouch' : 'fix', transport, rate, seconds, warmupSeconds, sub, { transport: 'libuv', idle: 'block', busyPollUs: 0 })
              : p === 'fix_store_files' ? await runSimulator('fix', transport, rate, seconds, warmupSeconds, sub, gVenue, 'files')
                : await runSimulator(p, transport, rate, seconds, warmupSeconds, sub);
        if ('skipped' in r) { out[p] = r; continue; }
        const p50s = prev ? [...prev.rounds_p50_ns, r.rtt_p50_ns] : [r.rtt_p50_ns];
        const p99s = prev ? [...prev.rounds_p99_ns, r.rtt_p99_ns] : [r.rtt_p99_ns];
        if (p !== 'fix_quickfix' && p !== 'echo_node' && p !== 'echo_native') r.venue_stats = gLastVenueStats;
        if (gLastWaiter) r.sender_idle = gLastWaiter.stats();
        const sched = gLastSched as RttSched | null;
        const slowTrips = gLastSlow as SlowTrips | null;
        if (sched) r.sched = sched;
        if (slowTrips) r.slow = slowTrips.toJSON();
        gLastWaiter = null;
        const ct = sessionTrace();
        if (ct && gLastVenueTrace) r.split = splitRtt(ct.points, ct.count, gLastVenueTrace, Math.round(rate * warmupSeconds)) ?? undefined;
        out[p] = { ...(prev && prev.rtt_p50_ns <= r.rtt_p50_ns ? prev : r), rounds_p50_ns: p50s, rounds_p99_ns: p99s, transport };
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const us = (ns: number): string => `${(ns / 1000).toFixed(1)} µs`;

/** Table rows for RTT results; shared with perf/router.ts. */
export function rttRows(rtt: Partial<Record<RttProtocol, RttResult | RttSkipped>>, rate: number): Row[] {
  const rows: Row[] = [];
  const qf = rtt.fix_quickfix && !('skipped' in rtt.fix_quickfix) ? rtt.fix_quickfix : null;
  for (const p of kProtocols) {
    const r = rtt[p];
    if (!r) continue;
    if ('skipped' in r) { rows.push({ label: `rtt ${p}`, ours: 'skipped', baseline: '', note: r.skipped }); continue; }
    const base = p === 'fix_quickfix' || p === 'echo_node' ? null : qf;
    const over = r.transport ? ` (${r.transport})` : '';
    rows.push({
      label: `rtt ${p}${over} p50 @ ${rate}/s`, ours: us(r.rtt_p50_ns), baseline: base ? `${us(base.rtt_p50_ns)} (fix_quickfix)` : 'Philadelphia 7.7 µs, QuickFIX/J ~200 µs',
      ratio: base ? r.rtt_p50_ns / base.rtt_p50_ns : undefined, note: r.venue,
    });
    rows.push({ label: `rtt ${p} p99`, ours: us(r.rtt_p99_ns), baseline: base ? us(base.rtt_p99_ns) : '', ratio: base ? r.rtt_p99_ns / base.rtt_p99_ns : undefined });
    rows.push({ label: `rtt ${p} p99.9`, ours: us(r.rtt_p999_ns), baseline: base ? us(base.rtt_p999_ns) : '', ratio: base ? r.rtt_p999_ns / base.rtt_p999_ns : undefined });
    rows.push({ label: `rtt ${p} p99.99 / max`, ours: `${us(r.rtt_p9999_ns)} / ${us(r.rtt_max_ns)}`, baseline: base ? `${us(base.rtt_p9999_ns)} / ${us(base.rtt_max_ns)}` : 'Philadelphia p99.99 43.8 µs',
      note: `${r.recorded} recorded of ${r.orders} sent, ${r.acked} acked, send lag p99 ${us(r.send_lag_p99_ns)}; p50/p99 per round: ${r.rounds_p50_ns.map((v, i) => `${us(v)}/${us(r.rounds_p99_ns[i])}`).join(', ')}` });
    if (r.sched) {
      const t = (x?: ThreadSchedDelta) => (x ? `${x.involuntary_switches} involuntary switches, ${x.run_delay_ms.toFixed(1)} ms waiting for a CPU (ran ${x.run_ms.toFixed(1)} ms)` : 'n/a');
      rows.push({ label: `rtt ${p} stolen`, ours: `${r.sched.sender?.involuntary_switches ?? 'n/a'} + ${r.sched.venue?.involuntary_switches ?? 'n/a'} preemptions`, baseline: '',
        note: `sender ${t(r.sched.sender)}; venue ${t(r.sched.venue)}; ${r.sched.seconds.toFixed(1)} s at load ${r.sched.loadavg[0]}` });
    }
    if (r.split) {
      const sp = r.split.p50_ns;
      rows.push({ label: `rtt ${p} split p50`, ours: us(sp.total), baseline: '',
        note: `client_out ${us(sp.client_out)} | to_venue ${us(sp.to_venue)} (send(2) ${us(sp.send_syscall)}) | venue_wake ${us(sp.venue_wake)} | venue_work ${us(sp.venue_work)} | to_client ${us(sp.to_client)} | client_wake ${us(sp.client_wake)} | client_in ${us(sp.client_in)}; venue slept ${r.split.venue_slept}/${r.split.orders}, client ${r.split.client_slept}/${r.split.orders}; ${r.split.overlapped} overlapping orders left out` });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const rate = Number(arg('rate', '2000'));
  const seconds = Number(arg('seconds', '3'));
  const warmupSeconds = Number(arg('warmup-seconds', '1'));
  const rounds = Number(arg('rounds', '3'));
  const protocols = arg('protocols', 'ouch,fix,fix_quickfix,echo_native,echo_node').split(',') as RttProtocol[];
  for (const p of protocols) {
    if (!kProtocols.includes(p)) { console.error(`option --protocols: unknown protocol '${p}', expected one of ${kProtocols.join(', ')}`); process.exit(2); }
  }
  gCpu = Number(arg('cpu', '-1'));
  gVenueCpu = Number(arg('venue-cpu', '-1'));
  const ncpu = os.cpus().length;
  for (const [name, v] of [['cpu', gCpu], ['venue-cpu', gVenueCpu]] as const) {
    if (!Number.isInteger(v) || v < -1 || v >= ncpu) { console.error(`option --${name}: '${arg(name, '')}', expected a CPU from 0 to ${ncpu - 1}`); process.exit(2); }
  }
  if (gCpu >= 0) {
    try { pinCurrentThread(gCpu); } catch (e) { console.error(`option --cpu ${gCpu}: could not pin the sender: ${(e as Error).message}`); process.exit(2); }
  }
  gSplit = process.argv.includes('--split');
  if (gSplit) setSessionTrace(new SessionTrace(1 << 20));
  gIdle = arg('idle', 'block') as IdleStrategyName | 'block';
  if (gIdle !== 'block' && gIdle !== 'spin' && gIdle !== 'yield' && gIdle !== 'backoff') { console.error(`option --idle: '${gIdle}', expected block, spin, yield or backoff`); process.exit(2); }
  gSpinUs = Number(arg('spin-us', '0'));
  if (!Number.isInteger(gSpinUs) || gSpinUs < 0 || gSpinUs > 1_000_000) { console.error(`option --spin-us: '${arg('spin-us', '')}', expected microseconds from 0 to 1000000`); process.exit(2); }
  // A park or a wait asked for in microseconds should not sleep the default 50 µs timer slack longer.
  if (gIdle !== 'spin') nativeTcpBinding()?.threadTimerSlackNs(1000);
  const venueTransport = arg('venue-transport', 'native');
  const venueIdle = arg('venue-idle', 'block');
  const venueBusyPoll = Number(arg('venue-busy-poll', '0'));
  if (venueTransport !== 'native' && venueTransport !== 'libuv') { console.error(`option --venue-transport: '${venueTransport}', expected native or libuv`); process.exit(2); }
  if (venueIdle !== 'block' && venueIdle !== 'spin' && venueIdle !== 'backoff') { console.error(`option --venue-idle: '${venueIdle}', expected block, spin or backoff`); process.exit(2); }
  if (!Number.isInteger(venueBusyPoll) || venueBusyPoll < 0) { console.error(`option --venue-busy-poll: '${arg('venue-busy-poll', '')}', expected microseconds >= 0`); process.exit(2); }
  const spinArg = arg('venue-spin-turns', '');
  const venueSpinUs = Number(arg('venue-spin-us', '0'));
  if (!Number.isInteger(venueSpinUs) || venueSpinUs < 0 || venueSpinUs > 1_000_000) { console.error(`option --venue-spin-us: '${arg('venue-spin-us', '')}', expected microseconds from 0 to 1000000`); process.exit(2); }
  gVenue = { transport: venueTransport, idle: venueIdle, busyPollUs: venueBusyPoll, ...(spinArg !== '' ? { spinTurns: Number(spinArg) } : {}), ...(venueSpinUs ? { spinUs: venueSpinUs } : {}) };
  // Real-time and busy-poll variants (perf/router-rtt-sched runs them side by side).
  const intArg = (name: string, min: number, max: number): number => {
    const v = Number(arg(name, '0'));
    if (!Number.isInteger(v) || (v !== 0 && (v < min || v > max))) { console.error(`option --${name}: '${arg(name, '')}', expected 0 (off) or an integer from ${min} to ${max}`); process.exit(2); }
    return v;
  };
  const venueRt = intArg('venue-realtime', 1, 49);
  if (venueRt) gVenue = { ...gVenue, realtime: venueRt, realtimeSleepUs: intArg('venue-realtime-sleep-us', 1, 500) || undefined };
  const venueEpollBp = intArg('venue-epoll-busy-poll', 1, 1_000_000);
  if (venueEpollBp) gVenue = { ...gVenue, epollBusyPollUs: venueEpollBp };
  gEpollBusyPollUs = intArg('epoll-busy-poll', 1, 1_000_000);
  gBusyPollUs = intArg('busy-poll', 1, 1_000_000);
  gSlowNs = intArg('slow-us', 1, 1_000_000) * 1000;
  const rt = intArg('realtime', 1, 49);
  if (rt) {
    try {
      gRealtime = realtimePolicy('perf/router-rtt', rt, intArg('realtime-sleep-us', 1, 500) || undefined, { idle: gIdle, spinUs: gSpinUs });
      gSenderSched = applyRealtime('perf/router-rtt sender', gRealtime!);
    } catch (e) { console.error(`option --realtime ${rt}: ${(e as Error).message}`); process.exit(2); }
  }
  const transports = arg('transports', 'native,libuv').split(',') as RttTransport[];
  for (const t of transports) {
    if (t !== 'native' && t !== 'libuv') { console.error(`option --transports: unknown transport '${t}', expected native or libuv`); process.exit(2); }
  }
  // `rtt` is the production default (native when listed first), `rtt_<transport>` every one measured.
  const byTransport: Partial<Record<RttTransport, Partial<Record<RttProtocol, RttResult | RttSkipped>>>> = {};
  for (const t of transports) byTransport[t] = await measureRtt(protocols, rate, seconds, warmupSeconds, rounds, t);
  const rtt = byTransport[transports[0]]!;
  console.log(`order round trip (sent -> ack) over loopback TCP, ${rate} orders/s for ${seconds} s after ${warmupSeconds} s warm-up, coordinated-omission corrected, best p50 of ${rounds} round(s); transports: ${transports.join(', ')}`);
  const rows = transports.flatMap((t) => rttRows(byTransport[t]!, rate));
  const extra: Record<string, unknown> = {};
  for (const t of transports) extra[`rtt_${t}`] = byTransport[t];
  report('router-rtt', rows, { rate, seconds, warmup_seconds: warmupSeconds, rounds, transports, idle: gIdle, spin_us: gSpinUs, venue: gVenue, cpu: gCpu, venue_cpu: gVenueCpu,
    realtime: gRealtime, sender_sched: gSenderSched, epoll_busy_poll_us: gEpollBusyPollUs, rtt, ...extra });
  for (const t of transports) {
    for (const r of Object.values(byTransport[t]!)) {
      if (r && !('skipped' in r) && r.acked + r.rejected < r.orders) { console.error(`${r.venue} (${t}): ${r.orders - r.acked - r.rejected} orders unanswered`); process.exitCode = 1; }
    }
  }
}

if (require.main === module) {
  (process.argv.includes('--echo-server') ? echoServerMain() : main()).catch((e) => { console.error(e); process.exit(1); });
}
