/**
 * The idle policy of both ends of a venue session, end to end through real processes: `tickpath
 * venue-sim --spin-us` (the venue's loop spins that long after each message before it sleeps) and
 * `tickpath order --idle block|spin [--spin-us N]` (the client's send loop). What is configured must
 * be what runs: each side's stats name its policy and count what it did (spin turns, sleeps in epoll,
 * wakeups by a message), so a policy that is parsed but not applied, or a loop that falls back to
 * turning the event loop, fails here. Also `perf/router-rtt --split` against the same binaries.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startVenueSimProcess, type VenueSimProcess } from '../helpers/drill';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');
const kRtt = path.join(__dirname, '..', '..', 'perf', 'router-rtt.js');

type Venue = VenueSimProcess;

/** The venue simulator as its own process (the drills' helper), given 20 s to start on a loaded machine. */
const startVenue = (args: string[]): Promise<Venue> => startVenueSimProcess(args, 20000);

async function stopVenue(v: Venue): Promise<{ loop: { idle: string; spinUs: number; turns: number; blocks: number; wakeups: number; work: number } }> {
  v.child.kill('SIGTERM');
  expect(await v.exited).to.equal(0);
  const line = /venue-sim: SIGTERM, stopping; (.*)/.exec(v.out());
  expect(line, v.out()).to.not.equal(null);
  return JSON.parse(line![1]).transport;
}

interface Summary { sent: number; acked: number; filled: number; unanswered: number; transport: string; idle?: { idle: string; spinUs: number; turns: number; spinTurns: number; sleeps: number; wakeups: number } }

function order(venue: string, side: string, count: number, idle: string[]): { status: number | null; summary: Summary; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, 'order', '--venue', venue, '--symbol', 'IBM', '--side', side, '--qty', '100', '--price', '10',
    '--count', String(count), '--rate', '200', ...idle], { encoding: 'utf8', timeout: 60000 });
  const lines = r.stdout.trim().split('\n');
  return { status: r.status, summary: JSON.parse(lines[lines.length - 1] || '{}'), stderr: r.stderr };
}

