/**
 * A pcap capture loaded for replay: the frames indexed once (offset, length, capture time) in
 * typed arrays, the optional destination rewrite applied once to a private copy (so a replay loop
 * only copies bytes), and a MoldUDP64 look at what the file itself holds (sessions, sequence
 * range, gaps) through the production parser and Sequencer.
 */
import { invalidOption } from '../errors';
import { MoldUdp64Packet } from '../feed/wire/moldudp64-packet';
import { PcapReader } from '../feed/pcap/pcap-reader';
import { Sequencer } from '../feed/recovery/sequencer';
import { kUdpFrameOk, parseIpv4Address, UdpFrameParser } from '../feed/wire/udp-frame-parser';

export interface RewriteOptions {
  /** New IPv4 destination (a multicast group also rewrites the destination MAC to its mapping). */
  group?: string;
  port?: number;
  /** 'fix' recomputes the UDP checksum (default), 'zero' clears it (allowed over IPv4). */
  udpChecksum?: 'fix' | 'zero';
}

export interface MoldSummary {
  packets: number;
  messages: number;
  sessions: string[];
  firstSequence: number;
  lastSequence: number;
  /** Gaps present in the file, inclusive ranges (at most the first 100). */
  gaps: [number, number][];
  missing: number;
  duplicates: number;
  endOfSession: boolean;
}

export class CaptureFile {
  readonly data: Uint8Array;
  readonly count: number;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  /** Capture time, ns since the first frame. */
  readonly times: Float64Array;
  /** UDP payload offset / length per frame; length -1 when the frame is not IPv4/UDP. */
  readonly payloadOffsets: Uint32Array;
  readonly payloadLengths: Int32Array;
  readonly bytes: number;
  /** Frames that were rewritten (IPv4/UDP ones). */
  rewritten = 0;

  constructor(data: Uint8Array, readonly name = 'capture') {
    this.data = data;
    let n = 0;
    const counter = new PcapReader(data, name);
    while (counter.next()) n++;
    this.count = n;
    this.offsets = new Uint32Array(n);
    this.lengths = new Uint32Array(n);
    this.times = new Float64Array(n);
    this.payloadOffsets = new Uint32Array(n);
    this.payloadLengths = new Int32Array(n);
    const reader = new PcapReader(data, name);
    const parser = new UdpFrameParser();
    let first = 0, bytes = 0;
    for (let i = 0; reader.next(); i++) {
      const t = reader.timestampSeconds * 1e9 + reader.timestampNanos;
      if (i === 0) first = t;
      this.offsets[i] = reader.frameOffset;
      this.lengths[i] = reader.capturedLength;
      this.times[i] = t - first;
      bytes += reader.capturedLength;
      if (parser.parse(data, reader.frameOffset, reader.capturedLength) === kUdpFrameOk) {
        this.payloadOffsets[i] = parser.payloadOffset;
        this.payloadLengths[i] = parser.payloadLength;
      } else this.payloadLengths[i] = -1;
    }
    this.bytes = bytes;
  }

  /** Capture time from the first to the last frame, ns. */
  get spanNanos(): number {
    return this.count > 0 ? this.times[this.count - 1] : 0;
  }

  /** Destination IPv4 and port of the first UDP frame, or undefined when there is none. */
  firstUdpDestination(): { address: string; port: number } | undefined {
    for (let i = 0; i < this.count; i++) {
      if (this.payloadLengths[i] < 0) continue;
      const u = this.payloadOffsets[i] - 8;
      const ip = this.ipHeaderOffset(i);
      const d = this.data;
      return { address: `${d[ip + 16]}.${d[ip + 17]}.${d[ip + 18]}.${d[ip + 19]}`, port: (d[u + 2] << 8) | d[u + 3] };
    }
    return undefined;
  }

