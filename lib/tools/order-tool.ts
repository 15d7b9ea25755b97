/**
 * `tickpath order`: sends orders through the whole router path (RiskChecker -> SmartRouter with the
 * one venue as default route -> OrderManager -> OrderJournal -> the venue's connector) and reports
 * every router event as one JSON line, then a summary line with the send -> ack round trip.
 *
 * A smoke-test and operations tool, not a hot path: per-order objects are fine here. The router
 * itself is the production one (createOrderRouter), so what this tool sees is what the pipeline's
 * router worker would see.
 *
 * Threading: one event loop; the connector calls the router, the router calls `OrderToolListener`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TickpathError } from '../errors';
import { LatencyRecorder } from '../common/latency-recorder';
import { loadRoutingConfig, type RoutingConfig, type VenueConfig } from '../router/routing-config';
import { createRouterStack, type RouterStack } from '../router/router-stack';
import { OrderJournal, type JournalRecovery } from '../router/journal';
import { OrderState } from '../router/types';
import { parentStates } from './journal-report';
import type { RiskLimits } from '../router/risk-checker';
import type { OrderRequest, RejectReason, RouterListener, Side, TimeInForce } from '../router/types';
import type { VenueConnector } from '../router/venue';
import type { TransportChoice } from '../protocols/transport/create-transport';
import { SessionWaiter, type SessionIdleName, type SessionIdlePolicy } from '../protocols/transport/session-waiter';
import { NativeWaitSet } from '../protocols/transport/tcp-server';
import { nativeTcpBinding } from '../protocols/transport/native-tcp-transport';
import { applyRealtime, dropRealtime, realtimePolicy, type RealtimePolicy, type ThreadSchedPolicy } from '../protocols/transport/thread-realtime';

export interface OrderToolOptions {
  protocol: 'ouch' | 'fix42' | 'fix44';
  host: string;
  port: number;
  /** OUCH: SoupBinTCP username (<= 6 characters); FIX: SenderCompID. */
  sender: string;
  /** FIX TargetCompID (unused for OUCH). */
  target: string;
  symbol: string;
  side: Side;
  qty: number;
  /** Price(4). */
  price: number;
  count: number;
  /** Orders per second; 0 = all at once. */
  rate: number;
  tif: TimeInForce;
  /** Journal file; '' = a temporary one, removed at the end. */
  journal: string;
  /** routing_config.yml whose `routing.risk` limits apply; '' = kDefaultRisk. */
  routing: string;
  /** Price(4) used as both best bid and best ask for the price collar; 0 = no reference. */
  refPrice: number;
  timeoutMs: number;
  /** After every order is acked or done, how long to wait for fills still in flight. */
  settleMs: number;
  /** True when --sender was given (a resumed journal's identity is used otherwise). */
  senderGiven?: boolean;
  /** Venue session transport: 'auto' (native when the addon is built), 'native' or 'libuv'. */
  transport?: TransportChoice;
  /**
   * How the send loop idles between turns over the native transport (the venue's `idle` /
   * `spin_us` in routing_config.yml terms): 'block' (default: epoll after spinUs without work) or
   * 'spin'; without it the loop turns the event loop (setImmediate), busy but not parked.
   */
  idle?: SessionIdlePolicy;
  /**
   * SCHED_FIFO for the send loop's thread while it sends and waits (thread-realtime.ts; needs
   * `idle`: with 'spin' the loop sleeps `sleepUs` per ms of spinning). Read back from the kernel,
   * reported in the summary (`sched`), and dropped before the tool returns.
   */
  realtime?: RealtimePolicy;
  /**
   * Aborted (SIGINT/SIGTERM in the CLI): no more orders are sent, answers to the ones sent are
   * awaited at most kInterruptGraceMs longer, then the session logs out and the summary is printed.
   */
  signal?: AbortSignal;
}

/** After an interrupt, how long the answers to orders already sent may still take. */
export const kInterruptGraceMs = 1000;

