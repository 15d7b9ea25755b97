/**
 * ITCH 5.0 message encoder: the inverse of ItchDecoder, for the synthetic-session generator, the
 * venue simulator and tests.
 *
 * `encode(buffer, offset, type, values)` is table-driven from itch-schema.ts and validates every
 * value (a generator bug should fail loudly, not put a wrapped integer on the wire). The typed
 * writers (`addOrder`, `orderDelete`...) cover the high-volume order messages without a values
 * object, so a generator can produce millions of messages without allocating per message; they
 * take the stock as 8 pre-padded bytes for the same reason. All return the bytes written.
 */
import { TickpathError } from '../../errors';
import { writeAlpha, writeU16, writeU32, writeU48, writeU64 } from '../../common/bytes';
import { ItchMessageSpec, kItchSpecByCode } from './itch-schema';

export type ItchValues = Record<string, number | string>;

const kMaxByKind: Record<string, number> = {
  u16: 0xffff, u32: 0xffffffff, price4: 0xffffffff, u48: 2 ** 48 - 1, u64: Number.MAX_SAFE_INTEGER, price8: Number.MAX_SAFE_INTEGER,
};

/** 8 bytes of a stock symbol, space-padded, for the typed writers. */
export function stockBytes(symbol: string): Uint8Array {
  const b = new Uint8Array(8);
  writeAlpha(b, 0, 8, symbol);
  return b;
}

/**
 * Values for an 'R' Stock Directory with neutral attributes (NASDAQ-listed common stock, round lots
 * of 100, no flags): what the session generator and the GLIMPSE snapshot server publish per locate.
 */
export function stockDirectoryValues(stockLocate: number, stock: string, timestamp = 0): ItchValues {
  return {
    stockLocate, timestamp, stock, marketCategory: 'Q', financialStatusIndicator: 'N', roundLotSize: 100, roundLotsOnly: 'N',
    issueClassification: 'C', issueSubType: 'Z', authenticity: 'P', shortSaleThresholdIndicator: 'N', ipoFlag: 'N',
    luldReferencePriceTier: '1', etpFlag: 'N', etpLeverageFactor: 0, inverseIndicator: 'N',
  };
}

