/**
 * Counts a worker's garbage collections (major = mark-compact, minor = scavenge) for its health
 * samples, without leaving garbage behind in old space.
 *
 * Why not a PerformanceObserver on 'gc' entries: Node builds a PerformanceEntry for every GC, with a
 * Map and deprecated-accessor closures per detail field, in a callback right after the collection.
 * Those objects outlive the next scavenges and are promoted: in the fused stage worker at 200 k
 * msgs/s (about three scavenges a second) that was the whole of the worker's old-space growth,
 * ~50-77 KB/s plus ~300 KB steps, which only a major GC would take back. v8.GCProfiler records in
 * native memory instead; `sample()` reads and restarts it, so the JS objects it makes are made once
 * per sample and die young.
 *
 * Threading contract: one owner, the worker thread that created it (a GCProfiler observes the
 * isolate it was started on). Call sample() off the hot path (the once-a-second health post): it
 * costs about 15-20 us per GC recorded since the last call.
 */
import { GCProfiler } from 'v8';

export interface GcCounts {
  major: number;
  minor: number;
  /** When the last major GC was seen, by the injected clock; 0 = none yet. */
  lastMajorAtNs: number;
}

export class GcCounter {
  readonly counts: GcCounts = { major: 0, minor: 0, lastMajorAtNs: 0 };
  private profiler: GCProfiler | null = new GCProfiler();

  constructor(private readonly nowNs: () => number) {
    this.profiler!.start();
  }

  /**
   * Adds the GCs since the last call and returns the totals. The next profiler starts before the
   * current one stops, so a GC that the read itself triggers is not missed (one in that instant
   * would count twice, never zero times).
   */
  sample(): GcCounts {
    if (this.profiler === null) return this.counts;
    const next = new GCProfiler();
    next.start();
    const record = this.profiler.stop();
    this.profiler = next;
    const stats = record?.statistics ?? [];
    // Incremental-marking steps and weak-callback passes are recorded too; they are parts of a
    // major GC (which ends in MarkSweepCompact), not collections of their own.
    for (let i = 0; i < stats.length; i++) {
      const t = stats[i].gcType;
      if (t === 'MarkSweepCompact') { this.counts.major++; this.counts.lastMajorAtNs = this.nowNs(); } else if (t === 'Scavenge' || t === 'MinorMarkCompact') this.counts.minor++;
    }
    return this.counts;
  }

  /** Takes the last sample and stops observing. */
  close(): GcCounts {
    const c = this.sample();
    this.profiler?.stop();
    this.profiler = null;
    return c;
  }
}
