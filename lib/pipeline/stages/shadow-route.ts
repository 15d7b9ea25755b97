/**
 * A shadow of the router's own order path for the keep-warm dry runs (OrderPathWarmer): an
 * OrderRouter, SmartRouter, OrderManager and RiskChecker of their own, and a venue connector of
 * the real venue's protocol whose session runs over a transport that sends nothing. A dry run is a
 * real `OrderRouter.submitOrder` (risk, routing, order state, the journal records, the connector's
 * checks, the encode, the session's framing, `TxRing.commit`), then the "venue" rejects it, as
 * received bytes, which runs the report path and frees the shadow's slots:
 *   OUCH  OuchConnector over DiscardTransport: Enter Order, SoupBinTCP framing; an OUCH Rejected back.
 *   FIX   FixConnector over FixDiscardTransport: NewOrderSingle through FixSession.sendApp (sequence
 *         number, the store's append into a scratch FixMappedStore of its own, unlinked at once and
 *         rewound every 4,096 messages); an ExecutionReport ExecType=8 back, through the parser,
 *         the session's sequence check and the connector's report path. Its CompIDs are its own
 *         (TPSHADOW/TPSHADOWVENUE) and its store is never the real session's, so the real session's
 *         numbers, stored messages and socket are untouched.
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
 * scratch journal; its session's bytes go nowhere (the discarding transports never open a socket);
 * a FIX shadow's store is a scratch one. The venue name is the real venue's (the connector reports
 * it; no real session sees it). The warmer makes one shadow per protocol its venues speak (the
 * first OUCH and the first FIX venue), taking turns.
 *
 * Threading contract: built, run and closed on the router's worker, by OrderPathWarmer only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OuchConnector } from '../../router/connectors/ouch-connector';
import { FixConnector } from '../../router/connectors/fix-connector';
import { FixEncoder, FixHeaderTemplate, Tag, type FixVersion } from '../../protocols/fix/fix-codec';
import { OrderManager } from '../../router/order-manager';
import { OrderRouter } from '../../router/order-router';
import { RiskChecker, type RiskLimits } from '../../router/risk-checker';
import { SmartRouter } from '../../router/smart-router';
import type { OrderJournal } from '../../router/journal';
import type { BboSource, OrderRequest, RouterListener } from '../../router/types';
import type { VenueConnector } from '../../router/venue';
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
 * What both shadow venues' transports share: a transport that never opens a socket, counts its
 * sends and answers through `events`; `rejectLast()` hands the venue's reject of the last order in
 * as received bytes.
 */
abstract class ShadowTransport implements SessionTransport {
  readonly kind = 'native' as const;
  state: TransportState = 'idle';
  protected events: TransportEvents | null = null;
  hasToken = false;
  sends = 0;

  abstract connect(host: string, port: number, events: TransportEvents): void;
  abstract send(buf: Buffer, offset: number, length: number): boolean;
  abstract rejectLast(): boolean;

  poll(): number { return 0; }
  close(): void { this.state = 'closed'; this.events = null; }
  end(): void { this.close(); }
  stats(): TransportStats {
    return { kind: 'native', bytesOut: 0, bytesIn: 0, sends: this.sends, queuedSends: 0, connects: 1, busyPollUs: 0 };
  }
}

/**
 * A session transport that sends nothing: connect() succeeds at once and the SoupBinTCP login is
 * answered in place; each send keeps the last Enter Order's token, so the shadow venue can
 * reject it.
 */
export class DiscardTransport extends ShadowTransport {
  private readonly rx = Buffer.alloc(64);
  /** The last sent Enter Order's token (bytes), valid when `hasToken`. */
  private readonly token = Buffer.alloc(kTokenLen);

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
}

/** Longest ClOrdID the FIX shadow venue keeps for its reject (the router's ids are 14 characters). */
const kFixTokenMax = 64;
/** The shadow FIX store starts again (ResetSeqNumFlag's reset: the file rewinds) after this many messages. */
const kFixStoreRewind = 4096;

/**
 * The FIX shadow venue's transport: sends nothing. connect() succeeds at once and the session's
 * Logon is answered in place with the venue's Logon; each NewOrderSingle (35=D) sent keeps its
 * ClOrdID(11) field, so `rejectLast()` can answer with an ExecutionReport ExecType=8 (rejected)
 * that arrives as received bytes and runs the connector's report path (parser, session sequence
 * check, store, onReject). The venue's MsgSeqNum is the one the session expects (`expectSeq`).
 */
export class FixDiscardTransport extends ShadowTransport {
  private readonly enc = new FixEncoder();
  private readonly rx = Buffer.alloc(1024);
  /** The last sent NewOrderSingle's "11=<ClOrdID><SOH>" bytes, valid when `hasToken`. */
  private readonly token = Buffer.alloc(kFixTokenMax + 4);
  private tokenLen = 0;
  private readonly logon: FixHeaderTemplate;
  private readonly report: FixHeaderTemplate;
  /** NewOrderSingles seen (each one a dry run's order). */
  newOrders = 0;
  /** The MsgSeqNum the session expects next (set by the shadow route: its session's store). */
  expectSeq: () => number = () => 1;

