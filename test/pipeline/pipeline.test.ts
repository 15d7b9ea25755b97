import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binding, Port } from '../../lib/binding';
import { loadConfigs, portOptionsFrom } from '../../lib/config';
import { BookBuilder } from '../../lib/feed/book/book-builder';
import { BookEvent } from '../../lib/feed/book/book-event';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { FeedHandler, Pipeline, PipelineOptions } from '../../lib/pipeline';
import { SessionGenerator, syntheticTicker } from '../../lib/tools/session-generator';

const kRoot = path.join(__dirname, '..', '..', '..');
const kConfigs = path.join(kRoot, 'configs');
const kRouting = path.join(kConfigs, 'routing_config.yml');
const kSample = path.join(kRoot, 'dist', 'lib', 'pipeline', 'sample-strategy.js');
const kCrash = path.join(kRoot, 'dist', 'test', 'helpers', 'crash-strategy.js');

function options(dir: string, capture: string, extra: Partial<PipelineOptions> = {}): PipelineOptions {
  const { feed, performance } = loadConfigs(kConfigs);
  feed.pcap!.file = capture;
  feed.pcap!.pace = 'fast';
  feed.pcap!.loops = 1;
  return {
    feed, performance, routingFile: kRouting, venueSimulator: true,
    journalPath: path.join(dir, `journal-${Math.random().toString(36).slice(2)}`), fixStoreDir: path.join(dir, `fix-${Math.random().toString(36).slice(2)}`),
    strategy: { module: kSample, params: { everyQuotes: 25, maxOrders: 60 } },
    ...extra,
  };
}

async function runToEnd(o: PipelineOptions, timeoutMs = 30000) {
  const p = await Pipeline.start(o);
  const t0 = Date.now();
  while (!p.sourceDone && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 400)); // let order acks come back
  const placement = p.placement();
  const stats = await p.stop();
  return { stats, placement };
}

/** The same capture decoded on one thread with no pipeline at all: what every layout must match. */
function reference(capture: string) {
  const counts = { messages: 0, events: 0, quotes: 0 };
  const books = new BookBuilder({ onEvent: (e: BookEvent) => { counts.events++; if (e.kind === 6) counts.quotes++; }, endOfBatch() {} });
  const dec = new FeedDecoder({ onMessage: (d, t, s) => { counts.messages++; books.onMessage(d, t, s); }, endOfBatch: () => books.endOfBatch() });
  const r = new PcapReader(fs.readFileSync(capture));
  while (r.next()) { dec.decodeFrame(r.data, r.frameOffset, r.capturedLength); dec.endOfBatch(); }
  return counts;
}

