/**
 * Diagnosis only (`TICKPATH_DECIDE_STEPS=1`, off by default): splits `signal_decide` (the order's
 * packet's decoder entry -> the strategy's sendOrder) where the decoder, books and strategy share a
 * worker. Stamps, all on that worker:
 *
 *   packet   the decoder entry (origin.decodeTsNs, the signal_decide start)
 *   msg[i]   each ITCH message handed to the books (i = its place in the packet, 0-based)
 *   quote    the books made the QUOTE (MarketBooks' immediateQuote, before the strategy stage)
 *   strategy the strategy stage hands it to onTopOfBook (after the BBO table's update)
 *   send     the strategy calls sendOrder
 *
 * Per order: packet>first msg (per-packet work before the first message: frame, MoldUDP64,
 * sequencer), first>trigger (the messages ahead of the trigger; how many, and the cost of each),
 * trigger>quote (the trigger's own decode and book update), quote>strategy (the stage's framing
 * and the BBO table), strategy>send (the strategy's decision). Per packet, for every packet: the
 * cost of the message at each place (msg[i] -> msg[i+1]), so the first messages of a packet can be
 * set beside the later, warmer ones. Every 100 orders, and when the worker drains, the p50s go to
 * stderr (`decide steps, p50 us: ...` lines).
 *
 * Why: signal_decide was the largest part of md_to_send_call and nobody had split it; a clock read
 * per message (about 25-40 ns, measured at start and printed as `clock`) is in every figure, so
 * the absolute values are above the measured table's: compare parts, not totals.
 *
 * Threading contract: built and run on the fused decoder+book+strategy worker only.
 */
import * as fs from 'fs';
import type { Clock } from '../../common/clock';
import type { BookEvent } from '../../feed/book/book-event';
import type { ItchMessageHandler } from '../../feed/feed-decoder';
import type { ItchDecoder } from '../../feed/itch/itch-decoder';
import { median } from './order-path-steps';
import type { PacketOrigin } from './stage';

/** True when the switch is set in this process's environment. */
export function decideStepsEnabled(): boolean {
  return process.env.TICKPATH_DECIDE_STEPS === '1';
}

export const DECIDE_STEP_NAMES: readonly string[] = ['packet>first', 'first>trigger', 'trigger>quote', 'quote>strategy', 'strategy>send', 'total'];
const kSteps = DECIDE_STEP_NAMES.length;
/** Per order: the steps, then how many messages were ahead of the trigger. */
const kRow = kSteps + 1;
const kRows = 4096;
/** Places in a packet tracked for the per-place message cost. */
const kPlaces = 32;
const kPlaceSamples = 4096;

export class DecideSteps {
  /** [0] packet no., [1] messages so far in it, [2] first message ns, [3] last message ns,
   * [4] the last QUOTE's trigger message ns, [5] its place, [6] quote made ns, [7] quote to the strategy ns. */
  private readonly s = new Float64Array(8);
  private readonly rows = new Float64Array(kRows * kRow);
  private orders = 0;
  private readonly place = new Float64Array(kPlaces * kPlaceSamples);
  private readonly placeN = new Uint32Array(kPlaces);
  readonly clockNs: number;

  constructor(private readonly clock: Clock, private readonly origin: PacketOrigin, private readonly print: (text: string) => void = (t) => { fs.writeSync(2, t); }) {
    this.s[0] = -1;
    // What one stamp costs on this worker: it is inside every figure.
    const t0 = clock.nowNs();
    for (let i = 0; i < 1000; i++) clock.nowNs();
    this.clockNs = (clock.nowNs() - t0) / 1001;
  }

  /** Wraps the books' message input: stamps each message, then hands it on. */
  wrapMessages(books: ItchMessageHandler): ItchMessageHandler {
    return {
      onMessage: (d: ItchDecoder, type: number, sequence: number): void => { this.onMessage(); books.onMessage(d, type, sequence); },
      endOfBatch: (): void => { books.endOfBatch(); },
    };
  }

