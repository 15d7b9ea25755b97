/**
 * Deterministic MOEX-style FIX/FAST sessions for tests, `perf:fast`, and (later) `tickpath gen`:
 * order-list incremental refreshes (X-OLR-<market>) and order-list snapshots (W-OLS-<market>)
 * encoded with the venue's own templates through FastEncoder, each in a datagram with the 4-byte
 * MsgSeqNum prefix, from a fresh FAST state per datagram as MOEX sends them.
 *
 * Order flow: new orders near the touch, size changes, price changes and deletes, every change and
 * delete on a live order; MDEntryIDs are decimal order numbers increasing through the session (one
 * counter for every instrument, from 1000000), as MOEX numbers orders in its trading system; per-instrument RptSeq increments per entry, MsgSeqNum per datagram. Prices
 * are 5-decimal integers sent as normalized decimals (65.1225 -> 651225e-4), sizes whole lots.
 * Not a hot path: it allocates.
 */
import { FastEncoder, FastRecord } from '../fast-encoder';
import { FastTemplateRegistry } from '../fast-templates';
import { writeMoexPacket } from './moex-packet';

export interface MoexSessionOptions {
  market?: 'CURR' | 'FOND';
  instruments?: number;
  /** Entries per incremental message: a fixed number, or [min, max] (default [1, 3]). */
  entriesPerMessage?: number | [number, number];
  seed?: number;
  tradingSessionId?: string;
  /**
   * Keep about this many resting orders per instrument (a steady book, like a live market's): an
   * add past it becomes a delete, and a price change that would leave the 20 ticks around the mid
   * moves toward it instead. Default: none (adds outnumber deletes, so the books keep growing).
   */
  steadyOrders?: number;
}

export interface MoexOrder { id: number; side: '0' | '1'; price: number; size: number }

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s; }
  below(n: number): number { return this.next() % n; }
}

/** A 5-decimal integer price as a normalized FAST decimal. */
export function priceDecimal(p: number): { mantissa: number; exponent: number } {
  let m = p; let e = -5;
  while (m !== 0 && m % 10 === 0 && e < 0) { m /= 10; e++; }
  return { mantissa: m, exponent: m === 0 ? 0 : e };
}

export class MoexSessionGenerator {
  readonly symbols: string[];
  readonly session: string;
  readonly market: string;
  /** Resting orders per instrument index (the generator's own truth). */
  readonly books: Map<number, MoexOrder>[];
  readonly rptSeq: number[];
  msgSeqNum = 0;
  entries = 0;
  private readonly encoder: FastEncoder;
  private readonly rng: Rng;
  private readonly mid: number[];
  private nextId = 1000000;
  private readonly minEntries: number;
  private readonly maxEntries: number;
  private readonly steadyOrders: number;

  constructor(registry: FastTemplateRegistry, options: MoexSessionOptions = {}) {
    this.market = options.market ?? 'CURR';
    this.encoder = new FastEncoder(registry);
    this.rng = new Rng(options.seed ?? 20170301);
    const n = options.instruments ?? 20;
    this.symbols = Array.from({ length: n }, (_, i) => (i === 0 ? 'USD000UTSTOM' : `SYM${i.toString().padStart(3, '0')}TOM`));
    this.session = options.tradingSessionId ?? 'CETS';
    this.books = Array.from({ length: n }, () => new Map<number, MoexOrder>());
    this.rptSeq = new Array<number>(n).fill(0);
    this.mid = Array.from({ length: n }, () => 6000000 + this.rng.below(400) * 2500);
    const epm = options.entriesPerMessage ?? [1, 3];
    [this.minEntries, this.maxEntries] = typeof epm === 'number' ? [epm, epm] : epm;
    this.steadyOrders = options.steadyOrders ?? Infinity;
  }

  /** The next incremental datagram (prefix + X-OLR message) and the entries it carries. */
  nextIncremental(): { datagram: Uint8Array; entries: FastRecord[] } {
    const count = this.minEntries + this.rng.below(this.maxEntries - this.minEntries + 1);
    const entries: FastRecord[] = [];
    for (let k = 0; k < count; k++) entries.push(this.nextEntry());
    this.msgSeqNum++;
    const sendingTime = 20170301000000000n + BigInt(100000000 + this.msgSeqNum * 7);
    this.encoder.resetDictionaries();
    const message = this.encoder.encode(`X-OLR-${this.market}`, { MsgSeqNum: this.msgSeqNum, SendingTime: sendingTime, GroupMDEntries: entries });
    const datagram = new Uint8Array(4 + message.length);
    writeMoexPacket(datagram, 0, this.msgSeqNum, message);
    return { datagram, entries };
  }

