/**
 * Packets of a MOEX FIX/FAST feed into normalized book events: the FAST counterpart of the pipeline's
 * FeedReceiver, with the same doWork()/sourceDone/packets shape so the decoder stage can run either.
 *
 * Each frame is matched to a configured line by its destination group and port. Incremental lines
 * (A and B of one channel) go through one MoexLineArbiter (first copy of each MsgSeqNum wins, in
 * order; a confirmed gap marks every live book stale) into the incremental FastFeedDecoder; snapshot
 * lines go straight to their own FastFeedDecoder, trades (X-TLR) and security status (f) lines to a
 * third (not arbitrated: one line each). The decoders hand their messages to one
 * FastBookAdapter, whose BookEvents go to `handler` (the books stage's conflator or strategy). The udp
 * backend delivers payloads, one socket per line: each descriptor names its socket's line (aux), which
 * maps to a configured line by the group and port the port opened it with (a udp port with a single
 * socket is this receiver's first line).
 *
 * Single writer: the thread running doWork() (the decoder stage's worker).
 */
import { udpLineMap, udpLineOf, type RxConsumer } from '../../../binding/rx-consumer';
import { kQueueCounter } from '../../../binding/layout';
import type { BookEventHandler } from '../../book/book-event';
import { invalidOption } from '../../../errors';
import { parseIpv4Address, UdpFrameParser, kUdpFrameOk } from '../../wire/udp-frame-parser';
import { FastFeedDecoder } from '../fast-feed-decoder';
import { FastTemplateRegistry } from '../fast-templates';
import { FastBookAdapter } from './fast-book-adapter';
import { MoexLineArbiter } from './moex-line-arbiter';

export interface MoexFeedLine {
  name: string;
  group: string;
  port: number;
  /** 'incremental' (arbitrated A/B), 'snapshot', or 'trades' / 'status' (decoded as they come). */
  role: 'incremental' | 'snapshot' | 'trades' | 'status';
}

export interface MoexFeedReceiverOptions {
  lines: MoexFeedLine[];
  priceDecimals?: number;
  market?: 'CURR' | 'FOND' | 'ANY';
  burst?: number;
  /** How long a MsgSeqNum hole may wait for the other incremental line (ms, default 2). */
  lineWaitMs?: number;
  listener?: { onGap?(from: number, to: number): void; onStale?(locate: number, name: string): void; onTradeGap?(locate: number, from: number, to: number): void };
}

export class MoexFeedReceiver {
  readonly adapter: FastBookAdapter;
  readonly incremental: FastFeedDecoder;
  readonly snapshot: FastFeedDecoder;
  /** Trades and security status lines. */
  readonly info: FastFeedDecoder;
  readonly arbiter: MoexLineArbiter;
  readonly frames = new UdpFrameParser({});
  packets = 0;
  bytes = 0;
  rxTsNs = 0;
  /** Frames to no configured line. */
  otherTraffic = 0;
  private readonly source: RxConsumer;
  private readonly burst: number;
  private readonly groups: Uint32Array;
  private readonly ports: Uint16Array;
  /** Per line: index among the incremental lines, -1 for a snapshot line, -2 for a trades or status line. */
  private readonly incrementalIndex: Int32Array;
  private readonly onPacket: (b: Uint8Array, off: number, len: number, ts: number, endOfBatch: boolean, aux: number) => void;

  constructor(source: RxConsumer, registry: FastTemplateRegistry, handler: BookEventHandler, options: MoexFeedReceiverOptions) {
    const lines = options.lines;
    if (!Array.isArray(lines) || !lines.some((l) => l.role === 'incremental')) throw invalidOption('MoexFeedReceiver', 'lines', lines, 'at least one incremental line {name, group, port, role}');
    this.source = source;
    this.burst = options.burst ?? 256;
    this.groups = new Uint32Array(lines.length);
    this.ports = new Uint16Array(lines.length);
    this.incrementalIndex = new Int32Array(lines.length);
    let k = 0;
    lines.forEach((l, i) => {
      const g = parseIpv4Address(l.group);
      if (g === undefined) throw invalidOption('MoexFeedReceiver', `lines[${i}].group`, l.group, 'an IPv4 address');
      this.groups[i] = g;
      this.ports[i] = l.port;
      this.incrementalIndex[i] = l.role === 'incremental' ? k++ : l.role === 'snapshot' ? -1 : -2;
    });
    this.adapter = new FastBookAdapter(registry, handler, { priceDecimals: options.priceDecimals, market: options.market, listener: { onStale: options.listener?.onStale, onTradeGap: options.listener?.onTradeGap } });
    this.incremental = new FastFeedDecoder(registry, this.adapter);
    this.snapshot = new FastFeedDecoder(registry, this.adapter);
    this.info = new FastFeedDecoder(registry, this.adapter);
    const adapter = this.adapter;
    this.arbiter = new MoexLineArbiter(this.incremental, {
      lines: lines.filter((l) => l.role === 'incremental').map((l) => l.name), lineWaitMs: options.lineWaitMs,
      listener: { onGap: (from, to) => { options.listener?.onGap?.(from, to); adapter.markAllStale(); } },
    });
    const l4 = source.backend === 'udp';
    const udpLine = udpLineMap(source, this.groups, this.ports);
    const frames = this.frames, groups = this.groups, ports = this.ports, inc = this.incrementalIndex;
    const arbiter = this.arbiter, snapshot = this.snapshot, info = this.info;
    this.onPacket = (b, off, len, ts, endOfBatch, aux) => {
      this.rxTsNs = ts;
      this.packets++;
      this.bytes += len;
      let line = -1;
      let pOff = off, pLen = len;
      if (l4) line = udpLine[udpLineOf(aux)];
      else if (frames.parse(b, off, len) === kUdpFrameOk) {
        for (let i = 0; i < groups.length; i++) if (groups[i] === frames.destinationAddress && ports[i] === frames.destinationPort) { line = i; break; }
        pOff = frames.payloadOffset;
        pLen = frames.payloadLength;
      }
      if (line < 0) this.otherTraffic++;
      else if (inc[line] >= 0) arbiter.onDatagram(inc[line], b, pOff, pLen);
      else if (inc[line] === -1) snapshot.decodePayload(b, pOff, pLen);
      else info.decodePayload(b, pOff, pLen);
      if (endOfBatch) adapter.endOfBatch();
    };
  }

  doWork(): number {
    // A hole that neither line fills becomes a gap after the line wait, even when no datagram comes.
    return this.source.read(this.onPacket, this.burst) + this.arbiter.poll();
  }

  start(): Promise<void> { return Promise.resolve(); }
  close(): Promise<void> { return Promise.resolve(); }

  get packetNo(): number { return this.packets; }
  get sourceDone(): boolean { return this.source.eof; }
  get ringDrops(): number { return this.source.counter(kQueueCounter.ringFullDrops); }
}

