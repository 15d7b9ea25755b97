/**
 * Loads and validates the `routing:` section of configs/routing_config.yml: venues (connection
 * and session ids), per-symbol routing rules, risk limits, the journal and the order table size.
 *
 * Read with lib/config's ConfigReader, like the feed and performance configs: every error names
 * the file and line, the path inside it, the bad value, what was expected and the fix; unknown keys
 * are errors (a misspelt limit must not silently fall back to a default). Other top-level sections
 * belong to other loaders and are left alone.
 */
import { kSessionIdleNames, type SessionIdleName } from '../protocols/transport/session-waiter';
import * as path from 'path';
import { ConfigReader, type Key } from '../config/config-reader';
import type { FsyncPolicy } from './journal';
import type { RiskLimits } from './risk-checker';
import type { RouteRule, RoutingMode } from './smart-router';
import { SessionWindow, kWeekdays, type SessionWindowOptions } from '../protocols/session-schedule';

export interface VenueConfig {
  name: string;
  protocol: 'ouch' | 'fix42' | 'fix44';
  host: string;
  port: number;
  senderId: string;
  targetId: string;
  heartbeatIntervalS: number;
  /** The venue's session window (`schedule:`); none: always open. */
  schedule?: SessionWindowOptions;
  /**
   * Session transport: 'auto' (native when the addon is built), 'native' (the addon's TCP channel,
   * polled by the router's loop; an error without the addon) or 'libuv' (net.Socket, the fallback).
   */
  transport?: 'auto' | 'native' | 'libuv';
  /** SO_BUSY_POLL microseconds on the session's socket (native only; 0 = off). */
  busyPollUs?: number;
  /**
   * Kernel TX software timestamps on the session's socket (native only; default true): each order's
   * order_wire / md_to_wire end where the driver took its bytes (lib/pipeline/stages/tx-stamps.ts).
   */
  txTimestamps?: boolean;
  /**
   * How the session's owner idles when a turn found nothing (native only; session-waiter.ts):
   * 'block' (default: sleep in epoll after spin_us without work) or 'spin' (never sleeps).
   */
  idle?: SessionIdleName;
  /** block: keep spinning this long after the session's last message (µs; default 0). */
  spinUs?: number;
}

export interface RoutingConfig {
  mode: RoutingMode;
  defaultVenue: string;
  orderCapacity: number;
  /** ringRecords: the journal's shared-memory ring (OrderJournal's option); undefined: its default. */
  journal: { path: string; fsync: FsyncPolicy; groupCommitUs: number; ringRecords?: number };
  venues: VenueConfig[];
  rules: Record<string, RouteRule[]>;
  risk: RiskLimits;
  /** Hot standby (lib/router/failover.ts): where the standby listens, heartbeat period and timeout. */
  failover?: FailoverConfig;
}

export interface FailoverConfig {
  /** The standby's listen address: the primary streams its journal and heartbeats there. */
  standbyHost: string;
  standbyPort: number;
  heartbeatIntervalMs: number;
  /** Heartbeats missed this long: the standby takes over. */
  heartbeatTimeoutMs: number;
}

const ROUTING_KEYS = ['mode', 'default_venue', 'order_capacity', 'journal', 'venues', 'rules', 'risk', 'failover'] as const;
const FAILOVER_KEYS = ['standby', 'heartbeat_interval_ms', 'heartbeat_timeout_ms'] as const;
const JOURNAL_KEYS = ['path', 'fsync', 'group_commit_us', 'ring_records'] as const;
const SCHEDULE_KEYS = ['start', 'end', 'days', 'time_zone'] as const;
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/;
const VENUE_KEYS = ['name', 'protocol', 'host', 'port', 'sender_id', 'target_id', 'heartbeat_interval_s', 'schedule', 'transport', 'busy_poll_us', 'idle', 'spin_us', 'tx_timestamps'] as const;
const RULE_KEYS = ['venue', 'share', 'priority', 'active', 'fee_per_share'] as const;
const RISK_KEYS = ['max_order_qty', 'max_order_notional', 'max_daily_notional', 'max_symbol_notional',
  'max_open_orders_per_symbol', 'price_collar_bps', 'max_orders_per_second'] as const;

