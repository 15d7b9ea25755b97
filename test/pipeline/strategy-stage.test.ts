import { expect } from 'chai';
import * as path from 'path';
import { MonotonicClock } from '../../lib/common/clock';
import { CountersBlock } from '../../lib/common/counters';
import { LatencyRecorder } from '../../lib/common/latency-recorder';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { BboTable } from '../../lib/pipeline/bbo-table';
import { MarketBooks } from '../../lib/pipeline/market-books';
import { PacketOriginRef, StageContext } from '../../lib/pipeline/stages/stage';
import { buildStrategyStage, kWarmEveryTurns } from '../../lib/pipeline/stages/strategy-stage';
import { spawnSync } from 'child_process';
import { SubscriptionMailbox } from '../../lib/pipeline/subscriptions';
import { JsStage, kLatencyNames, kWorkerCounterNames, StageWorkerData } from '../../lib/pipeline/worker-messages';
import { Msg, payload } from '../feed/book-recorder';

const kSample = path.resolve(__dirname, '..', '..', 'lib', 'pipeline', 'sample-strategy');
const add = (ref: number, side: 'B' | 'S', shares: number, price: number, locate: number, stock: string): Msg =>
  ({ type: 'A', values: { stockLocate: locate, trackingNumber: 0, timestamp: 1, orderReferenceNumber: ref, buySellIndicator: side, shares, stock, price } });

/**
 * The strategy stage as a stage worker builds it, fed by the books in-process: its per-event counts
 * are kept in locals and reach the shared counters block at publishCounters (once per slice), and
 * the BBO table the router reads stays current whether the QUOTEs come immediately (book fused,
 * the strategy has onTopOfBook: the conflated copy is not written again) or only conflated (split).
 */
