/**
 * The public FeedHandler with its `fast` option: a MOEX FIX/FAST capture read through a real pcap
 * Port into books and events, as a library user gets them. The books rebuilt from the events equal
 * the generator's own books (the exchange's truth), across a MsgSeqNum gap recovered from the
 * snapshot line; the gap listener hears the gap; bad options name the fix.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Port } from '../../../lib/binding';
import { TickpathError } from '../../../lib/errors';
import { BookEvent } from '../../../lib/feed/book/book-event';
import { loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { PcapFileWriter } from '../../../lib/feed/pcap/pcap-file-writer';
import { UdpFrameWriter } from '../../../lib/feed/wire/udp-frame-writer';
import { FeedHandler } from '../../../lib/pipeline';
import { BookLevels, bookDigest, createStrategy } from '../../helpers/book-digest-strategy';
import { kFixtures } from './fast-helpers';

const kTemplates = path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml');
const kLines = [
  { name: 'A', group: '239.195.1.1', port: 16001, role: 'incremental' as const },
  { name: 'S', group: '239.195.1.2', port: 16002, role: 'snapshot' as const },
];

/** The generator's books as bookDigest levels. */
function truthOf(gen: MoexSessionGenerator): BookLevels {
  const out: BookLevels = new Map();
  gen.books.forEach((orders, i) => {
    const side = (s: '0' | '1'): [number, number, number][] => {
      const agg = new Map<number, [number, number]>();
      for (const o of orders.values()) if (o.side === s) { const l = agg.get(o.price) ?? [0, 0]; l[0] += o.size; l[1]++; agg.set(o.price, l); }
      return [...agg.entries()].sort((a, b) => (s === '0' ? b[0] - a[0] : a[0] - b[0])).map(([p, [q, n]]) => [p, q, n]);
    };
    out.set(`${gen.session}:${gen.symbols[i]}`, { B: side('0'), S: side('1') });
  });
  return out;
}

