/**
 * perf:rx profile: where one packet's CPU goes on dpdk net_null, part by part, ours beside testpmd's,
 * in the same invocation. perf:rx says how fast; this says which part of which thread costs what.
 *
 * Ours: the same port and the same perf:rx worker (the production RxConsumer, count and length),
 * polled inline on the RX CPU (one thread does everything, as testpmd) or with the RX lcore
 * (`--layout=thread`). testpmd: rxonly on the same vdev arguments, pool and burst (perf/lib/testpmd.ts).
 * Each is sampled with `perf record -p` over its counted window; each thread's samples are split by
 * the library they fell in, and a part's share of its thread's samples times that thread's CPU time
 * (schedstat) over the packets it handled is the part's ns per packet. Shares are what a sampler
 * sees: on a loaded machine other work pollutes the caches and every part grows, testpmd's too, so
 * compare parts within one run. Writes no results file.
 *
 *   node dist/perf/rx-profile.js [--seconds=3] [--layout=inline|thread] [--burst=64] [--json]
 *
 * Needs `perf` (linux-tools) and permission to sample these processes (root, or
 * kernel.perf_event_paranoid <= 1).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Port, warmUpThreadPool } from '../lib/binding';
import { kRxCpu, which } from './lib/machine';
import { lcoreCpuNs, testpmdRxOnlyOn } from './lib/testpmd';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const seconds = Number(arg('seconds', '3'));
const layout = arg('layout', 'inline') === 'thread' ? 'thread' : 'inline';
const burst = Number(arg('burst', '64'));
const kNullArgs = 'size=64,copy=0';
const kMbufs = 32767;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The part a sample stands for, by its library and, inside the addon, DPDK's mbuf library and the
 * dynamic loader, by its function: the RX lcore's own work split into what the brief of each part
 * is (rxBurst: the descriptor fill and the burst's stamp; release: returning mbufs; the Port's poll:
 * ring positions, counters and the TX check).
 */
function partOf(dso: string, sym: string): string {
  if (dso.includes('net_null')) return 'net_null receive (alloc_bulk + stores)';
  if (dso.includes('librte_mbuf')) return 'mbuf free (rte_pktmbuf_free_bulk)';
  if (dso.includes('librte_mempool')) return 'mempool ring (cache refills and flushes)';
  if (dso === 'dpdk-testpmd') return 'testpmd rxonly loop (free inlined)';
  if (dso === 'tickpath.node') {
    if (sym.includes('rxBurst')) return 'tickpath: descriptor fill + burst stamp (rxBurst)';
    if (sym.includes('::release')) return 'tickpath: mbufs back to the pool (release)';
    if (/Port::(poll|pollFor|releaseConsumed|publishCounters|pollTx|pollerMain)|IdleStrategy/.test(sym)) return 'tickpath: Port poll (positions, counters, TX check)';
    return 'tickpath: other';
  }
  if (dso.startsWith('ld-linux')) return sym.includes('tls_get_addr') ? 'TLS lookups (__tls_get_addr)' : 'dynamic loader';
  if (dso.startsWith('[JIT]')) return 'JS: RxConsumer.read + handler';
  if (dso === 'node') return 'V8 / nan glue';
  if (dso === '[vdso]') return 'clock_gettime';
  if (dso === '[kernel.kallsyms]') return 'kernel';
  return 'other';
}

interface ThreadProfile { thread: string; nsPerPacket: number; parts: Record<string, number> }

/** Starts `perf record` on pid for `secs`; resolves when it has written its file. */
function record(pid: number, secs: number, file: string): Promise<void> {
  const p = spawn('perf', ['record', '-F', '1999', '-o', file, '-p', String(pid), '--', 'sleep', String(secs)], { stdio: 'ignore' });
  return new Promise((resolve) => p.once('exit', () => resolve()));
}

