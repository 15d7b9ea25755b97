/**
 * FeedReceiver: packets in, ITCH messages out in sequence, on the calling thread. The front half of
 * FeedHandler, and the whole of a decoder stage that runs on its own worker (its messages then go
 * to a ring instead of the books), so the two layouts sequence and recover the feed with one piece
 * of code:
 *
 *   RxConsumer.read ─► FeedDecoder (Ethernet/VLAN/IPv4/UDP ─► MoldUDP64 ─► ITCH flyweights, Sequencer)
 *     [with recovery: LineArbiter (A/B lines) ─► RecoverySequencer (held gaps) ◄─ RetransmitRequester]
 *     ─► your ItchMessageHandler: onMessage(decoder, type, sequence) ... endOfBatch()
 *
 * With recovery, messages may come from the sequencer's hold buffer or a retransmission: the handler
 * must read them through the decoder's flyweights, never from the packet.
 *
 * Threading contract: one thread calls start(), doWork() and close(), and that thread's event loop
 * must turn between turns while recovery has a re-request server: the retransmission socket's
 * responses arrive as 'message' events. Nothing is allocated per packet or per message.
 */
import { kQueueCounter } from '../binding/layout';
import { RxConsumer, udpLineMap, udpLineOf } from '../binding/rx-consumer';
import { Clock, MonotonicClock } from '../common/clock';
import { LatencyRecorder } from '../common/latency-recorder';
import type { Agent } from '../common/agent-runner';
import { FeedDecoder, ItchMessageHandler } from '../feed/feed-decoder';
import { ItchDecoder } from '../feed/itch/itch-decoder';
import { LineArbiter, LineArbiterListener } from '../feed/recovery/line-arbiter';
import { RetransmitRequester } from '../feed/recovery/retransmit-requester';
import { SequenceGapListener, Sequencer } from '../feed/recovery/sequencer';
import { kUdpFrameOk, parseIpv4Address, UdpFrameFilterOptions } from '../feed/wire/udp-frame-parser';
import { invalidOption } from '../errors';

/** With recovery, empty turns between two wall-clock reads at most. */
const kIdleTurnsPerClockRead = 16;

export interface FeedRecoveryOptions {
  lines: { name: string; group: string; port: number }[];
  /** How long a hole waits for another line before it is a gap (ms, default 2). */
  lineWaitMs?: number;
  /** A line silent this long is reported stale (ms, default 1000). */
  staleAfterMs?: number;
  /** Give up on a gap that has blocked delivery this long (ms; default 0: the requester decides). */
  maxHoldMs?: number;
  /** Messages held behind a gap at most (power of two, default 65536). */
  maxHeldMessages?: number;
  rerequest?: { host: string; port: number; timeoutMs?: number; maxRetries?: number; maxOutstanding?: number; maxMessagesPerRequest?: number };
  listener?: LineArbiterListener;
}

export interface FeedReceiverOptions {
  /** Destination group/port filter applied to frames before MoldUDP64 parsing. */
  filter?: UdpFrameFilterOptions;
  /** Packets per doWork() (default 256). */
  burst?: number;
  clock?: Clock;
  /** wireToDecode: RX time to decoder entry, per packet; wireToDone: RX time to the packet fully handled. */
  latency?: { wireToDecode?: LatencyRecorder; wireToDone?: LatencyRecorder };
  /** Told of every MoldUDP64 sequence gap (without recovery). */
  gapListener?: SequenceGapListener;
  /** Feed lines and gap recovery; see FeedHandlerOptions.recovery. */
  recovery?: FeedRecoveryOptions;
}

/** Sequencing and recovery counters, as FeedHandler.stats() reports them. */
export interface FeedReceiverStats {
  packets: number;
  bytes: number;
  ringDrops: number;
  frames: Record<string, number>;
  moldudp64: Record<string, number>;
  itch: { messages: number; zeroLength: number; truncated: number; unknownType: number };
  sequence: { accepted: number; duplicates: number; gaps: number; missing: number; sessionChanges: number };
  recovery?: {
    lines: { name: string; packets: number; messages: number; firsts: number; duplicates: number; gaps: number; stale: boolean }[];
    /** held: messages held behind gaps so far; heldNow: waiting right now. */
    confirmedGaps: number; coveredByOtherLine: number; held: number; heldNow: number; lost: number; recovered: number;
    requestsSent: number; retries: number; givenUp: number; otherTraffic: number;
  };
}

