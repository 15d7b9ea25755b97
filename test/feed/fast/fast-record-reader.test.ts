/**
 * Record readers (fast-record-compiler.ts) on the MOEX incremental refresh: the adapter reading
 * X-OLR straight from the packet must give the same books, events and counters as the general
 * decoder's tape on the same datagrams, generated and mutated; every message the reader refuses
 * must still be counted by the general decoder as before; MDEntryIDs that are not 1-15 digits rest
 * under fallback keys; a price change moves the resting order.
 */
import { expect } from 'chai';
import * as fc from 'fast-check';
import { BookEvent, BookEventHandler, kBookEventAddOrder, kBookEventModifyOrder } from '../../../lib/feed/book/book-event';
import { OrderBook } from '../../../lib/feed/book/order-book';
import { FastDecoder } from '../../../lib/feed/fast/fast-decoder';
import { FastEncoder, type FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { compileFastRecordReader, fastRecordHash, fastRecordKeyWords } from '../../../lib/feed/fast/fast-record-compiler';
import { FastBookAdapter, moexIncrementalReader, sendingTimeNs } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { writeMoexPacket } from '../../../lib/feed/fast/moex/moex-packet';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { fastMessageToObject } from '../../../lib/feed/fast/fast-json';
import { moexTemplates, templates } from './fast-helpers';

class EventLog implements BookEventHandler {
  readonly lines: string[] = [];
  onEvent(e: BookEvent): void {
    this.lines.push(`${e.kind} ${e.stockLocate} ${e.symbol} ${e.timestamp} ${e.sequence} ${e.orderReferenceNumber} ${e.side} ${e.price} ${e.shares} ${e.bidPrice}/${e.askPrice} ${e.tradingState}`);
  }
  endOfBatch(): void { this.lines.push('|'); }
}

function levels(book: OrderBook | undefined): string {
  if (book === undefined) return '-';
  const side = (s: typeof book.bids): string => Array.from({ length: s.count }, (_, r) => `${s.priceAt(r)}x${s.sharesAt(r)}/${s.ordersAt(r)}`).join(',');
  return `${side(book.bids)} | ${side(book.asks)}`;
}

/** One adapter and feed per path over the same datagrams. */
function both(registry: ReturnType<typeof moexTemplates>): { record: { adapter: FastBookAdapter; feed: FastFeedDecoder; log: EventLog }; tape: { adapter: FastBookAdapter; feed: FastFeedDecoder; log: EventLog } } {
  const mk = (recordReaders: boolean): { adapter: FastBookAdapter; feed: FastFeedDecoder; log: EventLog } => {
    const log = new EventLog();
    const adapter = new FastBookAdapter(registry, log, { recordReaders });
    return { adapter, feed: new FastFeedDecoder(registry, adapter, { engine: 'compiled' }), log };
  };
  return { record: mk(true), tape: mk(false) };
}

function expectSame(a: ReturnType<typeof both>, symbols: string[], session: string): void {
  const { record, tape } = a;
  const rc = { ...record.adapter.counters, recordMessages: 0 };
  expect(rc).to.deep.equal({ ...tape.adapter.counters });
  expect(record.feed.counters).to.deep.equal(tape.feed.counters);
  expect(record.feed.decoder.counters).to.deep.equal(tape.feed.decoder.counters);
  expect(record.log.lines.length).to.equal(tape.log.lines.length);
  expect(record.log.lines).to.deep.equal(tape.log.lines);
  for (const s of symbols) expect(levels(record.adapter.bookOf(session, s)), s).to.equal(levels(tape.adapter.bookOf(session, s)));
}

describe('FAST record readers: MOEX incremental refresh straight from the packet', () => {
  const registry = moexTemplates();

  it('X-OLR and X-OBR of both markets get readers; the generated code keeps only the wanted fields', () => {
    const adapter = new FastBookAdapter(registry, new EventLog());
    const names = adapter.recordTemplateIds().map((id) => registry.template(id)!.name).sort();
    expect(names).to.include.members(['X-OLR-CURR', 'X-OLR-FOND']);
    expect(names.every((n) => /^X-O[LB]R-/.test(n))).to.equal(true);
    const reader = moexIncrementalReader(registry.templateNamed('X-OLR-CURR'))!;
    // Eight fields of four slots, Symbol and TradingSessionID of six (their exact key words).
    expect(reader.stride).to.equal(36);
    // MDEntryTime, OrigTime, OrderStatus... are skipped: never stored in the record.
    expect(reader.source).to.not.match(/num\[|st\[|aux\[/);
    expect(new FastBookAdapter(registry, new EventLog(), { recordReaders: false }).recordTemplateIds()).to.deep.equal([]);
  });

  for (const [market, entries, seed] of [['CURR', [1, 3], 3], ['FOND', 1, 11], ['CURR', 4, 29]] as const) {
    it(`a generated ${market} session (${JSON.stringify(entries)} entries per message): same books, events and counters as the tape path, and the generator's truth`, () => {
      const gen = new MoexSessionGenerator(registry, { market, instruments: 30, entriesPerMessage: entries as number | [number, number], seed });
      const datagrams = gen.incrementals(3000);
      const paths = both(registry);
      for (const d of datagrams) {
        for (const p of [paths.record, paths.tape]) { p.feed.decodePayload(d, 0, d.length); p.feed.endOfBatch(); }
      }
      expect(paths.record.adapter.counters.recordMessages).to.equal(3000);
      expect(paths.tape.adapter.counters.recordMessages).to.equal(0);
      expect(paths.record.adapter.badReferences()).to.equal(0);
      expectSame(paths, gen.symbols, gen.session);
      // And the generator's own books, level by level.
      for (let i = 0; i < gen.symbols.length; i++) {
        const book = paths.record.adapter.bookOf(gen.session, gen.symbols[i])!;
        let bidShares = 0; let askShares = 0;
        for (const o of gen.books[i].values()) if (o.side === '0') bidShares += o.size; else askShares += o.size;
        let bs = 0; let as = 0;
        for (let r = 0; r < book.bids.count; r++) bs += book.bids.sharesAt(r);
        for (let r = 0; r < book.asks.count; r++) as += book.asks.sharesAt(r);
        expect([bs, as], gen.symbols[i]).to.deep.equal([bidShares, askShares]);
      }
    });
  }

  it('mutated datagrams (bit flips, truncation, extension): the record path counts every error the tape path counts and keeps the same books', () => {
    const gen = new MoexSessionGenerator(registry, { instruments: 8, entriesPerMessage: [1, 3], seed: 99 });
    const datagrams = gen.incrementals(1500);
    let s = 12345;
    const rnd = (n: number): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) % n; };
    const paths = both(registry);
    let mutated = 0;
    for (const original of datagrams) {
      let d = original;
      const roll = rnd(10);
      if (roll < 3) { d = original.slice(); for (let k = 0; k <= rnd(3); k++) d[4 + rnd(d.length - 4)] ^= 1 << rnd(8); mutated++; }
      else if (roll === 3) { d = original.slice(0, 5 + rnd(original.length - 5)); mutated++; }
      else if (roll === 4) { d = new Uint8Array(original.length + 3); d.set(original); d[original.length] = 0x81; mutated++; }
      for (const p of [paths.record, paths.tape]) { p.feed.decodePayload(d, 0, d.length); p.feed.endOfBatch(); }
    }
    expect(mutated).to.be.greaterThan(500);
    const dc = paths.tape.feed.decoder.counters;
    expect(dc.truncated + dc.overflow + dc.unknownTemplate + dc.missingValue + dc.badExponent + dc.pmapOverlong).to.be.greaterThan(0);
    expect(paths.tape.feed.counters.badMessages + paths.tape.feed.counters.trailingBytes).to.be.greaterThan(0);
    expect(paths.record.adapter.counters.recordMessages).to.be.greaterThan(800);
    expectSame(paths, gen.symbols, gen.session);
  });

  it("a message longer than the decoder's maxSequenceLength is left to the decoder, which counts it (tooLong), on the record path too", () => {
    const gen = new MoexSessionGenerator(registry, { instruments: 4, entriesPerMessage: [1, 3], seed: 5 });
    const datagrams = gen.incrementals(200);
    const run = (recordReaders: boolean): { adapter: FastBookAdapter; feed: FastFeedDecoder } => {
      const adapter = new FastBookAdapter(registry, new EventLog(), { recordReaders });
      const feed = new FastFeedDecoder(registry, adapter, { engine: 'compiled', maxSequenceLength: 2 });
      for (const d of datagrams) feed.decodePayload(d, 0, d.length);
      return { adapter, feed };
    };
    const r = run(true); const t = run(false);
    expect(t.feed.decoder.counters.tooLong).to.be.greaterThan(10);
    expect(r.feed.decoder.counters).to.deep.equal(t.feed.decoder.counters);
    expect(r.adapter.counters.recordMessages).to.equal(r.adapter.counters.messages);
    expect({ ...r.adapter.counters, recordMessages: 0 }).to.deep.equal({ ...t.adapter.counters });
  });

  describe('MDEntryID keys', () => {
    const encoder = new FastEncoder(registry);
    const entry = (rpt: number, action: number, id: string, px: number, size: number): FastRecord => ({
      MDUpdateAction: action, MDEntryType: '0', MDEntryID: id, Symbol: 'USD000UTSTOM', RptSeq: rpt,
      MDEntryPx: { mantissa: px, exponent: -4 }, MDEntrySize: { mantissa: size, exponent: 0 }, TradingSessionID: 'CETS',
    });
    const run = (entries: FastRecord[][], recordReaders: boolean): { adapter: FastBookAdapter; log: EventLog } => {
      const log = new EventLog();
      const adapter = new FastBookAdapter(registry, log, { recordReaders });
      const feed = new FastFeedDecoder(registry, adapter);
      entries.forEach((es, k) => {
        encoder.resetDictionaries();
        const message = encoder.encode('X-OLR-CURR', { MsgSeqNum: k + 1, SendingTime: 20170301100000000n + BigInt(k), GroupMDEntries: es });
        const datagram = new Uint8Array(4 + message.length);
        writeMoexPacket(datagram, 0, k + 1, message);
        feed.decodePayload(datagram, 0, datagram.length);
      });
      return { adapter, log };
    };

    for (const recordReaders of [true, false]) {
      it(`ids that are not 1-15 digits (letters, 20 digits: above 2^53) rest under fallback keys, counted; the book stays right (${recordReaders ? 'record reader' : 'tape'})`, () => {
        const { adapter } = run([
          [entry(1, 0, 'A12', 650000, 100), entry(2, 0, '12345678901234567890', 650000, 50), entry(3, 0, '999999999999999', 649975, 7)],
          [entry(4, 1, 'A12', 650000, 60)],
          [entry(5, 1, '12345678901234567890', 650025, 50)],
        ], recordReaders);
        if (recordReaders) expect(adapter.counters.recordMessages).to.equal(3);
        const c = adapter.counters;
        expect([c.orderIdFallbacks, c.badOrderId, c.unknownOrder, c.duplicateOrder, adapter.fallbackIdCount]).to.deep.equal([2, 0, 0, 0, 2]);
        expect(adapter.isStale(1)).to.equal(false);
        expect(levels(adapter.bookOf('CETS', 'USD000UTSTOM'))).to.equal('6500250x50/1,6500000x60/1,6499750x7/1 | ');
        const after = run([
          [entry(1, 0, 'A12', 650000, 100), entry(2, 0, '12345678901234567890', 650000, 50)],
          [entry(3, 2, 'A12', 650000, 0), entry(4, 2, '12345678901234567890', 650000, 0)],
          // A delete naming an id never added: unknown, the book goes stale.
          [entry(5, 2, 'B77', 650000, 0)],
        ], recordReaders).adapter;
        expect([after.counters.orderIdFallbacks, after.fallbackIdCount, after.counters.unknownOrder, after.isStale(1)]).to.deep.equal([2, 0, 1, true]);
        expect(after.orders.size).to.equal(0);
      });
    }

    it('event timestamps are SendingTime as ns since midnight across second, minute, hour and 2^32 boundaries, repeated and going back (both paths)', () => {
      const times = [20170301095959990n, 20170301095959999n, 20170301100000000n, 20170301100000001n, 20170301100059999n, 20170301100100000n,
        20170301100100000n, 20170301100059000n, 20170301235959999n, 20170302000000000n, 20170302000000007n, 20170301101500123n, 20170301101501000n,
        // Seconds 60-99 (no real minute has them, perf:fast's generator sends them): the minute's
        // fast path covers SSsss 00000-99999, then the next HHMM.
        20170301101559999n, 20170301101560000n, 20170301101599999n, 20170301101600000n, 20170301101660007n, 20170301101699999n, 20170301101700000n];
      // A value whose low 32 bits wrap within a minute: 2^32 * k + 4294967290 and the next ones.
      const wrapBase = (20170301101500000n >> 32n) << 32n;
      for (const lo of [4294967290n, 4294967295n]) times.push(wrapBase + lo);
      times.push(wrapBase + (1n << 32n) + 3n);
      for (const recordReaders of [true, false]) {
        const log = new EventLog();
        const adapter = new FastBookAdapter(registry, log, { recordReaders });
        const feed = new FastFeedDecoder(registry, adapter);
        times.forEach((t, k) => {
          encoder.resetDictionaries();
          const message = encoder.encode('X-OLR-CURR', { MsgSeqNum: k + 1, SendingTime: t, GroupMDEntries: [entry(k + 1, 0, String(5000 + k), 650000, 1)] });
          const datagram = new Uint8Array(4 + message.length);
          writeMoexPacket(datagram, 0, k + 1, message);
          feed.decodePayload(datagram, 0, datagram.length);
        });
        const got = log.lines.filter((l) => l.startsWith(`${kBookEventAddOrder} `)).map((l) => Number(l.split(' ')[3]));
        const want = times.map((t) => sendingTimeNs(Number(t >> 32n), Number(t & 0xffffffffn)));
        expect(got, recordReaders ? 'record' : 'tape').to.deep.equal(want);
        // And by hand for a few: 09:59:59.990, 10:00:00.000, 10:01:00.000, 23:59:59.999, 10:15:60.000 (10:16:00), 10:16:99.999.
        expect([got[0], got[2], got[5], got[8], got[14], got[18]]).to.deep.equal([35999e9 + 990e6, 36000e9, 36060e9, 86399999e6, 36960e9, 37059999e6]);
      }
    });

    it('a price change moves the resting order: one MODIFY at the new price, the old level gone, the order still found by its id', () => {
      const { adapter, log } = run([
        [entry(1, 0, '1000001', 650000, 100), entry(2, 0, '1000002', 650000, 40)],
        [entry(3, 1, '1000001', 649950, 100)],
        [entry(4, 2, '1000001', 0, 0)],
      ], true);
      expect(adapter.counters.recordMessages).to.equal(3);
      const modify = log.lines.filter((l) => l.startsWith(`${kBookEventModifyOrder} `));
      expect(modify).to.have.length(1);
      expect(modify[0].split(' ').slice(5, 9)).to.deep.equal(['1000001', '66', '6499500', '100']);
      expect(adapter.counters.unknownOrder).to.equal(0);
      expect(adapter.orders.size).to.equal(1);
      expect(levels(adapter.bookOf('CETS', 'USD000UTSTOM'))).to.equal('6500000x40/1 | ');
    });
  });

  /**
   * decodeMessage tries the reader of the last message first and peeks the template id only when it
   * refuses: order-list (X-OLR) and level (X-OBR) messages interleaved on one adapter, in runs of
   * one to three, must all be read from the packet, each applied as its own kind (orders vs
   * levels), with the books and events of the tape path. Fails if a switch is missed (fewer record
   * messages) or the kind of the previous reader is kept (other books).
   */
  it('X-OLR and X-OBR interleaved on one adapter: every message read by its own reader, the same books as the tape path', () => {
    const registry = moexTemplates('moex-asts-fix50sp2-2015-apr.xml'); // the 2015 set has both
    const encoder = new FastEncoder(registry);
    const orders = (rpt: number, action: number, id: number, px: number, size: number): FastRecord => ({
      MDUpdateAction: action, MDEntryType: id % 2 === 0 ? '0' : '1', MDEntryID: String(id), Symbol: 'USD000UTSTOM', RptSeq: rpt,
      MDEntryPx: { mantissa: px, exponent: -4 }, MDEntrySize: { mantissa: size, exponent: 0 }, TradingSessionID: 'CETS',
    });
    const level = (rpt: number, action: number, side: string, px: number, size: number): FastRecord => ({
      MDUpdateAction: action, MDEntryType: side, Symbol: 'EUR_RUB__TOM', RptSeq: rpt,
      MDEntryPx: { mantissa: px, exponent: -4 }, MDEntrySize: { mantissa: size, exponent: 0 }, TradingSessionID: 'CETS',
    });
    const messages: [string, FastRecord[]][] = [];
    let orderRpt = 0; let levelRpt = 0; let nextId = 1000;
    const live: number[] = [];
    let s = 7;
    const rnd = (n: number): number => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s % n; };
    for (let run = 0; messages.length < 200; run++) {
      const olr = run % 2 === 0;
      for (let k = 1 + rnd(3); k > 0; k--) {
        if (olr) {
          const del = live.length > 4 && rnd(3) === 0;
          const id = del ? live.splice(rnd(live.length), 1)[0] : nextId++;
          if (!del) live.push(id);
          messages.push(['X-OLR-CURR', [orders(++orderRpt, del ? 2 : 0, id, 650000 + 25 * rnd(8) * (id % 2 === 0 ? -1 : 1), 1 + rnd(50))]]);
        } else {
          messages.push(['X-OBR-CURR', [level(++levelRpt, rnd(2), rnd(2) === 0 ? '0' : '1', 900000 + 25 * rnd(6), 1 + rnd(90))]]);
        }
      }
    }
    const paths = both(registry);
    messages.forEach(([name, entries], k) => {
      encoder.resetDictionaries();
      const message = encoder.encode(name, { MsgSeqNum: k + 1, SendingTime: 20170301100000000n + BigInt(k), GroupMDEntries: entries });
      const datagram = new Uint8Array(4 + message.length);
      writeMoexPacket(datagram, 0, k + 1, message);
      for (const p of [paths.record, paths.tape]) { p.feed.decodePayload(datagram, 0, datagram.length); p.feed.endOfBatch(); }
    });
    expect(paths.record.adapter.counters.recordMessages).to.equal(messages.length);
    expect(paths.record.adapter.badReferences()).to.equal(0);
    expect(levels(paths.record.adapter.bookOf('CETS', 'EUR_RUB__TOM'))).to.not.equal('-');
    expect(paths.record.adapter.bookOf('CETS', 'USD000UTSTOM')!.bids.count + paths.record.adapter.bookOf('CETS', 'USD000UTSTOM')!.asks.count).to.be.greaterThan(0);
    expectSame(paths, ['USD000UTSTOM', 'EUR_RUB__TOM'], 'CETS');
  });

  /**
   * Exact instrument keys (Symbol and TradingSessionID read with want 'key', resolved by
   * MoexInstrumentTable.resolveKey): symbols of 1-20 characters (exact up to 12, the hash path past
   * them), names one character apart at every position and pairs with the same fastRecordHash, on
   * sessions of one word, one character and five (not exact: the hash path), several entries a
   * message so copied Symbols and sessions come from the reader's dictionary. Fails if two keys
   * merge (a word, a length or the session left out of the compare), one key splits (a copied key
   * word lost), or the record path's books differ from the tape path's.
   */
  for (const session of ['CETS', 'C', 'TQBR1']) {
    it(`exact keys: symbols of 1-20 characters, one apart at every position, same-hash twins, session ${session}: the tape path's books and instruments`, () => {
      const gen = new MoexSessionGenerator(registry, { instruments: 64, entriesPerMessage: [1, 4], seed: 41, tradingSessionId: session });
      const names = new Set<string>();
      const base = 'ABCDEFGHIJKLMNOPQRST';
      for (let len = 1; len <= 20; len++) names.add(base.slice(0, len));
      for (const i of [0, 3, 4, 7, 8, 11]) names.add(base.slice(0, i) + 'Z' + base.slice(i + 1, 12));
      // Same fastRecordHash and length as the 12-character name (bit 0 of one byte, bit 5 of the next).
      for (const i of [0, 5, 10]) names.add(base.slice(0, i) + String.fromCharCode(base.charCodeAt(i) ^ 1, base.charCodeAt(i + 1) ^ 32) + base.slice(i + 2, 12));
      names.add('USD000UTSTOM'); names.add('USD000UTSTOMX'); names.add('SYM001TOM'); names.add('SYM010TOM');
      const symbols = [...names];
      expect(symbols.length).to.be.at.most(64);
      const gs = gen.symbols as string[];
      symbols.forEach((y, i) => { gs[i] = y; });
      gs.length = symbols.length;
      const datagrams = gen.incrementals(4000);
      const paths = both(registry);
      for (const d of datagrams) {
        for (const p of [paths.record, paths.tape]) { p.feed.decodePayload(d, 0, d.length); p.feed.endOfBatch(); }
      }
      expect(paths.record.adapter.counters.recordMessages).to.equal(4000);
      expect(paths.record.adapter.badReferences()).to.equal(0);
      expect(paths.record.adapter.instruments.count).to.equal(symbols.length);
      for (const y of symbols) {
        const locate = paths.record.adapter.instruments.locateOf(session, y);
        expect(locate, y).to.be.greaterThan(0);
        expect(paths.record.adapter.book(locate), y).to.not.equal(undefined);
      }
      expectSame(paths, symbols, session);
    });
  }

  /**
   * An entry whose Symbol and TradingSessionID are both copied takes the previous entry's locate
   * without a look-up. Messages of up to six entries over two symbols and two sessions, in every
   * order, so the encoder leaves out the Symbol, the session, both or neither: the same books and
   * instruments as the tape path. Fails if a copied Symbol with a changed session (or the reverse)
   * reused the locate, or the previous locate were another entry's.
   */
  it('a copied Symbol and TradingSessionID reuse the previous entry\'s locate; one of them changed resolves again: the tape path\'s books', () => {
    const keys: [string, string][] = [['CETS', 'USD000UTSTOM'], ['CETS', 'EUR000UTSTOM'], ['TQBR', 'USD000UTSTOM'], ['TQBR', 'EUR000UTSTOM']];
    const enc = new FastEncoder(registry);
    const paths = both(registry);
    const rpt = new Map<string, number>();
    let id = 5000; let seq = 0; let s = 7;
    const rnd = (n: number): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) % n; };
    for (let m = 0; m < 600; m++) {
      const entries: FastRecord[] = [];
      for (let k = 0, n = 1 + rnd(6); k < n; k++) {
        const [session, symbol] = keys[rnd(4)];
        const name = `${session}:${symbol}`;
        const r = (rpt.get(name) ?? 0) + 1; rpt.set(name, r);
        entries.push({ MDUpdateAction: 0, MDEntryType: rnd(2) === 0 ? '0' : '1', MDEntryID: String(id++), Symbol: symbol, TradingSessionID: session, RptSeq: r,
          MDEntryPx: { mantissa: 600000 + rnd(50) * 25, exponent: -5 }, MDEntrySize: { mantissa: 1 + rnd(9), exponent: 0 } });
      }
      enc.resetDictionaries();
      const msg = enc.encode('X-OLR-CURR', { MsgSeqNum: ++seq, SendingTime: 20170301101500000n + BigInt(seq), GroupMDEntries: entries });
      const d = new Uint8Array(4 + msg.length);
      writeMoexPacket(d, 0, seq, msg);
      for (const p of [paths.record, paths.tape]) { p.feed.decodePayload(d, 0, d.length); p.feed.endOfBatch(); }
    }
    expect(paths.record.adapter.counters.recordMessages).to.equal(600);
    expect(paths.record.adapter.instruments.count).to.equal(4);
    expect(paths.record.adapter.badReferences()).to.equal(0);
    for (const session of ['CETS', 'TQBR']) expectSame(paths, ['USD000UTSTOM', 'EUR000UTSTOM'], session);
  });

  describe('the record compiler', () => {
    /**
     * want 'key': the exact key words of fastRecordKeyWords for 1-12 characters, k0 -1 for a longer
     * string, a preamble ("\0", nullable 00 00 80) or an empty one; an absent copy field keeps the previous element's words
     * and is marked copied (state 2);
     * every cut of the message is refused. Fails if a word is packed differently from
     * fastRecordKeyWords, the 13th character is taken as exact, or the copy loses a word.
     */
    it("want 'key': exact key words of 1-12 characters, -1 past 12, for a preamble and empty; copied words kept; every cut refused", () => {
      const reg = templates(['k', 5, '<sequence name="S"><length name="N"/><string name="Y" presence="optional"><copy/></string><uInt32 name="Q"/></sequence>']);
      const enc = new FastEncoder(reg);
      const reader = compileFastRecordReader(reg.templateNamed('k'), {}, { Y: 'key', Q: 'value' })!;
      expect(reader.stride).to.equal(10);
      const texts = ['A', 'AB', 'ABCD', 'ABCDE', 'ABCDEFGH', 'ABCDEFGHI', 'ABCDEFGHIJKL', 'ABCDEFGHIJKLM', 'ABCDEFGHIJKLMNOPQRSTU', '\u0000', ''];
      const elements: FastRecord[] = [];
      // Each text twice: the second time equal to the dictionary's, so the encoder leaves it out (copied).
      for (const t of texts) elements.push({ Y: t, Q: 1 }, { Y: t, Q: 2 });
      const bytes = enc.encode('k', { S: elements });
      const r = new Float64Array(reader.headerSize + 64 * reader.stride);
      expect(reader.fn(bytes, 0, bytes.length, r, 64)).to.equal(bytes.length);
      expect(r[0]).to.equal(elements.length);
      const y = reader.element.get('Y')!;
      const el = (i: number, k: number): number => r[reader.headerSize + i * reader.stride + y + k];
      const want = new Int32Array(3);
      texts.forEach((t, j) => {
        for (const i of [2 * j, 2 * j + 1]) {
          expect(el(i, 0), `${JSON.stringify(t)} present (1), copied (2)`).to.equal(i % 2 === 0 ? 1 : 2);
          expect(el(i, 2), `${JSON.stringify(t)} length`).to.equal(t.length);
          const ascii = Uint8Array.from(t, (ch) => ch.charCodeAt(0));
          if (t.length >= 1 && t.length <= 12 && t.charCodeAt(0) !== 0) {
            expect(fastRecordKeyWords(ascii, 0, t.length, want, 0)).to.equal(true);
            expect([el(i, 3), el(i, 4), el(i, 5)], `${JSON.stringify(t)} element ${i}`).to.deep.equal(Array.from(want));
          } else {
            expect(el(i, 3), `${JSON.stringify(t)} element ${i}: no exact key`).to.equal(-1);
          }
        }
      });
      // 'ABCDEFGHIJKL' and 'ABCDEFGHIJKM' in other words: the last word differs, the others do not.
      const a = new Int32Array(3); const b = new Int32Array(3);
      fastRecordKeyWords(Uint8Array.from('ABCDEFGHIJKL', (ch) => ch.charCodeAt(0)), 0, 12, a, 0);
      fastRecordKeyWords(Uint8Array.from('ABCDEFGHIJKM', (ch) => ch.charCodeAt(0)), 0, 12, b, 0);
      expect([a[0] === b[0], a[1] === b[1], a[2] === b[2]]).to.deep.equal([true, true, false]);
      for (let cut = 0; cut < bytes.length; cut++) expect(reader.fn(bytes, 0, cut, r, 64), `cut ${cut}`).to.equal(-1);
    });

    /**
     * want 'digits' reads two digits a step, the first eight in an int32 and the rest in a double:
     * every length 1-17, odd and even, a non-digit at every position (the first and second of a
     * pair, the last), the values around the int32 and 15-digit edges. Fails if a pair's order, the
     * split at eight digits, the scale of the rest or the odd last digit is wrong, or a non-digit
     * in either half of a pair is missed.
     */
    it("want 'digits': two digits a step, every length 1-17, a non-digit at every position, against Number()", () => {
      const reg = templates(['d', 6, '<sequence name="S"><length name="N"/><string name="X" presence="optional"/></sequence>']);
      const reader = compileFastRecordReader(reg.templateNamed('d'), {}, { X: 'digits' })!;
      const texts: string[] = [];
      const digits = '31415926535897932';
      for (let len = 1; len <= 17; len++) {
        texts.push(digits.slice(0, len), '9'.repeat(len), '1' + '0'.repeat(len - 1));
        for (let i = 0; i < len; i++) for (const bad of ['/', ':', 'A']) texts.push(digits.slice(0, i) + bad + digits.slice(i + 1, len));
      }
      texts.push('2147483647', '2147483648', '999999999', '1000000000', '999999999999999', '1000000000000000', '000000012');
      const r = new Float64Array(reader.headerSize + 64 * reader.stride);
      const x = reader.element.get('X')!;
      for (let at = 0; at < texts.length; at += 50) {
        const part = texts.slice(at, at + 50);
        const bytes = new FastEncoder(reg).encode('d', { S: part.map((t) => ({ X: t })) });
        expect(reader.fn(bytes, 0, bytes.length, r, 64)).to.equal(bytes.length);
        part.forEach((t, i) => {
          const want = /^[0-9]{1,15}$/.test(t) ? Number(t) : -1;
          expect(r[reader.headerSize + i * reader.stride + x + 3], JSON.stringify(t)).to.equal(want);
        });
      }
    });

    it('declines templates with operators it does not implement, so they keep the general decoder', () => {
      const reg = templates(
        ['inc', 1, '<uInt32 name="A"><increment/></uInt32><sequence name="S"><length name="N"/><uInt32 name="X"/></sequence>'],
        ['tail', 2, '<string name="T"><tail/></string>'],
        ['plain', 3, '<uInt32 name="A"/><sequence name="S"><length name="N"/><string name="X"><copy/></string><decimal name="P" presence="optional"/></sequence>'],
      );
      expect(compileFastRecordReader(reg.templateNamed('inc'), {}, { X: 'value' })).to.equal(undefined);
      expect(compileFastRecordReader(reg.templateNamed('tail'), {}, {})).to.equal(undefined);
      expect(compileFastRecordReader(reg.templateNamed('plain'), { A: 'value' }, { X: 'digits', P: 'value' })).to.not.equal(undefined);
    });

    it('reads digits and hashes in the stop-bit pass and refuses a truncated message, another template, too many elements', () => {
      const reg = templates(['plain', 3, '<uInt32 name="A"/><sequence name="S"><length name="N"/><string name="X"><copy/></string><string name="Y" presence="optional"/></sequence>']);
      const enc = new FastEncoder(reg);
      const bytes = enc.encode('plain', { A: 7, S: [{ X: '0123456789', Y: 'AB' }, { X: '0123456789', Y: 'x1' }, { X: '12a', Y: '' }] });
      const reader = compileFastRecordReader(reg.templateNamed('plain'), { A: 'value' }, { X: 'digits', Y: 'hash' })!;
      const r = new Float64Array(reader.headerSize + 8 * reader.stride);
      expect(reader.fn(bytes, 0, bytes.length, r, 8)).to.equal(bytes.length);
      const a = reader.header.get('A')!;
      expect([r[0], r[a], r[a + 1]]).to.deep.equal([3, 1, 7]);
      const x = reader.element.get('X')!; const y = reader.element.get('Y')!;
      const el = (i: number, k: number): number => r[reader.headerSize + i * reader.stride + k];
      expect([el(0, x), el(0, x + 3), el(1, x + 3), el(2, x + 3)]).to.deep.equal([1, 123456789, 123456789, -1]);
      const ascii = (t: string): Uint8Array => Uint8Array.from(t, (ch) => ch.charCodeAt(0));
      expect(el(0, y + 3)).to.equal(fastRecordHash(ascii('AB'), 0, 2, 0x7f));
      expect(el(1, y + 3)).to.equal(fastRecordHash(ascii('x1'), 0, 2, 0x7f));
      expect([el(2, y), el(2, y + 2), el(2, y + 3)]).to.deep.equal([1, 0, 0]);
      for (let cut = 1; cut < bytes.length; cut++) expect(reader.fn(bytes, 0, cut, r, 8), `cut ${cut}`).to.equal(-1);
      expect(reader.fn(bytes, 0, bytes.length, r, 2)).to.equal(-1);
      const other = templates(['plain', 4, '<uInt32 name="A"/>']);
      const wrongId = new FastEncoder(other).encode('plain', { A: 7 });
      expect(reader.fn(wrongId, 0, wrongId.length, r, 8)).to.equal(-1);
    });

    /**
     * A reader checks the message end once per field, before the field's first byte, not per byte:
     * it first moves the end back to just after the last byte with a stop bit. Over real X-OLR
     * messages (1-3 entries) cut at every byte, with the rest of the message and the next one still
     * in the buffer past the end: every cut is refused (a reader that read one byte past the end,
     * or trusted a byte after it, would accept the longer message there), the whole message is read
     * to its last byte, and trailing bytes with or without stop bits after it change nothing but
     * the position returned being before them. Fails if a field start loses its check or the end is
     * moved back past a stop bit.
     */
    it('X-OLR cut at every byte with the rest still in the buffer is refused; trailing bytes leave the message as it was', () => {
      const reader = moexIncrementalReader(registry.templateNamed('X-OLR-CURR'))!;
      const gen = new MoexSessionGenerator(registry, { instruments: 6, entriesPerMessage: [1, 3], seed: 77 });
      const datagrams = gen.incrementals(60);
      const r = new Float64Array(reader.headerSize + 64 * reader.stride);
      const r2 = new Float64Array(r.length);
      let cuts = 0;
      for (let k = 0; k + 1 < datagrams.length; k++) {
        // This message followed by the next whole datagram: bytes with stop bits right after every cut.
        const msg = datagrams[k].subarray(4);
        const buf = new Uint8Array(msg.length + datagrams[k + 1].length);
        buf.set(msg); buf.set(datagrams[k + 1], msg.length);
        expect(reader.fn(buf, 0, msg.length, r, 64), `message ${k}`).to.equal(msg.length);
        for (let cut = 0; cut < msg.length; cut++) { expect(reader.fn(buf, 0, cut, r2, 64), `message ${k} cut at ${cut}`).to.equal(-1); cuts++; }
        // Trailing bytes inside the end: without stop bits (moved back over) and with one.
        for (const tail of [[0x00], [0x01, 0x7f], [0x85], [0x00, 0x81]]) {
          const t = new Uint8Array(msg.length + tail.length); t.set(msg); t.set(tail, msg.length);
          r2.fill(0);
          expect(reader.fn(t, 0, t.length, r2, 64), `message ${k} + ${JSON.stringify(tail)}`).to.equal(msg.length);
          expect(Array.from(r2.subarray(0, reader.headerSize + r[0] * reader.stride))).to.deep.equal(Array.from(r.subarray(0, reader.headerSize + r[0] * reader.stride)));
        }
        // At an offset inside a larger buffer, with a stop-bit-free byte before the start.
        const shifted = new Uint8Array(buf.length + 3); shifted.set(buf, 3);
        expect(reader.fn(shifted, 3, 3 + msg.length, r2, 64)).to.equal(3 + msg.length);
        expect(reader.fn(shifted, 3, 3, r2, 64)).to.equal(-1);
        expect(reader.fn(shifted, 3, 2, r2, 64)).to.equal(-1);
      }
      expect(cuts).to.be.greaterThan(59 * 40);
    });

    /**
     * uInt64 halves (SendingTime) are built in 32-bit integer arithmetic, and integers nobody reads
     * are still range-checked: at every width and at the 2^32, 2^53 and 2^64 edges, and over long
     * zero-padded encodings, the reader must give the exact halves when it accepts, and refuse (-1,
     * the general decoder's turn) whatever the general decoder refuses. Fails if an overflow is
     * missed or a half is off.
     */
    it('uInt64 halves and skipped 32-bit integers at their range edges agree with the general decoder', () => {
      const reg = templates(['edges', 9, '<uInt64 name="T"/><uInt64 name="O" presence="optional"/><uInt32 name="U"/><int32 name="I"/>'
        + '<uInt32 name="Q" presence="optional"/><sequence name="S"><length name="N"/><uInt32 name="X"/></sequence>']);
      const reader = compileFastRecordReader(reg.templateNamed('edges'), { T: 'value', O: 'value' }, { X: 'value' })!;
      expect(reader).to.not.equal(undefined);
      const decoder = new FastDecoder(reg, { engine: 'compiled' });
      const r = new Float64Array(reader.headerSize + 4 * reader.stride);
      /** Unsigned stop-bit bytes of v, with `pad` leading zero bytes (an overlong but valid encoding). */
      const unsigned = (v: bigint, pad = 0): number[] => {
        const out: number[] = [];
        do { out.unshift(Number(v & 127n)); v >>= 7n; } while (v > 0n);
        for (let i = 0; i < pad; i++) out.unshift(0);
        out[out.length - 1] |= 0x80;
        return out;
      };
      const signed = (v: bigint): number[] => {
        const out: number[] = [];
        for (;;) {
          out.unshift(Number(v & 127n));
          const rest = v >> 7n;
          if ((rest === 0n && (out[0] & 64) === 0) || (rest === -1n && (out[0] & 64) !== 0)) break;
          v = rest;
        }
        out[out.length - 1] |= 0x80;
        return out;
      };
      const message = (t: number[], o: number[], u: number[], i: number[], q: number[]): Uint8Array =>
        Uint8Array.from([0xc0, 0x89, ...t, ...o, ...u, ...i, ...q, 0x81, 0x85]);
      const two64 = 1n << 64n;
      const t64 = [0n, 1n, 127n, 128n, (1n << 32n) - 1n, 1n << 32n, (1n << 46n) - 1n, 1n << 46n, (1n << 53n) + 1n, 20170301101500123n, (1n << 63n) + 12345n, two64 - 1n, two64, two64 + 5n, 1n << 70n];
      let accepted = 0;
      const check = (bytes: Uint8Array, t: bigint, label: string): void => {
        const got = reader.fn(bytes, 0, bytes.length, r, 4);
        const general = decoder.decode(bytes, 0, bytes.length);
        if (got < 0) {
          // Refused: only what the reader does not read exactly; a value under 2^64 in T must be read.
          if (t < two64 && general >= 0) expect.fail(`${label}: refused a message the general decoder reads`);
          return;
        }
        expect(general, `${label}: the general decoder refuses what the reader accepted`).to.be.at.least(0);
        expect(got, label).to.equal(bytes.length);
        const k = reader.header.get('T')!;
        expect([r[k], r[k + 1], r[k + 2]], label).to.deep.equal([1, Number(t >> 32n), Number(t & 0xffffffffn)]);
        accepted++;
      };
      for (const t of t64) {
        for (const pad of [0, 3]) {
          const tb = unsigned(t, pad);
          if (tb.length > 10 + pad) continue;
          check(message(tb, [0x80], unsigned(5n), signed(-5n), [0x80]), t, `T ${t} pad ${pad}`);
        }
        // O, optional: v + 1 on the wire; absent is 0x80.
        if (t < two64 - 1n) {
          const o = reader.header.get('O')!;
          const bytes = message(unsigned(1n), unsigned(t + 1n), unsigned(5n), signed(-5n), [0x80]);
          if (reader.fn(bytes, 0, bytes.length, r, 4) >= 0) expect([r[o], r[o + 1], r[o + 2]], `O ${t}`).to.deep.equal([1, Number(t >> 32n), Number(t & 0xffffffffn)]);
          else expect(t >= two64 - 2n, `O ${t} refused`).to.equal(true);
        }
      }
      // The skipped fields: uInt32 U, int32 I, optional uInt32 Q at 1-5 bytes, their edges and past them, and zero-padded.
      const us = [0n, 127n, (1n << 28n) - 1n, 1n << 28n, (1n << 32n) - 1n, 1n << 32n, 1n << 35n];
      const is = [0n, -1n, 63n, -64n, (1n << 27n) - 1n, -(1n << 27n), 1n << 27n, (1n << 31n) - 1n, -(1n << 31n), 1n << 31n, -(1n << 31n) - 1n];
      for (const u of us) for (const pad of [0, 5]) check(message(unsigned(7n), [0x80], unsigned(u, pad), signed(0n), unsigned(u, pad)), 7n, `U/Q ${u} pad ${pad}`);
      for (const i of is) check(message(unsigned(7n), [0x80], unsigned(1n), signed(i), [0x80]), 7n, `I ${i}`);
      // The read element field X (uInt32): its value when accepted, refused past 2^32 - 1, zero-padded too.
      const xAt = reader.headerSize + reader.element.get('X')!;
      for (const x of us) {
        for (const pad of [0, 5]) {
          const bytes = Uint8Array.from([0xc0, 0x89, ...unsigned(7n), 0x80, ...unsigned(1n), ...signed(0n), 0x80, 0x81, ...unsigned(x, pad)]);
          check(bytes, 7n, `X ${x} pad ${pad}`);
          const got = reader.fn(bytes, 0, bytes.length, r, 4);
          if (x > 0xffffffffn) expect(got, `X ${x} pad ${pad}`).to.equal(-1);
          else { expect(got, `X ${x} pad ${pad}`).to.equal(bytes.length); expect(r[xAt + 1]).to.equal(Number(x)); }
        }
      }
      expect(accepted).to.be.greaterThan(20);
    });

    /**
     * Fields nobody reads are skipped (integers by their stop bits alone, strings by a scan), but a
     * skipped field's dictionary entry stays kept when a read field shares it (key="K": Hidden's value
     * is what Shown copies) or when it is mandatory (a copy with no previous value is an error).
     * Random elements, each field present, absent or null, encoded by the encoder with its own
     * dictionaries, then decoded by the reader and by the general decoder: every read field must
     * match, and the reader must accept exactly what the general decoder accepts (messages cut
     * short, a missing mandatory copy, included). Fails if a skip drops state a later field reads,
     * or accepts what the general decoder refuses.
     */
    it('skipped fields keep the dictionary state read fields need, against the general decoder (fast-check)', () => {
      const reg = templates(['skips', 11, '<uInt32 name="Seq"/><string name="Text" presence="optional"/><sequence name="E"><length name="N"/>'
        + '<uInt32 name="Hidden" presence="optional"><copy key="K"/></uInt32>'
        + '<string name="Note" presence="optional"><copy/></string>'
        + '<uInt32 name="Must"><copy/></uInt32>'
        + '<int32 name="Skip" presence="optional"/>'
        + '<int64 name="Wide" presence="optional"><default/></int64>'
        + '<uInt32 name="Shown" presence="optional"><copy key="K"/></uInt32>'
        + '<uInt32 name="Want"><copy/></uInt32>'
        + '</sequence>']);
      const reader = compileFastRecordReader(reg.templateNamed('skips'), {}, { Shown: 'value', Want: 'value' })!;
      expect(reader).to.not.equal(undefined);
      // Hidden, Note, Seq, Skip and Wide are skipped; Must keeps its entry (mandatory); K is Shown's.
      expect(reader.source).to.match(/dS\d+ = 1; dV\d+ = v;/);
      const decoder = new FastDecoder(reg, { engine: 'compiled' });
      const r = new Float64Array(reader.headerSize + 8 * reader.stride);
      const shown = reader.element.get('Shown')!; const want = reader.element.get('Want')!;
      const u32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 0xffffffff }));
      const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof(fc.constant(undefined), a);
      const element = fc.record({
        Hidden: maybe(u32), Note: maybe(fc.string({ maxLength: 6 })), Must: u32, Skip: maybe(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
        Wide: maybe(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constant(2 ** 40), fc.constant(-(2 ** 50)))), Shown: maybe(u32), Want: u32,
      });
      let accepted = 0; let refused = 0;
      fc.assert(fc.property(fc.array(element, { minLength: 1, maxLength: 5 }), u32, fc.nat(), (elements, seq, cut) => {
        const enc = new FastEncoder(reg);
        const clean = elements.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as FastRecord);
        const full = enc.encode('skips', { Seq: seq, E: clean });
        for (const bytes of [full, full.subarray(0, cut % full.length)]) {
          decoder.resetDictionaries();
          const general = decoder.decode(bytes, 0, bytes.length);
          const got = reader.fn(bytes, 0, bytes.length, r, 8);
          if (general < 0) { expect(got, 'the reader accepts what the general decoder refuses').to.equal(-1); refused++; continue; }
          expect(got, 'the reader refuses what the general decoder reads').to.equal(decoder.position);
          const values = fastMessageToObject(decoder);
          const list = values.E as FastRecord[];
          expect(r[0]).to.equal(list.length);
          list.forEach((v, i) => {
            const at = reader.headerSize + i * reader.stride;
            expect(r[at + shown] === 0 ? undefined : r[at + shown + 1], `Shown of ${i}`).to.equal(v.Shown);
            expect(r[at + want + 1], `Want of ${i}`).to.equal(v.Want);
          });
          accepted++;
        }
      }), { numRuns: 400, seed: 20261126 });
      expect(accepted).to.be.greaterThan(300);
      expect(refused).to.be.greaterThan(100);
      // A mandatory copy field nobody reads, absent with no previous value: refused by both.
      const noMust = Uint8Array.from([0xc0, 0x8b, 0x81, 0x80, 0x81, 0x80, 0x80, 0x80]);
      decoder.resetDictionaries();
      expect(decoder.decode(noMust, 0, noMust.length)).to.be.lessThan(0);
      expect(reader.fn(noMust, 0, noMust.length, r, 8)).to.equal(-1);
    });

    /**
     * Presence maps are read into one register when they have at most four bytes (28 bits) and a
     * byte at a time when longer: two templates, 12 and 30 optional copy fields in the element, one
     * of each width. Random presence and values; maps shorter than the template's bits come as sent
     * (the encoder drops empty trailing bytes), and each message is re-sent with its first element's
     * map longer than the template needs (zero bytes before the stop bit). The reader must accept
     * exactly what the general decoder accepts, with the same values, and refuse (-1) the overlong
     * map. Fails if a bit is taken from the wrong position or a map's length is misjudged on either
     * path.
     */
    it('presence maps of one register and of more than four bytes, overlong and short, against the general decoder (fast-check)', () => {
      for (const fields of [12, 30]) {
        const body = Array.from({ length: fields }, (_, k) => `<uInt32 name="F${k}" presence="optional"><copy/></uInt32>`).join('');
        const reg = templates(['maps', 12, `<sequence name="E"><length name="N"/>${body}</sequence>`]);
        const want: Record<string, 'value'> = {};
        for (let k = 0; k < fields; k += 3) want[`F${k}`] = 'value';
        const reader = compileFastRecordReader(reg.templateNamed('maps'), {}, want)!;
        expect(reader.source.includes('pmE = (pmE << 7)'), `${fields} fields: register path`).to.equal(fields <= 28);
        const decoder = new FastDecoder(reg, { engine: 'compiled' });
        const r = new Float64Array(reader.headerSize + 8 * reader.stride);
        let accepted = 0; let overlong = 0; let short = 0;
        fc.assert(fc.property(fc.array(fc.array(fc.option(fc.nat({ max: 300 }), { nil: undefined, freq: 2 }), { minLength: fields, maxLength: fields }), { minLength: 1, maxLength: 3 }), (rows) => {
          const enc = new FastEncoder(reg);
          const bytes = enc.encode('maps', { E: rows.map((row) => Object.fromEntries(row.flatMap((v, k) => (v === undefined ? [] : [[`F${k}`, v]])))) as FastRecord[] });
          // The first element's presence map starts after the template map (1 byte), the id (1) and the length (1).
          const at = 3;
          let end = at; while ((bytes[end] & 0x80) === 0) end++;
          const variants: [string, Uint8Array][] = [['as sent', bytes]];
          // Longer than the template's bits need (zero bytes added, the stop bit on the last): overlong.
          const pad = Math.ceil(fields / 7) + 1 - (end + 1 - at);
          variants.push(['overlong', Uint8Array.from([...bytes.subarray(0, end), bytes[end] & 0x7f, ...Array<number>(pad - 1).fill(0), 0x80, ...bytes.subarray(end + 1)])]);
          for (const [label, b] of variants) {
            decoder.resetDictionaries();
            const general = decoder.decode(b, 0, b.length);
            const got = reader.fn(b, 0, b.length, r, 8);
            if (label === 'overlong') { expect(got, `${fields} fields, overlong map`).to.equal(-1); overlong++; continue; }
            if (general < 0) { expect(got, `${fields} fields, ${label}: accepted what the general decoder refuses`).to.equal(-1); continue; }
            expect(got, `${fields} fields, ${label}`).to.equal(decoder.position);
            const list = fastMessageToObject(decoder).E as FastRecord[];
            list.forEach((v, i) => {
              for (const name of Object.keys(want)) {
                const k = reader.element.get(name)!;
                const at2 = reader.headerSize + i * reader.stride + k;
                expect(r[at2] === 0 ? undefined : r[at2 + 1], `${fields} fields, ${label}, ${name} of ${i}`).to.equal(v[name]);
              }
            });
            accepted++;
            if (end + 1 - at < Math.ceil(fields / 7)) short++;
          }
        }), { numRuns: 300, seed: 20261127 });
        expect(accepted, `${fields} fields`).to.be.at.least(300);
        expect(short, `${fields} fields: short maps read`).to.be.greaterThan(0);
        expect(overlong).to.equal(300);
      }
    });
  });
});
