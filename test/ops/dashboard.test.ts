import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MetricsServer } from '../../lib/ops/metrics-server';
import type { PipelineStats } from '../../lib/pipeline';
import { kLatencyNames, kWorkerCounterNames } from '../../lib/pipeline/worker-messages';
import { replayBook } from '../../lib/tools/book-replay';

const kMulti = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'itch', 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');

/** The book view behind the page: a real capture's META book, as the book stage would answer it. */
const kBooks = {
  book: async (symbol: string, depth: number) => {
    const r = replayBook(kMulti, { symbol, depth });
    return { symbol, found: r.snapshot !== undefined, snapshot: r.snapshot, atMs: Date.now() };
  },
  top: () => {
    const s = replayBook(kMulti, { symbol: 'META', depth: 1 }).snapshot!;
    return [{ symbol: 'META', bid: s.bids[0].price, ask: s.asks[0].price, bidShares: s.bids[0].shares, askShares: s.asks[0].shares }];
  },
};

const kRoot = path.join(__dirname, '..', '..', '..');
const kArtifacts = path.join(kRoot, 'test-artifacts');
const kChromium = process.env.TICKPATH_CHROMIUM || '/usr/bin/chromium';
const kRequired = process.env.TICKPATH_REQUIRE_BROWSER === '1';

type Playwright = typeof import('playwright-core');

/** playwright-core and Chromium, or why not (the suite skips, or fails under TICKPATH_REQUIRE_BROWSER=1). */
function browserSupport(): { pw?: Playwright; missing?: string } {
  let pw: Playwright;
  try {
    pw = require('playwright-core') as Playwright;
  } catch {
    return { missing: 'playwright-core is not installed (npm install)' };
  }
  if (!fs.existsSync(kChromium)) return { missing: `no Chromium at ${kChromium} (apt-get install -y chromium, or set TICKPATH_CHROMIUM)` };
  return { pw };
}

/** Stats that move with time, like a live feed: ~20k messages/s, latency creeping up. */
function liveStats(t0: number): () => PipelineStats {
  return () => {
    const ms = Date.now() - t0;
    const counters: Record<string, number> = {};
    for (const n of kWorkerCounterNames) counters[n] = 0;
    counters.rx_packets = Math.round(ms * 2);
    counters.rx_bytes = Math.round(ms * 2000);
    counters.moldudp64_packets = counters.rx_packets;
    counters.itch_messages = Math.round(ms * 20);
    counters.book_events = Math.round(ms * 19);
    counters.orders_sent = 42;
    counters.orders_accepted = 42;
    counters.orders_acked = 40;
    counters.orders_filled = 17;
    counters.orders_cancelled = 3;
    const latency: PipelineStats['latency'] = {};
    kLatencyNames.forEach((n, i) => {
      const b = 500 * (i + 1) + ms / 10;
      latency[n] = { count: Math.round(ms), min: b / 2, mean: b, p50: b, p90: b * 2, p99: b * 4, p999: b * 8, p9999: b * 16, max: b * 20 };
    });
    return {
      backend: 'pcap', counters, workers: [counters], latency,
      port: {
        queues: [{ rxPackets: counters.rx_packets, rxBytes: counters.rx_bytes, ringFullDrops: 0, truncated: 0, txPackets: 0, txBytes: 0, txFailed: 0, txOversize: 0 }],
        device: { imissed: 0, ierrors: 0, rxNoMbuf: 0, kernelDrops: 0, oerrors: 0, malformed: 0, poolSize: 0, poolFree: 0 },
      },
      venue: { ouchOrders: 42 },
    };
  };
}

/** Cell texts of a table's body rows. */
async function tableRows(page: { evaluate(expr: string): Promise<unknown> }, selector: string): Promise<string[][]> {
  return await page.evaluate(`[...document.querySelectorAll(${JSON.stringify(`${selector} tbody tr`)})]
    .map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent))`) as string[][];
}

