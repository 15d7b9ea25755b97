/**
 * SoupBinTCP 3.0 server side: accepts logins, keeps one sequenced-message stream per logical
 * session (per username) that outlives connections, replays it from the sequence number a
 * re-connecting client asks for, and heartbeats. Used by the venue simulator; the feed can reuse
 * it for GLIMPSE-style snapshot service.
 *
 * Sockets come from a `ServerTransport` (transport/tcp-server.ts): `libuv` by default (net.Server),
 * or `native`, accepted and received in `poll()` from the owner's loop (`tickpath venue-sim`), so
 * an Unsequenced Data frame reaches the handler, and its answer the client, without an event-loop
 * turn. Frames go out through one scratch buffer per connection over the native transport (it
 * sends or copies at once); over libuv each frame is its own Buffer (net.Socket may keep it).
 *
 * The store keeps each sequenced payload as its own Buffer (replayed on re-login).
 * Threading: one thread: the event loop (libuv) or the loop that calls `poll()` (native); every
 * handler callback runs there.
 */
import { readAlpha, readNumeric } from '../../common/bytes';
import type { ServerTransport, SessionTransport, TransportEvents } from '../transport/session-transport';
import { LibuvTcpServer } from '../transport/tcp-server';
import {
  SoupFrameParser, encodeLoginAccepted, encodeLoginRejected, writeFrameHeader,
  kSoupLoginRequest, kSoupUnsequencedData, kSoupClientHeartbeat, kSoupLogoutRequest, kSoupDebug,
  kSoupSequencedData, kSoupServerHeartbeat, kSoupEndOfSession, kSoupUsernameLen, kSoupPasswordLen, kSoupSessionLen,
  kSoupRejectNotAuthorized,
} from './soupbintcp';

/** Bytes per store chunk of a stream (a payload larger than this gets a chunk of its own size). */
const kStoreChunk = 64 * 1024;

/**
 * The sequenced stream of one logical session; survives reconnects. Its store keeps every payload
 * for replay, back to back in 64 KiB chunks, with each message's chunk, offset and length in typed
 * arrays: no Buffer per message. Why: the store's `Buffer.from` copy was about 0.25 us of the venue's
 * path from an order to its ack (perf/router-rtt --split, OUCH, spinning), an allocation per
 * message; and stored after the send instead, it held up a blocking client that the ack woke onto
 * this CPU (a socket's wakeup is a sync one: the scheduler expects the sender to sleep next).
 */
export class SoupSessionStream {
  live: SoupServerConnection | null = null;
  private count = 0;
  private readonly chunks: Buffer[] = [];
  private chunkUsed = kStoreChunk;
  /** Per message: chunk number, offset in it, length. */
  private index = new Int32Array(3 * 1024);
  constructor(readonly username: string, readonly session: string) {}
  get nextSeq(): number { return this.count + 1; }
  /** Messages stored. */
  get size(): number { return this.count; }

  /** The stored payload of sequence number `seq` (1-based): a view into the store, valid until clear(). */
  message(seq: number): Buffer {
    if (!(seq >= 1 && seq <= this.count)) throw new RangeError(`SoupSessionStream ${this.username}: no message ${seq} (1..${this.count})`);
    const i = (seq - 1) * 3;
    const at = this.index[i + 1];
    return this.chunks[this.index[i]].subarray(at, at + this.index[i + 2]);
  }

  /** Forgets every stored message (GLIMPSE refills a user's stream before each login). */
  clear(): void {
    this.count = 0;
    this.chunks.length = 0;
    this.chunkUsed = kStoreChunk;
  }

  /**
   * Appends `payload` (copied) and sends it to the live connection, if any. With `live` false it
   * is stored but not sent: the client only sees it after re-logging in (fault injection: a
   * message lost in transit). Returns its sequence number.
   */
  publish(payload: Uint8Array, live = true): number {
    this.store(payload);
    if (live && this.live) this.live.writeSequenced(payload);
    return this.count;
  }

