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
import { invalidOption } from '../../errors';
import { ItchMessageHandler } from '../feed-decoder';
import {
  ItchDecoder, kItchAddOrder, kItchAddOrderMpid, kItchBrokenTrade, kItchCrossTrade, kItchNoii, kItchOrderCancel,
  kItchOrderDelete, kItchOrderExecuted, kItchOrderExecutedWithPrice, kItchOrderReplace, kItchStockDirectory,
  kItchStockTradingAction, kItchTrade,
} from '../itch/itch-decoder';
import {
  AddOrderMessage, AddOrderMpidMessage, CrossTradeMessage, NoiiMessage, OrderCancelMessage, OrderDeleteMessage,
  OrderExecutedMessage, OrderExecutedWithPriceMessage, OrderReplaceMessage, StockDirectoryMessage,
  StockTradingActionMessage, TradeMessage,
} from '../itch/itch-messages';
import { Levels, LevelStore } from './level-store';
import { OrderBook } from './order-book';
import { OrderStore } from './order-store';
import { SortedLevels } from './sorted-levels';
import { SymbolTable } from './symbol-table';

const kBuy = 0x42;
const kSell = 0x53;
/** The idle warm walk's slice (warmStep): book sides, record lines, and how many pages of references back. */
const kWarmSides = 16;
const kWarmLines = 32;
const kWarmPages = 16;

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
  /**
   * 'ladder' (default): LevelStore. 'sorted': every level kept sorted (SortedLevels), the structure
   * the ladder replaced, kept as the baseline perf:book runs beside it. A builder's code sees one
   * kind only if a process uses one kind (perf:book loads a separate copy of the module for it).
   */
  levels?: 'ladder' | 'sorted';
  /**
   * The order table, when the caller builds it (perf:book injects the previous structure into a
   * separately loaded builder); default a new OrderStore sized by initialOrderCapacity.
   */
  orders?: OrderStore;
}

export class BookBuilder implements ItchMessageHandler {
  readonly orders: OrderStore;
  readonly symbols = new SymbolTable();
  readonly counters = new BookBuilderCounters();
  /** Every book's price levels (side locate * 2 bids, locate * 2 + 1 asks); the hot path uses it directly. */
  readonly levels: Levels;
  /** Per locate: the last Stock field seen, as two big-endian int32 words, and 1 once seen (see checkStock). */
  private readonly stockWords = new Int32Array(65536 * 4);
  /**
   * Per locate, 1 once its book exists: what an add checks instead of its Stock field (one byte per
   * locate, 64 to a cache line, so a day's 8,000 symbols stay in L1 rather than 2,000 lines of words).
   */
  private readonly hasBook = new Uint8Array(65536);
  private readonly books: (OrderBook | undefined)[] = new Array<OrderBook | undefined>(65536).fill(undefined);
  private readonly event = new BookEvent();
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewBytes: Uint8Array | undefined = undefined;
  private readonly handler: BookEventHandler;
  /** What the idle warm walk loaded, summed: read by nothing, it only keeps the loads (warmStep). */
  warmSink = 0;

  constructor(handler: BookEventHandler, options: BookBuilderOptions = {}) {
    this.handler = handler;
    this.orders = options.orders ?? new OrderStore(options.initialOrderCapacity ?? 1 << 16);
    const levels = options.levels ?? 'ladder';
    if (levels !== 'ladder' && levels !== 'sorted') throw invalidOption('BookBuilder', 'levels', levels, "'ladder' or 'sorted'");
    this.levels = levels === 'ladder' ? new LevelStore(65536 * 2) : new SortedLevels(65536 * 2, 1 << 16);
  }

  /** The book of a locate, undefined until a message created it. */
  book(stockLocate: number): OrderBook | undefined {
    return this.books[stockLocate];
  }

  /** Every book created so far (tools and tests). */
  allBooks(): OrderBook[] {
    return this.books.filter((b): b is OrderBook => b !== undefined);
  }

