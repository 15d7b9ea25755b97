/**
 * Builds the order router from routing_config.yml: risk, smart routing, order state, journal and
 * one venue connector per configured venue (OUCH 4.2 over SoupBinTCP, FIX 4.2/4.4). Runs on the
 * router worker (its sockets live on that worker's event loop).
 */
import * as path from 'path';
import * as os from 'os';
import { RoutingConfig } from '../router/config';
import { OrderJournal } from '../router/journal';
import { OrderManager } from '../router/order-manager';
import { OrderRouter } from '../router/order-router';
import { RiskChecker } from '../router/risk-checker';
import { SmartRouter } from '../router/smart-router';
import type { BboSource, RouterListener } from '../router/types';
import type { VenueConnector } from '../router/venue';
import { OuchConnector } from '../router/venues/ouch-connector';
import { FixConnector } from '../router/venues/fix-connector';

export interface RouterStack {
  router: OrderRouter;
  connectors: VenueConnector[];
  orderManager: OrderManager;
  risk: RiskChecker;
  journal: OrderJournal;
  /** Connects and logs in every venue; resolves when all are logged in. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface RouterStackOptions {
  /** Venue name -> port, overriding the config (the in-process simulator's ephemeral ports). */
  portOverrides?: Record<string, number>;
  /** Journal path override (tests, the bundled default run). */
  journalPath?: string;
  /** FIX sequence/message store directory (default: beside the journal). */
  fixStoreDir?: string;
  log?: (line: string) => void;
}

export function createRouterStack(cfg: RoutingConfig, bbo: BboSource, listener: RouterListener, o: RouterStackOptions = {}): RouterStack {
  const log = o.log ?? (() => {});
  const journalPath = o.journalPath ?? cfg.journal.path;
  const connectors: VenueConnector[] = cfg.venues.map((v) => {
    const port = o.portOverrides?.[v.name] ?? v.port;
    if (v.protocol === 'ouch') {
      return new OuchConnector({
        name: v.name, host: v.host, port, username: v.senderId, password: '',
        heartbeatIntervalMs: v.heartbeatIntervalS * 1000, reconnectAttempts: 5, reconnectDelayMs: 200,
      });
    }
    return new FixConnector({
      name: v.name, host: v.host, port, version: v.protocol === 'fix42' ? 'FIX.4.2' : 'FIX.4.4',
      senderCompId: v.senderId, targetCompId: v.targetId, heartbeatIntervalSec: v.heartbeatIntervalS,
      storeDir: o.fixStoreDir ?? path.join(path.dirname(journalPath) || os.tmpdir(), 'fix-store'),
      reconnectAttempts: 5, reconnectDelayMs: 200, log,
    });
  });
  const orderManager = new OrderManager({ capacity: cfg.orderCapacity });
  const risk = new RiskChecker(cfg.risk, bbo, orderManager);
  const smartRouter = new SmartRouter({ venues: cfg.venues.map((v) => v.name), rules: cfg.rules, defaultVenue: cfg.defaultVenue, mode: cfg.mode });
  const journal = OrderJournal.open(journalPath, { fsync: cfg.journal.fsync, batchRecords: cfg.journal.batchRecords });
  const router = new OrderRouter({ risk, smartRouter, orderManager, journal, connectors, listener });
  return {
    router, connectors, orderManager, risk, journal,
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