  private store(payload: Uint8Array): void {
    const n = payload.length;
    if (this.chunkUsed + n > kStoreChunk || this.chunks.length === 0) {
      this.chunks.push(Buffer.allocUnsafeSlow(n > kStoreChunk ? n : kStoreChunk));
      this.chunkUsed = 0;
    }
    const c = this.chunks.length - 1;
    this.chunks[c].set(payload, this.chunkUsed);
    let index = this.index;
    const i = this.count * 3;
    if (i + 3 > index.length) {
      // Rare (the index doubles): one larger typed array.
      const grown = new Int32Array(index.length * 2);
      grown.set(index);
      this.index = index = grown;
    }
    index[i] = c;
    index[i + 1] = this.chunkUsed;
    index[i + 2] = n;
    this.chunkUsed += n;
    this.count++;
  }
}

export interface SoupServerHandler {
  /** Returns true to accept `username`/`password`. */
  authenticate(username: string, password: string): boolean;
  onLoggedIn?(conn: SoupServerConnection): void;
  /** One Unsequenced Data payload from a logged-in client. */
  onUnsequenced(conn: SoupServerConnection, buf: Buffer, offset: number, length: number): void;
  onDisconnected?(conn: SoupServerConnection): void;
}

export interface SoupServerOptions {
  session: string;
  heartbeatIntervalMs?: number;
  clientTimeoutMs?: number;
  /** Where connections come from; default a `LibuvTcpServer`. A native one must be polled (`poll()`). */
  transport?: ServerTransport;
}

export class SoupServerConnection implements TransportEvents {
  stream: SoupSessionStream | null = null;
  readonly parser: SoupFrameParser;
  private lastSent = Date.now();
  private lastRecv = Date.now();
  private closed = false;
  /** Native transport: frames are built here and sent (or copied) at once. libuv: null. */
  private readonly scratch: Buffer | null;
  messagesIn = 0;
  /** The client sent Logout Request: a clean end, not a dropped session. */
  loggedOut = false;

  constructor(readonly transport: SessionTransport, private readonly server: SoupBinServer) {
    this.parser = new SoupFrameParser((t, b, o, l) => this.onFrame(t, b, o, l));
    this.scratch = transport.kind === 'native' ? Buffer.allocUnsafe(3 + 0xffff) : null;
  }

  // ---- TransportEvents (the connection is already up when it is handed over) ----
  onConnect(): void {}
  onData(buf: Buffer, offset: number, length: number): void {
    this.lastRecv = Date.now();
    this.parser.push(buf, offset, offset + length);
  }
  onClose(): void { this.close(); }

  get username(): string { return this.stream ? this.stream.username : ''; }
  get isOpen(): boolean { return !this.closed; }

  /** Sends one Sequenced Data frame; callers go through `SoupSessionStream.publish`. */
  writeSequenced(payload: Uint8Array): void {
    this.writeFrame(kSoupSequencedData, payload);
  }

  sendEndOfSession(): void {
    this.writeFrame(kSoupEndOfSession, null);
    this.transport.end();
  }

  /** Heartbeat tick from the server timer. */
  tick(now: number, heartbeatMs: number, timeoutMs: number): void {
    if (this.closed) return;
    if (now - this.lastRecv > timeoutMs) { this.close(); return; }
    if (this.stream && now - this.lastSent >= heartbeatMs) this.writeFrame(kSoupServerHeartbeat, null);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
    if (this.stream && this.stream.live === this) this.stream.live = null;
    this.server.connectionClosed(this);
  }

  private writeFrame(type: number, payload: Uint8Array | null): void {
    if (this.closed) return;
    const n = payload ? payload.length : 0;
    const frame = this.scratch ?? Buffer.allocUnsafe(3 + n);
    writeFrameHeader(frame, 0, type, n);
    if (payload) frame.set(payload, 3);
    this.transport.send(frame, 0, 3 + n);
    this.lastSent = Date.now();
  }

