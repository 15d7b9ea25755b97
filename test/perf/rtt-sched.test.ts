import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cpuWaits, explainSlowTrips, type CpuWait } from '../../perf/lib/sched-trace';
import { nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';

const kPerf = path.join(__dirname, '..', '..', 'perf');
const isRoot = process.geteuid?.() === 0;
const hasPerf = spawnSync('perf', ['--version']).status === 0;
const hasAddon = !!nativeTcpBinding();

describe('perf/router-rtt scheduler account and perf/router-rtt-sched', function () {
  this.timeout(120000);

  it('lines slow trips up with CPU waits: union of overlapping trips, who held the CPU, per-role totals', () => {
    const ms = 1e6;
    const waits: CpuWait[] = [
      { tid: 1, start: 10 * ms, end: 14 * ms, cpu: 0, kind: 'preempted', heldBy: 'cc1' },
      { tid: 2, start: 12 * ms, end: 13 * ms, cpu: 1, kind: 'woken', heldBy: 'kworker/1:1' },
      { tid: 1, start: 50 * ms, end: 51 * ms, cpu: 0, kind: 'preempted', heldBy: 'cc1' },  // no slow trip then
      { tid: 9, start: 10 * ms, end: 20 * ms, cpu: 0, kind: 'preempted', heldBy: 'x' },     // not ours
    ];
    // Two trips queued behind the same stall (overlapping), one slow trip with no wait.
    const trips: [number, number][] = [[9 * ms, 6 * ms], [11 * ms, 4 * ms], [30 * ms, 1 * ms]];
    const e = explainSlowTrips(waits, trips, 50_000, new Map([[1, 'sender'], [2, 'venue']]), 0, 100 * ms);
    expect(e.trips).to.equal(3);
    expect(e.overlapping_a_wait).to.equal(2);
    expect(e.slow_ms).to.equal(7);        // [9, 15) and [30, 31)
    expect(e.waited_ms).to.equal(4);      // [10, 14) once, though two trips and two threads cover it
    expect(e.held_by).to.deep.equal([{ comm: 'cc1', ms: 4, waits: 1 }, { comm: 'kworker/1:1', ms: 1, waits: 1 }]);
    expect(e.window.sender).to.deep.equal({ preempted: 2, preempted_ms: 5, woken: 0, woken_ms: 0, longest_ms: 4 });
    expect(e.window.venue).to.deep.equal({ preempted: 0, preempted_ms: 0, woken: 1, woken_ms: 1, longest_ms: 1 });
  });

  (isRoot && hasPerf && os.cpus().length >= 1 ? it : it.skip)('reads real preemptions from the kernel trace: two spinners sharing CPU 0 take turns, each waiting while the other holds it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-rtt-sched-test-'));
    const data = path.join(dir, 'sched.data');
    const spinSrc = 'const e=Date.now()+700;while(Date.now()<e){}';
    const perf = spawn('perf', ['record', '-q', '-e', 'sched:sched_switch', '-e', 'sched:sched_waking', '-k', 'CLOCK_MONOTONIC', '-a', '-o', data], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 400));
      const a = spawn('taskset', ['-c', '0', process.execPath, '-e', spinSrc], { stdio: 'ignore' });
      const b = spawn('taskset', ['-c', '0', process.execPath, '-e', spinSrc], { stdio: 'ignore' });
      await Promise.all([a, b].map((c) => new Promise((r) => c.on('exit', r))));
      const perfDone = new Promise((r) => perf.on('exit', r));
      perf.kill('SIGINT');
      await perfDone;
      const txt = spawnSync('perf', ['script', '-i', data, '--ns', '-F', 'comm,tid,cpu,time,event,trace'], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
      const waits = cpuWaits(txt, new Set([a.pid!, b.pid!]));
      const ofA = waits.filter((w) => w.tid === a.pid && w.kind === 'preempted');
      expect(ofA.length, 'A was preempted').to.be.greaterThan(3);
      // While A waited on CPU 0, B (another node) held it at least part of the time.
      expect(ofA.some((w) => w.cpu === 0 && w.heldBy === 'node')).to.equal(true);
      for (const w of waits) expect(w.end).to.be.greaterThan(w.start);
      // CLOCK_MONOTONIC: the trace's times are on process.hrtime's clock.
      const now = Number(process.hrtime.bigint());
      expect(ofA[0].start).to.be.within(now - 30e9, now);
    } finally {
      if (perf.exitCode === null) perf.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  (isRoot && hasAddon ? it : it.skip)('router-rtt: each result carries both threads\' schedstat, the slow trips on CLOCK_MONOTONIC, and the sender\'s real-time policy read back', () => {
    const t0 = Number(process.hrtime.bigint());
    const r = spawnSync(process.execPath, [path.join(kPerf, 'router-rtt.js'), '--protocols', 'ouch', '--transports', 'native', '--rounds', '1', '--seconds', '0.5',
      '--warmup-seconds', '0.2', '--rate', '1000', '--realtime', '3', '--venue-realtime', '3', '--slow-us', '1', '--no-results', '--json'], { encoding: 'utf8', timeout: 60000 });
    const t1 = Number(process.hrtime.bigint());
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.sender_sched).to.deep.equal({ policy: 'fifo', priority: 3 });
    const o = j.rtt.ouch;
    expect(o.venue_stats.loop.sched).to.deep.equal({ policy: 'fifo', priority: 3 });
    expect(o.venue).to.match(/SCHED_FIFO 3/);
    expect(o.sched.sender.tid).to.equal(o.sched.sender_tid);
    expect(o.sched.venue.tid).to.equal(o.sched.venue_pid);
    for (const t of [o.sched.sender, o.sched.venue]) {
      expect(t.run_ms).to.be.greaterThan(0);
      expect(t.involuntary_switches).to.be.a('number');
      expect(t.run_delay_ms).to.be.at.least(0);
    }
    // --slow-us 1: every recorded round trip is slow; their send times fall inside this test's run.
    expect(o.slow.over).to.equal(o.recorded);
    expect(o.slow.trips.length).to.equal(Math.min(o.recorded, 4000));
    for (const [at, ns] of o.slow.trips) { expect(at).to.be.within(t0, t1); expect(ns).to.be.greaterThan(1000); }
  });

  (isRoot && hasAddon && hasPerf ? it : it.skip)('router-rtt-sched --perf-sched: a variant row with both threads\' stolen time and the slow trips lined up with the trace', () => {
    const r = spawnSync(process.execPath, [path.join(kPerf, 'router-rtt-sched.js'), '--variants', 'block,block_rt', '--rounds', '1', '--seconds', '0.5', '--warmup-seconds', '0.2',
      '--rate', '1000', '--slow-us', '1', '--perf-sched', '--no-results', '--json'], { encoding: 'utf8', timeout: 90000 });
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(Object.keys(j.variants)).to.deep.equal(['block', 'block_rt']);
    const v = j.variants.block_rt;
    expect(v.baseline).to.equal('block');
    expect(v.sched.sender_policy).to.deep.equal({ policy: 'fifo', priority: 5 });
    expect(v.venue_loop.sched).to.deep.equal({ policy: 'fifo', priority: 5 });
    for (const name of ['block', 'block_rt']) {
      const e = j.variants[name].explained;
      expect(e, `${name}: ${j.variants[name].perf_error}`).to.not.equal(null);
      expect(e.trips).to.be.greaterThan(100);
      // Both ends block in epoll, so both were woken (and maybe waited) in the trace.
      expect(e.window.sender.woken + e.window.sender.preempted).to.be.greaterThan(0);
      expect(e.window.venue.woken + e.window.venue.preempted).to.be.greaterThan(0);
    }
    expect(r.stdout).to.match(/rtt ouch block_rt p50 \/ p99 .*sender \d+ involuntary switches, [\d.]+ ms waiting for a CPU; venue/);
  });
});
