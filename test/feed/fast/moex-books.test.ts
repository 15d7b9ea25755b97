/**
 * MOEX FIX/FAST end to end: a generated MOEX-style session (the venue's own templates) written to a
 * pcap, replayed through FastFeedDecoder -> FastBookAdapter, gives the same books as a plain,
 * separately written reference decoder (plain-fast-reference.ts) and as the generator's own truth;
 * RptSeq gaps mark instruments stale and the snapshot channel recovers them; A/B arbitration by
 * MsgSeqNum fills one line's losses from the other and reports a loss both lines share once.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BookEvent, kBookEventStatus } from '../../../lib/feed/book/book-event';
import { Conflator } from '../../../lib/feed/book/conflator';
import { PcapFileWriter } from '../../../lib/feed/pcap/pcap-file-writer';
import { PcapReader } from '../../../lib/feed/pcap/pcap-reader';
import { UdpFrameWriter } from '../../../lib/feed/wire/udp-frame-writer';
import { FastFeedDecoder } from '../../../lib/feed/fast/fast-feed-decoder';
import { FastBookAdapter, kFastBookLive, kFastBookStale } from '../../../lib/feed/fast/moex/fast-book-adapter';
import { MoexLineArbiter } from '../../../lib/feed/fast/moex/moex-line-arbiter';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { FastEncoder, type FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { writeMoexPacket } from '../../../lib/feed/fast/moex/moex-packet';
import { BookRecorder } from '../book-recorder';
import { kFixtures, levelsOf, moexTemplates, forEachEngine } from './fast-helpers';
import { PlainBooks, PlainFastReference } from './plain-fast-reference';

const kTemplates = path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml');

function truthLevels(gen: MoexSessionGenerator, i: number, side: '0' | '1'): [number, number, number][] {
  const agg = new Map<number, [number, number]>();
  for (const o of gen.books[i].values()) {
    if (o.side !== side) continue;
    const l = agg.get(o.price) ?? [0, 0];
    l[0] += o.size; l[1]++;
    agg.set(o.price, l);
  }
  return [...agg.entries()].sort((a, b) => (side === '0' ? b[0] - a[0] : a[0] - b[0])).map(([p, [s, n]]) => [p, s, n]);
}

function expectTruth(adapter: FastBookAdapter, gen: MoexSessionGenerator): void {
  for (let i = 0; i < gen.symbols.length; i++) {
    const book = adapter.bookOf(gen.session, gen.symbols[i]);
    expect(levelsOf(book, true), `${gen.symbols[i]} bids`).to.deep.equal(truthLevels(gen, i, '0'));
    expect(levelsOf(book, false), `${gen.symbols[i]} asks`).to.deep.equal(truthLevels(gen, i, '1'));
  }
}

forEachEngine('MOEX FIX/FAST books', () => {
  const registry = moexTemplates();

  it('a pcap replay gives the same books as a plain, independent decode of the same messages', () => {
    const gen = new MoexSessionGenerator(registry, { instruments: 25, seed: 7 });
    const datagrams = gen.incrementals(4000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fast-'));
    const file = path.join(dir, 'moex-olr.pcap');
    try {
      const frames = new UdpFrameWriter({ sourceAddress: '10.0.0.1', destinationAddress: '239.195.1.1', sourcePort: 16001, destinationPort: 16001 });
      const writer = new PcapFileWriter(file);
      const frame = new Uint8Array(2048);
      datagrams.forEach((d, i) => {
        frame.set(d, frames.headerLength);
        const len = frames.write(frame, 0, d.length);
        writer.addFrame(frame, 0, len, 1488355200 + Math.floor(i / 1000), (i % 1000) * 1000);
      });
      writer.close();

      const recorder = new BookRecorder();
      const adapter = new FastBookAdapter(registry, new Conflator(recorder));
      const feed = new FastFeedDecoder(registry, adapter);
      const reference = new PlainFastReference(kTemplates);
      const plain = new PlainBooks();
      const pcap = new PcapReader(new Uint8Array(fs.readFileSync(file)), 'moex-olr.pcap');
      let delivered = 0;
      let frames2 = 0;
      while (pcap.next()) {
        frames2++;
        delivered += feed.decodeFrame(pcap.data, pcap.frameOffset, pcap.capturedLength);
        feed.endOfBatch();
        // The reference takes the UDP payload at the plain Ethernet/IPv4/UDP offsets.
        const payload = pcap.frameOffset + 42;
        const r = reference.decode(pcap.data, payload + 4, pcap.capturedLength - 46);
        expect(r?.template).to.equal('X-OLR-CURR');
        plain.applyIncremental(r!.msg);
      }
      expect(frames2).to.equal(4000);
      expect(delivered).to.equal(4000);
      expect(feed.counters.badMessages).to.equal(0);
      expect(feed.decoder.counters.errors).to.equal(0);
      const c = adapter.counters;
      expect(c.entries).to.equal(gen.entries);
      expect(c.applied).to.equal(gen.entries);
      expect(c.unknownOrder + c.duplicateOrder + c.levelMismatch + c.badPrice + c.badSize + c.rptSeqGaps + c.staleMarks).to.equal(0);
      for (const key of plain.books.keys()) {
        const [session, symbol] = key.split(':');
        const book = adapter.bookOf(session, symbol);
        expect(levelsOf(book, true), `${key} bids`).to.deep.equal(plain.levels(key, '0'));
        expect(levelsOf(book, false), `${key} asks`).to.deep.equal(plain.levels(key, '1'));
      }
      expectTruth(adapter, gen);
      // Events: one per applied entry plus quotes, in MsgSeqNum order with SendingTime as time of day.
      const orderEvents = recorder.events.filter((e) => e.kind >= 1 && e.kind <= 3);
      expect(orderEvents.length).to.equal(gen.entries);
      expect(orderEvents[0].timestamp).to.equal(((10 * 60) * 60) * 1e9 + 7 * 1e6); // 10:00:00.007 from the first SendingTime
      for (let i = 1; i < orderEvents.length; i++) expect(orderEvents[i].sequence).to.be.at.least(orderEvents[i - 1].sequence);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an RptSeq gap marks only that instrument stale; a snapshot recovers it', () => {
    const gen = new MoexSessionGenerator(registry, { instruments: 8, seed: 11 });
    const recorder = new BookRecorder();
    const stale: string[] = []; const recovered: string[] = [];
    const adapter = new FastBookAdapter(registry, recorder, { listener: { onStale: (_l, n) => stale.push(n), onRecovered: (_l, n) => recovered.push(n) } });
    const feed = new FastFeedDecoder(registry, adapter);
    let dropped: string | undefined;
    for (let i = 0; i < 1500; i++) {
      const { datagram, entries } = gen.nextIncremental();
      if (i === 700 && entries.length === 1) { dropped = `CETS:${entries[0].Symbol}`; continue; }
      if (i === 700) { dropped = undefined; }
      feed.decodePayload(datagram, 0, datagram.length);
    }
    if (dropped === undefined) return; // the seed put several entries in that message; covered by the arbiter test below
    expect(stale).to.deep.equal([dropped]);
    expect(adapter.counters.rptSeqGaps).to.equal(1);
    expect(adapter.staleCount).to.equal(1);
    expect(recorder.events.filter((e) => e.kind === kBookEventStatus).map((e) => [e.symbol, e.tradingState])).to.deep.equal([[dropped, kFastBookStale]]);
    // Snapshot channel: every instrument's current book; only the stale one is rebuilt.
    const snapFeed = new FastFeedDecoder(registry, adapter);
    for (const d of gen.snapshots(4)) snapFeed.decodePayload(d, 0, d.length);
    expect(recovered).to.deep.equal([dropped]);
    expect(adapter.staleCount).to.equal(0);
    expect(adapter.counters.snapshotsApplied).to.equal(1);
    expect(recorder.events.filter((e) => e.kind === kBookEventStatus).map((e) => e.tradingState)).to.deep.equal([kFastBookStale, kFastBookLive]);
    expectTruth(adapter, gen);
    // Live again: later incrementals apply.
    for (const d of gen.incrementals(300)) feed.decodePayload(d, 0, d.length);
    expect(adapter.staleCount).to.equal(0);
    expectTruth(adapter, gen);
  });

  it('joining mid-session: instruments wait stale for their snapshot, then follow the incrementals', () => {
    const gen = new MoexSessionGenerator(registry, { instruments: 6, seed: 3 });
    gen.incrementals(500); // missed before the handler started
    const adapter = new FastBookAdapter(registry, new BookRecorder());
    const feed = new FastFeedDecoder(registry, adapter);
    for (const d of gen.incrementals(50)) feed.decodePayload(d, 0, d.length);
    expect(adapter.staleCount).to.be.greaterThan(0);
    for (const d of gen.snapshots(3)) new FastFeedDecoder(registry, adapter).decodePayload(d, 0, d.length);
    expect(adapter.staleCount).to.equal(0);
    for (const d of gen.incrementals(500)) feed.decodePayload(d, 0, d.length);
    expect(adapter.staleCount).to.equal(0);
    expectTruth(adapter, gen);
  });

  it('A/B arbitration: each line loses different datagrams and arrives out of order; books are whole, no gap', () => {
    const gen = new MoexSessionGenerator(registry, { instruments: 10, seed: 5 });
    const datagrams = gen.incrementals(2000);
    const adapter = new FastBookAdapter(registry, new BookRecorder());
    const feed = new FastFeedDecoder(registry, adapter);
    const gaps: [number, number][] = [];
    let now = 0;
    const arbiter = new MoexLineArbiter(feed, { clock: () => now, listener: { onGap: (a, b) => gaps.push([a, b]) } });
    let pendingB: Uint8Array[] = [];
    datagrams.forEach((d, i) => {
      now += 0.001;
      if (i % 7 !== 3) arbiter.onDatagram(0, d, 0, d.length);
      if (i % 7 !== 5) pendingB.push(d);
      if (pendingB.length === 3) { for (const b of pendingB.reverse()) arbiter.onDatagram(1, b, 0, b.length); pendingB = []; }
    });
    for (const b of pendingB) arbiter.onDatagram(1, b, 0, b.length);
    now += 10;
    arbiter.poll(now);
    expect(gaps).to.deep.equal([]);
    expect(arbiter.counters.delivered).to.equal(2000);
    expect(arbiter.lines[0].firsts + arbiter.lines[1].firsts).to.equal(2000);
    expect(adapter.counters.rptSeqGaps).to.equal(0);
    expectTruth(adapter, gen);
  });

  it('A/B arbitration: a datagram both lines lose is one confirmed gap after the line wait', () => {
    const gen = new MoexSessionGenerator(registry, { instruments: 4, seed: 9, entriesPerMessage: 1 });
    const datagrams = gen.incrementals(100);
    const events: BookEvent[] = [];
    const adapter = new FastBookAdapter(registry, { onEvent: (e) => { if (e.kind === kBookEventStatus) { const c = new BookEvent(); c.copyFrom(e); events.push(c); } }, endOfBatch: () => undefined });
    const feed = new FastFeedDecoder(registry, adapter);
    const gaps: [number, number][] = [];
    let now = 0;
    const arbiter = new MoexLineArbiter(feed, { clock: () => now, lineWaitMs: 2, listener: { onGap: (a, b) => gaps.push([a, b]) } });
    datagrams.forEach((d, i) => {
      now += 0.5;
      if (i === 40) return; // MsgSeqNum 41 lost on both lines
      arbiter.onDatagram(0, d, 0, d.length);
      arbiter.onDatagram(1, d, 0, d.length);
    });
    arbiter.poll(now + 5);
    expect(gaps).to.deep.equal([[41, 41]]);
    expect(arbiter.counters.delivered).to.equal(99);
    expect(arbiter.lines[1].duplicates).to.equal(99);
    expect(adapter.counters.rptSeqGaps).to.equal(1);
    expect(events.map((e) => e.tradingState)).to.deep.equal([kFastBookStale]);
  });

  it('orders are keyed by the exchange order id alone: a change or delete naming an order of another instrument is refused and counted', () => {
    const encoder = new FastEncoder(registry);
    const adapter = new FastBookAdapter(registry, new BookRecorder());
    const feed = new FastFeedDecoder(registry, adapter);
    let seq = 0;
    const send = (entries: FastRecord[]): void => {
      encoder.resetDictionaries();
      const message = encoder.encode('X-OLR-CURR', { MsgSeqNum: ++seq, SendingTime: 20170301100000000n + BigInt(seq), GroupMDEntries: entries });
      const datagram = new Uint8Array(4 + message.length);
      writeMoexPacket(datagram, 0, seq, message);
      feed.decodePayload(datagram, 0, datagram.length);
    };
    const entry = (symbol: string, rpt: number, action: number, id: number, size: number): FastRecord => ({
      MDUpdateAction: action, MDEntryType: '0', MDEntryID: String(id), Symbol: symbol, RptSeq: rpt,
      MDEntryPx: { mantissa: 650000, exponent: -4 }, MDEntrySize: { mantissa: size, exponent: 0 }, TradingSessionID: 'CETS',
    });
    send([entry('AAA000TOM', 1, 0, 7, 100), entry('BBB000TOM', 1, 0, 8, 50), entry('CCC000TOM', 1, 0, 9, 20)]);
    expect(adapter.bookOf('CETS', 'AAA000TOM')!.bids.count).to.equal(1);
    // Id 7 rests on AAA: a delete for BBB and a change for CCC naming it must not touch AAA's book
    // (each marks its own instrument stale, which drops its later incrementals until a snapshot).
    send([entry('BBB000TOM', 2, 2, 7, 0)]);
    send([entry('CCC000TOM', 2, 1, 7, 10)]);
    expect(adapter.counters.instrumentMismatch).to.equal(2);
    expect(levelsOf(adapter.bookOf('CETS', 'AAA000TOM'), true)).to.deep.equal([[6500000, 100, 1]]);
    expect(levelsOf(adapter.bookOf('CETS', 'BBB000TOM'), true)).to.deep.equal([[6500000, 50, 1]]);
    // The right instrument deletes it.
    send([entry('AAA000TOM', 2, 2, 7, 0)]);
    expect(adapter.bookOf('CETS', 'AAA000TOM')!.bids.count).to.equal(0);
    expect(adapter.counters.unknownOrder).to.equal(0);
  });
});
