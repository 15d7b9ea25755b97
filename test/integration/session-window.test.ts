/**
 * Session windows through the shipped path, on the real clock: `tickpath venue-sim` in its own
 * process, `tickpath run --config DIR` whose routing_config.yml gives both venues (OUCH and FIX
 * 4.4) a window that opens a few seconds after start and closes a few seconds later, and a
 * strategy sending an order every 250 ms throughout. Before the window and after it the sessions
 * are logged out and every order is refused with SESSION_CLOSED; inside it they go to the venue.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Json = Record<string, any>;

const kStrategy = `exports.createStrategy = () => {
  const req = { symbol: 'AAPL', side: 'B', qty: 100, price: 100000, ordType: 'LIMIT', tif: 'DAY' };
  let timer = null;
  return {
    onStart(ctx) { timer = setInterval(() => { req.clOrdId = undefined; ctx.sendOrder(req); }, 250); },
    onMarketData() {},
    onStop() { clearInterval(timer); },
  };
};
`;

function jsonLines(text: string): Json[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
}

describe('tickpath run with venue session windows a few seconds from now (venue-sim process)', function () {
  this.timeout(120000);
  let dir: string;
  let sim: { child: ChildProcess; out: string; exited: Promise<number | null> } | null = null;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-window-run-')); });
  afterEach(async () => {
    if (sim && sim.child.exitCode === null) { sim.child.kill('SIGKILL'); await sim.exited; }
    sim = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses orders before and after the window (SESSION_CLOSED), logs in at its start and out at its end', async () => {
    const child = spawn(process.execPath, [kCli, 'venue-sim', '--ouch-port', '0', '--fix-port', '0', '--store-dir', path.join(dir, 'venue-fix'),
      '--report', path.join(dir, 'report.jsonl')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const s = { child, out: '', exited: new Promise<number | null>((r) => child.on('close', (c) => r(c))) };
    child.stdout!.on('data', (d: Buffer) => { s.out += d.toString(); });
    sim = s;
    const end = Date.now() + 30000;
    while (!/FIX 4\.2\/4\.4 listening on [\d.]+:\d+/.test(s.out)) {
      if (Date.now() > end) throw new Error(`venue-sim did not start: ${s.out}`);
      await sleep(20);
    }
    const ouchPort = Number(/SoupBinTCP listening on [\d.]+:(\d+)/.exec(s.out)![1]);
    const fixPort = Number(/FIX 4\.2\/4\.4 listening on [\d.]+:(\d+)/.exec(s.out)![1]);

    for (const name of ['feed_config.yml', 'performance.yml']) {
      const text = fs.readFileSync(path.join(kRoot, 'configs', name), 'utf8').split('../test/').join(`${kRoot}/test/`)
        .replace(/pace: fast /, 'pace: recorded ').replace(/loops: 1 /, 'loops: 0 ');
      fs.writeFileSync(path.join(dir, name), text);
    }
    fs.writeFileSync(path.join(dir, 'strategy.js'), kStrategy);
    // Start-up takes a second or two: the window opens 6 s from now and lasts 5 s.
    const startAt = Math.ceil((Date.now() + 6000) / 1000) * 1000;
    const endAt = startAt + 5000;
    const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);
    fs.writeFileSync(path.join(dir, 'routing_config.yml'), `routing:
  mode: rules
  default_venue: NSDQ
  order_capacity: 4096
  journal: { path: ./var/orders.journal, fsync: group }
  venues:
    - name: NSDQ
      protocol: ouch
      host: 127.0.0.1
      port: ${ouchPort}
      sender_id: WIN1
      target_id: NSDQ
      heartbeat_interval_s: 1
      schedule: { start: "${hms(startAt)}", end: "${hms(endAt)}" }
    - name: ARCA
      protocol: fix44
      host: 127.0.0.1
      port: ${fixPort}
      sender_id: WIN2
      target_id: VENUE
      heartbeat_interval_s: 30
      schedule: { start: "${hms(startAt)}", end: "${hms(endAt)}", time_zone: UTC }
  rules:
    AAPL:
      - { venue: NSDQ, share: 0.5, priority: 1, active: true, fee_per_share: 0.003 }
      - { venue: ARCA, share: 0.5, priority: 2, active: true, fee_per_share: 0.003 }
  risk: { max_order_qty: 10000, max_order_notional: 1000000, max_daily_notional: 50000000, max_symbol_notional: 10000000,
          max_open_orders_per_symbol: 1000, price_collar_bps: 0, max_orders_per_second: 100 }
`);
    const check = spawnSync(process.execPath, [kCli, 'config', 'check', dir], { encoding: 'utf8' });
    expect(check.status, check.stdout).to.equal(0);
    const duration = Math.ceil((endAt + 3000 - Date.now()) / 1000);
    const r = spawnSync(process.execPath, [kCli, 'run', '--config', dir, '--strategy', path.join(dir, 'strategy.js'), '--duration', String(duration),
      '--metrics-port', 'off', '--json'], { encoding: 'utf8', timeout: 90000 });
    expect(r.status, r.stderr + r.stdout.slice(-3000)).to.equal(0);
    const out = r.stdout;
    const opens = new Date(startAt).toISOString();
    for (const v of ['NSDQ', 'ARCA']) {
      expect(out, v).to.contain(`venue ${v} (${v === 'NSDQ' ? 'ouch' : 'fix44'}): not logged in: session window ${hms(startAt)}-${hms(endAt)} UTC is closed; it opens at ${opens}`);
      expect(out).to.match(new RegExp(`${v}: session window \\S+ UTC open until ${new Date(endAt).toISOString()}: logging`));
      expect(out).to.match(new RegExp(`${v}: session window \\S+ UTC ended: logging out until`));
    }
    // Every refusal is logged with its time: before the window and after it, none well inside it.
    const rejectedAt = [...out.matchAll(/(\d{4}-\d\d-\d\dT[\d:.]+)Z INFO {2}order_rejected/g)].map((m) => Date.parse(`${m[1]}Z`));
    expect(rejectedAt.filter((t) => t < startAt).length, 'refused before the window').to.be.greaterThan(2);
    expect(rejectedAt.filter((t) => t >= endAt).length, 'refused after the window').to.be.greaterThan(2);
    // The logons start when the window opens; on a CPU shared with spinning processes they have
    // taken over a second, so the check starts 2.5 s in (the second half of the window).
    expect(rejectedAt.filter((t) => t > startAt + 2500 && t < endAt - 300), 'refused inside the window').to.deep.equal([]);
    const j = jsonLines(out).pop()!;
    expect(j.counters.orders_accepted).to.be.greaterThan(5);

    const jr = spawnSync(process.execPath, [kCli, 'journal', path.join(dir, 'var', 'orders.journal')], { encoding: 'utf8' });
    const lines = jsonLines(jr.stdout);
    const refused = lines.filter((l) => l.event === 'order' && l.state === 'REJECTED');
    expect(refused.length).to.equal(j.counters.orders_rejected);
    expect(refused.every((l) => l.reason === 'SESSION_CLOSED')).to.equal(true);
    const children = lines.filter((l) => l.event === 'order' && l.kind === 'child');
    // Each accepted order is split over both venues, except one accepted in the instant one
    // session had already closed and the other had not: it goes whole to the open one.
    expect(children.length).to.be.within(j.counters.orders_accepted, 2 * j.counters.orders_accepted);
    expect(children.length).to.be.greaterThan(2 * j.counters.orders_accepted - 3);

    sim.child.kill('SIGTERM');
    expect(await sim.exited).to.equal(0);
    const report = jsonLines(fs.readFileSync(path.join(dir, 'report.jsonl'), 'utf8'));
    const ours = report.filter((o) => o.session === 'ouch:WIN1' || o.session === 'FIX.4.4:WIN2');
    expect(ours.length, 'every order accepted in the window reached the venue, nothing else').to.equal(children.length);
    expect(new Set(ours.map((o) => o.token)).size).to.equal(ours.length);
    expect(ours.every((o) => o.state === 'ACKNOWLEDGED')).to.equal(true);
    console.log(`      window ${hms(startAt)}-${hms(endAt)}: ${j.counters.orders_accepted} orders accepted inside it, ${refused.length} refused outside (SESSION_CLOSED)`);
  });
});
