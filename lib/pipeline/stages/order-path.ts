/**
 * The router stage's order path, seen from outside the router: where an order's time goes
 * (OrderPathProbe) and keeping that path warm while the strategy is quiet (OrderPathWarmer).
 *
 * What "order out" means here: the first child's send(2) has returned, i.e. its encoded bytes are
 * in the kernel (on loopback that call also runs the receiving side's TCP processing, in softirq on
 * our thread). md_to_order and order_send end there, not when submitOrder returns: what the
 * connector does after the wire (the copy kept for a resend after re-login, its order map) is no
 * part of the order's way out. The probe splits order_send into:
 *   order_risk     sendOrder -> RiskChecker.checkNew returned (validation and risk)
 *   order_journal  -> the last journal record before the first child's send (routing, order state,
 *                     the NEW_ORDER/NEW_CHILD record)
 *   order_encode   -> send(2) entered (the connector's checks and OUCH/FIX encode)
 *   order_syscall  send(2) entered -> returned
 * The stamps come from wrappers the stage puts on the stack's own objects (risk.checkNew,
 * journal.appendOrder, each connector's sendNew, the addon's tcpSend): nothing in lib/router
 * changes, and each wrapper stamps only while an order is being submitted (one clock read each,
 * about 35 ns; six per order). Without the native transport (libuv) there is no send(2) stamp:
 * the order ends when submitOrder returns and order_encode/order_syscall are not recorded.
 *
 * Why keep it warm: the sample strategy sends about one order per 20 ms; in between, the books
 * evict the router's code, data and branch history from the caches, and a cold order took 25-43 us
 * for the connector send against 7 us at 200 orders/s. The warmer runs a dry-run order through the
 * same code every keep_warm_us of quiet: a shadow RiskChecker (same class, so the same compiled
 * code and inline caches; limits that always pass; the real BBO and open-order count, read only),
 * a parent and child created, marked sent and ended in a shadow OrderManager, the journal's record
 * encoding into a scratch journal (its own file, unlinked as soon as it is mapped) from that child, and the OUCH
 * Enter Order / FIX NewOrderSingle encoders into scratch
 * buffers. It never changes the real risk state, journal, order table or a socket (tests check
 * each). The shadow copies warm the code, not the real data: the next real journal slot, the next
 * free order-table slots, the connector's send buffer and the traded symbol's risk state stay
 * cold. So each dry run also reads those (`touchReal`, default on): the journal's next slot
 * (OrderJournal.touchNextSlot), the free list's top two slots (OrderManager.touchNextFree), the
 * symbol's risk entries (RiskChecker.touchSymbol), what the real SmartRouter's route reads for it
 * (SmartRouter.touchRoute) and where each connector encodes its next order
 * (touchSendPath, OUCH and FIX). Loads only, with two exceptions that change nothing a crash or a
 * reader could see: the journal's next ring slot and its written position are stored back with the
 * values just read (OrderJournal.warmNextSlot, option `ownLines`), so those lines, which the commit
 * thread on the other CPU reads, are this CPU's before the order's stores; and the real order
 * table's lines the next order will write are stored back as read (OrderRouter.warmNextOrder,
 * option `ownNext`): its next two free slots in every per-slot array and the key-table entries of
 * the next parent and child keys (a scattered, so random, line of a 2-3 MB table per key, which
 * no read of the free slots reached); memory only the router's thread has, so nothing a reader
 * or a crash could see. Tried and not kept: the real router's own risk check and route in each
 * dry run, undone (OrderRouter.warmRiskAndRoute: RiskChecker.checkNew on the real checker through
 * the probe's wrapper, its token bucket, notionals and a refusal's count put back exactly; the
 * real SmartRouter.route with its slices put back; tests compared every field before and after).
 * order_risk fell, and the step after it rose by about as much: `tickpath run --duration 12`, the
 * same build with the calls off and on (a temporary switch), 8 alternated pairs, load 5.4-9.2,
 * p50 off/on: order_risk 2.98/1.91 us (lower in 7 of 8), order_journal (routing, order table,
 * record) 4.56/5.12 (lower in 1), md_to_send_call 22.5/22.4 (lower in 3), signal_decide 5.5/6.5;
 * against the build before, 12 pairs (load 4.9-8.3): order_risk 2.76/2.12 (10 of 12),
 * md_to_send_call 21.9/28.7 (lower in 2 of 12). perf:latency (--rates 100000 --seconds 2
 * --no-compare --no-shadow-compare --no-socket-compare --no-books-warm-compare --venue-variants
 * none), 32 pairs against the build before, load 3.7-6.7: order_risk 2.23/1.94 (24 of 32),
 * order_journal 2.56/2.40 (16), dec_to_send_call 14.8/14.1 (19), md_to_send_call lower in 19 of 32.
 * So the real objects' code and data for risk were not what the order waits on: the first steps
 * after a quiet stretch pay a cost that moves to whichever step runs first, as the journal's
 * microsecond did (ARCHITECTURE.md, "Order path: dry run vs real, per step").
 * And one dry run in `shadowEvery` (keep_warm_path_us) sends an order through the real
 * path's own functions on shadow objects (ShadowRoute, shadow-route.ts: OrderRouter.submitOrder
 * through the OUCH or FIX connector's send over a transport that sends nothing; one shadow per
 * protocol the venues speak, taking turns), so V8 optimizes the code a real order runs. And one in `socketEvery` (keep_warm_socket_us) makes a send(2) and a recv(2)
 * over a private loopback connection (socket-warmer.ts), so the kernel's TCP send path is warm too;
 * what stays cold is the venue's own socket and, with a venue asleep in epoll, its wakeup.
 *
 * Threading contract: built, run and closed on the router's worker.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Clock } from '../../common/clock';
import { currentThreadAffinity, setCurrentThreadAffinity } from '../../binding/threads';
import { encodeEnterOrder, kTifMarketHours } from '../../protocols/ouch/ouch42';
import { FixEncoder, Tag } from '../../protocols/fix/fix-codec';
import { OrderJournal, JournalRecordType } from '../../router/journal';
import { OrderIdFormat, OrderManager } from '../../router/order-manager';
import { RiskChecker, type RiskLimits } from '../../router/risk-checker';
import type { RouterStack } from '../../router/router-stack';
import type { BboSource, OrderRequest } from '../../router/types';
import { nativeTransportById } from '../../protocols/transport/native-tcp-transport';
import { ShadowRoute } from './shadow-route';
import type { TxStampSource } from './tx-stamps';
import type { SocketPathWarmer } from './socket-warmer';

// Stamp slots (ns; 0 = not reached this order).
const kT0 = 0;
const kRiskEnd = 1;
const kJournalEnd = 2;
const kSendNewStart = 3;
const kSyscallStart = 4;
const kSyscallEnd = 5;

/** The order path's split, recorded by the router stage after each submitOrder. */
export interface OrderPathRecorders {
  readonly order_risk?: { record(ns: number): void };
  readonly order_journal?: { record(ns: number): void };
  readonly order_encode?: { record(ns: number): void };
  readonly order_syscall?: { record(ns: number): void };
  /** RX time to the order's bytes handed to send(2) (recorded by the router stage, not by end()). */
  readonly md_to_send_call?: { record(ns: number): void };
  /**
   * The order's packet's decoder entry to its bytes handed to send(2): md_to_send_call without
   * signal_wait (the wait for the worker, which the scheduler decides on a loaded machine). Where
   * the decoder shares the router's worker; recorded by the router stage.
   */
  readonly dec_to_send_call?: { record(ns: number): void };
}

