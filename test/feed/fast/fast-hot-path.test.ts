/**
 * What the perf work on the FAST path changed, held to exact values from an independent computation:
 *
 * - SendingTime (a 17-digit YYYYMMDDHHMMSSsss uInt64) into event timestamps, now converted in line
 *   with the high half's share cached: every event's timestamp equals the BigInt arithmetic on the
 *   value the encoder wrote, across high-half changes, midnight, 23:59:59.999 and values whose low
 *   half is at or above 2^31;
 * - uInt64 read in one double then with a carry (compiled code and interpreter): exact at the
 *   boundaries 2^46, 2^53, 2^64 - 1 and nullable, and 2^64 an overflow;
 * - the shared level store: a size change up and down at one price keeps one order at the level;
 * - the X-OLR add written out in applyOrderEntry (not a call of addOrder: the inlining budget): its
 *   events, the order's level hint, and a duplicate add counted with the book stale and the resting
 *   order untouched, on the record path and the tape path alike.
 */
import { expect } from 'chai';
import { BookEvent, kBookEventAddOrder, kBookEventModifyOrder, kBookEventNames, kBookEventQuote } from '../../../lib/feed/book/book-event';
import { FastDecoder } from '../../../lib/feed/fast/fast-decoder';
import { FastEncoder, FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { FastBookAdapter } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { writeMoexPacket } from '../../../lib/feed/fast/moex/moex-packet';
import { forEachEngine, levelsOf, moexTemplates } from './fast-helpers';

function expectedNs(sendingTime: bigint): number {
  const t = Number(sendingTime % 1000000000n); // HHMMSSsss
  const hh = Math.floor(t / 1e7); const mm = Math.floor(t / 1e5) % 100; const ss = Math.floor(t / 1e3) % 100; const ms = t % 1000;
  return ((hh * 60 + mm) * 60 + ss) * 1e9 + ms * 1e6;
}

forEachEngine('FAST hot path: exact values', () => {
  it('event timestamps are SendingTime as nanoseconds since midnight, exactly, message after message', () => {
    const registry = moexTemplates();
    const encoder = new FastEncoder(registry);
    const times: bigint[] = [
      20170301101500000n, 20170301101500001n, 20170301235959999n, 20170302000000000n, 20170302000000001n,
      // Across changes of the high 32-bit half (every 2^32 = 4294967296 units) and its low half >= 2^31.
      20170302000000000n + 4294967295n, 20170302000000000n + 4294967296n, 4294967296n * 4696000n + 2147483648n,
      4294967296n * 4696000n + 4294967295n, 4294967296n * 4696001n, 20991231235959999n, 19700101000000000n,
    ];
    const seen: number[] = [];
    const adapter = new FastBookAdapter(registry, { onEvent: (e: BookEvent) => { if (e.kind === kBookEventAddOrder) seen.push(e.timestamp); }, endOfBatch() {} });
    const feed = new FastFeedDecoder(registry, adapter);
    times.forEach((t, i) => {
      encoder.resetDictionaries();
      const entry: FastRecord = { MDUpdateAction: 0, MDEntryType: '0', MDEntryID: String(100 + i), Symbol: 'USD000UTSTOM', RptSeq: i + 1, TradingSessionID: 'CETS',
        MDEntryPx: { mantissa: 6000000 - i, exponent: -5 }, MDEntrySize: { mantissa: 1, exponent: 0 } };
      const message = encoder.encode('X-OLR-CURR', { MsgSeqNum: i + 1, SendingTime: t, GroupMDEntries: [entry] });
      const d = new Uint8Array(4 + message.length);
      writeMoexPacket(d, 0, i + 1, message);
      expect(feed.decodePayload(d, 0, d.length)).to.equal(1);
    });
    expect(seen).to.deep.equal(times.map(expectedNs));
  });

  it('uInt64 is exact at 2^46, 2^53 and 2^64 - 1 (nullable too); 2^64 overflows', () => {
    const registry = loadFastTemplates(`<templates xmlns="http://www.fixprotocol.org/ns/fast/td/1.1">
      <template name="T" id="1"><uInt64 name="a"/><uInt64 name="b" presence="optional"/></template></templates>`);
    const encoder = new FastEncoder(registry);
    const decoder = new FastDecoder(registry);
    const slotA = registry.templateNamed('T').body.field('a')!.slot;
    const slotB = registry.templateNamed('T').body.field('b')!.slot;
    for (const v of [0n, 1n, (1n << 46n) - 1n, 1n << 46n, (1n << 46n) + 1n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 63n) + 12345n, (1n << 64n) - 2n, (1n << 64n) - 1n]) {
      const m = encoder.encode('T', { a: v, b: v });
      expect(decoder.decode(m, 0, m.length), String(v)).to.equal(1);
      for (const s of [slotA, slotB]) {
        const got = (BigInt(decoder.uint64High(s)) << 32n) + BigInt(decoder.uint64Low(s));
        expect(got, `${v} slot ${s}`).to.equal(v);
      }
    }
    const nul = encoder.encode('T', { a: 5n, b: null });
    expect(decoder.decode(nul, 0, nul.length)).to.equal(1);
    expect(decoder.isPresent(slotB)).to.equal(false);
    // 2^64 on the wire: 10 bytes, 02 00 .. 00 80.
    const over = Uint8Array.from([0xc0, 0x81, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80]);
    expect(decoder.decode(over, 0, over.length)).to.be.lessThan(0);
    expect(decoder.counters.overflow).to.equal(1);
  });

  /**
   * An adapter over `recordReaders` (record path or tape) whose events `line` writes into `seen`,
   * and `send(seq, entries)`: one X-OLR-CURR datagram through the feed decoder, taken whole.
   */
  function olrSession(recordReaders: boolean, line: (e: BookEvent) => string): { seen: string[]; adapter: FastBookAdapter; send: (seq: number, entries: FastRecord[]) => void } {
    const registry = moexTemplates();
    const encoder = new FastEncoder(registry);
    const seen: string[] = [];
    const adapter = new FastBookAdapter(registry, { onEvent: (e: BookEvent) => { seen.push(line(e)); }, endOfBatch() {} }, { recordReaders });
    const feed = new FastFeedDecoder(registry, adapter);
    const send = (seq: number, entries: FastRecord[]): void => {
      encoder.resetDictionaries();
      const message = encoder.encode('X-OLR-CURR', { MsgSeqNum: seq, SendingTime: 20170301101500000n, GroupMDEntries: entries });
      const d = new Uint8Array(4 + message.length);
      writeMoexPacket(d, 0, seq, message);
      expect(feed.decodePayload(d, 0, d.length)).to.equal(1);
    };
    return { seen, adapter, send };
  }

  it('an X-OLR add (written out in applyOrderEntry): ADD and QUOTE events, the hint for its delete, and a duplicate counted, the book stale, the resting order untouched', () => {
    for (const recordReaders of [true, false]) {
      const { seen, adapter, send } = olrSession(recordReaders, (e) => [kBookEventNames[e.kind], e.orderReferenceNumber, e.previousOrderReferenceNumber, e.side, e.price, e.shares, e.bidPrice, e.askPrice, e.askShares, e.tradingState].join(' '));
      const e = (rpt: number, action: number, id: string, px: number, size: number): FastRecord => ({ MDUpdateAction: action, MDEntryType: '1', MDEntryID: id, Symbol: 'X', RptSeq: rpt,
        TradingSessionID: 'CETS', MDEntryPx: { mantissa: px, exponent: 0 }, MDEntrySize: { mantissa: size, exponent: 0 } });
      send(1, [e(1, 0, '7', 65, 10), e(2, 0, '8', 66, 5)]);
      // The record path with the compiled engine's feed decoder, the tape otherwise.
      expect(adapter.counters.recordMessages).to.equal(recordReaders && FastDecoder.defaultEngine === 'compiled' ? 1 : 0);
      expect(seen.splice(0), String(recordReaders)).to.deep.equal([
        'ADD_ORDER 7 7 83 6500000 10 0 0 0 0', 'QUOTE 7 7 83 6500000 10 0 6500000 10 0', 'ADD_ORDER 8 8 83 6600000 5 0 6500000 10 0',
      ]);
      // The add stored its level's ladder hint (1 + index) in the order's record.
      expect(adapter.orders.meta(adapter.orders.find(8)) >>> 24).to.equal(adapter.levels.placedHint).and.to.be.greaterThan(0);
      // The hint the add stored finds the level: a delete of the best and one of the level below, no division, no mismatch.
      send(2, [e(3, 2, '8', 0, 0), e(4, 2, '7', 0, 0)]);
      expect(seen.splice(0).map((x) => x.split(' ')[0])).to.deep.equal(['DELETE_ORDER', 'DELETE_ORDER', 'QUOTE']);
      send(3, [e(5, 0, '9', 67, 3)]);
      send(4, [e(6, 0, '9', 68, 4)]);
      const book = adapter.bookOf('CETS', 'X')!;
      expect([adapter.counters.duplicateOrder, adapter.counters.levelMismatch, adapter.isStale(book.stockLocate), adapter.orders.size]).to.deep.equal([1, 0, true, 1]);
      expect([book.asks.count, book.bestAskPrice, book.asks.sharesAt(0)]).to.deep.equal([1, 6700000, 3]);
      expect(seen.slice(-1)[0].split(' ')[0]).to.equal('STATUS');
    }
  });

  it('X-OLR deletes and changes (reduceOrderEntry, one call from the entry loop): size in place, a price move, size 0 as a delete, an unknown order and an unknown action counted', () => {
    for (const recordReaders of [true, false]) {
      const session = olrSession(recordReaders, (e) => (e.kind === kBookEventQuote ? `QUOTE ${e.bidPrice} ${e.bidShares}` : [kBookEventNames[e.kind], e.orderReferenceNumber, e.previousOrderReferenceNumber, e.side, e.price, e.shares, e.remainingShares].join(' ')));
      const { seen, adapter } = session;
      let seq = 0;
      const send = (entries: FastRecord[]): void => { session.send(++seq, entries); };
      const e = (rpt: number, action: number, id: string, px: number, size: number): FastRecord => ({ MDUpdateAction: action, MDEntryType: '0', MDEntryID: id, Symbol: 'Y', RptSeq: rpt,
        TradingSessionID: 'CETS', MDEntryPx: { mantissa: px, exponent: -2 }, MDEntrySize: { mantissa: size, exponent: 0 } });
      send([e(1, 0, '11', 6500, 10), e(2, 0, '12', 6400, 20), e(3, 0, '13', 6400, 30)]);
      seen.length = 0;
      // Size up in place on the best (QUOTE), size down below it (no QUOTE), a move of the level-below's order to the top, size 0.
      send([e(4, 1, '11', 6500, 15), e(5, 1, '13', 6400, 5), e(6, 1, '12', 6600, 20), e(7, 1, '13', 6400, 0)]);
      expect(seen.splice(0), String(recordReaders)).to.deep.equal([
        'MODIFY_ORDER 11 11 66 6500000 15 15', 'QUOTE 6500000 15',
        'MODIFY_ORDER 13 13 66 6400000 5 5',
        'MODIFY_ORDER 12 12 66 6600000 20 20', 'QUOTE 6600000 20',
        'DELETE_ORDER 13 13 66 6400000 5 0',
      ]);
      const book = adapter.bookOf('CETS', 'Y')!;
      expect(levelsOf(book, true)).to.deep.equal([[6600000, 20, 1], [6500000, 15, 1]]);
      // The moved order holds its new level's hint; the hints find the levels: a delete of each, no mismatch.
      expect(adapter.orders.meta(adapter.orders.find(12)) >>> 24).to.equal(adapter.levels.placedHint).and.to.be.greaterThan(0);
      send([e(8, 2, '12', 0, 0), e(9, 2, '11', 0, 0)]);
      expect(levelsOf(book, true)).to.deep.equal([]);
      const c = adapter.counters;
      expect([c.applied, c.levelMismatch, c.unknownOrder, c.unknownEntryType, adapter.orders.size, adapter.isStale(book.stockLocate)]).to.deep.equal([9, 0, 0, 0, 0, false]);
      // The RptSeq gate (written out in the entry loop): a repeated RptSeq is a duplicate, dropped; a jump is a gap, the book stale.
      send([e(9, 0, '21', 6500, 1), { ...e(1, 0, '31', 6500, 1), Symbol: 'Z' }, { ...e(3, 0, '32', 6500, 1), Symbol: 'Z' }]);
      expect([c.duplicates, c.rptSeqGaps, adapter.orders.size, adapter.isStale(book.stockLocate), adapter.isStale(adapter.bookOf('CETS', 'Z')!.stockLocate)]).to.deep.equal([1, 1, 1, false, true]);
      // An unknown action is counted and leaves the book live; a change of an unknown order is counted and marks it stale.
      send([e(10, 7, '11', 6500, 1)]);
      expect([c.unknownEntryType, adapter.isStale(book.stockLocate)]).to.deep.equal([1, false]);
      send([e(11, 1, '99', 6500, 1)]);
      expect([c.unknownOrder, adapter.isStale(book.stockLocate)]).to.deep.equal([1, true]);
    }
  });

  it('a size change at one price is one level update: up and down, the level keeps one order and the right shares', () => {
    // Every event's line is its shares for a MODIFY and '' otherwise; `mods` keeps the MODIFYs'.
    const { seen, adapter, send } = olrSession(true, (ev) => (ev.kind === kBookEventModifyOrder ? String(ev.shares) : ''));
    const e = (rpt: number, action: number, id: string, size: number): FastRecord => ({ MDUpdateAction: action, MDEntryType: '1', MDEntryID: id, Symbol: 'X', RptSeq: rpt,
      TradingSessionID: 'CETS', MDEntryPx: { mantissa: 65, exponent: 0 }, MDEntrySize: { mantissa: size, exponent: 0 } });
    send(1, [e(1, 0, '1', 10), e(2, 0, '2', 5)]);
    send(2, [e(3, 1, '1', 30)]);
    send(3, [e(4, 1, '1', 7)]);
    const book = adapter.bookOf('CETS', 'X')!;
    const mods = seen.filter((line) => line !== '').map(Number);
    expect(mods).to.deep.equal([30, 7]);
    expect(book.asks.count).to.equal(1);
    expect(book.asks.sharesAt(0)).to.equal(12);
    expect(book.asks.ordersAt(0)).to.equal(2);
    expect(book.bestAskPrice).to.equal(6500000);
    expect(adapter.counters.levelMismatch).to.equal(0);
  });
});
