/**
 * VenueConnector for OUCH 4.2 over SoupBinTCP 3.0.
 *
 * Exactly-once executions across reconnects: the SoupBinTCP client counts every Sequenced Data
 * message it has handed to us, and a reconnect logs in asking for the next one, so the venue
 * replays only what this connector has not yet seen.
 *
 * Inbound (client -> venue) OUCH messages are unsequenced: one sent on a link that then died may
 * or may not have reached the venue. The connector keeps each Enter/Replace/Cancel until the venue
 * confirms it and sends the unconfirmed ones again after re-login, once the replay has caught up.
 * That is safe because OUCH ignores an Enter Order or Replace whose token was already used today
 * and a Cancel for an order that is gone. The OUCH order token is the router's
 * clOrdId (both are at most 14 characters), so no id translation table is needed.
 *
 * Session window (`window`, routing_config.yml `schedule`): outside it no login, a Logout Request
 * at its end and no reconnect until the next one (SessionGate); a window that opens while the
 * connector runs is a new day: blank session, sequence 1. `venueSession` (the Login Accepted's
 * session name) lets the router tell a new venue session from the one it journaled.
 *
 * Quantities: `sendReplace` qty and `onReplaced` qty are total order quantity (filled and
 * cancelled shares included), as in FIX; the OUCH wire carries open shares and this class converts.
 *
 * Transport: `transport` (a factory; createVenueConnector passes the native one when the addon is
 * built). Over the native transport the owner's loop calls `poll(nowMs)` each turn: acks, fills and
 * the reconnect schedule all run from there, not from the event loop.
 *
 * Threading: the router's thread; listener callbacks run synchronously from `poll()` (native) or
 * from socket data events (libuv).
 */
import { sessionIdlePolicy, type SessionIdlePolicy } from '../../protocols/transport/session-waiter';
import { readU64 } from '../../common/bytes';
import { TickpathError, invalidOption } from '../../errors';
import type { VenueConnector, VenueListener, VenueOrder, Side, SessionState } from '../venue';
import { SoupBinClient } from '../../protocols/soupbin/soupbin-client';
import type { TransportFactory, TransportKind } from '../../protocols/transport/session-transport';
import { ReconnectSchedule } from './reconnect-schedule';
import { SessionGate } from './session-gate';
import { SessionWindow, type SessionWindowOptions, type WindowSpan } from '../../protocols/session-schedule';
import { transportFactory } from '../../protocols/transport/create-transport';
import { TokenMap } from './token-map';
import {
  EnterOrderEncoder, type OuchOrderSource, encodeEnterOrder, encodeCancelOrder, encodeReplaceOrder, readToken, outboundLength, reasonText,
  kOuchAccepted, kOuchReplaced, kOuchCanceled, kOuchExecuted, kOuchRejected, kOuchSystemEvent,
  kOutToken, kAcceptedShares, kAcceptedOrderRef, kReplacedShares, kReplacedPrice, kReplacedPreviousToken,
  kCanceledDecrement, kCanceledReason, kExecutedShares, kExecutedPrice, kExecutedMatch, kRejectedReason,
  kTifIoc, kTifMarketHours, kOuchMarketPrice, kSystemEventCode, kEnterOrderLen,
} from '../../protocols/ouch/ouch42';

export interface OuchConnectorOptions {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  /** OUCH firm identifier (4 characters), sent in every Enter Order. */
  firm?: string;
  heartbeatIntervalMs?: number;
  serverTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect attempts after an unexpected drop before the session is FAILED (0 = never reconnect). */
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
  /**
   * First sequence number to ask for at login (default 1): a restarted router passes the journaled
   * last sequence + 1, so the venue replays only what the killed process never processed.
   */
  nextSeq?: number;
  /** Makes the session's transport; default: native when the addon is built, else libuv. */
  transport?: TransportFactory;
  /** How the session's owner idles (routing_config venues[].idle / spin_us): reported in stats(), applied by the owner's SessionWaiter. */
  idle?: SessionIdlePolicy;
  /**
   * Session window: logged in only between `start` and `end` (on `days`); outside it no login, a
   * Logout Request at its end, and `sessionWindowClosed` says why for the router. A window that
   * opens while the connector runs is a new day: the login asks for the current session (blank)
   * from sequence 1.
   */
  window?: SessionWindowOptions;
  /** Clock for the session window (tests); default Date.now. */
  now?: () => number;
  log?: (line: string) => void;
}

const kWhere = 'OuchConnector';
const kNullListener: VenueListener = {
  onAck() {}, onReject() {}, onFill() {}, onCancelled() {}, onReplaced() {}, onSessionState() {},
};