interface TcpSendBinding { tcpSend(id: number, buf: Uint8Array, offset: number, length: number): number }

/**
 * Stamps an order's way through risk, journal, encode and send(2). `begin()` before submitOrder,
 * `end()` after; `outNs` is then the send(2)-returned time of the first child (0: none happened).
 */
export class OrderPathProbe {
  private readonly t = new Float64Array(6);
  private armed = false;
  /** The channel and send seq of the first child's send(2) (-1: none), for its kernel TX stamp (tx-stamps.ts). */
  private sendChannel = -1;
  private sendSeqNo = 0;

  constructor(stack: Pick<RouterStack, 'risk' | 'journal' | 'connectors'>, private readonly clock: Clock, tcp?: TcpSendBinding) {
    const t = this.t;
    const risk = stack.risk;
    const checkNew = risk.checkNew;
    // Every argument passed on: OrderRouter hands checkNew the symbol's index and the journal's
    // clock, and a wrapper that dropped them made each real order look its symbol up again by
    // string and read a clock of its own inside order_risk.
    risk.checkNew = (req: OrderRequest, id: string | null, sym?: number, nowMs?: number) => {
      const r = checkNew.call(risk, req, id, sym, nowMs);
      if (this.armed && t[kRiskEnd] === 0) t[kRiskEnd] = clock.nowNs();
      return r;
    };
    const journal = stack.journal;
    const appendOrder = journal.appendOrder;
    journal.appendOrder = (type, om, slot, reason, lastQty, lastPx, refId, venueSeq) => {
      appendOrder.call(journal, type, om, slot, reason, lastQty, lastPx, refId, venueSeq);
      if (this.armed && t[kSendNewStart] === 0) t[kJournalEnd] = clock.nowNs();
    };
    for (const conn of stack.connectors) {
      const sendNew = conn.sendNew;
      conn.sendNew = (order) => {
        if (this.armed && t[kSendNewStart] === 0) t[kSendNewStart] = clock.nowNs();
        return sendNew.call(conn, order);
      };
    }
    if (tcp) {
      // The addon's exports are one object per isolate: every native session on this worker sends
      // through it. Only the first send(2) after the first child's sendNew began is stamped.
      const tcpSend = tcp.tcpSend;
      tcp.tcpSend = (id, buf, offset, length) => {
        if (!this.armed || t[kSendNewStart] === 0 || t[kSyscallStart] !== 0) return tcpSend.call(tcp, id, buf, offset, length);
        t[kSyscallStart] = clock.nowNs();
        const n = tcpSend.call(tcp, id, buf, offset, length);
        t[kSyscallEnd] = clock.nowNs();
        // Which send it was, to find its TX stamp later (after the wire: one load each).
        this.sendChannel = id;
        this.sendSeqNo = nativeTransportById(id)?.lastSendSeq ?? 0;
        return n;
      };
    }
  }

