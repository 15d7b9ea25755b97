/**
 * The ITCH 5.0 message layouts as data (NASDAQ TotalView-ITCH 5.0 specification, section 1).
 *
 * One table drives the tools (JSON output, the encoder, the round-trip tests); the hot path does not
 * read it: the flyweights in itch-messages.ts hard-code the same offsets, and the round-trip property
 * tests encode from this table and decode with the flyweights, so the two cannot drift apart silently.
 * Offsets are computed here from the field order so a length mistake shows up as a wrong total size,
 * which test/feed/itch-schema.test.ts checks against the spec's message lengths.
 */

import { TickpathError } from '../../errors';

/** u16/u32/u48/u64 integers; char is a 1-byte alpha (not trimmed); alpha is right-trimmed; price4/price8 are integers in 1e-4 / 1e-8 units. */
export type ItchFieldKind = 'u16' | 'u32' | 'u48' | 'u64' | 'char' | 'alpha' | 'price4' | 'price8';

export interface ItchFieldSpec {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
  readonly kind: ItchFieldKind;
}

export interface ItchMessageSpec {
  /** The message type letter, e.g. 'A'. */
  readonly type: string;
  readonly code: number;
  /** The spec's message name, e.g. 'Add Order (No MPID Attribution)'. */
  readonly name: string;
  /** Total message length in bytes, type byte included (the MoldUDP64 block length). */
  readonly length: number;
  /** Every field after the type byte, header included. */
  readonly fields: readonly ItchFieldSpec[];
}

const kKindLength: Record<Exclude<ItchFieldKind, 'alpha'>, number> = {
  u16: 2, u32: 4, u48: 6, u64: 8, char: 1, price4: 4, price8: 8,
};

type FieldDef = [name: string, kind: ItchFieldKind, length?: number];

function define(type: string, name: string, body: FieldDef[], locateName = 'stockLocate'): ItchMessageSpec {
  const defs: FieldDef[] = [[locateName, 'u16'], ['trackingNumber', 'u16'], ['timestamp', 'u48'], ...body];
  const fields: ItchFieldSpec[] = [];
  let offset = 1;
  for (const [fieldName, kind, alphaLength] of defs) {
    const length = kind === 'alpha' ? (alphaLength as number) : kKindLength[kind];
    fields.push({ name: fieldName, offset, length, kind });
    offset += length;
  }
  return { type, code: type.charCodeAt(0), name, length: offset, fields };
}

