/**
 * SessionTransport over net.Socket: the fallback when the addon is not built, and for callers
 * that want the event loop to deliver data (`transport: 'libuv'`). `poll()` does nothing: bytes
 * arrive by 'data' events on the next event-loop turn after the kernel has them.
 *
 * Threading: the owning thread's event loop.
 */
import * as net from 'net';
import type { SessionTransport, TransportEvents, TransportState, TransportStats } from './session-transport';

export class LibuvTcpTransport implements SessionTransport {
  readonly kind = 'libuv' as const;
  state: TransportState = 'idle';
  private socket: net.Socket | null = null;
  private readonly counters = { bytesOut: 0, bytesIn: 0, sends: 0, queuedSends: 0, connects: 0 };

  connect(host: string, port: number, events: TransportEvents): void {
    if (this.socket) this.close();
    const sock = net.connect({ host, port, noDelay: true });
    this.state = 'connecting';
    this.attach(sock, events);
    // A closed socket's late events must not reach the owner (it may already have a successor).
    sock.on('connect', () => { if (this.socket === sock) { this.state = 'connected'; events.onConnect(); } });
  }

  /** Takes over a socket a net.Server accepted (already connected); events from now on. */
  adopt(sock: net.Socket, events: TransportEvents): void {
    if (this.socket) this.close();
    sock.setNoDelay(true);
    this.state = 'connected';
    this.attach(sock, events);
  }

  private attach(sock: net.Socket, events: TransportEvents): void {
    this.socket = sock;
    this.counters.connects++;
    let errno: string | undefined;
    sock.on('data', (chunk: Buffer) => {
      if (this.socket !== sock) return;
      this.counters.bytesIn += chunk.length;
      events.onData(chunk, 0, chunk.length);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => { errno = err.code; });
    sock.on('close', () => {
      if (this.socket !== sock) return;
      this.socket = null;
      this.state = 'closed';
      events.onClose(errno ? `socket error: ${errno}` : 'connection closed by peer', errno);
    });
  }

  send(buf: Buffer, offset: number, length: number): boolean {
    const s = this.socket;
    if (!s || this.state !== 'connected' || s.destroyed || !s.writable) return false;
    this.counters.sends++;
    this.counters.bytesOut += length;
    // socket.write keeps a reference when the kernel cannot take the bytes: copy then, so the
    // caller may reuse its buffer at once (the native transport's contract).
    if (s.writableLength > 0) { this.counters.queuedSends++; s.write(Buffer.from(buf.subarray(offset, offset + length))); }
    else if (!s.write(buf.subarray(offset, offset + length))) this.counters.queuedSends++;
    return true;
  }

  poll(): number { return 0; }

  end(): void {
    const s = this.socket;
    if (s && !s.destroyed) s.end();
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    this.state = 'closed';
    if (s) { s.removeAllListeners('data'); s.on('error', () => {}); s.destroy(); }
  }

  stats(): TransportStats {
    return { kind: this.kind, ...this.counters, busyPollUs: 0 };
  }
}
