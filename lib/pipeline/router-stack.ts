/**
 * The router worker's venue wiring: createOrderRouter (lib/router) builds risk, routing, order
 * state and the journal (restoring open orders from it); this file supplies the connectors for the
 * configured venues (OUCH 4.2 over SoupBinTCP, FIX 4.2/4.4) and connects them. Start-up only.
 */
import * as os from 'os';
import * as path from 'path';
import { RoutingConfig, VenueConfig } from '../router/routing-config';
import { createOrderRouter, RouterStack as CoreStack } from '../router/create-router';
import type { BboSource, RouterListener } from '../router/types';
import type { VenueConnector } from '../router/venue';
import { FixConnector } from '../router/connectors/fix-connector';
import { OuchConnector } from '../router/connectors/ouch-connector';

export interface RouterStack extends CoreStack {
  /** Connects and logs in every venue; resolves when all are logged in. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface RouterStackOptions {
  /** Venue name -> port, overriding the config (the in-process simulators' ephemeral ports). */
  portOverrides?: Record<string, number>;
  /** Journal path override (tests, the bundled default run). */
  journalPath?: string;
  /** FIX sequence/message store directory (default: beside the journal). */
  fixStoreDir?: string;
  log?: (line: string) => void;
}

export function createRouterStack(cfg: RoutingConfig, bbo: BboSource, listener: RouterListener, o: RouterStackOptions = {}): RouterStack {
  const log = o.log ?? (() => {});
  const config: RoutingConfig = o.journalPath ? { ...cfg, journal: { ...cfg.journal, path: o.journalPath } } : cfg;
  const fixStoreDir = o.fixStoreDir ?? path.join(path.dirname(config.journal.path) || os.tmpdir(), 'fix-store');
  const connectorFor = (v: VenueConfig): VenueConnector => {
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
      storeDir: fixStoreDir, reconnectAttempts: 5, reconnectDelayMs: 200, log,
    });
  };
  const core = createOrderRouter(config, { connectorFor, bbo, listener });
  if (core.restoredOrders) log(`router: ${core.restoredOrders} open order(s) restored from ${config.journal.path}`);
  return {
    ...core,
    async connect() {
      await Promise.all(core.connectors.map(async (c) => {
        await c.connect();
        log(`venue ${c.name} (${c.protocol}): logged in`);
      }));
    },
    async close() {
      await Promise.all(core.connectors.map((c) => c.close().catch(() => undefined)));
      core.journal.close();
    },
  };
}
