/**
 * The books' idle warm walk (performance.stages.book.warm_idle, BookBuilder.warmStep): read-only,
 * so books and events are the same with and without it, on the fixtures' real captures and on a
 * generated session (also with an order table small enough that its window moves and orders fall
 * into the overflow table); it loads the lines it claims to; and in a real `tickpath run` it runs
 * (counter books_warm_steps, printed) with the switch on, not at all with it off, and the books the
 * strategy sees are the same either way.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parsePerformanceConfig } from '../../lib/config/performance-config';
import { BookBuilder } from '../../lib/feed/book/book-builder';
import { snapshotOfBook } from '../../lib/feed/book/book-snapshot';
import { OrderStore } from '../../lib/feed/book/order-store';
import { FeedDecoder } from '../../lib/feed/feed-decoder';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { BookRecorder } from '../feed/book-recorder';
import { fixturePcaps } from '../feed/itch-fixtures';

const kRoot = path.join(__dirname, '..', '..', '..');
const kConfigs = path.join(kRoot, 'configs');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kDigest = path.join(kRoot, 'dist', 'test', 'helpers', 'book-digest-strategy.js');

type Warm = 'off' | 'every message' | 'every packet';

/** Replays a capture through FeedDecoder into a BookBuilder, walking the books as `warm` says. */
function replay(file: string, warm: Warm, orders?: () => OrderStore) {
  const rec = new BookRecorder();
  const books = new BookBuilder(rec, orders ? { orders: orders() } : {});
  let sink = 0;
  const feed = new FeedDecoder({
    onMessage(d, type, seq) {
      books.onMessage(d, type, seq);
      if (warm === 'every message') sink += books.warmStep();
    },
    endOfBatch() { books.endOfBatch(); },
  });
  const reader = new PcapReader(fs.readFileSync(file), path.basename(file));
  while (reader.next()) {
    feed.decodeFrame(reader.data, reader.frameOffset, reader.capturedLength);
    feed.endOfBatch();
    // Bigger slices than shipped, and more of them: every side and every recent record, often.
    if (warm === 'every packet') for (let i = 0; i < 4; i++) sink += books.warmStep(100000, 4096, 4096);
  }
  return {
    events: rec.events,
    books: books.allBooks().map((b) => snapshotOfBook(b, 100000)),
    resting: books.orders.size,
    counters: { ...books.counters },
    sink,
  };
}

