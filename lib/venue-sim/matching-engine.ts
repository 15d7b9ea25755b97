/**
 * Price-time priority limit order book per symbol, for the venue simulator. Orders are keyed by
 * (owner, token): the owner is the session that entered them (an OUCH username or a FIX
 * SenderCompID), so two sessions may reuse a token without colliding.
 *
 * Executions are reported for both sides of every match, so a test that crosses its own orders
 * sees both fills. Prices are Price(4) integers.
 *
 * Not a production matching engine: levels are sorted arrays and cancels are linear in the level.
 *
 * Keys: (owner, token) is one string, `owner<SOH>token`. A new order used to build it four times
 * (the front end's duplicate check, submit's check, the used-token set, the book's live map) and
 * the simulator a fifth time for its record: each a fresh concatenation flattened and hashed again
 * on the order's path to its ack. `tokenKey` keeps the last key it built, so the calls about one
 * order (the same owner and token strings) share one string and its cached hash, and the order
 * carries it (`EngineOrder.key`) for the book and the simulator. `hasToken` keeps the key it last
 * found unused, so submit's own check after the front end's does not probe the day's token set a
 * second time. With the simulator's record written after the ack (venue-simulator.ts), measured in
 * process (perf/fix-trip's pipe: FixConnector and the FIX front end, no sockets; median of 15,000
 * orders after 5,000, load 6-8): NewOrderSingle in -> the ack's send 3.28-3.47 -> 2.51-2.58 us.
 *
 * Threading: the simulator's event loop only.
 */

export type EngineSide = 'B' | 'S';

export interface EngineOrder {
  owner: string;
  token: string;
  symbol: string;
  side: EngineSide;
  price: number;
  /** Shares still open on the book. */
  open: number;
  market: boolean;
  ioc: boolean;
  orderRef: number;
  /** Opaque per-front-end data (the FIX adapter keeps OrderQty/CumQty there). */
  tag: unknown;
  /** `MatchingEngine.tokenKey(owner, token)`, made once when the order is entered: the simulator's records use it too. */
  key: string;
}

export interface MatchListener {
  onAccepted(order: EngineOrder): void;
  onExecuted(order: EngineOrder, qty: number, price: number, matchNumber: number, liquidity: 'A' | 'R'): void;
  onCanceled(order: EngineOrder, qty: number, reason: CancelReason): void;
  onReplaced(previous: EngineOrder, replacement: EngineOrder): void;
}

interface Level { price: number; orders: EngineOrder[] }

class SymbolBook {
  readonly bids: Level[] = []; // best (highest) first
  readonly asks: Level[] = []; // best (lowest) first

  levels(side: EngineSide): Level[] { return side === 'B' ? this.bids : this.asks; }

  insert(o: EngineOrder): void {
    const levels = this.levels(o.side);
    const better = o.side === 'B' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    let i = 0;
    while (i < levels.length && better(levels[i].price, o.price)) i++;
    if (i < levels.length && levels[i].price === o.price) levels[i].orders.push(o);
    else levels.splice(i, 0, { price: o.price, orders: [o] });
  }

  remove(o: EngineOrder): boolean {
    const levels = this.levels(o.side);
    for (let i = 0; i < levels.length; i++) {
      if (levels[i].price !== o.price) continue;
      const idx = levels[i].orders.indexOf(o);
      if (idx < 0) return false;
      levels[i].orders.splice(idx, 1);
      if (levels[i].orders.length === 0) levels.splice(i, 1);
      return true;
    }
    return false;
  }
}

/** Why an order left the book without a fill: asked, IOC remainder, or its session dropped (cancel on disconnect). */
export type CancelReason = 'user' | 'ioc' | 'disconnect';

export type EngineResult = 'ok' | 'unknown-order' | 'duplicate-token' | 'invalid';

export class MatchingEngine {
  private readonly books = new Map<string, SymbolBook>();
  private readonly live = new Map<string, EngineOrder>();
  /** Every (owner, token) ever entered today: tokens are day-unique, as on a real venue. */
  private readonly usedTokens = new Set<string>();
  private nextOrderRef = 1;
  private nextMatch = 1;