describe('pipeline', function () {
  this.timeout(90000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-pipe-'));
  const capture = path.join(dir, 'session.pcap');
  let packets = 0;
  before(() => { packets = new SessionGenerator({ symbols: 20, rate: 100000, durationSeconds: 1, seed: 7 }).writePcap(capture).packets; });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fused and fully split layouts give the same books, events and orders as a single-threaded reference', async () => {
    const ref = reference(capture);
    const fused = await runToEnd(options(dir, capture));
    const splitOpts = options(dir, capture);
    const perf = splitOpts.performance;
    perf.workers = [['decoder'], ['book'], ['strategy'], ['router']];
    perf.stages.decoder.cpu = 0; perf.stages.book.cpu = 1; perf.stages.strategy.cpu = 0; perf.stages.router.cpu = 1;
    const split = await runToEnd(splitOpts);
    for (const run of [fused, split]) {
      const c = run.stats.counters;
      expect(c.itch_messages, 'messages').to.equal(ref.messages);
      expect(c.book_events, 'book events').to.equal(ref.events);
      expect(c.quotes).to.equal(ref.quotes);
      // Conflation merges a symbol's quotes within a batch (an RX burst, so timing decides how many):
      // every event the books made reached the strategy or was merged away.
      expect(c.strategy_events + c.conflated, 'strategy events + conflated').to.equal(ref.events);
      // The pcap source waits for a slow consumer, so it cannot drop at the ring: what is checked is
      // that every frame of the file was read and nothing in it was bad or out of sequence.
      expect(c.rx_packets, 'every frame read').to.equal(packets);
      expect(c.bad_frames + c.itch_errors + c.book_bad_references + c.sequence_gaps).to.equal(0);
      expect(c.orders_sent).to.equal(60);
      expect(c.orders_acked).to.equal(60);
      // The router stage's venue session polled from its loop, not the event loop.
      expect(run.stats.venueTransport).to.equal('native');
      expect(c.venue_sessions_native).to.be.greaterThan(0);
      expect(c.venue_sessions_libuv).to.equal(0);
    }
    // Every counter the dashboard and /metrics show counts the same in both layouts (a counter
    // written only by one stage's fused path would read 0 split): all but the timing-dependent ones.
    const timing = new Set(['orders_filled', 'orders_partially_filled', 'orders_cancelled', 'loop_turns', 'ring_stalls', 'venue_polls', 'keep_warm_turns', 'keep_warm_socket_turns', 'keep_warm_shadow_ouch_runs', 'keep_warm_shadow_fix_runs', 'keep_warm_send_warms', 'keep_warm_order_entry_turns',
      // The books' idle warm walk runs on a decoder worker's empty turns, with the books there (fused only).
      'books_warm_steps',
      // How many quotes share a batch depends on the RX bursts (their sum is checked above).
      'conflated', 'strategy_events',
      // Immediate quotes exist only where book and strategy share a worker (checked below).
      'strategy_quotes_immediate']);
    const names = Object.keys(fused.stats.counters).filter((k) => !timing.has(k));
    expect(names.length).to.be.greaterThan(20);
    for (const k of names) expect(split.stats.counters[k], `counter ${k}, split vs fused`).to.equal(fused.stats.counters[k]);
    for (const k of ['rx_bytes', 'moldudp64_packets', 'itch_messages', 'book_events', 'quotes', 'strategy_events', 'orders_accepted', 'conflated']) {
      expect(fused.stats.counters[k], k).to.be.greaterThan(0);
    }
    // Fills depend on when the crossing order reaches the venue relative to the stop: present in both.
    expect(split.stats.counters.orders_filled).to.be.greaterThan(0);
    expect(fused.stats.counters.orders_filled).to.be.greaterThan(0);
    expect(split.stats.workers).to.have.length(4);
    // Fused, every QUOTE the books made reached the strategy at once (onTopOfBook), before conflation;
    // split, the strategy sees conflated quotes from the ring only.
    expect(fused.stats.counters.strategy_quotes_immediate).to.equal(ref.quotes);
    expect(split.stats.counters.strategy_quotes_immediate).to.equal(0);
    // The keep-warm dry runs ran between orders and none of them reached a venue or the journal's order count.
    for (const run of [fused, split]) {
      expect(run.stats.counters.keep_warm_turns, 'keep-warm dry runs').to.be.greaterThan(0);
      // keep_warm_socket_us as shipped (the keep-warm period): each of those turns after the private
      // loopback connection came up was a send(2) on it (its first turns finish connect and accept).
      expect(run.stats.counters.keep_warm_socket_turns, 'keep-warm send(2) on the private connection').to.be.greaterThan(0)
        .and.at.most(run.stats.counters.keep_warm_turns);
      expect(run.stats.venue!.ordersIn, 'orders the venues received').to.equal(60);
    }
    expect(split.stats.latency.md_to_order.count).to.equal(60);
    // md_to_order in two halves, every order counted in both, in either layout: the strategy's call
    // (md_to_signal, on the strategy's worker) comes before the router has handed the order on.
    for (const run of [fused, split]) {
      const L = run.stats.latency;
      expect(L.md_to_signal.count, 'md_to_signal').to.equal(60);
      expect(L.order_send.count, 'order_send').to.equal(60);
      expect(L.md_to_signal.max).to.be.at.most(L.md_to_order.max);
      expect(L.order_send.p50).to.be.greaterThan(0);
    }
  });

  it('the router stage polls its venue sessions at most every venue_poll_us, and every order is still acked', async () => {
    const o = options(dir, capture);
    o.performance.stages.router.venuePollMicros = 1000;
    // Between orders too (venue_idle_poll_us; venue-idle-poll.test.ts checks the two apart).
    o.performance.stages.router.venueIdlePollMicros = 1000;
    const t0 = Date.now();
    const { stats } = await runToEnd(o);
    const elapsedMs = Date.now() - t0;
    const c = stats.counters;
    expect(c.orders_sent).to.equal(60);
    expect(c.orders_acked, 'acks read by the throttled polls').to.equal(60);
    // Polled every turn, a spinning worker would poll millions of times in this run.
    expect(c.venue_polls).to.be.greaterThan(0).and.at.most(elapsedMs + 10);
  });

  it('pins every stage worker to its configured CPU, verified from /proc', async () => {
    const o = options(dir, capture);
    o.performance.workers = [['decoder', 'book'], ['strategy', 'router']];
    o.performance.stages.decoder.cpu = 1; o.performance.stages.book.cpu = 1;
    o.performance.stages.strategy.cpu = 0; o.performance.stages.router.cpu = 0;
    const lines: string[] = [];
    o.log = (l) => lines.push(l);
    const { placement } = await runToEnd(o);
    expect(placement.map((w) => w.cpusAllowed)).to.deep.equal(['1', '0']);
    // Each worker said so through its low-latency log ring (numbers only on the hot path, text in the drain).
    expect(lines.join('\n')).to.match(/\[worker 0\] \S+Z INFO  worker_started worker 0 pinned to CPU 1 \(tid \d+\)/)
      .and.match(/\[worker 1\] \S+Z INFO  worker_started worker 1 pinned to CPU 0/);
    for (const w of placement) expect(w.tid).to.be.greaterThan(0);
    // The main thread is never pinned.
    expect(binding().threadAffinity().length).to.equal(os.cpus().length);
  });

  it('a stage that throws is reported with its error and the pipeline shuts down cleanly', async () => {
    const o = options(dir, capture, { strategy: { module: kCrash, params: { after: 500 } } });
    const lines: string[] = [];
    o.log = (l) => lines.push(l);
    const p = await Pipeline.start(o);
    const failure = await Promise.race([p.failed(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 20000))]);
    expect(failure, 'failure reported').to.not.equal(undefined);
    expect(failure!.code).to.match(/ERR_STAGE_(CRASHED|FAILED)/);
    expect(failure!.message).to.match(/deliberate failure at event 500/);
    const stats = await p.stop();
    expect(stats.counters.strategy_events).to.be.lessThan(600);
    expect(lines.join('\n')).to.match(/shutting down/);
    // The port was closed: its buffers are back and it no longer receives.
    expect(p.port.stats().queues[0].rxPackets).to.be.greaterThan(0);
  });

  it('FeedHandler alone: subscriptions limit the books to the chosen symbols, changed while running', () => {
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: capture } });
    const seen = new Set<string>();
    const fh = new FeedHandler(port.consumer(0), { onEvent: (e) => { if (e.kind === 1) seen.add(e.symbol); }, endOfBatch() {} }, { conflate: false });
    const wanted = [syntheticTicker(1), syntheticTicker(4)];
    fh.subscribe(wanted);
    let n = 0;
    while (!fh.sourceDone && n < 100000) { fh.doWork(); n++; }
    port.close();
    const symbols = [...seen];
    expect(symbols.length).to.be.greaterThan(0);
    expect(symbols.every((s) => wanted.includes(s)), symbols.join(',')).to.equal(true);
    expect(fh.stats().filteredMessages).to.be.greaterThan(0);
  });
});

