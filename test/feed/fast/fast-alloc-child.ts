/**
 * Child process of fast-alloc.test.ts: replays X-OLR incrementals with MOEX-sized numbers (order ids
 * above 2^33, prices above 2^30 at 5 decimals, sizes above 2^30) through FastFeedDecoder ->
 * FastBookAdapter (record reader path) into a counting handler, and counts the scavenges a
 * PerformanceObserver sees over the measured part, after a warm-up. Run with a 1 MiB semi-space, so
 * every ~1 MiB of young objects is one scavenge: a double that is not a small integer passed to a
 * call V8 does not inline is a 16-byte heap number, and one per entry is several scavenges here.
 * The datagrams are built before anything is measured. Prints one JSON line.
 *
 *   node --max-semi-space-size=1 fast-alloc-child.js [--entries 240000] [--warmup 60000]
 */
import { constants, PerformanceObserver } from 'perf_hooks';
import { BookEvent, BookEventHandler } from '../../../lib/feed/book/book-event';
import { FastEncoder, type FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { FastBookAdapter } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { writeMoexPacket } from '../../../lib/feed/fast/moex/moex-packet';
import { priceDecimal } from '../../../lib/feed/fast/moex/moex-session-generator';
import { moexTemplates } from './fast-helpers';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

class Counting implements BookEventHandler {
  events = 0;
  sum = 0;
  onEvent(e: BookEvent): void { this.events++; this.sum += e.kind; }
  endOfBatch(): void { /* nothing */ }
}

const warmup = arg('warmup', 60000);
const measured = arg('entries', 240000);
const registry = moexTemplates();
const encoder = new FastEncoder(registry);
const kInstruments = 50;
const live: { id: number; side: '0' | '1'; price: number; size: number }[][] = Array.from({ length: kInstruments }, () => []);
const rpt = new Array<number>(kInstruments).fill(0);
let state = 12345;
const below = (n: number): number => { state ^= state << 13; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state % n; };
let nextId = 9000000000; // MOEX order numbers are well above 2^32
const datagrams: Uint8Array[] = [];
for (let seq = 1; seq <= warmup + measured; seq++) {
  const i = below(kInstruments);
  const book = live[i];
  const roll = below(100);
  let entry: FastRecord;
  const common = { Symbol: `SYM${i}TOM`, RptSeq: ++rpt[i], TradingSessionID: 'CETS' };
  if (book.length < 4 || roll < 45) {
    // 20,000.00000 and up at 5 decimals: above 2^30; sizes above 2^30 too.
    const o = { id: nextId++, side: (below(2) === 0 ? '0' : '1') as '0' | '1', price: 2000000000 + (1 + below(20)) * 25, size: 1100000000 + below(1000) };
    book.push(o);
    entry = { ...common, MDUpdateAction: 0, MDEntryType: o.side, MDEntryID: String(o.id), MDEntryPx: priceDecimal(o.price), MDEntrySize: { mantissa: o.size, exponent: 0 } };
  } else {
    const k = below(book.length);
    const o = book[k];
    if (roll < 75) {
      book.splice(k, 1);
      entry = { ...common, MDUpdateAction: 2, MDEntryType: o.side, MDEntryID: String(o.id), MDEntryPx: priceDecimal(o.price), MDEntrySize: { mantissa: o.size, exponent: 0 } };
    } else {
      if (roll < 90) o.size = 1100000000 + below(1000); else o.price += 25 * (1 + below(3));
      entry = { ...common, MDUpdateAction: 1, MDEntryType: o.side, MDEntryID: String(o.id), MDEntryPx: priceDecimal(o.price), MDEntrySize: { mantissa: o.size, exponent: 0 } };
    }
  }
  encoder.resetDictionaries();
  const message = encoder.encode('X-OLR-CURR', { MsgSeqNum: seq, SendingTime: 20170301100000000n + BigInt(seq), GroupMDEntries: [entry] });
  const datagram = new Uint8Array(4 + message.length);
  writeMoexPacket(datagram, 0, seq, message);
  datagrams.push(datagram);
}
// One buffer, as a receive region would be.
let size = 0;
for (const d of datagrams) size += d.length;
const bytes = new Uint8Array(size);
const offsets = new Int32Array(datagrams.length + 1);
for (let k = 0, p = 0; k < datagrams.length; k++) { bytes.set(datagrams[k], p); p += datagrams[k].length; offsets[k + 1] = p; }
datagrams.length = 0;

const sink = new Counting();
const adapter = new FastBookAdapter(registry, sink, { initialOrderCapacity: 1 << 17 });
const feed = new FastFeedDecoder(registry, adapter);
const replay = (from: number, to: number): number => {
  let n = 0;
  for (let k = from; k < to; k++) { n += feed.decodePayload(bytes, offsets[k], offsets[k + 1] - offsets[k]); feed.endOfBatch(); }
  return n;
};
replay(0, warmup);
let scavenges = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
});
obs.observe({ entryTypes: ['gc'] });
const delivered = replay(warmup, warmup + measured);
// GC entries are delivered asynchronously: count once the loop has given them a turn.
setTimeout(() => {
  obs.disconnect();
  const c = adapter.counters;
  console.log(JSON.stringify({
    entries: measured, delivered, scavenges, events: sink.events, record_messages: c.recordMessages, applied: c.applied,
    errors: adapter.badReferences() + c.levelMismatch + c.rptSeqGaps + c.staleMarks, resting: adapter.orders.size,
  }));
}, 100);
