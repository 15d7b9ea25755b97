import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');

describe('integration/tickpath run (npm start)', function () {
  this.timeout(60000);

  it('replays the bundled capture, decodes every packet, prints per-second lines and final JSON', () => {
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '2', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => /^\[\s*\d+s\] pcap: .* pkts\/s, .* ITCH msgs\/s/.test(l)).length).to.be.at.least(1);
    const final = JSON.parse(lines[lines.length - 1]);
    expect(final.backend).to.equal('pcap');
    expect(final.packets).to.be.greaterThan(1000);
    expect(final.packets).to.equal(final.rx_packets);
    expect(final.bad_frames).to.equal(0);
    // The capture's two frames carry 39 ITCH messages between them (see the oracle).
    expect(Math.abs(final.itch_messages - final.packets * 19.5)).to.be.at.most(39);
  });

  it('replays a finite capture to the end with --loops and stops by itself', () => {
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'pcap', '--loops', '3', '--duration', '0', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const final = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(final).to.include({ packets: 6, itch_messages: 117, finished: true, ring_drops: 0 });
  });

  it('SIGINT stops RX, drains, prints final stats and exits 0', async () => {
    const child = spawn(process.execPath, [kCli, 'run', '--duration', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => { if (/\[\s*1s\]/.test(out)) { clearInterval(check); resolve(); } }, 50);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).to.equal(0);
    expect(out).to.match(/final: .* packets/);
  });

  it('rejects bad options with the option named', () => {
    const r = spawnSync(process.execPath, [kCli, 'run', '--loops=-1'], { encoding: 'utf8' });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/--loops is '-1', expected a whole number >= 0/);
  });
});
