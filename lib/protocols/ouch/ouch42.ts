/**
 * OUCH 4.2 message layouts (NASDAQ OUCH 4.2 specification): the payload of SoupBinTCP
 * Unsequenced Data (inbound, client -> venue) and Sequenced Data (outbound, venue -> client).
 * All integers big-endian; alpha fields left-justified, space-padded; prices Price(4).
 *
 * Encoders write into a caller-owned buffer and return the end offset. Decoding is by offset
 * constants (`kAccepted*` etc.) read straight from the frame: no object per message.
 */
import { writeAlpha, readAlpha, writeU64 } from '../../common/bytes';
import { TickpathError } from '../../errors';

// Inbound message types.
export const kOuchEnterOrder = 0x4f;   // 'O'
export const kOuchReplaceOrder = 0x55; // 'U'
export const kOuchCancelOrder = 0x58;  // 'X'
// Outbound message types.
export const kOuchSystemEvent = 0x53;  // 'S'
export const kOuchAccepted = 0x41;     // 'A'
export const kOuchReplaced = 0x55;     // 'U'
export const kOuchCanceled = 0x43;     // 'C'
export const kOuchExecuted = 0x45;     // 'E'
export const kOuchRejected = 0x4a;     // 'J'

export const kOuchTokenLen = 14;
export const kOuchStockLen = 8;

// Message lengths (including the type byte).
export const kEnterOrderLen = 49;
export const kReplaceOrderLen = 47;
export const kCancelOrderLen = 19;
export const kSystemEventLen = 10;
export const kAcceptedLen = 66;
export const kReplacedLen = 80;
export const kCanceledLen = 28;
export const kExecutedLen = 40;
export const kRejectedLen = 24;

/** Time in force: 0 = immediate or cancel, 99998 = market hours, 99999 = system hours. */
export const kTifIoc = 0;
export const kTifMarketHours = 99998;
export const kTifSystemHours = 99999;
/** Price used for market orders (OUCH 4.2 market-order price is $200,000.0000). */
export const kOuchMarketPrice = 2000000000;

// Enter Order offsets.
export const kEnterOrderToken = 1;
export const kEnterBuySell = 15;
export const kEnterShares = 16;
export const kEnterStock = 20;
export const kEnterPrice = 28;
export const kEnterTif = 32;
export const kEnterFirm = 36;
export const kEnterDisplay = 40;
export const kEnterCapacity = 41;
export const kEnterIse = 42;
export const kEnterMinQty = 43;
export const kEnterCrossType = 47;
export const kEnterCustomerType = 48;

// Replace Order offsets.
export const kReplaceExistingToken = 1;
export const kReplaceReplacementToken = 15;
export const kReplaceShares = 29;
export const kReplacePrice = 33;
export const kReplaceTif = 37;
export const kReplaceDisplay = 41;
export const kReplaceIse = 42;
export const kReplaceMinQty = 43;

// Cancel Order offsets.
export const kCancelToken = 1;
export const kCancelShares = 15;

// Outbound common: every outbound message but System Event's body starts timestamp + token.
export const kOutTimestamp = 1;
export const kOutToken = 9;

// System Event.
export const kSystemEventCode = 9;
// Accepted.
export const kAcceptedBuySell = 23;
export const kAcceptedShares = 24;
export const kAcceptedStock = 28;
export const kAcceptedPrice = 36;
export const kAcceptedTif = 40;
export const kAcceptedFirm = 44;
export const kAcceptedDisplay = 48;
export const kAcceptedOrderRef = 49;
export const kAcceptedCapacity = 57;
export const kAcceptedIse = 58;
export const kAcceptedMinQty = 59;
export const kAcceptedCrossType = 63;
export const kAcceptedOrderState = 64;
export const kAcceptedBbo = 65;
// Replaced (token at kOutToken is the replacement token).
export const kReplacedBuySell = 23;
export const kReplacedShares = 24;
export const kReplacedStock = 28;
export const kReplacedPrice = 36;
export const kReplacedTif = 40;
export const kReplacedFirm = 44;
export const kReplacedDisplay = 48;
export const kReplacedOrderRef = 49;
export const kReplacedCapacity = 57;
export const kReplacedIse = 58;
export const kReplacedMinQty = 59;
export const kReplacedCrossType = 63;
export const kReplacedOrderState = 64;
export const kReplacedPreviousToken = 65;
export const kReplacedBbo = 79;
// Canceled.
export const kCanceledDecrement = 23;
export const kCanceledReason = 27;
// Executed.
export const kExecutedShares = 23;
export const kExecutedPrice = 27;
export const kExecutedLiquidity = 31;
export const kExecutedMatch = 32;
// Rejected.
export const kRejectedReason = 23;

