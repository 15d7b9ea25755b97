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
 * With the `fast` option it reads a MOEX FIX/FAST feed instead, as `tickpath run` does with
 * feed.protocol moex-fast: MoexFeedReceiver (lines by destination, incremental A/B arbitration by
 * MsgSeqNum, FAST decode, RptSeq per instrument, snapshot recovery) builds the books while decoding
 * and its events go through the same Conflator to your handler: the same event kinds as ITCH.
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
import { invalidOption, TickpathError } from '../errors';
import { FastTemplateError, FastTemplateRegistry, loadFastTemplates } from '../feed/fast/fast-templates';
import type { FastBookAdapter } from '../feed/fast/moex/fast-book-adapter';
import { MoexFeedLine, MoexFeedReceiver } from '../feed/fast/moex/moex-feed-receiver';
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
  /**
   * A MOEX FIX/FAST feed instead of MoldUDP64/ITCH. Recovery is the snapshot line's (`recovery` is
   * for MoldUDP64 and refused with it); `gapListener` hears confirmed MsgSeqNum gaps.
   */
  fast?: FeedHandlerFastOptions;
}

export interface FeedHandlerFastOptions {
  /** The venue's template XML (its text) or templates already loaded with loadFastTemplates. */
  templates: string | FastTemplateRegistry;
  /** Channel lines: incremental (A and B, arbitrated), snapshot, trades and status, each by destination group:port. */
  lines: MoexFeedLine[];
  /** Decimals of the integer book prices (default 5). */
  priceDecimals?: number;
  /** 'CURR' or 'FOND' keeps that market's book templates (default both). */
  market?: 'CURR' | 'FOND' | 'ANY';
  /** How long a MsgSeqNum hole waits for the other incremental line (ms, default 2). */
  lineWaitMs?: number;
}

export interface FeedHandlerStats extends FeedReceiverStats {
  books: Record<string, number>;
  conflation: Record<string, number>;
  filteredMessages: number;
  /** With the fast option: the FAST decoders' and the line arbiter's counters. */
  fast?: { incremental: Record<string, number>; snapshot: Record<string, number>; info: Record<string, number>; arbiter: Record<string, number>; staleBooks: number };
}


