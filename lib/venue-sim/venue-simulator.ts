/**
 * A runnable exchange for tests and demos: OUCH 4.2 over SoupBinTCP and FIX 4.2/4.4 front ends on
 * 127.0.0.1, one price-time `MatchingEngine` behind both, configurable response latency and fault
 * injection (dropped connections, delays, random rejects, sequence gaps).
 *
 * Ordering: every inbound order message is processed at max(previous processing time, arrival +
 * latency [+ injected delay]), so responses keep the order of the requests that caused them.
 * Transport: `libuv` (net.Server, the default for the class) or `native` (the default of
 * `tickpath venue-sim`): both front ends accept and receive through the addon's polled sockets,
 * driven by a `VenueLoop` on this thread, so an order is read, matched and acknowledged within one
 * loop turn, with no event-loop wakeup on the venue side. `transportStats()` says which one runs.
 *
 * Threading: one thread: its event loop, and the `VenueLoop` slices on it (native).
 */
import { invalidOption } from '../errors';
import { MatchingEngine, type CancelReason, type EngineOrder, type MatchListener } from './matching-engine';
import { SoupBinServer, type SoupServerConnection, type SoupSessionStream } from '../protocols/soupbin/soupbin-server';
import {
  inboundLength, readToken, encodeAccepted, encodeExecuted, encodeCanceled, encodeReplaced, encodeRejected,
  encodeSystemEvent, kOuchEnterOrder, kOuchReplaceOrder, kOuchCancelOrder, kEnterBuySell, kEnterShares, kEnterStock,
  kEnterPrice, kEnterTif, kReplaceExistingToken, kReplaceReplacementToken, kReplaceShares, kReplacePrice,
  kCancelToken, kCancelShares, kOuchMarketPrice, kTifIoc, kCancelReasonUser, kCancelReasonIoc, kCancelReasonSupervisory, kRejectReasonOther,
  kRejectReasonShares,
} from '../protocols/ouch/ouch42';
import { readAlpha } from '../common/bytes';
import { FixVenueFrontEnd } from './fix-front-end';
import * as fs from 'fs';
import type { VenueEngine, VenueFrontEnd, VenueOrderRecord } from './front-end';
import { serverTransport, NativeWaitSet } from '../protocols/transport/tcp-server';
import type { ServerTransportStats, TransportKind } from '../protocols/transport/session-transport';
import { VenueLoop, kVenueIdleNames, type VenueIdle } from './venue-loop';
import { realtimePolicy, type RealtimePolicy } from '../protocols/transport/thread-realtime';
import { mulberry32 } from '../common/prng';

export interface VenueFaults {
  /** Drop a connection after it has delivered this many order messages (0 = never). */
  dropAfterMessages?: number;
  /** How many connections in total may be dropped that way. */
  maxDrops?: number;
  /** Probability (0..1) that a new order is rejected. */
  rejectRate?: number;
  /** Extra delay (ms) applied to a fraction `delayRate` of order messages. */
  delayMs?: number;
  delayRate?: number;
  /**
   * Every Nth outbound execution report / OUCH sequenced message is lost in transit (stored, not
   * sent). FIX clients see a sequence gap and resend-request; OUCH clients get it on re-login,
   * which the simulator forces by dropping the connection right after.
   */
  gapEvery?: number;
  /** Seed for the fault PRNG, so a failing test replays the same faults. */
  seed?: number;
}

