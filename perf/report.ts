/**
 * Shared output for every benchmark: a table with our figure beside its baseline from the same
 * run, the JSON written to perf/results/<name>.json (with the machine it ran on), and with
 * `--json` one JSON object as the last line of stdout.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface Row { label: string; ours: string; baseline: string; ratio?: number; note?: string }

export function machine(): Record<string, string | number> {
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, node: process.version, kernel: os.release() };
}

export function report(name: string, rows: Row[], result: Record<string, unknown>, argv = process.argv.slice(2)): void {
  const header = ['benchmark', 'tickpath', 'baseline', 'ratio', 'note'];
  const cells = rows.map((r) => [r.label, r.ours, r.baseline, r.ratio === undefined ? '' : r.ratio.toFixed(3), r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  // --no-results: a sub-run another benchmark collects (perf/router-rtt-sched's variants) leaves
  // perf/results alone.
  if (!argv.includes('--no-results')) {
    const out = { name, at: new Date().toISOString(), machine: machine(), ...result };
    const dir = path.join(__dirname, '..', '..', 'perf', 'results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  }
  if (argv.includes('--json')) console.log(JSON.stringify(result));
}

export function fmtRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`;
}
