/**
 * Synthetic NASDAQ TotalView-ITCH 5.0 session over MoldUDP64, written to a pcap file.
 *
 * The session opens like a real one: System Event 'O' (start of messages), a Stock Directory 'R'
 * and a Stock Trading Action 'H' (trading) per symbol, System Events 'S' (start of system hours)
 * and 'Q' (start of market hours). Then an order flow shaped like a NASDAQ day: per symbol a
 * random-walk mid price on a tick grid and limit orders around it (buys below, sells above, most
 * at and near the touch, a thinning tail 20 levels deep, round lots). About half the messages are
 * adds; deletes and partial cancels (mostly of recent orders: most orders live briefly) make most
 * of the rest; then replaces, executions and non-displayed trades 'P'. An order priced at or
 * through the other side's touch (a deliberate marketable order, or a limit order the mid has
 * walked through) executes against resting orders best price first, oldest first (one 'E', or
 * sometimes 'C', per order hit), and only its remainder rests as an 'A'; the mid then moves to
 * where it traded. Replaces never cross. So no book is crossed or locked at the end of any
 * message. References are unique and sequential (1, 2, 3... over adds and replaces, like NASDAQ's
 * day-long counter). It closes with System Events 'M' and 'E' and a MoldUDP64 end-of-session
 * packet. Every reference the flow uses is to an order still open, so a book builder sees no
 * unknown order, over-execution or over-cancel.
 *
 * Message k (0-based) is stamped at k / rate seconds of capture time; the total is rate x duration
 * (never fewer than the opening and closing messages). Consecutive messages share a packet up to
 * `maxMessagesPerPacket`, `maxPayloadBytes` and a `flushMicros` window after the packet's first
 * message. Sequence numbers run contiguously from 1.
 *
 * Allocation happens at construction only: open orders live in typed arrays (one slab per symbol,
 * swap-remove), messages are encoded by ItchEncoder's typed writers straight into the pcap chunk,
 * and the same seed gives the same bytes.
 *
 * The same messages are available in memory (`forEachMessage`, `messages`) for recovery tests and
 * the re-request server's journal, with `packetize`, `heartbeatPacket` and `endOfSessionPacket`
 * below to frame any message list as MoldUDP64. One session per generator: the order flow's state
 * moves on as messages are encoded, so `write`, `writePcap`, `forEachMessage` and `messages` are
 * each meant to be called once on a fresh generator.
 */
import { invalidOption } from '../errors';
import { ItchEncoder, stockBytes, stockDirectoryValues } from '../feed/itch/itch-encoder';
import { MoldUdp64Encoder } from '../feed/wire/moldudp64-encoder';
import { kMoldUdp64HeaderLength } from '../feed/wire/moldudp64-packet';
import { parseIpv4Address } from '../feed/wire/udp-frame-parser';
import { UdpFrameWriter } from '../feed/wire/udp-frame-writer';
import { PcapFileWriter } from '../feed/pcap/pcap-file-writer';
import { Prng } from './prng';

export interface SessionGeneratorOptions {
  /** Symbols (stock locates 1..symbols). */
  symbols: number;
  /** Messages per second of capture time. */
  rate: number;
  /** Seconds of capture time. */
  durationSeconds: number;
  seed?: number;
  group?: string;
  port?: number;
  sourceAddress?: string;
  sourcePort?: number;
  session?: string;
  maxMessagesPerPacket?: number;
  /** Largest UDP payload (MoldUDP64 header + blocks), default 1400. */
  maxPayloadBytes?: number;
  /** A packet is sent at most this long after its first message was due (default 1000 us). */
  flushMicros?: number;
  /** Capture time of the first message, seconds since the epoch (default 2024-01-02 09:30 ET). */
  startEpochSeconds?: number;
  /** Open orders kept per symbol at most (default 512). */
  maxOrdersPerSymbol?: number;
}

