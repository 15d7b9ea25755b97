/**
 * FeedHandler: packets in, normalized market-data events out, on the calling thread.
 *
 *   RxConsumer.read ─► FeedDecoder (Ethernet/VLAN/IPv4/UDP ─► MoldUDP64 ─► ITCH flyweights)
 *     [with recovery: A/B line arbitration, held gaps, MoldUDP64 retransmission requests]
 *     ─► subscription filter (by stock locate, before any book work)
 *     ─► BookBuilder (order books, normalized ADD/DELETE/MODIFY/EXECUTE/TRADE/QUOTE/IMBALANCE/STATUS)
 *     ─► Conflator (latest BBO per symbol, flushed at end of batch or interval; optional)
 *     ─► your BookEventHandler: onEvent(e) ... endOfBatch()
 *
 * It is an Agent: `doWork()` handles one burst and returns how many packets it read, so the same
 * object runs inside a pipeline worker's agent loop or in a test's plain loop. Nothing is allocated
 * per packet or per message: flyweights, typed arrays, and closures bound once here.
 *
 * Threading contract: one thread calls doWork() (the decoder/book worker); subscribe() may be
 * called from any thread that holds the mailbox.
 */
import { kQueueCounter } from '../binding/layout';
import { RxConsumer } from '../binding/rx-consumer';
import { Clock, MonotonicClock } from '../common/clock';
import { LatencyRecorder } from '../common/latency-recorder';
import type { Agent } from '../common/agent-runner';
import { BookBuilder } from '../feed/book-builder';
import { BookEventHandler } from '../feed/book-event';
import { Conflator } from '../feed/conflator';
import { FeedDecoder, ItchMessageHandler } from '../feed/feed-decoder';
import { ItchDecoder } from '../feed/itch-decoder';
import { SequenceGapListener, Sequencer } from '../feed/sequencer';
import { kUdpFrameOk, parseIpv4Address, UdpFrameFilterOptions } from '../feed/udp-frame-parser';
import { LineArbiter, LineArbiterListener } from '../feed/recovery/line-arbiter';
import { RetransmitRequester } from '../feed/recovery/retransmit-requester';
import { invalidOption } from '../errors';
import { SubscriptionFilter, SubscriptionMailbox } from './subscriptions';

export interface FeedHandlerOptions {
  /** Destination group/port filter applied to frames before MoldUDP64 parsing. */
  filter?: UdpFrameFilterOptions;
  /** Conflate QUOTE events (default true). Trades, status and imbalances are never conflated. */
  conflate?: boolean;
  /** With conflation: the least time between flushes (default 0: every end of batch). */
  conflationIntervalUs?: number;
  /** Packets per doWork() (default 256). */
  burst?: number;
  /** Shared subscription list (default: a private one, everything subscribed). */
  subscriptions?: SubscriptionMailbox;
  clock?: Clock;
  /** Latency histograms to record into (ns); omitted = no clock reads on the hot path. */
  /** wireToDecode: RX time to decoder entry, per packet; wireToDone: RX time to the packet fully handled. */
  latency?: { wireToDecode?: LatencyRecorder; wireToDone?: LatencyRecorder };
  /** Initial order-table size for the books. */
  initialOrderCapacity?: number;

  /** Told of every MoldUDP64 sequence gap (duplicates are dropped and counted either way). */
  gapListener?: SequenceGapListener;
  /**
   * Feed lines and gap recovery. Frames to each line's group:port are that line (A, B, ...); the
   * first copy of every message wins, a gap is a gap only when every line missed it, and confirmed
   * gaps are requested from the re-request server; messages after a gap wait (bounded) until it is
   * filled or declared lost. Without it: one line, gaps counted, not filled.
   */
  recovery?: FeedRecoveryOptions;
}

export interface FeedRecoveryOptions {
  lines: { name: string; group: string; port: number }[];
  /** How long a hole waits for another line before it is a gap (ms, default 2). */
  lineWaitMs?: number;
  /** A line silent this long is reported stale (ms, default 1000). */
  staleAfterMs?: number;
  /** Give up on a gap that has blocked delivery this long (ms; default 0: the requester decides). */
  maxHoldMs?: number;
  /** Messages held behind a gap at most (power of two, default 65536). */
  maxHeldMessages?: number;
  rerequest?: { host: string; port: number; timeoutMs?: number; maxRetries?: number; maxOutstanding?: number; maxMessagesPerRequest?: number };
  listener?: LineArbiterListener;
}

