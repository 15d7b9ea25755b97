import * as hdr from 'hdr-histogram-js';
import { TickpathError } from '../errors';

export interface LatencyRecorderOptions {
  /** Label carried with serialised snapshots so the monitor knows what it merges. */
  name: string;
  /** Smallest value told apart from 0, in ns. Default 1. */
  lowestDiscernibleNs?: number;
  /** Largest recordable value in ns; larger values are clamped to it and counted. Default 10 s. */
  highestTrackableNs?: number;
  /** Value precision, 1..5 significant digits. Default 3 (0.1% error). */
  significantDigits?: number;
}

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

/** What one worker sends to the monitor: plain data, survives postMessage and JSON. */
export interface SerializedLatency {
  name: string;
  /** HdrHistogram V2 compressed base64 (readable by every HdrHistogram implementation). */
  histogram: string;
  clamped: number;
  lowestDiscernibleNs: number;
  highestTrackableNs: number;
  significantDigits: number;
}

/**
 * One worker's latency histogram (HdrHistogram, fixed range, no auto-resize).
 *
 * The record path is an integer conversion, one range check and the histogram's index update: no
 * allocation. Auto-resize is off because resizing allocates on the hot path; out-of-range values
 * are clamped to highestTrackableNs and counted in `clamped` instead.
 *
 * Threading contract: one writer (the worker that owns it). Other threads get snapshots via
 * serialize() -> postMessage -> LatencyRecorder.merge() on the monitor.
 */
export class LatencyRecorder {
  readonly name: string;
  readonly lowestDiscernibleNs: number;
  readonly highestTrackableNs: number;
  readonly significantDigits: number;
  /** Values above highestTrackableNs (recorded as highestTrackableNs). */
  clamped = 0;
  private readonly histogram: hdr.Histogram;

  constructor(options: LatencyRecorderOptions) {
    this.name = options.name;
    this.lowestDiscernibleNs = options.lowestDiscernibleNs ?? 1;
    this.highestTrackableNs = options.highestTrackableNs ?? 10_000_000_000;
    this.significantDigits = options.significantDigits ?? 3;
    if (!Number.isInteger(this.lowestDiscernibleNs) || this.lowestDiscernibleNs < 1) {
      throw invalid('lowestDiscernibleNs', this.lowestDiscernibleNs, 'an integer >= 1');
    }
    if (!Number.isInteger(this.highestTrackableNs) || this.highestTrackableNs < 2 * this.lowestDiscernibleNs) {
      throw invalid('highestTrackableNs', this.highestTrackableNs, 'an integer >= 2 * lowestDiscernibleNs');
    }
    if (!Number.isInteger(this.significantDigits) || this.significantDigits < 1 || this.significantDigits > 5) {
      throw invalid('significantDigits', this.significantDigits, 'an integer in [1, 5]');
    }
    this.histogram = hdr.build({
      bitBucketSize: 64,
      autoResize: false,
      lowestDiscernibleValue: this.lowestDiscernibleNs,
      highestTrackableValue: this.highestTrackableNs,
      numberOfSignificantValueDigits: this.significantDigits as 1 | 2 | 3 | 4 | 5,
      useWebAssembly: false,
    });
  }

  /** Records one latency in ns. Negative values (clock skew between threads) record as 0. */
  record(valueNs: number): void {
    this.histogram.recordValue(this.clamp(valueNs));
  }

  /**
   * Records a latency measured by a load generator that sends every `expectedIntervalNs`: when the
   * system stalls, the sends it could not make would have seen latencies too; HdrHistogram fills
   * them in (coordinated-omission correction). Only for fixed-rate load; adds records per stall.
   */
  recordWithExpectedInterval(valueNs: number, expectedIntervalNs: number): void {
    this.histogram.recordValueWithExpectedInterval(this.clamp(valueNs), expectedIntervalNs);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Value at `percentile` (0..100], ns. */
  valueAtPercentile(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile);
  }

  summary(): LatencySummary {
    return summarize(this.histogram);
  }

