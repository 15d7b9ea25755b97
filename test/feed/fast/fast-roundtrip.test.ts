/**
 * Property tests: for every template of both MOEX files and of an all-operators template, random
 * message streams encode and decode back to the same values, with the dictionaries carried across
 * the stream (copy, increment, delta and tail see each other's previous values) and without.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { FastDecoder } from '../../../lib/feed/fast/fast-decoder';
import { FastEncoder, FastRecord, FastValue } from '../../../lib/feed/fast/fast-encoder';
import { fastMessageToObject } from '../../../lib/feed/fast/fast-json';
import { FastTemplate, FastTemplateRegistry, loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { moexTemplates, forEachEngine } from './fast-helpers';
import { groupArb, kAllOperators } from './fast-arbitraries';

/** What the decoder reports for a value: absent fields dropped, uInt64 below 2^53 as a number. */
function normalize(v: FastValue): FastValue {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'bigint') return v < 2n ** 53n ? Number(v) : v;
  if (Array.isArray(v)) return v.map((r) => normalize(r) as FastRecord);
  if (v instanceof Uint8Array || typeof v !== 'object') return v;
  if ('template' in v && 'values' in v) return { template: v.template, values: normalize(v.values as FastRecord) as FastRecord };
  if ('mantissa' in v && 'exponent' in v && Object.keys(v).length === 2) return v;
  const out: FastRecord = {};
  for (const [k, x] of Object.entries(v as FastRecord)) { const n = normalize(x); if (n !== undefined) out[k] = n; }
  return out;
}

function roundTrip(reg: FastTemplateRegistry, t: FastTemplate, runs: number): void {
  fc.assert(fc.property(fc.array(groupArb(t.body, reg), { minLength: 1, maxLength: 6 }), fc.boolean(), (records, resetEach) => {
    const enc = new FastEncoder(reg);
    const dec = new FastDecoder(reg);
    for (const r of records) {
      if (resetEach) { enc.resetDictionaries(); dec.resetDictionaries(); }
      const bytes = enc.encode(t.name, r);
      const id = dec.decode(bytes, 0, bytes.length);
      expect(id, `decode error ${id}`).to.equal(t.id);
      expect(dec.position).to.equal(bytes.length);
      expect(fastMessageToObject(dec)).to.deep.equal(normalize(r));
    }
  }), { numRuns: runs });
}

forEachEngine('FAST encode/decode round trip (property)', () => {
  const all = loadFastTemplates(kAllOperators);
  it('every operator, type and structure (All template)', () => roundTrip(all, all.templateNamed('All'), 300));
  for (const file of ['moex-asts-fix50sp2-2017-mar.xml', 'moex-asts-fix50sp2-2015-apr.xml']) {
    const reg = moexTemplates(file);
    for (const t of reg.byName.values()) {
      it(`${file}: ${t.name} (${t.id})`, () => roundTrip(reg, t, 40));
    }
  }
});

/**
 * Differential: random streams, encoded then damaged (bytes overwritten, the stream cut), decoded by
 * the compiled templates and by the reference interpreter side by side. Every message must give the
 * same result code, end position and values, and the error counters must agree at the end.
 */
function differential(reg: FastTemplateRegistry, t: FastTemplate, runs: number, transient = false): void {
  const damage = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });
  fc.assert(fc.property(fc.array(groupArb(t.body, reg), { minLength: 1, maxLength: 5 }), damage, fc.nat(), (records, edits, cut) => {
    const enc = new FastEncoder(reg);
    // transient: every message from a reset state (as MOEX sends them), the compiled decoder keeping copied strings in the packet.
    const parts = records.map((r) => { if (transient) enc.resetDictionaries(); return enc.encode(t.name, r); });
    const total = parts.reduce((n, p) => n + p.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { bytes.set(p, at); at += p.length; }
    for (const [where, value] of edits) bytes[where % total] = value;
    const length = edits.length > 0 && cut % 3 === 0 ? cut % (total + 1) : total;
    const compiled = new FastDecoder(reg, { engine: 'compiled', maxSequenceLength: 1000, transientStrings: transient });
    const reference = new FastDecoder(reg, { engine: 'interpreted', maxSequenceLength: 1000 });
    let pc = 0; let pr = 0;
    while (pc < length && pr < length) {
      if (transient) { compiled.resetDictionaries(); reference.resetDictionaries(); }
      const a = compiled.decode(bytes, pc, length - pc);
      const b = reference.decode(bytes, pr, length - pr);
      expect(a, `result at ${pr}`).to.equal(b);
      if (b < 0) break;
      expect(compiled.position).to.equal(reference.position);
      expect(fastMessageToObject(compiled)).to.deep.equal(fastMessageToObject(reference));
      pc = compiled.position; pr = reference.position;
    }
    expect({ ...compiled.counters }).to.deep.equal({ ...reference.counters });
  }), { numRuns: runs });
}

describe('FAST compiled templates vs the reference interpreter (differential)', () => {
  const all = loadFastTemplates(kAllOperators);
  it('every operator, type and structure (All template), damaged streams', () => differential(all, all.templateNamed('All'), 1500));
  it('the same, every message from a reset state, copied strings kept in the packet (transientStrings)', () => differential(all, all.templateNamed('All'), 1500, true));
  for (const file of ['moex-asts-fix50sp2-2017-mar.xml', 'moex-asts-fix50sp2-2015-apr.xml']) {
    const reg = moexTemplates(file);
    it(`${file}: every template, damaged streams`, () => { for (const t of reg.byName.values()) differential(reg, t, 25); });
    it(`${file}: every template, reset per message, transientStrings`, () => { for (const t of reg.byName.values()) differential(reg, t, 25, true); });
  }
});
