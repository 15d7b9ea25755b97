/**
 * Synthetic NASDAQ TotalView-ITCH 5.0 session over MoldUDP64, written to a pcap file.
 *
 * The session opens like a real one: System Event 'O' (start of messages), a Stock Directory 'R'
 * and a Stock Trading Action 'H' (trading) per symbol, System Events 'S' (start of system hours)
 * and 'Q' (start of market hours). Then an order flow: per symbol a random-walk mid price on a
 * tick grid, adds around it (buy below, sell above, a few levels deep, round lots), partial
 * cancels, deletes, replaces, executions of resting orders (some with price) and non-displayed
 * trades 'P'. It closes with System Events 'M' and 'E' and a MoldUDP64 end-of-session packet.
 * Every reference the flow uses is to an order still open, so a book builder sees no unknown
 * order, over-execution or over-cancel.
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

  /** One order-flow message for a symbol picked with a skew (low locates are busier). */
  private orderFlow(b: Uint8Array, at: number, ts: number): number {
    const rng = this.prng;
    const symbols = this.options.symbols;
    const u = rng.nextFloat();
    const s = Math.min(symbols - 1, Math.floor(symbols * u * u));
    // Random walk of the mid: one tick up or down on about one message in ten.
    const step = rng.below(20);
    if (step === 0) this.mid[s]++;
    else if (step === 1 && this.mid[s] > 20) this.mid[s]--;
    const open = this.openCount[s];
    const cap = this.options.maxOrdersPerSymbol;
    let action = kAdd;
    if (open >= cap) action = kDelete;
    else if (open >= 8) {
      const r = rng.below(100);
      action = r < 40 ? kAdd : r < 50 ? kCancel : r < 72 ? kDelete : r < 84 ? kReplace : r < 97 ? kExecute : kTrade;
    }
    const locate = s + 1;
    const itch = this.itch;
    switch (action) {
      case kAdd: {
        const side = rng.below(2) === 0 ? kBuy : kSell;
        const price = this.priceNear(s, side);
        const qty = this.lotSize();
        const ref = this.nextRef++;
        const slot = s * cap + open;
        this.refs[slot] = ref; this.sides[slot] = side; this.shares[slot] = qty; this.prices[slot] = price;
        this.openCount[s] = open + 1;
        return itch.addOrder(b, at, locate, 0, ts, ref, side === kBuy, qty, this.stocks[s], price);
      }
      case kCancel: {
        const slot = s * cap + rng.below(open);
        const qty = this.shares[slot];
        if (qty < 2) return this.remove(b, at, locate, ts, s, slot);
        const cancelled = qty >= 200 ? 100 * (1 + rng.below(Math.floor(qty / 100) - 1)) : 1 + rng.below(qty - 1);
        this.shares[slot] = qty - cancelled;
        return itch.orderCancel(b, at, locate, 0, ts, this.refs[slot], cancelled);
      }
      case kDelete:
        return this.remove(b, at, locate, ts, s, s * cap + rng.below(open));
      case kReplace: {
        const slot = s * cap + rng.below(open);
        const ref = this.nextRef++;
        const original = this.refs[slot];
        const price = this.priceNear(s, this.sides[slot]);
        const qty = this.lotSize();
        this.refs[slot] = ref; this.shares[slot] = qty; this.prices[slot] = price;
        return itch.orderReplace(b, at, locate, 0, ts, original, ref, qty, price);
      }
      case kExecute: {
        // The most aggressive of three sampled orders: executions hit the top of the book.
        let slot = s * cap + rng.below(open);
        for (let i = 0; i < 2; i++) {
          const other = s * cap + rng.below(open);
          if (this.distance(s, other) < this.distance(s, slot)) slot = other;
        }
        const qty = this.shares[slot];
        const executed = qty > 100 && rng.below(2) === 0 ? 100 * (1 + rng.below(Math.max(1, Math.floor(qty / 100) - 1))) : qty;
        const match = this.nextMatch++;
        const ref = this.refs[slot];
        const price = this.prices[slot];
        const withPrice = rng.below(20) === 0;
        if (executed >= qty) this.drop(s, slot); else this.shares[slot] = qty - executed;
        return withPrice
          ? itch.orderExecutedWithPrice(b, at, locate, 0, ts, ref, executed, match, true, price)
          : itch.orderExecuted(b, at, locate, 0, ts, ref, executed, match);
      }
      default: {
        // Non-displayed execution: a trade against a hidden order (reference 0 on the real feed).
        const buy = rng.below(2) === 0;
        return itch.trade(b, at, locate, 0, ts, 0, buy, this.lotSize(), this.stocks[s], this.mid[s] * kTick, this.nextMatch++);
      }
    }
  }

  private remove(b: Uint8Array, at: number, locate: number, ts: number, s: number, slot: number): number {
    const ref = this.refs[slot];
    this.drop(s, slot);
    return this.itch.orderDelete(b, at, locate, 0, ts, ref);
  }

  /** Swap-remove the order in `slot` from symbol s's slab. */
  private drop(s: number, slot: number): void {
    const last = s * this.options.maxOrdersPerSymbol + --this.openCount[s];
    this.refs[slot] = this.refs[last]; this.sides[slot] = this.sides[last];
    this.shares[slot] = this.shares[last]; this.prices[slot] = this.prices[last];
  }

  private distance(s: number, slot: number): number {
    const d = this.prices[slot] - this.mid[s] * kTick;
    return d < 0 ? -d : d;
  }

  /** Buys 1..10 ticks below the mid, sells above; nearer levels are likelier. */
  private priceNear(s: number, side: number): number {
    const u = this.prng.nextFloat();
    const levels = 1 + Math.floor(10 * u * u);
    const ticks = side === kBuy ? this.mid[s] - levels : this.mid[s] + levels;
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
