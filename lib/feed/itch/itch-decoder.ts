/**
 * ITCH 5.0 message decoder: one flyweight per message type, chosen by a switch on the type byte
 * after a size check against the spec length (the CppTrader itch_handler shape).
 *
 * `decode(buffer, offset, length)` returns the type byte (> 0) and wraps the matching flyweight
 * (`decoder.addOrder`, `decoder.orderDelete`...), or a negative kItchDecode* code for a message it
 * cannot read. Bad input is counted by kind, never thrown: a feed handler must survive whatever the
 * wire delivers. Messages longer than the spec length are accepted (the spec allows appending fields);
 * shorter ones are truncated. Nothing here allocates after construction.
 *
 * Single writer: the thread that owns the decoder (the flyweights are shared state).
 */
import {
  AddOrderMessage, AddOrderMpidMessage, AnyItchMessage, BrokenTradeMessage, CrossTradeMessage, DirectListingMessage,
  IpoQuotingPeriodUpdateMessage, LuldAuctionCollarMessage, MarketParticipantPositionMessage, MwcbDeclineLevelMessage,
  MwcbStatusMessage, NoiiMessage, OperationalHaltMessage, OrderCancelMessage, OrderDeleteMessage, OrderExecutedMessage,
  OrderExecutedWithPriceMessage, OrderReplaceMessage, RegShoRestrictionMessage, RpiiMessage, StockDirectoryMessage,
  StockTradingActionMessage, SystemEventMessage, TradeMessage,
} from './itch-messages';
import { kItchLengthByCode } from './itch-schema';

export const kItchDecodeZeroLength = -1;
export const kItchDecodeTruncated = -2;
export const kItchDecodeUnknownType = -3;

/** Type bytes, for `switch (decoder.decode(...))`. */
export const kItchSystemEvent = 0x53; // S
export const kItchStockDirectory = 0x52; // R
export const kItchStockTradingAction = 0x48; // H
export const kItchRegShoRestriction = 0x59; // Y
export const kItchMarketParticipantPosition = 0x4c; // L
export const kItchMwcbDeclineLevel = 0x56; // V
export const kItchMwcbStatus = 0x57; // W
export const kItchIpoQuotingPeriodUpdate = 0x4b; // K
export const kItchLuldAuctionCollar = 0x4a; // J
export const kItchOperationalHalt = 0x68; // h
export const kItchAddOrder = 0x41; // A
export const kItchAddOrderMpid = 0x46; // F
export const kItchOrderExecuted = 0x45; // E
export const kItchOrderExecutedWithPrice = 0x43; // C
export const kItchOrderCancel = 0x58; // X
export const kItchOrderDelete = 0x44; // D
export const kItchOrderReplace = 0x55; // U
export const kItchTrade = 0x50; // P
export const kItchCrossTrade = 0x51; // Q
export const kItchBrokenTrade = 0x42; // B
export const kItchNoii = 0x49; // I
export const kItchRpii = 0x4e; // N
export const kItchDirectListing = 0x4f; // O

export class ItchDecodeCounters {
  /** Messages decoded successfully. */
  messages = 0;
  zeroLength = 0;
  truncated = 0;
  unknownType = 0;
  /** Decoded messages per type byte. */
  readonly byType = new Float64Array(256);
}

export class ItchDecoder {
  readonly systemEvent = new SystemEventMessage();
  readonly stockDirectory = new StockDirectoryMessage();
  readonly stockTradingAction = new StockTradingActionMessage();
  readonly regShoRestriction = new RegShoRestrictionMessage();
  readonly marketParticipantPosition = new MarketParticipantPositionMessage();
  readonly mwcbDeclineLevel = new MwcbDeclineLevelMessage();
  readonly mwcbStatus = new MwcbStatusMessage();
  readonly ipoQuotingPeriodUpdate = new IpoQuotingPeriodUpdateMessage();
  readonly luldAuctionCollar = new LuldAuctionCollarMessage();
  readonly operationalHalt = new OperationalHaltMessage();
  readonly addOrder = new AddOrderMessage();
  readonly addOrderMpid = new AddOrderMpidMessage();
  readonly orderExecuted = new OrderExecutedMessage();
  readonly orderExecutedWithPrice = new OrderExecutedWithPriceMessage();
  readonly orderCancel = new OrderCancelMessage();
  readonly orderDelete = new OrderDeleteMessage();
  readonly orderReplace = new OrderReplaceMessage();
  readonly trade = new TradeMessage();
  readonly crossTrade = new CrossTradeMessage();
  readonly brokenTrade = new BrokenTradeMessage();
  readonly noii = new NoiiMessage();
  readonly rpii = new RpiiMessage();
  readonly directListing = new DirectListingMessage();