/** A MoldUDP64 packet of an in-memory session (see `packetize`). */
export interface MoldPacket {
  sequenceNumber: number;
  messageCount: number;
  payload: Uint8Array;
}

/** Receives message `sequence` at b[0, length); the bytes are overwritten by the next message. */
export type SessionMessageSink = (sequence: number, b: Uint8Array, length: number) => void;

export interface SessionSummary {
  messages: number;
  packets: number;
  bytes: number;
  symbols: number;
  firstSequence: number;
  lastSequence: number;
  /** Messages by ITCH type character. */
  byType: Record<string, number>;
  /** Capture time from the first to the last message, seconds. */
  spanSeconds: number;
}

const kDefaultStartEpoch = 1704205800; // 2024-01-02 14:30:00 UTC = 09:30 New York
const kNanosPerSecond = 1e9;
const kItchStartNanos = 34200 * kNanosPerSecond; // ITCH timestamps: ns since midnight, 09:30
const kTick = 100; // Price(4) units: $0.01
const kMaxItchMessage = 50;
const kBuy = 1;
const kSell = 2;

const kAdd = 0, kCancel = 1, kDelete = 2, kReplace = 3, kExecute = 4, kTrade = 5;
const kQueuedExecution = 0, kQueuedExecutionWithPrice = 1, kQueuedAdd = 2;
/** Resting orders one marketable order may execute against; the rest of it is cancelled. */
const kMaxExecutionsPerOrder = 8;
/** The mid moves a tick up or down on 2 of this many order-flow messages of its symbol. */
const kMidStepOdds = 100;
/** Touch prices (Price(4)): no bid, no ask, not known (recomputed from the slab on next use). */
const kNoBid = 0;
const kNoAsk = 0xffffffff;
const kUnknown = -1;

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidOption('SessionGenerator', name, v, `an integer from ${min} to ${max}`);
  }
  return v;
}

function checkPositive(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) {
    throw invalidOption('SessionGenerator', name, v, `a number > 0 and <= ${max}`);
  }
  return v;
}

/** Deterministic 1-4 letter ticker for symbol index i (distinct for i < 26^4 - 26^3). */
export function syntheticTicker(i: number): string {
  let n = i + 26 * 26 * 26; // four letters, so names sort like their locates
  let s = '';
  while (n > 0) { s = String.fromCharCode(65 + (n % 26)) + s; n = Math.floor(n / 26); }
  return s.slice(-4);
}

export class SessionGenerator {
  readonly options: Required<SessionGeneratorOptions>;
  private readonly prng: Prng;
  private readonly itch = new ItchEncoder();
  private readonly mold: MoldUdp64Encoder;
  private readonly frames: UdpFrameWriter;
  private readonly stocks: Uint8Array[] = [];
  // Per symbol: mid in ticks, open-order count; per order slot (symbol * cap + i): ref, side, shares, price.
  private readonly mid: Int32Array;
  private readonly openCount: Int32Array;
  private readonly refs: Float64Array;
  private readonly sides: Uint8Array;
  private readonly shares: Uint32Array;
  private readonly prices: Uint32Array;
  // Per symbol: best bid and ask (Price(4)), kUnknown after the touch left.
  private readonly bid: Float64Array;
  private readonly ask: Float64Array;
  // Messages of one marketable order (executions, then its remainder as an add), emitted in order.
  private readonly qKind = new Uint8Array(kMaxExecutionsPerOrder + 1);
  private readonly qLocate = new Uint16Array(kMaxExecutionsPerOrder + 1);
  private readonly qRef = new Float64Array(kMaxExecutionsPerOrder + 1);
  private readonly qShares = new Uint32Array(kMaxExecutionsPerOrder + 1);
  private readonly qPrice = new Uint32Array(kMaxExecutionsPerOrder + 1);
  private readonly qSide = new Uint8Array(kMaxExecutionsPerOrder + 1);
  private readonly qMatch = new Float64Array(kMaxExecutionsPerOrder + 1);
  private queued = 0;
  private queueHead = 0;
  private readonly byType = new Float64Array(128);
  private readonly scratch = new Uint8Array(64);
  private nextRef = 1;
  private nextMatch = 1;

