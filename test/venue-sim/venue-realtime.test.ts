import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { performance } from 'perf_hooks';
import { OuchConnector } from '../../lib/router/connectors/ouch-connector';
import { RecordingListener } from '../router/connectors/recording-listener';
import { SessionWaiter } from '../../lib/protocols/transport/session-waiter';
import { realtimePolicy, threadSchedPolicy, kMaxRealtimePriority } from '../../lib/protocols/transport/thread-realtime';
import { VenueLoop } from '../../lib/venue-sim/venue-loop';
import { nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';

const kApp = path.join(__dirname, '..', '..', 'apps', 'venue-sim.js');
const isRoot = process.geteuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const hasAddon = !!nativeTcpBinding();

/** /proc/<pid>/task/<tid>/sched's policy and /proc/<pid>/task/<tid>/stat's rt_priority: the kernel's own account. */
function kernelPolicy(pid: number, tid = pid): { policy: number; rtPriority: number } {
  const sched = fs.readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8');
  const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { policy: Number(/^policy\s*:\s*(\d+)/m.exec(sched)![1]), rtPriority: Number(f[37]) };
}

async function startSim(args: string[]): Promise<{ pid: number; out: () => string; port: number; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [kApp, '--ouch-port', '0', '--fix-port', 'off', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const t0 = Date.now();
  while (!/venue-sim: transport/.test(out)) {
    if (Date.now() - t0 > 10000 || child.exitCode !== null) { child.kill('SIGKILL'); throw new Error(`venue-sim did not start: ${out}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    pid: child.pid!, out: () => out, port: Number(/SoupBinTCP listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]),
    stop: async () => { child.kill('SIGTERM'); return exited; },
  };
}

async function oneOrder(port: number): Promise<void> {
  const c = new OuchConnector({ name: 'RT', host: '127.0.0.1', port, username: 'U', password: 'P' });
  const l = new RecordingListener();
  c.setListener(l);
  await c.connect();
  l.track('RT1', 10);
  c.sendNew({ clOrdId: 'RT1', symbol: 'IBM', side: 'B', qty: 10, price: 1000, ordType: 'LIMIT', tif: 'DAY' });
  await l.until(() => l.orders.get('RT1')!.acked === 1, 'ack from the real-time venue');
  await c.close();
}

describe('venue-sim --realtime: SCHED_FIFO for the loop thread, read back, with a sleep budget', function () {
  this.timeout(30000);

  it('refuses what it cannot honour, naming the option and the reason (exit 2)', () => {
    const cases: [string[], RegExp][] = [
      [['--realtime', '50'], /option --realtime is "50", expected an integer from 1 to 49/],
      [['--realtime', '3', '--idle', 'backoff'], /--realtime applies to --idle block or spin, not backoff/],
      [['--realtime', '3', '--spin-us', '2000'], /--spin-us 2000 with --realtime: at most 1000.*RT throttle/],
      [['--realtime-sleep-us', '20'], /--realtime-sleep-us applies with --realtime only/],
      [['--transport', 'libuv', '--realtime', '3'], /apply to --transport native only/],
    ];
    for (const [args, msg] of cases) {
      const r = spawnSync(process.execPath, [kApp, ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(msg);
    }
  });

  it('validates the policy in the library too: the cap, the sleep budget, the idle modes', () => {
    expect(() => realtimePolicy('T', kMaxRealtimePriority + 1)).to.throw(/option 'realtime' is 50, expected a SCHED_FIFO priority from 1 to 49/);
    expect(() => realtimePolicy('T', 3, 0)).to.throw(/realtime_sleep_us/);
    expect(() => realtimePolicy('T', 3, 50, { idle: 'block', spinUs: 5000 })).to.throw(/spin_us.*at most 1000/);
    expect(() => new VenueLoop(() => 0, null, { idle: 'spin', realtime: { priority: 3, sleepUs: 50 } })).to.throw(/a wait set to sleep on/);
    expect(realtimePolicy('T', 0)).to.equal(null);
  });

  (isRoot && hasAddon ? it : it.skip)('spin: the loop thread is SCHED_FIFO 3 in the kernel, serves an order, and sleeps its budget', async () => {
    const sim = await startSim(['--realtime', '3', '--idle', 'spin', '--realtime-sleep-us', '40']);
    try {
      expect(sim.out()).to.match(/idle spin, one CPU busy but 40 us asleep per ms.*scheduler SCHED_FIFO 3 \(read back\)/);
      expect(kernelPolicy(sim.pid)).to.deep.equal({ policy: 1, rtPriority: 3 });
      // Only the loop's thread: libuv's and V8's threads stay SCHED_OTHER.
      const others = fs.readdirSync(`/proc/${sim.pid}/task`).map(Number).filter((t) => t !== sim.pid);
      expect(others.length).to.be.greaterThan(0);
      for (const t of others) expect(kernelPolicy(sim.pid, t).policy, `tid ${t}`).to.equal(0);
      await oneOrder(sim.port);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      expect(await sim.stop()).to.equal(0);
    }
    const stats = JSON.parse(/SIGTERM, stopping; (.*)/.exec(sim.out())![1]);
    expect(stats.acks).to.equal(1);
    expect(stats.transport.loop.sched).to.deep.equal({ policy: 'fifo', priority: 3 });
    expect(stats.transport.loop.realtimeSleepUs).to.equal(40);
    // About one sleep per ms of spinning: a loop that never slept would have none.
    expect(stats.transport.loop.budgetSleeps).to.be.greaterThan(50);
  });

  (isRoot && hasAddon ? it : it.skip)('block: SCHED_FIFO with the loop sleeping in epoll when idle', async () => {
    const sim = await startSim(['--realtime', '2']);
    try {
      expect(kernelPolicy(sim.pid)).to.deep.equal({ policy: 1, rtPriority: 2 });
      await oneOrder(sim.port);
    } finally {
      expect(await sim.stop()).to.equal(0);
    }
    const stats = JSON.parse(/SIGTERM, stopping; (.*)/.exec(sim.out())![1]);
    expect(stats.transport.loop).to.include({ idle: 'block' });
    expect(stats.transport.loop.blocks).to.be.greaterThan(0);
  });

  (isRoot && hasSetpriv && hasAddon ? it : it.skip)('a kernel refusal (no CAP_SYS_NICE, RLIMIT_RTPRIO 0) is ERR_REALTIME_REFUSED naming cause and fix, exit 1, no loop left running', () => {
    const r = spawnSync('setpriv', ['--bounding-set=-sys_nice', '--inh-caps=-sys_nice', 'prlimit', '--rtprio=0', process.execPath, kApp, '--realtime', '3', '--fix-port', 'off'],
      { encoding: 'utf8', timeout: 15000 });
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/SCHED_FIFO priority 3 refused by the kernel: EPERM.*no CAP_SYS_NICE; RLIMIT_RTPRIO 0/);
    expect(r.stderr).to.match(/fix: .*setcap cap_sys_nice\+ep.*ulimit -r 3/);
    expect(r.stdout).to.not.match(/transport native/);
  });

  (hasAddon ? it : it.skip)('applies to the calling thread only and reads it back (a worker thread; the main thread stays SCHED_OTHER)', async function () {
    if (!isRoot) this.skip();
    const src = `
      const { parentPort } = require('worker_threads');
      const fs = require('fs');
      const rt = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'protocols', 'transport', 'thread-realtime.js'))});
      const self = fs.readlinkSync('/proc/thread-self');
      const got = rt.applyRealtime('test', { priority: 4, sleepUs: 50 });
      const policy = Number(/^policy\\s*:\\s*(\\d+)/m.exec(fs.readFileSync('/proc/' + self + '/sched', 'utf8'))[1]);
      rt.dropRealtime();
      parentPort.postMessage({ got, policy, after: rt.threadSchedPolicy() });`;
    const w = new Worker(src, { eval: true });
    const msg = await new Promise<{ got: unknown; policy: number; after: unknown }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await w.terminate();
    expect(msg.got).to.deep.equal({ policy: 'fifo', priority: 4 });
    expect(msg.policy).to.equal(1);
    expect(msg.after).to.deep.equal({ policy: 'other', priority: 0 });
    expect(threadSchedPolicy()).to.deep.equal({ policy: 'other', priority: 0 });
  });

  it('SessionWaiter: a real-time spinning owner sleeps its budget about once per ms of empty turns; without realtime it never sleeps', async () => {
    const sleeps: number[] = [];
    const sleeper = { wait(us: number): number { sleeps.push(us); return 0; } };
    const rt = new SessionWaiter(sleeper, { idle: 'spin', spinUs: 0 }, { priority: 3, sleepUs: 30 });
    const plain = new SessionWaiter(sleeper, { idle: 'spin', spinUs: 0 });
    const end = Date.now() + 20;
    while (Date.now() < end) plain.idle(0, 500);
    expect(sleeps.length).to.equal(0);
    // Ten budget sleeps take at least ~9 ms of spinning (one per ms; being preempted only
    // lengthens it), and they do come (a waiter that never slept would hit the 2 s bound).
    const t0 = performance.now();
    while (sleeps.length < 10 && performance.now() - t0 < 2000) rt.idle(0, 500);
    expect(sleeps.length).to.equal(10);
    expect(performance.now() - t0).to.be.at.least(9);
    expect(new Set(sleeps)).to.deep.equal(new Set([30]));
    // Never past the owner's next deadline.
    sleeps.length = 0;
    const end3 = Date.now() + 5;
    while (Date.now() < end3) rt.idle(0, 10);
    for (const s of sleeps) expect(s).to.equal(10);
    expect(rt.stats()).to.include({ realtimePriority: 3 });
    expect(() => new SessionWaiter(null, { idle: 'spin', spinUs: 0 }, { priority: 3, sleepUs: 30 })).to.throw(/a wait set to sleep on/);
  });

  (isRoot && hasAddon ? it : it.skip)('tickpath order --realtime: the send loop runs SCHED_FIFO (read back in the summary) against a real-time venue, every order acked', async () => {
    const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');
    const sim = await startSim(['--realtime', '3']);
    try {
      const run = (args: string[]) => spawnSync(process.execPath, [kCli, 'order', '--venue', `ouch://127.0.0.1:${sim.port}`, '--symbol', 'IBM', '--side', 'buy', '--qty', '10', '--price', '1.00', ...args],
        { encoding: 'utf8', timeout: 30000 });
      for (const idle of ['block', 'spin']) {
        const r = run(['--count', '200', '--rate', '2000', '--idle', idle, '--realtime', '4']);
        expect(r.status, r.stderr).to.equal(0);
        const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
        expect(summary).to.include({ sent: 200, acked: 200, unanswered: 0 });
        expect(summary.sched).to.deep.equal({ policy: 'fifo', priority: 4 });
        expect(summary.idle.realtimePriority).to.equal(4);
      }
      const noIdle = run(['--realtime', '4']);
      expect(noIdle.status).to.equal(2);
      expect(noIdle.stderr).to.match(/--realtime needs --idle block or spin/);
    } finally {
      expect(await sim.stop()).to.equal(0);
    }
  });
});
