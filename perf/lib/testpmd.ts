/**
 * Baseline in the same invocation: dpdk-testpmd --forward-mode=rxonly on a vdev, its forwarding
 * lcore on the CPU our RX lcore uses. net_pcap with `infinite_rx` loads the file into mbufs once and
 * replays it forever, so the figure is testpmd's receive rate, not the disk's; the pool is sized to
 * hold the whole file. net_null is the same without a file.
 *
 * The window: the count is testpmd's "Accumulated forward statistics" RX-packets, which starts when
 * forwarding starts. We wait for "Press enter to exit" (printed right after forwarding started;
 * stdbuf makes it arrive when printed instead of at exit), start the clock on it, and stop
 * forwarding with enter at the end of the window; a missing line is an error, never a rate.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { kRxCpu, sleep, which } from './machine';

/**
 * The EAL file prefix of testpmd: `tickpath bench` names it (TICKPATH_PERF_EAL_PREFIX) so it can
 * remove the runtime directory even when it had to stop the benchmark; otherwise one per process.
 */
function filePrefix(): string {
  return process.env.TICKPATH_PERF_EAL_PREFIX || `tp_perf_tput_${process.pid}`;
}

/** testpmd leaves its runtime directory behind even with --in-memory; removed once it exited. */
function removeRuntimeDir(prefix: string): void {
  const base = process.getuid?.() === 0 ? '/var/run' : (process.env.XDG_RUNTIME_DIR ?? '/tmp');
  fs.rmSync(path.join(base, 'dpdk', prefix), { recursive: true, force: true });
}

export interface TestpmdResult { packets: number; seconds: number; pps: number }

export async function testpmdRxOnly(pcapFile: string, packets: number, seconds: number): Promise<TestpmdResult | { error: string }> {
  return testpmdRxOnlyOn(`net_pcap0,rx_pcap=${pcapFile},infinite_rx=1`, packets + 16384, seconds);
}

/** testpmd rxonly on any vdev (`net_null0,size=64`, ...), `mbufs` in its pool, counted over `seconds`. */
export async function testpmdRxOnlyOn(vdev: string, mbufs: number, seconds: number): Promise<TestpmdResult | { error: string }> {
  const bin = which('dpdk-testpmd');
  if (!bin) return { error: 'dpdk-testpmd not installed' };
  // testpmd's stdout is block-buffered into a pipe: stdbuf makes "Press enter to exit" arrive when printed.
  const stdbuf = which('stdbuf');
  const prefix = filePrefix();
  const argv = ['-l', `0,${kRxCpu}`, '--in-memory', '--no-pci', '--no-telemetry', '--log-level=4',
    '--file-prefix', prefix, '--vdev', vdev, '--',
    '--forward-mode=rxonly', '-a', `--total-num-mbufs=${mbufs}`];
  const child = stdbuf ? spawn(stdbuf, ['-oL', '-eL', bin, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn(bin, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', r)).then(() => removeRuntimeDir(prefix));
  for (let i = 0; i < 600 && !/Press enter to exit/.test(out) && child.exitCode === null; i++) await sleep(50);
  if (!/Press enter to exit/.test(out)) {
    child.kill('SIGKILL');
    await exited;
    return { error: `testpmd did not start forwarding: ${out.trim().split('\n').slice(-3).join(' | ')}` };
  }
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  child.stdin.write('\n');
  const t1 = process.hrtime.bigint();
  await exited;
  const m = /Accumulated forward statistics[\s\S]*?RX-packets:\s+(\d+)/.exec(out);
  if (!m) return { error: `no RX-packets in testpmd output: ${out.trim().split('\n').slice(-3).join(' | ')}` };
  const s = Number(t1 - t0) / 1e9;
  return { packets: Number(m[1]), seconds: s, pps: Number(m[1]) / s };
}
