/**
 * The venue simulator's FIX 4.2 / 4.4 acceptor: one `FixSession` (acceptor role) per client
 * SenderCompID and version, persisting across that client's reconnects, translating
 * NewOrderSingle / OrderCancelRequest / OrderCancelReplaceRequest into `MatchingEngine` calls and
 * engine events into ExecutionReports and OrderCancelRejects.
 *
 * Fault injection comes from the simulator: dropped connections after N order messages, random
 * rejects, and ExecutionReports "lost in transit" (sequenced and stored, not sent), which the
 * client recovers through ResendRequest.
 *
 * Cancel on disconnect: with `cancelOnDisconnect`, or for a session whose Logon carried 8013=Y
 * (the custom tag several venues use), a connection that closes while the session is logged in
 * (no Logout exchange) has its open orders cancelled; the cancel reports are stored and reach the
 * client by ResendRequest after it logs on again.
 *
 * Connections come from a `ServerTransport`: `native` (accepted and received in `poll()`, from the
 * simulator's `VenueLoop`) or `libuv` (net.Server). Either way the session writes through a
 * `TransportSocket`, so a report goes out with one send(2) from the turn that produced it.
 *
 * Threading: the simulator's thread (its event loop, and the `VenueLoop` slices on it).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixParser, Tag, MsgType, type FixMessage, type FixVersion } from '../protocols/fix/fix-codec';
import { FixSession } from '../protocols/fix/fix-session';
import type { CancelReason, EngineOrder } from './matching-engine';
import type { VenueEngine, VenueFrontEnd } from './front-end';
import type { ServerTransport, SessionTransport, TransportEvents } from '../protocols/transport/session-transport';
import { TransportSocket } from '../protocols/transport/transport-socket';
import { LibuvTcpServer } from '../protocols/transport/tcp-server';

export interface FixVenueOptions {
  compId: string;
  storeDir?: string;
  /** FixSession storeKind of every session: 'auto' (default: mapped where the addon is built), 'mapped' or 'files'. */
  storeKind?: 'auto' | 'mapped' | 'files';
  heartbeatIntervalMs?: number;
  /** Cancel every session's open orders when it drops without Logout (else only 8013=Y sessions). */
  cancelOnDisconnect?: boolean;
  /** Where connections come from; default a `LibuvTcpServer`. A native one is driven by `poll()`. */
  transport?: ServerTransport;
  log: (line: string) => void;
}

/**
 * Per-order FIX state the engine carries in `EngineOrder.tag`: the session itself (one object per
 * client and version, kept across reconnects), so a report finds it without building a key.
 */
interface FixOrderTag { orderQty: number; cumQty: number; notional: number; session: FixSession }

/** MsgType H: Order Status Request. */
const kOrderStatusRequest = 0x48;
/** Logon tag for cancel on disconnect (8013=Y), as several venues define it. */
export const kTagCancelOnDisconnect = 8013;

interface Connection { socket: TransportSocket; parser: FixParser; session: FixSession | null; orderMessages: number }

export class FixVenueFrontEnd implements VenueFrontEnd {
  private server: ServerTransport | null = null;
  readonly transport: ServerTransport;
  private readonly sessions = new Map<string, FixSession>();
  private readonly live = new Map<FixSession, Connection>();
  /** The sessions in `live`, as an array the loop walks each turn without an iterator. */
  private liveSessions: FixSession[] = [];
  private readonly conns = new Set<Connection>();
  /** Sessions whose last Logon asked for cancel on disconnect (8013=Y). */
  private readonly codSessions = new Set<FixSession>();
  private readonly storeDir: string;
  /** True when storeDir is a temporary directory of our own, removed at close(). */
  private readonly ownsStoreDir: boolean;
  private execCounter = 0;
  /** Set while the engine handles a cancel so its onCanceled can echo the request's ClOrdID. */
  private cancelRequestId: string | null = null;
  readonly counters = { fixLogons: 0, fixLogonsRefused: 0, fixBadChecksums: 0, fixBadFrames: 0, fixCancelRejects: 0, fixDuplicatesIgnored: 0, fixCancelOnDisconnectSessions: 0 };

