import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { TickpathError } from '../../lib/errors';
import { checkVenueNetnsAllowed } from '../../lib/venue-sim/venue-netns';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');
const isRoot = process.getuid?.() === 0;
const last = os.cpus().length - 1;

interface NetnsLine { name: string; hostIf: string; hostAddr: string; venueIf: string; venueAddr: string }

/** The run's "venue network:" start-up line: what it created. */
function netnsLine(out: string): NetnsLine | null {
  const m = /^venue network: netns (tpvenue-\d+), veth (\S+) ([\d.]+) <-> (\S+) ([\d.]+),/m.exec(out);
  return m ? { name: m[1], hostIf: m[2], hostAddr: m[3], venueIf: m[4], venueAddr: m[5] } : null;
}

function venuePorts(out: string): { ouch: number; fix: number } {
  const m = /^venue simulators: .*, OUCH ([\d.]+):(\d+), FIX ([\d.]+):(\d+)$/m.exec(out);
  expect(m, out.slice(-2000)).to.not.equal(null);
  return { ouch: Number(m![2]), fix: Number(m![4]) };
}

/** Nothing of the run's namespace left: no namespace of that name, no router-side interface. */
function expectRemoved(n: NetnsLine): void {
  expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).to.not.include(n.name);
  expect(spawnSync('ip', ['link', 'show', n.hostIf]).status, `${n.hostIf} still exists`).to.not.equal(0);
}

/** The venue side's receive counters, read inside the namespace by the test itself. */
function venueRxPackets(n: NetnsLine): number {
  const j = JSON.parse(execFileSync('ip', ['-n', n.name, '-s', '-j', 'link', 'show', n.venueIf], { encoding: 'utf8' })) as { stats64: { rx: { packets: number } } }[];
  return j[0].stats64.rx.packets;
}