  constructor(options: SessionGeneratorOptions) {
    const o: Required<SessionGeneratorOptions> = {
      seed: 1, group: '233.54.12.111', port: 26477, sourceAddress: '10.1.1.1', sourcePort: 26400,
      session: 'TICKPATH01', maxMessagesPerPacket: 20, maxPayloadBytes: 1400, flushMicros: 1000,
      startEpochSeconds: kDefaultStartEpoch, maxOrdersPerSymbol: 512, ...options,
    };
    checkInt('symbols', o.symbols, 1, 65535);
    checkPositive('rate', o.rate, 1e9);
    checkPositive('durationSeconds', o.durationSeconds, 86400);
    checkInt('seed', o.seed, 0, 0xffffffff);
    checkInt('maxMessagesPerPacket', o.maxMessagesPerPacket, 1, 65534);
    checkInt('maxPayloadBytes', o.maxPayloadBytes, 20 + 2 + kMaxItchMessage, 65507);
    checkPositive('flushMicros', o.flushMicros, 1e9);
    checkInt('startEpochSeconds', o.startEpochSeconds, 0, 0xffffffff);
    checkInt('maxOrdersPerSymbol', o.maxOrdersPerSymbol, 16, 65536);
    if (parseIpv4Address(o.group) === undefined) throw invalidOption('SessionGenerator', 'group', o.group, 'a dotted-quad IPv4 address');
    this.options = o;
    this.prng = new Prng(o.seed);
    this.mold = new MoldUdp64Encoder(o.session);
    this.frames = new UdpFrameWriter({ sourceAddress: o.sourceAddress, destinationAddress: o.group, sourcePort: o.sourcePort, destinationPort: o.port });
    const cap = o.maxOrdersPerSymbol;
    this.mid = new Int32Array(o.symbols);
    this.openCount = new Int32Array(o.symbols);
    this.refs = new Float64Array(o.symbols * cap);
    this.sides = new Uint8Array(o.symbols * cap);
    this.shares = new Uint32Array(o.symbols * cap);
    this.prices = new Uint32Array(o.symbols * cap);
    this.bid = new Float64Array(o.symbols).fill(kNoBid);
    this.ask = new Float64Array(o.symbols).fill(kNoAsk);
    for (let s = 0; s < o.symbols; s++) {
      this.stocks.push(stockBytes(syntheticTicker(s)));
      this.mid[s] = 500 + this.prng.below(50000); // $5 .. $505 in ticks
    }
  }

  /** Total messages this session will hold. */
  get messageCount(): number {
    const o = this.options;
    return Math.max(Math.round(o.rate * o.durationSeconds), this.openingCount + 2);
  }

  private get openingCount(): number {
    return 1 + 2 * this.options.symbols + 2;
  }

  /**
   * Hands every message of the session to `sink` in sequence order (1..messageCount), without
   * MoldUDP64 or pcap framing: the bytes `write` would put in its packets. Returns the count.
   */
  forEachMessage(sink: SessionMessageSink): number {
    const total = this.messageCount;
    const nanosPerMessage = kNanosPerSecond / this.options.rate;
    const m = this.scratch;
    this.byType.fill(0);
    for (let k = 0; k < total; k++) sink(k + 1, m, this.encodeMessage(m, k, total, kItchStartNanos + Math.round(k * nanosPerMessage)));
    return total;
  }

  /** The session's messages, one array each (index i is sequence i + 1): tests and tools only. */
  messages(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.forEachMessage((_sequence, b, length) => { out.push(b.slice(0, length)); });
    return out;
  }

