/**
 * Plain-object view of a decoded ITCH message for tools (`tickpath decode`, tests): every field of the
 * spec, camelCase, prices as integers in spec units. Allocates; never on the hot path.
 */
import { AnyItchMessage } from './itch-messages';
import { kItchSpecByCode } from './itch-schema';

export type ItchFieldValue = number | string;

export function itchMessageToObject(msg: AnyItchMessage): Record<string, ItchFieldValue> {
  const spec = kItchSpecByCode[msg.typeCode];
  const out: Record<string, ItchFieldValue> = { type: msg.messageType };
  if (!spec) return out;
  const view = msg as unknown as Record<string, ItchFieldValue>;
  for (const f of spec.fields) out[f.name] = view[f.name];
  return out;
}