export class FeedHandler implements Agent {
  readonly roleName = 'feed-handler';
  /** Packets to sequenced ITCH messages (recovery included); undefined with the fast option. */
  readonly receiver: FeedReceiver | undefined;
  /** With the fast option: MOEX FIX/FAST packets into the FAST books. */
  readonly fast: MoexFeedReceiver | undefined;
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
    if (options.fast !== undefined) {
      this.receiver = undefined;
      this.fast = fastReceiver(source, this.market, options);
      this.market.external = this.fast.adapter;
    } else {
      this.fast = undefined;
      this.receiver = new FeedReceiver(source, this.market, {
        filter: options.filter, burst: options.burst, clock, latency: options.latency, gapListener: options.gapListener, recovery: options.recovery,
      });
    }
  }

  /** The ITCH receiver; a FAST handler has none (its parts are under `fast`). */
  private get itch(): FeedReceiver {
    if (this.receiver === undefined) {
      throw new TickpathError('ERR_INVALID_OPTION', 'FeedHandler: built with the fast option, it has no ITCH decoder, sequencer or BookBuilder (fix: read fh.fast: its adapter, decoders and arbiter)');
    }
    return this.receiver;
  }

  get decoder(): FeedDecoder { return this.itch.decoder; }
  get sequencer(): Sequencer { return this.itch.sequencer; }
  /** With recovery: the A/B arbiter (its sequencer holds and releases) and the retransmission requester. */
  get arbiter(): LineArbiter | undefined { return this.receiver?.arbiter; }
  get requester(): RetransmitRequester | undefined { return this.receiver?.requester; }
  get books(): BookBuilder { void this.itch; return this.market.books; }
  /** With the fast option: the FAST books (same OrderBook, OrderStore and LevelStore types as ITCH's). */
  get fastBooks(): FastBookAdapter | undefined { return this.fast?.adapter; }
  get conflator(): Conflator | undefined { return this.market.conflator; }
  /** Frames that matched no configured line (recovery mode). */
  get otherTraffic(): number { return (this.receiver ?? this.fast!).otherTraffic; }
  /** RX timestamp (CLOCK_MONOTONIC ns) of the packet being handled: downstream handlers read it. */
  get rxTsNs(): number { return (this.receiver ?? this.fast!).rxTsNs; }
  get packets(): number { return (this.receiver ?? this.fast!).packets; }
  /** Same as packets: the number of the packet being handled, for PacketOrigin readers. */
  get packetNo(): number { return (this.receiver ?? this.fast!).packets; }
  get bytes(): number { return (this.receiver ?? this.fast!).bytes; }
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
    return this.itch.itchCounters;
  }

  /** Ring-full drops at the RX ring, read from shared memory. No allocation. */
  get ringDrops(): number {
    return (this.receiver ?? this.fast!).ringDrops;
  }

  /** Opens what recovery needs (the retransmission request socket). Call once before doWork. */
  start(): Promise<void> {
    return (this.receiver ?? this.fast!).start();
  }

  close(): Promise<void> {
    return (this.receiver ?? this.fast!).close();
  }

  doWork(): number {
    this.market.refresh();
    const r = this.receiver;
    return r !== undefined ? r.doWork() : this.fast!.doWork();
  }

  /** True once a replayed source has ended and everything was read. */
  get sourceDone(): boolean {
    return (this.receiver ?? this.fast!).sourceDone;
  }

  stats(): FeedHandlerStats {
    const conflator = this.market.conflator;
    const common = { conflation: conflator ? { ...conflator.counters } : {}, filteredMessages: this.market.filteredMessages };
    if (this.receiver !== undefined) return { ...this.receiver.stats(), books: { ...this.market.books.counters }, ...common };
    // FAST, in the same shape: FAST messages where ITCH's are, MsgSeqNum arbitration as the sequence.
    const f = this.fast!;
    const inc = f.incremental.decoder.counters, snap = f.snapshot.decoder.counters, info = f.info.decoder.counters, arb = f.arbiter.counters;
    return {
      packets: f.packets, bytes: f.bytes, ringDrops: f.ringDrops,
      frames: { ...f.frames.counters },
      moldudp64: {},
      itch: {
        messages: inc.messages + snap.messages + info.messages, zeroLength: inc.empty + snap.empty + info.empty,
        truncated: inc.truncated + snap.truncated + info.truncated, unknownType: inc.unknownTemplate + snap.unknownTemplate + info.unknownTemplate,
      },
      sequence: { accepted: arb.delivered, duplicates: f.arbiter.lines.reduce((n, l) => n + l.duplicates, 0), gaps: arb.gaps, missing: arb.missing, sessionChanges: arb.sequenceResets },
      books: { ...f.adapter.counters },
      fast: { incremental: { ...inc, errors: inc.errors }, snapshot: { ...snap, errors: snap.errors }, info: { ...info, errors: info.errors }, arbiter: { ...arb }, staleBooks: f.adapter.staleCount },
      ...common,
    };
  }
}

/** The FAST receiver of a FeedHandler, its options checked with messages that name the fix. */
function fastReceiver(source: RxConsumer, market: MarketBooks, options: FeedHandlerOptions): MoexFeedReceiver {
  const fast = options.fast!;
  if (options.recovery !== undefined) {
    throw invalidOption('FeedHandler', 'recovery', '(MoldUDP64 recovery)', 'no recovery option with fast: a FAST feed recovers from its snapshot line (list it in fast.lines with role snapshot)');
  }
  if (options.filter !== undefined) {
    throw invalidOption('FeedHandler', 'filter', options.filter, 'no filter with fast: fast.lines names the groups and ports to read');
  }
  let registry: FastTemplateRegistry;
  if (typeof fast.templates === 'string') {
    try {
      registry = loadFastTemplates(fast.templates);
    } catch (err) {
      if (err instanceof FastTemplateError) throw invalidOption('FeedHandler', 'fast.templates', `${fast.templates.slice(0, 40)}...`, `the venue's FAST 1.1 template XML (${err.message})`);
      throw err;
    }
  } else if (fast.templates instanceof FastTemplateRegistry) {
    registry = fast.templates;
  } else {
    throw invalidOption('FeedHandler', 'fast.templates', typeof fast.templates, 'the template XML as a string, or the registry loadFastTemplates returned');
  }
  const gaps = options.gapListener;
  return new MoexFeedReceiver(source, registry, market.fastEvents, {
    lines: fast.lines, priceDecimals: fast.priceDecimals, market: fast.market, lineWaitMs: fast.lineWaitMs, burst: options.burst,
    listener: gaps !== undefined ? { onGap: (from, to) => gaps.onGap(from, to) } : undefined,
  });
}
