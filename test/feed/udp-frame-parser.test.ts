import { expect } from 'chai';
import {
  formatIpv4Address, kUdpFrameBadUdpLength, kUdpFrameFiltered, kUdpFrameFragment, kUdpFrameNotIpv4, kUdpFrameNotUdp,
  kUdpFrameOk, kUdpFrameTruncated, parseIpv4Address, UdpFrameParser,
} from '../../lib/feed/wire/udp-frame-parser';
import { UdpFrameWriter } from '../../lib/feed/wire/udp-frame-writer';

function frame(vlanIds: number[], payload = 'hello', dst = '233.54.12.111', port = 26477): Uint8Array {
  const w = new UdpFrameWriter({ sourceAddress: '206.200.127.138', destinationAddress: dst, sourcePort: 1234, destinationPort: port, vlanIds });
  const b = new Uint8Array(w.headerLength + payload.length);
  b.set(Buffer.from(payload), w.headerLength);
  w.write(b, 0, payload.length);
  return b;
}

describe('UdpFrameParser', () => {
  it('finds the UDP payload with 0, 1 and 2 stacked VLAN tags, at a non-zero offset', () => {
    for (const tags of [[], [141], [100, 141]]) {
      const f = frame(tags);
      const big = new Uint8Array(f.length + 7);
      big.set(f, 7);
      const p = new UdpFrameParser();
      expect(p.parse(big, 7, f.length)).to.equal(kUdpFrameOk);
      expect(Buffer.from(big.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)).toString()).to.equal('hello');
      expect([p.vlanCount, p.vlanId]).to.deep.equal([tags.length, tags.length ? tags[0] : 0]);
      expect(formatIpv4Address(p.destinationAddress)).to.equal('233.54.12.111');
      expect(formatIpv4Address(p.sourceAddress)).to.equal('206.200.127.138');
      expect([p.sourcePort, p.destinationPort]).to.deep.equal([1234, 26477]);
    }
  });

  it('filters on destination group and port', () => {
    const p = new UdpFrameParser({ destinationAddresses: ['233.54.12.111'], destinationPorts: [26477, 26478] });
    const ok = frame([141]);
    expect(p.parse(ok, 0, ok.length)).to.equal(kUdpFrameOk);
    const otherGroup = frame([141], 'x', '233.54.12.112');
    expect(p.parse(otherGroup, 0, otherGroup.length)).to.equal(kUdpFrameFiltered);
    const otherPort = frame([141], 'x', '233.54.12.111', 1);
    expect(p.parse(otherPort, 0, otherPort.length)).to.equal(kUdpFrameFiltered);
    expect(p.counters.accepted).to.equal(1);
    expect(p.counters.filtered).to.equal(2);
  });

  it('counts non-IPv4, non-UDP, fragments, bad UDP lengths and truncation instead of throwing', () => {
    const p = new UdpFrameParser();
    const arp = frame([]); arp[12] = 0x08; arp[13] = 0x06;
    expect(p.parse(arp, 0, arp.length)).to.equal(kUdpFrameNotIpv4);
    const tcp = frame([]); tcp[14 + 9] = 6;
    expect(p.parse(tcp, 0, tcp.length)).to.equal(kUdpFrameNotUdp);
    const frag = frame([]); frag[14 + 6] = 0x20; // more fragments
    expect(p.parse(frag, 0, frag.length)).to.equal(kUdpFrameFragment);
    const badUdp = frame([]); badUdp[14 + 20 + 4] = 0xff;
    expect(p.parse(badUdp, 0, badUdp.length)).to.equal(kUdpFrameBadUdpLength);
    const f = frame([141]);
    for (let len = 0; len < f.length; len++) expect(p.parse(f, 0, len), `length ${len}`).to.not.equal(kUdpFrameOk);
    expect(p.parse(f, 0, f.length)).to.equal(kUdpFrameOk);
    const tooManyTags = frame([1, 2, 3, 4, 5]);
    expect(p.parse(tooManyTags, 0, tooManyTags.length)).to.equal(kUdpFrameTruncated);
    expect(p.counters.notIpv4 + p.counters.notUdp + p.counters.fragment + p.counters.badUdpLength).to.equal(4);
  });

  it('validates options with messages naming the option and the value', () => {
    expect(() => new UdpFrameParser({ destinationAddresses: ['233.54.12'] }))
      .to.throw(`UdpFrameParser: option 'destinationAddresses[0]' is "233.54.12", expected a dotted-quad IPv4 address such as "233.54.12.111"`);
    expect(() => new UdpFrameParser({ destinationPorts: [70000] }))
      .to.throw(`UdpFrameParser: option 'destinationPorts[0]' is 70000, expected an integer from 1 to 65535`)
      .with.property('code', 'ERR_INVALID_OPTION');
    expect(parseIpv4Address('256.1.1.1')).to.equal(undefined);
    expect(parseIpv4Address('127.0.0.1')).to.equal(0x7f000001);
  });
});