  /**
   * One small method per message type: a single switch with every getter inline exceeds TurboFan's
   * cumulative inlining budget, and a getter left as a call returns its double (the timestamp) in a
   * new HeapNumber, one allocation per message. The message's fields go straight into the reused
   * event and the apply methods read them from there, so no double crosses a call either.
   */
  onMessage(d: ItchDecoder, type: number, sequence: number): void {
    this.counters.messages++;
    switch (type) {
      case kItchAddOrder: this.onAddOrder(d.addOrder, sequence); break;
      case kItchAddOrderMpid: this.onAddOrderMpid(d.addOrderMpid, sequence); break;
      case kItchOrderExecuted: this.onOrderExecuted(d.orderExecuted, sequence); break;
      case kItchOrderExecutedWithPrice: this.onOrderExecutedWithPrice(d.orderExecutedWithPrice, sequence); break;
      case kItchOrderCancel: this.onOrderCancel(d.orderCancel, sequence); break;
      case kItchOrderDelete: this.onOrderDelete(d.orderDelete, sequence); break;
      case kItchOrderReplace: this.onOrderReplace(d.orderReplace, sequence); break;
      case kItchTrade: this.onTrade(d.trade, sequence); break;
      case kItchCrossTrade: this.onCrossTrade(d.crossTrade, sequence); break;
      case kItchStockTradingAction: this.onStockTradingAction(d.stockTradingAction, sequence); break;
      case kItchNoii: this.onNoii(d.noii, sequence); break;
      case kItchStockDirectory: this.onStockDirectory(d.stockDirectory, sequence); break;
      case kItchBrokenTrade: this.counters.brokenTrades++; break;
      default: break;
    }
  }

  // The order messages read their fields straight from the bytes (offsets from the spec, as the
  // flyweights' getters): a getter is inlined only while TurboFan's cumulative budget lasts, and the
  // budget is better spent on the order table and the levels, which are the work. They read through
  // a DataView of the packet's buffer (kept while the buffer stays the same, as the RX region does):
  // TurboFan compiles getUint32 to one bounds check, one load and a byte swap, where four byte
  // loads each carried a bounds check of its own (an add reads 25 bytes).

