/**
 * Decode + book building cost per message: FeedDecoder -> BookBuilder (OrderStore, LevelStore,
 * normalized events, QUOTE on BBO change) -> a counting handler, and the same with a Conflator in
 * between. Baselines in the same run: decode only (perf/decode.ts's FoldingHandler, every field
 * read), and the same books with every level kept sorted (`levels: 'sorted'`, the structure the
 * price ladder replaced), built by a separately loaded copy of lib/feed/book so the two level
 * stores never share call sites (each copy's code stays monomorphic).
 *
 * Sessions, each timed beside its own decode-only baseline:
 *   generated  perf/decode.ts's session (perf/ref/itch-session.ts, 1 M messages, 500 symbols): the
 *              headline figure, comparable with earlier results
 *   market     the `tickpath gen` order flow (never crossed, executions where orders meet), 1 M
 *              messages on 500 symbols
 *   day        the same flow at --messages (default 10 M) on --symbols (default 8,000) locates, so
 *              the order table holds a day's working set (built in memory once; takes a while)
 *   captures   every real capture in test/fixtures/itch, concatenated and repeated to ~1 M messages
 *              with references shifted per repeat (perf/lib/book-sessions.ts)
 *
 * The machine is shared, so variants are interleaved: every round runs each pipeline once on each
 * session, in alternating order, on fresh books (built outside the timed region). Reported: best
 * wall-clock pass (ns_per_msg, as before) and the median CPU time of the process per message (the
 * share of time actually spent running), with the spread over rounds; the ladder against the
 * sorted levels also as the median of per-round ratios (both ran within a second of each other, so
 * the machine's load cancels out), and the load average before and after. Never asserts timings.
 *
 *   node dist/perf/book.js [--iterations 5] [--messages 10000000] [--symbols 8000] [--json]
 *   (--messages 0 skips the day session)
 */
import * as os from 'os';
import * as path from 'path';
import { BookBuilder } from '../lib/feed/book/book-builder';
import { BookEvent, BookEventHandler } from '../lib/feed/book/book-event';
import { Conflator } from '../lib/feed/book/conflator';
import { FeedDecoder, ItchMessageHandler } from '../lib/feed/feed-decoder';
import { decodeSession, FoldingHandler } from './decode';
import { BenchArgs } from './lib/args';
import { captureSession, marketSession } from './lib/book-sessions';
import { generateSession, SyntheticSession } from './ref/itch-session';
import { PreviousOrderStore } from './ref/order-store-previous';
import { report, Row } from './report';

class CountingSink implements BookEventHandler {
  events = 0;
  quotes = 0;
  onEvent(e: BookEvent): void { this.events++; if (e.kind === 6) this.quotes++; }
  endOfBatch(): void { /* nothing */ }
}

type Pipeline = 'decode' | 'books' | 'conflated' | 'sorted' | 'previous';

/**
 * BookBuilder from a second, independent load of lib/feed/book/ (its require cache entries set
 * aside, the module loaded again, the entries put back): its functions have their own inline
 * caches, so the sorted baseline's level calls do not turn the ladder's call sites polymorphic.
 */
function separateBookBuilder(): typeof BookBuilder {
  const dir = path.dirname(require.resolve('../lib/feed/book/book-builder')) + path.sep;
  const saved = new Map<string, NodeJS.Module>();
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(dir)) { saved.set(key, require.cache[key]!); delete require.cache[key]; }
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const copy = (require('../lib/feed/book/book-builder') as typeof import('../lib/feed/book/book-builder')).BookBuilder;
  for (const [key, m] of saved) require.cache[key] = m;
  if (copy === BookBuilder) throw new Error('perf:book: the sorted baseline did not get its own copy of BookBuilder');
  return copy;
}

const SortedBookBuilder = separateBookBuilder();
/** A third copy, given the previous order table (perf/ref/order-store-previous.ts) and the ladder. */
const PreviousBookBuilder = separateBookBuilder();

interface Pass { wallNs: number; cpuNs: number }

/** Every pass of one pipeline on one session, and the handler of the last. */
class Series {
  readonly passes: Pass[] = [];
  messages = 0;
  builder: BookBuilder | undefined;
  sink = new CountingSink();
  conflator: Conflator | undefined;

  get bestWall(): number { return Math.min(...this.passes.map((p) => p.wallNs)) / this.messages; }
  cpu(q: number): number {
    const s = this.passes.map((p) => p.cpuNs).sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))] / this.messages;
  }
}

