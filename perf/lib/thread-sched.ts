/** Moved to lib/ops (tickpath run reports it too); the benchmarks read the same one. */
export { schedDelta, schedSnapshot, workerTidFromLog } from '../../lib/ops/thread-sched';
export type { SchedReport, SchedSnapshot, ThreadSched, ThreadSchedDelta, CpuTimes } from '../../lib/ops/thread-sched';
