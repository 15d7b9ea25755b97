/**
 * SoupBinTCP 3.0 client session: logs in with a session id and the next sequence number it
 * expects, counts Sequenced Data to keep that number current, heartbeats both ways, and can be
 * connected again after a drop, asking the server to resume exactly where the last connection
 * stopped (so no sequenced message is missed or seen twice).
 *
 * Threading: one event loop (the router worker's); every callback runs there.
 */
import { socketErrorFix } from '../socket-errors';
import { readAlpha, readNumeric } from '../../common/bytes';
import * as net from 'net';
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
  private socket: net.Socket | null = null;
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
  private readonly opts: Required<SoupClientOptions>;

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
  }

  get isLoggedIn(): boolean { return this.loggedIn; }
  get malformedFrames(): number { return this.parser.malformedFrames; }

  /** Connects and logs in from `nextSeq`; resolves on Login Accepted. Call again after a drop. */
  connect(): Promise<void> {
    if (this.socket) return Promise.reject(new TickpathError('ERR_SOUP_STATE', `${kWhere}: already connected to ${this.opts.host}:${this.opts.port}`));
    this.closing = false;
    this.parser.reset();
    return new Promise<void>((resolve, reject) => {
      this.pendingLogin = { resolve, reject };
      const sock = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true });
      this.socket = sock;
      this.lastErrno = undefined;
      sock.setTimeout(this.opts.connectTimeoutMs, () => {
        if (this.socket === sock && !this.loggedIn) this.drop(`no login response from ${this.opts.host}:${this.opts.port} within ${this.opts.connectTimeoutMs} ms`, 'ERR_SOUP_TIMEOUT');
      });
      sock.on('connect', () => {
        const off = this.tx.reserve();
        const end = encodeLoginRequest(this.tx.buf, off, this.opts.username, this.opts.password, this.session, this.nextSeq);
        this.tx.commit(sock, end - off);
        this.lastSent = Date.now();
      });
      sock.on('data', (chunk: Buffer) => {
        if (this.socket !== sock) return;
        this.lastRecv = Date.now();
        this.parser.push(chunk);
      });
      // A dropped socket's late events must not tear down its successor.
      sock.on('error', (err: NodeJS.ErrnoException) => { if (this.socket === sock) { this.lastErrno = err.code; this.drop(`socket error: ${err.code ?? err.message}`, 'ERR_SOUP_CONNECT'); } });
      sock.on('close', () => { if (this.socket === sock) this.drop('connection closed by peer', 'ERR_SOUP_CONNECT'); });
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
    if (!this.loggedIn || !this.socket) return false;
    const off = this.tx.reserve();
    writeFrameHeader(this.tx.buf, off, kSoupUnsequencedData, payloadLen);
    this.counters.messagesOut++;
    this.lastSent = Date.now();
    return this.tx.commit(this.socket, payloadLen + 3);
  }

  get txBuffer(): Buffer { return this.tx.buf; }

  /** Sends Logout Request and waits (briefly) for the server to close. */
  async logout(): Promise<void> {
    const sock = this.socket;
    if (!sock) return;
    this.closing = true;
    if (this.loggedIn) {
      const off = this.tx.reserve();
      this.tx.commit(sock, encodeEmpty(this.tx.buf, off, kSoupLogoutRequest) - off);
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { sock.destroy(); resolve(); }, 500);
      sock.once('close', () => { clearTimeout(t); resolve(); });
      sock.end();
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
        this.socket?.setTimeout(0);
        this.startTimer();
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

  private startTimer(): void {
    this.lastRecv = Date.now();
    if (this.timer) clearInterval(this.timer);
    const tick = Math.max(10, Math.floor(this.opts.heartbeatIntervalMs / 2));
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastRecv >= this.opts.serverTimeoutMs) {
        this.drop(`server silent for ${now - this.lastRecv} ms (timeout ${this.opts.serverTimeoutMs} ms)`, 'ERR_SOUP_TIMEOUT');
        return;
      }
      if (this.socket && now - this.lastSent >= this.opts.heartbeatIntervalMs) {
        const off = this.tx.reserve();
        this.tx.commit(this.socket, encodeEmpty(this.tx.buf, off, kSoupClientHeartbeat) - off);
        this.counters.heartbeatsOut++;
        this.lastSent = now;
      }
    }, tick);
    this.timer.unref();
  }

  private drop(reason: string, code: string, endOfSession = false): void {
    const sock = this.socket;
    if (!sock) return;
    this.socket = null;
    const wasLoggedIn = this.loggedIn;
    this.loggedIn = false;
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    sock.removeAllListeners('data');
    sock.on('error', () => { /* already dropped */ });
    sock.destroy();
    const p = this.pendingLogin;
    this.pendingLogin = null;
    if (p) {
      p.reject(new TickpathError(code, `${kWhere} ${this.opts.host}:${this.opts.port}: ${reason}`,
        code === 'ERR_SOUP_CONNECT' ? socketErrorFix(this.lastErrno, this.opts.host, this.opts.port) : undefined));
    }
    if (wasLoggedIn || !p) this.handler.onDisconnected(this.closing ? 'logged out' : reason, endOfSession);
  }
}