export const kItchMessageSpecs: readonly ItchMessageSpec[] = [
  define('S', 'System Event', [['eventCode', 'char']]),
  define('R', 'Stock Directory', [
    ['stock', 'alpha', 8], ['marketCategory', 'char'], ['financialStatusIndicator', 'char'], ['roundLotSize', 'u32'],
    ['roundLotsOnly', 'char'], ['issueClassification', 'char'], ['issueSubType', 'alpha', 2], ['authenticity', 'char'],
    ['shortSaleThresholdIndicator', 'char'], ['ipoFlag', 'char'], ['luldReferencePriceTier', 'char'], ['etpFlag', 'char'],
    ['etpLeverageFactor', 'u32'], ['inverseIndicator', 'char'],
  ]),
  define('H', 'Stock Trading Action', [['stock', 'alpha', 8], ['tradingState', 'char'], ['reserved', 'char'], ['reason', 'alpha', 4]]),
  define('Y', 'Reg SHO Short Sale Price Test Restricted Indicator', [['stock', 'alpha', 8], ['regShoAction', 'char']], 'locateCode'),
  define('L', 'Market Participant Position', [
    ['mpid', 'alpha', 4], ['stock', 'alpha', 8], ['primaryMarketMaker', 'char'], ['marketMakerMode', 'char'],
    ['marketParticipantState', 'char'],
  ]),
  define('V', 'MWCB Decline Level', [['level1', 'price8'], ['level2', 'price8'], ['level3', 'price8']]),
  define('W', 'MWCB Status', [['breachedLevel', 'char']]),
  define('K', 'IPO Quoting Period Update', [
    ['stock', 'alpha', 8], ['ipoQuotationReleaseTime', 'u32'], ['ipoQuotationReleaseQualifier', 'char'], ['ipoPrice', 'price4'],
  ]),
  define('J', 'LULD Auction Collar', [
    ['stock', 'alpha', 8], ['auctionCollarReferencePrice', 'price4'], ['upperAuctionCollarPrice', 'price4'],
    ['lowerAuctionCollarPrice', 'price4'], ['auctionCollarExtension', 'u32'],
  ]),
  define('h', 'Operational Halt', [['stock', 'alpha', 8], ['marketCode', 'char'], ['operationalHaltAction', 'char']]),
  define('A', 'Add Order (No MPID Attribution)', [
    ['orderReferenceNumber', 'u64'], ['buySellIndicator', 'char'], ['shares', 'u32'], ['stock', 'alpha', 8], ['price', 'price4'],
  ]),
  define('F', 'Add Order (MPID Attribution)', [
    ['orderReferenceNumber', 'u64'], ['buySellIndicator', 'char'], ['shares', 'u32'], ['stock', 'alpha', 8], ['price', 'price4'],
    ['attribution', 'alpha', 4],
  ]),
  define('E', 'Order Executed', [['orderReferenceNumber', 'u64'], ['executedShares', 'u32'], ['matchNumber', 'u64']]),
  define('C', 'Order Executed With Price', [
    ['orderReferenceNumber', 'u64'], ['executedShares', 'u32'], ['matchNumber', 'u64'], ['printable', 'char'],
    ['executionPrice', 'price4'],
  ]),
  define('X', 'Order Cancel', [['orderReferenceNumber', 'u64'], ['cancelledShares', 'u32']]),
  define('D', 'Order Delete', [['orderReferenceNumber', 'u64']]),
  define('U', 'Order Replace', [
    ['originalOrderReferenceNumber', 'u64'], ['newOrderReferenceNumber', 'u64'], ['shares', 'u32'], ['price', 'price4'],
  ]),
  define('P', 'Trade (Non-Cross)', [
    ['orderReferenceNumber', 'u64'], ['buySellIndicator', 'char'], ['shares', 'u32'], ['stock', 'alpha', 8], ['price', 'price4'],
    ['matchNumber', 'u64'],
  ]),
  define('Q', 'Cross Trade', [
    ['shares', 'u64'], ['stock', 'alpha', 8], ['crossPrice', 'price4'], ['matchNumber', 'u64'], ['crossType', 'char'],
  ]),
  define('B', 'Broken Trade', [['matchNumber', 'u64']]),
  define('I', 'Net Order Imbalance Indicator (NOII)', [
    ['pairedShares', 'u64'], ['imbalanceShares', 'u64'], ['imbalanceDirection', 'char'], ['stock', 'alpha', 8],
    ['farPrice', 'price4'], ['nearPrice', 'price4'], ['currentReferencePrice', 'price4'], ['crossType', 'char'],
    ['priceVariationIndicator', 'char'],
  ]),
  define('N', 'Retail Price Improvement Indicator (RPII)', [['stock', 'alpha', 8], ['interestFlag', 'char']]),
  define('O', 'Direct Listing with Capital Raise Price Discovery', [
    ['stock', 'alpha', 8], ['openEligibilityStatus', 'char'], ['minimumAllowablePrice', 'price4'],
    ['maximumAllowablePrice', 'price4'], ['nearExecutionPrice', 'price4'], ['nearExecutionTime', 'u64'],
    ['lowerPriceRangeCollar', 'price4'], ['upperPriceRangeCollar', 'price4'],
  ]),
];

/** Indexed by type byte; undefined for bytes that are not an ITCH 5.0 message type. */
export const kItchSpecByCode: readonly (ItchMessageSpec | undefined)[] = (() => {
  const table: (ItchMessageSpec | undefined)[] = new Array(256).fill(undefined);
  for (const spec of kItchMessageSpecs) table[spec.code] = spec;
  return table;
})();

/** Indexed by type byte: the spec length, 0 for unknown types. The decoder's size check reads this. */
export const kItchLengthByCode: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (const spec of kItchMessageSpecs) table[spec.code] = spec.length;
  return table;
})();

export function itchSpec(type: string): ItchMessageSpec {
  const spec = kItchSpecByCode[type.charCodeAt(0) & 0xff];
  if (!spec || type.length !== 1) throw new TickpathError('ERR_ITCH_UNKNOWN_TYPE', `unknown ITCH 5.0 message type '${type}'`, 'use one of S R H Y L V W K J h A F E C X D U P Q B I N O');
  return spec;
}
