/** `tickpath bench [names...] [--json]`: the perf suite (perf/), each benchmark beside its baseline. */
import { spawnSync } from 'child_process';
import * as path from 'path';

export const summary = 'run the benchmarks (rx, throughput, latency, burst, decode, book, ring, router) beside their baselines';

const kNames = ['rx', 'throughput', 'latency', 'burst', 'decode', 'book', 'ring', 'router'];

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`Usage: tickpath bench [${kNames.join('|')} ...] [--json]

Runs the named benchmarks (default: all), each in its own process, printing a table with our
figure beside a baseline measured in the same run, saving perf/results/<name>.json and
regenerating the README's results table. Same as \`npm run perf\`.`);
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
  return spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1;
}
