/**
 * `tickpath capture --filter EXPR` is a real BPF expression compiled by libpcap in-process and run on
 * every backend. The real NASDAQ captures in test/fixtures (VLAN-tagged MoldUDP64 frames) are fed
 * through the dpdk backend (net_pcap vdev), and sent by tcpreplay over a veth pair into the
 * af_packet backend (which gets the 802.1Q tag from the kernel beside the frame and puts it back)
 * and the af_xdp backend,
 * and captured with expressions that pass and fail them; the expected frames are found by reading
 * the bytes here, independently of libpcap, and are the same on both. The udp backend is filtered
 * on the synthetic headers it writes. A bad expression exits 2 naming it.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binding } from '../../lib/binding/native';
import { PcapReader } from '../../lib/feed';
import { createVethPair, destroyVethPair, replayInNs, replayUnavailableReason, requireOrSkip, VethPair } from '../helpers/netns';
import { pcapBytes, TestFrame } from '../helpers/pcap-writer';
import { unavailable } from '../helpers/require-backend';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kFixtures = path.join(kRoot, 'test', 'fixtures', 'itch');

interface Fields { len: number; vlan: number; udp: boolean; dst: string; dport: number }

/** What the test knows about a frame, read from its bytes by hand (802.1Q, IPv4, UDP). */
function fieldsOf(f: Uint8Array): Fields {
  const b = Buffer.from(f);
  let e = 12, vlan = -1;
  if (b.readUInt16BE(e) === 0x8100) { vlan = b.readUInt16BE(e + 2) & 0xfff; e += 4; }
  const ipv4 = b.readUInt16BE(e) === 0x0800;
  const ip = e + 2, ihl = (b[ip] & 0x0f) * 4;
  const udp = ipv4 && b[ip + 9] === 17;
  return { len: f.length, vlan, udp, dst: ipv4 ? [...b.subarray(ip + 16, ip + 20)].join('.') : '', dport: udp ? b.readUInt16BE(ip + ihl + 2) : -1 };
}

function framesOf(file: string): Uint8Array[] {
  const data = fs.readFileSync(file);
  const r = new PcapReader(data, file);
  const out: Uint8Array[] = [];
  while (r.next()) out.push(new Uint8Array(data.subarray(r.frameOffset, r.frameOffset + r.capturedLength)));
  return out;
}

function capture(args: string[], boundMs = 20000): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [kCli, 'capture', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`capture ${args.join(' ')} hung: ${err}`)); }, boundMs);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

