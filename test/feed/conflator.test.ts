import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BookEvent, kBookEventAddOrder, kBookEventDeleteOrder, kBookEventExecuteOrder, kBookEventModifyOrder, kBookEventQuote, kBookEventStatus, kBookEventTrade,
} from '../../lib/feed/book/book-event';
import { Conflator } from '../../lib/feed/book/conflator';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { Sequencer } from '../../lib/feed/recovery/sequencer';
import { MarketBooks } from '../../lib/pipeline/market-books';
import { SubscriptionMailbox } from '../../lib/pipeline/subscriptions';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { BookRecorder } from './book-recorder';

function quote(locate: number, bid: number, seq: number): BookEvent {
  const e = new BookEvent();
  e.kind = kBookEventQuote; e.stockLocate = locate; e.symbol = `S${locate}`; e.sequence = seq;
  e.bidPrice = bid; e.bidShares = 100; e.askPrice = bid + 100; e.askShares = 200;
  return e;
}
function other(kind: number, locate: number, seq: number): BookEvent {
  const e = new BookEvent();
  e.kind = kind; e.stockLocate = locate; e.sequence = seq;
  return e;
}

describe('Conflator', () => {
  it('keeps only the latest quote per locate until end of batch and counts what it dropped', () => {
    const rec = new BookRecorder();
    const c = new Conflator(rec);
    c.onEvent(quote(1, 10, 1)); c.onEvent(quote(2, 20, 2)); c.onEvent(quote(1, 11, 3)); c.onEvent(quote(1, 12, 4));
    expect(rec.events).to.have.length(0);
    c.endOfBatch();
    expect(rec.events.map((e) => [e.stockLocate, e.bidPrice, e.sequence, e.symbol])).to.deep.equal([[1, 12, 4, 'S1'], [2, 20, 2, 'S2']]);
    expect(rec.batches).to.equal(1);
    expect([c.counters.quotesIn, c.counters.quotesOut, c.counters.conflated]).to.deep.equal([4, 2, 2]);
    c.endOfBatch();
    expect(rec.events).to.have.length(2);
  });

  it('never conflates trades, status or imbalance, and flushes the same locate\'s quote first', () => {
    const rec = new BookRecorder();
    const c = new Conflator(rec);
    c.onEvent(quote(1, 10, 1));
    c.onEvent(quote(2, 20, 2));
    c.onEvent(other(kBookEventTrade, 1, 3));
    c.onEvent(other(kBookEventTrade, 1, 4));
    c.onEvent(quote(1, 13, 5));
    c.onEvent(other(kBookEventStatus, 1, 6));
    c.onEvent(quote(1, 14, 7));
    c.endOfBatch();
    expect(rec.events.map((e) => e.sequence)).to.deep.equal([1, 3, 4, 5, 6, 7, 2]); // flush order = order locates first became pending
    expect(c.counters.passedThrough).to.equal(3);
    expect(c.counters.conflated).to.equal(0);
  });

  it('order events of the same locate leave its pending quote pending, so the next quote replaces it', () => {
    const rec = new BookRecorder();
    const c = new Conflator(rec);
    c.onEvent(quote(1, 10, 1));
    c.onEvent(other(kBookEventAddOrder, 1, 2));
    c.onEvent(quote(1, 11, 3));
    c.onEvent(other(kBookEventDeleteOrder, 1, 4));
    c.onEvent(other(kBookEventModifyOrder, 1, 5));
    c.onEvent(other(kBookEventExecuteOrder, 1, 6));
    c.onEvent(quote(1, 12, 7));
    expect(rec.events.map((e) => e.sequence), 'order events pass at once, the quote waits').to.deep.equal([2, 4, 5, 6]);
    c.endOfBatch();
    expect(rec.events.map((e) => e.sequence)).to.deep.equal([2, 4, 5, 6, 7]);
    expect(c.counters.conflated).to.equal(2);
  });

  it('on a generated ITCH session (every book change an order event) it conflates, and each batch ends with every symbol\'s quote equal to its book\'s BBO', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-conflate-'));
    try {
      const file = path.join(dir, 's.pcap');
      new SessionGenerator({ symbols: 20, rate: 100000, durationSeconds: 0.3, seed: 7 }).writePcap(file);
      const last = new Map<number, BookEvent>();
      let quotesSeen = 0;
      const market = new MarketBooks({
        onEvent(e) { if (e.kind === kBookEventQuote) { quotesSeen++; const q = last.get(e.stockLocate) ?? new BookEvent(); q.copyFrom(e); last.set(e.stockLocate, q); } },
        endOfBatch() {
          // After a flush, the consumer's view of each symbol is the book's own top.
          for (const b of market.books.allBooks()) {
            const q = last.get(b.stockLocate);
            if (q === undefined || b.symbol === '') continue;
            expect(q.bidPrice, `${b.symbol} bid`).to.equal(b.bids.count > 0 ? b.bids.priceAt(0) : 0);
            expect(q.askPrice, `${b.symbol} ask`).to.equal(b.asks.count > 0 ? b.asks.priceAt(0) : 0);
          }
        },
      }, { subscriptions: new SubscriptionMailbox(), clock: { nowNs: () => 0 } });
      const decoder = new FeedDecoder(market, {}, new Sequencer());
      const data = fs.readFileSync(file);
      const reader = new PcapReader(data, file);
      let packets = 0;
      while (reader.next()) {
        decoder.decodeFrame(reader.data, reader.frameOffset, reader.capturedLength);
        if (++packets % 8 === 0) decoder.endOfBatch(); // an RX burst of 8 packets
      }
      decoder.endOfBatch();
      const k = market.conflator!.counters;
      expect(k.conflated, 'quotes replaced within a batch').to.be.greaterThan(100);
      expect(k.quotesIn).to.equal(k.quotesOut + k.conflated);
      expect(quotesSeen).to.equal(k.quotesOut);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with intervalNs flushes at the first end of batch after the interval (injected clock)', () => {
    let now = 1000;
    const rec = new BookRecorder();
    const c = new Conflator(rec, { intervalNs: 500, clock: () => now });
    c.onEvent(quote(1, 10, 1));
    now = 1400; c.endOfBatch();
    expect(rec.events).to.have.length(0);
    c.onEvent(quote(1, 11, 2));
    now = 1500; c.endOfBatch();
    expect(rec.events.map((e) => e.bidPrice)).to.deep.equal([11]);
    expect(rec.batches).to.equal(2);
    c.onEvent(quote(3, 30, 3));
    c.flush();
    expect(rec.events.map((e) => e.bidPrice)).to.deep.equal([11, 30]);
  });

  it('survives many quote/trade alternations on one locate within a batch', () => {
    const rec = new BookRecorder();
    const c = new Conflator(rec);
    for (let i = 0; i < 200000; i++) { c.onEvent(quote(7, i, 2 * i)); c.onEvent(other(kBookEventTrade, 7, 2 * i + 1)); }
    c.onEvent(quote(7, -1, 1e6));
    c.endOfBatch();
    expect(rec.events).to.have.length(400001);
    expect(rec.events[rec.events.length - 1].bidPrice).to.equal(-1);
  });

  it('validates its options', () => {
    expect(() => new Conflator(new BookRecorder(), { intervalNs: -1 }))
      .to.throw("Conflator: option 'intervalNs' is -1, expected a number of nanoseconds >= 0").with.property('code', 'ERR_INVALID_OPTION');
  });
});
