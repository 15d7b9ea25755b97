/**
 * The book view as a person reads it: a price ladder (asks above, highest first; bids below, best
 * first), prices in dollars (ITCH Price(4)) or in the feed's own unit at its price decimals (MOEX FAST),
 * shares and orders per level, the trading state and the last trade
 * with its clock time. Used by `tickpath book` (capture or live) and mirrored by the dashboard.
 */
import { BookSnapshot, tradingStateName } from '../feed/book/book-snapshot';
import type { TopOfBookRow } from '../pipeline/book-mailbox';
import { formatItchTime, formatScaledPrice } from './units';

export interface LadderContext {
  /** Where the snapshot was taken: "as of seq N (09:30:00.000000000)" or "live, instance X". */
  asOf?: string;
  /** Implied decimals of the prices (default 4: ITCH Price(4), shown as dollars). */
  priceDecimals?: number;
}

/** The price column's heading: dollars for ITCH, the plain price for any other scale. */
function priceHeading(decimals: number, label = 'price'): string {
  return decimals === 4 ? `${label} ($)` : label;
}

export function renderLadder(s: BookSnapshot, ctx: LadderContext = {}): string[] {
  const lines: string[] = [];
  const d = ctx.priceDecimals ?? 4;
  const formatPrice = (p: number): string => formatScaledPrice(p, d);
  const state = s.tradingState ? `${s.tradingState} (${tradingStateName(s.tradingState)})` : tradingStateName('');
  lines.push(`${s.symbol}  stock locate ${s.stockLocate}  trading state ${state}${ctx.asOf ? `  ${ctx.asOf}` : ''}`);
  lines.push(`  ${'side'.padEnd(4)} ${priceHeading(d).padStart(12)} ${'shares'.padStart(10)} ${'orders'.padStart(7)}`);
  const row = (side: string, l: { price: number; shares: number; orders: number }): string =>
    `  ${side.padEnd(4)} ${formatPrice(l.price).padStart(12)} ${String(l.shares).padStart(10)} ${String(l.orders).padStart(7)}`;
  if (s.askLevels > s.asks.length) lines.push(`  ...  ${s.askLevels - s.asks.length} more ask levels`);
  for (let i = s.asks.length - 1; i >= 0; i--) lines.push(row('ask', s.asks[i]));
  if (s.asks.length === 0) lines.push('  ask  (none)');
  if (s.bids.length > 0 && s.asks.length > 0) {
    const spread = s.asks[0].price - s.bids[0].price;
    lines.push(`  ---- spread ${formatPrice(spread)}  mid ${formatPrice((s.asks[0].price + s.bids[0].price) / 2)} ----`);
  } else {
    lines.push('  ----');
  }
  for (const l of s.bids) lines.push(row('bid', l));
  if (s.bids.length === 0) lines.push('  bid  (none)');
  if (s.bidLevels > s.bids.length) lines.push(`  ...  ${s.bidLevels - s.bids.length} more bid levels`);
  lines.push(s.lastTrade
    ? `last trade ${formatPrice(s.lastTrade.price)} x ${s.lastTrade.shares} at ${formatItchTime(s.lastTrade.timestamp)}`
    : 'last trade: none yet');
  return lines;
}

/**
 * The top of every book, one row per symbol: orders and shares at the best bid, the bid and ask in
 * dollars, shares and orders at the best ask, the spread. An empty side shows '-'.
 */
export function renderTopOfBook(rows: TopOfBookRow[], ctx: LadderContext & { omitted?: number } = {}): string[] {
  const d = ctx.priceDecimals ?? 4;
  const formatPrice = (p: number): string => formatScaledPrice(p, d);
  const lines = [`top of book, ${rows.length} symbol${rows.length === 1 ? '' : 's'}${ctx.asOf ? `  ${ctx.asOf}` : ''}`];
  lines.push(`  ${'symbol'.padEnd(8)} ${'orders'.padStart(6)} ${'shares'.padStart(9)} ${priceHeading(d, 'bid').padStart(12)} ${priceHeading(d, 'ask').padStart(12)} ${'shares'.padStart(9)} ${'orders'.padStart(6)} ${priceHeading(d, 'spread').padStart(11)}`);
  for (const r of rows) {
    const has = (p: number): boolean => p > 0;
    lines.push(`  ${r.symbol.padEnd(8)} ${(has(r.bid) ? String(r.bidOrders) : '-').padStart(6)} ${(has(r.bid) ? String(r.bidShares) : '-').padStart(9)}`
      + ` ${(has(r.bid) ? formatPrice(r.bid) : '-').padStart(12)} ${(has(r.ask) ? formatPrice(r.ask) : '-').padStart(12)}`
      + ` ${(has(r.ask) ? String(r.askShares) : '-').padStart(9)} ${(has(r.ask) ? String(r.askOrders) : '-').padStart(6)}`
      + ` ${(has(r.bid) && has(r.ask) ? formatPrice(r.ask - r.bid) : '-').padStart(11)}`);
  }
  if (ctx.omitted) lines.push(`  ... ${ctx.omitted} more symbols (too many for one answer; use --symbol S)`);
  return lines;
}
