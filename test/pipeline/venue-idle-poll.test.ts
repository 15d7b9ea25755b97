/**
 * performance.stages.router.venue_idle_poll_us: between orders the router stage polls its venue
 * sessions less often (each poll is a recv(2) per session on the stage's core, which leaves the
 * order path colder for the next order), and at venue_poll_us again while an order awaits its
 * venue's answer, so acks are read as soon as before.
 *
 * The whole pipeline (a pcap feed replayed at its recorded pace for 2 s, the fused stage worker
 * spinning, the sample strategy at most one order per 20 ms) against a `tickpath venue-sim` process
 * that answers each order 2 ms late, once with venue_idle_poll_us equal to venue_poll_us (10 us,
 * as before) and once at 20 ms. Fails if the idle interval is ignored (as many polls in both runs),
 * or if the stage stops polling at 10 us while an order awaits its answer (then only the idle
 * polls, about one per 20 ms, and the transport's own idle timer read the acks).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfigs } from '../../lib/config';
import { Pipeline, type PipelineOptions } from '../../lib/pipeline';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { nativeTcpBinding } from '../../lib/protocols/transport/native-tcp-transport';
import { routingForVenue, venueSimPerTest } from '../helpers/drill';

const kRoot = path.join(__dirname, '..', '..', '..');
const kConfigs = path.join(kRoot, 'configs');
const kSample = path.join(kRoot, 'dist', 'lib', 'pipeline', 'sample-strategy.js');
const kVenueLatencyMs = 2;

describe('router stage: venue_idle_poll_us between orders, venue_poll_us while one awaits its answer', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-idle-poll-'));
  const capture = path.join(dir, 'session.pcap');

  before(function () {
    if (!nativeTcpBinding()) this.skip();
    new SessionGenerator({ symbols: 10, rate: 20000, durationSeconds: 2, seed: 5 }).writePcap(capture);
  });
  const venues = venueSimPerTest(['--comp-id', 'ARCA', '--latency-ms', String(kVenueLatencyMs)]);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(idlePollUs: number) {
    const { feed, performance } = loadConfigs(kConfigs);
    feed.pcap!.file = capture;
    feed.pcap!.pace = 'recorded';
    feed.pcap!.loops = 1;
    const routing = path.join(dir, `routing-${idlePollUs}.yml`);
    fs.writeFileSync(routing, routingForVenue(kConfigs, venues.current()));
    const router = { ...performance.stages.router, venuePollMicros: 10, venueIdlePollMicros: idlePollUs };
    const o: PipelineOptions = {
      feed, performance: { ...performance, stages: { ...performance.stages, router } }, routingFile: routing, venueSimulator: false,
      journalPath: path.join(dir, `journal-${idlePollUs}`), fixStoreDir: path.join(dir, `fix-${idlePollUs}`),
      strategy: { module: kSample, params: { everyQuotes: 10, maxOrders: 20, minGapUs: 20_000 } },
    };
    const p = await Pipeline.start(o);
    const t0 = Date.now();
    while (!p.sourceDone && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 20));
    return p.stop();
  }

  it('idle: one poll per 20 ms between orders, every 10 us while an order awaits its answer; every order acked', async () => {
    const every = await run(10);
    await venues.restart();
    const idle = await run(20_000);
    for (const s of [every, idle]) {
      // 20 unless a stall bunched the triggers inside the strategy's 20 ms gap.
      expect(s.counters.orders_sent).to.be.within(10, 20);
      expect(s.counters.orders_acked, JSON.stringify(s.counters)).to.equal(s.counters.orders_sent);
    }
    const polls = `polls at 20 ms idle ${idle.counters.venue_polls}, at 10 us ${every.counters.venue_polls}`;
    // ~2 s of feed: up to ~200 k polls at 10 us (tens of thousands under load) ...
    expect(idle.counters.venue_polls * 4, polls).to.be.below(every.counters.venue_polls);
    // ... and at 20 ms idle about 100 between orders, plus up to 200 (2 ms at 10 us) while each
    // order awaits its ack: without those, about 100 in all.
    expect(idle.counters.venue_polls, polls).to.be.above(100 + 20 * idle.counters.orders_sent);
  });
});
