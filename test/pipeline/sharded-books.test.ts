/**
 * Books sharded by stock locate in the shipped pipeline (performance.stages.book.shards): the same
 * books, events, counters and orders as the fused layout, the live book view answered across the
 * shards, and the config check refusing layouts that cannot shard. Real processes (`tickpath run`,
 * `tickpath book`, `tickpath config check`) over the fixtures' real captures and a generated session.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfigs } from '../../lib/config';
import { Pipeline, PipelineOptions, PipelineStats } from '../../lib/pipeline';
import { BookMailboxClient } from '../../lib/pipeline/book-mailbox';
import type { JsStage } from '../../lib/pipeline/worker-messages';
import { replayBook } from '../../lib/tools/book-replay';
import { SessionGenerator, syntheticTicker } from '../../lib/tools/session-generator';

const kRoot = path.join(__dirname, '..', '..', '..');
const kConfigs = path.join(kRoot, 'configs');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kRouting = path.join(kConfigs, 'routing_config.yml');
const kSample = path.join(kRoot, 'dist', 'lib', 'pipeline', 'sample-strategy.js');
const kDigest = path.join(kRoot, 'dist', 'test', 'helpers', 'book-digest-strategy.js');
const kItch = path.join(kRoot, 'test', 'fixtures', 'itch');
const kSharded: JsStage[][] = [['decoder'], ['book'], ['strategy', 'router']];
/** Counters that depend on timing, not on the feed: when a fill lands relative to the stop, loop counts. */
// keep_warm_turns counts idle router turns (timing); strategy_quotes_immediate counts quotes a strategy
// fused with the books saw mid-packet, which a sharded layout (books on their own workers) never has.
// How many quotes of a symbol share a batch (conflated, and so strategy_events) depends on the RX
// bursts and, sharded, on each shard's ring reads: their sum is the feed's (checked where they are compared).
const kTiming = new Set(['orders_filled', 'orders_partially_filled', 'orders_cancelled', 'loop_turns', 'ring_stalls', 'venue_polls',
  'keep_warm_turns', 'keep_warm_socket_turns', 'keep_warm_shadow_ouch_runs', 'keep_warm_shadow_fix_runs', 'keep_warm_send_warms', 'keep_warm_order_entry_turns', 'strategy_quotes_immediate', 'conflated', 'strategy_events',
  // The books' idle warm walk: empty decoder turns (timing), and only where the decoder has the books.
  'books_warm_steps']);

