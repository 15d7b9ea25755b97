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
  /** Connects and logs in every venue; resolves when all are logged in. */
  connect(): Promise<void>;
  /** Logs out of every venue and closes the journal. */
  close(): Promise<void>;
}

export function createRouterStack(cfg: RoutingConfig, o: RouterStackOptions): RouterStack {
  const log = o.log ?? (() => {});
  const config: RoutingConfig = o.journalPath ? { ...cfg, journal: { ...cfg.journal, path: o.journalPath } } : cfg;
  const fixStoreDir = o.fixStoreDir ?? path.join(path.dirname(config.journal.path) || os.tmpdir(), 'fix-store');
  fs.mkdirSync(path.dirname(config.journal.path), { recursive: true });
  const journal = OrderJournal.open(config.journal.path, { fsync: config.journal.fsync, groupCommitUs: config.journal.groupCommitUs });
  for (const d of journal.recovered.damaged) log(`router: ${config.journal.path}: damaged slot at byte ${d.offset} (${d.cause}) skipped`);
  const orderManager = new OrderManager({ capacity: config.orderCapacity });
  const risk = new RiskChecker(config.risk, o.bbo, orderManager, o.now);
  const smartRouter = new SmartRouter({
    venues: config.venues.map((v) => v.name), rules: config.rules, defaultVenue: config.defaultVenue,
    mode: config.mode, book: o.book,
  });
  const connectorFor = o.connectorFor ?? ((v: VenueConfig): VenueConnector =>
    createVenueConnector(v, { ...o.connector, port: o.portOverrides?.[v.name], fixStoreDir, log,
      fixStoreFsync: config.journal.fsync, fixStoreGroupCommitUs: config.journal.groupCommitUs }));
  let router: OrderRouter;
  let connectors: VenueConnector[];
  try {
    connectors = config.venues.map((v) => connectorFor(v, journal.recovered.venueSeqs.get(v.name) ?? 0));
    router = new OrderRouter({ risk, smartRouter, orderManager, journal, connectors, listener: o.listener, now: o.now });
  } catch (e) {
    journal.close();
    throw e;
  }
  const restoredOrders = router.restoreFromJournal();
  if (restoredOrders) log(`router: ${restoredOrders} open order(s) restored from ${config.journal.path}`);
  return {
    router, risk, smartRouter, orderManager, journal, connectors, restoredOrders,
    async connect() {
      await Promise.all(connectors.map(async (c) => {
        await c.connect();
        log(`venue ${c.name} (${c.protocol}): logged in`);
      }));
    },
    async close() {
      await Promise.all(connectors.map((c) => c.close().catch(() => undefined)));
      journal.close();
    },
  };
}
