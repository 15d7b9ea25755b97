/**
 * The one factory for venue sessions: builds the VenueConnector a `routing.venues[]` entry of
 * routing_config.yml describes, for the pipeline's router stage, `tickpath order`, `tickpath run`,
 * perf and the tests alike, so they all run a session configured the same way. OUCH 4.2 over
 * SoupBinTCP for `protocol: ouch` (sender_id is the SoupBinTCP username), FIX 4.2/4.4 for
 * `fix42`/`fix44` (sender_id/target_id are the CompIDs).
 *
 * Defaults, the same for every caller (override in `extra` only where the caller means to):
 *  - heartbeat: the venue's heartbeat_interval_s (FIX HeartBtInt is whole seconds: rounded, at least 1);
 *  - OUCH server timeout: three heartbeats, at least the 15 s SoupBinTCP 3.0 names for a silent peer;
 *  - reconnect: 5 attempts 200 ms apart after an unexpected drop (`reconnectAttempts: 0` = never,
 *    as a one-shot tool wants);
 *  - transport: native (the addon's TCP channel, polled by the owner's loop) when the addon is
 *    built, libuv otherwise; `transport: 'libuv'` opts out, `'native'` insists (an error without
 *    the addon). The kind in use is in every connector's stats().transport.
 * Secrets and state paths are not in the routing file: the OUCH password and the FIX store
 * directory come from `extra`.
 */
import type { VenueConfig } from '../routing-config';
import type { VenueConnector } from '../venue';
import { OuchConnector } from './ouch-connector';
import { FixConnector } from './fix-connector';
import { transportFactory, type TransportChoice } from '../../protocols/transport/create-transport';
import type { SessionIdlePolicy } from '../../protocols/transport/session-waiter';

export const kDefaultReconnectAttempts = 5;
export const kDefaultReconnectDelayMs = 200;

export interface ConnectorExtras {
  /** Overrides the configured port (the in-process simulators' ephemeral ports). */
  port?: number;
  /** SoupBinTCP password (OUCH); default ''. */
  password?: string;
  /** FIX sequence/message store directory; default os.tmpdir()/tickpath-fix. */
  fixStoreDir?: string;
  /** FIX store fsync policy; createRouterStack passes the journal's so both keep the same promise. */
  fixStoreFsync?: 'always' | 'group' | 'never';
  fixStoreGroupCommitUs?: number;
  /** FIX store format: 'auto' (default: the mapped store where the addon is built), 'mapped' or 'files' (the pwrite store, for comparisons). */
  fixStoreKind?: 'auto' | 'mapped' | 'files';
  /** FIX: ResetSeqNumFlag=Y on every Logon (a session that starts at 1 each time). */
  resetOnLogon?: boolean;
  connectTimeoutMs?: number;
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
  log?: (line: string) => void;
  /**
   * Last venue sequence number the journal holds for this venue (0 = none): OUCH logs in from the
   * next one. FIX keeps its numbers in its store instead.
   */
  lastSeq?: number;
  /** 'auto' (default: native when the addon is built), 'native' or 'libuv'. */
  transport?: TransportChoice;
  /** Clock for the venues' session windows (tests); default Date.now. */
  now?: () => number;
  /** SO_BUSY_POLL microseconds for the native transport (0 = off; refused without privileges, reported). */
  busyPollUs?: number;
  /** Kernel TX software timestamps on the native transport's socket (default true). */
  txTimestamps?: boolean;
  /** How the session's owner idles (routing_config venues[].idle / spin_us); default block, no spin. */
  idle?: SessionIdlePolicy;
  /** native: the owner loop's wait set (NativeWaitSet), so the loop can sleep until the session has data. */
  waitSet?: { addChannel(channelId: number): void };
}

export function createVenueConnector(venue: VenueConfig, extra: ConnectorExtras = {}): VenueConnector {
  const port = extra.port ?? venue.port;
  const reconnectAttempts = extra.reconnectAttempts ?? kDefaultReconnectAttempts;
  const reconnectDelayMs = extra.reconnectDelayMs ?? kDefaultReconnectDelayMs;
  const transport = transportFactory(extra.transport ?? 'auto', { busyPollUs: extra.busyPollUs, waitSet: extra.waitSet, txTimestamps: extra.txTimestamps });
  if (venue.protocol === 'ouch') {
    return new OuchConnector({
      name: venue.name, host: venue.host, port, username: venue.senderId, password: extra.password ?? '',
      heartbeatIntervalMs: venue.heartbeatIntervalS * 1000, serverTimeoutMs: Math.max(15, venue.heartbeatIntervalS * 3) * 1000,
      connectTimeoutMs: extra.connectTimeoutMs, reconnectAttempts, reconnectDelayMs, nextSeq: (extra.lastSeq ?? 0) + 1, transport,
      window: venue.schedule, log: extra.log, now: extra.now, idle: extra.idle,
    });
  }
  return new FixConnector({
    name: venue.name, host: venue.host, port, version: venue.protocol === 'fix42' ? 'FIX.4.2' : 'FIX.4.4',
    senderCompId: venue.senderId, targetCompId: venue.targetId, heartbeatIntervalSec: Math.max(1, Math.round(venue.heartbeatIntervalS)),
    storeDir: extra.fixStoreDir, storeFsync: extra.fixStoreFsync, storeGroupCommitUs: extra.fixStoreGroupCommitUs, storeKind: extra.fixStoreKind, resetOnLogon: extra.resetOnLogon, connectTimeoutMs: extra.connectTimeoutMs,
    reconnectAttempts, reconnectDelayMs, log: extra.log, transport, window: venue.schedule, now: extra.now, idle: extra.idle,
  });
}