  /** Writes the whole session to `file`; returns what was written. `onProgress(messages, total)` now and then (progress bars). */
  writePcap(file: string, onProgress?: (messages: number, total: number) => void): SessionSummary {
    const writer = new PcapFileWriter(file);
    try {
      const summary = this.write(writer, onProgress);
      writer.close();
      summary.bytes = writer.bytes;
      return summary;
    } finally {
      writer.close();
    }
  }

  /** Writes the session into an open writer. */
  write(writer: PcapFileWriter, onProgress?: (messages: number, total: number) => void): SessionSummary {
    const o = this.options;
    const total = this.messageCount;
    const nanosPerMessage = kNanosPerSecond / o.rate;
    const flushNanos = o.flushMicros * 1000;
    const headerLength = this.frames.headerLength;
    const maxFrame = headerLength + o.maxPayloadBytes;
    const mold = this.mold;
    this.byType.fill(0);
    let packets = 0;
    let k = 0;
    let lastNs = 0;
    while (k < total) {
      // One packet: messages k.. while they fit, are due within the flush window, and the count allows.
      const frameAt = writer.reserve(maxFrame);
      const b = writer.chunk;
      const payloadAt = frameAt + headerLength;
      const firstNs = Math.round(k * nanosPerMessage);
      mold.begin(b, payloadAt, k + 1);
      let packetNs = firstNs;
      while (k < total && mold.messageCount < o.maxMessagesPerPacket) {
        const dueNs = Math.round(k * nanosPerMessage);
        if (mold.messageCount > 0 && dueNs - firstNs > flushNanos) break;
        if (mold.lengthWith(kMaxItchMessage) > o.maxPayloadBytes) break;
        // Encode into the scratch first: the block's length prefix must be known before its bytes.
        const m = this.scratch;
        const len = this.encodeMessage(m, k, total, kItchStartNanos + dueNs);
        const at = mold.appendMessage(len);
        for (let i = 0; i < len; i++) b[at + i] = m[i];
        packetNs = dueNs;
        k++;
      }
      const payload = mold.finish();
      const frameLength = this.frames.write(b, frameAt, payload);
      const t = o.startEpochSeconds * kNanosPerSecond + packetNs;
      writer.commit(frameLength, Math.floor(t / kNanosPerSecond), t % kNanosPerSecond);
      packets++;
      lastNs = packetNs;
      if (onProgress !== undefined && (packets & 4095) === 0) onProgress(k, total);
    }
    // End of session: a MoldUDP64 packet with count 0xFFFF carrying the next sequence number.
    const frameAt = writer.reserve(headerLength + 20);
    const payload = mold.endOfSession(writer.chunk, frameAt + headerLength, total + 1);
    const frameLength = this.frames.write(writer.chunk, frameAt, payload);
    const t = o.startEpochSeconds * kNanosPerSecond + lastNs;
    writer.commit(frameLength, Math.floor(t / kNanosPerSecond), t % kNanosPerSecond);
    packets++;
    const byType: Record<string, number> = {};
    this.byType.forEach((n, code) => { if (n > 0) byType[String.fromCharCode(code)] = n; });
    return {
      messages: total, packets, bytes: writer.bytes, symbols: o.symbols, firstSequence: 1, lastSequence: total, byType,
      spanSeconds: Math.round((total - 1) * nanosPerMessage) / kNanosPerSecond,
    };
  }

  /** Message k (0-based) of a session of `total` at ITCH time `ts`, encoded at m[0]; returns its length. */
  private encodeMessage(m: Uint8Array, k: number, total: number, ts: number): number {
    const symbols = this.options.symbols;
    let len: number;
    if (k === 0) len = this.systemEvent(m, 0, ts, 'O');
    else if (k <= symbols) len = this.stockDirectory(m, 0, ts, k - 1);
    else if (k <= 2 * symbols) len = this.tradingAction(m, 0, ts, k - 1 - symbols);
    else if (k === 2 * symbols + 1) len = this.systemEvent(m, 0, ts, 'S');
    else if (k === 2 * symbols + 2) len = this.systemEvent(m, 0, ts, 'Q');
    else if (k === total - 2) len = this.systemEvent(m, 0, ts, 'M');
    else if (k === total - 1) len = this.systemEvent(m, 0, ts, 'E');
    else len = this.orderFlow(m, 0, ts);
    this.byType[m[0]]++;
    return len;
  }

