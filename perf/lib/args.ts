/**
 * Command-line options shared by perf:latency, perf:throughput and perf:burst: `--name=value` or
 * `--name value`, numbers checked with messages that name the option and the value.
 */
export class BenchArgs {
  constructor(private readonly argv: readonly string[] = process.argv.slice(2)) {}

  has(flag: string): boolean {
    return this.argv.includes(`--${flag}`);
  }

  string(name: string): string | undefined {
    const key = `--${name}`;
    for (let i = 0; i < this.argv.length; i++) {
      const a = this.argv[i];
      if (a.startsWith(`${key}=`)) return a.slice(key.length + 1);
      if (a === key && i + 1 < this.argv.length && !this.argv[i + 1].startsWith('--')) return this.argv[i + 1];
    }
    return undefined;
  }

  number(name: string, fallback: number, min = 0): number {
    const s = this.string(name);
    if (s === undefined) return fallback;
    const v = parseRate(s);
    if (!Number.isFinite(v) || v < min) throw new Error(`--${name}=${s}: expected a number >= ${min}`);
    return v;
  }

  /** A comma-separated list of rates: 100k,1M,5e6. */
  rates(name: string, fallback: number[]): number[] {
    const s = this.string(name);
    if (s === undefined) return fallback;
    const v = s.split(',').filter(Boolean).map(parseRate);
    if (!v.length || v.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error(`--${name}=${s}: expected rates such as 100k,1M,5M`);
    return v.sort((a, b) => a - b);
  }
}

/** 250k -> 250000, 1.5M -> 1500000, plain numbers as they are. */
export function parseRate(s: string): number {
  const m = /^([0-9.eE+-]+)([kKmMgG]?)$/.exec(s.trim());
  if (!m) return NaN;
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}
