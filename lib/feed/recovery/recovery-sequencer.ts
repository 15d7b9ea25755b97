/**
 * Gap-filling MoldUDP64 sequencer for one feed: delivers ITCH messages to an ItchMessageHandler
 * strictly in sequence order, exactly once, and HOLDS whatever arrives after a gap until the gap is
 * filled (by the other line or by a retransmission) or declared lost.
 *
 * sequencer.ts (`Sequencer`) only drops duplicates and reports gaps while letting later
 * messages through; this one is its recovering counterpart, named apart so both can be exported.
 *
 * Held messages are copied into a preallocated window of `maxHeldMessages` fixed slots of
 * `maxMessageLength` bytes, indexed by `sequence & mask`: insert, lookup and release are O(1) and
 * nothing is allocated per message. The window bounds how far past the oldest missing sequence we
 * may hold; a message that would fall beyond it forces the oldest missing messages to be declared
 * lost (held ones before it are released in order). A message longer than a slot cannot be held:
 * it is counted (`tooLongToHold`) and stays missing until it arrives again at the head, where it
 * is delivered in place without a copy (retransmissions arrive in order, so that is where they land).
 *
 * Loss: the head gap is declared lost by `declareLost` (the requester gave up), by `poll` after
 * `maxHoldMs`, or by the window overflowing. The range goes to `onLoss`; which stock locates the lost
 * messages touched is unknowable, so the rule is: after a declared loss (or a stream restart) every
 * book that receives a message is marked "possibly stale" (`onBookStale`, once per locate) until
 * `markFresh` (a snapshot brought it current). Books that see no message after the loss are not
 * flagged one by one: `lossesSinceSnapshot > 0` says that every book is unverified.
 *
 * Single writer: the thread that owns the feed (RX worker, or the event loop for UDP/TCP recovery).
 */
import { invalidOption } from '../../errors';
import { readU16 } from '../../common/bytes';
import { ItchMessageHandler } from '../feed-decoder';
import { ItchDecoder } from '../itch/itch-decoder';
import { kMoldUdp64SessionLength, MoldUdp64Packet } from '../wire/moldudp64-packet';

export interface RecoveryListener {
  /** Messages from..to (inclusive) are missing; reported once, when first seen missing. */
  onGap?(fromSequence: number, toSequence: number): void;
  /** Messages from..to were skipped for good; processing continues after them. */
  onLoss?(fromSequence: number, toSequence: number): void;
  /** First message for `stockLocate` after a loss: its book may be wrong until a snapshot. */
  onBookStale?(stockLocate: number): void;
  /** New session bytes, or the sequence went back by more than `restartThreshold` in the same session. */
  onSessionReset?(newSession: boolean, previousExpected: number, nextExpected: number): void;
}

export interface RecoverySequencerOptions {
  /** Sequence expected first in a session; default (0): whatever the first packet carries. */
  firstSequence?: number;
  /** Held-window size in messages, a power of two (default 4096). */
  maxHeldMessages?: number;
  /** Bytes per held slot (default 64: every ITCH 5.0 message fits). */
  maxMessageLength?: number;
  /** Declare the head gap lost when it has blocked delivery this long (ms, default 0 = never: recovery decides). */
  maxHoldMs?: number;
  /** A same-session packet this far behind `expected` is a publisher restart, not a duplicate (default 1e6). */
  restartThreshold?: number;
  listener?: RecoveryListener;
  clock?: () => number;
  /** Start suspended: hold everything until resumeAt(sequence) (late join behind a snapshot). */
  suspended?: boolean;
}

export class RecoverySequencerCounters {
  packets = 0;
  badPackets = 0;
  heartbeats = 0;
  endOfSession = 0;
  delivered = 0;
  /** Messages at or below what was already delivered or held. */
  duplicates = 0;
  held = 0;
  /** Held messages later released in order. */
  released = 0;
  gaps = 0;
  missing = 0;
  losses = 0;
  lost = 0;
  /** Loss forced because the held window was full. */
  windowOverflows = 0;
  holdTimeouts = 0;
  tooLongToHold = 0;
  undecodable = 0;
  sessionChanges = 0;
  restarts = 0;
  /** Held messages thrown away by a session change or restart. */
  discarded = 0;
  /** Messages held while suspended that the snapshot already covered. */
  coveredBySnapshot = 0;
  staleBooks = 0;
}

const kEmpty = 0;
const kHeld = 1;
const kLost = 2;

