/**
 * MOEX FIX/FAST A/B arbitration live over the udp backend, through `tickpath run` as a user runs it:
 * in a network namespace of its own (loopback with a multicast route), a sender process multicasts
 * one incremental session on line A (239.195.1.1:16001) and line B (239.195.2.1:17001), each line
 * missing datagrams the other carries; the udp backend opens one socket per line and tags each
 * datagram with its line, so the arbiter fills each line's holes from the other.
 *
 * Fails if: the udp backend reads only one line (MsgSeqNum gaps, wrong books), the line tag is lost
 * or wrong (datagrams counted as other traffic, or duplicates applied twice: wrong books), the
 * per-line counts at the end of the run (datagrams, used first, copies) do not match what was sent
 * on each line, or the books differ from a plain, independent decode of the whole session.
 * The same for ITCH: a generated MoldUDP64 session on lines A and B with different packets missing,
 * over udp, builds the books a pcap replay of the whole session builds (LineArbiter by line tag).
 * Needs root (ip netns); skipped otherwise.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { PcapReader } from '../../../lib/feed/pcap/pcap-reader';
import { BookLevels, bookDigest } from '../../helpers/book-digest-strategy';
import { kFixtures } from './fast-helpers';
import { PlainBooks, PlainFastReference } from './plain-fast-reference';

const root = path.resolve(kFixtures, '..', '..', '..');
const kCli = path.join(root, 'bin', 'tickpath.js');
const kTemplates = path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml');
const kStrategy = path.join(root, 'dist', 'test', 'helpers', 'book-digest-strategy.js');
const kSender = path.join(__dirname, 'udp-ab-sender.js');

function canNetns(): boolean {
  return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
}

/**
 * `tickpath run --config DIR` inside namespace `ns` for `seconds`; once it is up, the sender replays
 * `session` to the two line groups from the same namespace. Resolves with run's output after it
 * exited 0 (the sender exited 0 too), and the sender's output.
 */
