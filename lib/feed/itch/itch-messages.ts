/**
 * Flyweights for every ITCH 5.0 message type: wrap(buffer, offset) and read fields in place.
 *
 * One instance of each lives in an ItchDecoder and is re-wrapped per message, the SBE way: no object,
 * string or BigInt per message. Numeric getters read straight from the bytes; Price(4) and Price(8)
 * are integers in 1e-4 / 1e-8 units; 8-byte integers are numbers (exact below 2^53). 1-byte
 * alphanumerics return a one-character string (V8 serves those from its single-character cache, so no
 * allocation); multi-byte alphanumerics (`stock`, `mpid`, `reason`...) build a right-trimmed string
 * and are for tools: the hot path uses `stockLocate` and resolves the symbol once per locate through
 * SymbolTable, using `stockOffset`.
 *
 * Offsets mirror itch-schema.ts; the round-trip property tests encode from the schema and read back
 * through these getters. The decoder checks the length before wrapping, so getters never bounds-check.
 * Single writer: the thread that owns the decoder.
 */
import { readAlpha, readU16, readU32, readU48, readU64 } from '../../common/bytes';

const kEmpty = new Uint8Array(0);

/**
 * Common header: Message Type, Stock Locate, Tracking Number, Timestamp.
 *
 * Every subclass defines its own copies of wrap() and the header getters instead of inheriting them:
 * V8 keeps inline-cache feedback per function, so one inherited getter used by 23 classes would go
 * megamorphic on `this.buffer` and stop being inlined (measured in perf/decode.ts: the inherited
 * `timestamp` getter showed up as its own frame in the profile).
 */
export abstract class ItchMessage {
  buffer: Uint8Array = kEmpty;
  offset = 0;

  abstract wrap(buffer: Uint8Array, offset: number): this;
  /** The type byte as a char code (0x41 for 'A'). */
  abstract get typeCode(): number;
  abstract get messageType(): string;
  abstract get stockLocate(): number;
  abstract get trackingNumber(): number;
  /** Nanoseconds since midnight (6 bytes, exact as a number). */
  abstract get timestamp(): number;
}

/** 'S' System Event, 12 bytes. */
export class SystemEventMessage extends ItchMessage {
  static readonly kType = 'S';
  static readonly kLength = 12;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get eventCode(): string { return String.fromCharCode(this.buffer[this.offset + 11]); }
}

