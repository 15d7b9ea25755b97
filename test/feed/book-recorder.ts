/** Test helpers: a BookEventHandler that records copies of events, and a MoldUDP64 payload builder. */
import { BookEvent, BookEventHandler, kBookEventNames } from '../../lib/feed/book/book-event';
import { ItchEncoder, ItchValues } from '../../lib/feed/itch/itch-encoder';
import { itchSpec } from '../../lib/feed/itch/itch-schema';
import { MoldUdp64Encoder } from '../../lib/feed/wire/moldudp64-encoder';

export class BookRecorder implements BookEventHandler {
  events: BookEvent[] = [];
  batches = 0;
  onEvent(e: BookEvent): void {
    const copy = new BookEvent();
    copy.copyFrom(e);
    this.events.push(copy);
  }
  endOfBatch(): void { this.batches++; }
  kinds(): string[] { return this.events.map((e) => kBookEventNames[e.kind]); }
  take(): BookEvent[] { const e = this.events; this.events = []; return e; }
}

export interface Msg { type: string; values: ItchValues }

export function payload(messages: Msg[], seq = 1): Uint8Array {
  const b = new Uint8Array(20 + messages.length * 52);
  const mold = new MoldUdp64Encoder('TEST');
  const enc = new ItchEncoder();
  mold.begin(b, 0, seq);
  for (const m of messages) enc.encode(b, mold.appendMessage(itchSpec(m.type).length), m.type, m.values);
  return b.subarray(0, mold.finish());
}
