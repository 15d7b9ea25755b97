/**
 * `tickpath monitor`: live view of a running instance, read from its /dev/shm stats file
 * (lib/ops/stats-publisher.ts) without touching the process: rates from successive snapshots,
 * drops, gaps, per-stage latency percentiles and orders by state. On a TTY it redraws in place;
 * otherwise it prints one line per interval (for logs and pipes).
 * Exit codes: 0 done (--once, or SIGINT), 1 no running instance / it went away, 2 bad usage.
 */
import type { LatencySummary } from '../lib/common/latency-recorder';
import { defaultStatsDir, StatsInstance, StatsReader, StatsSnapshot } from '../lib/ops/stats-publisher';
import { latencyWithUnits } from '../lib/ops/units';
import { parseCommandLine } from './args';

export const summary = 'live terminal view of a running tickpath instance (rates, drops, gaps, latency, orders)';

const kHelp = `Usage: tickpath monitor [options]

  --instance ID    instance to watch (default: the only one running)
  --list           print the running instances (instance, pid, stats file) and exit
  --once           print one snapshot and exit
  --interval MS    refresh period in milliseconds (default 1000, at least 100)
  --dir DIR        where stats files live (default $TICKPATH_STATS_DIR or /dev/shm)
  --json           one JSON object per snapshot (with --once: one): counters, rates per second,
                   drops, gaps and latency with the unit in each key (p50_ns, p99_ns, ...)
  --help           this text

Reads /dev/shm/tickpath-<instance>.stats, which a running \`tickpath run\` publishes once a
second (instance = its process id unless named). On a terminal the view redraws in place;
piped, it prints one line per interval.
Exit codes: 0 done, 1 no running instance (or it exited), 2 bad usage.`;

export const kOrderStates: readonly [string, string][] = [
  ['sent', 'orders_sent'], ['accepted', 'orders_accepted'], ['rejected', 'orders_rejected'], ['acked', 'orders_acked'],
  ['partial', 'orders_partially_filled'], ['filled', 'orders_filled'], ['cancelled', 'orders_cancelled'], ['venue_rej', 'venue_rejects'],
];

/** Rates per second of every counter between two snapshots of one instance (empty on the first). */
export function counterRates(prev: StatsSnapshot | undefined, cur: StatsSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  if (!prev || prev.pid !== cur.pid) return out;
  const dt = (cur.uptimeMs - prev.uptimeMs) / 1000;
  if (!(dt > 0)) return out;
  for (const [k, v] of Object.entries(cur.stats.counters)) out[k] = Math.max(0, (v - (prev.stats.counters[k] ?? 0)) / dt);
  return out;
}

/** Packets lost before or inside the pipeline: ring full at RX, ring drops in workers, NIC misses. */
export function dropsOf(s: StatsSnapshot): number {
  const c = s.stats.counters;
  const q = s.stats.port?.queues ?? [];
  const d = s.stats.port?.device;
  return (c.rx_ring_drops ?? 0) + q.reduce((a, x) => a + (x.ringFullDrops ?? 0), 0) + (d ? (d.imissed ?? 0) + (d.kernelDrops ?? 0) + (d.rxNoMbuf ?? 0) : 0);
}

/** Sequence gaps: every counter whose name says gap (sequence_gaps from the recovery stages, ...). */
export function gapsOf(s: StatsSnapshot): number {
  let n = 0;
  for (const [k, v] of Object.entries(s.stats.counters)) if (/gap/.test(k)) n += v;
  return n;
}

