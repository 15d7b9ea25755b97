/** Recovery test helpers: a book-building handler that also records delivered sequences, and a book fingerprint. */
import { BookBuilder } from '../../../lib/feed/book/book-builder';
import { BookEvent } from '../../../lib/feed/book/book-event';
import { ItchMessageHandler } from '../../../lib/feed/feed-decoder';
import { ItchDecoder } from '../../../lib/feed/itch/itch-decoder';

const kNoEvents = { onEvent(_e: BookEvent): void { /* books only */ }, endOfBatch(): void { /* none */ } };

/** Builds books and records every delivered sequence number (so tests can check once-and-in-order). */
export class RecordingBooks implements ItchMessageHandler {
  readonly builder = new BookBuilder(kNoEvents);
  readonly sequences: number[] = [];
  batches = 0;
  onMessage(d: ItchDecoder, type: number, sequence: number): void {
    this.sequences.push(sequence);
    this.builder.onMessage(d, type, sequence);
  }
  endOfBatch(): void { this.batches++; this.builder.endOfBatch(); }
}

/** Every open order and every book's levels, canonical (sorted), for equality between two runs. */
export function bookFingerprint(builder: BookBuilder): string {
  const orders: string[] = [];
  builder.orders.forEach((ref, locate, side, price, shares) => { orders.push(`${ref}:${locate}:${side}:${price}:${shares}`); });
  orders.sort();
  const books: string[] = [];
  const prices = new Float64Array(1000);
  const shares = new Float64Array(1000);
  const counts = new Uint32Array(1000);
  for (const b of builder.allBooks().sort((x, y) => x.stockLocate - y.stockLocate)) {
    const side = (bid: boolean): string => {
      const n = b.depth(bid, 1000, prices, shares, counts);
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(`${prices[i]}x${shares[i]}/${counts[i]}`);
      return out.join(',');
    };
    books.push(`${b.stockLocate}=${b.symbol} bids[${side(true)}] asks[${side(false)}]`);
  }
  return `${books.join('\n')}\norders ${orders.length}: ${orders.join(' ')}`;
}

/** A consecutive range check: 1..n exactly once, in order. */
export function isExactly(sequences: number[], first: number, last: number): boolean {
  if (sequences.length !== last - first + 1) return false;
  for (let i = 0; i < sequences.length; i++) if (sequences[i] !== first + i) return false;
  return true;
}

export function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (cond()) { clearInterval(t); resolve(); } else if (Date.now() - start > timeoutMs) { clearInterval(t); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)); }
    }, 2);
  });
}