  constructor(private readonly sim: VenueEngine, private readonly options: FixVenueOptions) {
    this.ownsStoreDir = options.storeDir === undefined;
    this.storeDir = options.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-venue-sim-'));
    sim.registerFrontEnd('F:', this);
    this.transport = options.transport ?? new LibuvTcpServer();
  }

  async listen(port: number, host: string): Promise<number> {
    const bound = await this.transport.listen(host, port, (t) => this.accept(t));
    this.server = this.transport;
    return bound;
  }

  /**
   * One loop turn of a native transport: accept, receive, handle, and each live session's next
   * resend batch (libuv: nothing, returns 0; batches then go by setImmediate).
   */
  poll(): number {
    if (this.transport.kind !== 'native') return 0;
    let n = this.transport.poll();
    const live = this.liveSessions;
    for (let i = 0; i < live.length; i++) n += live[i].pollResends();
    return n;
  }

  close(): Promise<void> {
    for (const c of [...this.conns]) c.socket.destroy();
    for (const s of this.sessions.values()) s.close();
    const srv = this.server;
    this.server = null;
    const removeStore = (): void => { if (this.ownsStoreDir) fs.rmSync(this.storeDir, { recursive: true, force: true }); };
    return (srv ? srv.close() : Promise.resolve()).then(removeStore);
  }

  stats(): Record<string, number> { return { ...this.counters }; }

  private accept(t: SessionTransport): TransportEvents {
    const socket = new TransportSocket(t);
    const conn: Connection = {
      socket, session: null, orderMessages: 0,
      parser: new FixParser((m) => this.onMessage(conn, m), {
        onBad: (reason, raw) => {
          if (reason === 'bad-checksum') this.counters.fixBadChecksums++; else this.counters.fixBadFrames++;
          this.options.log(`FIX dropped ${reason}: ${raw.toString('latin1').replace(/\x01/g, '|')}`);
        },
      }),
    };
    this.conns.add(conn);
    // Closed by the peer (the transport's onClose), by us or by the session (destroy()): once.
    socket.once('close', () => this.connectionClosed(conn));
    return {
      onConnect() {},
      onData(buf, offset, length) { if (!socket.destroyed) conn.parser.push(buf, offset, offset + length); },
      onClose() { socket.closed(); },
    };
  }

  private connectionClosed(conn: Connection): void {
    this.conns.delete(conn);
    if (conn.session && this.live.get(conn.session) === conn) {
      const s = conn.session;
      // Still logged in: the link dropped, nobody logged out.
      const dropped = s.isLoggedIn;
      this.live.delete(s);
      this.liveSessions = [...this.live.keys()];
      s.disconnected('connection closed');
      if (dropped && (this.options.cancelOnDisconnect || this.codSessions.has(s))) {
        this.sim.cancelOnDisconnect(this.owner(s.options.version, s.options.targetCompId));
      }
    }
  }

  private onMessage(conn: Connection, m: FixMessage): void {
    if (!conn.session) {
      if (m.msgType !== MsgType.Logon) { this.refuse(conn, `first message is MsgType ${m.getStr(Tag.MsgType)}, not Logon (35=A)`); return; }
      const version = m.getStr(Tag.BeginString) as FixVersion;
      if (version !== 'FIX.4.2' && version !== 'FIX.4.4') { this.refuse(conn, `BeginString ${version} is not FIX.4.2 or FIX.4.4`); return; }
      const clientId = m.getStr(Tag.SenderCompID);
      if (m.getStr(Tag.TargetCompID) !== this.options.compId) {
        this.refuse(conn, `Logon from ${clientId} for TargetCompID ${m.getStr(Tag.TargetCompID)}, expected ${this.options.compId}`);
        return;
      }
      let session: FixSession;
      try {
        session = this.sessionFor(version, clientId);
      } catch (err) {
        // The session's store would not open (disk full, a bad store directory, the addon's table
        // of mapped files full): this connection cannot log on. Say why instead of a bare close, and
        // keep serving everyone else (this runs inside the transport's receive).
        this.refuse(conn, `Logon from ${clientId} ${version}: its FIX store would not open: ${(err as Error).message}`);
        return;
      }
      const old = this.live.get(session);
      if (old) { this.live.delete(session); this.liveSessions = [...this.live.keys()]; old.socket.destroy(); session.disconnected('replaced by a new connection'); }
      conn.session = session;
      this.live.set(session, conn);
      this.liveSessions = [...this.live.keys()];
      if (m.getChar(kTagCancelOnDisconnect) === 0x59) { this.codSessions.add(session); this.counters.fixCancelOnDisconnectSessions++; }
      else this.codSessions.delete(session);
      session.connected(conn.socket);
    }
    conn.session.receive(m);
  }

