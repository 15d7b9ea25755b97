/**
 * Outbound byte ring for one socket. Encoders write a message at `reserve()`'s offset, then
 * `commit(len)` hands the socket a view of exactly those bytes.
 *
 * Why not one reused scratch buffer: `socket.write` keeps a reference to the bytes when the kernel
 * cannot take them at once, so a scratch buffer overwritten by the next message would corrupt the
 * queued one. A ring is safe as long as the bytes still queued in the socket are fewer than the
 * ring minus one message; when they are not (a slow peer), `commit` copies instead. The only
 * per-message allocation left is the small view object `socket.write` needs.
 *
 * A `DirectSink` (a SessionTransport) takes the bytes with one call that copies what it cannot
 * send at once, so the ring is reused immediately and nothing is allocated.
 *
 * Single writer: the thread that owns the socket.
 */
import type { Socket } from 'net';

/** Something that writes buf[offset, offset + length) now and keeps no reference (SessionTransport). */
export interface DirectSink {
  send(buf: Buffer, offset: number, length: number): boolean;
}

function isDirect(s: Socket | DirectSink): s is DirectSink {
  return typeof (s as DirectSink).send === 'function';
}

export class TxRing {
  readonly buf: Buffer;
  private pos = 0;
  private start = 0;
  copiesForSlowPeer = 0;

  constructor(readonly size: number, readonly maxMessage: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Offset where the next message of at most `maxMessage` bytes may be written. */
  reserve(): number {
    if (this.pos + this.maxMessage > this.size) this.pos = 0;
    this.start = this.pos;
    return this.pos;
  }

  /** Writes the `len` bytes encoded since `reserve()` to `socket`; returns false if it is gone. */
  commit(socket: Socket | DirectSink | null, len: number): boolean {
    const start = this.start;
    this.pos = start + len;
    if (!socket) return false;
    if (isDirect(socket)) return socket.send(this.buf, start, len);
    if (socket.destroyed || !socket.writable) return false;
    if (socket.writableLength + len + this.maxMessage > this.size) {
      this.copiesForSlowPeer++;
      socket.write(Buffer.from(this.buf.subarray(start, start + len)));
    } else {
      socket.write(this.buf.subarray(start, start + len));
    }
    return true;
  }

  /**
   * Like `commit`, for encoders that start their message somewhere after the reserved offset
   * (the FIX encoder writes its header backwards from the body): sends buf[start, end).
   */
  commitRange(socket: Socket | DirectSink | null, start: number, end: number): boolean {
    this.start = start;
    return this.commit(socket, end - start);
  }

  /**
   * Keep-warm: reads the bytes the next message will be encoded into (where `reserve()` would put
   * it), one load per cache line, without reserving anything. Returns a sum the caller keeps.
   */
  touchNext(bytes: number): number {
    const p = this.pos + this.maxMessage > this.size ? 0 : this.pos;
    const end = Math.min(p + bytes, this.size);
    const b = this.buf;
    let sum = 0;
    for (let i = p; i < end; i += 64) sum += b[i];
    return sum + b[end - 1];
  }

  /** The bytes of the last committed (or being encoded) message: for stores and logs. */
  last(len: number): Buffer {
    return this.buf.subarray(this.start, this.start + len);
  }
}
