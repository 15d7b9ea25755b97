import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binding, Port } from '../../lib/binding';
import { TickpathError } from '../../lib/errors';
import { makeFrames, writePcap, pcapBytes, TestFrame } from '../helpers/pcap-writer';

const kFixture = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'itch', 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');

function readAll(port: Port): { frames: Buffer[]; aux: number[]; ts: number[] } {
  const c = port.consumer(0);
  const frames: Buffer[] = [], aux: number[] = [], ts: number[] = [];
  // Bounded by time, not by a spin count: a paced replay outlasts a million fast polls.
  const deadline = Date.now() + 5000;
  while (!c.eof && Date.now() < deadline) {
    const n = c.available(64);
    for (let i = 0; i < n; i++) {
      const off = c.descriptorWord(i, 0), len = c.descriptorWord(i, 2);
      const region = c.region(c.descriptorWord(i, 1) & 0xffff);
      frames.push(Buffer.from(region.subarray(off, off + len)));
      aux.push(c.descriptorWord(i, 7));
      ts.push(c.descriptorWord(i, 5) * 2 ** 32 + c.descriptorWord(i, 4));
    }
    if (n) c.advance(n);
  }
  return { frames, aux, ts };
}

describe('binding/pcap backend', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-pcap-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const variant of [
    { nanos: true, bigEndian: false }, { nanos: false, bigEndian: false },
    { nanos: true, bigEndian: true }, { nanos: false, bigEndian: true },
  ]) {
    it(`delivers every frame in place, in order (${variant.nanos ? 'ns' : 'us'} magic, ${variant.bigEndian ? 'big' : 'little'} endian)`, () => {
      const frames = makeFrames(500, 7);
      const file = path.join(dir, `v-${variant.nanos}-${variant.bigEndian}.pcap`);
      writePcap(file, frames, variant);
      const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file } });
      try {
        const got = readAll(port);
        expect(got.frames.length).to.equal(500);
        got.frames.forEach((f, i) => expect(f.equals(Buffer.from(frames[i].data)), `frame ${i}`).to.equal(true));
        expect(got.aux).to.deep.equal(frames.map((_, i) => i + 1));
        const s = port.stats().queues[0];
        expect(s.rxPackets).to.equal(500);
        expect(s.rxBytes).to.equal(frames.reduce((a, f) => a + f.data.length, 0));
      } finally {
        port.close();
      }
    });
  }

  it('reads the real ITCH capture with its VLAN tag intact', () => {
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: kFixture } });
    const got = readAll(port);
    port.close();
    expect(got.frames.length).to.equal(2);
    // 802.1Q TPID after the two MAC addresses, VLAN 141
    expect(got.frames[0].readUInt16BE(12)).to.equal(0x8100);
    expect(got.frames[0].readUInt16BE(14) & 0x0fff).to.equal(141);
    expect(got.frames[1].length).to.equal(1518);
  });

  it('stamps CLOCK_MONOTONIC at replay by default, the capture time with timestamps: file', () => {
    const frames = makeFrames(3);
    const file = path.join(dir, 'ts.pcap');
    writePcap(file, frames);
    const before = binding().nowNs();
    const poll = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file } });
    const a = readAll(poll);
    poll.close();
    for (const t of a.ts) expect(t).to.be.within(before, binding().nowNs());
    const fromFile = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file, timestamps: 'file' } });
    const b = readAll(fromFile);
    fromFile.close();
    // epoch ns lose sub-microsecond precision as a double; compare to the microsecond
    b.ts.forEach((t, i) => expect(Math.round(t / 1000)).to.equal(frames[i].sec * 1e6 + frames[i].nsec / 1000));
  });

  it('replays loops and counts them', () => {
    const file = path.join(dir, 'loops.pcap');
    writePcap(file, makeFrames(10));
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file, loops: 3 } });
    expect(readAll(port).frames.length).to.equal(30);
    port.close();
  });

  it('paces replay at a multiple of the recorded rate', () => {
    const frames: TestFrame[] = [0, 1, 2, 3].map((i) => ({ data: new Uint8Array(60), sec: 100, nsec: i * 50_000_000 }));
    const file = path.join(dir, 'paced.pcap');
    writePcap(file, frames);
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file, pace: 2 } });
    const t0 = process.hrtime.bigint();
    expect(readAll(port).frames.length).to.equal(4);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    port.close();
    expect(ms).to.be.at.least(70); // 150 ms recorded span at 2x = 75 ms, never faster
  });

  it('refuses a truncated file with ERR_BAD_CAPTURE naming the frame and the fix', () => {
    const bytes = pcapBytes(makeFrames(5));
    const file = path.join(dir, 'trunc.pcap');
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    try {
      Port.open({ backend: 'pcap', pcap: { file } });
      expect.fail('should throw');
    } catch (e) {
      expect(e).to.be.instanceOf(TickpathError);
      expect((e as TickpathError).code).to.equal('ERR_BAD_CAPTURE');
      expect((e as Error).message).to.match(/truncated in frame 5/).and.match(/pcapfix|allow_truncated/);
    }
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file, allowTruncated: true } });
    expect(readAll(port).frames.length).to.equal(4);
    expect(port.stats().device.malformed).to.equal(1);
    port.close();
  });

  it('refuses unknown link types, pcapng and non-pcap files with the fix', () => {
    const cases: [Buffer, RegExp][] = [
      [pcapBytes(makeFrames(1), { linkType: 113 }), /link type 113.*editcap/],
      [Buffer.concat([Buffer.from('0a0d0d0a1c0000004d3c2b1a', 'hex'), Buffer.alloc(28)]), /pcapng.*editcap -F pcap/],
      [Buffer.alloc(40, 0x41), /not a pcap file/],
      [Buffer.alloc(3), /shorter than the 24-byte pcap header/],
    ];
    cases.forEach(([bytes, re], i) => {
      const file = path.join(dir, `bad${i}.pcap`);
      fs.writeFileSync(file, bytes);
      expect(() => Port.open({ backend: 'pcap', pcap: { file } })).to.throw(TickpathError, re);
    });
    expect(() => Port.open({ backend: 'pcap', pcap: { file: path.join(dir, 'missing.pcap') } })).to.throw(/cannot open pcap file/);
  });

  it('validates options in TypeScript with the option, value and expectation', () => {
    expect(() => Port.open({ backend: 'pcap', pcap: { file: kFixture, pace: -1 } }))
      .to.throw("port options: option 'pcap.pace' is -1, expected 'fast', 'recorded' or a positive speed multiple");
    expect(() => Port.open({ backend: 'pcap', burst: 0, pcap: { file: kFixture } }))
      .to.throw("option 'burst' is 0, expected an integer from 1 to 512");
    expect(() => Port.open({ backend: 'nope' as never })).to.throw(/option 'backend' is "nope"/);
  });

  it('writes what is transmitted to a tx_file pcap that reads back equal', () => {
    const out = path.join(dir, 'tx.pcap');
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: kFixture, txFile: out } });
    const tx = port.producer(0);
    const frames = makeFrames(20, 3);
    for (const f of frames) {
      const slot = tx.tryClaim();
      expect(slot).to.be.at.least(0);
      tx.bytes.set(f.data, tx.slotOffset(slot));
      tx.commit(slot, f.data.length);
    }
    tx.publish();
    expect(port.stats().queues[0].txPackets).to.equal(20);
    port.close();
    const back = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: out } });
    const got = readAll(back);
    back.close();
    expect(got.frames.map((f) => f.toString('hex'))).to.deep.equal(frames.map((f) => Buffer.from(f.data).toString('hex')));
  });

  it('tx_file: frames longer than the snap length between normal ones are dropped and counted once; the rest written once, in order', () => {
    const out = path.join(dir, 'tx-oversize.pcap');
    const port = Port.open({ backend: 'pcap', poller: 'inline', txSlotBytes: 65536, pcap: { file: kFixture, txFile: out, rx: false } });
    const tx = port.producer(0);
    const normal = makeFrames(300, 4).map((f) => f.data);
    const big = new Uint8Array(65536).fill(0xee);  // fits the slot, not the file's 65535-byte snap length
    let posted = 0, oversize = 0;
    const post = (f: Uint8Array): void => {
      const slot = tx.tryClaim();
      expect(slot).to.be.at.least(0);
      tx.bytes.set(f, tx.slotOffset(slot));
      tx.commit(slot, f.length);
      posted++;
    };
    normal.forEach((f, i) => {
      if (i % 9 === 0) { post(big); oversize++; }
      post(f);
      if (i % 40 === 39) tx.publish();
    });
    tx.publish();
    for (let i = 0; i < 1000 && tx.inFlight > 0; i++) port.poll(0);
    const q = port.stats().queues[0];
    port.close();
    expect(q).to.include({ txPackets: normal.length, txOversize: oversize, txFailed: 0, rxPackets: 0 });
    expect(q.txPackets + q.txOversize + q.txFailed).to.equal(posted);
    const back = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: out } });
    const got = readAll(back);
    back.close();
    expect(got.frames.map((f) => f.toString('hex'))).to.deep.equal(normal.map((f) => Buffer.from(f).toString('hex')));
  });

  it('services TX while a replay waits on a full RX ring nobody reads; rx: false does not replay the file at all', () => {
    const input = path.join(dir, 'in.pcap');
    writePcap(input, makeFrames(500, 6));
    for (const rx of [true, false]) {
      const out = path.join(dir, `tx-held-${rx}.pcap`);
      const port = Port.open({ backend: 'pcap', poller: 'inline', ringSize: 64, txSlots: 64, pcap: { file: input, txFile: out, rx } });
      const tx = port.producer(0);
      const frames = makeFrames(1000, 8).map((f) => f.data);
      let sent = 0;
      for (let i = 0; i < 100000 && sent < frames.length; i++) {
        const slot = tx.tryClaim();  // polls the port when the TX ring is full
        if (slot < 0) continue;
        tx.bytes.set(frames[sent], tx.slotOffset(slot));
        tx.commit(slot, frames[sent].length);
        sent++;
        tx.publish();
      }
      for (let i = 0; i < 1000 && tx.inFlight > 0; i++) port.poll(0);
      const q = port.stats().queues[0];
      const eof = port.consumer(0).eof;
      port.close();
      expect(sent, `rx ${rx}: frames posted`).to.equal(frames.length);
      expect(q.txPackets, `rx ${rx}`).to.equal(frames.length);
      expect(q.rxPackets, `rx ${rx}: replayed into the unread ring`).to.equal(rx ? 64 : 0);
      expect(eof, `rx ${rx}: eof`).to.equal(!rx);
      const back = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: out } });
      expect(readAll(back).frames.length).to.equal(frames.length);
      back.close();
    }
  });
});
