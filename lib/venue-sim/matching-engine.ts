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
 * carries it (`EngineOrder.key`) for the book and the simulator. Used tokens are kept per owner
 * and checked without a key (OwnerTokens, below). With the simulator's record written after the
 * ack (venue-simulator.ts), measured in process (perf/fix-trip's pipe: FixConnector and the FIX
 * front end, no sockets; median of 15,000 orders after 5,000, load 6-8): NewOrderSingle in -> the
 * ack's send 3.28-3.47 -> 2.51-2.58 us.
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
  /** The listener's own per-order data (the simulator's record of the order); null until it sets it. */
  note: unknown;
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

/** Tokens in the order a client's counter makes them: longer is later, then by character (base 36's digits sort as ASCII). */
function tokenAfter(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/**
 * The tokens one owner has used today. While they come in ascending order (tokenAfter), as a
 * client's counter makes them (the router's ids are a prefix, its start time and a base-36
 * counter), they are a sorted list: a new token is checked against the last one and appended,
 * and an older one is found by binary search. The first token out of order turns the list into a
 * Set, which the owner keeps from then on (a client with random ids pays a hash and a probe per
 * order, as every owner did before).
 *
 * Why: the duplicate check and the add were a probe and an insert into one Set of every token of
 * the day, keyed by an (owner, token) string built for it, on the way to every ack: about 0.8 us
 * of the venue's 2.6-3.2 us from an order's bytes to its ack's send in perf/router-rtt's OUCH trip
 * (spinning, pinned, 2000/s; trace points around each step), the table's lines gone from the caches
 * between orders. Doing the add after the ack instead moved that work behind the send, where a
 * blocking client woken onto the venue's CPU (a socket's wakeup is a sync one: the scheduler
 * expects the sender to sleep next) waited for it: the default placement's OUCH trip went from
 * 57-60 to 63-68 us. Appending to a list costs neither.
 */
class OwnerTokens {
  private list: string[] | null = [];
  private set: Set<string> | null = null;

  /** True while every token came in ascending order. */
  get ordered(): boolean { return this.list !== null; }

  has(token: string): boolean {
    const l = this.list;
    if (l === null) return this.set!.has(token);
    const n = l.length;
    if (n === 0 || tokenAfter(token, l[n - 1])) return false;
    return this.indexOf(l, token) >= 0;
  }

  add(token: string): void {
    const l = this.list;
    if (l === null) { this.set!.add(token); return; }
    const n = l.length;
    if (n === 0 || tokenAfter(token, l[n - 1])) { l.push(token); return; }
    if (this.indexOf(l, token) >= 0) return;
    this.set = new Set(l);
    this.set.add(token);
    this.list = null;
  }

  /** Binary search of the sorted list; -1 when absent. */
  private indexOf(l: string[], token: string): number {
    let lo = 0;
    let hi = l.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = l[mid];
      if (t === token) return mid;
      if (tokenAfter(token, t)) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
}

export class MatchingEngine {
  private readonly books = new Map<string, SymbolBook>();
  private readonly live = new Map<string, EngineOrder>();
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

  /**
   * True when `owner` has used `token` today (live or not): the owner's token registry
   * (OwnerTokens), no key string built.
   */
  hasToken(owner: string, token: string): boolean {
    return this.tokensOf(owner).has(token);
  }

  /** Every token each owner has used today: tokens are day-unique per owner, as on a real venue. */
  private readonly ownerTokens = new Map<string, OwnerTokens>();
  private tokensOwner = '';
  private tokensLast: OwnerTokens | null = null;

  /** The owner's registry; the last owner's kept (an order asks two or three times). */
  private tokensOf(owner: string): OwnerTokens {
    if (owner === this.tokensOwner && this.tokensLast !== null) return this.tokensLast;
    let t = this.ownerTokens.get(owner);
    if (t === undefined) { t = new OwnerTokens(); this.ownerTokens.set(owner, t); }
    this.tokensOwner = owner;
    this.tokensLast = t;
    return t;
  }

  private useToken(owner: string, token: string): void {
    this.tokensOf(owner).add(token);
  }

  /** Owners whose tokens have all come in ascending order (kept as a list), and the others (a set). */
  tokenStats(): { ordered: number; unordered: number } {
    let ordered = 0;
    for (const t of this.ownerTokens.values()) if (t.ordered) ordered++;
    return { ordered, unordered: this.ownerTokens.size - ordered };
  }

  /** Burns a token without entering an order (a venue-side reject still uses the token up). */
  markTokenUsed(owner: string, token: string): void {
    this.useToken(owner, token);
  }

  /** Enters a new order: accepted, matched against the other side, rest booked (or cancelled if IOC/market). */
  submit(owner: string, token: string, symbol: string, side: EngineSide, qty: number, price: number,
    market: boolean, ioc: boolean, tag: unknown = null): EngineResult {
    if (this.hasToken(owner, token)) return 'duplicate-token';
    if (!Number.isInteger(qty) || qty <= 0 || (!market && (!Number.isInteger(price) || price <= 0))) return 'invalid';
    const key = this.tokenKey(owner, token);
    this.useToken(owner, token);
    const o: EngineOrder = { owner, token, symbol, side, price, open: qty, market, ioc, orderRef: this.nextOrderRef++, tag, key, note: null };
    this.listener.onAccepted(o);
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
    this.useToken(owner, newToken);
    const n: EngineOrder = {
      owner, token: newToken, symbol: o.symbol, side: o.side, price: o.market ? o.price : price, open: newOpen,
      market: o.market, ioc: o.ioc, orderRef: this.nextOrderRef++, tag: tag === undefined ? o.tag : tag, key, note: null,
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
