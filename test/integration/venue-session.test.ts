/**
 * A venue that starts a new session (a new trading day, a freshly started simulator) no longer
 * holds the orders of the old one. `tickpath run --config DIR --venue-sim` starts fresh in-process
 * simulators on every run while the configured journal persists: each run must settle the orders
 * the previous run left open as done for day (journal reason DONE_FOR_DAY, open-order limits
 * released) instead of restoring them for ever, so every run's new orders are accepted under the
 * shipped limit of 200 open orders per symbol.
 *
 * Real processes only; the strategy sends 150 resting orders per run, so without the settlement
 * the second run has 300 open AAPL orders to place under a limit of 200 and gets MAX_OPEN_ORDERS.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');

type Json = Record<string, any>;

const kStrategy = `exports.createStrategy = () => {
  const req = { symbol: 'AAPL', side: 'B', qty: 100, price: 100000, ordType: 'LIMIT', tif: 'DAY' };
  let sent = 0; let timer = null;
  return {
    onStart(ctx) {
      timer = setInterval(() => {
        for (let i = 0; i < 30 && sent < 150; i++) { sent++; req.clOrdId = undefined; ctx.sendOrder(req); }
        if (sent >= 150) { clearInterval(timer); timer = null; }
      }, 4);
    },
    onMarketData() {},
    onStop() { if (timer) clearInterval(timer); },
  };
};
`;

function jsonLines(text: string): Json[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
}

function journal(file: string): { orders: Json[]; summary: Json } {
  const r = spawnSync(process.execPath, [kCli, 'journal', file], { encoding: 'utf8', timeout: 60000 });
  expect(r.status, r.stderr).to.equal(0);
  const lines = jsonLines(r.stdout);
  return { orders: lines.filter((l) => l.event === 'order'), summary: lines[lines.length - 1] };
}

describe('tickpath run --config --venue-sim on a kept journal: a fresh venue session settles the old one', function () {
  this.timeout(180000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-vsession-'));
    // The shipped configs, the journal inside this directory, no collar (the fixture has no AAPL quote).
    for (const name of ['feed_config.yml', 'performance.yml', 'routing_config.yml']) {
      let text = fs.readFileSync(path.join(kRoot, 'configs', name), 'utf8').split('../test/').join(`${kRoot}/test/`);
      // The capture replayed in a loop, so --duration (not the end of the capture) ends each run.
      if (name === 'feed_config.yml') text = text.replace(/pace: fast /, 'pace: recorded ').replace(/loops: 1 /, 'loops: 0 ');
      if (name === 'routing_config.yml') {
        text = text.replace('path: ../var/orders.journal', 'path: ./var/orders.journal').replace(/price_collar_bps: \d+/, 'price_collar_bps: 0');
        expect(text).to.match(/max_open_orders_per_symbol: 200\b/);
      }
      fs.writeFileSync(path.join(dir, name), text);
    }
    fs.writeFileSync(path.join(dir, 'strategy.js'), kStrategy);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('three runs of --duration 6: every run places its 150 orders; the previous run\'s are done for day', () => {
    const file = path.join(dir, 'var', 'orders.journal');
    const sessions: string[] = [];
    for (let run = 1; run <= 3; run++) {
      const r = spawnSync(process.execPath, [kCli, 'run', '--config', dir, '--venue-sim', '--strategy', path.join(dir, 'strategy.js'),
        '--duration', '6', '--metrics-port', 'off', '--json'], { encoding: 'utf8', timeout: 90000 });
      expect(r.status, r.stderr + r.stdout.slice(-2000)).to.equal(0);
      const j = jsonLines(r.stdout).pop()!;
      expect(j.counters.orders_sent, `run ${run}`).to.equal(150);
      expect(j.counters.orders_rejected, `run ${run}: ${r.stdout.slice(-1500)}`).to.equal(0);
      expect(j.counters.orders_accepted, `run ${run}`).to.equal(150);
      const settled = [...r.stdout.matchAll(/router: venue (\w+) answered with session (\w+), not (\w+) .*?: (\d+) order\(s\) open there in the old session settled as done for day/g)];
      if (run === 1) expect(settled, r.stdout).to.deep.equal([]);
      else {
        // Both venues: OUCH by the SoupBinTCP session name, FIX by the session's start.
        expect(settled.map((m) => m[1]).sort(), r.stdout).to.deep.equal(['ARCA', 'NSDQ']);
        for (const m of settled) expect(Number(m[4])).to.equal(150);
      }
      const { orders, summary } = journal(file);
      const open = orders.filter((o) => o.kind === 'parent' && o.state !== 'CANCELLED' && o.state !== 'FILLED');
      expect(open.length, `run ${run}: only this run's orders are open`).to.equal(150);
      sessions.push(`${summary.venue_sessions.NSDQ}/${summary.venue_sessions.ARCA}`);
      expect(summary.done_for_day).to.equal((run - 1) * 150 * 3);   // per run: 150 parents and 300 children
      const done = orders.filter((o) => o.reason === 'DONE_FOR_DAY');
      expect(done.every((o) => o.state === 'CANCELLED')).to.equal(true);
      expect(done.filter((o) => o.kind === 'child').every((o) => o.cancelled === o.qty - o.filled)).to.equal(true);
    }
    expect(new Set(sessions).size, 'a new venue session per run').to.equal(3);
  });
});
