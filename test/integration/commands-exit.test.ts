/**
 * Every long-running `tickpath` command, as a real process, stopped by SIGINT and by SIGTERM: it
 * must exit within a bound with its documented code and leave nothing behind. What "nothing"
 * means is checked the same way for each: its private TMPDIR is empty, no /dev/shm entry and no
 * DPDK runtime directory (/var/run/dpdk) carries its pid or instance, nothing in the shared EAL
 * runtime directory appeared, no network namespace or link carries its pid, the ports it listened
 * on can be bound again, no process it started is still alive, and the launcher's lingering-
 * resources guard (ERR_LINGERING) never fired.
 *
 * Covered elsewhere: `run` (integration/run-exit.test.ts: errors, SIGTERM; here: SIGINT of the
 * instance monitor and book watch), `venue-sim` (venue-sim/venue-sim-cli.test.ts; here again with
 * the port checks, as the order tool's peer), `book --watch` (ops/book-watch.test.ts; here too).
 * Not long-running: doctor, config, journal (they read and return).
 */
import { expect } from 'chai';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { binding } from '../../lib/binding/native';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kDpdkRun = process.getuid?.() === 0 ? '/var/run/dpdk' : path.join(process.env.XDG_RUNTIME_DIR ?? '/tmp', 'dpdk');
const kSignals = ['SIGINT', 'SIGTERM'] as const;
type Sig = typeof kSignals[number];
const kSignalCode: Record<Sig, number> = { SIGINT: 130, SIGTERM: 143 };

interface Cli {
  child: ChildProcess;
  pid: number;
  tmp: string;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Every process seen below this one while it ran (pid -> start time), for the orphan check. */
  descendants: Map<number, string>;
  /**
   * /dev/shm and DPDK runtime entries that existed before it started: a process SIGKILLed earlier
   * in the suite (the crash drills) leaves entries named with its pid, and pids are reused.
   */
  before: Set<string>;
}

function startTime(pid: number): string | undefined {
  try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]; } catch { return undefined; }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

function noteDescendants(c: Cli): void {
  const stack = [c.pid];
  while (stack.length) {
    for (const k of childrenOf(stack.pop()!)) {
      const t = startTime(k);
      if (t !== undefined && !c.descendants.has(k)) c.descendants.set(k, t);
      stack.push(k);
    }
  }
}

function start(args: string[], env: Record<string, string> = {}): Cli {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ops-exit-'));
  const before = new Set<string>([
    ...(fs.existsSync('/dev/shm') ? fs.readdirSync('/dev/shm') : []),
    ...(fs.existsSync(kDpdkRun) ? fs.readdirSync(kDpdkRun) : []),
  ]);
  const child = spawn(process.execPath, [kCli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; if (out.length > 200_000) out = out.slice(-100_000); });
  child.stderr!.on('data', (d) => { out += d; });
  const t0 = Date.now();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - t0 })));
  return { child, pid: child.pid!, tmp, out: () => out, exited, descendants: new Map(), before };
}

