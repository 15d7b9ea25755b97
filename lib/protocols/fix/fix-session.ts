/**
 * FIX 4.2 / 4.4 session layer (initiator or acceptor): Logon, Heartbeat, TestRequest,
 * ResendRequest, SequenceReset (gap fill and reset), Reject, Logout; MsgSeqNum checking with gap
 * detection and queuing of early messages; sequence numbers and sent application messages
 * persisted in a `FixStore` (`FixMappedStore`, one mapped file, by default; `FixFileStore` without
 * the addon or when asked).
 *
 * As responder, every ResendRequest is merged into a `ResendQueue` (a second request while the
 * first is still being answered no longer abandons the rest of the first) and answered in throttled
 * batches: one per turn of the owner's loop (`pollResends()`, called by FixConnector.poll and the
 * venue simulator's loop), so a native session's resends run on the loop's clock with no
 * event-loop turn; a session nobody polls (libuv) takes a batch per event-loop turn (setImmediate). One request replays at most `maxResendRange` messages: the
 * oldest part of a bigger range is gap-filled. Why gap-fill and not reject: a counterparty such as
 * QuickFIX expects every number it asked for to be answered, resent or gap-filled, and does not ask
 * again, so a Reject would wedge its session; the oldest messages are the stalest (orders a venue
 * would refuse as stale, reports superseded by later ones carrying CumQty/LeavesQty).
 *
 * As requester, a ResendRequest that makes no progress within `resendRequestTimeoutMs` is sent
 * again from the first missing number, at most `resendRequestRetries` times; then the session logs
 * out with a reason naming the missing range, so a hole the peer never fills ends the session
 * clearly instead of wedging it with a growing queue of early messages.
 *
 * SequenceReset: GapFill (processed in order) and Reset (processed at once, whatever its MsgSeqNum)
 * both move the expected number forward; queued early messages inside the skipped range and from
 * the new number on are delivered in order, never dropped.
 *
 * The owner of the socket parses bytes with a `FixParser` and calls `receive(msg)`; the session
 * writes to that socket through a `TxRing` and `FixEncoder`, so steady-state sends allocate only
 * the view `socket.write` needs. An application message on a native session transport with the
 * mapped store is encoded where the store keeps it (`FixMappedStore.reserveInPlace`), recorded
 * there and sent from there: before, every order and report was encoded in the send ring and
 * copied into the store. Measured in process (perf/fix-trip's pipe: FixConnector and the venue
 * simulator's FIX front end, no sockets; median of 15,000 orders after 5,000, load 3.4-5, against
 * the build before this change): order call -> send 1.10-1.13 -> 0.84-0.87 us, NewOrderSingle in
 * -> the ack's send 2.36-2.41 -> 1.94-2.07 us. Not over libuv, whose send may keep a view of the bytes, nor with the
 * three-file store; admin messages (not stored) still go through the send ring.
 *
 * Threading: one event loop; callbacks into `FixApplication` run synchronously from `receive`.
 */
import * as fs from 'fs';
import type { Socket as NetSocket } from 'net';
import type { TransportSocket } from '../transport/transport-socket';
import { invalidOption } from '../../errors';
import { FixEncoder, FixHeaderTemplate, FixParser, Tag, MsgType, isAdminMsgType, type FixMessage, type FixVersion } from './fix-codec';
import { TxRing, type DirectSink } from '../tx-ring';
import { FixFileStore, type FixStore, type FixStoreFsync } from './fix-store';
import { FixMappedStore, mappedStoreAvailable } from './fix-mapped-store';
import { ResendQueue } from './resend-queue';

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
  /** The store's fsync policy; default 'group'. */
  storeFsync?: FixStoreFsync;
  /**
   * 'mapped' (FixMappedStore: one memory-mapped file, no system call per message), 'files'
   * (FixFileStore: three files, pwrite per write; the store before the mapped one) or 'auto'
   * (default: mapped when the native addon is built).
   */
  storeKind?: 'auto' | 'mapped' | 'files';
  storeGroupCommitUs?: number;
  heartbeatIntervalSec?: number;
  /** Initiator: send ResetSeqNumFlag(141)=Y on Logon and start both sides at 1. */
  resetOnLogon?: boolean;
  /** Messages resent per event-loop turn. */
  resendBatch?: number;
  /** Most messages one ResendRequest replays; the older part of a bigger range is gap-filled. */
  maxResendRange?: number;
  /** Requester: how long an outstanding ResendRequest may make no progress before it is re-sent. Default: the heartbeat interval. */
  resendRequestTimeoutMs?: number;
  /** Requester: re-sends of an unanswered ResendRequest before the session logs out. Default 3. */
  resendRequestRetries?: number;
  /** Extra fields for our Logon (e.g. a venue's cancel-on-disconnect tag, [[8013, 'Y']]). */
  logonFields?: ReadonlyArray<readonly [number, string]>;
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
const kEMFILE = 24;
const kMaxMessage = 8192;
/**
 * Where beginApp starts the encoder before the store's record offset: FixEncoder writes the body
 * 24 bytes after its base and BeginString/BodyLength backwards from there, so a message whose
 * BodyLength has three digits (100-999 bytes: orders and reports) starts 8 bytes after the base,
 * exactly where the record keeps it; any other length is moved there once (copyWithin).
 */
