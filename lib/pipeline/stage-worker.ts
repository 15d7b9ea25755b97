/**
 * One pipeline worker: runs a group of adjacent stages (decoder, book, strategy, router) pinned to
 * one CPU. Stages inside the group call each other directly; at the group's edges they read from
 * and write to the stage rings (stage-rings.ts). See pipeline.ts for who creates what.
 *
 * The loop is Aeron's `idle(doWork())`, in slices: up to `sliceTurns` turns back to back, then one
 * trip through the event loop (setImmediate) so venue sockets, timers and messages from the main
 * thread are served. Idle turns back off (spin, then yield, then short sleeps) per the configured
 * idle strategy.
 *
 * Counters are written into this worker's CountersBlock (shared memory, single writer) once per
 * slice; latency histograms are posted to the main thread once a second and at the end.
 */
import { constants as perfConstants, PerformanceObserver } from 'perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'v8';
import { parentPort, workerData } from 'worker_threads';
import { kQueueCounter } from '../binding/layout';
import { RxConsumer, RxQueueTransfer } from '../binding/rx-consumer';
import { cpusAllowedOf, pinCurrentThread } from '../binding/threads';
import { CountersBlock } from '../common/counters';
import { createIdleStrategy } from '../common/idle-strategy';
import { MonotonicClock } from '../common/clock';
import { LatencyRecorder } from '../common/latency-recorder';
import { SpscRing } from '../common/spsc-ring';
import type { Agent } from '../common/agent-runner';
import { BookBuilder } from '../feed/book-builder';
import { BookEvent, BookEventHandler, kBookEventQuote } from '../feed/book-event';
import { Conflator } from '../feed/conflator';
import { FeedDecoder } from '../feed/feed-decoder';
import { Sequencer } from '../feed/sequencer';
import type { UdpFrameFilterOptions } from '../feed/udp-frame-parser';
import { loadRoutingConfig } from '../router/config';
import type { OrderRequest, RejectReason, RouterListener } from '../router/types';
import { BboTable } from './bbo-table';
import { FeedHandler, FeedRecoveryOptions } from './feed-handler';
import { createRouterStack, RouterStack } from './router-stack';
import {
  ItchRecordReader, ItchRecordWriter, MarketEventReader, MarketEventWriter, OrderRecordReader, OrderRecordWriter,
  OrderSink, RouterEventReader, RouterEventWriter,
} from './stage-rings';
import { loadStrategy, OrderEventKind, Strategy, StrategyContext } from './strategy';
import { SubscriptionFilter, SubscriptionMailbox } from './subscriptions';
import { Logger } from '../common/logger';
import {
  kLogBookStale, kLogGap, kLogLineAlive, kLogLineStale, kLogLoss, kLogOrderRejected, kLogVenueReject, kLogWorkerStarted, rejectReasonIndex,
} from './log-events';

export type JsStage = 'decoder' | 'book' | 'strategy' | 'router';

export interface StageWorkerData {
  index: number;
  group: JsStage[];
  cpu: number;
  idle: { strategy: 'spin' | 'yield' | 'backoff'; maxSpins: number; maxYields: number; minParkMicros: number; maxParkMicros: number };
  bursts: Record<JsStage, number>;
  rx?: RxQueueTransfer;
  rings: { decoderToBook?: SharedArrayBuffer; bookToStrategy?: SharedArrayBuffer; strategyToRouter?: SharedArrayBuffer; routerToStrategy?: SharedArrayBuffer };
  feed: { filter?: UdpFrameFilterOptions; conflate: boolean; conflationIntervalUs: number; recovery?: FeedRecoveryOptions };
  subscriptions: SharedArrayBuffer;
  bbo: SharedArrayBuffer;
  strategy?: { module: string; params: Record<string, unknown> };
  routing?: { configFile: string; portOverrides?: Record<string, number>; journalPath?: string; fixStoreDir?: string };
  /** This worker's log ring (lib/common/logger.ts), drained and printed by the main thread. */
  logRing: SharedArrayBuffer;
  /** i32[0]: 0 run, 1 stop (drain and exit); i32[1]: 1 once the source is exhausted (this worker writes). */
  control: SharedArrayBuffer;
}

