/**
 * The router stage: the order router with its venue sessions (lib/router/router-stack.ts), taking orders from
 * the fused strategy (`orders`) or from the strategy -> router ring, and sending order events back
 * to the fused strategy or into the router -> strategy ring. Records order latency (send to ack,
 * send to fill, market data to order).
 *
 * Venue sessions: on the native transport (the default) doWork() polls each connector, at most
 * every performance.stages.router.venue_poll_us (a poll is a recv(2) per session: not every turn),
 * so acks and fills are read by this worker's loop, not by its event loop; on the libuv
 * transport they still arrive on the event loop, which is why a worker with the router runs
 * shorter slices between trips through the loop (stage-worker.ts).
 *
 * Parked (idle yield/backoff), the worker sleeps in epoll on the venue sockets (`park`, a
 * NativeWaitSet every native session joins) for the park's time instead of a futex sleep: an ack
 * that arrives while the stage is parked ends the park at once and is polled on the next turn
 * (counted in venue_wakeups), where it used to wait out the park (up to max_park_us, plus the
 * timer slack, 1 us here instead of the default 50 us). Ring input still waits at most the park,
 * as before: nobody signals a park, so epoll's timeout plays the futex's part.
 *
 * Nothing is allocated per order here: the router reports by parent slot (OrderSlotListener), a
 * send time is kept per parent slot in a Float64Array, and an order event for the ring is written
 * with the id's bytes straight from the slot. The id becomes a string only for a fused Strategy's
 * onOrderEvent (the Strategy API speaks strings) and on reject paths.
 *
 * Hot standby (routing.failover, lib/router/failover.ts): a primary's stage ships its journal to
 * the standby from inside each append and heartbeats from doWork(), and holds orders after a stall
 * of its own until the standby confirms it did not take over. Started with `standby`, the stage
 * builds no router: it appends the primary's records to its journal and refuses the strategy's
 * orders ('STANDBY ...'); when doWork() sees the heartbeats stopped it takes over: the restart
 * path (createRouterStack on the streamed journal with `takeover`, so FIX sessions are rebuilt
 * from the journaled numbers; then connect(): logins from the journaled sequence, replay, resends
 * or status requests), an EPOCH record one above the primary's, and from then on it routes.
 *
 * Threading contract: built, run and closed on the router's worker.
 */
import { SpscRing } from '../../common/spsc-ring';
import { LatencyRecorder } from '../../common/latency-recorder';
import type { Logger } from '../../common/logger';
import { loadRoutingConfig } from '../../router/routing-config';
import type { OrderRouter } from '../../router/order-router';
import type { OrderRequest, OrderSlotListener, RejectReason, RouterListener } from '../../router/types';
import { kLogOrderRejected, kLogVenueReject, rejectReasonIndex } from '../log-events';
import { createRouterStack, type RouterStack } from '../../router/router-stack';
import { JournalShipper, StandbyReceiver } from '../../router/failover';
import { OrderJournal } from '../../router/journal';
import type { VenueConnector } from '../../router/venue';
import { TickpathError } from '../../errors';
import * as fs from 'fs';
import * as path from 'path';
import { OrderEventListener, OrderRecordReader, OrderSink, RouterEventWriter } from '../stage-rings';
import type { OrderEventKind } from '../strategy';
import type { Stage, StageContext } from './stage';
import { connectedNativeTransports, nativeTcpBinding } from '../../protocols/transport/native-tcp-transport';
import { NativeWaitSet } from '../../protocols/transport/tcp-server';
import { OrderPathProbe, OrderPathRecorders, OrderPathWarmer } from './order-path';
import { SocketPathWarmer } from './socket-warmer';
import { OrderStepProbe } from './order-path-steps';
import { TxStampTracker, type TxStampRecorders } from './tx-stamps';

export interface RouterStage extends Stage {
  /** Where a fused strategy sends its orders. */
  readonly orders: OrderSink;
  /** The worker's park while idle (a Parker): sleeps on the venue sockets; undefined without the native transport or when spinning. */
  readonly park?: (micros: number) => void;
  /** The worker's quiet wait between slices: the venue sockets and the worker's event loop, at most maxUs. */
  readonly waitQuiet?: (maxUs: number) => void;
}

/**
 * Where order events go, by parent slot: the ring (bytes), a fused strategy (strings), or nowhere.
 * `parentSlot` -1: a new order refused before it had a slot (router.clOrdIdOf(-1) names it);
 * -2: a cancel/replace refused by id, named by `requestId`.
 */
