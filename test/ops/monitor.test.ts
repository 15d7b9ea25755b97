import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { counterRates, dropsOf, fmt, renderLine, renderView } from '../../apps/monitor';
import { loadConfigs, portOptionsFrom } from '../../lib/config';
import { kStatsMagicI32, kStatsPidI32, kStatsMagic, StatsPublisher, StatsReader, StatsSnapshot } from '../../lib/ops/stats-publisher';
import { Pipeline, PipelineStats } from '../../lib/pipeline';
import { kLatencyNames, kWorkerCounterNames } from '../../lib/pipeline/worker-messages';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { workerResult } from '../helpers/worker-result';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');

/** Every counter = n * (its index + 1), so a torn snapshot would show counters out of ratio. */
function statsAt(n: number): PipelineStats {
  const counters: Record<string, number> = {};
  kWorkerCounterNames.forEach((name, i) => { counters[name] = n * (i + 1); });
  const latency: PipelineStats['latency'] = {};
  for (const name of kLatencyNames) latency[name] = { count: n, min: 100, mean: 900, p50: 800, p90: 1500, p99: 12_400, p999: 3_100_000, p9999: 5_000_000, max: 1_200_000_000 };
  return {
    backend: 'pcap', counters, workers: [counters], latency,
    port: {
      queues: [{ rxPackets: n, rxBytes: n * 100, ringFullDrops: 7, truncated: 0, txPackets: 0, txBytes: 0, txFailed: 0, txOversize: 0 }],
      device: { imissed: 0, ierrors: 0, rxNoMbuf: 0, kernelDrops: 0, oerrors: 0, malformed: 0, poolSize: 0, poolFree: 0 },
    },
    venue: { ouchOrders: 4 },
  };
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

function runMonitor(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, 'monitor', ...args], { encoding: 'utf8', timeout: 20000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ops: stats publisher and reader', function () {
  this.timeout(30000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-stats-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('publishes a snapshot that another reader maps and reads back; close removes the file', () => {
    const pub = new StatsPublisher({ instance: 'roundtrip', dir });
    expect(pub.path).to.equal(path.join(dir, 'tickpath-roundtrip.stats'));
    const reader = StatsReader.attach('roundtrip', dir);
    expect(reader.read()).to.equal(undefined); // nothing published yet
    expect(pub.publish(statsAt(5), { note: 'x' })).to.equal(true);
    const s = reader.read()!;
    expect(s.instance).to.equal('roundtrip');
    expect(s.pid).to.equal(process.pid);
    expect(s.sequence).to.equal(1);
    expect(s.stats).to.deep.equal(statsAt(5));
    expect(s.extra).to.deep.equal({ note: 'x' });
    pub.publish(statsAt(6));
    expect(reader.read()!.stats.counters.rx_packets).to.equal(6);
    expect(reader.read()!.sequence).to.equal(2);
    expect(reader.sequence() % 2).to.equal(0);
    expect(StatsReader.attach(pub.path).read()!.stats.counters.rx_packets).to.equal(6); // by path
    pub.close();
    expect(fs.existsSync(pub.path)).to.equal(false);
    expect(() => pub.publish(statsAt(1))).to.throw(/closed/);
  });

  it('default instance is the process id; start() publishes now and then every interval', async () => {
    const pub = new StatsPublisher({ dir });
    try {
      expect(pub.instance).to.equal(String(process.pid));
      let n = 0;
      pub.start(() => statsAt(++n), 50);
      expect(pub.publishedCount).to.equal(1);
      await new Promise((r) => setTimeout(r, 400));
      expect(pub.publishedCount).to.be.greaterThan(2);
      const s = StatsReader.attach(String(process.pid), dir).read()!;
      expect(s.stats.counters.rx_packets).to.equal(s.sequence);
    } finally {
      pub.close();
    }
  });

  it('lists running instances and skips files of processes that have exited', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'list-'));
    const a = new StatsPublisher({ instance: 'alpha', dir: sub });
    const b = new StatsPublisher({ instance: 'beta', dir: sub });
    fs.writeFileSync(path.join(sub, 'unrelated.stats'), 'x');
    fs.writeFileSync(path.join(sub, 'tickpath-garbage.stats'), 'not a stats file at all');
    // A stale file: header of a pid that no longer exists.
    const stale = Buffer.alloc(256);
    stale.writeInt32LE(kStatsMagic, kStatsMagicI32 * 4);
    stale.writeInt32LE(deadPid(), kStatsPidI32 * 4);
    fs.writeFileSync(path.join(sub, 'tickpath-gone.stats'), stale);
    try {
      expect(StatsReader.list(sub).map((i) => [i.instance, i.pid, i.alive])).to.deep.equal([['alpha', process.pid, true], ['beta', process.pid, true]]);
      expect(StatsReader.list(sub, true).map((i) => i.instance)).to.deep.equal(['alpha', 'beta', 'gone']);
      expect(() => StatsReader.attach('gone', sub)).to.throw(/instance 'gone' is not running \(pid \d+ has exited.*`tickpath run`/);
      expect(() => StatsReader.attach('nobody', sub)).to.throw(/no tickpath instance 'nobody'.*`tickpath run`/);
      // A new publisher takes over a stale name.
      const c = new StatsPublisher({ instance: 'gone', dir: sub });
      c.publish(statsAt(1));
      expect(StatsReader.attach('gone', sub).read()!.pid).to.equal(process.pid);
      c.close();
    } finally {
      a.close();
      b.close();
    }
    expect(StatsReader.list(sub)).to.deep.equal([]);
    expect(StatsReader.list(path.join(sub, 'missing-dir'))).to.deep.equal([]);
  });

  it('a publisher that starts removes the stats and book files of instances whose process has exited, and nothing else', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'sweep-'));
    const live = new StatsPublisher({ instance: 'live', dir: sub });
    fs.writeFileSync(path.join(sub, 'tickpath-live.book'), 'mailbox of a running instance');
    // What a SIGKILLed run leaves: its stats file (header of a pid that has exited) and its book mailbox.
    const stale = Buffer.alloc(256);
    stale.writeInt32LE(kStatsMagic, kStatsMagicI32 * 4);
    stale.writeInt32LE(deadPid(), kStatsPidI32 * 4);
    fs.writeFileSync(path.join(sub, 'tickpath-killed.stats'), stale);
    fs.writeFileSync(path.join(sub, 'tickpath-killed.book'), 'mailbox');
    fs.writeFileSync(path.join(sub, 'tickpath-garbage.stats'), 'not a stats file at all');
    fs.writeFileSync(path.join(sub, 'unrelated.book'), 'x');
    try {
      expect(StatsReader.list(sub, true).map((i) => [i.instance, i.alive])).to.deep.equal([['killed', false], ['live', true]]);
      const next = new StatsPublisher({ instance: 'next', dir: sub });
      next.close();
      expect(fs.readdirSync(sub).sort()).to.deep.equal(['tickpath-garbage.stats', 'tickpath-live.book', 'tickpath-live.stats', 'unrelated.book']);
      expect(StatsReader.attach('live', sub).pid).to.equal(process.pid);
    } finally {
      live.close();
    }
  });

  it('checks options with messages naming them; refuses snapshots larger than the file', () => {
    expect(() => new StatsPublisher({ instance: '../etc', dir })).to.throw(/stats instance is "..\/etc", expected 1 to 64 characters/);
    expect(() => new StatsPublisher({ instance: 'x', dir, capacityBytes: 10 })).to.throw(/capacityBytes is 10/);
    const pub = new StatsPublisher({ instance: 'small', dir, capacityBytes: 1024 });
    try {
      expect(pub.publish(statsAt(1))).to.equal(false);
      expect(pub.oversize).to.equal(1);
      expect(StatsReader.attach('small', dir).read()).to.equal(undefined);
    } finally {
      pub.close();
    }
  });

  it('a reader never sees a torn snapshot while another thread publishes as fast as it can', async () => {
    const pub = new StatsPublisher({ instance: 'seqlock', dir });
    pub.publish(statsAt(1));
    // The writer: a worker thread mapping the same file and writing the same seqlock protocol.
    const stopFlag = new SharedArrayBuffer(4);
    const worker = new Worker(`
      const { workerData, parentPort } = require('worker_threads');
      const { binding } = require(workerData.native);
      const sab = binding().mapSharedFile(workerData.file, 0, false);
      const h = new Int32Array(sab, 0, 32);
      const body = new Uint8Array(sab, 128);
      const stop = new Int32Array(workerData.stop);
      let n = 1;
      while (Atomics.load(stop, 0) === 0) {
        n++;
        // Sizes vary (padding), so a torn read would mix lengths and contents.
        const snap = { instance: 'seqlock', pid: process.pid, atMs: Date.now(), uptimeMs: n, sequence: n,
          stats: { n, pad: 'x'.repeat(n % 500), counters: { a: n, b: n * 2, c: n * 3 } } };
        const bytes = Buffer.from(JSON.stringify(snap));
        const seq = Atomics.load(h, 16);
        Atomics.store(h, 16, seq + 1);
        body.set(bytes);
        Atomics.store(h, 17, bytes.length);
        Atomics.store(h, 16, seq + 2);
        // Every other write: a pause as long as a write (tens of us), so the reader both overlaps
        // writes and gets clean windows (a writer that never pauses starves any seqlock reader).
        if (n & 1) Atomics.wait(stop, 0, 0, 0.05);
      }
      parentPort.postMessage(n);
    `, { eval: true, workerData: { native: path.join(kRoot, 'dist', 'lib', 'binding', 'native.js'), file: pub.path, stop: stopFlag } });
    const written = workerResult<number>(worker, { name: 'seqlock writer worker', timeoutMs: 20_000 });
    written.catch(() => { /* awaited in finally; this only stops an unhandled rejection meanwhile */ });
    const reader = StatsReader.attach('seqlock', dir);
    let checked = 0;
    let retried = 0;
    let last = 0;
    const t0 = Date.now();
    try {
      while (Date.now() - t0 < 1500) {
        const s = reader.read(10_000_000) as unknown as { sequence: number; stats: { n: number; pad: string; counters: { a: number; b: number; c: number } } };
        if (s.sequence > 1) {
          const n = s.stats.n;
          expect(s.sequence).to.equal(n);
          expect(s.stats.pad.length).to.equal(n % 500);
          expect([s.stats.counters.a, s.stats.counters.b, s.stats.counters.c]).to.deep.equal([n, n * 2, n * 3]);
          expect(n).to.be.at.least(last);
          last = n;
          checked++;
          if (reader.lastRetries > 0) retried++;
        }
        if (checked % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      Atomics.store(new Int32Array(stopFlag), 0, 1);
      expect(await written).to.be.at.least(last);
      await worker.terminate();
      pub.close();
    }
    expect(checked).to.be.greaterThan(100);
    expect(retried, 'reads that overlapped a write and retried').to.be.greaterThan(0);
  });
});

