/**
 * Diagnosis only (`TICKPATH_ORDER_STEPS=1`, off by default): the same fine stamps on the real
 * order and on the keep-warm dry runs (shadow route), so each step of one can be set beside the
 * same step of the other. Every 100 real orders it prints each step's p50 per kind (real-ouch,
 * dry-ouch, dry-fix44, ...) to stderr, and how long after the last dry run the real order came.
 *
 * Why: a real order's risk/journal/encode cost ~10x the same steps of a dry run a moment before
 * (docs/ARCHITECTURE.md, "order path: dry run vs real, per step"). OrderPathProbe's four splits
 * cannot say which step; these stamps can. They cost a clock read per step and a closure call per
 * wrapped method, on both kinds alike, so the table compares like with like, but the absolute
 * figures include them: do not use it for the measured table.
 *
 * Steps (each from the stamp before it): submit>checkNew (validation, symbol lookup), checkNew,
 * route (SmartRouter), createParent, createChild (order table), >append, j.begin, j.fields, j.end
 * (the journal record), append>sendNew (accepted, the child handed to its connector), encode
 * (OUCH Enter Order / FIX NewOrderSingle: to the encoder's or FixSession.sendApp's return),
 * encode>send (framing, the session's send, the transport up to send(2) or the discarding send),
 * syscall (send(2), or the dry run's discarding send).
 *
 * Threading contract: built and run on the router's worker only (module state is that worker's).
 */
import * as fs from 'fs';
import type { Clock } from '../../common/clock';

const NAMES = ['submit>checkNew', 'checkNew', 'route', 'createParent', 'createChild', '>append', 'j.begin', 'j.fields', 'j.end',
  'append>sendNew', 'encode', 'encode>send', 'syscall'];
const N = NAMES.length + 1;
const ROWS = 4096;

interface Table { readonly label: string; readonly rows: Float64Array; n: number }

/** The stamps of the order being submitted (null: none), shared by every wrapper on this worker. */
let cur: Float64Array | null = null;
const wrapped = new WeakSet<object>();
const tables = new Map<string, Table>();
let lastDryEnd = 0;
let realOrders = 0;
const gaps: number[] = [];

function table(label: string): Table {
  let t = tables.get(label);
  if (t === undefined) { t = { label, rows: new Float64Array(ROWS * N), n: 0 }; tables.set(label, t); }
  return t;
}

/** Wraps one router's collaborators (and the router's submitOrder); see the file comment. */
export class OrderStepProbe {
  private readonly t = new Float64Array(N);

  /** `router`: an OrderRouter (its private fields are read by name: diagnosis only). */
  constructor(private readonly kind: 'real' | 'dry', router: unknown, clock: Clock, tcp?: object, discardSend?: object) {
    const t = this.t;
    const r = router as Record<string, any>;
    const wrap = (obj: any, name: string, pre: number, post: number): void => {
      if (obj == null || typeof obj[name] !== 'function') { fs.writeSync(2, `order steps: no ${name} to stamp\n`); return; }
      const f = obj[name];
      obj[name] = function (...a: unknown[]) {
        const s = cur;
        if (s !== null && pre >= 0 && s[pre] === 0) s[pre] = clock.nowNs();
        const v = f.apply(obj, a);
        if (s !== null && post >= 0 && s[post] === 0) s[post] = clock.nowNs();
        return v;
      };
    };
    const wrapJournal = (j: object): void => {
      if (wrapped.has(j)) return;
      wrapped.add(j);
      wrap(j, 'appendOrder', 6, -1); wrap(j, 'begin', -1, 7); wrap(j, 'end', 8, 9);
    };
    wrap(r.risk, 'checkNew', 1, 2);
    wrap(r.sor, 'route', -1, 3);
    wrap(r.om, 'createParentKey', -1, 4);
    wrap(r.om, 'createSentChildKey', -1, 5);
    wrapJournal(r.journal);
    for (const c of r.connectors as any[]) {
      wrap(c, 'sendNew', 10, -1);
      if (c.enter !== undefined) wrap(c.enter, 'encode', -1, 11);
      else if (c.session !== undefined) wrap(c.session, 'sendApp', -1, 11);
    }
    // The addon's exports are one object per worker: wrapped once, whoever asks.
    if (tcp !== undefined && !wrapped.has(tcp)) { wrapped.add(tcp); wrap(tcp, 'tcpSend', 12, 13); }
    if (discardSend !== undefined) wrap(discardSend, 'send', 12, 13);
    const submit = r.submitOrder;
    const self = this;
    r.submitOrder = function (req: unknown) {
      wrapJournal(r.journal);              // the dry runs' scratch journal is replaced at each rotation
      t.fill(0);
      cur = t;
      const t0 = clock.nowNs();
      t[0] = t0;
      if (self.kind === 'real' && lastDryEnd !== 0) gaps.push(t0 - lastDryEnd);
      try { return submit.call(r, req); } finally {
        cur = null;
        const conn = r.connectors[r.om.venueOf(r.childSlots[0])];
        self.record(`${self.kind}-${conn !== undefined ? conn.protocol : '?'}`);
        if (self.kind === 'dry') lastDryEnd = clock.nowNs();
      }
    };
  }

