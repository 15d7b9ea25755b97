/** `tickpath decode` run as a user runs it: a child process on a vendored capture. */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kFixtureRoot, oracleToDecodeJson, readOracle } from './itch-fixtures';

const kRepoRoot = path.resolve(kFixtureRoot, '..', '..', '..');
const kCli = path.join(kRepoRoot, 'bin', 'tickpath.js');

function runDecode(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, 'decode', ...args], { encoding: 'utf8', timeout: 15000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tickpath decode', function () {
  this.timeout(20000);
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-decode-')); });
  after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

  it('--jsonl prints the oracle values for every message of Multiple.Packets.pcap', () => {
    const pcap = path.join(kFixtureRoot, 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');
    const r = runDecode(['--pcap', pcap, '--jsonl']);
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    const oracle = readOracle(pcap).map(oracleToDecodeJson);
    expect(lines).to.have.length(39);
    expect(lines).to.deep.equal(oracle);
  });

  it('--jsonl matches the oracle on an anonymised BX capture (null session, Price(4) integers)', () => {
    const pcap = path.join(kFixtureRoot, 'Bx.Equities.TotalView.Itch.v5.0.20230822', 'OrderExecutedWithPriceMessage.pcap');
    const r = runDecode(['--pcap', pcap, '--jsonl']);
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    expect(lines).to.deep.equal(readOracle(pcap).map(oracleToDecodeJson));
    expect(lines[0].executionPrice).to.equal(1176700);
  });

  it('--help prints usage and exits 0', () => {
    const r = runDecode(['--help']);
    expect(r.status).to.equal(0);
    expect(r.stdout).to.contain('Usage: tickpath decode --pcap FILE');
  });

  it('a file that is not a pcap exits 1 with a clear message', () => {
    const file = path.join(tmp, 'not.pcap');
    fs.writeFileSync(file, 'this is not a capture file at all, just text');
    const r = runDecode(['--pcap', file, '--jsonl']);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain('not a classic pcap file');
    expect(r.stderr).to.contain('ERR_PCAP_FORMAT');
    expect(r.stdout).to.equal('');
  });

  it('a truncated capture prints what it decoded, then exits 1 naming the frame', () => {
    const src = fs.readFileSync(path.join(kFixtureRoot, 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap'));
    const file = path.join(tmp, 'cut.pcap');
    fs.writeFileSync(file, src.subarray(0, 1000));
    const r = runDecode(['--pcap', file, '--jsonl']);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain('frame 2');
    expect(r.stderr).to.contain('ERR_PCAP_TRUNCATED');
    expect(r.stdout.trim().split('\n')).to.have.length(1);
  });

  it('readable mode: prices in dollars and timestamps as clock time, from the same values --jsonl keeps raw', () => {
    const pcap = path.join(kFixtureRoot, 'Bx.Equities.TotalView.Itch.v5.0.20230822', 'OrderExecutedWithPriceMessage.pcap');
    const r = runDecode(['--pcap', pcap]);
    expect(r.status, r.stderr).to.equal(0);
    const first = r.stdout.split('\n')[0];
    const raw = readOracle(pcap)[0] as unknown as { timestamp: string; executionprice: string };
    const ns = Number(raw.timestamp);
    const clock = [Math.floor(ns / 3.6e12), Math.floor(ns / 6e10) % 60, Math.floor(ns / 1e9) % 60].map((n) => String(n).padStart(2, '0')).join(':');
    expect(first).to.contain(` ${clock}.${String(ns % 1e9).padStart(9, '0')} C `);
    expect(first).to.contain(`executionPrice=$${Number(raw.executionprice).toFixed(4)}`);
    expect(first).to.not.match(/timestamp=/);
  });

  it('--symbol and --type filter, following a stock locate to its symbol for messages that carry no stock', () => {
    const pcap = path.join(kFixtureRoot, 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');
    const oracle = readOracle(pcap) as unknown as { messagetype: string; stock?: string }[];
    const meta = runDecode(['--pcap', pcap, '--symbol', 'META', '--jsonl']);
    expect(meta.status, meta.stderr).to.equal(0);
    const lines = meta.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).to.have.length(oracle.filter((o) => o.stock === 'META').length);
    const f = runDecode(['--pcap', pcap, '--symbol', 'META', '--type', 'F', '--jsonl']);
    expect(f.stdout.trim().split('\n').map((l) => JSON.parse(l).orderReferenceNumber)).to.deep.equal([9752743, 10250271]);
    expect(f.stderr).to.contain('2 of 39 messages match --symbol META --type F');
    // The delete in frame 1 names only locate 2737, which no message of this capture names: not META.
    const d = runDecode(['--pcap', pcap, '--type', 'D', '--jsonl']);
    expect(d.stdout.trim().split('\n')).to.have.length(1);
    expect(runDecode(['--pcap', pcap, '--type', 'AB']).status).to.equal(2);
  });

  it('a missing file exits 1 and missing --pcap exits 2', () => {
    expect(runDecode(['--pcap', path.join(tmp, 'nope.pcap')]).status).to.equal(1);
    const r = runDecode(['--jsonl']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('--pcap FILE is required');
  });
});
