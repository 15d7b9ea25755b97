/**
 * Order, state and event vocabulary shared by RiskChecker, OrderManager, OrderJournal, SmartRouter
 * and OrderRouter. Prices are Price(4) integers (1.2345 USD = 12345), quantities whole shares, as
 * in lib/router/venue.ts.
 *
 * States are small integers, not strings, because OrderManager keeps them in a Uint8Array slot
 * table and OrderJournal writes them as one byte; `ORDER_STATE_NAMES` turns them back into text
 * for logs and tests.
 */
import type { OrdType, Side, TimeInForce } from './venue';

export type { OrdType, Side, TimeInForce } from './venue';

/** What a caller asks the router for. `clOrdId` is optional: the router assigns one if absent. */
export interface OrderRequest {
  symbol: string;          // at most 8 characters (OUCH stock field)
  side: Side;
  qty: number;             // whole shares, > 0
  price: number;           // Price(4), > 0 for LIMIT; ignored for MARKET
  ordType: OrdType;
  tif: TimeInForce;        // MARKET orders are always treated as IOC by venues; DAY is accepted
  clOrdId?: string;        // at most 14 printable ASCII characters
}

/** Order lifecycle. Numeric so it fits one byte in the slot table and in the journal. */
export const enum OrderState {
  PENDING = 0,            // created, not yet on the wire
  SENT = 1,               // handed to the venue connector
  ACKNOWLEDGED = 2,       // venue accepted it
  PARTIALLY_FILLED = 3,
  FILLED = 4,             // terminal
  CANCELLED = 5,          // terminal (may carry fills)
  REJECTED = 6,           // terminal
  PENDING_CANCEL = 7,     // cancel sent, venue has not answered
  PENDING_REPLACE = 8,    // cancel/replace sent, venue has not answered
  REPLACED = 9,           // terminal for the old id; the order lives on under the new id
}

export const ORDER_STATE_NAMES: readonly string[] = [
  'PENDING', 'SENT', 'ACKNOWLEDGED', 'PARTIALLY_FILLED', 'FILLED',
  'CANCELLED', 'REJECTED', 'PENDING_CANCEL', 'PENDING_REPLACE', 'REPLACED',
];

export function isTerminal(state: number): boolean {
  return state === OrderState.FILLED || state === OrderState.CANCELLED ||
    state === OrderState.REJECTED || state === OrderState.REPLACED;
}

/** A live order can still trade: it counts against open-order limits and the kill switch cancels it. */
export function isOpen(state: number): boolean {
  return !isTerminal(state);
}

/**
 * Why the router refused an order, a cancel or a replace. Stable strings: callers switch on them,
 * the journal stores their index in REJECT_REASONS (one byte).
 */
export type RejectReason =
  | 'INVALID_ORDER'          // malformed request (qty <= 0, bad symbol, bad price ...)
  | 'MAX_ORDER_QTY'
  | 'MAX_ORDER_NOTIONAL'
  | 'MAX_DAILY_NOTIONAL'
  | 'MAX_SYMBOL_NOTIONAL'
  | 'MAX_OPEN_ORDERS'
  | 'PRICE_COLLAR'           // limit price too far through the BBO
  | 'NO_REFERENCE_PRICE'     // no BBO to check a market order or the collar against
  | 'DUPLICATE_CLORDID'
  | 'THROTTLED'
  | 'KILL_SWITCH'
  | 'NO_ROUTE'               // no active venue for the symbol and no default route
  | 'VENUE_UNAVAILABLE'      // connector refused the send (session not logged in)
  | 'ORDER_TABLE_FULL'
  | 'UNKNOWN_ORDER'          // cancel/replace for an id the router does not know or that is closed
  | 'ILLEGAL_STATE'          // cancel/replace not allowed in the order's current state
  | 'REPLACE_SPLIT_ORDER'    // replace of a parent split across several venues is not supported
  | 'VENUE_REJECT'           // the venue said no (the venue's own text goes in the detail)
  | 'JOURNAL_UNAVAILABLE'    // the journal cannot be written: nothing new is accepted
  | 'DONE_FOR_DAY'           // journal only: the venue's session ended (a new day, a fresh venue) with the order open
  | 'SESSION_CLOSED';        // the venue's session window (routing_config.yml schedule) is closed now

