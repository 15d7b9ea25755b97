/**
 * Builds an OrderBook per stock locate from decoded ITCH messages and emits normalized BookEvents.
 *
 * A F E C X D U change books (orders in one OrderStore shared by all locates: references are unique
 * per day); H sets trading state (STATUS); P and Q are TRADEs; I is IMBALANCE; R names the locate.
 * After every book change the top of book is compared with the last QUOTE and a new QUOTE is emitted
 * only if it moved. Bad references (unknown order, duplicate add, executing or cancelling more than is
 * open, a side byte that is neither B nor S) are counted and never corrupt the book: over-executions
 * are clamped to the open shares because the exchange is authoritative and the order is gone there.
 *
 * Single writer: the thread that decodes the feed (it is the FeedDecoder's handler). Events are
 * delivered synchronously through one reused BookEvent.
 */
import { BookEvent, BookEventHandler, kBookEventAddOrder, kBookEventDeleteOrder, kBookEventExecuteOrder,
  kBookEventImbalance, kBookEventModifyOrder, kBookEventQuote, kBookEventStatus, kBookEventTrade } from './book-event';
import { ItchMessageHandler } from '../feed-decoder';
import {
  ItchDecoder, kItchAddOrder, kItchAddOrderMpid, kItchBrokenTrade, kItchCrossTrade, kItchNoii, kItchOrderCancel,
  kItchOrderDelete, kItchOrderExecuted, kItchOrderExecutedWithPrice, kItchOrderReplace, kItchStockDirectory,
  kItchStockTradingAction, kItchTrade,
} from '../itch/itch-decoder';
import { OrderBook } from './order-book';
import { OrderStore } from './order-store';
import { SymbolTable } from './symbol-table';

const kBuy = 0x42;
const kSell = 0x53;

export class BookBuilderCounters {
  messages = 0;
  unknownOrder = 0;
  duplicateOrder = 0;
  overExecution = 0;
  overCancel = 0;
  badSide = 0;
  /** An order found under a different locate than the message's; applied to the order's own book. */
  locateMismatch = 0;
  brokenTrades = 0;
  /** Should stay 0: a resting order whose price level was missing. */
  levelMismatch = 0;
  events = 0;
  quotes = 0;
}

export interface BookBuilderOptions {
  /** Expected peak resting orders; the order table grows past it by doubling. */
  initialOrderCapacity?: number;
}

export class BookBuilder implements ItchMessageHandler {
  readonly orders: OrderStore;
  readonly symbols = new SymbolTable();
  readonly counters = new BookBuilderCounters();
  private readonly books: (OrderBook | undefined)[] = new Array<OrderBook | undefined>(65536).fill(undefined);
  private readonly event = new BookEvent();
  private readonly handler: BookEventHandler;

  constructor(handler: BookEventHandler, options: BookBuilderOptions = {}) {
    this.handler = handler;
    this.orders = new OrderStore(options.initialOrderCapacity ?? 1 << 16);
  }

  /** The book of a locate, undefined until a message created it. */
  book(stockLocate: number): OrderBook | undefined {
    return this.books[stockLocate];
  }

  /** Every book created so far (tools and tests). */
  allBooks(): OrderBook[] {
    return this.books.filter((b): b is OrderBook => b !== undefined);
  }

