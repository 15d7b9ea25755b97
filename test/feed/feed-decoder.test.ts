import { expect } from 'chai';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { ItchDecoder } from '../../lib/feed/itch/itch-decoder';
import { MoldUdp64Encoder } from '../../lib/feed/wire/moldudp64-encoder';
import { Sequencer } from '../../lib/feed/recovery/sequencer';
import { UdpFrameWriter } from '../../lib/feed/wire/udp-frame-writer';
import { Msg, payload } from './book-recorder';

const del = (ref: number): Msg => ({ type: 'D', values: { stockLocate: 1, trackingNumber: 0, timestamp: ref, orderReferenceNumber: ref } });

function recorder() {
  const seen: [number, number][] = [];
  let batches = 0;
  return {
    seen, get batches() { return batches; },
    onMessage(d: ItchDecoder, type: number, sequence: number) { expect(type).to.equal(0x44); seen.push([sequence, d.orderDelete.orderReferenceNumber]); },
    endOfBatch() { batches++; },
  };
}

describe('FeedDecoder', () => {
  it('delivers each message with its MoldUDP64 sequence and counts frames it cannot use', () => {
    const rec = recorder();
    const feed = new FeedDecoder(rec, { destinationPorts: [26477] });
    const p = payload([del(7), del(8), del(9)], 100);
    const w = new UdpFrameWriter({ sourceAddress: '127.0.0.1', destinationAddress: '233.54.12.111', sourcePort: 5, destinationPort: 26477, vlanIds: [141, 7] });
    const frame = new Uint8Array(w.headerLength + p.length);
    frame.set(p, w.headerLength);
    w.write(frame, 0, p.length);
    expect(feed.decodeFrame(frame, 0, frame.length)).to.equal(3);
    expect(feed.decodeFrame(frame, 0, 20)).to.equal(0);
    feed.endOfBatch();
    expect(rec.seen).to.deep.equal([[100, 7], [101, 8], [102, 9]]);
    expect(rec.batches).to.equal(1);
    expect(feed.frames.counters.truncated).to.equal(1);
  });

  it('with a Sequencer drops duplicate messages before decoding and reports gaps', () => {
    const rec = recorder();
    const gaps: [number, number][] = [];
    const feed = new FeedDecoder(rec, {}, new Sequencer({ firstSequence: 1, gapListener: { onGap: (a, b) => { gaps.push([a, b]); } } }));
    const send = (p: Uint8Array) => feed.decodePayload(p, 0, p.length);
    expect(send(payload([del(1), del(2)], 1))).to.equal(2);
    expect(send(payload([del(1), del(2)], 1))).to.equal(0);
    expect(send(payload([del(2), del(3)], 2))).to.equal(1);
    expect(send(payload([del(6)], 6))).to.equal(1);
    const hb = new Uint8Array(20);
    new MoldUdp64Encoder('TEST').heartbeat(hb, 0, 9);
    expect(send(hb)).to.equal(0);
    expect(rec.seen.map((s) => s[0])).to.deep.equal([1, 2, 3, 6]);
    expect(gaps).to.deep.equal([[4, 5], [7, 8]]);
    expect(feed.decoder.counters.messages).to.equal(4);
    expect(feed.sequencer!.counters.duplicates).to.equal(3);
  });
});