  /** `sender`/`target`: the venue's CompIDs (the session's, swapped). */
  constructor(private readonly version: FixVersion, sender: string, target: string, private readonly heartbeatSec: number) {
    super();
    this.logon = new FixHeaderTemplate('A', sender, target);
    this.report = new FixHeaderTemplate('8', sender, target);
  }

  connect(_host: string, _port: number, events: TransportEvents): void {
    this.events = events;
    this.state = 'connected';
    // The session sends its Logon from onConnect; the venue's Logon answers it.
    events.onConnect();
    if (this.events === null) return;
    const e = this.enc.beginHeader(this.rx, 0, this.version, this.logon, this.expectSeq(), Date.now());
    e.int(Tag.EncryptMethod, 0).int(Tag.HeartBtInt, this.heartbeatSec);
    const start = e.finish();
    events.onData(this.rx, start, e.end - start);
  }

  send(buf: Buffer, offset: number, length: number): boolean {
    this.sends++;
    // "35=D" follows "8=FIX.4.x|9=<len>|": find it and ClOrdID(11) with one scan of the header and body.
    const end = offset + length;
    let i = offset;
    while (i < end && !(buf[i] === 0x01 && buf[i + 1] === 0x33 && buf[i + 2] === 0x35 && buf[i + 3] === 0x3d)) i++;
    if (i + 5 < end && buf[i + 4] === 0x44 && buf[i + 5] === 0x01) {
      this.newOrders++;
      for (i += 5; i + 3 < end; i++) {
        if (buf[i] === 0x01 && buf[i + 1] === 0x31 && buf[i + 2] === 0x31 && buf[i + 3] === 0x3d) {
          let j = i + 4;
          while (j < end && buf[j] !== 0x01) j++;
          const n = j + 1 - (i + 1);
          if (n > this.token.length) break;
          buf.copy(this.token, 0, i + 1, j + 1);
          this.tokenLen = n;
          this.hasToken = true;
          break;
        }
      }
    } else if (i + 5 < end && buf[i + 4] === 0x35 && buf[i + 5] === 0x01) {
      // Logout (closing the shadow): the venue hangs up, after the session's send returned.
      const ev = this.events;
      if (ev !== null) queueMicrotask(() => { if (this.events === ev) { this.close(); ev.onClose('logged out', undefined); } });
    }
    return true;
  }

  /** The shadow venue rejects the last NewOrderSingle: an ExecutionReport (rejected) arrives as received bytes. */
  rejectLast(): boolean {
    if (!this.hasToken || this.events === null) return false;
    this.hasToken = false;
    const e = this.enc.beginHeader(this.rx, 0, this.version, this.report, this.expectSeq(), Date.now());
    // A constant ExecID: the connector's duplicate-ExecID set holds one entry for the shadow, not one per run.
    e.str(Tag.OrderID, 'NONE').str(Tag.ExecID, 'SHADOW');
    if (this.version === 'FIX.4.2') e.char(Tag.ExecTransType, 0x30);
    e.char(Tag.ExecType, 0x38).char(Tag.OrdStatus, 0x38).rawField(this.token, 0, this.tokenLen)
      .int(Tag.LeavesQty, 0).int(Tag.CumQty, 0).int(Tag.AvgPx, 0).str(Tag.Text, 'shadow venue');
    const start = e.finish();
    this.events.onData(this.rx, start, e.end - start);
    return true;
  }
}

const kNullListener: RouterListener = {
  onAccepted() {}, onRejected() {}, onAcked() {}, onPartiallyFilled() {}, onFilled() {}, onCancelled() {}, onReplaced() {},
  onVenueReject() {}, onRequestRejected() {},
} as unknown as RouterListener;

/** What a dry run is handed to: the router stage's own order handlers (attachOrderHandlers) around the shadow router. */
export interface ShadowSink { sendOrder(r: OrderRequest, mdRxTsNs: number): void }

/** What a shadow venue speaks: the real venue's protocol. */
export type ShadowProtocol = 'ouch' | 'fix42' | 'fix44';
/** The FIX shadow session's CompIDs: never a real session's (its store is its own anyway). */
const kShadowCompId = 'TPSHADOW';
const kShadowVenueCompId = 'TPSHADOWVENUE';