describe('session idle policies on both ends (CLI, real processes)', function () {
  this.timeout(120000);

  it('venue-sim --spin-us and tickpath order --idle run what they were given, and say so', async () => {
    const v = await startVenue(['--spin-us', '400']);
    let stats;
    try {
      expect(v.out()).to.include('venue-sim: transport native (idle block, 0 spin turns and 400 us after the last message then epoll');
      // Client blocks at once: it sleeps in epoll between orders and the acks wake it.
      const block = order(`ouch://127.0.0.1:${v.ouchPort}`, 'buy', 40, ['--idle', 'block']);
      expect(block.status, block.stderr).to.equal(0);
      expect(block.summary).to.include({ sent: 40, acked: 40, unanswered: 0, transport: 'native' });
      expect(block.summary.idle).to.include({ idle: 'block', spinUs: 0, spinTurns: 0 });
      expect(block.summary.idle!.sleeps, 'slept between orders').to.be.greaterThan(10);
      expect(block.summary.idle!.wakeups, 'an ack ended a sleep').to.be.greaterThan(0);
      // Client spins: never sleeps.
      const spin = order(`ouch://127.0.0.1:${v.ouchPort}`, 'buy', 40, ['--idle', 'spin']);
      expect(spin.status, spin.stderr).to.equal(0);
      expect(spin.summary).to.include({ acked: 40, unanswered: 0 });
      expect(spin.summary.idle).to.include({ idle: 'spin', sleeps: 0, wakeups: 0 });
      // Every turn without work spun (turns with work neither spin nor sleep).
      expect(spin.summary.idle!.spinTurns).to.be.greaterThan(40).and.at.most(spin.summary.idle!.turns);
      // Adaptive (FIX: the other connector): spins after each message, sleeps once the window is over.
      const adaptive = order(`fix44://127.0.0.1:${v.fixPort}`, 'sell', 40, ['--idle', 'block', '--spin-us', '1000']);
      expect(adaptive.status, adaptive.stderr).to.equal(0);
      expect(adaptive.summary).to.include({ acked: 40, filled: 40, unanswered: 0, transport: 'native' });
      expect(adaptive.summary.idle).to.include({ idle: 'block', spinUs: 1000 });
      expect(adaptive.summary.idle!.spinTurns, 'spun after messages').to.be.greaterThan(0);
      expect(adaptive.summary.idle!.sleeps, 'and slept between orders (5 ms apart)').to.be.greaterThan(0);
      // Without --idle the summary has no idle (the loop turns the event loop, as before).
      const none = order(`ouch://127.0.0.1:${v.ouchPort}`, 'buy', 2, []);
      expect(none.summary).to.include({ acked: 2 });
      expect(none.summary.idle).to.equal(undefined);
    } finally {
      stats = await stopVenue(v);
    }
    expect(stats.loop).to.include({ idle: 'block', spinUs: 400 });
    // The venue spun after messages: many more loop turns than sleeps (with spinUs 0 each empty turn sleeps).
    expect(stats.loop.turns).to.be.greaterThan(stats.loop.blocks * 2);
  });

  it('bad idle options are refused with what was expected', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [kCli, ...args], { encoding: 'utf8' });
    const o = ['order', '--venue', 'ouch://127.0.0.1:9', '--symbol', 'IBM', '--side', 'buy', '--qty', '1', '--price', '1'];
    let r = run([...o, '--idle', 'nap']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('option --idle is "nap", expected block or spin');
    r = run([...o, '--spin-us', '50']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('option --spin-us applies to --idle block');
    r = run([...o, '--idle', 'spin', '--transport', 'libuv']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('option --idle applies to the native transport');
    r = run(['venue-sim', '--idle', 'spin', '--spin-us', '10']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('option --spin-us applies to --idle block');
  });

  it('perf/router-rtt --split: the sender and the venue run the policies asked for, and the split adds up', () => {
    // The benchmark writes perf/results/router-rtt.json; what was there before is put back.
    const saved = path.join(__dirname, '..', '..', '..', 'perf', 'results', 'router-rtt.json');
    const before = fs.existsSync(saved) ? fs.readFileSync(saved) : undefined;
    let r;
    try {
      r = spawnSync(process.execPath, [kRtt, '--rate', '500', '--seconds', '0.4', '--warmup-seconds', '0.1', '--rounds', '1', '--transports', 'native',
        '--protocols', 'ouch,echo_native', '--idle', 'spin', '--venue-spin-us', '300', '--split', '--json'], { encoding: 'utf8', timeout: 90000 });
    } finally {
      if (before) fs.writeFileSync(saved, before);
    }
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const ouch = j.rtt.ouch;
    expect(ouch.acked).to.equal(ouch.orders);
    expect(ouch.sender_idle).to.include({ idle: 'spin', sleeps: 0 });
    expect(ouch.venue_stats.loop).to.include({ idle: 'block', spinUs: 300 });
    const sp = ouch.split;
    // 200 recorded orders; those that overlapped another (a sender late on a loaded machine) are left out.
    expect(sp.orders + sp.overlapped).to.be.at.least(190);
    expect(sp.orders).to.be.greaterThan(20);
    for (const k of ['client_out', 'to_venue', 'venue_wake', 'venue_work', 'to_client', 'client_wake', 'client_in', 'total']) expect(sp.p50_ns[k], k).to.be.at.least(0);
    expect(sp.p50_ns.venue_work, 'the venue decodes, matches and encodes').to.be.greaterThan(0);
    const echo = j.rtt.echo_native;
    expect(echo.acked).to.equal(echo.orders);
    expect(echo.venue).to.include('native echo server');
    expect(echo.split.orders).to.be.greaterThan(20);
  });
});
