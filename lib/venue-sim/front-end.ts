/**
 * The contract between the venue simulator's matching core and its protocol front ends (OUCH over
 * SoupBinTCP inside venue-simulator.ts, FIX in fix-front-end.ts). It sits in its own file so a
 * front end depends on this contract, not on the simulator class: no import cycle between them.
 * Threading: one event loop (the simulator is a test exchange, not a hot path).
 */
import type { CancelReason, EngineOrder, MatchingEngine } from './matching-engine';

/** Where engine events for an owner go: one per front end. */
export interface VenueFrontEnd {
  onAccepted(o: EngineOrder): void;
  onExecuted(o: EngineOrder, qty: number, price: number, match: number, liquidity: 'A' | 'R'): void;
  onCanceled(o: EngineOrder, qty: number, reason: CancelReason): void;
  onReplaced(prev: EngineOrder, next: EngineOrder): void;
}

/** What the simulator knows about one order it has seen, live or finished (the --report line). */
export interface VenueOrderRecord {
  /** Engine owner: 'O:' + OUCH username, 'F:' + FIX version + ':' + SenderCompID. */
  owner: string;
  token: string;
  side: 'B' | 'S';
  symbol: string;
  /** Total shares of the order (open + filled + cancelled). */
  qty: number;
  price: number;
  filled: number;
  cancelled: number;
  /** Sum of fill qty * price, for the average price of an order status answer. */
  notional: number;
  state: 'ACKNOWLEDGED' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'REPLACED';
  /** Requests with this token that were ignored or refused as duplicates. */
  duplicates: number;
}

/** What a front end may use of the simulator: the engine, its counters and the fault helpers. */
export interface VenueEngine {
  readonly engine: MatchingEngine;
  readonly counters: { ordersIn: number; cancelsIn: number; replacesIn: number; rejects: number };
  /** Routes engine events for owners starting with `ownerPrefix` to `fe`. */
  registerFrontEnd(ownerPrefix: string, fe: VenueFrontEnd): void;
  /** Runs `work` after the configured latency (+ any injected delay), never before earlier work. */
  schedule(work: () => void): void;
  /** True when work scheduled now would run at once (no latency, no delay fault, nothing queued). */
  runsNow(): boolean;
  /** True when this new order should be rejected by the injected reject rate. */
  injectReject(): boolean;
  /** Counts an inbound order message on `conn`; true when the connection must now be dropped. */
  shouldDrop(conn: object): boolean;
  /** True when the next outbound message is to be lost in transit. */
  injectGap(): boolean;
  /** The order `owner` entered as `token`, in any state (undefined: never seen). */
  orderRecord(owner: string, token: string): VenueOrderRecord | undefined;
  /** A new order refused before the engine took it (a reused id only counts as a duplicate). */
  recordReject(owner: string, token: string, symbol: string, side: 'B' | 'S', qty: number, price: number): void;
  /** A request whose id the venue had already seen, ignored or refused. */
  recordDuplicate(owner: string, token: string): void;
  /** Cancels every open order of `owner` (its session dropped without a Logout). */
  cancelOnDisconnect(owner: string): void;
}