export const REJECT_REASONS: readonly RejectReason[] = [
  'INVALID_ORDER', 'MAX_ORDER_QTY', 'MAX_ORDER_NOTIONAL', 'MAX_DAILY_NOTIONAL',
  'MAX_SYMBOL_NOTIONAL', 'MAX_OPEN_ORDERS', 'PRICE_COLLAR', 'NO_REFERENCE_PRICE',
  'DUPLICATE_CLORDID', 'THROTTLED', 'KILL_SWITCH', 'NO_ROUTE', 'VENUE_UNAVAILABLE',
  'ORDER_TABLE_FULL', 'UNKNOWN_ORDER', 'ILLEGAL_STATE', 'REPLACE_SPLIT_ORDER', 'VENUE_REJECT',
  'JOURNAL_UNAVAILABLE', 'DONE_FOR_DAY', 'SESSION_CLOSED',
];

/**
 * Everything the router tells its owner, as method calls rather than event objects so that the
 * hot path does not allocate one object per event. `clOrdId` is always the caller's (parent) id.
 */
export interface RouterListener {
  /** Passed risk and routing; child orders are on their way to `venueCount` venues. */
  onAccepted(clOrdId: string, venueCount: number): void;
  /** Refused by the router itself (risk, routing, validation) or by every venue it was sent to. */
  onRejected(clOrdId: string, reason: RejectReason, detail: string): void;
  /** First venue ack for the order. */
  onAcked(clOrdId: string): void;
  /** A fill; `cumQty` < order qty. */
  onPartiallyFilled(clOrdId: string, lastQty: number, lastPrice: number, cumQty: number): void;
  /** The last fill: `cumQty` equals the order qty. */
  onFilled(clOrdId: string, lastQty: number, lastPrice: number, cumQty: number): void;
  /** No shares remain open; `cumQty` may be > 0. */
  onCancelled(clOrdId: string, cumQty: number, reason: string): void;
  /** A replace is done; the order now has qty/price. */
  onReplaced(clOrdId: string, qty: number, price: number): void;
  /** A venue refused a child order, a cancel or a replace (the parent may still be live). */
  onVenueReject(clOrdId: string, venue: string, reason: string): void;
  /** A cancel or replace request was refused before reaching a venue. */
  onRequestRejected(clOrdId: string, reason: RejectReason, detail: string): void;
}

/**
 * RouterListener by slot instead of id string (OrderRouter.setOrderListener), for owners that
 * must not allocate per order: `parent` is the parent order's OrderManager slot, valid during the
 * call (and until the router creates its next order); OrderRouter.clOrdIdOf(parent) gives the id
 * as a string, writeClOrdId as bytes. `parent` is -1 only in onRejected for a request refused before
 * it had a slot. onRequestRejected keeps the caller's string: it answers a cancel/replace by id.
 */
export interface OrderSlotListener {
  onAccepted(parent: number, venueCount: number): void;
  onRejected(parent: number, reason: RejectReason, detail: string): void;
  onAcked(parent: number): void;
  onPartiallyFilled(parent: number, lastQty: number, lastPrice: number, cumQty: number): void;
  onFilled(parent: number, lastQty: number, lastPrice: number, cumQty: number): void;
  onCancelled(parent: number, cumQty: number, reason: string): void;
  onReplaced(parent: number, qty: number, price: number): void;
  onVenueReject(parent: number, venue: string, reason: string): void;
  onRequestRejected(clOrdId: string, reason: RejectReason, detail: string): void;
}

/** Best bid/offer per symbol, Price(4), 0 when that side is empty. The feed's books implement it. */
export interface BboSource {
  bestBid(symbol: string): number;
  bestAsk(symbol: string): number;
}

/**
 * Displayed liquidity per venue for the liquidity-seeking router. For a buy, the shares offered at
 * or below `limitPrice`; for a sell, the shares bid at or above it. `side` is the side of the order
 * being routed, not of the book.
 */
export interface VenueBookView {
  displayedAtOrBetter(symbol: string, venue: string, side: Side, limitPrice: number): number;
}

/** Price used for MARKET orders when asking a VenueBookView "at or better than": any price. */
export const MARKET_BUY_LIMIT = 0xffffffff;
export const MARKET_SELL_LIMIT = 0;

export const SIDE_CODES: readonly Side[] = ['B', 'S', 'SS'];
export function sideCode(side: Side): number {
  return side === 'B' ? 0 : side === 'S' ? 1 : 2;
}
