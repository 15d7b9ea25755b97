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
 * It is FeedReceiver (packets to sequenced ITCH, recovery included) feeding MarketBooks (filter,
 * books, conflation): the same two parts a split layout runs on the decoder's and the book's workers.
 *
 * Threading contract: one thread calls doWork() (the decoder/book worker); subscribe() may be
 * called from any thread that holds the mailbox.
 */
import { RxConsumer } from '../binding/rx-consumer';
import { Clock, MonotonicClock } from '../common/clock';
import { LatencyRecorder } from '../common/latency-recorder';
import type { Agent } from '../common/agent-runner';
import { BookBuilder } from '../feed/book/book-builder';
import { BookEventHandler } from '../feed/book/book-event';
import { Conflator } from '../feed/book/conflator';
import { FeedDecoder } from '../feed/feed-decoder';
import { ItchDecoder } from '../feed/itch/itch-decoder';
import { SequenceGapListener, Sequencer } from '../feed/recovery/sequencer';
import { UdpFrameFilterOptions } from '../feed/wire/udp-frame-parser';
import { LineArbiter } from '../feed/recovery/line-arbiter';
import { RetransmitRequester } from '../feed/recovery/retransmit-requester';
import { invalidOption } from '../errors';
import { FeedReceiver, FeedReceiverStats, FeedRecoveryOptions } from './feed-receiver';
import { MarketBooks } from './market-books';
import { SubscriptionMailbox } from './subscriptions';

export type { FeedRecoveryOptions } from './feed-receiver';

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

export interface FeedHandlerStats extends FeedReceiverStats {
  books: Record<string, number>;
  conflation: Record<string, number>;
  filteredMessages: number;
}


export class FeedHandler implements Agent {
  readonly roleName = 'feed-handler';
  /** Packets to sequenced ITCH messages (recovery included). */
  readonly receiver: FeedReceiver;
  /** Subscription filter, books and conflation. */
  readonly market: MarketBooks;
  readonly subscriptions: SubscriptionMailbox;

  /** Where events go; replaceable with onMessage() (one indirect call per event). */
  private target: BookEventHandler;
  private running = false;

  constructor(source: RxConsumer, handler: BookEventHandler | undefined, options: FeedHandlerOptions = {}) {
    this.target = handler ?? { onEvent() {}, endOfBatch() {} };
    const forward: BookEventHandler = { onEvent: (e) => this.target.onEvent(e), endOfBatch: () => this.target.endOfBatch() };
    const clock = options.clock ?? new MonotonicClock();
    this.subscriptions = options.subscriptions ?? new SubscriptionMailbox();
    this.market = new MarketBooks(forward, {
      conflate: options.conflate, conflationIntervalUs: options.conflationIntervalUs, subscriptions: this.subscriptions, clock,
      initialOrderCapacity: options.initialOrderCapacity,
    });
    this.receiver = new FeedReceiver(source, this.market, {
      filter: options.filter, burst: options.burst, clock, latency: options.latency, gapListener: options.gapListener, recovery: options.recovery,
    });
  }

  get decoder(): FeedDecoder { return this.receiver.decoder; }
  get sequencer(): Sequencer { return this.receiver.sequencer; }
  /** With recovery: the A/B arbiter (its sequencer holds and releases) and the retransmission requester. */
  get arbiter(): LineArbiter | undefined { return this.receiver.arbiter; }
  get requester(): RetransmitRequester | undefined { return this.receiver.requester; }
  get books(): BookBuilder { return this.market.books; }
  get conflator(): Conflator | undefined { return this.market.conflator; }
  /** Frames that matched no configured line (recovery mode). */
  get otherTraffic(): number { return this.receiver.otherTraffic; }
  /** RX timestamp (CLOCK_MONOTONIC ns) of the packet being handled: downstream handlers read it. */
  get rxTsNs(): number { return this.receiver.rxTsNs; }
  get packets(): number { return this.receiver.packets; }
  /** Same as packets: the number of the packet being handled, for PacketOrigin readers. */
  get packetNo(): number { return this.receiver.packets; }
  get bytes(): number { return this.receiver.bytes; }
  get filteredMessages(): number { return this.market.filteredMessages; }

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
    return this.receiver.itchCounters;
  }

  /** Ring-full drops at the RX ring, read from shared memory. No allocation. */
  get ringDrops(): number {
    return this.receiver.ringDrops;
  }

  /** Opens what recovery needs (the retransmission request socket). Call once before doWork. */
  start(): Promise<void> {
    return this.receiver.start();
  }

  close(): Promise<void> {
    return this.receiver.close();
  }

  doWork(): number {
    this.market.refresh();
    return this.receiver.doWork();
  }

  /** True once a replayed source has ended and everything was read. */
  get sourceDone(): boolean {
    return this.receiver.sourceDone;
  }

  stats(): FeedHandlerStats {
    const conflator = this.market.conflator;
    return {
      ...this.receiver.stats(),
      books: { ...this.market.books.counters },
      conflation: conflator ? { ...conflator.counters } : {},
      filteredMessages: this.market.filteredMessages,
    };
  }
}