class SessionBench {
  readonly series: Record<Pipeline, Series> = { decode: new Series(), books: new Series(), conflated: new Series(), sorted: new Series(), previous: new Series() };
  constructor(readonly name: string, readonly session: SyntheticSession, readonly orderCapacity: number) {}

  run(pipeline: Pipeline, counted: boolean): void {
    const s = this.series[pipeline];
    let handler: ItchMessageHandler;
    if (pipeline === 'decode') handler = new FoldingHandler();
    else if (pipeline === 'sorted') {
      s.sink = new CountingSink();
      handler = s.builder = new SortedBookBuilder(s.sink, { initialOrderCapacity: this.orderCapacity, levels: 'sorted' });
    } else if (pipeline === 'previous') {
      s.sink = new CountingSink();
      const orders = new PreviousOrderStore(this.orderCapacity) as unknown as BookBuilder['orders'];
      handler = s.builder = new PreviousBookBuilder(s.sink, { orders });
    } else {
      s.sink = new CountingSink();
      s.conflator = pipeline === 'conflated' ? new Conflator(s.sink) : undefined;
      handler = s.builder = new BookBuilder(s.conflator ?? s.sink, { initialOrderCapacity: this.orderCapacity });
    }
    const feed = new FeedDecoder(handler);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const messages = decodeSession(feed, this.session.bytes);
    const wallNs = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    if (!counted) return;
    s.messages = messages;
    s.passes.push({ wallNs, cpuNs: (c.user + c.system) * 1000 });
  }

  result(): Record<string, unknown> {
    const d = this.series.decode, b = this.series.books, k = this.series.conflated, o = this.series.sorted;
    const perRound = b.passes.map((p, i) => p.cpuNs / o.passes[i].cpuNs).sort((x, y) => x - y);
    const v = this.series.previous;
    const overPrevious = b.passes.map((p, i) => p.cpuNs / v.passes[i].cpuNs).sort((x, y) => x - y);
    const builder = b.builder!;
    const c = builder.counters;
    const r2 = (v: number): number => Number(v.toFixed(2));
    return {
      ns_per_msg: r2(b.bestWall),
      msgs_per_s: Math.round(1e9 / b.bestWall),
      baseline_decode_ns_per_msg: r2(d.bestWall),
      ratio: r2(b.bestWall / d.bestWall),
      with_conflator_ns_per_msg: r2(k.bestWall),
      cpu_ns_per_msg: r2(b.cpu(0.5)),
      cpu_ns_per_msg_range: [r2(b.cpu(0)), r2(b.cpu(1))],
      baseline_decode_cpu_ns_per_msg: r2(d.cpu(0.5)),
      books_only_cpu_ns_per_msg: r2(b.cpu(0.5) - d.cpu(0.5)),
      with_conflator_cpu_ns_per_msg: r2(k.cpu(0.5)),
      sorted_levels_ns_per_msg: r2(o.bestWall),
      sorted_levels_cpu_ns_per_msg: r2(o.cpu(0.5)),
      ladder_over_sorted_cpu_per_round: r2(perRound[perRound.length >> 1] ?? NaN),
      ladder_over_sorted_cpu_range: [r2(perRound[0] ?? NaN), r2(perRound[perRound.length - 1] ?? NaN)],
      sorted_levels_same_books: o.sink.events === b.sink.events && o.sink.quotes === b.sink.quotes,
      previous_orders_ns_per_msg: r2(v.bestWall),
      previous_orders_cpu_ns_per_msg: r2(v.cpu(0.5)),
      over_previous_orders_cpu_per_round: r2(overPrevious[overPrevious.length >> 1] ?? NaN),
      over_previous_orders_cpu_range: [r2(overPrevious[0] ?? NaN), r2(overPrevious[overPrevious.length - 1] ?? NaN)],
      previous_orders_same_books: v.sink.events === b.sink.events && v.sink.quotes === b.sink.quotes,
      previous_order_store_mb: Number((v.builder!.orders.bytes / 1048576).toFixed(1)),
      messages: b.messages,
      packets: this.session.packets,
      books: builder.allBooks().length,
      events: b.sink.events,
      quotes: b.sink.quotes,
      conflated_away: k.conflator ? k.conflator.counters.conflated : 0,
      quotes_after_conflation: k.sink.quotes,
      resting_orders_at_end: builder.orders.size,
      overflow_orders_at_end: builder.orders.overflowSize,
      order_store_mb: Number((builder.orders.bytes / 1048576).toFixed(1)),
      bad_references: c.unknownOrder + c.duplicateOrder + c.overExecution + c.overCancel + c.levelMismatch,
      mix: this.session.byType,
    };
  }
}

