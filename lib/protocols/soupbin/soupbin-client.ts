/**
 * SoupBinTCP 3.0 client session: logs in with a session id and the next sequence number it
 * expects, counts Sequenced Data to keep that number current, heartbeats both ways, and can be
 * connected again after a drop, asking the server to resume exactly where the last connection
 * stopped (so no sequenced message is missed or seen twice).
 *
 * Bytes move through a SessionTransport (`transport` option; default libuv): over the native one
 * the owner calls `poll(nowMs)` each loop turn, which receives, parses in place and runs the
 * heartbeat and timeout checks on the loop's clock; an unref'd timer runs the same checks as a
 * backstop when the event loop is free (and is all the libuv transport has).
 *
 * Threading: one thread (the router worker's); every callback runs there, synchronously from
 * `poll()` (native) or from the event loop (libuv).
 */
import { socketErrorFix } from '../socket-errors';
import { readAlpha, readNumeric } from '../../common/bytes';
import type { SessionTransport, TransportEvents, TransportFactory, TransportKind } from '../transport/session-transport';
import { LibuvTcpTransport } from '../transport/libuv-tcp-transport';
import { TickpathError, invalidOption } from '../../errors';
import {
  SoupFrameParser, encodeLoginRequest, encodeEmpty, writeFrameHeader,
  kSoupLoginAccepted, kSoupLoginRejected, kSoupSequencedData, kSoupUnsequencedData, kSoupServerHeartbeat,
  kSoupEndOfSession, kSoupClientHeartbeat, kSoupLogoutRequest, kSoupDebug, kSoupSessionLen,
  kSoupRejectNotAuthorized,
} from './soupbintcp';
import { TxRing } from '../tx-ring';

export interface SoupClientOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** Session to join; '' asks for the current one. Updated from Login Accepted. */
  session?: string;
  /** First sequence number wanted on the first login; 1 = everything, 0 = only new messages. */
  nextSeq?: number;
  heartbeatIntervalMs?: number;
  /** Drop the connection when the server has been silent this long. */
  serverTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Largest unsequenced payload the caller will send. */
  maxPayload?: number;
  /** Makes the connection's transport (once; reused by reconnects). Default: libuv. */
  transport?: TransportFactory;
}

export interface SoupClientHandler {
  /** One Sequenced Data payload, `seq` its sequence number. Buffer valid only during the call. */
  onSequenced(buf: Buffer, offset: number, length: number, seq: number): void;
  /** The connection ended; `reason` says why; `endOfSession` when the server sent 'Z'. */
  onDisconnected(reason: string, endOfSession: boolean): void;
}

const kWhere = 'SoupBinClient';

function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw invalidOption(kWhere, name, v, 'a positive integer');
  return v;
}

export class SoupBinClient {
  /** Created on the first connect, reused by every reconnect (the native one owns a channel). */
  private transport: SessionTransport | null = null;
  private readonly makeTransport: TransportFactory;
  private readonly events: TransportEvents;
  /** A connection (or an attempt) is up: the transport may deliver events. */
  private active = false;
  private connectDeadline = 0;
  private lastCheck = 0;
  private readonly checkEveryMs: number;
  /** errno of the last socket error, for the fix hint of a failed connect. */
  private lastErrno: string | undefined;
  private readonly parser: SoupFrameParser;
  private readonly tx: TxRing;
  private timer: NodeJS.Timeout | null = null;
  private lastRecv = 0;
  private lastSent = 0;
  private loggedIn = false;
  private closing = false;
  private pendingLogin: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly opts: Required<Omit<SoupClientOptions, 'transport'>>;

  session: string;
  /** Sequence number of the next Sequenced Data message this client expects. */
  nextSeq: number;
  readonly counters = { messagesIn: 0, messagesOut: 0, heartbeatsIn: 0, heartbeatsOut: 0, logins: 0, loginRejects: 0, debugIn: 0 };

