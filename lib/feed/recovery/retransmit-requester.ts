/**
 * MoldUDP64 retransmission requester: turns gaps reported by a RecoverySequencer into request
 * packets (Session, Sequence Number, Requested Message Count) sent over UDP to the re-request server,
 * and feeds the responses (ordinary MoldUDP64 packets from the server's unicast socket) back into
 * the same sequencer, where they fill the gap and release what was held behind it.
 *
 * Bounded: at most `maxOutstanding` requests in flight, at most `maxMessagesPerRequest` messages
 * each, pending ranges in a fixed ring of `maxPendingRanges` (a range that does not fit is declared
 * lost at once, counted). A request with no progress for `timeoutMs` is sent again, up to
 * `maxRetries` times, then the range's missing messages are declared lost. A partial answer (the
 * server fills one packet) is followed at once by a request for the remainder, not counted as a retry.
 *
 * Gaps are rare: this is not the hot path, but it still allocates nothing per request (each in-flight
 * slot owns its 20-byte request buffer, so a send never reuses a buffer the kernel still reads).
 * Threading: the event loop that owns the sequencer; call `poll(now)` from the feed's timer or loop.
 */
import * as dgram from 'dgram';
import { invalidOption } from '../../errors';
import { writeU16, writeU64 } from '../../common/bytes';
import { SequenceGapListener } from './sequencer';
import { kMoldUdp64RequestLength } from './rerequest-server';
import { RecoverySequencer } from './recovery-sequencer';

export interface PacketSink {
  onPacket(b: Uint8Array, offset: number, length: number): number;
}

export interface RetransmitRequesterOptions {
  host: string;
  port: number;
  maxOutstanding?: number;
  maxMessagesPerRequest?: number;
  timeoutMs?: number;
  maxRetries?: number;
  maxPendingRanges?: number;
  /** Where responses go (default: the sequencer; a LineArbiter passes itself). */
  sink?: PacketSink;
}

export class RetransmitRequesterCounters {
  gapsQueued = 0;
  requestsSent = 0;
  retries = 0;
  responses = 0;
  /** Requests completed (every message of the range received). */
  filled = 0;
  /** Ranges given up after maxRetries. */
  givenUp = 0;
  /** Ranges declared lost because the pending ring was full. */
  queueOverflows = 0;
}

export class RetransmitRequester implements SequenceGapListener {
  readonly counters = new RetransmitRequesterCounters();
  private socket: dgram.Socket | null = null;
  private readonly sink: PacketSink;
  private readonly maxOutstanding: number;
  private readonly maxPerRequest: number;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  // Pending ranges: ring of [from, to].
  private readonly pendingFrom: Float64Array;
  private readonly pendingTo: Float64Array;
  private pendingHead = 0;
  private pendingCount = 0;
  // In-flight slots.
  private readonly slotFrom: Float64Array;
  private readonly slotTo: Float64Array;
  /** First sequence the last send asked for. */
  private readonly slotAsked: Float64Array;
  private readonly slotSentAt: Float64Array;
  private readonly slotRetries: Uint16Array;
  private readonly slotBusy: Uint8Array;
  private readonly slotBuffers: Buffer[];

  constructor(private readonly sequencer: RecoverySequencer, private readonly options: RetransmitRequesterOptions) {
    const where = 'RetransmitRequester';
    if (typeof options.host !== 'string' || options.host === '') throw invalidOption(where, 'host', options.host, 'a host name or address');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw invalidOption(where, 'port', options.port, 'an integer from 1 to 65535');
    const int = (name: keyof RetransmitRequesterOptions, v: number, min: number, max: number): number => {
      if (!Number.isInteger(v) || v < min || v > max) throw invalidOption(where, name, v, `an integer from ${min} to ${max}`);
      return v;
    };
    this.maxOutstanding = int('maxOutstanding', options.maxOutstanding ?? 4, 1, 1024);
    this.maxPerRequest = int('maxMessagesPerRequest', options.maxMessagesPerRequest ?? 1000, 1, 0xfffe);
    this.timeoutMs = int('timeoutMs', options.timeoutMs ?? 200, 1, 3_600_000);
    this.maxRetries = int('maxRetries', options.maxRetries ?? 3, 0, 1000);
    const pending = int('maxPendingRanges', options.maxPendingRanges ?? 1024, 1, 1 << 20);
    this.sink = options.sink ?? sequencer;
    this.pendingFrom = new Float64Array(pending);
    this.pendingTo = new Float64Array(pending);
    const n = this.maxOutstanding;
    this.slotFrom = new Float64Array(n);
    this.slotTo = new Float64Array(n);
    this.slotAsked = new Float64Array(n);
    this.slotSentAt = new Float64Array(n);
    this.slotRetries = new Uint16Array(n);
    this.slotBusy = new Uint8Array(n);
    this.slotBuffers = Array.from({ length: n }, () => Buffer.alloc(kMoldUdp64RequestLength));
  }

