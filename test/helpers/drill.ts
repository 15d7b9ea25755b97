/**
 * Crash-drill helpers shared by the integration drills (restart-resume.test.ts, failover.test.ts):
 * tickpath child processes with captured output, bounded waits, a `tickpath run` on a drill config,
 * the resting sells a drill's buys fill against, the venue simulator as its own process with its
 * --report, `tickpath journal` read back, and the journal-against-venue check. Also the venue
 * simulator started for its transport (router-wakeup.test.ts, venue-native.test.ts).
 *
 * Threading: the test's event loop; every process is a child with its own pipes.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const kRoot = path.resolve(__dirname, '..', '..', '..');
export const kCli = path.join(kRoot, 'bin', 'tickpath.js');

export type Json = Record<string, any>;

export interface Proc { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> }

export function start(args: string[], command: string[] = [process.execPath]): Proc {
  const child = spawn(command[0], [...command.slice(1), kCli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The exit code, or 'timeout' when `p` is still running after `ms`. */
export function exitWithin(p: Proc, ms: number): Promise<number | null | 'timeout'> {
  return Promise.race([p.exited, sleep(ms).then(() => 'timeout' as const)]);
}

/** `tickpath run` on a drill config directory (its strategy.js beside the YAML), no metrics server. */
export function startRun(cfg: string, extra: string[], command?: string[]): Proc {
  return start(['run', '--config', cfg, '--strategy', path.join(cfg, 'strategy.js'), '--metrics-port', 'off', ...extra], command);
}

/**
 * 300 resting DAY sells of 100 AAPL at 10.00 from session SELL1 (OUCH), for part of a drill's
 * buys to fill against under another session; resolves once `tickpath order` exited 0.
 */
