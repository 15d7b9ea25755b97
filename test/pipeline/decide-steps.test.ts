import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { MonotonicClock } from '../../lib/common/clock';
import { CountersBlock } from '../../lib/common/counters';
import { LatencyRecorder } from '../../lib/common/latency-recorder';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { BboTable } from '../../lib/pipeline/bbo-table';
import { MarketBooks } from '../../lib/pipeline/market-books';
import { DecideSteps, DECIDE_STEP_NAMES } from '../../lib/pipeline/stages/decide-steps';
import { PacketOriginRef, StageContext } from '../../lib/pipeline/stages/stage';
import { buildStrategyStage } from '../../lib/pipeline/stages/strategy-stage';
import { SubscriptionMailbox } from '../../lib/pipeline/subscriptions';
import { JsStage, kLatencyNames, kWorkerCounterNames, StageWorkerData } from '../../lib/pipeline/worker-messages';
import { Msg, payload } from '../feed/book-recorder';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kSample = path.resolve(__dirname, '..', '..', 'lib', 'pipeline', 'sample-strategy');
const add = (ref: number, side: 'B' | 'S', shares: number, price: number, locate: number, stock: string): Msg =>
  ({ type: 'A', values: { stockLocate: locate, trackingNumber: 0, timestamp: 1, orderReferenceNumber: ref, buySellIndicator: side, shares, stock, price } });

/**
 * TICKPATH_DECIDE_STEPS (stages/decide-steps.ts): signal_decide split where decoder, books and
 * strategy share a worker, wired as stage-worker.ts wires it: the books' messages and immediate
 * QUOTEs through its wrappers, the strategy stage stamping the QUOTE's hand-over and sendOrder.
 */
