/**
 * Hand-offs between pipeline stages that run on different workers. Each boundary has a writer
 * (implements the interface the upstream stage already calls when fused) and a reader (an Agent
 * whose doWork() calls the downstream stage exactly as the fused call would), over one SpscRing of
 * fixed records. So fused or split, the stages run the same code; only the hop differs.
 *
 *   decoder ─ItchRecord─► book ─MarketEventRecord─► strategy ─OrderRecord─► router
 *                                            strategy ◄─RouterEventRecord─ router
 *
 * With the books sharded by stock locate (performance.stages.book.shards) the decoder writes one
 * ItchRecord ring per shard through LocateFanout, and the strategy stage reads the shards'
 * MarketEvent rings in turn (strategy-stage.ts).
 *
 * Writers publish once per packet and at endOfBatch, not per record: a publish is an Atomics store
 * to a line the reader polls, and at 20 messages a packet a store per record is 20 cache-line
 * transfers where one does. A packet's records become visible when the next packet starts or the
 * batch ends (the decoder's batch is one RX burst). When a ring is full the writer waits for space
 * (counted in `stalls`; a short spin, then sleeps on the reader's position, see claim()): losing
 * market data between two stages of our own would be silent loss, while waiting pushes back into
 * the RX ring, where drops are counted at the NIC's edge.
 */
import { readAsciiZ, writeAsciiZ } from '../common/bytes';
import { kConsumerPosI32 } from '../common/ring-layout';
import { SpscRing } from '../common/spsc-ring';
import type { Agent } from '../common/agent-runner';
import { BookEvent, BookEventHandler } from '../feed/book/book-event';
import type { ItchMessageHandler } from '../feed/feed-decoder';
import { ItchDecoder } from '../feed/itch/itch-decoder';
import { kItchLengthByCode } from '../feed/itch/itch-schema';
import { SymbolTable } from '../feed/book/symbol-table';
import type { OrderRequest, Side, OrdType, TimeInForce } from '../router/types';
import type { OrderEventKind } from './strategy';

export const kItchRecordBytes = 96;
export const kMarketEventRecordBytes = 224;
export const kOrderRecordBytes = 80;
export const kRouterEventRecordBytes = 64;
// ITCH record: f64 sequence, f64 RX time, f64 packet number, u8 length at byte 24, message from 32.
const kItchMaxMessage = kItchRecordBytes - 32;

/** Spins on a full ring this many times before sleeping until its reader moves. */
const kFullSpins = 64;
/** Longest sleep on a full ring (ms): the reader does not notify, so the writer looks again after this. */
const kFullParkMs = 0.05;

/**
 * Waits for a free record; counts how often it had to. A full ring means the reader is behind by a
 * whole ring (thousands of records, hundreds of microseconds of its work), so after a short spin the
 * writer sleeps on the reader's position word (Atomics.wait returns at once if it has moved, else
 * after kFullParkMs): with more stage threads than CPUs (sharded books on 2 cores) a spinning writer
 * would take the very CPU its reader needs to make room.
 */
function claim(ring: SpscRing, counters: { stalls: number }): void {
  if (ring.tryClaim(1) === 1) return;
  counters.stalls++;
  ring.publish();
  let spins = 0;
  while (ring.tryClaim(1) !== 1) {
    if (++spins > kFullSpins) Atomics.wait(ring.i32, kConsumerPosI32, Atomics.load(ring.i32, kConsumerPosI32), kFullParkMs);
  }
}


// ---------------------------------------------------------------- decoder -> book (raw ITCH)

/**
 * Decoder side: copies each ITCH message (<= 64 bytes) with its sequence and RX time. The bytes are
 * read through the decoder's flyweight, not the packet: with recovery a message may come from the
 * sequencer's hold buffer or a retransmission. Only the type's own length is copied.
 */
export class ItchRecordWriter implements ItchMessageHandler {
  readonly counters = { records: 0, stalls: 0, oversize: 0 };
  /** Records written and not yet published (the stage publishes them at the end of its turn). */
  pending = false;
  private lastPacket = -1;
  constructor(private readonly ring: SpscRing, private readonly rxTs: () => number, private readonly packetNo: () => number) {}

