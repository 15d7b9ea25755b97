/**
 * Writes what a port's RX queue receives to a pcap file, reading descriptors in place
 * (RxConsumer.available / descriptorWord / advance): one copy into the pcap chunk per packet.
 *
 * Descriptors flagged L4-payload (the udp backend: the kernel stripped Ethernet/IP/UDP) are
 * wrapped in synthetic Ethernet/IPv4/UDP headers written by UdpFrameWriter, so the file stays a
 * valid Ethernet capture; those headers carry the configured addresses, not the real sender.
 * Timestamps become epoch time: poll-time stamps (CLOCK_MONOTONIC) are shifted by the
 * realtime - monotonic offset measured at start; kernel/NIC and file stamps are epoch already.
 * Single consumer: the thread calling doWork().
 */
import { Port, PortOptions } from '../binding/port';
import { RxConsumer } from '../binding/rx-consumer';
import { kLayout } from '../binding/layout';
import { UdpFrameWriter, UdpFrameWriterOptions } from '../feed/wire/udp-frame-writer';
import { PcapFileWriter } from '../feed/pcap/pcap-file-writer';
import { CaptureFilter } from './capture-filter';

export interface PacketCaptureOptions {
  /** Stop after this many packets (0 = no limit); with a filter, packets that pass it. */
  count?: number;
  /**
   * Keep only frames that pass this compiled BPF expression (capture-filter.ts). Frames that do not
   * (IPv6 neighbour discovery, ARP, other groups and ports) are neither written nor counted.
   * L4-payload descriptors (the udp backend) are tested with the synthetic headers they are written with.
   */
  filter?: CaptureFilter;
  /** Headers for L4-payload descriptors. */
  syntheticHeaders?: UdpFrameWriterOptions;
  burst?: number;
  /**
   * af_packet: the kernel strips an 802.1Q tag and hands it over beside the frame (descriptor aux =
   * 0x10000 | TCI). Put it back, as libpcap does on Linux, so the file holds the frame as it was on
   * the wire and a filter ('vlan 141 and udp') means the same as on the other backends.
   */
  restoreVlanTags?: boolean;
}

export class PacketCapture {
  packets = 0;
  bytes = 0;
  /** Packets that arrived as UDP payloads and were given synthetic headers. */
  wrapped = 0;
  truncated = 0;
  /** Frames the filter kept out. */
  filtered = 0;
  private readonly limit: number;
  private readonly filter: CaptureFilter | undefined;
  private readonly burst: number;
  private readonly restoreVlan: boolean;
  private readonly headers: UdpFrameWriter;
  private readonly realtimeMinusMonotonic: number;

  constructor(private readonly rx: RxConsumer, private readonly writer: PcapFileWriter, options: PacketCaptureOptions = {}) {
    this.limit = options.count ?? 0;
    this.filter = options.filter;
    this.burst = options.burst ?? 256;
    this.restoreVlan = options.restoreVlanTags === true;
    this.headers = new UdpFrameWriter(options.syntheticHeaders ?? { sourceAddress: '0.0.0.0', destinationAddress: '127.0.0.1', sourcePort: 0, destinationPort: 0 });
    this.realtimeMinusMonotonic = Date.now() * 1e6 - Number(process.hrtime.bigint());
  }

  get done(): boolean {
    return this.limit > 0 && this.packets >= this.limit;
  }

