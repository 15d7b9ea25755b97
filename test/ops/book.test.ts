import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as os from 'os';
import { SessionGenerator, syntheticTicker } from '../../lib/tools/session-generator';
import * as fs from 'fs';
import * as path from 'path';
import { formatItchTime, formatNs, parseItchTime } from '../../lib/ops/units';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kFixtures = path.join(kRoot, 'test', 'fixtures', 'itch');
const kMulti = path.join(kFixtures, 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');

interface OracleRow { seq: number; messagetype: string; stock?: string; buysellindicator?: string; shares?: string; price?: string; timestamp: string;
  orderreferencenumber?: string; tradingstate?: string }
interface Level { price: number; shares: number; orders: number }

function oracle(pcap: string): OracleRow[] {
  return fs.readFileSync(pcap.replace(/\.pcap$/, '.oracle.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OracleRow);
}

/**
 * A reference book from the independent decoder's values, adds and deletes only (all this capture
 * holds): price "80.52" -> 805200 by string arithmetic, levels summed by hand.
 */
function referenceBook(rows: OracleRow[], symbol: string, untilSeq = Infinity): { bids: Level[]; asks: Level[] } {
  const open = new Map<string, { side: string; price: number; shares: number }>();
  for (const r of rows) {
    if (r.seq > untilSeq) break;
    if ((r.messagetype === 'A' || r.messagetype === 'F') && r.stock === symbol) {
      const [whole, frac = ''] = r.price!.split('.');
      open.set(r.orderreferencenumber!, { side: r.buysellindicator!, price: Number(whole) * 10000 + Number(frac.padEnd(4, '0')), shares: Number(r.shares) });
    } else if (r.messagetype === 'D') {
      open.delete(r.orderreferencenumber!);
    }
  }
  const side = (s: string, bestFirst: (a: number, b: number) => number): Level[] => {
    const levels = new Map<number, Level>();
    for (const o of open.values()) {
      if (o.side !== s) continue;
      const l = levels.get(o.price) ?? { price: o.price, shares: 0, orders: 0 };
      l.shares += o.shares; l.orders++;
      levels.set(o.price, l);
    }
    return [...levels.values()].sort((a, b) => bestFirst(a.price, b.price));
  };
  return { bids: side('B', (a, b) => b - a), asks: side('S', (a, b) => a - b) };
}

function book(...args: string[]) {
  return spawnSync(process.execPath, [kCli, 'book', ...args], { encoding: 'utf8', timeout: 60000 });
}

describe('ops: tickpath book --pcap (the book view from a capture)', function () {
  this.timeout(60000);
  const rows = oracle(kMulti);

  it('prints exactly the levels an independent decoder implies: every level, shares and order counts, both sides', () => {
    const r = book('--pcap', kMulti, '--symbol', 'META', '--depth', '50', '--json');
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    const ref = referenceBook(rows, 'META');
    expect(j.bids.map((l: Level) => ({ price: l.price, shares: l.shares, orders: l.orders }))).to.deep.equal(ref.bids);
    expect(j.asks.map((l: Level) => ({ price: l.price, shares: l.shares, orders: l.orders }))).to.deep.equal(ref.asks);
    // The busiest levels of this real capture, by hand from the oracle file: 12 bids at $80, 11 asks at $358.
    expect(j.bids.at(-1)).to.deep.equal({ price: 800000, price_value: 80, price_usd: 80, shares: 522, orders: 12 });
    expect(j.asks.at(-1)).to.deep.equal({ price: 3580000, price_value: 358, price_usd: 358, shares: 239, orders: 11 });
    expect(j.last_sequence).to.equal(rows.at(-1)!.seq);
    expect(j.last_time).to.equal('09:30:38.952381153');
    expect(j.trading_state).to.equal('');
  });

  it('--seq N stops after message N; --at TIME stops at that ITCH time', () => {
    const untilSeq = 19009130;
    const r = book('--pcap', kMulti, '--symbol', 'META', '--seq', String(untilSeq), '--json');
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    const ref = referenceBook(rows, 'META', untilSeq);
    expect(j.bids.map((l: Level) => [l.price, l.shares, l.orders])).to.deep.equal(ref.bids.map((l) => [l.price, l.shares, l.orders]));
    expect(j.asks.map((l: Level) => [l.price, l.shares, l.orders])).to.deep.equal(ref.asks.map((l) => [l.price, l.shares, l.orders]));
    expect(j.last_sequence).to.equal(untilSeq);
    expect(j.messages).to.equal(rows.filter((x) => x.seq <= untilSeq).length);
    // Every META order arrives at 09:30:38.952381153: one ns earlier there is no META book yet.
    const before = book('--pcap', kMulti, '--symbol', 'META', '--at', '09:30:38.952381152');
    expect(before.status).to.equal(1);
    expect(before.stderr).to.match(/no book for META/);
    const at = book('--pcap', kMulti, '--symbol', 'META', '--at', '09:30:38.952381153', '--json');
    expect(JSON.parse(at.stdout).bids.length).to.equal(referenceBook(rows, 'META').bids.length);
  });

  it('the readable ladder: asks above bids, prices in dollars, the spread, the last trade and the trading state', () => {
    const r = book('--pcap', kMulti, '--symbol', 'META', '--depth', '3');
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^META {2}stock locate 6514 {2}trading state unknown/);
    expect(lines).to.include('  ask      357.4200          1       1');
    expect(lines).to.include('  ---- spread 276.8100  mid 218.9250 ----');
    expect(lines).to.include('  bid       80.5200          1       1');
    expect(lines.indexOf('  ask      357.3300        100       1')).to.be.lessThan(lines.indexOf('  bid       80.5200          1       1'));
    expect(r.stdout).to.match(/6 more ask levels/).and.match(/5 more bid levels/);
    expect(lines.at(-1)).to.equal('last trade: none yet');
  });

  it('trading state from Stock Trading Action and last trade from trade messages (a real capture of each)', () => {
    const halts = path.join(kFixtures, 'Nasdaq.Equities.TotalView.Itch.v5.0.20230822', 'StockTradingAction.pcap');
    const h = oracle(halts);
    const sym = h[0].stock!;
    const expected = h.filter((x) => x.stock === sym).at(-1)!.tradingstate;
    const r = book('--pcap', halts, '--symbol', sym, '--json');
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).trading_state).to.equal(expected);

    const trades = path.join(kFixtures, 'Nasdaq.Equities.TotalView.Itch.v5.0.20230822', 'NonCrossTrade.pcap');
    const t = oracle(trades);
    const last = t.filter((x) => x.stock === t[0].stock).at(-1)!;
    const tr = book('--pcap', trades, '--symbol', t[0].stock!, '--json');
    expect(tr.status, tr.stderr).to.equal(0);
    const lt = JSON.parse(tr.stdout).last_trade;
    expect(lt.price_usd).to.equal(Number(last.price));
    expect(lt.shares).to.equal(Number(last.shares));
    expect(lt.timestamp_ns).to.equal(Number(last.timestamp));
    expect(lt.time).to.equal(formatItchTime(Number(last.timestamp)));
  });

  it('bad usage exits 2 naming the option; an unknown symbol exits 1 listing the symbols there are', () => {
    expect(book('--pcap', kMulti).status).to.equal(2);
    const bad = book('--pcap', kMulti, '--symbol', 'META', '--at', '25:00:00');
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/option --at is "25:00:00", expected HH:MM:SS/);
    const none = book('--pcap', kMulti, '--symbol', 'NOPE');
    expect(none.status).to.equal(1);
    expect(none.stderr).to.match(/no book for NOPE .*symbols with a book: META/);
  });

  it('units: ns/µs/ms/s and ITCH clock time both ways', () => {
    expect([850, 1234, 12_400, 3_100_000, 31_130_000, 1.2e9].map(formatNs)).to.deep.equal(['850 ns', '1.23 µs', '12.4 µs', '3.10 ms', '31.1 ms', '1.20 s']);
    expect(parseItchTime('09:30:38.952381153')).to.equal(34238952381153);
    expect(parseItchTime('09:30:38.95')).to.equal(34238950000000);
    expect(parseItchTime('9:30:00')).to.equal(34200e9);
    expect(formatItchTime(34238952381153)).to.equal('09:30:38.952381153');
    expect(parseItchTime('nope')).to.equal(undefined);
  });
});

