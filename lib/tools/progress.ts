/**
 * Progress on stderr for long-running tools: on a TTY one line redrawn in place (bar, count, rate,
 * ETA); otherwise (a log file, CI) a plain line every `plainIntervalMs`, so logs are not flooded
 * with carriage returns. The clock is injected so tests can drive it.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** What is counted ("packets"). */
  unit: string;
  /** Total expected, or 0 when unknown (loops forever): no bar and no ETA then. */
  total: number;
  ttyIntervalMs?: number;
  plainIntervalMs?: number;
  /** Milliseconds, monotonic. */
  now?: () => number;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, '0'), ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressReporter {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly start: number;
  private last: number;
  private lastDone = 0;
  private drawn = false;

  constructor(stream: ProgressStream, private readonly options: ProgressOptions) {
    this.stream = stream;
    this.tty = stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.interval = this.tty ? options.ttyIntervalMs ?? 200 : options.plainIntervalMs ?? 1000;
    this.start = this.last = this.now();
  }

  /** Cheap when not due: one clock read and a compare. */
  update(done: number): void {
    const t = this.now();
    if (t - this.last < this.interval) return;
    this.draw(done, t);
  }

  /** Final line (TTY: ends the redrawn line). */
  finish(done: number): void {
    this.draw(done, this.now());
    if (this.tty && this.drawn) this.stream.write('\n');
  }

  /** The text of one progress line (exposed for tests). */
  line(done: number, t: number): string {
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const recent = t > this.last ? ((done - this.lastDone) * 1000) / (t - this.last) : rate;
    const total = this.options.total;
    const unit = this.options.unit;
    if (total > 0) {
      const frac = Math.min(1, done / total);
      const eta = rate > 0 ? (total - done) / rate : Infinity;
      const pct = `${(frac * 100).toFixed(1).padStart(5)}%`;
      const text = `${formatCount(done)}/${formatCount(total)} ${unit}, ${formatCount(recent)} ${unit}/s, elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}`;
      if (!this.tty) return `${pct} ${text}`;
      const width = 24;
      const full = Math.round(frac * width);
      return `[${'='.repeat(full)}${full < width ? '>' : ''}${' '.repeat(Math.max(0, width - full - 1))}] ${pct} ${text}`;
    }
    return `${formatCount(done)} ${unit}, ${formatCount(recent)} ${unit}/s, elapsed ${formatDuration(elapsed)}`;
  }

  private draw(done: number, t: number): void {
    const text = this.line(done, t);
    if (this.tty) {
      const cols = this.stream.columns ?? 100;
      this.stream.write(`\r${text.slice(0, cols - 1)}\x1b[K`);
    } else {
      this.stream.write(`${text}\n`);
    }
    this.drawn = true;
    this.last = t;
    this.lastDone = done;
  }
}

/**
 * Progress for a person watching: a reporter on `stream` when it is a terminal, otherwise none, so
 * a piped or logged run stays quiet (its output is for a program or a file).
 */
export function terminalProgress(options: ProgressOptions, stream: ProgressStream = process.stderr): ProgressReporter | undefined {
  return stream.isTTY === true ? new ProgressReporter(stream, options) : undefined;
}