export class RecoverySequencer {
  readonly counters = new RecoverySequencerCounters();
  readonly decoder = new ItchDecoder();
  /** Session bytes of the current stream (valid once `hasSession`). */
  readonly session = new Uint8Array(kMoldUdp64SessionLength);
  hasSession = false;
  /** Next sequence to deliver. */
  expected: number;
  /** One past the highest sequence known to exist (>= expected). */
  highSeen: number;
  endOfSession = false;
  /** Declared losses (and restarts) since the last markFresh(): every book is unverified while > 0. */
  lossesSinceSnapshot = 0;
  /** Per stock locate: 1 once it got a message after a loss, until markFresh. */
  readonly staleBooks = new Uint8Array(65536);
  /** Per-packet results for line arbitration: messages new in the last packet, and duplicates in it. */
  lastPacketFirsts = 0;
  lastPacketDuplicates = 0;
  suspended: boolean;
  heldCount = 0;

  /** The MoldUDP64 flyweight every packet (line or retransmission) is read through; its counters are the feed's packet counts. */
  readonly packet = new MoldUdp64Packet();
  private readonly handler: ItchMessageHandler;
  private readonly listener: RecoveryListener;
  private readonly clock: () => number;
  private readonly firstSequence: number;
  private readonly window: number;
  private readonly mask: number;
  private readonly slotBytes: number;
  private readonly arena: Uint8Array;
  private readonly slotSeq: Float64Array;
  private readonly slotLen: Uint16Array;
  private readonly slotState: Uint8Array;
  private readonly maxHoldMs: number;
  private readonly restartThreshold: number;
  /** Time the head became blocked by a missing message; -1 when not blocked. */
  private blockedSince = -1;
  // Pending loss run while skipping, reported once per contiguous range.
  private lossFrom = -1;
  private lossTo = -1;

  constructor(handler: ItchMessageHandler, options: RecoverySequencerOptions = {}) {
    const where = 'RecoverySequencer';
    if (typeof handler?.onMessage !== 'function') throw invalidOption(where, 'handler', typeof handler, 'an ItchMessageHandler');
    const first = options.firstSequence ?? 0;
    if (!Number.isSafeInteger(first) || first < 0) throw invalidOption(where, 'firstSequence', first, 'a safe integer >= 0');
    const window = options.maxHeldMessages ?? 4096;
    if (!Number.isInteger(window) || window < 2 || (window & (window - 1)) !== 0 || window > 1 << 24) {
      throw invalidOption(where, 'maxHeldMessages', window, 'a power of two from 2 to 2^24');
    }
    const slotBytes = options.maxMessageLength ?? 64;
    if (!Number.isInteger(slotBytes) || slotBytes < 1 || slotBytes > 65535) throw invalidOption(where, 'maxMessageLength', slotBytes, 'an integer from 1 to 65535');
    const maxHoldMs = options.maxHoldMs ?? 0;
    if (typeof maxHoldMs !== 'number' || !(maxHoldMs >= 0)) throw invalidOption(where, 'maxHoldMs', maxHoldMs, 'a number of ms >= 0');
    const restart = options.restartThreshold ?? 1_000_000;
    if (!Number.isSafeInteger(restart) || restart < 1) throw invalidOption(where, 'restartThreshold', restart, 'a positive safe integer');
    this.handler = handler;
    this.listener = options.listener ?? {};
    this.clock = options.clock ?? Date.now;
    this.firstSequence = first;
    this.expected = first;
    this.highSeen = first;
    this.window = window;
    this.mask = window - 1;
    this.slotBytes = slotBytes;
    this.arena = new Uint8Array(window * slotBytes);
    this.slotSeq = new Float64Array(window).fill(-1);
    this.slotLen = new Uint16Array(window);
    this.slotState = new Uint8Array(window);
    this.maxHoldMs = maxHoldMs;
    this.restartThreshold = restart;
    this.suspended = options.suspended ?? false;
  }

  /** True when the head is waiting for a missing message. */
  get blocked(): boolean { return this.highSeen > this.expected; }

