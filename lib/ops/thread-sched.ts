/**
 * What the scheduler did to this process's threads during a run: per thread, time on a CPU, time
 * runnable but waiting for one (schedstat run delay), voluntary and involuntary context switches;
 * per CPU, where its time went (user, system, irq, softirq, steal by the hypervisor, idle).
 * Two snapshots around a run, read from /proc by the main thread, never from a hot path.
 *
 * A latency tail on a shared 2-core machine is usually time a thread was runnable and not running:
 * a run delay on the stage worker or the RX thread during the run, with the involuntary switches
 * that caused it, says which thread lost its CPU and for how long; steal says the host took it.
 */
import * as fs from 'fs';

export interface ThreadSched { tid: number; comm: string; runNs: number; waitNs: number; slices: number; voluntary: number; involuntary: number; userTicks: number; systemTicks: number }
export interface CpuTimes { cpu: string; user: number; system: number; irq: number; softirq: number; steal: number; idle: number }
export interface SchedSnapshot { atNs: number; threads: Map<number, ThreadSched>; cpus: CpuTimes[]; processes: Map<number, { comm: string; ticks: number }> }

function readThread(tid: number, pid: number | 'self' = 'self'): ThreadSched | undefined {
  try {
    const dir = `/proc/${pid}/task/${tid}`;
    const [run, wait, slices] = fs.readFileSync(`${dir}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    const status = fs.readFileSync(`${dir}/status`, 'utf8');
    const comm = fs.readFileSync(`${dir}/comm`, 'utf8').trim();
    const voluntary = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const involuntary = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    // utime and stime (USER_HZ ticks): how much of the thread's CPU time went to system calls.
    const stat = fs.readFileSync(`${dir}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid, comm, runNs: run, waitNs: wait, slices, voluntary, involuntary, userTicks: Number(f[11]), systemTicks: Number(f[12]) };
  } catch {
    return undefined; // the thread ended between readdir and read
  }
}

function readCpus(): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const f = line.split(/\s+/);
    if (!/^cpu\d*$/.test(f[0])) continue;
    // user nice system idle iowait irq softirq steal (USER_HZ ticks)
    const n = f.slice(1).map(Number);
    out.push({ cpu: f[0], user: n[0] + n[1], system: n[2], idle: n[3] + n[4], irq: n[5], softirq: n[6], steal: n[7] ?? 0 });
  }
  return out;
}