  /** Starts an order; returns its start time. */
  begin(): number {
    const t = this.t;
    t[kRiskEnd] = 0; t[kJournalEnd] = 0; t[kSendNewStart] = 0; t[kSyscallStart] = 0; t[kSyscallEnd] = 0;
    this.sendChannel = -1;
    this.armed = true;
    const now = this.clock.nowNs();
    t[kT0] = now;
    return now;
  }

  /** When the last order's first child's bytes were handed to send(2) (0: none); valid after end(). */
  get sendCallNs(): number { return this.t[kSyscallStart]; }

  /**
   * The native transport that carried the last order's first send(2), when it takes kernel TX
   * stamps (null: no send(2) seen, libuv, or stamps off), and that send's seq; valid after end().
   */
  get stampSource(): (TxStampSource & { readonly lastSendSeq: number }) | null {
    if (this.sendChannel < 0) return null;
    const tr = nativeTransportById(this.sendChannel);
    return tr !== undefined && tr.txStampState === 1 ? tr : null;
  }
  get sendSeq(): number { return this.sendSeqNo; }

  /** Ends the order: records its split; returns when its first child's send(2) returned (0: no send(2) seen). */
  end(r: OrderPathRecorders): number {
    this.armed = false;
    const t = this.t;
    const t0 = t[kT0], risk = t[kRiskEnd], journal = t[kJournalEnd], sysStart = t[kSyscallStart], sysEnd = t[kSyscallEnd];
    if (risk !== 0) r.order_risk?.record(risk - t0);
    if (journal !== 0 && risk !== 0) r.order_journal?.record(journal - risk);
    if (sysEnd !== 0 && journal !== 0) {
      r.order_encode?.record(sysStart - journal);
      r.order_syscall?.record(sysEnd - sysStart);
    }
    return sysEnd;
  }
}

/** Limits for the shadow checker: the real collar (its code path runs), everything else passes. */
function shadowLimits(real: RiskLimits): RiskLimits {
  return {
    maxOrderQty: Number.MAX_VALUE, maxOrderNotional: Number.MAX_VALUE, maxDailyNotional: Number.MAX_VALUE,
    maxSymbolNotional: Number.MAX_VALUE, maxOpenOrdersPerSymbol: Number.MAX_VALUE, priceCollarBps: real.priceCollarBps,
    maxOrdersPerSecond: Number.MAX_VALUE,
  };
}

