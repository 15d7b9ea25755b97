/**
 * A strategy for child-process runs that counts what a FAST feed's trades and security status
 * become downstream (TRADE and STATUS events), reported through `counts` in `tickpath run --json`.
 */
import type { BookEvent } from '../../../lib/feed/book/book-event';
import type { Strategy } from '../../../lib/pipeline/strategy';

export function createStrategy(): Strategy & { counts: Record<string, number> } {
  const c = { trades: 0, trade_shares: 0, trade_value: 0, buys: 0, sells: 0, match_sum: 0, status_T: 0, status_H: 0, status_Q: 0, status_other: 0 };
  return {
    get counts(): Record<string, number> { return { ...c }; },
    onMarketData(e: BookEvent): void {
      if (e.kind === 5) {
        c.trades++;
        c.trade_shares += e.shares;
        c.trade_value += e.shares * e.price;
        if (e.side === 0x42) c.buys++; else if (e.side === 0x53) c.sells++;
        c.match_sum += e.matchNumber;
      } else if (e.kind === 8) {
        if (e.tradingState === 0x54) c.status_T++;
        else if (e.tradingState === 0x48) c.status_H++;
        else if (e.tradingState === 0x51) c.status_Q++;
        else c.status_other++;
      }
    },
  };
}
