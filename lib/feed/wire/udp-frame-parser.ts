/**
 * In-place Ethernet / 802.1Q / IPv4 / UDP header parser with destination filtering.
 *
 * `parse(buffer, offset, length)` reads the headers of one frame where it lies (a SharedArrayBuffer
 * slot, a pcap Buffer) and sets `payloadOffset`/`payloadLength` and the address fields on this object;
 * it returns kUdpFrameOk or a negative kUdpFrame* reason, and counts every reason. No allocation:
 * addresses are u32 numbers, the filter is a small Uint32Array scanned linearly (feeds subscribe to a
 * handful of groups, and a scan of four words beats a Set lookup).
 *
 * VLAN tags (0x8100, 0x88a8, 0x9100) may be stacked; the outermost VLAN ID is kept. IPv4 fragments
 * are dropped and counted: market-data packets fit in one frame, and reassembly would need memory
 * per flow. Single writer: the RX thread that owns the parser.
 */
import { invalidOption } from '../../errors';
import { readU16, readU32 } from '../../common/bytes';

export const kUdpFrameOk = 0;
export const kUdpFrameTruncated = -1;
export const kUdpFrameNotIpv4 = -2;
export const kUdpFrameBadIpHeader = -3;
export const kUdpFrameNotUdp = -4;
export const kUdpFrameFragment = -5;
export const kUdpFrameBadUdpLength = -6;
export const kUdpFrameFiltered = -7;

const kEthernetHeaderLength = 14;
const kVlanTagLength = 4;
const kMaxVlanTags = 4;
const kUdpHeaderLength = 8;

export interface UdpFrameFilterOptions {
  /** Destination IPv4 addresses (dotted quad) to accept; empty or absent accepts any. */
  destinationAddresses?: readonly string[];
  /** Destination UDP ports to accept; empty or absent accepts any. */
  destinationPorts?: readonly number[];
}

export class UdpFrameCounters {
  accepted = 0;
  truncated = 0;
  notIpv4 = 0;
  badIpHeader = 0;
  notUdp = 0;
  fragment = 0;
  badUdpLength = 0;
  filtered = 0;
}

/** Parse "a.b.c.d" to a u32; undefined when it is not a dotted-quad IPv4 address. */
export function parseIpv4Address(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    v = v * 256 + octet;
  }
  return v;
}

export function formatIpv4Address(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export class UdpFrameParser {
  readonly counters = new UdpFrameCounters();
  private readonly addresses: Uint32Array;
  private readonly ports: Uint16Array;

  payloadOffset = 0;
  payloadLength = 0;
  sourceAddress = 0;
  destinationAddress = 0;
  sourcePort = 0;
  destinationPort = 0;
  /** Number of VLAN tags seen, and the outermost VLAN ID (0 when untagged). */
  vlanCount = 0;
  vlanId = 0;

  constructor(options: UdpFrameFilterOptions = {}) {
    const where = 'UdpFrameParser';
    const addresses = options.destinationAddresses ?? [];
    if (!Array.isArray(addresses)) throw invalidOption(where, 'destinationAddresses', addresses, 'an array of dotted-quad IPv4 addresses');
    this.addresses = new Uint32Array(addresses.length);
    addresses.forEach((a, i) => {
      const v = typeof a === 'string' ? parseIpv4Address(a) : undefined;
      if (v === undefined) throw invalidOption(where, `destinationAddresses[${i}]`, a, 'a dotted-quad IPv4 address such as "233.54.12.111"');
      this.addresses[i] = v;
    });
    const ports = options.destinationPorts ?? [];
    if (!Array.isArray(ports)) throw invalidOption(where, 'destinationPorts', ports, 'an array of UDP ports');
    this.ports = new Uint16Array(ports.length);
    ports.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalidOption(where, `destinationPorts[${i}]`, p, 'an integer from 1 to 65535');
      this.ports[i] = p;
    });
  }

  parse(b: Uint8Array, offset: number, length: number): number {
    const c = this.counters;
    const end = offset + length;
    if (length < kEthernetHeaderLength || end > b.length) { c.truncated++; return kUdpFrameTruncated; }
    let p = offset + 12;
    let etherType = readU16(b, p);
    let tags = 0;
    this.vlanId = 0;
    while (etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100) {
      if (tags === kMaxVlanTags || p + kVlanTagLength + 2 > end) { this.vlanCount = tags; c.truncated++; return kUdpFrameTruncated; }
      if (tags === 0) this.vlanId = readU16(b, p + 2) & 0x0fff;
      tags++;
      p += kVlanTagLength;
      etherType = readU16(b, p);
    }
    this.vlanCount = tags;
    if (etherType !== 0x0800) { c.notIpv4++; return kUdpFrameNotIpv4; }
    const ip = p + 2;
    if (ip + 20 > end) { c.truncated++; return kUdpFrameTruncated; }
    const versionIhl = b[ip];
    const ihl = (versionIhl & 0x0f) * 4;
    if ((versionIhl >>> 4) !== 4 || ihl < 20) { c.badIpHeader++; return kUdpFrameBadIpHeader; }
    const ipTotal = readU16(b, ip + 2);
    if (ipTotal < ihl + kUdpHeaderLength) { c.badIpHeader++; return kUdpFrameBadIpHeader; }
    // Ethernet pads short frames to 60 bytes, so the frame may be longer than the IP packet, never shorter.
    if (ip + ipTotal > end) { c.truncated++; return kUdpFrameTruncated; }
    if (b[ip + 9] !== 17) { c.notUdp++; return kUdpFrameNotUdp; }
    // More-fragments flag or a non-zero fragment offset.
    if ((readU16(b, ip + 6) & 0x3fff) !== 0) { c.fragment++; return kUdpFrameFragment; }
    const udp = ip + ihl;
    const udpLength = readU16(b, udp + 4);
    if (udpLength < kUdpHeaderLength || udpLength > ipTotal - ihl) { c.badUdpLength++; return kUdpFrameBadUdpLength; }
    const dst = readU32(b, ip + 16);
    const dstPort = readU16(b, udp + 2);
    this.sourceAddress = readU32(b, ip + 12);
    this.destinationAddress = dst;
    this.sourcePort = readU16(b, udp);
    this.destinationPort = dstPort;
    if (!this.matches(dst, dstPort)) { c.filtered++; return kUdpFrameFiltered; }
    this.payloadOffset = udp + kUdpHeaderLength;
    this.payloadLength = udpLength - kUdpHeaderLength;
    c.accepted++;
    return kUdpFrameOk;
  }

  private matches(address: number, port: number): boolean {
    const a = this.addresses;
    if (a.length !== 0) {
      let hit = false;
      for (let i = 0; i < a.length; i++) if (a[i] === address) { hit = true; break; }
      if (!hit) return false;
    }
    const ports = this.ports;
    if (ports.length === 0) return true;
    for (let i = 0; i < ports.length; i++) if (ports[i] === port) return true;
    return false;
  }
}
