/**
 * Round trips for every ITCH 5.0 message type: values -> ItchEncoder -> MoldUdp64Encoder ->
 * UdpFrameWriter -> PcapWriter -> PcapReader -> FeedDecoder -> flyweight getters -> same values.
 * The encoder is table-driven from the schema and the flyweights hard-code offsets, so this is what
 * keeps the two in agreement.
 */
import { expect } from 'chai';
import * as fc from 'fast-check';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { ItchDecoder } from '../../lib/feed/itch/itch-decoder';
import { ItchEncoder, ItchValues, stockBytes } from '../../lib/feed/itch/itch-encoder';
import { itchMessageToObject } from '../../lib/feed/itch/itch-json';
import { itchSpec, kItchMessageSpecs } from '../../lib/feed/itch/itch-schema';
import { MoldUdp64Encoder } from '../../lib/feed/wire/moldudp64-encoder';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { PcapWriter } from '../../lib/feed/pcap/pcap-writer';
import { UdpFrameWriter } from '../../lib/feed/wire/udp-frame-writer';
import { expectedDecode, valuesArbitrary } from './itch-arbitraries';

interface Decoded { seq: number; fields: Record<string, number | string> }

/** Encode messages into one MoldUDP64 packet in one frame in one pcap, and decode it all back. */
function roundTrip(messages: { type: string; values: ItchValues }[], seq: number, vlans: number[], nanosecond: boolean, bigEndian: boolean): Decoded[] {
  const encoder = new ItchEncoder();
  const mold = new MoldUdp64Encoder('TEST00001');
  const frame = new UdpFrameWriter({ sourceAddress: '127.0.0.1', destinationAddress: '233.54.12.111', sourcePort: 1, destinationPort: 26477, vlanIds: vlans });
  const buf = new Uint8Array(9000);
  mold.begin(buf, frame.headerLength, seq);
  for (const m of messages) {
    const at = mold.appendMessage(itchSpec(m.type).length);
    encoder.encode(buf, at, m.type, m.values);
  }
  const payloadLength = mold.finish();
  const frameLength = frame.write(buf, 0, payloadLength);
  const pcap = new PcapWriter({ nanosecond, bigEndian });
  pcap.addFrame(buf.subarray(0, frameLength), 34200, 123456789);
  const out: Decoded[] = [];
  const feed = new FeedDecoder({
    onMessage(decoder: ItchDecoder, type: number, sequence: number) {
      out.push({ seq: sequence, fields: itchMessageToObject(decoder.messageFor(type)!) });
    },
    endOfBatch() { /* no batching in this test */ },
  }, { destinationAddresses: ['233.54.12.111'], destinationPorts: [26477] });
  const reader = new PcapReader(pcap.toBuffer());
  while (reader.next()) feed.decodeFrame(reader.data, reader.frameOffset, reader.capturedLength);
  return out;
}

