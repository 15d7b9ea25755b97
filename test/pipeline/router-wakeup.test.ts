/**
 * A parked router stage is woken by its venue sockets, and the in-process venue simulators run on
 * the native transport.
 *
 * - Ack wakeup: the pipeline (pcap feed, fused stage worker) routes orders to a real `tickpath
 *   venue-sim` process that answers each order 1 s late, so acks arrive while the stage is parked;
 *   every park is 100 ms (min = max park). The stage must have been woken by the venue sockets
 *   (venue_wakeups > 0, counted only when epoll reported a session socket ready). The control run
 *   is the same with the sessions on the libuv transport: their sockets are not in the wait set,
 *   so no park ends on one (venue_wakeups 0) and every order is still acked. Fails if the stage
 *   parks with a futex sleep again, if sessions stop joining the wait set, or if the counter counts
 *   timeouts.
 * - In-process simulators: `tickpath run --venue-sim` (the bundled default) reports their transport
 *   native and their shared loop's work in its JSON. Fails if they fall back to libuv or stop being
 *   served by that loop.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfigs } from '../../lib/config';
import { Pipeline, type PipelineOptions } from '../../lib/pipeline';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';
import { routingForVenue, venueSimPerTest } from '../helpers/drill';

const kRoot = path.join(__dirname, '..', '..', '..');
const kCli = path.join(kRoot, 'bin', 'tickpath.js');
const kConfigs = path.join(kRoot, 'configs');
// The venue answers each order this late: after the feed (10 k messages, ~0.1 s) is done, so the
// acks find the stage parked, not reading market data (with a venue poll every 10 us) as it would.
const kVenueLatencyMs = 1000;
const kSample = path.join(kRoot, 'dist', 'lib', 'pipeline', 'sample-strategy.js');

describe('router stage: parked on its venue sockets', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-wakeup-'));
  const capture = path.join(dir, 'session.pcap');
  const venues = venueSimPerTest(['--comp-id', 'ARCA', '--latency-ms', String(kVenueLatencyMs)]);

  before(function () {
    if (!nativeTcpBinding()) this.skip();
    new SessionGenerator({ symbols: 10, rate: 20000, durationSeconds: 0.5, seed: 11 }).writePcap(capture);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The shipped routing file pointed at the external venue, with every session on `transport`. */
  function routingFile(transport: 'auto' | 'libuv'): string {
    const text = routingForVenue(kConfigs, venues.current())
      .replace(/transport: auto/g, `transport: ${transport}`);
    const file = path.join(dir, `routing-${transport}.yml`);
    fs.writeFileSync(file, text);
    return file;
  }

  async function runParked(transport: 'auto' | 'libuv') {
    const { feed, performance } = loadConfigs(kConfigs);
    feed.pcap!.file = capture;
    feed.pcap!.pace = 'fast';
    feed.pcap!.loops = 1;
    // Every empty turn parks 100 ms: an ack that waited out a park would show; one that ends it is counted.
    performance.idle = { strategy: 'backoff', maxSpins: 10, maxYields: 0, minParkMicros: 100_000, maxParkMicros: 100_000 };
    const o: PipelineOptions = {
      feed, performance, routingFile: routingFile(transport), venueSimulator: false,
      journalPath: path.join(dir, `journal-${transport}`), fixStoreDir: path.join(dir, `fix-${transport}`),
      strategy: { module: kSample, params: { everyQuotes: 25, maxOrders: 20 } },
    };
    const p = await Pipeline.start(o);
    const t0 = Date.now();
    while (!p.sourceDone && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 20));
    // Acks come kVenueLatencyMs after each order; wait until all are in (or give up after 10 s).
    const t1 = Date.now();
    for (;;) {
      const c = p.stats().counters;
      if ((c.orders_sent > 0 && c.orders_acked >= c.orders_sent) || Date.now() - t1 > 10000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return p.stop();
  }

  it('an ack that arrives while the stage is parked ends the park (venue_wakeups), on the native transport', async () => {
    const s = await runParked('auto');
    const c = s.counters;
    expect(s.venueTransport).to.equal('native');
    expect(c.orders_sent).to.equal(20);
    expect(c.orders_acked, JSON.stringify(c)).to.equal(20);
    expect(c.venue_wakeups, 'parks ended by a venue socket').to.be.greaterThan(0);
  });

  it('control: sessions on libuv are not in the wait set, so no park ends on a socket (and every order is still acked)', async () => {
    const s = await runParked('libuv');
    const c = s.counters;
    expect(s.venueTransport).to.equal('libuv');
    expect(c.orders_acked, JSON.stringify(c)).to.equal(c.orders_sent);
    expect(c.orders_sent).to.equal(20);
    expect(c.venue_wakeups).to.equal(0);
  });
});

describe('tickpath run --venue-sim: in-process simulators on the native transport', function () {
  this.timeout(120000);

  it('reports the simulators transport native and their shared loop did the work; every order acked', function () {
    if (!nativeTcpBinding()) this.skip();
    const r = spawnSync(process.execPath, [kCli, 'run', '--backend', 'pcap', '--duration', '2', '--rate', '20000', '--symbols', '10', '--metrics-port', 'off', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout.slice(-2000)).to.equal(0);
    expect(r.stdout).to.match(/venue simulator NSDQ: OUCH 4\.2\/SoupBinTCP on 127\.0\.0\.1:\d+ \(native TCP\)/);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      counters: Record<string, number>; venue: Record<string, number>; venueSimTransport?: string;
      venueSimLoop?: { idle: string; turns: number; work: number; blocks: number; wakeups: number };
    };
    expect(j.venueSimTransport).to.equal('native');
    expect(j.counters.orders_sent).to.be.greaterThan(0);
    expect(j.counters.orders_acked).to.equal(j.counters.orders_sent);
    expect(j.venue.acks).to.equal(j.counters.orders_acked);
    const loop = j.venueSimLoop!;
    expect(loop.idle).to.equal('block');
    // The one loop read the orders (work) and slept on the sockets between them, woken by them.
    expect(loop.work).to.be.at.least(j.venue.ordersIn);
    expect(loop.blocks).to.be.greaterThan(0);
    expect(loop.wakeups).to.be.greaterThan(0);
  });
});
