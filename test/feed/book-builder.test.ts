import { expect } from 'chai';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { BookBuilder } from '../../lib/feed/book/book-builder';
import { kBookEventQuote } from '../../lib/feed/book/book-event';
import { TickpathError } from '../../lib/errors';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { OrderStore } from '../../lib/feed/book/order-store';
import { ItchDecoder } from '../../lib/feed/itch/itch-decoder';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { BookRecorder, Msg, payload } from './book-recorder';
import { kFixtureRoot, parsePrice, readOracle } from './itch-fixtures';

const h = (locate: number, ts = 1) => ({ stockLocate: locate, trackingNumber: 0, timestamp: ts });
const add = (ref: number, side: 'B' | 'S', shares: number, price: number, locate = 1, stock = 'AAPL'): Msg =>
  ({ type: 'A', values: { ...h(locate), orderReferenceNumber: ref, buySellIndicator: side, shares, stock, price } });

function setup() {
  const rec = new BookRecorder();
  const books = new BookBuilder(rec, { initialOrderCapacity: 16 });
  const feed = new FeedDecoder(books);
  const send = (...msgs: Msg[]) => { feed.decodePayload(payload(msgs), 0, payload(msgs).length); feed.endOfBatch(); };
  return { rec, books, feed, send };
}