  /** A DataView of `b`, made again only when the buffer changes (one per RX region, not per packet). */
  private viewOf(b: Uint8Array): DataView<ArrayBufferLike> {
    if (b !== this.viewBytes) {
      this.viewBytes = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.view;
  }

  private onAddOrder(m: AddOrderMessage, sequence: number): void {
    const e = this.event;
    const o = m.offset;
    const v = this.viewOf(m.buffer);
    e.timestamp = timestampAt(v, o);
    e.sequence = sequence;
    e.orderReferenceNumber = e.previousOrderReferenceNumber = u64At(v, o + 11);
    this.addOrder(v.getUint16(o + 1), v.getUint8(o + 19), v.getUint32(o + 20), v.getUint32(o + 32), m.buffer, o + 24);
  }

  private onAddOrderMpid(m: AddOrderMpidMessage, sequence: number): void {
    const e = this.event;
    const o = m.offset;
    const v = this.viewOf(m.buffer);
    e.timestamp = timestampAt(v, o);
    e.sequence = sequence;
    e.orderReferenceNumber = e.previousOrderReferenceNumber = u64At(v, o + 11);
    this.addOrder(v.getUint16(o + 1), v.getUint8(o + 19), v.getUint32(o + 20), v.getUint32(o + 32), m.buffer, o + 24);
  }

  private onOrderExecuted(m: OrderExecutedMessage, sequence: number): void {
    const e = this.event;
    const o = m.offset;
    const v = this.viewOf(m.buffer);
    e.timestamp = timestampAt(v, o);
    e.sequence = sequence;
    e.orderReferenceNumber = e.previousOrderReferenceNumber = u64At(v, o + 11);
    e.matchNumber = u64At(v, o + 23);
    e.printable = true;
    this.execute(v.getUint16(o + 1), v.getUint32(o + 19), false);
  }

  private onOrderExecutedWithPrice(m: OrderExecutedWithPriceMessage, sequence: number): void {
    const e = this.event;
    const o = m.offset;
    const v = this.viewOf(m.buffer);
    e.timestamp = timestampAt(v, o);
    e.sequence = sequence;
    e.orderReferenceNumber = e.previousOrderReferenceNumber = u64At(v, o + 11);
    e.matchNumber = u64At(v, o + 23);
    e.price = v.getUint32(o + 32);
    e.printable = v.getUint8(o + 31) === 0x59;
    this.execute(v.getUint16(o + 1), v.getUint32(o + 19), true);
  }

  private onOrderCancel(m: OrderCancelMessage, sequence: number): void {
    const e = this.event;
    const o = m.offset;
    const v = this.viewOf(m.buffer);
    e.timestamp = timestampAt(v, o);
    e.sequence = sequence;
    e.orderReferenceNumber = e.previousOrderReferenceNumber = u64At(v, o + 11);
    this.cancel(v.getUint16(o + 1), v.getUint32(o + 19));
  }

  private onOrderDelete(m: OrderDeleteMessage, sequence: number): void {
    const e = this.event;
    const o = m.offset;
    const v = this.viewOf(m.buffer);
    e.timestamp = timestampAt(v, o);
    e.sequence = sequence;
    e.orderReferenceNumber = e.previousOrderReferenceNumber = u64At(v, o + 11);
    this.cancel(v.getUint16(o + 1), -1);
  }

  private onOrderReplace(m: OrderReplaceMessage, sequence: number): void {
    const e = this.event;
    const o = m.offset;
    const v = this.viewOf(m.buffer);
    e.timestamp = timestampAt(v, o);
    e.sequence = sequence;
    e.previousOrderReferenceNumber = u64At(v, o + 11);
    e.orderReferenceNumber = u64At(v, o + 19);
    this.replace(v.getUint16(o + 1), v.getUint32(o + 27), v.getUint32(o + 31));
  }

  private onTrade(m: TradeMessage, sequence: number): void {
    const e = this.event;
    const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
    e.timestamp = timestampOf(m.buffer, m.offset);
    e.sequence = sequence;
    this.begin(kBookEventTrade, book.stockLocate);
    e.orderReferenceNumber = e.previousOrderReferenceNumber = m.orderReferenceNumber;
    e.side = m.buffer[m.offset + 19];
    e.shares = m.shares;
    e.price = m.price;
    e.matchNumber = m.matchNumber;
    e.crossType = 0;
    e.printable = true;
    book.recordTrade(m.price, m.shares, e.timestamp);
    this.emit(e);
  }

  private onCrossTrade(m: CrossTradeMessage, sequence: number): void {
    const e = this.event;
    const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
    e.timestamp = timestampOf(m.buffer, m.offset);
    e.sequence = sequence;
    this.begin(kBookEventTrade, book.stockLocate);
    e.orderReferenceNumber = e.previousOrderReferenceNumber = 0;
    e.side = 0;
    e.shares = m.shares;
    e.price = m.crossPrice;
    e.matchNumber = m.matchNumber;
    e.crossType = m.buffer[m.offset + 39];
    e.printable = true;
    if (m.shares > 0) book.recordTrade(m.crossPrice, m.shares, e.timestamp);
    this.emit(e);
  }

  private onStockTradingAction(m: StockTradingActionMessage, sequence: number): void {
    const e = this.event;
    const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
    book.tradingState = m.buffer[m.offset + 19];
    e.timestamp = timestampOf(m.buffer, m.offset);
    e.sequence = sequence;
    this.begin(kBookEventStatus, book.stockLocate);
    e.tradingState = book.tradingState;
    this.emit(e);
  }

  private onNoii(m: NoiiMessage, sequence: number): void {
    const e = this.event;
    const book = this.bookFor(m.stockLocate, m.buffer, m.stockOffset);
    e.timestamp = timestampOf(m.buffer, m.offset);
    e.sequence = sequence;
    this.begin(kBookEventImbalance, book.stockLocate);
    e.pairedShares = m.pairedShares;
    e.imbalanceShares = m.imbalanceShares;
    e.imbalanceDirection = m.buffer[m.offset + 27];
    e.farPrice = m.farPrice;
    e.nearPrice = m.nearPrice;
    e.currentReferencePrice = m.currentReferencePrice;
    e.crossType = m.buffer[m.offset + 48];
    e.priceVariationIndicator = m.buffer[m.offset + 49];
    this.emit(e);
  }

  private onStockDirectory(m: StockDirectoryMessage, _sequence: number): void {
    this.checkStock(m.stockLocate, m.buffer, m.stockOffset);
  }

  endOfBatch(): void {
    this.handler.endOfBatch();
  }

  /**
   * One slice of the idle warm walk: the best levels of `sides` book sides and `lines` lines of
   * recent order records (the newest pages, and a quarter as many among the older ones up to
   * `pages` pages back), each walk from where its last slice stopped. Read-only: nothing any book,
   * event or strategy sees changes. Called by the decoder stage on a turn that found no packet
   * (performance.stages.book.warm_idle).
   *
   * Why: between packets (~200 us at 100 k msgs/s) the books' lines leave the caches, and each
   * message of the next packet then waited on its order's record and its level's line in turn,
   * about twice its hot cost. These loads do not depend on each other, so a slice of ~100 lines
   * takes ~0.1-0.2 us hot (the defaults); a packet that comes in during one waits at most that.
   */
  warmStep(sides = kWarmSides, lines = kWarmLines, pages = kWarmPages): number {
    const sink = this.levels.warmStep(sides) + this.orders.warmStep(lines, pages);
    this.warmSink += sink;
    return sink;
  }

  /**
   * The locate's book, created on first sight, with its symbol checked against the message's Stock
   * field. The field's 8 bytes are compared with two words kept per locate in one flat array (one
   * line, no object: an add touches this, the order table and the level store, nothing else), and
   * the book and the SymbolTable are visited only when they differ: first sight of the locate, or a
   * new symbol for it.
   */
  private bookFor(locate: number, buffer: Uint8Array, stockOffset: number): OrderBook {
    this.checkStock(locate, buffer, stockOffset);
    return this.books[locate]!;
  }

  private checkStock(locate: number, buffer: Uint8Array, stockOffset: number): void {
    const o = stockOffset;
    const hi = (buffer[o] << 24) | (buffer[o + 1] << 16) | (buffer[o + 2] << 8) | buffer[o + 3];
    const lo = (buffer[o + 4] << 24) | (buffer[o + 5] << 16) | (buffer[o + 6] << 8) | buffer[o + 7];
    const w = this.stockWords;
    const at = locate * 4;
    if (w[at + 2] === 1 && w[at] === hi && w[at + 1] === lo) return;
    let book = this.books[locate];
    if (book === undefined) {
      book = new OrderBook(locate, this.levels);
      this.books[locate] = book;
      this.hasBook[locate] = 1;
    }
    book.symbol = this.symbols.resolve(locate, buffer, stockOffset);
    w[at] = hi;
    w[at + 1] = lo;
    w[at + 2] = 1;
  }

  /** 'A'/'F' (the event holds the reference). */
  private addOrder(locate: number, side: number, shares: number, price: number, buffer: Uint8Array, stockOffset: number): void {
    if (side !== kBuy && side !== kSell) { this.counters.badSide++; return; }
    const e = this.event;
    // The symbol is checked when the locate's first message creates its book; afterwards only the
    // directory (R) and the rare trade, status and imbalance messages check it (an exchange assigns a
    // locate its symbol for the day in R; comparing every add's Stock field cost a line per add).
    if (this.hasBook[locate] === 0) this.checkStock(locate, buffer, stockOffset);
    const orders = this.orders;
    const slot = orders.insert(e.orderReferenceNumber, locate, side, price, shares);
    if (slot < 0) { this.counters.duplicateOrder++; return; }
    const levels = this.levels;
    levels.addOrder(side === kBuy ? locate * 2 : locate * 2 + 1, price, shares);
    orders.setHint(slot, levels.placedHint);
    this.begin(kBookEventAddOrder, locate);
    e.side = side;
    e.price = price;
    e.shares = shares;
    this.emit(e);
    if (levels.touchedTop) this.quoteIfChanged(locate);
  }

  /** The order's locate (its book's, from its record's meta word), counting one that disagrees with the message. */
  private orderLocate(meta: number, locate: number): number {
    const orderLocate = (meta >>> 8) & 0xffff;
    if (orderLocate !== locate) this.counters.locateMismatch++;
    return orderLocate;
  }

  /** 'E'/'C' (the event holds the reference, match number, printable and, with `withPrice`, the price). */
  private execute(locate: number, executed: number, withPrice: boolean): void {
    const e = this.event;
    const orders = this.orders;
    const slot = orders.find(e.orderReferenceNumber);
    if (slot < 0) { this.counters.unknownOrder++; return; }
    const meta = orders.meta(slot);
    const book = this.orderLocate(meta, locate);
    const open = orders.shares(slot);
    if (executed > open) { this.counters.overExecution++; executed = open; }
    const remaining = open - executed;
    const side = meta & 0xff;
    const orderPrice = orders.price(slot);
    const levels = this.levels;
    if (!levels.reduceAt(side === kBuy ? book * 2 : book * 2 + 1, orderPrice, meta >>> 24, executed, remaining === 0)) this.counters.levelMismatch++;
    if (remaining === 0) orders.remove(slot); else orders.setShares(slot, remaining);
    this.begin(kBookEventExecuteOrder, book);
    e.side = side;
    if (!withPrice) e.price = orderPrice;
    e.shares = executed;
    e.remainingShares = remaining;
    // Last trade for the book view (tickpath book, the dashboard): three stores, on executions only.
    if (e.printable) this.books[book]!.recordTrade(e.price, executed, e.timestamp);
    this.emit(e);
    if (levels.touchedTop) this.quoteIfChanged(book);
  }

  /** 'X', or 'D' when `cancelled` < 0 (the event holds the reference). */
  private cancel(locate: number, cancelled: number): void {
    const e = this.event;
    const orders = this.orders;
    const slot = orders.find(e.orderReferenceNumber);
    if (slot < 0) { this.counters.unknownOrder++; return; }
    const meta = orders.meta(slot);
    const book = this.orderLocate(meta, locate);
    const open = orders.shares(slot);
    if (cancelled < 0) cancelled = open;
    else if (cancelled > open) { this.counters.overCancel++; cancelled = open; }
    const remaining = open - cancelled;
    const side = meta & 0xff;
    const price = orders.price(slot);
    const levels = this.levels;
    if (!levels.reduceAt(side === kBuy ? book * 2 : book * 2 + 1, price, meta >>> 24, cancelled, remaining === 0)) this.counters.levelMismatch++;
    if (remaining === 0) orders.remove(slot); else orders.setShares(slot, remaining);
    this.begin(remaining === 0 ? kBookEventDeleteOrder : kBookEventModifyOrder, book);
    e.side = side;
    e.price = price;
    e.shares = remaining === 0 ? cancelled : remaining;
    e.remainingShares = remaining;
    this.emit(e);
    if (levels.touchedTop) this.quoteIfChanged(book);
  }

  /** 'U' (the event holds the original reference as the previous one and the new one). */
  private replace(locate: number, shares: number, price: number): void {
    const e = this.event;
    const original = e.previousOrderReferenceNumber;
    const orders = this.orders;
    const slot = orders.find(original);
    if (slot < 0) { this.counters.unknownOrder++; return; }
    const meta = orders.meta(slot);
    const book = this.orderLocate(meta, locate);
    const side = meta & 0xff;
    const levels = this.levels;
    const levelSide = side === kBuy ? book * 2 : book * 2 + 1;
    const oldPrice = orders.price(slot);
    const oldShares = orders.shares(slot);
    if (!levels.reduceAt(levelSide, oldPrice, meta >>> 24, oldShares, true)) this.counters.levelMismatch++;
    let touchedTop = levels.touchedTop;
    orders.remove(slot);
    this.begin(kBookEventModifyOrder, book);
    e.side = side;
    const newSlot = orders.insert(e.orderReferenceNumber, book, side, price, shares);
    if (newSlot < 0) {
      // The original is gone on the exchange either way; report it deleted.
      this.counters.duplicateOrder++;
      e.kind = kBookEventDeleteOrder;
      e.orderReferenceNumber = original;
      e.price = oldPrice;
      e.shares = oldShares;
      e.remainingShares = 0;
      this.emit(e);
    } else {
      levels.addOrder(levelSide, price, shares);
      orders.setHint(newSlot, levels.placedHint);
      touchedTop = touchedTop || levels.touchedTop;
      e.price = price;
      e.shares = shares;
      e.remainingShares = shares;
      this.emit(e);
    }
    if (touchedTop) this.quoteIfChanged(book);
  }

  /** Called after a change that touched a best level of `locate`'s book (below the top the BBO cannot have moved). */
  private quoteIfChanged(locate: number): void {
    const levels = this.levels;
    const bid = locate * 2;
    if (!levels.takeQuoteChange(bid)) return;
    const e = this.begin(kBookEventQuote, locate);
    e.bidPrice = levels.quotedPrice(bid);
    e.bidShares = levels.quotedShares(bid);
    e.askPrice = levels.quotedPrice(bid + 1);
    e.askShares = levels.quotedShares(bid + 1);
    this.counters.quotes++;
    this.emit(e);
  }

  /**
   * Kind, locate and symbol; the message's timestamp and sequence are already in the event. The
   * symbol comes from the SymbolTable (the string its book holds), not the book: one array slot
   * instead of the book object on the order path.
   */
  private begin(kind: number, locate: number): BookEvent {
    const e = this.event;
    e.kind = kind;
    e.stockLocate = locate;
    e.symbol = this.symbols.symbolOf(locate);
    return e;
  }

  private emit(e: BookEvent): void {
    this.counters.events++;
    this.handler.onEvent(e);
  }
}

/** readU64's arithmetic (exact below 2^53, as the flyweights' getters), through a DataView. */
function u64At(v: DataView<ArrayBufferLike>, o: number): number {
  return v.getUint32(o) * 4294967296 + v.getUint32(o + 4);
}

/** timestampOf through a DataView (readU48's arithmetic). */
function timestampAt(v: DataView<ArrayBufferLike>, o: number): number {
  return v.getUint16(o + 5) * 4294967296 + v.getUint32(o + 7);
}

/**
 * The common header's Timestamp (6 bytes at offset 5), read without a call. It is always above
 * 2^31, so a getter that V8 leaves as a call (out of inlining budget in a handler this size)
 * returns it in a new HeapNumber; written straight into the event's number field it is never boxed.
 * Same arithmetic as readU48.
 */
function timestampOf(b: Uint8Array, o: number): number {
  return ((b[o + 5] << 8) | b[o + 6]) * 4294967296 + (((b[o + 7] << 24) >>> 0) + ((b[o + 8] << 16) | (b[o + 9] << 8) | b[o + 10]));
}
