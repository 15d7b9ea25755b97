/**
 * Shared-memory layout of the native rings, mirrored from dpdk-binding/src/ring_layout.h.
 * test/binding/layout.test.ts checks every constant against the addon's own `layout` export, so
 * the two cannot drift apart silently.
 */
export const kLayout = {
  ringHeaderBytes: 256,
  prodPosI32: 0,
  consPosI32: 16,
  capacityI32: 32,
  maskI32: 33,
  descBytesI32: 34,
  queueI32: 35,
  stateI32: 36,
  eofI32: 38,
  txSlotBytesI32: 37,
  countersByte: 192,
  descBytes: 32,
  txDescWords: 2,
  flagTruncated: 1,
  flagTsHw: 2,
  flagTsSw: 4,
  flagTsFile: 8,
  flagTsPoll: 16,
  flagL4Payload: 32,
  queueCounterCount: 8,
} as const;

/**
 * Per-queue counters: index of each u64 on the RX ring's counters line (at kLayout.countersByte),
 * mirrored from the one list in ring_layout.h (TICKPATH_QUEUE_COUNTERS) and checked against the
 * addon's `queueCounters` export. Single writer: the queue's poller; `Port.stats()` reports them
 * by these names and `RxConsumer.counter(kQueueCounter.x)` reads one in place.
 */
export const kQueueCounter = {
  rxPackets: 0,
  rxBytes: 1,
  ringFullDrops: 2,
  truncated: 3,
  txPackets: 4,
  txBytes: 5,
  /** Refused by the device for good (link down, too long for the link): dropped, never retried. */
  txFailed: 6,
  /** Longer than the TX slot or the device's largest frame: dropped before reaching the device. */
  txOversize: 7,
} as const;

export type QueueCounterName = keyof typeof kQueueCounter;
export const kQueueCounterNames = Object.keys(kQueueCounter) as QueueCounterName[];

/** RX descriptor words (u32 each, 8 per descriptor). */
export const kDescOffset = 0;
export const kDescRegionFlags = 1;
export const kDescLen = 2;
export const kDescWireLen = 3;
export const kDescTsLo = 4;
export const kDescTsHi = 5;
export const kDescQueue = 6;
export const kDescAux = 7;
