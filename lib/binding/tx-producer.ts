/**
 * Writes frames into a port's TX slots and posts them. Single producer: one thread per TX queue.
 *
 * Slot i belongs to ring position i & mask, so claiming a slot and claiming a descriptor are the
 * same step. Frames become visible to the native poller only at publish(), once per batch.
 */
import { binding } from './native';
import { kLayout } from './layout';

export interface TxQueueTransfer {
  portId: number;
  queue: number;
  ring: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  inline: boolean;
}

export class TxProducer {
  /** All TX slots; a claimed slot's frame goes at slotOffset(slot). */
  readonly bytes: Uint8Array;
  readonly slotBytes: number;
  private readonly i32: Int32Array;
  private readonly desc: Uint32Array;
  private readonly capacity: number;
  private readonly mask: number;
  private readonly portId: number;
  private readonly queue: number;
  private readonly inline: boolean;
  private prod: number;
  private consCache: number;

  constructor(t: TxQueueTransfer) {
    this.i32 = new Int32Array(t.ring);
    this.desc = new Uint32Array(t.ring, kLayout.ringHeaderBytes);
    this.bytes = new Uint8Array(t.slots);
    this.capacity = this.i32[kLayout.capacityI32];
    this.mask = this.i32[kLayout.maskI32];
    this.slotBytes = this.i32[kLayout.txSlotBytesI32];
    this.portId = t.portId;
    this.queue = t.queue;
    this.inline = t.inline;
    this.prod = Atomics.load(this.i32, kLayout.prodPosI32) >>> 0;
    this.consCache = Atomics.load(this.i32, kLayout.consPosI32) >>> 0;
  }

  /** Claims the next slot; returns its index, or -1 when every slot is in flight. */
  tryClaim(): number {
    if (((this.prod - this.consCache) >>> 0) >= this.capacity) {
      if (this.inline) binding().portPoll(this.portId, this.queue);
      this.consCache = Atomics.load(this.i32, kLayout.consPosI32) >>> 0;
      if (((this.prod - this.consCache) >>> 0) >= this.capacity) return -1;
    }
    return this.prod & this.mask;
  }

  slotOffset(slot: number): number {
    return slot * this.slotBytes;
  }

  /** Records the frame length of the slot claimed last; call publish() after the batch. */
  commit(slot: number, length: number): void {
    const w = (this.prod & this.mask) * kLayout.txDescWords;
    this.desc[w] = slot;
    this.desc[w + 1] = length > this.slotBytes ? this.slotBytes : length;
    this.prod = (this.prod + 1) >>> 0;
  }

  /** Makes every committed frame visible to the poller (one store per batch). */
  publish(): void {
    Atomics.store(this.i32, kLayout.prodPosI32, this.prod | 0);
    if (this.inline) binding().portPoll(this.portId, this.queue);
  }

  /** Frames posted but not yet taken by the device. */
  get inFlight(): number {
    return (this.prod - (Atomics.load(this.i32, kLayout.consPosI32) >>> 0)) >>> 0;
  }
}