/**
 * Records in the scratch journal before it is reopened (a dry run writes about 3). Each reopening
 * allocates a journal object and its ring that live until the next one, so they are promoted: at
 * 5,000 dry runs a second, 32 Ki records reopened every ~2 s; 128 Ki (12 MB of tmpfs) every ~9 s.
 */
const kScratchRecords = 1 << 17;

/** Split turns: the pieces of a dry run left for later calls. */
const kPieceShadow = 1;
const kPieceSocket = 2;
/** The real objects' touches (touchReal), done after the other pieces so they are the last before a real order. */
const kPieceReal = 4;

/** This thread's CPUs, or none where the addon cannot say. */
function safeAffinity(): number[] {
  try { return currentThreadAffinity(); } catch { return []; }
}

/** Dry runs of the order path every keep_warm_us of quiet; see the file comment. */
export class OrderPathWarmer {
  /** Dry runs done (the keep_warm_turns counter). */
  turns = 0;
  /** The dry run's TransactTime (set at each scratch journal rotation: a clock read per run would be garbage). */
  private fixTimeMs = 0;
  /** Set by each real order: the owner restarts its quiet period. */
  ordered = false;
  private readonly risk: RiskChecker;
  private readonly om = new OrderManager({ capacity: 8 });
  /** Ids of the shadow table's dry-run orders (1 is the standing fallback order's). */
  private seq = 1;
  private readonly childSlot: number;
  private journal: OrderJournal | null = null;
  private readonly journalPath: string;
  /** The worker's CPUs before it pinned itself (where the scratch journal's thread may run). */
  private readonly cpus: number[];
  private readonly ouch: Buffer | null;
  private readonly fix: { enc: FixEncoder; buf: Buffer; version: 'FIX.4.2' | 'FIX.4.4' } | null;
  /** The dry-run order: the last real order's symbol, side and price (the strategy's own path). */
  readonly request: OrderRequest = { symbol: '', side: 'B', qty: 100, price: 0, ordType: 'LIMIT', tif: 'DAY' };
  private readonly bbo: BboSource & { entries?(): { symbol: string; bid: number; ask: number }[] };

  /**
   * touchReal's journal part also stores back what it read in the next ring slot and the written
   * position (OrderJournal.warmNextSlot; option `ownLines`, default on): see that method for why a
   * reader or a restart sees nothing of it.
   */
  private readonly ownLines: boolean;
  /** Dry runs that also read the real next slots, send buffers and risk entries. */
  realTouches = 0;
  /** What the reads returned, kept so the loads are not optimized away. */
  touchSum = 0;
  private readonly real: { journal?: OrderJournal; om: OrderManager; risk?: RiskChecker; sor?: { touchRoute(symbol: string): number };
    router?: { warmNextOrder(symbol: string): number }; connectors: { touchSendPath?(): number; warmSendPath?(): number }[] } | null;
  /**
   * touchReal also runs each real OUCH session's send path after the encode with zero bytes, into
   * the addon's send entry, which returns before send(2) (OuchConnector.warmSendPath; option
   * `warmSend`, default on). Counted in `sendWarms` (the sessions that ran it).
   */
  private readonly warmSend: boolean;
  /** Real sessions' zero-byte send paths run (warmSendPath returned 1). */
  sendWarms = 0;
  /**
   * touchReal also takes the real order table's next lines for writing (OrderRouter.warmNextOrder:
   * the next two free slots, the next parent and child keys' key-table entries, stored back
   * unchanged; option `ownNext`, default on). Counted in `nextWarms`.
   */
  private readonly ownNext: boolean;
  /** Dry runs that stored back the real order table's next lines (warmNextOrder). */
  nextWarms = 0;
  /**
   * The whole path (OrderRouter.submitOrder through the venue connector's send) on shadow objects
   * (shadow-route.ts): one shadow per protocol the real venues speak, the first OUCH venue's and
   * the first FIX venue's, taking turns. `shadow` is the first of them (OUCH where there is one).
   */
  readonly shadows: ShadowRoute[] = [];
  readonly shadow: ShadowRoute | null = null;
  private shadowTick = 0;
  private shadowNext = 0;
  private readonly shadowEvery: number;
  /** The kernel's loopback send path, kept warm over a private connection (socket-warmer.ts), or null. */
  readonly socket: SocketPathWarmer | null;
  private socketTick = 0;
  private readonly socketEvery: number;
  /** The scratch journal's size in records (tests make it small to cross rotations quickly). */
  private readonly scratchRecords: number;
  /**
   * Split turns (the router stage's): a dry run's shadow route (~4 us hot) and its loopback
   * send(2) (~7 us hot) are left pending and each run by a later call, one piece a call, so a
   * packet that arrives during keep-warm waits for one piece (~1-7 us) rather than all three
   * (~12 us hot, ~19 us at 200 us intervals, measured in the stage). Off: run() does them all.
   */
  private readonly split: boolean;
  /**
   * Split turns: the real objects' touches go with the dry run's last piece (after the shadow
   * route and the loopback send(2)) rather than its first (option `realLast`, default on).
   */
  private readonly realLast: boolean;
  /** Split turns: the pieces of the last dry run still to do (kPieceShadow | kPieceSocket | kPieceReal). */
  private pending = 0;