export type OrderSlotEmitter = (kind: OrderEventKind, parentSlot: number, qty: number, price: number, detail: string,
  requestId: string) => void;

/** The id of an emitted event as a string (for the string APIs at the edges). */
export function eventClOrdId(router: OrderRouter, parentSlot: number, requestId: string): string {
  return parentSlot === -2 ? requestId : router.clOrdIdOf(parentSlot);
}

/** What the stage's order handlers record into; StageContext provides it. */
export interface RouterStageMetrics {
  readonly c: Float64Array;
  readonly K: Readonly<Record<'orders_accepted' | 'orders_rejected' | 'orders_acked' | 'orders_partially_filled' |
    'orders_filled' | 'orders_cancelled' | 'venue_rejects' | 'orders_sent', number>>;
  readonly clock: { nowNs(): number };
  readonly latency: Readonly<Record<'order_ack' | 'order_fill' | 'md_to_order', Pick<LatencyRecorder, 'record'>>> &
    { readonly order_send?: Pick<LatencyRecorder, 'record'> } & OrderPathRecorders & TxStampRecorders;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}

/** Counters, recorders and a logger of their own for the keep-warm's shadow order handlers. */
function shadowMetrics(m: RouterStageMetrics): RouterStageMetrics {
  const rec = (name: string): LatencyRecorder => new LatencyRecorder({ name, highestTrackableNs: 1_000_000_000 });
  return {
    c: new Float64Array(m.c.length), K: m.K, clock: m.clock, logger: { info: () => false, warn: () => false },
    latency: {
      order_ack: rec('order_ack'), order_fill: rec('order_fill'), md_to_order: rec('md_to_order'), order_send: rec('order_send'),
      order_risk: rec('order_risk'), order_journal: rec('order_journal'), order_encode: rec('order_encode'), order_syscall: rec('order_syscall'),
      md_to_send_call: rec('md_to_send_call'), dec_to_send_call: rec('dec_to_send_call'),
    },
  };
}

/**
 * The stage's order path around a router: the OrderSlotListener it installs and the OrderSink
 * strategies send into. Exported so tests and benchmarks run exactly this code.
 */
