/**
 * One side of a book: aggregated price levels, best first, over a LevelStore (see level-store.ts
 * for the layout). A book builder's books all share its store and its hot path calls the store
 * directly; this view is the per-side API for readers, tools and tests. Constructed alone, it gets
 * a store of its own.
 * Single writer: the book builder's thread; readers on the same thread between messages.
 */
import { Levels, LevelStore } from './level-store';

export class PriceLevels {
  readonly isBid: boolean;
  readonly store: Levels;
  /** The side's index in the store: locate * 2 for bids, locate * 2 + 1 for asks. */
  readonly side: number;

  constructor(isBid: boolean, initialCapacity = 16, store?: Levels, side?: number) {
    this.isBid = isBid;
    this.store = store ?? new LevelStore(2, initialCapacity);
    this.side = side ?? (isBid ? 0 : 1);
    if ((this.side & 1) !== (isBid ? 0 : 1)) throw new RangeError(`PriceLevels: side ${this.side} is ${isBid ? 'not a bid' : 'not an ask'} side (bids even, asks odd)`);
  }

  /** Number of levels. */
  get count(): number { return this.store.count(this.side); }
  /** Best price, or 0 when the side is empty (0 is not a valid limit price in ITCH). */
  get bestPrice(): number { return this.store.bestPrice(this.side); }
  get bestShares(): number { return this.store.bestShares(this.side); }
  get bestOrders(): number { return this.store.bestOrders(this.side); }
  /** Whether the last addOrder/reduce on this store changed the best level. */
  get touchedTop(): boolean { return this.store.touchedTop; }

  /** Add an order's shares at `price`. */
  addOrder(price: number, shares: number): void { this.store.addOrder(this.side, price, shares); }

  /**
   * Take `shares` off the level at `price`; `removeOrder` also drops one order from its count. The
   * level disappears when it has no orders left. Returns false when there is no such level.
   */
  reduce(price: number, shares: number, removeOrder: boolean): boolean { return this.store.reduce(this.side, price, shares, removeOrder); }

  /** Level `rank` from the best (0 = best). */
  priceAt(rank: number): number { return this.store.priceAt(this.side, rank); }
  sharesAt(rank: number): number { return this.store.sharesAt(this.side, rank); }
  ordersAt(rank: number): number { return this.store.ordersAt(this.side, rank); }

  /** Shares resting at `price`, 0 if no level. */
  sharesAtPrice(price: number): number { return this.store.sharesAtPrice(this.side, price); }

  /** Copy up to `n` levels from the best into the caller's arrays; returns how many. */
  depth(n: number, prices: Float64Array, shares: Float64Array, orders?: Uint32Array): number {
    const m = Math.min(n, this.count, prices.length, shares.length, orders ? orders.length : Infinity);
    for (let r = 0; r < m; r++) {
      prices[r] = this.priceAt(r);
      shares[r] = this.sharesAt(r);
      if (orders) orders[r] = this.ordersAt(r);
    }
    return m;
  }

  clear(): void { this.store.clear(this.side); }
}
