import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binding, Port } from '../../lib/binding';
import { loadConfigs } from '../../lib/config';
import { PcapReader } from '../../lib/feed/pcap/pcap-reader';
import { MessageJournal } from '../../lib/feed/recovery/message-journal';
import { RerequestServer } from '../../lib/feed/recovery/rerequest-server';
import { FeedHandler, Pipeline, PipelineStats } from '../../lib/pipeline';
import type { JsStage } from '../../lib/pipeline/worker-messages';
import { SessionGenerator } from '../../lib/tools/session-generator';
import { writePcap, TestFrame } from '../helpers/pcap-writer';
import { unavailable } from '../helpers/require-backend';
import { SequenceCounts, sequenceRecorder } from '../helpers/sequence-strategy';

const kRoot = path.join(__dirname, '..', '..', '..');
const kConfigs = path.join(kRoot, 'configs');
const kSequenceStrategy = path.join(kRoot, 'dist', 'test', 'helpers', 'sequence-strategy.js');

const kGroupA = '233.54.12.111', kGroupB = '233.49.196.111', kPort = 26477;

/** Copies a frame and points it at another group (IPv4 header checksum redone, UDP checksum off). */
function toGroup(frame: Uint8Array, group: string): Uint8Array {
  const f = Uint8Array.from(frame);
  const ip = 14;
  group.split('.').forEach((b, i) => { f[ip + 16 + i] = Number(b); });
  f[ip + 10] = 0; f[ip + 11] = 0;
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (f[ip + i] << 8) | f[ip + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const ck = ~sum & 0xffff;
  f[ip + 10] = ck >>> 8; f[ip + 11] = ck & 0xff;
  f[ip + 20 + 6] = 0; f[ip + 20 + 7] = 0;
  return f;
}

function eventsOf(port: Port, recovery: ConstructorParameters<typeof FeedHandler>[2]) {
  const r = sequenceRecorder();
  const fh = new FeedHandler(port.consumer(0), { onEvent: r.onEvent, endOfBatch() {} }, { conflate: false, ...recovery });
  return { fh, seen: r.counts };
}

async function drain(fh: FeedHandler, done: () => boolean, timeoutMs = 15000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    for (let i = 0; i < 200; i++) fh.doWork();
    if (done()) return;
    await new Promise((r) => setImmediate(r)); // UDP retransmissions arrive on the event loop
  }
}

/**
 * Lines A and B of one session through the DPDK net_pcap backend: each line misses packets the
 * other has, both miss a few, and the re-request server (real UDP on loopback) fills those.
 */