/** Generous enough for a smoke test, tight enough that a fat finger is still refused. */
export const kDefaultRisk: RiskLimits = {
  maxOrderQty: 100_000,
  maxOrderNotional: 10_000_000,
  maxDailyNotional: 1_000_000_000,
  maxSymbolNotional: 1_000_000_000,
  maxOpenOrdersPerSymbol: 100_000,
  priceCollarBps: 0,            // no market data in this tool: no collar unless --ref-price is given
  maxOrdersPerSecond: 100_000,
};

const kVenueName = 'VENUE';
const kPrice = /^\d{1,6}(\.\d{1,4})?$/;
const kPrintable = /^[\x21-\x7e]+$/;

export const kOrderUsage = `Usage: tickpath order --venue URL --symbol S --side buy|sell --qty N --price P [options]

Sends orders through the router (risk, routing, order state, journal, connector) to one venue,
prints every event as a JSON line and a summary line last. Exit 0 when nothing was rejected,
1 when something was (or the venue could not be reached, or orders went unanswered), 2 on bad usage.

Options:
  --venue URL          ouch://HOST:PORT, fix42://HOST:PORT or fix44://HOST:PORT
  --sender ID          OUCH username (<= 6 chars) or FIX SenderCompID (default: T<pid> for OUCH, TICKPATH for FIX)
  --target ID          FIX TargetCompID (default VENUE)
  --symbol S           1 to 8 printable characters
  --side buy|sell      (also sell-short)
  --qty N              shares per order
  --price P            limit price in dollars, up to 4 decimals (12.34 -> Price(4) 123400)
  --count N            orders to send (default 1)
  --rate R             orders per second (default: all at once)
  --tif day|ioc        time in force (default day; DAY orders may rest and are reported open)
  --journal FILE       order journal (default: a temporary file, removed at the end). An existing
                       journal of this tool is continued: same session (username / CompIDs, FIX
                       store in FILE.fix/), orders in flight at a crash reconciled with the venue,
                       its orders counted toward --count and in the summary
  --routing FILE       take the risk limits from this routing_config.yml
  --ref-price P        reference best bid/ask in dollars for the price collar (no market data here)
  --timeout-ms N       give up waiting for answers after N ms (default 10000)
  --settle-ms N        once everything is acked or done, wait N ms for fills in flight (default 100)
  --transport T        venue session transport: native (the addon's TCP channel, polled from the
                       send loop), libuv (net.Socket) or auto (default: native when built)
  --idle MODE          native: how the send loop waits for answers: block (sleep in epoll on the
                       session after --spin-us without a message) or spin (never sleeps); the
                       summary's idle says what ran. Default: the loop turns the event loop
  --spin-us N          with --idle block: spin N microseconds after the last message first
                       (default 0)
  --realtime PRIO      with --idle: the send loop's thread SCHED_FIFO at PRIO (1..49) while it
                       sends and waits, read back (the summary's sched); refused by the kernel:
                       an error naming the fix. With --idle spin it sleeps 50 us per ms
  --help               this text

Events (prices in dollars): accepted, acked, partially_filled, filled, cancelled, replaced,
rejected (with reason and detail), venue_reject, open (acked and resting at the end), unanswered,
and last summary {sent, acked, filled, rejected, open, rtt_p50_ns, rtt_p99_ns, ...}; rtt is order
sent -> ack received. SIGINT/SIGTERM: no more orders are sent, answers to those sent are awaited up
to a second, the session logs out, an 'interrupted' event {reason, sent, not_sent} precedes the
summary, and the exit code follows the same rule.`;