export function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Nanoseconds for people: 850ns, 12.4us, 3.10ms, 1.20s. */
export function fmtNs(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return '-';
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)}us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)}ms`;
  return `${(ns / 1e9).toFixed(2)}s`;
}

/** The full view (TTY or --once): lines without colours, so tests can read them. */
export function renderView(cur: StatsSnapshot, prev: StatsSnapshot | undefined): string[] {
  const s = cur.stats;
  const c = s.counters;
  const r = counterRates(prev, cur);
  const hasRates = Object.keys(r).length > 0;
  const rate = (k: string): string => (hasRates ? `${fmt(r[k])}/s` : 'n/a');
  const lines: string[] = [];
  lines.push(`tickpath monitor  instance ${cur.instance}  pid ${cur.pid}  backend ${s.backend}  snapshot #${cur.sequence} at ${new Date(cur.atMs).toISOString()}`);
  lines.push('');
  lines.push(`  packets   ${fmt(c.rx_packets).padStart(9)} total  ${rate('rx_packets').padStart(10)}`);
  lines.push(`  messages  ${fmt(c.itch_messages).padStart(9)} total  ${rate('itch_messages').padStart(10)}`);
  lines.push(`  book evts ${fmt(c.book_events).padStart(9)} total  ${rate('book_events').padStart(10)}`);
  lines.push(`  drops     ${fmt(dropsOf(cur)).padStart(9)}        gaps ${fmt(gapsOf(cur))}   missing ${fmt(c.messages_missing ?? 0)}   bad frames ${fmt(c.bad_frames)}   itch errors ${fmt(c.itch_errors)}   bad refs ${fmt(c.book_bad_references)}`);
  lines.push('');
  lines.push(`  ${'latency'.padEnd(16)}${['count', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max'].map((h) => h.padStart(9)).join('')}`);
  for (const [stage, l] of Object.entries(s.latency) as [string, LatencySummary][]) {
    lines.push(`  ${stage.padEnd(16)}${[fmt(l.count), fmtNs(l.p50), fmtNs(l.p90), fmtNs(l.p99), fmtNs(l.p999), fmtNs(l.p9999), fmtNs(l.max)].map((v) => v.padStart(9)).join('')}`);
  }
  lines.push('');
  lines.push(`  orders    ${kOrderStates.map(([label, k]) => `${label} ${fmt(c[k] ?? 0)}`).join('  ')}`);
  if (hasRates) lines.push(`  orders/s  sent ${fmt(r.orders_sent)}  filled ${fmt(r.orders_filled)}`);
  if (s.venue) lines.push(`  venue     ${Object.entries(s.venue).filter(([, v]) => v).map(([k, v]) => `${k} ${fmt(v)}`).join('  ') || '(idle)'}`);
  return lines;
}

/** --json: one object per snapshot; raw numbers, units in the keys. */
export function snapshotJson(cur: StatsSnapshot, prev: StatsSnapshot | undefined): Record<string, unknown> {
  const latency: Record<string, Record<string, number>> = {};
  for (const [stage, l] of Object.entries(cur.stats.latency)) latency[stage] = latencyWithUnits(l);
  const rates: Record<string, number> = {};
  for (const [k, v] of Object.entries(counterRates(prev, cur))) rates[`${k}_per_s`] = v;
  return {
    instance: cur.instance, pid: cur.pid, at_ms: cur.atMs, snapshot: cur.sequence, backend: cur.stats.backend,
    counters: cur.stats.counters, rates, drops: dropsOf(cur), gaps: gapsOf(cur), latency,
  };
}

/** One line per interval when stdout is not a terminal. */
export function renderLine(cur: StatsSnapshot, prev: StatsSnapshot | undefined): string {
  const c = cur.stats.counters;
  const r = counterRates(prev, cur);
  const l = cur.stats.latency.wire_to_handler;
  return `${new Date(cur.atMs).toISOString()} ${cur.instance} msgs ${fmt(c.itch_messages)} (${prev ? fmt(r.itch_messages) : '-'}/s) ` +
    `pkts ${fmt(c.rx_packets)} (${prev ? fmt(r.rx_packets) : '-'}/s) drops ${fmt(dropsOf(cur))} gaps ${fmt(gapsOf(cur))} ` +
    `wire_to_handler p50 ${fmtNs(l?.p50)} p99 ${fmtNs(l?.p99)} p99.9 ${fmtNs(l?.p999)} ` +
    `orders sent ${fmt(c.orders_sent ?? 0)} filled ${fmt(c.orders_filled ?? 0)} rejected ${fmt(c.orders_rejected ?? 0)}`;
}

