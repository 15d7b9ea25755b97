/**
 * VenueConnector for FIX 4.2 / 4.4 (initiator). Order messages out: NewOrderSingle (D),
 * OrderCancelRequest (F), OrderCancelReplaceRequest (G); in: ExecutionReport (8) and
 * OrderCancelReject (9). Prices cross this boundary as Price(4) integers and go on the wire as
 * decimals.
 *
 * Exactly-once: the session layer processes each inbound MsgSeqNum once (resends of messages
 * already seen are PossDup duplicates and are dropped), and sequence numbers survive reconnects
 * and restarts in the file store, so after a drop the venue's ResendRequest/ours recovers exactly
 * the missing messages.
 *
 * Quantities: `sendReplace` qty and `onReplaced` qty are total order quantity (FIX OrderQty,
 * filled shares included), the same for every connector.
 *
 * Recovery: resends we owe are capped per request (`maxResendRange`, oldest part gap-filled);
 * a ResendRequest of ours the venue does not satisfy is retried (`resendRequestTimeoutMs`,
 * `resendRequestRetries`) and then ends the session with the missing range named. A venue whose
 * numbers went backwards (it restarted or reset without telling us) is not retried blindly: the
 * connector goes FAILED and says how to recover (resetOnLogon or an agreed SequenceReset).
 * Execution reports flagged PossDupFlag=Y (a session resend) or PossResend=Y (an application
 * resend under a new MsgSeqNum) whose ExecID was already applied are dropped, so a venue's possible
 * duplicate never counts a fill twice, in the router or in this connector's CumQty. After a restart
 * the router hands back the ExecIDs its journal holds (`restoreExecIds`), so a fill the venue
 * resends from before the crash is recognised too.
 *
 * Daily schedule (`schedule.resetTime`): at that time the connector logs out and logs on again
 * with ResetSeqNumFlag=Y; a connect after a missed reset time (the process was down) resets too.
 * Session window (`window`, routing_config.yml `schedule`): outside it no Logon, a Logout at its end
 * and no reconnect until the next one (SessionGate); a session created before the window opened
 * logs on with ResetSeqNumFlag=Y. The session's start (the store's creation time) is its identity
 * for the router (`venueSession`). Cancel on disconnect (`cancelOnDisconnect`): sent as a Logon tag (default 8013=Y); the venue's
 * cancels arrive after reconnect, through normal recovery, as ordinary cancel reports.
 *
 * Transport: `transport` (a factory; default native when the addon is built). Over the native
 * transport the owner's loop calls `poll(nowMs)` each turn: execution reports, the session's
 * heartbeat/TestRequest checks and the reconnect schedule run from there.
 *
 * Duplicate ExecIDs: a report is looked up in `execIds` only when flagged (PossDupFlag or
 * PossResend), and its ExecID is added after the listener has it. Measured in process
 * (perf/fix-trip's pipe: the connector and the venue simulator's FIX front end, no sockets; median
 * of 15,000 acks after 5,000, load 6-8): report in -> onAck 1.16-1.25 -> 0.78-0.79 us; the probe of
 * a set holding every ExecID of the day, before every ack, was most of that.
 *
 * Threading: the router's thread; callbacks run from `poll()` (native) or socket events (libuv).
 */
import { sessionIdlePolicy, type SessionIdlePolicy } from '../../protocols/transport/session-waiter';
import { ReconnectSchedule } from './reconnect-schedule';
import { socketErrorFix } from '../../protocols/socket-errors';
import type { SessionTransport, TransportEvents, TransportFactory, TransportKind } from '../../protocols/transport/session-transport';
import { TransportSocket } from '../../protocols/transport/transport-socket';
import { transportFactory } from '../../protocols/transport/create-transport';
import * as os from 'os';
import * as path from 'path';
import { TickpathError, invalidOption } from '../../errors';
import type { VenueConnector, VenueListener, VenueOrder, Side, SessionState } from '../venue';
import { FixParser, Tag, MsgType, type FixMessage, type FixVersion } from '../../protocols/fix/fix-codec';
import { FixSession } from '../../protocols/fix/fix-session';
import { execIdKey } from '../journal';
import type { FixStoreFsync } from '../../protocols/fix/fix-store';
import { SessionSchedule, SessionWindow, type SessionScheduleOptions, type SessionWindowOptions, type WindowSpan } from '../../protocols/session-schedule';
import { SessionGate } from './session-gate';
import { TokenMap } from './token-map';

export interface FixConnectorOptions {
  name: string;
  host: string;
  port: number;
  version: FixVersion;
  senderCompId: string;
  targetCompId: string;
  /** Where sequence numbers and sent messages persist; default: os.tmpdir()/tickpath-fix. */
  storeDir?: string;
  /** The store's fsync policy: the router passes its journal's (default 'group'). */
  storeFsync?: FixStoreFsync;
  storeGroupCommitUs?: number;
  /** FixSession storeKind: 'auto' (default: the mapped store where the addon is built), 'mapped' or 'files'. */
  storeKind?: 'auto' | 'mapped' | 'files';
  heartbeatIntervalSec?: number;
  /** Send ResetSeqNumFlag=Y on every Logon (venues that start each connection at 1). */
  resetOnLogon?: boolean;
  account?: string;
  connectTimeoutMs?: number;
  /** Reconnect attempts after an unexpected drop before the session is FAILED (0 = never). */
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
  /** Most messages one venue ResendRequest makes us replay; the older part is gap-filled (default 10000). */
  maxResendRange?: number;
  /** Our unanswered ResendRequest is re-sent after this long without progress (default: the heartbeat interval). */
  resendRequestTimeoutMs?: number;
  /** Re-sends of an unanswered ResendRequest before the session ends with an error (default 3). */
  resendRequestRetries?: number;
  /**
   * Ask the venue to cancel our open orders if the session drops: true sends 8013=Y on Logon;
   * `{ tag, value }` for a venue that uses another tag.
   */
  cancelOnDisconnect?: boolean | { tag: number; value?: string };
  /** Daily reset: at `resetTime` (in `timeZone`, default UTC) log out and log on again from sequence 1. */
  schedule?: SessionScheduleOptions;
  /**
   * Session window: logged on only between `start` and `end` (on `days`); outside it no Logon, a
   * Logout at its end, and `sessionWindowClosed` says why for the router. Each window's start is a
   * new session day: a session created before it logs on with ResetSeqNumFlag=Y.
   */
  window?: SessionWindowOptions;
  /** Clock for the session window (tests); default Date.now. */
  now?: () => number;
  log?: (line: string) => void;
  /** Makes the session's transport; default: native when the addon is built, else libuv. */
  transport?: TransportFactory;
  /** How the session's owner idles (routing_config venues[].idle / spin_us): reported in stats(), applied by the owner's SessionWaiter. */
  idle?: SessionIdlePolicy;
}

