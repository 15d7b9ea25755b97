/**
 * The FIX shadow route end to end, through the shipped path: `tickpath run --config` with its FIX
 * venue (routing_config.yml's ARCA, the default venue here, so real orders go over FIX) against a
 * separate `tickpath venue-sim --report` process. The run's stats count dry runs through the shadow
 * FIX venue; the venue's report holds exactly the orders the run sent, all from the real session,
 * and the venue saw one FIX Logon (the shadow's session never connects anywhere). Fails if the
 * shadow FIX route stops running (keep_warm_shadow_fix_runs 0) or a dry run reaches the venue.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configDirForVenueSim, kCli, startVenueSim, stopVenueSim, type Sim } from '../helpers/drill';

describe('pipeline/shadow route for a FIX venue, end to end (tickpath run + venue-sim --report)', function () {
  this.timeout(120_000);
  let dir: string;
  let sim: Sim | null = null;
  afterEach(async () => {
    if (sim !== null && sim.proc.child.exitCode === null) sim.proc.child.kill('SIGKILL');
    sim = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the run reports dry runs through a shadow FIX venue; the real venue receives exactly the orders sent, none of them a dry run', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-shadow-fix-cli-'));
    // A private temp dir: the run's FIX store defaults to TMPDIR/tickpath-fix, and a store left by
    // another run (its numbers ahead of this fresh venue's) would end the session.
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    const env = { ...process.env, TMPDIR: tmp };
    const pcap = path.join(dir, 'session.pcap');
    const gen = spawnSync(process.execPath, [kCli, 'gen', '--out', pcap, '--symbols', '20', '--rate', '50000', '--duration', '3'], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).to.equal(0);
    sim = await startVenueSim(dir, ['--comp-id', 'ARCA']);
    const cfg = configDirForVenueSim(dir, pcap, sim, (t) => t.replace(/default_venue: NSDQ/, 'default_venue: ARCA'));
    const r = spawnSync(process.execPath, [kCli, 'run', '--config', cfg, '--duration', '4', '--metrics-port', 'off', '--json'], { encoding: 'utf8', env, timeout: 90_000 });
    expect(r.status, r.stderr + r.stdout.slice(-2000)).to.equal(0);
    expect(r.stdout).to.match(/venue ARCA \(fix44\): logged in/);
    const c = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { counters: Record<string, number> }).counters;
    expect(c.keep_warm_shadow_fix_runs, `dry runs through the shadow FIX venue; ${JSON.stringify(c)}`).to.be.greaterThan(0);
    expect(r.stdout).to.match(new RegExp(`^order path: ${c.keep_warm_turns} keep-warm dry runs \\(never sent\\) \\(shadow route: ${c.keep_warm_shadow_ouch_runs} to a shadow OUCH venue, ${c.keep_warm_shadow_fix_runs} to a shadow FIX venue\\)`, 'm'));
    expect(c.orders_sent, 'real orders').to.be.greaterThan(10);
    // The real OUCH session to the same venue ran its send path with zero bytes on dry runs (warmSend).
    expect(c.keep_warm_send_warms, 'zero-byte sends through the real OUCH session').to.be.greaterThan(0);
    expect(r.stdout).to.match(new RegExp(`, ${c.keep_warm_send_warms} zero-byte sends through the real OUCH sessions \\(none reached a venue\\)`));
    const report = await stopVenueSim(sim);
    const stats = JSON.parse(/venue-sim: SIGTERM, stopping; (.*)/.exec(sim.proc.out())![1]) as Record<string, number>;
    sim = null;
    // Every order the venue saw is one the run sent, over the real FIX session; not one dry run.
    expect(report.length, 'orders in the venue report').to.equal(c.orders_sent);
    expect(stats.ordersIn).to.equal(c.orders_sent);
    expect([...new Set(report.map((o) => o.session as string))]).to.deep.equal(['FIX.4.4:TPATH']);
    expect(stats.fixLogons, 'FIX logons at the venue (the real session only)').to.equal(1);
  });
});