  onMessage(d: ItchDecoder, type: number, sequence: number): void {
    const m = d.messageFor(type);
    const len = kItchLengthByCode[type];
    if (m === undefined || len > kItchMaxMessage) { this.counters.oversize++; return; }
    const ring = this.ring;
    // A new packet: the previous packet's records go out with one store.
    const packet = this.packetNo();
    if (packet !== this.lastPacket) { this.lastPacket = packet; if (this.pending) ring.publish(); }
    claim(ring, this.counters);
    const off = ring.offsetOfClaimed(0);
    const f64 = ring.f64, u8 = ring.u8;
    f64[off >> 3] = sequence;
    f64[(off >> 3) + 1] = this.rxTs();
    f64[(off >> 3) + 2] = packet;
    u8[off + 24] = len;
    // A byte loop, not set(subarray()): no view object per message.
    const src = m.buffer, from = m.offset, to = off + 32;
    for (let i = 0; i < len; i++) u8[to + i] = src[from + i];
    this.pending = true;
    this.counters.records++;
  }

  endOfBatch(): void {
    if (this.pending) { this.pending = false; this.ring.publish(); }
  }
}

/**
 * Decoder side of sharded books: each message goes to the ring of the shard that owns its Stock
 * Locate (locate % shards), so a book sees its messages in feed order on one worker, and an order
 * (unique reference, one locate) never spans shards. Messages without a locate (System Event,
 * locate 0) go to shard 0 only: they touch no book, and a copy per shard would reach the strategy
 * once per shard.
 */
export class LocateFanout implements ItchMessageHandler {
  private readonly shards: number;
  constructor(readonly writers: readonly ItchRecordWriter[]) { this.shards = writers.length; }

  onMessage(d: ItchDecoder, type: number, sequence: number): void {
    const m = d.messageFor(type);
    if (m === undefined) { this.writers[0].onMessage(d, type, sequence); return; }
    const locate = (m.buffer[m.offset + 1] << 8) | m.buffer[m.offset + 2];
    this.writers[locate % this.shards].onMessage(d, type, sequence);
  }

  endOfBatch(): void {
    const w = this.writers;
    for (let i = 0; i < w.length; i++) w[i].endOfBatch();
  }

  get pending(): boolean {
    for (const w of this.writers) if (w.pending) return true;
    return false;
  }

  get stalls(): number {
    let n = 0;
    for (const w of this.writers) n += w.counters.stalls;
    return n;
  }
}

/** Book side: re-wraps each message in its own flyweights and hands it to the book builder. */
export class ItchRecordReader implements Agent {
  readonly roleName = 'itch-ring-reader';
  readonly decoder = new ItchDecoder();
  rxTsNs = 0;
  packetNo = 0;
  /** The current message's first byte in `bytes` (for filters that read raw fields). */
  messageOffset = 0;
  readonly bytes: Uint8Array;
  private readonly onRecord: (offset: number, endOfBatch: boolean) => void;

  constructor(private readonly ring: SpscRing, downstream: ItchMessageHandler, private readonly burst = 256) {
    const f64 = ring.f64, u8 = ring.u8, decoder = this.decoder;
    this.bytes = u8;
    this.onRecord = (off, endOfBatch) => {
      this.rxTsNs = f64[(off >> 3) + 1];
      this.packetNo = f64[(off >> 3) + 2];
      this.messageOffset = off + 32;
      const type = decoder.decode(u8, off + 32, u8[off + 24]);
      if (type > 0) downstream.onMessage(decoder, type, f64[off >> 3]);
      if (endOfBatch) downstream.endOfBatch();
    };
  }

  doWork(): number {
    return this.ring.read(this.onRecord, this.burst);
  }
}

// ---------------------------------------------------------------- book -> strategy (events)

const F_KIND = 0, F_LOCATE = 1, F_TS = 2, F_SEQ = 3, F_REF = 4, F_PREV = 5, F_SIDE = 6, F_PRICE = 7, F_SHARES = 8,
  F_REMAINING = 9, F_MATCH = 10, F_CROSS = 11, F_BIDP = 12, F_BIDS = 13, F_ASKP = 14, F_ASKS = 15, F_STATE = 16,
  F_RXTS = 17, F_PRINTABLE = 18, F_PAIRED = 19, F_IMB = 20, F_IMBDIR = 21, F_FAR = 22, F_NEAR = 23, F_REF_PRICE = 24,
  F_PVI = 25, F_SYMBOL_BYTE = 26 * 8, F_PACKET = 27;

export class MarketEventWriter implements BookEventHandler {
  readonly counters = { records: 0, stalls: 0 };
  /** Events written and not yet published. */
  pending = false;
  private lastPacket = -1;
  constructor(private readonly ring: SpscRing, private readonly rxTs: () => number, private readonly packetNo: () => number) {}

