/**
 * Session windows (routing_config.yml `venues[].schedule`) on an injected clock, through the real
 * router stack and connectors against the venue simulator over TCP: closed at start-up (no login,
 * orders refused with SESSION_CLOSED naming when the window opens), open (logged in, orders go
 * out), closed at the end (Logout, no reconnect, refused again), and the next window a new day:
 * FIX logs on with ResetSeqNumFlag=Y, OUCH logs in to the current session from sequence 1, and the
 * previous day's open FIX order is settled as done for day.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseRoutingConfig } from '../../../lib/router/routing-config';
import { createRouterStack, type RouterStack } from '../../../lib/router/router-stack';
import { OrderJournal } from '../../../lib/router/journal';
import { VenueSimulator } from '../../../lib/venue-sim/venue-simulator';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session windows on an injected clock (router stack, OUCH and FIX against the venue simulator)', function () {
  this.timeout(60000);
  let dir: string;
  let sim: VenueSimulator;
  let stack: RouterStack | null = null;

  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-window-')); });
  afterEach(async () => {
    await stack?.close();
    stack = null;
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('closed, open, closed at the end without reconnecting, and a new day at the next window', async () => {
    sim = new VenueSimulator({ ouchPort: 0, fixPort: 0, fixStoreDir: path.join(dir, 'venue'), heartbeatIntervalMs: 1000 });
    const ports = await sim.start();
    const file = path.join(dir, 'routing_config.yml');
    const schedule = '{ start: "09:30", end: "16:00", days: [mon, tue, wed, thu, fri] }';
    fs.writeFileSync(file, `routing:
  mode: rules
  default_venue: NSDQ
  order_capacity: 256
  journal: { path: ./orders.journal, fsync: never }
  venues:
    - { name: NSDQ, protocol: ouch, host: 127.0.0.1, port: 1, sender_id: WIN1, target_id: NSDQ, heartbeat_interval_s: 1, schedule: ${schedule} }
    - { name: ARCA, protocol: fix44, host: 127.0.0.1, port: 1, sender_id: WIN2, target_id: VENUE, heartbeat_interval_s: 30, schedule: ${schedule} }
  rules:
    AAPL:
      - { venue: NSDQ, share: 0.5, priority: 1, active: true, fee_per_share: 0.003 }
      - { venue: ARCA, share: 0.5, priority: 2, active: true, fee_per_share: 0.003 }
  risk: { max_order_qty: 10000, max_order_notional: 1000000, max_daily_notional: 50000000, max_symbol_notional: 10000000,
          max_open_orders_per_symbol: 100, price_collar_bps: 0, max_orders_per_second: 1000 }
`);
    let now = Date.parse('2030-01-11T09:00:00Z');   // a Friday, before the window
    const rejects: string[] = [];
    const accepted: string[] = [];
    const listener = new Proxy({}, {
      get: (_t, k) => (...a: unknown[]) => {
        if (k === 'onRejected') rejects.push(`${a[1]}: ${a[2]}`);
        if (k === 'onAccepted') accepted.push(String(a[0]));
      },
    }) as never;
    const log: string[] = [];
    stack = createRouterStack(parseRoutingConfig(fs.readFileSync(file, 'utf8'), file), {
      bbo: { bestBid: () => 0, bestAsk: () => 0 }, listener, portOverrides: { NSDQ: ports.ouchPort, ARCA: ports.fixPort },
      fixStoreDir: path.join(dir, 'fix'), connector: { now: () => now, reconnectDelayMs: 50 }, log: (l) => log.push(l),
    });
    const s = stack;
    const order = () => s.router.sendOrder({ symbol: 'AAPL', side: 'B', qty: 100, price: 100000, ordType: 'LIMIT', tif: 'DAY' });
    const pollUntil = async (what: string, cond: () => boolean) => {
      const end = Date.now() + 20000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log.join('\n')}`);
        for (const c of s.connectors) c.poll?.(Date.now());
        s.router.endOfBatch();
        await sleep(2);
      }
    };
    const up = () => s.connectors.map((_, i) => s.smartRouter.isVenueUp(i));

    await s.connect();
    expect(up(), log.join('\n')).to.deep.equal([false, false]);
    expect(log.filter((l) => /not logged in: session window 09:30:00-16:00:00 mon,tue,wed,thu,fri UTC is closed; it opens at 2030-01-11T09:30:00.000Z/.test(l))).to.have.length(2);
    order();
    expect(rejects.pop()).to.equal('SESSION_CLOSED: venue NSDQ: session window 09:30:00-16:00:00 mon,tue,wed,thu,fri UTC is closed; it opens at 2030-01-11T09:30:00.000Z; ' +
      'venue ARCA: session window 09:30:00-16:00:00 mon,tue,wed,thu,fri UTC is closed; it opens at 2030-01-11T09:30:00.000Z');
    expect(sim.counters.ordersIn).to.equal(0);

    now = Date.parse('2030-01-11T09:30:00Z');
    await pollUntil('both sessions up at the window start', () => up().every(Boolean));
    order();
    await pollUntil('the order at both venues', () => sim.counters.acks === 2);
    expect(accepted).to.have.length(1);

    now = Date.parse('2030-01-11T16:00:00Z');
    await pollUntil('both sessions down at the window end', () => up().every((u) => !u));
    const fixSeqAtClose = Number(s.connectors[1].stats().nextSenderSeq);
    expect(fixSeqAtClose).to.be.greaterThan(2);
    // No reconnect while closed.
    for (let i = 0; i < 100; i++) { for (const c of s.connectors) c.poll?.(Date.now()); await sleep(2); }
    expect(up()).to.deep.equal([false, false]);
    order();
    expect(rejects.pop()).to.match(/^SESSION_CLOSED: venue NSDQ: .* it opens at 2030-01-14T09:30:00\.000Z; venue ARCA: .* it opens at 2030-01-14T09:30:00\.000Z$/);

    // Monday: a new session day.
    now = Date.parse('2030-01-14T09:30:00Z');
    await pollUntil('both sessions up on Monday', () => up().every(Boolean));
    expect(Number(s.connectors[1].stats().nextSenderSeq), 'FIX logged on with ResetSeqNumFlag=Y').to.be.below(fixSeqAtClose);
    expect(s.connectors[0].stats().newDays).to.equal(2);
    expect(log.some((l) => /ARCA: session created .*, before this session window opened; logging on with ResetSeqNumFlag=Y/.test(l)), log.join('\n')).to.equal(true);
    // Friday's order rests at ARCA in Friday's session: the new session settles it as done for day.
    await pollUntil('the new FIX session journaled', () => log.some((l) => /router: venue ARCA answered with session .*: 1 order\(s\) open there in the old session settled as done for day/.test(l)));
    order();
    await pollUntil('Monday\'s order at both venues', () => sim.counters.acks === 4);
    expect(accepted).to.have.length(2);
    await s.close();
    stack = null;
    const j = OrderJournal.recover(path.join(dir, 'orders.journal'));
    const children = [...j.orders.values()].filter((o) => o.kind === 'child');
    expect(children.filter((o) => o.reason === 'DONE_FOR_DAY').map((o) => j.venueNames.get(o.venue))).to.deep.equal(['ARCA']);
    expect([...j.orders.values()].filter((o) => o.reason === 'SESSION_CLOSED')).to.have.length(2);
  });
});
