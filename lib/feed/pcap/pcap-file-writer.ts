/**
 * Streams a classic pcap file to disk through one preallocated chunk: a writer reserves room for a
 * frame, fills it in place (encoders write straight into `chunk`), then commits its length and
 * timestamp. Full chunks go to the file with one writeSync, so millions of frames cost no object
 * per frame. The global header comes from lib/feed's PcapWriter, so both write the same format
 * (nanosecond magic by default, link type 1, little-endian). Single writer: the owning thread.
 */
import * as fs from 'fs';
import { PcapWriter } from './pcap-writer';
import { invalidOption } from '../../errors';

const kRecordHeaderBytes = 16;

export interface PcapFileWriterOptions {
  /** Bytes buffered before a write to the file (default 4 MiB). */
  chunkBytes?: number;
  snapLength?: number;
  nanosecond?: boolean;
}

export class PcapFileWriter {
  /** The current chunk; frames are written in it at the offset reserve() returns. */
  readonly chunk: Uint8Array;
  readonly nanosecond: boolean;
  readonly snapLength: number;
  frames = 0;
  /** Bytes written to the file so far (headers included), plus what is buffered. */
  bytes = 0;
  private readonly fd: number;
  private readonly view: DataView;
  private used = 0;
  private reserved = 0;
  private closed = false;

  constructor(readonly path: string, options: PcapFileWriterOptions = {}) {
    const chunkBytes = options.chunkBytes ?? 4 << 20;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 65536 + kRecordHeaderBytes) {
      throw invalidOption('PcapFileWriter', 'chunkBytes', chunkBytes, `an integer >= ${65536 + kRecordHeaderBytes}`);
    }
    this.nanosecond = options.nanosecond ?? true;
    this.snapLength = options.snapLength ?? 262144;
    this.chunk = new Uint8Array(chunkBytes);
    this.view = new DataView(this.chunk.buffer);
    const header = new PcapWriter({ nanosecond: this.nanosecond, snapLength: this.snapLength }).toBuffer();
    this.fd = fs.openSync(path, 'w');
    fs.writeSync(this.fd, header);
    this.bytes = header.length;
  }

  /** Room for a frame of up to `maxLength` bytes; returns the offset in `chunk` to write it at. */
  reserve(maxLength: number): number {
    if (this.used + kRecordHeaderBytes + maxLength > this.chunk.length) this.flush();
    this.reserved = maxLength;
    return this.used + kRecordHeaderBytes;
  }

  /**
   * Records the reserved frame: `length` bytes captured of `originalLength` on the wire, at
   * `seconds` + `nanos` (sub-second nanoseconds; truncated to micros for a microsecond file).
   */
  commit(length: number, seconds: number, nanos: number, originalLength = length): void {
    if (length > this.reserved) throw invalidOption('PcapFileWriter', 'length', length, `at most the ${this.reserved} bytes reserved`);
    const v = this.view, o = this.used;
    v.setUint32(o, seconds >>> 0, true);
    v.setUint32(o + 4, this.nanosecond ? nanos : Math.floor(nanos / 1000), true);
    v.setUint32(o + 8, length, true);
    v.setUint32(o + 12, originalLength, true);
    this.used = o + kRecordHeaderBytes + length;
    this.bytes += kRecordHeaderBytes + length;
    this.reserved = 0;
    this.frames++;
  }

  /** Copies a whole frame in (capture); returns nothing, counts it. */
  addFrame(b: Uint8Array, offset: number, length: number, seconds: number, nanos: number, originalLength = length): void {
    const at = this.reserve(length);
    this.chunk.set(b.subarray(offset, offset + length), at);
    this.commit(length, seconds, nanos, originalLength);
  }

  flush(): void {
    if (this.used > 0) fs.writeSync(this.fd, this.chunk, 0, this.used);
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    fs.closeSync(this.fd);
  }
}
