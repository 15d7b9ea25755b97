import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { binding, Port, PortOptions, RxQueueTransfer, cpusAllowedOf, currentThreadAffinity } from '../../lib/binding';
import { TickpathError } from '../../lib/errors';
import { makeFrames, writePcap } from '../helpers/pcap-writer';
import { unavailable } from '../helpers/require-backend';
import { workerResult } from '../helpers/worker-result';

/** Sends every frame through a net_ring port's TX and polls until all of them wait in the RX ring
 *  at once, nothing consumed (the pool tests need every mbuf held together). */
function holdAll(tx: ReturnType<Port['producer']>, rx: ReturnType<Port['consumer']>, frames: Uint8Array[]): void {
  let sent = 0;
  while (sent < frames.length) {
    for (let slot = tx.tryClaim(); slot >= 0 && sent < frames.length; slot = tx.tryClaim()) {
      tx.bytes.set(frames[sent], tx.slotOffset(slot));
      tx.commit(slot, frames[sent].length);
      sent++;
    }
    tx.publish();
    for (let i = 0; i < 10000 && tx.inFlight > 0; i++) rx.available(1); // polls: TX out, RX into the ring, nothing consumed
  }
  for (let i = 0; i < 1000 && rx.backlog < frames.length; i++) rx.available(1);
}

const kWorker = path.join(__dirname, '..', 'helpers', 'rx-worker.js');
const kFixture = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'itch', 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');

interface WorkerResult { count: number; words: number; tid: number; allowed: string; frames: Uint8Array[]; timedOut: boolean }

function runWorker(job: { transfer: RxQueueTransfer; mode: 'collect' | 'count'; expect?: number; delayUs?: number; pinCpu?: number }):
  { worker: Worker; result: Promise<WorkerResult> } {
  const worker = new Worker(kWorker, { workerData: job });
  // Bounded well inside the test's 60 s: a dead or stuck worker fails its test with why.
  const result = workerResult<WorkerResult>(worker, { name: `rx worker (${job.mode})`, timeoutMs: 30_000 });
  return { worker, result };
}

