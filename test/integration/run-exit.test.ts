/**
 * `tickpath run` on every exit path: a start-up error after helper servers started, a stage that
 * dies, a second run under a taken --instance, SIGTERM. Each child must exit with the error named
 * within a bound, and leave nothing behind: no /dev/shm/tickpath-run-* directory, no stats file,
 * and never the launcher's lingering-resources guard (which would mean a server or worker outlived
 * the command).
 */
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');

interface Exit { code: number | null; signal: NodeJS.Signals | null; out: string; ms: number }

function runCli(args: string[], boundMs: number, onStart?: (child: ReturnType<typeof spawn>, out: () => string) => void): Promise<Exit> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [kCli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  childPids.push(child.pid!);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  onStart?.(child, () => out);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tickpath ${args.join(' ')} still running after ${boundMs} ms:\n${out.slice(-3000)}`));
    }, boundMs);
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, ms: Date.now() - t0 }); });
  });
}

/** Run directories of the children this file started (named tickpath-run-<pid>-*). */
const childPids: number[] = [];
const runDirs = (): string[] => (fs.existsSync('/dev/shm') ? fs.readdirSync('/dev/shm')
  .filter((f) => childPids.some((pid) => f.startsWith(`tickpath-run-${pid}-`))) : []);

describe('integration/tickpath run exits and cleans up on every path', function () {
  this.timeout(90000);
  let existing: string[] = [];
  let dir = '';
  beforeEach(() => { existing = runDirs(); });
  afterEach(() => {
    const left = runDirs().filter((d) => !existing.includes(d));
    expect(left, 'run directories left in /dev/shm').to.deep.equal([]);
  });
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-run-exit-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function expectCleanFailure(r: Exit, code: string): void {
    expect(r.code, r.out).to.equal(1);
    expect(r.out).to.contain(`[${code}]`);
    expect(r.out).to.not.contain('ERR_LINGERING');
  }

  it('a missing --strategy file: a clear error, no require stack, exit 1 at once', async () => {
    const r = await runCli(['run', '--strategy', path.join(dir, 'missing.js'), '--duration', '2', '--metrics-port', 'off'], 20000);
    expectCleanFailure(r, 'ERR_NOT_FOUND');
    expect(r.out).to.contain('--strategy').and.not.contain('Require stack');
  });

  it('a strategy module that does not load in the stage worker: the re-request server, simulators and workers are all released', async () => {
    const bad = path.join(dir, 'not-a-strategy.js');
    fs.writeFileSync(bad, 'module.exports = {};\n');
    const r = await runCli(['run', '--backend', 'pcap', '--strategy', bad, '--duration', '5', '--metrics-port', 'off'], 30000);
    expectCleanFailure(r, 'ERR_STAGE_CRASHED');
    expect(r.out).to.contain('does not export createStrategy');
  });

  for (const kind of ['random bytes', 'truncated'] as const) {
    it(`--config --venue-sim whose pcap is ${kind}: the venue simulators are stopped, exit 1`, async () => {
      const cfg = path.join(dir, `cfg-${kind.replace(' ', '-')}`);
      fs.cpSync(path.join(kRoot, 'configs'), cfg, { recursive: true });
      const pcap = path.join(cfg, 'feed.pcap');
      if (kind === 'random bytes') fs.writeFileSync(pcap, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff)));
      else fs.writeFileSync(pcap, fs.readFileSync(path.join(kRoot, 'test', 'fixtures', 'itch', 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap')).subarray(0, 150));
      const feed = fs.readFileSync(path.join(cfg, 'feed_config.yml'), 'utf8').replace(/^(\s+file: ).*Multiple\.Packets\.pcap$/m, '$1feed.pcap');
      fs.writeFileSync(path.join(cfg, 'feed_config.yml'), feed);
      const routing = fs.readFileSync(path.join(cfg, 'routing_config.yml'), 'utf8').replace(/path: \.\.\/var\/orders\.journal/, `path: ${path.join(cfg, 'var', 'orders.journal')}`);
      fs.writeFileSync(path.join(cfg, 'routing_config.yml'), routing);
      const r = await runCli(['run', '--config', cfg, '--venue-sim', '--duration', '3', '--metrics-port', 'off'], 30000);
      expectCleanFailure(r, 'ERR_BAD_CAPTURE');
    });
  }

  it('a second run under a taken --instance fails before starting anything; the first is unharmed', async () => {
    const instance = `exit${process.pid}`;
    let second: Promise<Exit> | undefined;
    const first = runCli(['run', '--backend', 'pcap', '--instance', instance, '--duration', '4', '--rate', '20000', '--metrics-port', 'off'], 60000, (_c, out) => {
      const poll = setInterval(() => {
        if (/live stats:/.test(out())) {
          clearInterval(poll);
          second = runCli(['run', '--backend', 'pcap', '--instance', instance, '--duration', '2', '--metrics-port', 'off'], 20000);
        }
      }, 50);
    });
    const a = await first;
    expect(second, 'second run started').to.not.equal(undefined);
    const b = await second!;
    expectCleanFailure(b, 'ERR_INSTANCE_IN_USE');
    expect(b.out).to.not.contain('venue simulator');   // failed before starting anything
    expect(a.code, a.out).to.equal(0);
    expect(fs.existsSync(`/dev/shm/tickpath-${instance}.stats`), 'stats file removed').to.equal(false);
  });

  it('SIGTERM while running: exit 0, run directory and stats file removed', async () => {
    const instance = `term${process.pid}`;
    const r = await runCli(['run', '--backend', 'pcap', '--instance', instance, '--duration', '0', '--rate', '20000', '--metrics-port', 'off'], 60000, (child, out) => {
      const poll = setInterval(() => { if (/\[\s*1s\]/.test(out())) { clearInterval(poll); child.kill('SIGTERM'); } }, 50);
    });
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('final (').and.not.contain('ERR_LINGERING');
    expect(fs.existsSync(`/dev/shm/tickpath-${instance}.stats`)).to.equal(false);
  });
});