/** The shadow order path; see the file comment. */
export class ShadowRoute {
  /** The discarding transport of the shadow venue (OUCH or FIX, as the real venue it stands for). */
  readonly transport: DiscardTransport | FixDiscardTransport;
  readonly connector: OuchConnector | FixConnector;
  readonly protocol: ShadowProtocol;
  private readonly om = new OrderManager({ capacity: 16 });
  private readonly risk: RiskChecker;
  private readonly sor: SmartRouter;
  private router: OrderRouter | null = null;
  private sinkFor: ((router: OrderRouter) => ShadowSink) | null = null;
  private sink: ShadowSink | null = null;
  /** FIX: the shadow session's store (scratch, unlinked), rewound every kFixStoreRewind messages. */
  private readonly fixStore: FixConnector['session']['store'] | null = null;
  /** The three-file FIX store's directory, removed at close() ('' when already gone). */
  private fixStoreDir = '';
  /** Logged in (answered in place by the discarding transport). */
  ready = false;
  /** Dry runs that went through submitOrder and were rejected back. */
  runs = 0;
  /** Dry runs the shadow router refused or could not send (should stay 0). */
  refused = 0;

  /**
   * `venue`: the real venue's name (the shadow router routes there; no real session sees it).
   * `protocol`: the real venue's; a FIX shadow keeps its session's store in a directory of its
   * own under `scratchDir` (never the real session's store), unlinked as soon as it is mapped.
   */
  constructor(venue: string, limits: RiskLimits, bbo: BboSource, protocol: ShadowProtocol = 'ouch', scratchDir: string = os.tmpdir()) {
    this.protocol = protocol;
    // The real path's class, called by OrderRouter exactly as the real one is (the symbol's index
    // and the journal's clock passed on): a subclass that dropped them ran the string lookup and a
    // clock read the real order never runs, and gave checkNew's call site a second map. The router
    // generates the dry runs' ids, so checkNew gets no id to remember (clOrdId null).
    this.risk = new RiskChecker(limits, bbo, this.om);
    this.sor = new SmartRouter({ venues: [venue], rules: {}, defaultVenue: venue, mode: 'rules' });
    if (protocol === 'ouch') {
      const t = new DiscardTransport();
      this.transport = t;
      this.connector = new OuchConnector({
        name: venue, host: '127.0.0.1', port: 9, username: 'SHADOW', password: '', reconnectAttempts: 0,
        heartbeatIntervalMs: 3_600_000, serverTimeoutMs: 1_000_000_000, transport: () => t,
      });
    } else {
      const version: FixVersion = protocol === 'fix42' ? 'FIX.4.2' : 'FIX.4.4';
      const heartbeatSec = 86_400;
      const t = new FixDiscardTransport(version, kShadowVenueCompId, kShadowCompId, heartbeatSec);
      this.transport = t;
      const storeDir = fs.mkdtempSync(path.join(scratchDir, 'tickpath-shadow-fix-'));
      try {
        const c = new FixConnector({
          name: venue, host: '127.0.0.1', port: 9, version, senderCompId: kShadowCompId, targetCompId: kShadowVenueCompId,
          storeDir, storeFsync: 'never', heartbeatIntervalSec: heartbeatSec, resetOnLogon: true, reconnectAttempts: 0,
          connectTimeoutMs: 1_000_000_000, transport: () => t,
        });
        this.connector = c;
        this.fixStore = c.session.store;
        t.expectSeq = () => c.session.nextTargetSeq;
      } catch (e) {
        fs.rmSync(storeDir, { recursive: true, force: true });
        throw e;
      }
      // The mapped store's name goes at once (the mapping keeps the pages): a killed process leaves
      // no file behind. The three-file store (no addon) writes by name: its directory goes at close().
      if (this.fixStore!.kind === 'mapped') fs.rmSync(storeDir, { recursive: true, force: true });
      else this.fixStoreDir = storeDir;
    }
    // The discarding transport answers the login in place, so the session is logged in when
    // connect() returns (its promise settles on a later turn; the connector sends on the login).
    this.connector.connect().catch(() => { this.ready = false; });
    this.ready = this.transport.state === 'connected' && (this.connector instanceof FixConnector ? this.connector.session.isLoggedIn : true);
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
  /** The shadow router (null once closed): the order-step probe stamps it (order-path-steps.ts). */
  get orderRouter(): OrderRouter | null { return this.router; }

  /** The shadow's risk checker (tests check it is the real path's class). */
  get riskChecker(): RiskChecker { return this.risk; }

  probeTargets(): { risk: RiskChecker; journal: OrderJournal; connectors: VenueConnector[] } {
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
      // The FIX store keeps every message sent: rewound (as a ResetSeqNumFlag logon would) so the
      // scratch file stays a few hundred KB. Both sides' numbers restart at 1 (the shadow venue
      // answers with the number the session expects).
      const st = this.fixStore;
      if (st !== null && st.nextSenderSeq > kFixStoreRewind) st.reset();
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
    const dir = this.fixStoreDir;
    this.fixStoreDir = '';
    this.connector.close().catch(() => undefined).finally(() => { if (dir !== '') fs.rmSync(dir, { recursive: true, force: true }); });
    this.router = null;
  }
}
