/**
 * FIX 4.2 / 4.4 session layer (initiator or acceptor): Logon, Heartbeat, TestRequest,
 * ResendRequest, SequenceReset (gap fill and reset), Reject, Logout; MsgSeqNum checking with gap
 * detection and queuing of early messages; sequence numbers and sent application messages
 * persisted in a `FixFileStore`; resends throttled (a batch per event-loop turn) and bounded (a
 * request for more than `maxResendRange` messages gets the oldest part gap-filled).
 *
 * The owner of the socket parses bytes with a `FixParser` and calls `receive(msg)`; the session
 * writes to that socket through a `TxRing` and `FixEncoder`, so steady-state sends allocate only
 * the view `socket.write` needs.
 *
 * Threading: one event loop; callbacks into `FixApplication` run synchronously from `receive`.
 */
import type { Socket as NetSocket } from 'net';
import type { TransportSocket } from '../transport/transport-socket';
import { invalidOption } from '../../errors';
import { FixEncoder, FixParser, Tag, MsgType, isAdminMsgType, type FixMessage, type FixVersion } from './fix-codec';
import { TxRing } from '../tx-ring';
import { FixFileStore, type FixStoreFsync } from './fix-store';

/** net.Socket (the acceptor side, libuv initiators) or a SessionTransport behind TransportSocket. */
type Socket = NetSocket | TransportSocket;

export type FixSessionState = 'DISCONNECTED' | 'LOGON_SENT' | 'LOGGED_IN' | 'LOGOUT_SENT';

export interface FixSessionOptions {
  version: FixVersion;
  senderCompId: string;
  targetCompId: string;
  role: 'initiator' | 'acceptor';
  /** Directory for sequence numbers and sent messages. */
  storeDir: string;
  /** The store's fsync policy (FixFileStore); default 'group'. */
  storeFsync?: FixStoreFsync;
  storeGroupCommitUs?: number;
  heartbeatIntervalSec?: number;
  /** Initiator: send ResetSeqNumFlag(141)=Y on Logon and start both sides at 1. */
  resetOnLogon?: boolean;
  /** Messages resent per event-loop turn. */
  resendBatch?: number;
  /** Largest range actually resent; older requested messages are gap-filled. */
  maxResendRange?: number;
  logonTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface FixApplication {
  onLogon(): void;
  onLogout(reason: string): void;
  /** One in-order application message; `possDup` when it is a resend. */
  onAppMessage(msg: FixMessage, possDup: boolean): void;
  onSessionReject?(refSeqNum: number, text: string): void;
}

const kWhere = 'FixSession';
const kMaxMessage = 8192;

export class FixSession {
  readonly options: Required<Omit<FixSessionOptions, 'log'>> & { log: (line: string) => void };
  readonly store: FixFileStore;
  private socket: Socket | null = null;
  private readonly tx = new TxRing(1 << 20, kMaxMessage);
  private readonly enc = new FixEncoder();
  state: FixSessionState = 'DISCONNECTED';
  private timer: NodeJS.Timeout | null = null;
  private lastSent = 0;
  private lastRecv = 0;
  private connectedAt = 0;
  private logoutAt = 0;
  private testReqPendingSince = 0;
  private testReqCounter = 0;
  /** Highest seq asked for in an outstanding ResendRequest (0 = none). */
  private resendRequestedUpTo = 0;
  /** Early messages by seq, copied; replayed through `queueParser` once the gap closes. */
  private readonly queue = new Map<number, Buffer>();
  private readonly handledEarly = new Set<number>();
  private readonly queueParser: FixParser;
  private resendCursor: { next: number; end: number; gapStart: number } | null = null;
  private app: FixApplication | null = null;
  readonly counters = {
    messagesIn: 0, messagesOut: 0, heartbeatsOut: 0, testRequestsOut: 0, resendRequestsOut: 0, resendRequestsIn: 0,
    resentMessages: 0, gapFillsOut: 0, gapFillsIn: 0, rejectsIn: 0, rejectsOut: 0, possDupsIgnored: 0, queuedEarly: 0,
    seqTooLow: 0, logons: 0,
  };

