/**
 * The OUCH order round trip's tail and what steals it: placements and scheduling variants of
 * perf/router-rtt run side by side in one run (rounds interleaved, so a noisy neighbour hits them
 * alike), each with the scheduler's account of the two threads of the round trip (the sender and
 * the venue-sim loop): schedstat run delay (time runnable but waiting for a CPU) and involuntary
 * context switches, read before and after, and with --perf-sched the kernel's scheduler trace
 * (perf record -e sched:sched_switch,sched:sched_waking -k CLOCK_MONOTONIC -a: what `perf sched
 * record` takes) lined up with every round trip slower than --slow-us: how many overlapped a wait
 * for a CPU of the sender, the venue or a ksoftirqd thread (loopback delivery deferred to it waits
 * like any ordinary thread), how much of the slow time those waits cover, and who held the CPU.
 *
 * Variants (--variants, default all):
 *   block                  both ends sleep in epoll (the defaults), unpinned
 *   block_spin_us          both block after 100 us of spin since the last message (--spin-us,
 *                          --venue-spin-us): the client reads its ack spinning, the venue still
 *                          sleeps between orders
 *   block_rt               block, both threads SCHED_FIFO 5 (--realtime, --venue-realtime): a wakeup
 *                          preempts whatever ordinary thread holds the CPU
 *   block_rt_spin_us       block_rt, spinning 50 us after each message first: the client reads its ack
 *                          without a wakeup, the CPU is given back between orders
 *   block_epoll_busy_poll  block with EPIOCSPARAMS 50 us on both wait sets
 *   spin                   both spin, sender pinned to CPU 0, venue to CPU 1 (the isolated-core
 *                          placement; perf:router's "spinning, pinned" rows)
 *   spin_rt                spin, pinned, both SCHED_FIFO 5 with the sleep budget (50 us per ms)
 *   spin_rt_sleep200       spin_rt with a 200 us sleep per ms (more room for ksoftirqd and the kernel)
 *   spin_busy_poll         spin, pinned, SO_BUSY_POLL 50 us on both ends' sockets
 *   spin_swapped           spin with the CPUs swapped (sender on 1, venue on 0): this VM's disk
 *                          interrupts all land on CPU 1 (tickpath doctor), so which end shares a CPU
 *                          with them shows
 *
 * Each variant is a perf/router-rtt child (--protocols ouch --transports native --no-results), so
 * a thread's scheduling policy never leaks from one variant into the next. Never asserts timings.
 *
 *   node dist/perf/router-rtt-sched.js [--variants spin,spin_rt] [--rounds 2] [--seconds 2]
 *        [--warmup-seconds 0.5] [--rate 2000] [--slow-us 50] [--perf-sched] [--json]
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { report, type Row } from './report';
import { cpuWaits, explainSlowTrips, type SlowTripsExplained } from './lib/sched-trace';
import type { RttResult } from './router-rtt';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const kSpin = ['--idle', 'spin', '--venue-idle', 'spin', '--cpu', '0', '--venue-cpu', '1'];
export const kVariants: Record<string, { args: string[]; baseline: string; what: string }> = {
  block: { args: [], baseline: '', what: 'both ends block in epoll (default), unpinned' },
  block_spin_us: { args: ['--spin-us', '100', '--venue-spin-us', '100'], baseline: 'block', what: 'block after 100 us of spin since the last message, both ends' },
  block_rt: { args: ['--realtime', '5', '--venue-realtime', '5'], baseline: 'block', what: 'block, both ends SCHED_FIFO 5' },
  block_rt_spin_us: { args: ['--realtime', '5', '--venue-realtime', '5', '--spin-us', '50', '--venue-spin-us', '50'], baseline: 'block', what: 'block after 50 us of spin, both ends SCHED_FIFO 5' },
  block_epoll_busy_poll: { args: ['--epoll-busy-poll', '50', '--venue-epoll-busy-poll', '50'], baseline: 'block', what: 'block, epoll busy poll 50 us (EPIOCSPARAMS) on both wait sets' },
  spin: { args: kSpin, baseline: '', what: 'both spin, pinned to CPU 0 and 1' },
  spin_rt: { args: [...kSpin, '--realtime', '5', '--venue-realtime', '5'], baseline: 'spin', what: 'both spin, pinned, SCHED_FIFO 5, sleeping 50 us per ms' },
  spin_rt_sleep200: { args: [...kSpin, '--realtime', '5', '--venue-realtime', '5', '--realtime-sleep-us', '200', '--venue-realtime-sleep-us', '200'], baseline: 'spin_rt', what: 'both spin, pinned, SCHED_FIFO 5, sleeping 200 us per ms' },
  spin_busy_poll: { args: [...kSpin, '--busy-poll', '50', '--venue-busy-poll', '50'], baseline: 'spin', what: 'both spin, pinned, SO_BUSY_POLL 50 us on both sockets' },
  spin_swapped: { args: ['--idle', 'spin', '--venue-idle', 'spin', '--cpu', '1', '--venue-cpu', '0'], baseline: 'spin', what: 'both spin, sender on CPU 1 and venue on CPU 0 (which CPU takes the interrupts matters; tickpath doctor lists them)' },
};

interface VariantRound { p50: number; p99: number; p999: number; max: number; result: RttResult; explained?: SlowTripsExplained; perf_error?: string }

/** The run's child and tracer, stopped if this process is interrupted (neither may outlive it). */
const gLive = new Set<ReturnType<typeof spawn>>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { for (const c of gLive) c.kill(c.spawnfile === 'perf' ? 'SIGINT' : 'SIGTERM'); process.exit(130); });
}

