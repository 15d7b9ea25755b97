import { expect } from 'chai';
import { RiskChecker, RiskLimits } from '../../lib/router/risk-checker';
import type { BboSource, OrderRequest } from '../../lib/router/types';
import { TickpathError } from '../../lib/errors';

class FakeBbo implements BboSource {
  bids = new Map<string, number>();
  asks = new Map<string, number>();
  bestBid(s: string): number { return this.bids.get(s) ?? 0; }
  bestAsk(s: string): number { return this.asks.get(s) ?? 0; }
}

const LIMITS: RiskLimits = {
  maxOrderQty: 10_000,
  maxOrderNotional: 100_000,
  maxDailyNotional: 250_000,
  maxSymbolNotional: 150_000,
  maxOpenOrdersPerSymbol: 3,
  priceCollarBps: 100,        // 1 %
  maxOrdersPerSecond: 5,
};

function req(over: Partial<OrderRequest> = {}): OrderRequest {
  return { symbol: 'AAPL', side: 'B', qty: 100, price: 1_000_000, ordType: 'LIMIT', tif: 'DAY', ...over };
}

describe('RiskChecker', () => {
  let bbo: FakeBbo;
  let open: Map<string, number>;
  let nowMs: number;
  let risk: RiskChecker;
  let seq: number;
  const id = () => `ID${++seq}`;

  beforeEach(() => {
    bbo = new FakeBbo();
    bbo.bids.set('AAPL', 999_900); bbo.asks.set('AAPL', 1_000_000);   // 99.99 / 100.00
    bbo.bids.set('MSFT', 3_999_000); bbo.asks.set('MSFT', 4_000_000);
    open = new Map();
    nowMs = 1_000_000;
    seq = 0;
    risk = new RiskChecker({ ...LIMITS, maxOrdersPerSecond: 1000 }, bbo,
      { openOrders: (s) => open.get(s) ?? 0 }, () => nowMs);
  });

  it('passes an order inside every limit and books its notional', () => {
    expect(risk.checkNew(req(), id())).to.equal(null);
    expect(risk.usedDailyNotional).to.equal(10_000);       // 100 sh * $100
    expect(risk.usedSymbolNotional('AAPL')).to.equal(10_000);
  });

  it('rejects an order above max order size', () => {
    expect(risk.checkNew(req({ qty: 10_001 }), id())).to.equal('MAX_ORDER_QTY');
    expect(risk.lastDetail).to.equal('10001 > 10000');
    expect(risk.checkNew(req({ qty: 10_000, price: 50_000 }), id())).to.equal(null);
  });

  it('rejects an order above max notional per order', () => {
    // 1001 * $100 = $100,100 > $100,000
    expect(risk.checkNew(req({ qty: 1001 }), id())).to.equal('MAX_ORDER_NOTIONAL');
    expect(risk.checkNew(req({ qty: 1000 }), id())).to.equal(null);
  });

  it('rejects once the day notional would be exceeded, across symbols', () => {
    expect(risk.checkNew(req({ qty: 1000 }), id())).to.equal(null);                                  // 100k AAPL
    expect(risk.checkNew(req({ symbol: 'MSFT', qty: 250, price: 4_000_000 }), id())).to.equal(null); // 100k MSFT
    expect(risk.checkNew(req({ symbol: 'MSFT', qty: 126, price: 4_000_000 }), id())).to.equal('MAX_DAILY_NOTIONAL');
    expect(risk.checkNew(req({ symbol: 'MSFT', qty: 125, price: 4_000_000 }), id())).to.equal(null); // exactly 250k
    expect(risk.usedDailyNotional).to.equal(250_000);
  });

  it('rejects once the symbol notional would be exceeded, other symbols unaffected', () => {
    expect(risk.checkNew(req({ qty: 1000 }), id())).to.equal(null);
    expect(risk.checkNew(req({ qty: 501 }), id())).to.equal('MAX_SYMBOL_NOTIONAL');
    expect(risk.checkNew(req({ qty: 500 }), id())).to.equal(null);
    expect(risk.checkNew(req({ symbol: 'MSFT', qty: 10, price: 4_000_000 }), id())).to.equal(null);
  });

  it('rejects when the symbol already has max open orders', () => {
    open.set('AAPL', 3);
    expect(risk.checkNew(req(), id())).to.equal('MAX_OPEN_ORDERS');
    expect(risk.checkNew(req({ symbol: 'MSFT', price: 4_000_000 }), id())).to.equal(null);
    open.set('AAPL', 2);
    expect(risk.checkNew(req(), id())).to.equal(null);
  });

  it('rejects a buy priced through the ask by more than the collar, and a sell below the bid', () => {
    // ask 100.00, 100 bps -> max buy 101.00
    expect(risk.checkNew(req({ price: 1_010_000 }), id())).to.equal(null);
    expect(risk.checkNew(req({ price: 1_010_001 }), id())).to.equal('PRICE_COLLAR');
    // The detail is in dollars, like the order events beside it, not Price(4) integers.
    expect(risk.lastDetail).to.equal('buy 101.0001 > 101.0000 (reference 100.0000, 100 bps)');
    // bid 99.99, 100 bps -> min sell 98.9901 (ceil of 989901)
    expect(risk.checkNew(req({ side: 'S', price: 989_901 }), id())).to.equal(null);
    expect(risk.checkNew(req({ side: 'SS', price: 989_900 }), id())).to.equal('PRICE_COLLAR');
    // passive prices far from the market are not a collar breach
    expect(risk.checkNew(req({ price: 500_000 }), id())).to.equal(null);
  });

  it('rejects a limit order with no BBO at all and a market order with no far side', () => {
    expect(risk.checkNew(req({ symbol: 'NOBOOK' }), id())).to.equal('NO_REFERENCE_PRICE');
    bbo.bids.set('HALF', 500_000);
    expect(risk.checkNew(req({ symbol: 'HALF', ordType: 'MARKET', price: 0 }), id())).to.equal('NO_REFERENCE_PRICE');
    expect(risk.checkNew(req({ symbol: 'HALF', side: 'S', ordType: 'MARKET', price: 0 }), id())).to.equal(null);
  });

  it('values a market order at the far side of the BBO', () => {
    expect(risk.checkNew(req({ ordType: 'MARKET', price: 0, qty: 200 }), id())).to.equal(null);
    expect(risk.usedDailyNotional).to.equal(20_000);
    expect(risk.checkNew(req({ ordType: 'MARKET', price: 0, qty: 1001 }), id())).to.equal('MAX_ORDER_NOTIONAL');
  });

  it('rejects a duplicate client order id, even after the first was rejected elsewhere', () => {
    expect(risk.checkNew(req(), 'A1')).to.equal(null);
    expect(risk.checkNew(req(), 'A1')).to.equal('DUPLICATE_CLORDID');
    risk.reserveClOrdId('A2');
    expect(risk.checkNew(req(), 'A2')).to.equal('DUPLICATE_CLORDID');
  });

  it('throttles with a token bucket refilled by the injected clock', () => {
    risk = new RiskChecker(LIMITS, bbo, { openOrders: () => 0 }, () => nowMs);
    for (let i = 0; i < 5; i++) expect(risk.checkNew(req({ qty: 1 }), id())).to.equal(null);
    expect(risk.checkNew(req({ qty: 1 }), id())).to.equal('THROTTLED');
    nowMs += 199;                                       // 0.995 token
    expect(risk.checkNew(req({ qty: 1 }), id())).to.equal('THROTTLED');
    nowMs += 2;                                         // > 1 token
    expect(risk.checkNew(req({ qty: 1 }), id())).to.equal(null);
    nowMs += 10_000;                                    // refill caps at the bucket size
    for (let i = 0; i < 5; i++) expect(risk.checkNew(req({ qty: 1 }), id())).to.equal(null);
    expect(risk.checkNew(req({ qty: 1 }), id())).to.equal('THROTTLED');
    expect(risk.stats().reject_THROTTLED).to.equal(3);
  });

  it('a throttled order books nothing and can be retried with the same id', () => {
    risk = new RiskChecker(LIMITS, bbo, { openOrders: () => 0 }, () => nowMs);
    for (let i = 0; i < 5; i++) risk.checkNew(req({ qty: 1 }), id());
    const before = risk.usedDailyNotional;
    expect(risk.checkNew(req(), 'RETRY')).to.equal('THROTTLED');
    expect(risk.usedDailyNotional).to.equal(before);
    nowMs += 1000;
    expect(risk.checkNew(req(), 'RETRY')).to.equal(null);
  });

  it('kill switch blocks new orders and replaces until released', () => {
    risk.engageKillSwitch('desk halt');
    expect(risk.killSwitchEngaged).to.equal(true);
    expect(risk.checkNew(req(), id())).to.equal('KILL_SWITCH');
    expect(risk.lastDetail).to.equal('desk halt');
    expect(risk.checkReplace('AAPL', 'B', 100, 1_000_000, 50, 1_000_000, id())).to.equal('KILL_SWITCH');
    risk.releaseKillSwitch();
    expect(risk.checkNew(req(), id())).to.equal(null);
  });

  it('replace books only a notional increase and applies size, collar and duplicate checks', () => {
    expect(risk.checkNew(req({ qty: 500 }), 'O1')).to.equal(null);                  // 50k
    expect(risk.checkReplace('AAPL', 'B', 500, 1_000_000, 400, 1_000_000, 'O2')).to.equal(null);
    expect(risk.usedDailyNotional).to.equal(50_000);
    expect(risk.checkReplace('AAPL', 'B', 400, 1_000_000, 900, 1_000_000, 'O3')).to.equal(null);
    expect(risk.usedDailyNotional).to.equal(100_000);
    expect(risk.checkReplace('AAPL', 'B', 900, 1_000_000, 900, 1_020_000, 'O4')).to.equal('PRICE_COLLAR');
    expect(risk.checkReplace('AAPL', 'B', 900, 1_000_000, 20_000, 10_000, 'O5')).to.equal('MAX_ORDER_QTY');
    expect(risk.checkReplace('AAPL', 'B', 900, 1_000_000, 800, 1_000_000, 'O1')).to.equal('DUPLICATE_CLORDID');
  });

  it('resetDay clears day notional and ids', () => {
    risk.checkNew(req({ qty: 1000 }), 'X');
    risk.resetDay();
    expect(risk.usedDailyNotional).to.equal(0);
    expect(risk.checkNew(req(), 'X')).to.equal(null);
  });

  describe('dryCheckNew (the keep-warm\'s check on the real checker)', () => {
    // A checker that numbers symbols as OrderRouter's does (an OrderManager's indices).
    const indexed = (syms: string[], openAt: number[]) => ({
      openOrders: (s: string) => openAt[syms.indexOf(s)] ?? 0,
      internSymbol: (s: string) => { if (!syms.includes(s)) syms.push(s); return syms.indexOf(s); },
      symbolIndex: (s: string) => syms.indexOf(s),
      openOrdersAt: (i: number) => openAt[i] ?? 0,
    });
    // Every field of the checker, copied (arrays, maps and sets by value; its collaborators by identity).
    const state = (r: RiskChecker): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) {
        out[k] = v instanceof Float64Array ? Array.from(v) : v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v] : v;
      }
      return out;
    };

    it('runs checkNew itself and leaves every field as it was, on a pass and on each refusal; the next real order gets what it would have got', () => {
      const limits = { ...LIMITS, maxOrdersPerSecond: 3 };
      // One symbol source and clock for both, so the final comparison sees only what the checks did.
      const src = indexed(['AAPL', 'MSFT'], [0, 3]);
      const clock = () => nowMs;
      const twin = () => new RiskChecker(limits, bbo, src, clock);
      const warmed = twin();
      const plain = twin();
      // Real orders on both: notional booked, tokens used, a refusal counted.
      for (const r of [warmed, plain]) {
        expect(r.checkNew(req(), 'A1', 0, -1)).to.equal(null);
        expect(r.checkNew(req({ qty: 20_000 }), null, 0, -1)).to.equal('MAX_ORDER_QTY');
      }
      let calls = 0;
      const checkNew = warmed.checkNew;
      // The router calls checkNew through an own-property wrapper (the order-path probe): the dry run goes through it too.
      warmed.checkNew = (q, id, sym, now) => { calls++; return checkNew.call(warmed, q, id, sym, now); };
      const cases: [Partial<OrderRequest>, number, number][] = [
        [{}, 0, 1],                            // passes: tokens, day and AAPL notional would move
        [{ qty: 20_000 }, 0, 0],               // MAX_ORDER_QTY (already counted once: the count goes back to 1)
        [{ price: 1_100_000 }, 0, 0],          // PRICE_COLLAR (never counted before: the key goes again)
        [{ symbol: 'MSFT', price: 4_000_000 }, 1, 0],   // MAX_OPEN_ORDERS (3 open)
      ];
      for (const [over, sym, expected] of cases) {
        nowMs += 100;                          // the bucket refills inside checkNew: that must not stay either
        const before = state(warmed);
        const n = calls;
        expect(warmed.dryCheckNew(req(over), sym, nowMs)).to.equal(expected);
        expect(calls - n).to.equal(1);
        expect(state(warmed), JSON.stringify(over)).to.deep.equal(before);
      }
      // Throttled: the bucket emptied by real orders, then dry checks.
      for (const r of [warmed, plain]) {
        for (let i = 0; i < 4; i++) expect(r.checkNew(req({ qty: 1 }), null, 0, nowMs)).to.equal(i < 3 ? null : 'THROTTLED');
      }
      const before = state(warmed);
      expect(warmed.dryCheckNew(req(), 0, nowMs)).to.equal(0);
      expect(state(warmed)).to.deep.equal(before);
      // Not interned / beyond the notional slots: nothing is run.
      const n = calls;
      expect(warmed.dryCheckNew(req({ symbol: 'IBM' }), -1, nowMs)).to.equal(-1);
      expect(warmed.dryCheckNew(req(), 64, nowMs)).to.equal(-1);
      expect(calls).to.equal(n);
      // The next real orders (a later refill, then a pass) get the same results and leave the same state as on the checker without dry runs.
      nowMs += 250;
      for (const q of [req(), req({ symbol: 'MSFT', price: 4_000_000 }), req({ qty: 2 }), req({ qty: 3 })]) {
        expect(warmed.checkNew(q, null, q.symbol === 'MSFT' ? 1 : 0, nowMs)).to.equal(plain.checkNew(q, null, q.symbol === 'MSFT' ? 1 : 0, nowMs));
      }
      const { checkNew: _w, ...w } = state(warmed);
      expect(w).to.deep.equal(state(plain));
      expect(warmed.stats()).to.deep.equal(plain.stats());
    });
  });

  it('validates limits with a message naming the option, value and expectation', () => {
    expect(() => new RiskChecker({ ...LIMITS, maxOrderQty: 0 }, bbo, { openOrders: () => 0 }))
      .to.throw(TickpathError, "RiskChecker: option 'maxOrderQty' is 0, expected a finite number >= 1");
    expect(() => new RiskChecker({ ...LIMITS, priceCollarBps: -1 }, bbo, { openOrders: () => 0 }))
      .to.throw(TickpathError, "option 'priceCollarBps' is -1, expected a finite number >= 0");
  });
});
