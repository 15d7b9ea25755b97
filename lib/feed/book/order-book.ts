/**
 * The book of one stock locate: bid and ask price levels (views over the builder's LevelStore),
 * trading state, and the last BBO published as a QUOTE (so the builder emits a QUOTE only when the
 * top of book actually changes). Orders live in the shared OrderStore; this holds only the
 * aggregated view. Single writer: the book builder's thread; readers on the same thread between
 * messages.
 */
import { Levels, LevelStore } from './level-store';
import { PriceLevels } from './price-levels';

export class OrderBook {
  readonly stockLocate: number;
  symbol = '';
  readonly bids: PriceLevels;
  readonly asks: PriceLevels;
  /** Trading State char code from the last 'H' message, 0 before one. */
  tradingState = 0;
  private readonly levels: Levels;
  private readonly bidSide: number;

  /** Last printable execution or trade print (P, Q, E, printable C): price (Price(4)), shares, ITCH timestamp; 0 before one. */
  lastTradePrice = 0;
  lastTradeShares = 0;
  lastTradeTimestamp = 0;

  /** `levels`: the builder's store (sides locate * 2 and locate * 2 + 1); a store of its own when omitted. */
  constructor(stockLocate: number, levels?: Levels) {
    this.stockLocate = stockLocate;
    this.levels = levels ?? new LevelStore(2, 16);
    this.bidSide = levels ? stockLocate * 2 : 0;
    this.bids = new PriceLevels(true, 8, this.levels, this.bidSide);
    this.asks = new PriceLevels(false, 8, this.levels, this.bidSide + 1);
  }

  get bestBidPrice(): number { return this.bids.bestPrice; }
  get bestBidShares(): number { return this.bids.bestShares; }
  get bestAskPrice(): number { return this.asks.bestPrice; }
  get bestAskShares(): number { return this.asks.bestShares; }

  /** BBO as last published in a QUOTE event. */
  get quotedBidPrice(): number { return this.levels.quotedPrice(this.bidSide); }
  get quotedBidShares(): number { return this.levels.quotedShares(this.bidSide); }
  get quotedAskPrice(): number { return this.levels.quotedPrice(this.bidSide + 1); }
  get quotedAskShares(): number { return this.levels.quotedShares(this.bidSide + 1); }

  /** Top `n` levels of one side into the caller's arrays (best first); returns how many. */
  depth(bid: boolean, n: number, prices: Float64Array, shares: Float64Array, orders?: Uint32Array): number {
    return (bid ? this.bids : this.asks).depth(n, prices, shares, orders);
  }

  /** Three stores, on trades only: the book view reads them (tickpath book, the dashboard). */
  recordTrade(price: number, shares: number, timestamp: number): void {
    this.lastTradePrice = price;
    this.lastTradeShares = shares;
    this.lastTradeTimestamp = timestamp;
  }

  /** True when the current BBO differs from the last published one; records it as published. */
  takeQuoteChange(): boolean {
    return this.levels.takeQuoteChange(this.bidSide);
  }
}
