/**
 * Loads and validates the `routing:` section of configs/routing_config.yml: venues (connection
 * and session ids), per-symbol routing rules, risk limits, the journal and the order table size.
 *
 * Every error names the file and line, the path inside it, the bad value and what was expected;
 * unknown keys are errors (a misspelt limit must not silently fall back to a default). Other
 * top-level sections belong to other loaders and are left alone.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LineCounter, parseDocument } from 'yaml';
import { TickpathError } from '../errors';
import type { FsyncPolicy } from './journal';
import type { RiskLimits } from './risk-checker';
import type { RouteRule, RoutingMode } from './smart-router';

export interface VenueConfig {
  name: string;
  protocol: 'ouch' | 'fix42' | 'fix44';
  host: string;
  port: number;
  senderId: string;
  targetId: string;
  heartbeatIntervalS: number;
}

export interface RoutingConfig {
  mode: RoutingMode;
  defaultVenue: string;
  orderCapacity: number;
  journal: { path: string; fsync: FsyncPolicy; groupCommitUs: number };
  venues: VenueConfig[];
  rules: Record<string, RouteRule[]>;
  risk: RiskLimits;
}

type Key = string | number;

class ConfigReader {
  private readonly doc: ReturnType<typeof parseDocument>;
  private readonly lines = new LineCounter();

  constructor(readonly file: string, text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    if (this.doc.errors.length > 0) {
      const e = this.doc.errors[0];
      throw new TickpathError('ERR_CONFIG', `${file}: YAML syntax error: ${e.message.split('\n')[0]}`);
    }
  }

  get root(): unknown {
    return this.doc.toJS();
  }

  /** "file:line" for a path, or just the file when the path is absent. */
  private at(p: Key[]): string {
    for (let n = p.length; n >= 0; n--) {
      const node = this.doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && node.range) return `${this.file}:${this.lines.linePos(node.range[0]).line}`;
    }
    return this.file;
  }

  fail(p: Key[], value: unknown, expected: string): never {
    const shown = value === undefined ? 'missing' : `is ${JSON.stringify(value)}`;
    throw new TickpathError('ERR_CONFIG', `${this.at(p)}: ${fmt(p)} ${shown}, expected ${expected}`,
      'fix the value in the routing config file');
  }

  unknownKeys(p: Key[], obj: Record<string, unknown>, allowed: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        throw new TickpathError('ERR_CONFIG',
          `${this.at([...p, k])}: ${fmt([...p, k])} is an unknown key, expected one of ${allowed.join(', ')}`,
          'remove or rename the key');
      }
    }
  }

  map(p: Key[], v: unknown): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(p, v, 'a mapping');
    return v as Record<string, unknown>;
  }

  list(p: Key[], v: unknown, min: number): unknown[] {
    if (!Array.isArray(v) || v.length < min) this.fail(p, v, `a list of at least ${min} item${min === 1 ? '' : 's'}`);
    return v as unknown[];
  }

  int(p: Key[], v: unknown, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(p, v, `an integer from ${min} to ${max}`);
    return v as number;
  }

  num(p: Key[], v: unknown, min: number, exclusiveMin = false): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (exclusiveMin && v === min)) {
      this.fail(p, v, `a number ${exclusiveMin ? '>' : '>='} ${min}`);
    }
    return v as number;
  }

  str(p: Key[], v: unknown, maxLen: number, pattern?: RegExp, patternText?: string): string {
    if (typeof v !== 'string' || v.length === 0 || v.length > maxLen || (pattern && !pattern.test(v))) {
      this.fail(p, v, `${patternText ?? 'a string'} of 1 to ${maxLen} characters`);
    }
    return v as string;
  }

  oneOf<T extends string>(p: Key[], v: unknown, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail(p, v, `one of ${values.join(', ')}`);
    return v as T;
  }

  bool(p: Key[], v: unknown): boolean {
    if (typeof v !== 'boolean') this.fail(p, v, 'true or false');
    return v as boolean;
  }
}

function fmt(p: Key[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : (s ? `.${k}` : k);
  return s;
}

const ROUTING_KEYS = ['mode', 'default_venue', 'order_capacity', 'journal', 'venues', 'rules', 'risk'] as const;
const JOURNAL_KEYS = ['path', 'fsync', 'group_commit_us'] as const;
const VENUE_KEYS = ['name', 'protocol', 'host', 'port', 'sender_id', 'target_id', 'heartbeat_interval_s'] as const;
const RULE_KEYS = ['venue', 'share', 'priority', 'active', 'fee_per_share'] as const;
const RISK_KEYS = ['max_order_qty', 'max_order_notional', 'max_daily_notional', 'max_symbol_notional',
  'max_open_orders_per_symbol', 'price_collar_bps', 'max_orders_per_second'] as const;

const NAME = /^[A-Za-z0-9_-]+$/;
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Reads and validates the file; throws TickpathError('ERR_CONFIG') naming what is wrong. */
export function loadRoutingConfig(file: string): RoutingConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TickpathError('ERR_CONFIG', `${file}: cannot read: ${(e as Error).message}`);
  }
  return parseRoutingConfig(text, file);
}

