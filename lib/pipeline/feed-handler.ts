/**
 * FeedHandler: packets in, normalized market-data events out, on the calling thread.
 *
 *   RxConsumer.read ─► FeedDecoder (Ethernet/VLAN/IPv4/UDP ─► MoldUDP64 ─► ITCH flyweights)
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
import { UdpFrameFilterOptions } from '../feed/udp-frame-parser';
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
}


export class FeedHandler implements Agent {
  readonly roleName = 'feed-handler';
  readonly decoder: FeedDecoder;
  readonly books: BookBuilder;
  readonly conflator: Conflator | undefined;
  readonly subscriptions: SubscriptionMailbox;
  readonly sequencer: Sequencer;
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
  private readonly onPacket: (b: Uint8Array, off: number, len: number, ts: number, endOfBatch: boolean) => void;

  constructor(source: RxConsumer, handler: BookEventHandler, options: FeedHandlerOptions = {}) {
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
      ? new Conflator(handler, { intervalNs: (options.conflationIntervalUs ?? 0) * 1000, clock: () => clock.nowNs() })
      : undefined;
    this.books = new BookBuilder(this.conflator ?? handler, { initialOrderCapacity: options.initialOrderCapacity });
    this.sequencer = new Sequencer({ gapListener: options.gapListener });
    this.decoder = new FeedDecoder(this.filteringHandler(), options.filter ?? {}, this.sequencer);

    const decoder = this.decoder;
    const l4 = this.l4;
    const w2d = this.wireToDecode, w2h = this.wireToDone;
    this.onPacket = (b, off, len, ts, endOfBatch) => {
      this.rxTsNs = ts;
      this.packets++;
      this.bytes += len;
      if (w2d !== undefined) w2d.record(clock.nowNs() - ts);
      if (l4) decoder.decodePayload(b, off, len);
      else decoder.decodeFrame(b, off, len);
      if (endOfBatch) decoder.endOfBatch();
      if (w2h !== undefined) w2h.record(clock.nowNs() - ts);
    };
  }

  /** Replaces the subscription list (['*'] = everything). Takes effect at the next batch. */
  subscribe(symbols: readonly string[]): void {
    this.subscriptions.publish(symbols);
  }

  doWork(): number {
    this.filter.refresh();
    return this.source.read(this.onPacket, this.burst);
  }

  /** True once a replayed source has ended and everything was read. */
  get sourceDone(): boolean {
    return this.source.eof;
  }

  stats(): FeedHandlerStats {
    const itch = this.decoder.decoder.counters;
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
      sequence: { ...this.sequencer.counters },
    };
  }

  /** ITCH messages pass through here on their way to the books: the subscription filter. */
  private filteringHandler(): ItchMessageHandler {
    const filter = this.filter;
    const books = this.books;
    const packet = () => this.decoder.packet;
    return {
      onMessage: (d: ItchDecoder, type: number, sequence: number): void => {
        const p = packet();
        if (filter.admits(type, p.buffer, p.messageOffset, books.symbols)) books.onMessage(d, type, sequence);
        else this.filteredMessages++;
      },
      endOfBatch: (): void => books.endOfBatch(),
    };
  }
}