  /** A connection that cannot log on: logged with its cause (the client only sees the close). */
  private refuse(conn: Connection, why: string): void {
    this.counters.fixLogonsRefused++;
    this.options.log(`FIX logon refused: ${why}; closing the connection`);
    conn.socket.destroy();
  }

  private sessionFor(version: FixVersion, clientId: string): FixSession {
    const key = `${version}:${clientId}`;
    let s = this.sessions.get(key);
    if (s) return s;
    // Built once per session: the engine keys its orders by it on every message.
    const owner = this.owner(version, clientId);
    const session = new FixSession({
      version, senderCompId: this.options.compId, targetCompId: clientId, role: 'acceptor', storeDir: this.storeDir, storeKind: this.options.storeKind,
      heartbeatIntervalSec: Math.max(1, Math.round((this.options.heartbeatIntervalMs ?? 30000) / 1000)), log: this.options.log,
    });
    session.setApplication({
      onLogon: () => { this.counters.fixLogons++; },
      onLogout: (reason) => this.options.log(`FIX ${clientId} ${version} logged out: ${reason}`),
      onAppMessage: (msg, possDup) => this.onOrderMessage(session, owner, clientId, msg, possDup),
    });
    this.sessions.set(key, session);
    s = session;
    return s;
  }

  /** Engine owner of a session's orders: ClOrdIDs are unique per session (version + CompID). */
  private owner(version: FixVersion, clientId: string): string { return `F:${version}:${clientId}`; }

  private onOrderMessage(session: FixSession, owner: string, clientId: string, m: FixMessage, possDup: boolean): void {
    const conn = this.live.get(session);
    const type = m.msgTypeLen === 1 ? m.msgType : 0;
    if (type !== MsgType.NewOrderSingle && type !== MsgType.OrderCancelRequest && type !== MsgType.OrderCancelReplaceRequest &&
      type !== kOrderStatusRequest) {
      this.options.log(`FIX ${clientId}: unsupported message ${m.toString()}`);
      return;
    }
    const drop = conn ? this.sim.shouldDrop(conn) : false;
    // Read what is needed now: the message buffer is only valid during this call. A NewOrderSingle
    // has no OrigClOrdID (not looked for: a miss scans every field).
    const clOrdId = m.getStr(Tag.ClOrdID);
    const orig = type === MsgType.NewOrderSingle ? '' : m.getStr(Tag.OrigClOrdID);
    const symbol = m.getStr(Tag.Symbol), side = m.getChar(Tag.Side), qty = m.getInt(Tag.OrderQty, 0), ordType = m.getChar(Tag.OrdType);
    const price = m.getPrice4(Tag.Price), tif = m.getChar(Tag.TimeInForce);
    if (this.sim.runsNow()) {
      // Nothing delays it (no latency, no delay fault, nothing queued): handled in this turn, no closure.
      this.process(session, owner, type, possDup, clOrdId, orig, symbol, side, qty, ordType, price, tif);
    } else {
      this.sim.schedule(() => this.process(session, owner, type, possDup, clOrdId, orig, symbol, side, qty, ordType, price, tif));
    }
    if (drop && conn) {
      this.options.log(`FIX ${clientId}: injected disconnect`);
      this.sim.schedule(() => conn.socket.destroy());
    }
  }