describe('ops: tickpath monitor', function () {
  this.timeout(30000);
  const instance = `montest-${process.pid}`;
  let pub: StatsPublisher;
  before(() => {
    pub = new StatsPublisher({ instance }); // the real /dev/shm (or TICKPATH_STATS_DIR)
    pub.publish(statsAt(1000));
  });
  after(() => pub.close());

  it('--once prints one snapshot of the named instance and exits 0', () => {
    const r = runMonitor(['--once', '--instance', instance]);
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    const out = r.stdout;
    expect(out).to.contain(`instance ${instance}`);
    expect(out).to.contain(`pid ${process.pid}`);
    expect(out).to.contain('backend pcap');
    expect(out).to.match(/messages\s+6000 total\s+n\/a/); // itch_messages is counter #6; no rate from one snapshot
    expect(out).to.match(/drops\s+3007 /); // rx_ring_drops 3 x 1000 + the port queue's 7 ring-full drops
    expect(out).to.match(/wire_to_handler\s+1000\s+800ns\s+1\.5us\s+12\.4us\s+3\.10ms\s+5\.00ms\s+1\.20s/);
    expect(out).to.contain('orders    sent 14.0k  accepted 15.0k  rejected 16.0k  acked 17.0k  partial 19.0k  filled 18.0k  cancelled 20.0k  venue_rej 21.0k');
  });

  it('--once --json: one object with raw counters, drops, gaps and latency keys that carry their unit', () => {
    const r = runMonitor(['--once', '--json', '--instance', instance]);
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    expect(j.instance).to.equal(instance);
    expect(j.pid).to.equal(process.pid);
    expect(j.counters.itch_messages).to.equal(6000);
    expect(j.drops).to.equal(3007);
    expect(j.latency.wire_to_handler).to.include({ count: 1000, p50_ns: 800, p90_ns: 1500, p99_ns: 12_400, max_ns: 1_200_000_000 });
    expect(j.latency.wire_to_handler).to.not.have.property('p50');
    expect(j.rates).to.deep.equal({}); // one snapshot: no rate yet
  });

  it('no instance: exit 1 with a message naming `tickpath run`', () => {
    const r = runMonitor(['--once', '--instance', `nobody-${process.pid}`]);
    expect(r.status).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/no tickpath instance 'nobody-\d+'.*start one with `tickpath run`/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-mon-empty-'));
    try {
      const e = runMonitor(['--once', '--dir', empty]);
      expect(e.status).to.equal(1);
      expect(e.stderr).to.contain(`no running tickpath instance (no live tickpath-*.stats in ${empty}); start one with \`tickpath run\``);
      const viaEnv = runMonitor([], { TICKPATH_STATS_DIR: empty });
      expect(viaEnv.status).to.equal(1);
      expect(viaEnv.stderr).to.contain('tickpath run');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('picks the only running instance; asks for --instance when several run', () => {
    const sub = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-mon-'));
    const one = new StatsPublisher({ instance: 'one', dir: sub });
    one.publish(statsAt(1));
    try {
      const r = runMonitor(['--once', '--dir', sub]);
      expect(r.status).to.equal(0);
      expect(r.stdout).to.contain('instance one');
      const two = new StatsPublisher({ instance: 'two', dir: sub });
      try {
        const s = runMonitor(['--once', '--dir', sub]);
        expect(s.status).to.equal(1);
        expect(s.stderr).to.match(/2 tickpath instances are running \(one pid \d+, two pid \d+\); pick one with --instance ID/);
      } finally {
        two.close();
      }
    } finally {
      one.close();
      fs.rmSync(sub, { recursive: true, force: true });
    }
  });

  it('bad usage exits 2 naming the option', () => {
    const r = runMonitor(['--interval', '5']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('option --interval is "5", expected milliseconds >= 100');
    expect(runMonitor(['--bogus']).status).to.equal(2);
  });

  it('piped (not a TTY): one line per interval with rates from successive snapshots; SIGINT exits 0', async () => {
    let n = 1000;
    pub.start(() => statsAt(n += 500), 100);
    const child = spawn(process.execPath, [kCli, 'monitor', '--instance', instance, '--interval', '150'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    try {
      const t0 = Date.now();
      while (out.split('\n').filter(Boolean).length < 3 && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 50));
    } finally {
      pub.stop();
      child.kill('SIGINT');
    }
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(err).to.equal('');
    expect(code).to.equal(0);
    const lines = out.split('\n').filter(Boolean);
    expect(lines.length).to.be.at.least(3);
    expect(out).not.to.contain('\x1b['); // no ANSI when piped
    for (const l of lines) expect(l).to.match(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ ${instance} msgs \\S+ \\(\\S+/s\\) pkts .* drops .* gaps .* wire_to_handler p50 800ns p99 12\\.4us p99\\.9 3\\.10ms orders sent`));
    // Later lines carry a positive message rate (the counters grew between snapshots).
    expect(lines.slice(1).some((l) => /msgs \S+ \((?!0\/s)(?!-\/s)[\d.]+k?\/s\)/.test(l))).to.equal(true);
  });
});

describe('ops: tickpath monitor on a terminal', function () {
  this.timeout(30000);
  const hasScript = spawnSync('script', ['--version']).status === 0;

  it('redraws in place with ANSI (home, clear to end of line) and restores the cursor on Ctrl-C', async function () {
    if (!hasScript) this.skip(); // util-linux `script` gives the child a pseudo-terminal
    const instance = `montty-${process.pid}`;
    const pub = new StatsPublisher({ instance });
    try {
      pub.publish(statsAt(2000));
      const cmd = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(kCli)} monitor --instance ${instance} --interval 200`;
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      const t0 = Date.now();
      while (!out.includes('(Ctrl-C to quit)') && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 50));
      // A frame is on screen, so the monitor handles SIGINT: type Ctrl-C into the terminal like a user.
      child.stdin.write('\x03');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(timer);
      expect(out).to.contain('\x1b[?25l\x1b[2J'); // cursor hidden, screen cleared once
      expect(out).to.contain('\x1b[H'); // each frame starts at home
      expect(out).to.match(/tickpath monitor\s+instance montty-\d+.*\x1b\[K/);
      expect(out).to.contain('(Ctrl-C to quit)');
      expect(out).to.contain('\x1b[?25h'); // cursor back
      expect(code).to.equal(0);
    } finally {
      pub.close();
    }
  });
});

describe('ops: a real pipeline published for tickpath monitor', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-monpipe-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('monitor --once shows the pipeline\'s decoded message count, latency stages and the drops a lossy source made', async () => {
    const capture = path.join(dir, 'session.pcap');
    new SessionGenerator({ symbols: 10, rate: 50000, durationSeconds: 1, seed: 5 }).writePcap(capture);
    const configs = path.join(kRoot, 'configs');
    const { feed, performance } = loadConfigs(configs);
    feed.pcap!.file = capture;
    feed.pcap!.pace = 'fast';
    feed.pcap!.loops = 1;
    // A replay that waits for the pipeline cannot drop, so "drops 0" would say nothing: this one drops
    // at a full 64-slot ring as a NIC would, at top speed, and the monitor must show what was lost.
    const port = portOptionsFrom(feed, performance);
    const p = await Pipeline.start({
      feed, performance, routingFile: path.join(configs, 'routing_config.yml'), venueSimulator: true,
      journalPath: path.join(dir, 'journal'), fixStoreDir: path.join(dir, 'fix'),
      portOptions: { ...port, ringSize: 64, pcap: { ...port.pcap!, lossy: true } },
    });
    const instance = `monpipe-${process.pid}`;
    const pub = new StatsPublisher({ instance, dir });
    try {
      const t0 = Date.now();
      while (!p.sourceDone && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 20));
      let last = -1;
      for (let i = 0; i < 100; i++) {
        const n = p.stats().counters.book_events;
        if (n === last && n > 0) break;
        last = n;
        await new Promise((r) => setTimeout(r, 100));
      }
      pub.start(() => p.stats(), 200, () => ({ placement: p.placement() }));
      const expected = p.stats().counters.itch_messages;
      expect(expected).to.be.greaterThan(1000);
      const child = spawn(process.execPath, [kCli, 'monitor', '--once', '--dir', dir, '--instance', instance], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code).to.equal(0);
      expect(out).to.contain(`instance ${instance}`);
      expect(out).to.contain('backend pcap');
      expect(out).to.match(new RegExp(`messages\\s+${fmt(expected).replace('.', '\\.')} total`));
      for (const stage of kLatencyNames) expect(out).to.contain(stage);
      const snap = StatsReader.attach(instance, dir).read()!;
      const drops = dropsOf(snap);
      expect(drops, 'packets the lossy replay dropped at the full ring').to.be.greaterThan(0);
      expect(out).to.match(new RegExp(`drops\\s+${fmt(drops).replace('.', '\\.')} `));
      expect(snap.stats.counters.itch_messages).to.equal(expected);
      expect((snap.extra as { placement: unknown[] }).placement).to.have.length(performance.workers.length);
    } finally {
      pub.close();
      await p.stop();
    }
  });
});

describe('ops: monitor views', () => {
  const snap = (n: number, uptimeMs: number, sequence: number): StatsSnapshot =>
    ({ instance: 'v', pid: 1, atMs: 1_700_000_000_000 + uptimeMs, uptimeMs, sequence, stats: statsAt(n) });

  it('rates are counter deltas over the snapshots\' monotonic time', () => {
    const r = counterRates(snap(1000, 0, 1), snap(3000, 2000, 2));
    expect(r.itch_messages).to.equal((3000 - 1000) * 6 / 2);
    expect(r.rx_packets).to.equal(1000);
    expect(counterRates(undefined, snap(1, 0, 1))).to.deep.equal({});
    expect(counterRates({ ...snap(1, 0, 1), pid: 2 }, snap(3, 10, 2))).to.deep.equal({}); // a restarted instance
  });

  it('the full view shows rates, drops, latency per stage and orders by state', () => {
    const v = renderView(snap(3000, 2000, 2), snap(1000, 0, 1)).join('\n');
    expect(v).to.match(/messages\s+18\.0k total\s+6000\/s/);
    expect(v).to.match(/wire_to_handler\s+3000\s+800ns\s+1\.5us\s+12\.4us\s+3\.10ms\s+5\.00ms\s+1\.20s/);
    expect(v).to.match(/orders\s+sent \d/);
    expect(v).to.contain('filled');
    expect(v).to.contain('venue     ouchOrders 4');
    expect(renderLine(snap(3000, 2000, 2), snap(1000, 0, 1))).to.contain('msgs 18.0k (6000/s)');
  });
});