function hugepagesFree(): number {
  const m = /HugePages_Free:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('binding/dpdk backend', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-dpdk-'));
  const cpus = os.cpus().length;
  // One EAL per process: every port here asks for the same arguments.
  const eal = { rxCpus: [cpus - 1], mbufs: 8191 };

  before(function () {
    const info = binding().backends().find((b) => b.name === 'dpdk')!;
    if (!info.compiledIn) unavailable(this, 'dpdk', `not compiled in: ${info.missing}`);
    if (process.getuid && process.getuid() !== 0) unavailable(this, 'dpdk', 'needs root (hugepages)');
    if (hugepagesFree() < 64) unavailable(this, 'dpdk', 'fewer than 64 free hugepages: run sudo scripts/setup_hugepages.sh');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('net_pcap: every packet reaches a JS worker byte-for-byte equal to the file, in order', async () => {
    const frames = makeFrames(3000, 11);
    const file = path.join(dir, 'rx.pcap');
    writePcap(file, frames, { nanos: false });
    const mainAffinity = currentThreadAffinity();
    const port = Port.open({ backend: 'dpdk', dpdk: { ...eal, vdev: `net_pcap_rx0,rx_pcap=${file}` } });
    expect(currentThreadAffinity(), 'EAL init must leave the main thread unpinned').to.deep.equal(mainAffinity);
    const w = runWorker({ transfer: port.rxTransfer(0), mode: 'collect', expect: frames.length });
    port.start();
    const res = await w.result;
    port.stop();
    const s = port.stats();
    port.close();
    await w.worker.terminate();
    expect(res.timedOut).to.equal(false);
    expect(res.frames.length).to.equal(frames.length);
    res.frames.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(frames[i].data)), `frame ${i}`).to.equal(true));
    expect(s.queues[0].rxPackets).to.equal(frames.length);
    expect(s.queues[0].ringFullDrops).to.equal(0);
  });

  it('net_pcap: reads the real ITCH capture (VLAN, 1518-byte frame)', async () => {
    const port = Port.open({ backend: 'dpdk', poller: 'inline', dpdk: { ...eal, vdev: `net_pcap_itch0,rx_pcap=${kFixture}` } });
    const c = port.consumer(0);
    const lens: number[] = [];
    for (let i = 0; i < 10000 && lens.length < 2; i++) c.read((_b, _o, len) => lens.push(len));
    port.close();
    expect(lens).to.deep.equal([87, 1518]);
  });

  it('net_ring: frames sent through TX come back on RX unchanged', () => {
    const port = Port.open({ backend: 'dpdk', poller: 'inline', dpdk: { ...eal, vdev: 'net_ring_lb0' } });
    const tx = port.producer(0), rx = port.consumer(0);
    const frames = makeFrames(200, 5);
    for (const f of frames) {
      const slot = tx.tryClaim();
      tx.bytes.set(f.data, tx.slotOffset(slot));
      tx.commit(slot, f.data.length);
    }
    tx.publish();
    const got: Buffer[] = [];
    for (let i = 0; i < 1000 && got.length < frames.length; i++) rx.read((b, o, l) => got.push(Buffer.from(b.subarray(o, o + l))));
    const s = port.stats();
    port.close();
    expect(got.length).to.equal(frames.length);
    got.forEach((g, i) => expect(g.equals(Buffer.from(frames[i].data)), `frame ${i}`).to.equal(true));
    expect(s.queues[0].txPackets).to.equal(200);
  });

  it('net_ring: packets in mbufs from many pool chunks are each found in their own chunk', () => {
    // 6000 frames held in the RX ring at once use mbufs from several of the pool's memory chunks
    // (about 960 mbufs per 2 MiB chunk); each descriptor must name the chunk its data is in (the
    // RX lcore finds it through an address index), or the bytes read are another packet's.
    // poolLayout 'chunks': the layout a pool falls back to when it cannot have one span.
    const port = Port.open({ backend: 'dpdk', poller: 'inline', ringSize: 8192, dpdk: { ...eal, vdev: 'net_ring_chunks0', poolLayout: 'chunks' } });
    const chunks = Number(/in (\d+) chunk/.exec(port.description)?.[1]);
    const tx = port.producer(0), rx = port.consumer(0);
    const frames = makeFrames(6000, 13).map((f) => f.data);
    holdAll(tx, rx, frames);
    const regionsSeen = new Set<number>();
    const n = rx.available(8192);
    for (let i = 0; i < n; i++) regionsSeen.add(rx.descriptorWord(i, 1) & 0xffff);
    const got: Buffer[] = [];
    rx.read((b, o, l) => got.push(Buffer.from(b.subarray(o, o + l))), 8192);
    port.close();
    // How many chunks depends on how many of the machine's hugepages happen to lie next to each
    // other (usually 5 or more; 3 on one freshly booted machine): three are enough for what this
    // test names, descriptors spread over chunks and each read from its own.
    expect(chunks, port.description).to.be.greaterThan(2);
    expect(n).to.equal(frames.length);
    expect(regionsSeen.size, 'chunks the held packets are in').to.be.greaterThan(2);
    expect(got.length).to.equal(frames.length);
    got.forEach((g, i) => expect(g.equals(Buffer.from(frames[i])), `frame ${i}`).to.equal(true));
  });

  it('net_ring: the default pool is one span: one region, every descriptor names it, 6000 held packets read back intact', () => {
    // The RX lcore computes offsets against the span's base without a lookup; a wrong base or a
    // pool that silently stayed in chunks shows here as a region count above 1 or corrupted bytes.
    const port = Port.open({ backend: 'dpdk', poller: 'inline', ringSize: 8192, dpdk: { ...eal, vdev: 'net_ring_span0', mbufs: 16383 } });
    expect(port.description).to.match(/in 1 chunk/);
    expect(port.rxTransfer(0).regions.length).to.equal(1);
    expect(port.rxTransfer(0).regions[0].byteLength, 'the span holds every mbuf').to.be.greaterThan(16383 * 2048);
    const tx = port.producer(0), rx = port.consumer(0);
    const frames = makeFrames(6000, 17).map((f) => f.data);
    holdAll(tx, rx, frames);
    const n = rx.available(8192);
    const regionsSeen = new Set<number>();
    for (let i = 0; i < n; i++) regionsSeen.add(rx.descriptorWord(i, 1) & 0xffff);
    const got: Buffer[] = [];
    rx.read((b, o, l) => got.push(Buffer.from(b.subarray(o, o + l))), 8192);
    const q = port.stats().queues[0];
    port.close();
    const dev = port.stats().device;
    expect(n).to.equal(frames.length);
    expect(q.rxBytes, 'bytes counted by the backend while it filled the descriptors').to.equal(frames.reduce((a, f) => a + f.length, 0));
    expect(q.truncated).to.equal(0);
    expect([...regionsSeen]).to.deep.equal([0]);
    expect(got.length).to.equal(frames.length);
    got.forEach((g, i) => expect(g.equals(Buffer.from(frames[i])), `frame ${i}`).to.equal(true));
    expect(dev.poolSize).to.equal(16383);
    expect(dev.poolFree, 'every mbuf back in the span pool after close').to.equal(dev.poolSize);
  });

  it('net_null: one CLOCK_MONOTONIC stamp per burst, never backwards, never before the port started or after the packet was read', () => {
    // The RX lcore stamps a burst from the TSC, converted with a rate measured against
    // clock_gettime and re-anchored every millisecond. A wrong rate or anchor shows as stamps
    // outside the window they were taken in, a clock that runs backwards, or a span unlike the
    // window's. The consumer is this thread: it reads the lcore's ring directly.
    const port = Port.open({ backend: 'dpdk', burst: 64, ringSize: 8192, dpdk: { ...eal, vdev: 'net_null_ts0,size=64' } });
    const rx = port.consumer(0);
    const t0 = Number(process.hrtime.bigint());
    port.start();
    let prev = 0, first = 0, bad = '', packets = 0, sameAsPrev = 0;
    const stamps = new Set<number>();
    const end = Date.now() + 300;
    while (Date.now() < end && !bad) {
      const n = rx.available(4096);
      const readAt = Number(process.hrtime.bigint());
      for (let i = 0; i < n && !bad; i++) {
        const ts = rx.descriptorWord(i, 5) * 4294967296 + rx.descriptorWord(i, 4);
        if (ts < t0) bad = `stamp ${ts} before the port started (${t0})`;
        else if (ts > readAt) bad = `stamp ${ts} after the packet was read (${readAt})`;
        else if (ts < prev) bad = `stamp ${ts} before the previous one (${prev})`;
        if (ts === prev) sameAsPrev++;
        if (!first) first = ts;
        prev = ts;
        stamps.add(ts);
      }
      packets += n;
      rx.advance(n);
    }
    const t1 = Number(process.hrtime.bigint());
    port.stop();
    port.close();
    expect(bad).to.equal('');
    expect(packets).to.be.greaterThan(10000);
    expect(prev - first, 'the stamps span the reading window (not a stuck or racing clock)').to.be.within(0.2 * (t1 - t0), t1 - t0);
    expect(stamps.size, 'bursts are stamped apart').to.be.greaterThan(50);
    // Every packet of a 64-packet burst carries its burst's stamp: most packets repeat the one before.
    expect(sameAsPrev / packets, 'packets sharing the previous packet\'s stamp').to.be.greaterThan(0.9);
  });

  it('net_ring: oversize frames between normal ones are dropped and counted once; every other frame arrives once, in order', () => {
    // 3000 bytes fits a 4096-byte TX slot but not one mbuf (2048 bytes of data room): the port must
    // consume it as txOversize, never offer it to the device again, and send the frames behind it.
    const port = Port.open({ backend: 'dpdk', poller: 'inline', txSlotBytes: 4096, ringSize: 4096, dpdk: { ...eal, vdev: 'net_ring_tx1' } });
    const tx = port.producer(0), rx = port.consumer(0);
    const normal = makeFrames(900, 9).map((f) => f.data);
    const big = new Uint8Array(3000).fill(0xee);
    let posted = 0, oversize = 0;
    const post = (f: Uint8Array): void => {
      let slot = tx.tryClaim();
      for (let i = 0; slot < 0 && i < 100000; i++) slot = tx.tryClaim();
      tx.bytes.set(f, tx.slotOffset(slot));
      tx.commit(slot, f.length);
      posted++;
    };
    const got: Buffer[] = [];
    const onPacket = (b: Uint8Array, o: number, l: number) => { got.push(Buffer.from(b.subarray(o, o + l))); };
    normal.forEach((f, i) => {
      if (i % 7 === 3) { post(big); oversize++; }
      if (i % 50 === 49) { post(big); post(big); oversize += 2; }  // two in a row
      post(f);
      if (i % 64 === 63) { tx.publish(); rx.read(onPacket, 4096); }
    });
    tx.publish();
    for (let i = 0; i < 10000 && (got.length < normal.length || tx.inFlight > 0); i++) rx.read(onPacket, 4096);
    const q = port.stats().queues[0];
    port.close();
    expect(got.length, 'frames on the far side').to.equal(normal.length);
    got.forEach((g, i) => expect(g.equals(Buffer.from(normal[i])), `frame ${i}`).to.equal(true));
    expect(q.txPackets).to.equal(normal.length);
    expect(q.txOversize).to.equal(oversize);
    expect(q.txFailed).to.equal(0);
    expect(q.txPackets + q.txOversize + q.txFailed, 'every posted frame counted once').to.equal(posted);
    expect(q.txBytes).to.equal(normal.reduce((a, f) => a + f.length, 0));
    expect(q.rxPackets).to.equal(normal.length);
    expect(q.ringFullDrops).to.equal(0);
  });

  it('poller placement errors use the errno convention: a bad rx_lcores is ERR_INVALID_OPTION, a taken lcore ERR_BUSY', () => {
    const bad = Port.open({ backend: 'dpdk', dpdk: { ...eal, vdev: 'net_null_lc0,size=64', rxLcores: [0] } });
    try {
      expect(() => bad.start()).to.throw(TickpathError, /rx_lcores names lcore 0, which is not an enabled worker lcore \(fix: /)
        .with.property('code', 'ERR_INVALID_OPTION');
    } finally {
      bad.close();
    }
    const first = Port.open({ backend: 'dpdk', dpdk: { ...eal, vdev: 'net_null_lc1,size=64', rxLcores: [1] } });
    const second = Port.open({ backend: 'dpdk', dpdk: { ...eal, vdev: 'net_null_lc2,size=64', rxLcores: [1] } });
    try {
      first.start();
      expect(() => second.start()).to.throw(TickpathError, /lcore 1 failed: lcore busy \(fix: /).with.property('code', 'ERR_BUSY');
    } finally {
      first.close();
      second.close();
    }
    expect(first.stats().device.poolFree).to.equal(first.stats().device.poolSize);
  });

  it('net_null inline: one read() polls the device until its limit is met, not one burst; every mbuf comes back', () => {
    // A JS -> native call costs about 100 ns: an inline read of limit 200 over bursts of 32 must
    // bring 200 packets in that one call (net_null always has packets), and a limit under one burst
    // still one burst.
    const port = Port.open({ backend: 'dpdk', poller: 'inline', burst: 32, ringSize: 1024, dpdk: { ...eal, vdev: 'net_null_budget0,size=64' } });
    const rx = port.consumer(0);
    let lens = 0;
    const got = rx.read((_b, _o, l) => { lens += l; }, 200);
    const polled = port.stats().queues[0].rxPackets;
    const small = rx.read(() => undefined, 10);
    const after = port.stats().queues[0].rxPackets;
    const rxBytes = port.stats().queues[0].rxBytes;
    port.close();
    const dev = port.stats().device;
    expect(got).to.equal(200);
    expect(lens).to.equal(200 * 64);
    expect(polled, 'whole bursts: 7 x 32').to.equal(224);
    expect(small).to.equal(10);
    expect(after, 'a read always polls once (TX and releases are serviced), then stops: 24 were waiting').to.equal(256);
    expect(rxBytes, 'the lcore counts bytes as it fills descriptors').to.equal(256 * 64);
    expect(dev.poolFree, 'mbufs leaked').to.equal(dev.poolSize);
  });

  it('net_null inline: consumers that poll one after another from their own threads each read on, and every mbuf comes back', async () => {
    // The RX path remembers which thread polls a queue (its EAL registration and mempool cache) and
    // forgets it when a polling thread exits, since the next worker may be given the same thread
    // handle. Three workers in turn, each polling until it has read its share, then exiting.
    const port = Port.open({ backend: 'dpdk', poller: 'inline', burst: 32, ringSize: 1024, dpdk: { ...eal, vdev: 'net_null_relay0,size=64' } });
    const lib = path.join(__dirname, '..', '..', 'lib', 'binding', 'rx-consumer.js');
    const code = `const { workerData, parentPort } = require('worker_threads');
      const { RxConsumer } = require(workerData.lib);
      const rx = new RxConsumer(workerData.transfer);
      let n = 0, bytes = 0;
      while (n < workerData.want) n += rx.read((_b, _o, l) => { bytes += l; }, 256);
      parentPort.postMessage({ n, bytes });`;
    let read = 0;
    try {
      for (let k = 0; k < 3; k++) {
        const worker = new Worker(code, { eval: true, workerData: { lib, transfer: port.rxTransfer(0), want: 50_000 } });
        const res = await workerResult<{ n: number; bytes: number }>(worker, { name: `inline consumer ${k}`, timeoutMs: 30_000 });
        await worker.terminate();
        expect(res.n, `consumer ${k}`).to.be.at.least(50_000);
        expect(res.bytes, `consumer ${k}: every packet 64 bytes`).to.equal(res.n * 64);
        read += res.n;
      }
      const q = port.stats().queues[0];
      expect(q.rxPackets - read, 'what the last poll left on the ring').to.be.within(0, 1024);
    } finally {
      port.close();
    }
    const dev = port.stats().device;
    expect(dev.poolFree, 'mbufs leaked').to.equal(dev.poolSize);
  });

  it('net_null: start/stop/close cycles return every mbuf to the pool', async () => {
    for (let cycle = 0; cycle < 3; cycle++) {
      const port = Port.open({ backend: 'dpdk', dpdk: { ...eal, vdev: 'net_null_acct0,size=64' } });
      const w = runWorker({ transfer: port.rxTransfer(0), mode: 'count' });
      port.start();
      await sleep(150);
      port.stop();
      w.worker.postMessage('stop');
      const res = await w.result;
      await w.worker.terminate();
      const mid = port.stats();
      expect(res.count).to.be.greaterThan(1000);
      expect(res.count, 'worker read exactly what entered the ring').to.equal(mid.queues[0].rxPackets);
      port.close();
      const dev = port.stats().device;
      expect(dev.poolSize).to.equal(8191);
      expect(dev.poolFree, `cycle ${cycle}: mbufs leaked`).to.equal(dev.poolSize);
    }
  });

  it('backpressure: a slow consumer makes ring-full drops that are counted, nothing else lost', async () => {
    const port = Port.open({ backend: 'dpdk', ringSize: 256, dpdk: { ...eal, vdev: 'net_null_slow0,size=64' } });
    const w = runWorker({ transfer: port.rxTransfer(0), mode: 'count', delayUs: 5 });
    port.start();
    await sleep(300);
    port.stop();
    w.worker.postMessage('stop');
    const res = await w.result;
    await w.worker.terminate();
    const s = port.stats();
    port.close();
    const detail = JSON.stringify({ worker: res, queue: s.queues[0] });
    expect(s.queues[0].ringFullDrops, detail).to.be.greaterThan(0);
    expect(res.count, detail).to.equal(s.queues[0].rxPackets);
    expect(port.stats().device.poolFree, detail).to.equal(port.stats().device.poolSize);
  });

  it('a consumer that dies does not wedge the RX lcore: drops are counted and a new consumer attaches', async () => {
    const port = Port.open({ backend: 'dpdk', ringSize: 1024, dpdk: { ...eal, vdev: 'net_null_die0,size=64' } });
    port.start();
    const first = runWorker({ transfer: port.rxTransfer(0), mode: 'count' });
    first.result.catch(() => { /* killed on purpose below: its result never comes */ });
    await sleep(50);
    await first.worker.terminate(); // dies without saying goodbye
    await sleep(100);
    const dropsBefore = port.stats().queues[0].ringFullDrops;
    expect(dropsBefore).to.be.greaterThan(0);
    const second = runWorker({ transfer: port.rxTransfer(0), mode: 'count' });
    await sleep(100);
    port.stop();
    second.worker.postMessage('stop');
    const res = await second.result;
    await second.worker.terminate();
    port.close();
    expect(res.count).to.be.greaterThan(1000);
    expect(port.stats().device.poolFree).to.equal(port.stats().device.poolSize);
  });

  it('runs the RX poller on an EAL lcore pinned to its CPU, and can pin a worker from inside it', async () => {
    const port = Port.open({ backend: 'dpdk', dpdk: { ...eal, vdev: 'net_null_pin0,size=64' } });
    const w = runWorker({ transfer: port.rxTransfer(0), mode: 'count', pinCpu: 0 });
    port.start();
    await sleep(100);
    // The EAL names its worker lcore threads; find the one running and read its mask from /proc.
    const tasks = fs.readdirSync('/proc/self/task');
    const lcoreTids = tasks.filter((t) => /lcore-worker|rte-worker/.test(fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8')));
    port.stop();
    w.worker.postMessage('stop');
    const res = await w.result;
    await w.worker.terminate();
    port.close();
    expect(lcoreTids.length).to.be.greaterThan(0);
    expect(lcoreTids.map((t) => cpusAllowedOf(Number(t)))).to.include(String(cpus - 1));
    expect(res.tid).to.be.greaterThan(0);
    expect(res.allowed, 'the worker pinned itself').to.equal('0');
    // ...and only itself: the main thread keeps every CPU.
    expect(cpusAllowedOf(process.pid)).to.equal(`0-${cpus - 1}`);
  });

  it('errors: unknown vdev, EAL re-init with other arguments, no vdev or port', () => {
    expect(() => Port.open({ backend: 'dpdk', dpdk: { ...eal, vdev: 'net_bogus0' } }))
      .to.throw(TickpathError, /cannot create DPDK virtual device 'net_bogus0'/);
    try {
      Port.open({ backend: 'dpdk', dpdk: { ...eal, logLevel: 7, vdev: 'net_null_x0' } });
      expect.fail('should throw');
    } catch (e) {
      expect((e as TickpathError).code).to.equal('ERR_EAL_ALREADY_INITIALIZED');
      expect((e as Error).message).to.match(/restart the process/);
    }
    const bad: PortOptions = { backend: 'dpdk', dpdk: {} };
    expect(() => Port.open(bad)).to.throw(/option 'dpdk' is \{\}, expected an object with 'vdev'/);
    const layout = { backend: 'dpdk', dpdk: { ...eal, vdev: 'net_null_layout0', poolLayout: 'pages' } } as unknown as PortOptions;
    try {
      Port.open(layout);
      expect.fail('should throw');
    } catch (e) {
      expect((e as TickpathError).code).to.equal('ERR_INVALID_OPTION');
      expect((e as Error).message).to.match(/dpdk\.poolLayout/).and.match(/span/).and.match(/chunks/);
    }
  });
});
