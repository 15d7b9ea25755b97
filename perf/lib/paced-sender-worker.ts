/** The paced sender's worker lives in lib/tools (tickpath run uses it too); types and the schedule for the benchmarks. */
export { scheduleFrames } from '../../lib/tools/paced-sender-worker';
export type { PaceSegment, PacedSenderJob, PacedSenderReport, PhaseReport } from '../../lib/tools/paced-sender-worker';