/** Counter names of every worker's block; stages a worker does not run stay 0. */
export const kWorkerCounterNames = [
  'rx_packets', 'rx_bytes', 'rx_ring_drops', 'bad_frames', 'moldudp64_packets', 'itch_messages', 'itch_errors',
  'book_events', 'book_bad_references', 'quotes', 'conflated', 'filtered',
  'strategy_events', 'orders_sent', 'orders_accepted', 'orders_rejected', 'orders_acked', 'orders_filled',
  'orders_partially_filled', 'orders_cancelled', 'venue_rejects', 'ring_stalls', 'loop_turns',
  'sequence_gaps', 'messages_missing', 'duplicates', 'messages_recovered', 'messages_lost', 'retransmit_requests', 'other_traffic',
] as const;
export type WorkerCounter = typeof kWorkerCounterNames[number];

export const kLatencyNames = ['wire_to_decode', 'wire_to_handler', 'md_to_order', 'order_ack', 'order_fill'] as const;

// ------------------------------------------------------------------ worker body

function main(d: StageWorkerData): void {
  const port = parentPort!;
  const has = (s: JsStage) => d.group.includes(s);
  const clock = new MonotonicClock();
  const counters = CountersBlock.create(`worker${d.index}`, kWorkerCounterNames);
  const c = counters.values;
  // Counter indices resolved once (a name lookup per event would cost more than the event).
  const K = Object.fromEntries(kWorkerCounterNames.map((n, i) => [n, i])) as Record<WorkerCounter, number>;
  const latency = Object.fromEntries(kLatencyNames.map((n) => [n, new LatencyRecorder({ name: n, highestTrackableNs: 60_000_000_000 })])) as Record<typeof kLatencyNames[number], LatencyRecorder>;
  const control = new Int32Array(d.control);
  const logger = new Logger(SpscRing.attach(d.logRing), { clock });
  const bbo = new BboTable(d.bbo);
  const agents: Agent[] = [];
  const log = (line: string) => port.postMessage({ type: 'log', line: `[worker ${d.index} ${d.group.join('+')}] ${line}` });

  // ---- router (if here): built first, so a fused strategy can call it directly
  let stack: RouterStack | undefined;
  let routerEvents: RouterEventWriter | undefined;
  let strategyOnOrderEvent: ((k: OrderEventKind, id: string, q: number, p: number, detail: string) => void) | undefined;
  const sendTimes = new Map<string, number>();
  const emit = (k: OrderEventKind, id: string, q: number, p: number, detail: string): void => {
    if (strategyOnOrderEvent) strategyOnOrderEvent(k, id, q, p, detail);
    else if (routerEvents) routerEvents.write(k, id, q, p, detail);
  };
  if (has('router')) {
    if (!d.routing) throw new Error('router stage without routing config');
    if (!has('strategy') && d.rings.routerToStrategy) routerEvents = new RouterEventWriter(SpscRing.attach(d.rings.routerToStrategy));
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
    stack = createRouterStack(loadRoutingConfig(d.routing.configFile), bbo, listener,
      { portOverrides: d.routing.portOverrides, journalPath: d.routing.journalPath, fixStoreDir: d.routing.fixStoreDir, log });
  }
  const routerSink: OrderSink | undefined = stack && {
    sendOrder(r: OrderRequest, mdRxTsNs: number): void {
      const id = stack!.router.sendOrder(r);
      const now = clock.nowNs();
      sendTimes.set(id, now);
      c[K.orders_sent]++;
      if (mdRxTsNs > 0) latency.md_to_order.record(now - mdRxTsNs);
    },
    cancelOrder(id: string): void { stack!.router.cancelOrder(id); },
    flush(): void {},
  };
  if (has('router') && !has('strategy')) {
    agents.push(new OrderRecordReader(SpscRing.attach(d.rings.strategyToRouter!), routerSink!, d.bursts.router));
  }

  // ---- strategy (if here)
  let strategyHandler: BookEventHandler | undefined;
  let currentRxTs: () => number = () => 0;
  let currentPacket: () => number = () => 0;  // which packet the current event came from
  let strategy: Strategy | undefined;
  let ctx: StrategyContext | undefined;
  if (has('strategy')) {
    const sink: OrderSink = routerSink ?? new OrderRecordWriter(SpscRing.attach(d.rings.strategyToRouter!));
    strategy = loadStrategy(d.strategy!.module, d.strategy!.params);
    const s = strategy;
    const context: StrategyContext = {
      sendOrder: (r) => sink.sendOrder(r, currentRxTs()),
      cancelOrder: (id) => sink.cancelOrder(id),
      nowNs: () => clock.nowNs(),
      get rxTsNs() { return currentRxTs(); },
      log,
    };
    ctx = context;
    strategyOnOrderEvent = (k, id, q, p, detail) => s.onOrderEvent?.(k, id, q, p, detail, context);
    let lastPacket = -1;
    strategyHandler = {
      onEvent(e: BookEvent): void {
        c[K.strategy_events]++;
        // wire -> handler: when the first event of each packet reaches the strategy.
        const pkt = currentPacket();
        if (pkt !== lastPacket) {
          lastPacket = pkt;
          latency.wire_to_handler.record(clock.nowNs() - currentRxTs());
        }
        if (e.kind === kBookEventQuote) bbo.update(e.stockLocate, e.symbol, e.bidPrice, e.askPrice);
        s.onMarketData(e, context);
      },
      endOfBatch(): void {
        s.onEndOfBatch?.(context);
        sink.flush();
      },
    };
    if (!has('router') && d.rings.routerToStrategy) {
      agents.push(new RouterEventReader(SpscRing.attach(d.rings.routerToStrategy), strategyOnOrderEvent, d.bursts.strategy));
    }
    if (!has('book')) {
      const reader = new MarketEventReader(SpscRing.attach(d.rings.bookToStrategy!), strategyHandler, d.bursts.strategy);
      currentRxTs = () => reader.rxTsNs;
      currentPacket = () => reader.packetNo;
      agents.push(reader);
    }
  }

  // ---- book and decoder
  const mailbox = new SubscriptionMailbox(d.subscriptions);
  let feed: FeedHandler | undefined;
  let books: BookBuilder | undefined;
  let conflator: Conflator | undefined;
  let rx: RxConsumer | undefined;
  let decoderOnly: FeedDecoder | undefined;
  let decoderSequencer: Sequencer | undefined;
  let itchWriter: ItchRecordWriter | undefined;
  let eventWriter: MarketEventWriter | undefined;
  if (has('decoder')) {
    rx = new RxConsumer(d.rx!);
    if (has('book')) {
      let downstream: BookEventHandler | undefined = strategyHandler;
      if (!downstream) {
        eventWriter = new MarketEventWriter(SpscRing.attach(d.rings.bookToStrategy!), () => feed!.rxTsNs, () => feed!.packets);
        downstream = eventWriter;
      }
      feed = new FeedHandler(rx, downstream, {
        filter: d.feed.filter, conflate: d.feed.conflate, conflationIntervalUs: d.feed.conflationIntervalUs,
        burst: d.bursts.decoder, subscriptions: mailbox, clock,
        recovery: d.feed.recovery && {
          ...d.feed.recovery,
          listener: {
            onGap: (from, to) => { logger.warn(kLogGap, from, to); },
            onLoss: (from, to) => { logger.error(kLogLoss, from, to); },
            onBookStale: (locate) => { logger.warn(kLogBookStale, locate); },
            onLineStale: (line) => { logger.warn(kLogLineStale, line); },
            onLineAlive: (line) => { logger.info(kLogLineAlive, line); },
          },
        },
        latency: { wireToDecode: latency.wire_to_decode },
      });
      const f = feed;
      currentRxTs = () => f.rxTsNs;
      currentPacket = () => f.packets;
      books = feed.books;
      conflator = feed.conflator;
      agents.push(feed);
    } else {
      // Decoder alone: framing and sequencing here, ITCH bytes to the book's worker.
      let rxTs = 0, packets = 0;
      let writer: ItchRecordWriter | undefined;
      decoderSequencer = new Sequencer();
      decoderOnly = new FeedDecoder({
        onMessage: (dec, type, seq) => writer!.onMessage(dec, type, seq),
        endOfBatch: () => writer!.endOfBatch(),
      }, d.feed.filter ?? {}, decoderSequencer);
      writer = new ItchRecordWriter(SpscRing.attach(d.rings.decoderToBook!), decoderOnly.packet, () => rxTs, () => packets);
      itchWriter = writer;
      const dec = decoderOnly, consumer = rx, l4 = rx.backend === 'udp';
      const onPacket = (b: Uint8Array, off: number, len: number, ts: number, endOfBatch: boolean) => {
        rxTs = ts;
        packets++;
        latency.wire_to_decode.record(clock.nowNs() - ts);
        if (l4) dec.decodePayload(b, off, len); else dec.decodeFrame(b, off, len);
        if (endOfBatch) dec.endOfBatch();
      };
      agents.push({ roleName: 'decoder', doWork: () => consumer.read(onPacket, d.bursts.decoder) });
    }
  } else if (has('book')) {
    let reader: ItchRecordReader | undefined;
    let downstream: BookEventHandler | undefined = strategyHandler;
    if (!downstream) {
      eventWriter = new MarketEventWriter(SpscRing.attach(d.rings.bookToStrategy!), () => reader!.rxTsNs, () => reader!.packetNo);
      downstream = eventWriter;
    }
    conflator = d.feed.conflate ? new Conflator(downstream, { intervalNs: d.feed.conflationIntervalUs * 1000, clock: () => clock.nowNs() }) : undefined;
    books = new BookBuilder(conflator ?? downstream);
    const filter = new SubscriptionFilter(mailbox);
    const b = books;
    reader = new ItchRecordReader(SpscRing.attach(d.rings.decoderToBook!), {
      onMessage: (dec, type, seq) => { if (filter.admits(type, reader!.bytes, reader!.messageOffset, b.symbols)) b.onMessage(dec, type, seq); },
      endOfBatch: () => b.endOfBatch(),
    }, d.bursts.book);
    const r = reader;
    currentRxTs = () => r.rxTsNs;
    currentPacket = () => r.packetNo;
    agents.push({ roleName: 'book', doWork: () => { filter.refresh(); return r.doWork(); } });
  }

  // ---- counters, once per slice
  // Once per slice, so it must not allocate: plain reads of counter objects.
  const publishCounters = (): void => {
    if (feed) {
      c[K.rx_packets] = feed.packets; c[K.rx_bytes] = feed.bytes; c[K.rx_ring_drops] = feed.ringDrops;
      c[K.filtered] = feed.filteredMessages;
      const arb = feed.arbiter;
      if (arb) {
        const q = arb.sequencer.counters;
        c[K.sequence_gaps] = q.gaps; c[K.messages_missing] = q.missing; c[K.duplicates] = q.duplicates; c[K.messages_lost] = q.lost;
        c[K.other_traffic] = feed.otherTraffic;
        if (feed.requester) { c[K.messages_recovered] = feed.requester.counters.filled; c[K.retransmit_requests] = feed.requester.counters.requestsSent; }
      } else {
        const q = feed.sequencer.counters;
        c[K.sequence_gaps] = q.gaps; c[K.messages_missing] = q.missing; c[K.duplicates] = q.duplicates;
      }
    } else if (rx) {
      c[K.rx_packets] = rx.counter(kQueueCounter.rxPackets); c[K.rx_bytes] = rx.counter(kQueueCounter.rxBytes);
      c[K.rx_ring_drops] = rx.counter(kQueueCounter.ringFullDrops);
    }
    const fd = feed?.decoder ?? decoderOnly;
    if (fd) {
      const fc = fd.frames.counters;
      c[K.bad_frames] = fc.truncated + fc.notIpv4 + fc.badIpHeader + fc.notUdp + fc.fragment + fc.badUdpLength;
      c[K.moldudp64_packets] = fd.packet.counters.packets;
      const ic = feed ? feed.itchCounters : fd.decoder.counters;
      c[K.itch_messages] = ic.messages;
      c[K.itch_errors] = ic.zeroLength + ic.truncated + ic.unknownType;
    }
    if (books) {
      const bc = books.counters;
      c[K.book_events] = bc.events;
      c[K.quotes] = bc.quotes;
      c[K.book_bad_references] = bc.unknownOrder + bc.overExecution + bc.overCancel + bc.duplicateOrder + bc.badSide;
    }
    if (conflator) c[K.conflated] = conflator.counters.conflated;
    if (decoderSequencer) {
      const q = decoderSequencer.counters;
      c[K.sequence_gaps] = q.gaps; c[K.messages_missing] = q.missing; c[K.duplicates] = q.duplicates;
    }
    c[K.ring_stalls] = (itchWriter !== undefined ? itchWriter.counters.stalls : 0) + (eventWriter !== undefined ? eventWriter.counters.stalls : 0);
  };

  // What survives: garbage that dies young is scavenged from new space and never reaches old space,
  // so old-space growth is the measure of a leak (total heap use saw-tooths with every scavenge).
  const oldSpaceUsed = (): number => getHeapSpaceStatistics().reduce((a, s) => (s.space_name === 'old_space' ? a + s.space_used_size : a), 0);
  // GC and heap, observed off the hot path: the observer runs only when a GC has happened.
  const gc = { major: 0, minor: 0, lastMajorAtNs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) { gc.major++; gc.lastMajorAtNs = clock.nowNs(); } else gc.minor++;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const postLatency = (): void => {
    port.postMessage({ type: 'latency', index: d.index, histograms: kLatencyNames.map((n) => latency[n].serialize()),
      heapUsed: getHeapStatistics().used_heap_size, oldSpaceUsed: oldSpaceUsed(), gc: { ...gc }, atNs: clock.nowNs() });
  };

  // ---- the loop
  // Slices: turns back to back, idling between empty turns with the configured strategy (spin, or
  // Atomics.wait parks of microseconds: no timer, whose 1 ms granularity would be the latency
  // floor), until the slice's time is up; then one trip through the event loop for sockets, timers
  // and messages. Shorter slices where a venue session lives on this worker, so acks are read soon.
  const idle = createIdleStrategy(d.idle.strategy, {
    maxSpins: d.idle.maxSpins, maxYields: d.idle.maxYields, minParkMicros: d.idle.minParkMicros, maxParkMicros: d.idle.maxParkMicros,
  });
  const sliceNs = stack ? 100_000 : 1_000_000;
  let idleSlices = 0;
  let lastLatencyPost = clock.nowNs();
  const sourceDone = (): boolean => (rx ? rx.eof : true);
  const run = (): void => {
    let work = 0;
    const sliceStart = clock.nowNs();
    const stopRequested = Atomics.load(control, 0) === 1;
    for (;;) {
      let w = 0;
      for (let i = 0; i < agents.length; i++) w += agents[i].doWork();
      work += w;
      if (w === 0 && stopRequested) break;
      idle.idle(w);
      if (clock.nowNs() - sliceStart >= sliceNs) break;
    }
    c[K.loop_turns]++;
    publishCounters();
    if (rx && sourceDone() && Atomics.load(control, 1) === 0) Atomics.store(control, 1, 1);
    const now = clock.nowNs();
    if (now - lastLatencyPost > 1e9) { lastLatencyPost = now; postLatency(); }
    if (stopRequested && work === 0) {
      // Stop: inputs drained. Flush what is pending, report, and let the event loop finish the venues.
      conflator?.flush();
      if (strategy && ctx) strategy.onStop?.(ctx);
      publishCounters();
      postLatency();
      const finish = () => port.postMessage({ type: 'done', index: d.index, counters: counters.snapshot(),
        strategy: (strategy as unknown as { counts?: Record<string, number> })?.counts });
      gcObserver.disconnect();
      void feed?.close();
      if (stack) void stack.close().then(finish, finish); else finish();
      return;
    }
    // A whole quiet slice under backoff: give the core away on a timer (the feed is idle anyway).
    idleSlices = work === 0 ? idleSlices + 1 : 0;
    if (d.idle.strategy === 'backoff' && idleSlices > 100) setTimeout(run, 1);
    else setImmediate(run);
  };

  const start = async (): Promise<void> => {
    const tid = pinCurrentThread(d.cpu);
    if (feed) await feed.start();
    if (stack) await stack.connect();
    if (strategy && ctx) strategy.onStart?.(ctx);
    logger.info(kLogWorkerStarted, d.index, d.cpu, tid);
    port.postMessage({ type: 'ready', index: d.index, counters: counters.sab, tid, cpusAllowed: cpusAllowedOf(tid) });
    run();
  };
  start().catch((err: Error) => port.postMessage({ type: 'fatal', index: d.index, message: err.message, code: (err as { code?: string }).code }));
}

if (parentPort && workerData && (workerData as StageWorkerData).group) main(workerData as StageWorkerData);