function tickpath(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, ...args], { encoding: 'utf8', timeout: 90000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A config directory replaying `capture`, with the books in `shards` shards (1: the shipped fused layout). */
function configDir(parent: string, capture: string, shards: number, performanceEdit?: (text: string) => string): string {
  const dir = fs.mkdtempSync(path.join(parent, `cfg-s${shards}-`));
  let feed = fs.readFileSync(path.join(kConfigs, 'feed_config.yml'), 'utf8').split('../test/').join(`${kRoot}/test/`);
  feed = feed.replace(/^(\s*file:\s*).*Multiple\.Packets\.pcap$/m, `$1${capture}`);
  fs.writeFileSync(path.join(dir, 'feed_config.yml'), feed);
  fs.writeFileSync(path.join(dir, 'routing_config.yml'), fs.readFileSync(kRouting, 'utf8').replace('../var/orders.journal', './orders.journal'));
  let perf = fs.readFileSync(path.join(kConfigs, 'performance.yml'), 'utf8');
  if (shards > 1) perf = shardedPerformance(perf, shards);
  fs.writeFileSync(path.join(dir, 'performance.yml'), performanceEdit ? performanceEdit(perf) : perf);
  return dir;
}

/** performance.yml with `shards` book workers on CPUs 0 and 1 in turn, book on a worker of its own. */
function shardedPerformance(text: string, shards: number, fusion = '    - [decoder]\n    - [book]\n    - [strategy, router]'): string {
  const cpus = Array.from({ length: shards }, (_, i) => i % 2).join(', ');
  const out = text
    .replace(/\n      shards: 1\n/, `\n      shards: ${shards}\n      cpus: [${cpus}]\n`)
    .replace('    - [decoder, book, strategy, router]', fusion);
  expect(out).to.contain(`shards: ${shards}`);
  return out;
}

function runJson(stdout: string): { counters: Record<string, number>; strategy: Record<string, number> } {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

function pipelineOptions(dir: string, capture: string, shards: number, extra: Partial<PipelineOptions> = {}): PipelineOptions {
  const { feed, performance } = loadConfigs(kConfigs);
  feed.pcap!.file = capture;
  feed.pcap!.pace = 'fast';
  feed.pcap!.loops = 1;
  if (shards > 1) {
    performance.workers = kSharded;
    performance.stages.book = { ...performance.stages.book, shards, shardCpus: Array.from({ length: shards }, (_, i) => i % 2) };
    performance.stages.strategy.cpu = 0; performance.stages.router.cpu = 0; performance.stages.decoder.cpu = 1;
  }
  const tag = Math.random().toString(36).slice(2);
  return {
    feed, performance, routingFile: kRouting, venueSimulator: true,
    journalPath: path.join(dir, `journal-${tag}`), fixStoreDir: path.join(dir, `fix-${tag}`),
    strategy: { module: kSample, params: { everyQuotes: 25, maxOrders: 40 } },
    ...extra,
  };
}

async function untilSourceDone(p: Pipeline, timeoutMs = 30000): Promise<void> {
  const t0 = Date.now();
  while (!p.sourceDone && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 400)); // drained through the rings, acks back
}

describe('pipeline: books sharded by stock locate', function () {
  this.timeout(240000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-shard-'));
  const capture = path.join(dir, 'session.pcap');
  const kSymbols = 12;
  let packets = 0;
  before(() => { packets = new SessionGenerator({ symbols: kSymbols, rate: 100000, durationSeconds: 1, seed: 11 }).writePcap(capture).packets; });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('2 shards: every counter as the fused layout counts it, each shard builds its own books, orders routed, the book view answers for every shard', async () => {
    const fused = await Pipeline.start(pipelineOptions(dir, capture, 1));
    await untilSourceDone(fused);
    const one = await fused.stop();

    const file = path.join(dir, 'sharded.book');
    const p = await Pipeline.start(pipelineOptions(dir, capture, 2, { bookFile: file }));
    let two: PipelineStats;
    try {
      await untilSourceDone(p);
      const placement = p.placement();
      expect(placement.map((w) => [w.group.join('+'), w.shard])).to.deep.equal([['decoder', undefined], ['book', 0], ['book', 1], ['strategy+router', undefined]]);
      // Ladders of symbols on both shards (locates 1..12: odd ones on shard 1, even ones on shard 0).
      for (const i of [0, 1, 6, 11]) {
        const symbol = syntheticTicker(i);
        const live = await p.book(symbol, 1000);
        expect(live.found, symbol).to.equal(true);
        expect(live.snapshot).to.deep.equal(replayBook(capture, { symbol, depth: 1000 }).snapshot);
      }
      expect((await p.book('NOSUCH', 5)).found).to.equal(false);
      // Another process's view: the /dev/shm file, relayed to the shards; the top of every book, merged.
      const top = await BookMailboxClient.attach(file).askTop();
      expect(top.top!.map((t) => t.symbol)).to.deep.equal(Array.from({ length: kSymbols }, (_, i) => syntheticTicker(i)).sort());
      for (const t of top.top!) {
        const ref = replayBook(capture, { symbol: t.symbol, depth: 1 }).snapshot!;
        expect([t.bid, t.bidShares, t.ask, t.askShares], t.symbol).to.deep.equal([ref.bids[0]?.price ?? 0, ref.bids[0]?.shares ?? 0, ref.asks[0]?.price ?? 0, ref.asks[0]?.shares ?? 0]);
      }
    } finally {
      two = await p.stop();
    }
    const names = Object.keys(one.counters).filter((k) => !kTiming.has(k));
    for (const k of names) expect(two.counters[k], `counter ${k}, 2 shards vs fused`).to.equal(one.counters[k]);
    const reached = (s: typeof one) => s.counters.strategy_events + s.counters.conflated;
    expect(reached(two), 'strategy events + conflated, 2 shards vs fused').to.equal(reached(one));
    for (const k of ['rx_packets', 'moldudp64_packets', 'itch_messages', 'book_events', 'quotes', 'strategy_events', 'orders_sent', 'orders_acked']) {
      expect(two.counters[k], k).to.be.greaterThan(0);
    }
    expect(two.counters.rx_packets).to.equal(packets);
    expect(two.counters.orders_acked).to.equal(40);
    expect(two.latency.wire_to_handler.count).to.be.greaterThan(0);
    // Each shard worker counted its own books' events: both did work, and they add up.
    const shardEvents = [two.workers[1].book_events, two.workers[2].book_events];
    expect(shardEvents.every((n) => n > 0), `book_events per shard ${shardEvents}`).to.equal(true);
    expect(shardEvents[0] + shardEvents[1]).to.equal(one.counters.book_events);
    expect(fs.existsSync(file)).to.equal(false);
  });

  it('tickpath run: shards 2 and 3 give the books, events and counters of shards 1, on the fixtures\' real captures and a generated session', () => {
    // The fixtures with their real headers (line A's group and port; the other folders' addresses are zeroed).
    const real = ['Multiple.Packets', 'AddOrderNoMpidAttributionMessage', 'OrderReplaceMessage', 'OrderExecutedMessage', 'StockTradingActionMessage']
      .map((n) => path.join(kItch, 'Nasdaq.Equities.TotalView.Itch.v5.0', `${n}.pcap`));
    for (const cap of [capture, ...real]) {
      const name = path.basename(cap);
      const runs = (cap === capture ? [1, 2, 3] : [1, 2]).map((shards) => {
        const r = tickpath('run', '--config', configDir(dir, cap, shards), '--venue-sim', '--strategy', kDigest, '--duration', '0', '--metrics-port', 'off', '--json');
        expect(r.status, `${name} shards ${shards}: ${r.stderr}`).to.equal(0);
        if (shards > 1) expect(r.stdout, name).to.contain('[book shard 1]');
        return runJson(r.stdout);
      });
      const [one, ...sharded] = runs;
      expect(one.counters.itch_messages, name).to.be.greaterThan(0);
      for (const s of sharded) {
        // Events at the strategy, plus the quotes conflation merged (how many depends on the batches).
        const seen = (x: typeof one) => ({ ...x.strategy, events: x.strategy.events + x.counters.conflated });
        expect(seen(s), `${name}: books (digest of every level) and events at the strategy`).to.deep.equal(seen(one));
        for (const k of Object.keys(one.counters).filter((n) => !kTiming.has(n))) expect(s.counters[k], `${name}: ${k}`).to.equal(one.counters[k]);
      }
      if (cap === capture) expect(one.strategy.levels, 'the generated session leaves books standing').to.be.greaterThan(20);
    }
  });

  it('tickpath book --instance --top and --symbol from another process while a sharded run is live', async () => {
    // At the recorded pace, replayed until stopped (the later passes are duplicates that leave the books as they are): the instance stays up.
    const cfg = configDir(dir, capture, 2);
    const feedFile = path.join(cfg, 'feed_config.yml');
    fs.writeFileSync(feedFile, fs.readFileSync(feedFile, 'utf8').replace(/pace: fast(\s+#[^\n]*)?\n(\s*)loops: 1/, 'pace: recorded\n$2loops: 0'));
    expect(fs.readFileSync(feedFile, 'utf8')).to.contain('loops: 0');
    const instance = `shard4-${process.pid}`;
    const run = spawn(process.execPath, [kCli, 'run', '--config', cfg, '--venue-sim', '--instance', instance, '--duration', '20', '--metrics-port', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout.on('data', (b) => { out += String(b); });
    run.stderr.on('data', (b) => { out += String(b); });
    const exited = new Promise<number | null>((r) => run.once('exit', (c) => r(c)));
    try {
      const until = Date.now() + 30000;
      while (!/\[\s*2s\]/.test(out) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(out, 'the run reports its first seconds').to.match(/\[\s*2s\]/);
      const top = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--top', '--json'], { encoding: 'utf8', timeout: 20000 });
      expect(top.status, `book --top: exit ${top.status} ${top.signal ?? ''}; stderr: ${top.stderr}; stdout: ${top.stdout}`).to.equal(0);
      const rows = (JSON.parse(top.stdout.trim().split('\n').pop()!) as { symbols: { symbol: string; bid: number; ask: number; bid_shares: number }[] }).symbols;
      expect(rows.map((t) => t.symbol)).to.deep.equal(Array.from({ length: kSymbols }, (_, i) => syntheticTicker(i)).sort());
      for (const t of rows) {
        const ref = replayBook(capture, { symbol: t.symbol, depth: 1 }).snapshot!;
        expect([t.bid, t.bid_shares, t.ask], t.symbol).to.deep.equal([ref.bids[0]?.price ?? 0, ref.bids[0]?.shares ?? 0, ref.asks[0]?.price ?? 0]);
      }
      // Ladders from shard 0 and shard 1, beside the same command's replay of the capture.
      const levels = (j: Record<string, unknown>) => ({ bids: j.bids, asks: j.asks, bid_levels: j.bid_levels, ask_levels: j.ask_levels, trading_state: j.trading_state, last_trade: j.last_trade });
      for (const i of [2, 5]) {
        const symbol = syntheticTicker(i);
        const live = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--symbol', symbol, '--depth', '1000', '--json'], { encoding: 'utf8', timeout: 20000 });
        expect(live.status, `book --instance --symbol ${symbol}: exit ${live.status} ${live.signal ?? ''}; stderr: ${live.stderr}; stdout: ${live.stdout.slice(0, 2000)}`).to.equal(0);
        const replay = tickpath('book', '--pcap', capture, '--symbol', symbol, '--depth', '1000', '--json');
        expect(replay.status, `book --pcap --symbol ${symbol}: exit ${replay.status}; stderr: ${replay.stderr}; stdout: ${replay.stdout.slice(0, 2000)}`).to.equal(0);
        const a = JSON.parse(live.stdout.trim().split('\n').pop()!), b = JSON.parse(replay.stdout.trim().split('\n').pop()!);
        expect((a.bids as unknown[]).length, symbol).to.be.greaterThan(0);
        expect(levels(a), symbol).to.deep.equal(levels(b));
      }
    } finally {
      run.kill('SIGINT');
      expect(await exited, out).to.equal(0);
    }
  });

  it('tickpath config check: shards need book on a worker of its own and one CPU per shard; a good sharded layout passes', () => {
    const good = configDir(dir, capture, 2);
    const ok = tickpath('config', 'check', good);
    expect(ok.status, ok.stdout + ok.stderr).to.equal(0);
    expect(ok.stdout).to.contain('no problems');

    const fusedWithStrategy = configDir(dir, capture, 1, (t) => shardedPerformance(t, 2, '    - [decoder]\n    - [book, strategy, router]'));
    const bad = tickpath('config', 'check', fusedWithStrategy);
    expect(bad.status).to.not.equal(0);
    const text = bad.stdout + bad.stderr;
    expect(text).to.match(/performance\.yml:\d+: performance\.stages\.book\.shards is 2, expected 1 while performance\.fusion runs book with strategy, router on one worker/);
    expect(text).to.contain('fix: give book a fusion group of its own');

    const wrongCpus = configDir(dir, capture, 2, (t) => t.replace('cpus: [0, 1]', 'cpus: [0, 1, 0]'));
    const bad2 = tickpath('config', 'check', wrongCpus);
    expect(bad2.status).to.not.equal(0);
    expect(bad2.stdout + bad2.stderr).to.contain('performance.stages.book.cpus').and.to.contain('one per book shard (shards is 2)');

    const tooMany = configDir(dir, capture, 2, (t) => t.replace('shards: 2', 'shards: 65'));
    expect(tickpath('config', 'check', tooMany).stdout).to.contain('performance.stages.book.shards is 65, expected an integer from 1 to 64');

    // tickpath run refuses it the same way, before anything starts.
    const run = tickpath('run', '--config', fusedWithStrategy, '--venue-sim', '--duration', '0', '--metrics-port', 'off');
    expect(run.status).to.not.equal(0);
    expect(run.stderr).to.contain('performance.stages.book.shards');
  });
});
