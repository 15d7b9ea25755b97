/**
 * The one way to build a working order router from a validated routing config, used by the
 * pipeline's router stage, `tickpath order` and the tests: the journal (opened and recovered
 * first), order table, risk, smart router, one connector per configured venue (from
 * createVenueConnector, so every caller runs the same sessions), the OrderRouter, and the open
 * orders the journal holds restored into it. `connect()` logs every venue in; `close()` logs out
 * and closes the journal.
 *
 * Start-up and shutdown only; nothing here runs per order.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RoutingConfig, VenueConfig } from './routing-config';
import { OrderJournal } from './journal';
import { OrderManager } from './order-manager';
import { OrderRouter } from './order-router';
import { RiskChecker } from './risk-checker';
import { SmartRouter } from './smart-router';
import type { BboSource, RouterListener, VenueBookView } from './types';
import type { VenueConnector } from './venue';
import type { ResumeResult } from './restart';
import { TickpathError } from '../errors';
import { createVenueConnector, type ConnectorExtras } from './connectors/create-connector';

export interface RouterStackOptions {
  bbo: BboSource;
  /** Required when the config's mode is 'liquidity'. */
  book?: VenueBookView;
  listener: RouterListener;
  now?: () => number;
  /** Venue name -> port, overriding the config (the in-process simulators' ephemeral ports). */
  portOverrides?: Record<string, number>;
  /** Journal path override (the bundled default run). */
  journalPath?: string;
  /** FIX sequence/message store directory (default: `fix-store` beside the journal). */
  fixStoreDir?: string;
  /** Connector settings every venue shares (reconnects, ResetSeqNumFlag, timeouts, password). */
  connector?: Omit<ConnectorExtras, 'port' | 'fixStoreDir' | 'log' | 'fixStoreFsync' | 'fixStoreGroupCommitUs'>;
  /**
   * Test double seam: makes the connector for a venue instead of createVenueConnector. `lastSeq`
   * is the last sequence number journaled for that venue (0 when none).
   */
  connectorFor?: (venue: VenueConfig, lastSeq: number) => VenueConnector;
  /**
   * Failover takeover: the journal is a replica of a primary's, whose FIX stores this host does not
   * have. Each FIX session is adopted as the journal records it (adoptTakeoverSessions) before
   * any logon.
   */
  takeover?: boolean;
  /** Written into a new journal's header: the session identity a restart must log in as again. */
  journalIdentity?: string;
  log?: (line: string) => void;
}

export interface RouterStack {
  router: OrderRouter;
  risk: RiskChecker;
  smartRouter: SmartRouter;
  orderManager: OrderManager;
  journal: OrderJournal;
  connectors: VenueConnector[];
  /** Open client orders brought back from the journal. */
  restoredOrders: number;
  /** What resuming after a restart did (null until connect(), or when the journal was new). */
  resumed: ResumeResult | null;
  /**
   * Connects and logs in every venue; resolves when all are logged in and, after a restart, once
   * the requests in flight at the crash have been settled or sent again (OUCH: after the
   * SoupBinTCP replay from the journaled sequence; FIX: after the session's resend, by Order
   * Status Request).
   */
  connect(): Promise<void>;
  /**
   * Resolves with the milliseconds from `since` until no order restored with a request in flight
   * is still unanswered (or rejects after `timeoutMs`).
   */
  awaitReconciled(since: number, timeoutMs: number): Promise<number>;
  /** Logs out of every venue and closes the journal. */
  close(): Promise<void>;
}

