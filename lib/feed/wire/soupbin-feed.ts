/**
 * ITCH over SoupBinTCP 3.0: the TCP alternative to MoldUDP64 (and the transport GLIMPSE snapshots use).
 * Wraps lib/protocols' SoupBinClient: logs in with the session and the next expected sequence,
 * heartbeats both ways, decodes each Sequenced Data payload with the ItchDecoder flyweights and hands
 * it to the same ItchMessageHandler as the UDP path, with its sequence number. When the connection
 * drops (not at End of Session, not after stop()) it reconnects after `reconnectDelayMs`, asking for
 * the client's next expected sequence, so nothing is lost or seen twice.
 *
 * endOfBatch: the client delivers frames one by one from a socket 'data' chunk; one microtask queued
 * per chunk (a preallocated function) calls handler.endOfBatch() once after the chunk.
 * Threading: one event loop.
 */
import { invalidOption } from '../../errors';
import { SoupBinClient, SoupClientHandler, SoupClientOptions } from '../../protocols/soupbin/soupbin-client';
import { ItchMessageHandler } from '../feed-decoder';
import { ItchDecoder } from '../itch/itch-decoder';

export interface SoupBinFeedOptions extends SoupClientOptions {
  reconnectDelayMs?: number;
  /** Give up after this many failed connection attempts in a row (default: never). */
  maxReconnectAttempts?: number;
}

export class SoupBinFeedCounters {
  messages = 0;
  undecodable = 0;
  connects = 0;
  disconnects = 0;
  reconnectAttempts = 0;
  /** Sequence numbers that did not follow the previous one (should stay 0: TCP + resume by sequence). */
  sequenceBreaks = 0;
}

export class SoupBinFeed implements SoupClientHandler {
  readonly counters = new SoupBinFeedCounters();
  readonly decoder = new ItchDecoder();
  readonly client: SoupBinClient;
  /** True once the server sent End of Session. */
  ended = false;
  lastDisconnectReason = '';
  private stopped = false;
  private lastSeq = 0;
  private batchPending = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private endWaiters: (() => void)[] = [];
  private readonly reconnectDelayMs: number;
  private readonly maxAttempts: number;
  private readonly flushBatch = (): void => { this.batchPending = false; this.handler.endOfBatch(); };

  constructor(private readonly handler: ItchMessageHandler, options: SoupBinFeedOptions) {
    const delay = options.reconnectDelayMs ?? 100;
    if (!Number.isInteger(delay) || delay < 0) throw invalidOption('SoupBinFeed', 'reconnectDelayMs', delay, 'an integer >= 0');
    const attempts = options.maxReconnectAttempts ?? Infinity;
    if (!(attempts >= 1)) throw invalidOption('SoupBinFeed', 'maxReconnectAttempts', attempts, 'a positive integer');
    this.reconnectDelayMs = delay;
    this.maxAttempts = attempts;
    this.client = new SoupBinClient(options, this);
  }

  /** Next sequence expected from the server. */
  get nextSequence(): number { return this.client.nextSeq; }

  /** Connects and logs in; resolves at Login Accepted. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.client.connect();
    this.counters.connects++;
  }

  /** Resolves at End of Session. */
  untilEndOfSession(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((resolve) => this.endWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) { clearTimeout(this.reconnectTimer); this.reconnectTimer = null; }
    await this.client.logout();
  }

  onSequenced(buf: Buffer, offset: number, length: number, seq: number): void {
    const c = this.counters;
    if (this.lastSeq !== 0 && seq !== this.lastSeq + 1) c.sequenceBreaks++;
    this.lastSeq = seq;
    const type = this.decoder.decode(buf, offset, length);
    if (type <= 0) { c.undecodable++; return; }
    c.messages++;
    this.handler.onMessage(this.decoder, type, seq);
    if (!this.batchPending) { this.batchPending = true; queueMicrotask(this.flushBatch); }
  }

  onDisconnected(reason: string, endOfSession: boolean): void {
    this.counters.disconnects++;
    this.lastDisconnectReason = reason;
    if (endOfSession) {
      this.ended = true;
      const w = this.endWaiters; this.endWaiters = [];
      for (const f of w) f();
      return;
    }
    if (!this.stopped) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.stopped) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.counters.reconnectAttempts++;
      this.client.connect().then(() => { this.counters.connects++; this.failures = 0; }, () => {
        // A refused connect does not report onDisconnected: retry from here.
        if (++this.failures < this.maxAttempts) this.scheduleReconnect();
      });
    }, this.reconnectDelayMs);
  }
}