  /**
   * The summary HdrHistogram's coordinated-omission correction gives for load that was due every
   * `expectedIntervalNs` (copyCorrectedForCoordinatedOmission): computed on demand, off the record
   * path, because the correction adds value/interval samples per recorded value, which on a hot
   * path turns one long stall into a stall of the recorder itself. Undefined when the largest value
   * is more than `maxExpansion` intervals (the copy would take too long to be worth it).
   */
  correctedSummary(expectedIntervalNs: number, maxExpansion = 100_000): LatencySummary | undefined {
    const h = this.histogram;
    if (!(expectedIntervalNs > 0) || h.maxValue / expectedIntervalNs > maxExpansion) return undefined;
    return summarize(h.copyCorrectedForCoordinatedOmission(expectedIntervalNs));
  }

  serialize(): SerializedLatency {
    return {
      name: this.name,
      histogram: hdr.encodeIntoCompressedBase64(this.histogram),
      clamped: this.clamped,
      lowestDiscernibleNs: this.lowestDiscernibleNs,
      highestTrackableNs: this.highestTrackableNs,
      significantDigits: this.significantDigits,
    };
  }

  /** Adds a snapshot from another worker (monitor side). Ranges must match. */
  add(snapshot: SerializedLatency): void {
    if (
      snapshot.lowestDiscernibleNs !== this.lowestDiscernibleNs ||
      snapshot.highestTrackableNs !== this.highestTrackableNs ||
      snapshot.significantDigits !== this.significantDigits
    ) {
      throw new TickpathError(
        'ERR_HISTOGRAM_MISMATCH',
        `LatencyRecorder.add: snapshot '${snapshot.name}' has range [${snapshot.lowestDiscernibleNs}, ${snapshot.highestTrackableNs}] with ${snapshot.significantDigits} digits, expected [${this.lowestDiscernibleNs}, ${this.highestTrackableNs}] with ${this.significantDigits}`,
        'build every recorder from the same performance.yml settings',
      );
    }
    const other = hdr.decodeFromCompressedBase64(snapshot.histogram, 64, false);
    this.histogram.add(other);
    this.clamped += snapshot.clamped;
  }

  /** A new recorder holding the sum of `snapshots`, named `name` (the monitor's merge). */
  static merge(name: string, snapshots: readonly SerializedLatency[]): LatencyRecorder {
    if (snapshots.length === 0) {
      throw new TickpathError('ERR_HISTOGRAM_MISMATCH', 'LatencyRecorder.merge: no snapshots to merge');
    }
    const first = snapshots[0];
    const merged = new LatencyRecorder({
      name,
      lowestDiscernibleNs: first.lowestDiscernibleNs,
      highestTrackableNs: first.highestTrackableNs,
      significantDigits: first.significantDigits,
    });
    for (const s of snapshots) merged.add(s);
    return merged;
  }

  reset(): void {
    this.histogram.reset();
    this.clamped = 0;
  }

  private clamp(valueNs: number): number {
    if (valueNs > this.highestTrackableNs) {
      // Rare case kept out of the common path's arithmetic.
      this.clamped++;
      return this.highestTrackableNs;
    }
    return valueNs > 0 ? Math.round(valueNs) : 0;
  }
}

function invalid(name: string, value: unknown, expected: string): TickpathError {
  return new TickpathError(
    'ERR_INVALID_OPTION',
    `LatencyRecorder: option '${name}' is ${JSON.stringify(value)}, expected ${expected}`,
  );
}

/**
 * Percentiles come back as the highest value of their bucket, which can lie above the largest
 * value recorded (a 50.1 µs max in a bucket reaching 50.2 µs); clamped to the max, so a summary
 * never says p50 > max.
 */
function summarize(h: hdr.Histogram): LatencySummary {
  const count = h.totalCount;
  const max = h.maxValue;
  const at = (p: number): number => Math.min(h.getValueAtPercentile(p), max);
  return {
    count, min: count === 0 ? 0 : h.minNonZeroValue, mean: h.mean,
    p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), p9999: at(99.99), max,
  };
}