  private systemEvent(b: Uint8Array, at: number, ts: number, code: string): number {
    return this.itch.encode(b, at, 'S', { timestamp: ts, eventCode: code });
  }

  private stockDirectory(b: Uint8Array, at: number, ts: number, s: number): number {
    return this.itch.encode(b, at, 'R', stockDirectoryValues(s + 1, syntheticTicker(s), ts));
  }

  private tradingAction(b: Uint8Array, at: number, ts: number, s: number): number {
    return this.itch.encode(b, at, 'H', { stockLocate: s + 1, timestamp: ts, stock: syntheticTicker(s), tradingState: 'T', reserved: ' ', reason: '' });
  }

  /** One order-flow message: the next queued execution or add, or a new event for a symbol picked with a skew (low locates are busier). */
  private orderFlow(b: Uint8Array, at: number, ts: number): number {
    if (this.queued > this.queueHead) return this.emitQueued(b, at, ts);
    this.queued = this.queueHead = 0;
    const rng = this.prng;
    const symbols = this.options.symbols;
    const u = rng.nextFloat();
    const s = Math.min(symbols - 1, Math.floor(symbols * u * u));
    // Random walk of the mid: one tick up or down on one message in fifty. Resting orders stay
    // where they are; new orders priced through them execute against them (see `aggress`).
    const step = rng.below(kMidStepOdds);
    if (step === 0) this.mid[s]++;
    else if (step === 1 && this.mid[s] > 20) this.mid[s]--;
    const open = this.openCount[s];
    const cap = this.options.maxOrdersPerSymbol;
    let action = kAdd;
    if (open >= cap) action = kDelete;
    else if (open >= 8) {
      // Per mille, NASDAQ-like: adds about half, deletes and cancels most of the rest, replaces,
      // marketable orders (executions, and their leftovers as adds), hidden trades.
      const r = rng.below(1000);
      action = r < 490 ? kAdd : r < 530 ? kCancel : r < 900 ? kDelete : r < 960 ? kReplace : r < 975 ? kExecute : r < 990 ? kAdd : kTrade;
    }
    const locate = s + 1;
    const itch = this.itch;
    switch (action) {
      case kAdd: {
        const side = rng.below(2) === 0 ? kBuy : kSell;
        const price = this.priceNear(s, side);
        const qty = this.lotSize();
        if (side === kBuy ? price >= this.bestAsk(s) : price <= this.bestBid(s)) return this.aggress(b, at, ts, s, side, price, qty);
        return this.rest(b, at, ts, s, side, price, qty);
      }
      case kCancel: {
        const slot = this.pickRecent(s);
        const qty = this.shares[slot];
        if (qty < 2) return this.remove(b, at, locate, ts, s, slot);
        const cancelled = qty >= 200 ? 100 * (1 + rng.below(Math.floor(qty / 100) - 1)) : 1 + rng.below(qty - 1);
        this.shares[slot] = qty - cancelled;
        return itch.orderCancel(b, at, locate, 0, ts, this.refs[slot], cancelled);
      }
      case kDelete:
        return this.remove(b, at, locate, ts, s, open >= cap ? s * cap + rng.below(open) : this.pickRecent(s));
      case kReplace: {
        const slot = this.pickRecent(s);
        const side = this.sides[slot];
        const original = this.refs[slot];
        const oldPrice = this.prices[slot];
        this.drop(s, slot, true);
        // The new price never crosses or locks the other side: a replace is not an execution.
        let price = this.priceNear(s, side);
        if (side === kBuy && price >= this.bestAsk(s)) price = this.bestAsk(s) - kTick;
        if (side === kSell && price <= this.bestBid(s)) price = this.bestBid(s) + kTick;
        if (price < kTick) price = oldPrice < this.bestAsk(s) ? oldPrice : kTick; // an ask at the minimum tick
        const ref = this.nextRef++;
        const qty = this.lotSize();
        this.append(s, ref, side, qty, price);
        return itch.orderReplace(b, at, locate, 0, ts, original, ref, qty, price);
      }
      case kExecute: {
        // A marketable order at the opposite touch, sometimes a tick or two through it.
        const side = rng.below(2) === 0 ? kBuy : kSell;
        const touch = side === kBuy ? this.bestAsk(s) : this.bestBid(s);
        const through = rng.below(4) === 0 ? 1 + rng.below(2) : 0;
        const qty = this.lotSize();
        if (side === kBuy && touch !== kNoAsk) return this.aggress(b, at, ts, s, side, touch + through * kTick, qty);
        if (side === kSell && touch !== kNoBid) return this.aggress(b, at, ts, s, side, Math.max(kTick, touch - through * kTick), qty);
        return this.rest(b, at, ts, s, side, this.priceNear(s, side), qty);
      }
      default: {
        // Non-displayed execution: a trade against a hidden order (reference 0 on the real feed), inside the spread.
        const buy = rng.below(2) === 0;
        const bid = this.bestBid(s);
        const ask = this.bestAsk(s);
        const price = bid !== kNoBid && ask !== kNoAsk ? bid + Math.floor((ask - bid) / 2 / kTick) * kTick : this.mid[s] * kTick;
        return itch.trade(b, at, locate, 0, ts, 0, buy, this.lotSize(), this.stocks[s], price, this.nextMatch++);
      }
    }
  }

