/**
 * Normalized market-data events emitted by the book builder, one reused instance per emitter.
 *
 * Handlers read the fields during `onEvent` and copy what they keep: the next event overwrites
 * them (no object per event on the hot path). Fields not meaningful for a kind keep stale values;
 * each kind documents which it sets. `endOfBatch()` marks the end of an RX burst: the place to
 * flush, publish positions, or wake a consumer.
 */
export const kBookEventAddOrder = 1;
export const kBookEventDeleteOrder = 2;
export const kBookEventModifyOrder = 3;
export const kBookEventExecuteOrder = 4;
export const kBookEventTrade = 5;
export const kBookEventQuote = 6;
export const kBookEventImbalance = 7;
export const kBookEventStatus = 8;

export const kBookEventNames = ['', 'ADD_ORDER', 'DELETE_ORDER', 'MODIFY_ORDER', 'EXECUTE_ORDER', 'TRADE', 'QUOTE', 'IMBALANCE', 'STATUS'] as const;

export class BookEvent {
  /** kBookEvent* */
  kind = 0;
  stockLocate = 0;
  /** Resolved once per locate (SymbolTable); '' if the locate's symbol is not known yet. */
  symbol = '';
  timestamp = 0;
  /** MoldUDP64 sequence number of the message that caused the event. */
  sequence = 0;

  /** ADD/DELETE/MODIFY/EXECUTE: the order. MODIFY after a replace: the new reference. */
  orderReferenceNumber = 0;
  /** MODIFY from a replace: the original reference; otherwise equal to orderReferenceNumber. */
  previousOrderReferenceNumber = 0;
  /** 0x42 'B' or 0x53 'S' (ADD/DELETE/MODIFY/EXECUTE/TRADE). */
  side = 0;
  /** ADD/MODIFY: order price; EXECUTE: execution price; TRADE: trade or cross price. */
  price = 0;
  /** ADD: order shares; DELETE: shares removed; MODIFY: new open shares; EXECUTE/TRADE: shares traded. */
  shares = 0;
  /** EXECUTE: shares left open on the order. */
  remainingShares = 0;
  matchNumber = 0;
  /** EXECUTE from 'C': the Printable flag; EXECUTE from 'E' is always printable. */
  printable = true;
  /** TRADE: 0 for a non-cross trade ('P'), else the Cross Type char code ('Q'). */
  crossType = 0;

  /** QUOTE: best bid/ask after the change (price 0 and shares 0 for an empty side). */
  bidPrice = 0;
  bidShares = 0;
  askPrice = 0;
  askShares = 0;

  /** STATUS: Trading State char code ('H' halted, 'P' paused, 'Q' quotation only, 'T' trading). */
  tradingState = 0;

  /** IMBALANCE: NOII fields (prices in Price(4) units, directions/cross type as char codes). */
  pairedShares = 0;
  imbalanceShares = 0;
  imbalanceDirection = 0;
  farPrice = 0;
  nearPrice = 0;
  currentReferencePrice = 0;
  priceVariationIndicator = 0;

  /** Copy every field from another event (conflation, tests). */
  copyFrom(e: BookEvent): void {
    Object.assign(this, e);
  }
}

export interface BookEventHandler {
  onEvent(event: BookEvent): void;
  endOfBatch(): void;
}
