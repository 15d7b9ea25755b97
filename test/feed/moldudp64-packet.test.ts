import { expect } from 'chai';
import { MoldUdp64Encoder } from '../../lib/feed/wire/moldudp64-encoder';
import { kMoldUdp64Truncated, MoldUdp64Packet } from '../../lib/feed/wire/moldudp64-packet';

describe('MoldUdp64Packet', () => {
  it('reads session, a sequence above 2^32 exactly, and every block', () => {
    const b = new Uint8Array(200);
    const e = new MoldUdp64Encoder('000010059B');
    e.begin(b, 0, 2 ** 40 + 5);
    b.set([1, 2, 3], e.appendMessage(3));
    b.set([9], e.appendMessage(1));
    const len = e.finish();
    const p = new MoldUdp64Packet();
    expect(p.wrap(b, 0, len)).to.equal(2);
    expect(p.session).to.equal('000010059B');
    expect(p.sessionEquals(Buffer.from('000010059B'))).to.equal(true);
    expect(p.sessionEquals(Buffer.from('000010059C'))).to.equal(false);
    const seen: [number, number, number][] = [];
    while (p.nextMessage()) seen.push([p.messageSequence, p.messageLength, b[p.messageOffset]]);
    expect(seen).to.deep.equal([[2 ** 40 + 5, 3, 1], [2 ** 40 + 6, 1, 9]]);
  });

  it('recognises heartbeats and end of session, which carry no messages', () => {
    const b = new Uint8Array(64);
    const e = new MoldUdp64Encoder('S1');
    const p = new MoldUdp64Packet();
    expect(p.wrap(b, 0, e.heartbeat(b, 0, 77))).to.equal(0);
    expect([p.isHeartbeat, p.isEndOfSession, p.sequenceNumber, p.nextMessage(), p.session]).to.deep.equal([true, false, 77, false, 'S1']);
    expect(p.wrap(b, 0, e.endOfSession(b, 0, 78))).to.equal(0);
    expect([p.isHeartbeat, p.isEndOfSession, p.nextMessage()]).to.deep.equal([false, true, false]);
    expect([p.counters.heartbeats, p.counters.endOfSession]).to.deep.equal([1, 1]);
  });

  it('stops at a block that runs past the packet and counts it; short headers are rejected', () => {
    const b = new Uint8Array(100);
    const e = new MoldUdp64Encoder('S');
    e.begin(b, 0, 1);
    e.appendMessage(10);
    e.appendMessage(10);
    const len = e.finish();
    const p = new MoldUdp64Packet();
    p.wrap(b, 0, len - 1);
    let n = 0;
    while (p.nextMessage()) n++;
    expect(n).to.equal(1);
    expect(p.counters.truncatedBlock).to.equal(1);
    expect(p.wrap(b, 0, 19)).to.equal(kMoldUdp64Truncated);
    expect(p.session === null || typeof p.session === 'string').to.equal(true);
    const zeroed = new Uint8Array(20);
    p.wrap(zeroed, 0, 20);
    expect(p.session).to.equal(null);
  });
});