describe('venue-sim/tickpath run --venue-netns: the venue child behind a veth pair in its own namespace', function () {
  this.timeout(120000);

  it('refuses a non-root user with ERR_PERMISSION naming both fixes (sudo, or without --venue-netns)', () => {
    let err: unknown;
    try { checkVenueNetnsAllowed(1000); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(TickpathError);
    expect((err as TickpathError).code).to.equal('ERR_PERMISSION');
    expect((err as TickpathError).message).to.match(/needs root \(running as uid 1000\).*fix: run it as root \(sudo tickpath run \.\.\.\), or drop --venue-netns/);
    expect(() => checkVenueNetnsAllowed(0)).to.not.throw();
  });

  it('as another user through the CLI: exit 1, the error and its fix on stderr, no namespace created', function () {
    if (!isRoot) this.skip();
    const before = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'pcap', '--venue-process', `spin@${last}`, '--venue-netns', '--metrics-port', 'off'],
      { encoding: 'utf8', uid: 65534, gid: 65534, cwd: '/' });
    if (/EACCES|Cannot find module/.test(r.stderr)) this.skip(); // the checkout is not readable by nobody here
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/--venue-netns creates a network namespace and a veth pair, which needs root \(running as uid 65534\).*fix: run it as root.*\[ERR_PERMISSION\]/);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).to.equal(before);
  });

  it('without --venue-process is a usage error saying what it needs', () => {
    const r = spawnSync(process.execPath, [kCli, 'run', '--venue-netns', '--metrics-port', 'off'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/option --venue-netns needs --venue-process MODE@CPU/);
  });

  it('a run reaches the venue only through the veth: the venue\'s sockets have the router\'s veth address as peer, its interface counted every order, all acked; nothing left after', function () {
    if (!isRoot) this.skip();
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '3', '--rate', '50000', '--symbols', '20', '--metrics-port', 'off',
      '--venue-process', `spin@${last}`, '--venue-netns', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout.slice(-2000)).to.equal(0);
    const n = netnsLine(r.stdout);
    expect(n, r.stdout.slice(0, 3000)).to.not.equal(null);
    expect(r.stdout).to.match(new RegExp(`^venue simulators: venue-sim child process, CPU ${last}, idle spin, in netns ${n!.name} on ${n!.venueAddr.replace(/\./g, '\\.')}, pid \\d+, OUCH ${n!.venueAddr.replace(/\./g, '\\.')}:\\d+, FIX`, 'm'));
    const ports = venuePorts(r.stdout);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      counters: Record<string, number>; venue?: Record<string, number>;
      venueNetns: { name: string; hostAddr: string; venueAddr: string; connections: string[]; counters: { rxPackets: number; rxBytes: number } };
    };
    const c = j.counters;
    expect(c.orders_sent).to.be.greaterThan(10);
    expect(j.venue!.ordersIn, 'orders the venue process received').to.equal(c.orders_sent);
    expect(c.orders_acked).to.equal(c.orders_sent);
    expect(j.venueNetns.name).to.equal(n!.name);
    // Read inside the namespace before the sessions closed: exactly the two sessions, each from the router's side of the pair.
    const conns = [...j.venueNetns.connections].sort();
    expect(conns).to.have.length(2);
    const peer = (port: number) => new RegExp(`^${n!.venueAddr.replace(/\./g, '\\.')}:${port} <- ${n!.hostAddr.replace(/\./g, '\\.')}:\\d+$`);
    expect(conns.some((x) => peer(ports.ouch).test(x)), conns.join(', ')).to.equal(true);
    expect(conns.some((x) => peer(ports.fix).test(x)), conns.join(', ')).to.equal(true);
    // Every order (and the logins and heartbeats) crossed the venue's interface: an order is >= 1 packet.
    expect(j.venueNetns.counters.rxPackets).to.be.at.least(c.orders_sent);
    expect(r.stdout).to.match(new RegExp(`^venue network: ${n!.name}: venue sockets .*; ${n!.venueIf} received ${j.venueNetns.counters.rxPackets} packets`, 'm'));
    expectRemoved(n!);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`while running, seen from outside: the router's sockets go to the namespace's address and its interface counts them; ${signal} removes the namespace and the pair`, async function () {
      if (!isRoot) this.skip();
      const child = spawn(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '0', '--rate', '20000', '--symbols', '20', '--metrics-port', 'off',
        '--venue-process', `spin@${last}`, '--venue-netns'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      try {
        const until = Date.now() + 60_000;
        while (!/^\[\s*2s\]/m.test(out) && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        const n = netnsLine(out);
        expect(n, out.slice(-2000)).to.not.equal(null);
        expect(/orders (\d+)/.exec(out.split('\n').filter((l) => /^\[\s*2s\]/.test(l))[0] ?? '')?.[1], out.slice(-1500)).to.not.equal('0');
        // The router's side, in this namespace: established connections from its veth address to the venue's.
        const host = execFileSync('ss', ['-Htn', 'state', 'established', 'dst', n!.venueAddr], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
        expect(host, `router sockets to ${n!.venueAddr}`).to.have.length(2);
        for (const l of host) expect(l).to.include(`${n!.hostAddr}:`);
        // Nothing of the venue on loopback: the run's venue ports are not listening here.
        const ports = venuePorts(out);
        const listening = execFileSync('ss', ['-Htln'], { encoding: 'utf8' });
        expect(listening).to.not.match(new RegExp(`:(${ports.ouch}|${ports.fix})\\s`));
        // The receive leaves the router's send(2): the venue side's NAPI is threaded, its kthread pinned to
        // the venue's CPU at SCHED_FIFO and doing the work; its notifications deferred; the router side
        // without TSO (else veth hands TCP to netif_rx on the sender's CPU).
        const sys = (f: string) => execFileSync('ip', ['netns', 'exec', n!.name, 'cat', `/sys/class/net/${n!.venueIf}/${f}`], { encoding: 'utf8' }).trim();
        expect(sys('threaded')).to.equal('1');
        expect(Number(sys('napi_defer_hard_irqs'))).to.be.greaterThan(0);
        expect(Number(sys('gro_flush_timeout'))).to.be.greaterThan(0);
        expect(execFileSync('ethtool', ['-k', n!.hostIf], { encoding: 'utf8' })).to.match(/^tcp-segmentation-offload: off/m);
        const napiPid = Number(/napi pid (\d+), SCHED_FIFO/.exec(out)?.[1]);
        expect(napiPid, out.slice(0, 2000)).to.be.greaterThan(0);
        expect(fs.readFileSync(`/proc/${napiPid}/comm`, 'utf8')).to.match(new RegExp(`^napi/${n!.venueIf}-`));
        expect(execFileSync('taskset', ['-pc', String(napiPid)], { encoding: 'utf8' })).to.match(new RegExp(`list: ${last}\\s*$`));
        expect(execFileSync('chrt', ['-p', String(napiPid)], { encoding: 'utf8' })).to.match(/SCHED_FIFO/);
        const napiNs = () => Number(fs.readFileSync(`/proc/${napiPid}/schedstat`, 'utf8').split(' ')[0]);
        const rx0 = venueRxPackets(n!), napi0 = napiNs();
        await new Promise((r) => setTimeout(r, 1000));
        expect(venueRxPackets(n!), 'the venue side keeps receiving (orders, heartbeats)').to.be.greaterThan(rx0);
        expect(napiNs(), 'the NAPI thread ran the receive').to.be.greaterThan(napi0);
        child.kill(signal);
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        expect(code, out.slice(-1500)).to.equal(0);
        expect(out).to.match(/orders: sent \d+/);
        expectRemoved(n!);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  }

  it('a SIGKILLed run leaves its namespace; the next --venue-netns run removes it (its pid is gone)', async function () {
    if (!isRoot) this.skip();
    const child = spawn(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '0', '--rate', '20000', '--symbols', '20', '--metrics-port', 'off',
      '--venue-process', `spin@${last}`, '--venue-netns'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const until = Date.now() + 60_000;
    while (!/^venue simulators: /m.test(out) && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const n = netnsLine(out);
    expect(n, out.slice(-2000)).to.not.equal(null);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Its venue child stops with its parent; the namespace stays until someone removes it.
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).to.include(n!.name);
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '1', '--rate', '20000', '--symbols', '20', '--metrics-port', 'off',
      '--venue-process', `spin@${last}`, '--venue-netns'], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout.slice(-1500)).to.equal(0);
    const gone = Date.now() + 5000;
    while (execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(n!.name) && Date.now() < gone) await new Promise((res) => setTimeout(res, 100));
    if (fs.existsSync(`/run/netns/${n!.name}`)) spawnSync('ip', ['netns', 'del', n!.name]);
    expectRemoved(n!);
  });
});
