/**
 * Watches one RX descriptor ring from the main thread: the poller's producer position and
 * counters, the consumer's published position (once per batch, so the backlog seen here is at
 * most one batch high), sampled on a timer. Read-only: it never writes the ring.
 */
import { kLayout, kQueueCounter } from '../../lib/binding/layout';
import { nowNs } from './machine';

export interface RingSample { atNs: number; backlog: number; rxPackets: number; drops: number; tag: number }

export class RingMonitor {
  readonly capacity: number;
  readonly samples: RingSample[] = [];
  private readonly i32: Int32Array;
  private readonly counters: BigUint64Array;
  private timer: NodeJS.Timeout | undefined;

  /** `tag()` is stored with each sample (e.g. the sender's phase). */
  constructor(ring: SharedArrayBuffer, private readonly tag: () => number = () => 0) {
    this.i32 = new Int32Array(ring);
    this.counters = new BigUint64Array(ring, kLayout.countersByte, kLayout.queueCounterCount);
    this.capacity = this.i32[kLayout.capacityI32];
  }

  sample(): RingSample {
    // Consumer first: it never passes the producer, so a producer position read after it is at
    // least as far on (read the other way round, a consumer that moved in between gives -1 = 2^32-1).
    const cons = Atomics.load(this.i32, kLayout.consPosI32) >>> 0;
    const prod = Atomics.load(this.i32, kLayout.prodPosI32) >>> 0;
    const s = { atNs: nowNs(), backlog: (prod - cons) >>> 0, rxPackets: Number(this.counters[kQueueCounter.rxPackets]), drops: Number(this.counters[kQueueCounter.ringFullDrops]), tag: this.tag() };
    this.samples.push(s);
    return s;
  }

  /** Samples about every `periodMs` (timer resolution: about 1 ms at best). */
  start(periodMs = 1): void {
    const tick = () => { this.sample(); this.timer = setTimeout(tick, periodMs); };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.sample();
  }

  get highWater(): number {
    return this.samples.reduce((m, s) => (s.backlog > m ? s.backlog : m), 0);
  }
}
