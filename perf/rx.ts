/**
 * perf:rx: packets/s delivered into a JS worker that reads each packet's length and one payload
 * word, per backend, beside a baseline measured in the same invocation.
 *
 *  dpdk: net_null (64-byte packets), RX lcore on the last CPU, JS worker on CPU 0, against
 *        dpdk-testpmd --forward-mode=rxonly on the same vdev and the same two CPUs.
 *  af_xdp / af_packet / udp: perf/rx-kernel.ts (veth pair, baseline Node dgram), merged in.
 *
 * Rounds alternate ours and the baseline so both see the same machine noise; the median is kept.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Port, warmUpThreadPool } from '../lib/binding';
import { testpmdRxOnlyOn } from './lib/testpmd';
import { fmtRate, report, Row } from './report';

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 3);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 2);
const cpus = os.cpus().length;
const rxCpu = cpus - 1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function oursDpdk(): Promise<{ pps: number; drops: number }> {
  const port = Port.open({ backend: 'dpdk', ringSize: 8192, burst: 64, dpdk: { vdev: 'net_null_perf0,size=64', rxCpus: [rxCpu], mbufs: 32767 } });
  const control = new SharedArrayBuffer(4);
  const ctl = new Int32Array(control);
  const worker = new Worker(path.join(__dirname, 'rx-worker.js'), { workerData: { transfer: port.rxTransfer(0), cpu: 0, control } });
  const done = new Promise<{ packets: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  port.start();
  await sleep(300); // warm-up: JIT and caches
  const d0 = port.stats().queues[0].ringFullDrops;
  Atomics.store(ctl, 0, 1);
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  Atomics.store(ctl, 0, 2);
  const t1 = process.hrtime.bigint();
  const res = await done;
  port.stop();
  const drops = port.stats().queues[0].ringFullDrops - d0;
  port.close();
  await worker.terminate();
  return { pps: res.packets / (Number(t1 - t0) / 1e9), drops };
}

/**
 * dpdk-testpmd rxonly on the same vdev and CPUs (forwarding lcore on the RX CPU), through the
 * helper perf:throughput uses: forwarding confirmed started, packets counted over the measured
 * window. A testpmd that did not start is an error in the JSON, not a rate.
 */
async function testpmd(): Promise<number | { error: string }> {
  const r = await testpmdRxOnlyOn('net_null0,size=64', 32768, seconds);
  return 'error' in r ? r : r.pps;
}

async function main(): Promise<void> {
  await warmUpThreadPool();
  const ours: number[] = [], base: number[] = [], drops: number[] = [];
  let baseError: string | undefined;
  for (let r = 0; r < rounds; r++) {
    const o = await oursDpdk();
    ours.push(o.pps);
    drops.push(o.drops);
    const b = await testpmd();
    if (typeof b === 'number') base.push(b); else baseError = b.error;
  }
  const results: Record<string, unknown>[] = [];
  const rows: Row[] = [];
  const pps = median(ours), bpps = base.length ? median(base) : NaN;
  results.push({ backend: 'dpdk', pps: Math.round(pps), baseline: 'testpmd-rxonly', baseline_pps: Math.round(bpps), ratio: Number((pps / bpps).toFixed(3)), drops: median(drops), baseline_error: base.length ? undefined : baseError, target_ratio: 0.8 });
  rows.push({ label: 'dpdk net_null 64B -> JS worker', ours: fmtRate(pps), baseline: `${fmtRate(bpps)} testpmd rxonly`, ratio: pps / bpps, note: base.length ? `ring drops ${median(drops)}; target ratio >= 0.8` : `baseline failed: ${baseError}` });

  // Kernel backends on a veth pair, measured by perf/rx-kernel.ts with its own dgram baseline.
  const kernel = path.join(__dirname, 'rx-kernel.js');
  if (fs.existsSync(kernel) && !args.includes('--dpdk-only')) {
    const k = spawnSync(process.execPath, [kernel, '--json'], { encoding: 'utf8', timeout: 300000 });
    const last = k.stdout.trim().split('\n').pop() ?? '';
    try {
      const parsed = JSON.parse(last) as { results: { backend: string; pps: number; baseline: string; baseline_pps: number; ratio: number; drops: number; cap_pps?: number; ratio_cap?: number; lossless_pps?: number; baseline_lossless_pps?: number; cap_lossless_pps?: number }[] };
      for (const r of parsed.results) {
        results.push(r);
        rows.push({ label: `${r.backend} veth -> JS (top speed)`, ours: fmtRate(r.pps), baseline: `${fmtRate(r.baseline_pps)} ${r.baseline}`, ratio: r.ratio, note: `drops ${r.drops}; sender at top speed, offered load differs per receiver` });
        if (r.lossless_pps !== undefined) {
          const capL = r.cap_lossless_pps !== undefined ? `, cap ${fmtRate(r.cap_lossless_pps)}` : '';
          rows.push({ label: `${r.backend} veth -> JS, highest lossless paced rate`, ours: fmtRate(r.lossless_pps), baseline: `dgram ${fmtRate(r.baseline_lossless_pps ?? NaN)}${capL}`, ratio: r.baseline_lossless_pps ? r.lossless_pps / r.baseline_lossless_pps : undefined, note: 'same tcpreplay --pps ladder into each receiver' });
        }
        if (r.cap_pps !== undefined) rows.push({ label: `${r.backend} vs cap (libpcap)`, ours: fmtRate(r.pps), baseline: `${fmtRate(r.cap_pps)} cap`, ratio: r.ratio_cap, note: 'same traffic, measured once per run' });
      }
    } catch {
      rows.push({ label: 'af_xdp/af_packet/udp', ours: 'n/a', baseline: 'n/a', note: `perf/rx-kernel failed: ${(k.stderr || last).slice(-200)}` });
    }
  }
  report('rx', rows, { results });
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