interface OrderInfo { symbol: string; side: Side; orderQty: number; cumQty: number; price: number; ordType: 'LIMIT' | 'MARKET'; tif: 'DAY' | 'IOC' }

/** What an Order Status answer (ExecType=I) says, copied out of the message (answers may be held). */
interface StatusReply {
  ordStatus: number; ordRejReason: number; cumQty: number; orderQty: number; price: number; avgPx: number;
  orderId: string; execId: string; text: string;
}

function readStatus(m: FixMessage): StatusReply {
  return {
    ordStatus: m.getChar(Tag.OrdStatus), ordRejReason: m.getInt(Tag.OrdRejReason, 0), cumQty: m.getInt(Tag.CumQty, 0),
    orderQty: m.has(Tag.OrderQty) ? m.getInt(Tag.OrderQty, 0) : -1, price: m.has(Tag.Price) ? m.getPrice4(Tag.Price) : -1,
    avgPx: m.getPrice4(Tag.AvgPx), orderId: m.getStr(Tag.OrderID), execId: m.getStr(Tag.ExecID), text: m.getStr(Tag.Text),
  };
}

/** A replace in flight at a restart: the two status answers, as they arrive. */
interface ReplaceRecon {
  origId: string; newId: string; newQty: number; newPrice: number; filledQty: number;
  orig: StatusReply | null; next: StatusReply | null;
}

const kWhere = 'FixConnector';
/** About what a NewOrderSingle takes in the session's send ring (header, ten fields, trailer). */
const kNewOrderSingleBytes = 192;
const kNullListener: VenueListener = { onAck() {}, onReject() {}, onFill() {}, onCancelled() {}, onReplaced() {}, onSessionState() {} };

function sideCode(s: Side): number { return s === 'B' ? 0x31 : s === 'S' ? 0x32 : 0x35; }

export class FixConnector implements VenueConnector {
  readonly name: string;
  readonly protocol: 'fix42' | 'fix44';
  /** A FIX venue refuses a reused ClOrdID: orders in flight at a crash are reconciled, not re-sent. */
  readonly resendsIdempotently = false;
  readonly session: FixSession;
  private listener: VenueListener = kNullListener;
  private socket: TransportSocket | null = null;
  /** Created once, reused by every reconnect. */
  private transportInstance: SessionTransport | null = null;
  private readonly makeTransport: TransportFactory;
  private readonly reconnects: ReconnectSchedule;
  private lastTick = 0;
  /** errno of the last socket error, for the fix hint of a failed connect. */
  private lastErrno: string | undefined;
  private readonly parser: FixParser;
  /**
   * Open orders by ClOrdID. TokenMaps, not Maps: a Map rebuilds its table in old space as orders
   * come and go (token-map.ts), ~100-150 B of old-space garbage per order and map.
   */
  private readonly orders = new TokenMap<OrderInfo>();
  /** ClOrdID of a cancel request -> the order it cancels. */
  private readonly cancelIds = new TokenMap<string>();
  private cancelCounter = 0;
  private closing = false;
  private everLoggedIn = false;
  private pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly opts: FixConnectorOptions & { reconnectAttempts: number; reconnectDelayMs: number; connectTimeoutMs: number };
  private readonly log: (line: string) => void;
  /** Replaces in flight at a restart, by both their ids, until the venue answered about both. */
  private readonly replaceRecon = new TokenMap<ReplaceRecon>(8);
  /** Orders whose status was asked after a restart: the answer may call for a resend. */
  private readonly statusPending = new TokenMap<VenueOrder>(8);
  private readonly counters = { statusRequests: 0, statusReplies: 0, ordersOut: 0, cancelsOut: 0, replacesOut: 0, acks: 0, rejects: 0, fills: 0, filledQty: 0, cancels: 0, replaces: 0, cancelRejects: 0, reconnects: 0, unknownExecType: 0, duplicateReports: 0, dailyResets: 0 };
  /**
   * ExecIDs applied this session day, as execIdKey (the journal's form): a PossDupFlag=Y or
   * PossResend=Y report with one of these is a duplicate.
   */
  private readonly execIds = new Set<string>();
  private readonly schedule: SessionSchedule | null;
  private scheduleTimer: NodeJS.Timeout | null = null;
  private readonly gate: SessionGate | null;
  /** Outside the session window: logged out on purpose, no reconnect. */
  private windowShut = false;

  /** How the owner of this session should idle (stats: idle, spinUs). */
  readonly idle: SessionIdlePolicy;