export interface FeedHandlerStats {
  packets: number;
  bytes: number;
  ringDrops: number;
  frames: Record<string, number>;
  moldudp64: Record<string, number>;
  itch: { messages: number; zeroLength: number; truncated: number; unknownType: number };
  books: Record<string, number>;
  conflation: Record<string, number>;
  filteredMessages: number;
  sequence: { accepted: number; duplicates: number; gaps: number; missing: number; sessionChanges: number };
  recovery?: {
    lines: { name: string; packets: number; messages: number; firsts: number; duplicates: number; gaps: number; stale: boolean }[];
    /** held: messages held behind gaps so far; heldNow: waiting right now. */
    confirmedGaps: number; coveredByOtherLine: number; held: number; heldNow: number; lost: number; recovered: number;
    requestsSent: number; retries: number; givenUp: number; otherTraffic: number;
  };
}


export class FeedHandler implements Agent {
  readonly roleName = 'feed-handler';
  readonly decoder: FeedDecoder;
  readonly books: BookBuilder;
  readonly conflator: Conflator | undefined;
  readonly subscriptions: SubscriptionMailbox;
  readonly sequencer: Sequencer;
  /** With recovery: the A/B arbiter (its sequencer holds and releases) and the retransmission requester. */
  readonly arbiter: LineArbiter | undefined;
  readonly requester: RetransmitRequester | undefined;
  /** Frames that matched no configured line (recovery mode). */
  otherTraffic = 0;
  /** RX timestamp (CLOCK_MONOTONIC ns) of the packet being handled: downstream handlers read it. */
  rxTsNs = 0;
  packets = 0;
  bytes = 0;
  filteredMessages = 0;

  private readonly source: RxConsumer;
  private readonly filter: SubscriptionFilter;
  private readonly burst: number;
  private readonly clock: Clock;
  private readonly wireToDecode: LatencyRecorder | undefined;
  private readonly wireToDone: LatencyRecorder | undefined;
  private readonly l4: boolean;
  private readonly lineGroups: Uint32Array | undefined;
  private readonly linePorts: Uint16Array | undefined;
  private readonly onPacket: (b: Uint8Array, off: number, len: number, ts: number, endOfBatch: boolean) => void;

  /** Where events go; replaceable with onMessage() (one indirect call per event). */
  private target: BookEventHandler;
  private running = false;

