/**
 * The operator papercuts, each through the real command as a child process: a broken pipe is not
 * an error, usage errors name what is accepted, connection failures name the fix by cause, a taken
 * port says what to do, the monitor lists what runs, the login honours --timeout-ms.
 */
import { expect } from 'chai';
import { spawnSync, spawn } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { socketErrorFix } from '../../lib/protocols/socket-errors';
import { SessionGenerator } from '../../lib/tools/session-generator';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [kCli, ...args], { encoding: 'utf8', timeout: 60000 });

describe('tickpath commands: operator papercuts', function () {
  this.timeout(90000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-papercuts-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decode piped into head -1 exits 0 without EPIPE', () => {
    const pcap = path.join(dir, 'big.pcap');
    new SessionGenerator({ symbols: 20, rate: 50000, durationSeconds: 1, seed: 3 }).writePcap(pcap);
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${kCli}" decode --pcap "${pcap}" | head -1`], { encoding: 'utf8', timeout: 60000 });
    expect(r.stdout.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.not.match(/EPIPE/);
    expect(r.status, r.stderr).to.equal(0);
  });

  it('order --price above the Price(4) range names the maximum; exit 2', () => {
    const r = cli('order', '--venue', 'ouch://127.0.0.1:1', '--symbol', 'AAPL', '--side', 'buy', '--qty', '1', '--price', '500000');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('at most 429496.7295');
  });

  it('a refused connection names the fix for that cause; a name that does not resolve gets its own', async () => {
    const port = await new Promise<number>((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
    for (const proto of ['ouch', 'fix44']) {
      const r = cli('order', '--venue', `${proto}://127.0.0.1:${port}`, '--symbol', 'AAPL', '--side', 'buy', '--qty', '1', '--price', '1', '--timeout-ms', '3000');
      expect(r.status, proto).to.equal(1);
      expect(r.stderr, proto).to.contain(`nothing listens on 127.0.0.1:${port}: start the venue or check the port`);
    }
    expect(socketErrorFix('ENOTFOUND', 'venue.example', 1)).to.contain("the host name 'venue.example' does not resolve");
    expect(socketErrorFix('EHOSTUNREACH', '10.9.9.9', 1)).to.contain('cannot be reached');
  });

  it('the OUCH login gives up after --timeout-ms when the venue accepts the connection and never answers', async () => {
    const silent = net.createServer((s) => { s.on('error', () => undefined); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      const child = spawn(process.execPath, [kCli, 'order', '--venue', `ouch://127.0.0.1:${port}`, '--symbol', 'AAPL', '--side', 'buy', '--qty', '1', '--price', '1', '--timeout-ms', '800'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code, err).to.equal(1);
      expect(err).to.contain('cannot log in');
      // The SoupBinTCP default login timeout is 5 s: well under it means --timeout-ms was used.
      expect(Date.now() - t0).to.be.below(4500);
    } finally {
      silent.close();
    }
  });

  it('rerequest-server on a taken port names the cause and the fix', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    try {
      const r = cli('rerequest-server', '--generate', '10', '--port', String(taken.address().port));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.contain('[ERR_ADDRESS_IN_USE]').and.contain('pick another with --port');
    } finally {
      taken.close();
    }
  });

  it('monitor --list prints the running instances (none here) and exits 0, as its help promises', () => {
    const help = cli('monitor', '--help');
    expect(help.stdout).to.contain('--list');
    const r = cli('monitor', '--list', '--dir', dir);
    expect(r.status).to.equal(0);
    expect(r.stdout).to.contain(`no running tickpath instance (no live tickpath-*.stats in ${dir})`);
  });

  it('gen --seed -1 says how to pass a value that starts with a dash; exit 2', () => {
    const r = cli('gen', '--out', path.join(dir, 'x.pcap'), '--seed', '-1');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('option --seed is missing its value').and.contain('--seed=VALUE');
    expect(r.stderr).to.not.contain('ambiguous');
    const v = cli('gen', '--out', path.join(dir, 'x.pcap'), '--seed=-1');
    expect(v.status).to.equal(2);
    expect(v.stderr).to.contain('option --seed is "-1", expected an integer from 0 to 4294967295');
  });
});