function main(): number {
  const args = new BenchArgs();
  const iterations = args.number('iterations', 5, 1);
  const dayMessages = args.number('messages', 10_000_000, 0);
  const daySymbols = args.number('symbols', 8000, 1);
  const t0 = Date.now();
  const loadBefore = os.loadavg()[0];
  const benches = [
    new SessionBench('generated', generateSession(1_000_000), 1 << 17),
    new SessionBench('market', marketSession(1_000_000, 500), 1 << 17),
  ];
  if (dayMessages > 0) benches.push(new SessionBench('day', marketSession(dayMessages, daySymbols), 1 << 20));
  const captures = captureSession(1_000_000);
  benches.push(new SessionBench('captures', captures, 1 << 17));
  console.log(`sessions built in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${iterations} rounds + 1 warm-up, interleaved`);

  const pipelines: Pipeline[] = ['decode', 'books', 'previous', 'sorted', 'conflated'];
  for (let round = 0; round <= iterations; round++) { // round 0 warms the JIT and is not counted
    for (const bench of benches) {
      const order = round % 2 === 0 ? pipelines : [...pipelines].reverse();
      for (const p of order) bench.run(p, round > 0);
    }
  }

  const results = Object.fromEntries(benches.map((b) => [b.name, b.result()]));
  const head = results.generated as Record<string, unknown>;
  const rows: Row[] = [];
  for (const b of benches) {
    const r = results[b.name] as Record<string, number> & { cpu_ns_per_msg_range: number[] };
    rows.push({
      label: `${b.name}: decode + BookBuilder (${(r.messages / 1e6).toFixed(1)} M msgs, ${r.books} books)`,
      ours: `${r.ns_per_msg} ns/msg best; cpu ${r.cpu_ns_per_msg} (${r.cpu_ns_per_msg_range.join('-')})`,
      baseline: `decode only ${r.baseline_decode_ns_per_msg} ns/msg; cpu ${r.baseline_decode_cpu_ns_per_msg}`,
      ratio: r.ratio,
      note: `+conflator ${r.with_conflator_ns_per_msg}; orders at end ${r.resting_orders_at_end}; bad refs ${r.bad_references}`,
    });
    rows.push({
      label: `${b.name}: price ladder vs sorted levels (books, CPU)`,
      ours: `ladder ${r.cpu_ns_per_msg} ns/msg`,
      baseline: `sorted levels ${r.sorted_levels_cpu_ns_per_msg} ns/msg`,
      ratio: r.ladder_over_sorted_cpu_per_round,
      note: `per-round ratio ${(results[b.name] as { ladder_over_sorted_cpu_range: number[] }).ladder_over_sorted_cpu_range.join('-')}; same events and quotes: ${String((results[b.name] as { sorted_levels_same_books: boolean }).sorted_levels_same_books)}`,
    });
    const q = results[b.name] as Record<string, unknown> & { over_previous_orders_cpu_range: number[] };
    rows.push({
      label: `${b.name}: order table vs the previous one (books, CPU)`,
      ours: `${r.cpu_ns_per_msg} ns/msg`,
      baseline: `previous order table ${String(q.previous_orders_cpu_ns_per_msg)} ns/msg`,
      ratio: r.over_previous_orders_cpu_per_round,
      note: `per-round ratio ${q.over_previous_orders_cpu_range.join('-')}; store ${String(q.order_store_mb)} vs ${String(q.previous_order_store_mb)} MB; same events and quotes: ${String(q.previous_orders_same_books)}`,
    });
  }
  const result = {
    ...head,
    sessions: results,
    captures: { files: captures.files, messages_per_repeat: captures.messagesPerRepeat, repeats: captures.repeats },
    day_session: { messages: dayMessages, symbols: daySymbols },
    iterations,
    load_average: { before: Number(loadBefore.toFixed(2)), after: Number(os.loadavg()[0].toFixed(2)), cpus: os.cpus().length },
    node: process.version,
  };
  report('book', rows, result);
  return 0;
}

if (require.main === module) process.exitCode = main();
