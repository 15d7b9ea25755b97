/**
 * A strategy that rebuilds every book from the order events reaching it (ADD, MODIFY, DELETE by
 * reference) and reports a digest of the final levels through `counts`, so a child-process run's
 * books can be compared with a reference built some other way (bookDigest over the same levels).
 */
import type { BookEvent } from '../../lib/feed/book/book-event';
import type { Strategy } from '../../lib/pipeline/strategy';

/** symbol -> side ('B'/'S') -> [price, shares, orders][] best first. */
export type BookLevels = Map<string, { B: [number, number, number][]; S: [number, number, number][] }>;

/** FNV-1a over "symbol side price shares orders" lines in symbol order: equal books, equal digest. */
export function bookDigest(books: BookLevels): { digest: number; levels: number; orders: number } {
  let h = 0x811c9dc5; let levels = 0; let orders = 0;
  for (const symbol of [...books.keys()].sort()) {
    const b = books.get(symbol)!;
    for (const side of ['B', 'S'] as const) {
      for (const [p, s, n] of b[side]) {
        if (s === 0) continue;
        levels++; orders += n;
        const line = `${symbol} ${side} ${p} ${s} ${n}\n`;
        for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
      }
    }
  }
  return { digest: h >>> 0, levels, orders };
}

export function createStrategy(): Strategy & { counts: Record<string, number> } {
  const orders = new Map<number, { symbol: string; side: number; price: number; shares: number }>();
  let events = 0;
  const levels = (): BookLevels => {
    const out: BookLevels = new Map();
    const agg = new Map<string, Map<number, [number, number]>>();
    for (const o of orders.values()) {
      const key = `${o.symbol}\u0000${o.side === 0x42 ? 'B' : 'S'}`;
      let m = agg.get(key);
      if (m === undefined) { m = new Map(); agg.set(key, m); }
      const l = m.get(o.price) ?? [0, 0];
      l[0] += o.shares; l[1]++;
      m.set(o.price, l);
    }
    for (const [key, m] of agg) {
      const [symbol, side] = key.split('\u0000') as [string, 'B' | 'S'];
      let b = out.get(symbol);
      if (b === undefined) { b = { B: [], S: [] }; out.set(symbol, b); }
      b[side] = [...m.entries()].sort((x, y) => (side === 'B' ? y[0] - x[0] : x[0] - y[0])).map(([p, [s, n]]) => [p, s, n]);
    }
    return out;
  };
  const strategy = {
    get counts(): Record<string, number> { return { events, ...bookDigest(levels()) }; },
    onMarketData(e: BookEvent): void {
      events++;
      switch (e.kind) {
        case 1: orders.set(e.orderReferenceNumber, { symbol: e.symbol, side: e.side, price: e.price, shares: e.shares }); break;
        case 2: orders.delete(e.orderReferenceNumber); break;
        case 3: { const o = orders.get(e.orderReferenceNumber); if (o) { o.price = e.price; o.shares = e.shares; } break; }
        default: break;
      }
    },
  };
  return strategy;
}
