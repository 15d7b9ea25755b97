/**
 * Message store for the re-request server: every MoldUDP64 message indexed by session and sequence,
 * filled from a capture (pcap of Ethernet/IPv4/UDP/MoldUDP64, as written by `tickpath gen` or the
 * fixtures) or appended live (an in-memory journal of what a publisher sent).
 *
 * Per session: one growing byte arena and offset/length arrays indexed by `sequence - first`.
 * Appending grows by doubling (start-up or publisher side, not a feed hot path); lookups are O(1).
 * Single writer: the thread that owns the server.
 */
import { readAlpha } from '../../common/bytes';
import { kMoldUdp64SessionLength, MoldUdp64Packet } from '../wire/moldudp64-packet';
import { PcapReader } from '../pcap/pcap-reader';
import { kUdpFrameOk, UdpFrameFilterOptions, UdpFrameParser } from '../wire/udp-frame-parser';

export class SessionJournal {
  /** Sequence of the first message stored; 0 while empty. */
  first = 0;
  count = 0;
  bytes: Uint8Array = new Uint8Array(64 * 1024);
  private used = 0;
  private offsets = new Float64Array(1024);
  private lengths = new Uint16Array(1024);

  constructor(readonly session: string) {}

  /** One past the last stored sequence. */
  get next(): number { return this.first + this.count; }

  /**
   * Store message `seq`. Messages must extend the journal in order; a repeat is ignored (false);
   * a message past the end leaves the skipped sequences empty (length 0, never served).
   */
  append(seq: number, b: Uint8Array, offset: number, length: number): boolean {
    if (this.count === 0) this.first = seq;
    if (seq < this.next) return false;
    const index = seq - this.first;
    while (index >= this.offsets.length) {
      const o = new Float64Array(this.offsets.length * 2); o.set(this.offsets); this.offsets = o;
      const l = new Uint16Array(this.lengths.length * 2); l.set(this.lengths); this.lengths = l;
    }
    while (this.used + length > this.bytes.length) {
      const n = new Uint8Array(this.bytes.length * 2); n.set(this.bytes.subarray(0, this.used)); this.bytes = n;
    }
    for (let i = this.count; i < index; i++) { this.offsets[i] = this.used; this.lengths[i] = 0; }
    this.bytes.set(b.subarray(offset, offset + length), this.used);
    this.offsets[index] = this.used;
    this.lengths[index] = length;
    this.used += length;
    this.count = index + 1;
    return true;
  }

  has(seq: number): boolean {
    return seq >= this.first && seq < this.next && this.lengths[seq - this.first] > 0;
  }

  offsetOf(seq: number): number { return this.offsets[seq - this.first]; }
  lengthOf(seq: number): number { return this.lengths[seq - this.first]; }
}

export class MessageJournal {
  private readonly sessions = new Map<string, SessionJournal>();

  /** The journal of `session` (trimmed name), created empty on first use. */
  session(session: string): SessionJournal {
    let j = this.sessions.get(session);
    if (j === undefined) { j = new SessionJournal(session); this.sessions.set(session, j); }
    return j;
  }

  find(session: string): SessionJournal | undefined {
    return this.sessions.get(session);
  }

  get sessionNames(): string[] { return [...this.sessions.keys()]; }

  /** Store every message of one MoldUDP64 packet; returns how many were new. */
  appendPacket(b: Uint8Array, offset: number, length: number, packet = new MoldUdp64Packet()): number {
    const count = packet.wrap(b, offset, length);
    if (count <= 0) return 0;
    const j = this.session(readAlpha(b, offset, kMoldUdp64SessionLength));
    let added = 0;
    while (packet.nextMessage()) if (j.append(packet.messageSequence, b, packet.messageOffset, packet.messageLength)) added++;
    return added;
  }

  /** Index every MoldUDP64 message of a capture (optionally only some destinations). */
  static fromPcap(data: Uint8Array, filter: UdpFrameFilterOptions = {}, name = 'pcap'): MessageJournal {
    const journal = new MessageJournal();
    const reader = new PcapReader(data, name);
    const frames = new UdpFrameParser(filter);
    const packet = new MoldUdp64Packet();
    while (reader.next()) {
      if (frames.parse(data, reader.frameOffset, reader.capturedLength) !== kUdpFrameOk) continue;
      journal.appendPacket(data, frames.payloadOffset, frames.payloadLength, packet);
    }
    return journal;
  }
}