describe('tools/capture --filter: libpcap BPF on every backend', function () {
  this.timeout(120000);
  const cases: [string, (f: Fields) => boolean][] = [
    ['udp', (f) => f.vlan < 0 && f.udp],                                        // every fixture frame is 802.1Q-tagged: none
    ['vlan and udp and dst host 233.54.12.111 and dst port 26477', (f) => f.vlan >= 0 && f.udp && f.dst === '233.54.12.111' && f.dport === 26477],
    ['vlan and greater 1000', (f) => f.vlan >= 0 && f.len >= 1000],
    ['vlan and less 95', (f) => f.vlan >= 0 && f.len <= 95],
    ['vlan 141 and not dst port 26477', (f) => f.vlan === 141 && f.dport !== 26477],
  ];

  let dir = '';
  let combined = '';
  let frames: Uint8Array[] = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ops-filter-'));
    // Every real capture in the fixtures, one after the other in one file.
    for (const feed of fs.readdirSync(kFixtures).filter((d) => fs.statSync(path.join(kFixtures, d)).isDirectory()).sort()) {
      for (const f of fs.readdirSync(path.join(kFixtures, feed)).filter((x) => x.endsWith('.pcap')).sort()) frames.push(...framesOf(path.join(kFixtures, feed, f)));
    }
    combined = path.join(dir, 'fixtures.pcap');
    fs.writeFileSync(combined, pcapBytes(frames.map((data, i): TestFrame => ({ data, sec: 1_700_000_000 + i, nsec: 0 }))));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a bad expression: exit 2 at once, the expression and libpcap\'s reason named, nothing written', async () => {
    for (const expr of ['vlan and dts port 26477', 'udp port 99999', 'tcp and', '']) {
      const out = path.join(dir, 'bad.pcap');
      const r = spawnSync(process.execPath, [kCli, 'capture', '--backend', 'udp', '--port', '9', '--out', out, '--filter', expr], { encoding: 'utf8', timeout: 20000 });
      expect(r.status, r.stderr).to.equal(2);
      expect(r.stderr).to.contain('option --filter').and.contain('[ERR_BAD_FILTER]').and.contain('fix:');
      if (expr) expect(r.stderr).to.contain(JSON.stringify(expr));
      expect(fs.existsSync(out)).to.equal(false);
    }
  });

  describe('dpdk (net_pcap vdev) replaying the real captures', () => {
    before(function () {
      const dpdk = binding().backends().find((b) => b.name === 'dpdk');
      if (!dpdk || !dpdk.compiledIn) unavailable(this, 'dpdk', 'dpdk backend not compiled in');
    });

    for (const [expr, want] of cases) {
      it(`'${expr}': exactly the frames that match are written, the rest counted as filtered`, async () => {
        const expected = frames.filter((f) => want(fieldsOf(f)));
        const out = path.join(dir, 'cap.pcap');
        const r = await capture(['--backend', 'dpdk', '--vdev', `net_pcap0,rx_pcap=${combined}`, '--filter', expr, '--duration', '2', '--out', out, '--json']);
        expect(r.code, r.err).to.equal(0);
        const report = JSON.parse(r.out.trim().split('\n').pop()!);
        expect(report.packets).to.equal(expected.length);
        expect(report.filtered).to.equal(frames.length - expected.length);
        const got = framesOf(out);
        expect(got.map((f) => Buffer.from(f).toString('hex'))).to.deep.equal(expected.map((f) => Buffer.from(f).toString('hex')));
      });
    }

    it('the cases are not vacuous: some pass and some fail every non-empty case', () => {
      const counts = cases.map(([, want]) => frames.filter((f) => want(fieldsOf(f))).length);
      expect(counts[0]).to.equal(0);
      for (const n of counts.slice(1)) expect(n).to.be.above(0).and.below(frames.length);
    });
  });

  for (const backend of ['af_packet', 'af_xdp'] as const) describe(`${backend} on a veth pair: the real captures sent by tcpreplay from a namespace`, () => {
    let pair: VethPair | undefined;
    before(function () {
      const reason = replayUnavailableReason();
      if (reason) requireOrSkip(this, backend, reason);
      if (!binding().backends().find((b) => b.name === backend)?.compiledIn) unavailable(this, backend, `${backend} backend not compiled in`);
      pair = createVethPair('ops');
    });
    after(() => destroyVethPair(pair));

    for (const [expr, want] of cases) {
      it(`'${expr}': the same frames as on dpdk, written with their 802.1Q tag`, async () => {
        const expected = frames.filter((f) => want(fieldsOf(f)));
        const out = path.join(dir, `${backend}.pcap`);
        const child = spawn(process.execPath, [kCli, 'capture', '--backend', backend, '--interface', pair!.hostIf, '--filter', expr,
          '--duration', '3', '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '', stderr = '';
        child.stdout!.on('data', (d) => { stdout += d; });
        const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
        await new Promise<void>((resolve, reject) => {
          child.stderr!.on('data', (d) => { stderr += d; if (/capturing on/.test(stderr)) resolve(); });
          child.on('exit', () => reject(new Error(`capture exited early: ${stderr}`)));
        });
        const sent = await replayInNs(pair!, combined, ['--pps=2000']);
        expect(sent.code, sent.stderr).to.equal(0);
        expect(await exited, stderr).to.equal(0);
        const report = JSON.parse(stdout.trim());
        expect(report.packets).to.equal(expected.length);
        expect(report.filtered).to.equal(frames.length - expected.length);
        expect(framesOf(out).map((f) => Buffer.from(f).toString('hex'))).to.deep.equal(expected.map((f) => Buffer.from(f).toString('hex')));
      });
    }
  });

  it('udp backend: the expression sees the synthetic headers (port and length)', async () => {
    const port = 31000 + Math.floor(Math.random() * 20000);
    const out = path.join(dir, 'udp.pcap');
    const child = spawn(process.execPath, [kCli, 'capture', '--backend', 'udp', '--port', String(port), '--bind', '127.0.0.1',
      '--filter', `udp and dst port ${port} and greater 100`, '--count', '2', '--duration', '15', '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => { stderr += d; if (/capturing on/.test(stderr)) resolve(); });
      child.on('exit', () => reject(new Error(`capture exited early: ${stderr}`)));
    });
    const sock = dgram.createSocket('udp4');
    try {
      // 20-byte payload: a 62-byte frame, filtered out; 200 and 300: kept.
      for (const n of [20, 200, 20, 300]) await new Promise<void>((r) => sock.send(Buffer.alloc(n, n & 0xff), port, '127.0.0.1', () => r()));
    } finally {
      sock.close();
    }
    expect(await exited, stderr).to.equal(0);
    const report = JSON.parse(stdout.trim());
    expect(report.packets).to.equal(2);
    expect(report.filtered).to.equal(2);
    expect(framesOf(out).map((f) => f.length)).to.deep.equal([242, 342]);
  });
});
