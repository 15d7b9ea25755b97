/**
 * Decides where a parent order goes: which venues and how many shares each. It does not send;
 * OrderRouter turns each slice into a child order.
 *
 * Two modes:
 *  - 'rules': per-symbol rules give each venue a participation share; the parent is split by
 *    share (floor), and the shares left by rounding go one each to venues in rule order.
 *  - 'liquidity': the parent is split by the size each venue displays at or better than the limit
 *    (VenueBookView). If the displayed total covers the order, in proportion to it (rounding
 *    leftovers in rule order, never above a venue's displayed size); if not, each venue gets what
 *    it shows and the rest rests on the default venue. Nothing displayed: all to the default venue.
 *
 * Rule order is priority ascending (1 before 2), then fee per share ascending, then the order in
 * the config. A venue is eligible when its rule is active and its session is up (`setVenueUp`).
 * A symbol without rules, or whose rules leave no eligible venue, goes to the default venue.
 *
 * Results go to preallocated arrays (`sliceVenue`, `sliceQty`): `route` allocates nothing.
 * Threading: single writer, the router worker.
 */
import { TickpathError, invalidOption } from '../errors';
import { MARKET_BUY_LIMIT, MARKET_SELL_LIMIT } from './types';
import type { OrdType, Side, VenueBookView } from './types';

export interface RouteRule {
  venue: string;
  share: number;          // participation share, > 0 (routing_config.yml requires a symbol's shares to add up to 1; the router divides among the venues it can use)
  priority: number;       // lower goes first
  active: boolean;
  feePerShare: number;    // USD per share, used to break priority ties
}

export type RoutingMode = 'rules' | 'liquidity';

export interface SmartRouterOptions {
  venues: readonly string[];                       // index in this list is the venue id everywhere
  rules: Readonly<Record<string, readonly RouteRule[]>>;
  defaultVenue: string;
  mode: RoutingMode;
  book?: VenueBookView;                            // required for 'liquidity'
}

/** Rules of one symbol in rule order, as parallel arrays. */
interface CompiledRules {
  venue: Int32Array;
  share: Float64Array;
  active: Uint8Array;
}

export class SmartRouter {
  readonly venues: readonly string[];
  readonly mode: RoutingMode;
  /** Output of the last `route`: venue id and shares per slice, `count` entries valid. */
  readonly sliceVenue: Int32Array;
  readonly sliceQty: Int32Array;

  private readonly defaultVenue: number;
  private readonly rules = new Map<string, CompiledRules>();
  private readonly allVenues: CompiledRules;      // for symbols without rules in 'liquidity' mode
  private readonly venueUp: Uint8Array;
  private readonly book: VenueBookView | undefined;
  private readonly displayed: Float64Array;      // scratch, one per rule entry

  constructor(opts: SmartRouterOptions) {
    const where = 'SmartRouter';
    if (opts.mode !== 'rules' && opts.mode !== 'liquidity') throw invalidOption(where, 'mode', opts.mode, "'rules' or 'liquidity'");
    if (opts.venues.length === 0) throw invalidOption(where, 'venues', opts.venues, 'at least one venue name');
    if (opts.mode === 'liquidity' && !opts.book) throw invalidOption(where, 'book', opts.book, "a VenueBookView in 'liquidity' mode");
    this.venues = opts.venues.slice();
    this.mode = opts.mode;
    this.book = opts.book;
    this.defaultVenue = this.venues.indexOf(opts.defaultVenue);
    if (this.defaultVenue < 0) throw invalidOption(where, 'defaultVenue', opts.defaultVenue, `one of ${this.venues.join(', ')}`);
    let maxRules = this.venues.length;
    for (const symbol of Object.keys(opts.rules)) {
      const list = opts.rules[symbol];
      list.forEach((r, i) => {
        if (!this.venues.includes(r.venue)) throw invalidOption(where, `rules.${symbol}[${i}].venue`, r.venue, `one of ${this.venues.join(', ')}`);
        if (!(r.share > 0) || !Number.isFinite(r.share)) throw invalidOption(where, `rules.${symbol}[${i}].share`, r.share, 'a number > 0');
      });
      const ordered = list.map((r, i) => ({ r, i })).sort((a, b) =>
        a.r.priority - b.r.priority || a.r.feePerShare - b.r.feePerShare || a.i - b.i);
      this.rules.set(symbol, {
        venue: Int32Array.from(ordered, (o) => this.venues.indexOf(o.r.venue)),
        share: Float64Array.from(ordered, (o) => o.r.share),
        active: Uint8Array.from(ordered, (o) => (o.r.active ? 1 : 0)),
      });
      if (list.length > maxRules) maxRules = list.length;
    }
    this.allVenues = {
      venue: Int32Array.from(this.venues, (_, i) => i),
      share: new Float64Array(this.venues.length).fill(1),
      active: new Uint8Array(this.venues.length).fill(1),
    };
    this.venueUp = new Uint8Array(this.venues.length).fill(1);
    this.displayed = new Float64Array(maxRules);
    this.sliceVenue = new Int32Array(maxRules + 1);
    this.sliceQty = new Int32Array(maxRules + 1);
  }

  venueIndex(name: string): number {
    return this.venues.indexOf(name);
  }

  /** Session up/down, from VenueListener.onSessionState. A down venue gets no new slices. */
  setVenueUp(venue: number, up: boolean): void {
    this.venueUp[venue] = up ? 1 : 0;
  }

  isVenueUp(venue: number): boolean {
    return this.venueUp[venue] === 1;
  }