export class FeedReceiver implements Agent {
  readonly roleName = 'feed-receiver';
  readonly decoder: FeedDecoder;
  readonly sequencer: Sequencer;
  /** With recovery: the A/B arbiter (its sequencer holds and releases) and the retransmission requester. */
  readonly arbiter: LineArbiter | undefined;
  readonly requester: RetransmitRequester | undefined;
  /** Frames that matched no configured line (recovery mode). */
  otherTraffic = 0;
  /** RX timestamp (CLOCK_MONOTONIC ns) of the packet being handled: downstream handlers read it. */
  rxTsNs = 0;
  /** When the packet being handled entered the decoder (ns; the wire_to_decode stamp, 0 without that recorder). */
  decodeTsNs = 0;
  packets = 0;
  bytes = 0;

  private readonly source: RxConsumer;
  private readonly burst: number;
  private readonly onPacket: (b: Uint8Array, off: number, len: number, ts: number, endOfBatch: boolean, aux: number) => void;
  private nowMs = Date.now();
  private lastRead = 0;
  private idleTurns = 0;

  constructor(source: RxConsumer, handler: ItchMessageHandler, options: FeedReceiverOptions = {}) {
    this.source = source;
    this.burst = options.burst ?? 256;
    const clock = options.clock ?? new MonotonicClock();
    this.sequencer = new Sequencer({ gapListener: options.gapListener });
    this.decoder = new FeedDecoder(handler, options.filter ?? {}, this.sequencer);
    let groups: Uint32Array | undefined, ports: Uint16Array | undefined;
    const rec = options.recovery;
    if (rec) {
      if (!Array.isArray(rec.lines) || rec.lines.length < 1) throw invalidOption('FeedHandler', 'recovery.lines', rec.lines, 'at least one line {name, group, port}');
      groups = new Uint32Array(rec.lines.length);
      ports = new Uint16Array(rec.lines.length);
      rec.lines.forEach((l, i) => {
        const g = parseIpv4Address(l.group);
        if (g === undefined) throw invalidOption('FeedHandler', `recovery.lines[${i}].group`, l.group, 'an IPv4 address');
        groups![i] = g;
        ports![i] = l.port;
      });
      let requester: RetransmitRequester | undefined;
      const user = rec.listener ?? {};
      const arbiter = new LineArbiter(handler, {
        lines: rec.lines.map((l) => l.name), lineWaitMs: rec.lineWaitMs, staleAfterMs: rec.staleAfterMs,
        sequencer: { maxHoldMs: rec.maxHoldMs ?? 0, maxHeldMessages: rec.maxHeldMessages ?? 65536 },
        listener: { ...user, onGap: (from, to) => { user.onGap?.(from, to); if (requester) requester.onGap(from, to); else arbiter.sequencer.declareLost(from, to); } },
      });
      if (rec.rerequest) {
        requester = new RetransmitRequester(arbiter.sequencer, { host: rec.rerequest.host, port: rec.rerequest.port, timeoutMs: rec.rerequest.timeoutMs,
          maxRetries: rec.rerequest.maxRetries, maxOutstanding: rec.rerequest.maxOutstanding, maxMessagesPerRequest: rec.rerequest.maxMessagesPerRequest, sink: arbiter });
      }
      this.arbiter = arbiter;
      this.requester = requester;
    }

    const decoder = this.decoder;
    // The udp backend delivers UDP payloads (MoldUDP64 packets), the others whole frames.
    const l4 = source.backend === 'udp';
    const w2d = options.latency?.wireToDecode, w2h = options.latency?.wireToDone;
    const arbiter = this.arbiter, frames = decoder.frames;
    const udpLine = l4 && groups !== undefined ? udpLineMap(source, groups, ports!) : undefined;
    this.onPacket = (b, off, len, ts, endOfBatch, aux) => {
      this.rxTsNs = ts;
      this.packets++;
      this.bytes += len;
      // wire_to_decode is stamped here and recorded once the packet is handled: a histogram record
      // is a store into memory the packet's messages have since evicted, and before the messages it
      // sat inside the time to any order they trigger.
      const decodeNs = w2d !== undefined ? clock.nowNs() : 0;
      if (w2d !== undefined) this.decodeTsNs = decodeNs;
      if (arbiter === undefined) {
        if (l4) decoder.decodePayload(b, off, len);
        else decoder.decodeFrame(b, off, len);
        if (endOfBatch) decoder.endOfBatch();
      } else {
        // Which line: the destination of the frame, or the udp socket the datagram came in on.
        let line = 0;
        let pOff = off, pLen = len;
        if (l4) line = udpLine![udpLineOf(aux)];
        else {
          if (frames.parse(b, off, len) !== kUdpFrameOk) {
            if (endOfBatch) arbiter.endOfBatch();
            if (w2d !== undefined) w2d.record(decodeNs - ts);
            return;
          }
          line = -1;
          for (let i = 0; i < groups!.length; i++) if (groups![i] === frames.destinationAddress && ports![i] === frames.destinationPort) { line = i; break; }
          pOff = frames.payloadOffset;
          pLen = frames.payloadLength;
        }
        if (line < 0) this.otherTraffic++;
        else arbiter.onLinePacket(line, b, pOff, pLen, this.nowMs);
        if (endOfBatch) arbiter.endOfBatch();
      }
      if (w2d !== undefined) w2d.record(decodeNs - ts);
      if (w2h !== undefined) w2h.record(clock.nowNs() - ts);
    };
  }

