/**
 * Writes Ethernet (+ optional stacked 802.1Q tags) / IPv4 / UDP headers in front of a payload, the
 * inverse of UdpFrameParser, for the generator, the pcap writer and tests. Options are validated once;
 * `write` then only fills bytes. The IPv4 header checksum is computed (a capture replayed onto a real
 * NIC would otherwise be dropped by the receiver).
 */
import { invalidOption } from '../../errors';
import { writeU16, writeU32 } from '../../common/bytes';
import { parseIpv4Address } from './udp-frame-parser';

export interface UdpFrameWriterOptions {
  sourceAddress: string;
  destinationAddress: string;
  sourcePort: number;
  destinationPort: number;
  /** Outermost first; each becomes a 0x8100 tag. */
  vlanIds?: readonly number[];
  ttl?: number;
}

export class UdpFrameWriter {
  /** Bytes of headers in front of the payload. */
  readonly headerLength: number;
  private readonly src: number;
  private readonly dst: number;
  private readonly options: UdpFrameWriterOptions;
  private readonly vlanIds: readonly number[];
  private ipId = 0;

  constructor(options: UdpFrameWriterOptions) {
    const where = 'UdpFrameWriter';
    const src = parseIpv4Address(String(options.sourceAddress));
    if (src === undefined) throw invalidOption(where, 'sourceAddress', options.sourceAddress, 'a dotted-quad IPv4 address');
    const dst = parseIpv4Address(String(options.destinationAddress));
    if (dst === undefined) throw invalidOption(where, 'destinationAddress', options.destinationAddress, 'a dotted-quad IPv4 address');
    for (const name of ['sourcePort', 'destinationPort'] as const) {
      const p = options[name];
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw invalidOption(where, name, p, 'an integer from 0 to 65535');
    }
    const vlanIds = options.vlanIds ?? [];
    vlanIds.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id > 4095) throw invalidOption(where, `vlanIds[${i}]`, id, 'an integer from 0 to 4095');
    });
    this.src = src;
    this.dst = dst;
    this.options = options;
    this.vlanIds = vlanIds;
    this.headerLength = 14 + 4 * vlanIds.length + 20 + 8;
  }

  /** Write the headers at `offset` for a payload of `payloadLength` bytes that follows them; returns the frame length. */
  write(b: Uint8Array, offset: number, payloadLength: number): number {
    let p = offset;
    // Destination MAC: the IPv4 multicast mapping (01:00:5e + low 23 bits), else a locally administered one.
    const dst = this.dst;
    const multicast = (dst >>> 28) === 0xe;
    b[p] = multicast ? 0x01 : 0x02; b[p + 1] = 0x00; b[p + 2] = multicast ? 0x5e : 0x00;
    b[p + 3] = (dst >>> 16) & 0x7f; b[p + 4] = (dst >>> 8) & 0xff; b[p + 5] = dst & 0xff;
    b[p + 6] = 0x02; b[p + 7] = 0x00; writeU32(b, p + 8, this.src);
    p += 12;
    for (const id of this.vlanIds) {
      writeU16(b, p, 0x8100);
      writeU16(b, p + 2, id);
      p += 4;
    }
    writeU16(b, p, 0x0800);
    p += 2;
    const ip = p;
    b[ip] = 0x45; b[ip + 1] = 0;
    writeU16(b, ip + 2, 20 + 8 + payloadLength);
    writeU16(b, ip + 4, this.ipId = (this.ipId + 1) & 0xffff);
    writeU16(b, ip + 6, 0x4000); // don't fragment
    b[ip + 8] = this.options.ttl ?? 64; b[ip + 9] = 17;
    writeU16(b, ip + 10, 0);
    writeU32(b, ip + 12, this.src);
    writeU32(b, ip + 16, dst);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (b[ip + i] << 8) | b[ip + i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    writeU16(b, ip + 10, ~sum & 0xffff);
    const udp = ip + 20;
    writeU16(b, udp, this.options.sourcePort);
    writeU16(b, udp + 2, this.options.destinationPort);
    writeU16(b, udp + 4, 8 + payloadLength);
    writeU16(b, udp + 6, 0); // checksum optional over IPv4
    return this.headerLength + payloadLength;
  }
}