/** Validates YAML text; `file` is used in messages and to resolve a relative journal path. */
export function parseRoutingConfig(text: string, file: string): RoutingConfig {
  const r = new ConfigReader(file, text);
  const root = r.map([], r.root);
  const routing = r.map(['routing'], root.routing);
  const P = ['routing'];
  r.unknownKeys(P, routing, ROUTING_KEYS);

  const mode = r.oneOf([...P, 'mode'], routing.mode, ['rules', 'liquidity'] as const);
  const orderCapacity = r.int([...P, 'order_capacity'], routing.order_capacity, 2, 1 << 24);

  const j = r.map([...P, 'journal'], routing.journal);
  // 'batch' kept records in memory, so a killed router lost orders already on the wire: say what replaced it.
  if (j.fsync === 'batch') r.fail([...P, 'journal', 'fsync'], j.fsync, "group ('batch' was removed: use group, which puts each record in the page cache before the wire and fdatasyncs every group_commit_us)");
  if (j.batch_records !== undefined) r.fail([...P, 'journal', 'batch_records'], j.batch_records, 'no batch_records (removed with fsync: batch; group_commit_us bounds what a power loss can lose)');
  r.unknownKeys([...P, 'journal'], j, JOURNAL_KEYS);
  const fsync = r.oneOf([...P, 'journal', 'fsync'], j.fsync, ['always', 'group', 'never'] as const);
  const journalPath = r.str([...P, 'journal', 'path'], j.path, 4096);
  const groupCommitUs = j.group_commit_us === undefined ? 1000 : r.int([...P, 'journal', 'group_commit_us'], j.group_commit_us, 50, 1_000_000);

  const venues: VenueConfig[] = r.list([...P, 'venues'], routing.venues, 1).map((raw, i) => {
    const vp: Key[] = [...P, 'venues', i];
    const v = r.map(vp, raw);
    r.unknownKeys(vp, v, VENUE_KEYS);
    return {
      // 14: the journal keeps venue names in a client-order-id-sized field
      name: r.str([...vp, 'name'], v.name, 14, NAME, 'letters, digits, _ or -'),
      protocol: r.oneOf([...vp, 'protocol'], v.protocol, ['ouch', 'fix42', 'fix44'] as const),
      host: r.str([...vp, 'host'], v.host, 253, PRINTABLE, 'a host name or address'),
      port: r.int([...vp, 'port'], v.port, 1, 65535),
      senderId: r.str([...vp, 'sender_id'], v.sender_id, 32, PRINTABLE, 'printable ASCII'),
      targetId: r.str([...vp, 'target_id'], v.target_id, 32, PRINTABLE, 'printable ASCII'),
      heartbeatIntervalS: v.heartbeat_interval_s === undefined ? 30
        : r.int([...vp, 'heartbeat_interval_s'], v.heartbeat_interval_s, 1, 300),
    };
  });
  const names = venues.map((v) => v.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) r.fail([...P, 'venues', i, 'name'], n, 'a name not used by another venue');
  });
  const defaultVenue = r.oneOf([...P, 'default_venue'], routing.default_venue, names);

  const rules: Record<string, RouteRule[]> = {};
  if (routing.rules !== undefined && routing.rules !== null) {
    const rm = r.map([...P, 'rules'], routing.rules);
    for (const symbol of Object.keys(rm)) {
      const sp: Key[] = [...P, 'rules', symbol];
      if (symbol.length > 8 || !PRINTABLE.test(symbol)) r.fail(sp, symbol, 'a symbol of 1 to 8 printable characters as the key');
      rules[symbol] = r.list(sp, rm[symbol], 1).map((raw, i) => {
        const rp: Key[] = [...sp, i];
        const o = r.map(rp, raw);
        r.unknownKeys(rp, o, RULE_KEYS);
        return {
          venue: r.oneOf([...rp, 'venue'], o.venue, names),
          share: r.num([...rp, 'share'], o.share, 0, true),
          priority: r.int([...rp, 'priority'], o.priority, 0, 1000),
          active: o.active === undefined ? true : r.bool([...rp, 'active'], o.active),
          feePerShare: o.fee_per_share === undefined ? 0 : r.num([...rp, 'fee_per_share'], o.fee_per_share, -1),
        };
      });
    }
  }

  const rk = r.map([...P, 'risk'], routing.risk);
  const RP = [...P, 'risk'];
  r.unknownKeys(RP, rk, RISK_KEYS);
  const risk: RiskLimits = {
    maxOrderQty: r.int([...RP, 'max_order_qty'], rk.max_order_qty, 1, 0xffffffff),
    maxOrderNotional: r.num([...RP, 'max_order_notional'], rk.max_order_notional, 0, true),
    maxDailyNotional: r.num([...RP, 'max_daily_notional'], rk.max_daily_notional, 0, true),
    maxSymbolNotional: r.num([...RP, 'max_symbol_notional'], rk.max_symbol_notional, 0, true),
    maxOpenOrdersPerSymbol: r.int([...RP, 'max_open_orders_per_symbol'], rk.max_open_orders_per_symbol, 1, 1 << 24),
    priceCollarBps: r.int([...RP, 'price_collar_bps'], rk.price_collar_bps, 0, 10000),
    maxOrdersPerSecond: r.int([...RP, 'max_orders_per_second'], rk.max_orders_per_second, 1, 10_000_000),
  };

  return {
    mode,
    defaultVenue,
    orderCapacity,
    journal: { path: path.resolve(path.dirname(file), journalPath), fsync, groupCommitUs },
    venues,
    rules,
    risk,
  };
}
