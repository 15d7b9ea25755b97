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

  it('validates limits with a message naming the option, value and expectation', () => {
    expect(() => new RiskChecker({ ...LIMITS, maxOrderQty: 0 }, bbo, { openOrders: () => 0 }))
      .to.throw(TickpathError, "RiskChecker: option 'maxOrderQty' is 0, expected a finite number >= 1");
    expect(() => new RiskChecker({ ...LIMITS, priceCollarBps: -1 }, bbo, { openOrders: () => 0 }))
      .to.throw(TickpathError, "option 'priceCollarBps' is -1, expected a finite number >= 0");
  });
});