  /** Rewrites destination group/port of every IPv4/UDP frame in place, with checksums; once. */
  rewrite(options: RewriteOptions): void {
    const where = 'replay rewrite';
    let group: number | undefined;
    if (options.group !== undefined) {
      group = parseIpv4Address(options.group);
      if (group === undefined) throw invalidOption(where, 'group', options.group, 'a dotted-quad IPv4 address');
    }
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
      throw invalidOption(where, 'port', options.port, 'an integer from 0 to 65535');
    }
    const mode = options.udpChecksum ?? 'fix';
    if (mode !== 'fix' && mode !== 'zero') throw invalidOption(where, 'udpChecksum', mode, "'fix' or 'zero'");
    const d = this.data;
    for (let i = 0; i < this.count; i++) {
      if (this.payloadLengths[i] < 0) continue;
      const ip = this.ipHeaderOffset(i);
      const udp = this.payloadOffsets[i] - 8;
      if (group !== undefined) {
        d[ip + 16] = group >>> 24; d[ip + 17] = (group >>> 16) & 0xff; d[ip + 18] = (group >>> 8) & 0xff; d[ip + 19] = group & 0xff;
        if ((group >>> 28) === 0xe) {
          const mac = this.offsets[i];
          d[mac] = 0x01; d[mac + 1] = 0x00; d[mac + 2] = 0x5e;
          d[mac + 3] = (group >>> 16) & 0x7f; d[mac + 4] = (group >>> 8) & 0xff; d[mac + 5] = group & 0xff;
        }
        const ihl = (d[ip] & 0x0f) * 4;
        d[ip + 10] = 0; d[ip + 11] = 0;
        const sum = ~onesComplementSum(d, ip, ihl, 0) & 0xffff;
        d[ip + 10] = sum >>> 8; d[ip + 11] = sum & 0xff;
      }
      if (options.port !== undefined) { d[udp + 2] = options.port >>> 8; d[udp + 3] = options.port & 0xff; }
      d[udp + 6] = 0; d[udp + 7] = 0;
      if (mode === 'fix') {
        const udpLength = (d[udp + 4] << 8) | d[udp + 5];
        const available = this.offsets[i] + this.lengths[i] - udp;
        if (udpLength <= available) {
          // Pseudo header: source, destination, protocol 17, UDP length.
          let pseudo = 17 + udpLength;
          for (let k = 12; k < 20; k += 2) pseudo += (d[ip + k] << 8) | d[ip + k + 1];
          let sum = ~onesComplementSum(d, udp, udpLength, pseudo) & 0xffff;
          if (sum === 0) sum = 0xffff;
          d[udp + 6] = sum >>> 8; d[udp + 7] = sum & 0xff;
        }
      }
      this.rewritten++;
    }
  }

  /** Sessions, sequence range and gaps of the MoldUDP64 packets in the file (undefined: none). */
  moldSummary(): MoldSummary | undefined {
    const gaps: [number, number][] = [];
    const sequencer = new Sequencer({ gapListener: { onGap: (a, b) => { if (gaps.length < 100) gaps.push([a, b]); } } });
    const packet = new MoldUdp64Packet();
    const sessions: string[] = [];
    let first = -1, last = 0, packets = 0, messages = 0, lastSession = '';
    for (let i = 0; i < this.count; i++) {
      const len = this.payloadLengths[i];
      if (len < 20) continue;
      const off = this.payloadOffsets[i];
      const count = packet.wrap(this.data, off, len);
      if (count < 0) continue;
      // Not MoldUDP64-shaped (the session must be printable): skip.
      let printable = true;
      for (let k = 0; k < 10; k++) { const c = this.data[off + k]; if (c < 0x20 || c > 0x7e) printable = false; }
      if (!printable) continue;
      packets++;
      messages += count;
      const session = packet.session ?? '';
      if (session !== lastSession) { if (!sessions.includes(session)) sessions.push(session); lastSession = session; }
      sequencer.accept(this.data, off, packet.sequenceNumber, count, count === 0 && packet.isEndOfSession);
      if (count > 0) {
        if (first < 0 || packet.sequenceNumber < first) first = packet.sequenceNumber;
        last = Math.max(last, packet.sequenceNumber + count - 1);
      }
    }
    if (packets === 0) return undefined;
    const c = sequencer.counters;
    return {
      packets, messages, sessions, firstSequence: Math.max(first, 0), lastSequence: last, gaps, missing: c.missing,
      duplicates: c.duplicates, endOfSession: sequencer.endOfSession,
    };
  }

  private ipHeaderOffset(i: number): number {
    // The UDP header follows the IPv4 header; walk the Ethernet header and any VLAN tags instead of
    // trusting the IHL backwards.
    const d = this.data;
    let p = this.offsets[i] + 12;
    let type = (d[p] << 8) | d[p + 1];
    while (type === 0x8100 || type === 0x88a8 || type === 0x9100) { p += 4; type = (d[p] << 8) | d[p + 1]; }
    return p + 2;
  }
}

function onesComplementSum(b: Uint8Array, offset: number, length: number, initial: number): number {
  let sum = initial;
  const end = offset + (length & ~1);
  for (let i = offset; i < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (length & 1) sum += b[offset + length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}