const kInPlaceLead = 8;

export class FixSession {
  readonly options: Required<Omit<FixSessionOptions, 'log'>> & { log: (line: string) => void };
  readonly store: FixStore;
  private socket: Socket | null = null;
  private readonly tx = new TxRing(1 << 20, kMaxMessage);
  /** The store when it is the mapped one (application messages are then encoded in it). */
  private readonly mapped: FixMappedStore | null;
  /** The socket copies what the kernel does not take at once (a native TransportSocket), so it may send from the store's mapping. */
  private directSocket = false;
  /** Where beginApp is encoding the message in the store's mapping; -1: in the send ring. */
  private inPlaceAt = -1;
  private readonly enc = new FixEncoder();
  state: FixSessionState = 'DISCONNECTED';
  private timer: NodeJS.Timeout | null = null;
  private lastSent = 0;
  private lastRecv = 0;
  private connectedAt = 0;
  private logoutAt = 0;
  private testReqPendingSince = 0;
  private testReqCounter = 0;
  /**
   * Requester: the outstanding ResendRequest. `upTo` is the highest number known missing; `seen`
   * the expected number when progress was last observed at `since`.
   */
  private resendRequest: { upTo: number; seen: number; since: number; attempts: number } | null = null;
  /** The peer skipped everything below this (GapFill or Reset); 0 = nothing pending. */
  private skipUpTo = 0;
  private draining = false;
  /** The next Logon we send carries ResetSeqNumFlag=Y and starts both sides at 1 (a new day). */
  private resetPending = false;
  /** Early messages by seq, copied; replayed through `queueParser` once the gap closes. */
  private readonly queue = new Map<number, Buffer>();
  private readonly handledEarly = new Set<number>();
  private readonly queueParser: FixParser;
  /** Responder: what we still owe the peer, and the open gap-fill run being accumulated. */
  private readonly resendQueue = new ResendQueue();
  private resendGapStart = 0;
  private resendGapEnd = 0;
  private resendScheduled = false;
  /** Set by the first pollResends(): from then on the owner's loop drives resend batches. */
  private ownerDriven = false;
  private app: FixApplication | null = null;
  readonly counters = {
    messagesIn: 0, messagesOut: 0, heartbeatsOut: 0, testRequestsOut: 0, resendRequestsOut: 0, resendRequestsIn: 0,
    resentMessages: 0, gapFillsOut: 0, gapFillsIn: 0, rejectsIn: 0, rejectsOut: 0, possDupsIgnored: 0, queuedEarly: 0,
    seqTooLow: 0, logons: 0, resendCapped: 0, resendRetries: 0, resendFailures: 0, sequenceResetsIn: 0,
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
    const rrTimeout = options.resendRequestTimeoutMs ?? Math.max(1000, hb * 1000);
    if (!Number.isInteger(rrTimeout) || rrTimeout <= 0) throw invalidOption(kWhere, 'resendRequestTimeoutMs', rrTimeout, 'a positive integer (ms)');
    const rrRetries = options.resendRequestRetries ?? 3;
    if (!Number.isInteger(rrRetries) || rrRetries < 0) throw invalidOption(kWhere, 'resendRequestRetries', rrRetries, 'a non-negative integer');
    let storeKind = options.storeKind ?? 'auto';
    if (!['auto', 'mapped', 'files'].includes(storeKind)) throw invalidOption(kWhere, 'storeKind', storeKind, "'auto', 'mapped' or 'files'");
    if (storeKind === 'auto') storeKind = mappedStoreAvailable() ? 'mapped' : 'files';
    const logonFields = options.logonFields ?? [];
    for (const f of logonFields) {
      if (!Array.isArray(f) || !Number.isInteger(f[0]) || f[0] <= 0 || typeof f[1] !== 'string' || f[1] === '' || f[1].includes('\x01')) {
        throw invalidOption(kWhere, 'logonFields', f, '[tag, value] pairs with a positive integer tag and a non-empty value without SOH');
      }
    }
    this.options = {
      version: options.version, senderCompId: options.senderCompId, targetCompId: options.targetCompId, role: options.role,
      storeDir: options.storeDir, heartbeatIntervalSec: hb, resetOnLogon: options.resetOnLogon ?? false,
      resendBatch: batch, maxResendRange: range, logonTimeoutMs: options.logonTimeoutMs ?? 10000,
      storeFsync: options.storeFsync ?? 'group', storeGroupCommitUs: options.storeGroupCommitUs ?? 1000, storeKind,
      resendRequestTimeoutMs: rrTimeout, resendRequestRetries: rrRetries, logonFields,
      log: options.log ?? (() => {}),
    };
    const storeId = `${options.version}-${options.senderCompId}-${options.targetCompId}`;
    const storeOptions = { fsync: this.options.storeFsync, groupCommitUs: this.options.storeGroupCommitUs };
    let store: FixStore = storeKind === 'mapped'
      ? new FixMappedStore(options.storeDir, storeId, { ...storeOptions, log: this.options.log })
      : new FixFileStore(options.storeDir, storeId, storeOptions);
    try {
      store.open();
    } catch (err) {
      // 'auto' and the addon's table of mapped files is full (256 per process, shared with order
      // journals): a session that never had a mapped store takes the three-file one rather than
      // refuse the connection that asked for it (a venue with hundreds of clients).
      const mapped = store instanceof FixMappedStore ? store : null;
      if (!mapped || (options.storeKind ?? 'auto') !== 'auto' || (err as { errno?: number }).errno !== kEMFILE || fs.existsSync(mapped.file)) throw err;
      this.options.log(`${options.version} ${options.senderCompId}->${options.targetCompId}: ${(err as Error).message}; ` +
        'this session keeps its FIX store in three files (a pwrite per write) instead');
      store = new FixFileStore(options.storeDir, storeId, storeOptions);
      store.open();
    }
    this.store = store;
    this.mapped = store instanceof FixMappedStore ? store : null;
    this.queueParser = new FixParser((m) => this.processInOrder(m), { maxMessage: 1 << 20 });
  }

