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
}

export interface SessionTransport {
  readonly kind: TransportKind;
  readonly state: TransportState;
  /** Starts connecting; the outcome arrives as onConnect or onClose. */
  connect(host: string, port: number, events: TransportEvents): void;
  /** Writes buf[offset, offset + length) now (what the kernel cannot take is queued in order). False when not connected. */
  send(buf: Buffer, offset: number, length: number): boolean;
  /** One loop turn: finish a connect, flush, one receive; returns bytes delivered. libuv: 0. */
  poll(): number;
  /** Closes at once; no event follows. The transport may connect again. */
  close(): void;
  stats(): TransportStats;
}

export interface TransportOptions {
  /** SO_BUSY_POLL microseconds for the native transport (0 = off). */
  busyPollUs?: number;
}

export type TransportFactory = () => SessionTransport;
