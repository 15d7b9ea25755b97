/**
 * The strategy stage: the user's Strategy (strategy.ts), fed normalized book events by the fused
 * book stage (`marketData`) or from the book -> strategy ring, and order events by the fused router
 * (`onOrderEvent`) or from the router -> strategy ring. Its orders go straight to the fused router,
 * or into the strategy -> router ring. It keeps the shared BBO table current for the router's
 * smart routing.
 *
 * With the books sharded, it reads every shard's ring in turn, a batch from each: a symbol's events
 * stay in feed order (one shard owns each locate), events of symbols on different shards interleave
 * by batch. wire_to_handler is then recorded for the first event of each packet from each shard.
 *
 * Threading contract: built and run on the strategy's worker; the Strategy is called on no other thread.
 */
import { SpscRing } from '../../common/spsc-ring';
import { BookEvent, BookEventHandler, kBookEventQuote } from '../../feed/book/book-event';
import type { OrderRequest } from '../../router/types';
import { MarketEventReader, OrderEventListener, OrderRecordWriter, OrderSink, RouterEventReader } from '../stage-rings';
import { loadStrategy, StrategyContext } from '../strategy';
import type { DecideSteps } from './decide-steps';
import type { Stage, StageContext } from './stage';

/** Turns of the strategy stage between two keep-warm calls of its sendOrder (about 0.1-0.3 us each). */
export const kWarmEveryTurns = 4096;

export interface StrategyStage extends Stage {
  /** Where a fused book stage delivers its events. */
  readonly marketData: BookEventHandler;
  /** Where a fused router delivers order events. */
  readonly onOrderEvent: OrderEventListener;
  /** Where a fused book stage delivers each QUOTE at once (the strategy's onTopOfBook), if it has one. */
  readonly topOfBook: ((e: BookEvent) => void) | undefined;
  /** The strategy's own counts, if it keeps any (reported at the end). */
  readonly counts: Record<string, number> | undefined;
}

/**
 * `router`: the fused router's order input; without it, orders go to the strategy -> router ring.
 * `steps`: TICKPATH_DECIDE_STEPS's stamps (diagnosis only), stamped at the QUOTE's hand-over and sendOrder.
 */
