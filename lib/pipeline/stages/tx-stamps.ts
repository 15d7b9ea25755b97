/**
 * The "order out" instant as the kernel saw it: each order's kernel TX software timestamp (taken
 * in the network driver's xmit, SO_TIMESTAMPING; native-tcp-transport.ts txStampOf), matched to the
 * order after it went, and turned into two latencies:
 *   order_wire  the order's send(2) called -> its last byte stamped by the driver (TCP/IP, qdisc,
 *               xmit: the kernel's part of the way out, without the receiver's softirq that a
 *               loopback send(2) also runs before returning)
 *   md_to_wire  the market-data packet's RX time -> that stamp: tick-to-trade in software stamps
 *
 * Why not at send time: the stamp comes back on the socket's error queue after the driver has
 * taken the packet, and reading it costs a recvmsg(2). The transport reads it in its poll (the
 * router stage polls its venues every venue_poll_us while an order awaits its answer), and the
 * stage calls collect() after those polls: nothing here runs between the strategy and send(2).
 *
 * An order whose session has no stamps (libuv transport, tx_timestamps off, a kernel that refused
 * SO_TIMESTAMPING) counts in `off` and records nothing; one whose stamp never came (the session
 * closed first, the transport's ring overran, timeoutNs passed) counts in `missing`.
 *
 * Clocks: the transport converts the kernel's CLOCK_REALTIME stamp to CLOCK_MONOTONIC (an offset
 * bracketed by two realtime reads, resampled every second; error in its stats' clockCalErrNs),
 * the domain of our clock (lib/common/clock.ts), so the stamp is compared with our own times.
 *
 * Allocation: none per order (typed arrays and a fixed array of transport references).
 * Threading contract: the router stage's worker only.
 */

/** Where an order's TX stamp comes from: its session's native transport. */
export interface TxStampSource {
  /** 1 when the kernel stamps this session's sends. */
  readonly txStampState: number;
  /** > 0 the stamp (CLOCK_MONOTONIC ns); 0 not yet; -1 never. */
  txStampOf(seq: number): number;
}

export interface TxStampRecorders {
  readonly order_wire?: { record(ns: number): void };
  readonly md_to_wire?: { record(ns: number): void };
}

const kCapacity = 1024;
/**
 * A stamp earlier than its order's send(2) call by more than this is not the order's (the stamp
 * is taken inside that call; the two clocks' calibrations differ by well under 1 us): counted as
 * missing, never recorded.
 */
const kEarlyToleranceNs = 1000;
const kMask = kCapacity - 1;

export class TxStampTracker {
  /** Orders whose stamp was found and recorded. */
  stamped = 0;
  /** Orders sent on a session without TX stamps (libuv, tx_timestamps off, refused by the kernel). */
  off = 0;
  /** Orders whose stamp never came (session closed, ring overrun, or older than timeoutNs), or came before the order's send(2). */
  missing = 0;
  private readonly src: (TxStampSource | null)[] = new Array<TxStampSource | null>(kCapacity).fill(null);
  private readonly seq = new Float64Array(kCapacity);
  private readonly md = new Float64Array(kCapacity);
  private readonly call = new Float64Array(kCapacity);
  private readonly at = new Float64Array(kCapacity);
  private head = 0;
  private tail = 0;

  /** timeoutNs: how long a stamp may take before the order counts as missing (default 1 s). */
  constructor(private readonly timeoutNs = 1_000_000_000) {}

  /** Orders awaiting their stamp. */
  get pending(): number { return this.head - this.tail; }

  /**
   * An order went out through `src`'s send number `seq`: its send(2) was called at callNs, its
   * packet arrived at mdRxTsNs (0: no packet behind it), now is nowNs.
   */
  add(src: TxStampSource, seq: number, mdRxTsNs: number, callNs: number, nowNs: number): void {
    if (this.head - this.tail === kCapacity) { this.src[this.tail & kMask] = null; this.tail++; this.missing++; }
    const i = this.head & kMask;
    this.src[i] = src;
    this.seq[i] = seq;
    this.md[i] = mdRxTsNs;
    this.call[i] = callNs;
    this.at[i] = nowNs;
    this.head++;
  }

  /** An order went out where no stamp will come. */
  noteOff(): void { this.off++; }

  /**
   * Records the stamps that came, oldest order first, and stops at the first still due (stamps of
   * one session come in order; another session's wait at most until that one's comes or times
   * out). Returns the orders settled.
   */
  collect(nowNs: number, r: TxStampRecorders): number {
    let n = 0;
    while (this.tail !== this.head) {
      const i = this.tail & kMask;
      const tx = this.src[i]!.txStampOf(this.seq[i]);
      if (tx > 0 && tx >= this.call[i] - kEarlyToleranceNs) {
        r.order_wire?.record(tx - this.call[i]);
        const md = this.md[i];
        if (md > 0) r.md_to_wire?.record(tx - md);
        this.stamped++;
      } else if (tx !== 0 || nowNs - this.at[i] > this.timeoutNs) {
        this.missing++;
      } else break;
      this.src[i] = null;
      this.tail++;
      n++;
    }
    return n;
  }

  /** The run ends: orders still waiting count as missing. */
  finish(): void {
    this.missing += this.head - this.tail;
    while (this.tail !== this.head) this.src[this.tail++ & kMask] = null;
  }
}
