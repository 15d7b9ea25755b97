/**
 * A strategy that only watches the order of what reaches it: events, adds, how many distinct
 * message sequences it saw, and how many events came with a sequence below the one before (0 when
 * every message arrives once and in order). Reported through `counts` in the pipeline's stats.
 */
import type { BookEvent } from '../../lib/feed/book/book-event';
import type { Strategy } from '../../lib/pipeline/strategy';

export interface SequenceCounts { events: number; adds: number; sequences: number; outOfOrder: number }

/** The same bookkeeping, for a handler outside the pipeline. */
export function sequenceRecorder(): { counts: SequenceCounts; onEvent(e: BookEvent): void } {
  const counts: SequenceCounts = { events: 0, adds: 0, sequences: 0, outOfOrder: 0 };
  let last = 0;
  return {
    counts,
    onEvent(e: BookEvent): void {
      counts.events++;
      if (e.kind === 1) counts.adds++;
      if (e.sequence > last) { counts.sequences++; last = e.sequence; } else if (e.sequence < last) counts.outOfOrder++;
    },
  };
}

export function createStrategy(): Strategy & { counts: SequenceCounts } {
  const r = sequenceRecorder();
  return { counts: r.counts, onMarketData: (e) => r.onEvent(e) };
}
