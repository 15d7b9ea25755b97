/**
 * `tickpath order` as a user runs it: the CLI in a child process against an in-process
 * VenueSimulator (OUCH 4.2 and FIX 4.4) and against the QuickFIX acceptor (FIX 4.2), its JSON
 * lines parsed and checked event by event. Asserts behaviour only, never timings.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VenueSimulator } from '../../lib/venue-sim/venue-simulator';
import { parseOrderArgs } from '../../lib/tools/order-tool';
import * as orderApp from '../../apps/order';
import { freePort, QuickfixAcceptor } from '../helpers/quickfix';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');

interface CliResult { code: number | null; events: Record<string, any>[]; stderr: string }

/** Runs the CLI without blocking this event loop (the simulator lives on it). */
function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kCli, 'order', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const events = out.split('\n').filter((l) => l.trim() !== '').map((l) => {
        try { return JSON.parse(l) as Record<string, any>; } catch { throw new Error(`not a JSON line: ${l}\nstderr: ${err}`); }
      });
      resolve({ code, events, stderr: err });
    });
  });
}

const ofType = (r: CliResult, event: string) => r.events.filter((e) => e.event === event);
const summaryOf = (r: CliResult) => {
  const last = r.events[r.events.length - 1];
  expect(last, `stderr: ${r.stderr}`).to.have.property('event', 'summary');
  return last;
};