  onMessage(d: ItchDecoder, type: number, sequence: number): void {
    this.counters.messages++;
    switch (type) {
      case kItchAddOrder: {
        const m = d.addOrder;
        this.addOrder(m.stockLocate, m.timestamp, sequence, m.orderReferenceNumber, m.buffer[m.offset + 19], m.shares, m.price, m.buffer, m.stockOffset);
        break;
      }
      case kItchAddOrderMpid: {
        const m = d.addOrderMpid;
        this.addOrder(m.stockLocate, m.timestamp, sequence, m.orderReferenceNumber, m.buffer[m.offset + 19], m.shares, m.price, m.buffer, m.stockOffset);
        break;
      }
      case kItchOrderExecuted: {
        const m = d.orderExecuted;
        this.execute(m.stockLocate, m.timestamp, sequence, m.orderReferenceNumber, m.executedShares, m.matchNumber, -1, true);
        break;
      }
      case kItchOrderExecutedWithPrice: {
        const m = d.orderExecutedWithPrice;
        this.execute(m.stockLocate, m.timestamp, sequence, m.orderReferenceNumber, m.executedShares, m.matchNumber,
          m.executionPrice, m.buffer[m.offset + 31] === 0x59);
        break;
      }
      case kItchOrderCancel: {
        const m = d.orderCancel;
        this.cancel(m.stockLocate, m.timestamp, sequence, m.orderReferenceNumber, m.cancelledShares);
        break;
      }
      case kItchOrderDelete: {
        const m = d.orderDelete;
        this.cancel(m.stockLocate, m.timestamp, sequence, m.orderReferenceNumber, -1);
        break;
      }
      case kItchOrderReplace: {
        const m = d.orderReplace;
        this.replace(m.stockLocate, m.timestamp, sequence, m.originalOrderReferenceNumber, m.newOrderReferenceNumber, m.shares, m.price);
        break;
      }
      case kItchTrade: {
        const m = d.trade;
        const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
        const e = this.begin(kBookEventTrade, book, m.timestamp, sequence);
        e.orderReferenceNumber = e.previousOrderReferenceNumber = m.orderReferenceNumber;
        e.side = m.buffer[m.offset + 19];
        e.shares = m.shares;
        e.price = m.price;
        e.matchNumber = m.matchNumber;
        e.crossType = 0;
        e.printable = true;
        this.emit(e);
        break;
      }
      case kItchCrossTrade: {
        const m = d.crossTrade;
        const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
        const e = this.begin(kBookEventTrade, book, m.timestamp, sequence);
        e.orderReferenceNumber = e.previousOrderReferenceNumber = 0;
        e.side = 0;
        e.shares = m.shares;
        e.price = m.crossPrice;
        e.matchNumber = m.matchNumber;
        e.crossType = m.buffer[m.offset + 39];
        e.printable = true;
        this.emit(e);
        break;
      }
      case kItchStockTradingAction: {
        const m = d.stockTradingAction;
        const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
        book.tradingState = m.buffer[m.offset + 19];
        const e = this.begin(kBookEventStatus, book, m.timestamp, sequence);
        e.tradingState = book.tradingState;
        this.emit(e);
        break;
      }
      case kItchNoii: {
        const m = d.noii;
        const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
        const e = this.begin(kBookEventImbalance, book, m.timestamp, sequence);
        e.pairedShares = m.pairedShares;
        e.imbalanceShares = m.imbalanceShares;
        e.imbalanceDirection = m.buffer[m.offset + 27];
        e.farPrice = m.farPrice;
        e.nearPrice = m.nearPrice;
        e.currentReferencePrice = m.currentReferencePrice;
        e.crossType = m.buffer[m.offset + 48];
        e.priceVariationIndicator = m.buffer[m.offset + 49];
        this.emit(e);
        break;
      }
      case kItchStockDirectory: {
        const m = d.stockDirectory;
        this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
        break;
      }
      case kItchBrokenTrade:
        this.counters.brokenTrades++;
        break;
      default:
        break;
    }
  }

  endOfBatch(): void {
    this.handler.endOfBatch();
  }

  /**
   * The locate's book, created on first sight, with its symbol checked against the message's Stock
   * field. The field's 8 bytes are compared as two words kept on the book (a line this message
   * touches anyway) and the SymbolTable is consulted only when they differ: first sight of the
   * locate, or a new symbol for it.
   */
  private bookFor(locate: number, buffer: Uint8Array, stockOffset: number): OrderBook {
    let book = this.books[locate];
    if (book === undefined) {
      book = new OrderBook(locate);
      this.books[locate] = book;
    }
    const o = stockOffset;
    const hi = (buffer[o] << 24) | (buffer[o + 1] << 16) | (buffer[o + 2] << 8) | buffer[o + 3];
    const lo = (buffer[o + 4] << 24) | (buffer[o + 5] << 16) | (buffer[o + 6] << 8) | buffer[o + 7];
    if (hi !== book.stockHi || lo !== book.stockLo || !book.stockKnown) {
      book.symbol = this.symbols.resolve(locate, buffer, stockOffset);
      book.stockHi = hi;
      book.stockLo = lo;
      book.stockKnown = true;
    }
    return book;
  }

  private addOrder(locate: number, ts: number, seq: number, ref: number, side: number, shares: number, price: number,
    buffer: Uint8Array, stockOffset: number): void {
    if (side !== kBuy && side !== kSell) { this.counters.badSide++; return; }
    const book = this.bookFor(locate, buffer, stockOffset);
    if (this.orders.insert(ref, locate, side, price, shares) < 0) { this.counters.duplicateOrder++; return; }
    const levels = side === kBuy ? book.bids : book.asks;
    levels.addOrder(price, shares);
    const e = this.begin(kBookEventAddOrder, book, ts, seq);
    e.orderReferenceNumber = e.previousOrderReferenceNumber = ref;
    e.side = side;
    e.price = price;
    e.shares = shares;
    this.emit(e);
    if (levels.touchedTop) this.quoteIfChanged(book, ts, seq);
  }

  /** Resolve the order's book, counting a locate that disagrees with the message. */
  private orderBook(slot: number, locate: number): OrderBook | undefined {
    const orderLocate = this.orders.locate(slot);
    if (orderLocate !== locate) this.counters.locateMismatch++;
    return this.books[orderLocate];
  }

