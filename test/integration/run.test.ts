import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binding } from '../../lib/binding/native';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { unavailable } from '../helpers/require-backend';
import { formatNs } from '../../lib/ops/units';
import { configDirForVenueSim, startVenueSim, stopVenueSim, type Sim } from '../helpers/drill';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');
/** RX ring of the bundled dpdk run, in packets: the binding's default ring_size (apps/run.ts sets none). */
const kBundledRxRing = 4096;

interface RunJson {
  backend: string;
  counters: Record<string, number>;
  latency: Record<string, { count: number; p50_ns: number; p99_ns: number }>;
  scheduler?: { seconds: number; threads: { role?: string; run_ms: number; run_delay_ms: number; involuntary_switches: number }[] };
  strategy?: Record<string, number>;
  venue?: Record<string, number>;
  venueTransport?: string;
  venueSimTransport?: string;
}

function lastJson(stdout: string): RunJson {
  return JSON.parse(stdout.trim().split('\n').pop()!) as RunJson;
}

/** The whole system as `npm start` runs it: generated session -> backend -> books -> strategy -> router -> venues. */
describe('integration/tickpath run (npm start)', function () {
  this.timeout(120000);

  for (const backend of ['dpdk', 'pcap']) {
    it(`bundled default on ${backend}: every message decoded, orders acked and filled at the venue simulators, status lines every second`, () => {
      const r = spawnSync(process.execPath, [kCli, 'run', '--backend', backend, '--duration', '3', '--rate', '50000', '--symbols', '20', '--json'], { encoding: 'utf8' });
      expect(r.status, r.stderr + r.stdout.slice(-2000)).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.filter((l) => new RegExp(`^\\[\\s*\\d+s\\] ${backend}: .* msgs/s .* \\| drops \\d+ gaps \\d+`).test(l)).length).to.be.at.least(2);
      expect(r.stdout).to.match(/venue NSDQ \(ouch\): logged in/).and.match(/venue ARCA \(fix44\): logged in/);
      const j = lastJson(r.stdout);
      const c = j.counters;
      expect(j.backend).to.equal(backend);
      expect(c.itch_messages).to.be.greaterThan(50_000);
      expect(c.bad_frames + c.itch_errors + c.book_bad_references, JSON.stringify(c)).to.equal(0);
      expect(c.orders_sent).to.be.greaterThan(10);
      // Every order was accepted by risk and acknowledged by a venue over TCP; buys and sells cross.
      expect(c.orders_accepted).to.equal(c.orders_sent);
      expect(c.orders_acked).to.equal(c.orders_sent);
      expect(c.orders_filled).to.be.greaterThan(0);
      // Quotes of a symbol within one RX burst are merged (the dashboard's conflated counter counts).
      expect(c.conflated).to.be.greaterThan(0);
      expect(c.strategy_events + c.conflated).to.equal(c.book_events);
      expect(j.venue!.acks).to.equal(c.orders_acked);
      // Both venue sessions (OUCH and FIX) on the native transport, polled by the router stage.
      expect(j.venueTransport).to.equal('native');
      expect(c.venue_sessions_native).to.equal(2);
      // The in-process venue simulators serve those sessions on the native transport too.
      expect(j.venueSimTransport).to.equal('native');
      // one sample per packet that produced events for the strategy (nearly all of them)
      expect(j.latency.wire_to_handler.count).to.be.within(Math.floor(c.rx_packets * 0.9), c.rx_packets);
      expect(j.latency.md_to_order.count).to.equal(c.orders_sent);
      expect(j.latency.md_to_signal.count).to.equal(c.orders_sent);
      expect(j.latency.order_send.count).to.equal(c.orders_sent);
      // order_send split where its time goes, every order in every part (order out = send(2) returned).
      for (const k of ['order_risk', 'order_journal', 'order_encode', 'order_syscall']) expect(j.latency[k].count, k).to.equal(c.orders_sent);
      // Not one keep-warm dry run reached a venue. (How many ran depends on the quiet the scheduler
      // left between orders; test/pipeline/pipeline.test.ts checks they run in a quiet stretch.)
      expect(c.keep_warm_turns, 'keep-warm dry runs').to.be.a('number');
      expect(j.venue!.ordersIn, 'orders the venue simulators received').to.equal(c.orders_sent);
      // The strategy saw the quotes as the books made them (fused layout).
      expect(c.strategy_quotes_immediate).to.be.greaterThan(0).and.at.most(c.quotes);
      // What is printed is what was measured: the table's p50 and p99 are the JSON's, with units.
      for (const k of ['wire_to_handler', 'md_to_signal', 'order_send', 'md_to_order', 'order_syscall']) {
        const row = new RegExp(`^  ${k} +${j.latency[k].count} +(\\S+ \\S+) +\\S+ \\S+ +(\\S+ \\S+) `, 'm').exec(r.stdout);
        expect(row, `${k} row in:\n${r.stdout.slice(-3000)}`).to.not.equal(null);
        expect(row![1], `${k} p50`).to.equal(formatNs(j.latency[k].p50_ns));
        expect(row![2], `${k} p99`).to.equal(formatNs(j.latency[k].p99_ns));
        expect(row![1]).to.match(/ (ns|µs|ms|s)$/);
      }
      expect(r.stdout).to.match(/^  md_to_order = wire \(RX poll\) -> the order's first send\(2\) returned/m);
      expect(r.stdout).to.match(new RegExp(`^order path: ${c.keep_warm_turns} keep-warm dry runs \\(never sent\\)`, 'm'));
      // What the scheduler did to each of our threads over the run, printed and in the JSON.
      expect(r.stdout).to.match(/^threads over [\d.]+ s +ran \(ms\) +waited for a CPU \(ms\) +preempted +in kernel$/m);
      const roles = (j.scheduler?.threads ?? []).filter((t) => t.role !== undefined);
      const role = (re: RegExp) => roles.find((t) => re.test(t.role!));
      expect(role(/^stage worker 0 decoder\+book\+strategy\+router \(CPU 0\)$/), JSON.stringify(roles)).to.not.equal(undefined);
      // The layout: the stage worker alone on CPU 0, the main thread (venue simulators) with the RX poller on the last CPU.
      const last = os.cpus().length - 1;
      const main = role(new RegExp(`^main thread: venue simulators, stats \\(CPU ${last}\\)$`))!;
      expect(main, JSON.stringify(roles)).to.not.equal(undefined);
      // Nothing lost. Ring drops can happen only on dpdk (net_ring fed by the generator at its
      // recorded pace): the pcap backend waits for the consumer, so there it is the absence of
      // sequence gaps that says nothing was lost. On dpdk the RX ring (kBundledRxRing packets, the
      // port's default: the bundled run sets no ring size) overflows only when the stage worker,
      // which drains it far faster than the feed fills it, is off its CPU (runnable but waiting for
      // it, or blocked) about as long as the ring lasts at the feed's rate; it spins, so that time
      // is the run's length less its CPU time (half the ring's time at the average rate: the feed
      // comes in bursts). On a machine that loaded, which the scheduler report shows, drops are
      // what a live feed does and the gaps they leave are theirs; otherwise (a quiet machine: the
      // worker is off its CPU for next to nothing) a single drop or gap fails.
      const worker = role(/^stage worker 0 /)!;
      const ringMs = kBundledRxRing / (c.rx_packets / j.scheduler!.seconds) * 1000;
      const offCpuMs = j.scheduler!.seconds * 1000 - worker.run_ms;
      const starved = backend === 'dpdk' && offCpuMs >= ringMs / 2;
      const why = `${JSON.stringify(c)}; stage worker off its CPU ${Math.round(offCpuMs)} ms of ${Math.round(j.scheduler!.seconds * 1000)}, ` +
        `the RX ring lasts ${Math.round(ringMs)} ms`;
      if (!starved) expect(c.sequence_gaps + c.rx_ring_drops, why).to.equal(0);
      else {
        if (c.sequence_gaps > 0) expect(c.rx_ring_drops, `gaps without ring drops: ${why}`).to.be.greaterThan(0);
        if (c.rx_ring_drops > 0) console.log(`      ${c.rx_ring_drops} ring drops, ${c.sequence_gaps} gaps on a starved stage worker (allowed): ${why.slice(why.indexOf('; ') + 2)}`);
      }
      // The main thread only serves the venue simulators and the stats: a replayer spinning on it
      // between packets (as it once did) takes most of a CPU and starves the venues' event loop.
      expect(main.run_ms, JSON.stringify(roles)).to.be.lessThan(j.scheduler!.seconds * 1000 * 0.3);
      if (backend === 'dpdk') {
        expect(role(new RegExp(`^paced sender \\(CPU ${last}\\)$`)), JSON.stringify(roles)).to.not.equal(undefined);
        expect(role(new RegExp(`^RX poller rte-worker-\\d+ \\(CPU ${last}\\)$`)), JSON.stringify(roles)).to.not.equal(undefined);
      }
    });
  }

  it('--venue-process spin@LAST: the venue simulators in a child process get every order; the dashboard counters all count; the scheduler table names the venue', () => {
    const last = os.cpus().length - 1;
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '3', '--rate', '50000', '--symbols', '20', '--metrics-port', 'off',
      '--venue-process', `spin@${last}`, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout.slice(-2000)).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^venue simulators: venue-sim child process, CPU ${last}, idle spin, pid \\d+, OUCH 127\\.0\\.0\\.1:\\d+, FIX 127\\.0\\.0\\.1:\\d+$`, 'm'));
    const j = lastJson(r.stdout);
    const c = j.counters;
    // Every order the router sent reached the child process (its own count, read from its exit stats).
    expect(c.orders_sent).to.be.greaterThan(10);
    expect(j.venue!.ordersIn, 'orders the venue process received').to.equal(c.orders_sent);
    expect(j.venue!.acks).to.equal(c.orders_acked);
    expect(j.venueSimTransport).to.equal('native');
    // Each counter the dashboard and /metrics show that this run exercises counts (conflated was
    // always 0 once: order events flushed every pending quote).
    for (const k of ['rx_packets', 'rx_bytes', 'moldudp64_packets', 'itch_messages', 'book_events', 'quotes', 'conflated', 'strategy_events',
      'orders_sent', 'orders_accepted', 'orders_acked', 'orders_filled', 'venue_sessions_native', 'venue_polls', 'loop_turns', 'strategy_quotes_immediate']) {
      expect(c[k], k).to.be.greaterThan(0);
    }
    expect(c.strategy_events + c.conflated, 'every book event reached the strategy or was conflated').to.equal(c.book_events);
    const roles = (j.scheduler?.threads ?? []).filter((t) => t.role !== undefined);
    const venue = roles.find((t) => /^venue simulators: venue-sim child process, CPU \d+, idle spin$/.test(t.role!));
    expect(venue, JSON.stringify(roles)).to.not.equal(undefined);
    expect(venue!.run_ms, 'a spinning venue runs').to.be.greaterThan(100);
    expect(roles.find((t) => t.role === `main thread: stats (CPU ${last})`), JSON.stringify(roles)).to.not.equal(undefined);
    expect(r.stdout).to.match(/^  venue simulators: venue-sim child process/m);
  });

  it('--venue-process: a SIGKILLed run does not leave its spinning venue process behind', async () => {
    const child = spawn(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '0', '--rate', '20000', '--metrics-port', 'off', '--venue-process', 'spin@0'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const until = Date.now() + 60_000;
    let m: RegExpExecArray | null = null;
    while ((m = /^venue simulators: .*, pid (\d+),/m.exec(out)) === null && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(m, out.slice(-1500)).to.not.equal(null);
    const pid = Number(m![1]);
    const alive = (p: number) => { try { process.kill(p, 0); return true; } catch { return false; } };
    expect(alive(pid), 'the venue process runs').to.equal(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const gone = Date.now() + 5000;
    while (alive(pid) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    const left = alive(pid);
    if (left) process.kill(pid, 'SIGKILL');
    expect(left, 'venue process still running after its run was killed').to.equal(false);
  });

  it('--venue-process with a bad value is a usage error naming the option and what it takes', () => {
    const r = spawnSync(process.execPath, [kCli, 'run', '--venue-process', 'fast@1', '--metrics-port', 'off'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/option --venue-process is 'fast@1', expected MODE@CPU with MODE block or spin and CPU 0\.\.\d+/);
  });

  it('while running: /metrics and tickpath monitor see it live; SIGINT stops RX, drains, prints final stats and exits 0', async () => {
    const instance = `itest${process.pid}`;
    const child = spawn(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '0', '--rate', '20000', '--metrics-port', '0', '--instance', instance], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => { if (/\[\s*2s\]/.test(out)) { clearInterval(check); resolve(); } }, 50);
    });
    const url = /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(out)![1];
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const decoded = Number(/^tickpath_itch_messages(?:_total)?(?:\{[^}]*\})? (\d+)/m.exec(metrics)![1]);
    expect(decoded).to.be.greaterThan(0);
    const mon = spawnSync(process.execPath, [kCli, 'monitor', '--once', '--instance', instance], { encoding: 'utf8' });
    expect(mon.status, mon.stderr).to.equal(0);
    expect(mon.stdout).to.match(/pcap/);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).to.equal(0);
    expect(out).to.match(/final \(.* pcap\): .* ITCH messages/).and.match(/orders: sent \d+/);
  });

  it('--pcap replays a given capture through DPDK into the pipeline to its end, every message decoded', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-run-pcap-'));
    const capture = path.join(dir, 'short.pcap');
    const summary = new SessionGenerator({ symbols: 5, rate: 20000, durationSeconds: 0.3, seed: 3 }).writePcap(capture);
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'dpdk', '--pcap', capture, '--duration', '0', '--metrics-port', 'off', '--json'], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr + r.stdout.slice(-1500)).to.equal(0);
    const j = lastJson(r.stdout);
    expect(j.backend).to.equal('dpdk');
    expect(j.counters.itch_messages).to.equal(summary.messages);
    expect(j.counters.rx_packets).to.equal(summary.packets);
    expect(j.counters.sequence_gaps + j.counters.book_bad_references + j.counters.rx_ring_drops).to.equal(0);
  });

  it('on DPDK, SIGINT stops the lcores, cleans up the EAL and exits 0', async () => {
    const child = spawn(process.execPath, [kCli, 'run', '--backend', 'dpdk', '--duration', '0', '--rate', '20000', '--metrics-port', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => { if (/\[\s*1s\]/.test(out)) { clearInterval(check); resolve(); } }, 50);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out.slice(-1500)).to.equal(0);
    expect(out).to.match(/final \(.* dpdk\): .* ITCH messages/);
  });

  it('--config with a broken routing file fails fast with every problem at file:line, before anything starts', () => {
    const root = path.join(__dirname, '..', '..', '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-run-broken-'));
    for (const name of ['feed_config.yml', 'performance.yml', 'routing_config.yml']) {
      fs.writeFileSync(path.join(dir, name), fs.readFileSync(path.join(root, 'configs', name), 'utf8').split('../test/').join(`${root}/test/`));
    }
    const routing = path.join(dir, 'routing_config.yml');
    fs.writeFileSync(routing, fs.readFileSync(routing, 'utf8').replace('{ venue: ARCA, share: 0.4', '{ venue: BATS, share: 0.4').replace('max_order_qty:', 'max_order_quantity:'));
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [kCli, 'run', '--config', dir, '--metrics-port', 'off'], { encoding: 'utf8', timeout: 30000 });
    const ms = Date.now() - t0;
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stdout + r.stderr).to.equal(1);
    expect(ms).to.be.below(10000);
    expect(r.stderr).to.contain('nothing was started');
    expect(r.stderr).to.match(new RegExp(`${routing.replace(/[.]/g, '\\.')}:\\d+: routing\\.rules\\.AAPL\\[1\\]\\.venue is "BATS"`));
    expect(r.stderr).to.match(new RegExp(`${routing.replace(/[.]/g, '\\.')}:\\d+: routing\\.risk\\.max_order_quantity is an unknown key`));
    expect(r.stderr).to.not.match(/ERR_STAGE_CRASHED|stage worker/);
    // Nothing started: no backend, venue simulator, worker or stats file announced.
    expect(r.stdout).to.equal('');
  });

  it('--config with the shipped dpdk section (pcap vdev, no hugepages, in memory) starts and replays the capture', function () {
    const info = binding().backends().find((b) => b.name === 'dpdk');
    if (!info?.compiledIn) unavailable(this, 'dpdk', 'not compiled in');
    const root = path.join(__dirname, '..', '..', '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-run-dpdk-'));
    for (const name of ['feed_config.yml', 'performance.yml', 'routing_config.yml']) {
      let text = fs.readFileSync(path.join(root, 'configs', name), 'utf8').split('../test/').join(`${root}/test/`);
      if (name === 'feed_config.yml') text = text.replace(/^ {2}backend: pcap/m, '  backend: dpdk');
      // The run uses the configured journal (../var from the config: outside this temp dir).
      if (name === 'routing_config.yml') text = text.replace('path: ../var/orders.journal', 'path: ./var/orders.journal');
      fs.writeFileSync(path.join(dir, name), text);
    }
    const r = spawnSync(process.execPath, [kCli, 'run', '--config', dir, '--venue-sim', '--duration', '2', '--metrics-port', 'off', '--json'], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr + r.stdout.slice(-1500)).to.equal(0);
    const j = lastJson(r.stdout);
    expect(j.backend).to.equal('dpdk');
    expect(j.counters.rx_packets).to.be.greaterThan(0);
  });

  it('rejects bad options with the option named, exit 2 (bad usage, as in every command)', () => {
    const r = spawnSync(process.execPath, [kCli, 'run', '--duration=-1'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/--duration is '-1', expected seconds >= 0/);
    const b = spawnSync(process.execPath, [kCli, 'run', '--backend', 'carrier-pigeon'], { encoding: 'utf8' });
    expect(b.stderr).to.match(/--backend is 'carrier-pigeon'/);
    expect(b.status).to.equal(2);
    const u = spawnSync(process.execPath, [kCli, 'run', '--no-such-option'], { encoding: 'utf8' });
    expect(u.stderr).to.match(/Unknown option '--no-such-option'/);
    expect(u.status).to.equal(2);
  });

  // The bundled run's "acked = sent" failed once under load (11-16 on 2 CPUs): the stage worker
  // stopped as soon as its inputs were drained, and the ack of an order sent in its last turns,
  // from venue simulators on a thread that was off its CPU, arrived after the final count. A
  // stopping worker now polls its venues until every order it sent was answered (at most 2 s).
  // Here every answer takes 300 ms (venue-sim --latency-ms), so orders sent in the last 300 ms are
  // always in flight at the stop: without the wait, acked < sent (measured: 62 of 681 short).
  it('orders in flight at the stop are waited for: acks 300 ms late still all counted (acked = sent = the venue\'s acks)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-run-acks-'));
    let sim: Sim | null = null;
    try {
      const tmp = path.join(dir, 'tmp');
      fs.mkdirSync(tmp);
      const pcap = path.join(dir, 'session.pcap');
      const gen = spawnSync(process.execPath, [kCli, 'gen', '--out', pcap, '--symbols', '20', '--rate', '50000', '--duration', '3'], { encoding: 'utf8' });
      expect(gen.status, gen.stderr).to.equal(0);
      sim = await startVenueSim(dir, ['--comp-id', 'ARCA', '--latency-ms', '300']);
      const cfg = configDirForVenueSim(dir, pcap, sim);
      // A private TMPDIR: the FIX session's store defaults to TMPDIR/tickpath-fix.
      const r = spawnSync(process.execPath, [kCli, 'run', '--config', cfg, '--duration', '3', '--metrics-port', 'off', '--json'],
        { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp }, timeout: 90_000 });
      expect(r.status, r.stderr + r.stdout.slice(-2000)).to.equal(0);
      const c = lastJson(r.stdout).counters;
      expect(c.orders_sent, 'orders sent (the last 300 ms of them in flight at the stop)').to.be.greaterThan(50);
      expect(c.orders_acked, r.stdout.slice(-3000)).to.equal(c.orders_sent);
      expect(r.stdout).to.not.match(/unanswered by their venue/);
      const report = await stopVenueSim(sim);
      sim = null;
      expect(report.length, 'orders the venue received').to.equal(c.orders_sent);
    } finally {
      if (sim !== null && sim.proc.child.exitCode === null) sim.proc.child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
