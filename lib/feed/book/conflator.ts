/**
 * Conflates QUOTE events: keeps only the latest BBO per stock locate and forwards it at the end of a
 * batch (or, with `intervalNs`, at the first end of batch after the interval has passed, or on
 * `flush()`). Everything else (orders, trades, status, imbalance) passes through at once and is never
 * conflated. Before a trade, status or imbalance event passes, the pending quote of the same locate
 * is flushed, so a consumer sees the BBO a print or a halt happened against. Order events (add,
 * delete, modify, execute) pass without flushing it: the books emit a QUOTE whenever the BBO moves,
 * so a pending quote is still the locate's BBO after any order event that follows it, and sending it
 * later tells the consumer nothing stale. (Flushing on them, as this class once did, meant that on an
 * ITCH feed, where every book change is an order event, the next message of the symbol always
 * pushed the quote out: nothing was ever conflated and `conflated` stayed 0.)
 * `counters.conflated` counts quotes replaced before they were sent.
 *
 * Pending quotes sit in typed arrays indexed by locate plus a dirty list: no allocation per event.
 * Single writer: the thread delivering events (the book builder's).
 */
import { invalidOption } from '../../errors';
import { BookEvent, BookEventHandler, kBookEventExecuteOrder, kBookEventQuote } from './book-event';

export interface ConflatorOptions {
  /** 0 (default): flush at every end of batch. Otherwise the minimum time between flushes, in the clock's nanoseconds. */
  intervalNs?: number;
  /** Nanosecond clock, injectable for tests; defaults to process.hrtime.bigint as a number. */
  clock?: () => number;
}

export class ConflatorCounters {
  quotesIn = 0;
  quotesOut = 0;
  conflated = 0;
  passedThrough = 0;
  flushes = 0;
}

const kLocates = 65536;
const kIdle = 0;
const kPending = 1;
const kSent = 2;

export class Conflator implements BookEventHandler {
  readonly counters = new ConflatorCounters();
  private readonly downstream: BookEventHandler;
  private readonly intervalNs: number;
  private readonly clock: () => number;
  private lastFlush: number;

  /** Per locate: kIdle (not in the dirty list), kPending (in it, quote waiting), kSent (in it, already sent early). */
  private readonly pending = new Uint8Array(kLocates);
  private readonly dirty = new Uint16Array(kLocates);
  private dirtyCount = 0;
  private readonly bidPrice = new Float64Array(kLocates);
  private readonly bidShares = new Float64Array(kLocates);
  private readonly askPrice = new Float64Array(kLocates);
  private readonly askShares = new Float64Array(kLocates);
  private readonly timestamp = new Float64Array(kLocates);
  private readonly sequence = new Float64Array(kLocates);
  private readonly symbol: string[] = new Array<string>(kLocates).fill('');
  private readonly out = new BookEvent();

  constructor(downstream: BookEventHandler, options: ConflatorOptions = {}) {
    const interval = options.intervalNs ?? 0;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
      throw invalidOption('Conflator', 'intervalNs', interval, 'a number of nanoseconds >= 0');
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw invalidOption('Conflator', 'clock', String(options.clock), 'a function returning nanoseconds');
    }
    this.downstream = downstream;
    this.intervalNs = interval;
    this.clock = options.clock ?? (() => Number(process.hrtime.bigint()));
    this.lastFlush = interval > 0 ? this.clock() : 0;
    this.out.kind = kBookEventQuote;
  }

  /** Locates touched by a quote since the last flush (an upper bound on quotes waiting). */
  get pendingQuotes(): number { return this.dirtyCount; }

  onEvent(e: BookEvent): void {
    const locate = e.stockLocate;
    if (e.kind === kBookEventQuote) {
      this.counters.quotesIn++;
      const state = this.pending[locate];
      if (state === kPending) this.counters.conflated++;
      else if (state === kIdle) this.dirty[this.dirtyCount++] = locate;
      this.pending[locate] = kPending;
      this.bidPrice[locate] = e.bidPrice;
      this.bidShares[locate] = e.bidShares;
      this.askPrice[locate] = e.askPrice;
      this.askShares[locate] = e.askShares;
      this.timestamp[locate] = e.timestamp;
      this.sequence[locate] = e.sequence;
      this.symbol[locate] = e.symbol;
      return;
    }
    // Order events (kinds 1..4: add, delete, modify, execute) leave the pending quote pending.
    if (e.kind > kBookEventExecuteOrder && this.pending[locate] === kPending) { this.sendQuote(locate); this.pending[locate] = kSent; }
    this.counters.passedThrough++;
    this.downstream.onEvent(e);
  }

  endOfBatch(): void {
    if (this.intervalNs === 0) this.flush();
    else {
      const now = this.clock();
      if (now - this.lastFlush >= this.intervalNs) { this.lastFlush = now; this.flush(); }
    }
    this.downstream.endOfBatch();
  }

  /** Send every pending quote now, in the order their locates first became pending. */
  flush(): void {
    const n = this.dirtyCount;
    if (n === 0) return;
    this.counters.flushes++;
    for (let i = 0; i < n; i++) {
      const locate = this.dirty[i];
      if (this.pending[locate] === kPending) this.sendQuote(locate);
      this.pending[locate] = kIdle;
    }
    this.dirtyCount = 0;
  }

  private sendQuote(locate: number): void {
    const o = this.out;
    o.stockLocate = locate;
    o.symbol = this.symbol[locate];
    o.timestamp = this.timestamp[locate];
    o.sequence = this.sequence[locate];
    o.bidPrice = this.bidPrice[locate];
    o.bidShares = this.bidShares[locate];
    o.askPrice = this.askPrice[locate];
    o.askShares = this.askShares[locate];
    this.counters.quotesOut++;
    this.downstream.onEvent(o);
  }
}
