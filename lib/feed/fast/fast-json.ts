/**
 * A decoded FAST message as a plain object, for tools (`tickpath decode`), tests and replay diffs:
 * field name -> value, decimals as { mantissa, exponent }, uInt64 beyond 2^53 as bigint, strings as
 * strings (byteVector as Uint8Array), sequences as arrays, groups as nested objects, a dynamic
 * templateRef as `$ref` { template, values }; absent optional fields are left out. Allocates: never
 * on a feed's hot path.
 */
import { FastDecoder } from './fast-decoder';
import {
  FastGroup, kFastByteVector, kFastDecimal, kFastDecimalSplit, kFastDynamicRef, kFastGroup, kFastSequence, kFastUInt64,
  isFastString,
} from './fast-templates';
import { FastRecord } from './fast-encoder';

export function fastMessageToObject(d: FastDecoder): FastRecord {
  if (d.template === undefined) return {};
  return groupToObject(d, d.template.body, 0);
}

function groupToObject(d: FastDecoder, g: FastGroup, base: number): FastRecord {
  const out: FastRecord = {};
  let refs = 0;
  for (const ins of g.instructions) {
    const slot = base + ins.slot;
    if (ins.kind === kFastDynamicRef) {
      const t = d.registry.template(d.refTemplateId(slot))!;
      out[refs === 0 ? '$ref' : `$ref${refs}`] = { template: t.name, values: groupToObject(d, t.body, d.refBase(slot)) };
      refs++;
      continue;
    }
    if (!d.isPresent(slot)) continue;
    if (ins.kind === kFastSequence) {
      const n = d.sequenceLength(slot);
      const list: FastRecord[] = [];
      for (let i = 0; i < n; i++) list.push(groupToObject(d, ins.group!, d.elementBase(slot, i)));
      out[ins.name] = list;
    } else if (ins.kind === kFastGroup) {
      out[ins.name] = groupToObject(d, ins.group!, base);
    } else if (ins.kind === kFastDecimal || ins.kind === kFastDecimalSplit) {
      out[ins.name] = { mantissa: d.mantissa(slot), exponent: d.exponent(slot) };
    } else if (ins.kind === kFastUInt64) {
      const v = d.int(slot);
      out[ins.name] = Number.isSafeInteger(v) ? v : (BigInt(d.uint64High(slot)) << 32n) + BigInt(d.uint64Low(slot));
    } else if (ins.kind === kFastByteVector) {
      out[ins.name] = d.bytes(slot);
    } else if (isFastString(ins.kind)) {
      out[ins.name] = d.string(slot);
    } else {
      out[ins.name] = d.int(slot);
    }
  }
  return out;
}