export function createRouterStack(cfg: RoutingConfig, o: RouterStackOptions): RouterStack {
  const log = o.log ?? (() => {});
  const config: RoutingConfig = o.journalPath ? { ...cfg, journal: { ...cfg.journal, path: o.journalPath } } : cfg;
  const fixStoreDir = o.fixStoreDir ?? path.join(path.dirname(config.journal.path) || os.tmpdir(), 'fix-store');
  fs.mkdirSync(path.dirname(config.journal.path), { recursive: true });
  const openedMs = Date.now();
  const journal = OrderJournal.open(config.journal.path, { fsync: config.journal.fsync, groupCommitUs: config.journal.groupCommitUs,
    ringRecords: config.journal.ringRecords, identity: o.journalIdentity });
  for (const d of journal.recovered.damaged) log(`router: ${config.journal.path}: damaged slot at byte ${d.offset} (${d.cause}) skipped`);
  const orderManager = new OrderManager({ capacity: config.orderCapacity });
  const risk = new RiskChecker(config.risk, o.bbo, orderManager, o.now);
  const smartRouter = new SmartRouter({
    venues: config.venues.map((v) => v.name), rules: config.rules, defaultVenue: config.defaultVenue,
    mode: config.mode, book: o.book,
  });
  const connectorFor = o.connectorFor ?? ((v: VenueConfig): VenueConnector =>
    createVenueConnector(v, { ...o.connector, port: o.portOverrides?.[v.name], fixStoreDir, log, lastSeq: journal.recovered.venueSeqs.get(v.name) ?? 0,
      // The venue's own transport settings unless the caller insists on one (`tickpath order --transport`).
      transport: o.connector?.transport && o.connector.transport !== 'auto' ? o.connector.transport : v.transport,
      busyPollUs: o.connector?.busyPollUs ?? v.busyPollUs,
      txTimestamps: o.connector?.txTimestamps ?? v.txTimestamps,
      idle: o.connector?.idle ?? { idle: v.idle ?? 'block', spinUs: v.spinUs ?? 0 },
      fixStoreFsync: config.journal.fsync, fixStoreGroupCommitUs: config.journal.groupCommitUs }));
  let router: OrderRouter;
  let connectors: VenueConnector[];
  try {
    connectors = config.venues.map((v) => connectorFor(v, journal.recovered.venueSeqs.get(v.name) ?? 0));
    router = new OrderRouter({ risk, smartRouter, orderManager, journal, connectors, listener: o.listener, now: o.now, log });
  } catch (e) {
    journal.close();
    throw e;
  }
  if (o.takeover) {
    try {
      adoptTakeoverSessions(config.venues, connectors, journal, log);
    } catch (e) {
      journal.close();
      throw e;
    }
  }
  const restoredOrders = router.restoreFromJournal();
  if (restoredOrders) log(`router: ${restoredOrders} open order(s) restored from ${config.journal.path}`);
  const restarted = journal.recovered.records > 0;
  const stack: RouterStack = {
    router, risk, smartRouter, orderManager, journal, connectors, restoredOrders, resumed: null,
    async connect() {
      await Promise.all(connectors.map(async (c) => {
        await c.connect();
        if (c.sessionWindowClosed) log(`venue ${c.name} (${c.protocol}): not logged in: ${c.sessionWindowClosed}`);
        else log(`venue ${c.name} (${c.protocol}): logged in${c.venueSession ? ` to session ${c.venueSession}` : ''}`);
      }));
      // A venue that answers with another session than the journal names ended the old one: what
      // was open there is settled before anything is resumed or sent (OrderRouter.checkVenueSessions).
      router.checkVenueSessions();
      if (!restarted || stack.resumed) return;
      // The venue replays what the killed process missed right after login; requests still
      // unanswered once that replay has gone quiet are sent again (OUCH) or asked about (FIX).
      await replayQuiet(connectors);
      stack.resumed = router.resumeAfterRestart();
      router.endOfBatch();
      const r = stack.resumed;
      log(`router: resumed from ${config.journal.path}: ${r.resent} request(s) sent again, ${r.statusRequests} order status request(s)` +
        (r.toReconcile.length ? `, ${r.toReconcile.length} left to reconcile by hand: ${r.toReconcile.join(' ')}` : ''));
      const inFlight = r.inFlightAtCrash;
      stack.awaitReconciled(openedMs, 60_000).then(
        (ms) => log(`router: ${inFlight} order(s) in flight at the crash reconciled ${ms} ms after the journal was opened`),
        (e) => log((e as Error).message));
    },
    async awaitReconciled(since: number, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (router.restoredInFlight() > 0) {
        if (Date.now() > deadline) {
          throw new TickpathError('ERR_ROUTER_RESTORE', `router: ${router.restoredInFlight()} restored order(s) still unanswered after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      router.endOfBatch();
      return Date.now() - since;
    },
    async close() {
      await Promise.all(connectors.map((c) => c.close().catch(() => undefined)));
      journal.close();
    },
  };
  return stack;
}

/**
 * Outbound numbers a primary may have used after the last one the standby holds, beyond one per
 * order record (heartbeats, test and resend requests, rejects, a logout). A number too high costs
 * one ResendRequest from the venue, answered with one GapFill; a number too low makes the venue
 * refuse the Logon.
 */
export const kTakeoverOutSeqSlack = 100;

/**
 * Failover takeover of FIX sessions: the primary's FIX store (sequence numbers and sent messages)
 * stayed on its host, so each FIX connector adopts the session the replicated journal names (its
 * VENUE_SESSION identity) with the next outbound MsgSeqNum above anything the primary could have
 * used (the last one journaled + one per order record after it + kTakeoverOutSeqSlack) and the
 * last inbound MsgSeqNum the journal holds (the venue resends what is after it; fills are
 * deduplicated by ExecID). Orders in flight are then settled by the restart path (Order Status
 * Request; an order the venue never received is sent with its ClOrdID). A FIX venue the journal
 * has no session for (the primary never logged in to it) logs on from this host's store.
 */
export function adoptTakeoverSessions(venues: readonly VenueConfig[], connectors: readonly VenueConnector[], journal: OrderJournal,
  log: (line: string) => void): void {
  const rec = journal.recovered;
  venues.forEach((v, i) => {
    const c = connectors[i];
    if (!c.adoptSession) return;
    const session = rec.venueSessions.get(v.name);
    const out = rec.venueOutSeqs.get(v.name);
    if (session === undefined || session === '') {
      log(`venue ${v.name} (${c.protocol}): takeover: the journal names no session for it (the primary never logged in there); logging on from this host's store`);
      return;
    }
    if (out === undefined) {
      throw new TickpathError('ERR_FAILOVER_FIX_SEQ', `venue ${v.name} (${c.protocol}): takeover: the journal holds session ${session} but no outbound MsgSeqNum for it ` +
        '(written by a primary that did not record it)', 'run the same tickpath version on the primary and the standby, or agree a sequence reset with the venue and restart');
    }
    const sends = rec.venueSendsAfterOutSeq.get(v.name) ?? 0;
    const lastIn = rec.venueSeqs.get(v.name) ?? 0;
    const nextOut = out + sends + kTakeoverOutSeqSlack;
    c.adoptSession(session, nextOut, lastIn);
    log(`venue ${v.name} (${c.protocol}): takeover: session ${session} from the journal: next out ${nextOut} ` +
      `(journaled ${out} + ${sends} order record(s) after it + ${kTakeoverOutSeqSlack}), next in ${lastIn + 1}`);
  });
}

/** Waits until no venue's sequence has moved for 50 ms (at most 3 s): the login replay is in. */
async function replayQuiet(connectors: readonly VenueConnector[]): Promise<void> {
  const seqs = (): string => connectors.map((c) => c.lastSequence ?? 0).join(',');
  const end = Date.now() + 3000;
  let last = seqs();
  let since = Date.now();
  while (Date.now() < end && Date.now() - since < 50) {
    await new Promise((r) => setTimeout(r, 5));
    const now = seqs();
    if (now !== last) { last = now; since = Date.now(); }
  }
}