  /** Number of the packet being handled (1-based), for stages that tell packets apart. */
  get packetNo(): number {
    return this.packets;
  }

  /** Counters of the ITCH decoder actually in use (the arbiter's with recovery). No allocation. */
  get itchCounters(): ItchDecoder['counters'] {
    return (this.arbiter ? this.arbiter.sequencer.decoder : this.decoder.decoder).counters;
  }

  /**
   * MoldUDP64 packet counters of the parser actually in use: with recovery every packet is parsed by
   * the arbiter's sequencer, and the FeedDecoder's own parser never sees one. No allocation.
   */
  get moldUdp64Counters(): FeedDecoder['packet']['counters'] {
    return (this.arbiter ? this.arbiter.sequencer.packet : this.decoder.packet).counters;
  }

  /** Ring-full drops at the RX ring, read from shared memory. No allocation. */
  get ringDrops(): number {
    return this.source.counter(kQueueCounter.ringFullDrops);
  }

  /** True once a replayed source has ended and everything was read. */
  get sourceDone(): boolean {
    return this.source.eof;
  }

  /** Opens what recovery needs (the retransmission request socket). Call once before doWork. */
  async start(): Promise<void> {
    if (this.requester) await this.requester.start();
  }

  async close(): Promise<void> {
    if (this.requester) await this.requester.close();
  }

  doWork(): number {
    if (this.arbiter === undefined) return this.source.read(this.onPacket, this.burst);
    // Recovery timers run on wall-clock milliseconds: read after a turn that had packets, otherwise
    // every kIdleTurnsPerClockRead empty turns (a Date.now() is a fresh HeapNumber each time, and a
    // spinning worker runs millions of empty turns a second; a few of them are well under a ms).
    if (this.lastRead > 0 || ++this.idleTurns >= kIdleTurnsPerClockRead) { this.idleTurns = 0; this.nowMs = Date.now(); }
    const now = this.nowMs;
    let work = this.arbiter.poll(now);
    if (this.requester) work += this.requester.poll(now);
    this.lastRead = this.source.read(this.onPacket, this.burst);
    return work + this.lastRead;
  }

  stats(): FeedReceiverStats {
    const itch = this.itchCounters;
    const arbiter = this.arbiter, requester = this.requester;
    return {
      packets: this.packets,
      bytes: this.bytes,
      ringDrops: this.source.ringCounters().ringFullDrops,
      frames: { ...this.decoder.frames.counters },
      moldudp64: { ...this.moldUdp64Counters },
      itch: { messages: itch.messages, zeroLength: itch.zeroLength, truncated: itch.truncated, unknownType: itch.unknownType },
      sequence: arbiter ? {
        accepted: arbiter.sequencer.counters.delivered, duplicates: arbiter.sequencer.counters.duplicates,
        gaps: arbiter.sequencer.counters.gaps, missing: arbiter.sequencer.counters.missing, sessionChanges: arbiter.sequencer.counters.sessionChanges,
      } : { ...this.sequencer.counters },
      recovery: arbiter ? {
        lines: arbiter.lines.map((l) => ({ name: l.name, packets: l.packets, messages: l.messages, firsts: l.firsts, duplicates: l.duplicates, gaps: l.gaps, stale: l.stale })),
        confirmedGaps: arbiter.counters.confirmedGaps, coveredByOtherLine: arbiter.counters.coveredByOtherLine,
        held: arbiter.sequencer.counters.held, heldNow: arbiter.sequencer.heldCount, lost: arbiter.sequencer.counters.lost, recovered: requester?.counters.filled ?? 0,
        requestsSent: requester?.counters.requestsSent ?? 0, retries: requester?.counters.retries ?? 0, givenUp: requester?.counters.givenUp ?? 0,
        otherTraffic: this.otherTraffic,
      } : undefined,
    };
  }
}
