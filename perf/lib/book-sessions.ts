/**
 * Sessions for perf:book beside perf/ref/itch-session.ts's, in the same in-memory form (records of
 * [u16 big-endian packet length][MoldUDP64 packet], read by perf/decode.ts's `decodeSession`):
 *
 * - `marketSession`: the `tickpath gen` order flow (lib/tools/session-generator.ts: books never
 *   crossed, executions where orders meet, NASDAQ-like mix and depth), packed 20 messages or 1400
 *   bytes to a packet like `tickpath gen`'s defaults. Built once, in memory; not the hot path.
 * - `captureSession`: every real capture under test/fixtures/itch, concatenated and repeated until
 *   the session holds `minMessages`. Each repetition adds a multiple of (largest reference + 1) to
 *   every Order Reference Number, so a repeat is a new set of orders (not duplicates of the last
 *   one) and the references keep the captures' real values and spacing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readU64, writeU64 } from '../../lib/common/bytes';
import { ItchDecoder, kItchAddOrder, kItchAddOrderMpid, kItchOrderCancel, kItchOrderDelete, kItchOrderExecuted,
  kItchOrderExecutedWithPrice, kItchOrderReplace, kItchTrade } from '../../lib/feed/itch/itch-decoder';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { MoldUdp64Encoder } from '../../lib/feed/wire/moldudp64-encoder';
import { MoldUdp64Packet } from '../../lib/feed/wire/moldudp64-packet';
import { kUdpFrameOk, UdpFrameParser } from '../../lib/feed/wire/udp-frame-parser';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { SyntheticSession } from '../ref/itch-session';

/** Appends [u16 length][bytes] records to a growing buffer. */
class RecordWriter {
  bytes = new Uint8Array(1 << 20);
  length = 0;
  packets = 0;

  reserve(n: number): number {
    if (this.length + n > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
    }
    return this.length;
  }

  commit(payloadLength: number): void {
    this.bytes[this.length] = payloadLength >>> 8;
    this.bytes[this.length + 1] = payloadLength & 0xff;
    this.length += 2 + payloadLength;
    this.packets++;
  }

  session(messages: number, byType: Record<string, number>): SyntheticSession {
    return { bytes: this.bytes.subarray(0, this.length), packets: this.packets, messages, byType };
  }
}

export function marketSession(messages: number, symbols: number, seed = 1): SyntheticSession {
  const gen = new SessionGenerator({ symbols, rate: messages, durationSeconds: 1, seed, session: 'PERFBOOK01' });
  const mold = new MoldUdp64Encoder('PERFBOOK01');
  const out = new RecordWriter();
  const byType: Record<string, number> = {};
  const kMaxMessages = 20, kMaxPayload = 1400;
  let open = false;
  const flush = (): void => {
    if (!open) return;
    out.commit(mold.finish());
    open = false;
  };
  const total = gen.forEachMessage((sequence, b, length) => {
    if (open && (mold.messageCount >= kMaxMessages || mold.lengthWith(length) > kMaxPayload)) flush();
    if (!open) {
      const at = out.reserve(2 + kMaxPayload);
      mold.begin(out.bytes, at + 2, sequence);
      open = true;
    }
    const to = mold.appendMessage(length);
    out.bytes.set(b.subarray(0, length), to);
    const t = String.fromCharCode(b[0]);
    byType[t] = (byType[t] ?? 0) + 1;
  });
  flush();
  return out.session(total, byType);
}

/** Offsets of the Order Reference Number fields of message `type`, [] if none. */
function referenceOffsets(type: number): number[] {
  switch (type) {
    case kItchAddOrder: case kItchAddOrderMpid: case kItchOrderExecuted: case kItchOrderExecutedWithPrice:
    case kItchOrderCancel: case kItchOrderDelete: case kItchTrade:
      return [11];
    case kItchOrderReplace: return [11, 19];
    default: return [];
  }
}

function pcapFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...pcapFiles(p));
    else if (e.name.endsWith('.pcap')) out.push(p);
  }
  return out;
}

export interface CaptureSession extends SyntheticSession {
  files: number;
  /** Messages in one pass over all captures. */
  messagesPerRepeat: number;
  repeats: number;
}

export function captureSession(minMessages: number, dir = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'itch')): CaptureSession {
  // One pass: every MoldUDP64 payload of every capture, in file order.
  const payloads: Uint8Array[] = [];
  const files = pcapFiles(dir);
  const frames = new UdpFrameParser();
  for (const file of files) {
    const reader = new PcapReader(fs.readFileSync(file), file);
    while (reader.next()) {
      if (frames.parse(reader.data, reader.frameOffset, reader.capturedLength) !== kUdpFrameOk) continue;
      payloads.push(reader.data.slice(frames.payloadOffset, frames.payloadOffset + frames.payloadLength));
    }
  }
  // Where the references are, and the largest one.
  const packet = new MoldUdp64Packet();
  const decoder = new ItchDecoder();
  const refs: [number, number][] = []; // [payload index, byte offset]
  const byType: Record<string, number> = {};
  let perRepeat = 0;
  let maxRef = 0;
  payloads.forEach((p, i) => {
    if (packet.wrap(p, 0, p.length) <= 0) return;
    while (packet.nextMessage()) {
      const type = decoder.decode(p, packet.messageOffset, packet.messageLength);
      if (type <= 0) continue;
      perRepeat++;
      const t = String.fromCharCode(type);
      byType[t] = (byType[t] ?? 0) + 1;
      for (const o of referenceOffsets(type)) {
        const at = packet.messageOffset + o;
        const ref = readU64(p, at);
        if (ref === 0) continue; // a 'P' against a hidden order
        refs.push([i, at]);
        if (ref > maxRef) maxRef = ref;
      }
    }
  });
  if (perRepeat === 0) throw new Error(`no ITCH messages in the captures under ${dir}`);
  const repeats = Math.max(1, Math.ceil(minMessages / perRepeat));
  const out = new RecordWriter();
  const originals = refs.map(([i, at]) => readU64(payloads[i], at));
  for (let r = 0; r < repeats; r++) {
    refs.forEach(([i, at], k) => writeU64(payloads[i], at, originals[k] + r * (maxRef + 1)));
    for (const p of payloads) {
      const at = out.reserve(2 + p.length);
      out.bytes.set(p, at + 2);
      out.commit(p.length);
    }
  }
  for (const k of Object.keys(byType)) byType[k] *= repeats;
  return { ...out.session(perRepeat * repeats, byType), files: files.length, messagesPerRepeat: perRepeat, repeats };
}