describe('ops: dashboard in a real headless Chromium', function () {
  this.timeout(60000);
  const support = browserSupport();
  let server: MetricsServer;
  let userDataDir: string;

  before(function () {
    if (support.missing) {
      if (kRequired) throw new Error(`TICKPATH_REQUIRE_BROWSER=1 but ${support.missing}`);
      this.skip();
    }
  });
  before(async () => {
    server = new MetricsServer({ port: 0, processMetrics: false, provider: liveStats(Date.now()), books: kBooks });
    await server.listen();
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-chromium-'));
  });
  after(async () => {
    await server?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('loads /, plots the live message rate and latency, fills the tables; screenshot in test-artifacts/', async () => {
    const context = await support.pw!.chromium.launchPersistentContext(userDataDir, {
      executablePath: kChromium, headless: true, viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const pageErrors: string[] = [];
    const foreignRequests: string[] = [];
    try {
      const page = context.pages()[0] ?? await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
      page.on('request', (r) => { if (!r.url().startsWith(server.url)) foreignRequests.push(r.url()); });
      await page.goto(`${server.url}/`);
      expect(await page.title()).to.equal('tickpath dashboard');

      // Three polls give two rate points (a rate needs two snapshots).
      // Page-side code is passed as strings: this project compiles without the DOM typings.
      await page.waitForFunction("Number(document.getElementById('rate-chart').getAttribute('data-points')) >= 2", undefined, { timeout: 20000 });
      await page.waitForFunction("/^[0-9.]+[kMG]?$/.test(document.getElementById('msg-rate').textContent)", undefined, { timeout: 10000 });

      expect(await page.textContent('#backend')).to.equal('pcap');
      expect(await page.textContent('#status')).to.match(/^live /);
      const msgRate = await page.textContent('#msg-rate');
      const n = Number(msgRate!.replace(/k$/, '')) * (msgRate!.endsWith('k') ? 1000 : 1);
      expect(n, `messages/s shown: ${msgRate}`).to.be.within(5_000, 60_000); // the provider makes ~20k/s

      // The charts drew lines: count painted pixels on each canvas.
      const painted = await page.evaluate(`['rate-chart', 'latency-chart'].map((id) => {
        const c = document.getElementById(id);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let px = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) px++;
        return { px, points: Number(c.getAttribute('data-points')), max: Number(c.getAttribute('data-max')) };
      })`) as { px: number; points: number; max: number }[];
      expect(painted[0].px).to.be.greaterThan(500);
      expect(painted[1].px).to.be.greaterThan(500);
      expect(painted[1].points).to.be.at.least(2);
      expect(painted[1].max).to.be.greaterThan(1000); // wire_to_handler p99.9 is thousands of ns
      expect(await page.inputValue('#stage')).to.equal('wire_to_handler');

      const counters = await tableRows(page, '#counters');
      expect(counters.map((r) => r[0])).to.deep.equal([...kWorkerCounterNames]);
      const itch = counters.find((r) => r[0] === 'itch_messages')!;
      expect(itch[1]).to.match(/^[\d.]+[kMG]?$/);
      expect(itch[2]).to.match(/^[\d.]+k$/); // per second

      const orders = await tableRows(page, '#orders');
      expect(orders).to.deep.include(['sent', '42']);
      expect(orders).to.deep.include(['filled', '17']);
      expect(orders).to.deep.include(['cancelled', '3']);
      const latencyStages = (await tableRows(page, '#latency')).map((r) => r[0]);
      expect(latencyStages).to.deep.equal([...kLatencyNames]);
      // Latencies carry their unit (the provider's p50s are microseconds, its maxima milliseconds).
      for (const row of await tableRows(page, '#latency')) {
        for (const cell of row.slice(2)) expect(cell, `${row[0]} latency cell`).to.match(/^[\d.]+ (ns|µs|ms|s)$/);
      }

      // Top of book and the ladder, from the real capture's META book.
      await page.waitForFunction("document.getElementById('ladder').getAttribute('data-symbol') === 'META'", undefined, { timeout: 10000 });
      expect(await tableRows(page, '#top')).to.deep.equal([['META', '1', '80.5200', '357.3300', '100', '276.8100']]);
      const ladder = await tableRows(page, '#ladder');
      expect(ladder).to.have.length(17); // 9 ask levels above 8 bid levels
      expect(ladder[0]).to.deep.equal(['ask', '358.0000', '239', '11']);
      expect(ladder[8]).to.deep.equal(['ask', '357.3300', '100', '1']);
      expect(ladder[9]).to.deep.equal(['bid', '80.5200', '1', '1']);
      expect(ladder[16]).to.deep.equal(['bid', '80.0000', '522', '12']);
      expect(await page.textContent('#book-state')).to.equal('state unknown');
      expect(await page.textContent('#book-last')).to.equal('last trade: none yet');
      expect(await page.textContent('#venue')).to.contain('ouchOrders');

      fs.mkdirSync(kArtifacts, { recursive: true });
      const shot = path.join(kArtifacts, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).to.be.greaterThan(10_000);
      expect(pageErrors).to.deep.equal([]);
      expect(foreignRequests).to.deep.equal([]);
      // ITCH Price(4): the price headings are in dollars.
      expect(await page.evaluate("[...document.querySelectorAll('[data-price-label]')].map((e) => e.textContent)"))
        .to.deep.equal(['Top of book ($)', 'bid ($)', 'ask ($)', 'spread ($)', 'price ($)']);
    } finally {
      await context.close();
    }
  });

  it('a FAST book at 5 decimals: prices with 5 decimals, and no "$" on the price headings (MOEX prices are not dollars)', async () => {
    // A MOEX CETS book as the FAST book stage answers it: integers at price_decimals 5.
    const snapshot = {
      symbol: 'CETS:USD000UTSTOM', stockLocate: 1, tradingState: 'T', bidLevels: 2, askLevels: 1,
      bids: [{ price: 6512300, shares: 10, orders: 1 }, { price: 6512275, shares: 5, orders: 2 }], asks: [{ price: 6512350, shares: 7, orders: 1 }],
    };
    const fast = new MetricsServer({
      port: 0, processMetrics: false, provider: liveStats(Date.now()),
      books: {
        priceDecimals: 5,
        book: async (symbol: string) => ({ symbol, found: true, snapshot, atMs: Date.now(), priceDecimals: 5 }),
        top: () => [{ symbol: snapshot.symbol, bid: 6512300, ask: 6512350, bidShares: 10, askShares: 7 }],
      },
    });
    await fast.listen();
    const context = await support.pw!.chromium.launchPersistentContext(userDataDir, {
      executablePath: kChromium, headless: true, viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${fast.url}/`);
      await page.waitForFunction("document.getElementById('ladder').getAttribute('data-symbol') === 'CETS:USD000UTSTOM'", undefined, { timeout: 15000 });
      expect(await tableRows(page, '#top')).to.deep.equal([['CETS:USD000UTSTOM', '10', '65.12300', '65.12350', '7', '0.00050']]);
      expect(await tableRows(page, '#ladder')).to.deep.equal([['ask', '65.12350', '7', '1'], ['bid', '65.12300', '10', '1'], ['bid', '65.12275', '5', '2']]);
      expect(await page.evaluate("[...document.querySelectorAll('[data-price-label]')].map((e) => e.textContent)"))
        .to.deep.equal(['Top of book', 'bid', 'ask', 'spread', 'price']);
      expect(await page.textContent('#top thead')).to.not.contain('$');
      expect(await page.textContent('#ladder thead')).to.not.contain('$');
      expect(pageErrors).to.deep.equal([]);
    } finally {
      await context.close();
      await fast.close();
    }
  });
});
