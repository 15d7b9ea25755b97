import { expect } from 'chai';
import { MonotonicClock } from '../../lib/common/clock';
import { BookEvent, kBookEventQuote } from '../../lib/feed/book/book-event';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { MarketBooks } from '../../lib/pipeline/market-books';
import { SubscriptionMailbox } from '../../lib/pipeline/subscriptions';
import { SampleStrategy } from '../../lib/pipeline/sample-strategy';
import type { StrategyContext } from '../../lib/pipeline/strategy';
import type { OrderRequest } from '../../lib/router/types';
import { BookRecorder, Msg, payload } from '../feed/book-recorder';

const h = (locate: number) => ({ stockLocate: locate, trackingNumber: 0, timestamp: 1 });
const add = (ref: number, side: 'B' | 'S', shares: number, price: number, locate = 1, stock = 'AAPL'): Msg =>
  ({ type: 'A', values: { ...h(locate), orderReferenceNumber: ref, buySellIndicator: side, shares, stock, price } });

/**
 * The strategy's immediate top of book (Strategy.onTopOfBook): each QUOTE reaches it as the books
 * make it, in the middle of the packet, while conflation still hands onMarketData one QUOTE per
 * symbol at the end of the batch.
 */
describe('pipeline/immediate top of book', () => {
  function setup(immediate?: (e: BookEvent) => void) {
    const downstream = new BookRecorder();
    const market = new MarketBooks(downstream, { conflate: true, subscriptions: new SubscriptionMailbox(), clock: new MonotonicClock(), immediateQuote: immediate });
    const feed = new FeedDecoder(market);
    return { downstream, feed };
  }

  it('a QUOTE reaches the immediate listener as the books make it; conflated, it would wait behind the packet\'s other symbols until the end of the batch', () => {
    const seen: { symbol: string; bid: number; ask: number; downstreamSoFar: number }[] = [];
    let rec: BookRecorder | undefined;
    const { downstream, feed } = setup((e) => {
      expect(e.kind).to.equal(kBookEventQuote);
      seen.push({ symbol: e.symbol, bid: e.bidPrice, ask: e.askPrice, downstreamSoFar: rec!.events.length });
    });
    rec = downstream;
    // One packet: AAPL's two sides, then two MSFT orders (the second below MSFT's best bid: no quote).
    const p = payload([add(1, 'B', 100, 1_000_000), add(2, 'S', 300, 1_010_000), add(10, 'B', 100, 500_000, 2, 'MSFT'), add(11, 'B', 100, 490_000, 2, 'MSFT')]);
    feed.decodePayload(p, 0, p.length);
    expect(seen.map((x) => [x.symbol, x.bid, x.ask])).to.deep.equal([['AAPL', 1_000_000, 0], ['AAPL', 1_000_000, 1_010_000], ['MSFT', 500_000, 0]]);
    // AAPL's two-sided quote was handed over right after its add: downstream then had both ADDs (its
    // bid-only quote is still held by the conflator, now replaced by this one).
    expect(seen[1].downstreamSoFar).to.equal(2);
    const before = downstream.events.filter((e) => e.kind === kBookEventQuote && e.symbol === 'AAPL' && e.askPrice > 0);
    expect(before, 'conflated: still held at the end of the packet').to.have.length(0);
    feed.endOfBatch();
    // Conflation unchanged: downstream gets one QUOTE per symbol at the end of the batch, behind the adds.
    const kinds = downstream.events.map((e) => `${e.symbol} ${e.kind === kBookEventQuote ? 'QUOTE' : 'ADD'}`);
    expect(kinds).to.deep.equal(['AAPL ADD', 'AAPL ADD', 'MSFT ADD', 'MSFT ADD', 'AAPL QUOTE', 'MSFT QUOTE']);
  });

  it('without a listener the books feed the conflator directly, as before', () => {
    const { downstream, feed } = setup(undefined);
    const p = payload([add(1, 'B', 100, 1_000_000), add(2, 'S', 300, 1_010_000)]);
    feed.decodePayload(p, 0, p.length);
    feed.endOfBatch();
    // The bid-only quote after the first add is replaced by the two-sided one (conflated).
    expect(downstream.kinds()).to.deep.equal(['ADD_ORDER', 'ADD_ORDER', 'QUOTE']);
  });

  it('the sample strategy decides on the immediate quotes by default, on conflated ones with immediate: false', () => {
    const orders: OrderRequest[] = [];
    const ctx = { sendOrder: (r: OrderRequest) => orders.push({ ...r }), cancelOrder() {}, nowNs: () => 0, rxTsNs: 0, log() {} } as StrategyContext;
    const q = new BookEvent();
    q.kind = kBookEventQuote; q.stockLocate = 1; q.symbol = 'AAPL'; q.bidPrice = 1_000_000; q.askPrice = 1_010_000;
    const s = new SampleStrategy({ everyQuotes: 2 });
    expect(s.onTopOfBook).to.be.a('function');
    s.onTopOfBook!(q, ctx);
    s.onTopOfBook!(q, ctx);
    // The conflated copy of the same quote is not decided on twice.
    s.onMarketData(q, ctx);
    s.onMarketData(q, ctx);
    expect(orders.map((o) => [o.side, o.price])).to.deep.equal([['B', 1_010_000]]);
    expect(s.counts.quotes).to.equal(2);
    const c = new SampleStrategy({ everyQuotes: 2, immediate: false });
    expect(c.onTopOfBook).to.equal(undefined);
    c.onMarketData(q, ctx);
    c.onMarketData(q, ctx);
    expect(c.counts.ordersSent).to.equal(1);
    // minGapUs: a candidate inside the gap after an order is skipped.
    let now = 0;
    const timed = { ...ctx, nowNs: () => now } as StrategyContext;
    const g = new SampleStrategy({ everyQuotes: 1, minGapUs: 20_000 });
    g.onTopOfBook!(q, timed);
    now = 19_999_000; g.onTopOfBook!(q, timed);
    now = 20_000_000; g.onTopOfBook!(q, timed);
    expect(g.counts.ordersSent).to.equal(2);
  });
});
