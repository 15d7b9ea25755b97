import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dpdkEalArgs } from '../../lib/binding/dpdk-args';
import { checkConfigDir, ealArgConflicts } from '../../lib/config/check';

// dist/test/config -> repository root
const kRoot = path.resolve(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kConfigs = path.join(kRoot, 'configs');

function cli(...args: string[]) {
  return spawnSync(process.execPath, [kCli, ...args], { encoding: 'utf8', timeout: 30000 });
}

/** A copy of the shipped configs in a temporary directory (the capture path made absolute), edited by `edit`. */
function brokenCopy(edit: Partial<Record<'feed_config.yml' | 'performance.yml' | 'routing_config.yml', (text: string) => string>>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-config-check-'));
  for (const name of ['feed_config.yml', 'performance.yml', 'routing_config.yml'] as const) {
    let text = fs.readFileSync(path.join(kConfigs, name), 'utf8').split('../test/').join(`${kRoot}/test/`);
    const change = edit[name];
    if (change) {
      const changed = change(text);
      expect(changed, `the edit of ${name} changed nothing`).to.not.equal(text);
      text = changed;
    }
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** 1-based line of `dir/name` holding `needle`. */
function lineOf(dir: string, name: string, needle: string): number {
  const i = fs.readFileSync(path.join(dir, name), 'utf8').split('\n').findIndex((l) => l.includes(needle));
  expect(i, `${needle} in ${name}`).to.be.at.least(0);
  return i + 1;
}

describe('tickpath config check', function () {
  this.timeout(60000);
  const dirs: string[] = [];
  const copy = (edit: Parameters<typeof brokenCopy>[0]) => {
    const d = brokenCopy(edit);
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('the shipped configs are clean: exit 0', () => {
    const r = cli('config', 'check', kConfigs);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.contain('feed_config.yml, performance.yml, routing_config.yml: no problems');
  });

  const cases: { name: string; file: 'feed_config.yml' | 'performance.yml' | 'routing_config.yml'; edit: (t: string) => string; needle: string; says: string; fix: RegExp }[] = [
    {
      name: 'an unknown key', file: 'feed_config.yml', edit: (t) => t.replace('    loops: 1 ', '    loopz: 1 '), needle: 'loopz:',
      says: 'feed.pcap.loopz is an unknown key, expected one of file, pace, loops, allow_truncated', fix: /did you mean loops\?/,
    },
    {
      name: 'a wrong type', file: 'performance.yml', edit: (t) => t.replace('burst: 32 ', 'burst: "32"'), needle: 'burst: "32"',
      says: 'performance.stages.rx.burst is "32", expected an integer from 1 to 512', fix: /set performance\.stages\.rx\.burst/,
    },
    {
      name: 'an unknown venue in a rule', file: 'routing_config.yml', edit: (t) => t.replace('{ venue: ARCA, share: 0.4', '{ venue: BATS, share: 0.4'), needle: 'venue: BATS',
      says: 'routing.rules.AAPL[1].venue is "BATS", expected one of NSDQ, ARCA', fix: /add the venue/,
    },
    {
      name: 'shares summing to 1.3', file: 'routing_config.yml', edit: (t) => t.replace('share: 0.4', 'share: 0.7'), needle: 'AAPL:',
      says: 'routing.rules.AAPL is [0.6,0.7], expected shares that add up to 1 (these add up to 1.3)', fix: /add up to 1/,
    },
    {
      name: 'a CPU the machine does not have', file: 'performance.yml', edit: (t) => t.replace('    rx:\n      cpu: 1', '    rx:\n      cpu: 4096'), needle: 'cpu: 4096',
      says: `performance.stages.rx.cpu is 4096, expected a CPU from 0 to ${os.availableParallelism() - 1}`, fix: /pick a CPU/,
    },
    {
      name: 'a ring that is not a power of two', file: 'performance.yml', edit: (t) => t.replace('decoder_to_book: 4096', 'decoder_to_book: 3000'), needle: 'decoder_to_book: 3000',
      says: 'performance.rings.decoder_to_book is 3000, expected a power of two from 64 to 4194304', fix: /4096 \(the next power of two\)/,
    },
    {
      name: 'a journal that cannot be written', file: 'routing_config.yml', edit: (t) => t.replace('../var/orders.journal', 'feed_config.yml/orders.journal'), needle: 'feed_config.yml/orders.journal',
      says: 'routing.journal.path is "feed_config.yml/orders.journal", expected a file the router can create', fix: /writable directory/,
    },
    {
      name: 'a session window end that is not a time of day', file: 'routing_config.yml',
      edit: (t) => t.replace('      heartbeat_interval_s: 30\n', '      heartbeat_interval_s: 30\n      schedule:\n        start: "09:30"\n        end: "4pm"\n'), needle: 'end: "4pm"',
      says: 'routing.venues[1].schedule.end is "4pm", expected a time of day \'HH:MM\' or \'HH:MM:SS\' (quoted)', fix: /end: "16:00"/,
    },
    {
      name: 'a session window on a day that is not a weekday', file: 'routing_config.yml',
      edit: (t) => t.replace('      heartbeat_interval_s: 1\n', '      heartbeat_interval_s: 1\n      schedule: { start: "09:30", end: "16:00",\n                  days: [mon, tues] }\n'), needle: 'days: [mon, tues]',
      says: 'routing.venues[0].schedule.days[1] is "tues", expected one of sun, mon, tue, wed, thu, fri, sat', fix: /tue/,
    },
    {
      name: 'a session window in a zone that does not exist', file: 'routing_config.yml',
      edit: (t) => t.replace('      heartbeat_interval_s: 30\n', '      heartbeat_interval_s: 30\n      schedule:\n        start: "09:30"\n        end: "16:00"\n        time_zone: Mars/Olympus\n'), needle: 'time_zone: Mars/Olympus',
      says: 'routing.venues[1].schedule.time_zone is "Mars/Olympus", expected \'UTC\', an offset like \'-05:00\' or an IANA zone name like \'America/New_York\'', fix: /./,
    },
    {
      name: 'EAL lcores on a CPU that does not exist', file: 'feed_config.yml', edit: (t) => t.replace('# lcores: "0@(0-1),1@1"', 'lcores: "0@0,1@4096"'), needle: 'lcores: "0@0,1@4096"',
      says: 'feed.dpdk.eal.lcores is "0@0,1@4096", expected lcores on CPUs from 0 to', fix: /leave lcores unset/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 1, file:line, path, value, expectation and fix`, () => {
      const dir = copy({ [c.file]: c.edit });
      const r = cli('config', 'check', dir);
      expect(r.status, r.stdout + r.stderr).to.equal(1);
      const where = `${path.join(dir, c.file)}:${lineOf(dir, c.file, c.needle)}: `;
      expect(r.stdout).to.contain(`${where}${c.says}`);
      const lines = r.stdout.split('\n');
      const at = lines.findIndex((l) => l.startsWith(where));
      expect(lines[at + 1]).to.match(/^ {4}fix: /).and.match(c.fix);
      expect(lines[lines.length - 2]).to.equal(`${dir}: 1 problem in feed_config.yml, performance.yml, routing_config.yml`);
    });
  }

  it('a missing file: exit 1, the file named', () => {
    const dir = copy({});
    fs.rmSync(path.join(dir, 'routing_config.yml'));
    const r = cli('config', 'check', dir);
    expect(r.status).to.equal(1);
    expect(r.stdout).to.contain(`${path.join(dir, 'routing_config.yml')}: cannot read config file (ENOENT)`);
  });

  it('prints every problem, not just the first, and --json lists them with file, line and path', () => {
    const dir = copy({
      'feed_config.yml': (t) => t.replace('    loops: 1 ', '    loopz: 1 '),
      'performance.yml': (t) => t.replace('decoder_to_book: 4096', 'decoder_to_book: 3000').replace('burst: 32 ', 'burst: "32"'),
      'routing_config.yml': (t) => t.replace('{ venue: ARCA, share: 0.4', '{ venue: BATS, share: 0.7'),
    });
    const text = cli('config', 'check', dir);
    expect(text.status).to.equal(1);
    expect(text.stdout).to.contain(`${dir}: 5 problems in feed_config.yml, performance.yml, routing_config.yml`);
    const r = cli('config', 'check', dir, '--json');
    expect(r.status).to.equal(1);
    const j = JSON.parse(r.stdout) as { ok: boolean; problems: { code: string; file: string; line: number; path: string; value: unknown; fix: string }[] };
    expect(j.ok).to.equal(false);
    expect(j.problems.map((p) => [path.basename(p.file), p.path, p.code])).to.deep.equal([
      ['feed_config.yml', 'feed.pcap.loopz', 'ERR_CONFIG_UNKNOWN_KEY'],
      ['performance.yml', 'performance.stages.rx.burst', 'ERR_CONFIG_INVALID'],
      ['performance.yml', 'performance.rings.decoder_to_book', 'ERR_CONFIG_INVALID'],
      ['routing_config.yml', 'routing.rules.AAPL[1].venue', 'ERR_CONFIG_INVALID'],
      ['routing_config.yml', 'routing.rules.AAPL', 'ERR_CONFIG_INVALID'],
    ]);
    expect(j.problems[2]).to.include({ line: lineOf(dir, 'performance.yml', 'decoder_to_book: 3000'), value: 3000 });
    const clean = JSON.parse(cli('config', 'check', kConfigs, '--json').stdout);
    expect(clean).to.deep.equal({ dir: kConfigs, ok: true, problems: [] });
  });

  it('bad usage: exit 2 with the usage', () => {
    for (const args of [['config'], ['config', 'check'], ['config', 'verify', kConfigs], ['config', 'check', kConfigs, 'extra'], ['config', 'check', kConfigs, '--frob']]) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr).to.contain('Usage: tickpath config check DIR');
    }
    expect(cli('config', '--help').status).to.equal(0);
    expect(cli('--help').stdout).to.match(/config +check DIR/);
  });

  it('doctor --config exits non-zero on config problems and lists them', () => {
    const dir = copy({ 'routing_config.yml': (t) => t.replace('fsync: group', 'fsync: sometimes') });
    const r = cli('doctor', '--config', dir, '--json');
    expect(r.status).to.equal(1);
    const report = JSON.parse(r.stdout) as { findings: { area: string; severity: string; what: string; fix?: string }[] };
    const config = report.findings.filter((f) => f.area === 'config');
    expect(config).to.have.length(1);
    expect(config[0]).to.include({ severity: 'problem' });
    expect(config[0].what).to.contain(`routing_config.yml:${lineOf(dir, 'routing_config.yml', 'fsync: sometimes')}: routing.journal.fsync is "sometimes"`);
    const missing = cli('doctor', '--config', path.join(dir, 'nowhere'));
    expect(missing.status).to.equal(1);
    expect(missing.stdout).to.contain('cannot read config file (ENOENT)');
  });
});

describe('config check: DPDK EAL options', () => {
  it('catches pairs the EAL refuses, such as --no-huge (legacy memory) with --in-memory', () => {
    // What lib/binding builds for no_huge with its default in-memory mode.
    const args = dpdkEalArgs({ vdev: 'net_null0', noHuge: true, memoryMb: 256 });
    expect(args).to.include.members(['--no-huge', '--in-memory']);
    expect(ealArgConflicts(args).map(([a, b]) => `${a} ${b}`)).to.deep.equal(['--legacy-mem --in-memory']);
    expect(ealArgConflicts([...args, '--match-allocations']).map(([a, b]) => `${a} ${b}`)).to.deep.equal(['--legacy-mem --in-memory', '--no-huge --match-allocations']);
    expect(ealArgConflicts(dpdkEalArgs({ vdev: 'net_null0', noHuge: true, memoryMb: 256, inMemory: false, extraEalArgs: ['--no-shconf'] }))).to.deep.equal([]);
    expect(ealArgConflicts(dpdkEalArgs({ vdev: 'net_null0' }))).to.deep.equal([]);
  });

  it('the shipped dpdk section gives arguments the EAL accepts', () => {
    const r = checkConfigDir(kConfigs, { cpuCount: 2 });
    expect(r.problems).to.deep.equal([]);
    expect(r.configs!.feed.dpdk!.eal).to.include({ noHuge: true, inMemory: true });
  });
});