  /** One MoldUDP64 packet (a UDP payload). Returns how many messages were delivered downstream. */
  onPacket(b: Uint8Array, offset: number, length: number): number {
    const c = this.counters;
    const p = this.packet;
    this.lastPacketFirsts = 0;
    this.lastPacketDuplicates = 0;
    const count = p.wrap(b, offset, length);
    if (count < 0) { c.badPackets++; return 0; }
    c.packets++;
    if (!this.sameSession(b, offset)) this.newSession(b, offset, p.sequenceNumber);
    const seq = p.sequenceNumber;
    if (count === 0) {
      // Heartbeat or end of session: carries the next sequence, proves liveness, may reveal a tail gap.
      if (p.isEndOfSession) { c.endOfSession++; this.endOfSession = true; } else c.heartbeats++;
      if (!this.suspended && seq > this.highSeen) this.tailGap(seq);
      return 0;
    }
    if (seq + count <= this.expected - this.restartThreshold) this.restart(seq);
    const before = c.delivered;
    while (p.nextMessage()) this.onMessage(b, p.messageOffset, p.messageLength, p.messageSequence);
    return c.delivered - before;
  }

  /** One sequenced message (also the entry for transports that frame messages themselves). */
  onMessage(b: Uint8Array, offset: number, length: number, seq: number): void {
    const expected = this.expected;
    if (seq === expected && !this.suspended) {
      this.lastPacketFirsts++;
      this.deliver(b, offset, length, seq);
      this.expected = seq + 1;
      if (this.highSeen <= seq + 1) { this.highSeen = seq + 1; this.blockedSince = -1; } else this.drain();
      return;
    }
    if (seq < expected) { this.counters.duplicates++; this.lastPacketDuplicates++; return; }
    this.hold(b, offset, length, seq);
  }

  endOfBatch(): void {
    this.handler.endOfBatch();
  }

  /** True when `seq` was delivered, is held, or was declared lost. */
  isReceived(seq: number): boolean {
    if (seq < this.expected) return true;
    const i = seq & this.mask;
    return this.slotSeq[i] === seq && this.slotState[i] !== kEmpty;
  }

  /** First sequence in from..to still missing, or -1 when none is. */
  firstMissing(from: number, to: number): number {
    for (let s = from < this.expected ? this.expected : from; s <= to; s++) if (!this.isReceived(s)) return s;
    return -1;
  }

  /** Last sequence in from..to still missing, or -1 when none is. */
  lastMissing(from: number, to: number): number {
    const low = from < this.expected ? this.expected : from;
    for (let s = to; s >= low; s--) if (!this.isReceived(s)) return s;
    return -1;
  }

  /** Give up on from..to: missing ones are lost, held ones are kept and released in order. */
  declareLost(from: number, to: number): void {
    if (to < this.expected) return;
    if (from < this.expected) from = this.expected;
    if (to >= this.highSeen) to = this.highSeen - 1;
    if (to >= this.expected + this.window) { this.skipTo(to + 1); this.drain(); return; }
    for (let s = from; s <= to; s++) {
      const i = s & this.mask;
      if (this.slotSeq[i] === s && this.slotState[i] === kHeld) continue;
      this.slotSeq[i] = s;
      this.slotState[i] = kLost;
    }
    this.drain();
  }

  /** Time-driven work: declares the head gap lost after maxHoldMs. Returns 1 when it did something. */
  poll(now: number): number {
    if (this.maxHoldMs === 0 || this.blockedSince < 0 || this.suspended) return 0;
    if (now - this.blockedSince < this.maxHoldMs) return 0;
    this.counters.holdTimeouts++;
    const last = this.firstHeldAfter(this.expected);
    this.declareLost(this.expected, (last < 0 ? this.highSeen : last) - 1);
    return 1;
  }

  /** A snapshot made `stockLocate` (or, without an argument, every book) current again. */
  markFresh(stockLocate?: number): void {
    if (stockLocate === undefined) { this.staleBooks.fill(0); this.lossesSinceSnapshot = 0; return; }
    this.staleBooks[stockLocate] = 0;
  }

  /** Hold every message from now on (late join: until a snapshot says where to resume). */
  suspend(): void { this.suspended = true; }