describe('BookBuilder', () => {
  it('builds levels and BBO from adds and emits ADD_ORDER then QUOTE only when the BBO changes', () => {
    const { rec, books, send } = setup();
    send(add(1, 'B', 100, 1000000), add(2, 'B', 200, 1000000), add(3, 'B', 50, 990000), add(4, 'S', 300, 1010000));
    expect(rec.kinds()).to.deep.equal(['ADD_ORDER', 'QUOTE', 'ADD_ORDER', 'QUOTE', 'ADD_ORDER', 'ADD_ORDER', 'QUOTE']);
    const q = rec.events[6];
    expect([q.symbol, q.bidPrice, q.bidShares, q.askPrice, q.askShares]).to.deep.equal(['AAPL', 1000000, 300, 1010000, 300]);
    const book = books.book(1)!;
    const prices = new Float64Array(5); const shares = new Float64Array(5); const orders = new Uint32Array(5);
    expect(book.depth(true, 5, prices, shares, orders)).to.equal(2);
    expect([...prices.subarray(0, 2)]).to.deep.equal([1000000, 990000]);
    expect([...shares.subarray(0, 2)]).to.deep.equal([300, 50]);
    expect([...orders.subarray(0, 2)]).to.deep.equal([2, 1]);
    expect(rec.batches).to.equal(1);
  });

  it('reads packets from a region reused in place, from a view at an odd offset, and from a new buffer each time', () => {
    // The order handlers read through a DataView kept while the buffer stays the same (an RX region).
    const { rec, books, feed } = setup();
    const region = new Uint8Array(new ArrayBuffer(4096), 3, 4000); // odd byteOffset into its ArrayBuffer
    const inRegion = (at: number, msgs: Msg[]) => {
      const p = payload(msgs);
      region.set(p, at);
      feed.decodePayload(region, at, p.length);
    };
    inRegion(1, [add(7, 'B', 100, 1000000), add(8, 'S', 250, 1000100)]);
    inRegion(1, [{ type: 'E', values: { ...h(1), orderReferenceNumber: 7, executedShares: 30, matchNumber: 2 ** 40 + 5 } }]); // same bytes, new content
    inRegion(517, [{ type: 'X', values: { ...h(1, 2 ** 47 + 9), orderReferenceNumber: 8, cancelledShares: 50 } }]);
    const other = payload([{ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 7, newOrderReferenceNumber: 2 ** 52 + 1, shares: 40, price: 999900 } }]);
    feed.decodePayload(other, 0, other.length);
    const exec = rec.events.find((e) => e.kind === 4)!;
    expect([exec.orderReferenceNumber, exec.shares, exec.remainingShares, exec.matchNumber, exec.price]).to.deep.equal([7, 30, 70, 2 ** 40 + 5, 1000000]);
    const cancel = rec.events.find((e) => e.orderReferenceNumber === 8 && e.kind === 3)!;
    expect([cancel.shares, cancel.remainingShares, cancel.timestamp]).to.deep.equal([200, 200, 2 ** 47 + 9]);
    const book = books.book(1)!;
    expect([book.bids.bestPrice, book.bids.bestShares, book.asks.bestPrice, book.asks.bestShares]).to.deep.equal([999900, 40, 1000100, 200]);
    expect(books.orders.find(2 ** 52 + 1)).to.be.at.least(0);
    expect(books.counters.unknownOrder + books.counters.levelMismatch).to.equal(0);
  });

  it('applies E C X D U with the right normalized events', () => {
    const { rec, books, send } = setup();
    send(add(1, 'B', 100, 1000000), add(2, 'S', 100, 1010000));
    rec.take();
    send({ type: 'E', values: { ...h(1), orderReferenceNumber: 1, executedShares: 30, matchNumber: 9 } });
    expect(rec.kinds()).to.deep.equal(['EXECUTE_ORDER', 'QUOTE']);
    expect([rec.events[0].shares, rec.events[0].remainingShares, rec.events[0].price, rec.events[0].matchNumber]).to.deep.equal([30, 70, 1000000, 9]);
    rec.take();
    send({ type: 'C', values: { ...h(1), orderReferenceNumber: 2, executedShares: 10, matchNumber: 10, printable: 'N', executionPrice: 1005000 } });
    expect([rec.events[0].price, rec.events[0].printable, rec.events[0].remainingShares]).to.deep.equal([1005000, false, 90]);
    rec.take();
    send({ type: 'X', values: { ...h(1), orderReferenceNumber: 1, cancelledShares: 20 } });
    expect(rec.kinds()).to.deep.equal(['MODIFY_ORDER', 'QUOTE']);
    expect(rec.events[0].shares).to.equal(50);
    rec.take();
    send({ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 1, newOrderReferenceNumber: 5, shares: 400, price: 1001000 } });
    expect(rec.kinds()).to.deep.equal(['MODIFY_ORDER', 'QUOTE']);
    expect([rec.events[0].orderReferenceNumber, rec.events[0].previousOrderReferenceNumber, rec.events[0].side, rec.events[0].price])
      .to.deep.equal([5, 1, 0x42, 1001000]);
    expect([books.book(1)!.bestBidPrice, books.book(1)!.bestBidShares]).to.deep.equal([1001000, 400]);
    rec.take();
    send({ type: 'X', values: { ...h(1), orderReferenceNumber: 2, cancelledShares: 90 } }, { type: 'D', values: { ...h(1), orderReferenceNumber: 5 } });
    expect(rec.kinds()).to.deep.equal(['DELETE_ORDER', 'QUOTE', 'DELETE_ORDER', 'QUOTE']);
    const last = rec.events[3];
    expect([last.bidPrice, last.bidShares, last.askPrice, last.askShares]).to.deep.equal([0, 0, 0, 0]);
    expect(books.orders.size).to.equal(0);
    expect(books.book(1)!.bids.count + books.book(1)!.asks.count).to.equal(0);
  });

  it('keeps a level above 2^32 shares exact on the ladder and deep, through cancels, executions and a replace', () => {
    const { rec, books, send } = setup();
    const big = 4_000_000_000; // an order's Shares field is u32; two make a level above 2^32
    send(add(1, 'B', big, 1000000), add(2, 'B', big, 1000000), add(3, 'B', 4_294_967_295, 1000000));
    const total = 2 * big + 4_294_967_295;
    expect(total).to.be.above(2 ** 33);
    let q = rec.events.filter((e) => e.kind === kBookEventQuote).pop()!;
    expect([q.bidPrice, q.bidShares]).to.deep.equal([1000000, total]);
    // Far below the touch (deep part): the same totals.
    send(add(4, 'B', big, 10000), add(5, 'B', big, 10000));
    const book = books.book(1)!;
    const prices = new Float64Array(4); const shares = new Float64Array(4); const orders = new Uint32Array(4);
    expect(book.depth(true, 4, prices, shares, orders)).to.equal(2);
    expect([...shares.subarray(0, 2)]).to.deep.equal([total, 2 * big]);
    expect(books.levels.sharesAtPrice(2, 10000)).to.equal(2 * big);
    rec.take();
    send({ type: 'X', values: { ...h(1), orderReferenceNumber: 3, cancelledShares: 4_294_967_294 } },
      { type: 'E', values: { ...h(1), orderReferenceNumber: 1, executedShares: big, matchNumber: 1 } },
      { type: 'X', values: { ...h(1), orderReferenceNumber: 5, cancelledShares: 1 } });
    q = rec.events.filter((e) => e.kind === kBookEventQuote).pop()!;
    expect(q.bidShares).to.equal(big + 1);
    expect(books.levels.sharesAtPrice(2, 10000)).to.equal(2 * big - 1);
    // Replace the deep order up to the best level: both levels move by its 2^32-scale shares.
    send({ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 4, newOrderReferenceNumber: 6, shares: big, price: 1000000 } });
    expect(book.depth(true, 4, prices, shares, orders)).to.equal(2);
    expect([...shares.subarray(0, 2)]).to.deep.equal([2 * big + 1, big - 1]);
    expect([...orders.subarray(0, 2)]).to.deep.equal([3, 1]);
    const c = books.counters;
    expect(c.unknownOrder + c.duplicateOrder + c.overExecution + c.overCancel + c.levelMismatch).to.equal(0);
  });

  it('accepts a reference again once its order is gone (a recycled reference), and refuses it while it rests', () => {
    const { books, send } = setup();
    send(add(7, 'B', 100, 1000000), add(7, 'S', 100, 1010000));
    expect(books.counters.duplicateOrder).to.equal(1);
    send({ type: 'D', values: { ...h(1), orderReferenceNumber: 7 } }, add(7, 'S', 300, 1010000));
    expect(books.counters.duplicateOrder).to.equal(1);
    expect([books.levels.count(2), books.levels.count(3), books.levels.bestShares(3)]).to.deep.equal([0, 1, 300]);
    // A replace may name as its new reference one that was deleted before.
    send(add(8, 'B', 100, 1000000), { type: 'D', values: { ...h(1), orderReferenceNumber: 8 } },
      { type: 'U', values: { ...h(1), originalOrderReferenceNumber: 7, newOrderReferenceNumber: 8, shares: 50, price: 1020000 } });
    expect([books.orders.size, books.levels.bestPrice(3), books.levels.bestShares(3), books.counters.unknownOrder]).to.deep.equal([1, 1020000, 50, 0]);
  });

  it('replace into a new level and into an existing one: levels, order counts and the BBO', () => {
    const { rec, books, send } = setup();
    send(add(1, 'S', 100, 1010000), add(2, 'S', 200, 1020000), add(3, 'B', 100, 1000000));
    rec.take();
    // New level between the two asks: not the best, so no QUOTE.
    send({ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 2, newOrderReferenceNumber: 4, shares: 250, price: 1015000 } });
    expect(rec.kinds()).to.deep.equal(['MODIFY_ORDER']);
    expect([books.levels.count(3), books.levels.sharesAtPrice(3, 1020000), books.levels.sharesAtPrice(3, 1015000)]).to.deep.equal([2, 0, 250]);
    // Into the existing best level: its shares and order count grow, one QUOTE.
    rec.take();
    send({ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 4, newOrderReferenceNumber: 5, shares: 40, price: 1010000 } });
    expect(rec.kinds()).to.deep.equal(['MODIFY_ORDER', 'QUOTE']);
    expect([books.levels.count(3), books.levels.bestShares(3), books.levels.bestOrders(3)]).to.deep.equal([1, 140, 2]);
    // The best order replaced to a worse new level: the best level keeps the other order.
    rec.take();
    send({ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 1, newOrderReferenceNumber: 6, shares: 100, price: 1030000 } });
    expect(rec.kinds()).to.deep.equal(['MODIFY_ORDER', 'QUOTE']);
    expect([books.levels.bestPrice(3), books.levels.bestShares(3), books.levels.bestOrders(3), books.levels.count(3)]).to.deep.equal([1010000, 40, 1, 2]);
  });

  it('reads order references above 2^32 from the bytes exactly (references of a real day)', () => {
    const { rec, books, send } = setup();
    const ref = 2 ** 40 + 12345;
    send(add(ref, 'B', 100, 1000000), { type: 'X', values: { ...h(1), orderReferenceNumber: ref, cancelledShares: 40 } },
      { type: 'U', values: { ...h(1), originalOrderReferenceNumber: ref, newOrderReferenceNumber: ref + 2 ** 33, shares: 10, price: 1000100 } });
    expect(rec.events.filter((e) => e.kind !== kBookEventQuote).map((e) => [e.orderReferenceNumber, e.previousOrderReferenceNumber]))
      .to.deep.equal([[ref, ref], [ref, ref], [ref + 2 ** 33, ref]]);
    expect([books.orders.find(ref), books.orders.find(ref + 2 ** 33) >= 0, books.counters.unknownOrder]).to.deep.equal([-1, true, 0]);
  });

  it('names a book from the add that creates it, renames it on a Stock Directory message only, never from a later add', () => {
    const { rec, books, send } = setup();
    const dir = (locate: number, stock: string): Msg => ({ type: 'R', values: { ...h(locate), stock, marketCategory: 'Q', financialStatusIndicator: 'N',
      roundLotSize: 100, roundLotsOnly: 'N', issueClassification: 'C', issueSubType: 'Z', authenticity: 'P', shortSaleThresholdIndicator: 'N',
      ipoFlag: 'N', luldReferencePriceTier: '1', etpFlag: 'N', etpLeverageFactor: 0, inverseIndicator: 'N' } });
    // No directory message: the first add creates the book and names it.
    send(add(1, 'B', 100, 1000000, 7, 'MSFT'));
    expect(books.book(7)!.symbol).to.equal('MSFT');
    // A later add with another Stock field does not rename it (adds are not checked once the book exists).
    send(add(2, 'B', 100, 1000000, 7, 'ZZZZ'));
    expect([books.book(7)!.symbol, rec.events[rec.events.length - 1].symbol]).to.deep.equal(['MSFT', 'MSFT']);
    // The directory assigns the locate a new symbol: the book and the next events carry it.
    send(dir(7, 'GOOG'), add(3, 'S', 100, 1010000, 7, 'GOOG'));
    expect([books.book(7)!.symbol, rec.events[rec.events.length - 1].symbol]).to.deep.equal(['GOOG', 'GOOG']);
    // A directory message before any order creates the book with its symbol; the add that follows keeps it.
    send(dir(9, 'AMZN'), add(4, 'B', 100, 1000000, 9, 'AMZN'));
    expect([books.book(9)!.symbol, books.book(9)!.bestBidShares, books.symbols.resolutions]).to.deep.equal(['AMZN', 100, 3]);
  });

  it('emits TRADE for P and Q, STATUS for H, IMBALANCE for I, and records trading state', () => {
    const { rec, books, send } = setup();
    send(
      { type: 'P', values: { ...h(2), orderReferenceNumber: 0, buySellIndicator: 'B', shares: 10, stock: 'MSFT', price: 3000000, matchNumber: 77 } },
      { type: 'Q', values: { ...h(2), shares: 5000, stock: 'MSFT', crossPrice: 3010000, matchNumber: 78, crossType: 'O' } },
      { type: 'H', values: { ...h(2), stock: 'MSFT', tradingState: 'H', reserved: ' ', reason: 'LUDP' } },
      { type: 'I', values: { ...h(2), pairedShares: 100, imbalanceShares: 20, imbalanceDirection: 'B', stock: 'MSFT', farPrice: 1, nearPrice: 2,
        currentReferencePrice: 3, crossType: 'C', priceVariationIndicator: 'L' } },
      { type: 'B', values: { ...h(2), matchNumber: 77 } },
    );
    expect(rec.kinds()).to.deep.equal(['TRADE', 'TRADE', 'STATUS', 'IMBALANCE']);
    expect([rec.events[0].shares, rec.events[0].price, rec.events[0].crossType]).to.deep.equal([10, 3000000, 0]);
    expect([rec.events[1].shares, rec.events[1].price, rec.events[1].crossType]).to.deep.equal([5000, 3010000, 0x4f]);
    expect(rec.events[2].tradingState).to.equal(0x48);
    expect([rec.events[3].imbalanceShares, rec.events[3].imbalanceDirection, rec.events[3].currentReferencePrice, rec.events[3].symbol])
      .to.deep.equal([20, 0x42, 3, 'MSFT']);
    expect(books.book(2)!.tradingState).to.equal(0x48);
    expect(books.counters.brokenTrades).to.equal(1);
    expect(books.symbols.resolutions).to.equal(1);
  });

  it('counts bad references and never corrupts the book', () => {
    const { rec, books, send } = setup();
    send(add(1, 'B', 100, 1000000));
    rec.take();
    send(
      { type: 'E', values: { ...h(1), orderReferenceNumber: 99, executedShares: 1, matchNumber: 1 } },
      { type: 'D', values: { ...h(1), orderReferenceNumber: 98 } },
      { type: 'U', values: { ...h(1), originalOrderReferenceNumber: 97, newOrderReferenceNumber: 96, shares: 1, price: 1 } },
      add(1, 'B', 5, 1),
      { type: 'A', values: { ...h(1), orderReferenceNumber: 50, buySellIndicator: 'Z', shares: 5, stock: 'AAPL', price: 1 } },
      { type: 'X', values: { ...h(1), orderReferenceNumber: 1, cancelledShares: 30 } },
      { type: 'E', values: { ...h(1), orderReferenceNumber: 1, executedShares: 500, matchNumber: 2 } },
    );
    const c = books.counters;
    expect({ unknown: c.unknownOrder, dup: c.duplicateOrder, badSide: c.badSide, over: c.overExecution, level: c.levelMismatch })
      .to.deep.equal({ unknown: 3, dup: 1, badSide: 1, over: 1, level: 0 });
    expect(rec.events.find((e) => e.kind === 4)!.shares).to.equal(70); // clamped to what was open
    expect(books.orders.size).to.equal(0);
    expect(books.book(1)!.bids.count).to.equal(0);
  });

  for (const [name, priceArb] of [
    ['prices a few ticks apart', fc.integer({ min: 1, max: 12 }).map((c) => c * 100)],
    // Wider than the price ladder, with sub-penny prices: re-centring, deep levels and tick changes through the builder.
    ['prices far apart and sub-penny', fc.oneof(fc.integer({ min: 1, max: 400 }).map((c) => c * 2500), fc.integer({ min: 1, max: 99999 }))],
  ] as const) {
  it(`holds book invariants under random order flow: ${name} (fast-check)`, () => {
    type Op = [kind: number, ref: number, side: boolean, shares: number, price: number, locate: number];
    const op = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 40 }), fc.boolean(),
      fc.integer({ min: 0, max: 1000 }), priceArb, fc.integer({ min: 1, max: 3 }));
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (ops: Op[]) => {
      const { rec, books, send } = setup();
      let nextRef = 1000;
      for (const [kind, ref, side, shares, price, locate] of ops) {
        const hd = h(locate);
        const msg: Msg = kind === 0 || kind === 5 ? add(ref, side ? 'B' : 'S', shares, price, locate)
          : kind === 1 ? { type: 'E', values: { ...hd, orderReferenceNumber: ref, executedShares: shares, matchNumber: 1 } }
            : kind === 2 ? { type: 'X', values: { ...hd, orderReferenceNumber: ref, cancelledShares: shares } }
              : kind === 3 ? { type: 'D', values: { ...hd, orderReferenceNumber: ref } }
                : { type: 'U', values: { ...hd, originalOrderReferenceNumber: ref, newOrderReferenceNumber: ++nextRef % 60, shares, price } };
        send(msg);
        // Recompute every level from the resting orders and compare.
        const want = new Map<string, { shares: number; orders: number }>();
        books.orders.forEach((_ref, loc, s, p, sh) => {
          expect(sh).to.be.at.least(0);
          const k = `${loc}/${s}/${p}`;
          const v = want.get(k) ?? { shares: 0, orders: 0 };
          v.shares += sh; v.orders++;
          want.set(k, v);
        });
        const got = new Map<string, { shares: number; orders: number }>();
        for (const book of books.allBooks()) {
          for (const [levels, s] of [[book.bids, 0x42], [book.asks, 0x53]] as const) {
            let prev = -1;
            for (let r = 0; r < levels.count; r++) {
              const p = levels.priceAt(r);
              if (prev >= 0) expect(s === 0x42 ? p < prev : p > prev, 'levels sorted best first').to.equal(true);
              prev = p;
              expect(levels.sharesAt(r)).to.be.at.least(0);
              got.set(`${book.stockLocate}/${s}/${p}`, { shares: levels.sharesAt(r), orders: levels.ordersAt(r) });
            }
          }
          // The last QUOTE published for the book equals its BBO.
          const lastQuote = [...rec.events].reverse().find((e) => e.kind === kBookEventQuote && e.stockLocate === book.stockLocate);
          if (lastQuote) expect([lastQuote.bidPrice, lastQuote.bidShares, lastQuote.askPrice, lastQuote.askShares])
            .to.deep.equal([book.bestBidPrice, book.bestBidShares, book.bestAskPrice, book.bestAskShares]);
        }
        expect(got).to.deep.equal(want);
        expect(books.counters.levelMismatch).to.equal(0);
      }
    }), { numRuns: 150 });
  });
  }

  it('keeps a crossed or locked book as the feed states it, and uncrosses when the feed does', () => {
    const { rec, books, send } = setup();
    send(add(1, 'B', 100, 1000000), add(2, 'S', 200, 1000100));
    send(add(3, 'S', 50, 1000000)); // locked: ask at the bid
    let q = rec.events[rec.events.length - 1];
    expect([q.kind, q.bidPrice, q.bidShares, q.askPrice, q.askShares]).to.deep.equal([kBookEventQuote, 1000000, 100, 1000000, 50]);
    send(add(4, 'B', 70, 1000200)); // crossed: bid above the ask
    q = rec.events[rec.events.length - 1];
    expect([q.bidPrice, q.bidShares, q.askPrice, q.askShares]).to.deep.equal([1000200, 70, 1000000, 50]);
    send({ type: 'D', values: { ...h(1), orderReferenceNumber: 4 } }, { type: 'D', values: { ...h(1), orderReferenceNumber: 3 } });
    q = rec.events[rec.events.length - 1];
    expect([q.bidPrice, q.bidShares, q.askPrice, q.askShares]).to.deep.equal([1000000, 100, 1000100, 200]);
    const book = books.book(1)!;
    expect([book.bids.count, book.asks.count, books.counters.levelMismatch]).to.deep.equal([1, 1, 0]);
  });

  it('follows a book whose price jumps far from the touch and back (the ladder re-centres)', () => {
    const { rec, books, send } = setup();
    send(add(1, 'B', 100, 1000000), add(2, 'B', 100, 999900), add(3, 'S', 100, 1000100));
    send(add(10, 'B', 5, 90000000), add(11, 'S', 6, 90000100)); // $9,000: far above
    let q = rec.events[rec.events.length - 1];
    expect([q.bidPrice, q.askPrice]).to.deep.equal([90000000, 1000100]);
    send({ type: 'D', values: { ...h(1), orderReferenceNumber: 10 } });
    q = rec.events[rec.events.length - 1];
    expect([q.bidPrice, q.bidShares, q.askPrice]).to.deep.equal([1000000, 100, 1000100]);
    send({ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 11, newOrderReferenceNumber: 12, shares: 9, price: 1000050 } }); // sub-penny ask
    q = rec.events[rec.events.length - 1];
    expect([q.askPrice, q.askShares]).to.deep.equal([1000050, 9]);
    const asks = books.book(1)!.asks;
    expect([asks.count, asks.priceAt(0), asks.priceAt(1)]).to.deep.equal([2, 1000050, 1000100]);
  });

  it('executes, cancels and replaces orders whose level moved deep, came back and was re-ticked since the add (stale level hints), as the sorted levels do', () => {
    const msgs: Msg[][] = [
      [add(1, 'B', 100, 1000000), add(2, 'B', 200, 999900), add(3, 'S', 50, 1000100)],
      [add(4, 'B', 7, 50000000)], // $5,000 bid: the ladder moves up, 10.00 and 9.99 go deep
      [{ type: 'E', values: { ...h(1), orderReferenceNumber: 1, executedShares: 30, matchNumber: 1 } }],
      [{ type: 'X', values: { ...h(1), orderReferenceNumber: 2, cancelledShares: 50 } }],
      [{ type: 'D', values: { ...h(1), orderReferenceNumber: 4 } }], // the ladder comes back down to them
      [add(5, 'B', 9, 1000001)], // sub-penny: the side re-ticks to 1, every index means another price
      [{ type: 'U', values: { ...h(1), originalOrderReferenceNumber: 1, newOrderReferenceNumber: 6, shares: 11, price: 999900 } }],
      [{ type: 'C', values: { ...h(1), orderReferenceNumber: 2, executedShares: 150, matchNumber: 2, printable: 'Y', executionPrice: 999900 } }],
      [{ type: 'D', values: { ...h(1), orderReferenceNumber: 5 } }, { type: 'D', values: { ...h(1), orderReferenceNumber: 6 } }],
    ];
    const run = (levels: 'ladder' | 'sorted') => {
      const rec = new BookRecorder();
      const books = new BookBuilder(rec, { levels });
      const feed = new FeedDecoder(books);
      for (const m of msgs) { const p = payload(m); feed.decodePayload(p, 0, p.length); }
      return { events: rec.events.map((e) => [e.kind, e.orderReferenceNumber, e.price, e.shares, e.remainingShares, e.bidPrice, e.bidShares, e.askPrice]), books };
    };
    const ladder = run('ladder');
    expect(ladder.events).to.deep.equal(run('sorted').events);
    const c = ladder.books.counters;
    expect([c.unknownOrder, c.levelMismatch, c.overExecution, c.overCancel]).to.deep.equal([0, 0, 0, 0]);
    const bids = ladder.books.book(1)!.bids;
    expect([bids.count, ladder.books.orders.size]).to.deep.equal([0, 1]);
    const q = ladder.events.filter((e) => e[0] === kBookEventQuote);
    expect(q.map((e) => [e[5], e[6]])).to.deep.equal([[1000000, 100], [1000000, 100], [50000000, 7], [1000000, 70], [1000001, 9], [999900, 11], [0, 0]]);
  });

  it('gives the same events with the price ladder as with every level kept sorted, on a generated market session', () => {
    // 40 symbols, 60,000 messages of `tickpath gen` flow: each event of both builders must agree.
    const run = (levels: 'ladder' | 'sorted'): { events: number[]; books: BookBuilder } => {
      const gen = new SessionGenerator({ symbols: 40, rate: 60000, durationSeconds: 1, seed: 7, session: 'LADDERTEST' });
      const events: number[] = [];
      const books = new BookBuilder({
        onEvent(e) { events.push(e.kind, e.stockLocate, e.price, e.shares, e.bidPrice, e.bidShares, e.askPrice, e.askShares); },
        endOfBatch() { /* nothing */ },
      }, { levels });
      const decoder = new ItchDecoder();
      gen.forEachMessage((sequence, b, length) => {
        const type = decoder.decode(b, 0, length);
        if (type > 0) books.onMessage(decoder, type, sequence);
      });
      return { events, books };
    };
    const ladder = run('ladder');
    const sorted = run('sorted');
    expect(ladder.events.length).to.be.greaterThan(60000 * 8);
    expect(ladder.events.length).to.equal(sorted.events.length);
    expect(ladder.events).to.deep.equal(sorted.events);
    const c = ladder.books.counters;
    expect([c.unknownOrder, c.levelMismatch, c.quotes > 1000]).to.deep.equal([0, 0, true]);
    expect(() => new BookBuilder(new BookRecorder(), { levels: 'tree' as 'ladder' })).to.throw(TickpathError, /levels.*"tree".*'ladder' or 'sorted'/);
  });

  it('gives the same events and books with far references as in the window, on every real capture', () => {
    // A store whose window spans 4 references sends nearly every order of the captures to the far
    // table (and evicts and recycles pages on the way); the default store keeps most in pages.
    const pcaps: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.isDirectory()) walk(path.join(dir, e.name)); else if (e.name.endsWith('.pcap')) pcaps.push(path.join(dir, e.name));
      }
    };
    walk(kFixtureRoot);
    const run = (orders?: OrderStore): { events: unknown[]; books: BookBuilder } => {
      const events: unknown[] = [];
      const books = new BookBuilder({
        onEvent(e) { events.push([e.kind, e.stockLocate, e.orderReferenceNumber, e.side, e.price, e.shares, e.remainingShares, e.bidPrice, e.bidShares, e.askPrice, e.askShares]); },
        endOfBatch() { /* nothing */ },
      }, { orders });
      const feed = new FeedDecoder(books);
      for (const pcap of pcaps) {
        const r = new PcapReader(fs.readFileSync(pcap));
        while (r.next()) feed.decodeFrame(r.data, r.frameOffset, r.capturedLength);
      }
      return { events, books };
    };
    const far = new OrderStore(4, { pageBits: 1, windowPages: 2 });
    const a = run(far);
    const b = run();
    expect(a.books.orders).to.equal(far);
    expect(pcaps.length).to.be.greaterThan(30);
    expect(a.events.length).to.be.greaterThan(100);
    expect(a.events).to.deep.equal(b.events);
    expect(far.overflowSize).to.be.greaterThan(far.size / 2);
    const resting = (books: BookBuilder): unknown[] => { const out: unknown[] = []; books.orders.forEach((...o) => out.push(o)); return out.sort(); };
    expect(resting(a.books)).to.deep.equal(resting(b.books));
    expect([a.books.counters.levelMismatch, a.books.counters.duplicateOrder]).to.deep.equal([b.books.counters.levelMismatch, b.books.counters.duplicateOrder]);
  });

  it('builds the META book of the real Multiple.Packets capture to the oracle BBO', () => {
    const pcap = path.join(kFixtureRoot, 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');
    const rec = new BookRecorder();
    const books = new BookBuilder(rec);
    const feed = new FeedDecoder(books, { destinationAddresses: ['233.54.12.111'], destinationPorts: [26477] });
    const r = new PcapReader(fs.readFileSync(pcap));
    while (r.next()) { feed.decodeFrame(r.data, r.frameOffset, r.capturedLength); feed.endOfBatch(); }
    // Expected from the oracle: adds (A and F) for locate 6514, best bid = highest B price, best ask = lowest S price.
    const adds = readOracle(pcap).filter((o) => o.messagetype === 'A' || o.messagetype === 'F');
    const bids = adds.filter((o) => o.buysellindicator === 'B').map((o) => ({ p: parsePrice(String(o.price), 4), s: Number(o.shares) }));
    const asks = adds.filter((o) => o.buysellindicator === 'S').map((o) => ({ p: parsePrice(String(o.price), 4), s: Number(o.shares) }));
    const bestBid = Math.max(...bids.map((b) => b.p));
    const bestAsk = Math.min(...asks.map((a) => a.p));
    const book = books.book(6514)!;
    expect(book.symbol).to.equal('META');
    expect([book.bestBidPrice, book.bestBidShares]).to.deep.equal([bestBid, bids.filter((b) => b.p === bestBid).reduce((n, b) => n + b.s, 0)]);
    expect([book.bestAskPrice, book.bestAskShares]).to.deep.equal([bestAsk, asks.filter((a) => a.p === bestAsk).reduce((n, a) => n + a.s, 0)]);
    expect(books.orders.size).to.equal(38);
    expect(books.counters.unknownOrder).to.equal(1); // the 'D' in frame 1 deletes an order added before the capture
    expect(rec.batches).to.equal(2);
  });
});