describe('tickpath order (CLI)', function () {
  this.timeout(30000);

  it('exports the subcommand shape apps/cli.ts expects', () => {
    expect(orderApp.summary).to.be.a('string').and.not.equal('');
    expect(orderApp.main).to.be.a('function');
  });

  it('parses dollars into Price(4) exactly and names the bad option', () => {
    const ok = parseOrderArgs(['--venue', 'fix44://127.0.0.1:9000', '--symbol', 'IBM', '--side', 'sell', '--qty', '10', '--price', '12.34',
      '--count', '5', '--rate', '100', '--tif', 'ioc'], 123);
    expect(ok).to.deep.include({ protocol: 'fix44', host: '127.0.0.1', port: 9000, side: 'S', qty: 10, price: 123400, count: 5, rate: 100,
      tif: 'IOC', sender: 'TICKPATH', target: 'VENUE' });
    expect(parseOrderArgs(['--venue', 'ouch://h:1', '--symbol', 'A', '--side', 'buy', '--qty', '1', '--price', '0.0001'], 36))
      .to.deep.include({ price: 1, sender: 'T10' });
    expect(parseOrderArgs(['--venue', 'ouch://h:1', '--symbol', 'A', '--side', 'buy', '--qty', '1', '--price', '1.23456']))
      .to.be.a('string').and.include('option --price is "1.23456"');
    expect(parseOrderArgs(['--venue', 'http://h:1'])).to.include('option --venue is "http://h:1"');
    expect(parseOrderArgs(['--venue', 'ouch://h:1', '--symbol', 'A', '--side', 'buy', '--price', '1'])).to.include('option --qty is missing');
  });

  it('bad options exit 2 naming the option; an unreachable venue exits 1 with a clear message', async () => {
    const bad = spawnSync(process.execPath, [kCli, 'order', '--venue', 'ouch://127.0.0.1:1', '--symbol', 'A', '--side', 'up', '--qty', '1', '--price', '1'],
      { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('option --side is "up", expected buy, sell or sell-short');
    const port = await freePort();   // nothing listens there now
    const r = await runCli(['--venue', `fix44://127.0.0.1:${port}`, '--symbol', 'A', '--side', 'buy', '--qty', '1', '--price', '1']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`cannot log in to fix44://127.0.0.1:${port}`).and.include('ECONNREFUSED');
  });

  describe('against the in-process VenueSimulator', () => {
    let sim: VenueSimulator;
    let ouch = '';
    let fix = '';

    before(async () => {
      sim = new VenueSimulator({ ouchPort: 0, fixPort: 0 });
      const p = await sim.start();
      ouch = `ouch://127.0.0.1:${p.ouchPort}`;
      fix = `fix44://127.0.0.1:${p.fixPort}`;
    });
    after(async () => { await sim.stop(); });

    for (const [proto, symbol] of [['ouch', 'XOUCH'], ['fix44', 'XFIX']] as const) {
      it(`${proto}: a resting DAY buy is acked and reported open; a crossing IOC sell fills against it`, async () => {
        const venue = proto === 'ouch' ? ouch : fix;
        // Each run its own FIX session (CompID), as each OUCH run is (T<pid>): ids never meet.
        const sender = (who: string) => (proto === 'ouch' ? [] : ['--sender', `${who}${process.pid}`]);
        const buy = await runCli(['--venue', venue, ...sender('B'), '--symbol', symbol, '--side', 'buy', '--qty', '300', '--price', '12.34', '--count', '2', '--tif', 'day']);
        expect(buy.code, buy.stderr).to.equal(0);
        expect(ofType(buy, 'acked')).to.have.length(2);
        expect(ofType(buy, 'open')).to.have.length(2);
        expect(ofType(buy, 'filled')).to.have.length(0);
        expect(summaryOf(buy)).to.include({ sent: 2, acked: 2, filled: 0, rejected: 0, open: 2, rtt_count: 2 });
        expect(summaryOf(buy).rtt_p50_ns).to.be.greaterThan(0);
        // The native transport by default: acks read by the tool's own poll loop, not the event loop.
        expect(summaryOf(buy)).to.include({ transport: 'native' });

        const sell = await runCli(['--venue', venue, ...sender('S'), '--symbol', symbol, '--side', 'sell', '--qty', '600', '--price', '12.34', '--tif', 'ioc']);
        expect(sell.code, sell.stderr).to.equal(0);
        const acked = ofType(sell, 'acked');
        expect(acked).to.have.length(1);
        const fills = ofType(sell, 'partially_filled').concat(ofType(sell, 'filled'));
        expect(fills.map((f) => [f.qty, f.price])).to.deep.equal([[300, 12.34], [300, 12.34]]);
        expect(ofType(sell, 'filled')[0]).to.include({ clOrdId: acked[0].clOrdId, cumQty: 600 });
        expect(summaryOf(sell)).to.include({ sent: 1, acked: 1, filled: 1, rejected: 0, open: 0, filled_qty: 600 });
      });
    }

    it('the journal of a filled run: one NEW_ORDER, an ack and a fill per order, the parents FILLED by `tickpath journal`', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-order-test-'));
      try {
        const rest = await runCli(['--venue', ouch, '--symbol', 'XJRNL', '--side', 'sell', '--qty', '100', '--price', '20', '--count', '3']);
        expect(rest.code, rest.stderr).to.equal(0);
        const file = path.join(dir, 'buy.journal');
        const buy = await runCli(['--venue', ouch, '--symbol', 'XJRNL', '--side', 'buy', '--qty', '100', '--price', '20', '--count', '3',
          '--journal', file]);
        expect(summaryOf(buy)).to.include({ sent: 3, filled: 3, filled_qty: 300 });
        const data = fs.readFileSync(file);
        expect(data.readUInt16LE(8), 'header layout').to.equal(3);
        const types: number[] = [];
        for (let r = 1; (r + 1) * 96 <= data.length; r++) if (data.readUInt32LE(r * 96 + 92) !== 0) types.push(data[r * 96 + 16]);
        // 10 NEW_ORDER, 3 STATE (ack), 4 FILL, 6 VENUE_SEQ, 9 VENUE_SESSION; no NEW_PARENT (1), NEW_CHILD (2) or PARENT_STATE (7).
        expect(types.filter((t) => t === 10)).to.have.length(3);
        expect(types.filter((t) => t === 3)).to.have.length(3);
        expect(types.filter((t) => t === 4)).to.have.length(3);
        expect(types.filter((t) => t === 1 || t === 2 || t === 7)).to.deep.equal([]);
        const report = spawnSync(process.execPath, [kCli, 'journal', file], { encoding: 'utf8' });
        expect(report.status, report.stderr).to.equal(0);
        const lines = report.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
        const parents = lines.filter((l) => l.event === 'order' && l.kind === 'parent');
        expect(parents.map((o) => [o.state, o.filled, o.qty])).to.deep.equal([['FILLED', 100, 100], ['FILLED', 100, 100], ['FILLED', 100, 100]]);
        expect(lines[lines.length - 1]).to.deep.include({ event: 'summary', parents: 3, children: 3, positions: { XJRNL: 300 } });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a risk reject is an event with its reason and detail, and exits 1', async () => {
      const r = await runCli(['--venue', ouch, '--symbol', 'XRISK', '--side', 'buy', '--qty', '200000', '--price', '1.00']);
      expect(r.code).to.equal(1);
      const rejects = ofType(r, 'rejected');
      expect(rejects).to.have.length(1);
      expect(rejects[0]).to.include({ reason: 'MAX_ORDER_QTY', detail: '200000 > 100000' });
      expect(summaryOf(r)).to.include({ sent: 1, acked: 0, rejected: 1 });
    });

    it('--routing takes the risk limits from a routing_config.yml', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-order-test-'));
      try {
        const file = path.join(dir, 'routing_config.yml');
        fs.writeFileSync(file, `routing:
  mode: rules
  default_venue: X
  order_capacity: 64
  journal: { path: orders.journal, fsync: group }
  venues:
    - { name: X, protocol: ouch, host: 127.0.0.1, port: 1, sender_id: U, target_id: V }
  risk:
    max_order_qty: 1000
    max_order_notional: 500
    max_daily_notional: 100000
    max_symbol_notional: 100000
    max_open_orders_per_symbol: 10
    price_collar_bps: 0
    max_orders_per_second: 100
`);
        const journal = path.join(dir, 'cli.journal');
        const r = await runCli(['--venue', fix, '--symbol', 'XROUT', '--side', 'buy', '--qty', '100', '--price', '10', '--routing', file, '--journal', journal]);
        expect(r.code).to.equal(1);
        expect(ofType(r, 'rejected')[0]).to.include({ reason: 'MAX_ORDER_NOTIONAL', detail: '1000 > 500' });
        expect(fs.statSync(journal).size).to.be.greaterThan(0);   // the journal the user asked for is kept
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('against the QuickFIX acceptor (FIX 4.2)', () => {
    let venue: QuickfixAcceptor | undefined;
    let port = 0;

    before(async function () {
      venue = await QuickfixAcceptor.start(this, 'QuickFIX order test');
      port = venue.port;
    });

    after(async () => { await venue?.stop(); });

    it('fix42: every order is acked and filled at its limit; the resting HOLD order is reported open', async () => {
      const r = await runCli(['--venue', `fix42://127.0.0.1:${port}`, '--target', 'QFVENUE', '--symbol', 'IBM', '--side', 'buy', '--qty', '100',
        '--price', '123.45', '--count', '5', '--rate', '200']);
      expect(r.code, r.stderr).to.equal(0);
      expect(ofType(r, 'filled').map((f) => [f.qty, f.price])).to.deep.equal(Array(5).fill([100, 123.45]));
      expect(summaryOf(r)).to.include({ sent: 5, acked: 5, filled: 5, rejected: 0, open: 0, rtt_count: 5 });
      const hold = await runCli(['--venue', `fix42://127.0.0.1:${port}`, '--target', 'QFVENUE', '--symbol', 'HOLD', '--side', 'sell', '--qty', '50', '--price', '1']);
      expect(hold.code, hold.stderr).to.equal(0);
      expect(summaryOf(hold)).to.include({ sent: 1, acked: 1, filled: 0, open: 1 });
      expect(venue!.output).to.include('LOGON FIX.4.2:QFVENUE->TICKPATH');
    });
  });
});
