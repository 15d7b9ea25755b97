/**
 * The router stage's order path (attachOrderHandlers) around a router double: what the strategy is
 * told and when, relative to the order reaching the venue connector.
 */
import { expect } from 'chai';
import { attachOrderHandlers, OrderSlotEmitter } from '../../lib/pipeline/stages/router-stage';
import type { OrderRouter } from '../../lib/router/order-router';
import type { OrderRequest, OrderSlotListener } from '../../lib/router/types';

/** A router double: submitOrder reports the order accepted, then "writes it to the venue" (a log line), then whatever `after` says. */
function routerDouble(log: string[], after: (l: OrderSlotListener, p: number) => void = () => {}) {
  let listener: OrderSlotListener | undefined;
  let next = 0;
  const router = {
    orderCapacity: 16,
    setOrderListener(l: OrderSlotListener) { listener = l; },
    submitOrder(_r: OrderRequest): number {
      const p = next++;
      listener!.onAccepted(p, 1);
      log.push(`wire ${p}`);
      after(listener!, p);
      return p;
    },
    isLiveOrder: () => true,
    clOrdIdOf: (p: number) => `P${p}`,
    cancelOrder() {},
  };
  return router as unknown as OrderRouter;
}

function metrics() {
  const names = ['orders_accepted', 'orders_rejected', 'orders_acked', 'orders_partially_filled', 'orders_filled', 'orders_cancelled', 'venue_rejects', 'orders_sent'] as const;
  const K = Object.fromEntries(names.map((n, i) => [n, i])) as Record<typeof names[number], number>;
  const samples: Record<string, number[]> = { order_ack: [], order_fill: [], md_to_order: [], order_send: [] };
  const rec = (n: string) => ({ record: (v: number) => { samples[n].push(v); } });
  let t = 1000;
  return {
    samples,
    m: {
      c: new Float64Array(names.length), K, clock: { nowNs: () => (t += 100) },
      latency: { order_ack: rec('order_ack'), order_fill: rec('order_fill'), md_to_order: rec('md_to_order'), order_send: rec('order_send') },
      logger: { info: () => true, warn: () => true },
    },
  };
}

const request: OrderRequest = { symbol: 'AAPL', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY' };

describe('router stage order path (attachOrderHandlers)', () => {
  it('tells the strategy an order was accepted only after it went to the venue', () => {
    const log: string[] = [];
    const { m, samples } = metrics();
    const emit: OrderSlotEmitter = (kind, p) => { log.push(`${kind} ${p}`); };
    const sink = attachOrderHandlers(routerDouble(log), m, emit);
    sink.sendOrder(request, 500);
    sink.sendOrder(request, 0);
    expect(log).to.deep.equal(['wire 0', 'accepted 0', 'wire 1', 'accepted 1']);
    expect(m.c[m.K.orders_accepted]).to.equal(2);
    expect(m.c[m.K.orders_sent]).to.equal(2);
    // Both halves timed: the router's part for every order, md_to_order only with a packet behind it.
    expect(samples.order_send).to.have.length(2);
    expect(samples.md_to_order).to.have.length(1);
  });

  it('keeps the order of events when the router reports more inside submitOrder', () => {
    const log: string[] = [];
    const { m } = metrics();
    const emit: OrderSlotEmitter = (kind, p) => { log.push(`${kind} ${p}`); };
    const sink = attachOrderHandlers(routerDouble(log, (l, p) => l.onVenueReject(p, 'NSDQ', 'VENUE_UNAVAILABLE')), m, emit);
    sink.sendOrder(request, 500);
    expect(log).to.deep.equal(['wire 0', 'accepted 0', 'venue_reject 0']);
  });

  it('an event after the order (an ack from a later poll) comes after its accepted', () => {
    const log: string[] = [];
    const { m, samples } = metrics();
    let l: OrderSlotListener | undefined;
    const emit: OrderSlotEmitter = (kind, p) => { log.push(`${kind} ${p}`); };
    const sink = attachOrderHandlers(routerDouble(log, (x) => { l = x; }), m, emit);
    sink.sendOrder(request, 500);
    l!.onAcked(0);
    expect(log).to.deep.equal(['wire 0', 'accepted 0', 'acked 0']);
    expect(samples.order_ack).to.have.length(1);
  });
});