describe('books/idle warm walk (BookBuilder.warmStep)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-books-warm-'));
  const session = path.join(dir, 'session.pcap');
  before(() => { new SessionGenerator({ symbols: 12, rate: 40000, durationSeconds: 1, seed: 5 }).writePcap(session); });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('books and events are the same with and without it: the real ITCH captures and a generated session', () => {
    const files = [...fixturePcaps(), session];
    expect(files.length).to.be.greaterThan(30);
    let walked = 0;
    for (const file of files) {
      const off = replay(file, 'off');
      for (const warm of ['every message', 'every packet'] as const) {
        const on = replay(file, warm);
        expect(on.events, `${path.basename(file)}, ${warm}: events`).to.deep.equal(off.events);
        expect(on.books, `${path.basename(file)}, ${warm}: books`).to.deep.equal(off.books);
        expect([on.resting, on.counters], `${path.basename(file)}, ${warm}: resting orders and counters`).to.deep.equal([off.resting, off.counters]);
        walked += on.sink;
      }
    }
    const s = replay(session, 'off');
    expect(s.events.length, 'the generated session makes events').to.be.greaterThan(10000);
    expect(s.resting, 'and leaves orders resting').to.be.greaterThan(100);
    // The walk loaded book lines (shares and ladder origins are positive): it is not dead code.
    expect(walked).to.be.greaterThan(0);
  });

  it('the same with an order table whose window moves (pages evicted into the overflow table) under the walk', () => {
    // 16 references a page, 8 pages: the session's references outrun the window many times over.
    const small = () => new OrderStore(1 << 8, { pageBits: 4, windowPages: 8 });
    const off = replay(session, 'off', small);
    const on = replay(session, 'every message', small);
    expect(on.events).to.deep.equal(off.events);
    expect(on.books).to.deep.equal(off.books);
    expect([on.resting, on.counters]).to.deep.equal([off.resting, off.counters]);
    expect(replay(session, 'every packet', small).books).to.deep.equal(off.books);
    // The reference layout's books: the table's layout changes nothing either.
    expect(off.books).to.deep.equal(replay(session, 'off').books);
  });

  it('the order table\'s walk loads the records of the newest pages, and nothing on an empty table', () => {
    const store = new OrderStore(1 << 12);
    expect(store.warmStep(64, 64), 'empty table').to.equal(0);
    // One full page (references 0..1023, default 1024 to a page), 7 shares each.
    for (let ref = 0; ref < 1024; ref++) store.insert(ref, 1, 0x42, 100, 7);
    // With one page to walk, a step moves five records (about a line) and wraps at the page's end:
    // every record it reads is a live one, so the sink is 7 per line read.
    expect(store.warmStep(10000, 1)).to.equal(7 * 10000);
    // Far pages behind the window's head that are not installed are skipped, not misread.
    expect(store.warmStep(100, 64) % 7).to.equal(0);
    for (let ref = 0; ref < 1024; ref++) store.remove(store.find(ref));
    expect(store.warmStep(10000, 1), 'every record freed (the page went back to the pool)').to.equal(0);
  });

  it('the level store\'s walk reads the sides that have levels, and an empty builder walks nothing', () => {
    const empty = new BookBuilder(new BookRecorder());
    expect(empty.warmStep()).to.equal(0);
    const books = new BookBuilder(new BookRecorder());
    books.levels.addOrder(2 * 7, 1_000_000, 300);
    // One side: its meta line (the ladder origin, positive) and its best level's 300 shares.
    const one = books.levels.warmStep(1);
    expect(one).to.be.greaterThan(300);
    expect(books.levels.warmStep(5), 'the cursor wraps over the one side').to.equal(5 * one);
  });

  it('config: performance.stages.book.warm_idle is a boolean, off when absent, on in the shipped performance.yml', () => {
    const shipped = fs.readFileSync(path.join(kConfigs, 'performance.yml'), 'utf8');
    expect(parsePerformanceConfig(shipped, 'performance.yml', { cpuCount: 2 }).stages.book.warmIdle).to.equal(true);
    const without = shipped.replace(/\n\s*warm_idle: true[^\n]*(\n\s+#[^\n]*)*/, '');
    expect(without).to.not.contain('warm_idle');
    expect(parsePerformanceConfig(without, 'performance.yml', { cpuCount: 2 }).stages.book.warmIdle).to.equal(false);
    const bad = shipped.replace(/warm_idle: true/, 'warm_idle: 3');
    expect(() => parsePerformanceConfig(bad, 'performance.yml', { cpuCount: 2 })).to.throw(/performance\.stages\.book\.warm_idle/);
  });

  it('tickpath run: the walk runs with warm_idle on (counted, printed), not at all with it off, and the books are the same', function () {
    this.timeout(240000);
    // At the recorded pace, so the decoder has empty turns between packets.
    const runWith = (warmIdle: boolean) => {
      const cfg = fs.mkdtempSync(path.join(dir, `cfg-${warmIdle}-`));
      let feed = fs.readFileSync(path.join(kConfigs, 'feed_config.yml'), 'utf8').split('../test/').join(`${kRoot}/test/`);
      feed = feed.replace(/^(\s*file:\s*).*Multiple\.Packets\.pcap$/m, `$1${session}`).replace(/pace: fast/, 'pace: recorded');
      expect(feed).to.contain(session);
      expect(feed).to.contain('pace: recorded');
      fs.writeFileSync(path.join(cfg, 'feed_config.yml'), feed);
      fs.writeFileSync(path.join(cfg, 'routing_config.yml'), fs.readFileSync(path.join(kConfigs, 'routing_config.yml'), 'utf8').replace('../var/orders.journal', './orders.journal'));
      const perf = fs.readFileSync(path.join(kConfigs, 'performance.yml'), 'utf8').replace(/warm_idle: true/, `warm_idle: ${warmIdle}`);
      expect(perf).to.contain(`warm_idle: ${warmIdle}`);
      fs.writeFileSync(path.join(cfg, 'performance.yml'), perf);
      const r = spawnSync(process.execPath, [kCli, 'run', '--config', cfg, '--venue-sim', '--strategy', kDigest, '--duration', '0', '--metrics-port', 'off', '--json'],
        { encoding: 'utf8', timeout: 110000, maxBuffer: 64 << 20 });
      expect(r.status, r.stderr).to.equal(0);
      return { out: r.stdout, st: JSON.parse(r.stdout.trim().split('\n').pop()!) as { counters: Record<string, number>; strategy: Record<string, number> } };
    };
    const on = runWith(true);
    const off = runWith(false);
    expect(on.st.counters.itch_messages).to.be.greaterThan(10000);
    expect(on.st.counters.books_warm_steps, 'slices walked between the paced packets').to.be.greaterThan(0);
    expect(on.out).to.match(/books: \d+ idle warm-walk slices/);
    expect(off.st.counters.books_warm_steps).to.equal(0);
    expect(off.out).to.not.contain('idle warm-walk');
    // The strategy rebuilt every book from the events it got: same digest, levels and orders.
    expect(on.st.strategy.levels, 'the session leaves books standing').to.be.greaterThan(20);
    const seen = (x: typeof on.st) => ({ ...x.strategy, events: x.strategy.events + x.counters.conflated });
    expect(seen(on.st)).to.deep.equal(seen(off.st));
    for (const k of ['itch_messages', 'book_events', 'quotes', 'book_bad_references', 'itch_errors', 'sequence_gaps']) expect(on.st.counters[k], k).to.equal(off.st.counters[k]);
  });
});
