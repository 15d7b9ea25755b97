import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfigs } from '../../lib/config';
import { MetricsServer } from '../../lib/ops/metrics-server';
import { Pipeline, PipelineStats } from '../../lib/pipeline';
import { kLatencyNames, kWorkerCounterNames } from '../../lib/pipeline/worker-messages';
import { SessionGenerator } from '../../lib/tools/session-generator';

const kRoot = path.join(__dirname, '..', '..', '..');
const kConfigs = path.join(kRoot, 'configs');

/** Prometheus text exposition -> { 'name{labels}': value }, plus TYPE lines by family. */
export function parseProm(text: string): { values: Map<string, number>; types: Map<string, string> } {
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) { types.set(t[1], t[2]); continue; }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    values.set(m[1] + (m[2] ?? ''), Number(m[3]));
  }
  return { values, types };
}

export function fixedStats(scale = 1): PipelineStats {
  const counters: Record<string, number> = {};
  kWorkerCounterNames.forEach((n, i) => { counters[n] = (i + 1) * 100 * scale; });
  const latency: PipelineStats['latency'] = {};
  kLatencyNames.forEach((n, i) => {
    const b = (i + 1) * 1000;
    latency[n] = { count: 50 * scale, min: b, mean: b * 1.5, p50: b * 1.4, p90: b * 2, p99: b * 3, p999: b * 4, p9999: b * 5, max: b * 6 };
  });
  return {
    backend: 'pcap', counters, workers: [counters], latency,
    port: {
      queues: [{ rxPackets: 700 * scale, rxBytes: 70000 * scale, ringFullDrops: 3, truncated: 0, txPackets: 0, txBytes: 0, txFailed: 0, txOversize: 0 }],
      device: { imissed: 1, ierrors: 0, rxNoMbuf: 0, kernelDrops: 2, oerrors: 0, malformed: 0, poolSize: 4096, poolFree: 4000 },
    },
    venue: { ouchOrders: 12, fixNewOrders: 5 },
    strategy: { signals: 9 },
  };
}

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