async function waitFor(c: Cli, ready: RegExp | (() => boolean), boundMs: number): Promise<void> {
  const t0 = Date.now();
  const ok = (): boolean => (typeof ready === 'function' ? ready() : ready.test(c.out()));
  while (!ok()) {
    if (c.child.exitCode !== null || c.child.signalCode !== null) throw new Error(`exited (${c.child.exitCode ?? c.child.signalCode}) before ready:\n${c.out().slice(-2000)}`);
    if (Date.now() - t0 > boundMs) throw new Error(`not ready after ${boundMs} ms:\n${c.out().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  noteDescendants(c);
}

async function stop(c: Cli, signal: Sig, boundMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  noteDescendants(c);
  c.child.kill(signal);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), boundMs);
  const r = await c.exited;
  clearTimeout(timer);
  expect(r.signal === 'SIGKILL' && r.ms >= boundMs, `still running ${boundMs} ms after ${signal}:\n${c.out().slice(-2000)}`).to.equal(false);
  return r;
}

function dpdkShared(): string[] {
  const rte = path.join(kDpdkRun, 'rte');
  return fs.existsSync(rte) ? fs.readdirSync(rte) : [];
}

/** Everything the process could have left, checked after it exited. */
async function expectNothingLeft(c: Cli, o: { instance?: string; tcp?: number[]; udp?: number[]; rteBefore: string[] }): Promise<void> {
  expect(c.out()).to.not.contain('ERR_LINGERING');
  expect(fs.readdirSync(c.tmp), 'files left in its TMPDIR').to.deep.equal([]);
  fs.rmSync(c.tmp, { recursive: true, force: true });
  const mine = (name: string): boolean => new RegExp(`(^|[^0-9])${c.pid}([^0-9]|$)`).test(name) || (o.instance !== undefined && name.includes(o.instance));
  const new_ = (name: string): boolean => mine(name) && !c.before.has(name);
  if (fs.existsSync('/dev/shm')) expect(fs.readdirSync('/dev/shm').filter(new_), '/dev/shm entries left').to.deep.equal([]);
  if (fs.existsSync(kDpdkRun)) expect(fs.readdirSync(kDpdkRun).filter(new_), 'DPDK runtime directories left').to.deep.equal([]);
  expect(dpdkShared().filter((f) => !o.rteBefore.includes(f)), 'files left in the shared EAL runtime directory').to.deep.equal([]);
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout ?? '';
  expect(netns.split('\n').filter(mine), 'network namespaces left').to.deep.equal([]);
  expect(links.split('\n').filter(mine), 'links left').to.deep.equal([]);
  for (const port of o.tcp ?? []) {
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer().once('error', (e) => reject(new Error(`TCP port ${port} still taken: ${e.message}`)));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  }
  for (const port of o.udp ?? []) {
    await new Promise<void>((resolve, reject) => {
      const s = dgram.createSocket('udp4').once('error', (e) => reject(new Error(`UDP port ${port} still taken: ${e.message}`)));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  }
  const alive = [...c.descendants].filter(([pid, t]) => startTime(pid) === t).map(([pid]) => pid);
  expect(alive, 'processes it started still running').to.deep.equal([]);
}

function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  return new Promise((resolve) => {
    if (kind === 'tcp') { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); }
    else { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); }
  });
}

const haveDpdk = (): boolean => binding().backends().some((b) => b.name === 'dpdk' && b.compiledIn);

describe('integration/every long-running command exits on SIGINT and SIGTERM and leaves nothing behind', function () {
  this.timeout(180000);
  let dir = '';
  let session = '';
  let big = '';
  let long = '';
  let rteBefore: string[] = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ops-exit-data-'));
    session = path.join(dir, 'session.pcap');
    big = path.join(dir, 'big.pcap');
    long = path.join(dir, 'long.pcap');
    for (const [file, rate, seconds] of [[session, 20000, 1], [big, 1_000_000, 1], [long, 10000, 120]] as const) {
      const g = spawnSync(process.execPath, [kCli, 'gen', '--out', file, '--rate', String(rate), '--duration', String(seconds), '--symbols', '8'], { encoding: 'utf8' });
      expect(g.status, g.stderr).to.equal(0);
    }
    rteBefore = dpdkShared();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const signal of kSignals) {
    describe(signal, () => {
      it(`replay --backend udp --loops 0: exit 0 with its report`, async () => {
        const port = await freePort('udp');
        const sink = dgram.createSocket('udp4');
        let received = 0;
        sink.on('message', () => { received++; });
        await new Promise<void>((r) => sink.bind(port, '127.0.0.1', () => r()));
        try {
          const c = start(['replay', '--pcap', session, '--backend', 'udp', '--udp-dest', `127.0.0.1:${port}`, '--loops', '0', '--pps', '5000', '--no-progress', '--json']);
          await waitFor(c, () => received > 100, 20000);
          const r = await stop(c, signal, 10000);
          expect(r.code, c.out()).to.equal(0);
          expect(JSON.parse(c.out().trim().split('\n').pop()!).sent).to.be.greaterThan(100);
          await expectNothingLeft(c, { rteBefore });
        } finally {
          sink.close();
        }
      });

      it(`replay --backend dpdk (net_null vdev) --loops 0: exit 0, the EAL leaves no runtime files`, async function () {
        if (!haveDpdk()) this.skip();
        const c = start(['replay', '--pcap', session, '--backend', 'dpdk', '--vdev', 'net_null0', '--loops', '0', '--pps', '5000', '--no-progress', '--json']);
        await waitFor(c, /tickpath replay: \d+ frames/, 30000);
        await new Promise((r) => setTimeout(r, 500));
        const r = await stop(c, signal, 10000);
        expect(r.code, c.out()).to.equal(0);
        await expectNothingLeft(c, { rteBefore });
      });

      it(`run --backend dpdk (net_ring): exit 0 with its final table; metrics port, EAL files, stats, run directory released`, async function () {
        if (!haveDpdk()) this.skip();
        const instance = `opsdpdk${signal}${process.pid}`;
        const c = start(['run', '--backend', 'dpdk', '--pcap', long, '--duration', '0', '--instance', instance, '--metrics-port', '0']);
        await waitFor(c, /\[ {2}1s\] dpdk/, 90000);
        const metrics = Number(/metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(c.out())![1]);
        const r = await stop(c, signal, 30000);
        expect(r.code, c.out().slice(-2000)).to.equal(0);
        expect(c.out()).to.contain('final (');
        await expectNothingLeft(c, { rteBefore, instance, tcp: [metrics] });
      });

      it(`run (bundled default) while it generates its session: exit 0 at once, no partial session, no stats file`, async () => {
        const instance = `opsgen${signal}${process.pid}`;
        const c = start(['run', '--backend', 'pcap', '--rate', '1000000', '--duration', '30', '--instance', instance, '--metrics-port', 'off']);
        await waitFor(c, () => fs.readdirSync(c.tmp).some((f) => f.includes('.partial-')), 30000);
        const r = await stop(c, signal, 5000);
        expect(r.code, c.out()).to.equal(0);
        expect(c.out()).to.contain('stopped while generating the default session');
        await expectNothingLeft(c, { rteBefore, instance });
      });

      it(`capture --backend udp: exit 0, the file is complete and the port can be bound again`, async () => {
        const port = await freePort('udp');
        const out = path.join(dir, `cap-${signal}.pcap`);
        const c = start(['capture', '--backend', 'udp', '--port', String(port), '--bind', '127.0.0.1', '--out', out, '--json']);
        await waitFor(c, /capturing on/, 20000);
        const s = dgram.createSocket('udp4');
        for (let i = 0; i < 5; i++) await new Promise<void>((r) => s.send(Buffer.alloc(100, i), port, '127.0.0.1', () => r()));
        s.close();
        await new Promise((r) => setTimeout(r, 300));
        const r = await stop(c, signal, 10000);
        expect(r.code, c.out()).to.equal(0);
        const report = JSON.parse(c.out().trim().split('\n').pop()!);
        expect(report.reason).to.equal('stopped');
        expect(report.packets).to.equal(5);
        expect(fs.statSync(out).size).to.equal(24 + 5 * (16 + 142));
        await expectNothingLeft(c, { rteBefore, udp: [port] });
      });

      it(`capture --backend dpdk (net_null vdev, nothing passes the filter): exit 0, no EAL files`, async function () {
        if (!haveDpdk()) this.skip();
        const out = path.join(dir, `cap-dpdk-${signal}.pcap`);
        const c = start(['capture', '--backend', 'dpdk', '--vdev', 'net_null0', '--filter', 'udp', '--out', out, '--json']);
        await waitFor(c, /capturing on/, 30000);
        await new Promise((r) => setTimeout(r, 500));
        const r = await stop(c, signal, 10000);
        expect(r.code, c.out()).to.equal(0);
        expect(JSON.parse(c.out().trim().split('\n').pop()!).filtered).to.be.greaterThan(0);
        await expectNothingLeft(c, { rteBefore });
      });

      it(`rerequest-server (with a long --exit-after): exit 0 at once, the UDP port can be bound again`, async () => {
        const c = start(['rerequest-server', '--generate', '2000', '--port', '0', '--exit-after', '600000']);
        await waitFor(c, /listening on udp 127\.0\.0\.1:\d+/, 20000);
        const port = Number(/listening on udp 127\.0\.0\.1:(\d+)/.exec(c.out())![1]);
        const r = await stop(c, signal, 5000);
        expect(r.code, c.out()).to.equal(0);
        expect(r.ms).to.be.below(5000);
        await expectNothingLeft(c, { rteBefore, udp: [port] });
      });

      it(`venue-sim and order: order stops sending, logs out, prints its summary, exit 0; venue-sim exit 0, ports free`, async () => {
        const sim = start(['venue-sim', '--ouch-port', '0', '--fix-port', '0']);
        await waitFor(sim, /FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:\d+/, 20000);
        const ouch = Number(/SoupBinTCP listening on 127\.0\.0\.1:(\d+)/.exec(sim.out())![1]);
        const fix = Number(/FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)/.exec(sim.out())![1]);
        const order = start(['order', '--venue', `ouch://127.0.0.1:${ouch}`, '--symbol', 'OPSX', '--side', 'buy', '--qty', '100', '--price', '10',
          '--count', '100000', '--rate', '50']);
        await waitFor(order, () => (order.out().match(/"event":"acked"/g) ?? []).length >= 5, 20000);
        const o = await stop(order, signal, 10000);
        expect(o.code, order.out()).to.equal(0);
        const events = order.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        const interrupted = events.find((e) => e.event === 'interrupted')!;
        expect(interrupted, order.out()).to.not.equal(undefined);
        expect(interrupted.reason).to.equal(signal);
        const summary = events[events.length - 1];
        expect(summary.sent).to.equal(interrupted.sent);
        expect(summary.sent).to.be.below(100000);
        expect(summary.unanswered).to.equal(0);
        await expectNothingLeft(order, { rteBefore });
        const s = await stop(sim, signal, 10000);
        expect(s.code, sim.out()).to.equal(0);
        await expectNothingLeft(sim, { rteBefore, tcp: [ouch, fix] });
      });

      it(`gen (a big session): exit ${kSignalCode[signal]} at once, no output and no partial file`, async () => {
        const out = path.join(dir, `gen-${signal}.pcap`);
        const c = start(['gen', '--out', out, '--rate', '1000000', '--duration', '120']);
        await waitFor(c, () => fs.readdirSync(dir).some((f) => f.startsWith(`.gen-${signal}.pcap.partial-`)), 20000);
        const r = await stop(c, signal, 5000);
        expect(r.code, c.out()).to.equal(kSignalCode[signal]);
        expect(c.out()).to.contain(`interrupted by ${signal}; nothing written`);
        expect(fs.readdirSync(dir).filter((f) => f.includes(`gen-${signal}`))).to.deep.equal([]);
        await expectNothingLeft(c, { rteBefore });
      });

      it(`decode of a big capture: ends at once by the signal (it only reads)`, async () => {
        const c = start(['decode', '--pcap', big]);
        await waitFor(c, () => c.out().length > 10000, 20000);
        const r = await stop(c, signal, 5000);
        expect(r.signal ?? r.code, c.out().slice(-500)).to.be.oneOf([signal, kSignalCode[signal]]);
        await expectNothingLeft(c, { rteBefore });
      });

      it(`bench rx: exit ${kSignalCode[signal]} while testpmd runs; every benchmark process and testpmd stopped, DPDK runtime directories and temp files removed`, async () => {
        const results = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ops-bench-'));
        const testpmd = haveDpdk() && spawnSync('which', ['dpdk-testpmd']).status === 0;
        try {
          const c = start(['bench', 'rx'], { TICKPATH_PERF_RESULTS_DIR: results });
          await waitFor(c, /=== perf:rx/, 30000);
          // Interrupt while the baseline runs (testpmd, a grandchild), else once the benchmark process runs.
          const comm = (pid: number): string => { try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } };
          await waitFor(c, () => { noteDescendants(c); return testpmd ? [...c.descendants.keys()].some((p) => comm(p).includes('testpmd')) : c.descendants.size >= 2; }, 60000);
          await new Promise((r) => setTimeout(r, 500));
          const r = await stop(c, signal, 20000);
          expect(r.code, c.out().slice(-2000)).to.equal(kSignalCode[signal]);
          expect(fs.readdirSync(results), 'no result saved by an interrupted benchmark').to.deep.equal([]);
          await expectNothingLeft(c, { rteBefore });
          if (fs.existsSync(kDpdkRun)) {
            const pids = [...c.descendants.keys()].map(String);
            expect(fs.readdirSync(kDpdkRun).filter((d) => d === `tp_bench_${c.pid}` || pids.some((p) => d === `tp_perf_tput_${p}`))).to.deep.equal([]);
          }
        } finally {
          fs.rmSync(results, { recursive: true, force: true });
        }
      });
    });
  }

  describe('against a running instance (tickpath run)', () => {
    const instance = `opsexit${process.pid}`;
    let run: Cli;
    before(async () => {
      // A capture of its own (the bundled default caches its generated session in the temp directory).
      run = start(['run', '--backend', 'pcap', '--pcap', long, '--instance', instance, '--duration', '0', '--metrics-port', 'off']);
      await waitFor(run, /\[ {2}1s\]/, 90000);
    });
    after(async () => { if (run.child.exitCode === null) { run.child.kill('SIGKILL'); await run.exited; } });

    for (const signal of kSignals) {
      it(`monitor: exit 0 on ${signal}`, async () => {
        const c = start(['monitor', '--instance', instance, '--interval', '200']);
        await waitFor(c, /msgs\/s|msgs/, 20000);
        const r = await stop(c, signal, 5000);
        expect(r.code, c.out()).to.equal(0);
        await expectNothingLeft(c, { rteBefore });
      });

      it(`book --watch: exit 0 on ${signal}`, async () => {
        const c = start(['book', '--instance', instance, '--top', '--watch', '--interval', '200']);
        await waitFor(c, /top of book/, 20000);
        const r = await stop(c, signal, 5000);
        expect(r.code, c.out()).to.equal(0);
        await expectNothingLeft(c, { rteBefore });
      });
    }

    it('run itself on SIGINT: exit 0, stats and book files, run directory and workers gone', async () => {
      const r = await stop(run, 'SIGINT', 30000);
      expect(r.code, run.out().slice(-2000)).to.equal(0);
      expect(run.out()).to.contain('final (');
      await expectNothingLeft(run, { rteBefore, instance });
    });
  });
});