  constructor(private readonly listener: MatchListener) {}

  private keyOwner = '';
  private keyToken = '';
  private lastKey = '\u0001';

  /** The (owner, token) key: the last one built when asked about the same pair again (see the file comment). */
  tokenKey(owner: string, token: string): string {
    if (owner === this.keyOwner && token === this.keyToken) return this.lastKey;
    this.keyOwner = owner;
    this.keyToken = token;
    this.lastKey = `${owner}\u0001${token}`;
    return this.lastKey;
  }

  private book(symbol: string): SymbolBook {
    let b = this.books.get(symbol);
    if (!b) { b = new SymbolBook(); this.books.set(symbol, b); }
    return b;
  }

  find(owner: string, token: string): EngineOrder | undefined {
    return this.live.get(this.tokenKey(owner, token));
  }

  /** A key `usedTokens` was just found not to hold; '' after any add (the set only grows). */
  private absentKey = '';

  /**
   * True when `owner` has used `token` today (live or not). The front end asks before submit,
   * which asks again: the second answer comes from `absentKey`, not a second probe of a set that
   * holds every token of the day.
   */
  hasToken(owner: string, token: string): boolean {
    const key = this.tokenKey(owner, token);
    if (key === this.absentKey) return false;
    if (this.aboveHighest(owner, token) || !this.usedTokens.has(key)) { this.absentKey = key; return false; }
    return true;
  }

  /**
   * Per owner, the highest token it has used, ordered by length and then by character: a token
   * above it cannot be in `usedTokens`, so the probe of that set (every token of the day, one
   * string each: a hash of the new key and two or three misses on a table that has left the cache
   * between orders) is skipped. Clients number their tokens upwards (the router's ids are a prefix,
   * its start time and a base-36 counter: longer means later, and base 36's digits sort as ASCII),
   * so a new order is nearly always above; any other token takes the probe, as before.
   * Measured on perf/router-rtt's OUCH round trip (spinning, pinned, 2000 orders/s): the front
   * end's duplicate check took about 0.8 µs of the venue's 2.6-3.2 µs from the order's bytes to the
   * ack's send (trace points around each step, p50).
   */
  private readonly highestToken = new Map<string, string>();
  private highOwner = '';
  private highToken = '';

  private aboveHighest(owner: string, token: string): boolean {
    let high: string | undefined = owner === this.highOwner ? this.highToken : this.highestToken.get(owner);
    if (high === undefined) high = '';
    if (token.length !== high.length ? token.length > high.length : token > high) return true;
    return false;
  }

  private useToken(owner: string, token: string, key: string): void {
    this.absentKey = '';
    this.usedTokens.add(key);
    const high = owner === this.highOwner ? this.highToken : this.highestToken.get(owner) ?? '';
    if (token.length !== high.length ? token.length > high.length : token > high) {
      this.highestToken.set(owner, token);
      this.highOwner = owner;
      this.highToken = token;
    } else if (owner !== this.highOwner) {
      this.highOwner = owner;
      this.highToken = high;
    }
  }

  /** Burns a token without entering an order (a venue-side reject still uses the token up). */
  markTokenUsed(owner: string, token: string): void {
    this.useToken(owner, token, this.tokenKey(owner, token));
  }

  /** Enters a new order: accepted, matched against the other side, rest booked (or cancelled if IOC/market). */
  submit(owner: string, token: string, symbol: string, side: EngineSide, qty: number, price: number,
    market: boolean, ioc: boolean, tag: unknown = null): EngineResult {
    if (this.hasToken(owner, token)) return 'duplicate-token';
    if (!Number.isInteger(qty) || qty <= 0 || (!market && (!Number.isInteger(price) || price <= 0))) return 'invalid';
    const key = this.tokenKey(owner, token);
    const o: EngineOrder = { owner, token, symbol, side, price, open: qty, market, ioc, orderRef: this.nextOrderRef++, tag, key };
    // The ack first, then the token's entry in the day's set: nothing between asks about it.
    this.listener.onAccepted(o);
    this.useToken(owner, token, key);
    this.rest(o);
    return 'ok';
  }

