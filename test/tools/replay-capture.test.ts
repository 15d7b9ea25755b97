/**
 * The replay testbench and capture end to end through lib/binding: a generated MoldUDP64 session
 * is replayed (rewritten, paced, looped) through the pcap backend's tx file, a kernel UDP socket on
 * loopback, and af_packet onto a veth pair whose far end (in a namespace) captures it with
 * `tickpath capture`; frames replayed with tcpreplay are captured with af_packet. Counts are exact,
 * bytes are compared, pacing is checked only to an order of magnitude.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Port } from '../../lib/binding';
import { PcapReader } from '../../lib/feed';
import { PcapWriter } from '../../lib/feed/pcap/pcap-writer';
import { CaptureFile } from '../../lib/tools/capture-file';
import { runCapture } from '../../lib/tools/packet-capture';
import { Replayer, TxProducerSink } from '../../lib/tools/replayer';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { main as replayMain } from '../../apps/replay';
import {
  VethPair, createVethPair, destroyVethPair, haveTool, replayInNs, replayUnavailableReason, requireOrSkip, seqPayload, udpFrame,
  writePcap as writeNetPcap,
} from '../helpers/netns';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');

/** Packets the kernel dropped from its per-CPU receive backlogs so far (column 2 of /proc/net/softnet_stat, every CPU). */
function softnetDrops(): number {
  try {
    return fs.readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n').reduce((n, line) => n + parseInt(line.split(/\s+/)[1], 16), 0);
  } catch {
    return 0;
  }
}

function frames(file: string): Buffer[] {
  const data = fs.readFileSync(file);
  const r = new PcapReader(data, file);
  const out: Buffer[] = [];
  while (r.next()) out.push(Buffer.from(data.subarray(r.frameOffset, r.frameOffset + r.capturedLength)));
  return out;
}

