/**
 * A/B line arbitration for one MoldUDP64 session: the same packets arrive on two (or more) lines;
 * the first copy of each message wins and later copies are counted as duplicates of the line that
 * brought them. A missing range is only a gap when every line missed it: the sequencer's gap report is
 * held for `lineWaitMs` (the other line is usually a few microseconds behind), then whatever is still
 * missing goes to the downstream listener (the RetransmitRequester) as a confirmed gap.
 *
 * Per-line health: packets, messages, unique firsts, duplicates, the line's own discontinuities
 * (gaps it saw, whether or not the other line covered them), last arrival time, and stale-line
 * detection (no packet for `staleAfterMs`, reported once until the line speaks again).
 *
 * Nothing is allocated per packet. Single writer: the thread that receives both lines (one RX worker
 * reading two queues, or the event loop for UDP sockets); call poll(now) from its loop or timer.
 */
import { invalidOption } from '../../errors';
import { readU16, readU64 } from '../../common/bytes';
import { ItchMessageHandler } from '../feed-decoder';
import { kMoldUdp64EndOfSession, kMoldUdp64HeaderLength } from '../wire/moldudp64-packet';
import { RecoveryListener, RecoverySequencer, RecoverySequencerOptions } from './recovery-sequencer';

export interface LineArbiterListener extends RecoveryListener {
  onLineStale?(line: number, name: string): void;
  onLineAlive?(line: number, name: string): void;
}

export interface LineArbiterOptions {
  /** Line names, e.g. ['A', 'B'] (default). */
  lines?: string[];
  /** How long a hole may wait for another line before it is a gap (ms, default 2). */
  lineWaitMs?: number;
  /** A line silent this long is stale (ms, default 1000). */
  staleAfterMs?: number;
  /** Confirmed gaps awaiting their wait, at most (default 1024; beyond it gaps are confirmed at once). */
  maxPendingGaps?: number;
  sequencer?: Omit<RecoverySequencerOptions, 'listener' | 'clock'>;
  listener?: LineArbiterListener;
  clock?: () => number;
}

export class LineStats {
  packets = 0;
  messages = 0;
  /** Messages this line delivered first. */
  firsts = 0;
  /** Messages another line (or a retransmission) had already brought. */
  duplicates = 0;
  /** Discontinuities in this line's own sequence, and the messages they skipped. */
  gaps = 0;
  missing = 0;
  lastArrivalMs = 0;
  stale = false;
  staleEvents = 0;
  /** One past the highest sequence this line carried. */
  next = 0;
  constructor(readonly name: string) {}
}

export class LineArbiterCounters {
  /** Holes every line missed (reported downstream). */
  confirmedGaps = 0;
  /** Holes another line filled within the wait. */
  coveredByOtherLine = 0;
  /** Pending ring full: confirmed without waiting. */
  pendingOverflows = 0;
}

export class LineArbiter {
  readonly sequencer: RecoverySequencer;
  readonly lines: LineStats[];
  readonly counters = new LineArbiterCounters();
  private readonly listener: LineArbiterListener;
  private readonly clock: () => number;
  private readonly waitMs: number;
  private readonly staleAfterMs: number;
  private readonly pendFrom: Float64Array;
  private readonly pendTo: Float64Array;
  private readonly pendDue: Float64Array;
  private pendHead = 0;
  private pendCount = 0;