  constructor(options: SoupClientOptions, private readonly handler: SoupClientHandler) {
    if (typeof options.host !== 'string' || options.host === '') throw invalidOption(kWhere, 'host', options.host, 'a host name');
    if (typeof options.port !== 'number' || !Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) {
      throw invalidOption(kWhere, 'port', options.port, 'an integer port 1..65535');
    }
    if (typeof options.username !== 'string' || options.username.length > 6) throw invalidOption(kWhere, 'username', options.username, 'a string of at most 6 characters');
    if (typeof options.password !== 'string' || options.password.length > 10) throw invalidOption(kWhere, 'password', options.password, 'a string of at most 10 characters');
    const session = options.session ?? '';
    if (typeof session !== 'string' || session.length > kSoupSessionLen) throw invalidOption(kWhere, 'session', session, 'a string of at most 10 characters');
    const nextSeq = options.nextSeq ?? 1;
    if (!Number.isInteger(nextSeq) || nextSeq < 0) throw invalidOption(kWhere, 'nextSeq', nextSeq, 'a non-negative integer');
    this.opts = {
      host: options.host, port: options.port, username: options.username, password: options.password,
      session, nextSeq,
      heartbeatIntervalMs: checkPositiveInt('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 1000),
      serverTimeoutMs: checkPositiveInt('serverTimeoutMs', options.serverTimeoutMs ?? 15000),
      connectTimeoutMs: checkPositiveInt('connectTimeoutMs', options.connectTimeoutMs ?? 5000),
      maxPayload: checkPositiveInt('maxPayload', options.maxPayload ?? 1024),
    };
    this.session = session;
    this.nextSeq = nextSeq;
    this.parser = new SoupFrameParser((type, buf, off, len) => this.onFrame(type, buf, off, len));
    this.tx = new TxRing(256 * 1024, this.opts.maxPayload + 3);
    this.makeTransport = options.transport ?? (() => new LibuvTcpTransport());
    this.checkEveryMs = Math.max(1, Math.min(10, Math.floor(this.opts.heartbeatIntervalMs / 4)));
    this.events = {
      onConnect: () => {
        const off = this.tx.reserve();
        const end = encodeLoginRequest(this.tx.buf, off, this.opts.username, this.opts.password, this.session, this.nextSeq);
        this.tx.commit(this.transport, end - off);
        this.lastSent = Date.now();
      },
      onData: (buf, off, len) => {
        this.lastRecv = Date.now();
        this.parser.push(buf, off, off + len);
      },
      onClose: (reason, errno) => {
        this.lastErrno = errno;
        this.drop(reason, 'ERR_SOUP_CONNECT');
      },
    };
  }

  /** Which transport carries the session ('native' or 'libuv'). */
  get transportKind(): TransportKind {
    if (!this.transport) this.transport = this.makeTransport();
    return this.transport.kind;
  }

  /** The transport's counters (kind, bytes, sends queued behind backpressure...). */
  transportStats(): ReturnType<SessionTransport['stats']> | undefined {
    return this.transport?.stats();
  }

  /**
   * One turn of the owner's loop: receive (native transport: one recv, frames parsed in place,
   * handler called from here) and, every few ms of `nowMs`, the heartbeat/timeout checks.
   * Returns bytes received. Cheap when idle: one native call.
   */
  poll(nowMs: number = Date.now()): number {
    const n = this.active && this.transport ? this.transport.poll() : 0;
    if (nowMs - this.lastCheck >= this.checkEveryMs) { this.lastCheck = nowMs; this.checkTimers(nowMs); }
    return n;
  }

  get isLoggedIn(): boolean { return this.loggedIn; }
  get malformedFrames(): number { return this.parser.malformedFrames; }

  /** Connects and logs in from `nextSeq`; resolves on Login Accepted. Call again after a drop. */
  connect(): Promise<void> {
    if (this.active) return Promise.reject(new TickpathError('ERR_SOUP_STATE', `${kWhere}: already connected to ${this.opts.host}:${this.opts.port}`));
    this.closing = false;
    this.parser.reset();
    return new Promise<void>((resolve, reject) => {
      this.pendingLogin = { resolve, reject };
      const t = this.transport ?? (this.transport = this.makeTransport());
      this.active = true;
      this.lastErrno = undefined;
      this.connectDeadline = Date.now() + this.opts.connectTimeoutMs;
      this.startTimer();
      // A closed transport delivers no late events, so a dropped connection cannot touch its successor.
      t.connect(this.opts.host, this.opts.port, this.events);
    });
  }

  /**
   * Sends one Unsequenced Data packet whose payload the caller has written at
   * `payloadOffset()` (call that first). Returns false when not logged in.
   */
  payloadOffset(): number {
    return this.tx.reserve() + 3;
  }

  sendUnsequenced(payloadLen: number): boolean {
    if (!this.loggedIn || !this.transport) return false;
    const off = this.tx.reserve();
    writeFrameHeader(this.tx.buf, off, kSoupUnsequencedData, payloadLen);
    this.counters.messagesOut++;
    this.lastSent = Date.now();
    return this.tx.commit(this.transport, payloadLen + 3);
  }

  get txBuffer(): Buffer { return this.tx.buf; }

  /**
   * Keep-warm (OuchConnector.warmSendPath, between orders): runs the next packet's send path, this
   * session's ring and transport objects and the transport's `send` into the addon's send entry,
   * with zero bytes, which a `zeroSendFree` transport (the native one) returns from before any
   * system call. Nothing moves: no bytes are written or sent, no counter, no lastSent (heartbeats
   * go by it), no send seq; the ring's reserve() only does what the next message's reserve() will
   * do anyway (the same wrap to 0, or none). Returns whether it ran: false while not logged in, or
   * on a transport where a zero-byte send is not free (libuv, an old addon).
   */
  warmSend(): boolean {
    const t = this.transport;
    if (!this.loggedIn || t === null || t === undefined || t.zeroSendFree !== true) return false;
    this.tx.reserve();
    const ran = this.tx.commit(t, 0);
    // Read, not written: the lines a real send updates next (both are never negative, so the
    // result is `ran`; the reads only keep TurboFan from dropping the loads).
    return ran && this.counters.messagesOut >= 0 && this.lastSent >= 0;
  }

  /** Keep-warm: reads where the next `bytes`-byte packet will be encoded (TxRing.touchNext); reserves nothing. */
  touchTx(bytes: number): number { return this.tx.touchNext(bytes); }

  /** Sends Logout Request and waits (briefly) for the server to close. */
  async logout(): Promise<void> {
    const t = this.transport;
    if (!t || !this.active) return;
    this.closing = true;
    if (this.loggedIn) {
      const off = this.tx.reserve();
      this.tx.commit(t, encodeEmpty(this.tx.buf, off, kSoupLogoutRequest) - off);
    }
    // The server answers a Logout Request by closing: wait for that (at most 500 ms), polling the
    // transport ourselves since the owner's loop may already have stopped.
    const until = Date.now() + 500;
    await new Promise<void>((resolve) => {
      const wait = (): void => {
        if (this.active) t.poll();
        if (!this.active || Date.now() >= until) resolve();
        else setTimeout(wait, 1);
      };
      wait();
    });
    this.drop('logged out', 'ERR_SOUP_CLOSED');
  }

  /** Tears the connection down at once (tests use it to simulate a dead link). */
  destroy(reason = 'destroyed locally'): void {
    this.drop(reason, 'ERR_SOUP_CLOSED');
  }

  private onFrame(type: number, buf: Buffer, off: number, len: number): void {
    switch (type) {
      case kSoupSequencedData: {
        this.counters.messagesIn++;
        const seq = this.nextSeq++;
        this.handler.onSequenced(buf, off + 1, len - 1, seq);
        break;
      }
      case kSoupServerHeartbeat:
        this.counters.heartbeatsIn++;
        break;
      case kSoupLoginAccepted: {
        this.session = readAlpha(buf, off + 1, kSoupSessionLen).trim();
        const seq = readNumeric(buf, off + 1 + kSoupSessionLen, 20);
        if (seq > 0) this.nextSeq = seq;
        this.loggedIn = true;
        this.counters.logins++;
        this.lastRecv = Date.now();
        const p = this.pendingLogin;
        this.pendingLogin = null;
        p?.resolve();
        break;
      }
      case kSoupLoginRejected: {
        this.counters.loginRejects++;
        const why = buf[off + 1] === kSoupRejectNotAuthorized ? 'not authorized (bad username or password)' : 'session not available';
        this.drop(`login rejected: ${why}`, 'ERR_SOUP_LOGIN_REJECTED');
        break;
      }
      case kSoupEndOfSession:
        this.drop('end of session', 'ERR_SOUP_END_OF_SESSION', true);
        break;
      case kSoupDebug:
        this.counters.debugIn++;
        break;
      default:
        // Client-bound stream carrying a client-only type: count it like any malformed frame.
        this.parser.malformedFrames++;
    }
  }

  /** Backstop for the checks `poll()` runs: fires only when the event loop is free. */
  private startTimer(): void {
    this.lastRecv = Date.now();
    if (this.timer) clearInterval(this.timer);
    const tick = Math.max(10, Math.min(Math.floor(this.opts.heartbeatIntervalMs / 2), Math.floor(this.opts.connectTimeoutMs / 4)));
    this.timer = setInterval(() => this.checkTimers(Date.now()), tick);
    this.timer.unref();
  }

  /** Login deadline, silent server, heartbeat due: on the clock of whoever calls (poll or timer). */
  private checkTimers(now: number): void {
    if (!this.active) return;
    if (!this.loggedIn) {
      if (now >= this.connectDeadline) this.drop(`no login response from ${this.opts.host}:${this.opts.port} within ${this.opts.connectTimeoutMs} ms`, 'ERR_SOUP_TIMEOUT');
      return;
    }
    if (now - this.lastRecv >= this.opts.serverTimeoutMs) {
      this.drop(`server silent for ${now - this.lastRecv} ms (timeout ${this.opts.serverTimeoutMs} ms)`, 'ERR_SOUP_TIMEOUT');
      return;
    }
    if (this.transport && now - this.lastSent >= this.opts.heartbeatIntervalMs) {
      const off = this.tx.reserve();
      this.tx.commit(this.transport, encodeEmpty(this.tx.buf, off, kSoupClientHeartbeat) - off);
      this.counters.heartbeatsOut++;
      this.lastSent = now;
    }
  }

  private drop(reason: string, code: string, endOfSession = false): void {
    if (!this.active) return;
    this.active = false;
    const wasLoggedIn = this.loggedIn;
    this.loggedIn = false;
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    this.transport?.close();
    const p = this.pendingLogin;
    this.pendingLogin = null;
    if (p) {
      p.reject(new TickpathError(code, `${kWhere} ${this.opts.host}:${this.opts.port}: ${reason}`,
        code === 'ERR_SOUP_CONNECT' ? socketErrorFix(this.lastErrno, this.opts.host, this.opts.port) : undefined));
    }
    if (wasLoggedIn || !p) this.handler.onDisconnected(this.closing ? 'logged out' : reason, endOfSession);
  }
}

