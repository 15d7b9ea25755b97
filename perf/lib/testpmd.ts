/**
 * Baseline in the same invocation: dpdk-testpmd --forward-mode=rxonly on a vdev, its forwarding
 * lcore on the CPU our RX lcore uses. net_pcap with `infinite_rx` loads the file into mbufs once and
 * replays it forever, so the figure is testpmd's receive rate, not the disk's; the pool is sized to
 * hold the whole file. net_null is the same without a file.
 *
 * The window: testpmd runs interactive (-i) on a pipe; we type `start`, let it warm up, then read the
 * port's RX-packets with `show port stats 0` twice, `seconds` apart. The rate is the difference over
 * the time between the two answers' arrival (stdbuf makes each line arrive when printed instead of
 * at exit), so neither the start-up nor the stop is counted; testpmd's own Rx-pps for the same
 * interval (its TSC) is returned beside it as a check. "forwarding started" is confirmed by the
 * rxonly banner `start` prints; a missing banner or answer is an error, never a rate.
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

export interface TestpmdResult {
  packets: number;
  seconds: number;
  pps: number;
  /** testpmd's own "Rx-pps" over the same interval (its clock), as a check on `pps`. */
  testpmdPps: number;
  /** CPU time its forwarding lcore had in the interval (less than `seconds` on a loaded machine). */
  lcoreCpuSeconds: number;
  burst: number;
}

export async function testpmdRxOnly(pcapFile: string, packets: number, seconds: number, burst = 32): Promise<TestpmdResult | { error: string }> {
  return testpmdRxOnlyOn(`net_pcap0,rx_pcap=${pcapFile},infinite_rx=1`, packets + 16384, seconds, burst);
}

/**
 * testpmd rxonly on any vdev (`net_null0,size=64`, ...), `mbufs` in its pool, `burst` packets per
 * rx_burst (testpmd's --burst; give it the burst the compared port uses), counted over `seconds`.
 * `onWindow` is called with testpmd's pid when the counted window opens (perf/rx-profile.ts samples it).
 */
export async function testpmdRxOnlyOn(vdev: string, mbufs: number, seconds: number, burst = 32, warmupMs = 300,
  onWindow?: (pid: number) => void): Promise<TestpmdResult | { error: string }> {
  const bin = which('dpdk-testpmd');
  if (!bin) return { error: 'dpdk-testpmd not installed' };
  // testpmd's stdout is block-buffered into a pipe: stdbuf makes each answer arrive when printed.
  const stdbuf = which('stdbuf');
  if (!stdbuf) return { error: 'stdbuf (coreutils) not found: testpmd\'s answers would arrive only at exit' };
  const prefix = filePrefix();
  const argv = ['-l', `0,${kRxCpu}`, '--in-memory', '--no-pci', '--no-telemetry', '--log-level=4',
    '--file-prefix', prefix, '--vdev', vdev, '--',
    '-i', '--forward-mode=rxonly', `--burst=${burst}`, `--total-num-mbufs=${mbufs}`];
  const child = spawn(stdbuf, ['-oL', '-eL', bin, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', r)).then(() => removeRuntimeDir(prefix));
  const tail = (): string => out.trim().split('\n').slice(-3).join(' | ');
  /** Waits until `re` matches the output after `from`; returns the match and when it arrived. */
  const waitFor = async (re: RegExp, from: number, ms: number): Promise<{ m: RegExpExecArray; at: bigint } | undefined> => {
    for (let i = 0; i * 2 < ms && child.exitCode === null; i++) {
      const m = re.exec(out.slice(from));
      if (m) return { m, at: process.hrtime.bigint() };
      await sleep(2);
    }
    return undefined;
  };
  const fail = async (why: string): Promise<{ error: string }> => {
    child.kill('SIGKILL');
    await exited;
    return { error: `${why}: ${tail()}` };
  };
  const send = (line: string): number => { const from = out.length; child.stdin.write(`${line}\n`); return from; };
  // The prompt arrives unbuffered (cmdline writes it directly); the port is configured by then.
  if (!(await waitFor(/testpmd> /, 0, 30000))) return fail('testpmd did not reach its prompt');
  if (!(await waitFor(/rxonly packet forwarding[^\n]*\n/, send('start'), 5000))) return fail('testpmd did not start forwarding');
  await sleep(warmupMs);
  const statsRe = /RX-packets:\s+(\d+)[\s\S]*?Rx-pps:\s+(\d+)/;
  const a = await waitFor(statsRe, send('show port stats 0'), 5000);
  if (!a) return fail('no answer to show port stats');
  const cpuA = lcoreCpuNs(child.pid!);
  onWindow?.(child.pid!);
  await sleep(seconds * 1000);
  const b = await waitFor(statsRe, send('show port stats 0'), 5000);
  if (!b) return fail('no answer to show port stats');
  const cpuB = lcoreCpuNs(child.pid!);
  send('stop');
  send('quit');
  const quit = await Promise.race([exited.then(() => true), sleep(10000).then(() => false)]);
  if (!quit) { child.kill('SIGKILL'); await exited; }
  const packets = Number(b.m[1]) - Number(a.m[1]);
  const s = Number(b.at - a.at) / 1e9;
  return { packets, seconds: s, pps: packets / s, testpmdPps: Number(b.m[2]), burst, lcoreCpuSeconds: (cpuB - cpuA) / 1e9 };
}

/**
 * CPU time (ns, schedstat) of a process's EAL worker lcore threads (named rte-worker-N or
 * lcore-worker-N by the EAL), summed; NaN when there is none. `pid` 'self' for our own.
 */
export function lcoreCpuNs(pid: number | 'self'): number {
  let sum = 0, found = false;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8');
        if (!/^(rte|lcore)-worker/.test(comm)) continue;
        sum += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        found = true;
      } catch { /* the thread ended */ }
    }
  } catch { return NaN; }
  return found ? sum : NaN;
}
