/**
 * Pre-trade risk. Every new order and every replace goes through `checkNew` / `checkReplace`
 * before anything reaches a venue; a failed check returns a RejectReason that the router turns
 * into an explicit reject event — nothing is dropped silently.
 *
 * Threading: single writer, the router worker. `checkNew` both checks and reserves (token, daily
 * and per-symbol notional, client order id) so there is no window between the check and the
 * booking in which a second order could slip past a limit. Notional is counted when an order is
 * accepted and never given back on cancel: the daily limits bound what was sent, which is the
 * conservative reading a desk's risk officer expects.
 *
 * Ids the router generates are unique by construction and are not kept (pass null): the used-id set
 * holds only ids that arrive as strings (a caller's clOrdId, ids restored from the journal), so an
 * order costs no set entry. Per-symbol notional sits in a Float64Array by symbol index: a Map of
 * fractional numbers would box a new HeapNumber on every order.
 *
 * Symbols by index: built on an OrderManager (the router's), the checker shares its symbol indices
 * (`internSymbol`), so OrderRouter looks a new order's symbol up once and passes the index; the
 * per-symbol notional and open-order count are then typed-array loads, no Map lookup. The
 * throttle's clock is the caller's (`nowMs`, OrderRouter passes the journal's clock: one load)
 * unless the checker was given its own `now`.
 *
 * Notional is in dollars: qty * price / 10000 (Price(4)). Market orders are valued at the far
 * side of the BBO (ask for a buy, bid for a sell); with no such price they are refused.
 */
import { invalidOption } from '../errors';
import type { BboSource, OrderRequest, RejectReason, Side } from './types';

export interface RiskLimits {
  maxOrderQty: number;
  maxOrderNotional: number;        // USD
  maxDailyNotional: number;        // USD, all symbols
  maxSymbolNotional: number;       // USD per symbol per day
  maxOpenOrdersPerSymbol: number;
  /** A buy may not be priced more than this many basis points above the ask (sell: below the bid). 0 disables. */
  priceCollarBps: number;
  maxOrdersPerSecond: number;
}

/** Tells the checker how many orders are open for a symbol (OrderManager implements it). */
export interface OpenOrderSource {
  openOrders(symbol: string): number;
}

/** An OpenOrderSource that also numbers symbols (OrderManager): the checker then goes by index. */
export interface IndexedOpenOrderSource extends OpenOrderSource {
  internSymbol(symbol: string): number;
  /** The index if the symbol was interned, else -1. */
  symbolIndex(symbol: string): number;
  openOrdersAt(sym: number): number;
}

function isIndexed(open: OpenOrderSource): open is IndexedOpenOrderSource {
  const o = open as Partial<IndexedOpenOrderSource>;
  return typeof o.internSymbol === 'function' && typeof o.openOrdersAt === 'function' && typeof o.symbolIndex === 'function';
}

const LIMIT_NAMES: readonly (keyof RiskLimits)[] = [
  'maxOrderQty', 'maxOrderNotional', 'maxDailyNotional', 'maxSymbolNotional',
  'maxOpenOrdersPerSymbol', 'priceCollarBps', 'maxOrdersPerSecond',
];

export function validateRiskLimits(where: string, limits: RiskLimits): void {
  for (const name of LIMIT_NAMES) {
    const v = limits[name];
    const min = name === 'priceCollarBps' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw invalidOption(where, name, v, `a finite number >= ${min}`);
    }
  }
}

export class RiskChecker {
  private readonly limits: RiskLimits;
  private readonly bbo: BboSource;
  private readonly open: OpenOrderSource;
  private readonly now: () => number;
  /** True when `now` was given: the throttle then ignores the caller's clock. */
  private readonly ownClock: boolean;
  /** `open` when it numbers symbols: its indices are this checker's. */
  private readonly indexed: IndexedOpenOrderSource | null;

  // Token bucket: capacity = maxOrdersPerSecond, refilled continuously.
  private tokens: number;
  private lastRefillMs: number;

