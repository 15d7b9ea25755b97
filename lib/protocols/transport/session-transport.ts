/**
 * The one interface a venue session (SoupBinTCP/OUCH, FIX) writes to and reads from, whatever
 * carries the bytes: `native` (a non-blocking socket in the addon, sent to straight from the
 * caller's loop and received by `poll()` once per loop turn) or `libuv` (net.Socket: data arrives
 * by events, `poll()` does nothing). Sessions never create sockets themselves; they take a
 * `TransportFactory`, so tests can run the same session over both.
 *
 * Threading: the owner's thread; events run synchronously inside `poll()` (native) or from the
 * event loop (libuv). Never both for one transport.
 */
export type TransportKind = 'native' | 'libuv';

export type TransportState = 'idle' | 'connecting' | 'connected' | 'closed';

export interface TransportEvents {
  /** The TCP connection is up. */
  onConnect(): void;
  /** Bytes arrived: buf[offset, offset + length), valid only during the call (parse or copy). */
  onData(buf: Buffer, offset: number, length: number): void;
  /** The connection ended (peer closed, error). `errnoCode` like 'ECONNREFUSED' when an error ended it. Not called after close(). */
  onClose(reason: string, errnoCode: string | undefined): void;
}

export interface TransportStats {
  kind: TransportKind;
  bytesOut: number;
  bytesIn: number;
  sends: number;
  /** Sends the kernel could not take at once (queued behind: backpressure). */
  queuedSends: number;
  connects: number;
  /** SO_BUSY_POLL microseconds in effect; 0 = not asked or not supported; negative = -errno refused. */
  busyPollUs: number;
  /**
   * Kernel TX software timestamps (native only: SO_TIMESTAMPING, the order-out instant): 1 = on,
   * 0 = not asked (or libuv, or not connected yet), negative = -errno the kernel refused with.
   */
  txStamps?: number;
}

export interface SessionTransport {
  readonly kind: TransportKind;
  readonly state: TransportState;
  /** Starts connecting; the outcome arrives as onConnect or onClose. */
  connect(host: string, port: number, events: TransportEvents): void;
  /** Writes buf[offset, offset + length) now (what the kernel cannot take is queued in order). False when not connected. */
  send(buf: Buffer, offset: number, length: number): boolean;
  /**
   * True when `send` of zero bytes runs the whole send path up to the kernel and returns before
   * any system call, moving nothing (no bytes, no counter, no send seq): the keep-warm's send
   * (SoupBinClient.warmSend). Absent or false: a zero-byte send is not made.
   */
  readonly zeroSendFree?: boolean;
  /** One loop turn: finish a connect, flush, one receive; returns bytes delivered. libuv: 0. */
  poll(): number;
  /** Closes at once; no event follows. The transport may connect again. */
  close(): void;
  /**
   * Graceful end: what was sent still reaches the peer, then end of stream (FIN). Receiving goes on
   * until the peer closes (onClose). For a last message before hanging up (a login reject).
   */
  end(): void;
  stats(): TransportStats;
}

export interface TransportOptions {
  /** SO_BUSY_POLL microseconds for the native transport (0 = off). */
  busyPollUs?: number;
  /** Kernel TX software timestamps on the native transport's socket (default on for venue sessions). */
  txTimestamps?: boolean;
}

export type TransportFactory = () => SessionTransport;

/**
 * The accepting side (a venue): listens, and hands each accepted connection to `onConnection` as a
 * connected SessionTransport, whose events the handler returns. `native` accepts and receives in
 * `poll()`, called by the owner's loop; `libuv` by event-loop callbacks (`poll()` returns 0).
 */
export interface ServerTransport {
  readonly kind: TransportKind;
  /** Listens on host:port (0 = ephemeral); resolves with the bound port. */
  listen(host: string, port: number, onConnection: (t: SessionTransport) => TransportEvents): Promise<number>;
  /** One loop turn: accept what is pending, poll every connection; returns the work done. libuv: 0. */
  poll(): number;
  /** Stops listening and closes every connection (no onClose follows). */
  close(): Promise<void>;
  stats(): ServerTransportStats;
}

export interface ServerTransportStats {
  kind: TransportKind;
  accepted: number;
  connections: number;
  /** SO_BUSY_POLL asked for on accepted sockets (µs), 0 = off. */
  busyPollUs: number;
  /** Loop turns that called poll() (native). */
  polls: number;
}