export interface VenueSimulatorOptions {
  host?: string;
  /** OUCH/SoupBinTCP port; 0 = ephemeral; null = no OUCH front end. */
  ouchPort?: number | null;
  /** FIX port; 0 = ephemeral; null = no FIX front end. Accepts FIX.4.2 and FIX.4.4. */
  fixPort?: number | null;
  /**
   * SoupBinTCP session name. Default: 'S' and the start time in base 36, so each simulator start is
   * a new session, as each trading day is at a real venue (a restarted router can tell it never
   * saw the orders of the previous one).
   */
  session?: string;
  /** FIX SenderCompID of the venue. */
  fixCompId?: string;
  /** Directory for the venue's FIX sequence/message stores; default: a fresh temp directory. */
  fixStoreDir?: string;
  /** The FIX sessions' store: 'auto' (default: mapped where the addon is built), 'mapped' or 'files' (the pwrite store). */
  fixStoreKind?: 'auto' | 'mapped' | 'files';
  /** username -> password; when absent any login is accepted. */
  users?: Record<string, string>;
  /** Response latency in ms applied to every order message. */
  latencyMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * Cancel on disconnect: when a session drops without a Logout, cancel its open orders. The
   * cancels are sequenced and stored like any report, so the client receives them after it
   * reconnects (FIX: by ResendRequest; OUCH: replayed from its next expected sequence). OUCH 4.2
   * has no Login flag for it, so for OUCH this is per port, as venues configure it; a FIX client can
   * also ask per session with 8013=Y on its Logon.
   */
  cancelOnDisconnect?: boolean;
  faults?: VenueFaults;
  /** Session transport of both front ends: 'native' (polled by a VenueLoop), 'libuv' (default) or 'auto'. */
  transport?: TransportKind | 'auto';
  /** SO_BUSY_POLL µs on accepted sockets (native only; 0 = off). */
  busyPollUs?: number;
  /** How the VenueLoop idles between turns (native only): 'block' (default), 'spin' or 'backoff'. */
  idle?: VenueIdle;
  /** block: empty turns spun before sleeping (native only); default 0. */
  spinTurns?: number;
  /** native, idle 'block': spin this long (µs) after the last work before sleeping (VenueLoop spinUs; default 0). */
  spinUs?: number;
  /** native, own loop: SCHED_FIFO for the loop's thread and, with idle 'spin', its sleep budget (VenueLoop realtime; thread-realtime.ts). */
  realtime?: RealtimePolicy | null;
  /** native: epoll busy poll (µs) on the loop's wait set (NativeWaitSet.busyPoll; EPIOCSPARAMS). */
  epollBusyPollUs?: number;
  /** Longest backoff park (µs, native only); default 20. */
  maxParkUs?: number;
  /**
   * native: false = no VenueLoop of its own; the owner calls `poll()` from one loop over several
   * simulators (the pipeline's in-process venues share the main thread: with a loop each, one
   * would sleep on its own sockets while the other's order waited). Default true.
   */
  ownLoop?: boolean;
  /** native: the wait set the sessions join (the owner's, with ownLoop false; not closed by stop()). */
  waitSet?: NativeWaitSet;
  log?: (line: string) => void;
}

/** What carries the simulator's sessions, for stats and the startup line. */
export interface VenueTransportStats {
  transport: TransportKind;
  busyPollUs: number;
  ouch: ServerTransportStats | null;
  fix: ServerTransportStats | null;
  loop: ReturnType<VenueLoop['stats']> | null;
}

const kWhere = 'VenueSimulator';


function checkNonNegative(name: string, v: unknown, integer = true): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !(v >= 0) || (integer && !Number.isInteger(v))) {
    throw invalidOption(kWhere, name, v, integer ? 'a non-negative integer' : 'a non-negative number');
  }
}

