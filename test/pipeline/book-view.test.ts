import { expect } from 'chai';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfigs } from '../../lib/config';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { kUdpFrameOk, UdpFrameParser } from '../../lib/feed/wire/udp-frame-parser';
import { Pipeline, PipelineOptions } from '../../lib/pipeline';
import { recoveryFromConfig } from '../../lib/pipeline/pipeline';
import { BookMailboxClient } from '../../lib/pipeline/book-mailbox';
import type { JsStage } from '../../lib/pipeline/worker-messages';
import { replayBook } from '../../lib/tools/book-replay';
import { SessionGenerator, syntheticTicker } from '../../lib/tools/session-generator';

const kRoot = path.join(__dirname, '..', '..', '..');
const kConfigs = path.join(kRoot, 'configs');
const kRouting = path.join(kConfigs, 'routing_config.yml');
const kSample = path.join(kRoot, 'dist', 'lib', 'pipeline', 'sample-strategy.js');
const kMulti = path.join(kRoot, 'test', 'fixtures', 'itch', 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');
const kFused: JsStage[][] = [['decoder', 'book', 'strategy', 'router']];
const kSplit: JsStage[][] = [['decoder'], ['book', 'strategy', 'router']];

function options(dir: string, capture: string, workers: JsStage[][], extra: Partial<PipelineOptions> = {}): PipelineOptions {
  const { feed, performance } = loadConfigs(kConfigs);
  feed.pcap!.file = capture;
  feed.pcap!.pace = 'fast';
  feed.pcap!.loops = 1;
  performance.workers = workers;
  const tag = Math.random().toString(36).slice(2);
  return {
    feed, performance, routingFile: kRouting, venueSimulator: true,
    journalPath: path.join(dir, `journal-${tag}`), fixStoreDir: path.join(dir, `fix-${tag}`),
    strategy: { module: kSample, params: { everyQuotes: 25, maxOrders: 5 } },
    ...extra,
  };
}

async function untilSourceDone(p: Pipeline, timeoutMs = 30000): Promise<void> {
  const t0 = Date.now();
  while (!p.sourceDone && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
}

describe('pipeline: live book view and feed counters in every layout', function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-bookview-'));
  const capture = path.join(dir, 'session.pcap');
  let packets = 0;
  before(() => { packets = new SessionGenerator({ symbols: 8, rate: 50000, durationSeconds: 1, seed: 5 }).writePcap(capture).packets; });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, workers] of [['fused', kFused], ['split', kSplit]] as const) {
    it(`${name}: the book stage answers the mailbox with exactly the book a single-threaded replay builds; moldudp64_packets counts every packet, with and without line recovery`, async () => {
      const file = path.join(dir, `${name}.book`);
      const { feed } = loadConfigs(kConfigs);
      const recovery = recoveryFromConfig(feed)!;
      delete recovery.rerequest; // the generated session has no gaps: nothing to ask for
      const p = await Pipeline.start(options(dir, capture, workers, { bookFile: file, recovery }));
      try {
        await untilSourceDone(p);
        for (const i of [0, 3, 7]) {
          const symbol = syntheticTicker(i);
          const live = await p.book(symbol, 1000);
          const ref = replayBook(capture, { symbol, depth: 1000 });
          expect(live.found, symbol).to.equal(true);
          expect(live.snapshot!.bids.length, `${symbol} has a book`).to.be.greaterThan(0);
          expect(live.snapshot).to.deep.equal(ref.snapshot);
        }
        // Another process's view of the same mailbox: the /dev/shm file.
        const other = BookMailboxClient.attach(file);
        const viaFile = await other.ask(syntheticTicker(3), 5);
        expect(viaFile.snapshot).to.deep.equal(replayBook(capture, { symbol: syntheticTicker(3), depth: 5 }).snapshot);
        expect((await p.book('NOSUCH', 5)).found).to.equal(false);
        // Top of book from the quotes the strategy stage saw: once the feed is drained, each book's best levels.
        const top = p.topOfBook();
        expect(top.map((t) => t.symbol)).to.deep.equal(Array.from({ length: 8 }, (_, i) => syntheticTicker(i)).sort());
        for (const t of top) {
          const ref = replayBook(capture, { symbol: t.symbol, depth: 1 }).snapshot!;
          expect([t.bid, t.ask], t.symbol).to.deep.equal([ref.bids[0]?.price ?? 0, ref.asks[0]?.price ?? 0]);
        }
      } finally {
        const stats = await p.stop();
        expect(stats.counters.moldudp64_packets, `${name} with recovery`).to.equal(packets);
        expect(stats.counters.rx_packets).to.equal(packets);
      }
      expect(fs.existsSync(file), 'the book file goes with the pipeline').to.equal(false);
      const plain = await Pipeline.start(options(dir, capture, workers));
      await untilSourceDone(plain);
      expect((await plain.stop()).counters.moldudp64_packets, `${name} without recovery`).to.equal(packets);
    });
  }

  it("a replayed capture's own hole is a WARN saying the capture lacks those messages, with a count; a live feed's loss stays an ERROR", async () => {
    const { feed } = loadConfigs(kConfigs);
    const unreachable = { host: '127.0.0.1', port: 9, timeoutMs: 50, maxRetries: 1 };
    const capLines: string[] = [];
    const cap = await Pipeline.start(options(dir, kMulti, kFused, {
      recovery: { ...recoveryFromConfig(feed)!, rerequest: unreachable }, log: (l) => capLines.push(l),
    }));
    await untilSourceDone(cap);
    await new Promise((r) => setTimeout(r, 500));
    const capStats = await cap.stop();
    const capLog = capLines.join('\n');
    expect(capLog).to.match(/WARN {2}capture_gap the replayed capture itself lacks messages 14764497 to \d+ \(\d+ messages\)/);
    expect(capLog).to.not.match(/ERROR/);
    expect(capStats.counters.messages_lost).to.equal(19009117 - 14764497);

    // The same two packets arriving live over UDP: a real loss.
    const frames = new UdpFrameParser({});
    const reader = new PcapReader(fs.readFileSync(kMulti));
    const payloads: Buffer[] = [];
    while (reader.next()) {
      if (frames.parse(reader.data, reader.frameOffset, reader.capturedLength) === kUdpFrameOk) {
        payloads.push(Buffer.from(reader.data.subarray(frames.payloadOffset, frames.payloadOffset + frames.payloadLength)));
      }
    }
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const udpPort = 20000 + Math.floor(Math.random() * 20000);
    const liveLines: string[] = [];
    const live = await Pipeline.start(options(dir, kMulti, kFused, {
      portOptions: { backend: 'udp', rxCpus: [os.cpus().length - 1], udp: { port: udpPort, bind: '127.0.0.1' } },
      recovery: { lines: [{ name: 'A', group: '233.54.12.111', port: 26477 }], rerequest: unreachable }, log: (l) => liveLines.push(l),
    }));
    try {
      for (const b of payloads) await new Promise((r) => sock.send(b, udpPort, '127.0.0.1', r));
      const t0 = Date.now();
      while (!/ERROR/.test(liveLines.join('\n')) && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 50));
    } finally {
      sock.close();
      const liveStats = await live.stop();
      expect(liveStats.counters.moldudp64_packets, 'udp layout counts packets too').to.equal(2);
    }
    const liveLog = liveLines.join('\n');
    expect(liveLog).to.match(/ERROR loss messages 14764497 to \d+ declared lost/);
    expect(liveLog).to.not.match(/capture_gap/);
  });
});