  setApplication(app: FixApplication): void { this.app = app; }

  /** Initiator: the next Logon resets both sides to 1 (ResetSeqNumFlag=Y), e.g. at the daily reset. */
  resetOnNextLogon(): void { this.resetPending = true; }

  get nextSenderSeq(): number { return this.store.nextSenderSeq; }
  get nextTargetSeq(): number { return this.store.nextTargetSeq; }
  get isLoggedIn(): boolean { return this.state === 'LOGGED_IN'; }

  /** A TCP connection is up. The initiator sends Logon at once; the acceptor waits for one. */
  connected(socket: Socket): void {
    this.socket = socket;
    // Not over libuv: its send hands socket.write a view of the bytes when the kernel takes part
    // of them, which would then point into the store's mapping until written (and past close).
    this.directSocket = typeof (socket as unknown as DirectSink).send === 'function' && (socket as { transport?: { kind?: string } }).transport?.kind !== 'libuv';
    socket.setNoDelay(true);
    this.connectedAt = this.lastRecv = this.lastSent = Date.now();
    this.queue.clear();
    this.handledEarly.clear();
    this.resendRequest = null;
    this.skipUpTo = 0;
    this.clearResends();
    this.testReqPendingSince = 0;
    if (this.options.role === 'initiator') {
      const reset = this.options.resetOnLogon || this.resetPending;
      this.resetPending = false;
      if (reset) this.store.reset();
      this.sendLogon(reset);
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
    this.clearResends();
    this.resendRequest = null;
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

  /**
   * Starts an application message with the standard header; add body fields, then `sendApp()`.
   * With the mapped store and a socket that copies what it sends (a session transport), the
   * message is encoded where the store keeps it and sent from there (see the file comment).
   */
  beginApp(msgType: string): FixEncoder {
    const now = Date.now();
    const st = this.mapped;
    if (st !== null && (this.socket === null || this.directSocket)) {
      const at = st.reserveInPlace(kMaxMessage);
      if (at >= 0) {
        this.inPlaceAt = at;
        return this.headerAt(st.bytes, at - kInPlaceLead, msgType, this.store.nextSenderSeq, now);
      }
    }
    this.inPlaceAt = -1;
    return this.header(msgType, this.store.nextSenderSeq, now);
  }

  /**
   * Finishes, stores and sends the message begun with `beginApp`. Returns false when not logged
   * in (nothing is stored or sequenced then) unless `storeWhenDown`: then it is sequenced and
   * stored for the peer to recover by ResendRequest (what a venue does with reports for a client
   * that is away). With `lost` the message is sequenced and stored but not written: fault
   * injection for a message lost in transit.
   */
  sendApp(lost = false, storeWhenDown = false): boolean {
    const at = this.inPlaceAt;
    this.inPlaceAt = -1;
    if (this.state !== 'LOGGED_IN') {
      if (!storeWhenDown) return false;
      lost = true;
    }
    const start = this.enc.finish();
    const seq = this.store.nextSenderSeq;
    if (at >= 0) return this.sendInPlace(at, start, seq, lost);
    this.store.append(seq, this.enc.buf, start, this.enc.end);
    this.store.setSeqs(seq + 1, this.store.nextTargetSeq);
    this.counters.messagesOut++;
    if (lost) { this.tx.commitRange(null, start, this.enc.end); return true; }
    return this.write(start);
  }

  /**
   * A message encoded in the store's mapping (beginApp): moved to `at` if its BodyLength was not
   * three digits, recorded, then sent from the mapping. The socket is a DirectSink (it copies
   * what the kernel does not take at once), so nothing keeps a reference to the mapping.
   */
  private sendInPlace(at: number, start: number, seq: number, lost: boolean): boolean {
    const st = this.mapped!;
    const buf = st.bytes;
    let end = this.enc.end;
    if (start !== at) { buf.copyWithin(at, start, end); end = at + (end - start); }
    st.commitInPlace(seq, at, end);
    this.store.setSeqs(seq + 1, this.store.nextTargetSeq);
    this.counters.messagesOut++;
    if (lost) return true;
    this.lastSent = this.headerMs;
    const sock = this.socket;
    return sock !== null && (sock as unknown as DirectSink).send(buf, at, end - at);
  }

  /**
   * Keep-warm: reads (never writes) the bytes the next application message will be encoded into
   * (the store's next record, or the send ring: TxRing.touchNext), one load per cache line.
   * Returns a sum the caller keeps.
   */
  touchTx(bytes: number): number {
    const st = this.mapped;
    if (st !== null && (this.socket === null || this.directSocket)) return st.touchNext(bytes);
    return this.tx.touchNext(bytes);
  }

  /** The standard header per message type, laid out once (the comp ids do not change). */
  private readonly headers = new Map<string, FixHeaderTemplate>();

  /**
   * SendingTime(52) of the message being encoded (ms since the epoch): callers write it as the
   * message's TransactTime(60), and write() as the last send time, instead of reading the clock
   * again (a Date.now() each, on every order and report).
   */
  get sendingTimeMs(): number { return this.headerMs; }
  private headerMs = 0;

  private header(msgType: string, seq: number, now: number): FixEncoder {
    return this.headerAt(this.tx.buf, this.tx.reserve(), msgType, seq, now);
  }

  private headerAt(buf: Buffer, base: number, msgType: string, seq: number, now: number): FixEncoder {
    this.headerMs = now;
    let t = this.headers.get(msgType);
    if (t === undefined) {
      t = new FixHeaderTemplate(msgType, this.options.senderCompId, this.options.targetCompId);
      this.headers.set(msgType, t);
    }
    return this.enc.beginHeader(buf, base, this.options.version, t, seq, now);
  }

  private write(start: number): boolean {
    this.lastSent = this.headerMs; // every message written was begun by header() just before
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
      for (const [tag, value] of this.options.logonFields) e.str(tag, value);
    });
  }

