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
} as const;

/** RX descriptor words (u32 each, 8 per descriptor). */
export const kDescOffset = 0;
export const kDescRegionFlags = 1;
export const kDescLen = 2;
export const kDescWireLen = 3;
export const kDescTsLo = 4;
export const kDescTsHi = 5;
export const kDescQueue = 6;
export const kDescAux = 7;