  private process(session: FixSession, owner: string, type: number, possDup: boolean, clOrdId: string, orig: string, symbol: string,
    side: number, qty: number, ordType: number, price: number, tif: number): void {
    if (type === kOrderStatusRequest) { this.orderStatus(session, owner, clOrdId, symbol, side); return; }
    if (type === MsgType.NewOrderSingle) {
      this.sim.counters.ordersIn++;
      if (this.sim.engine.hasToken(owner, clOrdId)) {
        // A resend of an order already taken: ignore. A genuinely reused ClOrdID: reject.
        this.sim.recordDuplicate(owner, clOrdId);
        if (possDup) { this.counters.fixDuplicatesIgnored++; return; }
        this.rejectNew(session, clOrdId, symbol, side, qty, 'duplicate ClOrdID');
        return;
      }
      const market = ordType === 0x31;
      if (this.sim.injectReject() || (side !== 0x31 && side !== 0x32 && side !== 0x35) || (!market && !(price > 0))) {
        this.sim.engine.markTokenUsed(owner, clOrdId);
        this.sim.recordReject(owner, clOrdId, symbol, side === 0x31 ? 'B' : 'S', qty, price);
        this.rejectNew(session, clOrdId, symbol, side, qty, 'rejected by venue');
        return;
      }
      const tag: FixOrderTag = { orderQty: qty, cumQty: 0, notional: 0, session };
      const r = this.sim.engine.submit(owner, clOrdId, symbol, side === 0x31 ? 'B' : 'S', qty, market ? 0 : price,
        market, tif === 0x33, tag);
      if (r !== 'ok') this.rejectNew(session, clOrdId, symbol, side, qty, `invalid order (${r})`);
      return;
    }
    if (type === MsgType.OrderCancelRequest) {
      this.sim.counters.cancelsIn++;
      if (this.sim.engine.hasToken(owner, clOrdId) && possDup) { this.counters.fixDuplicatesIgnored++; return; }
      this.sim.engine.markTokenUsed(owner, clOrdId);
      this.cancelRequestId = clOrdId;
      const r = this.sim.engine.cancel(owner, orig, 0);
      this.cancelRequestId = null;
      if (r !== 'ok') this.cancelReject(session, clOrdId, orig, 0x31, 'unknown order');
      return;
    }
    this.sim.counters.replacesIn++;
    if (this.sim.engine.hasToken(owner, clOrdId) && possDup) { this.counters.fixDuplicatesIgnored++; return; }
    const o = this.sim.engine.find(owner, orig);
    if (!o) { this.cancelReject(session, clOrdId, orig, 0x32, 'unknown order'); return; }
    const t = o.tag as FixOrderTag;
    const newOpen = qty - t.cumQty;
    if (newOpen <= 0) { this.cancelReject(session, clOrdId, orig, 0x32, 'OrderQty not above CumQty'); return; }
    const tag: FixOrderTag = { orderQty: qty, cumQty: t.cumQty, notional: t.notional, session };
    const r = this.sim.engine.replace(owner, orig, clOrdId, newOpen, price, tag);
    if (r !== 'ok') this.cancelReject(session, clOrdId, orig, 0x32, `replace refused (${r})`);
  }

  // ---- outbound ----

  private session(o: EngineOrder): FixSession | undefined {
    return (o.tag as FixOrderTag).session;
  }

  private send(s: FixSession): void {
    const lost = this.sim.injectGap();
    if (lost) this.options.log(`FIX ${s.options.targetCompId}: injected gap at seq ${s.nextSenderSeq}`);
    // While the client is away its reports are still sequenced and stored, as a real venue's
    // are: it gets them by ResendRequest after its next Logon.
    s.sendApp(lost, true);
  }