  readonly counters = new ItchDecodeCounters();
  /** Type byte of the last successful decode, 0 before the first. */
  lastType = 0;

  /** Decode the message at (offset, length); returns its type byte or a negative kItchDecode* code. */
  decode(buffer: Uint8Array, offset: number, length: number): number {
    const c = this.counters;
    if (length <= 0) { c.zeroLength++; return kItchDecodeZeroLength; }
    const type = buffer[offset];
    const expected = kItchLengthByCode[type];
    if (expected === 0) { c.unknownType++; return kItchDecodeUnknownType; }
    if (length < expected) { c.truncated++; return kItchDecodeTruncated; }
    switch (type) {
      case kItchAddOrder: this.addOrder.wrap(buffer, offset); break;
      case kItchOrderDelete: this.orderDelete.wrap(buffer, offset); break;
      case kItchOrderReplace: this.orderReplace.wrap(buffer, offset); break;
      case kItchOrderExecuted: this.orderExecuted.wrap(buffer, offset); break;
      case kItchOrderCancel: this.orderCancel.wrap(buffer, offset); break;
      case kItchAddOrderMpid: this.addOrderMpid.wrap(buffer, offset); break;
      case kItchOrderExecutedWithPrice: this.orderExecutedWithPrice.wrap(buffer, offset); break;
      case kItchTrade: this.trade.wrap(buffer, offset); break;
      case kItchCrossTrade: this.crossTrade.wrap(buffer, offset); break;
      case kItchBrokenTrade: this.brokenTrade.wrap(buffer, offset); break;
      case kItchNoii: this.noii.wrap(buffer, offset); break;
      case kItchRpii: this.rpii.wrap(buffer, offset); break;
      case kItchSystemEvent: this.systemEvent.wrap(buffer, offset); break;
      case kItchStockDirectory: this.stockDirectory.wrap(buffer, offset); break;
      case kItchStockTradingAction: this.stockTradingAction.wrap(buffer, offset); break;
      case kItchRegShoRestriction: this.regShoRestriction.wrap(buffer, offset); break;
      case kItchMarketParticipantPosition: this.marketParticipantPosition.wrap(buffer, offset); break;
      case kItchMwcbDeclineLevel: this.mwcbDeclineLevel.wrap(buffer, offset); break;
      case kItchMwcbStatus: this.mwcbStatus.wrap(buffer, offset); break;
      case kItchIpoQuotingPeriodUpdate: this.ipoQuotingPeriodUpdate.wrap(buffer, offset); break;
      case kItchLuldAuctionCollar: this.luldAuctionCollar.wrap(buffer, offset); break;
      case kItchOperationalHalt: this.operationalHalt.wrap(buffer, offset); break;
      case kItchDirectListing: this.directListing.wrap(buffer, offset); break;
    }
    c.messages++;
    c.byType[type]++;
    this.lastType = type;
    return type;
  }

  /** The flyweight for a type byte (tools: generic field access by name). */
  messageFor(type: number): AnyItchMessage | undefined {
    switch (type) {
      case kItchSystemEvent: return this.systemEvent;
      case kItchStockDirectory: return this.stockDirectory;
      case kItchStockTradingAction: return this.stockTradingAction;
      case kItchRegShoRestriction: return this.regShoRestriction;
      case kItchMarketParticipantPosition: return this.marketParticipantPosition;
      case kItchMwcbDeclineLevel: return this.mwcbDeclineLevel;
      case kItchMwcbStatus: return this.mwcbStatus;
      case kItchIpoQuotingPeriodUpdate: return this.ipoQuotingPeriodUpdate;
      case kItchLuldAuctionCollar: return this.luldAuctionCollar;
      case kItchOperationalHalt: return this.operationalHalt;
      case kItchAddOrder: return this.addOrder;
      case kItchAddOrderMpid: return this.addOrderMpid;
      case kItchOrderExecuted: return this.orderExecuted;
      case kItchOrderExecutedWithPrice: return this.orderExecutedWithPrice;
      case kItchOrderCancel: return this.orderCancel;
      case kItchOrderDelete: return this.orderDelete;
      case kItchOrderReplace: return this.orderReplace;
      case kItchTrade: return this.trade;
      case kItchCrossTrade: return this.crossTrade;
      case kItchBrokenTrade: return this.brokenTrade;
      case kItchNoii: return this.noii;
      case kItchRpii: return this.rpii;
      case kItchDirectListing: return this.directListing;
      default: return undefined;
    }
  }
}
