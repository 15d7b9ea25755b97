/**
 * af_xdp backend on a veth pair this test creates: a known pcap is replayed out of the far end
 * (inside a namespace) and every frame must arrive in JS, read in place from the UMEM, with exact
 * counts, bytes and contents, in native (driver) mode and in generic (SKB) mode; after close every
 * UMEM frame is accounted for and the XDP program is gone. TX goes out through the XSK TX ring.
 */
import { expect } from 'chai';
import { execFileSync } from 'child_process';

import {
  SequencedFrameCheck, VethPair, createVethPair, destroyVethPair, nsRxPackets, replayInNs, replayUnavailableReason, requireOrSkip,
  seqPayload, udpFrame, writeSequencedReplay,
} from '../helpers/netns';
import { binding, type NativeBinding } from '../../lib/binding/native';
import { DescriptorDrain, offerFrame, openPortAsNobody, rxConsumerOf, txProducerOf } from '../helpers/port-io';

const kFrames = 1000;

describe('af_xdp backend (veth pair)', function () {
  this.timeout(20_000);
  let addon: NativeBinding;
  let pair: VethPair | undefined;
  const ports: number[] = [];

  before(function () {
    const reason = replayUnavailableReason();
    if (reason) requireOrSkip(this, 'af_xdp', reason);
    addon = binding();
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
    const res = openPortAsNobody('af_xdp');
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
      const replay = writeSequencedReplay(p, `frames-${mode}-${poller}.pcap`, kFrames);

      const id = open({ mode, poller, idle: 'backoff' });
      const describe = addon.portDescribe(id);
      expect(describe).to.match(mode === 'generic' ? /generic mode, copy/ : /(native|generic) mode/);
      expect(xdpAttached(), 'XDP program attached while open').to.equal(true);
      const rx = new DescriptorDrain(rxConsumerOf(id, 0, poller === 'inline'));
      if (poller === 'thread') addon.portStart(id);
      const check = new SequencedFrameCheck(replay.frames);
      const sent = replayInNs(p, replay.pcap, ['--pps=50000']);
      const onPacket = (r: Uint8Array, off: number, len: number, wire: number, flags: number): void => {
        check.accept(r, off, len, wire, (flags & 16) !== 0);
      };
      await rx.drainUntil(kFrames, 15_000, onPacket);
      const res = await sent;
      expect(res.code, res.stderr).to.equal(0);
      await rx.drainUntil(kFrames + 1, 100, onPacket);
      expect(check.others, 'frames that are not ours').to.equal(0);
      expect(check.mismatches).to.equal(0);
      expect(rx.packets).to.equal(kFrames);
      expect(rx.bytes).to.equal(replay.bytes);
      expect(check.eachOnce).to.equal(true);
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
    const readNsRx = (): number => nsRxPackets(p);
    const before = readNsRx();
    const id = open({});
    const tx = txProducerOf(id);
    const n = 200;
    for (let i = 0; i < n; i++) expect(offerFrame(tx, udpFrame(p.hostMac, p.nsMac, p.hostIp, p.nsIp, 9001, 9002, seqPayload(i, 32)))).to.equal(true);
    tx.publish();
    const deadline = Date.now() + 5000;
    while (tx.inFlight > 0 && Date.now() < deadline) addon.portPoll(id, 0);
    expect(tx.inFlight).to.equal(0);
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
