/**
 * Builds the whole router stack from a validated routing config: journal (opened and recovered
 * first), order table, risk, smart router, connectors and OrderRouter, then restores the open
 * orders the journal holds. Connectors are made by the caller's `connectorFor`, which is told the
 * last sequence number journaled for that venue so the session can log in from the next one.
 *
 * Start-up only; nothing here runs per order.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { RoutingConfig, VenueConfig } from './routing-config';
import { OrderJournal } from './journal';
import { OrderManager } from './order-manager';
import { OrderRouter } from './order-router';
import { RiskChecker } from './risk-checker';
import { SmartRouter } from './smart-router';
import type { BboSource, RouterListener, VenueBookView } from './types';
import type { VenueConnector } from './venue';

export interface RouterDependencies {
  /** Makes the connector for one configured venue; `lastSeq` is 0 when the journal has none. */
  connectorFor(venue: VenueConfig, lastSeq: number): VenueConnector;
  bbo: BboSource;
  /** Required when the config's mode is 'liquidity'. */
  book?: VenueBookView;
  listener: RouterListener;
  now?: () => number;
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
}

export function createOrderRouter(config: RoutingConfig, deps: RouterDependencies): RouterStack {
  fs.mkdirSync(path.dirname(config.journal.path), { recursive: true });
  const journal = OrderJournal.open(config.journal.path, { fsync: config.journal.fsync, batchRecords: config.journal.batchRecords });
  const orderManager = new OrderManager({ capacity: config.orderCapacity });
  const risk = new RiskChecker(config.risk, deps.bbo, orderManager, deps.now);
  const smartRouter = new SmartRouter({
    venues: config.venues.map((v) => v.name), rules: config.rules, defaultVenue: config.defaultVenue,
    mode: config.mode, book: deps.book,
  });
  const connectors = config.venues.map((v) => deps.connectorFor(v, journal.recovered.venueSeqs.get(v.name) ?? 0));
  const router = new OrderRouter({ risk, smartRouter, orderManager, journal, connectors, listener: deps.listener, now: deps.now });
  const restoredOrders = router.restoreFromJournal();
  return { router, risk, smartRouter, orderManager, journal, connectors, restoredOrders };
}