  /** A non-marketable add: rests on the book. */
  private rest(b: Uint8Array, at: number, ts: number, s: number, side: number, price: number, qty: number): number {
    const ref = this.nextRef++;
    this.append(s, ref, side, qty, price);
    return this.itch.addOrder(b, at, s + 1, 0, ts, ref, side === kBuy, qty, this.stocks[s], price);
  }

  /**
   * A marketable order (buy at or above the best ask, sell at or below the best bid): executes
   * against resting orders best price first, oldest first at a price (one E or C each), and what is
   * left rests at its limit, which by then no longer crosses. The messages are queued and this
   * returns the first; the book state moves on at once (nothing else is generated until the queue
   * drains, so every prefix of the queue leaves the book uncrossed).
   */
  private aggress(b: Uint8Array, at: number, ts: number, s: number, side: number, limit: number, qty: number): number {
    const other = side === kBuy ? kSell : kBuy;
    let left = qty;
    let lastPrice = limit;
    while (left > 0 && this.queued < kMaxExecutionsPerOrder) {
      const touch = other === kSell ? this.bestAsk(s) : this.bestBid(s);
      if (other === kSell ? (touch === kNoAsk || touch > limit) : (touch === kNoBid || touch < limit)) break;
      const slot = this.oldestAt(s, other, touch);
      const open = this.shares[slot];
      const executed = open < left ? open : left;
      const q = this.queued++;
      this.qKind[q] = this.prng.below(20) === 0 ? kQueuedExecutionWithPrice : kQueuedExecution;
      this.qLocate[q] = s + 1; this.qRef[q] = this.refs[slot]; this.qShares[q] = executed; this.qPrice[q] = touch;
      this.qSide[q] = other; this.qMatch[q] = this.nextMatch++;
      left -= executed;
      lastPrice = touch;
      if (executed === open) this.drop(s, slot, true); else this.shares[slot] = open - executed;
    }
    // The remainder rests only if the opposite side no longer reaches the limit (it may not, when the
    // order ran out of executions first) and the symbol has room: otherwise it is cancelled unseen (IOC).
    const crosses = side === kBuy ? this.bestAsk(s) <= limit : this.bestBid(s) >= limit;
    if (left > 0 && !crosses && this.openCount[s] < this.options.maxOrdersPerSymbol) {
      const q = this.queued++;
      const ref = this.nextRef++;
      this.qKind[q] = kQueuedAdd; this.qLocate[q] = s + 1; this.qRef[q] = ref; this.qShares[q] = left;
      this.qPrice[q] = limit; this.qSide[q] = side;
      this.append(s, ref, side, left, limit);
    }
    // Price discovery: the mid moves to where the order traded (or now rests), so the next orders
    // are priced around the new touch instead of through it.
    this.mid[s] = Math.max(20, Math.round(lastPrice / kTick));
    if (this.queued === 0) return this.rest(b, at, ts, s, side === kBuy ? kSell : kBuy, limit, qty); // unreachable in practice: the touch was there
    return this.emitQueued(b, at, ts);
  }