  constructor(stack: Pick<RouterStack, 'orderManager' | 'connectors'> & Partial<Pick<RouterStack, 'risk' | 'journal' | 'smartRouter' | 'router'>>, limits: RiskLimits,
    bbo: BboSource & { entries?(): { symbol: string; bid: number; ask: number }[] },
    scratchDir: string = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), options: { touchReal?: boolean; shadowRoute?: boolean; shadowEvery?: number;
      scratchRecords?: number; socket?: SocketPathWarmer; socketEvery?: number; splitTurns?: boolean; ownLines?: boolean; ownNext?: boolean; realLast?: boolean;
      warmSend?: boolean } = {}) {
    this.bbo = bbo;
    this.warmSend = options.warmSend ?? true;
    this.ownLines = options.ownLines ?? true;
    this.ownNext = options.ownNext ?? true;
    this.split = options.splitTurns ?? false;
    this.realLast = options.realLast ?? true;
    this.scratchRecords = options.scratchRecords ?? kScratchRecords;
    this.socket = options.socket ?? null;
    this.socketEvery = Math.max(1, options.socketEvery ?? 1);
    this.real = (options.touchReal ?? true)
      ? { journal: stack.journal, om: stack.orderManager, risk: stack.risk, sor: stack.smartRouter, router: stack.router, connectors: stack.connectors.filter((c) => typeof c.touchSendPath === 'function') }
      : null;
    // The real open-order counts (read only); a shadow's own token bucket, notional and ids.
    this.risk = new RiskChecker(shadowLimits(limits), bbo, stack.orderManager);
    const p = this.om.createParentKey(OrderIdFormat.key(false, 1), 'WARMUP', 'B', 100, 10000, 'LIMIT', 'DAY');
    this.childSlot = this.om.createChildKey(p, OrderIdFormat.key(true, 1), 0, 100, 10000);
    this.om.markSent(this.childSlot);
    this.journalPath = path.join(scratchDir, `tickpath-keepwarm-${process.pid}-${Math.random().toString(36).slice(2, 10)}.journal`);
    // A journal has a native commit thread, born with its creator's CPUs: opened here, before the
    // worker pins itself (as the real journal is), and reopened later with these CPUs, never on
    // the stage's own.
    this.cpus = safeAffinity();
    // Twice: the first rotation's code is compiled now, at start-up, not in the middle of a run
    // (measured: ~300 KB of old space at the first rotation, ~0 at later ones).
    this.rotateJournal();
    this.rotateJournal();
    const protocols = stack.connectors.map((c) => c.protocol);
    const ouchVenue = stack.connectors.find((c) => c.protocol === 'ouch');
    const fixVenue = stack.connectors.find((c) => c.protocol === 'fix42' || c.protocol === 'fix44');
    this.shadowEvery = Math.max(1, options.shadowEvery ?? 1);
    if (options.shadowRoute ?? true) {
      if (ouchVenue !== undefined) this.shadows.push(new ShadowRoute(ouchVenue.name, shadowLimits(limits), bbo));
      if (fixVenue !== undefined) this.shadows.push(new ShadowRoute(fixVenue.name, shadowLimits(limits), bbo, fixVenue.protocol as 'fix42' | 'fix44', scratchDir));
      for (const sh of this.shadows) sh.useJournal(this.journal!);
      this.shadow = this.shadows[0] ?? null;
    }
    this.ouch = protocols.includes('ouch') ? Buffer.alloc(128) : null;
    const fixVersion = protocols.includes('fix44') ? 'FIX.4.4' : protocols.includes('fix42') ? 'FIX.4.2' : null;
    this.fix = fixVersion ? { enc: new FixEncoder(), buf: Buffer.alloc(1024), version: fixVersion } : null;
  }

  /** Dry runs rejected back by the shadow OUCH venue ('ouch') or the shadow FIX venue ('fix'). */
  shadowRuns(kind: 'ouch' | 'fix'): number {
    let n = 0;
    for (const sh of this.shadows) if ((sh.protocol === 'ouch') === (kind === 'ouch')) n += sh.runs;
    return n;
  }

  /** The order the strategy just sent: the next dry runs take its symbol, side and price. */
  noteOrder(r: OrderRequest): void {
    const q = this.request;
    q.symbol = r.symbol; q.side = r.side; q.price = r.price; q.ordType = r.ordType; q.tif = r.tif;
    this.ordered = true;
  }

  /** Split turns: true while the last dry run has pieces left (the owner calls run() again soon, not after a keep-warm period). */
  get piecesPending(): boolean { return this.pending !== 0; }

  /**
   * One dry run (split turns: a pending piece of the last one, if any, instead). Returns the work
   * done (1) for the loop's idle accounting.
   */
  run(): number {
    if (this.pending !== 0) return this.runPiece();
    const q = this.request;
    if (q.symbol === '' && !this.pickSymbol()) return 0;
    // Risk: the pass path of the same code (collar against the live BBO), booked in the shadow only.
    this.risk.checkNew(q, null);
    if (this.risk.usedDailyNotional > 1e15) this.risk.resetDay();
    // Journal: a record encoded (fields, id, symbol, crc) into the scratch journal.
    let j = this.journal;
    if (j === null || j.lastRecordNo >= this.scratchRecords - 8) j = this.rotateJournal();
    // Order table: a parent and its child created, marked sent, journaled and ended (rejected, so
    // both slots go back to the free list), in the shadow table, as the real path creates them.
    const om = this.om;
    this.seq = this.seq >= 1_000_000 ? 2 : this.seq + 1;
    const p = om.createParentKey(OrderIdFormat.key(false, this.seq), 'WARMUP', q.side, q.qty, q.price, q.ordType, q.tif);
    const c = p >= 0 ? om.createChildKey(p, OrderIdFormat.key(true, this.seq), 0, q.qty, q.price) : -1;
    if (c >= 0) {
      om.markSent(c);
      j.appendOrder(JournalRecordType.NEW_ORDER, om, c, null, 0, 0, p);
      om.rejectAt(c);
    } else {
      j.appendOrder(JournalRecordType.NEW_ORDER, om, this.childSlot, null, 0, 0, this.childSlot);
    }
    // Encoders into scratch buffers.
    const side = q.side === 'B' ? 0x42 : 0x53;
    if (this.ouch !== null) encodeEnterOrder(this.ouch, 0, 'WARMUP00000000', side, q.qty, q.symbol, q.price, kTifMarketHours, 'TPTH');
    const f = this.fix;
    if (f !== null) {
      f.enc.begin(f.buf, 0, f.version, 'D').str(Tag.ClOrdID, 'WARMUP00000000').char(Tag.HandlInst, 0x31).str(Tag.Symbol, q.symbol)
        .char(Tag.Side, q.side === 'B' ? 0x31 : 0x32).time(Tag.TransactTime, this.fixTimeMs).int(Tag.OrderQty, q.qty).char(Tag.OrdType, 0x32)
        .price4(Tag.Price, q.price).char(Tag.TimeInForce, 0x30);
    }
    // The real path's own functions (submitOrder, routeNew, sendNew, the SoupBinTCP send), on shadow objects.
    // Every shadowEvery-th dry run (keep_warm_path_us): see shadow-route.ts for what it costs.
    const shadows = this.shadows;
    if (shadows.length !== 0 && ++this.shadowTick >= this.shadowEvery) {
      this.shadowTick = 0;
      if (this.split) this.pending |= kPieceShadow; else this.runShadow();
    }
    // The kernel's send(2) and recv(2) over loopback, on a connection of our own (never a venue's).
    if (this.socket !== null && ++this.socketTick >= this.socketEvery) {
      this.socketTick = 0;
      if (this.split) this.pending |= kPieceSocket; else this.socket.run();
    }
    // The real objects' lines last (split turns: with the last piece), so nothing of the dry run's
    // own (the shadow route's objects, the kernel's socket code) comes between them and an order.
    if (this.real !== null) {
      if (this.pending !== 0 && this.realLast) this.pending |= kPieceReal; else this.touchReal(this.real, q.symbol);
    }
    this.turns++;
    return 1;
  }

  /** The shadow route's turn: the next shadow (OUCH, FIX in turn) sends the dry-run order. */
  private runShadow(): void {
    const shadows = this.shadows;
    const i = this.shadowNext;
    this.shadowNext = i + 1 === shadows.length ? 0 : i + 1;
    shadows[i].run(this.request);
  }

  /** Split turns: one pending piece, the shadow route first. */
  private runPiece(): number {
    const real = (this.pending & kPieceReal) !== 0 ? this.real : null;
    if ((this.pending & kPieceShadow) !== 0) {
      this.pending &= ~kPieceShadow;
      this.runShadow();
      if (this.pending !== kPieceReal) return 1;
    } else {
      this.socket?.run();
    }
    this.pending = 0;
    if (real !== null) this.touchReal(real, this.request.symbol);
    return 1;
  }

  /**
   * Touches the real objects' lines the next order will write: loads, and stores back of the values
   * just read where nothing else reads them (ownLines: the journal ring's next slot; ownNext: the
   * order table's next slots and key entries). See the file comment.
   */
  private touchReal(r: NonNullable<OrderPathWarmer['real']>, symbol: string): void {
    let sum = r.om.touchNextFree();
    // The real order table's next slots and key-table entries, stored back as read (warmNextOrder).
    if (this.ownNext && r.router !== undefined) { sum += r.router.warmNextOrder(symbol); this.nextWarms++; }
    // The journal's next ring slot and written position are stored back as read (warmNextSlot: the
    // lines move to this CPU's cache before the order's stores need them); without a ring, read only.
    if (r.journal !== undefined) sum += (this.ownLines ? r.journal.warmNextSlot() : 0) + r.journal.touchNextSlot();
    if (r.risk !== undefined) sum += r.risk.touchSymbol(symbol);
    if (r.sor !== undefined) sum += r.sor.touchRoute(symbol);
    const cs = r.connectors;
    for (let i = 0; i < cs.length; i++) sum += cs[i].touchSendPath!();
    // The real sessions' send paths after the encode, with zero bytes (nothing sent: warmSendPath).
    if (this.warmSend) {
      for (let i = 0; i < cs.length; i++) { const w = cs[i].warmSendPath; if (w !== undefined) this.sendWarms += w.call(cs[i]); }
    }
    // Kept, and bounded (a growing double would stop being a small integer).
    this.touchSum = (this.touchSum + sum) % 65521;
    this.realTouches++;
  }

  /** Before the first order: any symbol the BBO table has with both sides (rare: allocates). */
  private pickSymbol(): boolean {
    const e = this.bbo.entries?.().find((x) => x.bid > 0 && x.ask > 0);
    if (!e) return false;
    const q = this.request;
    q.symbol = e.symbol; q.side = 'B'; q.price = e.ask;
    return true;
  }

  private rotateJournal(): OrderJournal {
    this.closeJournal();
    this.fixTimeMs = Date.now();
    const pinned = safeAffinity();
    const widen = this.cpus.length > 0 && pinned.join() !== this.cpus.join();
    if (widen) setCurrentThreadAffinity(this.cpus);
    try {
      const j = OrderJournal.open(this.journalPath, { fsync: 'never', capacityRecords: this.scratchRecords, growRecords: this.scratchRecords, prefaultBytes: 0 });
      // Its name goes at once (the mapping keeps the pages): a killed process leaves no file behind.
      fs.rmSync(this.journalPath, { force: true });
      this.journal = j;
      for (const sh of this.shadows) sh.useJournal(j);
      return j;
    } finally {
      if (widen) setCurrentThreadAffinity(pinned);
    }
  }

  private closeJournal(): void {
    if (this.journal !== null) { this.journal.close(); this.journal = null; }
    fs.rmSync(this.journalPath, { force: true });
  }

  /** The scratch journal's path (tests check it is gone after close). */
  get scratchPath(): string { return this.journalPath; }

  close(): void {
    for (const sh of this.shadows) sh.close();
    this.socket?.close();
    this.closeJournal();
  }
}
