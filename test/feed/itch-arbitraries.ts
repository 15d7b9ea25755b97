/** fast-check generators of ITCH field values straight from the schema. */
import * as fc from 'fast-check';
import { ItchFieldSpec, ItchMessageSpec } from '../../lib/feed/itch/itch-schema';
import { ItchValues } from '../../lib/feed/itch/itch-encoder';

const kPrintable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));

export function fieldArbitrary(f: ItchFieldSpec): fc.Arbitrary<number | string> {
  switch (f.kind) {
    case 'u16': return fc.integer({ min: 0, max: 0xffff });
    case 'u32': case 'price4': return fc.integer({ min: 0, max: 0xffffffff });
    case 'u48': return fc.integer({ min: 0, max: 2 ** 48 - 1 });
    case 'u64': case 'price8': return fc.maxSafeNat();
    case 'char': return kPrintable;
    case 'alpha': return fc.array(kPrintable, { minLength: 0, maxLength: f.length }).map((a) => a.join(''));
  }
}

export function valuesArbitrary(spec: ItchMessageSpec): fc.Arbitrary<ItchValues> {
  const record: Record<string, fc.Arbitrary<number | string>> = {};
  for (const f of spec.fields) record[f.name] = fieldArbitrary(f);
  return fc.record(record);
}

/** What the decoder should give back: alphanumerics right-trimmed, 1-byte chars as written. */
export function expectedDecode(spec: ItchMessageSpec, values: ItchValues): Record<string, number | string> {
  const out: Record<string, number | string> = { type: spec.type };
  for (const f of spec.fields) {
    const v = values[f.name];
    out[f.name] = f.kind === 'alpha' ? String(v).replace(/ +$/, '') : v;
  }
  return out;
}
