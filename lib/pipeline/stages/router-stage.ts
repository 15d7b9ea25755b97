/**
 * The router stage: the order router with its venue sessions (lib/router/router-stack.ts), taking orders from
 * the fused strategy (`orders`) or from the strategy -> router ring, and sending order events back
 * to the fused strategy or into the router -> strategy ring. Records order latency (send to ack,
 * send to fill, market data to order).
 *
 * Venue sessions: on the native transport (the default) every doWork() polls each connector
 * first, so acks and fills are read by this worker's loop, not by its event loop; on the libuv
 * transport they still arrive on the event loop, which is why a worker with the router runs
 * shorter slices between trips through the loop (stage-worker.ts).
 *
 * Per order, a send time is kept in a Map keyed by the router's string order id: the router's API
 * (and its listener) speak string ids, so a typed slot table would need the router to hand out slot
 * numbers first. Orders are rare next to market data; the Map stays until then.
 *
 * Threading contract: built, run and closed on the router's worker.
 */
import { SpscRing } from '../../common/spsc-ring';
import { loadRoutingConfig } from '../../router/routing-config';
import type { OrderRequest, RejectReason, RouterListener } from '../../router/types';
import { kLogOrderRejected, kLogVenueReject, rejectReasonIndex } from '../log-events';
import { createRouterStack } from '../../router/router-stack';
import { OrderEventListener, OrderRecordReader, OrderSink, RouterEventWriter } from '../stage-rings';
import type { Stage, StageContext } from './stage';

export interface RouterStage extends Stage {
  /** Where a fused strategy sends its orders. */
  readonly orders: OrderSink;
}

/** `strategy`: the fused strategy's order-event input; without it, events go to the router -> strategy ring. */
export function buildRouterStage(ctx: StageContext, strategy: OrderEventListener | undefined): RouterStage {
  const d = ctx.data, c = ctx.c, K = ctx.K, clock = ctx.clock, latency = ctx.latency, logger = ctx.logger;
  if (!d.routing) throw new Error('router stage without routing config');
  const ring = !strategy && d.rings.routerToStrategy ? new RouterEventWriter(SpscRing.attach(d.rings.routerToStrategy)) : undefined;
  const emit: OrderEventListener = strategy ?? (ring ? (k, id, q, p, detail) => ring.write(k, id, q, p, detail) : () => {});
  const sendTimes = new Map<string, number>();
  const listener: RouterListener = {
    onAccepted(id) { c[K.orders_accepted]++; emit('accepted', id, 0, 0, ''); },
    onRejected(id, reason: RejectReason, detail) { c[K.orders_rejected]++; logger.info(kLogOrderRejected, rejectReasonIndex(reason)); sendTimes.delete(id); emit('rejected', id, 0, 0, `${reason} ${detail}`); },
    onAcked(id) {
      c[K.orders_acked]++;
      const t = sendTimes.get(id);
      if (t !== undefined) latency.order_ack.record(clock.nowNs() - t);
      emit('acked', id, 0, 0, '');
    },
    onPartiallyFilled(id, q, p) { c[K.orders_partially_filled]++; emit('partially_filled', id, q, p, ''); },
    onFilled(id, q, p) {
      c[K.orders_filled]++;
      const t = sendTimes.get(id);
      if (t !== undefined) { latency.order_fill.record(clock.nowNs() - t); sendTimes.delete(id); }
      emit('filled', id, q, p, '');
    },
    onCancelled(id, q, reason) { c[K.orders_cancelled]++; sendTimes.delete(id); emit('cancelled', id, q, 0, reason); },
    onReplaced(id, q, p) { emit('replaced', id, q, p, ''); },
    onVenueReject(id, venue, reason) { c[K.venue_rejects]++; logger.warn(kLogVenueReject, c[K.venue_rejects]); emit('venue_reject', id, 0, 0, `${venue} ${reason}`); },
    onRequestRejected(id, reason, detail) { c[K.orders_rejected]++; logger.info(kLogOrderRejected, rejectReasonIndex(reason)); emit('rejected', id, 0, 0, `${reason} ${detail}`); },
  };
  const stack = createRouterStack(loadRoutingConfig(d.routing.configFile),
    { bbo: ctx.bbo, listener, portOverrides: d.routing.portOverrides, journalPath: d.routing.journalPath, fixStoreDir: d.routing.fixStoreDir, log: ctx.log });
  const router = stack.router;
  const connectors = stack.connectors;
  const pollVenues = (): number => {
    const now = Date.now();
    let n = 0;
    for (let i = 0; i < connectors.length; i++) n += connectors[i].poll?.(now) ?? 0;
    return n;
  };
  const orders: OrderSink = {
    sendOrder(r: OrderRequest, mdRxTsNs: number): void {
      const id = router.sendOrder(r);
      const now = clock.nowNs();
      sendTimes.set(id, now);
      c[K.orders_sent]++;
      if (mdRxTsNs > 0) latency.md_to_order.record(now - mdRxTsNs);
    },
    cancelOrder(id: string): void { router.cancelOrder(id); },
    flush(): void {},
  };
  // Without the strategy on this worker, orders come through the ring.
  const reader = ctx.has('strategy') ? undefined : new OrderRecordReader(SpscRing.attach(d.rings.strategyToRouter!), orders, d.bursts.router);

  return {
    roleName: 'router',
    orders,
    doWork: () => pollVenues() + (reader !== undefined ? reader.doWork() : 0),
    start: async () => {
      await stack.connect();
      for (const conn of connectors) {
        if (conn.transport === 'native') c[K.venue_sessions_native]++;
        else c[K.venue_sessions_libuv]++;
      }
    },
    close: () => stack.close(),
  };
}
