/**
 * udp backend: datagrams are read in place from the slot region (payload only, aux = 1 "L4
 * payload"), on a veth pair (frames replayed from a namespace), on loopback unicast with the
 * backend's own sendmmsg TX, on loopback multicast with source-specific filtering, and, without any
 * privilege, on loopback multicast as user `nobody` in a child process.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as dgram from 'dgram';
import * as path from 'path';

import {
  VethPair, createVethPair, destroyVethPair, replayInNs, replayUnavailableReason, requireOrSkip,
  seqPayload, udpFrame, writePcap,
} from '../helpers/netns';
import { binding, type NativeBinding } from '../../lib/binding/native';
import { DescriptorDrain, offerFrame, rxConsumerOf, txProducerOf } from '../helpers/port-io';

const kUdpAuxL4Payload = 1;
const kFlagTruncated = 1;
const kFlagTsSw = 4;
const kFlagTsPoll = 16;

function randomPort(): number {
  return 20000 + crypto.randomInt(40000);
}

function readSeq(r: Uint8Array, off: number): number {
  return ((r[off] << 24) | (r[off + 1] << 16) | (r[off + 2] << 8) | r[off + 3]) >>> 0;
}

async function sendAll(sock: dgram.Socket, msgs: Uint8Array[], port: number, host: string): Promise<void> {
  for (const m of msgs) await new Promise<void>((res, rej) => sock.send(m, port, host, (e) => (e ? rej(e) : res())));
}

describe('udp backend', function () {
  this.timeout(20_000);
  let addon: NativeBinding;
  const ports: number[] = [];
  const sockets: dgram.Socket[] = [];

  before(function () {
    addon = binding();
  });

  after(function () {
    for (const id of ports) addon.portClose(id);
    for (const s of sockets) s.close();
  });

  function open(opts: Record<string, string>): number {
    const id = addon.openPort('udp', { poller: 'inline', ...opts });
    ports.push(id);
    return id;
  }

  async function udpSocket(bindAddr = '127.0.0.1'): Promise<dgram.Socket> {
    const s = dgram.createSocket('udp4');
    sockets.push(s);
    await new Promise<void>((res) => s.bind(0, bindAddr, () => res()));
    return s;
  }

  it('rejects bad options with messages that name the option', function () {
    expect(() => addon.openPort('udp', {})).to.throw(/needs option 'port'/);
    expect(() => addon.openPort('udp', { port: '9', group: '10.1.2.3' })).to.throw(/group='10.1.2.3'.*multicast/);
    expect(() => addon.openPort('udp', { port: '9', interface: 'tpnosuchif0' })).to.throw(/interface='tpnosuchif0'.*ip addr/).with.property('errno', 19);
    expect(() => addon.openPort('udp', { port: '9', tx_dest: 'nowhere' })).to.throw(/tx_dest='nowhere'.*host:port/);
  });

  it('loopback: TX via sendmmsg to tx_dest, RX in place: exact count, payload bytes, aux=1, software timestamps', async function () {
    const port = randomPort();
    const rxId = open({ bind: '127.0.0.1', port: String(port), rcvbuf: '4194304' });
    const txId = open({ bind: '127.0.0.1', port: '0', tx_dest: `127.0.0.1:${port}` });
    const rx = new DescriptorDrain(rxConsumerOf(rxId));
    const tx = txProducerOf(txId);
    const n = 500;
    // Give the kernel's deferred enabling of RX timestamps (a static key) time to take effect.
    await new Promise((r) => setTimeout(r, 200));
    let expectBytes = 0;
    const seen = new Uint8Array(n);
    let bad = 0;
    let stamped = 0;
    const onPacket = (r: Uint8Array, off: number, len: number, wire: number, flags: number, tsLo: number, tsHi: number, aux: number): void => {
      const seq = readSeq(r, off);
      const want = seqPayload(seq, 10 + (seq % 300));
      if (seq >= n || len !== want.length || wire !== len || aux !== kUdpAuxL4Payload) { bad++; return; }
      // The kernel turns RX timestamping on asynchronously (a deferred static key), so the first
      // datagrams after open may carry none: a stamp is optional, but when flagged it is the kernel's
      // time converted to CLOCK_MONOTONIC, the clock every descriptor uses (addon.nowNs()).
      // Every descriptor has a timestamp: the kernel's, or else the poll time.
      if ((flags & (kFlagTsSw | kFlagTsPoll)) === 0 || Math.abs(tsHi * 2 ** 32 + tsLo - addon.nowNs()) > 60e9) { bad++; return; }
      if ((flags & kFlagTsSw) !== 0) stamped++;
      if (r[off + len - 1] !== want[len - 1] || r[off + 5] !== want[5]) { bad++; return; }
      seen[seq]++;
    };
    for (let i = 0; i < n; i++) {
      const p = seqPayload(i, 10 + (i % 300));
      expectBytes += p.length;
      while (!offerFrame(tx, p)) addon.portPoll(txId, 0);
      if (i % 64 === 63) {
        tx.publish();
        while (tx.inFlight > 0) addon.portPoll(txId, 0);
        rx.drain(onPacket);
      }
    }
    tx.publish();
    while (tx.inFlight > 0) addon.portPoll(txId, 0);
    await rx.drainUntil(n, 5000, onPacket);
    await rx.drainUntil(n + 1, 50, onPacket);
    expect(bad).to.equal(0);
    expect(stamped, 'software-timestamped datagrams').to.be.greaterThan(0);
    expect(rx.packets).to.equal(n);
    expect(rx.bytes).to.equal(expectBytes);
    expect(seen.every((c) => c === 1)).to.equal(true);
    expect(addon.portStats(txId).queues[0].txPackets).to.equal(n);
    expect(addon.portStats(rxId).device.kernelDrops).to.equal(0);
  });

  it('a datagram larger than a slot is truncated to the slot and flagged, wireLen keeps its size', async function () {
    const port = randomPort();
    const id = open({ bind: '127.0.0.1', port: String(port), slot_bytes: '64', slots: '16' });
    const rx = new DescriptorDrain(rxConsumerOf(id));
    const s = await udpSocket();
    await sendAll(s, [seqPayload(7, 100), seqPayload(8, 64)], port, '127.0.0.1');
    const got: number[][] = [];
    await rx.drainUntil(2, 3000, (r, off, len, wire, flags) => got.push([readSeq(r, off), len, wire, flags & kFlagTruncated]));
    expect(got).to.deep.equal([[7, 64, 100, kFlagTruncated], [8, 64, 64, 0]]);
    expect(addon.portStats(id).queues[0].truncated).to.equal(1);
  });

  it('loopback multicast, source-specific: hears the joined source only', async function () {
    const port = randomPort();
    const group = `239.255.${crypto.randomInt(256)}.${1 + crypto.randomInt(250)}`;
    const id = open({ port: String(port), group, source: '127.0.0.1', interface: 'lo' });
    expect(addon.portDescribe(id)).to.contain(`group ${group} source 127.0.0.1`);
    const rx = new DescriptorDrain(rxConsumerOf(id));
    const good = await udpSocket('127.0.0.1');
    const other = await udpSocket('127.0.0.2');
    good.setMulticastInterface('127.0.0.1');
    other.setMulticastInterface('127.0.0.1');
    await sendAll(other, [0, 1, 2, 3, 4].map((i) => seqPayload(1000 + i, 20)), port, group);
    await sendAll(good, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => seqPayload(i, 20)), port, group);
    const seqs: number[] = [];
    await rx.drainUntil(10, 3000, (r, off) => seqs.push(readSeq(r, off)));
    await rx.drainUntil(11, 100, (r, off) => seqs.push(readSeq(r, off)));
    expect(seqs).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('several lines (option lines): one socket per group, each datagram tagged with its line in aux, other groups unheard', async function () {
    const port = randomPort();
    const g = (i: number): string => `239.254.${crypto.randomInt(256)}.${10 * i + 1 + crypto.randomInt(9)}`;
    const groups = [g(0), g(1), g(2)];
    // Lines 0 and 1 share a port (A/B on two groups), line 2 has its own; groups[2]:port is no line.
    const id = open({ lines: `${groups[0]}:${port},${groups[1]}:${port},${groups[2]}:${port + 1}`, interface: 'lo' });
    expect(addon.portDescribe(id)).to.match(new RegExp(`line 1 ${groups[1].replace(/\./g, '\\.')}:${port} group .*3 line sockets`));
    const rx = new DescriptorDrain(rxConsumerOf(id));
    const s = await udpSocket('127.0.0.1');
    s.setMulticastInterface('127.0.0.1');
    await sendAll(s, [0, 1, 2].map((i) => seqPayload(i, 20)), port, groups[0]);
    await sendAll(s, [10, 11].map((i) => seqPayload(i, 20)), port, groups[1]);
    await sendAll(s, [20, 21, 22, 23].map((i) => seqPayload(i, 20)), port + 1, groups[2]);
    await sendAll(s, [99].map((i) => seqPayload(i, 20)), port, groups[2]);
    const got: [number, number][] = [];
    const on = (r: Uint8Array, off: number, _l: number, _w: number, _f: number, _a: number, _b: number, aux: number): void => { got.push([readSeq(r, off), aux]); };
    await rx.drainUntil(9, 3000, on);
    await rx.drainUntil(10, 100, on);
    const byLine = (line: number): number[] => got.filter(([, aux]) => aux === (kUdpAuxL4Payload | (line << 8))).map(([seq]) => seq).sort((a, b) => a - b);
    expect(got.length).to.equal(9);
    expect([byLine(0), byLine(1), byLine(2)]).to.deep.equal([[0, 1, 2], [10, 11], [20, 21, 22, 23]]);
    expect(() => addon.openPort('udp', { lines: `${groups[0]}` })).to.throw(/lines entry '.*': expected group:port/);
    expect(() => addon.openPort('udp', { lines: `${groups[0]}:${port},10.1.2.3:${port}` })).to.throw(/group='10.1.2.3'.*multicast/);
  });

  it('works without root: loopback multicast as user nobody, rcvbuf above rmem_max is capped with a warning', function () {
    const root = process.getuid?.() === 0;
    if (root && spawnSync('sh', ['-c', 'command -v setpriv && id nobody'], { stdio: 'ignore' }).status !== 0) {
      requireOrSkip(this, 'udp', 'needs setpriv (util-linux) and a user `nobody` to run unprivileged');
    }
    const port = randomPort();
    const group = `239.255.${crypto.randomInt(256)}.${1 + crypto.randomInt(250)}`;
    const helper = path.resolve(__dirname, '../helpers/port-io.js');
    const native = path.resolve(__dirname, '../../lib/binding/native.js');
    const script = `
      const dgram = require('dgram');
      const addon = require(${JSON.stringify(native)}).binding();
      const { DescriptorDrain, rxConsumerOf } = require(${JSON.stringify(helper)});
      const id = addon.openPort('udp', { port: '${port}', group: '${group}', interface: 'lo', poller: 'inline', rcvbuf: String(1 << 30) });
      const rx = new DescriptorDrain(rxConsumerOf(id));
      const s = dgram.createSocket('udp4');
      let bytes = 0, bad = 0;
      s.bind(0, '127.0.0.1', async () => {
        s.setMulticastInterface('127.0.0.1');
        for (let i = 0; i < 200; i++) {
          const b = Buffer.alloc(24); b.writeUInt32BE(i, 0);
          await new Promise((r) => s.send(b, ${port}, '${group}', r));
          if (i % 32 === 31) rx.drain(() => {});
        }
        const deadline = Date.now() + 3000;
        while (rx.packets < 200 && Date.now() < deadline) { rx.drain((r, off, len, w, f, lo, hi, aux) => { if (len !== 24 || aux !== 1) bad++; }); await new Promise((r) => setTimeout(r, 1)); }
        console.log(JSON.stringify({ uid: process.getuid(), packets: rx.packets, bytes: rx.bytes, bad, describe: addon.portDescribe(id) }));
        addon.portClose(id); s.close();
      });`;
    // Already unprivileged: run the same script as ourselves.
    const res = root
      ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', timeout: 15_000 })
      : spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(res.status, res.stderr).to.equal(0);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    expect(out.uid).to.not.equal(0);
    expect(out.packets).to.equal(200);
    expect(out.bytes).to.equal(200 * 24);
    expect(out.bad).to.equal(0);
    expect(out.describe).to.match(/WARNING: rcvbuf 1073741824 capped to \d+ by net.core.rmem_max=\d+ \(fix: sysctl -w net.core.rmem_max=1073741824\)/);
  });

  describe('on a veth pair', function () {
    let pair: VethPair | undefined;

    before(function () {
      const reason = replayUnavailableReason();
      if (reason) requireOrSkip(this, 'udp', reason);
      pair = createVethPair();
    });

    after(function () {
      destroyVethPair(pair);
    });

    it('receives every datagram replayed from the namespace: exact count, payload bytes and contents', async function () {
      const p = pair!;
      const port = randomPort();
      const n = 1000;
      const payloads: Uint8Array[] = [];
      const frames: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        payloads.push(seqPayload(i, 18 + (i % 700)));
        frames.push(udpFrame(p.nsMac, p.hostMac, p.nsIp, p.hostIp, 40000, port, payloads[i]));
      }
      const pcap = path.join(p.tmpDir, 'udp.pcap');
      writePcap(pcap, frames);
      const id = open({ bind: p.hostIp, port: String(port), interface: p.hostIf, rcvbuf: '4194304' });
      const rx = new DescriptorDrain(rxConsumerOf(id));
      const seen = new Uint8Array(n);
      let bad = 0;
      const onPacket = (r: Uint8Array, off: number, len: number, wire: number, flags: number, tsLo: number, tsHi: number, aux: number): void => {
        const seq = readSeq(r, off);
        const want = payloads[seq];
        if (!want || len !== want.length || aux !== kUdpAuxL4Payload) { bad++; return; }
        for (let i = 0; i < len; i += 61) if (r[off + i] !== want[i]) { bad++; return; }
        seen[seq]++;
      };
      const sent = replayInNs(p, pcap, ['--pps=50000']);
      await rx.drainUntil(n, 15_000, onPacket);
      const res = await sent;
      expect(res.code, res.stderr).to.equal(0);
      await rx.drainUntil(n + 1, 100, onPacket);
      expect(bad).to.equal(0);
      expect(rx.packets).to.equal(n);
      expect(rx.bytes).to.equal(payloads.reduce((a, b) => a + b.length, 0));
      expect(seen.every((c) => c === 1)).to.equal(true);
      expect(addon.portStats(id).device.kernelDrops).to.equal(0);
    });
  });
});
