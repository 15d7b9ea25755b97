/**
 * The book stage: ITCH messages in, normalized book events out, through MarketBooks (subscription
 * filter, BookBuilder, Conflator), the same object FeedHandler uses. Its input is the fused decoder
 * calling `messages` directly, or the decoder -> book ring; its events go to the fused strategy, or
 * into the book -> strategy ring.
 *
 * Sharded (performance.stages.book.shards > 1): one such stage per shard, each on its own worker,
 * with the books of the stock locates the decoder sends it (locate % shards), its own conflator and
 * its own pair of rings; the strategy's worker merges the shards' events. Each shard writes its own
 * counters, and the pipeline sums the workers' blocks, so book_events, quotes, conflated and
 * filtered count every shard. The live book view is answered by each shard for its own books, and
 * the main thread relays the instance's mailbox to them (BookMailboxRelay).
 *
 * Threading contract: built, run and flushed on the book's worker.
 */
import { SpscRing } from '../../common/spsc-ring';
import type { BookEvent, BookEventHandler } from '../../feed/book/book-event';
import type { ItchMessageHandler } from '../../feed/feed-decoder';
import { snapshotOfBook } from '../../feed/book/book-snapshot';
import { BookAnswer, BookMailboxServer, TopOfBookRow } from '../book-mailbox';
import { MarketBooks } from '../market-books';
import type { BookBuilder } from '../../feed/book/book-builder';
import { ItchRecordReader, MarketEventWriter } from '../stage-rings';
import type { Stage, StageContext } from './stage';

export interface BooksStage extends Stage {
  /** Where a fused decoder delivers its messages. */
  readonly messages: ItchMessageHandler;
  /** The books, for a fused decoder's idle warm walk (BookBuilder.warmStep). */
  readonly builder: BookBuilder;
}

/** `strategy`: the fused strategy stage's input; without it, events go to the book -> strategy ring. */
export function buildBooksStage(ctx: StageContext, strategy: BookEventHandler | undefined, immediateQuote?: (e: BookEvent) => void): BooksStage {
  const d = ctx.data, c = ctx.c, K = ctx.K, origin = ctx.origin;
  // A book shard reads and writes its own pair of rings (index 0 when the books are not sharded).
  const shard = d.bookShard.index;
  const writer = strategy ? undefined : new MarketEventWriter(SpscRing.attach(d.rings.bookToStrategy![shard]), () => origin.rxTsNs, () => origin.packetNo);
  const market = new MarketBooks(strategy ?? writer!, {
    conflate: d.feed.conflate, conflationIntervalUs: d.feed.conflationIntervalUs, subscriptions: ctx.subscriptions, clock: ctx.clock,
    immediateQuote: strategy ? immediateQuote : undefined,
  });
  // Without the decoder on this worker, messages come through the ring, which is where packets come from too.
  const reader = ctx.has('decoder') ? undefined : new ItchRecordReader(SpscRing.attach(d.rings.decoderToBook![shard]), market, d.bursts.book);
  if (reader) origin.from = reader;
  const books = market.books, conflator = market.conflator;
  // The live book view (tickpath book --instance, /api/book): answered between slices, on request.
  const mailbox = d.bookMailbox ? new BookMailboxServer(d.bookMailbox, (symbol, depth): BookAnswer => {
    const all = (market.external ?? books).allBooks();
    // A FAST book is SESSION:SYMBOL; the bare symbol finds it too when only one session has it.
    let book = all.find((b) => b.symbol === symbol);
    if (book === undefined && !symbol.includes(':')) {
      const matches = all.filter((b) => b.symbol.endsWith(`:${symbol}`));
      if (matches.length === 1) book = matches[0];
    }
    if (book) return { symbol: book.symbol, found: true, snapshot: snapshotOfBook(book, depth), atMs: Date.now() };
    return { symbol, found: false, known: all.map((b) => b.symbol).filter((s) => s !== '').slice(0, 50), atMs: Date.now() };
  }, (): TopOfBookRow[] => (market.external ?? books).allBooks().filter((b) => b.symbol !== '').map((b) => ({
    symbol: b.symbol,
    bid: b.bids.count > 0 ? b.bids.priceAt(0) : 0, bidShares: b.bids.count > 0 ? b.bids.sharesAt(0) : 0, bidOrders: b.bids.count > 0 ? b.bids.ordersAt(0) : 0,
    ask: b.asks.count > 0 ? b.asks.priceAt(0) : 0, askShares: b.asks.count > 0 ? b.asks.sharesAt(0) : 0, askOrders: b.asks.count > 0 ? b.asks.ordersAt(0) : 0,
  })).sort((x, y) => (x.symbol < y.symbol ? -1 : x.symbol > y.symbol ? 1 : 0)),
  // Prices as the books hold them: ITCH Price(4), or a FAST feed's price_decimals.
  d.feed.fast?.priceDecimals ?? 4) : undefined;

  return {
    roleName: 'book',
    messages: market,
    builder: books,
    doWork(): number {
      market.refresh();
      const n = reader !== undefined ? reader.doWork() : 0;
      if (writer !== undefined && writer.pending) writer.endOfBatch();
      return n;
    },
    pollRequests(): number {
      return mailbox !== undefined ? mailbox.poll() : 0;
    },
    get ringStalls() { return writer !== undefined ? writer.counters.stalls : 0; },
    publishCounters(): void {
      const ext = market.external;
      if (ext !== undefined) {
        // A FAST feed: the books are its adapter's, on this worker (decoder-stage.ts).
        c[K.book_events] = ext.counters.events;
        c[K.quotes] = ext.counters.quotes;
        c[K.book_bad_references] = ext.badReferences();
      } else {
        const bc = books.counters;
        c[K.book_events] = bc.events;
        c[K.quotes] = bc.quotes;
        c[K.book_bad_references] = bc.unknownOrder + bc.overExecution + bc.overCancel + bc.duplicateOrder + bc.badSide;
      }
      if (conflator) c[K.conflated] = conflator.counters.conflated;
      c[K.filtered] = market.filteredMessages;
    },
    onDrained(): void {
      conflator?.flush();
    },
  };
}