  private emitQueued(b: Uint8Array, at: number, ts: number): number {
    const q = this.queueHead++;
    const locate = this.qLocate[q];
    switch (this.qKind[q]) {
      case kQueuedExecution: return this.itch.orderExecuted(b, at, locate, 0, ts, this.qRef[q], this.qShares[q], this.qMatch[q]);
      case kQueuedExecutionWithPrice:
        return this.itch.orderExecutedWithPrice(b, at, locate, 0, ts, this.qRef[q], this.qShares[q], this.qMatch[q], true, this.qPrice[q]);
      default:
        return this.itch.addOrder(b, at, locate, 0, ts, this.qRef[q], this.qSide[q] === kBuy, this.qShares[q], this.stocks[locate - 1], this.qPrice[q]);
    }
  }

  private remove(b: Uint8Array, at: number, locate: number, ts: number, s: number, slot: number): number {
    const ref = this.refs[slot];
    this.drop(s, slot, true);
    return this.itch.orderDelete(b, at, locate, 0, ts, ref);
  }

  /** Add an order to symbol s's slab (the caller checked there is room) and to its touch. */
  private append(s: number, ref: number, side: number, qty: number, price: number): void {
    const slot = s * this.options.maxOrdersPerSymbol + this.openCount[s]++;
    this.refs[slot] = ref; this.sides[slot] = side; this.shares[slot] = qty; this.prices[slot] = price;
    if (side === kBuy) { if (this.bid[s] !== kUnknown && price > this.bid[s]) this.bid[s] = price; } else if (this.ask[s] !== kUnknown && price < this.ask[s]) this.ask[s] = price;
  }

  /** Swap-remove the order in `slot` from symbol s's slab; `touch`: it left the book (not a move), so the touch may change. */
  private drop(s: number, slot: number, touch: boolean): void {
    if (touch) {
      if (this.sides[slot] === kBuy) { if (this.prices[slot] === this.bid[s]) this.bid[s] = kUnknown; } else if (this.prices[slot] === this.ask[s]) this.ask[s] = kUnknown;
    }
    const last = s * this.options.maxOrdersPerSymbol + --this.openCount[s];
    this.refs[slot] = this.refs[last]; this.sides[slot] = this.sides[last];
    this.shares[slot] = this.shares[last]; this.prices[slot] = this.prices[last];
  }

  /** Best bid of symbol s (Price(4)), kNoBid when none; recomputed from the slab after the touch left. */
  private bestBid(s: number): number {
    if (this.bid[s] === kUnknown) this.scanTouch(s);
    return this.bid[s];
  }

  private bestAsk(s: number): number {
    if (this.ask[s] === kUnknown) this.scanTouch(s);
    return this.ask[s];
  }