/** CPU ticks (utime + stime) of every process on the machine: who else was running. */
function readProcesses(): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' ');
      out.set(Number(name), { comm: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** `childPids`: processes of the run besides this one (a venue-sim child): their main threads are reported too. */
export function schedSnapshot(childPids: readonly number[] = []): SchedSnapshot {
  const threads = new Map<number, ThreadSched>();
  for (const name of fs.readdirSync('/proc/self/task')) {
    const t = readThread(Number(name));
    if (t) threads.set(t.tid, t);
  }
  for (const pid of childPids) {
    const t = readThread(pid, pid);
    if (t) threads.set(t.tid, t);
  }
  return { atNs: Number(process.hrtime.bigint()), threads, cpus: readCpus(), processes: readProcesses() };
}

export interface ThreadSchedDelta {
  tid: number; comm: string; role?: string;
  run_ms: number; run_delay_ms: number; run_delay_share: number; voluntary_switches: number; involuntary_switches: number;
  /** Share of the thread's CPU time spent in the kernel (system calls, faults), from utime/stime ticks. */
  system_share: number;
}

export interface SchedReport {
  seconds: number;
  loadavg: number[];
  /** Threads that ran during the window, busiest first; `role` where the caller knows it. */
  threads: ThreadSchedDelta[];
  /**
   * Other processes that used CPU in the window (ticks = 10 ms), busiest first, at most 8. Only
   * those visible in this PID namespace: a neighbour in another container shows up only as our
   * threads' run delay and the load average.
   */
  other_processes: { pid: number; comm: string; cpu_ms: number }[];
  /** Share of each CPU's ticks in the window. */
  cpus: { cpu: string; user: number; system: number; irq: number; softirq: number; steal: number; idle: number }[];
}

/** Deltas from `a` to `b`; `roles` names known tids (stage worker, RX poller, sender). */
export function schedDelta(a: SchedSnapshot, b: SchedSnapshot, roles: Map<number, string> = new Map()): SchedReport {
  const threads: ThreadSchedDelta[] = [];
  for (const [tid, t1] of b.threads) {
    const t0 = a.threads.get(tid) ?? { runNs: 0, waitNs: 0, slices: 0, voluntary: 0, involuntary: 0, userTicks: 0, systemTicks: 0 };
    const user = t1.userTicks - t0.userTicks, sys = t1.systemTicks - t0.systemTicks;
    const run = t1.runNs - t0.runNs, wait = t1.waitNs - t0.waitNs;
    if (run <= 0 && wait <= 0 && !roles.has(tid)) continue;
    threads.push({
      tid, comm: t1.comm, role: roles.get(tid), run_ms: round(run / 1e6), run_delay_ms: round(wait / 1e6),
      run_delay_share: run + wait > 0 ? round(wait / (run + wait)) : 0,
      voluntary_switches: t1.voluntary - t0.voluntary, involuntary_switches: t1.involuntary - t0.involuntary,
      system_share: user + sys > 0 ? round(sys / (user + sys)) : 0,
    });
  }
  threads.sort((x, y) => y.run_ms - x.run_ms);
  const cpus = b.cpus.map((c1, i) => {
    const c0 = a.cpus[i];
    const d = { user: c1.user - c0.user, system: c1.system - c0.system, irq: c1.irq - c0.irq, softirq: c1.softirq - c0.softirq, steal: c1.steal - c0.steal, idle: c1.idle - c0.idle };
    const total = d.user + d.system + d.irq + d.softirq + d.steal + d.idle || 1;
    return { cpu: c1.cpu, user: round(d.user / total), system: round(d.system / total), irq: round(d.irq / total), softirq: round(d.softirq / total), steal: round(d.steal / total), idle: round(d.idle / total) };
  });
  const others: { pid: number; comm: string; cpu_ms: number }[] = [];
  for (const [pid, p1] of b.processes) {
    if (pid === process.pid || b.threads.has(pid)) continue;  // ours, or a child of the run reported as a thread
    const d = p1.ticks - (a.processes.get(pid)?.ticks ?? p1.ticks);
    if (d > 0) others.push({ pid, comm: p1.comm, cpu_ms: d * 10 });
  }
  others.sort((x, y) => y.cpu_ms - x.cpu_ms);
  return { seconds: round((b.atNs - a.atNs) / 1e9), other_processes: others.slice(0, 8), loadavg: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number), threads, cpus };
}

const round = (x: number) => Number(x.toFixed(4));

/** The tid in a pipeline "worker N pinned to CPU c (tid T)" log line, with the worker's label. */
export function workerTidFromLog(line: string): { tid: number; label: string } | undefined {
  const m = /worker (\S+) pinned to CPU -?\d+ \(tid (\d+)\)/.exec(line);
  return m ? { tid: Number(m[2]), label: `stage worker ${m[1]}` } : undefined;
}

/**
 * The named threads of a report as lines people read (`tickpath run`'s closing table): what each
 * ran, how long it waited for a CPU while runnable (the time the scheduler took from it), and how
 * often it was preempted; then the load and the busiest other processes.
 */
export function formatSchedReport(r: SchedReport): string[] {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const lines = [`${`threads over ${r.seconds.toFixed(1)} s`.padEnd(54)} ran (ms)  waited for a CPU (ms)  preempted  in kernel`];
  for (const t of r.threads) {
    if (t.role === undefined) continue;
    lines.push(`  ${t.role.padEnd(52)} ${n(t.run_ms).padStart(8)} ${`${n(t.run_delay_ms)} (${Math.round(t.run_delay_share * 100)} %)`.padStart(22)} ${n(t.involuntary_switches).padStart(10)} ${`${Math.round(t.system_share * 100)} %`.padStart(10)}`);
  }
  const others = r.other_processes.slice(0, 3).map((o) => `${o.comm} ${n(o.cpu_ms)} ms`).join(', ');
  lines.push(`  load average ${r.loadavg[0]}; other processes on the CPUs: ${others || 'none seen'}`);
  return lines;
}
