/**
 * A MOEX FIX/FAST feed through `tickpath run` as a user runs it (child processes, pcap backend):
 *
 * - the book counters (book_events, quotes, book_bad_references) count the FAST adapter's events,
 *   and `tickpath book --instance` answers from the FAST books (SESSION:SYMBOL names, the bare
 *   symbol too, and --top) with the levels the plain reference decode builds;
 * - snapshot recovery end to end: incrementals with a hole no line fills (a confirmed MsgSeqNum gap:
 *   every book stale), then a snapshot cycle on the snapshot line, then more incrementals; the books
 *   the strategy rebuilt from the events equal the generator's own books, which they could not
 *   without the snapshots (stale instruments drop their incrementals);
 * - the config check refuses settings that FAST would otherwise ignore, naming the fix;
 * - price-level (X-OBR) books with the 2015 templates equal a plain decode's levels;
 * - trades (X-TLR) and security status (f) lines become TRADE and STATUS events with exact totals.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FastEncoder, FastRecord } from '../../../lib/feed/fast/fast-encoder';
import { loadFastTemplates } from '../../../lib/feed/fast/fast-templates';
import { writeMoexPacket } from '../../../lib/feed/fast/moex/moex-packet';
import { MoexSessionGenerator } from '../../../lib/feed/fast/moex/moex-session-generator';
import { PcapFileWriter } from '../../../lib/feed/pcap/pcap-file-writer';
import { PcapReader } from '../../../lib/feed/pcap/pcap-reader';
import { UdpFrameWriter } from '../../../lib/feed/wire/udp-frame-writer';
import { BookLevels, bookDigest } from '../../helpers/book-digest-strategy';
import { kFixtures } from './fast-helpers';
import { PlainBooks, PlainFastReference } from './plain-fast-reference';

const root = path.resolve(kFixtures, '..', '..', '..');
const kCli = path.join(root, 'bin', 'tickpath.js');
const kTemplates = path.join(kFixtures, 'moex-asts-fix50sp2-2017-mar.xml');
/** The earlier MOEX layout, the one with the price-level (aggregated) book channel X-OBR / W-OBS. */
const kTemplates2015 = path.join(kFixtures, 'moex-asts-fix50sp2-2015-apr.xml');
const kStrategy = path.join(root, 'dist', 'test', 'helpers', 'book-digest-strategy.js');