describe('ItchEncoder round trips (fast-check)', function () {
  this.timeout(20000);

  for (const spec of kItchMessageSpecs) {
    it(`'${spec.type}' ${spec.name}: every field survives encode -> frame -> pcap -> decode`, () => {
      fc.assert(fc.property(valuesArbitrary(spec), fc.maxSafeNat(), fc.array(fc.integer({ min: 0, max: 4095 }), { maxLength: 2 }),
        fc.boolean(), fc.boolean(), (values, seq, vlans, nano, be) => {
          const got = roundTrip([{ type: spec.type, values }], seq, vlans, nano, be);
          expect(got).to.have.length(1);
          expect(got[0].seq).to.equal(seq);
          expect(got[0].fields).to.deep.equal(expectedDecode(spec, values));
        }), { numRuns: 150 });
    });
  }

  it('many messages of mixed types in one packet keep order and consecutive sequence numbers', () => {
    const anyMessage = fc.constantFrom(...kItchMessageSpecs).chain((spec) => valuesArbitrary(spec).map((values) => ({ type: spec.type, values })));
    fc.assert(fc.property(fc.array(anyMessage, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 2 ** 40 }), (messages, seq) => {
      const got = roundTrip(messages, seq, [141], true, false);
      expect(got.map((g) => g.seq)).to.deep.equal(messages.map((_, i) => seq + i));
      expect(got.map((g) => g.fields)).to.deep.equal(messages.map((m) => expectedDecode(itchSpec(m.type), m.values)));
    }), { numRuns: 100 });
  });

  it('the typed writers produce the same bytes as the table-driven encoder', () => {
    const e = new ItchEncoder();
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      fc.maxSafeNat(), fc.maxSafeNat(), fc.boolean(), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }),
      fc.maxSafeNat(), fc.constantFrom('AAPL', 'META', 'BRK.A', 'ZXZZT', 'X'), fc.constantFrom('VIRT', 'MAXM', 'A'),
      (locate, tracking, ts, ref, ref2, buy, shares, price, match, stock, mpid) => {
        const h = { stockLocate: locate, trackingNumber: tracking, timestamp: ts };
        const side = buy ? 'B' : 'S';
        const cases: [string, ItchValues, (b: Uint8Array) => number][] = [
          ['A', { ...h, orderReferenceNumber: ref, buySellIndicator: side, shares, stock, price }, (b) => e.addOrder(b, 0, locate, tracking, ts, ref, buy, shares, stockBytes(stock), price)],
          ['F', { ...h, orderReferenceNumber: ref, buySellIndicator: side, shares, stock, price, attribution: mpid }, (b) => e.addOrderMpid(b, 0, locate, tracking, ts, ref, buy, shares, stockBytes(stock), price, stockBytes(mpid))],
          ['E', { ...h, orderReferenceNumber: ref, executedShares: shares, matchNumber: match }, (b) => e.orderExecuted(b, 0, locate, tracking, ts, ref, shares, match)],
          ['C', { ...h, orderReferenceNumber: ref, executedShares: shares, matchNumber: match, printable: buy ? 'Y' : 'N', executionPrice: price }, (b) => e.orderExecutedWithPrice(b, 0, locate, tracking, ts, ref, shares, match, buy, price)],
          ['X', { ...h, orderReferenceNumber: ref, cancelledShares: shares }, (b) => e.orderCancel(b, 0, locate, tracking, ts, ref, shares)],
          ['D', { ...h, orderReferenceNumber: ref }, (b) => e.orderDelete(b, 0, locate, tracking, ts, ref)],
          ['U', { ...h, originalOrderReferenceNumber: ref, newOrderReferenceNumber: ref2, shares, price }, (b) => e.orderReplace(b, 0, locate, tracking, ts, ref, ref2, shares, price)],
          ['P', { ...h, orderReferenceNumber: ref, buySellIndicator: side, shares, stock, price, matchNumber: match }, (b) => e.trade(b, 0, locate, tracking, ts, ref, buy, shares, stockBytes(stock), price, match)],
        ];
        for (const [type, values, typed] of cases) {
          const a = new Uint8Array(64);
          const b = new Uint8Array(64);
          const n = e.encode(a, 0, type, values);
          expect(typed(b), type).to.equal(n);
          expect(Buffer.from(b).equals(Buffer.from(a)), type).to.equal(true);
        }
      }), { numRuns: 300 });
  });

  it('rejects values that do not fit the wire with ERR_ITCH_ENCODE naming the field', () => {
    const e = new ItchEncoder();
    const b = new Uint8Array(64);
    const ok = { orderReferenceNumber: 1, buySellIndicator: 'B', shares: 1, stock: 'AAPL', price: 1 };
    const bad: [string, ItchValues, string][] = [
      ['A', { ...ok, shares: 2 ** 32 }, "'shares'"],
      ['A', { ...ok, shares: -1 }, "'shares'"],
      ['A', { ...ok, price: 1.5 }, "'price'"],
      ['A', { ...ok, stock: 'TOOLONGSYM' }, "'stock'"],
      ['A', { ...ok, buySellIndicator: 'BS' }, "'buySellIndicator'"],
      ['A', { ...ok, orderReferenceNumber: 2 ** 53 }, "'orderReferenceNumber'"],
      ['A', { ...ok, stockLocate: 70000 }, "'stockLocate'"],
      ['D', {}, "'orderReferenceNumber'"],
      ['Z', {}, 'unknown message type'],
    ];
    for (const [type, values, text] of bad) {
      expect(() => e.encode(b, 0, type, values), `${type} ${JSON.stringify(values)}`).to.throw(text).with.property('code', 'ERR_ITCH_ENCODE');
    }
    expect(() => e.encode(new Uint8Array(10), 0, 'D', { orderReferenceNumber: 1 })).to.throw('needs 19 bytes');
  });
});
