/**
 * A tiny raw-ring consumer for binding tests and perf (until lib/binding's consumer is the one to
 * use): opens a port through the addon, maps its regions and rings, and drains RX descriptors in
 * place, publishing the consumer position once per batch. Single consumer: the thread that calls
 * drain(). No object is created per packet: the handler gets the region's bytes and numbers.
 */
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as path from 'path';
import type { NativeBinding } from '../../lib/binding/native';

/** The addon's typed surface, as lib/binding declares it. */
export type NativeAddon = NativeBinding;
export type PortStats = ReturnType<NativeBinding['portStats']>;

export const kAddonPath = path.resolve(__dirname, '../../../build/Release/tickpath.node');

export function loadAddon(): NativeAddon {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require(kAddonPath) as NativeAddon;
}

/**
 * Opens `backend` on lo in a child running as user nobody (setpriv); the child prints 'opened' or
 * the error's { errno, message } as JSON. A non-zero status means the child could not be run.
 */
export function openPortAsNobody(backend: string): SpawnSyncReturns<string> {
  const script = `try { require(${JSON.stringify(kAddonPath)}).openPort('${backend}', { interface: 'lo' }); console.log('opened'); } catch (e) { console.log(JSON.stringify({ errno: e.errno, message: e.message })); }`;
  return spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
}

const kRingHeaderBytes = 256;
const kProdPos = 0;
const kConsPos = 16;
const kMask = 33;
const kTxSlotBytes = 37;
const kDescWords = 8;

/** Called once per packet: region bytes, then the descriptor's fields. */
export type PacketHandler = (
  region: Uint8Array, offset: number, len: number, wireLen: number, flags: number,
  tsLo: number, tsHi: number, aux: number,
) => void;

export class RawRxConsumer {
  readonly regions: Uint8Array[];
  private readonly ring: Int32Array;
  private readonly descs: Uint32Array;
  private readonly mask: number;
  private cons: number;
  packets = 0;
  bytes = 0;

  constructor(private readonly addon: NativeAddon, readonly portId: number, readonly queue = 0, private readonly inline = true) {
    this.regions = addon.portRegions(portId).map((b) => new Uint8Array(b));
    const sab = addon.portRxRing(portId, queue);
    this.ring = new Int32Array(sab);
    this.descs = new Uint32Array(sab, kRingHeaderBytes);
    this.mask = this.ring[kMask];
    this.cons = Atomics.load(this.ring, kConsPos) >>> 0;
  }

  /** One batch: poll (inline mode), hand every ready descriptor to fn, publish. Returns how many. */
  drain(fn: PacketHandler): number {
    if (this.inline) this.addon.portPoll(this.portId, this.queue);
    const prod = Atomics.load(this.ring, kProdPos) >>> 0;
    let cons = this.cons;
    const n = (prod - cons) >>> 0;
    if (n === 0) return 0;
    const d = this.descs;
    while (cons !== prod) {
      const w = (cons & this.mask) * kDescWords;
      const rf = d[w + 1];
      const len = d[w + 2];
      fn(this.regions[rf & 0xffff], d[w], len, d[w + 3], rf >>> 16, d[w + 4], d[w + 5], d[w + 7]);
      this.bytes += len;
      cons = (cons + 1) >>> 0;
    }
    this.packets += n;
    this.cons = cons;
    Atomics.store(this.ring, kConsPos, cons | 0);
    return n;
  }

  /** Drains until `want` packets arrived or `timeoutMs` passed, yielding to the event loop between empty polls. */
  async drainUntil(want: number, timeoutMs: number, fn: PacketHandler): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let idle = 0;
    while (this.packets < want && Date.now() < deadline) {
      if (this.drain(fn) === 0) {
        if (++idle % 64 === 0) await new Promise((r) => setTimeout(r, 1));
        else if (idle % 8 === 0) await new Promise((r) => setImmediate(r));
      } else idle = 0;
    }
    return this.packets;
  }
}

/** Posts frames on a port's TX ring (JS producer); the poller (inline: portPoll) sends them. */
export class RawTxProducer {
  private readonly ring: Int32Array;
  private readonly descs: Uint32Array;
  private readonly slots: Uint8Array;
  private readonly mask: number;
  private readonly slotBytes: number;
  private prod: number;

  constructor(addon: NativeAddon, readonly portId: number, readonly queue = 0) {
    const sab = addon.portTxRing(portId, queue);
    this.ring = new Int32Array(sab);
    this.descs = new Uint32Array(sab, kRingHeaderBytes);
    this.slots = new Uint8Array(addon.portTxSlots(portId, queue));
    this.mask = this.ring[kMask];
    this.slotBytes = this.ring[kTxSlotBytes];
    this.prod = Atomics.load(this.ring, kProdPos) >>> 0;
  }

  /** Queues one frame; false when the ring is full. Call publish() after a batch. */
  offer(frame: Uint8Array): boolean {
    const cons = Atomics.load(this.ring, kConsPos) >>> 0;
    if (((this.prod - cons) >>> 0) > this.mask) return false;
    const slot = this.prod & this.mask;
    this.slots.set(frame.subarray(0, this.slotBytes), slot * this.slotBytes);
    this.descs[slot * 2] = slot;
    this.descs[slot * 2 + 1] = Math.min(frame.length, this.slotBytes);
    this.prod = (this.prod + 1) >>> 0;
    return true;
  }

  publish(): void {
    Atomics.store(this.ring, kProdPos, this.prod | 0);
  }

  pending(): number {
    return (this.prod - (Atomics.load(this.ring, kConsPos) >>> 0)) >>> 0;
  }
}