export class ItchEncoder {
  /**
   * Encode one message from named field values (the camelCase names of itch-schema.ts; header
   * fields default to 0). Throws ERR_ITCH_ENCODE for an unknown type, a missing or out-of-range
   * field, or a buffer too small.
   */
  encode(b: Uint8Array, offset: number, type: string, values: ItchValues): number {
    const spec = kItchSpecByCode[type.length === 1 ? type.charCodeAt(0) : 0];
    if (!spec) throw new TickpathError('ERR_ITCH_ENCODE', `ItchEncoder: unknown message type ${JSON.stringify(type)}`);
    if (offset + spec.length > b.length) {
      throw new TickpathError('ERR_ITCH_ENCODE', `ItchEncoder: '${type}' needs ${spec.length} bytes at offset ${offset}, buffer has ${b.length - offset}`);
    }
    b[offset] = spec.code;
    for (const f of spec.fields) {
      const v = values[f.name] ?? (f.offset < 11 ? 0 : undefined);
      const o = offset + f.offset;
      if (f.kind === 'char' || f.kind === 'alpha') {
        if (typeof v !== 'string' || v.length > f.length || !/^[\x20-\x7e]*$/.test(v) || (f.kind === 'char' && v.length !== 1)) {
          throw fieldError(spec, f.name, v, f.kind === 'char' ? 'one printable ASCII character' : `up to ${f.length} printable ASCII characters`);
        }
        writeAlpha(b, o, f.length, v);
        continue;
      }
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > kMaxByKind[f.kind]) {
        throw fieldError(spec, f.name, v, `an integer from 0 to ${kMaxByKind[f.kind]}`);
      }
      switch (f.kind) {
        case 'u16': writeU16(b, o, v); break;
        case 'u32': case 'price4': writeU32(b, o, v); break;
        case 'u48': writeU48(b, o, v); break;
        default: writeU64(b, o, v); break;
      }
    }
    return spec.length;
  }

  /** 'A' Add Order; `stock` is 8 space-padded bytes (see stockBytes). */
  addOrder(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    orderReferenceNumber: number, buy: boolean, shares: number, stock: Uint8Array, price: number): number {
    writeHeader(b, o, 0x41, stockLocate, trackingNumber, timestamp);
    writeU64(b, o + 11, orderReferenceNumber);
    b[o + 19] = buy ? 0x42 : 0x53;
    writeU32(b, o + 20, shares);
    b.set(stock.subarray(0, 8), o + 24);
    writeU32(b, o + 32, price);
    return 36;
  }

  /** 'F' Add Order with MPID attribution; `attribution` is 4 space-padded bytes. */
  addOrderMpid(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    orderReferenceNumber: number, buy: boolean, shares: number, stock: Uint8Array, price: number, attribution: Uint8Array): number {
    this.addOrder(b, o, stockLocate, trackingNumber, timestamp, orderReferenceNumber, buy, shares, stock, price);
    b[o] = 0x46;
    b.set(attribution.subarray(0, 4), o + 36);
    return 40;
  }

  /** 'E' Order Executed. */
  orderExecuted(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    orderReferenceNumber: number, executedShares: number, matchNumber: number): number {
    writeHeader(b, o, 0x45, stockLocate, trackingNumber, timestamp);
    writeU64(b, o + 11, orderReferenceNumber);
    writeU32(b, o + 19, executedShares);
    writeU64(b, o + 23, matchNumber);
    return 31;
  }

  /** 'C' Order Executed With Price; `printable` true writes 'Y'. */
  orderExecutedWithPrice(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    orderReferenceNumber: number, executedShares: number, matchNumber: number, printable: boolean, executionPrice: number): number {
    this.orderExecuted(b, o, stockLocate, trackingNumber, timestamp, orderReferenceNumber, executedShares, matchNumber);
    b[o] = 0x43;
    b[o + 31] = printable ? 0x59 : 0x4e;
    writeU32(b, o + 32, executionPrice);
    return 36;
  }

  /** 'X' Order Cancel. */
  orderCancel(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    orderReferenceNumber: number, cancelledShares: number): number {
    writeHeader(b, o, 0x58, stockLocate, trackingNumber, timestamp);
    writeU64(b, o + 11, orderReferenceNumber);
    writeU32(b, o + 19, cancelledShares);
    return 23;
  }

  /** 'D' Order Delete. */
  orderDelete(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    orderReferenceNumber: number): number {
    writeHeader(b, o, 0x44, stockLocate, trackingNumber, timestamp);
    writeU64(b, o + 11, orderReferenceNumber);
    return 19;
  }

  /** 'U' Order Replace. */
  orderReplace(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    originalOrderReferenceNumber: number, newOrderReferenceNumber: number, shares: number, price: number): number {
    writeHeader(b, o, 0x55, stockLocate, trackingNumber, timestamp);
    writeU64(b, o + 11, originalOrderReferenceNumber);
    writeU64(b, o + 19, newOrderReferenceNumber);
    writeU32(b, o + 27, shares);
    writeU32(b, o + 31, price);
    return 35;
  }

  /** 'P' Trade (Non-Cross). */
  trade(b: Uint8Array, o: number, stockLocate: number, trackingNumber: number, timestamp: number,
    orderReferenceNumber: number, buy: boolean, shares: number, stock: Uint8Array, price: number, matchNumber: number): number {
    this.addOrder(b, o, stockLocate, trackingNumber, timestamp, orderReferenceNumber, buy, shares, stock, price);
    b[o] = 0x50;
    writeU64(b, o + 36, matchNumber);
    return 44;
  }
}

function writeHeader(b: Uint8Array, o: number, type: number, stockLocate: number, trackingNumber: number, timestamp: number): void {
  b[o] = type;
  writeU16(b, o + 1, stockLocate);
  writeU16(b, o + 3, trackingNumber);
  writeU48(b, o + 5, timestamp);
}

function fieldError(spec: ItchMessageSpec, name: string, value: unknown, expected: string): TickpathError {
  return new TickpathError('ERR_ITCH_ENCODE', `ItchEncoder: '${spec.type}' field '${name}' is ${JSON.stringify(value)}, expected ${expected}`);
}
