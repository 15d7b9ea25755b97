/**
 * Books sharded by stock locate across worker threads, for perf:throughput: one decoder thread
 * (this one) runs the production FeedDecoder over an in-memory session and fans each ITCH message
 * out by `locate % shards` into that shard's SpscRing (the pipeline's LocateFanout and
 * ItchRecordWriter, as `performance.stages.book.shards` runs them; messages without a locate go to
 * shard 0); each shard worker re-wraps them into its own BookBuilder and
 * Conflator (sharded-books-worker.ts). Locates never move between shards, so every book sees its
 * messages in feed order. Order references are unique across the feed, so no order spans shards.
 *
 * Measured per shard count, beside two baselines from the same run: the same decode + books +
 * conflation fused on one thread (no rings), and the fan-out ceiling (workers only read the
 * records: the decoder's own rate, which bounds a one-decoder layout). The rate is messages over
 * the time from the first packet decoded to the last record drained by the slowest shard.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { SpscRing } from '../../lib/common/spsc-ring';
import { BookBuilder } from '../../lib/feed/book/book-builder';
import { BookEvent, BookEventHandler } from '../../lib/feed/book/book-event';
import { Conflator } from '../../lib/feed/book/conflator';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { ItchRecordWriter, kItchRecordBytes, LocateFanout } from '../../lib/pipeline/stage-rings';
import { decodeSession } from '../decode';
import { SyntheticSession } from '../ref/itch-session';
import { kShardDone, kShardWake, ShardWorkerData, threadCpuNs } from './sharded-books-worker';

/**
 * msgs_per_s: wall clock, first packet to last record drained (the machine's load shows here).
 * decoder_cpu_ns_per_msg / worker_cpu_ns_per_msg: CPU time each thread spent per message it handled
 * (a worker: per message of its shard; the decoder: per message of the session, including its
 * spinning on a full ring, counted in stalls), which stays meaningful on a shared machine.
 */
export interface ShardRun {
  shards: number; books: boolean; msgs_per_s: number; ns_per_msg: number; messages: number; events: number; bad_references: number; stalls: number;
  /** Quotes the conflators merged (events + conflated is the same for every layout; each alone depends on the batches). */
  conflated: number;
  decoder_cpu_ns_per_msg: number; worker_cpu_ns_per_msg: number[];
  /** Messages each shard received. */
  shard_messages: number[];
}

interface Done { endNs: number; cpuNs: number; messages: number; events: number; conflated: number; quotes: number; badReferences: number }

/** One run: `shards` workers, each with books (or only reading, for the fan-out ceiling). */
export async function runSharded(session: SyntheticSession, shards: number, books: boolean): Promise<ShardRun> {
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const rings = Array.from({ length: shards }, () => SpscRing.create({ capacity: 1 << 15, recordBytes: kItchRecordBytes }));
  const workers = rings.map((r) => new Worker(path.join(__dirname, 'sharded-books-worker.js'), { workerData: { ring: r.sab, control, books } satisfies ShardWorkerData }));
  const ready = workers.map((w) => new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.on('message', (m: { type: string }) => { if (m.type === 'ready') resolve(); });
  }));
  const done = workers.map((w) => new Promise<Done>((resolve) => w.on('message', (m: Done & { type: string }) => { if (m.type === 'done') resolve(m); })));
  await Promise.all(ready);
  const writers = rings.map((r) => new ItchRecordWriter(r, () => 0, () => 0));
  const feed = new FeedDecoder(new LocateFanout(writers));
  const t0 = Number(process.hrtime.bigint());
  const cpu0 = threadCpuNs();
  decodeSession(feed, session.bytes);
  const decoderCpu = threadCpuNs() - cpu0;
  Atomics.store(ctl, kShardDone, 1);
  Atomics.notify(ctl, kShardWake);
  const results = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  const end = Math.max(...results.map((r) => r.endNs));
  const messages = results.reduce((n, r) => n + r.messages, 0);
  const seconds = (end - t0) / 1e9;
  return {
    shards, books, msgs_per_s: Math.round(session.messages / seconds), ns_per_msg: Number(((end - t0) / session.messages).toFixed(1)),
    messages, events: results.reduce((n, r) => n + r.events, 0), conflated: results.reduce((n, r) => n + r.conflated, 0), bad_references: results.reduce((n, r) => n + r.badReferences, 0),
    stalls: writers.reduce((n, w) => n + w.counters.stalls, 0),
    decoder_cpu_ns_per_msg: Number((decoderCpu / session.messages).toFixed(1)),
    worker_cpu_ns_per_msg: results.map((r) => Number((r.cpuNs / Math.max(1, r.messages)).toFixed(1))),
    shard_messages: results.map((r) => r.messages),
  };
}

class CountingSink implements BookEventHandler {
  events = 0;
  onEvent(_e: BookEvent): void { this.events++; }
  endOfBatch(): void { /* nothing */ }
}

/** Baseline: decode + books + conflation fused on this thread, no rings. */
export function runFused(session: SyntheticSession): ShardRun {
  const sink = new CountingSink();
  const conflator = new Conflator(sink);
  const books = new BookBuilder(conflator, { initialOrderCapacity: 1 << 18 });
  const feed = new FeedDecoder(books);
  const t0 = Number(process.hrtime.bigint());
  const cpu0 = threadCpuNs();
  const messages = decodeSession(feed, session.bytes);
  const cpu = threadCpuNs() - cpu0;
  const ns = Number(process.hrtime.bigint()) - t0;
  return {
    shards: 0, books: true, msgs_per_s: Math.round(session.messages / (ns / 1e9)), ns_per_msg: Number((ns / session.messages).toFixed(1)),
    messages, events: sink.events, conflated: conflator.counters.conflated, bad_references: books.counters.unknownOrder + books.counters.levelMismatch, stalls: 0,
    decoder_cpu_ns_per_msg: Number((cpu / session.messages).toFixed(1)), worker_cpu_ns_per_msg: [], shard_messages: [messages],
  };
}