  private execReport(s: FixSession, o: EngineOrder, execType: number, ordStatus: number): ReturnType<FixSession['beginApp']> {
    const t = o.tag as FixOrderTag;
    const e = s.beginApp('8');
    e.int(Tag.OrderID, o.orderRef).str(Tag.ClOrdID, o.token).prefixedUint(Tag.ExecID, 0x58, ++this.execCounter);
    if (s.options.version === 'FIX.4.2') e.char(Tag.ExecTransType, 0x30);
    e.char(Tag.ExecType, execType).char(Tag.OrdStatus, ordStatus).str(Tag.Symbol, o.symbol)
      .char(Tag.Side, o.side === 'B' ? 0x31 : 0x32).int(Tag.OrderQty, t.orderQty);
    if (!o.market) e.price4(Tag.Price, o.price);
    return e;
  }

  private tail(e: ReturnType<FixSession['beginApp']>, o: EngineOrder, lastQty: number, lastPx: number): void {
    const t = o.tag as FixOrderTag;
    e.int(Tag.LastShares, lastQty).price4(Tag.LastPx, lastPx).int(Tag.LeavesQty, o.open).int(Tag.CumQty, t.cumQty)
      .price4(Tag.AvgPx, t.cumQty > 0 ? Math.round(t.notional / t.cumQty) : 0).time(Tag.TransactTime, t.session.sendingTimeMs);
  }

  onAccepted(o: EngineOrder): void {
    const s = this.session(o);
    if (!s) return;
    const e = this.execReport(s, o, 0x30, 0x30);
    this.tail(e, o, 0, 0);
    this.send(s);
  }

  onExecuted(o: EngineOrder, qty: number, price: number): void {
    const s = this.session(o);
    if (!s) return;
    const t = o.tag as FixOrderTag;
    t.cumQty += qty;
    t.notional += qty * price;
    const full = o.open === 0;
    const e = this.execReport(s, o, s.options.version === 'FIX.4.4' ? 0x46 : full ? 0x32 : 0x31, full ? 0x32 : 0x31);
    this.tail(e, o, qty, price);
    this.send(s);
  }

  onCanceled(o: EngineOrder, _qty: number, reason: CancelReason): void {
    const s = this.session(o);
    if (!s) return;
    const requestId = this.cancelRequestId;
    if (!requestId) {
      const e = this.execReport(s, o, 0x34, 0x34);
      this.tail(e, o, 0, 0);
      e.str(Tag.Text, reason === 'ioc' ? 'immediate or cancel' : reason === 'disconnect' ? 'cancel on disconnect' : 'canceled');
      this.send(s);
      return;
    }
    // Answering a cancel request: ClOrdID is the request's, OrigClOrdID the order's.
    const t = o.tag as FixOrderTag;
    const e = s.beginApp('8');
    e.int(Tag.OrderID, o.orderRef).str(Tag.ClOrdID, requestId).str(Tag.OrigClOrdID, o.token).prefixedUint(Tag.ExecID, 0x58, ++this.execCounter);
    if (s.options.version === 'FIX.4.2') e.char(Tag.ExecTransType, 0x30);
    e.char(Tag.ExecType, 0x34).char(Tag.OrdStatus, 0x34).str(Tag.Symbol, o.symbol).char(Tag.Side, o.side === 'B' ? 0x31 : 0x32)
      .int(Tag.OrderQty, t.orderQty);
    this.tail(e, o, 0, 0);
    e.str(Tag.Text, 'canceled by request');
    this.send(s);
  }

  onReplaced(prev: EngineOrder, next: EngineOrder): void {
    const s = this.session(next);
    if (!s) return;
    const e = s.beginApp('8');
    const t = next.tag as FixOrderTag;
    e.int(Tag.OrderID, next.orderRef).str(Tag.ClOrdID, next.token).str(Tag.OrigClOrdID, prev.token)
      .prefixedUint(Tag.ExecID, 0x58, ++this.execCounter);
    if (s.options.version === 'FIX.4.2') e.char(Tag.ExecTransType, 0x30);
    e.char(Tag.ExecType, 0x35).char(Tag.OrdStatus, 0x35).str(Tag.Symbol, next.symbol).char(Tag.Side, next.side === 'B' ? 0x31 : 0x32)
      .int(Tag.OrderQty, t.orderQty).price4(Tag.Price, next.price);
    this.tail(e, next, 0, 0);
    this.send(s);
  }

