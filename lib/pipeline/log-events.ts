/**
 * The pipeline's log events: declared once, logged from hot paths by id with up to four numbers
 * into a per-worker ring (lib/common/logger.ts), formatted and written by the main thread's drain.
 * A hot path never builds a string to log.
 */
import { LogEventTable } from '../common/logger';
import { REJECT_REASONS } from '../router/types';

export const kPipelineLogEvents = new LogEventTable([
  { name: 'worker_started', template: 'worker {0} pinned to CPU {1} (tid {2})' },
  { name: 'gap', template: 'sequence gap: messages {0} to {1} missing on every line; requesting retransmission' },
  { name: 'loss', template: 'messages {0} to {1} declared lost; books touched afterwards are flagged stale' },
  { name: 'capture_gap', template: 'the replayed capture itself lacks messages {0} to {1} ({2} messages): nothing can fill them from a file, so they are skipped (counted in messages_lost); books touched afterwards are flagged stale' },
  { name: 'book_stale', template: 'book of stock locate {0} may be stale after a loss (until a snapshot)' },
  { name: 'line_stale', template: 'line {0} silent: stale' },
  { name: 'line_alive', template: 'line {0} is back' },
  { name: 'order_rejected', template: 'order rejected by the router: reason #{0} (see REJECT_REASONS)' },
  { name: 'venue_reject', template: 'venue rejected a child order ({0} so far)' },
  { name: 'ring_stall', template: 'stage ring full: the next stage is behind ({0} stalls so far)' },
  { name: 'unrecovered_gap', template: 'sequence gap: messages {0} to {1} never received (no recovery configured)' },
  { name: 'fast_line', template: 'FAST incremental line {0} (0 = first of feed.fast.incremental): {1} datagrams, {2} used first, {3} copies the other line had brought first' },
  { name: 'trade_gap', template: 'trades of book locate {0}: RptSeq {1} to {2} never arrived on the trades line (those trades are missed; the book is not affected)' },
]);

export const kLogWorkerStarted = kPipelineLogEvents.idOf('worker_started');
export const kLogGap = kPipelineLogEvents.idOf('gap');
export const kLogUnrecoveredGap = kPipelineLogEvents.idOf('unrecovered_gap');
export const kLogTradeGap = kPipelineLogEvents.idOf('trade_gap');
export const kLogFastLine = kPipelineLogEvents.idOf('fast_line');
export const kLogLoss = kPipelineLogEvents.idOf('loss');
export const kLogCaptureGap = kPipelineLogEvents.idOf('capture_gap');
export const kLogBookStale = kPipelineLogEvents.idOf('book_stale');
export const kLogLineStale = kPipelineLogEvents.idOf('line_stale');
export const kLogLineAlive = kPipelineLogEvents.idOf('line_alive');
export const kLogOrderRejected = kPipelineLogEvents.idOf('order_rejected');
export const kLogVenueReject = kPipelineLogEvents.idOf('venue_reject');
export const kLogRingStall = kPipelineLogEvents.idOf('ring_stall');

export function rejectReasonIndex(reason: string): number {
  return REJECT_REASONS.indexOf(reason as (typeof REJECT_REASONS)[number]);
}