/**
 * What the connector must remember about an order still open at the venue. OUCH speaks in open
 * shares; the VenueConnector contract in total order quantity (like FIX OrderQty), so the
 * connector converts with what it has seen filled and cancelled.
 */
interface OpenOrder { tif: number; orderQty: number; filled: number; cancelled: number }

function leaves(o: OpenOrder): number { return o.orderQty - o.filled - o.cancelled; }

function sideByte(side: Side): number {
  return side === 'B' ? 0x42 : side === 'S' ? 0x53 : 0x54; // 'B', 'S', 'T' (sell short)
}

function checkToken(what: string, id: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 14 || !/^[\x21-\x7e]+$/.test(id)) {
    throw new TickpathError('ERR_INVALID_ORDER', `${kWhere}: ${what} ${JSON.stringify(id)} is not 1..14 printable ASCII characters (the OUCH 4.2 order token)`);
  }
}

export class OuchConnector implements VenueConnector {
  readonly name: string;
  readonly protocol = 'ouch' as const;
  /** OUCH ignores an Enter Order or Replace whose token was already used today. */
  readonly resendsIdempotently = true;
  private listener: VenueListener = kNullListener;
  private readonly client: SoupBinClient;
  private readonly open = new TokenMap<OpenOrder>();
  /**
   * Sent but not yet confirmed, in send order: key is the token the confirmation will carry
   * ('X' + token for cancels). Copies of the encoded bytes, one per order message (not per fill).
   * Both maps are TokenMaps, not Maps: a Map's table churn is old-space garbage per order (token-map.ts).
   */
  private readonly unconfirmed = new TokenMap<Buffer>();
  /** Tokens with an unconfirmed cancel in `unconfirmed`: the 'X' key is built only for these, not per report. */
  private readonly cancelTokens = new Set<string>();
  private state: SessionState = 'DISCONNECTED';
  private closing = false;
  private readonly reconnects: ReconnectSchedule;
  private readonly firm: string;
  private readonly enter: EnterOrderEncoder;
  private readonly gate: SessionGate | null;
  /** Outside the session window: logged out on purpose, no reconnect. */
  private windowShut = false;
  private readonly log: (line: string) => void;
  /** The injected clock of the session window (null: the loop's nowMs). */
  private readonly now: (() => number) | null;
  private readonly counters = {
    ordersOut: 0, cancelsOut: 0, replacesOut: 0, acks: 0, rejects: 0, fills: 0, filledQty: 0, cancels: 0, replaces: 0,
    reconnects: 0, reconnectFailures: 0, resends: 0, unknownMessages: 0, unknownTokens: 0, systemEvents: 0, newDays: 0,
  };

  /** How the owner of this session should idle (stats: idle, spinUs). */
  readonly idle: SessionIdlePolicy;

  constructor(options: OuchConnectorOptions) {
    this.idle = sessionIdlePolicy(kWhere, options.idle?.idle ?? 'block', options.idle?.spinUs ?? 0);
    if (typeof options.name !== 'string' || options.name === '') throw invalidOption(kWhere, 'name', options.name, 'a venue name');
    const firm = options.firm ?? '';
    if (typeof firm !== 'string' || firm.length > 4) throw invalidOption(kWhere, 'firm', firm, 'a string of at most 4 characters');
    const attempts = options.reconnectAttempts ?? 5;
    if (!Number.isInteger(attempts) || attempts < 0) throw invalidOption(kWhere, 'reconnectAttempts', attempts, 'a non-negative integer');
    const delay = options.reconnectDelayMs ?? 200;
    if (!Number.isInteger(delay) || delay < 0) throw invalidOption(kWhere, 'reconnectDelayMs', delay, 'a non-negative integer (ms)');
    this.name = options.name;
    this.firm = firm;
    this.enter = new EnterOrderEncoder(firm);
    this.log = options.log ?? (() => {});
    this.now = options.now ?? null;
    this.gate = options.window === undefined ? null
      : new SessionGate(new SessionWindow(options.window, kWhere), options.now ?? Date.now, (span) => this.windowOpened(span), (next) => this.windowClosed(next));
    this.reconnects = new ReconnectSchedule(attempts, delay, (attempt) => this.reconnectNow(attempt), (detail) => this.setState('FAILED', detail));
    this.client = new SoupBinClient({
      host: options.host, port: options.port, username: options.username, password: options.password,
      nextSeq: options.nextSeq ?? 1, heartbeatIntervalMs: options.heartbeatIntervalMs, serverTimeoutMs: options.serverTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs, maxPayload: 80, transport: options.transport ?? transportFactory('auto'),
    }, {
      onSequenced: (buf, off, len, seq) => this.onMessage(buf, off, len, seq),
      onDisconnected: (reason, eos) => this.onDisconnected(reason, eos),
    });
  }