describe('pipeline steady state', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-steady-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs 10 s at load with flat heap and no major GC after warm-up in any worker', async () => {
    const capture = path.join(dir, 'steady.pcap');
    new SessionGenerator({ symbols: 50, rate: 200000, durationSeconds: 13, seed: 11 }).writePcap(capture);
    const o = options(dir, capture, { strategy: { module: kSample, params: { everyQuotes: 25, maxOrders: 40 } } });
    o.feed.pcap!.pace = 'recorded';
    // lossy: the replay drops at a full ring as a NIC would, so 'no ring drops' is something this
    // test can fail (a holding replay would just wait for a slow stage).
    const port = portOptionsFrom(o.feed, o.performance);
    o.portOptions = { ...port, pcap: { ...port.pcap!, lossy: true } };
    const p = await Pipeline.start(o);
    await new Promise((r) => setTimeout(r, 13000));
    const placement = p.placement();
    const stats = await p.stop();
    expect(stats.counters.itch_messages).to.be.greaterThan(2_000_000);
    expect(stats.counters.rx_ring_drops).to.equal(0);
    for (const w of placement) {
      // one sample a second; the first 3 s are warm-up (JIT, venue logins, first orders)
      const steady = w.health.slice(3);
      expect(steady.length, 'health samples').to.be.at.least(8);
      const majors = steady[steady.length - 1].gc.major - steady[0].gc.major;
      expect(majors, `major GCs after warm-up in [${w.group}]; majors so far at each second ${w.health.map((h) => h.gc.major).join(',')}; old space ${w.health.map((h) => h.oldSpaceUsed).join(',')}`).to.equal(0);
      // Leak trend: old-space growth, bytes per second. (Total heap use saw-tooths with each
      // scavenge of short-lived garbage; what leaks, or lives just long enough to be promoted, lands
      // in old space and stays there until a major GC.) Leak-free, a steady worker promotes ~3.8 KB/s
      // (median second, alone on a quiet machine, this build and the one before the ninth session's
      // changes alike; 8.2 KB/s in one full-suite run under load, where the bound was 8 KB/s); with
      // the old 'gc' PerformanceObserver it was 54-77 KB/s plus ~300 KB steps every ~15 s. Two
      // bounds: the median second below 16 KB/s (a leak per message or per order grows every second:
      // 1 byte a message here is 200 KB/s, 12x the bound), and the whole window less its one
      // largest second (warm-up under load can still promote ~200 KB at the window's start; a second
      // step, or steady growth, fails it).
      const ys = steady.map((h) => h.oldSpaceUsed);
      const steps = steady.slice(1).map((h, i) => ys[i + 1] - ys[i]);
      const perSecond = steady.slice(1).map((h, i) => steps[i] / ((h.atNs - steady[i].atNs) / 1e9)).sort((a, b) => a - b);
      const median = perSecond[perSecond.length >> 1];
      expect(median, `old-space growth in [${w.group}] (bytes/s, median second); samples ${ys.join(',')}`).to.be.below(16 * 1024);
      const seconds = (steady[steady.length - 1].atNs - steady[0].atNs) / 1e9;
      const growth = (ys[ys.length - 1] - ys[0] - Math.max(0, ...steps)) / seconds;
      expect(growth, `old-space growth in [${w.group}] (bytes/s over ${seconds.toFixed(1)} s less the largest second); samples ${ys.join(',')}`).to.be.below(16 * 1024);
    }
  });
});