  private sendResendRequest(from: number): void {
    this.counters.resendRequestsOut++;
    this.options.log(`${this.id()}: ResendRequest ${from}..0`);
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
      this.queue.clear();
      this.handledEarly.clear();
      this.skipUpTo = 0;
      this.resendRequest = null;
      this.store.setSeqs(this.store.nextSenderSeq, seq);
      this.processInOrder(msg);
      return;
    }
    if (t === MsgType.SequenceReset && msg.getChar(Tag.GapFillFlag) !== 0x59) {
      // SequenceReset-Reset ignores MsgSeqNum altogether. Early messages already queued are still
      // delivered: those below NewSeqNo (received intact before the reset overtook them) and then
      // every one from NewSeqNo on, in order.
      const ns = msg.getInt(Tag.NewSeqNo);
      if (ns <= 0 || ns < expected) {
        const text = `SequenceReset NewSeqNo(36)=${ns} below the expected MsgSeqNum ${expected}`;
        this.options.log(`${this.id()}: ${text}`);
        this.sendReject(seq, 5, text);
        return;
      }
      this.counters.sequenceResetsIn++;
      this.options.log(`${this.id()}: SequenceReset-Reset to ${ns} (expected ${expected}, ${this.queue.size} queued)`);
      if (ns > this.skipUpTo) this.skipUpTo = ns;
      this.drainQueue();
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
    const rr = this.resendRequest;
    if (!rr) {
      // EndSeqNo 0 asks for everything up to the peer's latest, so one request covers later gaps.
      this.resendRequest = { upTo: seq - 1, seen: expected, since: Date.now(), attempts: 0 };
      this.sendResendRequest(expected);
    } else if (seq - 1 > rr.upTo) {
      rr.upTo = seq - 1;
    }
  }