  setListener(listener: VenueListener): void { this.listener = listener; }

  get transport(): TransportKind { return this.client.transportKind; }

  poll(nowMs: number): number {
    const n = this.client.poll(nowMs);
    this.reconnects.poll(nowMs);
    if (this.gate) this.gate.poll(this.now === null ? nowMs : this.now());
    return n;
  }

  async connect(): Promise<void> {
    this.closing = false;
    if (this.gate && this.gate.start() === null) {
      // Closed now: no login until the window opens (the gate calls windowOpened then).
      this.windowShut = true;
      const detail = this.gate.closedDetail();
      this.log(`${this.name}: ${detail}; logging in then`);
      this.setState('LOGGED_OUT', detail);
      return;
    }
    this.windowShut = false;
    this.setState('CONNECTING', `login as ${this.client.session || '(current session)'} from seq ${this.client.nextSeq}`);
    try {
      await this.client.connect();
    } catch (err) {
      this.setState('FAILED', (err as Error).message);
      throw err;
    }
    this.setState('LOGGED_IN', `session ${this.client.session}, next seq ${this.client.nextSeq}`);
    // Connected again after close() (a primary that left its session during a stall of its own):
    // what was sent but never confirmed goes again, as after a reconnect (duplicates are ignored).
    if (this.unconfirmed.size > 0) this.resendUnconfirmed();
  }

  /**
   * Keep-warm (the router stage's OrderPathWarmer): reads the send buffer where the next Enter
   * Order will be encoded. Reads only; returns a sum the caller keeps.
   */
  touchSendPath(): number {
    return this.client.touchTx(kEnterOrderLen + 3);
  }

  /**
   * Keep-warm (OrderPathWarmer.touchReal, option `warmSend`): the real session's send path after
   * the encode, up to the addon's send entry, with zero bytes (SoupBinClient.warmSend: nothing is
   * sent, counted or moved). 1 when it ran, 0 when the session cannot (not logged in, libuv).
   */
  warmSendPath(): number {
    return this.client.warmSend() ? 1 : 0;
  }

  sendNew(order: VenueOrder): boolean {
    if (!this.client.isLoggedIn) return false;
    checkToken('clOrdId', order.clOrdId);
    if (!Number.isInteger(order.qty) || order.qty <= 0 || order.qty > 999999) {
      throw new TickpathError('ERR_INVALID_ORDER', `${kWhere}: qty ${order.qty} for ${order.clOrdId} is not an integer 1..999999`);
    }
    const tif = order.tif === 'IOC' ? kTifIoc : kTifMarketHours;
    const price = order.ordType === 'MARKET' ? kOuchMarketPrice : order.price;
    const off = this.client.payloadOffset();
    const src = order as Partial<OuchOrderSource>;
    // The router's ChildOrder writes its token and stock as bytes from the order table (same bytes).
    if (typeof src.writeToken === 'function' && typeof src.writeSymbol === 'function') {
      this.enter.encode(this.client.txBuffer, off, src as OuchOrderSource, sideByte(order.side), order.qty, price, tif);
    } else {
      encodeEnterOrder(this.client.txBuffer, off, order.clOrdId, sideByte(order.side), order.qty, order.symbol, price, tif, this.firm);
    }
    if (!this.client.sendUnsequenced(kEnterOrderLen)) return false;
    this.unconfirmed.set(order.clOrdId, Buffer.from(this.client.txBuffer.subarray(off, off + kEnterOrderLen)));
    this.open.set(order.clOrdId, { tif, orderQty: order.qty, filled: 0, cancelled: 0 });
    this.counters.ordersOut++;
    return true;
  }

  sendCancel(clOrdId: string, _symbol: string, _side: Side, _remainingQty: number): boolean {
    if (!this.client.isLoggedIn) return false;
    checkToken('clOrdId', clOrdId);
    const off = this.client.payloadOffset();
    const end = encodeCancelOrder(this.client.txBuffer, off, clOrdId, 0);
    if (!this.client.sendUnsequenced(end - off)) return false;
    this.unconfirmed.set(`X${clOrdId}`, Buffer.from(this.client.txBuffer.subarray(off, end)));
    this.cancelTokens.add(clOrdId);
    this.counters.cancelsOut++;
    return true;
  }