  /** `n` incremental datagrams. */
  incrementals(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(this.nextIncremental().datagram);
    return out;
  }

  /**
   * Snapshot datagrams (W-OLS) of every instrument's current book, at most `perFragment` orders per
   * message, RouteFirst/LastFragment marking the fragments, on the snapshot channel's own MsgSeqNum.
   */
  snapshots(perFragment = 10, firstMsgSeqNum = 1): Uint8Array[] {
    const out: Uint8Array[] = [];
    let seq = firstMsgSeqNum;
    for (let i = 0; i < this.symbols.length; i++) {
      const orders = [...this.books[i].values()];
      const fragments = Math.max(1, Math.ceil(orders.length / perFragment));
      for (let f = 0; f < fragments; f++) {
        const part = orders.slice(f * perFragment, (f + 1) * perFragment);
        const entries: FastRecord[] = part.length === 0 ? [{ MDEntryType: 'J' }] : part.map((o) => ({
          MDEntryType: o.side, MDEntryID: String(o.id), MDEntryPx: priceDecimal(o.price), MDEntrySize: { mantissa: o.size, exponent: 0 },
        }));
        this.encoder.resetDictionaries();
        const message = this.encoder.encode(`W-OLS-${this.market}`, {
          MsgSeqNum: seq, SendingTime: 20170301101500000n, LastMsgSeqNumProcessed: this.msgSeqNum, RptSeq: this.rptSeq[i],
          LastFragment: f === fragments - 1 ? 1 : 0, RouteFirst: f === 0 ? 1 : 0, TradingSessionID: this.session, Symbol: this.symbols[i],
          GroupMDEntries: entries,
        });
        const datagram = new Uint8Array(4 + message.length);
        writeMoexPacket(datagram, 0, seq++, message);
        out.push(datagram);
      }
    }
    return out;
  }

  private nextEntry(): FastRecord {
    const rng = this.rng;
    const i = rng.below(this.symbols.length);
    const book = this.books[i];
    const roll = rng.below(100);
    const rpt = ++this.rptSeq[i];
    this.entries++;
    const common = { Symbol: this.symbols[i], RptSeq: rpt, TradingSessionID: this.session, MDEntryTime: 101500000 + (this.entries % 1000) };
    if (book.size < 4 || (roll < 45 && book.size < this.steadyOrders)) {
      const side: '0' | '1' = rng.below(2) === 0 ? '0' : '1';
      const offset = (1 + rng.below(20)) * 25;
      const price = side === '0' ? this.mid[i] - offset : this.mid[i] + offset;
      const order: MoexOrder = { id: this.nextId++, side, price, size: 1 + rng.below(500) };
      book.set(order.id, order);
      return { ...common, MDUpdateAction: 0, MDEntryType: side, MDEntryID: String(order.id), MDEntryPx: priceDecimal(price), MDEntrySize: { mantissa: order.size, exponent: 0 } };
    }
    const ids = [...book.keys()];
    const order = book.get(ids[rng.below(ids.length)])!;
    if (roll < 75) {
      book.delete(order.id);
      return { ...common, MDUpdateAction: 2, MDEntryType: order.side, MDEntryID: String(order.id), MDEntryPx: priceDecimal(order.price), MDEntrySize: { mantissa: order.size, exponent: 0 } };
    }
    if (roll < 90) order.size = Math.max(1, order.size - 1 - rng.below(order.size));
    else {
      const step = (order.side === '0' ? -1 : 1) * 25 * (1 + rng.below(3));
      // Steady books stay within 20 ticks of the mid: a change that would leave them goes the other way.
      order.price += this.steadyOrders !== Infinity && Math.abs(order.price + step - this.mid[i]) > 500 ? -step : step;
    }
    return { ...common, MDUpdateAction: 1, MDEntryType: order.side, MDEntryID: String(order.id), MDEntryPx: priceDecimal(order.price), MDEntrySize: { mantissa: order.size, exponent: 0 } };
  }
}
