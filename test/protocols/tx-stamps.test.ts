/**
 * Kernel TX software timestamps on the native TCP transport, against a real TCP peer (a net server
 * in this process, over loopback): one stamp per send, inside [send(2) called, send(2) returned]
 * on our clock (the conversion from the kernel's CLOCK_REALTIME), keyed to the right send when two
 * go back to back and when the kernel takes a send in two parts; nothing when the option is off.
 */
import { expect } from 'chai';
import * as net from 'net';
import { MonotonicClock } from '../../lib/common/clock';
import { NativeTcpTransport, nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';
import { transportFactory } from '../../lib/protocols/transport/create-transport';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function connected(opts: { txTimestamps?: boolean; paused?: boolean }): Promise<{ t: NativeTcpTransport; peer: net.Socket; server: net.Server; got: () => number }> {
  const held: { peer?: net.Socket } = {};
  let bytes = 0;
  const server = net.createServer((s) => { held.peer = s; if (opts.paused) s.pause(); s.on('data', (d: Buffer) => { bytes += d.length; }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const t = new NativeTcpTransport({ idlePollMs: 0, txTimestamps: opts.txTimestamps, txQueueBytes: 64 << 20 });
  let up = false;
  t.connect('127.0.0.1', (server.address() as net.AddressInfo).port, { onConnect() { up = true; }, onData() {}, onClose() {} });
  const t0 = Date.now();
  while ((!up || !held.peer) && Date.now() - t0 < 5000) { t.poll(); await turn(); }
  return { t, peer: held.peer!, server, got: () => bytes };
}

/** Polls until send `seq` has its stamp (or 2 s); returns it (> 0) or what txStampOf said last. */
async function stampOf(t: NativeTcpTransport, seq: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    t.poll();
    const s = t.txStampOf(seq);
    if (s !== 0 || Date.now() - t0 > 2000) return s;
    await turn();
  }
}

describe('kernel TX timestamps on the native transport (SO_TIMESTAMPING)', function () {
  this.timeout(30000);
  const clock = new MonotonicClock();

  before(function () {
    if (!nativeTcpBinding()?.tcpTxTimestamps) this.skip();
  });

  it('stamps every send once, between its send(2) call and return on our clock, and keys back-to-back sends to the right one', async () => {
    const { t, peer, server } = await connected({ txTimestamps: true });
    expect(t.txStampState, 'SO_TIMESTAMPING taken once connected').to.equal(1);
    expect(t.stats().txStamps).to.equal(1);
    // The tolerance: the realtime -> monotonic offset's bracket (native) and our clock's own
    // calibration against CLOCK_MONOTONIC (lib/common/clock.ts), plus a microsecond of rounding.
    const tol = t.stats().clockCalErrNs + clock.calibrationErrorNs + 1000;
    const msg = Buffer.alloc(49, 0x4f);
    const rows: { seq: number; call: number; ret: number }[] = [];
    for (let round = 0; round < 20; round++) {
      // Two orders back to back (no poll in between), then their stamps.
      for (let k = 0; k < 2; k++) {
        const call = clock.nowNs();
        expect(t.send(msg, 0, msg.length)).to.equal(true);
        const ret = clock.nowNs();
        rows.push({ seq: t.lastSendSeq, call, ret });
      }
      await turn();
    }
    let prevSeq = -1;
    for (const r of rows) {
      expect(r.seq, 'a new seq per send').to.not.equal(prevSeq);
      prevSeq = r.seq;
      const tx = await stampOf(t, r.seq);
      expect(tx, `send ${r.seq} stamped`).to.be.greaterThan(0);
      // Off by one send, the stamp would be the next send's: after this one's return. Without the
      // clock conversion it would be ~1.7e18 (the epoch) away.
      expect(tx, `send ${r.seq}: stamp after its send(2) was called`).to.be.at.least(r.call - tol);
      expect(tx, `send ${r.seq}: stamp before its send(2) returned`).to.be.at.most(r.ret + tol);
    }
    const s = t.stats();
    expect(s.txStampsMatched, 'exactly one stamp per send').to.equal(rows.length);
    expect(s.txStampsDropped).to.equal(0);
    expect(s.txStampsUnmatched).to.equal(0);
    t.destroy();
    peer.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a send the kernel takes in two parts is stamped when its last byte leaves, not at its first part', async () => {
    const { t, peer, server, got } = await connected({ txTimestamps: true, paused: true });
    // A peer that does not read: fill its window and our send buffer until a send is only partly taken.
    // The addon's tcpSend says how much send(2) took; an odd size so the split falls inside a send.
    const b = nativeTcpBinding()!;
    const big = Buffer.alloc(100_003, 0x41);
    let seq = 0, ret = 0, took = -1;
    // The socket may fill exactly at a send's end (the next send then takes nothing): let the peer
    // drain it and try again, until a send is split inside.
    for (let attempt = 0; attempt < 10 && took <= 0; attempt++) {
      if (took === 0) {
        peer.resume();
        const t0 = Date.now();
        while ((got() < t.stats().bytesOut || t.stats().txQueued > 0) && Date.now() - t0 < 10000) { t.poll(); await turn(); }
        peer.pause();
        took = -1;
      }
      for (let i = 0; i < 4000 && took < 0; i++) {
        const n = b.tcpSend(t.id, big, 0, big.length);
        ret = clock.nowNs();
        seq = t.lastSendSeq;
        if (n < big.length) took = n;
      }
    }
    expect(took, 'the kernel took part of a send, the rest queued').to.be.greaterThan(0).and.below(big.length);
    // Its first part went out (maybe), its last byte has not: no stamp yet.
    for (let i = 0; i < 20; i++) { t.poll(); await turn(); }
    expect(t.txStampOf(seq), 'no stamp while its last byte waits in our queue').to.equal(0);
    const resumedAt = clock.nowNs();
    peer.resume();
    const tx = await stampOf(t, seq);
    expect(tx).to.be.greaterThan(0);
    expect(tx, 'stamped after the peer read again (the rest went then), not at the first part').to.be.greaterThan(Math.max(ret, resumedAt));
    const t0 = Date.now();
    while (got() < t.stats().bytesOut && Date.now() - t0 < 10000) { t.poll(); await turn(); }
    const s = t.stats();
    expect(s.txStampsDropped).to.equal(0);
    expect(s.txStampsMatched, 'one stamp per send, the partial one included').to.equal(s.sends);
    t.destroy();
    peer.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('off: no stamp and the transport says so; venue sessions ask for them by default', async () => {
    const { t, peer, server } = await connected({ txTimestamps: false });
    expect(t.txStampState).to.equal(0);
    expect(t.stats().txStamps, 'reported off in stats').to.equal(0);
    const msg = Buffer.alloc(49, 0x4f);
    expect(t.send(msg, 0, msg.length)).to.equal(true);
    const seq = t.lastSendSeq;
    for (let i = 0; i < 20; i++) { t.poll(); await turn(); }
    expect(t.txStampOf(seq)).to.equal(0);
    expect(t.stats().txStampsMatched).to.equal(0);
    t.destroy();
    peer.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    const venue = transportFactory('native')() as NativeTcpTransport;
    expect(venue.txStampsAsked, 'venue sessions: on by default').to.equal(true);
    venue.destroy();
    const quiet = transportFactory('native', { txTimestamps: false })() as NativeTcpTransport;
    expect(quiet.txStampsAsked).to.equal(false);
    quiet.destroy();
  });
});