  constructor(options: FixConnectorOptions) {
    this.idle = sessionIdlePolicy(kWhere, options.idle?.idle ?? 'block', options.idle?.spinUs ?? 0);
    if (typeof options.name !== 'string' || options.name === '') throw invalidOption(kWhere, 'name', options.name, 'a venue name');
    if (typeof options.host !== 'string' || options.host === '') throw invalidOption(kWhere, 'host', options.host, 'a host name');
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) throw invalidOption(kWhere, 'port', options.port, 'an integer port 1..65535');
    const attempts = options.reconnectAttempts ?? 5;
    if (!Number.isInteger(attempts) || attempts < 0) throw invalidOption(kWhere, 'reconnectAttempts', attempts, 'a non-negative integer');
    const delay = options.reconnectDelayMs ?? 200;
    if (!Number.isInteger(delay) || delay < 0) throw invalidOption(kWhere, 'reconnectDelayMs', delay, 'a non-negative integer (ms)');
    this.opts = { ...options, reconnectAttempts: attempts, reconnectDelayMs: delay, connectTimeoutMs: options.connectTimeoutMs ?? 5000 };
    this.reconnects = new ReconnectSchedule(attempts, delay, (attempt) => this.reconnectNow(attempt), (detail) => this.listener.onSessionState('FAILED', detail));
    this.name = options.name;
    this.protocol = options.version === 'FIX.4.4' ? 'fix44' : 'fix42';
    this.log = options.log ?? (() => {});
    this.schedule = options.schedule === undefined ? null : new SessionSchedule(options.schedule, kWhere);
    this.gate = options.window === undefined ? null
      : new SessionGate(new SessionWindow(options.window, kWhere), options.now ?? Date.now, (span) => this.windowOpened(span), (next) => this.windowClosed(next));
    const cod = options.cancelOnDisconnect;
    let logonFields: Array<[number, string]> = [];
    if (cod === true) logonFields = [[8013, 'Y']];
    else if (cod && typeof cod === 'object') {
      if (!Number.isInteger(cod.tag) || cod.tag <= 0) throw invalidOption(kWhere, 'cancelOnDisconnect.tag', cod.tag, 'a positive integer FIX tag');
      logonFields = [[cod.tag, cod.value ?? 'Y']];
    } else if (cod !== undefined && cod !== false) throw invalidOption(kWhere, 'cancelOnDisconnect', cod, 'a boolean or { tag, value }');
    this.makeTransport = options.transport ?? transportFactory('auto');
    this.session = new FixSession({
      version: options.version, senderCompId: options.senderCompId, targetCompId: options.targetCompId, role: 'initiator',
      storeDir: options.storeDir ?? path.join(os.tmpdir(), 'tickpath-fix'), heartbeatIntervalSec: options.heartbeatIntervalSec,
      storeFsync: options.storeFsync, storeGroupCommitUs: options.storeGroupCommitUs, storeKind: options.storeKind,
      resetOnLogon: options.resetOnLogon, logonTimeoutMs: this.opts.connectTimeoutMs, log: this.log,
      maxResendRange: options.maxResendRange, resendRequestTimeoutMs: options.resendRequestTimeoutMs,
      resendRequestRetries: options.resendRequestRetries, logonFields,
    });
    this.session.setApplication({
      onLogon: () => this.onLogon(),
      onLogout: (reason) => this.onLogout(reason),
      onAppMessage: (m, possDup) => this.onAppMessage(m, possDup),
      onSessionReject: (ref, text) => this.log(`${this.name}: session reject of seq ${ref}: ${text}`),
    });
    this.parser = new FixParser((m) => this.session.receive(m), {
      onBad: (reason, raw) => this.log(`${this.name}: dropped ${reason} bytes: ${raw.toString('latin1').replace(/\x01/g, '|')}`),
    });
  }

  setListener(listener: VenueListener): void { this.listener = listener; }

  get transport(): TransportKind { return this.transportOnce().kind; }

  private transportOnce(): SessionTransport {
    if (!this.transportInstance) this.transportInstance = this.makeTransport();
    return this.transportInstance;
  }

  poll(nowMs: number): number {
    let n = this.socket ? this.socket.transport.poll() : 0;
    // Resend batches on this loop's turns (throttled per turn), not on event-loop turns.
    if (this.socket) n += this.session.pollResends();
    // The session's checks have 100 ms resolution on its timer; 10 ms here is plenty and cheap.
    if (nowMs - this.lastTick >= 10) { this.lastTick = nowMs; if (this.socket) this.session.tick(nowMs); }
    this.reconnects.poll(nowMs);
    if (this.gate) this.gate.poll(this.opts.now === undefined ? nowMs : this.opts.now());
    return n;
  }

  connect(): Promise<void> {
    this.closing = false;
    if (!this.session.store.isOpen) this.session.store.open(); // connect again after close()
    if (this.session.store.creationMigrated) {
      this.log(`${this.name}: FIX store ${this.session.store.dir}/${this.session.store.id} had no creation time; ` +
        `recorded its last write, ${new Date(this.session.store.createdMs).toISOString()}, as the session's creation`);
      this.session.store.creationMigrated = false;
    }
    if (this.schedule) {
      // Down at the reset time: this session's numbers belong to a previous day.
      const created = this.session.store.createdMs;
      if (created > 0 && this.schedule.resetDueSince(created)) {
        this.log(`${this.name}: session created ${new Date(created).toISOString()}, before the last daily reset; logging on with ResetSeqNumFlag=Y`);
        this.newDay();
      }
      this.armSchedule();
    }
    if (this.gate) {
      const span = this.gate.start();
      if (span === null) {
        // Closed now: no Logon until the window opens (the gate calls windowOpened then).
        this.windowShut = true;
        const detail = this.gate.closedDetail();
        this.log(`${this.name}: ${detail}; logging on then`);
        this.listener.onSessionState('LOGGED_OUT', detail);
        return Promise.resolve();
      }
      this.windowShut = false;
      this.newDayIfBefore(span.start);
    }
    this.listener.onSessionState('CONNECTING', `${this.opts.host}:${this.opts.port} as ${this.opts.senderCompId}`);
    return this.open().catch((err) => {
      this.listener.onSessionState('FAILED', (err as Error).message);
      throw err;
    });
  }

  private open(): Promise<void> {
    if (this.socket) return Promise.reject(new TickpathError('ERR_FIX_STATE', `${kWhere} ${this.name}: already connected`));
    this.parser.reset();
    return new Promise<void>((resolve, reject) => {
      this.pending = { resolve, reject };
      const t = this.transportOnce();
      const sock = new TransportSocket(t);
      this.socket = sock;
      this.lastErrno = undefined;
      // A dropped socket's late events must not touch its successor (a closed transport sends none).
      sock.once('close', () => { if (this.socket === sock) this.fail(this.lastErrno ? `socket error: ${this.lastErrno}` : 'connection closed', 'ERR_FIX_CONNECT'); });
      const events: TransportEvents = {
        onConnect: () => { if (this.socket === sock) this.session.connected(sock); },
        // FixParser reads whole messages in place and copies only an incomplete tail (the region is reused by the next poll).
        onData: (buf, off, len) => { if (this.socket === sock) this.parser.push(buf, off, off + len); },
        onClose: (_reason, errno) => { if (this.socket === sock) this.lastErrno = errno; sock.closed(); },
      };
      t.connect(this.opts.host, this.opts.port, events);
    });
  }

  /** The socket is gone: tell the session, settle connect(), maybe reconnect. */
  private fail(reason: string, code: string): void {
    if (!this.socket) return;
    this.socket = null;
    const ended = this.lastSessionEnd;
    this.session.disconnected(reason);
    this.lastSessionEnd = '';
    if (ended && ended !== reason) reason = `${ended} (${reason})`;
    const p = this.pending;
    this.pending = null;
    if (/MsgSeqNum too low/.test(reason)) {
      // The venue's numbers went backwards: reconnecting with the same numbers fails the same way.
      const fix = "the venue's sequence numbers went backwards (it restarted or reset); reconnect with resetOnLogon (ResetSeqNumFlag=Y) or agree a SequenceReset with the venue";
      if (p) { p.reject(new TickpathError('ERR_FIX_SEQUENCE', `${kWhere} ${this.name} ${this.opts.host}:${this.opts.port}: ${reason}`, fix)); return; }
      if (!this.closing) this.listener.onSessionState('FAILED', `${reason}: ${fix}`);
      return;
    }
    if (this.windowShut && !p) return; // logged out at the end of the session window: no reconnect
    if (p) {
      p.reject(new TickpathError(code, `${kWhere} ${this.name} ${this.opts.host}:${this.opts.port}: ${reason}`,
        code === 'ERR_FIX_CONNECT' ? (this.lastErrno ? socketErrorFix(this.lastErrno, this.opts.host, this.opts.port) : 'check the venue host, port and CompIDs') : undefined));
      return;
    }
    if (this.closing) return;
    this.listener.onSessionState('DISCONNECTED', reason);
    this.scheduleReconnect(1);
  }

  /** A session created before the current window began belongs to a previous session day. */
  private newDayIfBefore(windowStart: number): void {
    const created = this.session.store.createdMs;
    if (created > 0 && created < windowStart && (this.session.nextSenderSeq > 1 || this.session.nextTargetSeq > 1)) {
      this.log(`${this.name}: session created ${new Date(created).toISOString()}, before this session window opened; logging on with ResetSeqNumFlag=Y`);
      this.newDay();
    }
  }

  /** The session window opened (SessionGate): a new session day, logged on now. */
  private windowOpened(span: WindowSpan): void {
    if (this.closing) return;
    this.windowShut = false;
    this.newDayIfBefore(span.start);
    this.log(`${this.name}: session window ${this.gate!.window.describe()} open until ${new Date(span.end).toISOString()}: logging on`);
    this.listener.onSessionState('CONNECTING', `${this.opts.host}:${this.opts.port} as ${this.opts.senderCompId} (session window open)`);
    this.open().then(() => undefined, (err: TickpathError) => {
      if (err.code === 'ERR_FIX_SEQUENCE') { if (!this.closing) this.listener.onSessionState('FAILED', err.message); return; }
      this.scheduleReconnect(1);
    });
  }

  /** The session window ended (SessionGate): Logout, and no reconnect until the next one. */
  private windowClosed(nextStart: number): void {
    this.windowShut = true;
    this.reconnects.cancel();
    this.log(`${this.name}: session window ${this.gate!.window.describe()} ended: logging out until ${new Date(nextStart).toISOString()}`);
    if (this.session.isLoggedIn) {
      this.lastSessionEnd = 'end of session window';
      void this.session.logout('end of session window').then(() => this.socket?.destroy());
    } else this.socket?.destroy();
    this.listener.onSessionState('LOGGED_OUT', this.gate!.closedDetail());
  }

  /** '' while the session window is open (or there is none); else why orders cannot go to this venue now. */
  get sessionWindowClosed(): string { return this.gate !== null && this.windowShut ? this.gate.closedDetail() : ''; }

  private newDay(): void {
    this.session.resetOnNextLogon();
    this.execIds.clear();
    this.counters.dailyResets++;
  }

  private armSchedule(due = this.schedule?.nextResetAfter() ?? 0): void {
    if (!this.schedule || this.closing) return;
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    const wait = Math.max(0, due - Date.now());
    this.scheduleTimer = setTimeout(() => {
      this.scheduleTimer = null;
      if (this.closing) return;
      // Timers count on the monotonic clock in whole ms, the schedule on the wall clock: one can
      // fire just before `due` (a wall clock stepped back, more). Resetting then made the next
      // reset `due` again, a second reset 1 ms later: wait out the rest instead.
      if (Date.now() < due) { this.armSchedule(due); return; }
      this.log(`${this.name}: daily reset at ${this.opts.schedule!.resetTime} ${this.schedule!.timeZone}: logging out, next Logon starts at 1`);
      this.newDay();
      // The logout closes the socket; fail() then reconnects as after any drop, with ResetSeqNumFlag=Y.
      if (this.session.isLoggedIn) this.lastSessionEnd = 'daily session reset';
      void this.session.logout('end of session day');
      this.armSchedule();
    }, wait);
    this.scheduleTimer.unref();
  }

  private scheduleReconnect(attempt: number): void {
    if (!this.closing) this.reconnects.schedule(attempt);
  }

  /** The attempt is due (ReconnectSchedule: the loop's clock, or its backstop timer). */
  private reconnectNow(attempt: number): void {
    if (this.closing || this.windowShut) return;
    this.open().then(() => { this.counters.reconnects++; }, (err: TickpathError) => {
      if (err.code === 'ERR_FIX_SEQUENCE') {
        // Not transient: every further attempt would fail the same way (or, worse, "succeed" once
        // the venue's numbers climb back to ours, having skipped its messages in between).
        if (!this.closing) this.listener.onSessionState('FAILED', err.message);
        return;
      }
      this.scheduleReconnect(attempt + 1);
    });
  }

  private onLogon(): void {
    // The session window closed while this Logon was on its way: leave again.
    if (this.windowShut && !this.closing) {
      this.lastSessionEnd = 'end of session window';
      void this.session.logout('end of session window').then(() => this.socket?.destroy());
      const p = this.pending;
      this.pending = null;
      p?.resolve();
      return;
    }
    const detail = `${this.session.options.version} logged in, next out ${this.session.nextSenderSeq}, next in ${this.session.nextTargetSeq}`;
    this.everLoggedIn = true;
    this.listener.onSessionState('LOGGED_IN', detail);
    const p = this.pending;
    this.pending = null;
    p?.resolve();
  }

  /** Why the session last ended (a venue's Logout text, a sequence error...): fail() reports it. */
  private lastSessionEnd = '';

  private onLogout(reason: string): void {
    this.lastSessionEnd = reason;
    const s = this.socket;
    if (s && !s.destroyed) s.destroy(); // fail() runs from the socket's 'close'
  }

  // ---- sends ----

  /** Keep-warm (OrderPathWarmer.touchReal): loads, never stores, of where the next NewOrderSingle is encoded. */
  touchSendPath(): number {
    return this.session.touchTx(kNewOrderSingleBytes);
  }

  sendNew(order: VenueOrder): boolean {
    if (!this.session.isLoggedIn) return false;
    if (typeof order.clOrdId !== 'string' || order.clOrdId === '' || order.clOrdId.includes('\x01')) {
      throw new TickpathError('ERR_INVALID_ORDER', `${kWhere}: clOrdId ${JSON.stringify(order.clOrdId)} is empty or contains SOH`);
    }
    const e = this.session.beginApp('D');
    e.str(Tag.ClOrdID, order.clOrdId);
    if (this.opts.account) e.str(Tag.Account, this.opts.account);
    e.char(Tag.HandlInst, 0x31).str(Tag.Symbol, order.symbol).char(Tag.Side, sideCode(order.side))
      .time(Tag.TransactTime, this.session.sendingTimeMs).int(Tag.OrderQty, order.qty)
      .char(Tag.OrdType, order.ordType === 'MARKET' ? 0x31 : 0x32);
    if (order.ordType !== 'MARKET') e.price4(Tag.Price, order.price);
    e.char(Tag.TimeInForce, order.tif === 'IOC' ? 0x33 : 0x30);
    if (!this.session.sendApp()) return false;
    this.orders.set(order.clOrdId, { symbol: order.symbol, side: order.side, orderQty: order.qty, cumQty: 0, price: order.price, ordType: order.ordType, tif: order.tif });
    this.counters.ordersOut++;
    return true;
  }

  sendCancel(clOrdId: string, symbol: string, side: Side, remainingQty: number): boolean {
    if (!this.session.isLoggedIn) return false;
    const o = this.orders.get(clOrdId);
    const cancelId = `${clOrdId}.C${++this.cancelCounter}`;
    const e = this.session.beginApp('F');
    e.str(Tag.OrigClOrdID, clOrdId).str(Tag.ClOrdID, cancelId).str(Tag.Symbol, symbol).char(Tag.Side, sideCode(side))
      .time(Tag.TransactTime, this.session.sendingTimeMs).int(Tag.OrderQty, o ? o.orderQty : remainingQty);
    if (!this.session.sendApp()) return false;
    this.cancelIds.set(cancelId, clOrdId);
    this.counters.cancelsOut++;
    return true;
  }

  sendReplace(origClOrdId: string, newClOrdId: string, symbol: string, side: Side, qty: number, price: number): boolean {
    if (!this.session.isLoggedIn) return false;
    const o = this.orders.get(origClOrdId);
    const cum = o ? o.cumQty : 0;
    if (!Number.isInteger(qty) || qty <= cum) {
      throw new TickpathError('ERR_INVALID_ORDER', `${kWhere}: replace of ${origClOrdId} to qty ${qty}; expected an integer above the ${cum} already filled`);
    }
    const e = this.session.beginApp('G');
    e.str(Tag.OrigClOrdID, origClOrdId).str(Tag.ClOrdID, newClOrdId);
    if (this.opts.account) e.str(Tag.Account, this.opts.account);
    e.char(Tag.HandlInst, 0x31).str(Tag.Symbol, symbol).char(Tag.Side, sideCode(side)).time(Tag.TransactTime, this.session.sendingTimeMs)
      .int(Tag.OrderQty, qty).char(Tag.OrdType, 0x32).price4(Tag.Price, price)
      .char(Tag.TimeInForce, o && o.tif === 'IOC' ? 0x33 : 0x30);
    if (!this.session.sendApp()) return false;
    this.orders.set(newClOrdId, { symbol, side, orderQty: qty, cumQty: cum, price, ordType: 'LIMIT', tif: o ? o.tif : 'DAY' });
    this.counters.replacesOut++;
    return true;
  }

  /**
   * Order Status Request (35=H) for an order restored from the journal. The order is put back in
   * the connector's table with the fills the router already counted, so the venue's answer
   * (ExecType=I, onStatus) turns into exactly the events the router missed.
   */
  requestStatus(order: VenueOrder, filledQty: number): boolean {
    if (!this.session.isLoggedIn) return false;
    const e = this.session.beginApp('H');
    e.str(Tag.ClOrdID, order.clOrdId).str(Tag.Symbol, order.symbol).char(Tag.Side, sideCode(order.side));
    if (!this.session.sendApp()) return false;
    if (!this.orders.has(order.clOrdId)) {
      this.orders.set(order.clOrdId, { symbol: order.symbol, side: order.side, orderQty: order.qty, cumQty: filledQty, price: order.price, ordType: order.ordType, tif: order.tif });
    }
    this.statusPending.set(order.clOrdId, { ...order });
    this.counters.statusRequests++;
    return true;
  }

  /** Last MsgSeqNum taken from the venue. */
  get lastSequence(): number { return this.session.nextTargetSeq - 1; }

  /** Our next MsgSeqNum (journaled for a hot standby). */
  get nextOutSequence(): number { return this.session.nextSenderSeq; }

  /**
   * Failover takeover: logs on as the session the primary's journal describes (VenueConnector).
   * `session` is a venueSession string ('F' + the session start in base 36).
   */
  adoptSession(session: string, nextOut: number, lastIn: number): void {
    if (this.everLoggedIn) throw new TickpathError('ERR_FIX_STORE', `FixConnector ${this.name}: adoptSession after logon`, 'adopt the journaled session before connect()');
    const createdMs = /^F[0-9a-z]+$/.test(session) ? parseInt(session.slice(1), 36) : NaN;
    if (!Number.isFinite(createdMs) || !Number.isInteger(nextOut) || nextOut < 1 || !Number.isInteger(lastIn) || lastIn < 0) {
      throw new TickpathError('ERR_FIX_STORE', `FixConnector ${this.name}: cannot adopt session ${JSON.stringify(session)} (next out ${nextOut}, last in ${lastIn})`,
        'the journal does not describe this FIX session: start the standby on the primary\'s journal stream, or agree a sequence reset with the venue');
    }
    this.session.store.adopt(createdMs, nextOut, lastIn + 1);
  }

  private sessionName = '';
  private sessionNameOf = 0;

  /**
   * The session's identity: 'F' + its creation time in base 36 (the store's, reset with the
   * sequence numbers); '' before the first Logon. Same string object until the session changes.
   */
  get venueSession(): string {
    if (!this.everLoggedIn) return '';
    const c = this.session.store.createdMs;
    if (c !== this.sessionNameOf) { this.sessionNameOf = c; this.sessionName = `F${c.toString(36)}`; }
    return this.sessionName;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.reconnects.cancel();
    this.gate?.stop();
    if (this.scheduleTimer) { clearTimeout(this.scheduleTimer); this.scheduleTimer = null; }
    await this.session.logout();
    this.socket?.destroy();
    this.socket = null;
    this.session.store.close();
    this.listener.onSessionState('LOGGED_OUT', 'closed by caller');
  }

  /** Drops the TCP connection without Logout (tests: simulate a network failure). */
  dropConnection(): void { this.socket?.destroy(); }

  stats(): Record<string, number | string> {
    const s = this.session.counters;
    return {
      transport: this.transport,
      idle: this.idle.idle,
      spinUs: this.idle.spinUs,
      ...this.counters,
      messagesIn: s.messagesIn, messagesOut: s.messagesOut, badFrames: this.parser.counters.badFrames + this.parser.counters.badChecksums,
      badChecksums: this.parser.counters.badChecksums, garbageBytes: this.parser.counters.garbageBytes,
      resends: s.resentMessages, resendRequestsIn: s.resendRequestsIn, resendRequestsOut: s.resendRequestsOut, gapFillsIn: s.gapFillsIn,
      possDupsIgnored: s.possDupsIgnored, resendRetries: s.resendRetries, resendFailures: s.resendFailures, resendCapped: s.resendCapped,
      sequenceResetsIn: s.sequenceResetsIn, nextSenderSeq: this.session.nextSenderSeq, nextTargetSeq: this.session.nextTargetSeq,
      openOrders: this.orders.size,
    };
  }

  // ---- inbound ----

  /** ExecIDs (execIdKey form) the router's journal holds for this venue: applied before a restart. */
  restoreExecIds(keys: Iterable<string>): void {
    for (const k of keys) this.execIds.add(k);
  }

  private onAppMessage(m: FixMessage, possDup: boolean): void {
    if (m.msgType === MsgType.ExecutionReport && m.msgTypeLen === 1) {
      const execId = m.getStr(Tag.ExecID);
      if (execId === '') { this.onExecutionReport(m); return; }
      const key = execIdKey(execId);
      // Only a report flagged as a possible duplicate is looked up, and the ExecID is added once
      // the report is applied: an ack or fill reaches the listener without touching this set,
      // which holds every ExecID of the day and misses the cache when it is large (see the file
      // header).
      if ((possDup || m.getChar(Tag.PossResend) === 0x59) && this.execIds.has(key)) {
        this.counters.duplicateReports++;
        this.log(`${this.name}: ${possDup ? 'possible duplicate (PossDupFlag=Y)' : 'possible resend (PossResend=Y)'} of ExecID ${execId} already applied, ignored`);
        return;
      }
      // Added even when the listener throws, as before: the report counts as applied either way.
      try { this.onExecutionReport(m); } finally { this.execIds.add(key); }
    }
    else if (m.msgType === MsgType.OrderCancelReject && m.msgTypeLen === 1) this.onCancelReject(m);
    else this.log(`${this.name}: ignored application message ${m.toString()}`);
  }

  private onExecutionReport(m: FixMessage): void {
    const execType = m.getChar(Tag.ExecType);
    const clOrdId = m.getStr(Tag.ClOrdID);
    // FIX 4.2 corrections/busts (ExecTransType 1/2) would need trade amendment: log, do not apply.
    const transType = m.getChar(Tag.ExecTransType);
    if (execType === 0x49) { this.onStatus(m, clOrdId); return; } // 'I' order status (4.2: ExecTransType 3)
    if (transType !== 0 && transType !== 0x30) { this.log(`${this.name}: ExecTransType ${String.fromCharCode(transType)} not applied: ${m.toString()}`); return; }
    switch (execType) {
      case 0x30: // '0' New
        this.counters.acks++;
        this.listener.onAck(clOrdId, m.getStr(Tag.OrderID));
        return;
      case 0x31: case 0x32: case 0x46: { // '1' partial, '2' fill (4.2), 'F' trade (4.4)
        const qty = m.getInt(Tag.LastShares, 0);
        const px = m.getPrice4(Tag.LastPx);
        const o = this.orders.get(clOrdId);
        if (o) { o.cumQty += qty; if (m.getInt(Tag.LeavesQty, 1) === 0) this.orders.delete(clOrdId); }
        this.counters.fills++;
        this.counters.filledQty += qty;
        this.listener.onFill(clOrdId, qty, px, m.getStr(Tag.ExecID));
        return;
      }
      case 0x34: case 0x43: { // '4' canceled, 'C' expired
        const orig = this.cancelIds.get(clOrdId) ?? (m.has(Tag.OrigClOrdID) ? m.getStr(Tag.OrigClOrdID) : clOrdId);
        this.cancelIds.delete(clOrdId);
        const o = this.orders.get(orig);
        const orderQty = m.getInt(Tag.OrderQty, o ? o.orderQty : 0);
        const cum = m.getInt(Tag.CumQty, o ? o.cumQty : 0);
        this.orders.delete(orig);
        this.counters.cancels++;
        this.listener.onCancelled(orig, Math.max(0, orderQty - cum), m.getStr(Tag.Text, execType === 0x43 ? 'expired' : 'canceled'));
        return;
      }
      case 0x35: { // '5' replaced
        const orig = m.getStr(Tag.OrigClOrdID);
        this.orders.delete(orig);
        const leaves = m.getInt(Tag.LeavesQty, 0);
        const total = m.getInt(Tag.OrderQty, leaves + m.getInt(Tag.CumQty, 0));
        const o = this.orders.get(clOrdId);
        if (o) { o.orderQty = total; o.cumQty = m.getInt(Tag.CumQty, o.cumQty); }
        if (leaves === 0) this.orders.delete(clOrdId);
        this.counters.replaces++;
        this.listener.onReplaced(orig, clOrdId, total, m.getPrice4(Tag.Price));
        return;
      }
      case 0x38: // '8' rejected
        this.orders.delete(clOrdId);
        this.counters.rejects++;
        this.listener.onReject(clOrdId, m.getStr(Tag.Text, `OrdRejReason ${m.getStr(Tag.OrdRejReason, '?')}`));
        return;
      case 0x36: case 0x45: case 0x41: case 0x44: case 0x33: // pending/restated/done for day
        return;
      default:
        this.counters.unknownExecType++;
        this.log(`${this.name}: unknown ExecType in ${m.toString()}`);
    }
  }

  /**
   * The venue's answer to an Order Status Request: an ack if the order is live, the shares filled
   * beyond what the router counted as one fill at the average price, and a cancel for shares taken
   * off the book. OrdStatus 8 with OrdRejReason 5 (unknown order): the venue never received it
   * (not even through the session's resend), so it is sent now, once, with the same ClOrdID.
   */
  private onStatus(m: FixMessage, clOrdId: string): void {
    this.counters.statusReplies++;
    const st = readStatus(m);
    const recon = this.replaceRecon.get(clOrdId);
    if (recon) { this.onReplaceStatus(recon, clOrdId, st); return; }
    this.applyStatus(clOrdId, st);
  }

  private applyStatus(clOrdId: string, st: StatusReply): void {
    const asked = this.statusPending.get(clOrdId);
    this.statusPending.delete(clOrdId);
    if (st.ordStatus === 0x38) {
      if (asked && st.ordRejReason === 5) {
        this.orders.delete(clOrdId);
        this.log(`${this.name}: ${clOrdId} unknown to the venue after restart: sending it again`);
        if (!this.sendNew(asked)) this.listener.onReject(clOrdId, 'not received by the venue; resend failed');
      } else {
        this.orders.delete(clOrdId);
        this.listener.onReject(clOrdId, st.text || 'rejected (order status)');
      }
      return;
    }
    const o = this.orders.get(clOrdId);
    const cum = st.cumQty;
    const orderQty = st.orderQty >= 0 ? st.orderQty : (o ? o.orderQty : cum);
    this.listener.onAck(clOrdId, st.orderId);
    const known = o ? o.cumQty : 0;
    if (cum > known) {
      if (o) o.cumQty = cum;
      this.counters.fills++;
      this.counters.filledQty += cum - known;
      this.listener.onFill(clOrdId, cum - known, st.avgPx, `S${st.execId}`);
    }
    if (st.ordStatus === 0x34 || st.ordStatus === 0x43) {
      this.orders.delete(clOrdId);
      this.counters.cancels++;
      this.listener.onCancelled(clOrdId, Math.max(0, orderQty - cum), st.ordStatus === 0x43 ? 'expired' : 'canceled');
    } else if (st.ordStatus === 0x32) this.orders.delete(clOrdId);
  }

  /**
   * A replace (35=G) was in flight at a crash: the venue is asked about the original ClOrdID and
   * the new one (two Order Status Requests) and, once both answered, the order ends in the venue's
   * state. The new id known to the venue: the replace happened (onReplaced with the venue's
   * quantity and price, then the new id's fills and cancel beyond what the router counted). The new
   * id unknown: the replace never took effect (onReject of the new id, which returns the order to
   * its state before the request) and the original's status is applied. Never sent again: the
   * order the venue holds is the truth, and the caller may replace again.
   */
  requestReplaceStatus(orig: VenueOrder, newClOrdId: string, newQty: number, newPrice: number, filledQty: number): boolean {
    if (!this.session.isLoggedIn) return false;
    const ask = (id: string): boolean => {
      const e = this.session.beginApp('H');
      e.str(Tag.ClOrdID, id).str(Tag.Symbol, orig.symbol).char(Tag.Side, sideCode(orig.side));
      return this.session.sendApp();
    };
    const info = (qty: number, price: number): OrderInfo => ({ symbol: orig.symbol, side: orig.side, orderQty: qty, cumQty: filledQty, price, ordType: orig.ordType, tif: orig.tif });
    if (!this.orders.has(orig.clOrdId)) this.orders.set(orig.clOrdId, info(orig.qty, orig.price));
    const recon: ReplaceRecon = { origId: orig.clOrdId, newId: newClOrdId, newQty, newPrice, filledQty, orig: null, next: null };
    this.replaceRecon.set(orig.clOrdId, recon);
    this.replaceRecon.set(newClOrdId, recon);
    if (!ask(orig.clOrdId) || !ask(newClOrdId)) {
      this.replaceRecon.delete(orig.clOrdId);
      this.replaceRecon.delete(newClOrdId);
      return false;
    }
    this.counters.statusRequests += 2;
    return true;
  }

  private onReplaceStatus(r: ReplaceRecon, clOrdId: string, st: StatusReply): void {
    if (clOrdId === r.origId) r.orig = st; else r.next = st;
    if (!r.orig || !r.next) return;
    this.replaceRecon.delete(r.origId);
    this.replaceRecon.delete(r.newId);
    const next = r.next;
    if (next.ordStatus === 0x38 && next.ordRejReason === 5) {
      this.log(`${this.name}: replace ${r.origId} -> ${r.newId} in flight at the restart never reached the venue; ${r.origId} stays as the venue holds it`);
      this.counters.rejects++;
      this.listener.onReject(r.newId, 'replace not received by the venue before the restart');
      this.applyStatus(r.origId, r.orig);
      return;
    }
    if (next.ordStatus === 0x38) {
      this.counters.rejects++;
      this.listener.onReject(r.newId, next.text || 'replace rejected (order status)');
      this.applyStatus(r.origId, r.orig);
      return;
    }
    // The venue replaced it: the new id stands for the order, at the venue's quantity and price.
    const total = next.orderQty >= 0 ? next.orderQty : r.newQty;
    const price = next.price >= 0 ? next.price : r.newPrice;
    this.log(`${this.name}: replace ${r.origId} -> ${r.newId} in flight at the restart was done at the venue (${total} @ ${price})`);
    const o = this.orders.get(r.origId);
    this.orders.delete(r.origId);
    this.orders.set(r.newId, { symbol: o ? o.symbol : '', side: o ? o.side : 'B', orderQty: total, cumQty: r.filledQty, price, ordType: 'LIMIT', tif: o ? o.tif : 'DAY' });
    this.counters.replaces++;
    this.listener.onReplaced(r.origId, r.newId, total, price);
    this.applyStatus(r.newId, next);
  }

  private onCancelReject(m: FixMessage): void {
    this.counters.cancelRejects++;
    const clOrdId = m.getStr(Tag.ClOrdID);
    const text = m.getStr(Tag.Text, `CxlRejReason ${m.getStr(Tag.CxlRejReason, '?')}`);
    if (m.getChar(Tag.CxlRejResponseTo) === 0x32) {
      // Replace refused: the router knows the attempt by its new id; the original stays live.
      this.orders.delete(clOrdId);
      this.listener.onReject(clOrdId, text);
    } else {
      const orig = this.cancelIds.get(clOrdId) ?? m.getStr(Tag.OrigClOrdID);
      this.cancelIds.delete(clOrdId);
      this.listener.onReject(orig, text);
    }
  }

  /** Current state as the contract names it. */
  get state(): SessionState {
    if (this.session.isLoggedIn) return 'LOGGED_IN';
    if (this.closing || this.windowShut) return 'LOGGED_OUT';
    return this.everLoggedIn ? 'DISCONNECTED' : 'CONNECTING';
  }
}