export class VenueSimulator implements MatchListener, VenueEngine {
  readonly engine: MatchingEngine;
  readonly options: VenueSimulatorOptions;
  private soup: SoupBinServer | null = null;
  private fix: FixVenueFrontEnd | null = null;
  private readonly random: () => number;
  private loop: VenueLoop | null = null;
  private waitSet: NativeWaitSet | null = null;
  private pollAll: () => number = () => 0;
  readonly transport: TransportKind;
  private processAt = 0;
  /** Delayed work in processing order (due times never decrease), run by one timer. */
  private readonly delayed: Array<{ at: number; work: () => void }> = [];
  private delayTimer: NodeJS.Timeout | null = null;
  private readonly scratch = Buffer.alloc(128);
  private readonly dropCounts = new WeakMap<object, number>();
  private readonly frontEnds = new Map<string, VenueFrontEnd>();
  private readonly ouchFrontEnd: VenueFrontEnd;
  /** The SoupBinTCP session name this simulator answers logins with. */
  readonly session: string;
  ouchPort = 0;
  fixPort = 0;
  readonly counters = { ordersIn: 0, cancelsIn: 0, replacesIn: 0, acks: 0, rejects: 0, executions: 0, executedQty: 0, cancels: 0, replaces: 0, drops: 0, gaps: 0, delayed: 0, duplicatesIgnored: 0, cancelledOnDisconnect: 0 };
  private outboundSeen = 0;
  /**
   * Every order seen, in arrival order (the report), each also on its EngineOrder (`note`: fills,
   * cancels and replaces find it there), and by owner + token key (order status, duplicates) in
   * `recordIndex`, which takes the records it has not seen yet only when it is asked. Why: a Map
   * insert per order into a table of every order of the day ran after the ack's send, and a
   * blocking client that the ack woke onto this CPU (a socket's wakeup is a sync one) waited for it.
   */
  private readonly records: VenueOrderRecord[] = [];
  private readonly recordIndex = new Map<string, VenueOrderRecord>();
  private recordsIndexed = 0;

  private addRecord(r: VenueOrderRecord): VenueOrderRecord {
    this.records.push(r);
    return r;
  }

