/**
 * FAST order books through the one-call paths the ITCH builder uses: an add stores its level's
 * ladder hint in the order's record, and a delete or a change (FAST's MDUpdateAction 1, which can
 * move an order to another price) finds the order's level by that hint (LevelStore.reduceAt, then addOrder at a new price;
 * OrderStore.update). A re-centre (a price far above the ladder) or a re-tick (a price off the
 * side's gcd tick) moves every level, so the hints orders hold go stale: they must only cost a
 * division, never name the level that now sits at the old index. Books are checked against a plain,
 * separately written decode of the same datagrams (plain-fast-reference.ts) after every message.
 */
import { expect } from 'chai';
import * as fc from 'fast-check';
import * as path from 'path';
import { FastEncoder, type FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { FastBookAdapter } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { writeMoexPacket } from '../../../lib/feed/fast/moex/moex-packet';
import { priceDecimal } from '../../../lib/feed/fast/moex/moex-session-generator';
import { BookRecorder } from '../book-recorder';
import { kFixtures, levelsOf, moexTemplates } from './fast-helpers';
import { PlainBooks, PlainFastReference } from './plain-fast-reference';

const kTemplates = path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml');

/** One X-OLR feed into an adapter and into the plain reference, checked against each other after every message. */
class Session {
  readonly encoder: FastEncoder;
  readonly adapter: FastBookAdapter;
  readonly feed: FastFeedDecoder;
  readonly reference = new PlainFastReference(kTemplates);
  readonly plain = new PlainBooks();
  private seq = 0;
  private rpt = 0;

  constructor(recordReaders: boolean) {
    const registry = moexTemplates();
    this.encoder = new FastEncoder(registry);
    this.adapter = new FastBookAdapter(registry, new BookRecorder(), { recordReaders });
    this.feed = new FastFeedDecoder(registry, this.adapter);
  }

  /** One entry: action 0 new, 1 change, 2 delete; side '0' bid, '1' offer; price at 5 decimals. */
  send(action: number, side: '0' | '1', id: number, price: number, size: number): void {
    const entry: FastRecord = {
      MDUpdateAction: action, MDEntryType: side, MDEntryID: String(id), Symbol: 'USD000UTSTOM', RptSeq: ++this.rpt,
      MDEntryPx: priceDecimal(price), MDEntrySize: { mantissa: size, exponent: 0 }, TradingSessionID: 'CETS',
    };
    this.encoder.resetDictionaries();
    const seq = ++this.seq;
    const message = this.encoder.encode('X-OLR-CURR', { MsgSeqNum: seq, SendingTime: 20170301100000000n + BigInt(seq), GroupMDEntries: [entry] });
    const datagram = new Uint8Array(4 + message.length);
    writeMoexPacket(datagram, 0, seq, message);
    expect(this.feed.decodePayload(datagram, 0, datagram.length)).to.equal(1);
    this.feed.endOfBatch();
    const r = this.reference.decode(datagram, 4, datagram.length - 4);
    this.plain.applyIncremental(r!.msg);
    this.check(`after message ${seq} (action ${action}, id ${id}, price ${price}, size ${size})`);
  }

  check(what: string): void {
    const c = this.adapter.counters;
    expect(c.levelMismatch + c.unknownOrder + c.duplicateOrder + c.staleMarks + this.adapter.badReferences(), what).to.equal(0);
    const book = this.adapter.bookOf('CETS', 'USD000UTSTOM');
    expect(levelsOf(book, true), `bids ${what}`).to.deep.equal(this.plain.levels('CETS:USD000UTSTOM', '0'));
    expect(levelsOf(book, false), `asks ${what}`).to.deep.equal(this.plain.levels('CETS:USD000UTSTOM', '1'));
  }

  /** Ladder index (hint - 1) the order's record holds, 0 for none. */
  hintOf(id: number): number { return this.adapter.orders.meta(this.adapter.orders.find(id)) >>> 24; }
}

for (const recordReaders of [true, false]) {
  describe(`FastBookAdapter: level hints in the order records (${recordReaders ? 'record reader' : 'tape'} path)`, () => {
    it('a change that moves an order to another price and a delete, both after a re-centre moved the order\'s level deep', () => {
      const s = new Session(recordReaders);
      // Bids 60.00000 and 59.99750 (the tick becomes 250 units), then 59.99975 (gcd 25): a re-tick.
      s.send(0, '0', 101, 6000000, 10);
      s.send(0, '0', 102, 5999750, 20);
      s.send(0, '0', 103, 5999975, 5);
      // The re-tick re-placed the levels around the best (60.00000, same index): order 102's hint
      // (one tick of 250 below) now names the slot of 59.99975, order 103's level.
      const hint102 = s.hintOf(102);
      expect(hint102).to.equal(s.hintOf(103));
      s.send(1, '0', 102, 5999750, 25); // size change by a stale hint that names another order's level
      // A bid 1000 ticks above the ladder re-centres it: every earlier level goes deep, and order
      // 101's hint (the best's index before) now names the slot of the new best, order 104's.
      s.send(0, '0', 104, 6025000, 7);
      const locate = s.adapter.bookOf('CETS', 'USD000UTSTOM')!.stockLocate;
      expect(s.adapter.levels.deepCount(locate * 2)).to.equal(3);
      expect(s.hintOf(101)).to.equal(s.hintOf(104));
      s.send(1, '0', 101, 6000000, 4); // size only, same (deep) level
      s.send(1, '0', 102, 5999775, 20); // price change from a deep level to another deep level
      s.send(2, '0', 103, 5999975, 5); // delete of an order whose level moved
      s.send(1, '0', 101, 6000050, 9); // price change of the order whose hint names the best's slot
      expect(levelsOf(s.adapter.bookOf('CETS', 'USD000UTSTOM'), true)).to.deep.equal([[6025000, 7, 1], [6000050, 9, 1], [5999775, 20, 1]]);
      // The best empties and the ladder re-centres down onto the deep levels; their orders' hints are from before.
      s.send(2, '0', 104, 6025000, 7);
      s.send(1, '0', 101, 6025000, 2); // back up above the ladder: another re-centre
      s.send(1, '0', 102, 5999800, 1);
      s.send(2, '0', 101, 6025000, 2);
      s.send(2, '0', 102, 5999800, 1);
      expect(s.adapter.bookOf('CETS', 'USD000UTSTOM')!.bids.count).to.equal(0);
      expect(s.adapter.orders.size).to.equal(0);
    });

    it('decimals to integers by table multiplies: more decimals than the book keeps are exact or a counted bad price, never rounded', () => {
      const registry = moexTemplates();
      const encoder = new FastEncoder(registry);
      const adapter = new FastBookAdapter(registry, new BookRecorder(), { recordReaders });
      const feed = new FastFeedDecoder(registry, adapter);
      let seq = 0;
      // Each case on an instrument of its own (a bad entry marks its instrument stale).
      const send = (symbol: string, px: { mantissa: number; exponent: number }, size: { mantissa: number; exponent: number }): void => {
        encoder.resetDictionaries();
        const entry: FastRecord = {
          MDUpdateAction: 0, MDEntryType: '0', MDEntryID: String(100 + seq), Symbol: symbol, RptSeq: 1, MDEntryPx: px, MDEntrySize: size, TradingSessionID: 'CETS',
        };
        const message = encoder.encode('X-OLR-CURR', { MsgSeqNum: ++seq, SendingTime: 20170301100000000n + BigInt(seq), GroupMDEntries: [entry] });
        const datagram = new Uint8Array(4 + message.length);
        writeMoexPacket(datagram, 0, seq, message);
        feed.decodePayload(datagram, 0, datagram.length);
      };
      const best = (symbol: string): number[] => { const b = adapter.bookOf('CETS', symbol)!; return [b.bids.count, b.bids.priceAt(0), b.bids.sharesAt(0)]; };
      const lots = { mantissa: 7, exponent: 0 };
      send('A', { mantissa: 6500012000, exponent: -8 }, lots); // 65.00012000: exact at 5 decimals
      send('B', { mantissa: 6, exponent: 1 }, { mantissa: 50, exponent: -1 }); // 60 and 5.0 lots
      send('C', { mantissa: 6500012001, exponent: -8 }, lots); // 65.00012001: a bad price
      send('D', { mantissa: 650001201, exponent: -7 }, lots); // 65.0001201: a bad price
      send('E', { mantissa: 5, exponent: 4 }, lots); // 50,000 at 5 decimals: above 2^32 - 1
      send('F', { mantissa: 650000, exponent: -4 }, { mantissa: 55, exponent: -1 }); // 5.5 lots: a bad size
      send('G', { mantissa: 1, exponent: -5 }, { mantissa: 4294967295, exponent: 0 }); // the smallest price, the largest size
      expect(best('A')).to.deep.equal([1, 6500012, 7]);
      expect(best('B')).to.deep.equal([1, 6000000, 5]);
      expect(best('G')).to.deep.equal([1, 1, 4294967295]);
      for (const symbol of ['C', 'D', 'E', 'F']) expect(adapter.bookOf('CETS', symbol)!.bids.count, symbol).to.equal(0);
      expect([adapter.counters.badPrice, adapter.counters.badSize, adapter.counters.applied]).to.deep.equal([3, 1, 3]);
      expect(['C', 'D', 'E', 'F'].map((symbol) => adapter.isStale(adapter.bookOf('CETS', symbol)!.stockLocate))).to.deep.equal([true, true, true, true]);
    });

    it('random adds, price and size changes and deletes over a range wider than the ladder, with re-ticks: books equal the plain decode after every message (fast-check)', () => {
      // Prices 25 units apart over 400 ticks (the ladder holds 64), a few off the tick (re-ticks), both sides.
      const price = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 400 }).map((k) => 6000000 + k * 25), weight: 12 },
        { arbitrary: fc.integer({ min: 5990000, max: 6010000 }), weight: 1 });
      const op = fc.tuple(fc.integer({ min: 0, max: 9 }), price, fc.integer({ min: 1, max: 1000 }), fc.boolean());
      fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const s = new Session(recordReaders);
        const live = new Map<number, { side: '0' | '1'; price: number; size: number }>();
        let nextId = 5000000000; // above 2^32, as MOEX's order numbers are
        for (const [kind, p, size, bid] of ops) {
          const ids = [...live.keys()];
          if (kind < 4 || ids.length === 0) {
            const id = nextId++;
            const o = { side: (bid ? '0' : '1') as '0' | '1', price: p, size };
            live.set(id, o);
            s.send(0, o.side, id, o.price, o.size);
          } else {
            const id = ids[size % ids.length];
            const o = live.get(id)!;
            if (kind < 7) { live.delete(id); s.send(2, o.side, id, o.price, o.size); } else {
              if (kind < 9) o.price = p; // a price change, maybe far across the ladder
              o.size = 1 + ((o.size + size) % 997);
              s.send(1, o.side, id, o.price, o.size);
            }
          }
        }
      }), { numRuns: 40 });
    });
  });
}
