/**
 * `npm run perf`: every benchmark in turn, each as its own process (the DPDK EAL is per process),
 * with --json; each result is saved as perf/results/<name>.json beside the machine it ran on, and
 * the README's results table is regenerated from those files (perf/results-table.ts).
 *
 *   node dist/perf/all.js [--only=rx,decode] [--json] [-- ARGS for each benchmark]
 *
 * TICKPATH_PERF_RESULTS_DIR=DIR saves the results in DIR instead and leaves the README alone.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { machine } from './report';
import { writeReadmeTable } from './results-table';

export const kBenchmarks = ['decode', 'book', 'fast', 'ring', 'router', 'failover', 'rx', 'throughput', 'latency', 'burst'] as const;

function main(): number {
  const args = process.argv.slice(2);
  const only = args.find((a) => a.startsWith('--only='))?.split('=')[1]?.split(',');
  // Everything after `--` goes to each benchmark run (e.g. `--only=burst -- --pre=200`).
  const dash = args.indexOf('--');
  const passOn = dash >= 0 ? args.slice(dash + 1) : [];
  // TICKPATH_PERF_RESULTS_DIR: results elsewhere and the README left alone (tests of `tickpath bench`).
  const elsewhere = process.env.TICKPATH_PERF_RESULTS_DIR;
  const dir = elsewhere || path.join(__dirname, '..', '..', 'perf', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const summary: Record<string, unknown> = {};
  let failures = 0;
  for (const name of kBenchmarks) {
    if (only && !only.includes(name)) continue;
    const script = path.join(__dirname, `${name}.js`);
    if (!fs.existsSync(script)) { console.log(`perf ${name}: not built (${script} missing)`); continue; }
    console.log(`\n=== perf:${name}`);
    const r = spawnSync(process.execPath, [script, '--json', ...passOn], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 });
    const lines = (r.stdout ?? '').trim().split('\n');
    process.stdout.write(lines.slice(0, -1).join('\n') + '\n');
    try {
      const result = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
      fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ name, at: new Date().toISOString(), machine: machine(), ...result }, null, 2)}\n`);
      summary[name] = result;
    } catch {
      failures++;
      console.log(`perf ${name}: no JSON result (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})`);
    }
  }
  if (!elsewhere) writeReadmeTable();
  if (args.includes('--json')) console.log(JSON.stringify(summary));
  return failures ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