  /** Turns one symbol's rule for a venue on or off at run time. */
  setRuleActive(symbol: string, venueName: string, active: boolean): void {
    const rules = this.rules.get(symbol);
    const v = this.venues.indexOf(venueName);
    if (!rules || v < 0) throw new TickpathError('ERR_ROUTER_NO_RULE', `SmartRouter: no rule for ${symbol} on ${venueName}`);
    for (let i = 0; i < rules.venue.length; i++) if (rules.venue[i] === v) rules.active[i] = active ? 1 : 0;
  }

  /** Splits `qty`; returns the number of slices (0: no venue can take it -> NO_ROUTE). */
  route(symbol: string, side: Side, qty: number, price: number, ordType: OrdType): number {
    const rules = this.rules.get(symbol);
    if (this.mode === 'liquidity') {
      const limit = ordType === 'MARKET' ? (side === 'B' ? MARKET_BUY_LIMIT : MARKET_SELL_LIMIT) : price;
      return this.routeByLiquidity(symbol, side, qty, limit, rules ?? this.allVenues);
    }
    if (rules === undefined) return this.toDefault(qty, 0, this.allVenues);
    return this.routeByShare(qty, rules);
  }

  /**
   * Reads (never writes) what `route` reads for `symbol`: its rules (or the default), each venue's
   * up flag and the slice arrays. The keep-warm dry runs (lib/pipeline/stages/order-path.ts) call it
   * so the real router's lines are in the cache when an order comes: measured in `npm start`, a
   * real order's first route() cost ~1.2 us cold, ~0.17 us right after.
   */
  touchRoute(symbol: string): number {
    const rules = this.rules.get(symbol) ?? this.allVenues;
    let s = this.defaultVenue + this.venueUp[this.defaultVenue] + this.sliceVenue[0] + this.sliceQty[0];
    for (let i = 0; i < rules.venue.length; i++) s += rules.venue[i] + rules.active[i] + rules.share[i] + this.venueUp[rules.venue[i]];
    return s;
  }

  private eligible(rules: CompiledRules, i: number): boolean {
    return rules.active[i] === 1 && this.venueUp[rules.venue[i]] === 1;
  }

  private routeByShare(qty: number, rules: CompiledRules): number {
    let total = 0;
    for (let i = 0; i < rules.venue.length; i++) if (this.eligible(rules, i)) total += rules.share[i];
    if (total === 0) return this.toDefault(qty, 0, rules);
    let n = 0;
    let assigned = 0;
    for (let i = 0; i < rules.venue.length; i++) {
      if (!this.eligible(rules, i)) continue;
      const q = Math.floor((qty * rules.share[i]) / total);
      this.sliceVenue[n] = rules.venue[i];
      this.sliceQty[n] = q;
      assigned += q;
      n++;
    }
    // Rounding leftovers (< n shares), one each in rule order.
    for (let k = 0; assigned < qty; k = (k + 1) % n) { this.sliceQty[k]++; assigned++; }
    return this.compact(n);
  }

  private routeByLiquidity(symbol: string, side: Side, qty: number, limit: number, rules: CompiledRules): number {
    const book = this.book as VenueBookView;
    let total = 0;
    for (let i = 0; i < rules.venue.length; i++) {
      const d = this.eligible(rules, i) ? book.displayedAtOrBetter(symbol, this.venues[rules.venue[i]], side, limit) : 0;
      this.displayed[i] = d > 0 ? Math.floor(d) : 0;
      total += this.displayed[i];
    }
    if (total === 0) return this.toDefault(qty, 0, rules);
    let n = 0;
    let assigned = 0;
    if (total >= qty) {
      for (let i = 0; i < rules.venue.length; i++) {
        if (this.displayed[i] === 0) continue;
        const q = Math.floor((qty * this.displayed[i]) / total);
        this.sliceVenue[n] = rules.venue[i];
        this.sliceQty[n] = q;
        this.displayed[n] = this.displayed[i];    // compacted in place: n <= i
        assigned += q;
        n++;
      }
      // Leftovers one each in rule order, never beyond what a venue displays.
      for (let k = 0; assigned < qty; k = (k + 1) % n) {
        if (this.sliceQty[k] < this.displayed[k]) { this.sliceQty[k]++; assigned++; }
      }
      return this.compact(n);
    }
    for (let i = 0; i < rules.venue.length; i++) {
      if (this.displayed[i] === 0) continue;
      this.sliceVenue[n] = rules.venue[i];
      this.sliceQty[n] = this.displayed[i];
      n++;
    }
    // The part no venue shows rests on the default venue.
    return this.toDefault(qty - total, n, rules);
  }

  /**
   * Adds `qty` for the default venue after `n` slices (merging if it already has one). With the
   * default venue down, the first eligible venue in rule order stands in; with none, the whole
   * order has no route (0) rather than going out short.
   */
  private toDefault(qty: number, n: number, rules: CompiledRules): number {
    let v = this.defaultVenue;
    if (this.venueUp[v] === 0) {
      v = -1;
      for (let i = 0; i < rules.venue.length && v < 0; i++) if (this.eligible(rules, i)) v = rules.venue[i];
      if (v < 0) return 0;
    }
    for (let k = 0; k < n; k++) {
      if (this.sliceVenue[k] === v) { this.sliceQty[k] += qty; return n; }
    }
    this.sliceVenue[n] = v;
    this.sliceQty[n] = qty;
    return n + 1;
  }

  /** Drops zero-share slices. */
  private compact(n: number): number {
    let m = 0;
    for (let k = 0; k < n; k++) {
      if (this.sliceQty[k] > 0) {
        this.sliceVenue[m] = this.sliceVenue[k];
        this.sliceQty[m] = this.sliceQty[k];
        m++;
      }
    }
    return m;
  }
}
