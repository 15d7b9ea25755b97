/**
 * Classic pcap writer into memory (for the generator, fixtures built by tests and fuzz corpora).
 * Link type 1; nanosecond or microsecond magic; little-endian unless asked otherwise, so tests can
 * exercise both byte orders of PcapReader.
 */
import { writeU32 } from '../../common/bytes';
import { kPcapMagicMicros, kPcapMagicNanos } from './pcap-reader';

export interface PcapWriterOptions {
  nanosecond?: boolean;
  bigEndian?: boolean;
  snapLength?: number;
}

export class PcapWriter {
  private chunks: Buffer[] = [];
  private readonly nanosecond: boolean;
  private readonly bigEndian: boolean;
  frameCount = 0;

  constructor(options: PcapWriterOptions = {}) {
    this.nanosecond = options.nanosecond ?? true;
    this.bigEndian = options.bigEndian ?? false;
    const h = Buffer.alloc(24);
    this.u32(h, 0, this.nanosecond ? kPcapMagicNanos : kPcapMagicMicros);
    this.u16(h, 4, 2);
    this.u16(h, 6, 4);
    this.u32(h, 16, options.snapLength ?? 262144);
    this.u32(h, 20, 1);
    this.chunks.push(h);
  }

  /** Append one frame; `nanos` is the sub-second part in nanoseconds (truncated to micros for a microsecond file). */
  addFrame(data: Uint8Array, seconds = 0, nanos = 0, originalLength = data.length): void {
    const h = Buffer.alloc(16);
    this.u32(h, 0, seconds);
    this.u32(h, 4, this.nanosecond ? nanos : Math.floor(nanos / 1000));
    this.u32(h, 8, data.length);
    this.u32(h, 12, originalLength);
    this.chunks.push(h, Buffer.from(data));
    this.frameCount++;
  }

  toBuffer(): Buffer {
    const b = Buffer.concat(this.chunks);
    this.chunks = [b];
    return b;
  }

  private u32(b: Uint8Array, o: number, v: number): void {
    if (this.bigEndian) writeU32(b, o, v);
    else { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; b[o + 2] = (v >>> 16) & 0xff; b[o + 3] = (v >>> 24) & 0xff; }
  }

  private u16(b: Uint8Array, o: number, v: number): void {
    if (this.bigEndian) { b[o] = v >>> 8; b[o + 1] = v & 0xff; } else { b[o] = v & 0xff; b[o + 1] = v >>> 8; }
  }
}