const NAME = /^[A-Za-z0-9_-]+$/;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Reads and validates the file; throws a ConfigError (a TickpathError, ERR_CONFIG_*) naming the first problem. */
export function loadRoutingConfig(file: string): RoutingConfig {
  const r = ConfigReader.read(file);
  const config = routingConfigFrom(r);
  r.throwIfProblems();
  return config;
}

/** Validates YAML text; `file` is used in messages and to resolve a relative journal path. */
export function parseRoutingConfig(text: string, file: string): RoutingConfig {
  const r = ConfigReader.parse(text, file);
  const config = routingConfigFrom(r);
  r.throwIfProblems();
  return config;
}

/** A venue's `schedule:` (session window), every problem recorded with its line. */
function scheduleFrom(r: ConfigReader, sp: Key[], raw: unknown): SessionWindowOptions {
  const o = r.object(sp, raw, SCHEDULE_KEYS);
  const tod = (k: 'start' | 'end'): string => {
    const v = o[k];
    if (typeof v !== 'string' || !TIME_OF_DAY.test(v)) {
      r.problem([...sp, k], v, "a time of day 'HH:MM' or 'HH:MM:SS' (quoted)", k === 'start' ? 'e.g. start: "09:30"' : 'e.g. end: "16:00"');
      return '00:00';
    }
    return v;
  };
  const start = tod('start');
  const end = tod('end');
  let days: string[] | undefined;
  if (o.days !== undefined) {
    days = r.list([...sp, 'days'], o.days, 1, 7, 'weekdays').map((d, i) => r.oneOf([...sp, 'days', i], d, kWeekdays));
  }
  const timeZone = o.time_zone === undefined ? undefined : r.string([...sp, 'time_zone'], o.time_zone, "'UTC', an offset like '-05:00' or an IANA zone", 64);
  const w: SessionWindowOptions = { start, end, ...(days ? { days } : {}), ...(timeZone !== undefined ? { timeZone } : {}) };
  if (timeZone !== undefined && !r.failed([...sp, 'time_zone'])) {
    try { new SessionWindow(w); } catch {
      r.problem([...sp, 'time_zone'], timeZone, "'UTC', an offset like '-05:00' or an IANA zone name like 'America/New_York'");
    }
  }
  return w;
}

// Shares of one symbol are fractions of its orders: a sum off by more than this is a typo.
const kShareTolerance = 1e-6;

