/**
 * A deliberately plain FAST decoder for cross-checking the production one: written separately from
 * lib/feed/fast (its own regex XML walk, its own stop-bit readers), allocating freely, covering what
 * MOEX's templates use (uInt32/int32/uInt64/decimal/string, none/constant/copy/default, sequences) with
 * a fresh dictionary per datagram. Values come out as plain objects; uInt64 as bigint.
 */
import * as fs from 'fs';

interface Field { tag: string; name: string; optional: boolean; op: string; value?: string; children?: Field[] }

function parseTemplates(xml: string): Map<number, { name: string; fields: Field[] }> {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '');
  const re = /<(\/?)([\w:]+)([^>]*?)(\/?)>/g;
  const attrs = (s: string): Record<string, string> => Object.fromEntries([...s.matchAll(/([\w:]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const out = new Map<number, { name: string; fields: Field[] }>();
  const stack: Field[][] = [];
  const owners: (Field | { id: number; name: string })[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const [, close, tag, a, self] = m;
    const at = attrs(a);
    if (close) {
      if (tag === 'template' || tag === 'sequence') {
        const fields = stack.pop()!;
        const owner = owners.pop()!;
        if ('id' in owner) out.set(owner.id, { name: owner.name, fields });
        else owner.children = fields;
      }
      continue;
    }
    if (tag === 'templates' || tag === 'length') continue;
    if (tag === 'template') { stack.push([]); owners.push({ id: Number(at.id), name: at.name }); continue; }
    if (['constant', 'copy', 'default', 'delta', 'increment', 'tail'].includes(tag)) {
      const f = stack[stack.length - 1][stack[stack.length - 1].length - 1];
      f.op = tag; f.value = at.value;
      continue;
    }
    const f: Field = { tag, name: at.name, optional: at.presence === 'optional', op: 'none' };
    stack[stack.length - 1].push(f);
    if (tag === 'sequence' && !self) { stack.push([]); owners.push(f); }
  }
  return out;
}

export class PlainFastReference {
  private readonly templates: Map<number, { name: string; fields: Field[] }>;
  private b: Uint8Array = new Uint8Array(0);
  private p = 0;
  private dict = new Map<string, unknown>();

  constructor(templatesFile: string) {
    this.templates = parseTemplates(fs.readFileSync(templatesFile, 'utf8'));
  }

  /** One MOEX datagram payload (after the 4-byte prefix): { template, msg } or undefined on any error. */
  decode(b: Uint8Array, offset: number, length: number): { template: string; msg: Record<string, unknown> } | undefined {
    this.b = b.subarray(offset, offset + length);
    this.p = 0;
    this.dict = new Map();
    try {
      const pmap = this.pmap();
      if (!pmap.shift()) return undefined;
      const id = Number(this.uint());
      const t = this.templates.get(id);
      if (t === undefined) return undefined;
      return { template: t.name, msg: this.group(t.fields, pmap) };
    } catch {
      return undefined;
    }
  }

  private byte(): number { if (this.p >= this.b.length) throw new Error('eof'); return this.b[this.p++]; }
  private pmap(): boolean[] {
    const bits: boolean[] = [];
    for (;;) { const c = this.byte(); for (let k = 6; k >= 0; k--) bits.push(((c >> k) & 1) === 1); if (c & 0x80) return bits; }
  }
  private uint(): bigint { let v = 0n; for (;;) { const c = this.byte(); v = (v << 7n) | BigInt(c & 0x7f); if (c & 0x80) return v; } }
  private int(): bigint {
    let c = this.byte();
    let v = BigInt(c & 0x3f) - ((c & 0x40) ? 64n : 0n);
    while (!(c & 0x80)) { c = this.byte(); v = (v << 7n) | BigInt(c & 0x7f); }
    return v;
  }
  /** Raw ASCII field: null for the lone 0x80, '' for 00 80, otherwise the 7-bit characters. */
  private ascii(): string | null {
    const raw: number[] = [];
    for (;;) { const c = this.byte(); raw.push(c); if (c & 0x80) break; }
    if (raw.length === 1 && raw[0] === 0x80) return null;
    if (raw.length === 2 && raw[0] === 0 && raw[1] === 0x80) return '';
    return String.fromCharCode(...raw.map((c) => c & 0x7f));
  }

  private value(f: Field): unknown {
    switch (f.tag) {
      case 'uInt32': case 'uInt64': { const v = this.uint(); return f.optional ? (v === 0n ? null : v - 1n) : v; }
      case 'int32': case 'int64': { const v = this.int(); return f.optional ? (v === 0n ? null : v > 0n ? v - 1n : v) : v; }
      case 'decimal': {
        let e = this.int();
        if (f.optional) { if (e === 0n) return null; if (e > 0n) e -= 1n; }
        return { mantissa: Number(this.int()), exponent: Number(e) };
      }
      case 'string': {
        const s = this.ascii();
        if (f.optional) return s;
        return s === null ? '' : s;
      }
      default: throw new Error(`unsupported ${f.tag}`);
    }
  }

  private constant(f: Field): unknown {
    if (f.tag === 'string') return f.value!;
    if (f.tag === 'decimal') return { mantissa: Number(f.value), exponent: 0 };
    return BigInt(f.value!);
  }

  private group(fields: Field[], pmap: boolean[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (f.tag === 'sequence') {
        let n = this.uint();
        if (f.optional) { if (n === 0n) continue; n -= 1n; }
        const needsPmap = (f.children ?? []).some((c) => c.op === 'copy' || c.op === 'default' || (c.op === 'constant' && c.optional));
        const list: Record<string, unknown>[] = [];
        for (let i = 0n; i < n; i++) list.push(this.group(f.children ?? [], needsPmap ? this.pmap() : []));
        out[f.name] = list;
        continue;
      }
      let v: unknown;
      switch (f.op) {
        case 'none': v = this.value(f); break;
        case 'constant': v = !f.optional || pmap.shift() ? this.constant(f) : null; break;
        case 'default': v = pmap.shift() ? this.value(f) : f.value !== undefined ? this.constant(f) : null; break;
        case 'copy':
          if (pmap.shift()) { v = this.value(f); this.dict.set(f.name, v); } else {
            if (!this.dict.has(f.name) && !f.optional) throw new Error(`no previous ${f.name}`);
            v = this.dict.get(f.name) ?? null;
          }
          break;
        default: throw new Error(`unsupported operator ${f.op}`);
      }
      if (v !== null && v !== undefined) out[f.name] = v;
    }
    return out;
  }
}

/** Books built the plain way from reference-decoded X-OLR messages: instrument -> order id -> order. */
export class PlainBooks {
  readonly books = new Map<string, Map<string, { side: string; price: number; size: number }>>();
  readonly rpt = new Map<string, number>();

  applyIncremental(msg: Record<string, unknown>): void {
    for (const e of (msg.GroupMDEntries as Record<string, unknown>[]) ?? []) {
      const key = `${e.TradingSessionID ?? ''}:${e.Symbol}`;
      const rpt = Number(e.RptSeq);
      const last = this.rpt.get(key) ?? 0;
      if (rpt !== last + 1) throw new Error(`reference: ${key} RptSeq ${rpt} after ${last}`);
      this.rpt.set(key, rpt);
      let book = this.books.get(key);
      if (book === undefined) { book = new Map(); this.books.set(key, book); }
      const id = String(e.MDEntryID);
      const px = e.MDEntryPx as { mantissa: number; exponent: number };
      const price = Math.round(px.mantissa * 10 ** (px.exponent + 5));
      const size = (e.MDEntrySize as { mantissa: number }).mantissa;
      const action = Number(e.MDUpdateAction);
      if (action === 2) book.delete(id);
      else book.set(id, { side: String(e.MDEntryType), price, size });
    }
  }

  /** Aggregated levels of one side, best first: [price, size, orders][]. */
  levels(key: string, side: '0' | '1'): [number, number, number][] {
    const agg = new Map<number, [number, number]>();
    for (const o of this.books.get(key)?.values() ?? []) {
      if (o.side !== side) continue;
      const l = agg.get(o.price) ?? [0, 0];
      l[0] += o.size; l[1]++;
      agg.set(o.price, l);
    }
    return [...agg.entries()].sort((a, b) => (side === '0' ? b[0] - a[0] : a[0] - b[0])).map(([p, [s, n]]) => [p, s, n]);
  }
}