  private execute(locate: number, ts: number, seq: number, ref: number, executed: number, match: number, price: number, printable: boolean): void {
    const orders = this.orders;
    const slot = orders.find(ref);
    if (slot < 0) { this.counters.unknownOrder++; return; }
    const book = this.orderBook(slot, locate)!;
    const open = orders.shares(slot);
    if (executed > open) { this.counters.overExecution++; executed = open; }
    const remaining = open - executed;
    const side = orders.side(slot);
    const orderPrice = orders.price(slot);
    const levels = side === kBuy ? book.bids : book.asks;
    if (!levels.reduce(orderPrice, executed, remaining === 0)) this.counters.levelMismatch++;
    if (remaining === 0) orders.remove(slot); else orders.setShares(slot, remaining);
    const e = this.begin(kBookEventExecuteOrder, book, ts, seq);
    e.orderReferenceNumber = e.previousOrderReferenceNumber = ref;
    e.side = side;
    e.price = price < 0 ? orderPrice : price;
    e.shares = executed;
    e.remainingShares = remaining;
    e.matchNumber = match;
    e.printable = printable;
    this.emit(e);
    if (levels.touchedTop) this.quoteIfChanged(book, ts, seq);
  }

  /** Cancel `cancelled` shares, or delete the order when `cancelled` < 0. */
  private cancel(locate: number, ts: number, seq: number, ref: number, cancelled: number): void {
    const orders = this.orders;
    const slot = orders.find(ref);
    if (slot < 0) { this.counters.unknownOrder++; return; }
    const book = this.orderBook(slot, locate)!;
    const open = orders.shares(slot);
    if (cancelled < 0) cancelled = open;
    else if (cancelled > open) { this.counters.overCancel++; cancelled = open; }
    const remaining = open - cancelled;
    const side = orders.side(slot);
    const price = orders.price(slot);
    const levels = side === kBuy ? book.bids : book.asks;
    if (!levels.reduce(price, cancelled, remaining === 0)) this.counters.levelMismatch++;
    if (remaining === 0) orders.remove(slot); else orders.setShares(slot, remaining);
    const e = this.begin(remaining === 0 ? kBookEventDeleteOrder : kBookEventModifyOrder, book, ts, seq);
    e.orderReferenceNumber = e.previousOrderReferenceNumber = ref;
    e.side = side;
    e.price = price;
    e.shares = remaining === 0 ? cancelled : remaining;
    e.remainingShares = remaining;
    this.emit(e);
    if (levels.touchedTop) this.quoteIfChanged(book, ts, seq);
  }

  private replace(locate: number, ts: number, seq: number, original: number, replacement: number, shares: number, price: number): void {
    const orders = this.orders;
    const slot = orders.find(original);
    if (slot < 0) { this.counters.unknownOrder++; return; }
    const book = this.orderBook(slot, locate)!;
    const side = orders.side(slot);
    const levels = side === kBuy ? book.bids : book.asks;
    const oldPrice = orders.price(slot);
    const oldShares = orders.shares(slot);
    if (!levels.reduce(oldPrice, oldShares, true)) this.counters.levelMismatch++;
    let touchedTop = levels.touchedTop;
    const orderLocate = orders.locate(slot);
    orders.remove(slot);
    if (orders.insert(replacement, orderLocate, side, price, shares) < 0) {
      // The original is gone on the exchange either way; report it deleted.
      this.counters.duplicateOrder++;
      const e = this.begin(kBookEventDeleteOrder, book, ts, seq);
      e.orderReferenceNumber = e.previousOrderReferenceNumber = original;
      e.side = side;
      e.price = oldPrice;
      e.shares = oldShares;
      e.remainingShares = 0;
      this.emit(e);
    } else {
      levels.addOrder(price, shares);
      touchedTop = touchedTop || levels.touchedTop;
      const e = this.begin(kBookEventModifyOrder, book, ts, seq);
      e.orderReferenceNumber = replacement;
      e.previousOrderReferenceNumber = original;
      e.side = side;
      e.price = price;
      e.shares = shares;
      e.remainingShares = shares;
      this.emit(e);
    }
    if (touchedTop) this.quoteIfChanged(book, ts, seq);
  }

  /** Called after a change that touched a best level (below the top the BBO cannot have moved). */
  private quoteIfChanged(book: OrderBook, ts: number, seq: number): void {
    if (!book.takeQuoteChange()) return;
    const e = this.begin(kBookEventQuote, book, ts, seq);
    e.bidPrice = book.quotedBidPrice;
    e.bidShares = book.quotedBidShares;
    e.askPrice = book.quotedAskPrice;
    e.askShares = book.quotedAskShares;
    this.counters.quotes++;
    this.emit(e);
  }

  private begin(kind: number, book: OrderBook, ts: number, seq: number): BookEvent {
    const e = this.event;
    e.kind = kind;
    e.stockLocate = book.stockLocate;
    e.symbol = book.symbol;
    e.timestamp = ts;
    e.sequence = seq;
    return e;
  }

  private emit(e: BookEvent): void {
    this.counters.events++;
    this.handler.onEvent(e);
  }
}
