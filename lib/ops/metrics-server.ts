/**
 * HTTP face of a running pipeline: `GET /metrics` (Prometheus text via prom-client), `GET /api/stats`
 * (the same numbers as JSON), `GET /api/top` (best bid and ask per symbol), `GET /api/book?symbol=S`
 * (one book, asked of the book stage through its mailbox like `tickpath book --instance`) and `GET /`
 * (a self-contained live dashboard, lib/ops/dashboard.ts).
 *
 * Nothing here touches a hot path: every request calls the stats provider once on the main thread
 * (Pipeline.stats() reads the workers' shared counters and merges their last posted histograms) and
 * every metric's collect() reads that one snapshot, so a scrape costs one merge whatever the number
 * of metrics.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { TickpathError } from '../errors';
import type { PipelineStats } from '../pipeline/pipeline';
import type { BookAnswer } from '../pipeline/book-mailbox';
import { kWorkerCounterNames } from '../pipeline/worker-messages';
import { kDashboardHtml } from './dashboard';
import { kQueueCounterNames } from '../binding/layout';

export const kDefaultMetricsPort = 9464;

/** Quantile label -> field of LatencySummary. */
export const kLatencyQuantiles: readonly [string, 'p50' | 'p90' | 'p99' | 'p999' | 'p9999'][] = [
  ['0.5', 'p50'], ['0.9', 'p90'], ['0.99', 'p99'], ['0.999', 'p999'], ['0.9999', 'p9999'],
];

export interface MetricsServerOptions {
  /** Stats right now; called once per request, on the main thread. */
  provider: () => PipelineStats;
  /** TCP port (default 9464; 0 = ephemeral, see `port` after listen()). */
  port?: number;
  /** Default 127.0.0.1: the page and the numbers are not for the whole network unless asked. */
  host?: string;
  /** Node process metrics (heap, event loop lag, GC) beside the pipeline's (default true). */
  processMetrics?: boolean;
  /** Extra fields merged into /api/stats (instance name, placement...). */
  extra?: () => Record<string, unknown>;
  /** The book view: one symbol's book (Pipeline.book) and the top of every book (Pipeline.topOfBook). */
  books?: {
    book(symbol: string, depth: number): Promise<BookAnswer>;
    /** Best bid and ask (Price(4), or priceDecimals) with the shares at each (Pipeline.topOfBook). */
    top(): { symbol: string; bid: number; ask: number; bidShares: number; askShares: number }[];
    /** Implied decimals of the book prices: 4 (ITCH Price(4), the default) or a FAST feed's price_decimals. */
    priceDecimals?: number;
  };
}

/** camelCase -> snake_case for Prometheus names: rxPackets -> rx_packets. */
export function snakeCase(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();
}

export class MetricsServer {
  readonly registry = new Registry();
  private readonly server: http.Server;
  private readonly o: MetricsServerOptions;
  private readonly requestedPort: number;
  private current: PipelineStats | undefined;
  private readonly startedAtMs = Date.now();

