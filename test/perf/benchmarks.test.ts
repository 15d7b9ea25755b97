/**
 * Smoke test for perf:latency, perf:throughput, perf:burst and perf/rx-kernel: each runs end to end as a child
 * process with tiny parameters and prints one JSON object with the required keys as its last line.
 * Timings are never asserted (perf/ reuses production classes; the figures belong to the
 * benchmarks). The benchmarks write perf/results/<name>.json; what was there before is put back.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { binding } from '../../lib/binding';
import { replayUnavailableReason } from '../helpers/netns';
import { unavailable } from '../helpers/require-backend';

const kPerf = path.join(__dirname, '..', '..', 'perf');
const kResults = path.join(__dirname, '..', '..', '..', 'perf', 'results');

function hugepagesFree(): number {
  const m = /HugePages_Free:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function runBenchmark(name: string, args: string[], timeoutMs = 50_000): Record<string, unknown> {
  const saved = path.join(kResults, `${name}.json`);
  const before = fs.existsSync(saved) ? fs.readFileSync(saved) : undefined;
  try {
    const r = spawnSync(process.execPath, [path.join(kPerf, `${name}.js`), ...args, '--json'], { encoding: 'utf8', timeout: timeoutMs });
    const detail = `exit ${r.status} ${r.signal ?? ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.status, detail).to.equal(0);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    let parsed: unknown;
    expect(() => { parsed = JSON.parse(last); }, `last line is not JSON: ${last}`).not.to.throw();
    expect(parsed, detail).to.be.an('object');
    return parsed as Record<string, unknown>;
  } finally {
    if (before) fs.writeFileSync(saved, before);
  }
}

describe('perf benchmarks (smoke: tiny parameters, JSON shape only)', function () {
  this.timeout(60_000);

  before(function () {
    const info = binding().backends().find((b) => b.name === 'dpdk');
    if (!info?.compiledIn) unavailable(this, 'dpdk', `not compiled in: ${info?.missing}`);
    if (process.getuid && process.getuid() !== 0) unavailable(this, 'dpdk', 'needs root (hugepages)');
    if (hugepagesFree() < 64) unavailable(this, 'dpdk', 'fewer than 64 free hugepages: run sudo scripts/setup_hugepages.sh');
  });

  it('perf:latency prints rates with per-stage percentiles', function () {
    // Eight pipeline runs (bare read, shipped, before, no shadow route, no socket warm, no books warm
    // walk, one other keep-warm interval, the venue in a child process): about 130 s of start-ups at
    // load 15 on 2 CPUs with seven; one more run is ~20 s of that.
    this.timeout(290_000);
    const out = runBenchmark('latency', ['--rates=20k', '--seconds=0.3', '--keep-warm-variants=200/200/200@10'], 280_000);
    const rates = out.rates as Record<string, unknown>[];
    expect(rates).to.be.an('array').with.length(1);
    expect(rates[0]).to.include.keys('rate', 'achieved', 'stages');
    expect(rates[0].rate).to.equal(20000);
    const stages = rates[0].stages as Record<string, Record<string, number>>;
    for (const s of ['wire_to_handler', 'decode', 'md_to_order', 'md_to_signal', 'order_send']) {
      expect(stages, s).to.have.property(s);
      expect(stages[s]).to.include.keys('p50_ns', 'p99_ns', 'p999_ns', 'max_ns');
    }
    expect(stages.wire_to_handler.count).to.be.greaterThan(0);
    // md_to_order's two halves count the same orders.
    expect(stages.md_to_signal.count).to.equal(stages.md_to_order.count);
    expect(stages.order_send.count).to.equal(stages.md_to_order.count);
    // order_send split, and the order path as it was measured beside it (no keep-warm, conflated quotes).
    for (const s of ['order_risk', 'order_journal', 'order_encode', 'order_syscall']) expect(stages[s].count, s).to.equal(stages.order_send.count);
    const before = rates[0].before as { keep_warm_turns: number; stages: Record<string, Record<string, number>> };
    expect(before.keep_warm_turns).to.equal(0);
    expect(before.stages.order_send.count).to.equal(before.stages.md_to_order.count);
    // md_to_order up to the bytes handed to send(2): every order that has md_to_order has it (native transport).
    expect(stages.md_to_send_call.count).to.equal(stages.md_to_order.count);
    // The same from the order's packet's decoder entry (fused: the decoder is on the router's worker).
    expect(stages.dec_to_send_call.count).to.equal(stages.md_to_order.count);
    // The same orders to their kernel TX timestamp (the shipped venue sessions stamp every send).
    expect(stages.md_to_wire.count).to.equal(stages.md_to_order.count);
    expect(stages.order_wire.count).to.equal(stages.md_to_order.count);
    expect(rates[0].tx_stamps).to.deep.include({ stamped: stages.md_to_order.count, off: 0, missing: 0, sessions_stamped: 2 });
    // Another keep-warm interval and idle venue poll beside the shipped ones, run right after.
    const kw = rates[0].keep_warm_variants as { label: string; keep_warm_us: number; venue_idle_poll_us: number; orders_sent: number;
      keep_warm_turns: number; stages: Record<string, Record<string, number>> }[];
    expect(kw).to.be.an('array').with.length(1);
    expect([kw[0].label, kw[0].keep_warm_us, kw[0].venue_idle_poll_us]).to.deep.equal(['200/200/200@10', 200, 10]);
    expect(kw[0].orders_sent).to.be.greaterThan(0);
    expect(kw[0].keep_warm_turns).to.be.greaterThan(0);
    expect(kw[0].stages.dec_to_send_call.count).to.equal(kw[0].stages.md_to_order.count);
    // Keep-warm without the shadow route, beside the shipped run (where the shadow route is on).
    const noShadow = rates[0].no_shadow as { orders_sent: number; stages: Record<string, Record<string, number>> };
    expect(noShadow.orders_sent).to.be.greaterThan(0);
    expect(noShadow.stages.md_to_send_call.count).to.equal(noShadow.stages.md_to_order.count);
    // And without the private loopback send(2) (keep_warm_socket_us 0): none counted there, some in the shipped run.
    const noSocket = rates[0].no_socket as { orders_sent: number; keep_warm_socket_turns: number; stages: Record<string, Record<string, number>> };
    expect(noSocket.orders_sent).to.be.greaterThan(0);
    expect(noSocket.keep_warm_socket_turns).to.equal(0);
    expect(rates[0].keep_warm_socket_turns).to.be.greaterThan(0);
    expect(rates[0].strategy_quotes_immediate).to.be.greaterThan(0);
    // And without the books' idle warm walk (book.warm_idle false): no slice walked there, some in the shipped run.
    const noBooksWarm = rates[0].no_books_warm as { orders_sent: number; books_warm_steps: number; stages: Record<string, Record<string, number>> };
    expect(noBooksWarm.orders_sent).to.be.greaterThan(0);
    expect(noBooksWarm.books_warm_steps).to.equal(0);
    expect(noBooksWarm.stages.signal_decide.count).to.equal(noBooksWarm.stages.md_to_order.count);
    expect(rates[0].books_warm_steps).to.be.greaterThan(0);
    // md_to_signal split where the order's packet entered the decoder (fused: the decoder is on the strategy's worker).
    for (const s of ['signal_wait', 'signal_decide']) expect(stages[s].count, s).to.equal(stages.md_to_signal.count);
    // The venue in a child process spinning on the CPU the stage does not use: every order reached it
    // (so the run did go through that process, not an in-process simulator).
    const vp = rates[0].venue_process as { venue_idle: string; orders_sent: number; venue_orders_in: number; stages: Record<string, Record<string, number>> }[];
    expect(vp).to.be.an('array').with.length(1);
    expect(vp[0].venue_idle).to.equal('spin');
    expect(vp[0].orders_sent).to.be.greaterThan(0);
    expect(vp[0].venue_orders_in).to.equal(vp[0].orders_sent);
    expect(vp[0].stages.order_syscall.count).to.equal(vp[0].orders_sent);
  });

  it('perf:order-warm measures order_send cold, shadow-warmed, shadow+real-warmed and as shipped side by side, every order through the venue process', () => {
    const saved = path.join(kResults, 'order-warm.json');
    const existed = fs.existsSync(saved);
    try {
      const out = runBenchmark('order-warm', ['--orders=40', '--warmup-orders=30', '--evict-mb=1', '--gap-ms=2']);
      expect(out.orders_sent).to.equal(40);
      const v = out.variants as Record<string, Record<string, { count: number; p50_ns: number }>>;
      expect(Object.keys(v)).to.deep.equal(['cold', 'shadow', 'shadow+real', 'shipped']);
      for (const name of Object.keys(v)) {
        for (const k of ['order_send', 'order_risk', 'order_journal', 'order_encode', 'order_syscall']) expect(v[name][k].count, `${name} ${k}`).to.equal(10);
      }
    } finally {
      if (!existed) fs.rmSync(saved, { force: true });
    }
  });

  it('perf:throughput searches the lossless offered rate of a lossy source and reports the loss at 1.5x', () => {
    const out = runBenchmark('throughput', ['--messages=20000', '--seconds=0.3', '--steps=2', '--start=100k', '--layouts=', '--layout-steps=1']);
    expect(out).to.include.keys('lossless_offered_msgs_per_s', 'loss_at_1_5x', 'search', 'messages_per_trial',
      'msgs_per_s', 'packets_per_s', 'loss', 'backend', 'baseline_msgs_per_s', 'baseline_packets_per_s', 'ratio');
    const search = out.search as Record<string, unknown>[];
    expect(search).to.be.an('array').with.length.greaterThan(0);
    for (const t of search) expect(t).to.include.keys('offered_msgs_per_s', 'lossless', 'loss', 'drops', 'messages');
    expect(out.messages_per_trial).to.equal(20000);
    expect(out.msgs_per_s).to.be.a('number');
    // The second row's source waits for the consumer: every message arrives.
    expect(out.loss).to.equal(0);
  });

  it('perf:throughput --only layouts measures the shipped pipeline fused and with its books in 2 shards, every worker\'s CPU per message', () => {
    const out = runBenchmark('throughput', ['--only=layouts', '--layout-messages=20000', '--layout-steps=1', '--layouts=2', '--start=100k']);
    const sl = out.shipped_layouts as { layouts: { book_shards: number; lossless_offered_msgs_per_s: number; loss_at_1_5x: number; workers_at_1_5x: { stages: string; messages: number }[]; for_10m: Record<string, number> }[] };
    // As shipped (spin), fused with the sharded layouts' idle (backoff), then 2 shards.
    expect(sl.layouts.map((l) => l.book_shards)).to.deep.equal([0, 0, 2]);
    const [fused, , sharded] = sl.layouts;
    expect(fused.workers_at_1_5x.map((w) => w.stages)).to.deep.equal(['decoder+book+strategy+router']);
    expect(sharded.workers_at_1_5x.map((w) => w.stages)).to.deep.equal(['decoder', 'book shard 0', 'book shard 1', 'strategy+router']);
    // The two shards' shares of the messages add up to what the decoder handled.
    const w = sharded.workers_at_1_5x;
    expect(w[1].messages + w[2].messages).to.be.closeTo(w[0].messages, 2);
    // 10 M msgs/s: this layout's ceiling is the least of its stages (one decoder, one merging
    // strategy+router), and only a strategy per shard scales past min(decoder, strategy+router).
    const per = (sharded as unknown as { per_core_msgs_per_s: { decoder: number; book_worker: number; strategy_router: number } }).per_core_msgs_per_s;
    const t = sharded.for_10m as unknown as { ceiling_msgs_per_s: number; any_shards_ceiling_msgs_per_s: number; reaches_10m: boolean; strategy_per_shard: { shard_workers: number; cores: number } };
    expect(t.ceiling_msgs_per_s).to.be.closeTo(Math.min(per.decoder, 2 * per.book_worker, per.strategy_router), 1);
    expect(t.any_shards_ceiling_msgs_per_s).to.be.closeTo(Math.min(per.decoder, per.strategy_router), 1);
    expect(t.reaches_10m).to.equal(t.ceiling_msgs_per_s >= 10e6);
    expect(t.strategy_per_shard.shard_workers).to.equal(Math.ceil(10e6 * (1 / per.book_worker + 1 / per.strategy_router)));
    expect(t.strategy_per_shard.cores).to.equal(t.strategy_per_shard.shard_workers + 2);
    for (const l of sl.layouts) expect(l.loss_at_1_5x).to.be.a('number');
  });

  it('perf:burst prints loss per phase by sequence, high-water and the time to drain', () => {
    const out = runBenchmark('burst', ['--rate=20k', '--multiplier=10', '--burst-ms=20', '--pre=0.1', '--post=0.2']);
    expect(out).to.include.keys('normal_loss', 'burst_loss', 'after_loss', 'drain_ms', 'high_water', 'by_sequence', 'ring_full_drops', 'lost_packets_by_sequence', 'normal_packets');
    expect(out.normal_loss).to.be.a('number');
    expect(out.burst_loss).to.be.a('number');
    expect(out.high_water).to.be.a('number');
    // Every packet the RX lcore dropped is found again as a sequence gap (or a lost tail).
    expect(out.lost_packets_by_sequence).to.equal(out.ring_full_drops);
    const phases = (out.by_sequence as { phases: { packets: number }[] }).phases;
    expect(phases).to.have.length(3);
    expect(phases[1].packets, 'burst packets').to.be.greaterThan(0);
  });

  it('perf:rx dpdk: testpmd counted between two of its own stats answers (its own Rx-pps agrees), same burst; ours in both layouts', function () {
    if (spawnSync('which', ['dpdk-testpmd']).status !== 0) unavailable(this, 'dpdk', 'dpdk-testpmd not installed');
    const out = runBenchmark('rx', ['--dpdk-only', '--seconds=1', '--rounds=1', '--burst=32']);
    const r = (out.results as Record<string, number | string | undefined>[])[0];
    expect(r.baseline_error, String(r.baseline_error)).to.equal(undefined);
    expect(r.burst).to.equal(32);
    expect(r.vdev_args).to.equal('size=64,copy=0');
    // Two clocks over one interval: ours between the answers' arrival, testpmd's TSC between the
    // two commands. A window that also counted start-up or the stop (the old 4x error) disagrees.
    const own = r.baseline_testpmd_own_pps as number, base = r.baseline_pps as number;
    expect(base).to.be.greaterThan(0);
    expect(Math.abs(own - base) / base, `testpmd Rx-pps ${own} vs counted ${base}`).to.be.below(0.25);
    expect(r.pps, 'packets reached the worker (RX lcore layout)').to.be.greaterThan(0);
    expect(r.pps_inline_one_cpu, 'packets reached the worker (inline)').to.be.greaterThan(0);
    expect(r).to.include.keys('pps_per_cpu_second', 'baseline_pps_per_cpu_second', 'rounds_detail', 'loadavg_1m');
    // The RX lcore alone: what it took per CPU-second it had, and how much of that it dropped.
    expect(r.lcore_pps_per_cpu_second, 'RX lcore per CPU-second').to.be.greaterThan(1e6).and.below(1e10);
    expect(r.lcore_drop_share).to.be.within(0, 1);
    // The consumer alone: the production RxConsumer read every packet it was given (a count of 0, a
    // NaN or an infinite rate from a clock that did not move would all fail here).
    expect(r.consumer_alone_pps_per_cpu_second, 'RxConsumer alone').to.be.greaterThan(1e6).and.below(1e10);
    expect(r.consumer_alone_ns_per_packet).to.be.greaterThan(0.1).and.below(1000);
  });

  it('perf:rx profile: ours and testpmd sampled in one run, each part in ns per packet, the parts adding up to the thread\'s cost', function () {
    if (spawnSync('which', ['dpdk-testpmd']).status !== 0) unavailable(this, 'dpdk', 'dpdk-testpmd not installed');
    if (spawnSync('which', ['perf']).status !== 0) unavailable(this, 'perf', 'perf (linux-tools) not installed');
    const r = spawnSync(process.execPath, [path.join(kPerf, 'rx-profile.js'), '--seconds=1', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ours: { nsPerPacket: number; parts: Record<string, number> }[]; testpmd: { nsPerPacket: number; parts: Record<string, number> } };
    const sum = (p: Record<string, number>) => Object.values(p).reduce((a, b) => a + b, 0);
    const ours = out.ours[0];
    expect(ours.nsPerPacket).to.be.greaterThan(0);
    expect(ours.parts['JS: RxConsumer.read + handler'], JSON.stringify(ours)).to.be.greaterThan(0);
    expect(ours.parts['net_null receive (alloc_bulk + stores)'], JSON.stringify(ours)).to.be.greaterThan(0);
    // The addon split by function: the descriptor fill and the mbufs' return each show on their own.
    expect(ours.parts['tickpath: descriptor fill + burst stamp (rxBurst)'], JSON.stringify(ours)).to.be.greaterThan(0);
    expect(ours.parts['tickpath: mbufs back to the pool (release)'], JSON.stringify(ours)).to.be.greaterThan(0);
    expect(Math.abs(sum(ours.parts) - ours.nsPerPacket), JSON.stringify(ours)).to.be.below(0.05 * ours.nsPerPacket + 0.05);
    expect(out.testpmd.parts['net_null receive (alloc_bulk + stores)'], JSON.stringify(out.testpmd)).to.be.greaterThan(0);
    expect(out.testpmd.parts['JS: RxConsumer.read + handler'], 'testpmd runs no JS').to.equal(undefined);
  });

  it('perf/rx-kernel stopped by SIGINT while trafgen sends: exit 130, no trafgen left (it runs in its own process group)', async function () {
    const reason = replayUnavailableReason();
    if (reason) unavailable(this, 'af_packet', reason);
    if (spawnSync('which', ['trafgen']).status !== 0) this.skip();
    const trafgens = (): number[] => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
      // A zombie (state Z) has stopped; only its parent's reaping is left.
      try { return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'trafgen' && !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${d}/stat`, 'utf8')); } catch { return false; }
    }).map(Number);
    const before = new Set(trafgens());
    const child = spawn(process.execPath, [path.join(kPerf, 'rx-kernel.js'), '--seconds', '4', '--backends', 'udp', '--rates', 'none', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // The first phase (cap's) runs trafgen at top speed for 4 s: interrupt inside it.
    let ours: number[] = [];
    for (let i = 0; i < 200 && ours.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ours = trafgens().filter((p) => !before.has(p));
    }
    expect(ours.length, 'trafgen started').to.be.greaterThan(0);
    child.kill('SIGINT');
    expect(await exited).to.equal(130);
    await new Promise((r) => setTimeout(r, 200));
    expect(trafgens().filter((p) => ours.includes(p)), 'trafgen processes still alive').to.deep.equal([]);
  });

  it('perf/rx-kernel measures the production RxConsumer in a worker: af_packet and udp deliver packets', function () {
    const reason = replayUnavailableReason();
    if (reason) unavailable(this, 'af_packet', reason);
    const out = runBenchmark('rx-kernel', ['--seconds', '1', '--backends', 'af_packet,udp', '--rates', '10k', '--step-seconds', '0.5']);
    const results = out.results as Record<string, unknown>[];
    expect(results.map((r) => r.backend)).to.deep.equal(['af_packet', 'udp']);
    for (const r of results) {
      expect(r).to.include.keys('pps', 'baseline_pps', 'ratio', 'drops', 'describe', 'lossless_pps', 'baseline_lossless_pps', 'ladder');
      // Every receiver got the same paced sender: one ladder step each, the sender's count beside the receiver's.
      for (const steps of Object.values(r.ladder as Record<string, { sent: number; received: number }[]>)) {
        expect(steps[0].sent, `${r.backend}: the sender sent the step`).to.be.greaterThan(0);
        expect(steps[0].received).to.be.a('number');
      }
      expect(r.pps, `${r.backend}: packets reached the worker`).to.be.greaterThan(0);
    }
  });
});
