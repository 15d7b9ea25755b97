/**
 * MOEX FIX/FAST incremental refresh into books, ns per message, beside the ITCH path on the same
 * number of book updates, measured interleaved in one process (the machines this runs on are shared:
 * alternating the two paths round by round exposes both to the same load, and the ratio is the
 * figure to read, not the absolute nanoseconds).
 *
 * FAST: FastFeedDecoder (MOEX datagram framing) -> FastBookAdapter.decodeMessage (X-OLR's record
 * reader, fast-record-compiler.ts, straight from the packet; the row "record reader vs tape" runs
 * the same adapter with recordReaders: false, every message through the general decoder's value
 * tape, the path before) -> FastBookAdapter (RptSeq checks, OrderStore, PriceLevels, BookEvents, QUOTE on
 * a BBO change) -> a counting sink. One MDEntries element per X-OLR message, so messages = book updates.
 * ITCH: FeedDecoder -> BookBuilder -> the same sink, over perf/ref/itch-session.ts's generated session
 * of the same number of messages. Also reported: FAST decode only (no books), decode + instrument
 * resolution only (the split of decode + books into decode, resolution and the rest), and both again through
 * the reference interpreter instead of the compiled templates (fast-compiler.ts), and FAST decode +
 * books over a steady session (`steadyOrders`: about as many resting orders per instrument as the
 * ITCH session keeps per locate; the default session's books keep growing, twice as deep by the
 * end, which makes every level update dearer), and over a session of `kMultiEntries` MDEntries per
 * message (the same number of entries in a quarter of the messages: ns per message and per entry,
 * since a message's fixed cost, framing, template id, SendingTime, is shared by its entries), and ITCH
 * decode + BookBuilder over the FAST session's own order flow (itchOfFastFlow: the same book updates as
 * ITCH messages, giving the same events and QUOTEs), which tells the flow's share of the FAST-over-ITCH
 * gap from the adapter's. Best of N rounds
 * per path, and medians over the rounds for decode + books, ITCH and the tape path; the ITCH baseline
 * runs at the start and at the end of every round and the better of its two runs is the round's (one
 * run alone swung 91-206 ns/msg between runs). Timed in process CPU time (see `timed`); never asserts timings.
 * The child also times the same runs in its own thread's on-CPU time as the scheduler sums it
 * (`thread_cpu`, beside the headline): process CPU time counts V8's background threads too, which
 * mark and sweep the garbage of the rounds' fresh books and decoders while a later run is timed.
 * Two runs at load 7-10: FAST medians 315.7 and 244.8 ns/msg in process time against 293.8 and 242.9
 * in thread time (ITCH 127.2 and 116.1 against 116.4 and 117.7); the best rounds agreed within 3%,
 * thread time the higher (214.1 and 221.3 against 216.2 and 226.6: the two clocks are accounted
 * differently). So the background threads explain part of a loaded run's median, not the path's cost.
 *
 * The headline (FAST decode + books, and the ITCH baseline beside it) comes from a child process
 * (`--shipped-shape`) that runs only the paths `tickpath run` runs: its FastFeedDecoder only ever
 * calls a FastBookAdapter with record readers on, as MoexFeedReceiver's three decoders do. In the
 * process that also runs the split rows, decodePayload's handler call sees four classes (the
 * adapter, RecordOnly, ResolveOnly, NoBooks) and the adapter runs the tape and interpreter paths
 * too, so its code is compiled for a mix the product never has; that process's own decode + books
 * is reported beside the headline as `mixed_process`. Both are best of N interleaved rounds.
 *
 * The child does not apply performance.huge_pages (the shipped performance.yml's `collapse`, which
 * the pipeline applies once the stages have made their books): the same advice and collapse after
 * each fresh adapter, on this session in separate processes alternated with none (8 pairs, load
 * 5.5-6), left the best of 12 rounds lower without it in 7 of 8 pairs (186.3-233.5 ns/msg against
 * 187.5-277.5), so leaving it out does not flatter the figure. Not kept either: a full collection
 * (gc()) before every timed run, to keep the previous round's garbage out of the process CPU time
 * counted: both paths came out slower, FAST best 244.1-246.9 against 212.5-220.1 and ITCH 110.2-125.3
 * against 95.6-108.1 in four alternated pairs (load 4.7-6.8).
 *
 *   node dist/perf/fast.js [--messages 300000] [--rounds 7] [--json] [--shipped-shape]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BookBuilder } from '../lib/feed/book/book-builder';
import { ItchEncoder, stockBytes } from '../lib/feed/itch/itch-encoder';
import { MoldUdp64Encoder } from '../lib/feed/wire/moldudp64-encoder';
import { FastDecimalValue, FastRecord } from '../lib/feed/fast/fast-encoder';
import { BookEvent, BookEventHandler } from '../lib/feed/book/book-event';
import { FeedDecoder } from '../lib/feed/feed-decoder';
import { FastDecoder } from '../lib/feed/fast/fast-decoder';
import { FastFeedDecoder, FastMessageHandler } from '../lib/feed/fast/fast-feed-decoder';
import { loadFastTemplates } from '../lib/feed/fast/fast-templates';
import { FastBookAdapter, kRecHeader, kRecSession, kRecStride, kRecSymbol, moexIncrementalReader } from '../lib/feed/fast/moex/fast-book-adapter';
import { FastRecordReader } from '../lib/feed/fast/fast-record-compiler';
import { MoexInstrumentTable } from '../lib/feed/fast/moex/moex-instruments';
import { MoexSessionGenerator } from '../lib/feed/fast/moex/moex-session-generator';
import { FastTemplateRegistry } from '../lib/feed/fast/fast-templates';
import { decodeSession } from './decode';
import { generateSession } from './ref/itch-session';
import { report } from './report';

/** MDEntries per message in the multi-entry session. */
const kMultiEntries = 4;

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

