/**
 * The bundled sample strategy (`npm start`): takes liquidity now and then to show the whole path
 * from market data to an order at a venue and its fill.
 *
 * On every `everyQuotes`-th QUOTE of a symbol with both sides present, it sends a day limit buy of
 * `qty` shares at the ask, then a sell at the bid, alternating, up to `maxOrders` orders in all.
 * At a venue that only sees our own orders the sell crosses the resting buy, so both fill.
 * One OrderRequest is reused: nothing is allocated per event.
 *
 * `immediate` (default true): it decides on each QUOTE as the books make it (onTopOfBook, fused
 * book and strategy), so the triggering quote does not wait for the end of its packet's batch;
 * false, or with the book stage on another worker, it decides on the conflated QUOTEs of
 * onMarketData. `counts.quotes` counts the QUOTEs it decided on.
 */
import { BookEvent, kBookEventQuote } from '../feed/book/book-event';
import type { OrderRequest } from '../router/types';
import type { OrderEventKind, Strategy, StrategyContext } from './strategy';

export interface SampleStrategyParams {
  everyQuotes?: number;
  qty?: number;
  maxOrders?: number;
  /** Symbols to trade (default: any). */
  symbols?: string[];
  /** Decide on each QUOTE as the books make it (onTopOfBook), not on the conflated ones (default true). */
  immediate?: boolean;
  /** At most one order per this many microseconds (default 0: no limit). */
  minGapUs?: number;
}

export class SampleStrategy implements Strategy {
  readonly counts = { quotes: 0, ordersSent: 0, filled: 0, rejected: 0, cancelled: 0 };
  private readonly everyQuotes: number;
  private readonly qty: number;
  private readonly maxOrders: number;
  private readonly symbols: Set<string> | undefined;
  private readonly quotesPerLocate = new Uint32Array(65536);
  private readonly request: OrderRequest = { symbol: '', side: 'B', qty: 0, price: 0, ordType: 'LIMIT', tif: 'DAY' };
  private buyNext = true;
  private readonly minGapNs: number;
  /** [0]: when the last order went out (ns; a typed slot, so storing it boxes nothing). */
  private readonly lastOrderNs = new Float64Array(1);
  /** Set when deciding on immediate quotes (the stage calls it only when book and strategy are fused). */
  readonly onTopOfBook?: (e: BookEvent, ctx: StrategyContext) => void;
  /** True once onTopOfBook has been called: the conflated QUOTEs are then not decided on again. */
  private immediateSeen = false;

  constructor(p: SampleStrategyParams = {}) {
    this.everyQuotes = p.everyQuotes ?? 50;
    this.qty = p.qty ?? 100;
    this.maxOrders = p.maxOrders ?? 1000;
    this.symbols = p.symbols && p.symbols.length ? new Set(p.symbols) : undefined;
    this.minGapNs = (p.minGapUs ?? 0) * 1000;
    this.lastOrderNs[0] = -Infinity;
    if (p.immediate ?? true) this.onTopOfBook = (e, ctx) => { this.immediateSeen = true; this.onQuote(e, ctx); };
  }

  onMarketData(e: BookEvent, ctx: StrategyContext): void {
    if (e.kind !== kBookEventQuote || this.immediateSeen) return;
    this.onQuote(e, ctx);
  }

  private onQuote(e: BookEvent, ctx: StrategyContext): void {
    this.counts.quotes++;
    if (e.bidPrice <= 0 || e.askPrice <= 0 || this.counts.ordersSent >= this.maxOrders) return;
    if (++this.quotesPerLocate[e.stockLocate] % this.everyQuotes !== 0) return;
    if (this.symbols && !this.symbols.has(e.symbol)) return;
    if (this.minGapNs > 0) {
      const now = ctx.nowNs();
      if (now - this.lastOrderNs[0] < this.minGapNs) return;
      this.lastOrderNs[0] = now;
    }
    const r = this.request;
    r.symbol = e.symbol;
    r.side = this.buyNext ? 'B' : 'S';
    r.price = this.buyNext ? e.askPrice : e.bidPrice;
    r.qty = this.qty;
    r.clOrdId = undefined;
    this.buyNext = !this.buyNext;
    this.counts.ordersSent++;
    ctx.sendOrder(r);
  }

  onOrderEvent(kind: OrderEventKind): void {
    if (kind === 'filled') this.counts.filled++;
    else if (kind === 'rejected' || kind === 'venue_reject') this.counts.rejected++;
    else if (kind === 'cancelled') this.counts.cancelled++;
  }
}

export function createStrategy(params: Record<string, unknown>): Strategy {
  return new SampleStrategy(params as SampleStrategyParams);
}
