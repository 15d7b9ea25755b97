/**
 * One pipeline worker: runs a group of adjacent stages (decoder, book, strategy, router) pinned to
 * one CPU. Each stage comes from its builder (stages/*-stage.ts); a builder is handed the next
 * stage when that one is fused here (a direct call) and otherwise wires its end of the stage ring
 * (stage-rings.ts). See pipeline.ts for who creates what, worker-messages.ts for what crosses.
 *
 * The loop is Aeron's `idle(doWork())` through the one AgentRunner, in slices: turns back to back
 * for up to a slice's time, then one trip through the event loop (setImmediate) so venue sockets,
 * the retransmission socket and timers are served. Idle turns back off (spin, then yield, then
 * short sleeps) per the configured idle strategy.
 *
 * Counters are written into this worker's CountersBlock (shared memory, single writer) once per
 * slice; latency histograms are posted to the main thread once a second and at the end.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from 'v8';
import { parentPort, workerData } from 'worker_threads';
import { cpusAllowedOf, pinCurrentThread } from '../binding/threads';
import { AgentRunner } from '../common/agent-runner';
import { CompositeAgent } from '../common/composite-agent';
import { createIdleStrategy } from '../common/idle-strategy';
import { GcCounter } from './gc-counts';
import { kLogWorkerStarted } from './log-events';
import { BooksStage, buildBooksStage } from './stages/books-stage';
import { DecideSteps, decideStepsEnabled } from './stages/decide-steps';
import { buildDecoderStage, DecoderStage } from './stages/decoder-stage';
import { buildRouterStage, RouterStage } from './stages/router-stage';
import { createStageContext, Stage, StageContext } from './stages/stage';
import { buildStrategyStage, StrategyStage } from './stages/strategy-stage';
import { kLatencyNames, kStageSourceDoneI32, StageWorkerData } from './worker-messages';

// ------------------------------------------------------------------ worker body

/**
 * Builds this worker's stages, downstream first, so each builder can be handed the fused stage
 * after it; the router is handed a forwarder to the strategy, built just after it. Returned in
 * pipeline order.
 */
function buildStages(ctx: StageContext): { stages: Stage[]; decoder?: DecoderStage; strategy?: StrategyStage; router?: RouterStage } {
  let strategy: StrategyStage | undefined;
  const router = ctx.has('router')
    ? buildRouterStage(ctx, ctx.has('strategy') ? (k, id, q, p, detail) => strategy!.onOrderEvent(k, id, q, p, detail) : undefined)
    : undefined;
  // TICKPATH_DECIDE_STEPS=1 (diagnosis only): signal_decide split by part, where decoder, books
  // and strategy share this worker (stages/decide-steps.ts). Off, none of its wrappers exist.
  const steps = decideStepsEnabled() && ctx.has('decoder') && ctx.has('book') && ctx.has('strategy') ? new DecideSteps(ctx.clock, ctx.origin) : undefined;
  strategy = ctx.has('strategy') ? buildStrategyStage(ctx, router?.orders, steps) : undefined;
  const topOfBook = steps !== undefined && strategy?.topOfBook !== undefined ? steps.wrapQuote(strategy.topOfBook) : strategy?.topOfBook;
  const books: BooksStage | undefined = ctx.has('book') ? buildBooksStage(ctx, strategy?.marketData, topOfBook) : undefined;
  const decoder = ctx.has('decoder') ? buildDecoderStage(ctx, books !== undefined && steps !== undefined ? steps.wrapMessages(books.messages) : books?.messages, books?.builder) : undefined;
  const stages = [decoder, books, strategy, router].filter((s): s is NonNullable<typeof s> => s !== undefined);
  return { stages, decoder, strategy, router };
}

/**
 * Longest a stopping worker waits for its venues to answer the orders it sent last (acks on their
 * way). Bounded: a venue that never answers must not hold the stop up.
 */
const kStopAnswerWaitNs = 2_000_000_000;

