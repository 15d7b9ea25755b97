/**
 * Records per second through SpscRing between two worker threads, against postMessage between the
 * same two threads (per record, and batched 64 records per message as a second reference).
 *
 *   node dist/perf/ring.js [--records N] [--runs R] [--idle spin|yield|backoff] [--json]
 *
 * Each run: both workers start on a shared barrier; the consumer stops the clock after the last
 * record and checks that every sequence number arrived in order. postMessage is flow-controlled
 * with a window equal to the ring capacity (the producer waits on an Atomics counter the consumer
 * advances), so both transports hold the same number of records in flight and neither queues
 * unbounded memory. The best run of each transport is reported; no timing is asserted.
 * With --json the LAST line is one JSON object: records_per_s, baseline_records_per_s, ratio, ... (also
 * written to perf/results/ring.json by perf/report.ts)
 */
import { MessageChannel, MessagePort, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SpscRing } from '../lib/common/spsc-ring';
import { createIdleStrategy, type IdleStrategyName } from '../lib/common/idle-strategy';
import { fmtRate, report } from './report';

type Transport = 'spsc' | 'postmessage' | 'postmessage-batched';

interface Job {
  transport: Transport;
  role: 'producer' | 'consumer';
  records: number;
  idle: IdleStrategyName;
  /** [0] ready count, [1] go flag, [16] records consumed (postMessage flow control). */
  control: SharedArrayBuffer;
  ring?: SharedArrayBuffer;
  port?: MessagePort;
}

interface JobResult {
  elapsedNs: number;
  error: string | null;
}

const kReadyI32 = 0;
const kGoI32 = 1;
const kConsumedI32 = 16;
const kCapacity = 4096;
const kRecordBytes = 16;
const kClaimBatch = 64;
const kReadLimit = 256;
const kMessageBatch = 64;

function nowNs(): number {
  // Only read twice per run, and comparable across threads: hrtime is the process-wide monotonic clock.
  return Number(process.hrtime.bigint());
}

function barrier(control: Int32Array): void {
  Atomics.add(control, kReadyI32, 1);
  Atomics.notify(control, kReadyI32);
  while (Atomics.load(control, kGoI32) === 0) Atomics.wait(control, kGoI32, 0, 50);
}

// ---------------- worker side ----------------

function spscProducer(job: Job, control: Int32Array): JobResult {
  const ring = SpscRing.attach(job.ring!);
  const idle = createIdleStrategy(job.idle);
  const i32 = ring.i32;
  barrier(control);
  let seq = 0;
  while (seq < job.records) {
    const want = job.records - seq < kClaimBatch ? job.records - seq : kClaimBatch;
    const got = ring.tryClaim(want);
    for (let i = 0; i < got; i++) {
      const w = ring.offsetOfClaimed(i) >> 2;
      i32[w] = seq;
      i32[w + 1] = seq ^ 0x5a5a5a5a;
      seq++;
    }
    if (got > 0) ring.publish();
    idle.idle(got);
  }
  return { elapsedNs: 0, error: null };
}

function spscConsumer(job: Job, control: Int32Array): JobResult {
  const ring = SpscRing.attach(job.ring!);
  const idle = createIdleStrategy(job.idle);
  const i32 = ring.i32;
  let expected = 0;
  let error: string | null = null;
  const handler = (off: number): void => {
    const w = off >> 2;
    if (i32[w] !== expected || i32[w + 1] !== (expected ^ 0x5a5a5a5a)) {
      if (error === null) error = `record ${expected}: got seq ${i32[w]}`;
    }
    expected++;
  };
  barrier(control);
  const t0 = nowNs();
  while (expected < job.records) idle.idle(ring.read(handler, kReadLimit));
  return { elapsedNs: nowNs() - t0, error };
}

function postProducer(job: Job, control: Int32Array, batched: boolean): JobResult {
  const port = job.port!;
  barrier(control);
  let seq = 0;
  while (seq < job.records) {
    // Window of kCapacity records in flight, like the ring.
    while (seq - Atomics.load(control, kConsumedI32) >= kCapacity) {
      Atomics.wait(control, kConsumedI32, Atomics.load(control, kConsumedI32), 1);
    }
    if (batched) {
      const n = job.records - seq < kMessageBatch ? job.records - seq : kMessageBatch;
      const batch = new Int32Array(n * 2);
      for (let i = 0; i < n; i++) {
        batch[2 * i] = seq;
        batch[2 * i + 1] = seq ^ 0x5a5a5a5a;
        seq++;
      }
      port.postMessage(batch, [batch.buffer]);
    } else {
      port.postMessage([seq, seq ^ 0x5a5a5a5a]);
      seq++;
    }
  }
  return { elapsedNs: 0, error: null };
}

