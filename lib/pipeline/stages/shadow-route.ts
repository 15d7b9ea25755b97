/**
 * A shadow of the router's own order path for the keep-warm dry runs (OrderPathWarmer): an
 * OrderRouter, SmartRouter, OrderManager and RiskChecker of their own, and an OuchConnector whose
 * SoupBinTCP session runs over a transport that sends nothing (DiscardTransport). A dry run is a
 * real `OrderRouter.submitOrder` (risk, routing, order state, the journal records, the connector's
 * checks, the Enter Order encode, SoupBinTCP framing, `TxRing.commit`), then the "venue" rejects
 * it (an OUCH Rejected handed to the session as received bytes), which runs the report path and
 * frees the shadow's slots.
 *
 * Why: V8 keeps compiled code and type feedback per function, not per object. The real path runs
 * about 40 times a second in `npm start`; that is too rare for TurboFan, so submitOrder, routeNew,
 * the connector's sendNew and the SoupBinTCP send ran in baseline (Sparkplug) code with generic
 * inline-cache builtins (LoadIC, CallFunction: `perf record` of the stage thread, 2026-11), and the
 * order cost 80-100 us where the same code costs under 1 us hot. The warmer's shadow copies of the
 * risk check, journal record and encoders warmed only those functions. Dry runs through the same
 * classes, every keep_warm_us, get the whole path optimized and keep its feedback monomorphic.
 *
 * What it costs: a few microseconds of the stage's idle time per run and short-lived garbage that
 * dies in scavenges; no old space (it once left ~300 B a run there: the OUCH connector's Maps,
 * now TokenMaps, and a shadow router per scratch rotation; see ARCHITECTURE). It runs as often as
 * keep_warm_path_us asks (shipped: 200, every keep-warm turn).
 *
 * Nothing real is touched: its own order table, risk state, ids; its journal is the warmer's
 * scratch journal; its session's bytes go nowhere (the discarding transport never opens a socket).
 * The venue name is the real OUCH venue's (the connector reports it; no real session sees it).
 *
 * Threading contract: built, run and closed on the router's worker, by OrderPathWarmer only.
 */
import { OuchConnector } from '../../router/connectors/ouch-connector';
import { OrderManager } from '../../router/order-manager';
import { OrderRouter } from '../../router/order-router';
import { RiskChecker, type RiskLimits } from '../../router/risk-checker';
import { SmartRouter } from '../../router/smart-router';
import type { OrderJournal } from '../../router/journal';
import type { BboSource, OrderRequest, RouterListener } from '../../router/types';
import { encodeLoginAccepted, kSoupSequencedData, writeFrameHeader } from '../../protocols/soupbin/soupbintcp';
import { encodeRejected } from '../../protocols/ouch/ouch42';
import type { SessionTransport, TransportEvents, TransportState, TransportStats } from '../../protocols/transport/session-transport';

/** Offset of the Enter Order token in a sent SoupBinTCP Unsequenced Data frame: header (3) + type (1). */
const kSentTokenOffset = 4;
const kTokenLen = 14;
const kRejectedLen = 24;
/** OUCH reject reason 'O' (other). */
const kReasonOther = 0x4f;

/**
 * A session transport that sends nothing: connect() succeeds at once and the SoupBinTCP login is
 * answered in place; each send keeps the last Enter Order's token, so the shadow venue can
 * reject it.
 */
export class DiscardTransport implements SessionTransport {
  readonly kind = 'native' as const;
  state: TransportState = 'idle';
  private events: TransportEvents | null = null;
  private readonly rx = Buffer.alloc(64);
  /** The last sent Enter Order's token (bytes), valid when `hasToken`. */
  private readonly token = Buffer.alloc(kTokenLen);
  hasToken = false;
  sends = 0;

  connect(_host: string, _port: number, events: TransportEvents): void {
    this.events = events;
    this.state = 'connected';
    events.onConnect();
    const end = encodeLoginAccepted(this.rx, 0, 'SHADOW', 1);
    events.onData(this.rx, 0, end);
  }

  send(buf: Buffer, offset: number, length: number): boolean {
    this.sends++;
    // An Enter Order ('O'): keep its token for the reject.
    if (length >= kSentTokenOffset + kTokenLen && buf[offset + 3] === 0x4f) {
      buf.copy(this.token, 0, offset + kSentTokenOffset, offset + kSentTokenOffset + kTokenLen);
      this.hasToken = true;
    }
    return true;
  }

  /** The shadow venue rejects the last Enter Order: an OUCH Rejected arrives as received bytes. */
  rejectLast(): boolean {
    if (!this.hasToken || this.events === null) return false;
    this.hasToken = false;
    const rx = this.rx;
    const o = writeFrameHeader(rx, 0, kSoupSequencedData, kRejectedLen);
    encodeRejected(rx, o, 0, '', kReasonOther);
    this.token.copy(rx, o + 9);
    this.events.onData(rx, 0, o + kRejectedLen);
    return true;
  }

  poll(): number { return 0; }
  close(): void { this.state = 'closed'; this.events = null; }
  end(): void { this.close(); }
  stats(): TransportStats {
    return { kind: 'native', bytesOut: 0, bytesIn: 0, sends: this.sends, queuedSends: 0, connects: 1, busyPollUs: 0 };
  }
}

