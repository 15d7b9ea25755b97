/**
 * MoldUDP64 sequencing for one feed: tracks the session and the next expected sequence number, drops
 * duplicates (whole packets, or the already-seen head of an overlapping packet, as happens when A and
 * B feeds are arbitrated or a retransmission overlaps live data), and reports each gap once as a
 * range [from, to] to a listener, which is where a recovery request would start.
 *
 * Pure logic, no I/O, no allocation per packet: sessions are compared as 10 raw bytes. A new session
 * (the exchange restarted the stream, or a new day) resets the expectation to that packet's sequence.
 * Sequence numbers are JS numbers, exact below 2^53. Single writer: the thread decoding the feed.
 */
import { invalidOption } from '../../errors';
import { kMoldUdp64SessionLength } from '../wire/moldudp64-packet';

export interface SequenceGapListener {
  /** Messages `fromSequence`..`toSequence` (inclusive) were never received. */
  onGap(fromSequence: number, toSequence: number): void;
}

export interface SequencerOptions {
  /** Sequence expected first (1 at the start of a session); default: whatever the first packet carries. */
  firstSequence?: number;
  gapListener?: SequenceGapListener;
}

export class SequencerCounters {
  packets = 0;
  /** Messages accepted for delivery. */
  accepted = 0;
  /** Messages dropped because their sequence was already delivered. */
  duplicates = 0;
  gaps = 0;
  /** Messages covered by all reported gaps. */
  missing = 0;
  sessionChanges = 0;
}

export class Sequencer {
  readonly counters = new SequencerCounters();
  /** Next sequence number expected; 0 until the first packet when no firstSequence was given. */
  expected: number;
  private readonly session = new Uint8Array(kMoldUdp64SessionLength);
  private hasSession = false;
  private readonly listener: SequenceGapListener | undefined;
  private ended = false;

  constructor(options: SequencerOptions = {}) {
    const first = options.firstSequence ?? 0;
    if (!Number.isSafeInteger(first) || first < 0) throw invalidOption('Sequencer', 'firstSequence', first, 'a safe integer >= 0');
    if (options.gapListener !== undefined && typeof options.gapListener?.onGap !== 'function') {
      throw invalidOption('Sequencer', 'gapListener', typeof options.gapListener, 'an object with onGap(from, to)');
    }
    this.expected = first;
    this.listener = options.gapListener;
  }

  /** True once an end-of-session packet was seen for the current session. */
  get endOfSession(): boolean { return this.ended; }

  /**
   * A packet of `messageCount` messages starting at `sequenceNumber`, session bytes at
   * `sessionOffset` of `buffer`. Returns how many leading messages to skip as duplicates
   * (`messageCount` means drop them all). Heartbeats (count 0) carry the next sequence and can
   * reveal a gap. `endOfSession` marks the MoldUDP64 end-of-session packet.
   */
  accept(buffer: Uint8Array, sessionOffset: number, sequenceNumber: number, messageCount: number, endOfSession = false): number {
    const c = this.counters;
    c.packets++;
    if (!this.sameSession(buffer, sessionOffset)) {
      if (this.hasSession) c.sessionChanges++;
      for (let i = 0; i < kMoldUdp64SessionLength; i++) this.session[i] = buffer[sessionOffset + i];
      if (this.hasSession || this.expected === 0) this.expected = sequenceNumber;
      this.hasSession = true;
      this.ended = false;
    }
    if (endOfSession) { this.ended = true; return 0; }
    const expected = this.expected;
    if (sequenceNumber > expected) {
      c.gaps++;
      c.missing += sequenceNumber - expected;
      if (this.listener !== undefined) this.listener.onGap(expected, sequenceNumber - 1);
      this.expected = sequenceNumber + messageCount;
      c.accepted += messageCount;
      return 0;
    }
    const end = sequenceNumber + messageCount;
    if (end <= expected) { c.duplicates += messageCount; return messageCount; }
    const skip = expected - sequenceNumber;
    c.duplicates += skip;
    c.accepted += messageCount - skip;
    this.expected = end;
    return skip;
  }

  private sameSession(b: Uint8Array, o: number): boolean {
    if (!this.hasSession) return false;
    const s = this.session;
    for (let i = 0; i < kMoldUdp64SessionLength; i++) if (s[i] !== b[o + i]) return false;
    return true;
  }
}