/**
 * Decode + instrument resolution and nothing else, on the shipped path: the record reader of X-OLR
 * (fast-record-compiler.ts, as FastBookAdapter.decodeMessage runs it) and each MDEntries element's
 * Symbol and TradingSessionID through MoexInstrumentTable.resolveKey, before any RptSeq or book
 * work. Beside decode only and decode + books it splits the per-message cost into decode,
 * instrument resolution and the rest (RptSeq, order store, levels, events).
 */
class ResolveOnly implements FastMessageHandler {
  messages = 0;
  entries = 0;
  /** Locates summed: read, so the look-ups are not dead code. */
  locateSum = 0;
  readonly instruments = new MoexInstrumentTable(16384);
  private readonly record = new Float64Array(kRecHeader + 64 * kRecStride);
  constructor(private readonly reader: FastRecordReader) {}
  onMessage(_d: FastDecoder, _id: number): void { this.messages++; }
  decodeMessage(b: Uint8Array, offset: number, end: number): number {
    const r = this.record;
    const next = this.reader.fn(b, offset, end, r, 64);
    if (next < 0) return -1;
    this.messages++;
    for (let i = 0; i < r[0]; i++) {
      const e = kRecHeader + i * kRecStride;
      const session = r[e + kRecSession] !== 0;
      this.locateSum += this.instruments.resolveKey(b, r[e + kRecSymbol + 1], r[e + kRecSymbol + 2], r[e + kRecSymbol + 3], r[e + kRecSymbol + 4],
        r[e + kRecSymbol + 5], session ? r[e + kRecSession + 1] : 0, session ? r[e + kRecSession + 2] : 0, session ? r[e + kRecSession + 3] : 0);
      this.entries++;
    }
    return next;
  }
  endOfBatch(): void { /* nothing */ }
}

/** Decode only, on the shipped path: X-OLR's record reader and nothing else. */
class RecordOnly implements FastMessageHandler {
  messages = 0;
  private readonly record = new Float64Array(kRecHeader + 64 * kRecStride);
  constructor(private readonly reader: FastRecordReader) {}
  onMessage(_d: FastDecoder, _id: number): void { this.messages++; }
  decodeMessage(b: Uint8Array, offset: number, end: number): number {
    const next = this.reader.fn(b, offset, end, this.record, 64);
    if (next >= 0) this.messages++;
    return next;
  }
  endOfBatch(): void { /* nothing */ }
}

class NoBooks implements FastMessageHandler {
  messages = 0;
  onMessage(_d: FastDecoder, _id: number): void { this.messages++; }
  endOfBatch(): void { /* nothing */ }
}

/** Datagrams as one array of [u16 length][datagram] records, like the ITCH session. */
function pack(datagrams: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const d of datagrams) size += 2 + d.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const d of datagrams) { out[p] = d.length >> 8; out[p + 1] = d.length & 0xff; out.set(d, p + 2); p += 2 + d.length; }
  return out;
}

/**
 * The FAST session's order flow (the same generator, options and seed as perf:fast's session, so the
 * same book updates in the same order) as ITCH messages in MoldUDP64 packets of up to 1400 bytes, as
 * perf/ref/itch-session.ts packs its own: a new order is an A with the MDEntryID as its reference, a
 * delete a D, a change at the same price an X of the shares taken off (the generator only lowers
 * sizes; an unchanged one is an X of 0), a price change a U that keeps the reference. Prices are
 * scaled from the 25-unit tick to ITCH's 100, so every side's ladder holds the same levels at the
 * same indices. BookBuilder over it gives the same events and QUOTEs as the adapter over the FAST
 * session: beside ITCH's own session it tells whether the flow (deeper books, older orders) or the
 * FAST adapter's code makes FAST's book half dearer. Not the hot path: it allocates.
 */