  /**
   * Resume delivery at `seq` (the snapshot covers everything before it). Held messages below it are
   * dropped as covered; missing ones at or after it are reported as gaps, held ones released.
   */
  resumeAt(seq: number): void {
    this.suspended = false;
    const c = this.counters;
    if (this.heldCount === 0 || seq >= this.highSeen) {
      c.coveredBySnapshot += this.heldCount;
      this.clearWindow(false);
      this.expected = seq;
      this.highSeen = seq;
      this.blockedSince = -1;
      return;
    }
    if (seq >= this.expected) {
      for (let s = this.expected; s < seq; s++) {
        const i = s & this.mask;
        if (this.slotSeq[i] === s && this.slotState[i] === kHeld) { this.slotState[i] = kEmpty; this.heldCount--; c.coveredBySnapshot++; }
      }
    } else if (this.highSeen - seq > this.window) {
      // The snapshot is older than the window can span: the oldest messages after it are lost.
      const from = seq;
      seq = this.highSeen - this.window;
      this.lossFrom = from;
      this.lossTo = seq - 1;
      this.flushLoss();
    }
    this.expected = seq;
    // Report every missing run between the snapshot point and the newest held message.
    let runStart = -1;
    for (let s = seq; s < this.highSeen; s++) {
      if (!this.isReceived(s)) { if (runStart < 0) runStart = s; continue; }
      if (runStart >= 0) { this.reportGap(runStart, s - 1); runStart = -1; }
    }
    if (runStart >= 0) this.reportGap(runStart, this.highSeen - 1);
    this.drain();
  }

  // --- rare paths below -----------------------------------------------------------------------

  private deliver(b: Uint8Array, offset: number, length: number, seq: number): void {
    const c = this.counters;
    const type = this.decoder.decode(b, offset, length);
    if (type <= 0) { c.undecodable++; return; }
    c.delivered++;
    if (this.lossesSinceSnapshot > 0 && length >= 3) this.touchAfterLoss(readU16(b, offset + 1));
    this.handler.onMessage(this.decoder, type, seq);
  }

  private touchAfterLoss(locate: number): void {
    if (locate === 0 || this.staleBooks[locate] !== 0) return;
    this.staleBooks[locate] = 1;
    this.counters.staleBooks++;
    this.listener.onBookStale?.(locate);
  }

  private hold(b: Uint8Array, offset: number, length: number, seq: number): void {
    const c = this.counters;
    if (this.suspended && !this.hasExpectation()) { this.expected = seq; this.highSeen = seq; }
    if (seq >= this.expected + this.window) {
      if (this.suspended) this.dropOldestSuspended(seq - this.window + 1);
      else {
        // Declare the whole head run lost (up to the first held message), not one message per arrival.
        while (seq >= this.expected + this.window) {
          c.windowOverflows++;
          const held = this.firstHeldAfter(this.expected);
          const target = seq - this.window + 1;
          this.skipTo(held < 0 ? target : Math.max(target, held));
          this.drain();
        }
      }
      if (seq === this.expected && !this.suspended) { this.onMessage(b, offset, length, seq); return; }
    }
    if (seq > this.highSeen && !this.suspended) this.reportGap(this.highSeen, seq - 1);
    if (seq >= this.highSeen) this.highSeen = seq + 1;
    const i = seq & this.mask;
    if (this.slotSeq[i] === seq && this.slotState[i] !== kEmpty) {
      if (this.slotState[i] === kHeld) { c.duplicates++; this.lastPacketDuplicates++; return; }
      // A message arriving after it was declared lost (not yet skipped): take it after all.
    }
    if (length > this.slotBytes) { c.tooLongToHold++; return; }
    // Element copy: a subarray() per held message would allocate.
    const arena = this.arena;
    const at = i * this.slotBytes;
    for (let k = 0; k < length; k++) arena[at + k] = b[offset + k];
    this.slotSeq[i] = seq;
    this.slotLen[i] = length;
    if (this.slotState[i] !== kHeld) this.heldCount++;
    this.slotState[i] = kHeld;
    c.held++;
    this.lastPacketFirsts++;
    if (this.blockedSince < 0 && !this.suspended) this.blockedSince = this.clock();
  }

  private hasExpectation(): boolean {
    return this.expected !== 0 || this.heldCount !== 0;
  }

  private tailGap(nextSeq: number): void {
    this.reportGap(this.highSeen, nextSeq - 1);
    this.highSeen = nextSeq;
    if (this.blockedSince < 0) this.blockedSince = this.clock();
  }

  private reportGap(from: number, to: number): void {
    const c = this.counters;
    c.gaps++;
    c.missing += to - from + 1;
    if (this.blockedSince < 0) this.blockedSince = this.clock();
    this.listener.onGap?.(from, to);
  }

