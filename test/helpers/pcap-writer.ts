/** Writes small classic pcap files for tests (either magic, either byte order). */
import * as fs from 'fs';

/** A frame and its capture time (seconds + nanoseconds: epoch ns do not fit a double exactly). */
export interface TestFrame { data: Uint8Array; sec: number; nsec: number; wireLen?: number }

export function pcapBytes(frames: TestFrame[], opts: { nanos?: boolean; bigEndian?: boolean; linkType?: number } = {}): Buffer {
  const nanos = opts.nanos ?? true;
  const be = opts.bigEndian ?? false;
  const parts: Buffer[] = [];
  const hdr = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const w16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  w32(hdr, nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(hdr, 2, 4); w16(hdr, 4, 6); w32(hdr, 0, 8); w32(hdr, 0, 12); w32(hdr, 65535, 16); w32(hdr, opts.linkType ?? 1, 20);
  parts.push(hdr);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    w32(r, f.sec, 0); w32(r, nanos ? f.nsec : Math.floor(f.nsec / 1000), 4);
    w32(r, f.data.length, 8); w32(r, f.wireLen ?? f.data.length, 12);
    parts.push(r, Buffer.from(f.data));
  }
  return Buffer.concat(parts);
}

export function writePcap(path: string, frames: TestFrame[], opts?: { nanos?: boolean; bigEndian?: boolean; linkType?: number }): void {
  fs.writeFileSync(path, pcapBytes(frames, opts));
}

/** Deterministic frames of varying sizes: Ethernet header + a counter pattern. */
export function makeFrames(n: number, seed = 1): TestFrame[] {
  const out: TestFrame[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const len = 60 + (x % 1400);
    const data = new Uint8Array(len);
    data.set([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00]);
    for (let j = 14; j < len; j++) data[j] = (i * 7 + j) & 0xff;
    data[14] = i & 0xff; data[15] = (i >>> 8) & 0xff;
    out.push({ data, sec: 1_700_000_000 + Math.floor(i / 1000), nsec: (i % 1000) * 1000 });
  }
  return out;
}