  /** Opens the request socket (ephemeral local port); responses come back to it. */
  start(bindAddress = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      this.socket = sock;
      sock.once('error', reject);
      sock.on('message', (msg) => {
        this.counters.responses++;
        this.sink.onPacket(msg, 0, msg.length);
        this.poll(Date.now());
      });
      sock.bind(0, bindAddress, () => { sock.off('error', reject); sock.on('error', () => { /* retried by timeout */ }); resolve(); });
    });
  }

  /** Requests in flight plus ranges waiting. */
  get outstanding(): number {
    let n = this.pendingCount;
    for (let i = 0; i < this.slotBusy.length; i++) n += this.slotBusy[i];
    return n;
  }

  onGap(fromSequence: number, toSequence: number): void {
    const c = this.counters;
    if (this.pendingCount === this.pendingFrom.length) { c.queueOverflows++; this.sequencer.declareLost(fromSequence, toSequence); return; }
    const i = (this.pendingHead + this.pendingCount) % this.pendingFrom.length;
    this.pendingFrom[i] = fromSequence;
    this.pendingTo[i] = toSequence;
    this.pendingCount++;
    c.gapsQueued++;
    // Only start requests here: this runs inside the sequencer's packet handling, where declaring a
    // loss (poll's give-up path) would re-enter it.
    this.startPending(Date.now());
  }

  /** Retries, gives up, completes and starts requests. Returns how many requests it sent. */
  poll(now: number): number {
    const seq = this.sequencer;
    let sent = 0;
    for (let k = 0; k < this.slotBusy.length; k++) {
      if (this.slotBusy[k] === 0) continue;
      const first = seq.firstMissing(this.slotFrom[k], this.slotTo[k]);
      if (first < 0) { this.slotBusy[k] = 0; this.counters.filled++; continue; }
      if (first > this.slotAsked[k]) { this.send(k, first, now); sent++; continue; }
      if (now - this.slotSentAt[k] < this.timeoutMs) continue;
      if (this.slotRetries[k] >= this.maxRetries) {
        this.slotBusy[k] = 0;
        this.counters.givenUp++;
        seq.declareLost(this.slotFrom[k], this.slotTo[k]);
        continue;
      }
      this.slotRetries[k]++;
      this.counters.retries++;
      this.send(k, first, now);
      sent++;
    }
    return sent + this.startPending(now);
  }

  private startPending(now: number): number {
    const seq = this.sequencer;
    let sent = 0;
    for (let k = 0; k < this.slotBusy.length && this.pendingCount > 0; k++) {
      if (this.slotBusy[k] !== 0) continue;
      const h = this.pendingHead;
      const to = this.pendingTo[h];
      const first = seq.firstMissing(this.pendingFrom[h], to);
      if (first < 0) { this.popPending(); k--; continue; }
      const last = Math.min(to, first + this.maxPerRequest - 1);
      if (last === to) this.popPending(); else this.pendingFrom[h] = last + 1;
      this.slotFrom[k] = first;
      this.slotTo[k] = last;
      this.slotRetries[k] = 0;
      this.slotBusy[k] = 1;
      this.send(k, first, now);
      sent++;
    }
    return sent;
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  private popPending(): void {
    this.pendingHead = (this.pendingHead + 1) % this.pendingFrom.length;
    this.pendingCount--;
  }

  private send(k: number, first: number, now: number): void {
    const b = this.slotBuffers[k];
    b.set(this.sequencer.session, 0);
    writeU64(b, 10, first);
    writeU16(b, 18, this.slotTo[k] - first + 1);
    this.slotAsked[k] = first;
    this.slotSentAt[k] = now;
    this.counters.requestsSent++;
    this.socket?.send(b, 0, kMoldUdp64RequestLength, this.options.port, this.options.host);
  }
}