  /** Release held messages from the head; skip the ones declared lost. */
  private drain(): void {
    const c = this.counters;
    const mask = this.mask;
    let advanced = false;
    for (;;) {
      const s = this.expected;
      if (s >= this.highSeen) break;
      const i = s & mask;
      if (this.slotSeq[i] !== s || this.slotState[i] === kEmpty) break;
      if (this.slotState[i] === kHeld) {
        this.flushLoss();
        this.heldCount--;
        this.slotState[i] = kEmpty;
        c.released++;
        this.deliver(this.arena, i * this.slotBytes, this.slotLen[i], s);
      } else {
        this.slotState[i] = kEmpty;
        this.addLoss(s);
      }
      this.expected = s + 1;
      advanced = true;
    }
    this.flushLoss();
    if (this.highSeen <= this.expected) this.blockedSince = -1;
    else if (advanced) this.blockedSince = this.clock();
  }

  /** Advance the head to `target`, releasing held messages and declaring the missing ones lost. */
  private skipTo(target: number): void {
    const c = this.counters;
    const mask = this.mask;
    if (target > this.highSeen) { this.reportGapIfNew(target); }
    for (let s = this.expected; s < target; s++) {
      const i = s & mask;
      if (this.slotSeq[i] === s && this.slotState[i] === kHeld) {
        this.flushLoss();
        this.heldCount--;
        this.slotState[i] = kEmpty;
        c.released++;
        this.deliver(this.arena, i * this.slotBytes, this.slotLen[i], s);
      } else {
        if (this.slotSeq[i] === s) this.slotState[i] = kEmpty;
        this.addLoss(s);
      }
      this.expected = s + 1;
    }
    this.flushLoss();
  }

  private reportGapIfNew(target: number): void {
    this.reportGap(this.highSeen, target - 1);
    this.highSeen = target;
  }

  private addLoss(s: number): void {
    if (this.lossFrom >= 0 && this.lossTo === s - 1) { this.lossTo = s; return; }
    this.flushLoss();
    this.lossFrom = this.lossTo = s;
  }

  private flushLoss(): void {
    if (this.lossFrom < 0) return;
    const from = this.lossFrom;
    const to = this.lossTo;
    this.lossFrom = this.lossTo = -1;
    this.counters.losses++;
    this.counters.lost += to - from + 1;
    this.lossesSinceSnapshot++;
    this.listener.onLoss?.(from, to);
  }

  /** Suspended and out of room: the oldest held messages go (the snapshot will likely cover them). */
  private dropOldestSuspended(newExpected: number): void {
    for (let s = this.expected; s < newExpected && this.heldCount > 0; s++) {
      const i = s & this.mask;
      if (this.slotSeq[i] === s && this.slotState[i] === kHeld) { this.slotState[i] = kEmpty; this.heldCount--; this.counters.discarded++; }
    }
    this.expected = newExpected;
    if (this.highSeen < newExpected) this.highSeen = newExpected;
  }

  private newSession(b: Uint8Array, offset: number, seq: number): void {
    const c = this.counters;
    const previous = this.expected;
    const had = this.hasSession;
    for (let i = 0; i < kMoldUdp64SessionLength; i++) this.session[i] = b[offset + i];
    this.hasSession = true;
    this.endOfSession = false;
    if (!had) {
      if (this.firstSequence === 0 && !this.suspended) this.expected = this.highSeen = seq;
      return;
    }
    c.sessionChanges++;
    this.clearWindow(true);
    this.expected = this.highSeen = this.firstSequence > 0 ? this.firstSequence : seq;
    this.lossesSinceSnapshot++;
    this.listener.onSessionReset?.(true, previous, this.expected);
  }

  private restart(seq: number): void {
    const previous = this.expected;
    this.counters.restarts++;
    this.clearWindow(true);
    this.expected = this.highSeen = seq;
    this.lossesSinceSnapshot++;
    this.listener.onSessionReset?.(false, previous, seq);
  }

  private clearWindow(countDiscarded: boolean): void {
    if (countDiscarded) this.counters.discarded += this.heldCount;
    this.slotState.fill(kEmpty);
    this.slotSeq.fill(-1);
    this.heldCount = 0;
    this.blockedSince = -1;
  }

  private firstHeldAfter(from: number): number {
    for (let s = from; s < this.highSeen && s < from + this.window; s++) {
      const i = s & this.mask;
      if (this.slotSeq[i] === s && this.slotState[i] === kHeld) return s;
    }
    return -1;
  }

  private sameSession(b: Uint8Array, o: number): boolean {
    if (!this.hasSession) return false;
    const s = this.session;
    for (let i = 0; i < kMoldUdp64SessionLength; i++) if (s[i] !== b[o + i]) return false;
    return true;
  }
}
