/**
 * The book of one stock locate: bid and ask price levels, trading state, and the last BBO published
 * as a QUOTE (so the builder emits a QUOTE only when the top of book actually changes).
 * Orders live in the shared OrderStore; this holds only the aggregated view.
 * Single writer: the book builder's thread; readers on the same thread between messages.
 */
import { PriceLevels } from './price-levels';

export class OrderBook {
  readonly stockLocate: number;
  symbol = '';
  readonly bids = new PriceLevels(true, 8);
  readonly asks = new PriceLevels(false, 8);
  /** The Stock field of the last message that named this locate, as two big-endian int32 words (BookBuilder's symbol check). */
  stockHi = 0;
  stockLo = 0;
  stockKnown = false;
  /** Trading State char code from the last 'H' message, 0 before one. */
  tradingState = 0;

  /** BBO as last published in a QUOTE event. */
  quotedBidPrice = 0;
  quotedBidShares = 0;
  quotedAskPrice = 0;
  quotedAskShares = 0;

  constructor(stockLocate: number) {
    this.stockLocate = stockLocate;
  }

  get bestBidPrice(): number { return this.bids.bestPrice; }
  get bestBidShares(): number { return this.bids.bestShares; }
  get bestAskPrice(): number { return this.asks.bestPrice; }
  get bestAskShares(): number { return this.asks.bestShares; }

  /** Top `n` levels of one side into the caller's arrays (best first); returns how many. */
  depth(bid: boolean, n: number, prices: Float64Array, shares: Float64Array, orders?: Uint32Array): number {
    return (bid ? this.bids : this.asks).depth(n, prices, shares, orders);
  }

  /** True when the current BBO differs from the last published one; records it as published. */
  takeQuoteChange(): boolean {
    const bp = this.bids.bestPrice; const bs = this.bids.bestShares;
    const ap = this.asks.bestPrice; const as = this.asks.bestShares;
    if (bp === this.quotedBidPrice && bs === this.quotedBidShares && ap === this.quotedAskPrice && as === this.quotedAskShares) return false;
    this.quotedBidPrice = bp; this.quotedBidShares = bs;
    this.quotedAskPrice = ap; this.quotedAskShares = as;
    return true;
  }
}