const kNullListener: RouterListener = {
  onAccepted() {}, onRejected() {}, onAcked() {}, onPartiallyFilled() {}, onFilled() {}, onCancelled() {}, onReplaced() {},
  onVenueReject() {}, onRequestRejected() {},
} as unknown as RouterListener;

/**
 * The shadow's checker: the same code, but the order's id is not remembered (the duplicate-id set
 * would keep every dry run's id; clearing it each run allocates a new table that outlives scavenges).
 */
class ShadowRiskChecker extends RiskChecker {
  override checkNew(req: OrderRequest, _clOrdId: string | null): ReturnType<RiskChecker['checkNew']> {
    return super.checkNew(req, null);
  }
}

/** What a dry run is handed to: the router stage's own order handlers (attachOrderHandlers) around the shadow router. */
export interface ShadowSink { sendOrder(r: OrderRequest, mdRxTsNs: number): void }

/** The shadow order path; see the file comment. */
export class ShadowRoute {
  readonly transport = new DiscardTransport();
  readonly connector: OuchConnector;
  private readonly om = new OrderManager({ capacity: 16 });
  private readonly risk: RiskChecker;
  private readonly sor: SmartRouter;
  private router: OrderRouter | null = null;
  private sinkFor: ((router: OrderRouter) => ShadowSink) | null = null;
  private sink: ShadowSink | null = null;
  /** Logged in (answered in place by the discarding transport). */
  ready = false;
  /** Dry runs that went through submitOrder and were rejected back. */
  runs = 0;
  /** Dry runs the shadow router refused or could not send (should stay 0). */
  refused = 0;

  constructor(venue: string, limits: RiskLimits, bbo: BboSource) {
    this.risk = new ShadowRiskChecker(limits, bbo, this.om);
    this.sor = new SmartRouter({ venues: [venue], rules: {}, defaultVenue: venue, mode: 'rules' });
    const t = this.transport;
    this.connector = new OuchConnector({
      name: venue, host: '127.0.0.1', port: 9, username: 'SHADOW', password: '', reconnectAttempts: 0,
      heartbeatIntervalMs: 3_600_000, serverTimeoutMs: 1_000_000_000, transport: () => t,
    });
    // The discarding transport answers the login in place, so the session is logged in when
    // connect() returns (its promise settles on a later turn; the connector sends on the login).
    this.connector.connect().catch(() => { this.ready = false; });
    this.ready = this.transport.state === 'connected';
  }

  /**
   * The journal the shadow router writes (the warmer's scratch journal; a new one after each
   * rotation). The first call builds the shadow router; later ones hand the same router the new
   * journal. A new router and sink per rotation (every few seconds at keep_warm_path_us 200) lived
   * long enough to be promoted, and left ~10 KB/s of old-space garbage in the stage worker.
   * Only the hot path reads the journal field again (restart recovery, which kept the first
   * journal, never runs on a shadow), and the new journal is the same class, so nothing deopts.
   */
  useJournal(journal: OrderJournal): void {
    if (this.router !== null) {
      (this.router as unknown as { journal: OrderJournal }).journal = journal;
      return;
    }
    this.router = new OrderRouter({ risk: this.risk, smartRouter: this.sor, orderManager: this.om, journal, connectors: [this.connector],
      listener: kNullListener });
    this.sink = this.sinkFor !== null ? this.sinkFor(this.router) : null;
  }

  /**
   * Dry runs go through `f(router)` (made once, for the one shadow router): the router stage passes
   * its own attachOrderHandlers and an OrderPathProbe on probeTargets(), so the closures an order
   * runs through there (the same creation sites, so the same V8 feedback and code) are warm too.
   */
  useSink(f: (router: OrderRouter) => ShadowSink): void {
    this.sinkFor = f;
    if (this.router !== null) this.sink = f(this.router);
  }

  /**
   * What a shadow OrderPathProbe wraps: this risk checker and connector. Not the journal: the
   * scratch journal is replaced at each rotation, and a wrapper per journal would pile up.
   */
  probeTargets(): { risk: RiskChecker; journal: OrderJournal; connectors: OuchConnector[] } {
    return { risk: this.risk, journal: { appendOrder() {} } as unknown as OrderJournal, connectors: [this.connector] };
  }

  /** One order through the whole path, then rejected by the shadow venue. */
  run(q: OrderRequest): void {
    const r = this.router;
    if (!this.ready || r === null) return;
    let p = 0;
    try {
      if (this.sink !== null) this.sink.sendOrder(q, 0);
      else p = r.submitOrder(q);
      if (p >= 0 && this.transport.rejectLast()) this.runs++;
      else this.refused++;
      r.endOfBatch();
    } catch (e) {
      // A dry run must never take the stage down: the shadow stops, the real path is untouched.
      this.failure = (e as Error).message;
      this.ready = false;
    }
    if (this.risk.usedDailyNotional > 1e15) this.risk.resetDay();
  }

  /** Why the shadow stopped ('' while it runs). */
  failure = '';

  close(): void {
    this.connector.close().catch(() => undefined);
    this.router = null;
  }
}