function tickpath(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [kCli, ...args], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function feedConfig(dir: string, pcap = 'pace: fast', extra = '', templates = kTemplates): void {
  fs.writeFileSync(path.join(dir, 'feed_config.yml'), `feed:
  protocol: moex-fast
  backend: pcap
  pcap:
    file: moex.pcap
    ${pcap}
  lines:
    - { name: A, group: 239.195.1.1, port: 16001 }
    - { name: S, group: 239.195.1.2, port: 16002 }
  fast:
    templates: ${templates}
    incremental: [A]
    snapshot: [S]
    price_decimals: 5
    market: CURR
${extra}`);
  for (const name of ['performance.yml', 'routing_config.yml']) fs.copyFileSync(path.join(root, 'configs', name), path.join(dir, name));
}

describe('tickpath run with a MOEX FIX/FAST feed: book counters, tickpath book --instance, snapshot recovery', function () {
  this.timeout(180000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-fast-run2-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** The generator's books at the end of the recovery session (set by the recovery test). */
  let truthDigest: { digest: number; levels: number; orders: number } | undefined;

  it('book_events and quotes count the FAST books; tickpath book --instance shows a FAST book with the reference levels', async () => {
    const pcap = path.join(dir, 'moex.pcap');
    // 2 s of capture time, replayed at the recorded pace until the test stops the run (--duration 30
    // caps it): the instance stays up for however long the questions take on a loaded machine (with
    // four passes, 8 s, it had stopped before a slow chain of book commands was through), and the
    // later passes are duplicates that leave the books as the first one made them.
    const g = tickpath('gen', '--fast-templates', kTemplates, '--out', pcap, '--messages', '2000', '--symbols', '6', '--seed', '21', '--rate', '1000', '--json');
    expect(g.status, g.stderr).to.equal(0);
    const summary = JSON.parse(g.stdout.trim().split('\n').pop()!);
    feedConfig(dir, 'pace: recorded\n    loops: 0');

    // The reference books and entry count, from the plain decoder.
    const reference = new PlainFastReference(kTemplates);
    const plain = new PlainBooks();
    const reader = new PcapReader(new Uint8Array(fs.readFileSync(pcap)), pcap);
    let entries = 0;
    while (reader.next()) {
      const msg = reference.decode(reader.data, reader.frameOffset + 46, reader.capturedLength - 46)!.msg;
      entries += (msg.GroupMDEntries as unknown[]).length;
      plain.applyIncremental(msg);
    }
    expect(entries).to.equal(summary.entries);
    const key = 'CETS:USD000UTSTOM';
    const want = { B: plain.levels(key, '0'), S: plain.levels(key, '1') };
    expect(want.B.length + want.S.length).to.be.greaterThan(4);

    const instance = `fastbook-${process.pid}`;
    const run = spawn(process.execPath, [kCli, 'run', '--config', dir, '--venue-sim', '--instance', instance, '--duration', '30', '--metrics-port', '0', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    run.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    run.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    try {
      // Ask until the first pass is through (the book then stays as it is).
      type Level = { price: number; shares: number; orders: number };
      let got: { bids: Level[]; asks: Level[]; symbol: string } | undefined;
      let last = '';
      const same = (l: Level[], w: [number, number, number][]): boolean => JSON.stringify(l.map((x) => [x.price, x.shares, x.orders])) === JSON.stringify(w);
      for (let waited = 0; waited < 25000; waited += 250) {
        await new Promise((r) => setTimeout(r, 250));
        if (run.exitCode !== null) break;
        const b = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--symbol', 'USD000UTSTOM', '--depth', '50', '--json'], { encoding: 'utf8', timeout: 10000 });
        last = b.stderr + b.stdout;
        if (b.status !== 0) continue;
        got = JSON.parse(b.stdout);
        if (same(got!.bids, want.B) && same(got!.asks, want.S)) break;
      }
      expect(got, `book --instance never answered: ${last}\n${stderr}`).to.not.equal(undefined);
      expect(got!.symbol).to.equal(key);
      expect(got!.bids.map((l) => [l.price, l.shares, l.orders])).to.deep.equal(want.B);
      expect(got!.asks.map((l) => [l.price, l.shares, l.orders])).to.deep.equal(want.S);
      // Prices at the feed's scale (price_decimals 5), not ITCH Price(4): 10x off if the scale is lost.
      const raw = got as unknown as { price_decimals: number; bids: { price: number; price_value: number; price_usd?: number }[] };
      expect(raw.price_decimals).to.equal(5);
      expect(raw.bids[0].price_value).to.equal(want.B[0][0] / 1e5);
      expect(raw.bids[0].price_usd, 'no dollars for a MOEX book').to.equal(undefined);
      const ladder = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--symbol', 'USD000UTSTOM', '--depth', '3'], { encoding: 'utf8', timeout: 10000 });
      expect(ladder.status, ladder.stderr).to.equal(0);
      expect(ladder.stdout).to.match(/side +price +shares/);
      expect(ladder.stdout).to.not.contain('($)');
      const bidRow = ladder.stdout.split('\n').find((l) => /^ +bid /.test(l))!;
      expect(bidRow.trim().split(/ +/).slice(1)).to.deep.equal([(want.B[0][0] / 1e5).toFixed(5), String(want.B[0][1]), String(want.B[0][2])]);
      const askRows = ladder.stdout.split('\n').filter((l) => /^ +ask /.test(l));
      expect(askRows[askRows.length - 1].trim().split(/ +/)[1]).to.equal((want.S[0][0] / 1e5).toFixed(5));
      // The full name asks for the same book.
      const full = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--symbol', key, '--depth', '1', '--json'], { encoding: 'utf8', timeout: 10000 });
      expect(full.status, full.stderr).to.equal(0);
      expect(JSON.parse(full.stdout).bids[0].price).to.equal(want.B[0][0]);
      // The top of every book lists the FAST books by their full names.
      const top = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--top', '--json'], { encoding: 'utf8', timeout: 10000 });
      expect(top.status, top.stderr).to.equal(0);
      const rows = JSON.parse(top.stdout).symbols as { symbol: string; bid: number; ask: number; bid_shares: number }[];
      expect(rows.map((r) => r.symbol)).to.include(key);
      const row = rows.find((r) => r.symbol === key)!;
      expect([row.bid, row.bid_shares, row.ask]).to.deep.equal([want.B[0][0], want.B[0][1], want.S[0][0]]);
      expect((row as unknown as { bid_value: number }).bid_value).to.equal(want.B[0][0] / 1e5);
      // The dashboard's feeds: /api/book for a SESSION:SYMBOL name and /api/top, both with the scale.
      const url = /metrics: (http:\/\/\S+)\/metrics/.exec(stdout)?.[1];
      expect(url, stdout).to.not.equal(undefined);
      const apiBook = await (await fetch(`${url}/api/book?depth=1&symbol=${encodeURIComponent(key)}`)).json() as { priceDecimals: number; snapshot: { bids: { price: number }[] } };
      expect([apiBook.priceDecimals, apiBook.snapshot.bids[0].price]).to.deep.equal([5, want.B[0][0]]);
      const apiTop = await (await fetch(`${url}/api/top`)).json() as { priceDecimals: number };
      expect(apiTop.priceDecimals).to.equal(5);
      const topText = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--top', '--symbol', key], { encoding: 'utf8', timeout: 10000 });
      expect(topText.status, topText.stderr).to.equal(0);
      expect(topText.stdout).to.contain((want.B[0][0] / 1e5).toFixed(5)).and.to.contain((want.S[0][0] / 1e5).toFixed(5));
    } finally {
      if (run.exitCode === null) run.kill('SIGINT');
    }
    expect(await exited, stderr + stdout).to.equal(0);
    const stats = JSON.parse(stdout.trim().split('\n').pop()!);
    const c = stats.counters;
    expect(c.itch_messages, 'FAST messages decoded').to.be.at.least(2000);
    // One order event per entry (every instrument starts at RptSeq 1: no stale marks), plus the QUOTEs.
    expect(c.quotes).to.be.greaterThan(100);
    expect(c.book_events).to.equal(entries + c.quotes);
    expect(c.book_bad_references).to.equal(0);
  });

  it('a MsgSeqNum hole no line fills marks the books stale; the snapshot line rebuilds them and the incrementals after it apply', () => {
    const registry = loadFastTemplates(fs.readFileSync(kTemplates, 'utf8'));
    const gen = new MoexSessionGenerator(registry, { instruments: 8, seed: 77 });
    const pcap = path.join(dir, 'moex.pcap');
    const inc = new UdpFrameWriter({ sourceAddress: '10.50.129.200', destinationAddress: '239.195.1.1', sourcePort: 16001, destinationPort: 16001 });
    const snap = new UdpFrameWriter({ sourceAddress: '10.50.129.200', destinationAddress: '239.195.1.2', sourcePort: 16002, destinationPort: 16002 });
    const writer = new PcapFileWriter(pcap);
    const frame = new Uint8Array(2048);
    let k = 0;
    const add = (w: UdpFrameWriter, d: Uint8Array): void => {
      frame.set(d, w.headerLength);
      writer.addFrame(frame, 0, w.write(frame, 0, d.length), 1488362400 + Math.floor(k / 10000), (k++ % 10000) * 100000);
    };
    // 800 incrementals, 5 lost on every line, 600 more (more than the arbiter holds, so the gap is
    // confirmed before the snapshots arrive), a snapshot cycle, 400 more incrementals.
    for (let i = 0; i < 800; i++) add(inc, gen.nextIncremental().datagram);
    for (let i = 0; i < 5; i++) gen.nextIncremental();
    for (let i = 0; i < 600; i++) add(inc, gen.nextIncremental().datagram);
    let snapshots = 0;
    for (const d of gen.snapshots(5)) { add(snap, d); snapshots++; }
    for (let i = 0; i < 400; i++) add(inc, gen.nextIncremental().datagram);
    writer.close();
    expect(snapshots).to.be.greaterThan(8);

    // The generator's own books: what the exchange holds at the end.
    const truth: BookLevels = new Map();
    gen.books.forEach((orders, i) => {
      const side = (s: '0' | '1'): [number, number, number][] => {
        const agg = new Map<number, [number, number]>();
        for (const o of orders.values()) if (o.side === s) { const l = agg.get(o.price) ?? [0, 0]; l[0] += o.size; l[1]++; agg.set(o.price, l); }
        return [...agg.entries()].sort((a, b) => (s === '0' ? b[0] - a[0] : a[0] - b[0])).map(([p, [q, n]]) => [p, q, n]);
      };
      truth.set(`${gen.session}:${gen.symbols[i]}`, { B: side('0'), S: side('1') });
    });
    const want = bookDigest(truth);
    truthDigest = want;
    expect(want.levels).to.be.greaterThan(40);

    feedConfig(dir);
    const r = tickpath('run', '--config', dir, '--venue-sim', '--strategy', kStrategy, '--duration', '0', '--metrics-port', 'off', '--json');
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const c = stats.counters;
    expect(c.rx_packets).to.equal(1800 + snapshots);
    expect(c.sequence_gaps, 'one confirmed MsgSeqNum gap').to.equal(1);
    expect(c.messages_missing).to.equal(5);
    expect(c.itch_errors).to.equal(0);
    // Every book was marked stale (the gap could have touched any), and each was rebuilt.
    expect(r.stdout + r.stderr).to.match(/stale/i);
    expect(stats.strategy.levels).to.equal(want.levels);
    expect(stats.strategy.orders).to.equal(want.orders);
    expect(stats.strategy.digest).to.equal(want.digest);
  });

  it('without the snapshot line the same session leaves the books wrong (the recovery test above can fail)', () => {
    // Same pcap, but the config has no snapshot line: the snapshot frames are other traffic.
    fs.writeFileSync(path.join(dir, 'feed_config.yml'), fs.readFileSync(path.join(dir, 'feed_config.yml'), 'utf8')
      .replace('    snapshot: [S]\n', '').replace("    - { name: S, group: 239.195.1.2, port: 16002 }\n", ''));
    const r = tickpath('run', '--config', dir, '--venue-sim', '--strategy', kStrategy, '--duration', '0', '--metrics-port', 'off', '--json');
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(stats.counters.other_traffic).to.be.greaterThan(8);
    expect(stats.counters.sequence_gaps).to.equal(1);
    // Stale books dropped every incremental after the gap: not the exchange's books.
    expect(truthDigest).to.not.equal(undefined);
    expect(stats.strategy.digest).to.not.equal(truthDigest!.digest);
  });

  it('the config check refuses what a FAST feed would ignore (a MoldUDP64 re-request server), accepts A/B and snapshot lines over the udp backend', () => {
    feedConfig(dir, 'pace: fast', '  rerequest: { host: 127.0.0.1, port: 9000 }\n');
    let r = tickpath('config', 'check', dir);
    expect(r.status).to.not.equal(0);
    expect(r.stdout + r.stderr).to.match(/feed_config\.yml:16: feed\.rerequest .*snapshot channel[\s\S]*fix: remove feed\.rerequest/);

    fs.writeFileSync(path.join(dir, 'feed_config.yml'), `feed:
  protocol: moex-fast
  backend: udp
  udp: { interface: 127.0.0.1 }
  lines:
    - { name: A, group: 239.195.1.1, port: 16001 }
    - { name: B, group: 239.195.2.1, port: 17001 }
    - { name: S, group: 239.195.1.2, port: 16002 }
  fast:
    templates: ${kTemplates}
    incremental: [A, B]
    snapshot: [S]
`);
    // The udp backend opens one socket per line (A, B and the snapshot line): accepted.
    r = tickpath('config', 'check', dir);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    // A line wait outside 0..10000 ms is refused with the range.
    fs.writeFileSync(path.join(dir, 'feed_config.yml'), fs.readFileSync(path.join(dir, 'feed_config.yml'), 'utf8') + '  line_wait_ms: -1\n');
    r = tickpath('config', 'check', dir);
    expect(r.status).to.not.equal(0);
    expect(r.stdout + r.stderr).to.match(/feed\.line_wait_ms is -1, expected/);
  });

  it('price-level books (X-OBR, aggregated): tickpath run builds the levels a plain decode of the same frames builds', () => {
    // A level session encoded with the exchange's X-OBR-CURR template: new, changed and deleted
    // levels per instrument, RptSeq per instrument, one message per datagram from a reset state.
    const registry = loadFastTemplates(fs.readFileSync(kTemplates2015, 'utf8'));
    const encoder = new FastEncoder(registry);
    const symbols = ['USD000UTSTOM', 'EUR_RUB__TOM', 'CNYRUB_TOM', 'EURUSD000TOM'];
    const levels = symbols.map(() => new Map<string, number>()); // `${side} ${price}` -> size
    const rpt = symbols.map(() => 0);
    let state = 12345;
    const rnd = (n: number): number => { state = (Math.imul(state, 1103515245) + 12345) >>> 0; return (state >>> 8) % n; };
    const pcap = path.join(dir, 'moex.pcap');
    const inc = new UdpFrameWriter({ sourceAddress: '10.50.129.200', destinationAddress: '239.195.1.1', sourcePort: 16001, destinationPort: 16001 });
    const writer = new PcapFileWriter(pcap);
    const frame = new Uint8Array(2048);
    const counts = [0, 0, 0];
    for (let seq = 1; seq <= 1500; seq++) {
      const entries: FastRecord[] = [];
      for (let e = 0, n = 1 + rnd(3); e < n; e++) {
        const i = rnd(symbols.length);
        const side = rnd(2) === 0 ? '0' : '1';
        const price = 6000000 + (side === '0' ? -1 : 1) * (1 + rnd(12)) * 250; // 5 decimals: 60.0xxx
        const key = `${side} ${price}`;
        let action: number;
        let size = 1 + rnd(900);
        if (!levels[i].has(key)) action = 0;
        else if (rnd(10) < 6) action = 1;
        else { action = 2; size = levels[i].get(key)!; }
        if (action === 2) levels[i].delete(key); else levels[i].set(key, size);
        counts[action]++;
        entries.push({ MDUpdateAction: action, MDEntryType: side, Symbol: symbols[i], RptSeq: ++rpt[i], TradingSessionID: 'CETS',
          MDEntryPx: { mantissa: price, exponent: -5 }, MDEntrySize: { mantissa: size, exponent: 0 } });
      }
      encoder.resetDictionaries();
      const message = encoder.encode('X-OBR-CURR', { MsgSeqNum: seq, SendingTime: 20170301101500000n + BigInt(seq), GroupMDEntries: entries });
      const datagram = new Uint8Array(4 + message.length);
      writeMoexPacket(datagram, 0, seq, message);
      frame.set(datagram, inc.headerLength);
      writer.addFrame(frame, 0, inc.write(frame, 0, datagram.length), 1488362400, seq * 1000);
    }
    writer.close();
    expect(counts[1]).to.be.greaterThan(300);
    expect(counts[2]).to.be.greaterThan(200);

    // The reference: every frame through the plain decoder, levels applied the plain way.
    const reference = new PlainFastReference(kTemplates2015);
    const plain = new Map<string, Map<string, number>>();
    const reader = new PcapReader(new Uint8Array(fs.readFileSync(pcap)), pcap);
    while (reader.next()) {
      const decoded = reference.decode(reader.data, reader.frameOffset + 46, reader.capturedLength - 46)!;
      expect(decoded.template).to.equal('X-OBR-CURR');
      for (const e of decoded.msg.GroupMDEntries as Record<string, unknown>[]) {
        const book = `${e.TradingSessionID}:${e.Symbol}`;
        const px = e.MDEntryPx as { mantissa: number; exponent: number };
        const key = `${e.MDEntryType} ${Math.round(px.mantissa * 10 ** (px.exponent + 5))}`;
        if (!plain.has(book)) plain.set(book, new Map());
        if (Number(e.MDUpdateAction) === 2) plain.get(book)!.delete(key);
        else plain.get(book)!.set(key, (e.MDEntrySize as { mantissa: number }).mantissa);
      }
    }
    const want: BookLevels = new Map();
    for (const [book, m] of plain) {
      const side = (s: string): [number, number, number][] => [...m.entries()].filter(([k]) => k.startsWith(`${s} `))
        .map(([k, size]): [number, number, number] => [Number(k.split(' ')[1]), size, 1]).sort((a, b) => (s === '0' ? b[0] - a[0] : a[0] - b[0]));
      want.set(book, { B: side('0'), S: side('1') });
    }
    const digest = bookDigest(want);
    expect(digest.levels).to.equal(levels.reduce((n, m) => n + m.size, 0)); // the reference agrees with the generator
    expect(digest.levels).to.be.greaterThan(40);

    feedConfig(dir, 'pace: fast', '', kTemplates2015);
    const r = tickpath('run', '--config', dir, '--venue-sim', '--strategy', kStrategy, '--duration', '0', '--metrics-port', 'off', '--json');
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(stats.counters.itch_messages, 'FAST messages decoded').to.equal(1500);
    expect(stats.counters.itch_errors).to.equal(0);
    expect(stats.counters.book_bad_references).to.equal(0);
    // One synthetic order per level: levels, orders and digest all equal the reference's.
    expect(stats.strategy.levels).to.equal(digest.levels);
    expect(stats.strategy.orders).to.equal(digest.orders);
    expect(stats.strategy.digest).to.equal(digest.digest);
  });

  /**
   * 600 incrementals, a trades datagram every 4th (RptSeq per instrument on the trades channel), a
   * status message every 50th; `drop` leaves out that trades datagram (by its index), `repeat` sends
   * that one twice. Runs it and returns the expected strategy figures (the dropped trades left out,
   * the repeated ones once) and the run's output.
   */
  function runTradeSession(drop = -1, repeat = -1): { want: Record<string, number>; stats: { counters: Record<string, number>; strategy: Record<string, number> }; output: string; dropped: { symbol: string; rpt: number }[] } {
    const registry = loadFastTemplates(fs.readFileSync(kTemplates, 'utf8'));
    const gen = new MoexSessionGenerator(registry, { instruments: 4, seed: 3 });
    const encoder = new FastEncoder(registry);
    const pcap = path.join(dir, 'moex.pcap');
    const w = (group: string, port: number): UdpFrameWriter => new UdpFrameWriter({ sourceAddress: '10.50.129.200', destinationAddress: group, sourcePort: port, destinationPort: port });
    const inc = w('239.195.1.1', 16001); const trades = w('239.195.1.3', 16003); const status = w('239.195.1.4', 16004);
    const writer = new PcapFileWriter(pcap);
    const frame = new Uint8Array(2048);
    let k = 0;
    const add = (fw: UdpFrameWriter, d: Uint8Array): void => { frame.set(d, fw.headerLength); writer.addFrame(frame, 0, fw.write(frame, 0, d.length), 1488362400, (k++) * 1000); };
    const datagram = (seq: number, message: Uint8Array): Uint8Array => { const d = new Uint8Array(4 + message.length); writeMoexPacket(d, 0, seq, message); return d; };
    const want = { trades: 0, trade_shares: 0, trade_value: 0, buys: 0, sells: 0, match_sum: 0, status_T: 0, status_H: 0, status_Q: 0 };
    const statuses = [[17, 'T'], [2, 'H'], [21, 'Q'], [3, 'T'], [18, 'H']] as const;
    const tradeSeq = [0, 0, 0, 0]; let statusSeq = 0;
    const dropped: { symbol: string; rpt: number }[] = [];
    for (let i = 0; i < 600; i++) {
      add(inc, gen.nextIncremental().datagram);
      if (i % 4 === 0) {
        const entries: FastRecord[] = [];
        for (let j = 0; j < 1 + (i % 3); j++) {
          const size = 1 + ((i * 7 + j) % 50); const price = 6000000 + ((i + j) % 9) * 250; const id = 5000000 + i * 3 + j; const buy = (i + j) % 2 === 0;
          const rpt = ++tradeSeq[(i + j) % 4];
          entries.push({ MDUpdateAction: 0, MDEntryType: '2', MDEntryID: String(id), Symbol: gen.symbols[(i + j) % 4], RptSeq: rpt, OrderSide: buy ? '1' : '2',
            MDEntryPx: { mantissa: price, exponent: -5 }, MDEntrySize: { mantissa: size, exponent: 0 }, TradingSessionID: 'CETS' });
          if (i / 4 === drop) { dropped.push({ symbol: gen.symbols[(i + j) % 4], rpt }); continue; }
          want.trades++; want.trade_shares += size; want.trade_value += size * price; want.match_sum += id;
          if (buy) want.buys++; else want.sells++;
        }
        encoder.resetDictionaries();
        const d = datagram(i / 4 + 1, encoder.encode('X-TLR-CURR', { MsgSeqNum: i / 4 + 1, SendingTime: 20170301101500000n + BigInt(i), GroupMDEntries: entries }));
        if (i / 4 !== drop) add(trades, d);
        if (i / 4 === repeat) add(trades, d);
      }
      if (i % 50 === 0) {
        const [code, letter] = statuses[(i / 50) % statuses.length];
        encoder.resetDictionaries();
        add(status, datagram(++statusSeq, encoder.encode('f', { MsgSeqNum: statusSeq, SendingTime: 20170301101500000n + BigInt(i), Symbol: gen.symbols[(i / 50) % 4],
          TradingSessionID: 'CETS', SecurityTradingStatus: code })));
        want[`status_${letter}`]++;
      }
    }
    writer.close();

    feedConfig(dir, 'pace: fast', '');
    fs.writeFileSync(path.join(dir, 'feed_config.yml'), fs.readFileSync(path.join(dir, 'feed_config.yml'), 'utf8')
      .replace('    - { name: S, group: 239.195.1.2, port: 16002 }\n', '    - { name: S, group: 239.195.1.2, port: 16002 }\n    - { name: T, group: 239.195.1.3, port: 16003 }\n    - { name: I, group: 239.195.1.4, port: 16004 }\n')
      .replace('    snapshot: [S]\n', '    snapshot: [S]\n    trades: [T]\n    status: [I]\n'));
    const strategy = path.join(root, 'dist', 'test', 'feed', 'fast', 'trade-status-strategy.js');
    const r = tickpath('run', '--config', dir, '--venue-sim', '--strategy', strategy, '--duration', '0', '--metrics-port', 'off', '--json');
    expect(r.status, r.stderr + r.stdout).to.equal(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').pop()!);
    return { want, stats, output: r.stdout + r.stderr, dropped };
  }

  it('trades (X-TLR) and security status (f) on their own lines become TRADE and STATUS events', () => {
    const { want, stats, output } = runTradeSession();
    expect(stats.counters.itch_messages).to.equal(600 + 150 + 12);
    expect(stats.counters.other_traffic).to.equal(0);
    expect(want.trades).to.be.greaterThan(250);
    expect(stats.strategy).to.deep.equal({ ...want, status_other: 0 });
    expect(output).to.not.match(/never arrived on the trades line/);
  });

  it('the trades channel\'s RptSeq per instrument: a lost trades datagram is a logged trade gap per instrument, a repeated one is not counted twice', () => {
    const { want, stats, output, dropped } = runTradeSession(10, 20);
    expect(dropped.length).to.be.greaterThan(1);
    // One trades datagram left out, one sent twice: the same number decoded as without either.
    expect(stats.counters.itch_messages).to.equal(600 + 150 + 12);
    // The repeat's trades are dropped as duplicates: the strategy sees each trade once.
    expect(stats.strategy).to.deep.equal({ ...want, status_other: 0 });
    const gaps = [...output.matchAll(/trades of book locate (\d+): RptSeq (\d+) to (\d+) never arrived on the trades line/g)].map((m) => [Number(m[2]), Number(m[3])]);
    expect(gaps.sort((x, y) => x[0] - y[0])).to.deep.equal(dropped.map((x) => [x.rpt, x.rpt]).sort((x, y) => x[0] - y[0]));
  });
});