async function runAndSend(ns: string, dir: string, seconds: number, session: string, lines: string[]): Promise<{ stdout: string; sender: string }> {
  const run = spawn('ip', ['netns', 'exec', ns, process.execPath, kCli, 'run', '--config', dir, '--venue-sim', '--strategy', kStrategy,
    '--duration', String(seconds), '--metrics-port', 'off', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  run.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  run.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  for (let waited = 0; !/live stats:/.test(stdout); waited += 100) {
    expect(waited < 30000 && run.exitCode === null, `tickpath run never started:\n${stdout}\n${stderr}`).to.equal(true);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  const s = spawnSync('ip', ['netns', 'exec', ns, process.execPath, kSender, session, ...lines], { encoding: 'utf8', timeout: 60000 });
  expect(s.status, s.stderr).to.equal(0);
  expect(await exited, stderr + stdout).to.equal(0);
  return { stdout, sender: s.stdout };
}

describe('tickpath run: MOEX FAST A/B lines live over the udp backend (network namespace)', function () {
  this.timeout(180000);
  const ns = `tpfastab${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fastab-'));
  before(function () {
    if (!canNetns()) this.skip();
    for (const args of [['netns', 'add', ns], ['-n', ns, 'link', 'set', 'lo', 'up'], ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lo']]) {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      expect(r.status, `ip ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    }
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('each line misses datagrams the other has: no gap, every datagram of the other line a duplicate, books equal to a plain decode', async () => {
    const registry = loadFastTemplates(fs.readFileSync(kTemplates, 'utf8'));
    const gen = new MoexSessionGenerator(registry, { instruments: 6, seed: 31 });
    const n = 1200;
    const datagrams = Array.from({ length: n }, () => gen.nextIncremental().datagram);
    // A misses every 7th from 3, B every 11th from 5 unless A missed it too (then B keeps it).
    const dropA = (i: number): boolean => i % 7 === 3;
    const dropB = (i: number): boolean => i % 11 === 5 && !dropA(i);
    const chunks: Buffer[] = [];
    let sentA = 0, sentB = 0;
    const add = (line: number, d: Uint8Array): void => {
      const h = Buffer.alloc(4); h.writeUInt16LE(line, 0); h.writeUInt16LE(d.length, 2);
      chunks.push(h, Buffer.from(d));
    };
    datagrams.forEach((d, i) => {
      // B's copy first on odd datagrams: the arbiter sees both orders.
      const order = i % 2 === 1 ? [1, 0] : [0, 1];
      for (const line of order) {
        if (line === 0 && !dropA(i)) { add(0, d); sentA++; }
        if (line === 1 && !dropB(i)) { add(1, d); sentB++; }
      }
    });
    expect(n - sentA).to.be.greaterThan(100);
    expect(n - sentB).to.be.greaterThan(50);
    const session = path.join(dir, 'session.bin');
    fs.writeFileSync(session, Buffer.concat(chunks));

    // The plain reference: every datagram once, decoded by the independent decoder.
    const reference = new PlainFastReference(kTemplates);
    const plain = new PlainBooks();
    for (const d of datagrams) plain.applyIncremental(reference.decode(d, 4, d.length - 4)!.msg);
    const levels: BookLevels = new Map();
    for (const key of plain.books.keys()) levels.set(key, { B: plain.levels(key, '0'), S: plain.levels(key, '1') });
    const want = bookDigest(levels);
    expect(want.levels).to.be.greaterThan(30);

    fs.writeFileSync(path.join(dir, 'feed_config.yml'), `feed:
  protocol: moex-fast
  backend: udp
  udp: { interface: 127.0.0.1, rcvbuf: 4194304 }
  lines:
    - { name: A, group: 239.195.1.1, port: 16001 }
    - { name: B, group: 239.195.2.1, port: 17001 }
  fast:
    templates: ${kTemplates}
    incremental: [A, B]
    price_decimals: 5
    market: CURR
  line_wait_ms: 200
`);
    for (const name of ['performance.yml', 'routing_config.yml']) fs.copyFileSync(path.join(root, 'configs', name), path.join(dir, name));
    const check = spawnSync(process.execPath, [kCli, 'config', 'check', dir], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).to.equal(0);

    const { stdout, sender } = await runAndSend(ns, dir, 8, session, ['239.195.1.1:16001', '239.195.2.1:17001']);
    expect(sender).to.contain(`sent ${sentA + sentB}`);
    expect(stdout).to.match(/line 1 239\.195\.2\.1:17001 group 239\.195\.2\.1/);
    const stats = JSON.parse(stdout.trim().split('\n').pop()!);
    const c = stats.counters;
    expect(c.rx_packets, 'every datagram of both lines').to.equal(sentA + sentB);
    expect(c.other_traffic).to.equal(0);
    expect(c.sequence_gaps, 'each line\'s holes filled by the other').to.equal(0);
    expect(c.messages_missing).to.equal(0);
    expect(c.duplicates, 'the second copy of each datagram both lines carried').to.equal(sentA + sentB - n);
    expect(c.itch_messages).to.equal(n);
    expect(c.itch_errors).to.equal(0);
    expect(stats.strategy.levels).to.equal(want.levels);
    expect(stats.strategy.orders).to.equal(want.orders);
    expect(stats.strategy.digest).to.equal(want.digest);
    // By line: each brought what was sent on it (its own drops missing), firsts and copies adding up.
    const byLine = [...stdout.matchAll(/FAST incremental line (\d) \(0 = first of feed\.fast\.incremental\): (\d+) datagrams, (\d+) used first, (\d+) copies/g)]
      .map((m) => m.slice(1).map(Number));
    expect(byLine.map((l) => [l[0], l[1]])).to.deep.equal([[0, sentA], [1, sentB]]);
    expect(byLine[0][2] + byLine[1][2], 'every datagram used once').to.equal(n);
    expect(byLine[0][3] + byLine[1][3]).to.equal(sentA + sentB - n);
    // The same by line in the run's --json counters (a = the first incremental line, b = the second).
    expect([c.fast_line_a_datagrams, c.fast_line_b_datagrams], 'datagrams by line').to.deep.equal([sentA, sentB]);
    expect([c.fast_line_a_firsts, c.fast_line_a_duplicates, c.fast_line_b_firsts, c.fast_line_b_duplicates]).to.deep.equal([byLine[0][2], byLine[0][3], byLine[1][2], byLine[1][3]]);
    expect(c.fast_line_a_firsts + c.fast_line_b_firsts, 'every datagram used once').to.equal(n);
    expect(c.fast_line_a_duplicates + c.fast_line_b_duplicates).to.equal(c.duplicates);
  });

  it('ITCH: MoldUDP64 lines A and B over udp, each missing packets the other has: nothing lost, the books of a pcap replay of the whole session', async () => {
    const pcap = path.join(dir, 'itch.pcap');
    const g = spawnSync(process.execPath, [kCli, 'gen', '--out', pcap, '--symbols', '8', '--rate', '20000', '--duration', '0.1', '--seed', '5', '--json'], { encoding: 'utf8' });
    expect(g.status, g.stderr).to.equal(0);
    const payloads: Buffer[] = [];
    const reader = new PcapReader(new Uint8Array(fs.readFileSync(pcap)), pcap);
    while (reader.next()) payloads.push(Buffer.from(reader.data.subarray(reader.frameOffset + 42, reader.frameOffset + reader.capturedLength)));
    const n = payloads.length;
    expect(n).to.be.greaterThan(100);
    const dropA = (i: number): boolean => i % 9 === 4 && i < n - 1;
    const dropB = (i: number): boolean => i % 13 === 6 && !dropA(i) && i < n - 1;
    const chunks: Buffer[] = [];
    let sent = 0;
    payloads.forEach((d, i) => {
      for (const line of i % 2 === 1 ? [1, 0] : [0, 1]) {
        if ((line === 0 && dropA(i)) || (line === 1 && dropB(i))) continue;
        const h = Buffer.alloc(4); h.writeUInt16LE(line, 0); h.writeUInt16LE(d.length, 2);
        chunks.push(h, d); sent++;
      }
    });
    const session = path.join(dir, 'itch-session.bin');
    fs.writeFileSync(session, Buffer.concat(chunks));
    for (const name of ['performance.yml', 'routing_config.yml']) fs.copyFileSync(path.join(root, 'configs', name), path.join(dir, name));
    const lines = `  lines:
    - { name: A, group: 233.54.12.111, port: 26477 }
    - { name: B, group: 233.49.196.111, port: 26477 }
`;
    // The reference: the same session replayed whole from the pcap.
    fs.writeFileSync(path.join(dir, 'feed_config.yml'), `feed:\n  backend: pcap\n  pcap: { file: ${pcap}, pace: fast }\n${lines}`);
    const ref = spawnSync(process.execPath, [kCli, 'run', '--config', dir, '--venue-sim', '--strategy', kStrategy, '--duration', '0', '--metrics-port', 'off', '--json'], { encoding: 'utf8', timeout: 60000 });
    expect(ref.status, ref.stderr + ref.stdout).to.equal(0);
    const want = JSON.parse(ref.stdout.trim().split('\n').pop()!);
    expect(want.strategy.levels).to.be.greaterThan(20);

    fs.writeFileSync(path.join(dir, 'feed_config.yml'), `feed:\n  backend: udp\n  udp: { interface: 127.0.0.1, rcvbuf: 4194304 }\n  line_wait_ms: 200\n${lines}`);
    const { stdout } = await runAndSend(ns, dir, 6, session, ['233.54.12.111:26477', '233.49.196.111:26477']);
    const c = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(c.counters.rx_packets).to.equal(sent);
    expect(c.counters.other_traffic).to.equal(0);
    // A hole the other line fills after the 2 ms line wait (a loaded host) is counted as a gap but
    // filled from the held copy: nothing is lost, and every message is applied once, in order.
    expect(c.counters.messages_lost).to.equal(0);
    expect(c.counters.duplicates, 'the second copies, dropped').to.be.greaterThan(0);
    expect(c.counters.itch_messages).to.equal(want.counters.itch_messages);
    expect(c.strategy.digest).to.equal(want.strategy.digest);
    expect(c.strategy.levels).to.equal(want.strategy.levels);
  });
});