function itchOfFastFlow(registry: FastTemplateRegistry, messages: number, options: { instruments: number; seed: number }): Uint8Array {
  const gen = new MoexSessionGenerator(registry, { instruments: options.instruments, entriesPerMessage: 1, seed: options.seed });
  const enc = new ItchEncoder();
  const mold = new MoldUdp64Encoder('FASTFLOW01');
  const locates = new Map(gen.symbols.map((s, i) => [s, i + 1]));
  const stocks = gen.symbols.map((_, i) => stockBytes(`F${i.toString(36).toUpperCase()}`));
  /** Per resting MDEntryID: ITCH price and shares. */
  const resting = new Map<number, { price: number; shares: number }>();
  const chunks: Uint8Array[] = [];
  const packet = new Uint8Array(2 + 1500);
  let seq = 1;
  let ts = 34200000000000;
  const flush = (): void => {
    const count = mold.messageCount;
    const len = mold.finish();
    packet[0] = len >>> 8; packet[1] = len & 0xff;
    chunks.push(packet.slice(0, 2 + len));
    seq += count;
  };
  mold.begin(packet, 2, seq);
  for (let k = 0; k < messages; k++) {
    if (mold.lengthWith(36) > 1400) { flush(); mold.begin(packet, 2, seq); }
    for (const e of gen.nextIncremental().entries as FastRecord[]) {
      ts += 1000;
      const locate = locates.get(e.Symbol as string)!;
      const id = Number(e.MDEntryID as string);
      const px = e.MDEntryPx as FastDecimalValue;
      const price = Math.round(Number(px.mantissa) * 10 ** (Number(px.exponent) + 5)) / 25 * 100;
      const shares = Number((e.MDEntrySize as FastDecimalValue).mantissa);
      const action = e.MDUpdateAction as number;
      if (action === 0) {
        enc.addOrder(packet, mold.appendMessage(36), locate, 0, ts, id, e.MDEntryType === '0', shares, stocks[locate - 1], price);
        resting.set(id, { price, shares });
      } else if (action === 2) {
        enc.orderDelete(packet, mold.appendMessage(19), locate, 0, ts, id);
        resting.delete(id);
      } else {
        const o = resting.get(id)!;
        if (price === o.price) enc.orderCancel(packet, mold.appendMessage(23), locate, 0, ts, id, o.shares - shares);
        else enc.orderReplace(packet, mold.appendMessage(35), locate, 0, ts, id, id, shares, price);
        o.price = price; o.shares = shares;
      }
    }
  }
  if (mold.messageCount > 0) flush();
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const c of chunks) { out.set(c, p); p += c.length; }
  return out;
}

/** The handler kinds this process's FastFeedDecoders were made for (the shipped-shape child must list only 'adapter'). */
const handlerKinds = new Set<string>();

/** A FastFeedDecoder over `handler`, its kind recorded (adapter, adapter/tape, adapter/interpreted, or the split rows' handler class). */
function feedFor(registry: FastTemplateRegistry, handler: FastMessageHandler, kind: string, options?: { engine: 'interpreted' }): FastFeedDecoder {
  handlerKinds.add(kind);
  return new FastFeedDecoder(registry, handler, options);
}

function replay(feed: FastFeedDecoder, bytes: Uint8Array): number {
  let n = 0;
  for (let p = 0; p + 2 <= bytes.length;) {
    const len = (bytes[p] << 8) | bytes[p + 1];
    n += feed.decodePayload(bytes, p + 2, len);
    p += 2 + len;
    feed.endOfBatch();
  }
  return n;
}

/**
 * The process's CPU time (user + system) over the run, not wall time: on a machine shared with other
 * jobs the wall clock also counts the time this process waited for a CPU, which moved the best of
 * five rounds by 2x from one run to the next. Single-threaded runs, microsecond resolution, runs of
 * tens of milliseconds.
 */
function timed(run: () => number): { ns: number; count: number; threadNs: number } {
  const s0 = threadCpuNs();
  const t0 = process.cpuUsage();
  const count = run();
  const used = process.cpuUsage(t0);
  return { ns: (used.user + used.system) * 1000, count, threadNs: threadCpuNs() - s0 };
}

/**
 * This thread's on-CPU time in ns (the first field of /proc/thread-self/schedstat), NaN where there
 * is none. process.cpuUsage counts every thread of the process: V8's concurrent marking and sweeping
 * (the garbage of the rounds' fresh books and decoders) and its background compiles land in the
 * timed runs as well; this thread's time leaves them out (reported beside the headline).
 */
function threadCpuNs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** A figure to two decimals, null when there is none (no thread clock: JSON carries NaN as null). */
function orNull(x: number | null): number | null {
  return x === null || !Number.isFinite(x) ? null : Number(x.toFixed(2));
}

