import { expect } from 'chai';
import { SmartRouter, RouteRule, SmartRouterOptions } from '../../lib/router/smart-router';
import type { Side, VenueBookView } from '../../lib/router/types';
import { TickpathError } from '../../lib/errors';

const VENUES = ['NSDQ', 'ARCA', 'BATS', 'IEX'];
const rule = (venue: string, share: number, priority: number, over: Partial<RouteRule> = {}): RouteRule =>
  ({ venue, share, priority, active: true, feePerShare: 0.003, ...over });

class FakeBook implements VenueBookView {
  sizes = new Map<string, number>();   // `${symbol}/${venue}` -> displayed at or better than any limit
  calls: { venue: string; side: Side; limit: number }[] = [];
  displayedAtOrBetter(symbol: string, venue: string, side: Side, limit: number): number {
    this.calls.push({ venue, side, limit });
    return this.sizes.get(`${symbol}/${venue}`) ?? 0;
  }
}

function slices(r: SmartRouter, n: number): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i < n; i++) out.push([r.venues[r.sliceVenue[i]], r.sliceQty[i]]);
  return out;
}

function make(over: Partial<SmartRouterOptions> = {}): SmartRouter {
  return new SmartRouter({ venues: VENUES, defaultVenue: 'NSDQ', mode: 'rules', rules: {}, ...over });
}