export async function placeRestingSells(host: string, ouchPort: number, extra: string[] = []): Promise<void> {
  const seller = start(['order', '--venue', `ouch://${host}:${ouchPort}`, '--sender', 'SELL1', '--symbol', 'AAPL', '--side', 'sell',
    '--qty', '100', '--price', '10.00', '--count', '300', '--tif', 'day', ...extra]);
  expect(await seller.exited, seller.err()).to.equal(0);
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function jsonLines(text: string): Json[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
}

export interface Sim { proc: Proc; ouchPort: number; fixPort: number; report: string }

export async function startVenueSim(dir: string, extra: string[] = []): Promise<Sim> {
  const report = path.join(dir, 'venue-report.jsonl');
  const proc = start(['venue-sim', '--ouch-port', '0', '--fix-port', '0', '--store-dir', path.join(dir, 'venue-fix'),
    '--report', report, ...extra]);
  await waitFor('venue-sim ports', () => /FIX 4\.2\/4\.4 listening on [\d.]+:\d+/.test(proc.out()), 30000);
  const ouchPort = Number(/OUCH 4\.2\/SoupBinTCP listening on [\d.]+:(\d+)/.exec(proc.out())![1]);
  const fixPort = Number(/FIX 4\.2\/4\.4 listening on [\d.]+:(\d+)/.exec(proc.out())![1]);
  return { proc, ouchPort, fixPort, report };
}

/** `tickpath venue-sim` started for its transport line; stdout and stderr in one `out`. */
export interface VenueSimProcess { child: ChildProcess; out: () => string; ouchPort: number; fixPort: number; exited: Promise<number | null> }

/**
 * Starts `tickpath venue-sim` on loopback, `--ouch-port 0` and `--fix-port 0` unless `args` name a
 * FIX port, and resolves once it printed its transport; ports from its listening lines (fixPort 0
 * with `--fix-port off`). Killed and rejected if it exits or says nothing within `timeoutMs`.
 */
export async function startVenueSimProcess(args: string[], timeoutMs = 10000): Promise<VenueSimProcess> {
  const ports = args.includes('--fix-port') ? ['--ouch-port', '0'] : ['--ouch-port', '0', '--fix-port', '0'];
  const child = spawn(process.execPath, [kCli, 'venue-sim', ...ports, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const t0 = Date.now();
  while (!/venue-sim: transport/.test(out)) {
    if (Date.now() - t0 > timeoutMs || child.exitCode !== null) { child.kill('SIGKILL'); throw new Error(`venue-sim did not start: ${out}`); }
    await sleep(20);
  }
  return {
    child, out: () => out, exited,
    ouchPort: Number(/SoupBinTCP listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]),
    fixPort: Number(/FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0),
  };
}

/**
 * A fresh `tickpath venue-sim` process for each test of the enclosing describe (a venue's FIX store
 * would expect the previous run's sequence numbers): started in beforeEach with `args`, stopped in
 * afterEach. `current()` is the running one; `restart()` replaces it within a test.
 */
export function venueSimPerTest(args: string[]): { current(): VenueSimProcess; restart(): Promise<void> } {
  let venue: VenueSimProcess | undefined;
  const stop = async (): Promise<void> => {
    if (venue) { venue.child.kill('SIGTERM'); await venue.exited; venue = undefined; }
  };
  beforeEach(async () => { venue = await startVenueSimProcess(args); });
  afterEach(stop);
  return {
    current: () => venue!,
    restart: async () => { await stop(); venue = await startVenueSimProcess(args); },
  };
}

/** The routing file in `configsDir` with its OUCH (15001) and FIX (15002) venues pointed at `venue`'s ports. */
export function routingForVenue(configsDir: string, venue: VenueSimProcess): string {
  return fs.readFileSync(path.join(configsDir, 'routing_config.yml'), 'utf8')
    .replace(/port: 15001/, `port: ${venue.ouchPort}`).replace(/port: 15002/, `port: ${venue.fixPort}`);
}

/**
 * DIR/cfg: the shipped configs with their test paths made absolute, the feed replaying `pcap` at its
 * recorded pace, the journal in DIR and the two venues (OUCH first, then FIX) on `sim`'s ports;
 * `editRouting` changes the routing text further. Returns the config directory.
 */
export function configDirForVenueSim(dir: string, pcap: string, sim: { ouchPort: number; fixPort: number }, editRouting = (t: string): string => t): string {
  const cfg = path.join(dir, 'cfg');
  fs.mkdirSync(cfg);
  const read = (name: string): string => fs.readFileSync(path.join(kRoot, 'configs', name), 'utf8').split('../test/').join(`${kRoot}/test/`);
  fs.writeFileSync(path.join(cfg, 'performance.yml'), read('performance.yml'));
  fs.writeFileSync(path.join(cfg, 'feed_config.yml'), read('feed_config.yml')
    .replace(/file: \S*Multiple\.Packets\.pcap/, `file: ${pcap}`).replace(/pace: fast /, 'pace: recorded '));
  let ports = 0;
  const routing = editRouting(read('routing_config.yml').replace('../var/orders.journal', path.join(dir, 'orders.journal')))
    .replace(/^( {6}port: )\d+/gm, (_m, p: string) => `${p}${ports++ === 0 ? sim.ouchPort : sim.fixPort}`);
  expect(ports, 'the routing file names two venue ports').to.equal(2);
  fs.writeFileSync(path.join(cfg, 'routing_config.yml'), routing);
  return cfg;
}

/** SIGTERM: the simulator writes its report on the way out. */
export async function stopVenueSim(sim: Sim): Promise<Json[]> {
  sim.proc.child.kill('SIGTERM');
  const code = await Promise.race([sim.proc.exited, sleep(20000).then(() => 'timeout')]);
  expect(code, sim.proc.err()).to.equal(0);
  return jsonLines(fs.readFileSync(sim.report, 'utf8'));
}

export function readJournal(file: string): { orders: Json[]; summary: Json } {
  const r = spawnSync(process.execPath, [kCli, 'journal', file], { encoding: 'utf8', timeout: 60000 });
  expect(r.status, r.stderr).to.equal(0);
  const lines = jsonLines(r.stdout);
  const summary = lines[lines.length - 1];
  expect(summary.event).to.equal('summary');
  return { orders: lines.filter((l) => l.event === 'order'), summary };
}

/**
 * The router's children (what the venue sees) against the venue's orders of `session`: the same
 * ids, states and filled quantities; each id once at the venue. Returns the count compared.
 */
export function compareWithVenue(journal: Json[], report: Json[], session: string): number {
  const children = journal.filter((o) => o.kind === 'child');
  const venue = report.filter((o) => o.session === session);
  const venueIds = venue.map((o) => o.token);
  expect(new Set(venueIds).size, 'each token/ClOrdID once at the venue').to.equal(venueIds.length);
  const byId = new Map(venue.map((o) => [o.token as string, o]));
  const missing = children.filter((c) => !byId.has(c.clOrdId)).map((c) => `${c.clOrdId} ${c.state}`);
  expect(missing, 'journaled child orders the venue never saw').to.deep.equal([]);
  const ours = new Set(children.map((c) => c.clOrdId as string));
  expect(venueIds.filter((id) => !ours.has(id)), 'venue orders missing from the journal').to.deep.equal([]);
  const differ: string[] = [];
  for (const c of children) {
    const v = byId.get(c.clOrdId)!;
    if (v.state !== c.state || v.filled !== c.filled) differ.push(`${c.clOrdId}: journal ${c.state}/${c.filled}, venue ${v.state}/${v.filled}`);
  }
  expect(differ, 'orders whose state or filled quantity differ').to.deep.equal([]);
  return children.length;
}

