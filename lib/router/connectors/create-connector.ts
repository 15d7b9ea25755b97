/**
 * Builds the VenueConnector a `routing.venues[]` entry of routing_config.yml describes: OUCH 4.2
 * over SoupBinTCP for `protocol: ouch` (sender_id is the SoupBinTCP username), FIX 4.2/4.4 for
 * `fix42`/`fix44` (sender_id/target_id are the CompIDs).
 *
 * Secrets and state paths are not in the routing file: the OUCH password and the FIX store
 * directory come from `extra`.
 */
import type { VenueConfig } from '../routing-config';
import type { VenueConnector } from '../venue';
import { OuchConnector } from './ouch-connector';
import { FixConnector } from './fix-connector';

export interface ConnectorExtras {
  /** SoupBinTCP password (OUCH); default ''. */
  password?: string;
  /** FIX sequence/message store directory; default os.tmpdir()/tickpath-fix. */
  fixStoreDir?: string;
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
  log?: (line: string) => void;
}

export function createVenueConnector(venue: VenueConfig, extra: ConnectorExtras = {}): VenueConnector {
  if (venue.protocol === 'ouch') {
    return new OuchConnector({
      name: venue.name, host: venue.host, port: venue.port, username: venue.senderId, password: extra.password ?? '',
      heartbeatIntervalMs: venue.heartbeatIntervalS * 1000, serverTimeoutMs: Math.max(3, venue.heartbeatIntervalS * 3) * 1000,
      reconnectAttempts: extra.reconnectAttempts, reconnectDelayMs: extra.reconnectDelayMs,
    });
  }
  return new FixConnector({
    name: venue.name, host: venue.host, port: venue.port, version: venue.protocol === 'fix42' ? 'FIX.4.2' : 'FIX.4.4',
    senderCompId: venue.senderId, targetCompId: venue.targetId, heartbeatIntervalSec: Math.max(1, Math.round(venue.heartbeatIntervalS)),
    storeDir: extra.fixStoreDir, reconnectAttempts: extra.reconnectAttempts, reconnectDelayMs: extra.reconnectDelayMs, log: extra.log,
  });
}