  /** Wraps the books' immediate QUOTE output (the strategy stage's topOfBook). */
  wrapQuote(topOfBook: (e: BookEvent) => void): (e: BookEvent) => void {
    return (e: BookEvent): void => { this.quoteMade(); topOfBook(e); };
  }

  private onMessage(): void {
    const s = this.s, now = this.clock.nowNs(), pkt = this.origin.packetNo;
    if (pkt !== s[0]) { s[0] = pkt; s[1] = 0; s[2] = now; }
    else {
      const at = s[1] - 1;
      if (at < kPlaces) { const n = this.placeN[at]++; this.place[at * kPlaceSamples + (n % kPlaceSamples)] = now - s[3]; }
    }
    s[3] = now;
    s[1]++;
  }

  private quoteMade(): void {
    const s = this.s;
    s[6] = this.clock.nowNs();
    s[4] = s[3];
    s[5] = s[1] - 1;
  }

  /** The strategy stage: the QUOTE is about to reach the strategy. */
  quoteToStrategy(): void {
    this.s[7] = this.clock.nowNs();
  }

  /** The strategy stage's sendOrder: `now` its stamp, `dec` the packet's decoder entry. */
  onSendOrder(now: number, dec: number): void {
    const s = this.s;
    // Only an order decided on this packet's immediate QUOTE (not one from a conflated event or a timer).
    if (dec <= 0 || s[0] !== this.origin.packetNo || s[7] < s[6] || s[6] < dec) return;
    const r = (this.orders % kRows) * kRow, rows = this.rows;
    rows[r] = s[2] - dec;
    rows[r + 1] = s[4] - s[2];
    rows[r + 2] = s[6] - s[4];
    rows[r + 3] = s[7] - s[6];
    rows[r + 4] = now - s[7];
    rows[r + 5] = now - dec;
    rows[r + 6] = s[5];
    if (++this.orders % 100 === 0) this.report();
  }

  /** Per step p50 (ns) over the orders so far, the messages ahead p50, the ahead cost per message, and the per-place message cost. */
  medians(): { orders: number; p50Ns: number[]; aheadP50: number; perAheadMsgNs: number; perPlaceNs: number[]; clockNs: number } {
    const m = Math.min(this.orders, kRows), rows = this.rows;
    const col = (k: number): number[] => { const v: number[] = []; for (let i = 0; i < m; i++) v.push(rows[i * kRow + k]); return v; };
    const p50Ns: number[] = [];
    for (let k = 0; k < kSteps; k++) p50Ns.push(median(col(k)));
    const per: number[] = [];
    for (let i = 0; i < m; i++) { const a = rows[i * kRow + kSteps]; if (a > 0) per.push(rows[i * kRow + 1] / a); }
    const perPlaceNs: number[] = [];
    for (let p = 0; p < kPlaces; p++) {
      const n = Math.min(this.placeN[p], kPlaceSamples);
      if (n === 0) break;
      perPlaceNs.push(median(Array.from(this.place.subarray(p * kPlaceSamples, p * kPlaceSamples + n))));
    }
    return { orders: this.orders, p50Ns, aheadP50: median(col(kSteps)), perAheadMsgNs: median(per), perPlaceNs, clockNs: this.clockNs };
  }

  /** The table so far, as `decide steps` lines. */
  report(): void {
    if (this.orders === 0) return;
    const r = this.medians();
    const us = (ns: number): string => (ns / 1000).toFixed(2);
    const lines = [
      `decide steps, p50 us over ${r.orders} orders: ${DECIDE_STEP_NAMES.map((n, i) => `${n} ${us(r.p50Ns[i])}`).join(', ')}`,
      `decide steps: messages ahead of the trigger p50 ${r.aheadP50}, ${us(r.perAheadMsgNs)} us each (p50 per order); clock read ${r.clockNs.toFixed(0)} ns, in every stamp`,
      `decide steps, every packet, p50 us of the message at place 0..${r.perPlaceNs.length - 1}: ${r.perPlaceNs.map(us).join(' ')}`,
    ];
    this.print(lines.join('\n') + '\n');
  }
}