function ipChecksumOk(f: Buffer): boolean {
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

function udpChecksumOk(f: Buffer): boolean {
  const len = f.readUInt16BE(38);
  let sum = 17 + len;
  for (let i = 26; i < 34; i += 2) sum += f.readUInt16BE(i);
  for (let i = 34; i < 34 + (len & ~1); i += 2) sum += f.readUInt16BE(i);
  if (len & 1) sum += f[34 + len - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (s: string) => { out.push(String(s)); };
  console.error = (s: string) => { err.push(String(s)); };
  try { return { value: await fn(), out, err }; } finally { console.log = log; console.error = error; }
}

describe('tickpath replay / capture', function () {
  this.timeout(20_000);
  let dir: string;
  let session: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-replay-'));
    session = path.join(dir, 'session.pcap');
    // 200 packets of 5 messages (plus end of session): 1000 messages in 0.1 s of capture time.
    new SessionGenerator({ symbols: 4, rate: 10000, durationSeconds: 0.1, maxMessagesPerPacket: 5, seed: 5 }).writePcap(session);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('pcap backend: rewrites group/port with valid checksums, loops, exact frames; reports the MoldUDP64 range', async () => {
    const orig = frames(session);
    expect(orig.length).to.equal(201);
    const out = path.join(dir, 'tx.pcap');
    const { value: code, out: lines } = await quiet(() => replayMain(['--pcap', session, '--backend', 'pcap', '--tx-file', out,
      '--rewrite-group', '239.9.8.7', '--rewrite-port', '31337', '--loops', '2', '--topspeed', '--json', '--no-progress']));
    expect(code).to.equal(0);
    const report = JSON.parse(lines[lines.length - 1]);
    expect(report).to.include({ sent: 402, failed: 0, framesInCapture: 201, loops: 2 });
    expect(report.mold).to.deep.include({ firstSequence: 1, lastSequence: 1000, gaps: [], missing: 0, endOfSession: true, sessions: ['TICKPATH01'] });
    const sent = frames(out);
    expect(sent.length).to.equal(402);
    sent.forEach((f, i) => {
      const o = orig[i % 201];
      expect([...f.subarray(0, 6)]).to.deep.equal([0x01, 0x00, 0x5e, 0x09, 0x08, 0x07]);
      expect([...f.subarray(30, 34)]).to.deep.equal([239, 9, 8, 7]);
      expect(f.readUInt16BE(36)).to.equal(31337);
      expect(ipChecksumOk(f) && udpChecksumOk(f), `frame ${i} checksums`).to.equal(true);
      expect(f.subarray(42).equals(o.subarray(42)), `frame ${i} payload`).to.equal(true);
      expect(f.subarray(6, 14).equals(o.subarray(6, 14))).to.equal(true);
    });
    // --udp-checksum zero clears it.
    const zero = path.join(dir, 'zero.pcap');
    expect((await quiet(() => replayMain(['--pcap', session, '--backend', 'pcap', '--tx-file', zero, '--udp-checksum', 'zero', '--topspeed', '--no-progress']))).value).to.equal(0);
    expect(frames(zero).every((f) => f.readUInt16BE(40) === 0)).to.equal(true);
  });

  it('pcap backend, child process: a capture longer than the RX ring (10,000 frames) is written whole at top speed, within a bound', () => {
    // Used to stall at 4,096 frames at 100 % CPU: the port replayed its input on RX too, nobody
    // read it, and once that ring was full the poller returned before servicing TX.
    const big = path.join(dir, 'big.pcap');
    const mac = Uint8Array.from([2, 0, 0, 0, 0, 1]);
    writeNetPcap(big, Array.from({ length: 10_000 }, (_, i) => udpFrame(mac, mac, '10.0.0.1', '10.0.0.2', 1000, 2000, seqPayload(i, 20))));
    const out = path.join(dir, 'big-tx.pcap');
    const res = spawnSync(process.execPath, [kCli, 'replay', '--pcap', big, '--backend', 'pcap', '--tx-file', out, '--topspeed', '--json', '--no-progress'],
      { encoding: 'utf8', timeout: 15_000 });
    expect(res.signal, `killed after 15 s: ${res.stderr}`).to.equal(null);
    expect(res.status, res.stderr).to.equal(0);
    const report = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(report).to.include({ sent: 10_000, failed: 0, framesInCapture: 10_000 });
    const written = frames(out);
    expect(written.length).to.equal(10_000);
    written.forEach((f, i) => expect(f.readUInt32BE(42), `frame ${i}`).to.equal(i));
  });

  it('reports gaps present in the file itself', async () => {
    const gappy = path.join(dir, 'gappy.pcap');
    const w = new PcapWriter();
    frames(session).forEach((f, i) => { if (i !== 10 && i !== 50) w.addFrame(f, 1, i); });
    fs.writeFileSync(gappy, w.toBuffer());
    const cap = new CaptureFile(fs.readFileSync(gappy));
    const m = cap.moldSummary()!;
    expect(m.gaps).to.deep.equal([[51, 55], [251, 255]]);
    expect(m.missing).to.equal(10);
    const { value: code, out } = await quiet(() => replayMain(['--pcap', gappy, '--backend', 'pcap', '--tx-file', path.join(dir, 'g.pcap'), '--topspeed', '--no-progress']));
    expect(code).to.equal(0);
    expect(out.join('\n')).to.match(/sequence 1\.\.1000/).and.match(/10 messages missing in the file: 51-55, 251-255/);
  });

  it('CLI usage errors exit 2 with the option named', async () => {
    expect((await quiet(() => replayMain(['--help']))).out.join('')).to.match(/--rewrite-group/);
    const cases: [string[], RegExp][] = [
      [['--backend', 'pcap'], /--pcap FILE is required/],
      [['--pcap', session], /--backend is required/],
      [['--pcap', session, '--backend', 'af_packet'], /needs --interface/],
      [['--pcap', session, '--backend', 'pcap', '--tx-file', 'x', '--pps', '10', '--topspeed'], /at most one of/],
      [['--pcap', session, '--backend', 'pcap', '--tx-file', 'x', '--speed', '0'], /--speed is "0"/],
      [['--pcap', session, '--backend', 'pcap', '--tx-file', 'x', '--rewrite-group', '1.2.3'], /option 'group' is "1.2.3"/],
    ];
    for (const [args, re] of cases) {
      const r = await quiet(() => replayMain(args));
      expect(r.value, args.join(' ')).to.equal(2);
      expect(r.err.join('\n')).to.match(re);
    }
    expect((await quiet(() => replayMain(['--pcap', path.join(dir, 'missing.pcap'), '--backend', 'pcap', '--tx-file', 'x']))).value).to.equal(1);
    const badFilter = spawnSync(process.execPath, [kCli, 'capture', '--backend', 'udp', '--port', '9', '--out', path.join(dir, 'x.pcap'), '--filter', 'tcp prot 80'], { encoding: 'utf8', timeout: 20000 });
    expect(badFilter.status).to.equal(2);
    expect(badFilter.stderr).to.match(/option --filter: capture filter "tcp prot 80" does not compile: .*\[ERR_BAD_FILTER\]/);
  });

  it('udp backend on loopback: replay --pps 2000 into a udp capture: exact count, payloads, rewritten port, paced', async function () {
    const cap = new CaptureFile(fs.readFileSync(session));
    const out = path.join(dir, 'udp-capture.pcap');
    let replay: Promise<unknown> | undefined;
    const port = 30000 + Math.floor(Math.random() * 20000);
    cap.rewrite({ group: '127.0.0.1', port });
    const report = await runCapture({
      port: { backend: 'udp', udp: { port, bind: '127.0.0.1' } }, out, count: 201, durationSeconds: 10,
      syntheticHeaders: { sourceAddress: '0.0.0.0', destinationAddress: '127.0.0.1', sourcePort: 0, destinationPort: port },
      onStarted: () => {
        const tx = Port.open({ backend: 'udp', poller: 'inline', udp: { port: 0, txDest: `127.0.0.1:${port}` } });
        replay = new Replayer(cap, new TxProducerSink(tx.producer(0), 'l4-payload'), { pace: { mode: 'pps', pps: 2000 } }).run()
          .then((r) => { tx.close(); return r; });
      },
    });
    const sent = await replay! as { sent: number; durationSeconds: number };
    expect(sent.sent).to.equal(201);
    expect(sent.durationSeconds).to.be.at.least(0.05);
    expect(report.packets).to.equal(201);
    expect(report.wrapped).to.equal(201);
    const got = frames(out), orig = frames(session);
    got.forEach((f, i) => {
      expect(f.readUInt16BE(36)).to.equal(port);
      expect(f.subarray(42).equals(orig[i].subarray(42)), `payload ${i}`).to.equal(true);
    });
    // The synthetic headers make a valid capture.
    if (haveTool('tshark')) {
      const t = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'udp.dstport'], { encoding: 'utf8' });
      expect(t.stdout.trim().split('\n')).to.have.length(201);
    }
  });

  describe('af_packet on a veth pair', () => {
    let pair: VethPair | undefined;
    before(function () {
      const reason = replayUnavailableReason();
      if (reason) requireOrSkip(this, 'af_packet', reason);
      pair = createVethPair();
    });
    after(() => destroyVethPair(pair));

    it('capture: frames sent by tcpreplay are written exactly; tshark reads the file', async () => {
      const out = path.join(pair!.tmpDir, 'cap.pcap');
      let sender: Promise<{ code: number | null }> | undefined;
      const report = await runCapture({
        port: { backend: 'af_packet', afPacket: { interface: pair!.hostIf, retireUs: 1000 } }, out, count: 201, durationSeconds: 10,
        onStarted: () => { sender = replayInNs(pair!, session, ['--pps=5000']); },
      });
      expect((await sender!).code).to.equal(0);
      expect(report.packets).to.equal(201);
      const got = frames(out), orig = frames(session);
      expect(got.map((f) => f.toString('hex'))).to.deep.equal(orig.map((f) => f.toString('hex')));
      if (haveTool('tshark')) {
        const t = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'ip.dst'], { encoding: 'utf8' });
        expect(t.stdout.trim().split('\n').filter((l) => l === '233.54.12.111')).to.have.length(201);
      }
    });

    it('capture --filter: --count counts only the matching UDP frames; other groups, ports and the link chatter are not written', async () => {
      const p = pair!;
      const out = path.join(p.tmpDir, 'ns-filtered.pcap');
      const child = spawn('ip', ['netns', 'exec', p.ns, process.execPath, kCli, 'capture', '--backend', 'af_packet', '--interface', p.nsIf,
        '--filter', 'udp and dst host 239.1.1.9 and dst port 40001', '--count', '50', '--duration', '15', '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      const started = new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => { stderr += d; if (/capturing on/.test(stderr)) resolve(); });
        child.on('exit', () => reject(new Error(`capture exited early: ${stderr}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        await started;
        const port = Port.open({ backend: 'af_packet', poller: 'inline', afPacket: { interface: p.hostIf } });
        const softnetBefore = softnetDrops();
        let wrongSent = 0;
        let sender = '';
        try {
          // First the wrong group, then the wrong port, then the right one: only the last may count.
          for (const dest of [{ group: '239.1.1.8', port: 40001 }, { group: '239.1.1.9', port: 40002 }, { group: '239.1.1.9', port: 40001 }]) {
            const cap = new CaptureFile(fs.readFileSync(session));
            cap.rewrite(dest);
            const sent = await new Replayer(cap, new TxProducerSink(port.producer(0)), { pace: { mode: 'pps', pps: 5000 } }).run();
            if (dest.group !== '239.1.1.9' || dest.port !== 40001) wrongSent += sent.sent;
          }
          sender = JSON.stringify(port.stats().device);
        } finally {
          port.close();
        }
        expect(await exited).to.equal(0);
        const report = JSON.parse(stdout.trim());
        expect(report.packets, `${stdout} ${stderr}`).to.equal(50);
        expect(report.reason).to.equal('count');
        expect(wrongSent).to.equal(402);
        // Every wrong-destination frame is counted as filtered, unless the kernel dropped it where it
        // counts drops (the capture's ring or socket, or a CPU's receive backlog: /proc/net/softnet_stat,
        // machine-wide, so an upper bound), which a loaded machine does: then the shortfall is at most that.
        const dropped = report.kernelDrops + report.ringFullDrops + (softnetDrops() - softnetBefore);
        expect(report.filtered, `filtered ${report.filtered} of ${wrongSent}; drops counted ${dropped}; capture ${stdout} sender ${sender}`)
          .to.be.at.least(wrongSent - dropped);
        const got = frames(out);
        expect(got).to.have.length(50);
        for (const f of got) {
          expect([...f.subarray(30, 34)]).to.deep.equal([239, 1, 1, 9]);
          expect(f.readUInt16BE(36)).to.equal(40001);
        }
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });

    it('replay: af_packet TX with rewrite and --pps 2000 arrives exactly at the namespace end (tickpath capture af_packet)', async () => {
      const p = pair!;
      const out = path.join(p.tmpDir, 'ns-cap.pcap');
      const child = spawn('ip', ['netns', 'exec', p.ns, process.execPath, kCli, 'capture', '--backend', 'af_packet', '--interface', p.nsIf,
        '--count', '201', '--duration', '10', '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      const started = new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => { stderr += d; if (/capturing on/.test(stderr)) resolve(); });
        child.on('exit', () => reject(new Error(`capture exited early: ${stderr}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        await started;
        const cap = new CaptureFile(fs.readFileSync(session));
        cap.rewrite({ group: '239.1.1.9', port: 40001 });
        const port = Port.open({ backend: 'af_packet', poller: 'inline', afPacket: { interface: p.hostIf } });
        const report = await new Replayer(cap, new TxProducerSink(port.producer(0)), { pace: { mode: 'pps', pps: 2000 } }).run();
        const stats = port.stats();
        port.close();
        expect(report.sent).to.equal(201);
        expect(stats.device.oerrors).to.equal(0);
        // 201 packets at 2000/s: about 100 ms; assert only the order of magnitude.
        expect(report.durationSeconds).to.be.at.least(0.05).and.below(5);
        expect(await exited).to.equal(0);
        // The capture's JSON carries its ring and kernel drops: a shortfall says where frames went.
        expect(JSON.parse(stdout.trim()).packets, `${stdout} ${stderr} sender ${JSON.stringify(stats.queues[0])}`).to.equal(201);
        const got = frames(out);
        expect(got).to.have.length(201);
        const want: Buffer[] = [];
        for (let i = 0; i < cap.count; i++) want.push(Buffer.from(cap.data.subarray(cap.offsets[i], cap.offsets[i] + cap.lengths[i])));
        got.forEach((f, i) => {
          expect([...f.subarray(30, 34)]).to.deep.equal([239, 1, 1, 9]);
          expect(f.readUInt16BE(36)).to.equal(40001);
          expect(f.equals(want[i]), `frame ${i}`).to.equal(true);
        });
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
});