/** Reads the routing section from `r`, recording every problem in `r.problems` (usable only when there are none). */
export function routingConfigFrom(r: ConfigReader): RoutingConfig {
  // Other top-level sections belong to other loaders.
  const top = r.object([], r.root ?? {}, 'a mapping with a routing section');
  const P: Key[] = ['routing'];
  const routing = r.object(P, top.routing, ROUTING_KEYS);

  const mode = r.oneOf([...P, 'mode'], routing.mode, ['rules', 'liquidity'] as const);
  const orderCapacity = r.int([...P, 'order_capacity'], routing.order_capacity, 2, 1 << 24);

  const j = r.object([...P, 'journal'], routing.journal, [...JOURNAL_KEYS, 'batch_records']);
  // 'batch' kept records in memory, so a killed router lost orders already on the wire: say what replaced it.
  if (j.fsync === 'batch') {
    r.problem([...P, 'journal', 'fsync'], j.fsync, "one of always, group, never ('batch' was removed)",
      'use group: each record is in the page cache before the wire, and a commit thread fdatasyncs every group_commit_us');
  }
  if (j.batch_records !== undefined) {
    r.problem([...P, 'journal', 'batch_records'], j.batch_records, 'no batch_records (removed with fsync: batch)',
      'remove it; group_commit_us bounds what a power loss can lose');
  }
  const fsync = j.fsync === 'batch' ? 'group' : r.oneOf([...P, 'journal', 'fsync'], j.fsync, ['always', 'group', 'never'] as const);
  const journalPath = r.string([...P, 'journal', 'path'], j.path, 'a file path of 1 to 4096 characters', 4096);
  const groupCommitUs = r.int([...P, 'journal', 'group_commit_us'], j.group_commit_us, 50, 1_000_000, 1000);
  let ringRecords: number | undefined;
  if (j.ring_records !== undefined && j.ring_records !== null) {
    const v = j.ring_records;
    if (typeof v !== 'number' || !Number.isInteger(v) || (v !== 0 && (v < 16 || v > 1 << 22 || (v & (v - 1)) !== 0))) {
      r.problem([...P, 'journal', 'ring_records'], v, '0 or a power of two from 16 to 4194304',
        'records of the journal\'s shared-memory ring in /dev/shm (default 16384); 0 writes straight into the journal file');
    } else {
      ringRecords = v;
    }
  }

  const venues: VenueConfig[] = r.list([...P, 'venues'], routing.venues, 1, 1 << 30, 'venues').map((raw, i) => {
    const vp: Key[] = [...P, 'venues', i];
    const v = r.object(vp, raw, VENUE_KEYS);
    return {
      // 14: the journal keeps venue names in a client-order-id-sized field
      name: r.string([...vp, 'name'], v.name, 'letters, digits, _ or - of 1 to 14 characters', 14, NAME),
      protocol: r.oneOf([...vp, 'protocol'], v.protocol, ['ouch', 'fix42', 'fix44'] as const),
      host: r.string([...vp, 'host'], v.host, 'a host name or address of 1 to 253 characters', 253, PRINTABLE),
      port: r.int([...vp, 'port'], v.port, 1, 65535),
      senderId: r.string([...vp, 'sender_id'], v.sender_id, 'printable ASCII of 1 to 32 characters', 32, PRINTABLE),
      targetId: r.string([...vp, 'target_id'], v.target_id, 'printable ASCII of 1 to 32 characters', 32, PRINTABLE),
      heartbeatIntervalS: r.int([...vp, 'heartbeat_interval_s'], v.heartbeat_interval_s, 1, 300, 30),
      ...(v.schedule === undefined || v.schedule === null ? {} : { schedule: scheduleFrom(r, [...vp, 'schedule'], v.schedule) }),
      transport: r.oneOf([...vp, 'transport'], v.transport, ['auto', 'native', 'libuv'] as const, 'auto'),
      busyPollUs: r.int([...vp, 'busy_poll_us'], v.busy_poll_us, 0, 1_000_000, 0),
      txTimestamps: r.bool([...vp, 'tx_timestamps'], v.tx_timestamps, true),
      idle: r.oneOf([...vp, 'idle'], v.idle, kSessionIdleNames, 'block'),
      spinUs: r.int([...vp, 'spin_us'], v.spin_us, 0, 1_000_000, 0),
    };
  });
  const names = venues.map((v) => v.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i && !r.failed([...P, 'venues', i])) {
      r.problem([...P, 'venues', i, 'name'], n, 'a name not used by another venue', 'give each venue its own name');
    }
  });
  // Rules and the default venue are checked against the names when every name could be read.
  const venuesKnown = venues.length > 0 && venues.every((_, i) => !r.failed([...P, 'venues', i, 'name']));
  const venueNames = venuesKnown ? names : [];
  const venueFix = `name one of the venues under routing.venues (${names.join(', ')}), or add the venue there`;
  const defaultVenue = venuesKnown
    ? r.oneOf([...P, 'default_venue'], routing.default_venue, venueNames, undefined, venueFix)
    : String(routing.default_venue);

  const rules: Record<string, RouteRule[]> = {};
  if (routing.rules !== undefined && routing.rules !== null) {
    const rm = r.object([...P, 'rules'], routing.rules, 'a mapping from symbol to a list of rules');
    for (const symbol of Object.keys(rm)) {
      const sp: Key[] = [...P, 'rules', symbol];
      if (symbol.length > 8 || !PRINTABLE.test(symbol)) r.problem(sp, symbol, 'a symbol of 1 to 8 printable characters as the key');
      rules[symbol] = r.list(sp, rm[symbol], 1, 1 << 30, 'rules').map((raw, i) => {
        const rp: Key[] = [...sp, i];
        const o = r.object(rp, raw, RULE_KEYS);
        return {
          venue: venuesKnown ? r.oneOf([...rp, 'venue'], o.venue, venueNames, undefined, venueFix) : String(o.venue),
          share: r.number([...rp, 'share'], o.share, 0, true),
          priority: r.int([...rp, 'priority'], o.priority, 0, 1000),
          active: r.bool([...rp, 'active'], o.active, true),
          feePerShare: r.number([...rp, 'fee_per_share'], o.fee_per_share, -1, false, 0),
        };
      });
      // Inactive rules count too: the shares are the plan, and at run time the router divides an
      // order among the venues it can use.
      const total = rules[symbol].reduce((sum, rule) => sum + rule.share, 0);
      const sharesRead = Array.isArray(rm[symbol]) && rules[symbol].every((_, i) => !r.failed([...sp, i, 'share']));
      if (sharesRead && Math.abs(total - 1) > kShareTolerance) {
        r.problem(sp, rules[symbol].map((rule) => rule.share),
          `shares that add up to 1 (these add up to ${Number(total.toFixed(9))})`,
          `make the shares of ${symbol}'s rules add up to 1`);
      }
    }
  }

  const RP: Key[] = [...P, 'risk'];
  const rk = r.object(RP, routing.risk, RISK_KEYS);
  const risk: RiskLimits = {
    maxOrderQty: r.int([...RP, 'max_order_qty'], rk.max_order_qty, 1, 0xffffffff),
    maxOrderNotional: r.number([...RP, 'max_order_notional'], rk.max_order_notional, 0, true),
    maxDailyNotional: r.number([...RP, 'max_daily_notional'], rk.max_daily_notional, 0, true),
    maxSymbolNotional: r.number([...RP, 'max_symbol_notional'], rk.max_symbol_notional, 0, true),
    maxOpenOrdersPerSymbol: r.int([...RP, 'max_open_orders_per_symbol'], rk.max_open_orders_per_symbol, 1, 1 << 24),
    priceCollarBps: r.int([...RP, 'price_collar_bps'], rk.price_collar_bps, 0, 10000),
    maxOrdersPerSecond: r.int([...RP, 'max_orders_per_second'], rk.max_orders_per_second, 1, 10_000_000),
  };

  let failover: FailoverConfig | undefined;
  if (routing.failover !== undefined && routing.failover !== null) {
    const FP: Key[] = [...P, 'failover'];
    const f = r.object(FP, routing.failover, FAILOVER_KEYS);
    const addr = r.string([...FP, 'standby'], f.standby, 'HOST:PORT of the standby (an IPv4 address or host name, a port from 1 to 65535)', 260,
      /^[A-Za-z0-9.-]+:\d{1,5}$/);
    const colon = addr.lastIndexOf(':');
    const standbyPort = Number(addr.slice(colon + 1));
    if (!r.failed([...FP, 'standby']) && !(standbyPort >= 1 && standbyPort <= 65535)) {
      r.problem([...FP, 'standby'], f.standby, 'HOST:PORT with a port from 1 to 65535', 'give the address the standby listens on (tickpath run --standby HOST:PORT)');
    }
    const heartbeatIntervalMs = r.int([...FP, 'heartbeat_interval_ms'], f.heartbeat_interval_ms, 1, 10_000, 20);
    const heartbeatTimeoutMs = r.int([...FP, 'heartbeat_timeout_ms'], f.heartbeat_timeout_ms, 5, 60_000, 100);
    if (heartbeatTimeoutMs < 2 * heartbeatIntervalMs) {
      r.problem([...FP, 'heartbeat_timeout_ms'], heartbeatTimeoutMs, `at least twice heartbeat_interval_ms (${heartbeatIntervalMs})`,
        'one late heartbeat must not start a takeover: raise the timeout or shorten the interval');
    }
    // FIX venues too: the standby receives the order journal only, not the FIX message store, and
    // rebuilds each FIX session from the sequence numbers the journal records (router-stack.ts
    // adoptTakeoverSessions).
    failover = { standbyHost: addr.slice(0, colon), standbyPort, heartbeatIntervalMs, heartbeatTimeoutMs };
  }

  return {
    ...(failover ? { failover } : {}),
    mode,
    defaultVenue,
    orderCapacity,
    journal: { path: path.resolve(path.dirname(r.file), journalPath), fsync, groupCommitUs, ...(ringRecords !== undefined ? { ringRecords } : {}) },
    venues,
    rules,
    risk,
  };
}