function postConsumer(job: Job, control: Int32Array, batched: boolean): Promise<JobResult> {
  const port = job.port!;
  let expected = 0;
  let error: string | null = null;
  let t0 = 0;
  return new Promise((resolve) => {
    const check = (seq: number, w1: number): void => {
      if ((seq !== expected || w1 !== (expected ^ 0x5a5a5a5a)) && error === null) error = `record ${expected}: got seq ${seq}`;
      expected++;
    };
    port.on('message', (m: number[] | Int32Array) => {
      if (batched) {
        const b = m as Int32Array;
        for (let i = 0; i < b.length; i += 2) check(b[i], b[i + 1]);
      } else {
        const a = m as number[];
        check(a[0], a[1]);
      }
      if ((expected & 1023) === 0 || expected === job.records) {
        Atomics.store(control, kConsumedI32, expected);
        Atomics.notify(control, kConsumedI32);
      }
      if (expected === job.records) {
        const elapsedNs = nowNs() - t0;
        port.close();
        resolve({ elapsedNs, error });
      }
    });
    barrier(control);
    t0 = nowNs();
  });
}

async function runJob(job: Job): Promise<JobResult> {
  const control = new Int32Array(job.control);
  switch (job.transport) {
    case 'spsc':
      return job.role === 'producer' ? spscProducer(job, control) : spscConsumer(job, control);
    case 'postmessage':
    case 'postmessage-batched': {
      const batched = job.transport === 'postmessage-batched';
      return job.role === 'producer' ? postProducer(job, control, batched) : postConsumer(job, control, batched);
    }
  }
}

// ---------------- main side ----------------

function startWorker(job: Job, transfer: MessagePort[]): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: job, transferList: transfer });
    let result: JobResult | undefined;
    w.once('message', (r: JobResult) => (result = r));
    w.once('error', reject);
    w.once('exit', (code) => (result ? resolve(result) : reject(new Error(`${job.transport} ${job.role} exited ${code}`))));
  });
}

async function runOnce(transport: Transport, records: number, idle: IdleStrategyName): Promise<number> {
  const control = new SharedArrayBuffer(128);
  const c = new Int32Array(control);
  let producerJob: Job;
  let consumerJob: Job;
  let transfers: [MessagePort[], MessagePort[]] = [[], []];
  if (transport === 'spsc') {
    const ring = SpscRing.create({ capacity: kCapacity, recordBytes: kRecordBytes });
    producerJob = { transport, role: 'producer', records, idle, control, ring: ring.sab };
    consumerJob = { transport, role: 'consumer', records, idle, control, ring: ring.sab };
  } else {
    const { port1, port2 } = new MessageChannel();
    producerJob = { transport, role: 'producer', records, idle, control, port: port1 };
    consumerJob = { transport, role: 'consumer', records, idle, control, port: port2 };
    transfers = [[port1], [port2]];
  }
  const done = Promise.all([startWorker(producerJob, transfers[0]), startWorker(consumerJob, transfers[1])]);
  // Release both sides together once they are attached and waiting.
  while (Atomics.load(c, kReadyI32) < 2) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(c, kGoI32, 1);
  Atomics.notify(c, kGoI32);
  const [, consumer] = await done;
  if (consumer.error) throw new Error(`${transport}: ${consumer.error}`);
  return records / (consumer.elapsedNs / 1e9);
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const records = Number(arg('--records', '2000000'));
  const runs = Number(arg('--runs', '3'));
  const idle = arg('--idle', 'backoff') as IdleStrategyName;
  // postMessage is ~100x slower: fewer records keep the run short, the rate is what is compared.
  const postRecords = Math.max(10_000, Math.floor(records / 10));
  const best: Record<Transport, number> = { spsc: 0, postmessage: 0, 'postmessage-batched': 0 };
  const all: Record<Transport, number[]> = { spsc: [], postmessage: [], 'postmessage-batched': [] };
  for (let r = 0; r < runs; r++) {
    // Interleaved so a noisy neighbour on a shared machine hurts every transport alike.
    for (const t of ['spsc', 'postmessage', 'postmessage-batched'] as Transport[]) {
      const rate = await runOnce(t, t === 'spsc' ? records : postRecords, idle);
      all[t].push(rate);
      if (rate > best[t]) best[t] = rate;
    }
  }
  console.log(
    `ring throughput, 2 worker threads, ${records} records (postMessage: ${postRecords}), best of ${runs} runs, idle=${idle}`,
  );
  const runsNote = (t: Transport) => `runs: ${all[t].map((x) => fmtRate(x)).join(', ')}`;
  report(
    'ring',
    [
      { label: 'SpscRing vs postMessage per record', ours: fmtRate(best.spsc), baseline: fmtRate(best.postmessage), ratio: best.spsc / best.postmessage, note: runsNote('postmessage') },
      { label: `SpscRing vs postMessage x${kMessageBatch} batched`, ours: fmtRate(best.spsc), baseline: fmtRate(best['postmessage-batched']), ratio: best.spsc / best['postmessage-batched'], note: runsNote('postmessage-batched') },
      { label: 'SpscRing runs', ours: fmtRate(best.spsc), baseline: '', note: runsNote('spsc') },
    ],
    {
      records_per_s: Math.round(best.spsc),
      baseline_records_per_s: Math.round(best.postmessage),
      ratio: Number((best.spsc / best.postmessage).toFixed(2)),
      batched_postmessage_records_per_s: Math.round(best['postmessage-batched']),
      ratio_vs_batched: Number((best.spsc / best['postmessage-batched']).toFixed(2)),
      records,
      baseline_records: postRecords,
      runs,
      idle,
    },
  );
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  runJob(workerData as Job).then((r) => parentPort!.postMessage(r));
}