  /**
   * Delivers queued early messages that are now in order, and moves over ranges the peer skipped
   * (`skipUpTo`) while still delivering any queued message inside them. Not re-entrant: messages
   * replayed through `queueParser` may themselves be gap fills that extend `skipUpTo`; this loop
   * picks that up.
   */
  private drainQueue(): void {
    // Nothing queued, skipped or asked for (every in-order message in steady state): nothing to
    // do, and no Map lookup or key iterator per message.
    if (this.queue.size === 0 && this.skipUpTo === 0 && this.resendRequest === null) return;
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const next = this.store.nextTargetSeq;
        const b = this.queue.get(next);
        if (b) { this.queue.delete(next); this.queueParser.push(b); continue; }
        if (this.skipUpTo > next) {
          let first = 0;
          for (const s of this.queue.keys()) if (s > next && s < this.skipUpTo && (first === 0 || s < first)) first = s;
          this.store.setSeqs(this.store.nextSenderSeq, first || this.skipUpTo);
          if (!first) this.skipUpTo = 0;
          continue;
        }
        break;
      }
      if (this.skipUpTo && this.skipUpTo <= this.store.nextTargetSeq) this.skipUpTo = 0;
      // Stale entries (below the expected seq) can go.
      for (const s of this.queue.keys()) if (s < this.store.nextTargetSeq) this.queue.delete(s);
      if (this.resendRequest && this.store.nextTargetSeq > this.resendRequest.upTo) this.resendRequest = null;
    } finally {
      this.draining = false;
    }
  }

  /** Handles a message whose MsgSeqNum is the expected one (or a queued one now in order). */
  private processInOrder(msg: FixMessage): void {
    const seq = msg.getInt(Tag.MsgSeqNum);
    const t = msg.msgType;
    const early = this.handledEarly.size !== 0 && this.handledEarly.delete(seq);
    if (t === MsgType.SequenceReset) {
      // GapFill in order: seq..NewSeqNo-1 are skipped; drainQueue moves over them (delivering any
      // queued message in that range rather than dropping it).
      this.counters.gapFillsIn++;
      const ns = msg.getInt(Tag.NewSeqNo);
      this.store.setSeqs(this.store.nextSenderSeq, seq + 1);
      if (ns > this.skipUpTo) this.skipUpTo = ns;
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
      // Capped: replay the newest part, gap-fill the oldest (see the file comment for why).
      from = end - this.options.maxResendRange + 1;
      this.counters.resendCapped++;
      this.options.log(`${this.id()}: ResendRequest ${begin}..${end} exceeds ${this.options.maxResendRange}; gap-filling ${begin}..${from - 1}`);
    }
    this.resendQueue.add(begin, end, from);
    if (!this.resendScheduled) this.resendSome();
  }

  private clearResends(): void {
    this.resendQueue.clear();
    this.resendGapStart = this.resendGapEnd = 0;
  }

  /** Sends the gap fill accumulated so far (resendGapStart..resendGapEnd), if any. */
  private flushResendGap(): void {
    if (!this.resendGapStart) return;
    this.sendGapFill(this.resendGapStart, this.resendGapEnd + 1);
    this.resendGapStart = this.resendGapEnd = 0;
  }

  /** Answers up to `resendBatch` owed messages, then yields to the event loop (throttle). */
  private resendSome(): void {
    this.resendScheduled = false;
    if (!this.socket) { this.clearResends(); return; }
    const q = this.resendQueue;
    let budget = this.options.resendBatch;
    while (budget > 0 && !q.isEmpty) {
      const seq = q.first;
      // A gap fill covers one contiguous run only: close it before a jump.
      if (this.resendGapStart && seq !== this.resendGapEnd + 1) this.flushResendGap();
      if (!q.firstIsReplay) {
        const to = q.takeFillRun();
        if (!this.resendGapStart) this.resendGapStart = seq;
        this.resendGapEnd = to;
        continue;
      }
      q.takeOne();
      const stored = this.store.get(seq);
      if (!stored) {
        // Admin messages are not stored: gap-filled.
        if (!this.resendGapStart) this.resendGapStart = seq;
        this.resendGapEnd = seq;
        continue;
      }
      this.flushResendGap();
      this.resendOne(stored);
      budget--;
    }
    if (!q.isEmpty) {
      this.resendScheduled = true;
      if (!this.ownerDriven) setImmediate(() => { if (this.resendScheduled) this.resendSome(); });
      return;
    }
    this.flushResendGap();
  }

  /**
   * One turn of the owner's loop: sends the next resend batch if one is owed (at most
   * `resendBatch` messages). Returns the messages and gap fills sent. Calling it once hands the
   * throttle to the owner: batches then go out on its turns, not on event-loop turns.
   */
  pollResends(): number {
    this.ownerDriven = true;
    if (!this.resendScheduled) return 0;
    const before = this.counters.resentMessages + this.counters.gapFillsOut;
    this.resendSome();
    return this.counters.resentMessages + this.counters.gapFillsOut - before;
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
    // Backstop for an owner that stopped polling: its owed resend batch goes out on the timer.
    if (this.resendScheduled && this.ownerDriven) this.resendSome();
    if (this.resendRequest && !this.checkResendRequest(now)) return;
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

  /**
   * Requester: re-sends a ResendRequest that made no progress for `resendRequestTimeoutMs`, from
   * the first missing number; after `resendRequestRetries` re-sends, logs out. False when the
   * session ended.
   */
  private checkResendRequest(now: number): boolean {
    const rr = this.resendRequest!;
    const next = this.store.nextTargetSeq;
    if (next > rr.upTo) { this.resendRequest = null; return true; }
    if (next !== rr.seen) { rr.seen = next; rr.since = now; rr.attempts = 0; return true; }
    if (now - rr.since < this.options.resendRequestTimeoutMs) return true;
    if (rr.attempts >= this.options.resendRequestRetries) {
      this.counters.resendFailures++;
      const text = `ResendRequest for ${next}..${rr.upTo} unanswered after ${rr.attempts + 1} attempts ` +
        `${this.options.resendRequestTimeoutMs} ms apart (${this.queue.size} messages queued behind the gap)`;
      this.options.log(`${this.id()}: ${text}`);
      this.sendAdmin('5', (e) => e.str(Tag.Text, text));
      this.disconnected(text);
      return false;
    }
    rr.attempts++;
    rr.since = now;
    this.counters.resendRetries++;
    this.sendResendRequest(next);
    return true;
  }

  private id(): string { return `${this.options.version} ${this.options.senderCompId}->${this.options.targetCompId}`; }

  close(): void {
    this.disconnected('closed');
    this.store.close();
  }
}
