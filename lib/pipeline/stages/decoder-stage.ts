/**
 * The decoder stage: RX queue in, sequenced ITCH messages out. It is a FeedReceiver, the same one
 * FeedHandler runs, so `feed.recovery` (A/B line arbitration, held gaps, retransmission requests)
 * works the same whether the book is fused onto this worker or not. Its messages go straight to the
 * fused book stage, or into the decoder -> book ring, or, with the books sharded
 * (performance.stages.book.shards), into the ring of the shard that owns each message's stock locate.
 *
 * The retransmission requester's UDP socket lives on this worker's event loop: the worker runs its
 * agents in slices with a trip through the event loop between them (stage-worker.ts), which is when
 * retransmitted packets come in.
 *
 * Threading contract: built, run and closed on the decoder's worker.
 */
import { RxConsumer } from '../../binding/rx-consumer';
import { SpscRing } from '../../common/spsc-ring';
import type { ItchMessageHandler } from '../../feed/feed-decoder';
import { FeedReceiver, FeedRecoveryOptions } from '../feed-receiver';
import { kLogBookStale, kLogCaptureGap, kLogFastLine, kLogGap, kLogTradeGap, kLogLineAlive, kLogLineStale, kLogLoss, kLogUnrecoveredGap } from '../log-events';
import { ItchRecordWriter, LocateFanout } from '../stage-rings';
import type { Stage, StageContext } from './stage';
import { loadFastTemplates } from '../../feed/fast/fast-templates';
import { MoexFeedReceiver } from '../../feed/fast/moex/moex-feed-receiver';
import { MarketBooks } from '../market-books';
import type { BookBuilder } from '../../feed/book/book-builder';

/**
 * Recovery options with gaps, losses and line health going to the worker's log ring. A loss while
 * replaying a capture file is the file's own hole (the recording missed those messages, or the
 * capture starts mid-session): a warning saying so, not the error a live feed's loss is.
 */
function loggedRecovery(ctx: StageContext): FeedRecoveryOptions | undefined {
  const rec = ctx.data.feed.recovery, logger = ctx.logger, capture = ctx.data.feed.source === 'capture';
  return rec && {
    ...rec,
    listener: {
      onGap: (from, to) => { logger.warn(kLogGap, from, to); },
      onLoss: (from, to) => {
        if (capture) logger.warn(kLogCaptureGap, from, to, to - from + 1);
        else logger.error(kLogLoss, from, to);
      },
      onBookStale: (locate) => { logger.warn(kLogBookStale, locate); },
      onLineStale: (line) => { logger.warn(kLogLineStale, line); },
      onLineAlive: (line) => { logger.info(kLogLineAlive, line); },
    },
  };
}

export interface DecoderStage extends Stage {
  /** True once a replayed source was read to its end. */
  readonly sourceDone: boolean;
}

/**
 * `books`: the fused book stage's input; without it, messages go to the decoder -> book ring.
 * `builder`: the fused books, walked on the decoder's empty turns with performance.stages.book.warm_idle.
 */
export function buildDecoderStage(ctx: StageContext, books: ItchMessageHandler | undefined, builder?: BookBuilder): DecoderStage {
  if (ctx.data.feed.fast !== undefined) return buildFastDecoderStage(ctx, books);
  const d = ctx.data, c = ctx.c, K = ctx.K;
  const rx = new RxConsumer(d.rx!);
  const origin = ctx.origin;
  // Split from the book stage: one ring per book shard, each message to its locate's shard.
  const writers = books ? [] : d.rings.decoderToBook!.map((sab) => new ItchRecordWriter(SpscRing.attach(sab), () => origin.rxTsNs, () => origin.packetNo));
  const writer = books ? undefined : writers.length === 1 ? writers[0] : new LocateFanout(writers);
  const r = new FeedReceiver(rx, books ?? writer!, {
    filter: d.feed.filter, burst: d.bursts.decoder, clock: ctx.clock,
    recovery: loggedRecovery(ctx), latency: { wireToDecode: ctx.latency.wire_to_decode },
    // Without recovery a gap is a loss: which messages, once per gap (the benchmarks attribute loss by it).
    gapListener: { onGap: (from, to) => { ctx.logger.warn(kLogUnrecoveredGap, from, to); } },
  });
  origin.from = r;  // the decoder is always the first stage of its worker
  const fd = r.decoder;
  // The books' idle warm walk: after ~200 us without a packet the books' lines were found out of
  // the caches, and each of the next packet's messages cost about twice its hot time (ARCHITECTURE.md,
  // signal_decide). An empty turn loads a slice of them (~0.1-0.2 us, independent loads) instead.
  const warm = books !== undefined && d.booksWarmIdle === true ? builder : undefined;
  let warmSteps = 0;

  return {
    roleName: 'decoder',
    doWork(): number {
      const n = r.doWork();
      if (n === 0 && warm !== undefined) { warm.warmStep(); warmSteps++; }
      // Records released outside an RX batch (held messages, retransmissions) are published here.
      if (writer !== undefined && writer.pending) writer.endOfBatch();
      return n;
    },
    start: () => r.start(),
    close: () => r.close(),
    get sourceDone() { return r.sourceDone; },
    get ringStalls() {
      let n = 0;
      for (let i = 0; i < writers.length; i++) n += writers[i].counters.stalls;
      return n;
    },
    publishCounters(): void {
      c[K.rx_packets] = r.packets; c[K.rx_bytes] = r.bytes; c[K.rx_ring_drops] = r.ringDrops;
      const arb = r.arbiter;
      if (arb) {
        const q = arb.sequencer.counters;
        c[K.sequence_gaps] = q.gaps; c[K.messages_missing] = q.missing; c[K.duplicates] = q.duplicates; c[K.messages_lost] = q.lost;
        c[K.other_traffic] = r.otherTraffic;
        if (r.requester) { c[K.messages_recovered] = r.requester.counters.filled; c[K.retransmit_requests] = r.requester.counters.requestsSent; }
      } else {
        const q = r.sequencer.counters;
        c[K.sequence_gaps] = q.gaps; c[K.messages_missing] = q.missing; c[K.duplicates] = q.duplicates;
      }
      const fc = fd.frames.counters;
      c[K.bad_frames] = fc.truncated + fc.notIpv4 + fc.badIpHeader + fc.notUdp + fc.fragment + fc.badUdpLength;
      c[K.moldudp64_packets] = r.moldUdp64Counters.packets;
      c[K.books_warm_steps] = warmSteps;
      const ic = r.itchCounters;
      c[K.itch_messages] = ic.messages;
      c[K.itch_errors] = ic.zeroLength + ic.truncated + ic.unknownType;
    },
  };
}

