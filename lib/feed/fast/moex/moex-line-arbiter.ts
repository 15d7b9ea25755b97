/**
 * A/B line arbitration for one MOEX channel by the datagram MsgSeqNum prefix: both lines carry the
 * same datagrams; the first copy of each MsgSeqNum is delivered, later copies are counted as the
 * duplicates of the line that brought them, and datagrams are delivered in MsgSeqNum order.
 *
 * A datagram ahead of the next expected one is copied into a preallocated pending ring (the other
 * line usually fills the hole within microseconds) and delivered once the hole is filled. A hole
 * still open after `lineWaitMs` (checked on every datagram and by `poll(now)`), or a full ring, is a
 * confirmed gap: the listener hears onGap(from, to) once and delivery resumes after it; the book
 * adapter's RptSeq checks then find which instruments it touched. A MsgSeqNum far below the expected
 * one (`resetWindow`) is the exchange restarting the sequence: counted, accepted as the new start.
 * Copies happen only on out-of-order datagrams; nothing is allocated after construction.
 *
 * Single writer: the thread that receives both lines; call poll(now) from its loop or timer.
 */
import { invalidOption } from '../../../errors';

export interface MoexPacketSink {
  /** One datagram in MsgSeqNum order (prefix included); returns messages delivered. */
  decodePayload(b: Uint8Array, offset: number, length: number): number;
}

export interface MoexArbiterListener {
  onGap?(fromMsgSeqNum: number, toMsgSeqNum: number): void;
  onSequenceReset?(msgSeqNum: number): void;
}

export interface MoexLineArbiterOptions {
  lines?: string[];
  /** How long a hole may wait for the other line (ms, default 2). */
  lineWaitMs?: number;
  /** Datagrams held while a hole is open (default 256). */
  capacity?: number;
  /** Largest datagram held (default 1500). */
  maxDatagram?: number;
  /** A MsgSeqNum this far below the expected one restarts the sequence (default 100000). */
  resetWindow?: number;
  listener?: MoexArbiterListener;
  clock?: () => number;
}

export class MoexLineStats {
  datagrams = 0;
  firsts = 0;
  duplicates = 0;
  lastArrivalMs = 0;
  constructor(readonly name: string) {}
}

export class MoexArbiterCounters {
  delivered = 0;
  held = 0;
  gaps = 0;
  missing = 0;
  sequenceResets = 0;
  tooLarge = 0;
}

export class MoexLineArbiter {
  readonly lines: MoexLineStats[];
  readonly counters = new MoexArbiterCounters();
  /** Next MsgSeqNum to deliver; 0 until the first datagram. */
  expected = 0;
  private readonly sink: MoexPacketSink;
  private readonly listener: MoexArbiterListener | undefined;
  private readonly clock: () => number;
  private readonly waitMs: number;
  private readonly resetWindow: number;
  private readonly capacity: number;
  private readonly maxDatagram: number;
  private readonly ring: Uint8Array;
  private readonly ringSeq: Float64Array;
  private readonly ringLength: Int32Array;
  private held = 0;
  /** When the current hole opened (ms), -1 when none. */
  private holeSince = -1;

  constructor(sink: MoexPacketSink, options: MoexLineArbiterOptions = {}) {
    const names = options.lines ?? ['A', 'B'];
    if (!Array.isArray(names) || names.length === 0) throw invalidOption('MoexLineArbiter', 'lines', names, 'a non-empty array of line names');
    const capacity = options.capacity ?? 256;
    if (!Number.isInteger(capacity) || capacity < 1) throw invalidOption('MoexLineArbiter', 'capacity', capacity, 'an integer >= 1');
    this.sink = sink;
    this.lines = names.map((n) => new MoexLineStats(n));
    this.listener = options.listener;
    this.clock = options.clock ?? (() => performance.now());
    this.waitMs = options.lineWaitMs ?? 2;
    this.resetWindow = options.resetWindow ?? 100000;
    this.capacity = capacity;
    this.maxDatagram = options.maxDatagram ?? 1500;
    this.ring = new Uint8Array(capacity * this.maxDatagram);
    this.ringSeq = new Float64Array(capacity);
    this.ringLength = new Int32Array(capacity);
  }