  private record(label: string): void {
    const t = this.t;
    const tb = table(label);
    const row = (tb.n % ROWS) * N;
    for (let i = 1; i < N; i++) {
      let k = i - 1;
      while (k > 0 && t[k] === 0) k--;
      tb.rows[row + i - 1] = t[i] !== 0 ? t[i] - t[k] : NaN;
    }
    tb.n++;
    if (this.kind === 'real' && ++realOrders % 100 === 0) printOrderSteps();
  }
}

/** The middle value of `v` (sorted in place), NaN when empty: the step tables' p50 (decide-steps.ts too). */
export function median(v: number[]): number { v.sort((a, b) => a - b); return v.length !== 0 ? v[v.length >> 1] : NaN; }
const us = (ns: number): string => (ns / 1000).toFixed(2);

/** Each kind's p50 per step in ns (NaN: not reached), in step order; the names are ORDER_STEP_NAMES. */
export function orderStepMedians(): Map<string, { orders: number; p50Ns: number[] }> {
  const out = new Map<string, { orders: number; p50Ns: number[] }>();
  for (const tb of tables.values()) {
    const p50Ns: number[] = [];
    for (let i = 0; i < N - 1; i++) {
      const v: number[] = [];
      for (let r = 0, m = Math.min(tb.n, ROWS); r < m; r++) { const x = tb.rows[r * N + i]; if (!Number.isNaN(x)) v.push(x); }
      p50Ns.push(median(v));
    }
    out.set(tb.label, { orders: tb.n, p50Ns });
  }
  return out;
}

export const ORDER_STEP_NAMES: readonly string[] = NAMES;

/** The table so far, to stderr. */
export function printOrderSteps(): void {
  const all = [...tables.values()];
  const lines = [`order steps, p50 us: ${'step'.padEnd(16)} ${all.map((t) => `${t.label}(${t.n})`.padStart(18)).join('')}`];
  for (let i = 0; i < N - 1; i++) {
    const cells = all.map((tb) => {
      const v: number[] = [];
      for (let r = 0, m = Math.min(tb.n, ROWS); r < m; r++) { const x = tb.rows[r * N + i]; if (!Number.isNaN(x)) v.push(x); }
      return (v.length !== 0 ? us(median(v)) : "-").padStart(18);
    });
    lines.push(`order steps, p50 us: ${NAMES[i].padEnd(16)} ${cells.join('')}`);
  }
  const totals = all.map((tb) => {
    const v: number[] = [];
    for (let r = 0, m = Math.min(tb.n, ROWS); r < m; r++) {
      let s = 0;
      for (let i = 0; i < N - 2; i++) { const x = tb.rows[r * N + i]; if (!Number.isNaN(x)) s += x; }
      v.push(s);
    }
    return us(median(v)).padStart(18);
  });
  lines.push(`order steps, p50 us: ${'to send(2)'.padEnd(16)} ${totals.join('')}`);
  if (gaps.length !== 0) {
    const g = gaps.slice().sort((a, b) => a - b);
    lines.push(`order steps: a real order came p50 ${us(g[g.length >> 1])} us (p10 ${us(g[(g.length * 0.1) | 0])}, p90 ${us(g[(g.length * 0.9) | 0])}) after the last dry run ended`);
  }
  fs.writeSync(2, lines.join('\n') + '\n');
}
