/**
 * The FAST tools as a user runs them (child processes): `tickpath gen --fast-templates` writes a MOEX
 * session pcap, `tickpath decode --fast-templates --jsonl` prints every message with every field by
 * its template name, checked message by message against the plain reference decoder's reading of
 * the same frames, with exact counts.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PcapReader } from '../../../lib/feed/pcap/pcap-reader';
import { kFixtures } from './fast-helpers';
import { PlainBooks, PlainFastReference } from './plain-fast-reference';
import { BookLevels, bookDigest } from '../../helpers/book-digest-strategy';
import { createVethPair, destroyVethPair, replayInNs, replayUnavailableReason, requireOrSkip, VethPair } from '../../helpers/netns';

const kCli = path.resolve(kFixtures, '..', '..', '..', 'bin', 'tickpath.js');
const kTemplates = path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml');

export function tickpath(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, ...args], { encoding: 'utf8', timeout: 60000, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The reference's values in decode --jsonl's JSON form (uInt64 as a string when beyond 2^53). */
function asJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(asJson);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, asJson(x)]));
  return v;
}

describe('tickpath gen / decode --fast-templates (child processes)', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fast-tools-'));
  const pcap = path.join(dir, 'moex.pcap');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gen writes the incrementals and a snapshot cycle; decode prints every field by template name, as the plain reference reads them', () => {
    const g = tickpath('gen', '--fast-templates', kTemplates, '--out', pcap, '--messages', '2000', '--symbols', '8', '--snapshots', '--seed', '5', '--json');
    expect(g.status, g.stderr).to.equal(0);
    const summary = JSON.parse(g.stdout);
    expect(summary.incrementals).to.equal(2000);
    expect(summary.snapshots).to.be.greaterThan(8);
    expect(summary.template).to.equal('X-OLR-CURR');

    const d = tickpath('decode', '--fast-templates', kTemplates, '--pcap', pcap, '--jsonl');
    expect(d.status, d.stderr).to.equal(0);
    const lines = d.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).to.equal(2000 + summary.snapshots);
    expect(lines.filter((l) => l.template === 'X-OLR-CURR').length).to.equal(2000);
    expect(lines.filter((l) => l.template === 'W-OLS-CURR').length).to.equal(summary.snapshots);
    expect(d.stderr).to.contain(`${2000 + summary.snapshots} FAST messages in ${2000 + summary.snapshots} datagrams`);
    expect(d.stderr).to.contain('errors: 0');
    expect(lines.reduce((n, l) => n + (l.template === 'X-OLR-CURR' ? l.GroupMDEntries.length : 0), 0)).to.equal(summary.entries);

    const reference = new PlainFastReference(kTemplates);
    const reader = new PcapReader(new Uint8Array(fs.readFileSync(pcap)), pcap);
    let i = 0;
    while (reader.next()) {
      const payload = reader.frameOffset + 42;
      const r = reference.decode(reader.data, payload + 4, reader.capturedLength - 46);
      const { frame, msgSeqNum, template, templateId, ...fields } = lines[i];
      expect(frame).to.equal(i + 1);
      expect(template).to.equal(r!.template);
      expect(templateId).to.be.a('number');
      expect(msgSeqNum).to.equal(fields.MsgSeqNum);
      expect(fields, `message ${i + 1}`).to.deep.equal(asJson(r!.msg));
      i++;
    }
    expect(i).to.equal(lines.length);
  });

  it('decode --type and --symbol select by template name and Symbol; the readable form shows decimals as numbers', () => {
    const t = tickpath('decode', '--fast-templates', kTemplates, '--pcap', pcap, '--type', 'W-OLS-CURR', '--symbol', 'USD000UTSTOM');
    expect(t.status, t.stderr).to.equal(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines.length).to.be.greaterThan(0);
    for (const l of lines) expect(l).to.match(/^#\d+ \d+ W-OLS-CURR\(\d+\) .*Symbol="USD000UTSTOM".*MDEntryPx=\d+\.\d+/);
    expect(t.stderr).to.match(/\d+ of \d+ messages match --symbol USD000UTSTOM --type W-OLS-CURR/);
  });

  it('usage and input errors exit 2 and 1 with a message naming the problem', () => {
    const bad = tickpath('decode', '--fast-templates', kTemplates, '--pcap', pcap, '--type', 'X-NOPE');
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.contain('X-NOPE, not templates of');
    const missing = tickpath('decode', '--fast-templates', path.join(dir, 'none.xml'), '--pcap', pcap);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain('cannot read: ENOENT');
    const gen = tickpath('gen', '--fast-templates', kTemplates, '--out', path.join(dir, 'x.pcap'), '--market', 'XX');
    expect(gen.status).to.equal(2);
    expect(gen.stderr).to.contain('option --market is "XX", expected CURR or FOND');
  });
});