describe('FeedHandler API', function () {
  this.timeout(30000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-fh-'));
  const capture = path.join(dir, 's.pcap');
  before(() => { new SessionGenerator({ symbols: 10, rate: 50000, durationSeconds: 0.5, seed: 9 }).writePcap(capture); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('run() delivers to the onMessage handler until stop(); unsubscribe narrows an explicit list, refuses "*"', async () => {
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: capture, pace: 'recorded' } });
    const fh = new FeedHandler(port.consumer(0), undefined, { conflate: false });
    expect(() => fh.unsubscribe(['AAAA'])).to.throw(/subscription is '\*'/);
    const wanted = [syntheticTicker(1), syntheticTicker(2), syntheticTicker(3)];
    fh.subscribe(wanted);
    fh.unsubscribe([syntheticTicker(2)]);
    const symbols = new Set<string>();
    let batches = 0;
    fh.onMessage({ onEvent: (e) => { if (e.kind === 1) symbols.add(e.symbol); }, endOfBatch: () => { batches++; } });
    const running = fh.run();
    while (!fh.sourceDone) await new Promise((r) => setTimeout(r, 20));
    fh.stop();
    await running;
    port.close();
    expect([...symbols].sort()).to.deep.equal([syntheticTicker(1), syntheticTicker(3)].sort());
    expect(batches).to.be.greaterThan(0);
  });
});