  constructor(handler: ItchMessageHandler, options: LineArbiterOptions = {}) {
    const where = 'LineArbiter';
    const names = options.lines ?? ['A', 'B'];
    if (!Array.isArray(names) || names.length < 1 || names.some((n) => typeof n !== 'string')) throw invalidOption(where, 'lines', names, 'an array of line names');
    const wait = options.lineWaitMs ?? 2;
    if (typeof wait !== 'number' || !(wait >= 0)) throw invalidOption(where, 'lineWaitMs', wait, 'a number of ms >= 0');
    const stale = options.staleAfterMs ?? 1000;
    if (typeof stale !== 'number' || !(stale > 0)) throw invalidOption(where, 'staleAfterMs', stale, 'a number of ms > 0');
    const pending = options.maxPendingGaps ?? 1024;
    if (!Number.isInteger(pending) || pending < 1) throw invalidOption(where, 'maxPendingGaps', pending, 'a positive integer');
    this.lines = names.map((n) => new LineStats(n));
    this.listener = options.listener ?? {};
    this.clock = options.clock ?? Date.now;
    this.waitMs = wait;
    this.staleAfterMs = stale;
    this.pendFrom = new Float64Array(pending);
    this.pendTo = new Float64Array(pending);
    this.pendDue = new Float64Array(pending);
    const l = this.listener;
    this.sequencer = new RecoverySequencer(handler, {
      ...options.sequencer,
      clock: this.clock,
      listener: {
        onGap: (from, to) => this.holeSeen(from, to),
        onLoss: l.onLoss?.bind(l), onBookStale: l.onBookStale?.bind(l), onSessionReset: l.onSessionReset?.bind(l),
      },
    });
  }

  /** One MoldUDP64 packet from line `line`, received at `nowMs`. Returns messages delivered downstream. */
  onLinePacket(line: number, b: Uint8Array, offset: number, length: number, nowMs: number): number {
    const s = this.lines[line];
    s.packets++;
    s.lastArrivalMs = nowMs;
    if (s.stale) { s.stale = false; this.listener.onLineAlive?.(line, s.name); }
    if (length >= kMoldUdp64HeaderLength) {
      const seq = readU64(b, offset + 10);
      const count = readU16(b, offset + 18);
      const n = count === kMoldUdp64EndOfSession ? 0 : count;
      if (s.next > 0 && seq > s.next) { s.gaps++; s.missing += seq - s.next; }
      if (seq + n > s.next) s.next = seq + n;
      s.messages += n;
    }
    const delivered = this.sequencer.onPacket(b, offset, length);
    s.firsts += this.sequencer.lastPacketFirsts;
    s.duplicates += this.sequencer.lastPacketDuplicates;
    return delivered;
  }

  /** A retransmitted packet (not a line): same path, no line statistics. */
  onPacket(b: Uint8Array, offset: number, length: number): number {
    return this.sequencer.onPacket(b, offset, length);
  }

  endOfBatch(): void { this.sequencer.endOfBatch(); }

  /** Confirms holes whose wait is over, detects stale lines, runs the sequencer's hold timeout. */
  poll(now: number): number {
    let work = 0;
    while (this.pendCount > 0 && this.pendDue[this.pendHead] <= now) {
      const h = this.pendHead;
      this.pendHead = (h + 1) % this.pendFrom.length;
      this.pendCount--;
      this.confirm(this.pendFrom[h], this.pendTo[h]);
      work++;
    }
    for (let i = 0; i < this.lines.length; i++) {
      const s = this.lines[i];
      if (!s.stale && s.lastArrivalMs > 0 && now - s.lastArrivalMs >= this.staleAfterMs) {
        s.stale = true;
        s.staleEvents++;
        this.listener.onLineStale?.(i, s.name);
        work++;
      }
    }
    return work + this.sequencer.poll(now);
  }

  private holeSeen(from: number, to: number): void {
    if (this.pendCount === this.pendFrom.length) { this.counters.pendingOverflows++; this.confirm(from, to); return; }
    const i = (this.pendHead + this.pendCount) % this.pendFrom.length;
    this.pendFrom[i] = from;
    this.pendTo[i] = to;
    this.pendDue[i] = this.clock() + this.waitMs;
    this.pendCount++;
  }

  private confirm(from: number, to: number): void {
    const first = this.sequencer.firstMissing(from, to);
    if (first < 0) { this.counters.coveredByOtherLine++; return; }
    this.counters.confirmedGaps++;
    this.listener.onGap?.(first, this.sequencer.lastMissing(first, to));
  }
}