  private dailyNotional = 0;
  private readonly symbolIdx = new Map<string, number>();
  private symbolNotionals = new Float64Array(64);
  private readonly seenClOrdIds = new Set<string>();
  private killed = false;
  private killReason = '';

  /** Rejects by reason, for `stats()`. */
  private readonly rejectCounts = new Map<RejectReason, number>();
  /** Detail of the last reject (limit and value), for the reject event's text. */
  lastDetail = '';

  constructor(limits: RiskLimits, bbo: BboSource, open: OpenOrderSource, now: () => number = Date.now) {
    validateRiskLimits('RiskChecker', limits);
    this.limits = { ...limits };
    this.bbo = bbo;
    this.open = open;
    this.now = now;
    this.ownClock = now !== Date.now;
    this.indexed = isIndexed(open) ? open : null;
    this.tokens = limits.maxOrdersPerSecond;
    this.lastRefillMs = now();
  }

  /** True when `open` is this checker's symbol numbering: indices from its `internSymbol` may be passed to `checkNew`. */
  sharesSymbolsWith(open: OpenOrderSource): boolean {
    return this.indexed !== null && this.indexed === open;
  }

  /**
   * Checks a new order and, if it passes, books its notional, id and throttle token. Returns null
   * on pass. `sym`: the symbol's index when the caller has it (see `sharesSymbolsWith`), else -1;
   * `nowMs`: the caller's clock reading for the throttle, else -1 (one clock read here).
   */
  /**
   * Keep-warm (the router stage's OrderPathWarmer): reads what checkNew reads for `symbol` (its
   * notional and open orders, the limits, the token bucket, the day's notional), so an order after
   * a quiet stretch finds them cached. Reads only: no symbol is interned, nothing is reserved.
   * Returns a sum the caller keeps (so the loads stay); 0 for a symbol never traded.
   */
  touchSymbol(symbol: string): number {
    const sym = this.indexed !== null ? this.indexed.symbolIndex(symbol) : (this.symbolIdx.get(symbol) ?? -1);
    if (sym < 0 || sym >= this.symbolNotionals.length) return 0;
    const l = this.limits;
    const open = this.indexed !== null ? this.indexed.openOrdersAt(sym) : 0;
    return this.symbolNotionals[sym] + open + this.tokens + this.dailyNotional + l.maxOrderQty + l.maxOrderNotional
      + l.maxSymbolNotional + l.maxOpenOrdersPerSymbol + l.priceCollarBps;
  }

  checkNew(req: OrderRequest, clOrdId: string | null, symIn = -1, nowMs = -1): RejectReason | null {
    if (this.killed) return this.fail('KILL_SWITCH', this.killReason);
    if (clOrdId !== null && this.seenClOrdIds.has(clOrdId)) return this.fail('DUPLICATE_CLORDID', clOrdId);
    const l = this.limits;
    if (req.qty > l.maxOrderQty) return this.fail('MAX_ORDER_QTY', `${req.qty} > ${l.maxOrderQty}`);

    const refPrice = this.valuationPrice(req.symbol, req.side, req.ordType === 'MARKET' ? 0 : req.price);
    if (refPrice <= 0) return this.fail('NO_REFERENCE_PRICE', req.symbol);
    if (req.ordType === 'LIMIT' && l.priceCollarBps > 0) {
      const r = this.checkCollar(req.symbol, req.side, req.price);
      if (r !== null) return r;
    }
    const notional = (req.qty * refPrice) / 10000;
    if (notional > l.maxOrderNotional) return this.fail('MAX_ORDER_NOTIONAL', `${notional} > ${l.maxOrderNotional}`);
    if (this.dailyNotional + notional > l.maxDailyNotional) {
      return this.fail('MAX_DAILY_NOTIONAL', `${this.dailyNotional} + ${notional} > ${l.maxDailyNotional}`);
    }
    const sym = symIn >= 0 ? symIn : this.symbolIndex(req.symbol);
    if (sym >= this.symbolNotionals.length) this.growNotionals(sym);
    const symNotional = this.symbolNotionals[sym];
    if (symNotional + notional > l.maxSymbolNotional) {
      return this.fail('MAX_SYMBOL_NOTIONAL', `${req.symbol}: ${symNotional} + ${notional} > ${l.maxSymbolNotional}`);
    }
    const open = this.indexed !== null ? this.indexed.openOrdersAt(sym) : this.open.openOrders(req.symbol);
    if (open >= l.maxOpenOrdersPerSymbol) {
      return this.fail('MAX_OPEN_ORDERS', `${req.symbol}: ${open} open, limit ${l.maxOpenOrdersPerSymbol}`);
    }
    if (!this.takeToken(nowMs)) return this.fail('THROTTLED', `${l.maxOrdersPerSecond}/s`);

    // Passed: book it.
    if (clOrdId !== null) this.seenClOrdIds.add(clOrdId);
    this.dailyNotional += notional;
    this.symbolNotionals[sym] = symNotional + notional;
    return null;
  }

