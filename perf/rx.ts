/**
 * perf:rx: packets/s delivered into a JS worker through the production RxConsumer, per backend,
 * beside a baseline measured in the same invocation.
 *
 *  dpdk: net_null (64-byte packets, no copy) against dpdk-testpmd --forward-mode=rxonly on the same
 *        vdev arguments, pool size and burst, its forwarding lcore on our RX CPU, counted between
 *        two of its own stats answers (perf/lib/testpmd.ts). Three of ours per round: the shipped
 *        layout (RX lcore on the last CPU, worker on CPU 0) counting packets and their lengths; the
 *        same reading one payload word of each packet in place; and the worker polling the port
 *        itself (inline, on the RX CPU: one CPU, as testpmd). Each side also reports the CPU time
 *        its threads had: on a machine shared with other work the wall-clock rate is mostly the
 *        scheduler's, and the per-CPU-second figures say what each side did while it ran.
 *        Beside them, the consumer alone: the same RxConsumer.read and handler over a ring whose
 *        descriptors were written once and whose producer position this thread advances (no device,
 *        no lcore, the ring in this core's cache): the JS side's own cost per packet, to set against
 *        testpmd's per lcore CPU-second and say which side limits.
 *  af_xdp / af_packet / udp: perf/rx-kernel.ts (veth pair, baselines Node dgram and cap), merged in.
 *
 *   node dist/perf/rx.js [--seconds=3] [--rounds=2] [--burst=64] [--ring=8192] [--read-limit=256]
 *                        [--poller=thread|inline] [--worker-cpu=0] [--dpdk-only] [--json]
 *
 * Rounds alternate ours and the baseline so both see the same machine noise; the median is kept.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Port, RxConsumer, warmUpThreadPool } from '../lib/binding';
import { kLayout } from '../lib/binding/layout';
import { lcoreCpuNs, testpmdRxOnlyOn } from './lib/testpmd';
import { fmtRate, report, Row } from './report';

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 3);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 2);
/** Packets per rx_burst, for our RX lcore and for testpmd (--burst) alike. */
const burst = Number(args.find((a) => a.startsWith('--burst='))?.split('=')[1] ?? 64);
/** RX descriptor ring between the lcore and the worker. */
const ringSize = Number(args.find((a) => a.startsWith('--ring='))?.split('=')[1] ?? 8192);
/** Descriptors the worker's RxConsumer.read takes per call at most. */
const readLimit = Number(args.find((a) => a.startsWith('--read-limit='))?.split('=')[1] ?? 256);
/** thread: the RX lcore polls (shipped); inline: the worker's read() polls the device itself, one CPU like testpmd. */
const poller = args.find((a) => a.startsWith('--poller='))?.split('=')[1] ?? 'thread';
/** The worker's CPU: 0 as shipped (the RX lcore has the last CPU); -1 leaves it to the scheduler. */
const workerCpu = Number(args.find((a) => a.startsWith('--worker-cpu='))?.split('=')[1] ?? 0);
const cpus = os.cpus().length;
const rxCpu = cpus - 1;
/** One net_null configuration for both sides: 64-byte packets, no copy into them (the driver's default, said aloud). */
const kNullArgs = 'size=64,copy=0';
/** Both pools alike (2^n - 1 is the mempool's best size). */
const kMbufs = 32767;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A ratio from the kernel JSON: null there when a side received nothing (NaN serialised). */
const num = (v: number | null | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Ours: net_null -> RX lcore (rx_burst, descriptors into the shared ring, one producer store per
 * burst, consumed mbufs freed in bulk) -> the production RxConsumer in a JS worker on the other CPU.
 * `wordOffset` -1: the worker counts packets and their lengths; 14: it also reads one payload word
 * of each packet in place (a decoder's first touch of the data).
 */
interface Ours { pps: number; drops: number; offeredPps: number; seconds: number; mainSeconds: number; workerCpuSeconds: number; lcoreCpuSeconds: number }

async function oursDpdk(wordOffset: number, layout: 'thread' | 'inline' = poller === 'inline' ? 'inline' : 'thread'): Promise<Ours> {
  const port = Port.open({ backend: 'dpdk', ringSize, burst, poller: layout, dpdk: { vdev: `net_null_perf0,${kNullArgs}`, rxCpus: [rxCpu], mbufs: kMbufs } });
  const control = new SharedArrayBuffer(4);
  const ctl = new Int32Array(control);
  const worker = new Worker(path.join(__dirname, 'rx-worker.js'), { workerData: { transfer: port.rxTransfer(0), cpu: layout === 'inline' ? rxCpu : workerCpu, control, wordOffset, limit: readLimit } });
  const done = new Promise<{ packets: number; seconds: number; cpuSeconds: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  port.start();
  await sleep(300); // warm-up: JIT and caches
  const q0 = port.stats().queues[0];
  const lc0 = lcoreCpuNs('self');
  Atomics.store(ctl, 0, 1);
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  Atomics.store(ctl, 0, 2);
  const q1 = port.stats().queues[0];
  const lc1 = lcoreCpuNs('self');
  const t1 = process.hrtime.bigint();
  const res = await done;
  port.stop();
  port.close();
  await worker.terminate();
  const drops = q1.ringFullDrops - q0.ringFullDrops;
  // What the lcore took from the device over the main thread's window: into the ring or dropped at it.
  const offeredPps = (q1.rxPackets - q0.rxPackets + drops) / (Number(t1 - t0) / 1e9);
  // The worker's own window, unless it was off the CPU when a flag changed and saw only part of it:
  // then the main thread's.
  const mainSeconds = Number(t1 - t0) / 1e9;
  const s = res.seconds >= 0.5 * mainSeconds ? res.seconds : mainSeconds;
  return { pps: res.packets / s, drops, offeredPps, seconds: s, mainSeconds, workerCpuSeconds: res.cpuSeconds, lcoreCpuSeconds: (lc1 - lc0) / 1e9 };
}

/**
 * dpdk-testpmd rxonly on the same vdev arguments, pool size, burst and CPUs (forwarding lcore on
 * the RX CPU), through the helper perf:throughput uses: forwarding confirmed started, packets
 * counted between two stats answers. A testpmd that did not start is an error in the JSON, not a rate.
 */
async function testpmd(): Promise<{ pps: number; testpmdPps: number; seconds: number; lcoreCpuSeconds: number } | { error: string }> {
  const r = await testpmdRxOnlyOn(`net_null0,${kNullArgs}`, kMbufs, seconds, burst);
  return 'error' in r ? r : { pps: r.pps, testpmdPps: r.testpmdPps, seconds: r.seconds, lcoreCpuSeconds: r.lcoreCpuSeconds };
}

/**
 * The consumer alone: RxConsumer.read with the count-and-length handler over a ring of net_null-like
 * descriptors (64 bytes, one region, poll timestamps) whose producer position this thread moves on
 * by one read's worth before each read. Packets per CPU-second of this thread (schedstat).
 */
function consumerAlone(seconds: number): { pps: number; nsPerPacket: number } {
  const capacity = 8192;
  const ring = new SharedArrayBuffer(kLayout.ringHeaderBytes + capacity * kLayout.descBytes);
  const i32 = new Int32Array(ring);
  i32[kLayout.capacityI32] = capacity;
  i32[kLayout.maskI32] = capacity - 1;
  const d = new Uint32Array(ring, kLayout.ringHeaderBytes);
  const now = Number(process.hrtime.bigint());
  for (let i = 0; i < capacity; i++) {
    const w = i * 8;
    d[w] = (i * 2176) % (1 << 24); d[w + 1] = kLayout.flagTsPoll << 16; d[w + 2] = 64; d[w + 3] = 64;
    d[w + 4] = (now + i) % 4294967296; d[w + 5] = Math.floor((now + i) / 4294967296);
  }
  const rx = new RxConsumer({ portId: -1, queue: 0, ring, regions: [new SharedArrayBuffer(1 << 24)], inline: false, backend: 'dpdk' });
  const tally = new Float64Array(2);
  const onPacket = (_b: Uint8Array, _o: number, len: number): void => { tally[0]++; tally[1] += len; };
  const cpuNs = (): number => Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  let prod = 0;
  const turn = (): void => { prod = (prod + readLimit) >>> 0; Atomics.store(i32, kLayout.prodPosI32, prod | 0); rx.read(onPacket, readLimit); };
  for (let i = 0; i < 20000; i++) turn(); // JIT
  tally[0] = 0;
  const c0 = cpuNs(), end = Date.now() + seconds * 1000;
  while (Date.now() < end) for (let i = 0; i < 1000; i++) turn();
  const cpu = (cpuNs() - c0) / 1e9;
  return { pps: tally[0] / cpu, nsPerPacket: (cpu * 1e9) / tally[0] };
}

async function main(): Promise<void> {
  await warmUpThreadPool();
  const length: Ours[] = [], word: Ours[] = [], inline: Ours[] = [], base: { pps: number; testpmdPps: number; seconds: number; lcoreCpuSeconds: number }[] = [];
  let baseError: string | undefined;
  const loads: number[] = [];
  // Rounds alternate the three runs so each sees the same machine noise.
  for (let r = 0; r < rounds; r++) {
    loads.push(os.loadavg()[0]);
    length.push(await oursDpdk(-1));
    word.push(await oursDpdk(14));
    // The same consumer polling the device itself from the worker, on the RX CPU: one CPU, as testpmd.
    if (poller !== 'inline') inline.push(await oursDpdk(-1, 'inline'));
    const b = await testpmd();
    if ('error' in b) baseError = b.error; else base.push(b);
  }
  const alone = consumerAlone(Math.min(2, seconds));
  const results: Record<string, unknown>[] = [];
  const rows: Row[] = [];
  const pps = median(length.map((o) => o.pps)), wpps = median(word.map((o) => o.pps)), bpps = base.length ? median(base.map((b) => b.pps)) : NaN;
  const best = Math.max(...length.map((o) => o.pps)), bestBase = base.length ? Math.max(...base.map((b) => b.pps)) : NaN;
  const load = median(loads);
  const share = (cpu: number, s: number) => Number((cpu / s).toFixed(2));
  // Per CPU-second each thread actually had: on a machine shared with other work the wall-clock rate
  // is mostly the scheduler's; this says what each side did while it ran. Ours needs two CPUs at
  // once (lcore and worker), testpmd one.
  // The pipeline's: the lower of the worker's (delivered / its CPU time) and the lcore's (taken from
  // the device, into the ring or dropped at it, / its CPU time).
  const perCpu = (o: Ours) => Math.min(o.pps * o.seconds / o.workerCpuSeconds, o.offeredPps * o.mainSeconds / o.lcoreCpuSeconds);
  const basePerCpu = (b: { pps: number; seconds: number; lcoreCpuSeconds: number }) => b.pps * b.seconds / b.lcoreCpuSeconds;
  // The RX lcore alone: packets it took from the device (into the ring or dropped at it) per CPU-second
  // it had, beside testpmd's lcore. On a loaded machine the pipeline figure above is the worker's,
  // which spins on an empty ring while the lcore is off its CPU; this one is not. Packets dropped at
  // a full ring cost the lcore less (no descriptor, freed hot), so their share is given with it.
  const lcorePerCpu = (o: Ours) => o.offeredPps * o.mainSeconds / o.lcoreCpuSeconds;
  const lcoreDropShare = (o: Ours) => o.drops / (o.offeredPps * o.mainSeconds);
  const cpuLcore = median(length.map(lcorePerCpu)), lcoreDrops = median(length.map(lcoreDropShare));
  const ipps = inline.length ? median(inline.map((o) => o.pps)) : NaN;
  const cpuInline = inline.length ? median(inline.map(perCpu)) : NaN;
  const cpuPps = median(length.map(perCpu)), cpuBase = base.length ? median(base.map(basePerCpu)) : NaN;
  results.push({
    backend: 'dpdk', pps: Math.round(pps), pps_payload_word: Math.round(wpps), baseline: 'testpmd-rxonly', baseline_pps: Math.round(bpps),
    baseline_testpmd_own_pps: base.length ? Math.round(median(base.map((b) => b.testpmdPps))) : undefined,
    ratio: Number((pps / bpps).toFixed(3)), ratio_payload_word: Number((wpps / bpps).toFixed(3)),
    best_pps: Math.round(best), best_baseline_pps: Math.round(bestBase), ratio_best: Number((best / bestBase).toFixed(3)),
    pps_inline_one_cpu: inline.length ? Math.round(ipps) : undefined, ratio_inline_one_cpu: inline.length ? Number((ipps / bpps).toFixed(3)) : undefined,
    pps_inline_per_cpu_second: inline.length ? Math.round(cpuInline) : undefined, ratio_inline_per_cpu_second: inline.length ? Number((cpuInline / cpuBase).toFixed(3)) : undefined,
    pps_per_cpu_second: Math.round(cpuPps), baseline_pps_per_cpu_second: Math.round(cpuBase), ratio_per_cpu_second: Number((cpuPps / cpuBase).toFixed(3)),
    lcore_pps_per_cpu_second: Math.round(cpuLcore), ratio_lcore_per_cpu_second: Number((cpuLcore / cpuBase).toFixed(3)),
    lcore_drop_share: Number(lcoreDrops.toFixed(3)),
    consumer_alone_pps_per_cpu_second: Math.round(alone.pps), consumer_alone_ns_per_packet: Number(alone.nsPerPacket.toFixed(2)),
    ratio_consumer_alone_per_cpu_second: Number((alone.pps / cpuBase).toFixed(3)),
    drops: median(length.map((o) => o.drops)), lcore_pps: Math.round(median(length.map((o) => o.offeredPps))),
    burst, ring_size: ringSize, read_limit: readLimit, worker_cpu: workerCpu, vdev_args: kNullArgs, rounds, seconds, loadavg_1m: Number(load.toFixed(2)),
    rounds_detail: length.map((o, i) => ({
      pps: Math.round(o.pps), payload_word_pps: Math.round(word[i].pps), inline_pps: inline[i] ? Math.round(inline[i].pps) : undefined,
      inline_worker_cpu_share: inline[i] ? share(inline[i].workerCpuSeconds, inline[i].seconds) : undefined, baseline_pps: base[i] ? Math.round(base[i].pps) : undefined,
      worker_cpu_share: share(o.workerCpuSeconds, o.seconds), lcore_cpu_share: share(o.lcoreCpuSeconds, o.mainSeconds),
      baseline_lcore_cpu_share: base[i] ? share(base[i].lcoreCpuSeconds, base[i].seconds) : undefined, drops: o.drops, loadavg_1m: Number(loads[i].toFixed(2)),
    })),
    baseline_error: base.length ? undefined : baseError, target_ratio: 0.8,
  });
  const note = base.length ? `burst ${burst} both; load ${load.toFixed(1)}; best rounds ${fmtRate(best)} / ${fmtRate(bestBase)}; target ratio >= 0.8` : `baseline failed: ${baseError}`;
  rows.push({ label: 'dpdk net_null 64B -> JS worker (count, length)', ours: fmtRate(pps), baseline: `${fmtRate(bpps)} testpmd rxonly`, ratio: pps / bpps, note });
  rows.push({ label: 'dpdk net_null 64B -> JS worker (+ payload word)', ours: fmtRate(wpps), baseline: `${fmtRate(bpps)} testpmd rxonly`, ratio: wpps / bpps, note: 'each packet\'s data read in place; testpmd never touches it' });
  rows.push({ label: 'dpdk lcore + worker, per CPU-second the threads had', ours: fmtRate(cpuPps), baseline: `${fmtRate(cpuBase)} testpmd rxonly`, ratio: cpuPps / cpuBase, note: 'ours: the lower of worker (delivered / its CPU s) and lcore (taken / its CPU s); testpmd: / its lcore\'s' });
  rows.push({ label: 'the RX lcore alone, packets taken per CPU-second it had', ours: fmtRate(cpuLcore), baseline: `${fmtRate(cpuBase)} testpmd rxonly`, ratio: cpuLcore / cpuBase, note: `${(100 * lcoreDrops).toFixed(1)} % of them dropped at a full ring (no descriptor written, freed while hot)` });
  rows.push({ label: 'the JS consumer alone (RxConsumer.read over a ring in its cache, no device), per CPU-second', ours: fmtRate(alone.pps), baseline: `${fmtRate(cpuBase)} testpmd rxonly`, ratio: alone.pps / cpuBase, note: `${alone.nsPerPacket.toFixed(2)} ns per packet: the consumer's share; the rest of a packet's cost is the lcore's` });
  if (inline.length) {
    rows.push({ label: 'dpdk net_null 64B, polled inline by the JS worker (1 CPU)', ours: fmtRate(ipps), baseline: `${fmtRate(bpps)} testpmd rxonly`, ratio: ipps / bpps, note: 'RxConsumer.read polls the port itself, worker on the RX CPU' });
    rows.push({ label: 'same inline, per CPU-second it had', ours: fmtRate(cpuInline), baseline: `${fmtRate(cpuBase)} testpmd rxonly`, ratio: cpuInline / cpuBase, note: 'delivered / the worker\'s CPU time; testpmd: / its lcore\'s' });
  }

  // Kernel backends on a veth pair, measured by perf/rx-kernel.ts with its own dgram baseline.
  const kernel = path.join(__dirname, 'rx-kernel.js');
  if (fs.existsSync(kernel) && !args.includes('--dpdk-only')) {
    const k = spawnSync(process.execPath, [kernel, '--json', '--seconds', String(Math.max(1, seconds))], { encoding: 'utf8', timeout: 300000 });
    const last = k.stdout.trim().split('\n').pop() ?? '';
    try {
      const parsed = JSON.parse(last) as { results: { backend: string; sender?: string; pps: number; baseline: string; baseline_pps: number; ratio: number; drops: number; cap_pps?: number; ratio_cap?: number; lossless_pps?: number; baseline_lossless_pps?: number; cap_lossless_pps?: number }[] };
      const kernelLoad = Number(os.loadavg()[0].toFixed(2));
      for (const r of parsed.results) {
        results.push({ ...r, loadavg_1m: kernelLoad });
        rows.push({ label: `${r.backend} veth -> JS (top speed)`, ours: fmtRate(r.pps), baseline: `${fmtRate(r.baseline_pps)} ${r.baseline}`, ratio: num(r.ratio), note: `drops ${r.drops}; ${r.sender ?? 'tcpreplay'} at top speed, offered load differs per receiver` });
        if (r.lossless_pps !== undefined) {
          const capL = r.cap_lossless_pps !== undefined ? `, cap ${fmtRate(r.cap_lossless_pps)}` : '';
          rows.push({ label: `${r.backend} veth -> JS, highest lossless paced rate`, ours: fmtRate(r.lossless_pps), baseline: `dgram ${fmtRate(r.baseline_lossless_pps ?? NaN)}${capL}`, ratio: r.baseline_lossless_pps ? r.lossless_pps / r.baseline_lossless_pps : undefined, note: 'same tcpreplay --pps ladder into each receiver' });
        }
        if (r.cap_pps !== undefined) rows.push({ label: `${r.backend} vs cap (libpcap)`, ours: fmtRate(r.pps), baseline: `${fmtRate(r.cap_pps)} cap`, ratio: num(r.ratio_cap), note: 'same traffic, measured once per run' });
      }
    } catch {
      rows.push({ label: 'af_xdp/af_packet/udp', ours: 'n/a', baseline: 'n/a', note: `perf/rx-kernel failed: ${(k.stderr || last).slice(-200)}` });
    }
  }
  report('rx', rows, { results });
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
