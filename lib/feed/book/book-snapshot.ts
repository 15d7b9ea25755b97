/**
 * A copy of one book for people and tools: the top `depth` price levels of each side (shares and
 * order count per level), the trading state and the last trade. Built on request (tickpath book,
 * the dashboard's ladder), never per message: it allocates.
 *
 * Prices are ITCH Price(4) integers and timestamps ITCH ns since midnight; formatting into dollars
 * and clock time is the viewer's job (lib/ops/book-view.ts).
 */
import type { OrderBook } from './order-book';

export interface BookLevel {
  /** Price(4): 1e-4 dollars. */
  price: number;
  shares: number;
  orders: number;
}

export interface BookSnapshot {
  symbol: string;
  stockLocate: number;
  /** Trading State from the last Stock Trading Action ('T' trading, 'H' halted, 'P' paused, 'Q' quotation only); '' before one. */
  tradingState: string;
  /** Best first. */
  bids: BookLevel[];
  asks: BookLevel[];
  /** Levels on each side in the whole book (the snapshot shows at most `depth`). */
  bidLevels: number;
  askLevels: number;
  /** Last printable trade or execution; absent before one. */
  lastTrade?: { price: number; shares: number; timestamp: number };
}

/** Human name of a Trading State code. */
export function tradingStateName(code: string): string {
  switch (code) {
    case 'T': return 'trading';
    case 'H': return 'halted';
    case 'P': return 'paused';
    case 'Q': return 'quotation only';
    case '': return 'unknown (no Stock Trading Action seen)';
    default: return `state ${code}`;
  }
}

export function snapshotOfBook(book: OrderBook, depth: number): BookSnapshot {
  const side = (bid: boolean): BookLevel[] => {
    const levels = bid ? book.bids : book.asks;
    const n = Math.min(depth, levels.count);
    const out: BookLevel[] = [];
    for (let r = 0; r < n; r++) out.push({ price: levels.priceAt(r), shares: levels.sharesAt(r), orders: levels.ordersAt(r) });
    return out;
  };
  return {
    symbol: book.symbol,
    stockLocate: book.stockLocate,
    tradingState: book.tradingState ? String.fromCharCode(book.tradingState) : '',
    bids: side(true),
    asks: side(false),
    bidLevels: book.bids.count,
    askLevels: book.asks.count,
    lastTrade: book.lastTradeTimestamp > 0 || book.lastTradeShares > 0
      ? { price: book.lastTradePrice, shares: book.lastTradeShares, timestamp: book.lastTradeTimestamp } : undefined,
  };
}