  sendReplace(origClOrdId: string, newClOrdId: string, _symbol: string, _side: Side, qty: number, price: number): boolean {
    if (!this.client.isLoggedIn) return false;
    checkToken('origClOrdId', origClOrdId);
    checkToken('newClOrdId', newClOrdId);
    const o = this.open.get(origClOrdId);
    // `qty` is the new total order quantity; OUCH wants the shares to leave open.
    const openShares = qty - (o ? o.filled + o.cancelled : 0);
    if (!Number.isInteger(openShares) || openShares <= 0) {
      throw new TickpathError('ERR_INVALID_ORDER', `${kWhere}: replace of ${origClOrdId} to qty ${qty} leaves ${openShares} shares open; expected more than already filled and cancelled`);
    }
    const off = this.client.payloadOffset();
    const end = encodeReplaceOrder(this.client.txBuffer, off, origClOrdId, newClOrdId, openShares, price, o ? o.tif : kTifMarketHours);
    if (!this.client.sendUnsequenced(end - off)) return false;
    this.unconfirmed.set(newClOrdId, Buffer.from(this.client.txBuffer.subarray(off, end)));
    this.counters.replacesOut++;
    return true;
  }

  /** '' while the session window is open (or there is none); else why orders cannot go to this venue now. */
  get sessionWindowClosed(): string { return this.gate !== null && this.windowShut ? this.gate.closedDetail() : ''; }

  /**
   * The session window opened (SessionGate): a new day at the venue, so the login asks for the
   * current session (blank) from sequence 1, and nothing of the previous day is sent again.
   */
  private windowOpened(span: WindowSpan): void {
    if (this.closing) return;
    this.windowShut = false;
    this.client.session = '';
    this.client.nextSeq = 1;
    this.unconfirmed.clear();
    this.open.clear();
    this.counters.newDays++;
    this.log(`${this.name}: session window ${this.gate!.window.describe()} open until ${new Date(span.end).toISOString()}: ` +
      'logging in to the current session from sequence 1 (a new day)');
    this.reconnectNow(1);
  }

  /** The session window ended (SessionGate): Logout Request, and no reconnect until the next one. */
  private windowClosed(nextStart: number): void {
    this.windowShut = true;
    this.reconnects.cancel();
    this.log(`${this.name}: session window ${this.gate!.window.describe()} ended: logging out until ${new Date(nextStart).toISOString()}`);
    void this.client.logout();
    this.setState('LOGGED_OUT', this.gate!.closedDetail());
  }

  async close(): Promise<void> {
    this.closing = true;
    this.reconnects.cancel();
    this.gate?.stop();
    await this.client.logout();
    this.setState('LOGGED_OUT', 'closed by caller');
  }

  /** Drops the TCP connection without logging out (tests: simulate a network failure). */
  dropConnection(): void { this.client.destroy('dropped by test'); }

  /** Next sequence number the connector expects: what a reconnect asks for. */
  get nextExpectedSeq(): number { return this.client.nextSeq; }

  get lastSequence(): number { return this.client.nextSeq - 1; }

  /** The SoupBinTCP session name of the last Login Accepted ('' before the first). */
  get venueSession(): string { return this.client.isLoggedIn || this.client.counters.logins > 0 ? this.client.session : ''; }

  stats(): Record<string, number | string> {
    return {
      transport: this.client.transportKind,
      idle: this.idle.idle,
      spinUs: this.idle.spinUs,
      ...this.counters,
      messagesIn: this.client.counters.messagesIn,
      messagesOut: this.client.counters.messagesOut,
      heartbeatsIn: this.client.counters.heartbeatsIn,
      heartbeatsOut: this.client.counters.heartbeatsOut,
      badFrames: this.client.malformedFrames + this.counters.unknownMessages,
      unconfirmed: this.unconfirmed.size,
      nextExpectedSeq: this.client.nextSeq,
      openOrders: this.open.size,
    };
  }

  private setState(state: SessionState, detail: string): void {
    this.state = state;
    this.listener.onSessionState(state, detail);
  }

  private onDisconnected(reason: string, endOfSession: boolean): void {
    if (this.closing || this.windowShut) return;
    if (endOfSession) { this.setState('LOGGED_OUT', 'venue sent End of Session'); return; }
    if (this.state === 'CONNECTING') return; // connect() reports its own failure
    this.setState('DISCONNECTED', reason);
    this.scheduleReconnect(1);
  }

  private scheduleReconnect(attempt: number): void {
    if (!this.closing) this.reconnects.schedule(attempt);
  }