/** Parses argv; a string is the usage error (it names the option). */
export function parseOrderArgs(argv: readonly string[], pid = process.pid): OrderToolOptions | string {
  let venue = '';
  let sender = '';
  let target = 'VENUE';
  let symbol = '';
  let side: Side | '' = '';
  let qty = 0;
  let price = 0;
  let count = 1;
  let rate = 0;
  let tif: TimeInForce = 'DAY';
  let journal = '';
  let routing = '';
  let refPrice = 0;
  let timeoutMs = 10_000;
  let settleMs = 100;
  let transport: TransportChoice = 'auto';
  let idleName: SessionIdleName | '' = '';
  let spinUs = -1;
  let rtPriority = 0;
  for (let i = 0; i < argv.length; i++) {
    const opt = argv[i];
    const value = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    const bad = (v: string | undefined, expected: string): string => `option ${opt} is ${v === undefined ? 'missing a value' : JSON.stringify(v)}, expected ${expected}`;
    const int = (min: number, max: number): number | string => {
      const v = value();
      return v !== undefined && /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? Number(v) : bad(v, `an integer from ${min} to ${max}`);
    };
    const dollars = (): number | string => {
      const v = value();
      const p = v !== undefined && kPrice.test(v) ? Math.round(Number(v) * 10000) : 0;
      return p > 0 && p <= 0xffffffff ? p : bad(v, 'a price in dollars > 0 and at most 429496.7295 (the largest Price(4) a 32-bit field holds), with at most 4 decimals (e.g. 12.34)');
    };
    let r: number | string = 0;
    switch (opt) {
      case '--venue': { const v = value(); if (v === undefined) return bad(v, 'ouch://HOST:PORT, fix42://HOST:PORT or fix44://HOST:PORT'); venue = v; break; }
      case '--sender': { const v = value(); if (!v || !kPrintable.test(v) || v.length > 32) return bad(v, '1 to 32 printable characters'); sender = v; break; }
      case '--target': { const v = value(); if (!v || !kPrintable.test(v) || v.length > 32) return bad(v, '1 to 32 printable characters'); target = v; break; }
      case '--symbol': { const v = value(); if (!v || !kPrintable.test(v) || v.length > 8) return bad(v, '1 to 8 printable characters'); symbol = v; break; }
      case '--side': {
        const v = value();
        if (v === 'buy') side = 'B'; else if (v === 'sell') side = 'S'; else if (v === 'sell-short') side = 'SS';
        else return bad(v, 'buy, sell or sell-short');
        break;
      }
      case '--qty': r = int(1, 0xffffffff); if (typeof r === 'number') qty = r; break;
      case '--price': r = dollars(); if (typeof r === 'number') price = r; break;
      case '--ref-price': r = dollars(); if (typeof r === 'number') refPrice = r; break;
      case '--count': r = int(1, 10_000_000); if (typeof r === 'number') count = r; break;
      case '--rate': r = int(1, 1_000_000); if (typeof r === 'number') rate = r; break;
      case '--timeout-ms': r = int(1, 3_600_000); if (typeof r === 'number') timeoutMs = r; break;
      case '--settle-ms': r = int(0, 60_000); if (typeof r === 'number') settleMs = r; break;
      case '--transport': {
        const v = value();
        if (v !== 'native' && v !== 'libuv' && v !== 'auto') return bad(v, 'native, libuv or auto');
        transport = v;
        break;
      }
      case '--idle': {
        const v = value();
        if (v !== 'block' && v !== 'spin') return bad(v, 'block or spin');
        idleName = v;
        break;
      }
      case '--spin-us': r = int(0, 1_000_000); if (typeof r === 'number') spinUs = r; break;
      case '--realtime': r = int(1, 49); if (typeof r === 'number') rtPriority = r; break;
      case '--tif': {
        const v = value();
        if (v === 'day' || v === 'DAY') tif = 'DAY'; else if (v === 'ioc' || v === 'IOC') tif = 'IOC'; else return bad(v, 'day or ioc');
        break;
      }
      case '--journal': { const v = value(); if (!v) return bad(v, 'a file path'); journal = v; break; }
      case '--routing': { const v = value(); if (!v) return bad(v, 'a routing_config.yml path'); routing = v; break; }
      default: return `unknown option '${opt}'`;
    }
    if (typeof r === 'string') return r;
  }
  if (venue === '') return 'option --venue is missing, expected ouch://HOST:PORT, fix42://HOST:PORT or fix44://HOST:PORT';
  const m = /^(ouch|fix42|fix44):\/\/([^:/\s]+):(\d{1,5})\/?$/.exec(venue);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) {
    return `option --venue is ${JSON.stringify(venue)}, expected ouch://HOST:PORT, fix42://HOST:PORT or fix44://HOST:PORT`;
  }
  const protocol = m[1] as OrderToolOptions['protocol'];
  if (symbol === '') return 'option --symbol is missing, expected 1 to 8 printable characters';
  if (side === '') return 'option --side is missing, expected buy, sell or sell-short';
  if (qty === 0) return 'option --qty is missing, expected an integer from 1 to 4294967295';
  if (price === 0) return 'option --price is missing, expected a price in dollars > 0 with at most 4 decimals (e.g. 12.34)';
  if (protocol === 'ouch') {
    // 'T' + pid in base 36 fits the 6-character SoupBinTCP username; one stream per process, so a
    // second run against the same venue is not replayed the first run's messages.
    if (sender === '') sender = `T${pid.toString(36)}`.slice(0, 6);
    if (sender.length > 6) return `option --sender is ${JSON.stringify(sender)}, expected at most 6 characters for OUCH (SoupBinTCP username)`;
  } else if (sender === '') sender = 'TICKPATH';
  if (spinUs >= 0 && idleName !== 'block') return `option --spin-us applies to --idle block${idleName ? `, not --idle ${idleName} (spin never sleeps)` : ' (give --idle block)'}`;
  if (idleName !== '' && transport === 'libuv') return `option --idle applies to the native transport, not --transport libuv (its socket is read by the event loop)`;
  if (rtPriority && idleName === '') return 'option --realtime needs --idle block or spin (the loop that runs real-time, and its sleeps)';
  if (rtPriority && spinUs > 1000) return `option --spin-us ${spinUs} with --realtime: at most 1000 (a SCHED_FIFO thread that keeps spinning starves the kernel's threads until the RT throttle stalls it; use --idle spin, which sleeps 50 us per ms)`;
  return {
    protocol, host: m[2], port: Number(m[3]), sender, target, symbol, side, qty, price, count, rate, tif, journal, routing,
    refPrice, timeoutMs, settleMs, senderGiven: argv.includes('--sender'), transport,
    ...(idleName !== '' ? { idle: { idle: idleName, spinUs: Math.max(0, spinUs) } } : {}),
    ...(rtPriority ? { realtime: { priority: rtPriority, sleepUs: 50 } } : {}),
  };
}

