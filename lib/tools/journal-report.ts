/**
 * `tickpath journal FILE`: what an order journal holds, for an operator in a drill. One JSON object
 * per order (the last snapshot of each id: venue, kind, id, parent, side, symbol, qty, price,
 * filled, cancelled, state), then a summary with counts per state, positions, the venue sequence
 * numbers and every damaged slot by byte offset and cause.
 *
 * Reads the file with the journal's own recovery (OrderJournal.recover), so it sees exactly what a
 * restarted router would; it never opens the journal for writing and needs no native addon.
 * Not a hot path.
 */
import { OrderJournal, type JournalRecovery } from '../router/journal';
import { ORDER_STATE_NAMES, OrderState, isTerminal } from '../router/types';

export interface JournalOrderLine {
  event: 'order';
  venue: string;
  kind: 'parent' | 'child';
  clOrdId: string;
  parent: string;
  side: string;
  symbol: string;
  qty: number;
  price: number;
  filled: number;
  cancelled: number;
  state: string;
  /** Why it ended, when the journal says: e.g. DONE_FOR_DAY (the venue's session ended with it open). */
  reason?: string;
}

export interface JournalSummary {
  event: 'summary';
  path: string;
  identity: string;
  records: number;
  parents: number;
  children: number;
  states: Record<string, number>;
  positions: Record<string, number>;
  venue_seqs: Record<string, number>;
  /** Our next outbound sequence number last recorded per venue (FIX MsgSeqNum; a hot standby logs on above it). */
  venue_out_seqs: Record<string, number>;
  /** The venue session last recorded per venue (SoupBinTCP session name, FIX session start). */
  venue_sessions: Record<string, string>;
  /** Orders settled as done for day because their venue session ended (children and parents). */
  done_for_day: number;
  rejected_requests: number;
  damaged: { offset: number; cause: string }[];
  torn_records: number;
  /** Records only the shared-memory ring of a killed router held (the file lacked them). */
  from_ring: number;
  /** Hot standby: the highest failover epoch journaled (0: never part of a failover). */
  failover_epoch: number;
}

/**
 * A live parent's journal record keeps the state it was created in until it ends (acks and fills
 * are journaled on its children), so its state is read from its children: the most advanced
 * live child's state, SENT while none was answered.
 */
export function parentStates(r: JournalRecovery): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of r.orders.values()) {
    if (o.kind !== 'child' || o.parentId === '' || o.state === OrderState.REPLACED) continue;
    const p = r.orders.get(o.parentId);
    if (!p || isTerminal(p.state)) continue;
    const prev = out.get(o.parentId);
    const rank = (s: number): number => (s === OrderState.PARTIALLY_FILLED ? 4 : s === OrderState.ACKNOWLEDGED ? 3
      : s === OrderState.PENDING_CANCEL || s === OrderState.PENDING_REPLACE ? 2 : s === OrderState.SENT ? 1 : 0);
    if (prev === undefined || rank(o.state) > rank(prev)) out.set(o.parentId, o.state);
  }
  return out;
}

export function stateName(state: number): string {
  return ORDER_STATE_NAMES[state] ?? `STATE_${state}`;
}

/** The order lines and summary of a recovered journal. */
export function journalReport(path: string, r: JournalRecovery): { orders: JournalOrderLine[]; summary: JournalSummary } {
  const orders: JournalOrderLine[] = [];
  const states: Record<string, number> = {};
  let parents = 0;
  let children = 0;
  let doneForDay = 0;
  const live = parentStates(r);
  for (const o of r.orders.values()) {
    const state = stateName(o.kind === 'parent' ? (live.get(o.clOrdId) ?? o.state) : o.state);
    if (o.kind === 'parent') parents++; else children++;
    states[state] = (states[state] ?? 0) + 1;
    const line: JournalOrderLine = {
      event: 'order', venue: o.venue < 0 ? '' : (r.venueNames.get(o.venue) ?? String(o.venue)), kind: o.kind, clOrdId: o.clOrdId,
      parent: o.parentId, side: o.side, symbol: o.symbol, qty: o.qty, price: o.price, filled: o.filled, cancelled: o.cancelled, state,
    };
    if (o.reason !== '' && isTerminal(o.state)) line.reason = o.reason;
    if (o.reason === 'DONE_FOR_DAY') doneForDay++;
    orders.push(line);
  }
  return {
    orders,
    summary: {
      event: 'summary', path, identity: r.identity, records: r.records, parents, children, states,
      positions: Object.fromEntries(r.positions), venue_seqs: Object.fromEntries(r.venueSeqs),
      venue_out_seqs: Object.fromEntries(r.venueOutSeqs),
      venue_sessions: Object.fromEntries(r.venueSessions), done_for_day: doneForDay,
      rejected_requests: r.rejectedRequests, damaged: r.damaged.map((d) => ({ offset: d.offset, cause: d.cause })),
      torn_records: r.tornRecords, from_ring: r.fromRing, failover_epoch: r.epoch,
    },
  };
}

/** Reads `path` and writes the report, one JSON line each; returns the summary. */
export function printJournal(path: string, write: (line: string) => void): JournalSummary {
  const { orders, summary } = journalReport(path, OrderJournal.recover(path));
  for (const o of orders) write(JSON.stringify(o));
  write(JSON.stringify(summary));
  return summary;
}