  constructor(options: FixSessionOptions) {
    if (options.version !== 'FIX.4.2' && options.version !== 'FIX.4.4') throw invalidOption(kWhere, 'version', options.version, "'FIX.4.2' or 'FIX.4.4'");
    for (const k of ['senderCompId', 'targetCompId', 'storeDir'] as const) {
      if (typeof options[k] !== 'string' || options[k] === '') throw invalidOption(kWhere, k, options[k], 'a non-empty string');
    }
    if (options.role !== 'initiator' && options.role !== 'acceptor') throw invalidOption(kWhere, 'role', options.role, "'initiator' or 'acceptor'");
    const hb = options.heartbeatIntervalSec ?? 30;
    if (!Number.isInteger(hb) || hb <= 0) throw invalidOption(kWhere, 'heartbeatIntervalSec', hb, 'a positive integer (seconds)');
    const batch = options.resendBatch ?? 200;
    if (!Number.isInteger(batch) || batch <= 0) throw invalidOption(kWhere, 'resendBatch', batch, 'a positive integer');
    const range = options.maxResendRange ?? 10000;
    if (!Number.isInteger(range) || range <= 0) throw invalidOption(kWhere, 'maxResendRange', range, 'a positive integer');
    this.options = {
      version: options.version, senderCompId: options.senderCompId, targetCompId: options.targetCompId, role: options.role,
      storeDir: options.storeDir, heartbeatIntervalSec: hb, resetOnLogon: options.resetOnLogon ?? false,
      resendBatch: batch, maxResendRange: range, logonTimeoutMs: options.logonTimeoutMs ?? 10000,
      storeFsync: options.storeFsync ?? 'group', storeGroupCommitUs: options.storeGroupCommitUs ?? 1000,
      log: options.log ?? (() => {}),
    };
    this.store = new FixFileStore(options.storeDir, `${options.version}-${options.senderCompId}-${options.targetCompId}`,
      { fsync: this.options.storeFsync, groupCommitUs: this.options.storeGroupCommitUs });
    this.store.open();
    this.queueParser = new FixParser((m) => this.processInOrder(m), { maxMessage: 1 << 20 });
  }

  setApplication(app: FixApplication): void { this.app = app; }

  get nextSenderSeq(): number { return this.store.nextSenderSeq; }
  get nextTargetSeq(): number { return this.store.nextTargetSeq; }
  get isLoggedIn(): boolean { return this.state === 'LOGGED_IN'; }

  /** A TCP connection is up. The initiator sends Logon at once; the acceptor waits for one. */
  connected(socket: Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    this.connectedAt = this.lastRecv = this.lastSent = Date.now();
    this.queue.clear();
    this.handledEarly.clear();
    this.resendRequestedUpTo = 0;
    this.resendCursor = null;
    this.testReqPendingSince = 0;
    if (this.options.role === 'initiator') {
      if (this.options.resetOnLogon) this.store.reset();
      this.sendLogon(this.options.resetOnLogon);
      this.state = 'LOGON_SENT';
    }
    this.startTimer();
  }

  /** The connection is gone (either side). */
  disconnected(reason: string): void {
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    const wasUp = this.state !== 'DISCONNECTED';
    this.state = 'DISCONNECTED';
    const s = this.socket;
    this.socket = null;
    this.resendCursor = null;
    if (s && !s.destroyed) s.destroy();
    if (wasUp) this.app?.onLogout(reason);
  }