  /** Reduces an order to `newOpen` shares (0 = cancel everything left). */
  cancel(owner: string, token: string, newOpen = 0): EngineResult {
    const o = this.find(owner, token);
    if (!o) return 'unknown-order';
    if (newOpen >= o.open) return 'ok';
    const dec = o.open - newOpen;
    o.open = newOpen;
    if (newOpen === 0) {
      this.book(o.symbol).remove(o);
      this.live.delete(o.key);
    }
    this.listener.onCanceled(o, dec, 'user');
    return 'ok';
  }

  /** Cancels every live order of `owner` (cancel on disconnect); returns how many. */
  cancelAll(owner: string, reason: CancelReason = 'disconnect'): number {
    const mine: EngineOrder[] = [];
    for (const o of this.live.values()) if (o.owner === owner) mine.push(o);
    for (const o of mine) {
      const dec = o.open;
      o.open = 0;
      this.book(o.symbol).remove(o);
      this.live.delete(o.key);
      this.listener.onCanceled(o, dec, reason);
    }
    return mine.length;
  }

  /**
   * Cancel/replace: the order gets `newToken`, `newOpen` open shares and `price`, and loses time
   * priority (it may match at once if the new price crosses).
   */
  replace(owner: string, token: string, newToken: string, newOpen: number, price: number, tag: unknown = undefined): EngineResult {
    const o = this.find(owner, token);
    if (!o) return 'unknown-order';
    if (newToken !== token && this.hasToken(owner, newToken)) return 'duplicate-token';
    if (!Number.isInteger(newOpen) || newOpen < 0 || (!o.market && (!Number.isInteger(price) || price <= 0))) return 'invalid';
    this.book(o.symbol).remove(o);
    this.live.delete(o.key);
    const key = this.tokenKey(owner, newToken);
    this.useToken(owner, newToken, key);
    const n: EngineOrder = {
      owner, token: newToken, symbol: o.symbol, side: o.side, price: o.market ? o.price : price, open: newOpen,
      market: o.market, ioc: o.ioc, orderRef: this.nextOrderRef++, tag: tag === undefined ? o.tag : tag, key,
    };
    o.open = 0;
    this.listener.onReplaced(o, n);
    if (newOpen > 0) this.rest(n);
    return 'ok';
  }

  /** Best bid and offer for a symbol (0 when a side is empty). */
  top(symbol: string): { bid: number; bidQty: number; ask: number; askQty: number } {
    const b = this.book(symbol);
    const sum = (l: Level | undefined) => (l ? l.orders.reduce((s, o) => s + o.open, 0) : 0);
    return { bid: b.bids[0]?.price ?? 0, bidQty: sum(b.bids[0]), ask: b.asks[0]?.price ?? 0, askQty: sum(b.asks[0]) };
  }

  /** Matches `o` against the opposite side, then books (or cancels) the remainder. */
  private rest(o: EngineOrder): void {
    const book = this.book(o.symbol);
    const opposite = book.levels(o.side === 'B' ? 'S' : 'B');
    while (o.open > 0 && opposite.length > 0) {
      const level = opposite[0];
      const crosses = o.market || (o.side === 'B' ? level.price <= o.price : level.price >= o.price);
      if (!crosses) break;
      const resting = level.orders[0];
      const qty = Math.min(o.open, resting.open);
      const match = this.nextMatch++;
      o.open -= qty;
      resting.open -= qty;
      if (resting.open === 0) {
        level.orders.shift();
        this.live.delete(resting.key);
        if (level.orders.length === 0) opposite.shift();
      }
      this.listener.onExecuted(resting, qty, level.price, match, 'A');
      this.listener.onExecuted(o, qty, level.price, match, 'R');
    }
    if (o.open === 0) return;
    if (o.ioc || o.market) {
      const left = o.open;
      o.open = 0;
      this.listener.onCanceled(o, left, 'ioc');
      return;
    }
    book.insert(o);
    this.live.set(o.key, o);
  }
}
