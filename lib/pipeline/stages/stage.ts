/**
 * What every stage builder (decoder-stage.ts, books-stage.ts, strategy-stage.ts, router-stage.ts)
 * is given and what it returns. A builder wires one stage to whatever is next to it: the stage
 * itself when that one is fused onto the same worker (a direct call), or the hand-off ring between
 * workers (stage-rings.ts). The worker (stage-worker.ts) builds the stages of its group and runs
 * them as one agent through its AgentRunner.
 *
 * Threading contract: everything here belongs to the one stage worker that built it.
 */
import { parentPort } from 'worker_threads';
import type { Agent } from '../../common/agent-runner';
import { MonotonicClock } from '../../common/clock';
import { CountersBlock } from '../../common/counters';
import { LatencyRecorder } from '../../common/latency-recorder';
import { Logger } from '../../common/logger';
import { SpscRing } from '../../common/spsc-ring';
import { BboTable } from '../bbo-table';
import { SubscriptionMailbox } from '../subscriptions';
import { JsStage, kLatencyNames, kWorkerCounterNames, LatencyName, StageWorkerData, StageWorkerMessage, WorkerCounter } from '../worker-messages';

/** One stage on a worker: an Agent plus its start-up, counters and shutdown. */
export interface Stage extends Agent {
  /** Opens sockets and sessions, with the event loop available; before the first doWork(). */
  start?(): Promise<void>;
  /** Copies the stage's counters into the worker's block: once per slice, so it must not allocate. */
  publishCounters?(): void;
  /** Answers requests from outside (the live book view): once per slice, so it must cost one atomic load when there are none. */
  pollRequests?(): number;
  /** Times a writer of this stage waited for room in a hand-off ring (summed into ring_stalls). */
  readonly ringStalls?: number;
  /** Inputs drained and a stop requested: flush what is pending (called in pipeline order). */
  onDrained?(): void;
  /** Closes sockets and sessions after onDrained. */
  close?(): Promise<void>;
}

/** The packet behind the event being handled: its RX time and number (latency, first-event-of-packet). */
export interface PacketOrigin {
  readonly rxTsNs: number;
  readonly packetNo: number;
  /** When the packet entered the decoder (CLOCK_MONOTONIC ns), where the decoder is on this worker; 0 otherwise. */
  readonly decodeTsNs?: number;
}

/**
 * The worker's origin: whichever stage brings data onto the worker (the RX reader, or a ring
 * reader) points `from` at itself; every later stage on the worker reads through it.
 */
export class PacketOriginRef implements PacketOrigin {
  from: PacketOrigin = { rxTsNs: 0, packetNo: 0 };
  get rxTsNs(): number { return this.from.rxTsNs; }
  get packetNo(): number { return this.from.packetNo; }
  get decodeTsNs(): number { return this.from.decodeTsNs ?? 0; }
}

/** What the stages on one worker share. */
export interface StageContext {
  readonly data: StageWorkerData;
  readonly clock: MonotonicClock;
  readonly counters: CountersBlock;
  /** counters.values, and each counter's index resolved once (a name lookup per event would cost more than the event). */
  readonly c: Float64Array;
  readonly K: Readonly<Record<WorkerCounter, number>>;
  readonly latency: Readonly<Record<LatencyName, LatencyRecorder>>;
  readonly logger: Logger;
  readonly bbo: BboTable;
  readonly subscriptions: SubscriptionMailbox;
  readonly origin: PacketOriginRef;
  /** True when `stage` runs on this worker (so it is called directly, not through a ring). */
  has(stage: JsStage): boolean;
  /** A rare text line to the pipeline's log. */
  log(line: string): void;
  post(message: StageWorkerMessage): void;
}

export function createStageContext(d: StageWorkerData): StageContext {
  const port = parentPort!;
  const clock = new MonotonicClock();
  const counters = CountersBlock.create(`worker${d.index}`, kWorkerCounterNames);
  const post = (m: StageWorkerMessage): void => port.postMessage(m);
  return {
    data: d,
    clock,
    counters,
    c: counters.values,
    K: Object.fromEntries(kWorkerCounterNames.map((n, i) => [n, i])) as Record<WorkerCounter, number>,
    latency: Object.fromEntries(kLatencyNames.map((n) => [n, new LatencyRecorder({ name: n, highestTrackableNs: 60_000_000_000 })])) as Record<LatencyName, LatencyRecorder>,
    logger: new Logger(SpscRing.attach(d.logRing), { clock }),
    bbo: new BboTable(d.bbo),
    subscriptions: new SubscriptionMailbox(d.subscriptions),
    origin: new PacketOriginRef(),
    has: (s) => d.group.includes(s),
    log: (line) => post({ type: 'log', line: `[worker ${d.index} ${d.group.join('+')}] ${line}` }),
    post,
  };
}
