/**
 * scripts/tune_network.sh on the host end of a veth pair this test creates: a dry run changes
 * nothing, apply then revert restores every sysctl, gro and RPS value it changed, what veth does
 * not support (rings, coalescing, hardware timestamps) is skipped with a message and exit 0, and a
 * missing interface is refused. Sysctls are machine-wide: after() writes back the values read in
 * before(), whatever happened in between.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { VethPair, createVethPair, destroyVethPair, netnsUnavailableReason } from '../helpers/netns';

const kScript = path.join(__dirname, '..', '..', '..', 'scripts', 'tune_network.sh');
const kSysctls = ['net.core.rmem_max', 'net.core.wmem_max', 'net.core.rmem_default', 'net.core.netdev_max_backlog', 'net.core.busy_poll', 'net.core.busy_read'];

const sysctlPath = (k: string): string => `/proc/sys/${k.replace(/\./g, '/')}`;
const readSysctls = (): Record<string, string> => Object.fromEntries(kSysctls.map((k) => [k, fs.readFileSync(sysctlPath(k), 'utf8').trim()]));
const gro = (ifname: string): string => /generic-receive-offload: (\w+)/.exec(execFileSync('ethtool', ['-k', ifname], { encoding: 'utf8' }))![1];

describe('ops/tune_network.sh (veth pair)', function () {
  this.timeout(20_000);
  let pair: VethPair | undefined;
  let original: Record<string, string> | undefined;
  let env: NodeJS.ProcessEnv;

  before(function () {
    const reason = netnsUnavailableReason() ?? (spawnSync('ethtool', ['--version']).status === 0 ? null : 'needs ethtool');
    if (reason) this.skip();
    original = readSysctls();
    pair = createVethPair();
    env = { ...process.env, TICKPATH_TUNE_STATE_DIR: path.join(pair.tmpDir, 'state') };
    // Start from values the script will change: gro on, RPS on for rx-0.
    execFileSync('ethtool', ['-K', pair.hostIf, 'gro', 'on']);
    fs.writeFileSync(`/sys/class/net/${pair.hostIf}/queues/rx-0/rps_cpus`, '1');
  });

  after(() => {
    if (original) for (const [k, v] of Object.entries(original)) { try { fs.writeFileSync(sysctlPath(k), v); } catch { /* best effort */ } }
    destroyVethPair(pair);
  });

  const run = (...args: string[]) => spawnSync('bash', [kScript, ...args], { encoding: 'utf8', env, timeout: 15_000 });

  it('--dry-run prints every change and changes nothing (no state file either)', () => {
    const before = readSysctls();
    const r = run(pair!.hostIf, '--dry-run');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/dry run: nothing is changed/);
    for (const k of kSysctls) expect(r.stdout).to.match(new RegExp(`(change|same) +${k.replace(/\./g, '\\.')}`));
    expect(r.stdout).to.match(/change +gro: on -> off/).and.match(/change +RPS rx-0: 0*1 -> 0/);
    expect(readSysctls()).to.deep.equal(before);
    expect(gro(pair!.hostIf)).to.equal('on');
    expect(fs.existsSync(path.join(pair!.tmpDir, 'state'))).to.equal(false);
  });

  it('apply sets and checks every setting, skips what veth lacks with exit 0; a second run is a no-op; revert restores everything', () => {
    const before = readSysctls();
    const ifname = pair!.hostIf;
    const r = run(ifname);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).not.to.match(/FAILED/);
    expect(r.stdout).to.match(/skip +ring sizes \(ethtool -G\): not supported/);
    expect(r.stdout).to.match(/skip +interrupt coalescing \(ethtool -C\): not supported/);
    expect(r.stdout).to.match(/skip +hardware timestamping/);
    expect(r.stdout).to.match(/ok +gro = off/).and.match(/ok +RPS rx-0 = off/);
    const tuned = readSysctls();
    expect(tuned['net.core.rmem_max']).to.equal('33554432');
    expect(tuned['net.core.netdev_max_backlog']).to.equal('250000');
    expect(tuned['net.core.busy_poll']).to.equal('50');
    expect(gro(ifname)).to.equal('off');
    expect(fs.readFileSync(`/sys/class/net/${ifname}/queues/rx-0/rps_cpus`, 'utf8')).to.match(/^[0,]+\s*$/);
    // Idempotent: nothing left to change, and the saved originals are not overwritten by tuned values.
    const again = run(ifname);
    expect(again.status).to.equal(0);
    expect(again.stdout).not.to.match(/^change/m);
    const state = fs.readFileSync(path.join(pair!.tmpDir, 'state', `tune-${ifname}.state`), 'utf8');
    expect(state).to.include(`sysctl net.core.busy_read ${before['net.core.busy_read']}`);
    const back = run(ifname, '--revert');
    expect(back.status, back.stdout + back.stderr).to.equal(0);
    expect(back.stdout).not.to.match(/FAILED/);
    expect(readSysctls()).to.deep.equal(before);
    expect(gro(ifname)).to.equal('on');
    expect(fs.readFileSync(`/sys/class/net/${ifname}/queues/rx-0/rps_cpus`, 'utf8')).to.match(/^[0,]*1\s*$/);
    expect(fs.existsSync(path.join(pair!.tmpDir, 'state', `tune-${ifname}.state`))).to.equal(false);
    expect(run(ifname, '--revert').stdout).to.match(/nothing to revert/);
  });

  it('refuses a missing or unknown interface with exit 1 and a clear message', () => {
    const none = run();
    expect(none.status).to.equal(1);
    expect(none.stderr).to.match(/no interface given; usage: tune_network.sh IFACE/);
    const unknown = run('tpnosuchif0');
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.match(/interface 'tpnosuchif0' does not exist/);
    expect(run('--bogus').status).to.equal(2);
  });
});
