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
 * Threading contract: built, run and closed on the router's worker.
 */
import { SpscRing } from '../../common/spsc-ring';
import type { LatencyRecorder } from '../../common/latency-recorder';
import type { Logger } from '../../common/logger';
import { loadRoutingConfig } from '../../router/routing-config';
import type { OrderRouter } from '../../router/order-router';
import type { OrderRequest, OrderSlotListener, RejectReason, RouterListener } from '../../router/types';
import { kLogOrderRejected, kLogVenueReject, rejectReasonIndex } from '../log-events';
import { createRouterStack } from '../../router/router-stack';
import { OrderEventListener, OrderRecordReader, OrderSink, RouterEventWriter } from '../stage-rings';
import type { OrderEventKind } from '../strategy';
import type { Stage, StageContext } from './stage';
import { nativeTcpBinding } from '../../protocols/transport/native-tcp-transport';
import { NativeWaitSet } from '../../protocols/transport/tcp-server';

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
    { readonly order_send?: Pick<LatencyRecorder, 'record'> };
  readonly logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The stage's order path around a router: the OrderSlotListener it installs and the OrderSink
 * strategies send into. Exported so tests and benchmarks run exactly this code.
 */
export function attachOrderHandlers(router: OrderRouter, m: RouterStageMetrics, emitNow: OrderSlotEmitter): OrderSink {
  const c = m.c, K = m.K, clock = m.clock, latency = m.latency, logger = m.logger, orderSend = m.latency.order_send;
  // Send time per parent slot (0: none). A slot is reused only after its order ended.
  const sendTimes = new Float64Array(router.orderCapacity);
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
      if (p >= 0) sendTimes[p] = 0;
      emit('rejected', p, 0, 0, `${reason} ${detail}`, '');
    },
    onAcked(p) {
      c[K.orders_acked]++;
      const t = sendTimes[p];
      if (t !== 0) latency.order_ack.record(clock.nowNs() - t);
      emit('acked', p, 0, 0, '', '');
    },
    onPartiallyFilled(p, q, px) { c[K.orders_partially_filled]++; emit('partially_filled', p, q, px, '', ''); },
    onFilled(p, q, px) {
      c[K.orders_filled]++;
      const t = sendTimes[p];
      if (t !== 0) { latency.order_fill.record(clock.nowNs() - t); sendTimes[p] = 0; }
      emit('filled', p, q, px, '', '');
    },
    onCancelled(p, q, reason) { c[K.orders_cancelled]++; sendTimes[p] = 0; emit('cancelled', p, q, 0, reason, ''); },
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
      const t0 = orderSend !== undefined ? clock.nowNs() : 0;
      let p: number, now: number;
      submitting = true;
      try {
        p = router.submitOrder(r);
        now = clock.nowNs();
      } finally {
        submitting = false;
      }
      if (orderSend !== undefined) orderSend.record(now - t0);
      // An order that already ended inside submitOrder (every child refused) has no slot to time.
      if (p >= 0 && router.isLiveOrder(p)) sendTimes[p] = now;
      c[K.orders_sent]++;
      if (mdRxTsNs > 0) latency.md_to_order.record(now - mdRxTsNs);
      flushAccepted();
    },
    cancelOrder(id: string): void { router.cancelOrder(id); },
    flush(): void {},
  };
}

/** `strategy`: the fused strategy's order-event input; without it, events go to the router -> strategy ring. */
export function buildRouterStage(ctx: StageContext, strategy: OrderEventListener | undefined): RouterStage {
  const d = ctx.data;
  if (!d.routing) throw new Error('router stage without routing config');
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
  const stack = createRouterStack(loadRoutingConfig(d.routing.configFile),
    { bbo: ctx.bbo, listener: unused, portOverrides: d.routing.portOverrides, journalPath: d.routing.journalPath, fixStoreDir: d.routing.fixStoreDir, log: ctx.log,
      connector: waitSet ? { waitSet } : undefined });
  const router = stack.router;
  // Venue sessions are polled from this loop (a native transport reads its socket here; heartbeats,
  // timeouts and reconnects run on this clock), once per turn before the order work.
  const connectors = stack.connectors;
  const pollVenues = (): number => {
    const now = Date.now();
    let n = 0;
    for (let i = 0; i < connectors.length; i++) n += connectors[i].poll?.(now) ?? 0;
    return n;
  };
  const emit: OrderSlotEmitter = strategy
    ? (k, p, q, px, detail, id) => strategy(k, eventClOrdId(router, p, id), q, px, detail)
    : ring
      ? (k, p, q, px, detail, id) => (p >= 0 ? ring.writeSlot(k, router, p, q, px, detail) : ring.write(k, eventClOrdId(router, p, id), q, px, detail))
      : () => {};
  const orders = attachOrderHandlers(router, ctx, emit);
  // Venue sessions are polled at most every venuePollUs, not every turn: a poll is a recv(2) per
  // session, and a spinning loop that polls every turn spends ~40 % of its CPU in them while a
  // packet arriving meanwhile waits (measured: the fused worker's kernel share 42 % -> 5 % at 10 us).
  // The clock is read every kTurnsPerClockRead turns, not every turn: on Node 20 each read returns a
  // fresh 16-byte HeapNumber, and at millions of empty turns a second that garbage makes scavenges
  // frequent enough to promote short-lived objects into old space. The last poll time lives in a
  // Float64Array for the same reason (a closure variable would box every store).
  const clock = ctx.clock, c = ctx.c, kVenuePolls = ctx.K.venue_polls, kVenueWakeups = ctx.K.venue_wakeups;
  const venuePollNs = d.venuePollUs * 1000;
  const lastVenuePollNs = new Float64Array(1);
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

  return {
    roleName: 'router',
    orders,
    park,
    waitQuiet,
    // Slice end: the router journals each venue session's latest sequence (restart replays from it).
    doWork: () => {
      let n = 0;
      if (venuePollNs === 0 || pollNow !== 0) { pollNow = 0; c[kVenuePolls]++; n += pollVenues(); } else if (++turnsSinceClock >= kTurnsPerClockRead) {
        turnsSinceClock = 0;
        const now = clock.nowNs();
        if (now - lastVenuePollNs[0] >= venuePollNs) { lastVenuePollNs[0] = now; c[kVenuePolls]++; n += pollVenues(); }
      }
      if (reader !== undefined) n += reader.doWork();
      router.endOfBatch();
      return n;
    },
    start: async () => {
      // A park's epoll timeout is stretched by the thread's timer slack (50 us by default): 1 us,
      // so a park sleeps about what it asks for, as the venue simulator's loop does.
      if (nb) {
        const prev = nb.threadTimerSlackNs(1000);
        if (prev < 0) ctx.log(`router stage: timer slack not set (errno ${-prev}); parks may oversleep by up to 50 us`);
      }
      await stack.connect();
      for (const conn of connectors) {
        if (conn.transport === 'native') ctx.c[ctx.K.venue_sessions_native]++;
        else ctx.c[ctx.K.venue_sessions_libuv]++;
      }
    },
    close: async () => { try { await stack.close(); } finally { waitSet?.close(); } },
  };
}