  onEvent(e: BookEvent): void {
    const packet = this.packetNo();
    if (packet !== this.lastPacket) { this.lastPacket = packet; if (this.pending) this.ring.publish(); }
    claim(this.ring, this.counters);
    const off = this.ring.offsetOfClaimed(0);
    const f = this.ring.f64, b = off >> 3;
    f[b + F_KIND] = e.kind; f[b + F_LOCATE] = e.stockLocate; f[b + F_TS] = e.timestamp; f[b + F_SEQ] = e.sequence;
    f[b + F_REF] = e.orderReferenceNumber; f[b + F_PREV] = e.previousOrderReferenceNumber; f[b + F_SIDE] = e.side;
    f[b + F_PRICE] = e.price; f[b + F_SHARES] = e.shares; f[b + F_REMAINING] = e.remainingShares; f[b + F_MATCH] = e.matchNumber;
    f[b + F_CROSS] = e.crossType; f[b + F_BIDP] = e.bidPrice; f[b + F_BIDS] = e.bidShares; f[b + F_ASKP] = e.askPrice;
    f[b + F_ASKS] = e.askShares; f[b + F_STATE] = e.tradingState; f[b + F_RXTS] = this.rxTs(); f[b + F_PRINTABLE] = e.printable ? 1 : 0;
    f[b + F_PAIRED] = e.pairedShares; f[b + F_IMB] = e.imbalanceShares; f[b + F_IMBDIR] = e.imbalanceDirection;
    f[b + F_FAR] = e.farPrice; f[b + F_NEAR] = e.nearPrice; f[b + F_REF_PRICE] = e.currentReferencePrice; f[b + F_PVI] = e.priceVariationIndicator;
    writeAsciiZ(this.ring.u8, off + F_SYMBOL_BYTE, 8, e.symbol);
    f[b + F_PACKET] = packet;
    this.pending = true;
    this.counters.records++;
  }

  endOfBatch(): void {
    if (this.pending) { this.pending = false; this.ring.publish(); }
  }
}

export class MarketEventReader implements Agent {
  readonly roleName = 'market-event-ring-reader';
  readonly event = new BookEvent();
  rxTsNs = 0;
  packetNo = 0;
  private readonly symbols = new SymbolTable();
  private readonly onRecord: (offset: number, endOfBatch: boolean) => void;

  constructor(private readonly ring: SpscRing, downstream: BookEventHandler, private readonly burst = 256) {
    const f = ring.f64, u8 = ring.u8, e = this.event, symbols = this.symbols;
    const rawNames: string[] = new Array<string>(65536).fill(''), names: string[] = new Array<string>(65536).fill('');
    this.onRecord = (off, endOfBatch) => {
      const b = off >> 3;
      e.kind = f[b + F_KIND]; e.stockLocate = f[b + F_LOCATE]; e.timestamp = f[b + F_TS]; e.sequence = f[b + F_SEQ];
      e.orderReferenceNumber = f[b + F_REF]; e.previousOrderReferenceNumber = f[b + F_PREV]; e.side = f[b + F_SIDE];
      e.price = f[b + F_PRICE]; e.shares = f[b + F_SHARES]; e.remainingShares = f[b + F_REMAINING]; e.matchNumber = f[b + F_MATCH];
      e.crossType = f[b + F_CROSS]; e.bidPrice = f[b + F_BIDP]; e.bidShares = f[b + F_BIDS]; e.askPrice = f[b + F_ASKP];
      e.askShares = f[b + F_ASKS]; e.tradingState = f[b + F_STATE]; e.printable = f[b + F_PRINTABLE] === 1;
      e.pairedShares = f[b + F_PAIRED]; e.imbalanceShares = f[b + F_IMB]; e.imbalanceDirection = f[b + F_IMBDIR];
      e.farPrice = f[b + F_FAR]; e.nearPrice = f[b + F_NEAR]; e.currentReferencePrice = f[b + F_REF_PRICE]; e.priceVariationIndicator = f[b + F_PVI];
      // Symbols are resolved once per locate, as in the book builder (the 8 bytes are space- or
      // NUL-padded), and the NUL padding is cut once per resolved string, not per event.
      if (u8[off + F_SYMBOL_BYTE] === 0) e.symbol = '';
      else {
        const locate = e.stockLocate, raw = symbols.resolve(locate, u8, off + F_SYMBOL_BYTE);
        if (rawNames[locate] !== raw) { rawNames[locate] = raw; names[locate] = raw.replace(/\0+$/, ''); }
        e.symbol = names[locate];
      }
      this.rxTsNs = f[b + F_RXTS];
      this.packetNo = f[b + F_PACKET];
      downstream.onEvent(e);
      if (endOfBatch) downstream.endOfBatch();
    };
  }

  doWork(): number {
    return this.ring.read(this.onRecord, this.burst);
  }
}

// ---------------------------------------------------------------- strategy -> router (orders)

