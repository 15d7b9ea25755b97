/**
 * Classic libpcap file reader over an in-memory Buffer/Uint8Array, for tools and tests.
 *
 * The native addon has its own zero-copy pcap backend for the RX path; this one exists so `tickpath
 * decode` and the tests can walk a capture without the binding. It reads frames in place: `next()`
 * moves the cursor and sets `frameOffset`/`capturedLength`, no copy and no object per frame.
 * Handles the microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magics in either byte order and
 * link type 1 (Ethernet). Malformed files throw TickpathError with code ERR_PCAP_FORMAT (not a pcap,
 * wrong link type) or ERR_PCAP_TRUNCATED (a record runs past the end of the file).
 */
import { TickpathError } from '../../errors';

export const kPcapMagicMicros = 0xa1b2c3d4;
export const kPcapMagicNanos = 0xa1b23c4d;
export const kPcapLinkTypeEthernet = 1;
const kGlobalHeaderLength = 24;
const kRecordHeaderLength = 16;

export class PcapReader {
  readonly data: Uint8Array;
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  readonly linkType: number;
  readonly snapLength: number;
  private readonly view: DataView;
  private readonly name: string;
  private position = kGlobalHeaderLength;

  /** 1-based number of the current frame; 0 before the first `next()`. */
  frameNumber = 0;
  /** Absolute offset of the current frame's first byte in `data`. */
  frameOffset = 0;
  capturedLength = 0;
  originalLength = 0;
  timestampSeconds = 0;
  /** Sub-second part of the timestamp in nanoseconds, whatever the file's resolution. */
  timestampNanos = 0;

  constructor(data: Uint8Array, name = 'pcap') {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.byteLength < kGlobalHeaderLength) {
      throw new TickpathError('ERR_PCAP_FORMAT', `${name}: not a pcap file (${data.byteLength} bytes, the global header alone is ${kGlobalHeaderLength})`);
    }
    const magicLe = this.view.getUint32(0, true);
    const magicBe = this.view.getUint32(0, false);
    if (magicLe === kPcapMagicMicros || magicLe === kPcapMagicNanos) {
      this.littleEndian = true;
      this.nanosecond = magicLe === kPcapMagicNanos;
    } else if (magicBe === kPcapMagicMicros || magicBe === kPcapMagicNanos) {
      this.littleEndian = false;
      this.nanosecond = magicBe === kPcapMagicNanos;
    } else {
      throw new TickpathError('ERR_PCAP_FORMAT',
        `${name}: not a classic pcap file (magic 0x${magicBe.toString(16).padStart(8, '0')}, expected a1b2c3d4 or a1b23c4d in either byte order)`,
        'pcapng is not supported: convert with `editcap -F pcap in.pcapng out.pcap`');
    }
    this.snapLength = this.view.getUint32(16, this.littleEndian);
    this.linkType = this.view.getUint32(20, this.littleEndian);
    if (this.linkType !== kPcapLinkTypeEthernet) {
      throw new TickpathError('ERR_PCAP_FORMAT', `${name}: link type ${this.linkType} is not supported, expected 1 (Ethernet)`);
    }
    this.name = name;
  }

  /** Advance to the next frame; false at a clean end of file. Throws ERR_PCAP_TRUNCATED on a cut record. */
  next(): boolean {
    const p = this.position;
    const total = this.data.byteLength;
    if (p === total) return false;
    const frame = this.frameNumber + 1;
    if (p + kRecordHeaderLength > total) {
      throw new TickpathError('ERR_PCAP_TRUNCATED', `${this.name}: frame ${frame} record header is truncated at byte ${p} (file is ${total} bytes)`);
    }
    const le = this.littleEndian;
    const captured = this.view.getUint32(p + 8, le);
    if (p + kRecordHeaderLength + captured > total) {
      throw new TickpathError('ERR_PCAP_TRUNCATED',
        `${this.name}: frame ${frame} claims ${captured} captured bytes but only ${total - p - kRecordHeaderLength} remain`);
    }
    this.timestampSeconds = this.view.getUint32(p, le);
    const fraction = this.view.getUint32(p + 4, le);
    this.timestampNanos = this.nanosecond ? fraction : fraction * 1000;
    this.capturedLength = captured;
    this.originalLength = this.view.getUint32(p + 12, le);
    this.frameOffset = p + kRecordHeaderLength;
    this.frameNumber = frame;
    this.position = this.frameOffset + captured;
    return true;
  }
}