export function attachOrderHandlers(router: OrderRouter, m: RouterStageMetrics, emitNow: OrderSlotEmitter,
  path?: { probe?: OrderPathProbe; warmer?: OrderPathWarmer; origin?: { readonly decodeTsNs?: number }; txStamps?: TxStampTracker }): OrderSink {
  const probe = path?.probe, warmer = path?.warmer, origin = path?.origin, txStamps = path?.txStamps;
  const c = m.c, K = m.K, clock = m.clock, latency = m.latency, logger = m.logger, orderSend = m.latency.order_send;
  // Send time per parent slot (0: none). A slot is reused only after its order ended.
  const sendTimes = new Float64Array(router.orderCapacity);
  // Orders sent and live with no answer yet from their venue (ack, fill, cancel or reject), by parent
  // slot: a stopping worker keeps polling while there are any (stage-worker.ts), so the final stats
  // count the ack of an order sent in the last turns before the stop.
  const unanswered = new Uint8Array(router.orderCapacity);
  let awaiting = 0;
  const answered = (p: number): void => { if (p >= 0 && unanswered[p] === 1) { unanswered[p] = 0; awaiting--; } };
  // The router reports an order accepted before it writes it to the venue; telling the strategy
  // then (an id string, the strategy's own code) would sit between the market data and the wire.
  // So 'accepted' waits until submitOrder has returned, and any other event flushes it first: the
  // strategy sees the same events in the same order, the order just leaves sooner.
  let submitting = false, pendingAccepted = -1;
  const flushAccepted = (): void => {
    if (pendingAccepted === -1) return;
    const p = pendingAccepted;
    pendingAccepted = -1;
    emitNow('accepted', p, 0, 0, '', '');
  };
  const emit: OrderSlotEmitter = (kind, p, q, px, detail, requestId) => {
    flushAccepted();
    emitNow(kind, p, q, px, detail, requestId);
  };
  const listener: OrderSlotListener = {
    onAccepted(p) {
      c[K.orders_accepted]++;
      if (submitting) { flushAccepted(); pendingAccepted = p; } else emit('accepted', p, 0, 0, '', '');
    },
    onRejected(p, reason: RejectReason, detail) {
      c[K.orders_rejected]++;
      logger.info(kLogOrderRejected, rejectReasonIndex(reason));
      answered(p);
      if (p >= 0) sendTimes[p] = 0;
      emit('rejected', p, 0, 0, `${reason} ${detail}`, '');
    },
    onAcked(p) {
      c[K.orders_acked]++;
      answered(p);
      const t = sendTimes[p];
      if (t !== 0) latency.order_ack.record(clock.nowNs() - t);
      emit('acked', p, 0, 0, '', '');
    },
    onPartiallyFilled(p, q, px) { c[K.orders_partially_filled]++; answered(p); emit('partially_filled', p, q, px, '', ''); },
    onFilled(p, q, px) {
      c[K.orders_filled]++;
      answered(p);
      const t = sendTimes[p];
      if (t !== 0) { latency.order_fill.record(clock.nowNs() - t); sendTimes[p] = 0; }
      emit('filled', p, q, px, '', '');
    },
    onCancelled(p, q, reason) { c[K.orders_cancelled]++; answered(p); sendTimes[p] = 0; emit('cancelled', p, q, 0, reason, ''); },
    onReplaced(p, q, px) { emit('replaced', p, q, px, '', ''); },
    onVenueReject(p, venue, reason) {
      c[K.venue_rejects]++;
      logger.warn(kLogVenueReject, c[K.venue_rejects]);
      emit('venue_reject', p, 0, 0, `${venue} ${reason}`, '');
    },
    onRequestRejected(id, reason, detail) {
      c[K.orders_rejected]++;
      logger.info(kLogOrderRejected, rejectReasonIndex(reason));
      // A cancel/replace refused by id: the id is the caller's string, not a slot.
      emit('rejected', -2, 0, 0, `${reason} ${detail}`, id);
    },
  };
  router.setOrderListener(listener);
  return {
    sendOrder(r: OrderRequest, mdRxTsNs: number): void {
      const t0 = probe !== undefined ? probe.begin() : orderSend !== undefined ? clock.nowNs() : 0;
      let p: number, now: number, out = 0;
      submitting = true;
      try {
        p = router.submitOrder(r);
        now = clock.nowNs();
      } finally {
        submitting = false;
        if (probe !== undefined) out = probe.end(latency);
      }
      const live = p >= 0 && router.isLiveOrder(p);
      // "Order out": the first child's send(2) returned (order-path.ts); without a send(2) stamp
      // (libuv transport, no probe), submitOrder returned with the order live.
      if (out === 0 && live) out = now;
      if (orderSend !== undefined && out !== 0) orderSend.record(out - t0);
      // An order that already ended inside submitOrder (every child refused) has no slot to time.
      if (live) {
        sendTimes[p] = now;
        if (unanswered[p] === 0) { unanswered[p] = 1; awaiting++; }
      }
      c[K.orders_sent]++;
      // Its kernel TX stamp is read later (tx-stamps.ts): here only which send(2) to look for.
      if (txStamps !== undefined && live) {
        const src = probe !== undefined ? probe.stampSource : null;
        if (src !== null) txStamps.add(src, probe!.sendSeq, mdRxTsNs, probe!.sendCallNs, out);
        else txStamps.noteOff();
      }
      if (mdRxTsNs > 0 && out !== 0) {
        latency.md_to_order.record(out - mdRxTsNs);
        // The same order up to its bytes handed to send(2): our part, without the kernel's.
        const call = probe !== undefined ? probe.sendCallNs : 0;
        if (call !== 0) {
          latency.md_to_send_call?.record(call - mdRxTsNs);
          // From the order's packet's decoder entry (the decoder on this worker): without the wait.
          const dec = origin !== undefined ? origin.decodeTsNs ?? 0 : 0;
          if (dec >= mdRxTsNs && dec > 0 && dec <= call) latency.dec_to_send_call?.record(call - dec);
        }
      }
      if (warmer !== undefined) warmer.noteOrder(r);
      flushAccepted();
    },
    cancelOrder(id: string): void { router.cancelOrder(id); },
    flush(): void {},
    awaitingAnswer: () => awaiting,
  };
}