/** Where a strategy's orders go: the router itself (fused) or a ring to the router's worker. */
export interface OrderSink {
  sendOrder(request: OrderRequest, mdRxTsNs: number): void;
  cancelOrder(clOrdId: string): void;
  flush(): void;
  /** Orders sent and live that have had no answer from their venue yet (router stage only). */
  awaitingAnswer?(): number;
}

const kOpNew = 1, kOpCancel = 2;
const kSides: Side[] = ['B', 'S', 'SS'];

export class OrderRecordWriter implements OrderSink {
  readonly counters = { records: 0, stalls: 0 };
  constructor(private readonly ring: SpscRing) {}

  sendOrder(r: OrderRequest, mdRxTsNs: number): void {
    this.write(kOpNew, r, '', mdRxTsNs);
  }

  cancelOrder(clOrdId: string): void {
    this.write(kOpCancel, undefined, clOrdId, 0);
  }

  flush(): void {
    this.ring.publish();
  }

  private write(op: number, r: OrderRequest | undefined, clOrdId: string, mdRxTsNs: number): void {
    claim(this.ring, this.counters);
    const off = this.ring.offsetOfClaimed(0), f = this.ring.f64, u8 = this.ring.u8, b = off >> 3;
    f[b] = op;
    f[b + 1] = r ? r.qty : 0;
    f[b + 2] = r ? r.price : 0;
    f[b + 3] = mdRxTsNs;
    f[b + 4] = r ? kSides.indexOf(r.side) : 0;
    f[b + 5] = r ? (r.ordType === 'MARKET' ? 1 : 0) | (r.tif === 'IOC' ? 2 : 0) : 0;
    writeAsciiZ(u8, off + 48, 8, r ? r.symbol : '');
    writeAsciiZ(u8, off + 56, 16, r ? r.clOrdId ?? '' : clOrdId);
    this.ring.publish();
    this.counters.records++;
  }
}

/**
 * 8-byte symbol fields -> the same string each time: an open-addressing table keyed by the field's
 * two 32-bit words, so a record costs no string once its symbol was seen. Full (4096 symbols):
 * further symbols are decoded per record.
 */
class SymbolInterner {
  private readonly lo = new Int32Array(8192);
  private readonly hi = new Int32Array(8192);
  private readonly names: (string | undefined)[] = new Array<string | undefined>(8192).fill(undefined);
  private count = 0;

  resolve(u8: Uint8Array, o: number): string {
    const lo = u8[o] | (u8[o + 1] << 8) | (u8[o + 2] << 16) | (u8[o + 3] << 24);
    const hi = u8[o + 4] | (u8[o + 5] << 8) | (u8[o + 6] << 16) | (u8[o + 7] << 24);
    let i = (Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 19) & 8191;
    for (;;) {
      const name = this.names[i];
      if (name === undefined) break;
      if (this.lo[i] === lo && this.hi[i] === hi) return name;
      i = (i + 1) & 8191;
    }
    const name = readAsciiZ(u8, o, 8);
    if (this.count < 4096) {
      this.lo[i] = lo; this.hi[i] = hi; this.names[i] = name;
      this.count++;
    }
    return name;
  }
}

export class OrderRecordReader implements Agent {
  readonly roleName = 'order-ring-reader';
  private readonly request: OrderRequest = { symbol: '', side: 'B', qty: 0, price: 0, ordType: 'LIMIT', tif: 'DAY' };
  private readonly symbols = new SymbolInterner();
  private readonly onRecord: (offset: number, endOfBatch: boolean) => void;

  constructor(private readonly ring: SpscRing, sink: OrderSink, private readonly burst = 64) {
    const f = ring.f64, u8 = ring.u8, r = this.request, symbols = this.symbols;
    this.onRecord = (off, endOfBatch) => {
      const b = off >> 3;
      // A caller's id is a string at the router's API; most orders have none (NUL first byte).
      const id = u8[off + 56] === 0 ? '' : readAsciiZ(u8, off + 56, 16);
      if (f[b] === kOpCancel) {
        sink.cancelOrder(id);
      } else {
        r.qty = f[b + 1]; r.price = f[b + 2]; r.side = kSides[f[b + 4]] ?? 'B';
        r.ordType = (f[b + 5] & 1 ? 'MARKET' : 'LIMIT') as OrdType;
        r.tif = (f[b + 5] & 2 ? 'IOC' : 'DAY') as TimeInForce;
        r.symbol = symbols.resolve(u8, off + 48);
        r.clOrdId = id || undefined;
        sink.sendOrder(r, f[b + 3]);
      }
      if (endOfBatch) sink.flush();
    };
  }