export interface OrderToolSummary {
  event: 'summary';
  sent: number;
  accepted: number;
  acked: number;
  filled: number;
  partially_filled: number;
  cancelled: number;
  rejected: number;
  open: number;
  unanswered: number;
  filled_qty: number;
  rtt_count: number;
  rtt_p50_ns: number;
  rtt_p99_ns: number;
  rtt_max_ns: number;
  /** The venue session's transport ('native' or 'libuv'): a silent fallback shows here. */
  transport: string;
  /** --idle: the policy the send loop ran and what it did (spin turns, sleeps in epoll, wakeups by an answer). */
  idle?: ReturnType<SessionWaiter['stats']>;
  /** --realtime: the send loop thread's policy as the kernel held it while it ran. */
  sched?: ThreadSchedPolicy;
}

/** Per client order: what the router has told us so far. */
const enum Seen { SENT = 0, ACKED = 1, DONE = 2 }

const dollars = (p4: number): number => p4 / 10000;

/** The RouterListener of the tool: prints each event and keeps what the summary needs. */
class OrderToolListener implements RouterListener {
  readonly seen = new Map<string, Seen>();
  readonly sentAt = new Map<string, number>();
  readonly rtt = new LatencyRecorder({ name: 'order-rtt', highestTrackableNs: 60_000_000_000 });
  readonly s: OrderToolSummary = {
    event: 'summary', sent: 0, accepted: 0, acked: 0, filled: 0, partially_filled: 0, cancelled: 0, rejected: 0, open: 0,
    unanswered: 0, filled_qty: 0, rtt_count: 0, rtt_p50_ns: 0, rtt_p99_ns: 0, rtt_max_ns: 0, transport: '',
  };
  /** Send time of the order being sent now: the router reports accepted/rejected inside sendOrder. */
  sendingAt = 0;
  /** Expected interval between sends (ns) for coordinated-omission correction; 0 = unpaced. */
  intervalNs = 0;
  /** Last id the router accepted: a connector that throws inside sendOrder leaves it unanswered. */
  lastAccepted = '';

  constructor(readonly emit: (o: Record<string, unknown>) => void) {}