  constructor(o: MetricsServerOptions) {
    if (typeof o?.provider !== 'function') {
      throw new TickpathError('ERR_INVALID_OPTION', 'MetricsServer provider is missing, expected a function returning PipelineStats');
    }
    const port = o.port ?? kDefaultMetricsPort;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TickpathError('ERR_INVALID_OPTION', `metrics port is ${JSON.stringify(o.port)}, expected an integer from 0 to 65535 (0 = any free port)`);
    }
    this.o = o;
    this.requestedPort = port;
    this.registerMetrics();
    if (o.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'tickpath_process_' });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`tickpath metrics: ${err.message}\n`);
      });
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new TickpathError(err.code === 'EADDRINUSE' ? 'ERR_ADDRESS_IN_USE' : 'ERR_METRICS_LISTEN',
          `metrics server cannot listen on ${this.o.host ?? '127.0.0.1'}:${this.requestedPort}: ${err.message}`,
          err.code === 'EADDRINUSE' ? 'pick another port (metrics port 0 = any free port)' : undefined));
      };
      this.server.once('error', onError);
      this.server.listen(this.requestedPort, this.o.host ?? '127.0.0.1', () => {
        this.server.removeListener('error', onError);
        resolve(this.port);
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  get url(): string {
    return `http://${this.o.host ?? '127.0.0.1'}:${this.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    switch (url.pathname) {
      case '/metrics': {
        if (!this.snapshot(res)) return;
        const body = await this.registry.metrics();
        res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' }).end(body);
        return;
      }
      case '/api/stats': {
        if (!this.snapshot(res)) return;
        const body = JSON.stringify({ atMs: Date.now(), uptimeMs: performance.now(), startedAtMs: this.startedAtMs, stats: this.current, ...(this.o.extra?.() ?? {}) });
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
        return;
      }
      case '/api/top': {
        const top = this.o.books?.top() ?? [];
        const decimals = this.o.books?.priceDecimals ?? 4;
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ atMs: Date.now(), priceUnit: decimals === 4 ? 'Price(4): 1e-4 dollars' : `1e-${decimals} of the venue's price unit`, priceDecimals: decimals, symbols: top }));
        return;
      }
      case '/api/book': {
        const symbol = url.searchParams.get('symbol') ?? '';
        const depth = Number(url.searchParams.get('depth') ?? '10');
        if (!/^[\x21-\x7e]{1,32}$/.test(symbol) || !(Number.isInteger(depth) && depth >= 1 && depth <= 1000)) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('expected /api/book?symbol=S (1 to 32 characters: ITCH symbols, MOEX SESSION:SYMBOL) [&depth=1..1000]\n');
          return;
        }
        if (!this.o.books) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('this server has no book view\n');
          return;
        }
        let answer: BookAnswer;
        try {
          answer = await this.o.books.book(symbol, depth);
        } catch (err) {
          res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }).end(`book view unavailable: ${(err as Error).message}\n`);
          return;
        }
        res.writeHead(answer.found ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(answer));
        return;
      }
      case '/':
      case '/index.html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(kDashboardHtml);
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /, /metrics, /api/stats, /api/top or /api/book?symbol=S\n');
    }
  }

  /** Takes the one snapshot this request reads; answers 503 when the provider fails (pipeline stopping). */
  private snapshot(res: http.ServerResponse): boolean {
    try {
      this.current = this.o.provider();
      return true;
    } catch (err) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' })
        .end(`tickpath stats unavailable: ${(err as Error).message}\n`);
      return false;
    }
  }

  private registerMetrics(): void {
    const registers = [this.registry];
    const stats = (): PipelineStats | undefined => this.current;

    new Gauge({
      name: 'tickpath_info', help: 'Always 1; the packet backend in use as a label.', labelNames: ['backend'], registers,
      collect() { this.reset(); const s = stats(); if (s) this.set({ backend: s.backend }, 1); },
    });

    // Pipeline counters (summed over workers): monotonic, so Prometheus counters.
    for (const name of kWorkerCounterNames) {
      new Counter({
        name: `tickpath_${name}`, help: `Pipeline counter ${name}, summed over every stage worker.`, registers,
        collect() { this.reset(); const v = stats()?.counters[name]; if (v !== undefined && v > 0) this.inc(v); },
      });
    }

    // Per-stage latency: summary-style gauges from the merged HdrHistograms (ns).
    new Gauge({
      name: 'tickpath_latency_ns', help: 'Latency percentiles per pipeline stage in nanoseconds (HdrHistogram since start).',
      labelNames: ['stage', 'quantile'], registers,
      collect() {
        this.reset();
        const lat = stats()?.latency;
        if (!lat) return;
        for (const stage of Object.keys(lat)) for (const [q, f] of kLatencyQuantiles) this.set({ stage, quantile: q }, lat[stage][f]);
      },
    });
    const latencyField = (metric: string, help: string, field: 'count' | 'min' | 'mean' | 'max'): void => {
      new Gauge({
        name: metric, help, labelNames: ['stage'], registers,
        collect() {
          this.reset();
          const lat = stats()?.latency;
          if (lat) for (const stage of Object.keys(lat)) this.set({ stage }, lat[stage][field]);
        },
      });
    };
    latencyField('tickpath_latency_ns_count', 'Samples in each stage latency histogram.', 'count');
    latencyField('tickpath_latency_min_ns', 'Smallest latency per stage in nanoseconds.', 'min');
    latencyField('tickpath_latency_mean_ns', 'Mean latency per stage in nanoseconds.', 'mean');
    latencyField('tickpath_latency_max_ns', 'Largest latency per stage in nanoseconds.', 'max');

    // Port: per RX queue counters, device counters and pool accounting.
    for (const f of kQueueCounterNames) {
      new Counter({
        name: `tickpath_port_${snakeCase(f)}`, help: `Port queue counter ${f}.`, labelNames: ['queue'], registers,
        collect() {
          this.reset();
          const qs = stats()?.port?.queues ?? [];
          qs.forEach((q, i) => { this.inc({ queue: String(i) }, Math.max(0, q[f] ?? 0)); });
        },
      });
    }
    new Gauge({
      name: 'tickpath_port_device', help: 'Port device counters (imissed, ierrors, rx_no_mbuf, kernel_drops, ...) and buffer pool size/free.',
      labelNames: ['stat'], registers,
      collect() {
        this.reset();
        const d = stats()?.port?.device;
        if (d) for (const [k, v] of Object.entries(d)) if (typeof v === 'number') this.set({ stat: snakeCase(k) }, v);
      },
    });

    // Venue sessions and the strategy: names vary by configuration, so one labelled gauge each.
    const byName = (metric: string, help: string, pick: (s: PipelineStats) => Record<string, number> | undefined): void => {
      new Gauge({
        name: metric, help, labelNames: ['stat'], registers,
        collect() {
          this.reset();
          const s = stats();
          const r = s && pick(s);
          if (r) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') this.set({ stat: snakeCase(k) }, v);
        },
      });
    };
    byName('tickpath_venue', 'Venue session counters (simulator or connectors), summed over venues.', (s) => s.venue);
    byName('tickpath_strategy', 'Counters the strategy reports.', (s) => s.strategy);
  }
}