/** Cancel reasons (subset used by the simulator) and reject reasons. */
export const kCancelReasonUser = 0x55;       // 'U' user requested
export const kCancelReasonIoc = 0x49;        // 'I' immediate or cancel
export const kCancelReasonTimeout = 0x54;    // 'T'
export const kCancelReasonSupervisory = 0x53; // 'S'
export const kRejectReasonTestMode = 0x54;   // 'T'
export const kRejectReasonHalted = 0x48;     // 'H'
export const kRejectReasonShares = 0x5a;     // 'Z' invalid shares
export const kRejectReasonPrice = 0x58;      // 'X' invalid price
export const kRejectReasonSymbol = 0x53;     // 'S' invalid stock
export const kRejectReasonToken = 0x44;      // 'D' duplicate/invalid token
export const kRejectReasonOther = 0x4f;      // 'O' other

const kReasonText: Record<number, string> = {
  0x55: 'user requested', 0x49: 'immediate or cancel', 0x54: 'timeout / test mode', 0x53: 'supervisory / invalid stock',
  0x48: 'halted', 0x5a: 'invalid shares', 0x58: 'invalid price', 0x44: 'invalid or duplicate order token',
  0x4f: 'other',
};

/** Human text for a Canceled or Rejected reason byte (for VenueListener reasons; not per-fill). */
export function reasonText(code: number): string {
  return kReasonText[code] ?? `reason '${String.fromCharCode(code)}'`;
}

export function encodeEnterOrder(buf: Buffer, o: number, token: string, buySell: number, shares: number,
  stock: string, price: number, tif: number, firm: string): number {
  buf[o] = kOuchEnterOrder;
  writeAlpha(buf, o + kEnterOrderToken, kOuchTokenLen, token);
  buf[o + kEnterBuySell] = buySell;
  buf.writeUInt32BE(shares, o + kEnterShares);
  writeAlpha(buf, o + kEnterStock, kOuchStockLen, stock);
  buf.writeUInt32BE(price, o + kEnterPrice);
  buf.writeUInt32BE(tif, o + kEnterTif);
  writeAlpha(buf, o + kEnterFirm, 4, firm);
  buf[o + kEnterDisplay] = 0x59;      // 'Y' displayed
  buf[o + kEnterCapacity] = 0x41;     // 'A' agency
  buf[o + kEnterIse] = 0x4e;          // 'N'
  buf.writeUInt32BE(0, o + kEnterMinQty);
  buf[o + kEnterCrossType] = 0x4e;    // 'N' continuous market
  buf[o + kEnterCustomerType] = 0x20; // ' ' = the firm's default customer type
  return o + kEnterOrderLen;
}

/** Something that writes an order token's bytes itself (the router's ChildOrder: from a number). */
export interface OuchTokenSource {
  writeToken(b: Uint8Array, o: number, width: number, pad: number): void;
}

/**
 * encodeEnterOrder with the token written by `token` instead of copied from a string, so a new
 * order reaches the wire without an id string. Same bytes.
 */
export function encodeEnterOrderFrom(buf: Buffer, o: number, token: OuchTokenSource, buySell: number, shares: number,
  stock: string, price: number, tif: number, firm: string): number {
  buf[o] = kOuchEnterOrder;
  token.writeToken(buf, o + kEnterOrderToken, kOuchTokenLen, 0x20);
  buf[o + kEnterBuySell] = buySell;
  buf.writeUInt32BE(shares, o + kEnterShares);
  writeAlpha(buf, o + kEnterStock, kOuchStockLen, stock);
  buf.writeUInt32BE(price, o + kEnterPrice);
  buf.writeUInt32BE(tif, o + kEnterTif);
  writeAlpha(buf, o + kEnterFirm, 4, firm);
  buf[o + kEnterDisplay] = 0x59;
  buf[o + kEnterCapacity] = 0x41;
  buf[o + kEnterIse] = 0x4e;
  buf.writeUInt32BE(0, o + kEnterMinQty);
  buf[o + kEnterCrossType] = 0x4e;
  buf[o + kEnterCustomerType] = 0x20;
  return o + kEnterOrderLen;
}

/** An order that writes its token and its stock's bytes itself (the router's ChildOrder: from its order-table slot). */
export interface OuchOrderSource extends OuchTokenSource {
  /** The symbol's 8 ASCII bytes, padded with `pad`. */
  writeSymbol(b: Uint8Array, o: number, pad: number): void;
}

/**
 * Enter Orders of one firm, on the send path: the firm's bytes are laid out once, the token and
 * stock come as bytes from the order (no string read), integers are four byte stores (no Buffer
 * method and its argument checks). The constant fields are stored byte by byte: a destination at
 * any offset (SoupBinTCP framing puts the payload at 3) rules out word stores, and 14 byte stores
 * cost less than a call to copy a 49-byte template. Same bytes as `encodeEnterOrder`.
 *
 * Threading: none of its own; the caller's (the router worker's connector).
 */
