/**
 * `tickpath bench [names...] [--json]`: the perf suite (perf/), each benchmark beside its baseline.
 *
 * The suite runs as a child process in its own process group (perf/all.js, which runs each
 * benchmark as a process, some of which start dpdk-testpmd). SIGINT or SIGTERM here is passed to
 * that whole group, so no benchmark or testpmd outlives the command; once the group is gone, the
 * DPDK runtime directory of the testpmd baselines (/var/run/dpdk/<prefix>, the prefix passed down in
 * TICKPATH_PERF_EAL_PREFIX) and the suite's temporary directory (its TMPDIR) are removed.
 * Exit codes: the suite's (0 all ran, 1 one failed), 2 bad
 * usage, 128 + the signal's number when interrupted (130 SIGINT, 143 SIGTERM).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const summary = 'run the benchmarks (rx, throughput, latency, burst, decode, book, ring, router) beside their baselines';

const kNames = ['rx', 'throughput', 'latency', 'burst', 'decode', 'book', 'ring', 'router'];
/** After the suite's own process exits on a signal, how long its benchmarks get before SIGKILL. */
const kGroupGraceMs = 5000;

/** Where DPDK keeps an EAL's runtime files for `prefix` (root: /var/run/dpdk; others: $XDG_RUNTIME_DIR/dpdk). */
export function ealRuntimeDir(prefix: string): string {
  const base = process.getuid?.() === 0 ? '/var/run' : (process.env.XDG_RUNTIME_DIR ?? '/tmp');
  return path.join(base, 'dpdk', prefix);
}

function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`Usage: tickpath bench [${kNames.join('|')} ...] [--json]

Runs the named benchmarks (default: all), each in its own process, printing a table with our
figure beside a baseline measured in the same run, saving perf/results/<name>.json and
regenerating the README's results table. Same as \`npm run perf\`.
SIGINT/SIGTERM stop every benchmark process (and testpmd) and exit 130/143; a benchmark cut short
saves nothing.`);
    return 0;
  }
  const names = argv.filter((a) => !a.startsWith('-'));
  const bad = names.filter((n) => !kNames.includes(n));
  if (bad.length) {
    console.error(`tickpath bench: unknown benchmark '${bad[0]}', expected one of ${kNames.join(', ')}`);
    return 2;
  }
  const args = [path.join(__dirname, '..', 'perf', 'all.js')];
  if (names.length) args.push(`--only=${names.join(',')}`);
  if (argv.includes('--json')) args.push('--json');
  const prefix = `tp_bench_${process.pid}`;
  // The benchmarks' generated captures go to a temporary directory of our own, removed at the end
  // however they stopped (a benchmark stopped by a signal cannot clean up after itself).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-bench-'));
  const child = spawn(process.execPath, args, { stdio: 'inherit', detached: true, env: { ...process.env, TICKPATH_PERF_EAL_PREFIX: prefix, TMPDIR: tmp } });
  const pgid = child.pid!;
  let received: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    received ??= signal;
    try { process.kill(-pgid, signal); } catch { /* already gone */ }
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    // The suite may be gone while a benchmark it started is still stopping: wait, then insist.
    const until = Date.now() + kGroupGraceMs;
    while (groupAlive(pgid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (groupAlive(pgid)) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone meanwhile */ } }
    if (received) return 128 + (os.constants.signals[received] ?? 0);
    return code ?? 1;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    fs.rmSync(ealRuntimeDir(prefix), { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
