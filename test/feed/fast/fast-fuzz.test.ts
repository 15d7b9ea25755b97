/**
 * Fuzz: mutated MOEX datagrams (bit flips, byte overwrites, cuts, inserted and deleted bytes, spliced
 * packets) through FastFeedDecoder -> FastBookAdapter. Nothing may throw; every failure is counted;
 * and the books stay internally consistent: each side's levels equal the orders the OrderStore holds
 * for that instrument, so a corrupt message can make a book stale but never silently wrong in its
 * own accounting. The full million by default (a few seconds); FAST_FUZZ_PACKETS sets another count.
 */
import { expect } from 'chai';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { FastBookAdapter } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { moexTemplates, forEachEngine } from './fast-helpers';

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s; }
  below(n: number): number { return this.next() % n; }
}

forEachEngine('FAST fuzz (mutated MOEX datagrams)', function () {
  const packets = Number(process.env.FAST_FUZZ_PACKETS ?? 1000000);
  this.timeout(Math.max(60000, packets / 5));

  it(`${packets} mutated datagrams: no exception, errors counted, books consistent`, () => {
    const registry = moexTemplates();
    const gen = new MoexSessionGenerator(registry, { instruments: 30, seed: 99 });
    const corpus = [...gen.incrementals(3000), ...gen.snapshots(5, 1)];
    const adapter = new FastBookAdapter(registry, { onEvent: () => undefined, endOfBatch: () => undefined });
    const feed = new FastFeedDecoder(registry, adapter);
    const rng = new Rng(0xfa57);
    const buf = new Uint8Array(4096);
    const t0 = Date.now();
    for (let n = 0; n < packets; n++) {
      const src = corpus[rng.below(corpus.length)];
      let len = src.length;
      buf.set(src, 0);
      const mutations = 1 + rng.below(4);
      for (let m = 0; m < mutations; m++) {
        const at = 4 + rng.below(Math.max(1, len - 4));
        switch (rng.below(6)) {
          case 0: buf[at] ^= 1 << rng.below(8); break;
          case 1: buf[at] = rng.below(256); break;
          case 2: len = Math.max(1, at); break;
          case 3: buf.copyWithin(at + 1, at, len); buf[at] = rng.below(256); len = Math.min(len + 1, 4000); break;
          case 4: buf.copyWithin(at, at + 1, len); len = Math.max(1, len - 1); break;
          default: { const other = corpus[rng.below(corpus.length)]; const k = rng.below(other.length); buf.set(other.subarray(k, Math.min(other.length, k + 4000 - at)), at); len = Math.min(4000, at + other.length - k); }
        }
      }
      feed.decodePayload(buf, 0, len);
      if ((n & 1023) === 0) feed.endOfBatch();
    }
    const seconds = (Date.now() - t0) / 1000;
    // Books: levels == orders held, per instrument and side.
    const perLocate = new Map<string, number>();
    adapter.orders.forEach((_ref, locate, side, price, shares) => {
      const k = `${locate}/${side}/${price}`;
      perLocate.set(k, (perLocate.get(k) ?? 0) + shares);
    });
    let levels = 0;
    for (const book of adapter.allBooks()) {
      for (const [side, pl] of [[0x42, book.bids], [0x53, book.asks]] as const) {
        for (let r = 0; r < pl.count; r++) {
          levels++;
          expect(pl.sharesAt(r), `${book.symbol} ${side} ${pl.priceAt(r)}`).to.equal(perLocate.get(`${book.stockLocate}/${side}/${pl.priceAt(r)}`) ?? 0);
        }
      }
    }
    expect(adapter.counters.levelMismatch).to.equal(0);
    const d = feed.decoder.counters;
    expect(feed.counters.datagrams).to.equal(packets);
    expect(d.errors + d.messages + feed.counters.tooShort).to.equal(packets);
    console.log(`      ${packets} datagrams in ${seconds.toFixed(1)} s: decoded ${d.messages}, errors ${d.errors} (truncated ${d.truncated}, overflow ${d.overflow}, unknownTemplate ${d.unknownTemplate}, missingValue ${d.missingValue}, badExponent ${d.badExponent}, tooLong ${d.tooLong}), pmapOverlong ${d.pmapOverlong}; adapter: applied ${adapter.counters.applied}, stale marks ${adapter.counters.staleMarks}, bad ids ${adapter.counters.badOrderId}, bad prices ${adapter.counters.badPrice}; ${levels} levels checked`);
  });
});