describe('pipeline/strategy stage (fused with the books, in process)', () => {
  function setup(fusedBook: boolean, params: Record<string, unknown> = { maxOrders: 0 }, trace?: string[], keepWarmUs?: number) {
    const clock = new MonotonicClock();
    const counters = CountersBlock.create('test', kWorkerCounterNames);
    const origin = new PacketOriginRef();
    const src = { rxTsNs: 0, packetNo: 0 };
    origin.from = src;
    const group: JsStage[] = fusedBook ? ['decoder', 'book', 'strategy', 'router'] : ['strategy', 'router'];
    const data = { strategy: { module: kSample, params }, rings: { bookToStrategy: [] }, bursts: {}, group, keepWarmUs } as unknown as StageWorkerData;
    const ctx = {
      data, clock, counters, c: counters.values, origin,
      K: Object.fromEntries(kWorkerCounterNames.map((n, i) => [n, i])),
      latency: Object.fromEntries(kLatencyNames.map((n) => {
        const r = new LatencyRecorder({ name: n, highestTrackableNs: 60e9 });
        // With a trace: each record of a histogram, in order with the orders (below).
        if (trace !== undefined) { const record = r.record.bind(r); r.record = (v: number) => { trace.push(n); record(v); }; }
        return [n, r];
      })),
      bbo: new BboTable(), subscriptions: new SubscriptionMailbox(), has: (s: JsStage) => group.includes(s), log: () => undefined,
    } as unknown as StageContext;
    const stage = buildStrategyStage(ctx, { sendOrder: () => { trace?.push('order'); }, cancelOrder: () => undefined, flush: () => undefined } as never);
    const market = new MarketBooks(stage.marketData, { subscriptions: ctx.subscriptions, clock, immediateQuote: stage.topOfBook });
    const feed = new FeedDecoder(market);
    const send = (msgs: Msg[]) => {
      const p = payload(msgs);
      src.rxTsNs = clock.nowNs();
      src.packetNo++;
      feed.decodePayload(p, 0, p.length);
      feed.endOfBatch();
    };
    const count = (name: string) => counters.values[kWorkerCounterNames.indexOf(name as never)];
    return { stage, ctx, send, count };
  }

  for (const fused of [true, false]) {
    it(`${fused ? 'fused (immediate QUOTEs)' : 'split (conflated QUOTEs only)'}: the BBO table holds each symbol's last BBO, and the counts reach the block at publishCounters`, () => {
      const { stage, ctx, send, count } = setup(fused);
      expect(stage.topOfBook !== undefined).to.equal(fused);
      // Packet 1: AAPL bid then ask (two QUOTEs, conflated to one), MSFT bid.
      send([add(1, 'B', 100, 1_000_000, 1, 'AAPL'), add(2, 'S', 300, 1_010_000, 1, 'AAPL'), add(10, 'B', 100, 500_000, 2, 'MSFT')]);
      // Packet 2: AAPL's bid improves (a QUOTE), MSFT gets an ask.
      send([add(3, 'B', 200, 1_005_000, 1, 'AAPL'), add(11, 'S', 100, 510_000, 2, 'MSFT')]);
      expect([ctx.bbo.bestBid('AAPL'), ctx.bbo.bestAsk('AAPL')]).to.deep.equal([1_005_000, 1_010_000]);
      expect([ctx.bbo.bestBid('MSFT'), ctx.bbo.bestAsk('MSFT')]).to.deep.equal([500_000, 510_000]);
      // Nothing in the shared block until the worker publishes (once per slice).
      expect(count('strategy_events')).to.equal(0);
      stage.publishCounters!();
      // 5 order events + the conflated QUOTEs: packet 1 AAPL and MSFT, packet 2 AAPL and MSFT.
      expect(count('strategy_events')).to.equal(5 + 4);
      // Immediate QUOTEs: every BBO change (AAPL 3, MSFT 2), only when fused with the books.
      expect(count('strategy_quotes_immediate')).to.equal(fused ? 5 : 0);
      expect(stage.counts!.quotes).to.equal(fused ? 5 : 4);
    });
  }

  it('wire_to_handler is recorded after the packet\'s orders, once per packet: no histogram store between the market data and the order', () => {
    const trace: string[] = [];
    // An order on every QUOTE with both sides: the third message of packet 1 (AAPL's ask) triggers one.
    const { ctx, send } = setup(true, { everyQuotes: 1 }, trace);
    send([add(10, 'B', 100, 500_000, 2, 'MSFT'), add(1, 'B', 100, 1_000_000, 1, 'AAPL'), add(2, 'S', 300, 1_010_000, 1, 'AAPL'),
      add(11, 'B', 50, 490_000, 2, 'MSFT')]);
    send([add(3, 'B', 200, 1_005_000, 1, 'AAPL')]);
    const seen = trace.filter((n) => n === 'order' || n === 'wire_to_handler' || n === 'md_to_signal');
    // Packet 1: its first event (MSFT's bid) stamped the time, the order went out (md_to_signal is
    // recorded once it is out), then wire_to_handler at the end of the batch; packet 2 the same.
    expect(seen).to.deep.equal(['order', 'md_to_signal', 'wire_to_handler', 'order', 'md_to_signal', 'wire_to_handler']);
    expect((ctx.latency as Record<string, LatencyRecorder>).wire_to_handler.count).to.equal(2);
  });

  it('keep-warm: every kWarmEveryTurns turns the stage runs its sendOrder with a request it drops before the router; real orders still go out and are timed', () => {
    const trace: string[] = [];
    const { stage, ctx, send, count } = setup(true, { everyQuotes: 1 }, trace, 50);
    const L = ctx.latency as Record<string, LatencyRecorder>;
    for (let i = 0; i < 3 * kWarmEveryTurns; i++) stage.doWork();
    stage.publishCounters!();
    expect(count('keep_warm_order_entry_turns')).to.equal(3);
    // Nothing reached the router, a histogram or the strategy.
    expect(trace).to.deep.equal([]);
    expect(L.md_to_signal.count + L.signal_decide.count + L.signal_wait.count).to.equal(0);
    expect(stage.counts!.ordersSent).to.equal(0);
    // A real order after the warm calls: to the router once, timed once.
    send([add(1, 'B', 100, 1_000_000, 1, 'AAPL'), add(2, 'S', 300, 1_010_000, 1, 'AAPL')]);
    expect(trace.filter((n) => n === 'order')).to.have.length(1);
    expect(L.md_to_signal.count).to.equal(1);
    for (let i = 0; i < kWarmEveryTurns; i++) stage.doWork();
    stage.publishCounters!();
    expect(count('keep_warm_order_entry_turns')).to.equal(4);
    expect(trace.filter((n) => n === 'order')).to.have.length(1);
  });

  it('keep-warm off (keep_warm_us 0): the stage never runs its sendOrder on its own', () => {
    const trace: string[] = [];
    const { stage, count } = setup(true, { everyQuotes: 1 }, trace, 0);
    for (let i = 0; i < 3 * kWarmEveryTurns; i++) stage.doWork();
    stage.publishCounters!();
    expect(count('keep_warm_order_entry_turns')).to.equal(0);
    expect(trace).to.deep.equal([]);
  });

  it('tickpath run: the strategy stage\'s keep-warm runs, and the venues receive exactly the orders the strategy sent', function () {
    this.timeout(120000);
    const kRoot = path.resolve(__dirname, '..', '..', '..');
    const r = spawnSync(process.execPath, [path.join(kRoot, 'bin', 'tickpath.js'), 'run', '--duration', '3', '--metrics-port', 'off', '--json'],
      { encoding: 'utf8', timeout: 100000, maxBuffer: 64 << 20 });
    expect(r.status, r.stderr).to.equal(0);
    const st = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { counters: Record<string, number>; strategy: { ordersSent: number }; venue: { ordersIn: number } };
    expect(st.counters.keep_warm_order_entry_turns, 'keep-warm calls of the strategy stage\'s sendOrder').to.be.greaterThan(0);
    expect(st.strategy.ordersSent).to.be.greaterThan(0);
    expect(st.counters.orders_sent).to.equal(st.strategy.ordersSent);
    expect(st.venue.ordersIn).to.equal(st.strategy.ordersSent);
  });

  // Why the keep-warm call is in doWork: the stage's sendOrder, called only by the strategy's orders
  // (~40 a second in npm start), was never optimized by TurboFan (--trace-opt), so every order ran it
  // in the interpreter or baseline code. The keep-warm's calls get it optimized; this child checks
  // V8's %GetOptimizationStatus (bit 4: TurboFan) of the very closure the strategy holds, after the
  // same number of stage turns, with the keep-warm on and off.
  it('keep-warm: the stage\'s sendOrder the strategy calls is optimized by V8 after the warm calls alone (and not with keep_warm_us 0)', function () {
    this.timeout(120000);
    const d = path.resolve(__dirname, '..', '..');
    const status = (keepWarmUs: number): number => {
      const script = `
        const path = require('path'), fs = require('fs'), os = require('os');
        const d = (p) => path.join(${JSON.stringify(d)}, p);
        const { MonotonicClock } = require(d('lib/common/clock'));
        const { CountersBlock } = require(d('lib/common/counters'));
        const { LatencyRecorder } = require(d('lib/common/latency-recorder'));
        const { BboTable } = require(d('lib/pipeline/bbo-table'));
        const { PacketOriginRef } = require(d('lib/pipeline/stages/stage'));
        const { buildStrategyStage, kWarmEveryTurns } = require(d('lib/pipeline/stages/strategy-stage'));
        const { SubscriptionMailbox } = require(d('lib/pipeline/subscriptions'));
        const { kLatencyNames, kWorkerCounterNames } = require(d('lib/pipeline/worker-messages'));
        // A strategy that keeps the context's sendOrder, to ask V8 about that closure.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-warm-opt-'));
        const mod = path.join(dir, 'keep-ctx.js');
        fs.writeFileSync(mod, 'exports.createStrategy = () => ({ onStart(ctx) { globalThis.keptSendOrder = ctx.sendOrder; }, onMarketData() {} });');
        const clock = new MonotonicClock(), counters = CountersBlock.create('t', kWorkerCounterNames), origin = new PacketOriginRef();
        origin.from = { rxTsNs: 1, packetNo: 1, decodeTsNs: 1 };
        const group = ['decoder', 'book', 'strategy', 'router'];
        const ctx = { data: { strategy: { module: mod, params: {} }, rings: { bookToStrategy: [] }, bursts: {}, group, keepWarmUs: ${keepWarmUs} },
          clock, counters, c: counters.values, origin, K: Object.fromEntries(kWorkerCounterNames.map((n, i) => [n, i])),
          latency: Object.fromEntries(kLatencyNames.map((n) => [n, new LatencyRecorder({ name: n, highestTrackableNs: 60e9 })])),
          bbo: new BboTable(), subscriptions: new SubscriptionMailbox(), has: (s) => group.includes(s), log: () => undefined };
        let sent = 0;
        const stage = buildStrategyStage(ctx, { sendOrder: () => { sent++; }, cancelOrder() {}, flush() {} });
        stage.start();
        // TurboFan took it after 3,000-6,000 warm calls (one per kWarmEveryTurns turns; ~1,200 a
        // second in tickpath run). It compiles on a background thread and installs the code at a
        // later interrupt check on this one, which a loaded box delays: turns go on, 12,000 warm
        // calls' worth at a time, until it is optimized or 20 s have passed.
        const optimized = () => (eval('%GetOptimizationStatus(globalThis.keptSendOrder)') & (1 << 4)) !== 0;
        const until = Date.now() + 20000;
        // (Off, one round: nothing calls it.)
        do { for (let i = 0; i < 12000 * kWarmEveryTurns; i++) stage.doWork(); } while (${keepWarmUs} > 0 && !optimized() && Date.now() < until);
        fs.rmSync(dir, { recursive: true, force: true });
        process.stdout.write(JSON.stringify({ sent, status: eval('%GetOptimizationStatus(globalThis.keptSendOrder)') }) + '\\n');
      `;
      const child = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8', timeout: 100_000 });
      expect(child.status, child.stderr).to.equal(0);
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { sent: number; status: number };
      expect(r.sent, 'warm calls that reached the router').to.equal(0);
      return r.status;
    };
    const kOptimized = 1 << 4;
    expect(status(50) & kOptimized, 'sendOrder optimized with the keep-warm').to.not.equal(0);
    expect(status(0) & kOptimized, 'sendOrder optimized without it').to.equal(0);
  });
});