  /**
   * Checks a replace of an open order to newQty/newPrice. Only an increase in notional is booked
   * (a smaller order cannot add risk). The new client order id is checked for duplicates too.
   */
  checkReplace(symbol: string, side: Side, oldQty: number, oldPrice: number, newQty: number, newPrice: number,
    newClOrdId: string | null): RejectReason | null {
    if (this.killed) return this.fail('KILL_SWITCH', this.killReason);
    if (newClOrdId !== null && this.seenClOrdIds.has(newClOrdId)) return this.fail('DUPLICATE_CLORDID', newClOrdId);
    const l = this.limits;
    if (newQty > l.maxOrderQty) return this.fail('MAX_ORDER_QTY', `${newQty} > ${l.maxOrderQty}`);
    if (l.priceCollarBps > 0) {
      const r = this.checkCollar(symbol, side, newPrice);
      if (r !== null) return r;
    }
    const newNotional = (newQty * newPrice) / 10000;
    if (newNotional > l.maxOrderNotional) return this.fail('MAX_ORDER_NOTIONAL', `${newNotional} > ${l.maxOrderNotional}`);
    const delta = newNotional - (oldQty * oldPrice) / 10000;
    const sym = this.symbolIndex(symbol);
    const symNotional = this.symbolNotionals[sym];
    if (delta > 0) {
      if (this.dailyNotional + delta > l.maxDailyNotional) {
        return this.fail('MAX_DAILY_NOTIONAL', `${this.dailyNotional} + ${delta} > ${l.maxDailyNotional}`);
      }
      if (symNotional + delta > l.maxSymbolNotional) {
        return this.fail('MAX_SYMBOL_NOTIONAL', `${symbol}: ${symNotional} + ${delta} > ${l.maxSymbolNotional}`);
      }
    }
    if (!this.takeToken()) return this.fail('THROTTLED', `${l.maxOrdersPerSecond}/s`);
    if (newClOrdId !== null) this.seenClOrdIds.add(newClOrdId);
    if (delta > 0) {
      this.dailyNotional += delta;
      this.symbolNotionals[sym] = symNotional + delta;
    }
    return null;
  }

  /** Marks an id as used without checks (journal recovery, router-generated child ids). */
  reserveClOrdId(clOrdId: string): void {
    this.seenClOrdIds.add(clOrdId);
  }

  /** Books notional without checks (journal recovery of orders accepted before a restart). */
  restoreNotional(symbol: string, notional: number): void {
    this.dailyNotional += notional;
    this.symbolNotionals[this.symbolIndex(symbol)] += notional;
  }

  /** Blocks every new order and replace until `releaseKillSwitch`. The router also cancels all open orders. */
  engageKillSwitch(reason: string): void {
    this.killed = true;
    this.killReason = reason;
  }

  releaseKillSwitch(): void {
    this.killed = false;
    this.killReason = '';
  }

  get killSwitchEngaged(): boolean {
    return this.killed;
  }

  /** Start of a new trading day: daily notional and the duplicate-id set are cleared. */
  resetDay(): void {
    this.dailyNotional = 0;
    this.symbolNotionals.fill(0);
    this.seenClOrdIds.clear();
  }