export function buildStrategyStage(ctx: StageContext, router: OrderSink | undefined, steps?: DecideSteps): StrategyStage {
  const d = ctx.data, c = ctx.c, K = ctx.K, clock = ctx.clock, latency = ctx.latency, bbo = ctx.bbo, origin = ctx.origin;
  const sink: OrderSink = router ?? new OrderRecordWriter(SpscRing.attach(d.rings.strategyToRouter!));
  const s = loadStrategy(d.strategy!.module, d.strategy!.params);
  // The keep-warm's request (below): sendOrder returns on it before the sink, so it is
  // never an order; only its identity is compared.
  const warmRequest: OrderRequest = { symbol: '', side: 'B', qty: 0, price: 0, ordType: 'LIMIT', tif: 'DAY' };
  // [0]: where the keep-warm's reads land (a typed slot: nothing boxed, nothing the optimizer can drop).
  const warmSink = new Float64Array(1);
  // Keep-warm of the strategy's way to the router: every warmEvery turns of this stage, its
  // sendOrder (with warmRequest, dropped before the sink) and nowNs. Called only by orders (~40 a
  // second in npm start), TurboFan never optimized that closure and every order ran it unoptimized
  // and cold: the strategy's ctx.sendOrder call to the closure's first clock read took 1.9-2.2 us
  // p50, 0.3-0.6 with this (TICKPATH_DECIDE_STEPS). Off with the rest of the keep-warm
  // (keep_warm_us 0). Nothing reaches the router, a histogram or the strategy.
  const warmEvery = d.keepWarmUs > 0 ? kWarmEveryTurns : 0;
  let warmTurns = 0, turnsSinceWarm = 0;
  const context: StrategyContext = {
    sendOrder: (r) => {
      const rx = origin.rxTsNs;
      const now = rx > 0 ? clock.nowNs() : 0;
      if (r === warmRequest) { warmSink[0] = now - rx; return; }
      sink.sendOrder(r, rx);
      if (rx <= 0) return;
      // Recorded once the order is out: three histogram updates (cold memory between orders, a few
      // us) sat between the strategy's call and the router, inside md_to_order but in neither half.
      latency.md_to_signal.record(now - rx);
      // Where md_to_signal went, when the decoder is on this worker: the wait before the order's
      // packet was decoded, and the packet up to the strategy's call.
      const dec = origin.decodeTsNs;
      if (dec > 0 && dec >= rx) { latency.signal_wait.record(dec - rx); latency.signal_decide.record(now - dec); }
      if (steps !== undefined) steps.onSendOrder(now, dec);
    },
    cancelOrder: (id) => sink.cancelOrder(id),
    nowNs: () => clock.nowNs(),
    get rxTsNs() { return origin.rxTsNs; },
    log: ctx.log,
  };
  const onOrderEvent: OrderEventListener = (k, id, q, p, detail) => s.onOrderEvent?.(k, id, q, p, detail, context);
  let lastPacket = -1;
  // wire_to_handler of the packet being handled, stamped at its first event and recorded at the end
  // of the batch (or at the next packet's first event, whichever comes first): a histogram record is
  // a store into cold memory, and at the first event it sat before the strategy's decision on any
  // later message of the packet, i.e. inside md_to_order. [0]: the value, -1 when none is pending
  // (a typed slot: storing a double in a closure variable would box it).
  const pendingW2h = new Float64Array(1).fill(-1);
  const flushW2h = (): void => {
    const v = pendingW2h[0];
    if (v >= 0) { pendingW2h[0] = -1; latency.wire_to_handler.record(v); }
  };
  const firstOfPacket = (): void => {
    flushW2h();
    pendingW2h[0] = Math.max(0, clock.nowNs() - origin.rxTsNs);
  };
  // An immediate QUOTE (fused book stage, the strategy has onTopOfBook): the BBO the router's risk
  // reads first, then the strategy, in the middle of the packet; the conflated QUOTE follows in
  // onMarketData at the end of the batch. The first event of a packet to reach the strategy by
  // either way is its wire -> handler time.
  const onTopOfBook = s.onTopOfBook;
  // Per-event counts kept in locals and copied into the shared block once per slice
  // (publishCounters): an increment of a shared Float64Array slot per event, behind a K lookup,
  // was a measurable part of the fused worker's cost per message.
  let eventsSeen = 0, quotesImmediate = 0;
  // Fused with the books and deciding on immediate QUOTEs: each QUOTE already wrote the BBO table as
  // the books made it, and the conflated QUOTE that follows is the last of those, so writing it again
  // would store the same four numbers.
  const bboFromImmediate = ctx.has('book') && onTopOfBook !== undefined;
  // The QUOTE's way in, up to the strategy's call (counted, first of its packet, the BBO table);
  // with TICKPATH_DECIDE_STEPS a second closure stamps between it and the strategy, so the shipped
  // one has no check for the switch.
  const quoteIn = (e: BookEvent): void => {
    quotesImmediate++;
    const pkt = origin.packetNo;
    if (pkt !== lastPacket) { lastPacket = pkt; firstOfPacket(); }
    bbo.update(e.stockLocate, e.symbol, e.bidPrice, e.askPrice, e.bidShares, e.askShares);
  };
  const topOfBook = onTopOfBook === undefined ? undefined : steps === undefined
    ? (e: BookEvent): void => { quoteIn(e); onTopOfBook.call(s, e, context); }
    : (e: BookEvent): void => { quoteIn(e); steps.quoteToStrategy(); onTopOfBook.call(s, e, context); };
  const marketData: BookEventHandler = {
    onEvent(e: BookEvent): void {
      eventsSeen++;
      // wire -> handler: when the first event of each packet reaches the strategy.
      const pkt = origin.packetNo;
      if (pkt !== lastPacket) { lastPacket = pkt; firstOfPacket(); }
      if (e.kind === kBookEventQuote && !bboFromImmediate) bbo.update(e.stockLocate, e.symbol, e.bidPrice, e.askPrice, e.bidShares, e.askShares);
      s.onMarketData(e, context);
    },
    endOfBatch(): void {
      s.onEndOfBatch?.(context);
      sink.flush();
      flushW2h();
    },
  };

  // Inputs from other workers: order events when the router is elsewhere, book events when the book is.
  const events = !ctx.has('router') && d.rings.routerToStrategy ? new RouterEventReader(SpscRing.attach(d.rings.routerToStrategy), onOrderEvent, d.bursts.strategy) : undefined;
  // One reader per book shard (one in all unless the books are sharded); each read points the
  // worker's packet origin at its reader, so latency and first-event-of-packet follow the shard.
  const markets = ctx.has('book') ? [] : d.rings.bookToStrategy!.map((sab) => new MarketEventReader(SpscRing.attach(sab), marketData, d.bursts.strategy));
  const market = markets.length > 0 ? markets[0] : undefined;
  if (market) origin.from = market;
  const readMarkets = (): number => {
    if (markets.length === 1) return markets[0].doWork();
    let n = 0;
    for (let i = 0; i < markets.length; i++) { origin.from = markets[i]; n += markets[i].doWork(); }
    return n;
  };

  return {
    roleName: 'strategy',
    marketData,
    topOfBook: ctx.has('book') ? topOfBook : undefined,
    onOrderEvent,
    get counts() { return (s as { counts?: Record<string, number> }).counts; },
    publishCounters(): void {
      c[K.keep_warm_order_entry_turns] = warmTurns;
      c[K.strategy_events] = eventsSeen;
      c[K.strategy_quotes_immediate] = quotesImmediate;
    },
    doWork(): number {
      // The strategy's way to the router, kept warm (see warmEvery above). Written out here, not
      // behind a method or the router's keep-warm: from a hot caller TurboFan inlines the closure
      // there and the closure the strategy calls stays unoptimized (docs/ARCHITECTURE.md).
      if (warmEvery !== 0 && ++turnsSinceWarm >= warmEvery) {
        turnsSinceWarm = 0;
        warmTurns++;
        warmSink[0] = context.nowNs();
        context.sendOrder(warmRequest);
      }
      return (events !== undefined ? events.doWork() : 0) + (market !== undefined ? readMarkets() : 0);
    },
    start: async () => { s.onStart?.(context); },
    onDrained(): void { flushW2h(); s.onStop?.(context); steps?.report(); },
  };
}