/** Sample shares by (comm, dso, symbol) from a perf.data file. */
function shares(file: string): { comm: string; dso: string; sym: string; pct: number }[] {
  const r = spawnSync('perf', ['report', '-i', file, '--sort', 'comm,dso,sym', '--stdio', '--field-separator=;'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  fs.rmSync(file, { force: true });
  const out: { comm: string; dso: string; sym: string; pct: number }[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const f = line.split(';');
    const m = /^\s*([\d.]+)%/.exec(f[0]);
    if (m && f.length >= 4) out.push({ pct: Number(m[1]), comm: f[1].trim(), dso: f[2].trim(), sym: f.slice(3).join(';').replace(/^\[.\]\s*/, '').trim() });
  }
  return out;
}

/** One thread's parts in ns per packet: its samples' shares times its CPU ns over its packets. */
function threadProfile(thread: string, rows: { dso: string; sym: string; pct: number }[], cpuNs: number, packets: number): ThreadProfile {
  const total = rows.reduce((a, r) => a + r.pct, 0);
  const nsPerPacket = cpuNs / packets;
  const parts: Record<string, number> = {};
  for (const r of rows) {
    const k = partOf(r.dso, r.sym);
    parts[k] = (parts[k] ?? 0) + (total > 0 ? (r.pct / total) * nsPerPacket : 0);
  }
  for (const k of Object.keys(parts)) parts[k] = Number(parts[k].toFixed(2));
  return { thread, nsPerPacket: Number(nsPerPacket.toFixed(2)), parts };
}

async function ours(): Promise<ThreadProfile[]> {
  const port = Port.open({ backend: 'dpdk', ringSize: 8192, burst, poller: layout, dpdk: { vdev: `net_null_prof0,${kNullArgs}`, rxCpus: [kRxCpu], mbufs: kMbufs } });
  const control = new SharedArrayBuffer(4);
  const ctl = new Int32Array(control);
  const worker = new Worker(path.join(__dirname, 'rx-worker.js'), { workerData: { transfer: port.rxTransfer(0), cpu: layout === 'inline' ? kRxCpu : 0, control, wordOffset: -1, limit: 256 } });
  const done = new Promise<{ packets: number; seconds: number; cpuSeconds: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  port.start();
  await sleep(500);
  const file = path.join(os.tmpdir(), `tp-rx-profile-${process.pid}.data`);
  const q0 = port.stats().queues[0], lc0 = lcoreCpuNs('self');
  const rec = record(process.pid, seconds, file);
  Atomics.store(ctl, 0, 1);
  await rec;
  Atomics.store(ctl, 0, 2);
  const q1 = port.stats().queues[0], lc1 = lcoreCpuNs('self');
  const res = await done;
  port.stop();
  port.close();
  await worker.terminate();
  const s = shares(file);
  if (!s.length) throw new Error('perf recorded no samples of this process (fix: run as root or lower kernel.perf_event_paranoid)');
  const lcore = s.filter((r) => /^(rte|lcore)-worker/.test(r.comm));
  const js = s.filter((r) => !/^(rte|lcore)-worker/.test(r.comm));
  const out = [threadProfile(layout === 'inline' ? 'JS worker polling inline' : 'JS worker', js, res.cpuSeconds * 1e9, res.packets)];
  // Packets dropped at a full ring cost the lcore less (no descriptor written, mbufs freed while
  // hot): the share says how much of its per-packet figure is that cheaper path.
  const taken = q1.rxPackets - q0.rxPackets + q1.ringFullDrops - q0.ringFullDrops;
  const dropPct = taken > 0 ? (100 * (q1.ringFullDrops - q0.ringFullDrops)) / taken : 0;
  if (layout === 'thread') out.push(threadProfile(`RX lcore (${dropPct.toFixed(1)} % of its packets dropped at a full ring)`, lcore, lc1 - lc0, taken));
  return out;
}

async function testpmd(): Promise<ThreadProfile | { error: string }> {
  const file = path.join(os.tmpdir(), `tp-rx-profile-tp-${process.pid}.data`);
  let rec: Promise<void> | undefined;
  // testpmd's counted window outlasts the sampling by a second, so perf has attached and finished
  // before testpmd quits; the shares of a steady state apply to the whole window's ns per packet.
  const r = await testpmdRxOnlyOn(`net_null0,${kNullArgs}`, kMbufs, seconds + 1, burst, 300, (pid) => { rec = record(pid, seconds, file); });
  if (rec) await rec;
  if ('error' in r) return r;
  if (!(r.lcoreCpuSeconds > 0) || !(r.packets > 0)) return { error: `testpmd's lcore CPU time or packets unreadable (${r.lcoreCpuSeconds} s, ${r.packets})` };
  const s = shares(file).filter((x) => /^(rte|lcore)-worker/.test(x.comm));
  if (!s.length) return { error: 'perf recorded no samples of testpmd\'s lcore (fix: run as root or lower kernel.perf_event_paranoid)' };
  return threadProfile('testpmd forwarding lcore', s, r.lcoreCpuSeconds * 1e9, r.packets);
}

async function main(): Promise<void> {
  if (!which('perf')) throw new Error('perf is not installed (fix: apt-get install linux-tools-common linux-tools-$(uname -r))');
  await warmUpThreadPool();
  const load = os.loadavg()[0];
  const mine = await ours();
  const base = await testpmd();
  const print = (p: ThreadProfile) => {
    console.log(`${p.thread}: ${p.nsPerPacket} ns per packet of CPU`);
    for (const [k, v] of Object.entries(p.parts).sort((a, b) => b[1] - a[1])) console.log(`  ${v.toFixed(2).padStart(6)} ns  ${k}`);
  };
  mine.forEach(print);
  if ('error' in base) console.log(`testpmd: ${base.error}`); else print(base);
  console.log(`load ${load.toFixed(1)} on ${os.cpus().length} CPUs, burst ${burst}, net_null ${kNullArgs}, ${kMbufs} mbufs`);
  if (args.includes('--json')) console.log(JSON.stringify({ layout, burst, seconds, loadavg_1m: Number(load.toFixed(2)), ours: mine, testpmd: base }));
}

main().then(() => process.exit(0), (e) => { console.error(`perf:rx profile: ${(e as Error).message}`); process.exit(1); });