  onAccepted(clOrdId: string, venueCount: number): void {
    this.s.accepted++;
    this.seen.set(clOrdId, Seen.SENT);
    this.sentAt.set(clOrdId, this.sendingAt);
    this.lastAccepted = clOrdId;
    this.emit({ event: 'accepted', clOrdId, venues: venueCount });
  }
  onRejected(clOrdId: string, reason: RejectReason, detail: string): void {
    this.s.rejected++;
    this.seen.set(clOrdId, Seen.DONE);
    this.emit({ event: 'rejected', clOrdId, reason, detail });
  }
  onAcked(clOrdId: string): void {
    this.s.acked++;
    if (this.seen.get(clOrdId) === Seen.SENT) this.seen.set(clOrdId, Seen.ACKED);
    const sentAt = this.sentAt.get(clOrdId);
    // Round trips only for orders sent by this run (a restored order's ack is not one).
    if (sentAt === undefined) { this.emit({ event: 'acked', clOrdId, restored: true }); return; }
    const ns = Number(process.hrtime.bigint()) - sentAt;
    if (this.intervalNs > 0) this.rtt.recordWithExpectedInterval(ns, this.intervalNs);
    else this.rtt.record(ns);
    this.s.rtt_count++;  // orders measured; the histogram also holds coordinated-omission fill-ins
    this.emit({ event: 'acked', clOrdId, rtt_ns: ns });
  }

  /**
   * A continued journal: its client orders count in the summary as they stand, and the ones still
   * waiting for an answer are waited for like this run's.
   */
  seed(r: JournalRecovery): void {
    const live = parentStates(r);
    for (const j0 of r.orders.values()) {
      if (j0.kind !== 'parent') continue;
      const j = { ...j0, state: live.get(j0.clOrdId) ?? j0.state };
      this.s.sent++;
      if (j.state === OrderState.REJECTED) { this.s.rejected++; this.seen.set(j.clOrdId, Seen.DONE); continue; }
      this.s.accepted++;
      this.s.filled_qty += j.filled;
      if (j.state === OrderState.FILLED) { this.s.filled++; this.s.acked++; this.seen.set(j.clOrdId, Seen.DONE); }
      else if (j.state === OrderState.CANCELLED) { this.s.cancelled++; this.s.acked++; this.seen.set(j.clOrdId, Seen.DONE); }
      else if (j.state === OrderState.SENT || j.state === OrderState.PENDING) this.seen.set(j.clOrdId, Seen.SENT);
      else { this.s.acked++; this.seen.set(j.clOrdId, Seen.ACKED); }
    }
  }
  onPartiallyFilled(clOrdId: string, lastQty: number, lastPrice: number, cumQty: number): void {
    this.s.partially_filled++;
    this.s.filled_qty += lastQty;
    this.emit({ event: 'partially_filled', clOrdId, qty: lastQty, price: dollars(lastPrice), cumQty });
  }
  onFilled(clOrdId: string, lastQty: number, lastPrice: number, cumQty: number): void {
    this.s.filled++;
    this.s.filled_qty += lastQty;
    this.seen.set(clOrdId, Seen.DONE);
    this.emit({ event: 'filled', clOrdId, qty: lastQty, price: dollars(lastPrice), cumQty });
  }
  onCancelled(clOrdId: string, cumQty: number, reason: string): void {
    this.s.cancelled++;
    this.seen.set(clOrdId, Seen.DONE);
    this.emit({ event: 'cancelled', clOrdId, cumQty, reason });
  }
  onReplaced(clOrdId: string, qty: number, price: number): void {
    this.emit({ event: 'replaced', clOrdId, qty, price: dollars(price) });
  }
  onVenueReject(clOrdId: string, venue: string, reason: string): void {
    this.emit({ event: 'venue_reject', clOrdId, venue, reason });
  }
  onRequestRejected(clOrdId: string, reason: RejectReason, detail: string): void {
    this.emit({ event: 'request_rejected', clOrdId, reason, detail });
  }

  /** Every order answered: done, or acked and resting. */
  allAnswered(): boolean {
    for (const v of this.seen.values()) if (v === Seen.SENT) return false;
    return true;
  }
  allDone(): boolean {
    for (const v of this.seen.values()) if (v !== Seen.DONE) return false;
    return true;
  }
}