export class EnterOrderEncoder {
  private readonly firm: Uint8Array;

  constructor(firm: string) {
    if (typeof firm !== 'string' || !/^[\x20-\x7e]{0,4}$/.test(firm)) {
      throw new TickpathError('ERR_INVALID_OPTION', `EnterOrderEncoder: firm ${JSON.stringify(firm)} is not 0-4 printable ASCII characters (empty: spaces)`,
        'set the OUCH firm (routing_config.yml venues[].firm) to the 4-character firm id the venue assigned');
    }
    this.firm = new Uint8Array(4);
    writeAlpha(this.firm, 0, 4, firm);
  }

  /** Writes the 49-byte Enter Order at `o`; returns the end offset. `buySell`: 'B', 'S' or 'T' as a byte. */
  encode(buf: Uint8Array, o: number, order: OuchOrderSource, buySell: number, shares: number, price: number, tif: number): number {
    buf[o] = kOuchEnterOrder;
    order.writeToken(buf, o + kEnterOrderToken, kOuchTokenLen, 0x20);
    buf[o + kEnterBuySell] = buySell;
    putU32BE(buf, o + kEnterShares, shares);
    order.writeSymbol(buf, o + kEnterStock, 0x20);
    putU32BE(buf, o + kEnterPrice, price);
    putU32BE(buf, o + kEnterTif, tif);
    const f = this.firm;
    buf[o + kEnterFirm] = f[0]; buf[o + kEnterFirm + 1] = f[1]; buf[o + kEnterFirm + 2] = f[2]; buf[o + kEnterFirm + 3] = f[3];
    buf[o + kEnterDisplay] = 0x59;      // 'Y' displayed
    buf[o + kEnterCapacity] = 0x41;     // 'A' agency
    buf[o + kEnterIse] = 0x4e;          // 'N'
    buf[o + kEnterMinQty] = 0; buf[o + kEnterMinQty + 1] = 0; buf[o + kEnterMinQty + 2] = 0; buf[o + kEnterMinQty + 3] = 0;
    buf[o + kEnterCrossType] = 0x4e;    // 'N' continuous market
    buf[o + kEnterCustomerType] = 0x20; // ' ' the firm's default customer type
    return o + kEnterOrderLen;
  }
}

/** Big-endian u32 as four byte stores (callers pass integers 0..2^32-1; the field's range is theirs to check). */
function putU32BE(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24; b[o + 1] = v >>> 16; b[o + 2] = v >>> 8; b[o + 3] = v;
}

export function encodeReplaceOrder(buf: Buffer, o: number, existingToken: string, replacementToken: string,
  shares: number, price: number, tif: number): number {
  buf[o] = kOuchReplaceOrder;
  writeAlpha(buf, o + kReplaceExistingToken, kOuchTokenLen, existingToken);
  writeAlpha(buf, o + kReplaceReplacementToken, kOuchTokenLen, replacementToken);
  buf.writeUInt32BE(shares, o + kReplaceShares);
  buf.writeUInt32BE(price, o + kReplacePrice);
  buf.writeUInt32BE(tif, o + kReplaceTif);
  buf[o + kReplaceDisplay] = 0x59;
  buf[o + kReplaceIse] = 0x4e;
  buf.writeUInt32BE(0, o + kReplaceMinQty);
  return o + kReplaceOrderLen;
}

/** `shares` is the new intended order size; 0 cancels everything left. */
export function encodeCancelOrder(buf: Buffer, o: number, token: string, shares: number): number {
  buf[o] = kOuchCancelOrder;
  writeAlpha(buf, o + kCancelToken, kOuchTokenLen, token);
  buf.writeUInt32BE(shares, o + kCancelShares);
  return o + kCancelOrderLen;
}

function writeTimestamp(buf: Buffer, o: number, nanosSinceMidnight: number): void {
  writeU64(buf, o + kOutTimestamp, nanosSinceMidnight);
}

export function encodeSystemEvent(buf: Buffer, o: number, ts: number, eventCode: number): number {
  buf[o] = kOuchSystemEvent;
  writeTimestamp(buf, o, ts);
  buf[o + kSystemEventCode] = eventCode;
  return o + kSystemEventLen;
}

export interface OuchOrderFields {
  token: string; buySell: number; shares: number; stock: string; price: number; tif: number; firm: string; orderRef: number;
}