  private onFrame(type: number, buf: Buffer, off: number, len: number): void {
    if (this.closed) return; // the rest of a chunk that arrived with the frame that closed us
    switch (type) {
      case kSoupLoginRequest: {
        if (this.stream) { this.parser.malformedFrames++; return; }
        const user = readAlpha(buf, off + 1, kSoupUsernameLen);
        const pass = readAlpha(buf, off + 1 + kSoupUsernameLen, kSoupPasswordLen);
        const reqSession = readAlpha(buf, off + 1 + kSoupUsernameLen + kSoupPasswordLen, kSoupSessionLen).trim();
        const reqSeq = readNumeric(buf, off + 1 + kSoupUsernameLen + kSoupPasswordLen + kSoupSessionLen, 20);
        const out = Buffer.allocUnsafe(64);
        if (!this.server.handler.authenticate(user, pass)) {
          this.transport.send(out, 0, encodeLoginRejected(out, 0, kSoupRejectNotAuthorized));
          this.transport.end();
          return;
        }
        if (reqSession !== '' && reqSession !== this.server.session) {
          this.transport.send(out, 0, encodeLoginRejected(out, 0, 0x53));
          this.transport.end();
          return;
        }
        const stream = this.server.streamFor(user);
        if (stream.live && stream.live !== this) stream.live.close(); // newest login wins
        stream.live = this;
        this.stream = stream;
        // 0 (or past the end) means "only new messages"; otherwise replay from the requested one.
        const from = reqSeq <= 0 || reqSeq > stream.nextSeq ? stream.nextSeq : reqSeq;
        this.transport.send(out, 0, encodeLoginAccepted(out, 0, this.server.session, from));
        for (let s = from; s < stream.nextSeq; s++) this.writeFrame(kSoupSequencedData, stream.message(s));
        this.server.handler.onLoggedIn?.(this);
        return;
      }
      case kSoupUnsequencedData:
        if (!this.stream) { this.parser.malformedFrames++; return; }
        this.messagesIn++;
        this.server.handler.onUnsequenced(this, buf, off + 1, len - 1);
        return;
      case kSoupClientHeartbeat:
      case kSoupDebug:
        return;
      case kSoupLogoutRequest:
        this.loggedOut = true;
        this.transport.end();
        this.close();
        return;
      default:
        this.parser.malformedFrames++;
    }
  }
}

export class SoupBinServer {
  private server: ServerTransport | null = null;
  readonly transport: ServerTransport;
  private readonly streams = new Map<string, SoupSessionStream>();
  readonly connections = new Set<SoupServerConnection>();
  private timer: NodeJS.Timeout | null = null;
  readonly session: string;
  private readonly heartbeatMs: number;
  private readonly timeoutMs: number;

  constructor(options: SoupServerOptions, readonly handler: SoupServerHandler) {
    this.session = options.session;
    this.heartbeatMs = options.heartbeatIntervalMs ?? 1000;
    this.timeoutMs = options.clientTimeoutMs ?? 15000;
    this.transport = options.transport ?? new LibuvTcpServer();
  }

  /** One loop turn of a native transport: accept, receive, handle (libuv: nothing, returns 0). */
  poll(): number { return this.transport.poll(); }

  streamFor(username: string): SoupSessionStream {
    let s = this.streams.get(username);
    if (!s) { s = new SoupSessionStream(username, this.session); this.streams.set(username, s); }
    return s;
  }

  /** Listens on host:port (0 = ephemeral); resolves with the bound port. */
  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const bound = await this.transport.listen(host, port, (t) => {
      const c = new SoupServerConnection(t, this);
      this.connections.add(c);
      return c;
    });
    this.server = this.transport;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.tick(now, this.heartbeatMs, this.timeoutMs);
    }, Math.max(10, Math.floor(this.heartbeatMs / 2)));
    this.timer.unref();
    return bound;
  }

  connectionClosed(conn: SoupServerConnection): void {
    if (this.connections.delete(conn)) this.handler.onDisconnected?.(conn);
  }

  malformedFrames(): number {
    let n = 0;
    for (const c of this.connections) n += c.parser.malformedFrames;
    return n;
  }

  close(): Promise<void> {
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    for (const c of [...this.connections]) c.close();
    const srv = this.server;
    this.server = null;
    return srv ? srv.close() : Promise.resolve();
  }
}