  doWork(): number {
    return this.ring.read(this.onRecord, this.burst);
  }
}

// ---------------------------------------------------------------- router -> strategy (order events)

const kEventKinds: OrderEventKind[] = ['accepted', 'rejected', 'acked', 'partially_filled', 'filled', 'cancelled', 'replaced', 'venue_reject'];

const kEventKindIndex: Record<OrderEventKind, number> = {
  accepted: 0, rejected: 1, acked: 2, partially_filled: 3, filled: 4, cancelled: 5, replaced: 6, venue_reject: 7,
};

/** Writes an order's id as NUL-padded ASCII (OrderRouter). */
export interface ClOrdIdWriter {
  writeClOrdId(parentSlot: number, b: Uint8Array, o: number, width: number): void;
}

export type OrderEventListener = (kind: OrderEventKind, clOrdId: string, qty: number, price: number, detail: string) => void;

export class RouterEventWriter {
  readonly counters = { records: 0, stalls: 0 };
  constructor(private readonly ring: SpscRing) {}

  write(kind: OrderEventKind, clOrdId: string, qty: number, price: number, detail: string): void {
    claim(this.ring, this.counters);
    const off = this.ring.offsetOfClaimed(0), f = this.ring.f64, u8 = this.ring.u8, b = off >> 3;
    f[b] = kEventKinds.indexOf(kind);
    f[b + 1] = qty;
    f[b + 2] = price;
    writeAsciiZ(u8, off + 24, 16, clOrdId);
    writeAsciiZ(u8, off + 40, 24, detail);
    this.ring.publish();
    this.counters.records++;
  }

  /** The same, the id written from the router's parent slot as bytes: no string per event. */
  writeSlot(kind: OrderEventKind, router: ClOrdIdWriter, parentSlot: number, qty: number, price: number, detail: string): void {
    claim(this.ring, this.counters);
    const off = this.ring.offsetOfClaimed(0), f = this.ring.f64, u8 = this.ring.u8, b = off >> 3;
    f[b] = kEventKindIndex[kind];
    f[b + 1] = qty;
    f[b + 2] = price;
    router.writeClOrdId(parentSlot, u8, off + 24, 16);
    writeAsciiZ(u8, off + 40, 24, detail);
    this.ring.publish();
    this.counters.records++;
  }
}

/**
 * 16-byte NUL-padded id fields -> the same string each time: a direct-mapped table keyed by the
 * field's four 32-bit words. An order's events (accepted, acked, filled ...) then cost one string
 * for the order, made once with one flat latin1 decode, instead of one per event built a character
 * at a time. A slot is overwritten by a newer id that hashes to it; that only costs a new string.
 */
class IdInterner {
  private readonly words = new Int32Array(4 * 4096);
  private readonly names: string[] = new Array<string>(4096).fill('');
  private readonly i32: Int32Array;
  private readonly bytes: Buffer;

  constructor(u8: Uint8Array) {
    this.i32 = new Int32Array(u8.buffer, u8.byteOffset, u8.byteLength >> 2);
    this.bytes = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  }

  /** `o`: a 4-byte aligned field offset. */
  resolve(o: number): string {
    const w = o >> 2, i32 = this.i32;
    const a = i32[w], b = i32[w + 1], c = i32[w + 2], d = i32[w + 3];
    if (a === 0) return '';
    const i = (Math.imul(a ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c, 0xc2b2ae35) ^ Math.imul(d, 0x27d4eb2f), 0x9e3779b1) >>> 20) & 4095;
    const k = 4 * i, words = this.words;
    if (words[k] === a && words[k + 1] === b && words[k + 2] === c && words[k + 3] === d) return this.names[i];
    let len = 0;
    while (len < 16 && this.bytes[o + len] !== 0) len++;
    const name = this.bytes.toString('latin1', o, o + len);
    words[k] = a; words[k + 1] = b; words[k + 2] = c; words[k + 3] = d;
    this.names[i] = name;
    return name;
  }
}

export class RouterEventReader implements Agent {
  readonly roleName = 'router-event-ring-reader';
  private readonly onRecord: (offset: number) => void;

  constructor(private readonly ring: SpscRing, listener: OrderEventListener, private readonly burst = 64) {
    const f = ring.f64, u8 = ring.u8, ids = new IdInterner(u8);
    this.onRecord = (off) => {
      const b = off >> 3;
      listener(kEventKinds[f[b]], ids.resolve(off + 24), f[b + 1], f[b + 2], readAsciiZ(u8, off + 40, 24));
    };
  }

  doWork(): number {
    return this.ring.read(this.onRecord, this.burst);
  }
}
