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
 * Transport: `transport` (a factory; default native when the addon is built). Over the native
 * transport the owner's loop calls `poll(nowMs)` each turn: execution reports, the session's
 * heartbeat/TestRequest checks and the reconnect schedule run from there.
 *
 * Threading: the router's thread; callbacks run from `poll()` (native) or socket events (libuv).
 */
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
import type { FixStoreFsync } from '../../protocols/fix/fix-store';

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
  heartbeatIntervalSec?: number;
  /** Send ResetSeqNumFlag=Y on every Logon (venues that start each connection at 1). */
  resetOnLogon?: boolean;
  account?: string;
  connectTimeoutMs?: number;
  /** Reconnect attempts after an unexpected drop before the session is FAILED (0 = never). */
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
  log?: (line: string) => void;
  /** Makes the session's transport; default: native when the addon is built, else libuv. */
  transport?: TransportFactory;
}

interface OrderInfo { symbol: string; side: Side; orderQty: number; cumQty: number; price: number; ordType: 'LIMIT' | 'MARKET'; tif: 'DAY' | 'IOC' }

const kWhere = 'FixConnector';
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
  private reconnectAt = 0;
  private reconnectAttempt = 0;
  private lastTick = 0;
  /** errno of the last socket error, for the fix hint of a failed connect. */
  private lastErrno: string | undefined;
  private readonly parser: FixParser;
  private readonly orders = new Map<string, OrderInfo>();
  /** ClOrdID of a cancel request -> the order it cancels. */
  private readonly cancelIds = new Map<string, string>();
  private cancelCounter = 0;
  private closing = false;
  private everLoggedIn = false;
  private pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly opts: FixConnectorOptions & { reconnectAttempts: number; reconnectDelayMs: number; connectTimeoutMs: number };
  private readonly log: (line: string) => void;
  private readonly counters = { ordersOut: 0, cancelsOut: 0, replacesOut: 0, acks: 0, rejects: 0, fills: 0, filledQty: 0, cancels: 0, replaces: 0, cancelRejects: 0, reconnects: 0, unknownExecType: 0 };

  constructor(options: FixConnectorOptions) {
    if (typeof options.name !== 'string' || options.name === '') throw invalidOption(kWhere, 'name', options.name, 'a venue name');
    if (typeof options.host !== 'string' || options.host === '') throw invalidOption(kWhere, 'host', options.host, 'a host name');
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) throw invalidOption(kWhere, 'port', options.port, 'an integer port 1..65535');
    const attempts = options.reconnectAttempts ?? 5;
    if (!Number.isInteger(attempts) || attempts < 0) throw invalidOption(kWhere, 'reconnectAttempts', attempts, 'a non-negative integer');
    const delay = options.reconnectDelayMs ?? 200;
    if (!Number.isInteger(delay) || delay < 0) throw invalidOption(kWhere, 'reconnectDelayMs', delay, 'a non-negative integer (ms)');
    this.opts = { ...options, reconnectAttempts: attempts, reconnectDelayMs: delay, connectTimeoutMs: options.connectTimeoutMs ?? 5000 };
    this.name = options.name;
    this.protocol = options.version === 'FIX.4.4' ? 'fix44' : 'fix42';
    this.log = options.log ?? (() => {});
    this.makeTransport = options.transport ?? transportFactory('auto');
    this.session = new FixSession({
      version: options.version, senderCompId: options.senderCompId, targetCompId: options.targetCompId, role: 'initiator',
      storeDir: options.storeDir ?? path.join(os.tmpdir(), 'tickpath-fix'), heartbeatIntervalSec: options.heartbeatIntervalSec,
      storeFsync: options.storeFsync, storeGroupCommitUs: options.storeGroupCommitUs,
      resetOnLogon: options.resetOnLogon, logonTimeoutMs: this.opts.connectTimeoutMs, log: this.log,
    });
    this.session.setApplication({
      onLogon: () => this.onLogon(),
      onLogout: (reason) => this.onLogout(reason),
      onAppMessage: (m) => this.onAppMessage(m),
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
    const n = this.socket ? this.socket.transport.poll() : 0;
    // The session's checks have 100 ms resolution on its timer; 10 ms here is plenty and cheap.
    if (nowMs - this.lastTick >= 10) { this.lastTick = nowMs; if (this.socket) this.session.tick(nowMs); }
    if (this.reconnectAt !== 0 && nowMs >= this.reconnectAt) this.reconnectNow();
    return n;
  }

  connect(): Promise<void> {
    this.closing = false;
    if (!this.session.store.isOpen) this.session.store.open(); // connect again after close()
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
        // FixParser copies the range into its own buffer (the region is reused by the next poll).
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
    if (p) {
      p.reject(new TickpathError(code, `${kWhere} ${this.name} ${this.opts.host}:${this.opts.port}: ${reason}`,
        code === 'ERR_FIX_CONNECT' ? (this.lastErrno ? socketErrorFix(this.lastErrno, this.opts.host, this.opts.port) : 'check the venue host, port and CompIDs') : undefined));
      return;
    }
    if (this.closing) return;
    this.listener.onSessionState('DISCONNECTED', reason);
    this.scheduleReconnect(1);
  }

  private scheduleReconnect(attempt: number): void {
    if (this.closing) return;
    if (attempt > this.opts.reconnectAttempts) {
      this.listener.onSessionState('FAILED', `gave up after ${this.opts.reconnectAttempts} reconnect attempts`);
      return;
    }
    const delay = this.opts.reconnectDelayMs * attempt;
    this.reconnectAttempt = attempt;
    this.reconnectAt = Date.now() + delay;
    this.reconnectTimer = setTimeout(() => this.reconnectNow(), delay + 1);
  }

  /** The attempt is due: from poll() on the loop's clock, or from the backstop timer. */
  private reconnectNow(): void {
    if (this.reconnectTimer) { clearTimeout(this.reconnectTimer); this.reconnectTimer = null; }
    if (this.reconnectAt === 0) return;
    this.reconnectAt = 0;
    if (this.closing) return;
    const attempt = this.reconnectAttempt;
    this.open().then(() => { this.counters.reconnects++; }, () => this.scheduleReconnect(attempt + 1));
  }

  private onLogon(): void {
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

  sendNew(order: VenueOrder): boolean {
    if (!this.session.isLoggedIn) return false;
    if (typeof order.clOrdId !== 'string' || order.clOrdId === '' || order.clOrdId.includes('\x01')) {
      throw new TickpathError('ERR_INVALID_ORDER', `${kWhere}: clOrdId ${JSON.stringify(order.clOrdId)} is empty or contains SOH`);
    }
    const e = this.session.beginApp('D');
    e.str(Tag.ClOrdID, order.clOrdId);
    if (this.opts.account) e.str(Tag.Account, this.opts.account);
    e.char(Tag.HandlInst, 0x31).str(Tag.Symbol, order.symbol).char(Tag.Side, sideCode(order.side))
      .time(Tag.TransactTime, Date.now()).int(Tag.OrderQty, order.qty)
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
      .time(Tag.TransactTime, Date.now()).int(Tag.OrderQty, o ? o.orderQty : remainingQty);
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
    e.char(Tag.HandlInst, 0x31).str(Tag.Symbol, symbol).char(Tag.Side, sideCode(side)).time(Tag.TransactTime, Date.now())
      .int(Tag.OrderQty, qty).char(Tag.OrdType, 0x32).price4(Tag.Price, price)
      .char(Tag.TimeInForce, o && o.tif === 'IOC' ? 0x33 : 0x30);
    if (!this.session.sendApp()) return false;
    this.orders.set(newClOrdId, { symbol, side, orderQty: qty, cumQty: cum, price, ordType: 'LIMIT', tif: o ? o.tif : 'DAY' });
    this.counters.replacesOut++;
    return true;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) { clearTimeout(this.reconnectTimer); this.reconnectTimer = null; }
    this.reconnectAt = 0;
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
      ...this.counters,
      messagesIn: s.messagesIn, messagesOut: s.messagesOut, badFrames: this.parser.counters.badFrames + this.parser.counters.badChecksums,
      badChecksums: this.parser.counters.badChecksums, garbageBytes: this.parser.counters.garbageBytes,
      resends: s.resentMessages, resendRequestsIn: s.resendRequestsIn, resendRequestsOut: s.resendRequestsOut, gapFillsIn: s.gapFillsIn,
      possDupsIgnored: s.possDupsIgnored, nextSenderSeq: this.session.nextSenderSeq, nextTargetSeq: this.session.nextTargetSeq,
      openOrders: this.orders.size,
    };
  }

  // ---- inbound ----

  private onAppMessage(m: FixMessage): void {
    if (m.msgType === MsgType.ExecutionReport && m.msgTypeLen === 1) this.onExecutionReport(m);
    else if (m.msgType === MsgType.OrderCancelReject && m.msgTypeLen === 1) this.onCancelReject(m);
    else this.log(`${this.name}: ignored application message ${m.toString()}`);
  }

  private onExecutionReport(m: FixMessage): void {
    const execType = m.getChar(Tag.ExecType);
    const clOrdId = m.getStr(Tag.ClOrdID);
    // FIX 4.2 corrections/busts (ExecTransType 1/2) would need trade amendment: log, do not apply.
    const transType = m.getChar(Tag.ExecTransType);
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
      case 0x36: case 0x45: case 0x41: case 0x44: case 0x49: case 0x33: // pending/restated/status/done for day
        return;
      default:
        this.counters.unknownExecType++;
        this.log(`${this.name}: unknown ExecType in ${m.toString()}`);
    }
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
    if (this.closing) return 'LOGGED_OUT';
    return this.everLoggedIn ? 'DISCONNECTED' : 'CONNECTING';
  }
}