  /** The attempt is due (ReconnectSchedule: the loop's clock, or its backstop timer). */
  private reconnectNow(attempt: number): void {
    if (this.closing || this.windowShut) return;
    this.state = 'CONNECTING';
    this.client.connect().then(() => {
      // The session window closed while this login was on its way: leave again.
      if (this.windowShut || this.closing) { void this.client.logout(); return; }
      this.counters.reconnects++;
      this.setState('LOGGED_IN', `reconnected to session ${this.client.session} from seq ${this.client.nextSeq}`);
      this.resendUnconfirmed();
    }, () => {
      this.counters.reconnectFailures++;
      this.state = 'DISCONNECTED';
      this.scheduleReconnect(attempt + 1);
    });
  }

  /**
   * Sends every unconfirmed message again. The venue replays its stream before it reads anything
   * new from this connection, so by the time these arrive it has already told us (in the replay)
   * about the ones it had, and it ignores those as duplicates.
   */
  private resendUnconfirmed(): void {
    for (const [key, bytes] of this.unconfirmed.entries()) {
      // A cancel is pointless once the order is gone; drop it instead of resending.
      if (key.charCodeAt(0) === 0x58 && !this.open.has(key.slice(1))) { this.unconfirmed.delete(key); this.cancelTokens.delete(key.slice(1)); continue; }
      const off = this.client.payloadOffset();
      bytes.copy(this.client.txBuffer, off);
      if (!this.client.sendUnsequenced(bytes.length)) return;
      this.counters.resends++;
    }
  }

  /** The order `token` is finished at the venue: nothing more to confirm about it. */
  private finished(token: string): void {
    this.open.delete(token);
    this.unconfirmed.delete(token);
    this.dropCancel(token);
  }

  /** The cancel of `token` is confirmed (or moot): forget it. No string is built when none is pending. */
  private dropCancel(token: string): void {
    if (this.cancelTokens.size > 0 && this.cancelTokens.delete(token)) this.unconfirmed.delete(`X${token}`);
  }

  private onMessage(buf: Buffer, off: number, len: number, seq: number): void {
    const type = buf[off];
    const want = outboundLength(type);
    if (want === 0 || len < want) { this.counters.unknownMessages++; return; }
    if (type === kOuchSystemEvent) {
      this.counters.systemEvents++;
      if (buf[off + kSystemEventCode] === 0x43) this.listener.onSessionState(this.state, 'venue system event: end of messages');
      return;
    }
    const token = readToken(buf, off + kOutToken);
    switch (type) {
      case kOuchAccepted: {
        this.counters.acks++;
        const o = this.open.get(token);
        const shares = buf.readUInt32BE(off + kAcceptedShares);
        if (!o) this.open.set(token, { tif: kTifMarketHours, orderQty: shares, filled: 0, cancelled: 0 });
        else if (o.filled + o.cancelled === 0) o.orderQty = shares;
        this.unconfirmed.delete(token);
        this.listener.onAck(token, String(readU64(buf, off + kAcceptedOrderRef)));
        return;
      }
      case kOuchExecuted: {
        const qty = buf.readUInt32BE(off + kExecutedShares);
        this.counters.fills++;
        this.counters.filledQty += qty;
        const o = this.open.get(token);
        if (o) { o.filled += qty; if (leaves(o) <= 0) this.finished(token); } else this.counters.unknownTokens++;
        this.listener.onFill(token, qty, buf.readUInt32BE(off + kExecutedPrice), `${readU64(buf, off + kExecutedMatch)}-${seq}`);
        return;
      }
      case kOuchCanceled: {
        const qty = buf.readUInt32BE(off + kCanceledDecrement);
        this.counters.cancels++;
        const o = this.open.get(token);
        this.dropCancel(token);
        if (o) { o.cancelled += qty; if (leaves(o) <= 0) this.finished(token); } else this.counters.unknownTokens++;
        this.listener.onCancelled(token, qty, reasonText(buf[off + kCanceledReason]));
        return;
      }
      case kOuchReplaced: {
        this.counters.replaces++;
        const prev = readToken(buf, off + kReplacedPreviousToken);
        const openShares = buf.readUInt32BE(off + kReplacedShares);
        const o = this.open.get(prev);
        this.finished(prev);
        this.unconfirmed.delete(token);
        // Report the total: what stays open plus what the order already filled and cancelled.
        const filled = o ? o.filled : 0;
        const cancelled = o ? o.cancelled : 0;
        const total = openShares + filled + cancelled;
        if (openShares > 0) this.open.set(token, { tif: o ? o.tif : kTifMarketHours, orderQty: total, filled, cancelled });
        this.listener.onReplaced(prev, token, total, buf.readUInt32BE(off + kReplacedPrice));
        return;
      }
      case kOuchRejected:
        this.counters.rejects++;
        this.finished(token);
        this.listener.onReject(token, reasonText(buf[off + kRejectedReason]));
        return;
    }
  }
}
