/**
 * User strategy code: what runs on the strategy stage. A strategy module exports
 * `createStrategy(params)` returning a `Strategy`; the pipeline loads it by path from
 * configs/performance.yml (or the bundled sample) inside the strategy worker.
 *
 * Contract: onMarketData gets the book stage's reused event (read fields, do not keep it); orders
 * go out through ctx.sendOrder, which returns at once (results arrive in onOrderEvent). Strategies
 * should not allocate per event: reuse one OrderRequest object.
 */
import type { BookEvent } from '../feed/book/book-event';
import type { OrderRequest } from '../router/types';

export type OrderEventKind = 'accepted' | 'rejected' | 'acked' | 'partially_filled' | 'filled' | 'cancelled' | 'replaced' | 'venue_reject';

export interface StrategyContext {
  /** Hands an order to the router (same worker: direct call; otherwise through a ring). */
  sendOrder(request: OrderRequest): void;
  cancelOrder(clOrdId: string): void;
  nowNs(): number;
  /** CLOCK_MONOTONIC ns at which the packet behind the current event was received. */
  readonly rxTsNs: number;
  log(message: string): void;
}

export interface Strategy {
  onStart?(ctx: StrategyContext): void;
  onMarketData(event: BookEvent, ctx: StrategyContext): void;
  /**
   * Optional: each QUOTE as the books make it, in the middle of its packet, before conflation (the
   * trigger need not wait for the end of the packet's batch). Conflation still applies to
   * onMarketData, which gets the batch's latest QUOTE per symbol at the end of the batch as before.
   * Called only when the book and strategy stages share a worker (fused); across a ring, quotes
   * arrive conflated in onMarketData only. The shared BBO the router's risk reads is updated first.
   */
  onTopOfBook?(event: BookEvent, ctx: StrategyContext): void;
  onEndOfBatch?(ctx: StrategyContext): void;
  onOrderEvent?(kind: OrderEventKind, clOrdId: string, qty: number, price: number, detail: string, ctx: StrategyContext): void;
  onStop?(ctx: StrategyContext): void;
}

export interface StrategyModule {
  createStrategy(params: Record<string, unknown>): Strategy;
}

export function loadStrategy(modulePath: string, params: Record<string, unknown>): Strategy {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(modulePath) as Partial<StrategyModule>;
  if (typeof mod.createStrategy !== 'function') {
    throw new Error(`strategy module '${modulePath}' does not export createStrategy(params)`);
  }
  return mod.createStrategy(params);
}