  /**
   * Answers an Order Status Request with ExecType=I (4.2: ExecTransType=3 as well) carrying the
   * order's OrdStatus, OrderQty, CumQty, LeavesQty and AvgPx; an order this session never entered
   * gets OrdStatus=8 with OrdRejReason=5 (unknown order).
   */
  private orderStatus(s: FixSession, owner: string, clOrdId: string, symbol: string, side: number): void {
    const r = this.sim.orderRecord(owner, clOrdId);
    const e = s.beginApp('8');
    e.str(Tag.OrderID, r ? clOrdId : 'NONE').str(Tag.ClOrdID, clOrdId).prefixedUint(Tag.ExecID, 0x58, ++this.execCounter);
    if (s.options.version === 'FIX.4.2') e.char(Tag.ExecTransType, 0x33);
    if (!r) {
      e.char(Tag.ExecType, 0x49).char(Tag.OrdStatus, 0x38).str(Tag.Symbol, symbol).char(Tag.Side, side || 0x31)
        .int(Tag.OrderQty, 0).int(Tag.LeavesQty, 0).int(Tag.CumQty, 0).int(Tag.AvgPx, 0).int(Tag.OrdRejReason, 5).str(Tag.Text, 'unknown order');
      this.send(s);
      return;
    }
    const status = r.state === 'ACKNOWLEDGED' ? 0x30 : r.state === 'PARTIALLY_FILLED' ? 0x31 : r.state === 'FILLED' ? 0x32
      : r.state === 'CANCELLED' ? 0x34 : r.state === 'REPLACED' ? 0x35 : 0x38;
    const leaves = r.state === 'ACKNOWLEDGED' || r.state === 'PARTIALLY_FILLED' ? r.qty - r.filled - r.cancelled : 0;
    e.char(Tag.ExecType, 0x49).char(Tag.OrdStatus, status).str(Tag.Symbol, r.symbol).char(Tag.Side, r.side === 'B' ? 0x31 : 0x32)
      .int(Tag.OrderQty, r.qty).price4(Tag.Price, r.price).int(Tag.LeavesQty, leaves).int(Tag.CumQty, r.filled)
      .price4(Tag.AvgPx, r.filled > 0 ? Math.round(r.notional / r.filled) : 0);
    if (r.state === 'REJECTED') e.int(Tag.OrdRejReason, 0);
    this.send(s);
  }

  private rejectNew(s: FixSession, clOrdId: string, symbol: string, side: number, qty: number, text: string): void {
    this.sim.counters.rejects++;
    const e = s.beginApp('8');
    e.str(Tag.OrderID, 'NONE').str(Tag.ClOrdID, clOrdId).prefixedUint(Tag.ExecID, 0x58, ++this.execCounter);
    if (s.options.version === 'FIX.4.2') e.char(Tag.ExecTransType, 0x30);
    e.char(Tag.ExecType, 0x38).char(Tag.OrdStatus, 0x38).str(Tag.Symbol, symbol).char(Tag.Side, side || 0x31)
      .int(Tag.OrderQty, qty).int(Tag.LeavesQty, 0).int(Tag.CumQty, 0).int(Tag.AvgPx, 0).str(Tag.Text, text);
    this.send(s);
  }

  private cancelReject(s: FixSession, clOrdId: string, orig: string, responseTo: number, text: string): void {
    this.counters.fixCancelRejects++;
    const e = s.beginApp('9');
    e.str(Tag.OrderID, 'NONE').str(Tag.ClOrdID, clOrdId).str(Tag.OrigClOrdID, orig).char(Tag.OrdStatus, 0x38)
      .char(Tag.CxlRejResponseTo, responseTo).int(Tag.CxlRejReason, 1).str(Tag.Text, text);
    this.send(s);
  }
}
