// Shared-memory primitives for the JS pipeline stages: rings, pools, idling, time, metrics, logging.
// ring-layout's k* index constants stay internal: their names (kCapacityI32, kMaskI32...) would
// collide with lib/binding/layout's mirror of the native ring in a flat re-export.
export { kRingHeaderBytes, kMaxRingCapacity, isPowerOfTwo } from './ring-layout';
export { SpscRing, type RecordHandler, type SpscRingOptions } from './spsc-ring';
export {
  FrameRing,
  type FrameHandler,
  type FrameRingOptions,
  kFrameHeaderBytes,
  kFrameAlignment,
  kPaddingLength,
} from './frame-ring';
export { MemoryPool, type MemoryPoolOptions } from './memory-pool';
export {
  type IdleStrategy,
  type IdleStrategyName,
  type BackoffOptions,
  kIdleStrategyNames,
  BusySpinIdleStrategy,
  YieldIdleStrategy,
  BackoffIdleStrategy,
  createIdleStrategy,
  idleAsync,
} from './idle-strategy';
export { type Clock, MonotonicClock, ManualClock, systemClock } from './clock';
export {
  LatencyRecorder,
  type LatencyRecorderOptions,
  type LatencySummary,
  type SerializedLatency,
} from './latency-recorder';
export * from './counters';
export * from './logger';
export {
  AgentRunner,
  type Agent,
  kRunnerStateI32,
  kRunnerTurnsI32,
  kRunnerControlBytes,
  kRunnerRunning,
  kRunnerStopRequested,
  kRunnerStopped,
} from './agent-runner';
export { CompositeAgent } from './composite-agent';
