import { TickpathError } from '../errors';

/**
 * Shared-memory layout of the JS-to-JS rings (SpscRing, FrameRing). Same shape as the native RX
 * ring in dpdk-binding/src/ring_layout.h so one mental model covers both: 32-bit wrapping
 * positions read with Atomics on an Int32Array, each on its own 64-byte line with one writer.
 *
 * byte 0    producer line: [kProducerPosI32]           written only by the producer thread
 * byte 64   consumer line: [kConsumerPosI32]           written only by the consumer thread
 * byte 128  config line (written once by create(), read by attach()):
 *           [kMagicI32] [kCapacityI32] [kMaskI32] [kRecordBytesI32]
 * byte 192  data: capacity * recordBytes (SpscRing) or capacity bytes (FrameRing)
 *
 * 192 is a multiple of 8, so Float64 words inside records stay aligned.
 */
export const kRingHeaderBytes = 192;
export const kProducerPosI32 = 0;
export const kConsumerPosI32 = 16;
export const kMagicI32 = 32;
export const kCapacityI32 = 33;
export const kMaskI32 = 34;
export const kRecordBytesI32 = 35;

/** Tags the buffer so attach() refuses a FrameRing buffer handed to SpscRing and vice versa. */
export const kSpscRingMagic = 0x54505352; // 'TPSR'
export const kFrameRingMagic = 0x54504652; // 'TPFR'

/** Largest ring: positions wrap at 2**32, so capacity must divide 2**32 and differences fit int32. */
export const kMaxRingCapacity = 1 << 30;

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/**
 * attach()'s checks, shared by both rings: the magic says which kind of ring made the buffer, and
 * the buffer must be as large as its header says. Returns the header view. `noun` is the kind with
 * its article ('an SpscRing'), for the message.
 */
export function checkRingHeader(sab: SharedArrayBuffer, kind: string, noun: string, magic: number,
  bytesFor: (capacity: number, recordBytes: number) => number): Int32Array {
  const header = new Int32Array(sab, 0, kRingHeaderBytes >> 2);
  if (Atomics.load(header, kMagicI32) !== magic) {
    throw new TickpathError(
      'ERR_RING_ATTACH',
      `${kind}.attach: buffer is not ${noun} (magic 0x${(header[kMagicI32] >>> 0).toString(16)})`,
      `pass the .sab of a ring made by ${kind}.create()`,
    );
  }
  const need = bytesFor(header[kCapacityI32], header[kRecordBytesI32]);
  if (sab.byteLength < need) {
    throw new TickpathError('ERR_RING_ATTACH', `${kind}.attach: buffer has ${sab.byteLength} bytes, header needs ${need}`);
  }
  return header;
}