describe('ops: tickpath book --instance (live, from a running tickpath run)', function () {
  this.timeout(90000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-book-live-'));
  const capture = path.join(dir, 'session.pcap');
  before(() => { new SessionGenerator({ symbols: 5, rate: 20000, durationSeconds: 12, seed: 3 }).writePcap(capture); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('asks the running instance: a sane ladder on the command line and the same book from /api/book', async () => {
    const instance = `booktest-${process.pid}`;
    const run = spawn(process.execPath, [kCli, 'run', '--backend', 'pcap', '--pcap', capture, '--duration', '10', '--instance', instance, '--metrics-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout.on('data', (d) => { out += d; });
    run.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => run.on('exit', (code) => r(code)));
    try {
      const t0 = Date.now();
      while (!/\[ {2}2s\]/.test(out) && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 100));
      expect(out, out).to.match(/metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/);
      const symbol = syntheticTicker(1);
      const r = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--symbol', symbol, '--depth', '5', '--json'], { encoding: 'utf8', timeout: 20000 });
      expect(r.status, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout);
      expect(j.symbol).to.equal(symbol);
      expect(j.source).to.equal('instance');
      expect(j.bids.length).to.be.within(1, 5);
      expect(j.asks.length).to.be.within(1, 5);
      for (const side of [j.bids, j.asks]) {
        for (const l of side) { expect(l.shares).to.be.greaterThan(0); expect(l.orders).to.be.greaterThan(0); expect(l.price_usd).to.equal(l.price / 10000); }
      }
      for (let i = 1; i < j.bids.length; i++) expect(j.bids[i].price).to.be.lessThan(j.bids[i - 1].price);
      for (let i = 1; i < j.asks.length; i++) expect(j.asks[i].price).to.be.greaterThan(j.asks[i - 1].price);
      const text = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--symbol', symbol], { encoding: 'utf8', timeout: 20000 });
      expect(text.status, text.stderr).to.equal(0);
      expect(text.stdout).to.match(new RegExp(`^${symbol} {2}stock locate \\d+ {2}trading state T \\(trading\\) {2}live, instance ${instance}`));
      expect(text.stdout).to.match(/^ {2}bid +\d+\.\d{4} +\d+ +\d+$/m).and.match(/^ {2}ask +\d+\.\d{4} +\d+ +\d+$/m);

      const base = /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(out)![1];
      const api = await (await fetch(`${base}/api/book?symbol=${symbol}&depth=5`)).json() as { found: boolean; snapshot: { bids: unknown[] } };
      expect(api.found).to.equal(true);
      expect(api.snapshot.bids.length).to.be.greaterThan(0);
      const top = await (await fetch(`${base}/api/top`)).json() as { symbols: { symbol: string }[] };
      expect(top.symbols.map((t) => t.symbol)).to.include(symbol);
      expect((await fetch(`${base}/api/book?symbol=NOSUCH`)).status).to.equal(404);
      expect((await fetch(`${base}/api/book`)).status).to.equal(400);
    } finally {
      run.kill('SIGINT');
      expect(await exited).to.equal(0);
    }
    const gone = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--symbol', 'X'], { encoding: 'utf8' });
    expect(gone.status).to.equal(1);
    expect(gone.stderr).to.match(/no tickpath instance|not running/);
  });
});
