/**
 * `tickpath book --instance` live, through real processes: a `tickpath run` replays a real NASDAQ
 * capture (the META packet of Multiple.Packets.pcap, re-sent once a second: the copies are
 * duplicates the sequencer drops, so the book stays what the first one built and the instance
 * stays up), and `tickpath book` asks it. The top of book (best bid and ask, the shares and orders
 * at each) must equal what the independent decoder's values imply; `--watch` must refresh, exit 0
 * on SIGINT and on SIGTERM within a bound, and say clearly, with exit 1, when the instance is gone.
 */
import { expect } from 'chai';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PcapReader } from '../../lib/feed';
import { pcapBytes } from '../helpers/pcap-writer';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kMulti = path.join(kRoot, 'test', 'fixtures', 'itch', 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');

interface Level { price: number; shares: number; orders: number }

/** Best levels from the independent decoder's rows of frame 2 (adds only): "80.52" -> 805200 by string arithmetic. */
function referenceTop(symbol: string): { bid: Level; ask: Level } {
  const rows = fs.readFileSync(kMulti.replace(/\.pcap$/, '.oracle.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string | number>);
  const levels = { B: new Map<number, Level>(), S: new Map<number, Level>() };
  for (const r of rows) {
    if (r.frame !== 2 || r.messagetype !== 'A' || r.stock !== symbol) continue;
    const [whole, frac = ''] = String(r.price).split('.');
    const price = Number(whole) * 10000 + Number(frac.padEnd(4, '0'));
    const side = levels[r.buysellindicator as 'B' | 'S'];
    const l = side.get(price) ?? { price, shares: 0, orders: 0 };
    l.shares += Number(r.shares); l.orders++;
    side.set(price, l);
  }
  const bid = [...levels.B.values()].sort((a, b) => b.price - a.price)[0];
  const ask = [...levels.S.values()].sort((a, b) => a.price - b.price)[0];
  return { bid, ask };
}

interface Proc { child: ChildProcess; out: () => string; exited: Promise<{ code: number | null; ms: number }> }

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [kCli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const t0 = Date.now();
  const exited = new Promise<{ code: number | null; ms: number }>((resolve) => child.on('exit', (code) => resolve({ code, ms: Date.now() - t0 })));
  return { child, out: () => out, exited };
}

async function waitFor(p: Proc, re: RegExp, boundMs: number): Promise<void> {
  const t0 = Date.now();
  while (!re.test(p.out())) {
    if (Date.now() - t0 > boundMs) throw new Error(`waited ${boundMs} ms for ${re}:\n${p.out().slice(-2000)}`);
    if (p.child.exitCode !== null) throw new Error(`exited (${p.child.exitCode}) before ${re}:\n${p.out().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exitWithin(p: Proc, boundMs: number): Promise<{ code: number | null; ms: number }> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), boundMs);
  try { return await p.exited; } finally { clearTimeout(timer); }
}

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

describe('ops: tickpath book --instance --top and --watch against a running tickpath run', function () {
  this.timeout(120000);
  const instance = `opsbook${process.pid}`;
  let dir = '';
  let run: Proc;
  let metrics = '';
  const want = referenceTop('META');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-ops-book-'));
    const data = fs.readFileSync(kMulti);
    const reader = new PcapReader(data, kMulti);
    const frames: Uint8Array[] = [];
    while (reader.next()) frames.push(new Uint8Array(data.subarray(reader.frameOffset, reader.frameOffset + reader.capturedLength)));
    const capture = path.join(dir, 'meta.pcap');
    fs.writeFileSync(capture, pcapBytes(Array.from({ length: 60 }, (_, i) => ({ data: frames[1], sec: 1_700_000_000 + i, nsec: 0 }))));
    run = start(['run', '--backend', 'pcap', '--pcap', capture, '--duration', '0', '--instance', instance, '--metrics-port', '0']);
    await waitFor(run, /\[ {2}1s\]/, 60000);
    metrics = /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(run.out())![1];
  });
  after(async () => {
    if (run && run.child.exitCode === null) { run.child.kill('SIGKILL'); await run.exited; }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the reference is not vacuous', () => {
    expect(want.bid).to.deep.equal({ price: 805200, shares: 1, orders: 1 });
    expect(want.ask.price).to.equal(3573300);
    expect(want.ask.shares).to.be.greaterThan(0);
  });

  it('--top --json: best bid and ask with the shares and orders at each, as the independent decoder implies', () => {
    const r = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--top', '--json'], { encoding: 'utf8', timeout: 20000 });
    expect(r.status, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    expect(j.symbols).to.deep.equal([{
      symbol: 'META', bid: want.bid.price, bid_value: want.bid.price / 10000, bid_usd: want.bid.price / 10000, bid_shares: want.bid.shares, bid_orders: want.bid.orders,
      ask: want.ask.price, ask_value: want.ask.price / 10000, ask_usd: want.ask.price / 10000, ask_shares: want.ask.shares, ask_orders: want.ask.orders,
    }]);
    expect(j.omitted).to.equal(0);
    expect(j.price_decimals, 'an ITCH instance answers in Price(4)').to.equal(4);
    const text = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--top'], { encoding: 'utf8', timeout: 20000 });
    expect(text.status, text.stderr).to.equal(0);
    expect(text.stdout).to.match(new RegExp(`^ {2}META +${want.bid.orders} +${want.bid.shares} +80\\.5200 +357\\.3300 +${want.ask.shares} +${want.ask.orders} +276\\.8100$`, 'm'));
    const none = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--top', '--symbol', 'NOPE'], { encoding: 'utf8', timeout: 20000 });
    expect(none.status).to.equal(1);
    expect(none.stderr).to.contain('no book for NOPE').and.contain('META');
    const usage = spawnSync(process.execPath, [kCli, 'book', '--pcap', kMulti, '--top'], { encoding: 'utf8', timeout: 20000 });
    expect(usage.status).to.equal(2);
    expect(usage.stderr).to.contain('--top goes with --instance');
  });

  it('the dashboard\'s top-of-book table (/api/top) carries the shares at the best prices', async () => {
    const top = await (await fetch(`${metrics}/api/top`)).json() as { symbols: { symbol: string; bid: number; ask: number; bidShares: number; askShares: number }[] };
    expect(top.symbols).to.deep.equal([{ symbol: 'META', bid: want.bid.price, bidShares: want.bid.shares, ask: want.ask.price, askShares: want.ask.shares }]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const view of [['--symbol', 'META'], ['--top']]) {
      it(`--watch ${view.join(' ')}: refreshes every --interval, and ${signal} ends it with exit 0 at once`, async () => {
        const w = start(['book', '--instance', instance, ...view, '--watch', '--interval', '200']);
        const header = view[0] === '--top' ? /^top of book, 1 symbol {2}live/gm : /^META {2}stock locate 6514 .* live, instance/gm;
        await waitFor(w, /(live[^\n]*\n[\s\S]*){3}/, 20000);
        expect(count(w.out(), header)).to.be.at.least(3);
        // Each refresh is a new answer from the book stage: the answer times differ.
        const times = [...w.out().matchAll(/at (\d{4}-\d\d-\d\dT[\d:.]+Z)/g)].map((m) => m[1]);
        expect(new Set(times).size).to.equal(times.length);
        if (view[0] === '--top') expect(w.out()).to.match(new RegExp(`META +${want.bid.orders} +${want.bid.shares} +80\\.5200`));
        else expect(w.out()).to.match(/^ {2}bid +80\.5200 +1 +1$/m);
        w.child.kill(signal);
        const r = await exitWithin(w, 5000);
        expect(r.code, w.out()).to.equal(0);
        expect(w.out()).to.not.contain('ERR_LINGERING');
      });
    }
  }

  it('--watch says clearly when the instance is gone, and exits 1', async () => {
    const w = start(['book', '--instance', instance, '--symbol', 'META', '--watch', '--interval', '200']);
    await waitFor(w, /live, instance/, 20000);
    run.child.kill('SIGINT');
    expect((await exitWithin(run, 30000)).code, run.out()).to.equal(0);
    const r = await exitWithin(w, 10000);
    expect(r.code, w.out()).to.equal(1);
    expect(w.out()).to.match(new RegExp(`instance '${instance}'.*(has exited|it has exited)`));
    expect(w.out()).to.not.contain('ERR_LINGERING');
    const gone = spawnSync(process.execPath, [kCli, 'book', '--instance', instance, '--top'], { encoding: 'utf8', timeout: 20000 });
    expect(gone.status).to.equal(1);
    expect(gone.stderr).to.contain(`no tickpath instance '${instance}'`);
    for (const f of [`/dev/shm/tickpath-${instance}.stats`, `/dev/shm/tickpath-${instance}.book`]) expect(fs.existsSync(f), f).to.equal(false);
  });
});