  /** Sends Logout and waits for the peer's Logout (or `timeoutMs`), then closes. */
  logout(text = '', timeoutMs = 2000): Promise<void> {
    const s = this.socket;
    if (!s || this.state === 'DISCONNECTED') { this.disconnected('logout'); return Promise.resolve(); }
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.disconnected('logout (no reply)'); resolve(); }, timeoutMs);
      s.once('close', () => { clearTimeout(t); this.disconnected('logged out'); resolve(); });
      if (this.state === 'LOGGED_IN') {
        this.sendAdmin('5', (e) => { if (text) e.str(Tag.Text, text); });
        this.state = 'LOGOUT_SENT';
        this.logoutAt = Date.now();
      } else {
        s.destroy();
      }
    });
  }

  // ---- sending ----

  /** Starts an application message with the standard header; add body fields, then `sendApp()`. */
  beginApp(msgType: string): FixEncoder {
    return this.header(msgType, this.store.nextSenderSeq, Date.now());
  }

  /**
   * Finishes, stores and sends the message begun with `beginApp`. Returns false when not logged
   * in (nothing is stored or sequenced then) unless `storeWhenDown`: then it is sequenced and
   * stored for the peer to recover by ResendRequest (what a venue does with reports for a client
   * that is away). With `lost` the message is sequenced and stored but not written: fault
   * injection for a message lost in transit.
   */
  sendApp(lost = false, storeWhenDown = false): boolean {
    if (this.state !== 'LOGGED_IN') {
      if (!storeWhenDown) return false;
      lost = true;
    }
    const start = this.enc.finish();
    const seq = this.store.nextSenderSeq;
    this.store.append(seq, this.enc.buf, start, this.enc.end);
    this.store.setSeqs(seq + 1, this.store.nextTargetSeq);
    this.counters.messagesOut++;
    if (lost) { this.tx.commitRange(null, start, this.enc.end); return true; }
    return this.write(start);
  }

  private header(msgType: string, seq: number, now: number): FixEncoder {
    const off = this.tx.reserve();
    return this.enc.begin(this.tx.buf, off, this.options.version, msgType)
      .str(Tag.SenderCompID, this.options.senderCompId)
      .str(Tag.TargetCompID, this.options.targetCompId)
      .int(Tag.MsgSeqNum, seq)
      .time(Tag.SendingTime, now);
  }

  private write(start: number): boolean {
    this.lastSent = Date.now();
    return this.tx.commitRange(this.socket, start, this.enc.end);
  }

  /** Sends a sequenced admin message (not stored: a resend gap-fills it). */
  private sendAdmin(msgType: string, body?: (e: FixEncoder) => void): void {
    const seq = this.store.nextSenderSeq;
    const e = this.header(msgType, seq, Date.now());
    if (body) body(e);
    const start = e.finish();
    this.store.setSeqs(seq + 1, this.store.nextTargetSeq);
    this.counters.messagesOut++;
    this.write(start);
  }

  private sendLogon(reset: boolean): void {
    this.sendAdmin('A', (e) => {
      e.int(Tag.EncryptMethod, 0).int(Tag.HeartBtInt, this.options.heartbeatIntervalSec);
      if (reset) e.char(Tag.ResetSeqNumFlag, 0x59);
    });
  }

  private sendResendRequest(from: number): void {
    this.counters.resendRequestsOut++;
    this.sendAdmin('2', (e) => e.int(Tag.BeginSeqNo, from).int(Tag.EndSeqNo, 0));
  }

  private sendReject(refSeq: number, reason: number, text: string): void {
    this.counters.rejectsOut++;
    this.sendAdmin('3', (e) => {
      e.int(Tag.RefSeqNum, refSeq);
      if (this.options.version === 'FIX.4.4' || reason >= 0) e.int(Tag.SessionRejectReason, Math.max(reason, 0));
      e.str(Tag.Text, text);
    });
  }

  /** SequenceReset-GapFill sent *as* message `seq`, telling the peer the next is `newSeq`. */
  private sendGapFill(seq: number, newSeq: number): void {
    const e = this.header('4', seq, Date.now());
    e.char(Tag.PossDupFlag, 0x59).char(Tag.GapFillFlag, 0x59).int(Tag.NewSeqNo, newSeq);
    const start = e.finish();
    this.counters.gapFillsOut++;
    this.write(start);
  }

  // ---- receiving ----

  /** One parsed message from the socket. */
  receive(msg: FixMessage): void {
    this.lastRecv = Date.now();
    this.testReqPendingSince = 0;
    this.counters.messagesIn++;
    const seq = msg.getInt(Tag.MsgSeqNum);
    if (seq <= 0) {
      this.options.log(`${this.id()}: message without a valid MsgSeqNum: ${msg.toString()}`);
      this.sendReject(0, 1, 'Required tag missing: MsgSeqNum(34)');
      return;
    }
    if (this.state === 'DISCONNECTED' || this.state === 'LOGON_SENT') {
      if (msg.msgType !== MsgType.Logon) {
        this.options.log(`${this.id()}: first message is not Logon: ${msg.toString()}`);
        this.disconnected('first message was not Logon');
        return;
      }
    }
    const expected = this.store.nextTargetSeq;
    const t = msg.msgType;
    if (t === MsgType.Logon && msg.getChar(Tag.ResetSeqNumFlag) === 0x59) {
      // Both sides restart at 1: the acceptor resets its own numbers and answers with the flag.
      if (this.options.role === 'acceptor') this.store.reset();
      this.store.setSeqs(this.store.nextSenderSeq, seq);
      this.processInOrder(msg);
      return;
    }
    if (t === MsgType.SequenceReset && msg.getChar(Tag.GapFillFlag) !== 0x59) {
      // SequenceReset-Reset ignores MsgSeqNum altogether.
      const ns = msg.getInt(Tag.NewSeqNo);
      if (ns > expected) this.store.setSeqs(this.store.nextSenderSeq, ns);
      return;
    }
    if (seq === expected) { this.processInOrder(msg); this.drainQueue(); return; }
    if (seq < expected) {
      if (msg.getChar(Tag.PossDupFlag) === 0x59) { this.counters.possDupsIgnored++; return; }
      this.counters.seqTooLow++;
      const text = `MsgSeqNum too low, expecting ${expected} but received ${seq}`;
      this.options.log(`${this.id()}: ${text}`);
      if (this.state === 'LOGGED_IN') this.sendAdmin('5', (e) => e.str(Tag.Text, text));
      this.disconnected(text);
      return;
    }
    // seq > expected: a gap. Logon and ResendRequest are acted on now (waiting for the gap to
    // close could deadlock both sides); everything is queued to be sequenced in order.
    if (t === MsgType.Logon) this.onLogon(msg);
    else if (t === MsgType.ResendRequest) { this.onResendRequest(msg); this.handledEarly.add(seq); }
    if (!this.queue.has(seq)) { this.queue.set(seq, msg.copy()); this.counters.queuedEarly++; }
    if (t === MsgType.Logon) this.handledEarly.add(seq);
    if (this.resendRequestedUpTo < expected) {
      this.resendRequestedUpTo = seq - 1;
      this.sendResendRequest(expected);
    }
  }

  private drainQueue(): void {
    for (;;) {
      const seq = this.store.nextTargetSeq;
      const b = this.queue.get(seq);
      if (!b) break;
      this.queue.delete(seq);
      this.queueParser.push(b);
    }
    // Stale entries (below the expected seq after a gap fill) can go.
    for (const s of this.queue.keys()) if (s < this.store.nextTargetSeq) this.queue.delete(s);
    if (this.resendRequestedUpTo && this.store.nextTargetSeq > this.resendRequestedUpTo) this.resendRequestedUpTo = 0;
  }

  /** Handles a message whose MsgSeqNum is the expected one (or a queued one now in order). */
  private processInOrder(msg: FixMessage): void {
    const seq = msg.getInt(Tag.MsgSeqNum);
    const t = msg.msgType;
    const early = this.handledEarly.delete(seq);
    if (t === MsgType.SequenceReset) {
      this.counters.gapFillsIn++;
      const ns = msg.getInt(Tag.NewSeqNo);
      this.store.setSeqs(this.store.nextSenderSeq, ns > seq ? ns : seq + 1);
      return;
    }
    this.store.setSeqs(this.store.nextSenderSeq, seq + 1);
    if (early) return;
    switch (t) {
      case MsgType.Logon: this.onLogon(msg); return;
      case MsgType.Heartbeat: return;
      case MsgType.TestRequest:
        this.sendAdmin('0', (e) => e.str(Tag.TestReqID, msg.getStr(Tag.TestReqID)));
        return;
      case MsgType.ResendRequest: this.onResendRequest(msg); return;
      case MsgType.Reject:
        this.counters.rejectsIn++;
        this.options.log(`${this.id()}: session Reject: ${msg.toString()}`);
        this.app?.onSessionReject?.(msg.getInt(Tag.RefSeqNum), msg.getStr(Tag.Text));
        return;
      case MsgType.Logout: {
        const text = msg.getStr(Tag.Text);
        if (this.state === 'LOGGED_IN') this.sendAdmin('5');
        this.disconnected(text ? `logout: ${text}` : 'logout');
        return;
      }
      default:
        if (msg.msgTypeLen === 1 && isAdminMsgType(t)) return;
        if (this.state !== 'LOGGED_IN') return;
        this.app?.onAppMessage(msg, msg.getChar(Tag.PossDupFlag) === 0x59);
    }
  }

  private onLogon(msg: FixMessage): void {
    if (this.state === 'LOGGED_IN') return;
    const hb = msg.getInt(Tag.HeartBtInt);
    if (this.options.role === 'acceptor') {
      if (msg.getStr(Tag.SenderCompID) !== this.options.targetCompId || msg.getStr(Tag.TargetCompID) !== this.options.senderCompId) {
        this.disconnected(`Logon with unexpected CompIDs ${msg.getStr(Tag.SenderCompID)}->${msg.getStr(Tag.TargetCompID)}`);
        return;
      }
      if (hb > 0) this.options.heartbeatIntervalSec = hb;
      this.state = 'LOGGED_IN';
      this.sendLogon(msg.getChar(Tag.ResetSeqNumFlag) === 0x59);
    }
    this.state = 'LOGGED_IN';
    this.counters.logons++;
    this.options.log(`${this.id()}: logged in (next out ${this.store.nextSenderSeq}, next in ${this.store.nextTargetSeq})`);
    this.app?.onLogon();
  }

  private onResendRequest(msg: FixMessage): void {
    this.counters.resendRequestsIn++;
    const begin = Math.max(1, msg.getInt(Tag.BeginSeqNo, 1));
    let end = msg.getInt(Tag.EndSeqNo, 0);
    const last = this.store.nextSenderSeq - 1;
    if (end === 0 || end > last) end = last;
    if (begin > end) return;
    let from = begin;
    if (end - begin + 1 > this.options.maxResendRange) {
      // Bounded: resending a day of orders would be worse than a gap; fill the old part.
      from = end - this.options.maxResendRange + 1;
      this.options.log(`${this.id()}: ResendRequest ${begin}..${end} exceeds ${this.options.maxResendRange}; gap-filling ${begin}..${from - 1}`);
      this.sendGapFill(begin, from);
    }
    this.resendCursor = { next: from, end, gapStart: 0 };
    this.resendSome();
  }

  /** Resends up to `resendBatch` messages, then yields to the event loop (throttle). */
  private resendSome(): void {
    const c = this.resendCursor;
    if (!c || !this.socket) return;
    let budget = this.options.resendBatch;
    while (c.next <= c.end && budget > 0) {
      const seq = c.next++;
      const stored = this.store.get(seq);
      if (!stored) { if (!c.gapStart) c.gapStart = seq; continue; }
      if (c.gapStart) { this.sendGapFill(c.gapStart, seq); c.gapStart = 0; }
      this.resendOne(stored);
      budget--;
    }
    if (c.next <= c.end) { setImmediate(() => this.resendSome()); return; }
    if (c.gapStart) this.sendGapFill(c.gapStart, c.end + 1);
    this.resendCursor = null;
  }

  private readonly resendParser = new FixParser((m) => this.rewritePossDup(m), { maxMessage: 1 << 20 });

  private resendOne(stored: Buffer): void {
    this.resendParser.push(stored);
  }

  /** Re-encodes a stored message with PossDupFlag=Y, OrigSendingTime and a fresh SendingTime. */
  private rewritePossDup(m: FixMessage): void {
    const e = this.header(m.getStr(Tag.MsgType), m.getInt(Tag.MsgSeqNum), Date.now());
    e.char(Tag.PossDupFlag, 0x59);
    const i = m.indexOf(Tag.SendingTime);
    if (i >= 0) e.str(Tag.OrigSendingTime, m.buf.toString('latin1', m.valueStart[i], m.valueEnd[i]));
    for (let k = 0; k < m.count; k++) {
      const tag = m.tags[k];
      if (tag === 8 || tag === 9 || tag === 10 || tag === 35 || tag === 34 || tag === 49 || tag === 56 || tag === 52 || tag === 43 || tag === 122) continue;
      e.rawField(m.buf, m.fieldStart(k), m.valueEnd[k] + 1);
    }
    const start = e.finish();
    this.counters.resentMessages++;
    this.write(start);
  }

  // ---- timers ----

  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(Date.now()), 100);
    this.timer.unref();
  }

  /** Timeouts, TestRequest and heartbeat due at `now`: from the timer, or from the owner's loop (FixConnector.poll). */
  tick(now: number): void {
    const hb = this.options.heartbeatIntervalSec * 1000;
    if (this.state === 'LOGON_SENT' || (this.state === 'DISCONNECTED' && this.socket)) {
      if (now - this.connectedAt > this.options.logonTimeoutMs) this.disconnected(`no Logon within ${this.options.logonTimeoutMs} ms`);
      return;
    }
    if (this.state === 'LOGOUT_SENT') {
      if (now - this.logoutAt > 2000) this.disconnected('no Logout reply');
      return;
    }
    if (this.state !== 'LOGGED_IN') return;
    if (this.testReqPendingSince && now - this.testReqPendingSince >= hb) {
      this.disconnected(`peer silent for ${now - this.lastRecv} ms after TestRequest`);
      return;
    }
    if (!this.testReqPendingSince && now - this.lastRecv >= hb * 1.2) {
      this.counters.testRequestsOut++;
      this.testReqPendingSince = now;
      this.sendAdmin('1', (e) => e.str(Tag.TestReqID, `T${++this.testReqCounter}`));
      return;
    }
    if (now - this.lastSent >= hb) {
      this.counters.heartbeatsOut++;
      this.sendAdmin('0');
    }
  }

  private id(): string { return `${this.options.version} ${this.options.senderCompId}->${this.options.targetCompId}`; }

  close(): void {
    this.disconnected('closed');
    this.store.close();
  }
}