/** 'R' Stock Directory, 39 bytes. */
export class StockDirectoryMessage extends ItchMessage {
  static readonly kType = 'R';
  static readonly kLength = 39;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get marketCategory(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
  get financialStatusIndicator(): string { return String.fromCharCode(this.buffer[this.offset + 20]); }
  get roundLotSize(): number { return readU32(this.buffer, this.offset + 21); }
  get roundLotsOnly(): string { return String.fromCharCode(this.buffer[this.offset + 25]); }
  get issueClassification(): string { return String.fromCharCode(this.buffer[this.offset + 26]); }
  get issueSubType(): string { return readAlpha(this.buffer, this.offset + 27, 2); }
  get authenticity(): string { return String.fromCharCode(this.buffer[this.offset + 29]); }
  get shortSaleThresholdIndicator(): string { return String.fromCharCode(this.buffer[this.offset + 30]); }
  get ipoFlag(): string { return String.fromCharCode(this.buffer[this.offset + 31]); }
  get luldReferencePriceTier(): string { return String.fromCharCode(this.buffer[this.offset + 32]); }
  get etpFlag(): string { return String.fromCharCode(this.buffer[this.offset + 33]); }
  get etpLeverageFactor(): number { return readU32(this.buffer, this.offset + 34); }
  get inverseIndicator(): string { return String.fromCharCode(this.buffer[this.offset + 38]); }
}

/** 'H' Stock Trading Action, 25 bytes. */
export class StockTradingActionMessage extends ItchMessage {
  static readonly kType = 'H';
  static readonly kLength = 25;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get tradingState(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
  get reserved(): string { return String.fromCharCode(this.buffer[this.offset + 20]); }
  get reason(): string { return readAlpha(this.buffer, this.offset + 21, 4); }
}

/** 'Y' Reg SHO Short Sale Price Test Restricted Indicator, 20 bytes. */
export class RegShoRestrictionMessage extends ItchMessage {
  static readonly kType = 'Y';
  static readonly kLength = 20;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  /** Reg SHO names the header's Stock Locate field "Locate Code". */
  get locateCode(): number { return readU16(this.buffer, this.offset + 1); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get regShoAction(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
}

/** 'L' Market Participant Position, 26 bytes. */
export class MarketParticipantPositionMessage extends ItchMessage {
  static readonly kType = 'L';
  static readonly kLength = 26;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get mpid(): string { return readAlpha(this.buffer, this.offset + 11, 4); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 15, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 15; }
  get primaryMarketMaker(): string { return String.fromCharCode(this.buffer[this.offset + 23]); }
  get marketMakerMode(): string { return String.fromCharCode(this.buffer[this.offset + 24]); }
  get marketParticipantState(): string { return String.fromCharCode(this.buffer[this.offset + 25]); }
}

/** 'V' MWCB Decline Level, 35 bytes. */
export class MwcbDeclineLevelMessage extends ItchMessage {
  static readonly kType = 'V';
  static readonly kLength = 35;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  /** Price(8): 1e-8 units. */
  get level1(): number { return readU64(this.buffer, this.offset + 11); }
  /** Price(8): 1e-8 units. */
  get level2(): number { return readU64(this.buffer, this.offset + 19); }
  /** Price(8): 1e-8 units. */
  get level3(): number { return readU64(this.buffer, this.offset + 27); }
}

/** 'W' MWCB Status, 12 bytes. */
export class MwcbStatusMessage extends ItchMessage {
  static readonly kType = 'W';
  static readonly kLength = 12;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get breachedLevel(): string { return String.fromCharCode(this.buffer[this.offset + 11]); }
}

/** 'K' IPO Quoting Period Update, 28 bytes. */
export class IpoQuotingPeriodUpdateMessage extends ItchMessage {
  static readonly kType = 'K';
  static readonly kLength = 28;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get ipoQuotationReleaseTime(): number { return readU32(this.buffer, this.offset + 19); }
  get ipoQuotationReleaseQualifier(): string { return String.fromCharCode(this.buffer[this.offset + 23]); }
  get ipoPrice(): number { return readU32(this.buffer, this.offset + 24); }
}

/** 'J' LULD Auction Collar, 35 bytes. */
export class LuldAuctionCollarMessage extends ItchMessage {
  static readonly kType = 'J';
  static readonly kLength = 35;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get auctionCollarReferencePrice(): number { return readU32(this.buffer, this.offset + 19); }
  get upperAuctionCollarPrice(): number { return readU32(this.buffer, this.offset + 23); }
  get lowerAuctionCollarPrice(): number { return readU32(this.buffer, this.offset + 27); }
  get auctionCollarExtension(): number { return readU32(this.buffer, this.offset + 31); }
}

/** 'h' Operational Halt, 21 bytes. */
export class OperationalHaltMessage extends ItchMessage {
  static readonly kType = 'h';
  static readonly kLength = 21;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get marketCode(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
  get operationalHaltAction(): string { return String.fromCharCode(this.buffer[this.offset + 20]); }
}

/** 'A' Add Order (No MPID Attribution), 36 bytes. */
export class AddOrderMessage extends ItchMessage {
  static readonly kType = 'A';
  static readonly kLength = 36;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get orderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
  get buySellIndicator(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
  get isBuy(): boolean { return this.buffer[this.offset + 19] === 0x42; }
  get shares(): number { return readU32(this.buffer, this.offset + 20); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 24, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 24; }
  get price(): number { return readU32(this.buffer, this.offset + 32); }
}

/** 'F' Add Order (MPID Attribution), 40 bytes. */
export class AddOrderMpidMessage extends ItchMessage {
  static readonly kType = 'F';
  static readonly kLength = 40;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get orderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
  get buySellIndicator(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
  get isBuy(): boolean { return this.buffer[this.offset + 19] === 0x42; }
  get shares(): number { return readU32(this.buffer, this.offset + 20); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 24, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 24; }
  get price(): number { return readU32(this.buffer, this.offset + 32); }
  get attribution(): string { return readAlpha(this.buffer, this.offset + 36, 4); }
}

/** 'E' Order Executed, 31 bytes. */
export class OrderExecutedMessage extends ItchMessage {
  static readonly kType = 'E';
  static readonly kLength = 31;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get orderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
  get executedShares(): number { return readU32(this.buffer, this.offset + 19); }
  get matchNumber(): number { return readU64(this.buffer, this.offset + 23); }
}

/** 'C' Order Executed With Price, 36 bytes. */
export class OrderExecutedWithPriceMessage extends ItchMessage {
  static readonly kType = 'C';
  static readonly kLength = 36;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get orderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
  get executedShares(): number { return readU32(this.buffer, this.offset + 19); }
  get matchNumber(): number { return readU64(this.buffer, this.offset + 23); }
  get printable(): string { return String.fromCharCode(this.buffer[this.offset + 31]); }
  get executionPrice(): number { return readU32(this.buffer, this.offset + 32); }
}

/** 'X' Order Cancel, 23 bytes. */
export class OrderCancelMessage extends ItchMessage {
  static readonly kType = 'X';
  static readonly kLength = 23;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get orderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
  get cancelledShares(): number { return readU32(this.buffer, this.offset + 19); }
}

/** 'D' Order Delete, 19 bytes. */
export class OrderDeleteMessage extends ItchMessage {
  static readonly kType = 'D';
  static readonly kLength = 19;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get orderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
}

/** 'U' Order Replace, 35 bytes. */
export class OrderReplaceMessage extends ItchMessage {
  static readonly kType = 'U';
  static readonly kLength = 35;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get originalOrderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
  get newOrderReferenceNumber(): number { return readU64(this.buffer, this.offset + 19); }
  get shares(): number { return readU32(this.buffer, this.offset + 27); }
  get price(): number { return readU32(this.buffer, this.offset + 31); }
}

/** 'P' Trade (Non-Cross), 44 bytes. */
export class TradeMessage extends ItchMessage {
  static readonly kType = 'P';
  static readonly kLength = 44;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get orderReferenceNumber(): number { return readU64(this.buffer, this.offset + 11); }
  get buySellIndicator(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
  get isBuy(): boolean { return this.buffer[this.offset + 19] === 0x42; }
  get shares(): number { return readU32(this.buffer, this.offset + 20); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 24, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 24; }
  get price(): number { return readU32(this.buffer, this.offset + 32); }
  get matchNumber(): number { return readU64(this.buffer, this.offset + 36); }
}

/** 'Q' Cross Trade, 40 bytes. */
export class CrossTradeMessage extends ItchMessage {
  static readonly kType = 'Q';
  static readonly kLength = 40;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get shares(): number { return readU64(this.buffer, this.offset + 11); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 19, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 19; }
  get crossPrice(): number { return readU32(this.buffer, this.offset + 27); }
  get matchNumber(): number { return readU64(this.buffer, this.offset + 31); }
  get crossType(): string { return String.fromCharCode(this.buffer[this.offset + 39]); }
}

/** 'B' Broken Trade, 19 bytes. */
export class BrokenTradeMessage extends ItchMessage {
  static readonly kType = 'B';
  static readonly kLength = 19;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get matchNumber(): number { return readU64(this.buffer, this.offset + 11); }
}

/** 'I' Net Order Imbalance Indicator (NOII), 50 bytes. */
export class NoiiMessage extends ItchMessage {
  static readonly kType = 'I';
  static readonly kLength = 50;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get pairedShares(): number { return readU64(this.buffer, this.offset + 11); }
  get imbalanceShares(): number { return readU64(this.buffer, this.offset + 19); }
  get imbalanceDirection(): string { return String.fromCharCode(this.buffer[this.offset + 27]); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 28, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 28; }
  get farPrice(): number { return readU32(this.buffer, this.offset + 36); }
  get nearPrice(): number { return readU32(this.buffer, this.offset + 40); }
  get currentReferencePrice(): number { return readU32(this.buffer, this.offset + 44); }
  get crossType(): string { return String.fromCharCode(this.buffer[this.offset + 48]); }
  get priceVariationIndicator(): string { return String.fromCharCode(this.buffer[this.offset + 49]); }
}

/** 'N' Retail Price Improvement Indicator (RPII), 20 bytes. */
export class RpiiMessage extends ItchMessage {
  static readonly kType = 'N';
  static readonly kLength = 20;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get interestFlag(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
}

/** 'O' Direct Listing with Capital Raise Price Discovery, 48 bytes. */
export class DirectListingMessage extends ItchMessage {
  static readonly kType = 'O';
  static readonly kLength = 48;
  wrap(buffer: Uint8Array, offset: number): this { this.buffer = buffer; this.offset = offset; return this; }
  get typeCode(): number { return this.buffer[this.offset]; }
  get messageType(): string { return String.fromCharCode(this.buffer[this.offset]); }
  get stockLocate(): number { return readU16(this.buffer, this.offset + 1); }
  get trackingNumber(): number { return readU16(this.buffer, this.offset + 3); }
  get timestamp(): number { return readU48(this.buffer, this.offset + 5); }
  get stock(): string { return readAlpha(this.buffer, this.offset + 11, 8); }
  /** Absolute offset of the 8-byte Stock field, for SymbolTable. */
  get stockOffset(): number { return this.offset + 11; }
  get openEligibilityStatus(): string { return String.fromCharCode(this.buffer[this.offset + 19]); }
  get minimumAllowablePrice(): number { return readU32(this.buffer, this.offset + 20); }
  get maximumAllowablePrice(): number { return readU32(this.buffer, this.offset + 24); }
  get nearExecutionPrice(): number { return readU32(this.buffer, this.offset + 28); }
  get nearExecutionTime(): number { return readU64(this.buffer, this.offset + 32); }
  get lowerPriceRangeCollar(): number { return readU32(this.buffer, this.offset + 40); }
  get upperPriceRangeCollar(): number { return readU32(this.buffer, this.offset + 44); }
}

export type AnyItchMessage =
  | SystemEventMessage
  | StockDirectoryMessage
  | StockTradingActionMessage
  | RegShoRestrictionMessage
  | MarketParticipantPositionMessage
  | MwcbDeclineLevelMessage
  | MwcbStatusMessage
  | IpoQuotingPeriodUpdateMessage
  | LuldAuctionCollarMessage
  | OperationalHaltMessage
  | AddOrderMessage
  | AddOrderMpidMessage
  | OrderExecutedMessage
  | OrderExecutedWithPriceMessage
  | OrderCancelMessage
  | OrderDeleteMessage
  | OrderReplaceMessage
  | TradeMessage
  | CrossTradeMessage
  | BrokenTradeMessage
  | NoiiMessage
  | RpiiMessage
  | DirectListingMessage;