function riskFrom(o: OrderToolOptions): RiskLimits {
  if (o.routing === '') return { ...kDefaultRisk, priceCollarBps: o.refPrice > 0 ? 500 : 0 };
  return loadRoutingConfig(o.routing).risk;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Waits until `done()` or `untilMs`, polling the venue session every event-loop turn: on the
 * native transport acks are read by that poll, not by the event loop.
 */
async function pollUntil(conn: VenueConnector, done: () => boolean, untilMs: number, waiter: SessionWaiter | null): Promise<void> {
  for (;;) {
    const now = Date.now();
    const work = conn.poll?.(now) ?? 0;
    if (done() || now >= untilMs) return;
    // --idle: spin or sleep on the session's socket (at most 1 ms, never past untilMs), then give
    // the event loop its turn (heartbeat timers, signals).
    if (waiter) waiter.idle(work, Math.min(1000, Math.max(0, Math.floor((untilMs - now) * 1000))));
    await nextTurn();
  }
}

/**
 * Runs the tool: connects, sends, waits for answers, logs out. Every event goes to `emit`;
 * resolves with the summary (also emitted last). Throws TickpathError when the venue cannot be
 * reached or the routing file is bad.
 */
export async function runOrderTool(o: OrderToolOptions, emit: (o: Record<string, unknown>) => void): Promise<OrderToolSummary> {
  const risk = riskFrom(o);
  if (risk.priceCollarBps > 0 && o.refPrice === 0) {
    throw new TickpathError('ERR_INVALID_OPTION', `option --ref-price is missing: ${o.routing} sets risk.price_collar_bps ${risk.priceCollarBps} and this tool has no market data`,
      'pass --ref-price with the current price in dollars');
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-order-'));
  const journalPath = o.journal !== '' ? path.resolve(o.journal) : path.join(tmp, 'orders.journal');
  // An existing journal is continued under the session identity its header names.
  const prior: JournalRecovery | null = o.journal !== '' && fs.existsSync(journalPath) ? OrderJournal.recover(journalPath) : null;
  const resuming = prior !== null && prior.records > 0;
  if (prior && prior.identity !== '') {
    const colon = prior.identity.indexOf(':');
    const proto = prior.identity.slice(0, colon);
    const sender = prior.identity.slice(colon + 1);
    if (proto !== o.protocol) {
      throw new TickpathError('ERR_INVALID_OPTION', `option --venue is ${o.protocol}://..., but journal ${journalPath} belongs to a ${proto} session (${sender})`,
        'pass the same --venue protocol, or a new --journal');
    }
    if (o.senderGiven && sender !== o.sender) {
      throw new TickpathError('ERR_INVALID_OPTION', `option --sender is ${JSON.stringify(o.sender)}, but journal ${journalPath} belongs to session ${JSON.stringify(sender)}`,
        'leave --sender out to continue that session, or pass a new --journal');
    }
    o = { ...o, sender };
  }
  let priorParents = 0;
  let priorOpen = 0;
  if (prior) {
    for (const j of prior.orders.values()) if (j.kind === 'parent') priorParents++;
    priorOpen = prior.openParents.length + prior.openChildren.length;
  }
  const toSend = Math.max(0, o.count - priorParents);
  const venue: VenueConfig = { name: kVenueName, protocol: o.protocol, host: o.host, port: o.port, senderId: o.sender, targetId: o.target,
    heartbeatIntervalS: o.protocol === 'ouch' ? 1 : 30, ...(o.idle ? { idle: o.idle.idle, spinUs: o.idle.spinUs } : {}) };   // SoupBinTCP heartbeats every second; FIX HeartBtInt 30
  const config: RoutingConfig = {
    mode: 'rules', defaultVenue: kVenueName, orderCapacity: Math.max(1024, priorOpen + toSend * 2 + 16),
    journal: { path: journalPath, fsync: 'group', groupCommitUs: 1000 },
    venues: [venue], rules: {}, risk,
  };
  const listener = new OrderToolListener(emit);
  if (prior) listener.seed(prior);
  const bbo = { bestBid: () => o.refPrice, bestAsk: () => o.refPrice };
  let stack: RouterStack | null = null;
  const startedMs = Date.now();
  // --idle block: the session's socket joins this epoll set when it connects.
  const waitSet = (o.idle?.idle === 'block' || (o.idle && o.realtime)) && (o.transport ?? 'auto') !== 'libuv' && nativeTcpBinding() ? new NativeWaitSet() : null;
  const rt = o.realtime ? realtimePolicy('tickpath order', o.realtime.priority, o.realtime.sleepUs, o.idle) : null;
  let rtApplied = false;
  let waiter: SessionWaiter | null = null;
  try {
    // No reconnect (a one-shot tool). FIX: with --journal the store lives beside it (FILE.fix/)
    // and a continued journal keeps its sequence numbers (no ResetSeqNumFlag); a new journal, or
    // none, is a new FIX session starting at 1.
    stack = createRouterStack(config, {
      bbo, listener, fixStoreDir: o.journal !== '' ? `${journalPath}.fix` : path.join(tmp, 'fix-store'),
      connector: { reconnectAttempts: 0, resetOnLogon: !resuming, connectTimeoutMs: o.timeoutMs, transport: o.transport ?? 'auto', ...(waitSet ? { waitSet } : {}) },
      journalIdentity: `${o.protocol}:${o.sender}`,
    });
    if (resuming) {
      emit({ event: 'resuming', journal: journalPath, sender: o.sender, orders: priorParents, restored_open: stack.restoredOrders,
        last_seq: prior?.venueSeqs.get(kVenueName) ?? 0 });
    }
    const interrupted = o.signal ? new Promise<void>((resolve) => {
      if (o.signal!.aborted) resolve(); else o.signal!.addEventListener('abort', () => resolve(), { once: true });
    }) : undefined;
    try {
      const login = stack.connect();
      if (interrupted) {
        login.catch(() => { /* reported by the race below, or moot once interrupted */ });
        await Promise.race([login, interrupted]);
        if (o.signal!.aborted) throw new TickpathError('ERR_INTERRUPTED', `interrupted while logging in to ${o.protocol}://${o.host}:${o.port}; nothing was sent`);
      } else {
        await login;
      }
    } catch (e) {
      if (e instanceof TickpathError && e.code === 'ERR_INTERRUPTED') throw e;
      throw new TickpathError('ERR_VENUE_UNREACHABLE', `cannot log in to ${o.protocol}://${o.host}:${o.port}: ${(e as Error).message}`);
    }
    const conn = stack.connectors[0];
    listener.s.transport = conn.transport ?? 'libuv';
    // What runs is the connector's policy (the venue config's idle / spin_us), not the option's copy.
    if (o.idle && conn.transport === 'native' && conn.idle) waiter = new SessionWaiter(waitSet, conn.idle, rt);
    if (rt) {
      if (!waiter) throw new TickpathError('ERR_INVALID_OPTION', 'tickpath order: --realtime needs the native transport (the send loop that runs real-time polls its session)', 'drop --transport libuv, or build the addon (npm run build:native)');
      listener.s.sched = applyRealtime('tickpath order', rt);
      rtApplied = true;
    }
    emit({ event: 'logged_in', venue: `${o.protocol}://${o.host}:${o.port}`, sender: o.sender, transport: listener.s.transport });
    if (stack.resumed) {
      const r = stack.resumed;
      const ms = await stack.awaitReconciled(startedMs, o.timeoutMs);
      emit({ event: 'reconciled', in_flight: r.inFlightAtCrash, resent: r.resent, status_requests: r.statusRequests, unreconciled: r.toReconcile, recovery_ms: ms });
    }
    await sendAll(stack, o, listener, toSend, waiter);
    let deadline = Date.now() + o.timeoutMs;
    // Interrupted (now or while waiting): the answers in flight get a short grace, not the whole timeout.
    const grace = (): boolean => {
      if (o.signal?.aborted && deadline > Date.now() + kInterruptGraceMs) deadline = Date.now() + kInterruptGraceMs;
      return false;
    };
    await pollUntil(conn, () => { stack!.router.endOfBatch(); return grace() || listener.allAnswered() || Date.now() >= deadline; }, Infinity, waiter);
    // Fills of an aggressive order can trail its ack by a message or two.
    const settleEnd = Math.min(deadline, Date.now() + o.settleMs);
    await pollUntil(conn, () => { stack!.router.endOfBatch(); return listener.allDone(); }, settleEnd, waiter);
    stack.router.endOfBatch();
    if (waiter) listener.s.idle = waiter.stats();
    if (rtApplied) { dropRealtime(); rtApplied = false; }
    if (o.signal?.aborted) emit({ event: 'interrupted', reason: String(o.signal.reason ?? 'signal'), sent: listener.s.sent, not_sent: toSend - listener.s.sent });
    return finish(listener, emit);
  } finally {
    if (rtApplied) dropRealtime();
    if (stack) await stack.close();
    waitSet?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    // OrderRouter names orders by the second it started in ('P'/'C' + epoch seconds + counter): a
    // second run started within the same second against the same session would reuse those ids
    // and a venue rejects them as duplicate ClOrdIDs. Returning only once that second is over
    // keeps back-to-back runs apart (concurrent runs still need distinct --sender).
    const rest = 1000 - (startedMs % 1000) - (Date.now() - startedMs);
    if (rest > 0 && rest <= 1000) await sleep(rest + 5);
  }
}

async function sendAll(stack: RouterStack, o: OrderToolOptions, l: OrderToolListener, count: number, waiter: SessionWaiter | null): Promise<void> {
  const req: OrderRequest = { symbol: o.symbol, side: o.side, qty: o.qty, price: o.price, ordType: 'LIMIT', tif: o.tif };
  const intervalNs = o.rate > 0 ? 1e9 / o.rate : 0;
  l.intervalNs = intervalNs;
  const conn = stack.connectors[0];
  const t0 = Number(process.hrtime.bigint());
  for (let i = 0; i < count; i++) {
    if (o.signal?.aborted) break;
    if (intervalNs > 0) {
      // Fixed schedule: order i is due at t0 + i * interval; late sends catch up, early ones wait
      // (reading acks meanwhile; the router journals the venue's sequence at each batch end).
      const due = t0 + i * intervalNs;
      const waitMs = (due - Number(process.hrtime.bigint())) / 1e6;
      if (waitMs > 0) { stack.router.endOfBatch(); await pollUntil(conn, () => Number(process.hrtime.bigint()) >= due || o.signal?.aborted === true, Date.now() + Math.ceil(waitMs), waiter); }
      if (o.signal?.aborted) break;
    }
    l.sendingAt = Number(process.hrtime.bigint());
    l.lastAccepted = '';
    l.s.sent++;
    try {
      stack.router.sendOrder({ ...req });
    } catch (e) {
      // A connector refusing the order outright (e.g. OUCH qty > 999999) surfaces as a throw.
      const id = l.lastAccepted !== '' && l.seen.get(l.lastAccepted) === Seen.SENT ? l.lastAccepted : null;
      if (id !== null) l.seen.set(id, Seen.DONE);
      l.s.rejected++;
      l.emit({ event: 'rejected', clOrdId: id, reason: 'INVALID_ORDER', detail: (e as Error).message });
    }
    conn.poll?.(Date.now());   // acks of earlier orders, read from this send loop (native transport)
    if (intervalNs === 0 && (i & 255) === 255) { stack.router.endOfBatch(); await sleep(0); }   // let acks in on long unpaced runs (libuv)
  }
}

function finish(l: OrderToolListener, emit: (o: Record<string, unknown>) => void): OrderToolSummary {
  for (const [clOrdId, v] of l.seen) {
    if (v === Seen.ACKED) { l.s.open++; emit({ event: 'open', clOrdId }); }
    else if (v === Seen.SENT) { l.s.unanswered++; emit({ event: 'unanswered', clOrdId }); }
  }
  const r = l.rtt.summary();
  l.s.rtt_p50_ns = r.p50;
  l.s.rtt_p99_ns = r.p99;
  l.s.rtt_max_ns = r.max;
  emit({ ...l.s });
  return l.s;
}