describe('ops: metrics server', function () {
  this.timeout(60000);

  describe('with a fixed stats provider', () => {
    let server: MetricsServer;
    let calls = 0;
    let fail = false;
    before(async () => {
      server = new MetricsServer({ port: 0, provider: () => { calls++; if (fail) throw new Error('pipeline stopped'); return fixedStats(); }, extra: () => ({ instance: 'fixed' }) });
      await server.listen();
    });
    after(() => server.close());

    it('listens on an ephemeral port on 127.0.0.1', () => {
      expect(server.port).to.be.greaterThan(0);
      expect(server.url).to.equal(`http://127.0.0.1:${server.port}`);
    });

    it('GET /metrics: every pipeline counter, latency quantiles per stage, port and venue stats, from one provider call', async () => {
      const before = calls;
      const r = await get(`${server.url}/metrics`);
      expect(calls - before).to.equal(1);
      expect(r.status).to.equal(200);
      expect(r.type).to.match(/^text\/plain; version=0\.0\.4/);
      const { values, types } = parseProm(r.body);
      kWorkerCounterNames.forEach((n, i) => {
        expect(values.get(`tickpath_${n}`), n).to.equal((i + 1) * 100);
        expect(types.get(`tickpath_${n}`), n).to.equal('counter');
      });
      // Each stage's fake figures scale with its place in kLatencyNames (see the provider above).
      const base = (n: typeof kLatencyNames[number]) => (kLatencyNames.indexOf(n) + 1) * 1000;
      expect(values.get('tickpath_latency_ns{stage="wire_to_handler",quantile="0.99"}')).to.equal(base('wire_to_handler') * 3);
      expect(values.get('tickpath_latency_ns{stage="wire_to_decode",quantile="0.5"}')).to.equal(base('wire_to_decode') * 1.4);
      expect(values.get('tickpath_latency_ns{stage="order_fill",quantile="0.9999"}')).to.equal(base('order_fill') * 5);
      expect(values.get('tickpath_latency_ns_count{stage="md_to_order"}')).to.equal(50);
      // Orders to their kernel TX timestamp (order out where the order leaves the host's stack).
      expect(values.get('tickpath_latency_ns{stage="md_to_wire",quantile="0.5"}')).to.equal(base('md_to_wire') * 1.4);
      expect(values.get('tickpath_latency_ns{stage="order_wire",quantile="0.99"}')).to.equal(base('order_wire') * 3);
      expect(values.get('tickpath_latency_max_ns{stage="order_ack"}')).to.equal(base('order_ack') * 6);
      expect(values.get('tickpath_latency_mean_ns{stage="wire_to_decode"}')).to.equal(1500);
      expect(values.get('tickpath_port_rx_packets{queue="0"}')).to.equal(700);
      expect(values.get('tickpath_port_ring_full_drops{queue="0"}')).to.equal(3);
      expect(values.get('tickpath_port_device{stat="kernel_drops"}')).to.equal(2);
      expect(values.get('tickpath_port_device{stat="pool_free"}')).to.equal(4000);
      expect(values.get('tickpath_venue{stat="ouch_orders"}')).to.equal(12);
      expect(values.get('tickpath_strategy{stat="signals"}')).to.equal(9);
      expect(values.get('tickpath_info{backend="pcap"}')).to.equal(1);
      expect([...values.keys()].some((k) => k.startsWith('tickpath_process_'))).to.equal(true);
    });

    it('GET /api/stats: the same snapshot as JSON with the extras', async () => {
      const r = await get(`${server.url}/api/stats`);
      expect(r.status).to.equal(200);
      expect(r.type).to.equal('application/json');
      const body = JSON.parse(r.body);
      expect(body.stats).to.deep.equal(JSON.parse(JSON.stringify(fixedStats())));
      expect(body.instance).to.equal('fixed');
      expect(body.atMs).to.be.a('number');
      expect(body.uptimeMs).to.be.a('number');
    });

    it('GET /: a self-contained page (no external scripts, styles or fonts)', async () => {
      const r = await get(`${server.url}/`);
      expect(r.status).to.equal(200);
      expect(r.type).to.match(/^text\/html/);
      expect(r.body).to.contain('<canvas id="rate-chart"');
      expect(r.body).to.contain('api/stats');
      expect(r.body).not.to.match(/\b(src|href)=["']?(https?:)?\/\//i);
      expect(r.body).not.to.match(/@import|url\(/i);
    });

    it('unknown paths are 404, other methods 405, a failing provider 503', async () => {
      expect((await get(`${server.url}/nope`)).status).to.equal(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).to.equal(405);
      fail = true;
      try {
        const r = await get(`${server.url}/metrics`);
        expect(r.status).to.equal(503);
        expect(r.body).to.contain('pipeline stopped');
        expect((await get(`${server.url}/api/stats`)).status).to.equal(503);
      } finally {
        fail = false;
      }
      expect((await get(`${server.url}/metrics`)).status).to.equal(200);
    });

    it('values follow the provider at scrape time', async () => {
      let scale = 1;
      const s = new MetricsServer({ port: 0, processMetrics: false, provider: () => fixedStats(scale) });
      await s.listen();
      try {
        expect(parseProm((await get(`${s.url}/metrics`)).body).values.get('tickpath_itch_messages')).to.equal(600);
        scale = 3;
        const { values } = parseProm((await get(`${s.url}/metrics`)).body);
        expect(values.get('tickpath_itch_messages')).to.equal(1800);
        expect(values.get('tickpath_latency_ns_count{stage="wire_to_handler"}')).to.equal(150);
        expect([...values.keys()].some((k) => k.startsWith('tickpath_process_'))).to.equal(false);
      } finally {
        await s.close();
      }
    });
  });

  it('options are checked with messages naming the option', async () => {
    expect(() => new MetricsServer({ port: 70000, provider: fixedStats })).to.throw(/metrics port is 70000, expected an integer from 0 to 65535/);
    expect(() => new MetricsServer({ provider: undefined as unknown as () => PipelineStats })).to.throw(/provider is missing/);
    const a = new MetricsServer({ port: 0, processMetrics: false, provider: fixedStats });
    const port = await a.listen();
    const b = new MetricsServer({ port, processMetrics: false, provider: fixedStats });
    try {
      await b.listen().then(() => { throw new Error('second listen on the same port succeeded'); }, (e: Error & { code?: string }) => {
        expect(e.code).to.equal('ERR_ADDRESS_IN_USE');
        expect(e.message).to.contain(`127.0.0.1:${port}`);
      });
    } finally {
      await a.close();
    }
  });

  describe('with a real pipeline (generated capture, venue simulator)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-metrics-'));
    const capture = path.join(dir, 'session.pcap');
    let pipeline: Pipeline | undefined;
    let server: MetricsServer | undefined;
    before(async () => {
      new SessionGenerator({ symbols: 10, rate: 50000, durationSeconds: 1, seed: 3 }).writePcap(capture);
      const { feed, performance } = loadConfigs(kConfigs);
      feed.pcap!.file = capture;
      feed.pcap!.pace = 'fast';
      feed.pcap!.loops = 1;
      pipeline = await Pipeline.start({
        feed, performance, routingFile: path.join(kConfigs, 'routing_config.yml'), venueSimulator: true,
        journalPath: path.join(dir, 'journal'), fixStoreDir: path.join(dir, 'fix'),
        strategy: { module: path.join(kRoot, 'dist', 'lib', 'pipeline', 'sample-strategy.js'), params: { everyQuotes: 25, maxOrders: 20 } },
      });
      const p = pipeline;
      server = new MetricsServer({ port: 0, provider: () => p.stats() });
      await server.listen();
    });
    after(async () => {
      await server?.close();
      await pipeline?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('scraped /metrics matches Pipeline.stats() once the capture is decoded', async () => {
      const p = pipeline!;
      const t0 = Date.now();
      while (!p.sourceDone && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 20));
      expect(p.sourceDone, 'capture replayed').to.equal(true);
      // Wait until the counters stop moving (the worker publishes its block once per slice).
      let last = -1;
      for (let i = 0; i < 100; i++) {
        const n = p.stats().counters.book_events;
        if (n === last && n > 0) break;
        last = n;
        await new Promise((r) => setTimeout(r, 100));
      }
      const { values, types } = parseProm((await get(`${server!.url}/metrics`)).body);
      const s = p.stats();
      expect(s.counters.itch_messages).to.be.greaterThan(1000);
      for (const n of ['rx_packets', 'moldudp64_packets', 'itch_messages', 'book_events', 'quotes']) {
        expect(values.get(`tickpath_${n}`), n).to.equal(s.counters[n]);
      }
      // The pcap replay waits for the consumer (it cannot drop): check the export mirrors the counter.
      expect(values.get('tickpath_rx_ring_drops')).to.equal(s.counters.rx_ring_drops);
      expect(values.get('tickpath_port_rx_packets{queue="0"}')).to.equal(s.port.queues[0].rxPackets);
      expect(values.get('tickpath_info{backend="pcap"}')).to.equal(1);
      expect(types.get('tickpath_latency_ns')).to.equal('gauge');
      expect(values.has('tickpath_latency_ns{stage="wire_to_handler",quantile="0.99"}')).to.equal(true);
      const api = JSON.parse((await get(`${server!.url}/api/stats`)).body);
      expect(api.stats.backend).to.equal('pcap');
      expect(api.stats.counters.itch_messages).to.equal(s.counters.itch_messages);
      expect(Object.keys(api.stats.latency)).to.include.members([...kLatencyNames]);
    });
  });
});
