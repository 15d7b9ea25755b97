/**
 * Reads one RX descriptor ring in place. Single consumer: exactly one thread may call read() for
 * a given ring (the decoder worker of that queue).
 *
 * The hot loop reads the producer position once per batch, calls the handler for each packet with
 * the region bytes, offset and length (no object, no copy per packet), and publishes its own
 * position once at the end: that single store is what lets the native poller free the buffers.
 * Per-record Atomics cost 15-25 ns here, so there is exactly one load and one store per batch.
 */
import { binding } from './native';
import { kLayout, kQueueCounter, kQueueCounterNames } from './layout';
import type { NativeQueueStats } from './native';

/**
 * Called once per packet. `buf` is the whole region; the packet is buf[offset, offset+length).
 * `aux` is the descriptor's backend word: for udp, bits 8-15 are the line index (see
 * RxQueueTransfer.lines and udpLineOf); pcap, the frame number; af_packet, the VLAN tag.
 */
export type PacketHandler = (
  buf: Uint8Array, offset: number, length: number, tsNs: number, endOfBatch: boolean, aux: number,
) => void;

/** The udp backend's line index in a descriptor's aux word. */
export function udpLineOf(aux: number): number {
  return (aux >>> 8) & 0xff;
}

/**
 * For a udp source: the index of a receiver's line (matched by destination group, as a host-order
 * u32, and port) for each of the port's line sockets, indexed by udpLineOf(aux); -1 for a socket
 * whose line the receiver does not use. A port opened with one socket delivers the receiver's first line.
 */
export function udpLineMap(source: { lines?: { group: string; port: number }[] }, groups: Uint32Array, ports: Uint16Array): Int32Array {
  const map = new Int32Array(256).fill(-1);
  if (source.lines === undefined) { map[0] = 0; return map; }
  source.lines.forEach((l, j) => {
    const g = l.group.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    for (let i = 0; i < groups.length; i++) if (groups[i] === g && ports[i] === l.port) { map[j] = i; break; }
  });
  return map;
}

/** Everything a worker needs to read a queue: post it with postMessage (SABs are shared). */
export interface RxQueueTransfer {
  portId: number;
  queue: number;
  ring: SharedArrayBuffer;
  regions: SharedArrayBuffer[];
  /** true when no native poller thread runs: the consumer must call portPoll itself. */
  inline: boolean;
  backend: string;
  /** udp opened with several lines: group and port of each, by the line index in aux. */
  lines?: { group: string; port: number }[];
}

const kTwo32 = 4294967296;

export class RxConsumer {
  readonly queue: number;
  readonly backend: string;
  /** udp with several lines: each line's group and port, by the index udpLineOf(aux) gives. */
  readonly lines: { group: string; port: number }[] | undefined;
  private readonly i32: Int32Array;
  private readonly desc: Uint32Array;
  private readonly counterWords: Uint32Array;
  private readonly regions: Uint8Array[];
  private readonly mask: number;
  private readonly portId: number;
  private readonly inline: boolean;
  private cons: number;

  constructor(t: RxQueueTransfer) {
    this.queue = t.queue;
    this.backend = t.backend;
    this.lines = t.lines;
    this.portId = t.portId;
    this.inline = t.inline;
    this.i32 = new Int32Array(t.ring);
    this.desc = new Uint32Array(t.ring, kLayout.ringHeaderBytes);
    this.counterWords = new Uint32Array(t.ring, kLayout.countersByte, 2 * kLayout.queueCounterCount);
    this.regions = t.regions.map((r) => new Uint8Array(r));
    this.mask = this.i32[kLayout.maskI32];
    this.cons = Atomics.load(this.i32, kLayout.consPosI32) >>> 0;
  }

  /** Reads up to `limit` packets; returns how many. In inline mode it polls the device first. */
  read(handler: PacketHandler, limit = 256): number {
    // Inline: the device is polled until `limit` packets wait (or it has none), one call per read.
    if (this.inline) binding().portPoll(this.portId, this.queue, limit);
    const prod = Atomics.load(this.i32, kLayout.prodPosI32) >>> 0;
    let n = (prod - this.cons) >>> 0;
    if (n === 0) return 0;
    if (n > limit) n = limit;
    const d = this.desc, mask = this.mask, regions = this.regions;
    let c = this.cons;
    for (let i = 0; i < n; i++) {
      const w = (c & mask) << 3;
      handler(regions[d[w + 1] & 0xffff], d[w], d[w + 2], d[w + 5] * kTwo32 + d[w + 4], i === n - 1, d[w + 7]);
      c = (c + 1) >>> 0;
    }
    this.cons = c;
    Atomics.store(this.i32, kLayout.consPosI32, c | 0);
    return n;
  }

  /**
   * Raw access for consumers that want every descriptor field (frame numbers, flags): returns the
   * number available (up to limit) starting at descriptor index `firstIndex()`; read fields with
   * descriptorWord(), then call advance(n) once.
   */
  available(limit = 256): number {
    if (this.inline) binding().portPoll(this.portId, this.queue);
    const n = ((Atomics.load(this.i32, kLayout.prodPosI32) >>> 0) - this.cons) >>> 0;
    return n < limit ? n : limit;
  }

  /** Word w (0..7) of the i-th available descriptor: offset, region|flags<<16, len, wireLen, tsLo, tsHi, queue, aux. */
  descriptorWord(i: number, w: number): number {
    return this.desc[(((this.cons + i) & this.mask) << 3) + w];
  }

  region(index: number): Uint8Array {
    return this.regions[index];
  }

  advance(n: number): void {
    this.cons = (this.cons + n) >>> 0;
    Atomics.store(this.i32, kLayout.consPosI32, this.cons | 0);
  }

  /** True once the source is exhausted (a replayed file ended) and every packet has been read. */
  get eof(): boolean {
    return Atomics.load(this.i32, kLayout.eofI32) === 1 &&
      (Atomics.load(this.i32, kLayout.prodPosI32) >>> 0) === this.cons;
  }

  /** Packets published but not yet read. */
  get backlog(): number {
    return ((Atomics.load(this.i32, kLayout.prodPosI32) >>> 0) - this.cons) >>> 0;
  }

  /**
   * One poller counter without allocating (no BigInt), by index: `counter(kQueueCounter.ringFullDrops)`.
   * For loops that publish stats often. Exact below 2**53; the two halves are read separately, so a
   * value crossing a 2**32 boundary mid-read can be off by that once (the poller writes relaxed).
   */
  counter(i: number): number {
    return this.counterWords[2 * i + 1] * 4294967296 + this.counterWords[2 * i];
  }

  /** The poller's counters as published in shared memory (readable from any thread). */
  ringCounters(): NativeQueueStats {
    const out = {} as NativeQueueStats;
    for (const name of kQueueCounterNames) out[name] = this.counter(kQueueCounter[name]);
    return out;
  }
}