/** What the `--shipped-shape` child prints as its last line: the headline paths alone. */
interface ShippedShape {
  handlers: string[]; fast_ns_per_msg: number; itch_ns_per_msg: number; fast_median_ns_per_msg: number; itch_median_ns_per_msg: number; ratio_median: number; messages: number; book_errors: number; load_average: number;
  /** The same runs timed in this thread's CPU time (threadCpuNs): best and median of the rounds. */
  thread: { fast_ns_per_msg: number; fast_median_ns_per_msg: number; itch_ns_per_msg: number; itch_median_ns_per_msg: number };
}

/** Runs this benchmark again in a child with `--shipped-shape` (see the header) and returns its figures. */
function shippedShape(messages: number, rounds: number): ShippedShape {
  const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--shipped-shape', '--messages', String(messages), '--rounds', String(rounds)],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = (child.stdout ?? '').trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !last.startsWith('{')) {
    throw new Error(`perf:fast: the --shipped-shape child failed (exit ${child.status}): ${(child.stderr ?? '').slice(-2000)}`);
  }
  return JSON.parse(last) as ShippedShape;
}

function main(): number {
  const loadBefore = os.loadavg()[0];
  const messages = Number(arg('messages', '300000'));
  const rounds = Number(arg('rounds', '7'));
  /** Only the paths tickpath run runs (the child's mode; see the header). */
  const shippedOnly = process.argv.includes('--shipped-shape');
  const shipped = shippedOnly ? undefined : shippedShape(messages, rounds);
  const templatesFile = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'fast', 'moex-asts-fix50sp2-2017-mar.xml');
  const registry = loadFastTemplates(fs.readFileSync(templatesFile, 'utf8'));

  const gen = new MoexSessionGenerator(registry, { instruments: 500, entriesPerMessage: 1, seed: 12345 });
  const fastBytes = pack(gen.incrementals(messages));
  const steadyBytes = pack(new MoexSessionGenerator(registry, { instruments: 500, entriesPerMessage: 1, seed: 12345, steadyOrders: 45 }).incrementals(messages));
  const itch = generateSession(messages);
  const itchFlow = itchOfFastFlow(registry, messages, { instruments: 500, seed: 12345 });
  const multiGen = new MoexSessionGenerator(registry, { instruments: 500, entriesPerMessage: kMultiEntries, seed: 12345 });
  const multiBytes = pack(multiGen.incrementals(Math.ceil(messages / kMultiEntries)));
  const reader = moexIncrementalReader(registry.templateNamed('X-OLR-CURR'));
  if (reader === undefined) throw new Error('X-OLR-CURR has no record reader');
  let bestMulti = Infinity; let multiCount = 0; let multiEntries = 0; let multiErrors = 0;

  let bestFast = Infinity; let bestItch = Infinity; let bestDecode = Infinity; let bestTapeDecode = Infinity; let bestTape = Infinity;
  let bestFastInterp = Infinity; let bestDecodeInterp = Infinity; let bestSteady = Infinity; let steadyCount = 0;
  let steadyAdapter: FastBookAdapter | undefined;
  let fastCount = 0; let itchCount = 0; let decodeCount = 0;
  let bestResolve = Infinity; let resolveCount = 0; let resolveEntries = 0; let resolveMisses = 0; let resolveInstruments = 0;
  let fastSink = new CountingSink(); let itchSink = new CountingSink();
  let adapter: FastBookAdapter | undefined;
  let feedErrors = 0; let tapeErrors = 0;
  /** Per counted round: FAST decode + books, the ITCH baseline (best of its two runs in the round), the old tape path. */
  const roundFast: number[] = []; const roundItch: number[] = []; const roundTape: number[] = []; const roundItchFlow: number[] = [];
  /** The same runs in this thread's CPU time (FAST's run, and the ITCH run the round took). */
  const roundFastThread: number[] = []; const roundItchThread: number[] = [];
  const itchRun = (bytes: Uint8Array = itch.bytes): { ns: number; count: number; threadNs: number; sink: CountingSink; books: BookBuilder } => {
    const sink = new CountingSink();
    const books = new BookBuilder(sink, { initialOrderCapacity: 1 << 17 });
    const itchFeed = new FeedDecoder(books);
    return { ...timed(() => decodeSession(itchFeed, bytes)), sink, books };
  };
  let bestItchFlow = Infinity; let itchFlowCount = 0; let itchFlowEvents = 0; let itchFlowQuotes = 0; let itchFlowErrors = 0;
  for (let r = 0; r < rounds + 1; r++) { // round 0 warms the JIT and is not counted
    // ITCH at the start and at the end of the round, FAST between: both runs see the round's load,
    // and the better of the two is the round's baseline (one run alone swung 91-206 ns between runs).
    const i1 = itchRun();
    const fs1 = new CountingSink();
    const a = new FastBookAdapter(registry, fs1, { initialOrderCapacity: 1 << 17 });
    const ff = feedFor(registry, a, 'adapter');
    const f = timed(() => replay(ff, fastBytes));
    // The path before record readers: every message through the general decoder's tape, same adapter.
    const none = { ns: Infinity, count: 1, threadNs: Infinity };
    const at = new FastBookAdapter(registry, new CountingSink(), { initialOrderCapacity: 1 << 17, recordReaders: false });
    const tp = shippedOnly ? none : timed(() => replay(feedFor(registry, at, 'adapter/tape'), fastBytes));
    const dd = shippedOnly ? none : timed(() => replay(feedFor(registry, new RecordOnly(reader), 'RecordOnly'), fastBytes));
    const dt = shippedOnly ? none : timed(() => replay(feedFor(registry, new NoBooks(), 'NoBooks'), fastBytes));
    const ro = new ResolveOnly(reader);
    const dr = shippedOnly ? none : timed(() => replay(feedFor(registry, ro, 'ResolveOnly'), fastBytes));
    // The reference interpreter, same feed: what compiling the templates saves.
    const ai = new FastBookAdapter(registry, new CountingSink(), { initialOrderCapacity: 1 << 17 });
    const fi = shippedOnly ? none : timed(() => replay(feedFor(registry, ai, 'adapter/interpreted', { engine: 'interpreted' }), fastBytes));
    const di = shippedOnly ? none : timed(() => replay(feedFor(registry, new NoBooks(), 'NoBooks/interpreted', { engine: 'interpreted' }), fastBytes));
    const as = new FastBookAdapter(registry, new CountingSink(), { initialOrderCapacity: 1 << 17 });
    const st = timed(() => replay(feedFor(registry, as, 'adapter'), steadyBytes));
    const am = new FastBookAdapter(registry, new CountingSink(), { initialOrderCapacity: 1 << 17 });
    const mu = timed(() => replay(feedFor(registry, am, 'adapter'), multiBytes));
    // ITCH's BookBuilder over the FAST session's order flow (itchOfFastFlow): the same book updates.
    const iff = itchRun(itchFlow);
    const i2 = itchRun();
    if (r === 0) continue;
    const i = i2.ns < i1.ns ? i2 : i1;
    roundFast.push(f.ns / f.count); roundItch.push(i.ns / i.count); roundFastThread.push(f.threadNs / f.count); roundItchThread.push(i.threadNs / i.count); roundTape.push(tp.ns / tp.count); roundItchFlow.push(iff.ns / iff.count);
    if (iff.ns < bestItchFlow) {
      const bc = iff.books.counters;
      bestItchFlow = iff.ns; itchFlowCount = iff.count; itchFlowEvents = iff.sink.events; itchFlowQuotes = iff.sink.quotes;
      itchFlowErrors = bc.unknownOrder + bc.duplicateOrder + bc.levelMismatch + bc.overCancel + bc.overExecution + bc.badSide;
    }
    if (mu.ns < bestMulti) {
      bestMulti = mu.ns; multiCount = mu.count; multiEntries = am.counters.entries;
      multiErrors = am.badReferences() + am.counters.levelMismatch + am.counters.rptSeqGaps + (mu.count === Math.ceil(messages / kMultiEntries) ? 0 : 1);
    }
    if (st.ns < bestSteady) { bestSteady = st.ns; steadyCount = st.count; steadyAdapter = as; }
    if (fi.ns < bestFastInterp) bestFastInterp = fi.ns;
    if (di.ns < bestDecodeInterp) bestDecodeInterp = di.ns;
    if (f.ns < bestFast) { bestFast = f.ns; fastCount = f.count; fastSink = fs1; adapter = a; feedErrors = ff.counters.badMessages; }
    if (!shippedOnly && tp.ns < bestTape) { bestTape = tp.ns; tapeErrors = at.badReferences() + at.counters.levelMismatch + at.counters.rptSeqGaps; }
    if (i.ns < bestItch) { bestItch = i.ns; itchCount = i.count; itchSink = i.sink; }
    if (!shippedOnly && dd.ns < bestDecode) { bestDecode = dd.ns; decodeCount = dd.count; }
    if (dt.ns < bestTapeDecode) bestTapeDecode = dt.ns;
    if (!shippedOnly && dr.ns < bestResolve) { bestResolve = dr.ns; resolveCount = dr.count; resolveEntries = ro.entries; resolveMisses = ro.instruments.cacheMisses; resolveInstruments = ro.instruments.count; }
  }
  const median = (xs: number[]): number => { const v = [...xs].sort((x, y) => x - y); return v.length % 2 === 1 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
  const c = adapter!.counters;
  const bookErrors = c.unknownOrder + c.duplicateOrder + c.levelMismatch + c.badPrice + c.badSize + c.badOrderId + c.rptSeqGaps + feedErrors;
  if (shippedOnly) {
    const out: ShippedShape = {
      handlers: [...handlerKinds].sort(),
      fast_ns_per_msg: bestFast / fastCount, itch_ns_per_msg: bestItch / itchCount,
      fast_median_ns_per_msg: median(roundFast), itch_median_ns_per_msg: median(roundItch),
      ratio_median: median(roundFast.map((x, k) => x / roundItch[k])), messages: fastCount, book_errors: bookErrors,
      load_average: os.loadavg()[0],
      thread: { fast_ns_per_msg: Math.min(...roundFastThread), fast_median_ns_per_msg: median(roundFastThread), itch_ns_per_msg: Math.min(...roundItchThread), itch_median_ns_per_msg: median(roundItchThread) },
    };
    console.log(JSON.stringify(out));
    return bookErrors === 0 ? 0 : 1;
  }
  const sh = shipped!;
  /** The headline: the shipped-shape child's (see the header); this process's own FAST figure is `mixed_process`. */
  const fastNs = sh.fast_ns_per_msg;
  const itchNs = sh.itch_ns_per_msg;
  const mixedFastNs = bestFast / fastCount;
  const mixedItchNs = bestItch / itchCount;
  const tapeNs = bestTape / fastCount;
  const decodeNs = bestDecode / decodeCount;
  const tapeDecodeNs = bestTapeDecode / decodeCount;
  const resolveNs = bestResolve / resolveCount;
  const fastInterpNs = bestFastInterp / fastCount;
  const decodeInterpNs = bestDecodeInterp / decodeCount;
  const steadyNs = bestSteady / steadyCount;
  const itchFlowNs = bestItchFlow / itchFlowCount;
  /** Resting orders and mean price levels per side at the end of a session: how deep the books were. */
  const depthOf = (books: { bids: { count: number }; asks: { count: number } }[], resting: number): { resting_orders: number; levels_per_side: number } => {
    let levels = 0;
    for (const b of books) levels += b.bids.count + b.asks.count;
    return { resting_orders: resting, levels_per_side: Number((levels / Math.max(1, 2 * books.length)).toFixed(1)) };
  };
  const itchBooks = new BookBuilder(new CountingSink(), { initialOrderCapacity: 1 << 17 });
  decodeSession(new FeedDecoder(itchBooks), itch.bytes);
  const result = {
    ns_per_msg: Number(fastNs.toFixed(2)),
    msgs_per_s: Math.round(1e9 / fastNs),
    target_ns_per_msg: 150,
    itch_books_ns_per_msg: Number(itchNs.toFixed(2)),
    ratio_fast_over_itch: Number((fastNs / itchNs).toFixed(3)),
    /** The shipped-shape child's medians over its counted rounds (per round: FAST once, ITCH the better of its two runs): the steadier figures. */
    median: {
      ns_per_msg: Number(sh.fast_median_ns_per_msg.toFixed(2)),
      itch_books_ns_per_msg: Number(sh.itch_median_ns_per_msg.toFixed(2)),
      ratio_fast_over_itch: Number(sh.ratio_median.toFixed(3)),
      tape_ns_per_msg: Number(median(roundTape).toFixed(2)),
      ratio_fast_over_tape: Number(median(roundFast.map((x, k) => x / roundTape[k])).toFixed(3)),
    },
    shipped_shape: { handlers: sh.handlers, messages: sh.messages, book_errors: sh.book_errors, load_average_after: Number(sh.load_average.toFixed(2)) },
    /**
     * The shipped-shape child's same runs in its own thread's CPU time (threadCpuNs): without what
     * V8's background threads (concurrent marking of earlier rounds' garbage, compiles) added to
     * process CPU time meanwhile. Not the headline; beside it, to tell the path from that noise.
     */
    thread_cpu: {
      ns_per_msg: orNull(sh.thread.fast_ns_per_msg),
      median_ns_per_msg: orNull(sh.thread.fast_median_ns_per_msg),
      itch_books_ns_per_msg: orNull(sh.thread.itch_ns_per_msg),
      median_itch_books_ns_per_msg: orNull(sh.thread.itch_median_ns_per_msg),
    },
    /**
     * FAST decode + books and ITCH in this process, whose FastFeedDecoder also feeds the split rows'
     * handlers and the tape and interpreter paths (see the header): the figure every other row here
     * is compared with, and what the headline was before it came from the child.
     */
    mixed_process: {
      handlers: [...handlerKinds].sort(),
      ns_per_msg: Number(mixedFastNs.toFixed(2)),
      itch_books_ns_per_msg: Number(mixedItchNs.toFixed(2)),
      median_ns_per_msg: Number(median(roundFast).toFixed(2)),
      median_itch_books_ns_per_msg: Number(median(roundItch).toFixed(2)),
    },
    rounds_ns_per_msg: { fast: roundFast.map((x) => Number(x.toFixed(1))), itch: roundItch.map((x) => Number(x.toFixed(1))), tape: roundTape.map((x) => Number(x.toFixed(1))) },
    /** The same adapter with every message through the general decoder's value tape (recordReaders: false): the path before record readers. */
    tape_ns_per_msg: Number(tapeNs.toFixed(2)),
    ratio_fast_over_tape: Number((mixedFastNs / tapeNs).toFixed(3)),
    tape_book_errors: tapeErrors,
    fast_decode_only_ns_per_msg: Number(decodeNs.toFixed(2)),
    tape_decode_only_ns_per_msg: Number(tapeDecodeNs.toFixed(2)),
    /**
     * Where decode + books goes, from three paths over the same session (best rounds, so the parts
     * are approximate and can be off by the noise between rounds): decode; instrument resolution
     * per entry (decode + resolution minus decode); the rest of the book work (RptSeq, order store,
     * levels, events: decode + books minus decode + resolution).
     */
    split_ns: {
      decode: Number(decodeNs.toFixed(2)),
      instrument_resolution_per_entry: Number(((bestResolve - bestDecode * resolveCount / decodeCount) / Math.max(1, resolveEntries)).toFixed(2)),
      books_rest: Number((mixedFastNs - resolveNs).toFixed(2)),
    },
    /** resolveBytes' cache over the session (moex-instruments.ts): misses beyond one per instrument are lines two keys share. */
    instrument_cache: { entries: resolveEntries, misses: resolveMisses, instruments: resolveInstruments },
    interpreted_ns_per_msg: Number(fastInterpNs.toFixed(2)),
    interpreted_decode_only_ns_per_msg: Number(decodeInterpNs.toFixed(2)),
    ratio_decode_compiled_over_interpreted: Number((decodeNs / decodeInterpNs).toFixed(3)),
    messages: fastCount,
    book_updates: c.applied,
    itch_messages: itchCount,
    fast_events: fastSink.events,
    fast_quotes: fastSink.quotes,
    itch_events: itchSink.events,
    bad_datagrams: feedErrors,
    book_errors: c.unknownOrder + c.duplicateOrder + c.levelMismatch + c.badPrice + c.badSize + c.badOrderId + c.rptSeqGaps + sh.book_errors,
    /**
     * ITCH decode + BookBuilder over the FAST session's order flow (itchOfFastFlow: the same book
     * updates, as A/D/X/U in MoldUDP64 packets), beside ITCH's own session: when the two are close,
     * the flow is not what makes FAST's book half dearer than ITCH's, the adapter's code is. Its
     * events and QUOTEs equal the FAST adapter's (same books), checked in its book_errors.
     */
    itch_on_fast_flow: {
      ns_per_msg: Number(itchFlowNs.toFixed(2)),
      median_ns_per_msg: Number(median(roundItchFlow).toFixed(2)),
      ratio_over_itch: Number((itchFlowNs / mixedItchNs).toFixed(3)),
      median_ratio_over_itch: Number(median(roundItchFlow.map((x, k) => x / roundItch[k])).toFixed(3)),
      messages: itchFlowCount,
      events: itchFlowEvents,
      quotes: itchFlowQuotes,
      book_errors: itchFlowErrors + (itchFlowEvents === fastSink.events && itchFlowQuotes === fastSink.quotes ? 0 : 1),
    },
    steady_ns_per_msg: Number(steadyNs.toFixed(2)),
    ratio_steady_over_itch: Number((steadyNs / mixedItchNs).toFixed(3)),
    steady_book_errors: steadyAdapter!.badReferences() + steadyAdapter!.counters.levelMismatch + steadyAdapter!.counters.rptSeqGaps,
    multi_entry: {
      entries_per_msg: kMultiEntries,
      messages: multiCount,
      entries: multiEntries,
      ns_per_msg: Number((bestMulti / multiCount).toFixed(2)),
      ns_per_entry: Number((bestMulti / multiEntries).toFixed(2)),
      /** ITCH decode + books per book update, beside the FAST cost per entry (one book update each). */
      ratio_entry_over_itch: Number((bestMulti / multiEntries / mixedItchNs).toFixed(3)),
      book_errors: multiErrors,
    },
    load_average: { before: Number(loadBefore.toFixed(2)), after: Number(os.loadavg()[0].toFixed(2)), cpus: os.cpus().length },
    depth: {
      fast: depthOf(adapter!.allBooks(), adapter!.orders.size),
      fast_steady: depthOf(steadyAdapter!.allBooks(), steadyAdapter!.orders.size),
      itch: depthOf(itchBooks.allBooks(), itchBooks.orders.size),
    },
    rounds,
    interleaved: true,
    clock: 'process cpu time',
    note: 'shared, loaded 2-core machine: rounds interleave FAST and ITCH (ITCH at both ends of each round, the better run counts), timed in process CPU time; best and median of the rounds; read the ratio',
    node: process.version,
  };
  console.log(`FIX/FAST (MOEX X-OLR, one entry per message) vs ITCH into books, best of ${rounds} interleaved rounds over ${fastCount} messages each`);
  report('fast', [
    { label: 'FAST decode + books (ns/msg)', ours: result.ns_per_msg.toFixed(1), baseline: result.itch_books_ns_per_msg.toFixed(1), ratio: result.ratio_fast_over_itch,
      note: `a process running only tickpath run's paths (--shipped-shape); baseline: ITCH decode + BookBuilder, same update count; medians ${result.median.ns_per_msg.toFixed(1)} / ${result.median.itch_books_ns_per_msg.toFixed(1)} (${result.median.ratio_fast_over_itch}x); in its thread's CPU time best ${result.thread_cpu.ns_per_msg ?? 'n/a'} / ${result.thread_cpu.itch_books_ns_per_msg ?? 'n/a'}, medians ${result.thread_cpu.median_ns_per_msg ?? 'n/a'} / ${result.thread_cpu.median_itch_books_ns_per_msg ?? 'n/a'}` },
    { label: 'FAST decode + books, beside the split rows (ns/msg)', ours: mixedFastNs.toFixed(1), baseline: mixedItchNs.toFixed(1), ratio: Number((mixedFastNs / mixedItchNs).toFixed(3)),
      note: `one process with every row below (its decoder feeds four handler classes); medians ${result.mixed_process.median_ns_per_msg.toFixed(1)} / ${result.mixed_process.median_itch_books_ns_per_msg.toFixed(1)}` },
    { label: 'FAST decode + books, record reader vs tape (ns/msg)', ours: mixedFastNs.toFixed(1), baseline: result.tape_ns_per_msg.toFixed(1), ratio: result.ratio_fast_over_tape,
      note: `baseline: general decoder + value tape (before), same process; medians ${result.mixed_process.median_ns_per_msg.toFixed(1)} / ${result.median.tape_ns_per_msg.toFixed(1)}` },
    { label: 'FAST decode only (ns/msg)', ours: result.fast_decode_only_ns_per_msg.toFixed(1), baseline: result.tape_decode_only_ns_per_msg.toFixed(1), ratio: Number((decodeNs / tapeDecodeNs).toFixed(3)),
      note: `no books; baseline: compiled decoder onto the tape (interpreter ${result.interpreted_decode_only_ns_per_msg.toFixed(1)})` },
    { label: 'FAST decode + instrument resolution (ns/msg)', ours: resolveNs.toFixed(1), baseline: result.fast_decode_only_ns_per_msg.toFixed(1), ratio: Number((resolveNs / decodeNs).toFixed(3)),
      note: `baseline: decode only; the rest of books: ${result.split_ns.books_rest.toFixed(1)} ns/msg` },
    { label: 'FAST decode + books, steady session (ns/msg)', ours: result.steady_ns_per_msg.toFixed(1), baseline: mixedItchNs.toFixed(1), ratio: result.ratio_steady_over_itch,
      note: `levels/side at the end: steady ${result.depth.fast_steady.levels_per_side}, default ${result.depth.fast.levels_per_side}, ITCH ${result.depth.itch.levels_per_side}` },
    { label: `FAST decode + books, ${kMultiEntries} entries/msg (ns/entry)`, ours: result.multi_entry.ns_per_entry.toFixed(1), baseline: mixedItchNs.toFixed(1),
      ratio: result.multi_entry.ratio_entry_over_itch, note: `${result.multi_entry.ns_per_msg.toFixed(1)} ns/msg; baseline: ITCH per book update` },
    { label: 'ITCH decode + books, the FAST session\'s order flow (ns/msg)', ours: result.itch_on_fast_flow.ns_per_msg.toFixed(1), baseline: mixedItchNs.toFixed(1),
      ratio: result.itch_on_fast_flow.ratio_over_itch,
      note: `BookBuilder over the same book updates as FAST's (same events and QUOTEs); baseline: ITCH's own session; medians ${result.itch_on_fast_flow.median_ns_per_msg.toFixed(1)} / ${result.mixed_process.median_itch_books_ns_per_msg.toFixed(1)}` },
    { label: 'FAST interpreted + books (ns/msg)', ours: result.interpreted_ns_per_msg.toFixed(1), baseline: mixedItchNs.toFixed(1), ratio: Number((fastInterpNs / mixedItchNs).toFixed(3)), note: 'templates not compiled; baseline: ITCH in this process' },
  ], result);
  return result.bad_datagrams === 0 && result.book_errors === 0 && result.tape_book_errors === 0 && result.steady_book_errors === 0 && result.multi_entry.book_errors === 0
    && result.itch_on_fast_flow.book_errors === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
