/**
 * Fuzz: 1,000,000 packets, mutated from real captures and generated sessions plus purely random
 * ones, through UdpFrameParser -> MoldUdp64Packet -> ItchDecoder -> BookBuilder -> Conflator.
 * Nothing may throw; every bad input must land in a counter; the books must stay consistent.
 * Seeded PRNG, so a failure reproduces.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import { BookBuilder } from '../../lib/feed/book/book-builder';
import { BookEvent, BookEventHandler } from '../../lib/feed/book/book-event';
import { Conflator } from '../../lib/feed/book/conflator';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { ItchEncoder, stockBytes } from '../../lib/feed/itch/itch-encoder';
import { MoldUdp64Encoder } from '../../lib/feed/wire/moldudp64-encoder';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { UdpFrameWriter } from '../../lib/feed/wire/udp-frame-writer';
import { fixturePcaps } from './itch-fixtures';

class Xorshift {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s; }
  below(n: number): number { return this.next() % n; }
}

class CountingSink implements BookEventHandler {
  events = 0;
  batches = 0;
  onEvent(_e: BookEvent): void { this.events++; }
  endOfBatch(): void { this.batches++; }
}

/** Real frames from every vendored capture, plus generated frames of realistic order flow. */
function corpus(rng: Xorshift): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const pcap of fixturePcaps()) {
    const r = new PcapReader(fs.readFileSync(pcap));
    while (r.next()) frames.push(r.data.slice(r.frameOffset, r.frameOffset + r.capturedLength));
  }
  const enc = new ItchEncoder();
  const mold = new MoldUdp64Encoder('FUZZ');
  const writer = new UdpFrameWriter({ sourceAddress: '127.0.0.1', destinationAddress: '233.54.12.111', sourcePort: 1, destinationPort: 26477, vlanIds: [141] });
  const stock = stockBytes('FUZZ');
  let ref = 1;
  for (let p = 0; p < 300; p++) {
    const b = new Uint8Array(1500);
    mold.begin(b, writer.headerLength, p * 10 + 1);
    for (let m = 0; m < 10; m++) {
      const locate = 1 + rng.below(4);
      const k = rng.below(5);
      const target = 1 + rng.below(ref);
      if (k <= 1) enc.addOrder(b, mold.appendMessage(36), locate, 0, m, ref++, rng.below(2) === 0, 1 + rng.below(500), stock, 1000 + rng.below(20) * 100);
      else if (k === 2) enc.orderExecuted(b, mold.appendMessage(31), locate, 0, m, target, 1 + rng.below(300), m);
      else if (k === 3) enc.orderDelete(b, mold.appendMessage(19), locate, 0, m, target);
      else enc.orderReplace(b, mold.appendMessage(35), locate, 0, m, target, ref++, 1 + rng.below(500), 1000 + rng.below(20) * 100);
    }
    const len = mold.finish();
    frames.push(b.slice(0, writer.write(b, 0, len)));
  }
  return frames;
}

describe('feed fuzz', function () {
  this.timeout(60000);

  it('1,000,000 mutated and random packets: no exception, everything counted, books consistent', () => {
    const rng = new Xorshift(0x5eed1234);
    const seeds = corpus(rng);
    const sink = new CountingSink();
    const books = new BookBuilder(new Conflator(sink), { initialOrderCapacity: 1 << 16 });
    const feed = new FeedDecoder(books);
    const scratch = new Uint8Array(2048);
    const kPackets = 1_000_000;
    let delivered = 0;
    for (let i = 0; i < kPackets; i++) {
      const mode = rng.below(16);
      let len: number;
      if (mode === 0) {
        // Pure noise, as a UDP payload.
        len = rng.below(300);
        for (let j = 0; j < len; j++) scratch[j] = rng.below(256);
        delivered += feed.decodePayload(scratch, 0, len);
        if ((i & 63) === 0) feed.endOfBatch();
        continue;
      }
      const seed = seeds[rng.below(seeds.length)];
      len = seed.length;
      scratch.set(seed);
      if (mode <= 8) {
        // Flip or overwrite a few bytes anywhere in the frame.
        const n = 1 + rng.below(4);
        for (let j = 0; j < n; j++) scratch[rng.below(len)] = mode & 1 ? scratch[rng.below(len)] ^ (1 << rng.below(8)) : rng.below(256);
      } else if (mode <= 11) {
        // Truncate the frame.
        len = rng.below(len + 1);
      } else if (mode <= 13) {
        // Corrupt the MoldUDP64 message count or a block length (headers are 14 + 4 + 20 + 8 = 46 bytes in front).
        const at = rng.below(2) === 0 ? 46 + 18 : 46 + 20 + rng.below(Math.max(1, len - 66));
        if (at + 1 < len) { scratch[at] = rng.below(256); scratch[at + 1] = rng.below(256); }
      }
      // mode 14-15: the seed unchanged (duplicate adds, replays).
      delivered += feed.decodeFrame(scratch, 0, len);
      if ((i & 63) === 0) feed.endOfBatch();
    }
    feed.endOfBatch();

    const d = feed.decoder.counters;
    const f = feed.frames.counters;
    const p = feed.packet.counters;
    const c = books.counters;
    expect(delivered).to.equal(d.messages);
    expect(c.messages).to.equal(d.messages);
    // The mutations reached every error path.
    for (const [name, v] of Object.entries({ truncatedMsg: d.truncated, unknownType: d.unknownType, zeroLength: d.zeroLength,
      truncatedFrame: f.truncated, notIpv4: f.notIpv4, notUdp: f.notUdp, badUdp: f.badUdpLength, fragment: f.fragment,
      truncatedHeader: p.truncatedHeader, truncatedBlock: p.truncatedBlock, unknownOrder: c.unknownOrder, duplicateOrder: c.duplicateOrder,
      overExecution: c.overExecution })) {
      expect(v, name).to.be.greaterThan(0);
    }
    expect(c.levelMismatch).to.equal(0);
    // Books agree with the resting orders.
    const want = new Map<string, number>();
    books.orders.forEach((_r, loc, side, price, shares) => {
      const k = `${loc}/${side}/${price}`;
      want.set(k, (want.get(k) ?? 0) + shares);
    });
    let levels = 0;
    for (const book of books.allBooks()) {
      for (const [side, lv] of [[0x42, book.bids], [0x53, book.asks]] as const) {
        for (let r = 0; r < lv.count; r++) {
          levels++;
          expect(lv.sharesAt(r), `${book.stockLocate}/${side}/${lv.priceAt(r)}`).to.equal(want.get(`${book.stockLocate}/${side}/${lv.priceAt(r)}`) ?? 0);
        }
      }
    }
    const ordersBySideLevel = new Set(want.keys()).size;
    expect(levels).to.equal(ordersBySideLevel);
    expect(sink.events).to.be.greaterThan(0);
  });
});
