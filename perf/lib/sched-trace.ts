/**
 * What stole a round trip's time, from the kernel's scheduler trace: `perf record -e
 * sched:sched_switch -e sched:sched_waking -k CLOCK_MONOTONIC -a` (the events `perf sched record`
 * takes, on the clock process.hrtime reads), printed by `perf script --ns`. For the two threads of
 * a round trip (the sender and the venue's loop) it builds the intervals each was runnable but not
 * running (preempted: switched out in state R until switched back in; woken: from sched_waking to
 * switched in), and lines the slow round trips up with them.
 *
 * Used by perf/router-rtt-sched.ts only; off every hot path (the trace is read after the run).
 */

/** One interval a thread waited for a CPU: [start, end) CLOCK_MONOTONIC ns. */
export interface CpuWait { tid: number; start: number; end: number; cpu: number; kind: 'preempted' | 'woken'; heldBy: string }

const kHead = /^\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{9}):\s+sched:(sched_switch|sched_waking):\s+(.*)$/;
const kSwitch = /prev_comm=(.*?) prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+) next_prio=\d+/;
const kWaking = /comm=(.*?) pid=(\d+) prio=\d+ target_cpu=(\d+)/;

/** Every wait of the `tids` in a `perf script --ns -F comm,tid,cpu,time,event,trace` text. */
export function cpuWaits(perfScript: string, tids: ReadonlySet<number>): CpuWait[] {
  const out: CpuWait[] = [];
  // Per tid: since when it has been runnable and off a CPU, and why.
  const pending = new Map<number, { start: number; kind: 'preempted' | 'woken' }>();
  for (const line of perfScript.split('\n')) {
    const h = kHead.exec(line);
    if (!h) continue;
    const t = Number(h[4]) * 1e9 + Number(h[5]);
    const cpu = Number(h[3]);
    if (h[6] === 'sched_waking') {
      const w = kWaking.exec(h[7]);
      if (w && tids.has(Number(w[2])) && !pending.has(Number(w[2]))) pending.set(Number(w[2]), { start: t, kind: 'woken' });
      continue;
    }
    const s = kSwitch.exec(h[7]);
    if (!s) continue;
    const prev = Number(s[2]);
    const next = Number(s[5]);
    // Switched out while runnable (R, R+): preempted; otherwise it went to sleep (no wait yet).
    if (tids.has(prev)) { if (s[3].startsWith('R')) pending.set(prev, { start: t, kind: 'preempted' }); else pending.delete(prev); }
    if (tids.has(next)) {
      const p = pending.get(next);
      if (p && t > p.start) out.push({ tid: next, start: p.start, end: t, cpu, kind: p.kind, heldBy: s[1] });
      pending.delete(next);
    }
  }
  return out;
}

export interface SlowTripsExplained {
  /** Slow round trips looked at, and how many overlapped a CPU wait of the sender or the venue. */
  trips: number;
  overlapping_a_wait: number;
  /**
   * Time with at least one slow order in flight (the union of the slow trips: trips queued behind
   * a stall overlap), and how much of it the sender or the venue spent waiting for a CPU.
   */
  slow_ms: number;
  waited_ms: number;
  /** Who held the CPU while our threads waited inside slow trips (by comm), most time first. */
  held_by: { comm: string; ms: number; waits: number }[];
  /** Waits during the whole window, per thread role: count and total ms, by kind. */
  window: Record<string, { preempted: number; preempted_ms: number; woken: number; woken_ms: number; longest_ms: number }>;
}

/** Sorted, merged [start, end) intervals. */
function union(iv: [number, number][]): [number, number][] {
  iv.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [a, b] of iv) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) { if (b > last[1]) last[1] = b; } else out.push([a, b]);
  }
  return out;
}

/** Length of the overlap of [a, b) with merged intervals `u`. */
function overlap(u: readonly [number, number][], a: number, b: number): number {
  let lo = 0, hi = u.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (u[m][1] <= a) lo = m + 1; else hi = m; }
  let sum = 0;
  for (let i = lo; i < u.length && u[i][0] < b; i++) sum += Math.max(0, Math.min(b, u[i][1]) - Math.max(a, u[i][0]));
  return sum;
}

/**
 * Lines the slow trips ([send ns, round trip ns], CLOCK_MONOTONIC) up with the waits of the
 * threads named in `roles` (tid -> 'sender' | 'venue') inside [from, to).
 */
export function explainSlowTrips(waits: readonly CpuWait[], trips: readonly [number, number][], _thresholdNs: number,
  roles: ReadonlyMap<number, string>, from: number, to: number): SlowTripsExplained {
  const mine = waits.filter((w) => roles.has(w.tid) && w.end > from && w.start < to);
  const window: SlowTripsExplained['window'] = {};
  for (const role of roles.values()) window[role] = { preempted: 0, preempted_ms: 0, woken: 0, woken_ms: 0, longest_ms: 0 };
  for (const w of mine) {
    const r = window[roles.get(w.tid)!];
    const ms = (w.end - w.start) / 1e6;
    if (w.kind === 'preempted') { r.preempted++; r.preempted_ms += ms; } else { r.woken++; r.woken_ms += ms; }
    if (ms > r.longest_ms) r.longest_ms = ms;
  }
  const slowU = union(trips.map(([t0, rtt]) => [t0, t0 + rtt] as [number, number]));
  const waitU = union(mine.map((w) => [w.start, w.end] as [number, number]));
  let overlapping = 0;
  for (const [t0, rtt] of trips) if (overlap(waitU, t0, t0 + rtt) > 0) overlapping++;
  let waited = 0;
  for (const [a, b] of waitU) waited += overlap(slowU, a, b);
  const held = new Map<string, { ms: number; waits: number }>();
  for (const w of mine) {
    const o = overlap(slowU, w.start, w.end);
    if (o <= 0) continue;
    const h = held.get(w.heldBy) ?? { ms: 0, waits: 0 };
    h.ms += o / 1e6;
    h.waits++;
    held.set(w.heldBy, h);
  }
  const round = (x: number) => Number(x.toFixed(3));
  for (const r of Object.values(window)) { r.preempted_ms = round(r.preempted_ms); r.woken_ms = round(r.woken_ms); r.longest_ms = round(r.longest_ms); }
  return {
    trips: trips.length, overlapping_a_wait: overlapping, slow_ms: round(slowU.reduce((s, [a, b]) => s + b - a, 0) / 1e6), waited_ms: round(waited / 1e6),
    held_by: [...held.entries()].map(([comm, v]) => ({ comm, ms: round(v.ms), waits: v.waits })).sort((a, b) => b.ms - a.ms).slice(0, 6),
    window,
  };
}
