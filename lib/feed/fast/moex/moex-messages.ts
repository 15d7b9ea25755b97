/**
 * MOEX FIX/FAST message layouts: the tape slots of the fields the book adapter reads, resolved by
 * name once from the venue's template file. One layout per template, the flyweight of the FAST path
 * (the tape is the buffer; a layout says where each field is): `d.int(base + layout.rptSeq)`.
 *
 * Roles follow the template names MOEX publishes for its ASTS markets (suffix -CURR currency, -FOND
 * equities): X-OLR order-list (order-level) incremental refresh, X-OBR order-book (price-level)
 * incremental refresh, W-OLS/W-OBS their snapshots, X-MSR/X-TLR statistics and trades, d security
 * definition, f security status, h trading session status, 0 heartbeat. A field a template does not
 * define has slot -1. Built at start-up; read-only after.
 */
import { FastGroup, FastTemplate, FastTemplateRegistry, kFastSequence } from '../fast-templates';

export const kMoexRoleNone = 0;
export const kMoexRoleOrdersIncremental = 1;
export const kMoexRoleLevelsIncremental = 2;
export const kMoexRoleOrdersSnapshot = 3;
export const kMoexRoleLevelsSnapshot = 4;
export const kMoexRoleHeartbeat = 5;
export const kMoexRoleOther = 6;
/** X-TLR: trades (TRADE events and the book's last trade; not RptSeq-gated: they do not change the book). */
export const kMoexRoleTrades = 7;
/** f: security status (STATUS events with the instrument's trading state). */
export const kMoexRoleSecurityStatus = 8;

/** MDUpdateAction (279). */
export const kMoexActionNew = 0;
export const kMoexActionChange = 1;
export const kMoexActionDelete = 2;

/** MDEntryType (269) bytes the books use. */
export const kMoexEntryBid = 0x30; // '0'
export const kMoexEntryOffer = 0x31; // '1'
export const kMoexEntryEmptyBook = 0x4a; // 'J'

function slot(g: FastGroup, name: string): number {
  const f = g.field(name);
  return f === undefined ? -1 : f.slot;
}

/** MDEntries fields, slots within one element block. */
export class MoexEntryLayout {
  readonly mdUpdateAction: number;
  readonly mdEntryType: number;
  readonly mdEntryId: number;
  readonly symbol: number;
  readonly rptSeq: number;
  readonly mdEntryPx: number;
  readonly mdEntrySize: number;
  readonly tradingSessionId: number;
  readonly mdEntryTime: number;
  /** OrderSide (10504) of a trade: '1' buy, '2' sell (the aggressor). */
  readonly orderSide: number;
  constructor(g: FastGroup) {
    this.mdUpdateAction = slot(g, 'MDUpdateAction');
    this.mdEntryType = slot(g, 'MDEntryType');
    this.mdEntryId = slot(g, 'MDEntryID');
    this.symbol = slot(g, 'Symbol');
    this.rptSeq = slot(g, 'RptSeq');
    this.mdEntryPx = slot(g, 'MDEntryPx');
    this.mdEntrySize = slot(g, 'MDEntrySize');
    this.tradingSessionId = slot(g, 'TradingSessionID');
    this.mdEntryTime = slot(g, 'MDEntryTime');
    this.orderSide = slot(g, 'OrderSide');
  }
}

/** One template's layout: header fields at block 0, the MDEntries sequence and its element layout. */
export class MoexLayout {
  readonly templateId: number;
  readonly name: string;
  readonly role: number;
  readonly msgSeqNum: number;
  readonly sendingTime: number;
  readonly symbol: number;
  readonly tradingSessionId: number;
  readonly rptSeq: number;
  readonly lastMsgSeqNumProcessed: number;
  readonly lastFragment: number;
  readonly routeFirst: number;
  /** SecurityTradingStatus (326) of a security status message. */
  readonly securityTradingStatus: number;
  /** Slot of the MDEntries sequence (GroupMDEntries in MOEX's files), -1 if none. */
  readonly entries: number;
  readonly entry: MoexEntryLayout | undefined;

  constructor(t: FastTemplate, role: number) {
    const b = t.body;
    this.templateId = t.id;
    this.name = t.name;
    this.role = role;
    this.msgSeqNum = slot(b, 'MsgSeqNum');
    this.sendingTime = slot(b, 'SendingTime');
    this.symbol = slot(b, 'Symbol');
    this.tradingSessionId = slot(b, 'TradingSessionID');
    this.rptSeq = slot(b, 'RptSeq');
    this.lastMsgSeqNumProcessed = slot(b, 'LastMsgSeqNumProcessed');
    this.lastFragment = slot(b, 'LastFragment');
    this.routeFirst = slot(b, 'RouteFirst');
    this.securityTradingStatus = slot(b, 'SecurityTradingStatus');
    const seq = b.instructions.find((i) => i.kind === kFastSequence && (i.name === 'GroupMDEntries' || i.name === 'MDEntries'));
    this.entries = seq === undefined ? -1 : seq.slot;
    this.entry = seq === undefined ? undefined : new MoexEntryLayout(seq.group!);
  }
}

export function moexRoleOf(name: string): number {
  if (/^X-OLR(-|$)/.test(name)) return kMoexRoleOrdersIncremental;
  if (/^X-OBR(-|$)/.test(name)) return kMoexRoleLevelsIncremental;
  if (/^W-OLS(-|$)/.test(name)) return kMoexRoleOrdersSnapshot;
  if (/^W-OBS(-|$)/.test(name)) return kMoexRoleLevelsSnapshot;
  if (/^X-TLR(-|$)/.test(name)) return kMoexRoleTrades;
  if (name === 'f') return kMoexRoleSecurityStatus;
  if (name === '0') return kMoexRoleHeartbeat;
  return kMoexRoleOther;
}

/**
 * Layouts of every template of a MOEX file, by template id. `market` ('CURR' or 'FOND') keeps only
 * that market's book templates (both markets' templates share one file and one numbering).
 */
export class MoexLayouts {
  readonly byId: (MoexLayout | undefined)[] = [];
  constructor(readonly registry: FastTemplateRegistry, market: 'CURR' | 'FOND' | 'ANY' = 'ANY') {
    for (const t of registry.byId.values()) {
      let role = moexRoleOf(t.name);
      const perMarket = (role >= kMoexRoleOrdersIncremental && role <= kMoexRoleLevelsSnapshot) || role === kMoexRoleTrades;
      if (perMarket && market !== 'ANY' && !t.name.endsWith(`-${market}`)) role = kMoexRoleOther;
      const layout = new MoexLayout(t, role);
      if (t.id <= 0xffff) {
        while (this.byId.length <= t.id) this.byId.push(undefined);
        this.byId[t.id] = layout;
      }
    }
  }

  layout(templateId: number): MoexLayout | undefined {
    return templateId < this.byId.length ? this.byId[templateId] : undefined;
  }

  /** The layout of a template by name, throwing when the file has none (start-up wiring, tests). */
  named(name: string): MoexLayout {
    const t = this.registry.templateNamed(name);
    return this.layout(t.id)!;
  }
}