describe('SmartRouter', () => {
  describe("'rules' mode", () => {
    it('splits by participation share with floor rounding and leftovers in priority order', () => {
      const r = make({ rules: { AAPL: [rule('ARCA', 1, 2), rule('NSDQ', 1, 1), rule('BATS', 1, 3)] } });
      // 100 / 3 = 33 each, 1 left: goes to the first in priority order (NSDQ)
      expect(slices(r, r.route('AAPL', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 34], ['ARCA', 33], ['BATS', 33]]);
      // 2 left over -> NSDQ and ARCA
      expect(slices(r, r.route('AAPL', 'B', 101, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 34], ['ARCA', 34], ['BATS', 33]]);
    });

    it('uses relative shares and drops venues whose share rounds to zero', () => {
      const r = make({ rules: { AAPL: [rule('NSDQ', 0.6, 1), rule('ARCA', 0.3, 2), rule('IEX', 0.1, 3)] } });
      expect(slices(r, r.route('AAPL', 'S', 1000, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 600], ['ARCA', 300], ['IEX', 100]]);
      expect(slices(r, r.route('AAPL', 'S', 3, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 2], ['ARCA', 1]]);
      expect(slices(r, r.route('AAPL', 'S', 1, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 1]]);
    });

    it('skips inactive rules and venues whose session is down, re-spreading their share', () => {
      const r = make({ rules: { AAPL: [rule('NSDQ', 1, 1), rule('ARCA', 1, 2, { active: false }), rule('BATS', 1, 3)] } });
      expect(slices(r, r.route('AAPL', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 50], ['BATS', 50]]);
      r.setVenueUp(r.venueIndex('BATS'), false);
      expect(slices(r, r.route('AAPL', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 100]]);
      r.setRuleActive('AAPL', 'ARCA', true);
      expect(slices(r, r.route('AAPL', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 50], ['ARCA', 50]]);
    });

    it('breaks priority ties by lower fee, then by config order', () => {
      const r = make({ rules: {
        AAPL: [rule('ARCA', 1, 1, { feePerShare: 0.003 }), rule('BATS', 1, 1, { feePerShare: 0.001 })],
        MSFT: [rule('ARCA', 1, 1), rule('BATS', 1, 1)],
      } });
      expect(slices(r, r.route('AAPL', 'B', 3, 1, 'LIMIT'))).to.deep.equal([['BATS', 2], ['ARCA', 1]]);
      expect(slices(r, r.route('MSFT', 'B', 3, 1, 'LIMIT'))).to.deep.equal([['ARCA', 2], ['BATS', 1]]);
    });

    it('sends a symbol without rules, or with every rule inactive, to the default route', () => {
      const r = make({ rules: { AAPL: [rule('ARCA', 1, 1, { active: false })] } });
      expect(slices(r, r.route('ZZZZ', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 100]]);
      expect(slices(r, r.route('AAPL', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 100]]);
    });

    it('returns no route when nothing can take the order', () => {
      const r = make({ rules: { AAPL: [rule('ARCA', 1, 1)] } });
      r.setVenueUp(r.venueIndex('NSDQ'), false);
      expect(slices(r, r.route('ZZZZ', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['ARCA', 100]]);   // stand-in
      r.setVenueUp(r.venueIndex('ARCA'), false);
      expect(r.route('AAPL', 'B', 100, 1, 'LIMIT'), 'AAPL rules name only ARCA').to.equal(0);
      expect(slices(r, r.route('ZZZZ', 'B', 100, 1, 'LIMIT'))).to.deep.equal([['BATS', 100]]);
      for (const v of VENUES) r.setVenueUp(r.venueIndex(v), false);
      expect(r.route('ZZZZ', 'B', 100, 1, 'LIMIT')).to.equal(0);
    });

    it('property: slices always sum to the order quantity and are positive', () => {
      const r = make({ rules: { AAPL: [rule('NSDQ', 0.37, 1), rule('ARCA', 0.21, 1), rule('BATS', 0.42, 2)] } });
      for (let qty = 1; qty <= 2000; qty += 7) {
        const n = r.route('AAPL', 'B', qty, 1, 'LIMIT');
        let sum = 0;
        for (let i = 0; i < n; i++) { expect(r.sliceQty[i]).to.be.greaterThan(0); sum += r.sliceQty[i]; }
        expect(sum).to.equal(qty);
      }
    });
  });

  describe("'liquidity' mode", () => {
    let book: FakeBook;
    beforeEach(() => { book = new FakeBook(); });
    const liq = (rules: Record<string, RouteRule[]> = {}) => make({ mode: 'liquidity', book, rules });

    it('splits in proportion to displayed size when it covers the order', () => {
      book.sizes.set('AAPL/ARCA', 300); book.sizes.set('AAPL/BATS', 100); book.sizes.set('AAPL/IEX', 600);
      const r = liq();
      expect(slices(r, r.route('AAPL', 'B', 500, 1_000_000, 'LIMIT'))).to.deep.equal([['ARCA', 150], ['BATS', 50], ['IEX', 300]]);
      expect(book.calls[0]).to.deep.equal({ venue: 'NSDQ', side: 'B', limit: 1_000_000 });
    });

    it('never gives a venue more than it displays when rounding', () => {
      book.sizes.set('AAPL/NSDQ', 1); book.sizes.set('AAPL/ARCA', 2);
      const r = liq();
      expect(slices(r, r.route('AAPL', 'S', 3, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 1], ['ARCA', 2]]);
    });

    it('takes what is displayed and rests the rest on the default venue', () => {
      book.sizes.set('AAPL/ARCA', 200); book.sizes.set('AAPL/BATS', 100);
      const r = liq();
      expect(slices(r, r.route('AAPL', 'B', 1000, 1, 'LIMIT'))).to.deep.equal([['ARCA', 200], ['BATS', 100], ['NSDQ', 700]]);
      book.sizes.set('AAPL/NSDQ', 50);
      // NSDQ shows 50 and also takes the 650 nobody shows: one slice, merged
      expect(slices(r, r.route('AAPL', 'B', 1000, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 700], ['ARCA', 200], ['BATS', 100]]);
    });

    it('with no displayed liquidity, routes everything to the default venue', () => {
      const r = liq();
      expect(slices(r, r.route('AAPL', 'B', 1000, 1, 'LIMIT'))).to.deep.equal([['NSDQ', 1000]]);
    });

    it('asks the book with an any-price limit for market orders', () => {
      const r = liq();
      r.route('AAPL', 'B', 10, 0, 'MARKET');
      r.route('AAPL', 'S', 10, 0, 'MARKET');
      expect(book.calls[0].limit).to.equal(0xffffffff);
      expect(book.calls[VENUES.length].limit).to.equal(0);
    });

    it('only considers the symbol rules\' eligible venues when the symbol has rules', () => {
      book.sizes.set('AAPL/ARCA', 500); book.sizes.set('AAPL/BATS', 500);
      const r = liq({ AAPL: [rule('BATS', 1, 1), rule('ARCA', 1, 2, { active: false })] });
      expect(slices(r, r.route('AAPL', 'B', 400, 1, 'LIMIT'))).to.deep.equal([['BATS', 400]]);
    });
  });

  it('validates its options with exact messages', () => {
    expect(() => make({ defaultVenue: 'XNYS' }))
      .to.throw(TickpathError, "SmartRouter: option 'defaultVenue' is \"XNYS\", expected one of NSDQ, ARCA, BATS, IEX");
    expect(() => make({ mode: 'liquidity' }))
      .to.throw(TickpathError, "SmartRouter: option 'book' is undefined, expected a VenueBookView in 'liquidity' mode");
    expect(() => make({ rules: { AAPL: [rule('NSDQ', 0, 1)] } }))
      .to.throw(TickpathError, "SmartRouter: option 'rules.AAPL[0].share' is 0, expected a number > 0");
  });
});
