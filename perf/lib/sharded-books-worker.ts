/**
 * One book shard for perf:throughput's sharded layout: reads ITCH records from its SpscRing (the
 * decoder thread's fan-out by stock locate) into its own BookBuilder and Conflator, and reports
 * counts and the time it drained the last record (process.hrtime, the clock the main thread reads).
 *
 * Single writer of everything here: this worker. The ring's producer is the decoder thread. When
 * the ring is empty it waits 20 us at a time on the control word (the machine may have fewer CPUs
 * than threads, and a spinning reader would take the decoder's CPU).
 */
import * as fs from 'fs';
import { isMainThread, parentPort, workerData } from 'worker_threads';
import { SpscRing } from '../../lib/common/spsc-ring';
import { BookBuilder } from '../../lib/feed/book/book-builder';
import { BookEvent, BookEventHandler } from '../../lib/feed/book/book-event';
import { Conflator } from '../../lib/feed/book/conflator';
import type { ItchMessageHandler } from '../../lib/feed/feed-decoder';
import { ItchRecordReader } from '../../lib/pipeline/stage-rings';

export interface ShardWorkerData { ring: SharedArrayBuffer; control: SharedArrayBuffer; books: boolean }
/** control[0]: 1 once the decoder has published its last record; control[1]: the word waited on. */
export const kShardDone = 0;
export const kShardWake = 1;

/**
 * CPU time of the calling thread in ns (/proc/thread-self/schedstat): what a thread cost, however
 * many other threads shared its CPU. Linux only; NaN elsewhere.
 */
export function threadCpuNs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

class CountingSink implements BookEventHandler {
  events = 0;
  onEvent(_e: BookEvent): void { this.events++; }
  endOfBatch(): void { /* nothing */ }
}

/** For the fan-out ceiling: the records are read and re-wrapped, nothing else. */
class NoBooks implements ItchMessageHandler {
  messages = 0;
  onMessage(): void { this.messages++; }
  endOfBatch(): void { /* nothing */ }
}

function run(data: ShardWorkerData): void {
  const ring = SpscRing.attach(data.ring);
  const control = new Int32Array(data.control);
  const sink = new CountingSink();
  const conflator = new Conflator(sink);
  const books = data.books ? new BookBuilder(conflator, { initialOrderCapacity: 1 << 18 }) : undefined;
  const none = new NoBooks();
  const reader = new ItchRecordReader(ring, books ?? none, 256);
  parentPort!.postMessage({ type: 'ready' });
  const cpu0 = threadCpuNs();
  let empty = 0;
  for (;;) {
    if (reader.doWork() > 0) { empty = 0; continue; }
    if (Atomics.load(control, kShardDone) === 1 && ring.size() === 0) break;
    if (++empty > 32) Atomics.wait(control, kShardWake, 0, 0.02);
  }
  const endNs = Number(process.hrtime.bigint());
  const cpuNs = threadCpuNs() - cpu0;
  parentPort!.postMessage({
    type: 'done', endNs, cpuNs, messages: books ? books.counters.messages : none.messages, events: sink.events, conflated: conflator.counters.conflated,
    quotes: books ? books.counters.quotes : 0, badReferences: books ? books.counters.unknownOrder + books.counters.levelMismatch : 0,
  });
}

// The main thread imports this module for its constants only.
if (!isMainThread) run(workerData as ShardWorkerData);