  constructor(options: VenueSimulatorOptions = {}) {
    const f = options.faults ?? {};
    checkNonNegative('latencyMs', options.latencyMs);
    checkNonNegative('faults.dropAfterMessages', f.dropAfterMessages);
    checkNonNegative('faults.maxDrops', f.maxDrops);
    checkNonNegative('faults.delayMs', f.delayMs);
    checkNonNegative('faults.gapEvery', f.gapEvery);
    for (const k of ['rejectRate', 'delayRate'] as const) {
      const v = f[k];
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) throw invalidOption(kWhere, `faults.${k}`, v, 'a number between 0 and 1');
    }
    for (const k of ['ouchPort', 'fixPort'] as const) {
      const v = options[k];
      if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0 || v > 65535)) throw invalidOption(kWhere, k, v, 'an integer port 0..65535 or null');
    }
    const t = options.transport ?? 'libuv';
    if (t !== 'native' && t !== 'libuv' && t !== 'auto') throw invalidOption(kWhere, 'transport', t, "'native', 'libuv' or 'auto'");
    checkNonNegative('busyPollUs', options.busyPollUs);
    if (options.idle !== undefined && !kVenueIdleNames.includes(options.idle)) throw invalidOption(kWhere, 'idle', options.idle, kVenueIdleNames.join(', '));
    if (options.realtime) {
      realtimePolicy(kWhere, options.realtime.priority, options.realtime.sleepUs, { idle: options.idle ?? 'block', spinUs: options.spinUs });
      if (options.ownLoop === false) throw invalidOption(kWhere, 'realtime', options.realtime.priority, 'no real-time priority without a loop of its own (ownLoop: false): the owner of the loop sets its thread\'s policy');
    }
    this.options = options;
    // Resolved now, so asking for native without the addon fails here, never silently later.
    this.transport = t === 'auto' ? serverTransport('auto').kind : t;
    if (this.transport === 'native') serverTransport('native');
    this.engine = new MatchingEngine(this);
    this.random = mulberry32(f.seed ?? 1);
    this.ouchFrontEnd = this.makeOuchFrontEnd();
    this.session = options.session ?? `S${Date.now().toString(36).toUpperCase()}`.slice(0, 10);
  }

  private log(line: string): void { this.options.log?.(`venue-sim: ${line}`); }

  /** Starts the front ends; resolves once both listen. */
  async start(): Promise<{ ouchPort: number; fixPort: number }> {
    const host = this.options.host ?? '127.0.0.1';
    if (this.transport === 'native' && this.options.waitSet) this.waitSet = this.options.waitSet;
    else if (this.transport === 'native' && ((this.options.idle ?? 'block') === 'block' || this.options.realtime)) this.waitSet = new NativeWaitSet();
    const ws = this.waitSet ?? undefined;
    if (this.options.epollBusyPollUs) {
      if (!this.waitSet) throw invalidOption(kWhere, 'epollBusyPollUs', this.options.epollBusyPollUs, "a loop that sleeps on its wait set (idle 'block', or 'spin' with realtime)");
      this.waitSet.busyPoll(this.options.epollBusyPollUs);
    }
    if (this.options.ouchPort !== null) {
      const users = this.options.users;
      this.soup = new SoupBinServer({
        session: this.session, heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        transport: serverTransport(this.transport, { busyPollUs: this.options.busyPollUs, waitSet: ws }),
      }, {
        authenticate: (u, p) => !users || users[u] === p,
        onLoggedIn: (c) => this.log(`OUCH ${c.username} logged in`),
        onUnsequenced: (c, buf, off, len) => this.onOuchMessage(c, buf, off, len),
        onDisconnected: (c) => {
          this.log(`OUCH ${c.username || '(not logged in)'} disconnected${c.loggedOut ? ' (Logout)' : ''}`);
          if (this.options.cancelOnDisconnect && c.username && !c.loggedOut) this.cancelOnDisconnect(`O:${c.username}`);
        },
      });
      this.ouchPort = await this.soup.listen(this.options.ouchPort ?? 0, host);
    }
    if (this.options.fixPort !== null && this.options.fixPort !== undefined) {
      this.fix = new FixVenueFrontEnd(this, {
        compId: this.options.fixCompId ?? 'VENUE', storeDir: this.options.fixStoreDir, storeKind: this.options.fixStoreKind, cancelOnDisconnect: this.options.cancelOnDisconnect,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs, log: (l) => this.log(l),
        transport: serverTransport(this.transport, { busyPollUs: this.options.busyPollUs, waitSet: ws }),
      });
      this.fixPort = await this.fix.listen(this.options.fixPort, host);
    }
    if (this.transport === 'native') {
      const soup = this.soup;
      const fix = this.fix;
      const pollAll = soup && fix ? () => soup.poll() + fix.poll() : soup ? () => soup.poll() : () => fix!.poll();
      this.pollAll = pollAll;
      if (this.options.ownLoop !== false) {
        this.loop = new VenueLoop(pollAll, this.waitSet, { idle: this.options.idle, maxParkUs: this.options.maxParkUs, spinTurns: this.options.spinTurns, spinUs: this.options.spinUs, realtime: this.options.realtime });
        this.loop.start();
      }
    }
    return { ouchPort: this.ouchPort, fixPort: this.fixPort };
  }

  /** native with ownLoop false: one turn over both front ends (accepts, receives, acks); the work done. */
  poll(): number { return this.pollAll(); }

  transportStats(): VenueTransportStats {
    return {
      transport: this.transport, busyPollUs: this.transport === 'native' ? this.options.busyPollUs ?? 0 : 0,
      ouch: this.soup ? this.soup.transport.stats() : null, fix: this.fix ? this.fix.transport.stats() : null, loop: this.loop ? this.loop.stats() : null,
    };
  }

  async stop(): Promise<void> {
    this.loop?.stop();
    this.loop = null;
    if (this.delayTimer) { clearTimeout(this.delayTimer); this.delayTimer = null; }
    this.delayed.length = 0;
    await Promise.all([this.soup?.close(), this.fix?.close()]);
    this.soup = null;
    this.fix = null;
    this.streamOwner = '';
    this.streamLast = undefined;
    this.pollAll = () => 0;
    if (this.waitSet !== this.options.waitSet) this.waitSet?.close();
    this.waitSet = null;
  }

  registerFrontEnd(ownerPrefix: string, fe: VenueFrontEnd): void { this.frontEnds.set(ownerPrefix, fe); this.feLast = null; }

  /** Cancels every open order of `owner` whose session dropped; after earlier scheduled work. */
  cancelOnDisconnect(owner: string): void {
    this.schedule(() => {
      const n = this.engine.cancelAll(owner, 'disconnect');
      this.counters.cancelledOnDisconnect += n;
      if (n) this.log(`${owner}: cancel on disconnect: ${n} open orders cancelled`);
    });
  }

  // ---- fault helpers shared by the front ends ----

  /** Runs `work` after latency (+ any injected delay), never before earlier work. */
  schedule(work: () => void): void {
    const f = this.options.faults ?? {};
    let delay = this.options.latencyMs ?? 0;
    if (f.delayMs && this.random() < (f.delayRate ?? 1)) { delay += f.delayMs; this.counters.delayed++; }
    const now = Date.now();
    const at = Math.max(this.processAt, now + delay);
    this.processAt = at;
    if (at <= now && this.delayed.length === 0) { work(); return; }
    // One queue and one timer, not a timer each: Node keeps a list per duration, so two timers
    // due in the same millisecond may fire out of order.
    this.delayed.push({ at, work });
    if (!this.delayTimer) this.delayTimer = setTimeout(this.runDelayed, at - now);
  }

  private readonly runDelayed = (): void => {
    this.delayTimer = null;
    const q = this.delayed;
    let i = 0;
    while (i < q.length && q[i].at <= Date.now()) q[i++].work();
    q.splice(0, i);
    if (q.length > 0 && !this.delayTimer) this.delayTimer = setTimeout(this.runDelayed, Math.max(0, q[0].at - Date.now()));
  }

  /** True when work scheduled now would run at once (no latency, no delay faults, nothing queued). */
  runsNow(): boolean {
    const f = this.options.faults;
    // processAt stays 0 until work is delayed: no clock read per order then.
    return !this.options.latencyMs && !(f && f.delayMs) && this.delayed.length === 0 && (this.processAt === 0 || this.processAt <= Date.now());
  }

  /** True when this new order should be rejected by the injected reject rate. */
  injectReject(): boolean {
    const r = this.options.faults?.rejectRate ?? 0;
    return r > 0 && this.random() < r;
  }

  /** Counts an inbound order message on `conn`; true when the connection must now be dropped. */
  shouldDrop(conn: object): boolean {
    const f = this.options.faults ?? {};
    if (!f.dropAfterMessages) return false;
    const n = (this.dropCounts.get(conn) ?? 0) + 1;
    this.dropCounts.set(conn, n);
    if (n !== f.dropAfterMessages || this.counters.drops >= (f.maxDrops ?? 1)) return false;
    this.counters.drops++;
    return true;
  }

  /** True when the next outbound message is to be lost in transit. */
  injectGap(): boolean {
    const every = this.options.faults?.gapEvery ?? 0;
    if (!every) return false;
    this.outboundSeen++;
    if (this.outboundSeen % every !== 0) return false;
    this.counters.gaps++;
    return true;
  }

  // ---- MatchListener: fan engine events out to the owning front end ----

  private feOwner = '';
  private feLast: VenueFrontEnd | null = null;
  /** The owner's front end; the last owner's is kept, so an order's events do not slice its owner each time. */
  private frontEnd(o: EngineOrder): VenueFrontEnd {
    if (o.owner === this.feOwner && this.feLast !== null) return this.feLast;
    const fe = this.frontEnds.get(o.owner.slice(0, 2)) ?? this.ouchFrontEnd;
    this.feOwner = o.owner;
    this.feLast = fe;
    return fe;
  }
  onAccepted(o: EngineOrder): void {
    const qty = o.open;
    // The ack first, then the record (nothing reads it before the engine's next event, which comes
    // after this returns). What runs after the ack's send must stay small: a blocking client the
    // ack woke onto this CPU waits for it (see `records`), so the record is an array push, not an
    // insert into a map of every order of the day.
    this.frontEnd(o).onAccepted(o);
    this.counters.acks++;
    o.note = this.addRecord({
      owner: o.owner, token: o.token, side: o.side, symbol: o.symbol, qty, price: o.price, filled: 0, cancelled: 0,
      notional: 0, state: 'ACKNOWLEDGED', duplicates: 0,
    });
  }
  onExecuted(o: EngineOrder, qty: number, price: number, match: number, liq: 'A' | 'R'): void {
    this.counters.executions++;
    this.counters.executedQty += qty;
    const r = o.note as VenueOrderRecord | null;
    if (r) { r.filled += qty; r.notional += qty * price; r.state = o.open === 0 ? 'FILLED' : 'PARTIALLY_FILLED'; }
    this.frontEnd(o).onExecuted(o, qty, price, match, liq);
  }
  onCanceled(o: EngineOrder, qty: number, reason: CancelReason): void {
    this.counters.cancels++;
    const r = o.note as VenueOrderRecord | null;
    if (r) { r.cancelled += qty; if (o.open === 0) r.state = 'CANCELLED'; }
    this.frontEnd(o).onCanceled(o, qty, reason);
  }
  onReplaced(prev: EngineOrder, next: EngineOrder): void {
    this.counters.replaces++;
    const r = prev.note as VenueOrderRecord | null;
    if (r) r.state = 'REPLACED';
    const filled = r ? r.filled : 0;
    const cancelled = r ? r.cancelled : 0;
    next.note = this.addRecord({
      owner: next.owner, token: next.token, side: next.side, symbol: next.symbol, qty: next.open + filled + cancelled, price: next.price,
      filled, cancelled, notional: r ? r.notional : 0, state: next.open === 0 ? 'CANCELLED' : filled > 0 ? 'PARTIALLY_FILLED' : 'ACKNOWLEDGED',
      duplicates: 0,
    });
    this.frontEnd(prev).onReplaced(prev, next);
  }

  /** Records are keyed as the engine keys orders (MatchingEngine.tokenKey); the index first takes the records added since it was last asked. */
  orderRecord(owner: string, token: string): VenueOrderRecord | undefined {
    const records = this.records;
    for (let i = this.recordsIndexed; i < records.length; i++) {
      const r = records[i];
      this.recordIndex.set(this.engine.tokenKey(r.owner, r.token), r);
    }
    this.recordsIndexed = records.length;
    return this.recordIndex.get(this.engine.tokenKey(owner, token));
  }

  recordReject(owner: string, token: string, symbol: string, side: 'B' | 'S', qty: number, price: number): void {
    const r = this.orderRecord(owner, token);
    if (r) { r.duplicates++; return; }
    this.addRecord({
      owner, token, side, symbol, qty, price, filled: 0, cancelled: 0, notional: 0, state: 'REJECTED', duplicates: 0,
    });
  }

  recordDuplicate(owner: string, token: string): void {
    const r = this.orderRecord(owner, token);
    if (r) r.duplicates++;
  }

  /**
   * Every order seen, one JSON object per line: session ('ouch:USER' or 'FIX.4.x:COMPID'), token
   * (OUCH token or FIX ClOrdID), side, symbol, quantity, price (Price(4)), filled, cancelled,
   * state and duplicates (requests with a token already used). Written synchronously: this runs
   * from a signal handler on the way out.
   */
  writeReport(file: string): number {
    const lines: string[] = [];
    for (const r of this.records) {
      const session = r.owner.startsWith('O:') ? `ouch:${r.owner.slice(2)}` : r.owner.slice(2);
      lines.push(JSON.stringify({
        session, token: r.token, side: r.side, symbol: r.symbol, qty: r.qty, price: r.price, filled: r.filled,
        cancelled: r.cancelled, state: r.state, duplicates: r.duplicates,
      }));
    }
    fs.writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '');
    return lines.length;
  }

  // ---- OUCH front end ----

  private timestamp(): number {
    const now = Date.now();
    return (now % 86400000) * 1e6;
  }

  private makeOuchFrontEnd(): VenueFrontEnd {
    const publish = (owner: string, len: number): void => {
      const stream = this.ouchStream(owner);
      if (!stream) return;
      const lost = this.injectGap();
      const live = stream.live;
      if (lost && live) {
        // SoupBinTCP numbers messages implicitly, so nothing more may go out live after a lost one
        // or the client would number it wrongly: detach now and drop the link, as a dead link
        // would; the client recovers the message by logging in from its next expected sequence.
        stream.live = null;
        this.log(`OUCH ${stream.username}: injected gap at seq ${stream.nextSeq}, dropping connection`);
        setImmediate(() => live.close());
      }
      stream.publish(this.scratch.subarray(0, len), !lost);
    };
    const fields = (o: EngineOrder) => ({
      token: o.token, buySell: (o.tag as number) || (o.side === 'B' ? 0x42 : 0x53), shares: o.open, stock: o.symbol,
      price: o.market ? kOuchMarketPrice : o.price, tif: o.ioc ? kTifIoc : 99998, firm: '', orderRef: o.orderRef,
    });
    const fe: VenueFrontEnd = {
      onAccepted: (o) => publish(o.owner, encodeAccepted(this.scratch, 0, this.timestamp(), fields(o))),
      onExecuted: (o, qty, price, match, liq) => publish(o.owner,
        encodeExecuted(this.scratch, 0, this.timestamp(), o.token, qty, price, liq === 'A' ? 0x41 : 0x52, match)),
      onCanceled: (o, qty, reason) => publish(o.owner,
        encodeCanceled(this.scratch, 0, this.timestamp(), o.token, qty,
          reason === 'ioc' ? kCancelReasonIoc : reason === 'disconnect' ? kCancelReasonSupervisory : kCancelReasonUser)),
      onReplaced: (prev, next) => publish(prev.owner, encodeReplaced(this.scratch, 0, this.timestamp(), fields(next), prev.token)),
    };
    this.frontEnds.set('O:', fe);
    return fe;
  }

  private onOuchMessage(conn: SoupServerConnection, buf: Buffer, off: number, len: number): void {
    const type = buf[off];
    const want = inboundLength(type);
    if (want === 0 || len !== want) { conn.parser.malformedFrames++; return; }
    const owner = this.ouchOwner(conn);
    const drop = this.shouldDrop(conn);
    if (this.runsNow()) this.processOuch(owner, buf, off); // nothing delays it: parse in place, no copy
    else {
      const msg = Buffer.from(buf.subarray(off, off + len)); // processed later: copy out of the parser's buffer
      this.schedule(() => this.processOuch(owner, msg, 0));
    }
    if (drop) {
      this.log(`OUCH ${conn.username}: injected disconnect after ${this.options.faults?.dropAfterMessages} messages`);
      this.schedule(() => conn.close());
    }
  }

  private lastOuchConn: SoupServerConnection | null = null;
  private lastOuchUser = '';
  private lastOuchOwner = '';

  /**
   * 'O:' + the connection's username: the last connection's string again while its user is the
   * same, so the engine's key checks compare one string object with itself and nothing is built
   * per message (a fresh concatenation, hashed again in every map it met).
   */
  private ouchOwner(conn: SoupServerConnection): string {
    const user = conn.username;
    if (conn === this.lastOuchConn && user === this.lastOuchUser) return this.lastOuchOwner;
    this.lastOuchConn = conn;
    this.lastOuchUser = user;
    this.lastOuchOwner = `O:${user}`;
    return this.lastOuchOwner;
  }

  private streamOwner = '';
  private streamLast: SoupSessionStream | undefined = undefined;

  /** The owner's SoupBinTCP stream ('O:' + user), the last owner's kept (streams live as long as the server). */
  private ouchStream(owner: string): SoupSessionStream | undefined {
    if (owner === this.streamOwner && this.streamLast !== undefined) return this.streamLast;
    const s = this.soup?.streamFor(owner.slice(2));
    this.streamOwner = owner;
    this.streamLast = s;
    return s;
  }

  private processOuch(owner: string, m: Buffer, o: number): void {
    const stream = this.ouchStream(owner);
    const reject = (token: string, reason: number) => {
      this.counters.rejects++;
      if (m[o] === kOuchEnterOrder) this.recordReject(owner, token, readAlpha(m, o + kEnterStock, 8), m[o + kEnterBuySell] === 0x42 ? 'B' : 'S', m.readUInt32BE(o + kEnterShares), m.readUInt32BE(o + kEnterPrice));
      if (stream) stream.publish(this.scratch.subarray(0, encodeRejected(this.scratch, 0, this.timestamp(), token, reason)));
    };
    switch (m[o]) {
      case kOuchEnterOrder: {
        this.counters.ordersIn++;
        const token = readToken(m, o + 1);
        const bs = m[o + kEnterBuySell];
        const shares = m.readUInt32BE(o + kEnterShares);
        const price = m.readUInt32BE(o + kEnterPrice);
        const market = price === kOuchMarketPrice;
        if (this.engine.hasToken(owner, token)) { this.counters.duplicatesIgnored++; this.recordDuplicate(owner, token); return; }
        if (this.injectReject() || (bs !== 0x42 && bs !== 0x53 && bs !== 0x54 && bs !== 0x45)) {
          this.engine.markTokenUsed(owner, token);
          reject(token, kRejectReasonOther);
          return;
        }
        const r = this.engine.submit(owner, token, readAlpha(m, o + kEnterStock, 8), bs === 0x42 ? 'B' : 'S', shares, price,
          market, m.readUInt32BE(o + kEnterTif) === kTifIoc, bs);
        // OUCH ignores an Enter Order whose token was already used today: that is what makes a
        // client's resend of unconfirmed orders after a reconnect safe.
        if (r === 'duplicate-token') { this.counters.duplicatesIgnored++; this.recordDuplicate(owner, token); }
        else if (r === 'invalid') reject(token, kRejectReasonShares);
        return;
      }
      case kOuchCancelOrder: {
        this.counters.cancelsIn++;
        // OUCH ignores cancels for unknown tokens: nothing is sent back.
        this.engine.cancel(owner, readToken(m, o + kCancelToken), m.readUInt32BE(o + kCancelShares));
        return;
      }
      case kOuchReplaceOrder: {
        this.counters.replacesIn++;
        const existing = readToken(m, o + kReplaceExistingToken);
        const replacement = readToken(m, o + kReplaceReplacementToken);
        const r = this.engine.replace(owner, existing, replacement, m.readUInt32BE(o + kReplaceShares), m.readUInt32BE(o + kReplacePrice));
        // Unknown existing token or a used replacement token: ignored, as OUCH does.
        if (r === 'invalid') reject(replacement, kRejectReasonShares);
        else if (r === 'duplicate-token') this.counters.duplicatesIgnored++;
        return;
      }
    }
  }

  /** Sends System Event 'C' (end of messages) and End of Session to every OUCH client. */
  endOfDay(): void {
    if (!this.soup) return;
    for (const c of this.soup.connections) {
      if (!c.username) continue;
      this.soup.streamFor(c.username).publish(this.scratch.subarray(0, encodeSystemEvent(this.scratch, 0, this.timestamp(), 0x43)));
      c.sendEndOfSession();
    }
  }

  stats(): Record<string, number> {
    const tokens = this.engine.tokenStats();
    return {
      ...this.counters, ouchBadFrames: this.soup?.malformedFrames() ?? 0, ...(this.fix?.stats() ?? {}),
      // Sessions whose order tokens all came in ascending order (checked against the last one), and the others (a set each).
      tokenOwnersOrdered: tokens.ordered, tokenOwnersUnordered: tokens.unordered,
    };
  }
}