describe('tickpath run --config with a MOEX FIX/FAST feed (child process, pcap backend)', function () {
  this.timeout(180000);
  const root = path.resolve(kFixtures, '..', '..', '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fast-run-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeConfig(feed: string): void {
    fs.writeFileSync(path.join(dir, 'feed_config.yml'), feed);
    for (const name of ['performance.yml', 'routing_config.yml']) fs.copyFileSync(path.join(root, 'configs', name), path.join(dir, name));
  }

  it('replays a generated session through the pcap backend into books equal to the plain reference decode', () => {
    const pcap = path.join(dir, 'moex.pcap');
    const g = tickpath('gen', '--fast-templates', kTemplates, '--out', pcap, '--messages', '3000', '--symbols', '12', '--seed', '9', '--json');
    expect(g.status, g.stderr).to.equal(0);
    writeConfig(`feed:
  protocol: moex-fast
  backend: pcap
  pcap:
    file: moex.pcap
    pace: fast
  lines:
    - { name: A, group: 239.195.1.1, port: 16001 }
    - { name: S, group: 239.195.1.2, port: 16002 }
  fast:
    templates: ${kTemplates}
    incremental: [A]
    snapshot: [S]
    price_decimals: 5
    market: CURR
`);
    const strategy = path.join(root, 'dist', 'test', 'helpers', 'book-digest-strategy.js');
    const r = tickpath('run', '--config', dir, '--venue-sim', '--strategy', strategy, '--duration', '0', '--metrics-port', 'off', '--json');
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').pop()!);

    // The reference: every frame through the plain decoder, books the plain way.
    const reference = new PlainFastReference(kTemplates);
    const plain = new PlainBooks();
    const reader = new PcapReader(new Uint8Array(fs.readFileSync(pcap)), pcap);
    let frames = 0;
    while (reader.next()) {
      frames++;
      const payload = reader.frameOffset + 42;
      plain.applyIncremental(reference.decode(reader.data, payload + 4, reader.capturedLength - 46)!.msg);
    }
    expect(frames).to.equal(3000);
    const books: BookLevels = new Map();
    for (const key of plain.books.keys()) books.set(key, { B: plain.levels(key, '0'), S: plain.levels(key, '1') });
    const want = bookDigest(books);
    expect(want.levels).to.be.greaterThan(50);
    expect(stats.counters.rx_packets).to.equal(3000);
    expect(stats.counters.itch_messages, 'FAST messages decoded').to.equal(3000);
    expect(stats.counters.itch_errors).to.equal(0);
    expect(stats.strategy.levels).to.equal(want.levels);
    expect(stats.strategy.orders).to.equal(want.orders);
    expect(stats.strategy.digest).to.equal(want.digest);
  });

  it('the config reader refuses a fast section naming an unknown line and a missing template file, at file:line', () => {
    writeConfig(`feed:
  protocol: moex-fast
  backend: pcap
  pcap:
    file: moex.pcap
  lines:
    - { name: A, group: 239.195.1.1, port: 16001 }
  fast:
    templates: nowhere.xml
    incremental: [A, Q]
`);
    const r = tickpath('run', '--config', dir, '--duration', '1', '--metrics-port', 'off');
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/feed_config\.yml:9.*feed\.fast\.templates/);
    expect(r.stderr).to.match(/feed_config\.yml:10.*feed\.fast\.incremental\[1\].*have: A/);
  });
});

describe('tickpath run --config with a MOEX FIX/FAST feed live over UDP (veth pair, tcpreplay from a namespace)', function () {
  this.timeout(180000);
  const root = path.resolve(kFixtures, '..', '..', '..');
  let pair: VethPair | undefined;
  let dir = '';
  before(function () {
    const reason = replayUnavailableReason();
    if (reason !== null) requireOrSkip(this, 'udp', reason);
    pair = createVethPair();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fast-udp-'));
  });
  after(() => { destroyVethPair(pair); if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('the udp backend joins the incremental group; books equal the plain reference decode of the replayed pcap', async () => {
    const pcap = path.join(dir, 'moex.pcap');
    const g = tickpath('gen', '--fast-templates', kTemplates, '--out', pcap, '--messages', '3000', '--symbols', '12', '--seed', '11', '--rate', '20000', '--source', pair!.nsIp, '--json');
    expect(g.status, g.stderr).to.equal(0);
    fs.writeFileSync(path.join(dir, 'feed_config.yml'), `feed:
  protocol: moex-fast
  backend: udp
  udp:
    interface: ${pair!.hostIp}
    rcvbuf: 8388608
  lines:
    - { name: A, group: 239.195.1.1, port: 16001 }
  fast:
    templates: ${kTemplates}
    incremental: [A]
`);
    for (const name of ['performance.yml', 'routing_config.yml']) fs.copyFileSync(path.join(root, 'configs', name), path.join(dir, name));
    const strategy = path.join(root, 'dist', 'test', 'helpers', 'book-digest-strategy.js');
    const child = spawn(process.execPath, [path.resolve(kFixtures, '..', '..', '..', 'bin', 'tickpath.js'), 'run', '--config', dir, '--venue-sim', '--strategy', strategy,
      '--duration', '10', '--metrics-port', 'off', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let waited = 0; !/RX started/.test(stdout + stderr); waited += 100) {
      if (waited > 30000 || child.exitCode !== null) throw new Error(`run did not start: ${stderr}${stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500)); // IGMP join on the veth
    const replay = await replayInNs(pair!, pcap);
    expect(replay.code, replay.stderr).to.equal(0);
    const code = await exited;
    expect(code, stderr + stdout).to.equal(0);
    const stats = JSON.parse(stdout.trim().split('\n').pop()!);

    const reference = new PlainFastReference(kTemplates);
    const plain = new PlainBooks();
    const reader = new PcapReader(new Uint8Array(fs.readFileSync(pcap)), pcap);
    while (reader.next()) plain.applyIncremental(reference.decode(reader.data, reader.frameOffset + 46, reader.capturedLength - 46)!.msg);
    const books: BookLevels = new Map();
    for (const key of plain.books.keys()) books.set(key, { B: plain.levels(key, '0'), S: plain.levels(key, '1') });
    const want = bookDigest(books);
    expect(stats.counters.rx_packets, 'datagrams received').to.equal(3000);
    expect(stats.counters.itch_messages, 'FAST messages decoded').to.equal(3000);
    expect(stats.counters.itch_errors).to.equal(0);
    expect(stats.strategy.levels).to.equal(want.levels);
    expect(stats.strategy.digest).to.equal(want.digest);
  });
});
