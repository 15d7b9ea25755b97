/**
 * af_xdp backend on a veth pair this test creates: a known pcap is replayed out of the far end
 * (inside a namespace) and every frame must arrive in JS, read in place from the UMEM, with exact
 * counts, bytes and contents, in native (driver) mode and in generic (SKB) mode; after close every
 * UMEM frame is accounted for and the XDP program is gone. TX goes out through the XSK TX ring.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'child_process';
import * as path from 'path';

import {
  VethPair, createVethPair, destroyVethPair, haveTool, netnsUnavailableReason, replayInNs, requireOrSkip,
  seqPayload, udpFrame, writePcap,
} from '../helpers/netns';
import { NativeAddon, RawRxConsumer, RawTxProducer, kAddonPath, loadAddon } from '../helpers/rx-consumer';

const kFrames = 1000;

describe('af_xdp backend (veth pair)', function () {
  this.timeout(20_000);
  let addon: NativeAddon;
  let pair: VethPair | undefined;
  const ports: number[] = [];

  before(function () {
    const reason = netnsUnavailableReason() ?? (haveTool('tcpreplay') ? null : 'needs tcpreplay (apt-get install tcpreplay)');
    if (reason) requireOrSkip(this, 'af_xdp', reason);
    addon = loadAddon();
    const info = addon.backends().find((b) => b.name === 'af_xdp');
    if (!info?.compiledIn) requireOrSkip(this, 'af_xdp', `not compiled in (fix: ${info?.missing})`);
    pair = createVethPair();
  });

  after(function () {
    for (const id of ports) addon.portClose(id);
    destroyVethPair(pair);
  });

  function open(opts: Record<string, string>): number {
    const id = addon.openPort('af_xdp', { interface: pair!.hostIf, queue: '0', poller: 'inline', frames: '4096', ...opts });
    ports.push(id);
    return id;
  }

  function xdpAttached(): boolean {
    return /prog\/xdp|xdpgeneric|xdpdrv|xdp /.test(execFileSync('ip', ['link', 'show', 'dev', pair!.hostIf], { encoding: 'utf8' }));
  }

  it('without privileges: EPERM with what is needed and the fix', function () {
    const script = `try { require(${JSON.stringify(kAddonPath)}).openPort('af_xdp', { interface: 'lo' }); console.log('opened'); } catch (e) { console.log(JSON.stringify({ errno: e.errno, message: e.message })); }`;
    const res = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
    if (res.status !== 0) requireOrSkip(this, 'af_xdp', `cannot run a child as user nobody: ${res.stderr}`);
    const out = JSON.parse(res.stdout.trim());
    expect(out.errno).to.equal(1);
    expect(out.message).to.match(/af_xdp: .*Operation not permitted \(fix: run as root/);
  });

  it('rejects a missing interface with ENODEV and the fix', function () {
    expect(() => addon.openPort('af_xdp', { interface: 'tpnosuchif0' }))
      .to.throw(/no network interface 'tpnosuchif0'.*ip link/)
      .with.property('errno', 19);
  });

  it('zero_copy=true on veth (no AF_XDP zero-copy) fails with EOPNOTSUPP and the fix, leaving no program behind', function () {
    expect(() => open({ zero_copy: 'true' }))
      .to.throw(/zero-copy.*zero_copy=auto or false/)
      .with.property('errno', 95);
    expect(xdpAttached()).to.equal(false);
  });

  for (const [mode, poller] of [['auto', 'inline'], ['generic', 'inline'], ['auto', 'thread']]) {
    it(`mode=${mode} poller=${poller}: receives every replayed frame in place: exact count, bytes and contents`, async function () {
      const p = pair!;
      const frames: Uint8Array[] = [];
      for (let i = 0; i < kFrames; i++) frames.push(udpFrame(p.nsMac, p.hostMac, p.nsIp, p.hostIp, 40000, 9000, seqPayload(i, 18 + (i % 700))));
      const pcap = path.join(p.tmpDir, `frames-${mode}-${poller}.pcap`);
      writePcap(pcap, frames);
      const expectBytes = frames.reduce((a, f) => a + f.length, 0);

      const id = open({ mode, poller, idle: 'backoff' });
      const describe = addon.portDescribe(id);
      expect(describe).to.match(mode === 'generic' ? /generic mode, copy/ : /(native|generic) mode/);
      expect(xdpAttached(), 'XDP program attached while open').to.equal(true);
      const rx = new RawRxConsumer(addon, id, 0, poller === 'inline');
      if (poller === 'thread') addon.portStart(id);
      const seen = new Uint8Array(kFrames);
      let mismatches = 0;
      let others = 0;
      const sent = replayInNs(p, pcap, ['--pps=50000']);
      const onPacket = (r: Uint8Array, off: number, len: number, wire: number, flags: number): void => {
        if (len < 46 || r[off + 12] !== 0x08 || r[off + 13] !== 0x00 || r[off + 23] !== 17) { others++; return; }
        const seq = ((r[off + 42] << 24) | (r[off + 43] << 16) | (r[off + 44] << 8) | r[off + 45]) >>> 0;
        const f = frames[seq];
        if (!f || f.length !== len || wire !== len || (flags & 16) === 0) { mismatches++; return; }
        for (let i = 0; i < len; i += 97) if (r[off + i] !== f[i]) { mismatches++; return; }
        if (r[off + len - 1] !== f[len - 1]) { mismatches++; return; }
        seen[seq]++;
      };
      await rx.drainUntil(kFrames, 15_000, onPacket);
      const res = await sent;
      expect(res.code, res.stderr).to.equal(0);
      await rx.drainUntil(kFrames + 1, 100, onPacket);
      expect(others, 'frames that are not ours').to.equal(0);
      expect(mismatches).to.equal(0);
      expect(rx.packets).to.equal(kFrames);
      expect(rx.bytes).to.equal(expectBytes);
      expect(seen.every((c) => c === 1)).to.equal(true);
      const st = addon.portStats(id);
      expect(st.queues[0].rxPackets).to.equal(kFrames);
      expect(st.device.kernelDrops).to.equal(0);
      addon.portClose(id);
      const after = addon.portStats(id);
      expect(after.device.poolFree, 'every UMEM frame back').to.equal(after.device.poolSize);
      expect(xdpAttached(), 'XDP program detached at close').to.equal(false);
    });
  }

  it('sends frames posted on the TX ring through the XSK TX ring, received on the far end', async function () {
    const p = pair!;
    const readNsRx = (): number => Number(execFileSync('ip', ['netns', 'exec', p.ns, 'cat', `/sys/class/net/${p.nsIf}/statistics/rx_packets`], { encoding: 'utf8' }).trim());
    const before = readNsRx();
    const id = open({});
    const tx = new RawTxProducer(addon, id);
    const n = 200;
    for (let i = 0; i < n; i++) expect(tx.offer(udpFrame(p.hostMac, p.nsMac, p.hostIp, p.nsIp, 9001, 9002, seqPayload(i, 32)))).to.equal(true);
    tx.publish();
    const deadline = Date.now() + 5000;
    while (tx.pending() > 0 && Date.now() < deadline) addon.portPoll(id, 0);
    expect(tx.pending()).to.equal(0);
    expect(addon.portStats(id).queues[0].txPackets).to.equal(n);
    let got = 0;
    for (let i = 0; i < 50 && got < n; i++) {
      addon.portPoll(id, 0);
      got = readNsRx() - before;
      if (got < n) await new Promise((r) => setTimeout(r, 20));
    }
    expect(got).to.equal(n);
    addon.portClose(id);
    const after = addon.portStats(id);
    expect(after.device.poolFree, 'TX frames completed and reclaimed').to.equal(after.device.poolSize);
  });
});
