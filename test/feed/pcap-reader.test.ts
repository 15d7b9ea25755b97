import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { PcapWriter } from '../../lib/feed/pcap/pcap-writer';
import { kFixtureRoot } from './itch-fixtures';

describe('PcapReader', () => {
  for (const nanosecond of [false, true]) {
    for (const bigEndian of [false, true]) {
      it(`reads ${nanosecond ? 'nanosecond' : 'microsecond'} ${bigEndian ? 'big' : 'little'}-endian files, frames numbered from 1`, () => {
        const w = new PcapWriter({ nanosecond, bigEndian });
        w.addFrame(Uint8Array.of(1, 2, 3), 100, 123456789);
        w.addFrame(Uint8Array.of(4), 101, 5000, 60);
        const r = new PcapReader(w.toBuffer());
        expect([r.nanosecond, r.littleEndian, r.linkType]).to.deep.equal([nanosecond, !bigEndian, 1]);
        expect(r.next()).to.equal(true);
        expect([r.frameNumber, r.capturedLength, r.timestampSeconds, r.timestampNanos, r.data[r.frameOffset + 2]])
          .to.deep.equal([1, 3, 100, nanosecond ? 123456789 : 123456000, 3]);
        expect(r.next()).to.equal(true);
        expect([r.frameNumber, r.capturedLength, r.originalLength, r.timestampNanos]).to.deep.equal([2, 1, 60, 5000]);
        expect(r.next()).to.equal(false);
      });
    }
  }

  it('reads the real nanosecond capture with its 2 frames', () => {
    const r = new PcapReader(fs.readFileSync(path.join(kFixtureRoot, 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap')));
    expect(r.nanosecond).to.equal(true);
    const lengths: number[] = [];
    while (r.next()) lengths.push(r.capturedLength);
    expect(lengths).to.have.length(2);
    expect(lengths[1]).to.equal(1518);
  });

  it('rejects non-pcap data, other link types and truncated records with stable codes', () => {
    expect(() => new PcapReader(Buffer.from('short'))).to.throw('not a pcap file').with.property('code', 'ERR_PCAP_FORMAT');
    expect(() => new PcapReader(Buffer.alloc(40, 0x0a))).to.throw('not a classic pcap file').with.property('code', 'ERR_PCAP_FORMAT');
    const w = new PcapWriter();
    w.addFrame(new Uint8Array(50));
    const good = w.toBuffer();
    const otherLink = Buffer.from(good); otherLink[20] = 101;
    expect(() => new PcapReader(otherLink)).to.throw('link type 101').with.property('code', 'ERR_PCAP_FORMAT');
    for (const cut of [24 + 10, good.length - 1]) {
      const r = new PcapReader(good.subarray(0, cut));
      expect(() => r.next()).to.throw('frame 1').with.property('code', 'ERR_PCAP_TRUNCATED');
    }
  });
});