/** `strategy`: the fused strategy's order-event input; without it, events go to the router -> strategy ring. */
export function buildRouterStage(ctx: StageContext, strategy: OrderEventListener | undefined): RouterStage {
  const d = ctx.data;
  if (!d.routing) throw new Error('router stage without routing config');
  const routing = d.routing;
  const ring = !strategy && d.rings.routerToStrategy ? new RouterEventWriter(SpscRing.attach(d.rings.routerToStrategy)) : undefined;
  // createRouterStack wants a RouterListener; the stage replaces it with slot calls right after.
  const unused: RouterListener = {
    onAccepted() {}, onRejected() {}, onAcked() {}, onPartiallyFilled() {}, onFilled() {}, onCancelled() {},
    onReplaced() {}, onVenueReject() {}, onRequestRejected() {},
  };
  // A worker that parks sleeps on its venue sockets (every native session's socket joins the set
  // when it opens, reconnects included); a spinning one never parks, so it has no set.
  const nb = d.idle.strategy !== 'spin' ? nativeTcpBinding() : undefined;
  const waitSet = nb ? new NativeWaitSet(nb) : undefined;
  const cfg = loadRoutingConfig(routing.configFile);
  if (routing.standby && !cfg.failover) {
    throw new TickpathError('ERR_CONFIG_FAILOVER', `tickpath run --standby: ${routing.configFile} has no routing.failover section`,
      'add routing.failover { standby: HOST:PORT, heartbeat_timeout_ms } (the same file the primary runs)');
  }
  const makeStack = (log: (line: string) => void = ctx.log, takeover = false): RouterStack => createRouterStack(cfg,
    { bbo: ctx.bbo, listener: unused, portOverrides: routing.portOverrides, journalPath: routing.journalPath, fixStoreDir: routing.fixStoreDir, log, takeover,
      connector: waitSet ? { waitSet } : undefined });
  // The standby builds its router only when it takes over (the restart path on the replicated
  // journal); until then it keeps the feed, books and strategy running and routes nothing.
  let stack: RouterStack | null = routing.standby ? null : makeStack();
  let router: OrderRouter | null = stack ? stack.router : null;
  // Venue sessions are polled from this loop (a native transport reads its socket here; heartbeats,
  // timeouts and reconnects run on this clock), once per turn before the order work.
  let connectors: readonly VenueConnector[] = stack ? stack.connectors : [];
  const pollVenues = (): number => {
    const now = Date.now();
    let n = 0;
    for (let i = 0; i < connectors.length; i++) n += connectors[i].poll?.(now) ?? 0;
    return n;
  };
  const emit: OrderSlotEmitter = strategy
    ? (k, p, q, px, detail, id) => strategy(k, eventClOrdId(router!, p, id), q, px, detail)
    : ring
      ? (k, p, q, px, detail, id) => (p >= 0 ? ring.writeSlot(k, router!, p, q, px, detail) : ring.write(k, eventClOrdId(router!, p, id), q, px, detail))
      : () => {};
  // What strategies send into: the router's order path once this instance routes; before (standby)
  // every order is refused at once with a reject naming why, so a strategy never waits on it.
  const c = ctx.c, K = ctx.K;
  const refuseAll: OrderSink = {
    sendOrder(r: OrderRequest): void {
      c[K.orders_sent]++;
      c[K.standby_orders_refused]++;
      emit('rejected', -2, 0, 0, 'STANDBY this instance is the hot standby and does not route until it takes over', r.clOrdId ?? '');
    },
    cancelOrder(id: string): void { emit('rejected', -2, 0, 0, 'STANDBY this instance is the hot standby', id); },
    flush(): void {},
  };
  // The order path's split (probe) and its keep-warm dry runs (warmer), on the live stack's objects.
  const keepWarmNs = d.keepWarmUs * 1000;
  let warmer: OrderPathWarmer | undefined;
  const orderPath = (s: RouterStack): { probe: OrderPathProbe; warmer?: OrderPathWarmer } => {
    warmer?.close();
    // keep_warm_path_us: one dry run in `shadowEvery` also goes through the shadow route.
    const shadowEvery = keepWarmNs > 0 && (d.keepWarmPathUs ?? 0) > 0 ? Math.max(1, Math.round(d.keepWarmPathUs! / d.keepWarmUs)) : 0;
    // keep_warm_socket_us: one dry run in `socketEvery` also sends over a private loopback connection
    // (socket-warmer.ts), where the addon has native TCP channels (the venue sessions' transport).
    const socketEvery = keepWarmNs > 0 && (d.keepWarmSocketUs ?? 0) > 0 ? Math.max(1, Math.round(d.keepWarmSocketUs! / d.keepWarmUs)) : 0;
    const tcp = socketEvery > 0 ? nativeTcpBinding() : undefined;
    const socket = tcp ? new SocketPathWarmer(tcp) : undefined;
    // Split turns: the shadow route and the loopback send(2) each on a keep-warm turn of their own
    // (order-path.ts), so a packet never waits behind a whole dry run.
    warmer = keepWarmNs > 0 ? new OrderPathWarmer(s, cfg.risk, ctx.bbo, undefined, { shadowRoute: shadowEvery > 0, shadowEvery, socket, socketEvery, splitTurns: true }) : undefined;
    // The dry runs through this stage's own order handlers and a probe of their own (shadow-route.ts):
    // shadow counters, recorders and logger, so nothing the run reports moves.
    // One shadow per protocol the venues speak (OUCH, FIX), each with its own.
    for (const shadow of warmer?.shadows ?? []) {
      const probe = new OrderPathProbe(shadow.probeTargets(), ctx.clock);
      const m = shadowMetrics(ctx);
      shadow.useSink((r) => attachOrderHandlers(r, m, () => {}, { probe }));
    }
    const probeMain = new OrderPathProbe(s, ctx.clock, nativeTcpBinding());
    // TICKPATH_ORDER_STEPS=1 (diagnosis only): the same fine stamps on the real order and the dry
    // runs, printed side by side (order-path-steps.ts). Off: nothing is wrapped.
    if (process.env.TICKPATH_ORDER_STEPS === '1') {
      new OrderStepProbe('real', s.router, ctx.clock, nativeTcpBinding());
      for (const sh of warmer?.shadows ?? []) new OrderStepProbe('dry', sh.orderRouter, ctx.clock, undefined, sh.transport);
    }
    return { probe: probeMain, warmer };
  };
  // The packet behind an order, where the decoder is on this worker (dec_to_send_call).
  const origin = ctx.has('decoder') ? ctx.origin : undefined;
  // Each order's kernel TX stamp, read after the venue polls (order_wire, md_to_wire).
  const txStamps = new TxStampTracker();
  const kTxStamps = ctx.K.tx_stamps, kTxStampsOff = ctx.K.tx_stamps_off, kTxStampsMissing = ctx.K.tx_stamps_missing;
  const collectTxStamps = (): void => {
    if (txStamps.pending !== 0) txStamps.collect(clock.nowNs(), ctx.latency);
    c[kTxStamps] = txStamps.stamped; c[kTxStampsOff] = txStamps.off; c[kTxStampsMissing] = txStamps.missing;
  };
  const countSessions = (conns: readonly VenueConnector[]): void => {
    for (const conn of conns) {
      if (conn.transport === 'native') c[K.venue_sessions_native]++;
      else c[K.venue_sessions_libuv]++;
    }
    // Stamps asked for and refused by the kernel: say so once, with the errno.
    let stamped = 0;
    for (const t of connectedNativeTransports()) {
      if (!t.txStampsAsked) continue;
      if (t.txStampState === 1) stamped++;
      else if (t.txStampState < 0) ctx.log(`venue session: kernel TX timestamps refused (errno ${-t.txStampState}): order_wire/md_to_wire not recorded, counted in tx_stamps_off (fix: a kernel with SO_TIMESTAMPING, or tx_timestamps: false)`);
    }
    c[K.venue_sessions_tx_stamped] = stamped;
  };
  let live: OrderSink = router ? attachOrderHandlers(router, ctx, emit, { ...orderPath(stack!), origin, txStamps }) : refuseAll;
  let onFirstRouted: (() => void) | null = null;
  const orders: OrderSink = {
    sendOrder(r: OrderRequest, mdRxTsNs: number): void {
      // A primary that stalled may have been replaced: no order until its standby says it was not.
      if (shipper !== null && checkLease(Date.now())) {
        c[K.orders_sent]++;
        c[K.orders_rejected]++;
        emit('rejected', -2, 0, 0, 'HELD this primary stalled past half the failover timeout; waiting for its standby to confirm it still routes', r.clOrdId ?? '');
        return;
      }
      live.sendOrder(r, mdRxTsNs);
      if (onFirstRouted !== null && live !== refuseAll) { onFirstRouted(); onFirstRouted = null; }
    },
    cancelOrder(id: string): void {
      // Its answer is awaited too: the venues are polled at venue_poll_us for a while (below).
      if (venueIdlePollNs !== venuePollNs) cancelledAtNs[0] = ctx.clock.nowNs();
      live.cancelOrder(id);
    },
    flush(): void { live.flush(); },
    awaitingAnswer: () => live.awaitingAnswer?.() ?? 0,
  };
  // Venue sessions are polled at most every venuePollUs, not every turn: a poll is a recv(2) per
  // session, and a spinning loop that polls every turn spends ~40 % of its CPU in them while a
  // packet arriving meanwhile waits (measured: the fused worker's kernel share 42 % -> 5 % at 10 us).
  // The clock is read every kTurnsPerClockRead turns, not every turn: on Node 20 each read returns a
  // fresh 16-byte HeapNumber, and at millions of empty turns a second that garbage makes scavenges
  // frequent enough to promote short-lived objects into old space. The last poll time lives in a
  // Float64Array for the same reason (a closure variable would box every store).
  const clock = ctx.clock, kVenuePolls = ctx.K.venue_polls, kVenueWakeups = ctx.K.venue_wakeups, kKeepWarmTurns = ctx.K.keep_warm_turns,
    kKeepWarmSocketTurns = ctx.K.keep_warm_socket_turns, kShadowOuchRuns = ctx.K.keep_warm_shadow_ouch_runs,
    kShadowFixRuns = ctx.K.keep_warm_shadow_fix_runs, kSendWarms = ctx.K.keep_warm_send_warms;
  const venuePollNs = d.venuePollUs * 1000;
  // Between orders (none awaits its venue's answer, no cancel in the last kCancelAnswerNs) the
  // venues are polled every venue_idle_poll_us: each poll's recv(2)s run kernel code on this core
  // and leave the order path colder for the next order (performance-config.ts).
  const venueIdlePollNs = (d.venueIdlePollUs ?? d.venuePollUs) * 1000;
  const kCancelAnswerNs = 2_000_000;
  const cancelledAtNs = new Float64Array(1).fill(-Infinity);
  const lastVenuePollNs = new Float64Array(1);
  // [0]: the last dry run or order (keep-warm waits keepWarmNs of quiet after either).
  const lastWarmNs = new Float64Array(1);
  const kTurnsPerClockRead = 8;
  let turnsSinceClock = 0;
  // Set when a park was ended by a venue socket: the next turn polls the venues whatever the time.
  let pollNow = 0;
  const park = waitSet
    ? (micros: number): void => { if (waitSet.wait(micros, false) & 1) { c[kVenueWakeups]++; pollNow = 1; } }
    : undefined;
  const waitQuiet = waitSet
    ? (maxUs: number): void => { if (waitSet.wait(maxUs, true) & 1) { c[kVenueWakeups]++; pollNow = 1; } }
    : undefined;

  // Without the strategy on this worker, orders come through the ring.
  const reader = ctx.has('strategy') ? undefined : new OrderRecordReader(SpscRing.attach(d.rings.strategyToRouter!), orders, d.bursts.router);

  // ---- failover
  const fo = cfg.failover;
  let shipper: JournalShipper | null = null;
  let receiver: StandbyReceiver | null = null;
  if (fo && stack) {
    // Primary: its term is in the journal (1 for a journal that never took part in a failover).
    const epoch = Math.max(1, stack.journal.recovered.epoch);
    if (stack.journal.recovered.epoch === 0) stack.journal.appendEpoch(epoch);
    shipper = new JournalShipper(fo, stack.journal, epoch, ctx.log);
  } else if (fo && routing.standby) {
    const journalPath = routing.journalPath ?? cfg.journal.path;
    fs.mkdirSync(path.dirname(journalPath), { recursive: true });
    const journal = OrderJournal.open(journalPath, { fsync: cfg.journal.fsync, groupCommitUs: cfg.journal.groupCommitUs, ringRecords: cfg.journal.ringRecords });
    receiver = new StandbyReceiver(routing.standby.host, routing.standby.port, journal, ctx.log);
  }
  let takingOver = false;
  let recordsAtLastPublish = 0;
  const takeOver = (detectedMs: number): void => {
    const rcv = receiver!;
    takingOver = true;
    const lastBeatMs = rcv.lastBeatMs;
    const replicated = rcv.stats().records;
    rcv.releaseJournal();
    // The restart path on the replicated journal: open orders, positions, venue sequences. Its
    // log tells when the last venue session is logged in (before the replay and the resends).
    let loggedIn = 0;
    let allLoggedInMs = 0;
    const s = makeStack((line) => {
      if (/^venue .*: logged in( to session .*)?$/.test(line) && ++loggedIn === cfg.venues.length) allLoggedInMs = Date.now();
      ctx.log(line);
    }, true);
    const epoch = Math.max(s.journal.recovered.epoch, rcv.primaryEpoch) + 1;
    s.journal.appendEpoch(epoch);
    const recordsAtTakeover = s.journal.lastRecordNo;
    rcv.promote(epoch);
    stack = s;
    router = s.router;
    connectors = s.connectors;
    const handlers = attachOrderHandlers(s.router, ctx, emit, { ...orderPath(s), origin, txStamps });
    ctx.log(`failover: no heartbeat from the primary for ${detectedMs - lastBeatMs} ms (timeout ${fo!.heartbeatTimeoutMs} ms): taking over ` +
      `under epoch ${epoch} with ${s.journal.lastRecordNo} journal record(s) (${replicated} streamed), ${s.restoredOrders} open order(s) restored`);
    s.connect().then(() => {
      const routingMs = Date.now();
      const r = s.resumed;
      live = handlers;
      countSessions(s.connectors);
      c[K.failover_takeovers]++;
      c[K.failover_takeover_ms] = routingMs - detectedMs;
      // logged in: every venue session up; routing: the venue's replay is in and the orders in
      // flight were sent again (the restart path), so the strategy's orders go out from here.
      const report = {
        epoch, last_heartbeat_to_detect_ms: detectedMs - lastBeatMs, detect_to_logged_in_ms: (allLoggedInMs || routingMs) - detectedMs,
        detect_to_routing_ms: routingMs - detectedMs,
        records: recordsAtTakeover, records_streamed: replicated, open_orders_restored: s.restoredOrders,
        in_flight: r?.inFlightAtCrash ?? 0, resent: r?.resent ?? 0, status_requests: r?.statusRequests ?? 0,
        to_reconcile: r?.toReconcile.length ?? 0, venues: s.connectors.map((v) => v.name),
      };
      ctx.log(`failover: took over ${JSON.stringify(report)}`);
      onFirstRouted = () => ctx.log(`failover: first order routed ${Date.now() - detectedMs} ms after the heartbeat loss was detected ` +
        `(${Date.now() - lastBeatMs} ms after the last heartbeat)`);
    }, (e: Error) => {
      // A standby that cannot log in must not pretend to route: the pipeline fails and says why.
      ctx.post({ type: 'fatal', index: d.index, message: `failover: the takeover failed: ${e.message}`, code: (e as { code?: string }).code });
    });
  };

  // The lease (JournalShipper.holdOrders): after a stall of its own this primary leaves its venue
  // sessions at once (no poll, no reconnect: a reconnect would log in over the new primary's
  // session) and holds orders; confirmed still primary, it logs in again from the next sequence
  // (the restart path's login and replay) and routes; replaced, it is fenced.
  let venuesPaused = false;
  const checkLease = (now: number): boolean => {
    const hold = shipper!.holdOrders(now);
    if (hold && !venuesPaused && stack !== null) {
      venuesPaused = true;
      const paused = connectors;
      connectors = [];
      void Promise.all(paused.map((v) => v.close().catch(() => undefined)));
      ctx.log('failover: left the venue sessions while this primary may have been replaced');
      const s = stack;
      const waitConfirmed = (): void => {
        if (shipper === null || stack !== s) return;   // fenced meanwhile
        if (shipper.holdOrders(Date.now())) { setTimeout(waitConfirmed, 1); return; }
        Promise.all(paused.map((v) => v.connect())).then(() => {
          if (stack !== s) return;
          connectors = paused;
          venuesPaused = false;
          ctx.log('failover: still the primary: venue sessions logged in again, routing');
        }, (e: Error) => ctx.post({ type: 'fatal', index: d.index, message: `failover: logging in again after a stall failed: ${e.message}`,
          code: (e as { code?: string }).code }));
      };
      setTimeout(waitConfirmed, 1);
    }
    return hold || venuesPaused;
  };

  // Replaced while running (this primary stalled past the timeout and the standby took over):
  // stop routing at once, leave the venues, and fail the pipeline with ERR_FENCED.
  const fence = (e: TickpathError): void => {
    shipper = null;
    live = {
      sendOrder(r: OrderRequest): void { c[K.orders_sent]++; emit('rejected', -2, 0, 0, `FENCED ${e.message}`, r.clOrdId ?? ''); },
      cancelOrder(id: string): void { emit('rejected', -2, 0, 0, `FENCED ${e.message}`, id); },
      flush(): void {},
    };
    const s = stack;
    stack = null;
    router = null;
    connectors = [];
    ctx.log(`${e.message}; stopped routing and leaving the venues`);
    void s?.close().catch(() => undefined);
    ctx.post({ type: 'fatal', index: d.index, message: e.message, code: e.code });
  };

  // Failover work, on the venue-poll cadence (heartbeats are tens of ms apart; the clock is not
  // read every turn): the primary's lease, stream and heartbeat, or the standby's takeover check.
  const failoverTurn = (): number => {
    if (shipper === null && receiver === null) return 0;
    const now = Date.now();
    if (shipper !== null) {
      checkLease(now);
      try { return shipper.poll(now); } catch (e) { fence(e as TickpathError); return 0; }
    }
    if (receiver !== null && !takingOver && receiver.heartbeatLost(now, fo!.heartbeatTimeoutMs)) takeOver(now);
    return 0;
  };

  return {
    roleName: 'router',
    orders,
    park,
    waitQuiet,
    // Slice end: the router journals each venue session's latest sequence (restart replays from it).
    doWork: () => {
      let n = 0;
      if (venuePollNs === 0 || pollNow !== 0) {
        pollNow = 0;
        n += failoverTurn();
        c[kVenuePolls]++;
        n += pollVenues();
        collectTxStamps();
      } else if (++turnsSinceClock >= kTurnsPerClockRead) {
        turnsSinceClock = 0;
        const now = clock.nowNs();
        const pollNs = venueIdlePollNs === venuePollNs || orders.awaitingAnswer!() > 0 || now - cancelledAtNs[0] < kCancelAnswerNs
          ? venuePollNs : venueIdlePollNs;
        if (now - lastVenuePollNs[0] >= pollNs) {
          lastVenuePollNs[0] = now;
          // Failover first: a primary that finds it stalled leaves its venues before polling them.
          n += failoverTurn();
          c[kVenuePolls]++;
          n += pollVenues();
          collectTxStamps();
        }
        // Keep the order path warm while no order goes out: at most one dry run per keepWarmNs
        // (about 1 us of work), only on a turn that found nothing else to do; its shadow route and
        // loopback send(2), when due, each on one of the next such turns (split turns), so that
        // the decoder looks for a packet between the pieces.
        if (warmer !== undefined && n === 0) {
          if (warmer.ordered) { warmer.ordered = false; lastWarmNs[0] = now; } else if (warmer.piecesPending || now - lastWarmNs[0] >= keepWarmNs) {
            lastWarmNs[0] = now;
            warmer.run();
            c[kKeepWarmTurns] = warmer.turns;
            if (warmer.socket !== null) c[kKeepWarmSocketTurns] = warmer.socket.turns;
            if (warmer.shadows.length !== 0) { c[kShadowOuchRuns] = warmer.shadowRuns('ouch'); c[kShadowFixRuns] = warmer.shadowRuns('fix'); }
            c[kSendWarms] = warmer.sendWarms;
          }
        }
      }
      if (reader !== undefined) n += reader.doWork();
      router?.endOfBatch();
      return n;
    },
    // Stopping: a stamp still due is read now (before the last latency post); one that never came
    // counts as missing.
    onDrained: () => {
      if (txStamps.pending !== 0) { pollVenues(); txStamps.collect(clock.nowNs(), ctx.latency); }
      txStamps.finish();
      c[kTxStamps] = txStamps.stamped; c[kTxStampsOff] = txStamps.off; c[kTxStampsMissing] = txStamps.missing;
    },
    publishCounters: () => {
      if (receiver === null) return;
      const rec = receiver.stats().records;
      if (rec !== recordsAtLastPublish) { recordsAtLastPublish = rec; c[K.standby_records] = rec; }
    },
    start: async () => {
      // A park's epoll timeout is stretched by the thread's timer slack (50 us by default): 1 us,
      // so a park sleeps about what it asks for, as the venue simulator's loop does.
      if (nb) {
        const prev = nb.threadTimerSlackNs(1000);
        if (prev < 0) ctx.log(`router stage: timer slack not set (errno ${-prev}); parks may oversleep by up to 50 us`);
      }
      if (receiver !== null) {
        await receiver.listen();
        ctx.log(`failover: standing by on ${routing.standby!.host}:${routing.standby!.port}: journal ${routing.journalPath ?? cfg.journal.path} ` +
          `receives the primary's records; takeover after ${fo!.heartbeatTimeoutMs} ms without a heartbeat`);
        return;
      }
      // Fencing first: a primary that was replaced must learn it before it logs in anywhere.
      if (shipper !== null) await shipper.start(Math.max(1000, 4 * fo!.heartbeatTimeoutMs));
      await stack!.connect();
      countSessions(connectors);
    },
    close: async () => {
      try {
        // A shadow that stopped (its dry run threw) keeps its venue's path cold from then on: say why.
        for (const sh of warmer?.shadows ?? []) {
          if (sh.failure !== '') ctx.log(`keep-warm: the shadow ${sh.protocol} venue stopped after ${sh.runs} dry runs: ${sh.failure}`);
        }
        warmer?.close();
        shipper?.close();
        if (receiver !== null) { await receiver.close(); if (stack === null) receiver.releaseJournal(); }
        if (stack !== null) await stack.close();
      } finally { waitSet?.close(); }
    },
  };
}
