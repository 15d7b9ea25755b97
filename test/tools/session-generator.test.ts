/**
 * The synthetic session decodes cleanly through the production FeedDecoder + BookBuilder (with a
 * Sequencer watching for gaps): exact message count, contiguous sequences from 1, no bad order
 * references, the symbol count and rate asked for, and the same seed gives the same bytes.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BookBuilder, FeedDecoder, ItchDecoder, ItchMessageHandler, PcapReader, Sequencer } from '../../lib/feed';
import { MessageJournal } from '../../lib/feed/recovery/message-journal';
import { packetize, SessionGenerator, syntheticTicker } from '../../lib/tools/session-generator';
import { main as genMain } from '../../apps/gen';

interface Decoded {
  messages: number;
  packets: number;
  firstSeq: number;
  lastSeq: number;
  gaps: number[][];
  types: string[];
  firstTs: number;
  lastTs: number;
  book: BookBuilder;
  decoder: FeedDecoder;
  directory: string[];
  maxPerPacket: number;
  maxPayload: number;
  contiguous: boolean;
}

function decodeFile(file: string): Decoded {
  const out: Decoded = {
    messages: 0, packets: 0, firstSeq: 0, lastSeq: 0, gaps: [], types: [], firstTs: -1, lastTs: 0,
    book: undefined as unknown as BookBuilder, decoder: undefined as unknown as FeedDecoder, directory: [], maxPerPacket: 0,
    maxPayload: 0, contiguous: true,
  };
  const book = new BookBuilder({ onEvent() {}, endOfBatch() {} });
  const tap: ItchMessageHandler = {
    onMessage(d: ItchDecoder, type: number, seq: number): void {
      book.onMessage(d, type, seq);
      if (out.messages === 0) out.firstSeq = seq;
      else if (seq !== out.lastSeq + 1) out.contiguous = false;
      out.lastSeq = seq;
      out.messages++;
      if (out.types.length < 200) out.types.push(String.fromCharCode(type));
      if (type === 0x52) out.directory.push(d.stockDirectory.stock.trim());
      const ts = d.messageFor(type)!.timestamp;
      if (out.firstTs < 0) out.firstTs = ts;
      out.lastTs = ts;
    },
    endOfBatch(): void {},
  };
  const feed = new FeedDecoder(tap, {}, new Sequencer({ firstSequence: 1, gapListener: { onGap: (a, b) => out.gaps.push([a, b]) } }));
  const reader = new PcapReader(fs.readFileSync(file), file);
  while (reader.next()) {
    feed.decodeFrame(reader.data, reader.frameOffset, reader.capturedLength);
    out.packets++;
    out.maxPerPacket = Math.max(out.maxPerPacket, feed.packet.messageCount);
    out.maxPayload = Math.max(out.maxPayload, feed.frames.payloadLength);
  }
  out.book = book;
  out.decoder = feed;
  return out;
}

describe('tickpath gen: synthetic MoldUDP64 / ITCH 5.0 session', function () {
  this.timeout(20_000);
  let dir: string;

  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-gen-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every message decodes, sequences run 1..N without gaps, no bad references, symbols and rate as asked', function () {
    const file = path.join(dir, 'a.pcap');
    const gen = new SessionGenerator({ symbols: 50, rate: 100000, durationSeconds: 2, seed: 1, maxMessagesPerPacket: 20 });
    const summary = gen.writePcap(file);
    expect(summary.messages).to.equal(200000);
    const d = decodeFile(file);
    expect(d.messages).to.equal(200000);
    expect(d.firstSeq).to.equal(1);
    expect(d.lastSeq).to.equal(200000);
    expect(d.contiguous).to.equal(true);
    expect(d.gaps).to.deep.equal([]);
    expect(d.packets).to.equal(summary.packets);
    expect(d.maxPerPacket).to.be.at.most(20);
    expect(d.maxPayload).to.be.at.most(1400);
    const f = d.decoder.frames.counters, p = d.decoder.packet.counters, m = d.decoder.decoder.counters;
    expect(f.accepted).to.equal(d.packets);
    expect(p.endOfSession).to.equal(1);
    expect(p.truncatedBlock + p.truncatedHeader).to.equal(0);
    expect(m.unknownType + m.truncated + m.zeroLength).to.equal(0);
    const c = d.book.counters;
    expect(c.messages).to.equal(200000);
    for (const k of ['unknownOrder', 'duplicateOrder', 'overExecution', 'overCancel', 'badSide', 'locateMismatch', 'levelMismatch'] as const) {
      expect(c[k], k).to.equal(0);
    }
    // Session shape: start of messages, the directory (one per symbol), trading actions, start of hours / market.
    expect(d.types[0]).to.equal('S');
    expect(d.types.slice(1, 51)).to.deep.equal(new Array(50).fill('R'));
    expect(d.types.slice(51, 101)).to.deep.equal(new Array(50).fill('H'));
    expect(d.types.slice(101, 103)).to.deep.equal(['S', 'S']);
    expect(new Set(d.directory).size).to.equal(50);
    expect(d.directory[0]).to.equal(syntheticTicker(0));
    expect(d.book.allBooks().length).to.equal(50);
    // The mix: every order message kind appears, adds dominate.
    for (const t of ['A', 'X', 'D', 'U', 'E', 'C', 'P']) expect(summary.byType[t] ?? 0, t).to.be.above(100);
    expect(summary.byType.A).to.be.above(summary.byType.D);
    // Rate: 200000 messages spread over 2 s of ITCH time (ns since midnight) at 10 us each.
    expect(d.lastTs - d.firstTs).to.equal(Math.round(199999 * 1e9 / 100000));
    // Books are two-sided around a mid: most symbols end with both a bid and an ask.
    const twoSided = d.book.allBooks().filter((b) => b.bids.count > 0 && b.asks.count > 0).length;
    expect(twoSided).to.be.at.least(40);
  });

  it('looks like a market: no book crossed or locked after any message or packet, executions where orders meet, a NASDAQ-like mix and depth', () => {
    // A long run on few symbols, so mids wander far and marketable orders are common.
    const gen = new SessionGenerator({ symbols: 20, rate: 1_000_000, durationSeconds: 0.6, seed: 3, maxMessagesPerPacket: 20 });
    const book = new BookBuilder({ onEvent() {}, endOfBatch() {} });
    let crossedAfterMessage = 0;
    let crossedAfterPacket = 0;
    let lastRef = 0;
    let refsInOrder = true;
    const touched = new Set<number>();
    const crossed = (locate: number): boolean => {
      const b = book.book(locate);
      return b !== undefined && b.bids.count > 0 && b.asks.count > 0 && b.bids.bestPrice >= b.asks.bestPrice;
    };
    const tap: ItchMessageHandler = {
      onMessage(d: ItchDecoder, type: number, seq: number): void {
        book.onMessage(d, type, seq);
        const m = d.messageFor(type)!;
        touched.add(m.stockLocate);
        if (crossed(m.stockLocate)) crossedAfterMessage++;
        // New references (adds and replaces) are unique and sequential, like NASDAQ's day-long counter.
        const ref = type === 0x41 ? d.addOrder.orderReferenceNumber : type === 0x55 ? d.orderReplace.newOrderReferenceNumber : 0;
        if (ref !== 0) { if (ref !== lastRef + 1) refsInOrder = false; lastRef = ref; }
      },
      endOfBatch(): void {
        for (const locate of touched) if (crossed(locate)) crossedAfterPacket++;
        touched.clear();
      },
    };
    const feed = new FeedDecoder(tap);
    const packets = packetize(gen.messages(), 'X', 1, 20);
    for (const p of packets) { feed.decodePayload(p.payload, 0, p.payload.length); feed.endOfBatch(); }
    const c = book.counters;
    expect(c.messages).to.equal(600_000);
    expect([crossedAfterMessage, crossedAfterPacket]).to.deep.equal([0, 0]);
    for (const k of ['unknownOrder', 'duplicateOrder', 'overExecution', 'overCancel', 'badSide', 'locateMismatch', 'levelMismatch'] as const) expect(c[k], k).to.equal(0);
    expect(refsInOrder, 'new references run 1, 2, 3...').to.equal(true);
    // Mix (fractions of all messages): adds about half, deletes and cancels most of the rest,
    // executions a few percent, some replaces.
    const byType = feed.decoder.counters.byType;
    const share = (t: string): number => byType[t.charCodeAt(0)] / c.messages;
    expect(share('A'), 'A').to.be.within(0.4, 0.55);
    expect(share('D') + share('X'), 'D+X').to.be.within(0.35, 0.5);
    expect(share('E') + share('C'), 'E+C').to.be.within(0.01, 0.08);
    expect(share('U'), 'U').to.be.within(0.03, 0.1);
    expect(share('P'), 'P').to.be.within(0.002, 0.03);
    // Depth: every book two-sided with many levels; the most orders sit at and near the touch and thin out behind.
    const near = new Float64Array(3), far = new Float64Array(3);
    for (const b of book.allBooks()) {
      expect(b.bids.count, `locate ${b.stockLocate} bid levels`).to.be.at.least(8);
      expect(b.asks.count, `locate ${b.stockLocate} ask levels`).to.be.at.least(8);
      for (const side of [b.bids, b.asks]) {
        for (let r = 0; r < 3; r++) near[r] += side.ordersAt(r);
        for (let r = 0; r < 3; r++) far[r] += side.ordersAt(side.count - 1 - r);
      }
    }
    const sum = (a: Float64Array): number => a[0] + a[1] + a[2];
    expect(sum(near) / 40 / 3, 'orders per level at the top three').to.be.at.least(4);
    expect(sum(near)).to.be.greaterThan(3 * sum(far));
  });

  it('same seed gives byte-identical files; another seed does not', () => {
    const opts = { symbols: 20, rate: 50000, durationSeconds: 1 };
    const [a, b, c] = ['a1', 'a2', 'b1'].map((n) => path.join(dir, `${n}.pcap`));
    new SessionGenerator({ ...opts, seed: 7 }).writePcap(a);
    new SessionGenerator({ ...opts, seed: 7 }).writePcap(b);
    new SessionGenerator({ ...opts, seed: 8 }).writePcap(c);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).to.equal(true);
    expect(fs.readFileSync(a).equals(fs.readFileSync(c))).to.equal(false);
  });

  it('in memory: the same messages as the pcap, sequence i + 1 at index i; packetize frames them as MoldUDP64', () => {
    const opts = { symbols: 4, rate: 3000, durationSeconds: 1, seed: 5, session: 'MEM1' };
    const file = path.join(dir, 'mem.pcap');
    new SessionGenerator(opts).writePcap(file);
    const messages = new SessionGenerator(opts).messages();
    expect(messages.length).to.equal(3000);
    const fromPcap = MessageJournal.fromPcap(fs.readFileSync(file)).find('MEM1')!;
    const fromPackets = new MessageJournal();
    const packets = packetize(messages, 'MEM1', 1, 5);
    expect(packets.length).to.equal(600);
    for (const p of packets) expect(fromPackets.appendPacket(p.payload, 0, p.payload.length)).to.equal(p.messageCount);
    const j = fromPackets.find('MEM1')!;
    expect([fromPcap.first, fromPcap.count, j.first, j.count]).to.deep.equal([1, 3000, 1, 3000]);
    for (let s = 1; s <= 3000; s++) {
      const m = Buffer.from(messages[s - 1]);
      expect(m.equals(fromPcap.bytes.subarray(fromPcap.offsetOf(s), fromPcap.offsetOf(s) + fromPcap.lengthOf(s))), `pcap ${s}`).to.equal(true);
      expect(m.equals(j.bytes.subarray(j.offsetOf(s), j.offsetOf(s) + j.lengthOf(s))), `packet ${s}`).to.equal(true);
    }
  });

  it('honours max messages per packet and max packet size; a low rate packs by the flush window', () => {
    const file = path.join(dir, 'small.pcap');
    new SessionGenerator({ symbols: 3, rate: 100000, durationSeconds: 0.2, maxMessagesPerPacket: 5, maxPayloadBytes: 200 }).writePcap(file);
    const d = decodeFile(file);
    expect(d.messages).to.equal(20000);
    expect(d.maxPerPacket).to.be.at.most(5);
    expect(d.maxPayload).to.be.at.most(200);
    expect(d.book.counters.unknownOrder).to.equal(0);
    const slow = path.join(dir, 'slow.pcap');
    const s = new SessionGenerator({ symbols: 3, rate: 1000, durationSeconds: 1, flushMicros: 1000 }).writePcap(slow);
    // One message per ms and a 1 ms window: two messages per packet, plus the end-of-session packet.
    expect(s.packets).to.equal(501);
  });

  it('rejects bad options with the option, the value and what was expected', () => {
    expect(() => new SessionGenerator({ symbols: 0, rate: 1, durationSeconds: 1 })).to.throw(/option 'symbols' is 0, expected an integer from 1 to 65535/);
    expect(() => new SessionGenerator({ symbols: 1, rate: -5, durationSeconds: 1 })).to.throw(/option 'rate' is -5/);
    expect(() => new SessionGenerator({ symbols: 1, rate: 1, durationSeconds: 1, group: '1.2.3' })).to.throw(/option 'group' is "1.2.3"/);
  });

  it('CLI: --help, writes the file, bad usage exits 2', async () => {
    const logs: string[] = [];
    const errs: string[] = [];
    const log = console.log, error = console.error;
    console.log = (s: string) => { logs.push(String(s)); };
    console.error = (s: string) => { errs.push(String(s)); };
    try {
      expect(await genMain(['--help'])).to.equal(0);
      expect(logs.join('\n')).to.match(/--max-msgs-per-packet/);
      const file = path.join(dir, 'cli.pcap');
      expect(await genMain(['--out', file, '--symbols', '5', '--rate', '10000', '--duration', '1', '--seed', '3', '--json'])).to.equal(0);
      const j = JSON.parse(logs[logs.length - 1]);
      expect(j.messages).to.equal(10000);
      expect(decodeFile(file).messages).to.equal(10000);
      expect(await genMain(['--symbols', '5'])).to.equal(2);
      expect(errs.join('\n')).to.match(/--out FILE is required/);
      expect(await genMain(['--out', file, '--rate', 'fast'])).to.equal(2);
      expect(await genMain(['--out', path.join(dir, 'no', 'such', 'dir.pcap')])).to.equal(1);
    } finally {
      console.log = log;
      console.error = error;
    }
  });
});