export function encodeAccepted(buf: Buffer, o: number, ts: number, f: OuchOrderFields): number {
  buf[o] = kOuchAccepted;
  writeTimestamp(buf, o, ts);
  writeAlpha(buf, o + kOutToken, kOuchTokenLen, f.token);
  buf[o + kAcceptedBuySell] = f.buySell;
  buf.writeUInt32BE(f.shares, o + kAcceptedShares);
  writeAlpha(buf, o + kAcceptedStock, kOuchStockLen, f.stock);
  buf.writeUInt32BE(f.price, o + kAcceptedPrice);
  buf.writeUInt32BE(f.tif, o + kAcceptedTif);
  writeAlpha(buf, o + kAcceptedFirm, 4, f.firm);
  buf[o + kAcceptedDisplay] = 0x59;
  writeU64(buf, o + kAcceptedOrderRef, f.orderRef);
  buf[o + kAcceptedCapacity] = 0x41;
  buf[o + kAcceptedIse] = 0x4e;
  buf.writeUInt32BE(0, o + kAcceptedMinQty);
  buf[o + kAcceptedCrossType] = 0x4e;
  buf[o + kAcceptedOrderState] = 0x4c; // 'L' live
  buf[o + kAcceptedBbo] = 0x20;
  return o + kAcceptedLen;
}

export function encodeReplaced(buf: Buffer, o: number, ts: number, f: OuchOrderFields, previousToken: string): number {
  buf[o] = kOuchReplaced;
  writeTimestamp(buf, o, ts);
  writeAlpha(buf, o + kOutToken, kOuchTokenLen, f.token);
  buf[o + kReplacedBuySell] = f.buySell;
  buf.writeUInt32BE(f.shares, o + kReplacedShares);
  writeAlpha(buf, o + kReplacedStock, kOuchStockLen, f.stock);
  buf.writeUInt32BE(f.price, o + kReplacedPrice);
  buf.writeUInt32BE(f.tif, o + kReplacedTif);
  writeAlpha(buf, o + kReplacedFirm, 4, f.firm);
  buf[o + kReplacedDisplay] = 0x59;
  writeU64(buf, o + kReplacedOrderRef, f.orderRef);
  buf[o + kReplacedCapacity] = 0x41;
  buf[o + kReplacedIse] = 0x4e;
  buf.writeUInt32BE(0, o + kReplacedMinQty);
  buf[o + kReplacedCrossType] = 0x4e;
  buf[o + kReplacedOrderState] = 0x4c;
  writeAlpha(buf, o + kReplacedPreviousToken, kOuchTokenLen, previousToken);
  buf[o + kReplacedBbo] = 0x20;
  return o + kReplacedLen;
}

export function encodeCanceled(buf: Buffer, o: number, ts: number, token: string, decrement: number, reason: number): number {
  buf[o] = kOuchCanceled;
  writeTimestamp(buf, o, ts);
  writeAlpha(buf, o + kOutToken, kOuchTokenLen, token);
  buf.writeUInt32BE(decrement, o + kCanceledDecrement);
  buf[o + kCanceledReason] = reason;
  return o + kCanceledLen;
}

export function encodeExecuted(buf: Buffer, o: number, ts: number, token: string, shares: number, price: number,
  liquidity: number, matchNumber: number): number {
  buf[o] = kOuchExecuted;
  writeTimestamp(buf, o, ts);
  writeAlpha(buf, o + kOutToken, kOuchTokenLen, token);
  buf.writeUInt32BE(shares, o + kExecutedShares);
  buf.writeUInt32BE(price, o + kExecutedPrice);
  buf[o + kExecutedLiquidity] = liquidity;
  writeU64(buf, o + kExecutedMatch, matchNumber);
  return o + kExecutedLen;
}

export function encodeRejected(buf: Buffer, o: number, ts: number, token: string, reason: number): number {
  buf[o] = kOuchRejected;
  writeTimestamp(buf, o, ts);
  writeAlpha(buf, o + kOutToken, kOuchTokenLen, token);
  buf[o + kRejectedReason] = reason;
  return o + kRejectedLen;
}

/** Expected length of an outbound message by type; 0 for unknown types. */
export function outboundLength(type: number): number {
  switch (type) {
    case kOuchSystemEvent: return kSystemEventLen;
    case kOuchAccepted: return kAcceptedLen;
    case kOuchReplaced: return kReplacedLen;
    case kOuchCanceled: return kCanceledLen;
    case kOuchExecuted: return kExecutedLen;
    case kOuchRejected: return kRejectedLen;
    default: return 0;
  }
}

/** Expected length of an inbound message by type; 0 for unknown types. */
export function inboundLength(type: number): number {
  switch (type) {
    case kOuchEnterOrder: return kEnterOrderLen;
    case kOuchReplaceOrder: return kReplaceOrderLen;
    case kOuchCancelOrder: return kCancelOrderLen;
    default: return 0;
  }
}

/** Reads a token field (trimmed). Allocates a string: the connector needs it as a map key. */
export function readToken(buf: Buffer, o: number): string {
  return readAlpha(buf, o, kOuchTokenLen);
}
