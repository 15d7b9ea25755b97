/**
 * MarketBooks: ITCH messages in, normalized book events out. The back half of FeedHandler, and the
 * whole of a book stage that runs on its own worker (its messages then come from a ring):
 *
 *   ItchMessageHandler ─► subscription filter (by stock locate, before any book work)
 *     ─► BookBuilder ─► Conflator (optional) ─► your BookEventHandler
 *
 * The filter reads raw bytes through the decoder's flyweight, so messages may come from the wire,
 * a recovery buffer or a ring record alike.
 *
 * Threading contract: one thread calls onMessage/endOfBatch/refresh (the book's worker); the
 * subscription mailbox may be written from any thread. Nothing is allocated per message.
 */
import type { Clock } from '../common/clock';
import { BookBuilder } from '../feed/book/book-builder';
import { BookEvent, BookEventHandler, kBookEventQuote } from '../feed/book/book-event';
import { Conflator } from '../feed/book/conflator';
import type { ItchMessageHandler } from '../feed/feed-decoder';
import type { ItchDecoder } from '../feed/itch/itch-decoder';
import type { OrderBook } from '../feed/book/order-book';
import { SubscriptionFilter, SubscriptionMailbox } from './subscriptions';

export interface MarketBooksOptions {
  /** Conflate QUOTE events (default true). Trades, status and imbalances are never conflated. */
  conflate?: boolean;
  /** With conflation: the least time between flushes (default 0: every end of batch). */
  conflationIntervalUs?: number;
  subscriptions: SubscriptionMailbox;
  clock: Clock;
  /** Initial order-table size for the books. */
  initialOrderCapacity?: number;
  /**
   * Called with each QUOTE as the books make it, before the conflator holds it for the end of the
   * batch (a fused strategy's onTopOfBook); conflation is unchanged for `downstream`.
   */
  immediateQuote?: (e: BookEvent) => void;
}

/**
 * Books built beside the BookBuilder, by a feed that decodes straight into books (a MOEX FIX/FAST
 * feed's FastBookAdapter, on the decoder's worker): the book view and the book counters read these.
 */
export interface ExternalBooks {
  allBooks(): OrderBook[];
  readonly counters: { readonly events: number; readonly quotes: number };
  /** Entries naming unknown or duplicate orders, or prices, sizes and ids that do not convert. */
  badReferences(): number;
}

export class MarketBooks implements ItchMessageHandler {
  readonly books: BookBuilder;
  readonly conflator: Conflator | undefined;
  /** Where book events go after the books (the conflator, else downstream): a FAST feed's book adapter emits here. */
  readonly events: BookEventHandler;
  /** Messages the subscription filter kept from the books. */
  filteredMessages = 0;
  /** Set by a FAST decoder stage on the same worker: its books stand in for the BookBuilder's. */
  external: ExternalBooks | undefined = undefined;
  /**
   * Where a FAST adapter emits: the subscription filter by book, then `events`. FAST books are all
   * built (each instrument's RptSeq must be followed to stay live); only their events are filtered,
   * counted in filteredMessages.
   */
  readonly fastEvents: BookEventHandler;
  private readonly filter: SubscriptionFilter;

  constructor(downstream: BookEventHandler, options: MarketBooksOptions) {
    const clock = options.clock;
    this.filter = new SubscriptionFilter(options.subscriptions);
    this.conflator = (options.conflate ?? true)
      ? new Conflator(downstream, { intervalNs: (options.conflationIntervalUs ?? 0) * 1000, clock: () => clock.nowNs() })
      : undefined;
    this.events = this.conflator ?? downstream;
    const immediate = options.immediateQuote;
    const conflator = this.conflator;
    // With an immediate listener, each QUOTE goes to it first, then on to the conflator (or downstream).
    const fromBooks: BookEventHandler = immediate === undefined ? this.events : conflator === undefined
      ? { onEvent: (e) => { if (e.kind === kBookEventQuote) immediate(e); downstream.onEvent(e); }, endOfBatch: () => downstream.endOfBatch() }
      : { onEvent: (e) => { if (e.kind === kBookEventQuote) immediate(e); conflator.onEvent(e); }, endOfBatch: () => conflator.endOfBatch() };
    this.books = new BookBuilder(fromBooks, { initialOrderCapacity: options.initialOrderCapacity });
    // A FAST adapter's events take the same way as the BookBuilder's (immediate quotes included).
    const events = fromBooks, filter = this.filter;
    this.fastEvents = {
      onEvent: (e) => { if (filter.admitsBook(e.stockLocate, e.symbol)) events.onEvent(e); else this.filteredMessages++; },
      endOfBatch: () => { events.endOfBatch(); },
    };
  }

  /** Picks up a new subscription list, if one was published; once per turn. */
  refresh(): void {
    this.filter.refresh();
  }

  onMessage(d: ItchDecoder, type: number, sequence: number): void {
    const books = this.books;
    if (this.filter.everything) { books.onMessage(d, type, sequence); return; }
    // Raw bytes from the flyweight: the message may come from the wire, a recovery buffer or a ring.
    const m = d.messageFor(type)!;
    if (this.filter.admits(type, m.buffer, m.offset, books.symbols)) books.onMessage(d, type, sequence);
    else this.filteredMessages++;
  }

  endOfBatch(): void {
    this.books.endOfBatch();
  }
}