  get usedDailyNotional(): number {
    return this.dailyNotional;
  }

  usedSymbolNotional(symbol: string): number {
    const i = this.indexed !== null ? this.indexed.symbolIndex(symbol) : (this.symbolIdx.get(symbol) ?? -1);
    return i < 0 || i >= this.symbolNotionals.length ? 0 : this.symbolNotionals[i];
  }

  /** A symbol's index in symbolNotionals: the OrderManager's when indexed, else this checker's own. */
  private symbolIndex(symbol: string): number {
    if (this.indexed !== null) {
      const k = this.indexed.internSymbol(symbol);
      if (k >= this.symbolNotionals.length) this.growNotionals(k);
      return k;
    }
    let i = this.symbolIdx.get(symbol);
    if (i === undefined) {
      i = this.symbolIdx.size;
      this.symbolIdx.set(symbol, i);
      if (i >= this.symbolNotionals.length) this.growNotionals(i);
    }
    return i;
  }

  /** Rare: doubles symbolNotionals until index `sym` fits. */
  private growNotionals(sym: number): void {
    let n = this.symbolNotionals.length;
    while (n <= sym) n *= 2;
    const grown = new Float64Array(n);
    grown.set(this.symbolNotionals);
    this.symbolNotionals = grown;
  }

  stats(): Record<string, number> {
    const out: Record<string, number> = { dailyNotional: this.dailyNotional, killSwitch: this.killed ? 1 : 0 };
    for (const [k, v] of this.rejectCounts) out[`reject_${k}`] = v;
    return out;
  }

  private valuationPrice(symbol: string, side: Side, limitPrice: number): number {
    if (limitPrice > 0) return limitPrice;
    return side === 'B' ? this.bbo.bestAsk(symbol) : this.bbo.bestBid(symbol);
  }

  /** A buy above ask * (1 + collar) or a sell below bid * (1 - collar) is refused; no BBO side is refused too. */
  private checkCollar(symbol: string, side: Side, price: number): RejectReason | null {
    const bps = this.limits.priceCollarBps;
    if (side === 'B') {
      const ask = this.bbo.bestAsk(symbol);
      const ref = ask > 0 ? ask : this.bbo.bestBid(symbol);
      if (ref <= 0) return this.fail('NO_REFERENCE_PRICE', symbol);
      const max = Math.floor(ref * (10000 + bps) / 10000);
      if (price > max) return this.fail('PRICE_COLLAR', `buy ${dollars(price)} > ${dollars(max)} (reference ${dollars(ref)}, ${bps} bps)`);
    } else {
      const bid = this.bbo.bestBid(symbol);
      const ref = bid > 0 ? bid : this.bbo.bestAsk(symbol);
      if (ref <= 0) return this.fail('NO_REFERENCE_PRICE', symbol);
      const min = Math.ceil(ref * (10000 - bps) / 10000);
      if (price < min) return this.fail('PRICE_COLLAR', `sell ${dollars(price)} < ${dollars(min)} (reference ${dollars(ref)}, ${bps} bps)`);
    }
    return null;
  }

  private takeToken(nowMs = -1): boolean {
    const now = nowMs >= 0 && !this.ownClock ? nowMs : this.now();
    const rate = this.limits.maxOrdersPerSecond;
    const elapsed = now - this.lastRefillMs;
    if (elapsed > 0) {
      this.tokens = Math.min(rate, this.tokens + (elapsed * rate) / 1000);
      this.lastRefillMs = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private fail(reason: RejectReason, detail: string): RejectReason {
    // Template strings above run only on the reject path, never for an order that passes.
    this.lastDetail = detail;
    this.rejectCounts.set(reason, (this.rejectCounts.get(reason) ?? 0) + 1);
    return reason;
  }
}

/** Price(4) as dollars for reject details, which people read beside events priced in dollars. */
function dollars(price4: number): string {
  return (price4 / 10000).toFixed(4);
}