  constructor(source: RxConsumer, handler: BookEventHandler | undefined, options: FeedHandlerOptions = {}) {
    this.target = handler ?? { onEvent() {}, endOfBatch() {} };
    const forward: BookEventHandler = { onEvent: (e) => this.target.onEvent(e), endOfBatch: () => this.target.endOfBatch() };
    this.source = source;
    this.burst = options.burst ?? 256;
    this.clock = options.clock ?? new MonotonicClock();
    this.wireToDecode = options.latency?.wireToDecode;
    this.wireToDone = options.latency?.wireToDone;
    // The udp backend delivers UDP payloads (MoldUDP64 packets), the others whole frames.
    this.l4 = source.backend === 'udp';
    this.subscriptions = options.subscriptions ?? new SubscriptionMailbox();
    this.filter = new SubscriptionFilter(this.subscriptions);
    const clock = this.clock;
    const conflate = options.conflate ?? true;
    this.conflator = conflate
      ? new Conflator(forward, { intervalNs: (options.conflationIntervalUs ?? 0) * 1000, clock: () => clock.nowNs() })
      : undefined;
    this.books = new BookBuilder(this.conflator ?? forward, { initialOrderCapacity: options.initialOrderCapacity });
    this.sequencer = new Sequencer({ gapListener: options.gapListener });
    const itchHandler = this.filteringHandler();
    this.decoder = new FeedDecoder(itchHandler, options.filter ?? {}, this.sequencer);
    const rec = options.recovery;
    if (rec) {
      if (!Array.isArray(rec.lines) || rec.lines.length < 1) throw invalidOption('FeedHandler', 'recovery.lines', rec.lines, 'at least one line {name, group, port}');
      const groups = new Uint32Array(rec.lines.length), ports = new Uint16Array(rec.lines.length);
      rec.lines.forEach((l, i) => {
        const g = parseIpv4Address(l.group);
        if (g === undefined) throw invalidOption('FeedHandler', `recovery.lines[${i}].group`, l.group, 'an IPv4 address');
        groups[i] = g;
        ports[i] = l.port;
      });
      let requester: RetransmitRequester | undefined;
      const user = rec.listener ?? {};
      const arbiter = new LineArbiter(itchHandler, {
        lines: rec.lines.map((l) => l.name), lineWaitMs: rec.lineWaitMs, staleAfterMs: rec.staleAfterMs,
        sequencer: { maxHoldMs: rec.maxHoldMs ?? 0, maxHeldMessages: rec.maxHeldMessages ?? 65536 },
        listener: { ...user, onGap: (from, to) => { user.onGap?.(from, to); if (requester) requester.onGap(from, to); else arbiter.sequencer.declareLost(from, to); } },
      });
      if (rec.rerequest) {
        requester = new RetransmitRequester(arbiter.sequencer, { host: rec.rerequest.host, port: rec.rerequest.port, timeoutMs: rec.rerequest.timeoutMs,
          maxRetries: rec.rerequest.maxRetries, maxOutstanding: rec.rerequest.maxOutstanding, maxMessagesPerRequest: rec.rerequest.maxMessagesPerRequest, sink: arbiter });
      }
      this.arbiter = arbiter;
      this.requester = requester;
      this.lineGroups = groups;
      this.linePorts = ports;
    }

    const decoder = this.decoder;
    const l4 = this.l4;
    const w2d = this.wireToDecode, w2h = this.wireToDone;
    const arbiter = this.arbiter, frames = decoder.frames, groups = this.lineGroups, ports = this.linePorts;
    this.onPacket = (b, off, len, ts, endOfBatch) => {
      this.rxTsNs = ts;
      this.packets++;
      this.bytes += len;
      if (w2d !== undefined) w2d.record(clock.nowNs() - ts);
      if (arbiter === undefined) {
        if (l4) decoder.decodePayload(b, off, len);
        else decoder.decodeFrame(b, off, len);
        if (endOfBatch) decoder.endOfBatch();
      } else {
        // Which line: the destination of the frame (a UDP socket is one line).
        let line = 0;
        let pOff = off, pLen = len;
        if (!l4) {
          if (frames.parse(b, off, len) !== kUdpFrameOk) { if (endOfBatch) arbiter.endOfBatch(); return; }
          line = -1;
          for (let i = 0; i < groups!.length; i++) if (groups![i] === frames.destinationAddress && ports![i] === frames.destinationPort) { line = i; break; }
          pOff = frames.payloadOffset;
          pLen = frames.payloadLength;
        }
        if (line < 0) this.otherTraffic++;
        else arbiter.onLinePacket(line, b, pOff, pLen, this.nowMs);
        if (endOfBatch) arbiter.endOfBatch();
      }
      if (w2h !== undefined) w2h.record(clock.nowNs() - ts);
    };
  }

  /** Normalized events (and endOfBatch) go to `handler` from the next event on. */
  onMessage(handler: BookEventHandler): void {
    this.target = handler;
  }

  /** Replaces the subscription list (['*'] = everything). Takes effect at the next batch. */
  subscribe(symbols: readonly string[]): void {
    this.subscriptions.publish(symbols);
  }

  /** Removes symbols from an explicit subscription list. */
  unsubscribe(symbols: readonly string[]): void {
    const current = this.subscriptions.generation() === 0 ? ['*'] : this.subscriptions.read();
    if (current.includes('*')) {
      throw invalidOption('unsubscribe', 'symbols', symbols, "symbols of an explicit list: the subscription is '*' (everything); subscribe([...]) first");
    }
    this.subscriptions.publish(current.filter((s) => !symbols.includes(s)));
  }

  /**
   * Runs doWork() on this thread until stop(), yielding to the event loop between slices of up to
   * `sliceMs` (sockets, timers). For standalone use; the pipeline's workers drive doWork themselves.
   */
  async run(sliceMs = 1): Promise<void> {
    await this.start();
    this.running = true;
    while (this.running) {
      const end = Date.now() + sliceMs;
      do this.doWork(); while (this.running && Date.now() < end);
      await new Promise((r) => setImmediate(r));
    }
    await this.close();
  }