  private scanTouch(s: number): void {
    const from = s * this.options.maxOrdersPerSymbol;
    let bid = kNoBid, ask = kNoAsk;
    for (let i = from; i < from + this.openCount[s]; i++) {
      const p = this.prices[i];
      if (this.sides[i] === kBuy) { if (p > bid) bid = p; } else if (p < ask) ask = p;
    }
    this.bid[s] = bid;
    this.ask[s] = ask;
  }

  /** The oldest (lowest reference) order of `side` at `price` in symbol s: time priority. */
  private oldestAt(s: number, side: number, price: number): number {
    const from = s * this.options.maxOrdersPerSymbol;
    let best = -1;
    for (let i = from; i < from + this.openCount[s]; i++) {
      if (this.sides[i] === side && this.prices[i] === price && (best < 0 || this.refs[i] < this.refs[best])) best = i;
    }
    return best;
  }

  /** An open order of symbol s, recent ones likelier: most orders are cancelled soon after they are sent. */
  private pickRecent(s: number): number {
    const open = this.openCount[s];
    const u = this.prng.nextFloat();
    return s * this.options.maxOrdersPerSymbol + open - 1 - Math.floor(open * u * u * u);
  }

  /**
   * A limit price for a new order: buys at or below one tick under the mid, sells above. Most join
   * the first few levels, the rest spread over 20 levels, so depth is shaped like a NASDAQ book
   * (the most orders at and near the touch, a thinning tail). A mid that moved through resting
   * orders makes some of these prices marketable; the caller executes them.
   */
  private priceNear(s: number, side: number): number {
    const u = this.prng.nextFloat();
    const levels = Math.floor(20 * u * u * u);
    const ticks = side === kBuy ? this.mid[s] - 1 - levels : this.mid[s] + 1 + levels;
    return (ticks < 1 ? 1 : ticks) * kTick;
  }

  /** Mostly round lots of 100..1000, sometimes an odd lot. */
  private lotSize(): number {
    const r = this.prng.below(10);
    return r === 0 ? 1 + this.prng.below(99) : 100 * (1 + this.prng.below(10));
  }
}

/**
 * MoldUDP64 packets carrying `messages` (index i = sequence firstSequence + i), at most
 * `maxMessagesPerPacket` each and at most `maxPacketSize` bytes (a longer single message still gets
 * its own packet). Unlike `write`, packing ignores time: recovery tests count on full packets.
 */
export function packetize(messages: readonly Uint8Array[], session: string, firstSequence = 1,
  maxMessagesPerPacket = 8, maxPacketSize = 1400): MoldPacket[] {
  const mold = new MoldUdp64Encoder(session);
  const scratch = new Uint8Array(Math.max(maxPacketSize, 64 * 1024));
  const out: MoldPacket[] = [];
  let i = 0;
  while (i < messages.length) {
    mold.begin(scratch, 0, firstSequence + i);
    while (i < messages.length && mold.messageCount < maxMessagesPerPacket
      && (mold.messageCount === 0 || mold.lengthWith(messages[i].length) <= maxPacketSize)) {
      scratch.set(messages[i], mold.appendMessage(messages[i].length));
      i++;
    }
    const count = mold.messageCount;
    const n = mold.finish();
    out.push({ sequenceNumber: firstSequence + i - count, messageCount: count, payload: scratch.slice(0, n) });
  }
  return out;
}

/** A MoldUDP64 heartbeat (count 0) announcing `nextSequence`. */
export function heartbeatPacket(session: string, nextSequence: number): Uint8Array {
  const b = new Uint8Array(kMoldUdp64HeaderLength);
  new MoldUdp64Encoder(session).heartbeat(b, 0, nextSequence);
  return b;
}

/** A MoldUDP64 end-of-session packet announcing `nextSequence`. */
export function endOfSessionPacket(session: string, nextSequence: number): Uint8Array {
  const b = new Uint8Array(kMoldUdp64HeaderLength);
  new MoldUdp64Encoder(session).endOfSession(b, 0, nextSequence);
  return b;
}