/**
 * MOEX FIX/FAST: frames -> line arbitration -> FAST decode -> FastBookAdapter, whose book events go
 * straight into the fused books stage's conflator (or strategy): FAST books are built while decoding,
 * so there is no decoder -> book ring on this path.
 */
function buildFastDecoderStage(ctx: StageContext, books: ItchMessageHandler | undefined): DecoderStage {
  const d = ctx.data, c = ctx.c, K = ctx.K, fast = d.feed.fast!;
  if (!(books instanceof MarketBooks)) throw new Error('feed.protocol moex-fast needs the book stage on the decoder\'s worker');
  const logger = ctx.logger;
  const r = new MoexFeedReceiver(new RxConsumer(d.rx!), loadFastTemplates(fast.templatesXml), books.fastEvents, {
    lines: fast.lines, priceDecimals: fast.priceDecimals, market: fast.market, lineWaitMs: fast.lineWaitMs, burst: d.bursts.decoder,
    listener: { onGap: (from, to) => { logger.warn(kLogGap, from, to); }, onStale: (locate) => { logger.warn(kLogBookStale, locate); }, onTradeGap: (locate, from, to) => { logger.warn(kLogTradeGap, locate, from, to); } },
  });
  ctx.origin.from = r;
  books.external = r.adapter;
  return {
    roleName: 'decoder',
    doWork: () => r.doWork(),
    start: () => r.start(),
    close: () => r.close(),
    // What each A/B line brought, once at the end: a line that lost datagrams shows fewer of them.
    onDrained(): void {
      r.arbiter.lines.forEach((l, i) => { logger.info(kLogFastLine, i, l.datagrams, l.firsts, l.duplicates); });
    },
    get sourceDone() { return r.sourceDone; },
    get ringStalls() { return 0; },
    publishCounters(): void {
      c[K.rx_packets] = r.packets; c[K.rx_bytes] = r.bytes; c[K.rx_ring_drops] = r.ringDrops;
      const a = r.arbiter.counters;
      c[K.sequence_gaps] = a.gaps; c[K.messages_missing] = a.missing; c[K.other_traffic] = r.otherTraffic;
      // The copies of A/B datagrams the other line brought first.
      let dup = 0;
      for (const l of r.arbiter.lines) dup += l.duplicates;
      c[K.duplicates] = dup;
      const lines = r.arbiter.lines;
      if (lines.length > 0) { const a = lines[0]; c[K.fast_line_a_datagrams] = a.datagrams; c[K.fast_line_a_firsts] = a.firsts; c[K.fast_line_a_duplicates] = a.duplicates; }
      if (lines.length > 1) { const b = lines[1]; c[K.fast_line_b_datagrams] = b.datagrams; c[K.fast_line_b_firsts] = b.firsts; c[K.fast_line_b_duplicates] = b.duplicates; }
      const fc = r.frames.counters;
      c[K.bad_frames] = fc.truncated + fc.notIpv4 + fc.badIpHeader + fc.notUdp + fc.fragment + fc.badUdpLength;
      const inc = r.incremental.decoder.counters, snap = r.snapshot.decoder.counters, info = r.info.decoder.counters;
      // The ITCH message counters carry the FAST ones: messages decoded and decode errors, every channel.
      c[K.itch_messages] = inc.messages + snap.messages + info.messages;
      c[K.itch_errors] = inc.errors + snap.errors + info.errors;
      // Book counters (book_events, quotes, book_bad_references) are the book stage's to write, from
      // the adapter it reads through MarketBooks.external: same worker, one writer per counter.
    },
  };
}