  /** One datagram from `line`; returns messages delivered (this one and any it released). */
  onDatagram(line: number, b: Uint8Array, offset: number, length: number): number {
    if (length < 4) return 0;
    const now = this.clock();
    const stats = this.lines[line];
    stats.datagrams++;
    stats.lastArrivalMs = now;
    const seq = (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16)) + b[offset + 3] * 16777216;
    let delivered = 0;
    if (this.expected === 0 || seq + this.resetWindow < this.expected) {
      if (this.expected !== 0) { this.counters.sequenceResets++; this.listener?.onSequenceReset?.(seq); }
      this.held = 0;
      this.holeSince = -1;
      this.expected = seq;
    }
    if (seq < this.expected || this.isHeld(seq)) { stats.duplicates++; return this.expire(now); }
    stats.firsts++;
    if (seq === this.expected) {
      delivered += this.deliver(b, offset, length, seq);
      delivered += this.drain();
    } else {
      if (this.held === this.capacity || length > this.maxDatagram) {
        if (length > this.maxDatagram) this.counters.tooLarge++;
        delivered += this.confirmGap(this.held > 0 ? Math.min(seq, this.lowestHeld()) : seq);
        if (seq === this.expected) { delivered += this.deliver(b, offset, length, seq); delivered += this.drain(); return delivered; }
      }
      this.hold(b, offset, length, seq);
      if (this.holeSince < 0) this.holeSince = now;
    }
    return delivered + this.expire(now);
  }

  /** Confirm holes older than lineWaitMs; returns messages delivered after them. */
  poll(now = this.clock()): number {
    return this.expire(now);
  }

  private expire(now: number): number {
    if (this.holeSince < 0 || now - this.holeSince < this.waitMs || this.held === 0) return 0;
    return this.confirmGap(this.lowestHeld());
  }

  /** Everything before `upTo` is lost: report it, move on, deliver what is now in order. */
  private confirmGap(upTo: number): number {
    if (upTo > this.expected) {
      this.counters.gaps++;
      this.counters.missing += upTo - this.expected;
      this.listener?.onGap?.(this.expected, upTo - 1);
      this.expected = upTo;
    }
    this.holeSince = -1;
    return this.drain();
  }

  private deliver(b: Uint8Array, offset: number, length: number, seq: number): number {
    this.expected = seq + 1;
    this.counters.delivered++;
    return this.sink.decodePayload(b, offset, length);
  }

  /** Deliver held datagrams that are now next in order. */
  private drain(): number {
    let delivered = 0;
    let found = true;
    while (found && this.held > 0) {
      found = false;
      for (let i = 0; i < this.held; i++) {
        if (this.ringSeq[i] === this.expected) {
          const at = i * this.maxDatagram;
          delivered += this.deliver(this.ring, at, this.ringLength[i], this.ringSeq[i]);
          this.removeHeld(i);
          found = true;
          break;
        }
      }
    }
    // Held copies of what was already delivered or skipped are dropped.
    for (let i = 0; i < this.held;) { if (this.ringSeq[i] < this.expected) this.removeHeld(i); else i++; }
    if (this.held === 0) this.holeSince = -1;
    else if (this.holeSince < 0) this.holeSince = this.clock();
    return delivered;
  }

  private hold(b: Uint8Array, offset: number, length: number, seq: number): void {
    const i = this.held++;
    this.ring.set(b.subarray(offset, offset + length), i * this.maxDatagram);
    this.ringSeq[i] = seq;
    this.ringLength[i] = length;
    this.counters.held++;
  }

  private removeHeld(i: number): void {
    const last = --this.held;
    if (i !== last) {
      this.ring.copyWithin(i * this.maxDatagram, last * this.maxDatagram, last * this.maxDatagram + this.ringLength[last]);
      this.ringSeq[i] = this.ringSeq[last];
      this.ringLength[i] = this.ringLength[last];
    }
  }

  private isHeld(seq: number): boolean {
    for (let i = 0; i < this.held; i++) if (this.ringSeq[i] === seq) return true;
    return false;
  }

  private lowestHeld(): number {
    let low = Infinity;
    for (let i = 0; i < this.held; i++) if (this.ringSeq[i] < low) low = this.ringSeq[i];
    return low;
  }
}