describe('FeedHandler with the fast option (MOEX FIX/FAST through a pcap Port)', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fast-fh-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const xml = fs.readFileSync(kTemplates, 'utf8');

  it('books from the events equal the exchange\'s books across a gap recovered from the snapshot line; stats and the gap listener say so', () => {
    const gen = new MoexSessionGenerator(loadFastTemplates(xml), { instruments: 10, seed: 5 });
    const file = path.join(dir, 'gap.pcap');
    const inc = new UdpFrameWriter({ sourceAddress: '10.0.0.1', destinationAddress: '239.195.1.1', sourcePort: 16001, destinationPort: 16001 });
    const snap = new UdpFrameWriter({ sourceAddress: '10.0.0.1', destinationAddress: '239.195.1.2', sourcePort: 16002, destinationPort: 16002 });
    const writer = new PcapFileWriter(file);
    const frame = new Uint8Array(2048);
    let k = 0; let entries = 0;
    const add = (w: UdpFrameWriter, d: Uint8Array): void => { frame.set(d, w.headerLength); writer.addFrame(frame, 0, w.write(frame, 0, d.length), 1488362400, (k++) * 1000); };
    const next = (): Uint8Array => { const n = gen.nextIncremental(); entries += n.entries.length; return n.datagram; };
    for (let i = 0; i < 1000; i++) add(inc, next());
    for (let i = 0; i < 3; i++) gen.nextIncremental(); // lost on the line: MsgSeqNum 1001..1003
    for (let i = 0; i < 500; i++) add(inc, next());
    let snapshots = 0;
    for (const d of gen.snapshots(6)) { add(snap, d); snapshots++; }
    for (let i = 0; i < 500; i++) add(inc, next());
    writer.close();

    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file } });
    const strategy = createStrategy();
    let events = 0;
    const gaps: [number, number][] = [];
    const fh = new FeedHandler(port.consumer(0), { onEvent: (e: BookEvent) => { events++; strategy.onMarketData(e, undefined as never); }, endOfBatch() {} }, {
      conflate: false, fast: { templates: xml, lines: kLines, priceDecimals: 5, market: 'CURR' }, gapListener: { onGap: (from, to) => { gaps.push([from, to]); } },
    });
    let turns = 0;
    while (!fh.sourceDone && turns < 200000) { fh.doWork(); turns++; }
    port.close();

    const want = bookDigest(truthOf(gen));
    expect(want.levels).to.be.greaterThan(50);
    expect(strategy.counts.levels).to.equal(want.levels);
    expect(strategy.counts.orders).to.equal(want.orders);
    expect(strategy.counts.digest).to.equal(want.digest);
    expect(gaps).to.deep.equal([[1001, 1003]]);

    const s = fh.stats();
    expect(s.packets).to.equal(2000 + snapshots);
    expect(s.itch.messages, 'FAST messages').to.equal(2000 + snapshots);
    expect(s.sequence.gaps).to.equal(1);
    expect(s.sequence.missing).to.equal(3);
    expect(s.fast!.staleBooks, 'every book recovered').to.equal(0);
    expect(s.books.recoveries).to.equal(10);
    expect(s.books.events).to.equal(events);
    // The FAST books are there to read, by instrument.
    const usd = fh.fastBooks!.bookOf('CETS', 'USD000UTSTOM')!;
    const b = truthOf(gen).get('CETS:USD000UTSTOM')!;
    expect(usd.bids.count).to.equal(b.B.length);
    expect(usd.bestBidPrice).to.equal(b.B[0][0]);
    expect(usd.bestAskPrice).to.equal(b.S[0][0]);
    expect(entries).to.be.greaterThan(2000);
  });

  it('subscriptions choose FAST books by symbol (bare or SESSION:SYMBOL): only their events arrive, and they still add up to the book', () => {
    const gen = new MoexSessionGenerator(loadFastTemplates(xml), { instruments: 6, seed: 8 });
    const file = path.join(dir, 'sub.pcap');
    const inc = new UdpFrameWriter({ sourceAddress: '10.0.0.1', destinationAddress: '239.195.1.1', sourcePort: 16001, destinationPort: 16001 });
    const writer = new PcapFileWriter(file);
    const frame = new Uint8Array(2048);
    for (let i = 0; i < 1500; i++) { const d = gen.nextIncremental().datagram; frame.set(d, inc.headerLength); writer.addFrame(frame, 0, inc.write(frame, 0, d.length), 1488362400, i * 1000); }
    writer.close();
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file } });
    const strategy = createStrategy();
    const symbols = new Set<string>();
    const fh = new FeedHandler(port.consumer(0), { onEvent: (e: BookEvent) => { symbols.add(e.symbol); strategy.onMarketData(e, undefined as never); }, endOfBatch() {} }, {
      conflate: false, fast: { templates: xml, lines: kLines },
    });
    fh.subscribe(['USD000UTSTOM', 'CETS:SYM003TOM', 'NOSUCH']);
    let turns = 0;
    while (!fh.sourceDone && turns < 100000) { fh.doWork(); turns++; }
    port.close();
    expect([...symbols].sort()).to.deep.equal(['CETS:SYM003TOM', 'CETS:USD000UTSTOM']);
    expect(fh.filteredMessages).to.be.greaterThan(1000);
    const truth = truthOf(gen);
    const want = bookDigest(new Map([...truth].filter(([k]) => k === 'CETS:USD000UTSTOM' || k === 'CETS:SYM003TOM')));
    expect(want.levels).to.be.greaterThan(10);
    expect(strategy.counts.digest).to.equal(want.digest);
    // Every book is still built (RptSeq followed), subscribed or not.
    expect(fh.fastBooks!.bookOf('CETS', 'SYM001TOM')!.bids.count + fh.fastBooks!.bookOf('CETS', 'SYM001TOM')!.asks.count).to.be.greaterThan(0);
  });

  it('bad options name the fix: MoldUDP64 recovery or a frame filter with fast, template XML that is not FAST, the ITCH parts of a FAST handler', () => {
    const port = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: path.join(dir, 'gap.pcap') } });
    try {
      const rx = port.consumer(0);
      const err = (f: () => unknown): TickpathError => { try { f(); } catch (e) { return e as TickpathError; } throw new Error('no error'); };
      let e = err(() => new FeedHandler(rx, undefined, { fast: { templates: xml, lines: kLines }, recovery: { lines: [{ name: 'A', group: '239.195.1.1', port: 16001 }] } }));
      expect(e.code).to.equal('ERR_INVALID_OPTION');
      expect(e.message).to.match(/option 'recovery'.*snapshot line/);
      e = err(() => new FeedHandler(rx, undefined, { fast: { templates: xml, lines: kLines }, filter: { destinationPorts: [16001] } }));
      expect(e.message).to.match(/option 'filter'.*fast\.lines/);
      e = err(() => new FeedHandler(rx, undefined, { fast: { templates: '<templates><template name="T" id="1"><uInt32 name="x"><tail/></uInt32></template></templates>', lines: kLines } }));
      expect(e.code).to.equal('ERR_INVALID_OPTION');
      expect(e.message).to.match(/fast\.templates.*tail applies only to strings/);
      e = err(() => new FeedHandler(rx, undefined, { fast: { templates: xml, lines: [{ name: 'S', group: '239.195.1.2', port: 16002, role: 'snapshot' }] } }));
      expect(e.message).to.match(/at least one incremental line/);
      const fh = new FeedHandler(rx, undefined, { fast: { templates: loadFastTemplates(xml), lines: kLines } });
      e = err(() => fh.decoder);
      expect(e.message).to.match(/fast option.*fix: read fh\.fast/);
      expect(fh.fast!.adapter).to.equal(fh.fastBooks);
    } finally {
      port.close();
    }
  });
});