describe('pipeline/decide steps (TICKPATH_DECIDE_STEPS)', () => {
  function setup(params: Record<string, unknown>) {
    const clock = new MonotonicClock();
    const counters = CountersBlock.create('test', kWorkerCounterNames);
    const origin = new PacketOriginRef();
    const src = { rxTsNs: 0, packetNo: 0, decodeTsNs: 0 };
    origin.from = src;
    const group: JsStage[] = ['decoder', 'book', 'strategy', 'router'];
    const data = { strategy: { module: kSample, params }, rings: { bookToStrategy: [] }, bursts: {}, group } as unknown as StageWorkerData;
    const ctx = {
      data, clock, counters, c: counters.values, origin,
      K: Object.fromEntries(kWorkerCounterNames.map((n, i) => [n, i])),
      latency: Object.fromEntries(kLatencyNames.map((n) => [n, new LatencyRecorder({ name: n, highestTrackableNs: 60e9 })])),
      bbo: new BboTable(), subscriptions: new SubscriptionMailbox(), has: (s: JsStage) => group.includes(s), log: () => undefined,
    } as unknown as StageContext;
    const printed: string[] = [];
    const steps = new DecideSteps(clock, origin, (t) => { printed.push(t); });
    let orders = 0;
    const stage = buildStrategyStage(ctx, { sendOrder: () => { orders++; }, cancelOrder: () => undefined, flush: () => undefined } as never, steps);
    const market = new MarketBooks(stage.marketData, { subscriptions: ctx.subscriptions, clock, immediateQuote: steps.wrapQuote(stage.topOfBook!) });
    const feed = new FeedDecoder(steps.wrapMessages(market));
    const send = (msgs: Msg[]) => {
      const p = payload(msgs);
      src.rxTsNs = clock.nowNs();
      src.decodeTsNs = clock.nowNs();
      src.packetNo++;
      feed.decodePayload(p, 0, p.length);
      feed.endOfBatch();
    };
    return { stage, ctx, steps, send, printed, orders: () => orders };
  }

  it('splits each order\'s signal_decide into parts that add up to it, with how many messages were ahead of the trigger', () => {
    // An order on every QUOTE with both sides: AAPL's ask, the third message of each packet (two ahead).
    const { stage, ctx, steps, send, printed, orders } = setup({ everyQuotes: 1 });
    const packet = (i: number): void => {
      const b = 100 * i;
      // New symbols each packet, so only the third message's QUOTE has both sides.
      send([add(b + 10, 'B', 100, 500_000, 20 + i, `MS${i}`), add(b + 1, 'B', 100, 1_000_000, 10 + i, `AA${i}`), add(b + 2, 'S', 300, 1_010_000, 10 + i, `AA${i}`),
        add(b + 11, 'B', 50, 490_000, 20 + i, `MS${i}`)]);
    };
    packet(0);
    // One order: its parts are consecutive spans from the decoder entry to sendOrder, so they add up to its total.
    const one = steps.medians();
    expect(one.orders).to.equal(1);
    expect(one.p50Ns).to.have.length(DECIDE_STEP_NAMES.length);
    for (const v of one.p50Ns) expect(v).to.be.at.least(0);
    const total = one.p50Ns[one.p50Ns.length - 1];
    expect(total).to.be.greaterThan(0);
    expect(Math.abs(one.p50Ns.slice(0, -1).reduce((a, b) => a + b, 0) - total)).to.be.lessThan(1);
    packet(1);
    packet(2);
    expect(orders()).to.equal(3);
    const m = steps.medians();
    expect(m.orders).to.equal(3);
    expect(m.aheadP50).to.equal(2);
    // Four messages a packet: the cost of the message at places 0, 1 and 2 (the last has no next stamp).
    expect(m.perPlaceNs).to.have.length(3);
    expect(m.clockNs).to.be.greaterThan(0);
    // The same as signal_decide's count: every order decided on its packet's immediate QUOTE.
    expect((ctx.latency as Record<string, LatencyRecorder>).signal_decide.count).to.equal(3);
    // The report at the worker's drain.
    stage.onDrained!();
    expect(printed.join('')).to.match(/decide steps, p50 us over 3 orders: packet>first [0-9.]+, first>trigger [0-9.]+, trigger>quote/)
      .and.to.match(/messages ahead of the trigger p50 2,/);
  });

  it('counts no order that was not decided on its packet\'s immediate QUOTE, and reports nothing without orders', () => {
    const { stage, steps, send, printed, orders } = setup({ everyQuotes: 1 });
    // One-sided books: QUOTEs, no order.
    send([add(10, 'B', 100, 500_000, 2, 'MSFT'), add(1, 'B', 100, 1_000_000, 1, 'AAPL')]);
    expect(orders()).to.equal(0);
    expect(steps.medians().orders).to.equal(0);
    stage.onDrained!();
    expect(printed).to.deep.equal([]);
  });

  it('tickpath run prints the split with TICKPATH_DECIDE_STEPS=1, and nothing of it without', function () {
    this.timeout(120000);
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [path.join(kRoot, 'bin', 'tickpath.js'), 'run', '--duration', '3', '--metrics-port', 'off'],
      { encoding: 'utf8', timeout: 100000, env, maxBuffer: 64 << 20 });
    const on = run({ ...process.env, TICKPATH_DECIDE_STEPS: '1' });
    expect(on.status, on.stderr).to.equal(0);
    const m = /decide steps, p50 us over (\d+) orders: packet>first ([0-9.]+), first>trigger ([0-9.]+), trigger>quote ([0-9.]+), quote>strategy ([0-9.]+), strategy>send ([0-9.]+), total ([0-9.]+)/.exec(on.stderr);
    expect(m, on.stderr).to.not.equal(null);
    expect(Number(m![1])).to.be.greaterThan(0);
    expect(on.stderr).to.match(/decide steps: messages ahead of the trigger p50 \d+,/);
    const env = { ...process.env };
    delete env.TICKPATH_DECIDE_STEPS;
    const off = run(env);
    expect(off.status, off.stderr).to.equal(0);
    expect(off.stderr).to.not.match(/decide steps/);
  });
});