describe('pipeline/recovery: A/B lines and retransmission over dpdk net_pcap', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-recovery-'));
  const single = path.join(dir, 'single.pcap');
  const twoLines = path.join(dir, 'ab.pcap');
  // Both lines miss 12 and 100 (retransmitted); A alone misses 10-14, 250 and 400, B alone 50-52,
  // 300 and 401 (the other line covers those).
  const dropA = new Set([10, 11, 12, 13, 14, 100, 250, 400]);
  const dropB = new Set([12, 50, 51, 52, 100, 300, 401]);
  let server: RerequestServer | undefined;
  /** Frames in the two-line capture: what the port must have read before a run is stopped. */
  let lineFrames = 0;

  before(function () {
    const info = binding().backends().find((b) => b.name === 'dpdk')!;
    if (!info.compiledIn) unavailable(this, 'dpdk', info.missing);
    new SessionGenerator({ symbols: 10, rate: 50000, durationSeconds: 0.3, seed: 5, group: kGroupA, port: kPort }).writePcap(single);
    const r = new PcapReader(fs.readFileSync(single));
    const a: TestFrame[] = [];
    while (r.next()) a.push({ data: r.data.slice(r.frameOffset, r.frameOffset + r.capturedLength), sec: r.timestampSeconds, nsec: r.timestampNanos });
    // Line B runs 3 packets behind line A, as a second path does: A's holes show first, B fills them.
    const frames: TestFrame[] = [];
    for (let i = 0; i < a.length + 3; i++) {
      if (i < a.length && !dropA.has(i)) frames.push(a[i]);
      const j = i - 3;
      if (j >= 0 && !dropB.has(j)) frames.push({ ...a[j], data: toGroup(a[j].data, kGroupB) });
    }
    writePcap(twoLines, frames);
    lineFrames = frames.length;
  });
  after(async () => { await server?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  const dpdk = (name: string, file: string) => Port.open({ backend: 'dpdk', poller: 'inline', dpdk: { vdev: `${name},rx_pcap=${file}`, rxCpus: [os.cpus().length - 1], mbufs: 8191 } });

  it('every message once, in order: holes covered by the other line, the rest retransmitted; books equal a gapless run', async () => {
    // The reference: the single line through the pcap backend, which knows when the file ends.
    const refPort = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: single } });
    const ref = eventsOf(refPort, {});
    await drain(ref.fh, () => ref.fh.sourceDone);
    refPort.close();

    server = new RerequestServer(MessageJournal.fromPcap(fs.readFileSync(single)));
    const rport = await server.listen(0);
    const port = dpdk('net_pcap_recab0', twoLines);
    const ab = eventsOf(port, { recovery: {
      lines: [{ name: 'A', group: kGroupA, port: kPort }, { name: 'B', group: kGroupB, port: kPort }],
      lineWaitMs: 5, rerequest: { host: '127.0.0.1', port: rport, timeoutMs: 200 },
    } });
    await ab.fh.start();
    await drain(ab.fh, () => ab.fh.stats().recovery!.heldNow === 0 && ab.fh.requester!.outstanding === 0 && ab.seen.events >= ref.seen.events);
    const s = ab.fh.stats();
    await ab.fh.close();
    port.close();

    expect(ref.seen.events).to.be.greaterThan(1000);
    expect(ab.seen.events).to.equal(ref.seen.events);
    expect(ab.seen.adds).to.equal(ref.seen.adds);
    expect(ab.seen.sequences).to.equal(ref.seen.sequences);
    expect(ab.seen.outOfOrder).to.equal(0);
    expect(s.itch.messages).to.be.greaterThan(0);
    const rec = s.recovery!;
    expect(rec.lost).to.equal(0);
    expect(rec.recovered, JSON.stringify(rec)).to.equal(2);                 // packets 12 and 100: on neither line, retransmitted
    expect(rec.confirmedGaps).to.equal(2);
    expect(rec.coveredByOtherLine, JSON.stringify(rec)).to.equal(2);          // A's 250 and 400 came on B
    expect(rec.lines.map((l) => l.name)).to.deep.equal(['A', 'B']);
    expect(rec.lines[0].duplicates + rec.lines[1].duplicates).to.be.greaterThan(0);
    expect(ab.fh.stats().books.unknownOrder ?? 0).to.equal(0);
  });

  // The same two lines through the Pipeline, once with every stage fused on one worker and once
  // with the decoder on its own worker (performance.yml fusion): the split decoder must arbitrate,
  // hold and retransmit exactly like the fused one, and the books behind it see a gapless feed.
  it('decoder and books on separate workers recover the same gaps as the fused layout: same messages, same order, same books', async () => {
    const refPort = Port.open({ backend: 'pcap', poller: 'inline', pcap: { file: single } });
    const ref = eventsOf(refPort, {});
    await drain(ref.fh, () => ref.fh.sourceDone);
    refPort.close();
    const rserver = new RerequestServer(MessageJournal.fromPcap(fs.readFileSync(single)));
    const rport = await rserver.listen(0);

    const runPipeline = async (vdev: string, workers: JsStage[][]): Promise<PipelineStats> => {
      const { feed, performance } = loadConfigs(kConfigs);
      performance.workers = workers;
      const p = await Pipeline.start({
        feed, performance, routingFile: path.join(kConfigs, 'routing_config.yml'), venueSimulator: true, conflate: false,
        portOptions: { backend: 'dpdk', poller: 'thread', dpdk: { vdev: `${vdev},rx_pcap=${twoLines}`, rxCpus: [os.cpus().length - 1], mbufs: 8191 } },
        journalPath: path.join(dir, `journal-${vdev}`), fixStoreDir: path.join(dir, `fix-${vdev}`),
        strategy: { module: kSequenceStrategy },
        // A re-request is sent again when no answer came within timeoutMs, and the second answer's
        // messages count as duplicates. At 200 ms a loaded machine (this process's event loop
        // serves the answers) sometimes made one layout ask twice and the other once: duplicates
        // and requests differed with both layouts right. Asked once, the counts are exact.
        recovery: {
          lines: [{ name: 'A', group: kGroupA, port: kPort }, { name: 'B', group: kGroupB, port: kPort }],
          lineWaitMs: 5, rerequest: { host: '127.0.0.1', port: rport, timeoutMs: 10000 },
        },
      });
      // net_pcap does not say when the file ends: wait until the books have seen as much as the
      // gapless run and the decoder every frame of both lines (line B's last packets come after
      // the last new message, and each of their messages is a duplicate to count).
      const t0 = Date.now();
      const done = (c: Record<string, number>) => c.book_events >= ref.seen.events && c.rx_packets >= lineFrames;
      while (!done(p.stats().counters) && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      return p.stop();
    };
    try {
      const fused = await runPipeline('net_pcap_recab1', [['decoder', 'book', 'strategy', 'router']]);
      const split = await runPipeline('net_pcap_recab2', [['decoder'], ['book', 'strategy', 'router']]);
      expect(split.workers).to.have.length(2);
      for (const [name, run] of [['fused', fused], ['split', split]] as const) {
        const c = run.counters, seen = run.strategy as unknown as SequenceCounts;
        expect(c.book_events, `${name} book events`).to.equal(ref.seen.events);
        expect(c.rx_packets, `${name} frames read`).to.equal(lineFrames);
        expect(seen.events, `${name} strategy events`).to.equal(ref.seen.events);
        expect(seen.adds, `${name} adds`).to.equal(ref.seen.adds);
        expect(seen.sequences, `${name} distinct sequences`).to.equal(ref.seen.sequences);
        expect(seen.outOfOrder, `${name} out of order`).to.equal(0);
        expect(c.messages_lost, `${name} lost`).to.equal(0);
        expect(c.messages_recovered, `${name} recovered: packets 12 and 100, on neither line`).to.equal(2);
        expect(c.retransmit_requests, `${name} re-requests: one per gap on neither line`).to.equal(2);
        expect(c.book_bad_references, `${name} bad references`).to.equal(0);
        expect(c.duplicates, `${name} duplicates`).to.be.greaterThan(0);
      }
      const recovery = (s: PipelineStats) => {
        const c = s.counters;
        return { itch: c.itch_messages, gaps: c.sequence_gaps, missing: c.messages_missing, duplicates: c.duplicates, recovered: c.messages_recovered,
          lost: c.messages_lost, requests: c.retransmit_requests, other: c.other_traffic, events: c.book_events, quotes: c.quotes };
      };
      expect(recovery(split)).to.deep.equal(recovery(fused));
      expect(split.strategy).to.deep.equal(fused.strategy);
    } finally {
      await rserver.close();
    }
  });
});