  stop(): void {
    this.running = false;
  }

  /** Counters of the ITCH decoder actually in use (the arbiter's with recovery). No allocation. */
  get itchCounters(): ItchDecoder['counters'] {
    return (this.arbiter ? this.arbiter.sequencer.decoder : this.decoder.decoder).counters;
  }

  /** Ring-full drops at the RX ring, read from shared memory. No allocation. */
  get ringDrops(): number {
    return this.source.counter(kQueueCounter.ringFullDrops);
  }

  /** Opens what recovery needs (the retransmission request socket). Call once before doWork. */
  async start(): Promise<void> {
    if (this.requester) await this.requester.start();
  }

  async close(): Promise<void> {
    if (this.requester) await this.requester.close();
  }

  doWork(): number {
    this.filter.refresh();
    if (this.arbiter === undefined) return this.source.read(this.onPacket, this.burst);
    // Recovery timers run on wall-clock milliseconds: one read per batch.
    const now = this.nowMs = Date.now();
    let work = this.arbiter.poll(now);
    if (this.requester) work += this.requester.poll(now);
    return work + this.source.read(this.onPacket, this.burst);
  }

  private nowMs = Date.now();

  /** True once a replayed source has ended and everything was read. */
  get sourceDone(): boolean {
    return this.source.eof;
  }

  stats(): FeedHandlerStats {
    // With recovery the arbiter's sequencer decodes (messages may come from its hold buffer).
    const itch = (this.arbiter ? this.arbiter.sequencer.decoder : this.decoder.decoder).counters;
    return {
      packets: this.packets,
      bytes: this.bytes,
      ringDrops: this.source.ringCounters().ringFullDrops,
      frames: { ...this.decoder.frames.counters },
      moldudp64: { ...this.decoder.packet.counters },
      itch: { messages: itch.messages, zeroLength: itch.zeroLength, truncated: itch.truncated, unknownType: itch.unknownType },
      books: { ...this.books.counters },
      conflation: this.conflator ? { ...this.conflator.counters } : {},
      filteredMessages: this.filteredMessages,
      sequence: this.arbiter ? {
        accepted: this.arbiter.sequencer.counters.delivered, duplicates: this.arbiter.sequencer.counters.duplicates,
        gaps: this.arbiter.sequencer.counters.gaps, missing: this.arbiter.sequencer.counters.missing, sessionChanges: this.arbiter.sequencer.counters.sessionChanges,
      } : { ...this.sequencer.counters },
      recovery: this.arbiter ? {
        lines: this.arbiter.lines.map((l) => ({ name: l.name, packets: l.packets, messages: l.messages, firsts: l.firsts, duplicates: l.duplicates, gaps: l.gaps, stale: l.stale })),
        confirmedGaps: this.arbiter.counters.confirmedGaps, coveredByOtherLine: this.arbiter.counters.coveredByOtherLine,
        held: this.arbiter.sequencer.counters.held, heldNow: this.arbiter.sequencer.heldCount, lost: this.arbiter.sequencer.counters.lost, recovered: this.requester?.counters.filled ?? 0,
        requestsSent: this.requester?.counters.requestsSent ?? 0, retries: this.requester?.counters.retries ?? 0, givenUp: this.requester?.counters.givenUp ?? 0,
        otherTraffic: this.otherTraffic,
      } : undefined,
    };
  }

  /** ITCH messages pass through here on their way to the books: the subscription filter. */
  private filteringHandler(): ItchMessageHandler {
    const filter = this.filter;
    const books = this.books;
    return {
      onMessage: (d: ItchDecoder, type: number, sequence: number): void => {
        if (filter.everything) { books.onMessage(d, type, sequence); return; }
        // Raw bytes from the flyweight: the message may come from the wire or from a recovery buffer.
        const m = d.messageFor(type)!;
        if (filter.admits(type, m.buffer, m.offset, books.symbols)) books.onMessage(d, type, sequence);
        else this.filteredMessages++;
      },
      endOfBatch: (): void => books.endOfBatch(),
    };
  }
}