function runChild(args: string[], perfFile: string): Promise<{ out: string; perfError?: string }> {
  return new Promise((resolve) => {
    let perf: ReturnType<typeof spawn> | null = null;
    let perfError: string | undefined;
    if (perfFile) {
      perf = spawn('perf', ['record', '-q', '-e', 'sched:sched_switch', '-e', 'sched:sched_waking', '-k', 'CLOCK_MONOTONIC', '-a', '-o', perfFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      gLive.add(perf);
      perf.on('exit', () => gLive.delete(perf!));
      let err = '';
      perf.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      perf.on('error', (e) => { perfError = `perf record: ${e.message} (fix: apt-get install linux-perf)`; });
      perf.on('exit', (code) => { if (code && code !== 130 && !perfError) perfError = `perf record exited ${code}: ${err.trim()}`; });
    }
    // perf needs a moment to arm the tracepoints before the run starts.
    setTimeout(() => {
      const child = spawn(process.execPath, [path.join(__dirname, 'router-rtt.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      gLive.add(child);
      child.on('exit', () => gLive.delete(child));
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('exit', () => {
        if (!perf || perf.exitCode !== null) { resolve({ out, perfError }); return; }
        perf.once('exit', () => resolve({ out, perfError }));
        perf.kill('SIGINT');
      });
    }, perfFile ? 500 : 0);
  });
}

function explain(perfFile: string, r: RttResult): SlowTripsExplained | string {
  const s = r.sched;
  if (!s || !r.slow) return 'no sched or slow trips in the result';
  const txt = spawnSync('perf', ['script', '-i', perfFile, '--ns', '-F', 'comm,tid,cpu,time,event,trace'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (txt.status !== 0) return `perf script: ${(txt.stderr || String(txt.error)).trim()}`;
  const roles = new Map<number, string>([[s.sender_tid, 'sender'], [s.venue_pid, 'venue']]);
  // The kernel's softirq threads too: loopback delivery deferred to ksoftirqd (a SCHED_OTHER
  // thread) waits for whatever holds the CPU, a real-time spinner included.
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try { const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); if (/^ksoftirqd\/\d+$/.test(comm)) roles.set(Number(pid), comm); } catch { /* gone */ }
  }
  const waits = cpuWaits(txt.stdout, new Set(roles.keys()));
  const trips = r.slow.trips;
  const from = trips.length ? trips[0][0] - 1e9 : 0;
  const to = trips.length ? trips[trips.length - 1][0] + 1e9 : 0;
  return explainSlowTrips(waits, trips, r.slow.threshold_ns, roles, from, to);
}

const us = (ns: number): string => (ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : `${(ns / 1000).toFixed(1)} µs`);

/** "312 involuntary switches, 41 ms waiting for a CPU" for one thread's schedstat delta. */
function stolenText(r: RttResult): string {
  const t = (x?: { involuntary_switches: number; run_delay_ms: number }) => (x ? `${x.involuntary_switches} involuntary switches, ${x.run_delay_ms.toFixed(1)} ms waiting for a CPU` : 'n/a');
  return `sender ${t(r.sched?.sender)}; venue ${t(r.sched?.venue)} (of ${r.sched?.seconds.toFixed(1)} s)`;
}

async function main(): Promise<void> {
  const names = arg('variants', Object.keys(kVariants).join(',')).split(',');
  for (const n of names) if (!kVariants[n]) { console.error(`option --variants: unknown variant '${n}', expected some of ${Object.keys(kVariants).join(', ')}`); process.exit(2); }
  const rounds = Number(arg('rounds', '2'));
  const seconds = arg('seconds', '2');
  const warmup = arg('warmup-seconds', '0.5');
  const rate = arg('rate', '2000');
  const slowUs = arg('slow-us', '50');
  const perfSched = process.argv.includes('--perf-sched');
  if (os.cpus().length < 2 && names.some((n) => n.startsWith('spin'))) { console.error('the spin variants pin to CPU 0 and 1: this machine has one CPU'); process.exit(2); }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-rtt-sched-'));
  const load0 = os.loadavg();
  const byVariant = new Map<string, VariantRound[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of names) {
        const perfFile = perfSched ? path.join(dir, `${name}-${round}.data`) : '';
        const childArgs = ['--protocols', 'ouch', '--transports', 'native', '--rounds', '1', '--seconds', seconds, '--warmup-seconds', warmup,
          '--rate', rate, '--slow-us', slowUs, '--no-results', '--json', ...kVariants[name].args];
        let { out, perfError } = await runChild(childArgs, perfFile);
        // A child that did not start its venue within router-rtt's 10 s (a machine at load 10 with
        // the tracer on) gets one more try; a second failure is reported.
        if (!/"rtt"/.test(out.trim().split('\n').pop() ?? '')) ({ out, perfError } = await runChild(childArgs, perfFile));
        const last = out.trim().split('\n').pop() ?? '';
        let r: RttResult;
        try { r = JSON.parse(last).rtt.ouch as RttResult; } catch { console.error(`variant ${name}: perf/router-rtt failed: ${last}`); process.exitCode = 1; continue; }
        const vr: VariantRound = { p50: r.rtt_p50_ns, p99: r.rtt_p99_ns, p999: r.rtt_p999_ns, max: r.rtt_max_ns, result: r };
        if (perfFile && !perfError) {
          const e = explain(perfFile, r);
          if (typeof e === 'string') vr.perf_error = e; else vr.explained = e;
        } else if (perfError) vr.perf_error = perfError;
        if (perfFile) fs.rmSync(perfFile, { force: true });
        console.error(`${name} round ${round + 1}: p50 ${us(vr.p50)} p99 ${us(vr.p99)}; ${stolenText(r)}`);
        byVariant.set(name, [...(byVariant.get(name) ?? []), vr]);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Per variant the round with the lowest p99 is kept (the tail is the question), every round listed.
  const kept = new Map<string, VariantRound>();
  for (const [n, rs] of byVariant) kept.set(n, rs.reduce((a, b) => (b.p99 < a.p99 ? b : a)));
  const rows: Row[] = [];
  const variants: Record<string, unknown> = {};
  for (const [n, v] of kept) {
    const base = kVariants[n].baseline ? kept.get(kVariants[n].baseline) : undefined;
    const e = v.explained;
    const slow = v.result.slow;
    rows.push({
      label: `rtt ouch ${n} p50 / p99`, ours: `${us(v.p50)} / ${us(v.p99)}`, baseline: base ? `${us(base.p50)} / ${us(base.p99)} (${kVariants[n].baseline})` : '',
      ratio: base ? v.p99 / base.p99 : undefined,
      note: `${kVariants[n].what}; ${stolenText(v.result)}; rounds p50/p99 ${byVariant.get(n)!.map((x) => `${us(x.p50)}/${us(x.p99)}`).join(', ')}`,
    });
    if (e) {
      rows.push({
        label: `rtt ouch ${n} trips > ${slowUs} µs vs CPU waits`, ours: `${e.overlapping_a_wait} of ${e.trips}`, baseline: '',
        note: `for ${e.waited_ms} of the ${e.slow_ms} ms with a slow order in flight the sender, the venue or ksoftirqd waited for a CPU, held by ${e.held_by.map((h) => `${h.comm} ${h.ms.toFixed(1)} ms`).join(', ') || 'n/a'}; ` +
          Object.entries(e.window).map(([role, w]) => `${role}: preempted ${w.preempted} (${w.preempted_ms} ms), woken-and-waiting ${w.woken} (${w.woken_ms} ms), longest ${w.longest_ms} ms`).join('; '),
      });
    } else if (v.perf_error) rows.push({ label: `rtt ouch ${n} scheduler trace`, ours: 'not taken', baseline: '', note: v.perf_error });
    variants[n] = {
      what: kVariants[n].what, args: kVariants[n].args, baseline: kVariants[n].baseline || null,
      rtt_p50_ns: v.p50, rtt_p99_ns: v.p99, rtt_p999_ns: v.p999, rtt_max_ns: v.max,
      rounds_p50_ns: byVariant.get(n)!.map((x) => x.p50), rounds_p99_ns: byVariant.get(n)!.map((x) => x.p99),
      sched: v.result.sched ? { ...v.result.sched, other_processes: v.result.sched.other_processes.slice(0, 5) } : null,
      slow_over: slow?.over ?? null, slow_threshold_ns: slow?.threshold_ns ?? null,
      explained: e ?? null, perf_error: v.perf_error ?? null,
      venue_loop: (v.result.venue_stats as { loop?: unknown } | undefined)?.loop ?? null, sender_idle: v.result.sender_idle ?? null,
    };
  }
  const load1 = os.loadavg();
  console.log(`OUCH round trip variants, ${rate} orders/s for ${seconds} s after ${warmup} s, ${rounds} round(s) interleaved, lowest-p99 round kept; load ${load0[0].toFixed(1)} -> ${load1[0].toFixed(1)} on ${os.cpus().length} CPUs${perfSched ? '; scheduler traced (perf record, itself a little load)' : ''}`);
  report('router-rtt-sched', rows, {
    rate: Number(rate), seconds: Number(seconds), warmup_seconds: Number(warmup), rounds, slow_us: Number(slowUs), perf_sched: perfSched,
    load_avg_before: load0.map((l) => Number(l.toFixed(2))), load_avg_after: load1.map((l) => Number(l.toFixed(2))),
    rt_throttle: { sched_rt_runtime_us: readNum('/proc/sys/kernel/sched_rt_runtime_us'), sched_rt_period_us: readNum('/proc/sys/kernel/sched_rt_period_us') },
    variants,
  });
}

function readNum(f: string): number | null { try { return Number(fs.readFileSync(f, 'utf8').trim()); } catch { return null; } }

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