function main(d: StageWorkerData): void {
  const ctx = createStageContext(d);
  const { c, K, clock, latency, counters } = ctx;
  const control = new Int32Array(d.control);
  const { stages, decoder, strategy, router } = buildStages(ctx);

  // Once per slice, so it must not allocate: plain reads of counter objects.
  const publishCounters = (): void => {
    let stalls = 0;
    for (const s of stages) { s.publishCounters?.(); stalls += s.ringStalls ?? 0; }
    c[K.ring_stalls] = stalls;
  };

  // What survives: garbage that dies young is scavenged from new space and never reaches old space,
  // so old-space growth is the measure of a leak (total heap use saw-tooths with every scavenge).
  const oldSpaceUsed = (): number => getHeapSpaceStatistics().reduce((a, s) => (s.space_name === 'old_space' ? a + s.space_used_size : a), 0);
  // GC counts from v8.GCProfiler, read once per health post (gc-counts.ts: a 'gc' PerformanceObserver
  // left promoted garbage in old space on every scavenge).
  const gc = new GcCounter(() => clock.nowNs());
  const postLatency = (): void => {
    ctx.post({ type: 'latency', index: d.index, histograms: kLatencyNames.map((n) => latency[n].serialize()),
      health: { heapUsed: getHeapStatistics().used_heap_size, oldSpaceUsed: oldSpaceUsed(), gc: { ...gc.sample() }, atNs: clock.nowNs() } });
  };

  // ---- the loop
  // Slices: turns back to back, idling between empty turns with the configured strategy (spin, or
  // Atomics.wait parks of microseconds: no timer, whose 1 ms granularity would be the latency
  // floor), until the slice's time is up; then one trip through the event loop for sockets, timers
  // and messages. Shorter slices where a venue session lives on this worker, so acks are read soon.
  const runner = new AgentRunner(new CompositeAgent(stages), createIdleStrategy(d.idle.strategy, {
    maxSpins: d.idle.maxSpins, maxYields: d.idle.maxYields, minParkMicros: d.idle.minParkMicros, maxParkMicros: d.idle.maxParkMicros,
    // With the router here, a park sleeps on its venue sockets, so an ack ends it (router-stage.ts).
    park: router?.park,
  }), d.control);
  const sliceNs = router ? 100_000 : 1_000_000;
  const nowNs = () => clock.nowNs();
  let idleSlices = 0;
  let lastLatencyPost = clock.nowNs();
  // Stopping: until when orders awaiting their venue's answer are waited for (0: not waiting yet).
  let answerDeadlineNs = 0;
  const awaitAnswers = (now: number): boolean => {
    if (answerDeadlineNs === 0) answerDeadlineNs = now + kStopAnswerWaitNs;
    if (now < answerDeadlineNs) return true;
    if (answerDeadlineNs > 0) {
      ctx.log(`stopping with ${router!.orders.awaitingAnswer!()} order(s) unanswered by their venue after ${kStopAnswerWaitNs / 1e6} ms`);
      answerDeadlineNs = -1;
    }
    return false;
  };
  const run = (): void => {
    const stopRequested = runner.stopRequested;
    const work = runner.runSlice(sliceNs, nowNs);
    c[K.loop_turns]++;
    publishCounters();
    for (const s of stages) s.pollRequests?.();
    if (decoder && decoder.sourceDone && Atomics.load(control, kStageSourceDoneI32) === 0) Atomics.store(control, kStageSourceDoneI32, 1);
    const now = clock.nowNs();
    if (now - lastLatencyPost > 1e9) { lastLatencyPost = now; postLatency(); }
    if (stopRequested && work === 0 && router !== undefined && router.orders.awaitingAnswer!() > 0 && awaitAnswers(now)) {
      // Inputs drained, but orders sent in the last turns have no answer yet: their acks are on the
      // way (a venue on another thread, off its CPU on a loaded machine, answers late). Keep polling
      // the venues, up to kStopAnswerWaitNs, so the final stats count them.
      setImmediate(run);
      return;
    }
    if (stopRequested && work === 0) {
      // Stop: inputs drained. Flush what is pending (upstream first), report, and let the event loop finish the venues.
      for (const s of stages) s.onDrained?.();
      publishCounters();
      postLatency();
      gc.close();
      runner.close();
      const finish = () => ctx.post({ type: 'done', index: d.index, counters: counters.snapshot(), strategy: strategy?.counts });
      void Promise.all(stages.map((s) => s.close?.().catch(() => undefined))).then(finish);
      return;
    }
    // A whole quiet slice under backoff: give the core away on a timer (the feed is idle anyway).
    idleSlices = work === 0 ? idleSlices + 1 : 0;
    // With venue sockets here, that sleep is on them and the event loop's fd, so an ack still wakes it.
    if (d.idle.strategy === 'backoff' && idleSlices > 100) {
      if (router?.waitQuiet) { router.waitQuiet(1000); setImmediate(run); } else setTimeout(run, 1);
    } else setImmediate(run);
  };

  const start = async (): Promise<void> => {
    const tid = pinCurrentThread(d.cpu);
    // Consumers before producers: venues logged in and the strategy started before data can flow.
    for (let i = stages.length - 1; i >= 0; i--) await stages[i].start?.();
    ctx.logger.info(kLogWorkerStarted, d.index, d.cpu, tid);
    ctx.post({ type: 'ready', index: d.index, counters: counters.sab, tid, cpusAllowed: cpusAllowedOf(tid) });
    run();
  };
  start().catch((err: Error) => ctx.post({ type: 'fatal', index: d.index, message: err.message, code: (err as { code?: string }).code }));
}

if (parentPort && workerData && (workerData as StageWorkerData).group) main(workerData as StageWorkerData);
