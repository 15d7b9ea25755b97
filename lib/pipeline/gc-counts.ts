/**
 * Counts a worker's garbage collections (major = mark-compact, minor = scavenge) for its health
 * samples, without leaving garbage behind in old space or stalling the loop.
 *
 * Why not a PerformanceObserver on 'gc' entries: Node builds a PerformanceEntry for every GC, with a
 * Map and deprecated-accessor closures per detail field, in a callback right after the collection.
 * Those objects outlive the next scavenges and are promoted: in the fused stage worker at 200 k
 * msgs/s (about three scavenges a second) that was the whole of the worker's old-space growth,
 * ~50-77 KB/s plus ~300 KB steps, which only a major GC would take back.
 *
 * How: the addon's `gcCountsAttach` (dpdk-binding/src/gc_glue.cc) registers a V8 GC epilogue that
 * adds 1 to a Float64Array slot per collection: nothing allocated per GC, a sample is two reads.
 * Without the addon (an injected binding in tests, or a build without it), v8.GCProfiler: it keeps
 * its records in native memory and sample() reads and restarts it, so its JS objects are made once
 * per sample and die young, but the read costs ~16 us per GC recorded (158 us median a second in the
 * fused worker at 200 k msgs/s, load 16 on 2 CPUs).
 *
 * Threading contract: one owner, the thread that created it (both sources observe the isolate of
 * the thread that started them). Call sample() off the hot path (the once-a-second health post).
 */
import { GCProfiler } from 'v8';
import { optionalAddonFunction } from '../binding/native';

export interface GcCounts {
  major: number;
  minor: number;
  /** When sample() first saw the latest major GC, by the injected clock; 0 = none yet. */
  lastMajorAtNs: number;
}

type GcCountsAttach = (counts: Float64Array) => void;

/** The addon's GC counter, or undefined when the addon (or this build of it) has none. */
function nativeAttach(): GcCountsAttach | undefined {
  return optionalAddonFunction<GcCountsAttach>('gcCountsAttach');
}

export class GcCounter {
  readonly counts: GcCounts = { major: 0, minor: 0, lastMajorAtNs: 0 };
  /** 'native' (the addon's GC epilogue) or 'gc-profiler' (v8.GCProfiler). */
  readonly source: 'native' | 'gc-profiler';
  private readonly slots: Float64Array | null = null;
  private readonly base = [0, 0];
  private profiler: GCProfiler | null = null;
  private closed = false;

  constructor(private readonly nowNs: () => number, useNative = true) {
    const attach = useNative ? nativeAttach() : undefined;
    if (attach) {
      this.slots = new Float64Array(2);
      attach(this.slots);
      this.source = 'native';
    } else {
      this.profiler = new GCProfiler();
      this.profiler.start();
      this.source = 'gc-profiler';
    }
  }

  /**
   * Adds the GCs since the last call and returns the totals. With GCProfiler the next profiler
   * starts before the current one stops, so a GC that the read itself triggers is not missed (one
   * in that instant would count twice, never zero times).
   */
  sample(): GcCounts {
    if (this.closed) return this.counts;
    let major = 0;
    let minor = 0;
    if (this.slots !== null) {
      major = this.slots[0] - this.base[0];
      minor = this.slots[1] - this.base[1];
      this.base[0] = this.slots[0];
      this.base[1] = this.slots[1];
    } else if (this.profiler !== null) {
      const next = new GCProfiler();
      next.start();
      const stats = this.profiler.stop()?.statistics ?? [];
      this.profiler = next;
      // Incremental-marking steps and weak-callback passes are recorded too; they are parts of a
      // major GC (which ends in MarkSweepCompact), not collections of their own.
      for (let i = 0; i < stats.length; i++) {
        const t = stats[i].gcType;
        if (t === 'MarkSweepCompact') major++; else if (t === 'Scavenge' || t === 'MinorMarkCompact') minor++;
      }
    }
    if (major > 0) { this.counts.major += major; this.counts.lastMajorAtNs = this.nowNs(); }
    this.counts.minor += minor;
    return this.counts;
  }

  /** Takes the last sample and stops counting (the native epilogue goes with the thread). */
  close(): GcCounts {
    const c = this.sample();
    this.profiler?.stop();
    this.profiler = null;
    this.closed = true;
    return c;
  }
}