  /** Writes up to one burst of received packets; returns how many. */
  doWork(): number {
    const rx = this.rx;
    let want = this.burst;
    if (this.limit > 0 && this.limit - this.packets < want) want = this.limit - this.packets;
    if (want <= 0) return 0;
    const n = rx.available(want);
    if (n === 0) return 0;
    const w = this.writer;
    const filter = this.filter;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const offset = rx.descriptorWord(i, 0);
      const regionFlags = rx.descriptorWord(i, 1);
      const len = rx.descriptorWord(i, 2);
      const wire = rx.descriptorWord(i, 3);
      let ts = rx.descriptorWord(i, 5) * 4294967296 + rx.descriptorWord(i, 4);
      const flags = regionFlags >>> 16;
      if (flags & kLayout.flagTsPoll) ts += this.realtimeMinusMonotonic;
      if (flags & kLayout.flagTruncated) this.truncated++;
      const region = rx.region(regionFlags & 0xffff);
      const aux = this.restoreVlan ? rx.descriptorWord(i, 7) : 0;
      if ((aux & 0x10000) !== 0 && (flags & kLayout.flagL4Payload) === 0 && len >= 12) {
        // The stripped tag goes back between the MAC addresses and the EtherType.
        const at = w.reserve(len + 4);
        const chunk = w.chunk;
        chunk.set(region.subarray(offset, offset + 12), at);
        chunk[at + 12] = 0x81; chunk[at + 13] = 0x00; chunk[at + 14] = (aux >>> 8) & 0xff; chunk[at + 15] = aux & 0xff;
        chunk.set(region.subarray(offset + 12, offset + len), at + 16);
        if (filter !== undefined && !filter.matches(chunk, at, len + 4, wire + 4)) { this.filtered++; continue; }
        const seconds = Math.floor(ts / 1e9);
        w.commit(len + 4, seconds, ts - seconds * 1e9, wire + 4);
        this.bytes += len + 4;
        kept++;
        continue;
      }
      if (filter !== undefined && (flags & kLayout.flagL4Payload) === 0 && !filter.matches(region, offset, len, wire)) { this.filtered++; continue; }
      const seconds = Math.floor(ts / 1e9);
      const nanos = ts - seconds * 1e9;
      if (flags & kLayout.flagL4Payload) {
        const h = this.headers;
        const at = w.reserve(h.headerLength + len);
        const chunk = w.chunk;
        chunk.set(region.subarray(offset, offset + len), at + h.headerLength);
        const frameLength = h.write(chunk, at, wire);
        // Not committed, the reservation is simply reused by the next frame.
        if (filter !== undefined && !filter.matches(chunk, at, h.headerLength + len, frameLength)) { this.filtered++; continue; }
        // The UDP/IP lengths say what was on the wire; only `len` bytes were kept.
        w.commit(h.headerLength + len, seconds, nanos, frameLength);
        this.wrapped++;
        this.bytes += h.headerLength + len;
        kept++;
      } else {
        w.addFrame(region, offset, len, seconds, nanos, wire);
        this.bytes += len;
        kept++;
      }
    }
    rx.advance(n);
    this.packets += kept;
    return n;
  }
}

export interface CaptureRunOptions extends PacketCaptureOptions {
  port: PortOptions;
  out: string;
  /** Stop after this many seconds (0 = no limit). */
  durationSeconds?: number;
  /** Called once the port is open and receiving (tests start their traffic here). */
  onStarted?: (description: string) => void;
  /** Ends the capture when aborted (SIGINT in the CLI). */
  signal?: AbortSignal;
}

export interface CaptureReport {
  file: string;
  backend: string;
  description: string;
  packets: number;
  bytes: number;
  wrapped: number;
  truncated: number;
  /** Frames the filter kept out (not written, not counted in packets). */
  filtered: number;
  durationSeconds: number;
  ringFullDrops: number;
  kernelDrops: number;
  reason: 'count' | 'duration' | 'stopped' | 'end of input';
}

/** Opens the port (inline poller: this thread polls), captures until count, duration, abort or EOF. */
export async function runCapture(o: CaptureRunOptions): Promise<CaptureReport> {
  const port = Port.open({ ...o.port, poller: 'inline' });
  const restoreVlanTags = port.backend === 'af_packet';
  let writer: PcapFileWriter | undefined;
  try {
    writer = new PcapFileWriter(o.out);
    const rx = port.consumer(0);
    const capture = new PacketCapture(rx, writer, { ...o, restoreVlanTags });
    const start = performance.now();
    const deadline = o.durationSeconds ? start + o.durationSeconds * 1000 : Infinity;
    o.onStarted?.(port.description);
    let idle = 0;
    let busy = 0;
    let reason: CaptureReport['reason'] = 'stopped';
    for (;;) {
      if (capture.done) { reason = 'count'; break; }
      if (o.signal?.aborted) { reason = 'stopped'; break; }
      if (performance.now() >= deadline) { reason = 'duration'; break; }
      if (capture.doWork() > 0) {
        // Busy (a flood, or frames the filter drops): still let the event loop run now and then,
        // or SIGINT/SIGTERM (the abort signal) would never be seen.
        if ((++busy & 255) === 0) await new Promise((r) => setImmediate(r));
        idle = 0;
        continue;
      }
      if (rx.eof) { reason = 'end of input'; break; }
      // Nothing received: back off from yielding to 1 ms sleeps, so an idle capture costs little.
      if (++idle < 64) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, 1));
    }
    const seconds = (performance.now() - start) / 1000;
    const stats = port.stats();
    writer.close();
    return {
      file: o.out, backend: port.backend, description: port.description, packets: capture.packets, bytes: capture.bytes,
      wrapped: capture.wrapped, truncated: capture.truncated, filtered: capture.filtered, durationSeconds: seconds,
      ringFullDrops: stats.queues[0].ringFullDrops, kernelDrops: stats.device.kernelDrops + stats.device.imissed, reason,
    };
  } finally {
    writer?.close();
    port.close();
  }
}
