/**
 * Numbers for people: every place a person reads a latency, a price or an ITCH timestamp (run's
 * final table, monitor, decode's readable mode, the book view, the dashboard's script mirrors
 * these) formats it here, with its unit. Machine output (`--json`, `--jsonl`, /api/stats) keeps the
 * raw integers and says the unit in the key instead (`p99_ns`, `price` in Price(4)).
 */

/** Nanoseconds with the unit that keeps 3-4 significant digits: 850 ns, 12.4 µs, 3.10 ms, 1.20 s. */
export function formatNs(ns: number | undefined): string {
  if (ns === undefined || ns === null || !Number.isFinite(ns)) return '-';
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(a < 1e4 ? 2 : 1)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(a < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** ITCH Price(4) (1e-4 dollars) as dollars: 805200 -> "80.5200". `digits` 4 keeps every tick. */
export function formatPrice(price4: number, digits = 4): string {
  return (price4 / 10000).toFixed(digits);
}

/**
 * A price integer with `decimals` implied decimals, as a decimal string with every tick:
 * (805200, 4) -> "80.5200" (ITCH Price(4)); (9735250, 5) -> "97.35250" (MOEX FAST at price_decimals 5).
 */
export function formatScaledPrice(price: number, decimals: number): string {
  return (price / 10 ** decimals).toFixed(decimals);
}

/** ITCH timestamp (ns since midnight) as clock time: 34238952381153 -> "09:30:38.952381153". */
export function formatItchTime(nsSinceMidnight: number): string {
  if (!Number.isFinite(nsSinceMidnight) || nsSinceMidnight < 0) return '-';
  const totalSeconds = Math.floor(nsSinceMidnight / 1e9);
  const frac = nsSinceMidnight - totalSeconds * 1e9;
  const h = Math.floor(totalSeconds / 3600), m = Math.floor((totalSeconds % 3600) / 60), s = totalSeconds % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(h)}:${two(m)}:${two(s)}.${String(Math.round(frac)).padStart(9, '0')}`;
}

/**
 * HH:MM:SS[.fraction] (up to 9 fraction digits) as ns since midnight, the ITCH timestamp; undefined
 * when it is not a clock time. A plain integer is taken as ns since midnight already.
 */
export function parseItchTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const m = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]), min = Number(m[2]), s = Number(m[3]);
  if (h > 23 || min > 59 || s > 59) return undefined;
  const frac = m[4] ? Number(m[4].padEnd(9, '0')) : 0;
  return ((h * 60 + min) * 60 + s) * 1e9 + frac;
}

/** A latency summary with the unit in every key: {count, min_ns, mean_ns, p50_ns, ..., max_ns}. */
export function latencyWithUnits(l: { count: number; min: number; mean: number; p50: number; p90: number; p99: number; p999: number; p9999: number; max: number }):
  Record<string, number> {
  return {
    count: l.count, min_ns: l.min, mean_ns: l.mean, p50_ns: l.p50, p90_ns: l.p90, p99_ns: l.p99,
    p999_ns: l.p999, p9999_ns: l.p9999, max_ns: l.max,
  };
}