function pickInstance(instance: string | undefined, dir: string): StatsReader | string {
  if (instance) {
    try {
      return StatsReader.attach(instance, dir);
    } catch (err) {
      return `tickpath monitor: ${(err as Error).message}`;
    }
  }
  const running: StatsInstance[] = StatsReader.list(dir);
  if (running.length === 0) {
    return `tickpath monitor: no running tickpath instance (no live tickpath-*.stats in ${dir}); start one with \`tickpath run\``;
  }
  if (running.length > 1) {
    return `tickpath monitor: ${running.length} tickpath instances are running (${running.map((i) => `${i.instance} pid ${i.pid}`).join(', ')}); pick one with --instance ID`;
  }
  return StatsReader.attach(running[0].instance, dir);
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('monitor', kHelp, argv, {
    instance: { type: 'string' }, once: { type: 'boolean' }, interval: { type: 'string', default: '1000' },
    dir: { type: 'string' }, list: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const interval = Number(values.interval);
  if (!/^\d+$/.test(values.interval!) || interval < 100) {
    console.error(`tickpath monitor: option --interval is ${JSON.stringify(values.interval)}, expected milliseconds >= 100`);
    return 2;
  }
  const dir = values.dir ?? defaultStatsDir();
  if (values.list) {
    const running = StatsReader.list(dir);
    if (running.length === 0) console.log(`no running tickpath instance (no live tickpath-*.stats in ${dir})`);
    for (const i of running) console.log(`${i.instance}\tpid ${i.pid}\t${i.path}`);
    return 0;
  }
  const picked = pickInstance(values.instance, dir);
  if (typeof picked === 'string') {
    console.error(picked);
    return 1;
  }
  const reader = picked;

  if (values.once) {
    // Wait up to ~2 publish periods for the first snapshot of a just-started instance.
    let snap = reader.read();
    for (let i = 0; !snap && i < 20 && reader.alive(); i++) {
      await sleep(100);
      snap = reader.read();
    }
    if (!snap) {
      console.error(`tickpath monitor: instance '${reader.instance}' has not published stats yet; try again in a second`);
      return 1;
    }
    console.log(values.json ? JSON.stringify(snapshotJson(snap, undefined)) : renderView(snap, undefined).join('\n'));
    return 0;
  }

  const tty = process.stdout.isTTY === true && !values.json;
  let prev: StatsSnapshot | undefined;
  let stopping = false;
  const stop = (): void => { stopping = true; };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (tty) process.stdout.write('\x1b[?25l\x1b[2J'); // hide the cursor, clear once
  try {
    while (!stopping) {
      if (!reader.alive()) {
        if (tty) process.stdout.write('\n');
        console.error(`tickpath monitor: instance '${reader.instance}' (pid ${reader.pid}) has exited`);
        return 1;
      }
      const snap = reader.read();
      if (snap && snap.sequence !== prev?.sequence) {
        if (tty) {
          const lines = renderView(snap, prev);
          lines.push('', '  (Ctrl-C to quit)');
          // Home, then each line cleared to its end, then everything below: no flicker, no scroll.
          process.stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
        } else {
          console.log(values.json ? JSON.stringify(snapshotJson(snap, prev)) : renderLine(snap, prev));
        }
        prev = snap;
      }
      await sleep(interval, () => stopping);
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    if (tty) process.stdout.write('\x1b[?25h');
  }
  return 0;
}

/** Sleeps `ms`, waking early (every 50 ms check) when `done()` turns true. */
async function sleep(ms: number, done?: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !done?.()) await new Promise((r) => setTimeout(r, Math.min(50, end - Date.now())));
}
