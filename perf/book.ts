/**
 * Decode + book building cost per message: FeedDecoder -> BookBuilder (OrderStore, PriceLevels,
 * normalized events, QUOTE on BBO change) -> a counting handler, and the same with a Conflator in
 * between. Baseline in the same run: decode only (perf/decode.ts's FoldingHandler, every field read).
 * Same generated session as perf/decode.ts. Best of N passes, each on fresh books (built outside the
 * timed region). Never asserts timings.
 *
 *   node dist/perf/book.js [--messages 1000000] [--iterations 5] [--json]
 */
import { BookBuilder } from '../lib/feed/book/book-builder';
import { BookEvent, BookEventHandler } from '../lib/feed/book/book-event';
import { Conflator } from '../lib/feed/book/conflator';
import { FeedDecoder, ItchMessageHandler } from '../lib/feed/feed-decoder';
import { decodeSession, FoldingHandler } from './decode';
import { generateSession } from './ref/itch-session';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

class CountingSink implements BookEventHandler {
  events = 0;
  quotes = 0;
  onEvent(e: BookEvent): void { this.events++; if (e.kind === 6) this.quotes++; }
  endOfBatch(): void { /* nothing */ }
}

function best(iterations: number, bytes: Uint8Array, make: () => ItchMessageHandler): { ns: number; messages: number; handler: ItchMessageHandler } {
  let bestNs = Infinity;
  let messages = 0;
  let handler = make();
  for (let i = 0; i < iterations + 1; i++) { // first pass warms the JIT, not counted
    handler = make();
    const feed = new FeedDecoder(handler);
    const t0 = process.hrtime.bigint();
    messages = decodeSession(feed, bytes);
    const ns = Number(process.hrtime.bigint() - t0);
    if (i > 0 && ns < bestNs) bestNs = ns;
  }
  return { ns: bestNs, messages, handler };
}

function main(): number {
  const messages = Number(arg('messages', '1000000'));
  const iterations = Number(arg('iterations', '5'));
  const json = process.argv.includes('--json');
  const session = generateSession(messages);

  const decodeOnly = best(iterations, session.bytes, () => new FoldingHandler());
  let sink = new CountingSink();
  const books = best(iterations, session.bytes, () => new BookBuilder(sink = new CountingSink(), { initialOrderCapacity: 1 << 17 }));
  const booksSink = sink;
  const builder = books.handler as BookBuilder;
  let csink = new CountingSink();
  let conflator: Conflator | undefined;
  const conflated = best(iterations, session.bytes, () => new BookBuilder(conflator = new Conflator(csink = new CountingSink()), { initialOrderCapacity: 1 << 17 }));

  const nsPerMsg = books.ns / books.messages;
  const baseline = decodeOnly.ns / decodeOnly.messages;
  const withConflator = conflated.ns / conflated.messages;
  const c = builder.counters;
  const result = {
    ns_per_msg: Number(nsPerMsg.toFixed(2)),
    msgs_per_s: Math.round(1e9 / nsPerMsg),
    baseline_decode_ns_per_msg: Number(baseline.toFixed(2)),
    ratio: Number((nsPerMsg / baseline).toFixed(2)),
    with_conflator_ns_per_msg: Number(withConflator.toFixed(2)),
    messages: books.messages,
    events: booksSink.events,
    quotes: booksSink.quotes,
    conflated_away: conflator ? conflator.counters.conflated : 0,
    quotes_after_conflation: csink.quotes,
    resting_orders_at_end: builder.orders.size,
    bad_references: c.unknownOrder + c.duplicateOrder + c.overExecution + c.overCancel + c.levelMismatch,
    iterations,
    node: process.version,
  };
  console.log('Decode + books, best of', iterations, 'passes over', books.messages, 'messages,', builder.allBooks().length, 'books');
  console.table([
    { pipeline: 'decode only (baseline, every field read)', ns_per_msg: result.baseline_decode_ns_per_msg, msgs_per_s: Math.round(1e9 / baseline) },
    { pipeline: 'decode + BookBuilder', ns_per_msg: result.ns_per_msg, msgs_per_s: result.msgs_per_s },
    { pipeline: 'decode + BookBuilder + Conflator', ns_per_msg: result.with_conflator_ns_per_msg, msgs_per_s: Math.round(1e9 / withConflator) },
  ]);
  console.log(`events ${result.events} (quotes ${result.quotes}; ${result.conflated_away} conflated away per-packet batches), bad references ${result.bad_references}`);
  if (json) console.log(JSON.stringify(result));
  return 0;
}

if (require.main === module) process.exitCode = main();
