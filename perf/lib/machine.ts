/**
 * The machine the three pipeline benchmarks share: which CPUs run what, the one set of EAL
 * arguments every dpdk port in a process must use, and what is missing for dpdk.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { binding } from '../../lib/binding';
import { loadPerformanceConfig } from '../../lib/config/performance-config';

/** Repository root (dist/perf/lib -> ../../..). */
export const kRepoRoot = path.join(__dirname, '..', '..', '..');
export const kConfigDir = path.join(kRepoRoot, 'configs');

/**
 * The EAL is initialised once per process: every dpdk port here uses these rxCpus and mbufs. The
 * pool is sized from performance.yml like a deployment's (see performance.burst): every packet
 * waiting in the RX ring holds an mbuf, so a pool smaller than the ring would run dry first.
 */
export const kRxCpu = os.cpus().length - 1;
export const kMbufs = mbufsFor(loadPerformanceConfig(path.join(kConfigDir, 'performance.yml')).rings.rxDescriptors);
export const kEal = { rxCpus: [kRxCpu], mbufs: kMbufs };

/** A pool (2^n - 1 mbufs, DPDK's best size) holding a full ring plus bursts in flight. */
export function mbufsFor(rxDescriptors: number): number {
  return Math.max(16383, 2 ** Math.ceil(Math.log2(rxDescriptors + 2048 + 1)) - 1);
}

export function hugepagesFree(): number {
  const m = /HugePages_Free:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Why dpdk cannot run here, or undefined. */
export function dpdkUnavailable(): string | undefined {
  const info = binding().backends().find((b) => b.name === 'dpdk');
  if (!info?.compiledIn) return `dpdk backend not compiled in: ${info?.missing}`;
  if (process.getuid && process.getuid() !== 0) return 'dpdk needs root (hugepages)';
  if (hugepagesFree() < 64) return 'fewer than 64 free 2 MB hugepages (run scripts/setup_hugepages.sh)';
  return undefined;
}

export function which(bin: string): string | undefined {
  const out = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim();
  return out || undefined;
}

const scratchDirs: string[] = [];

/** A scratch directory (captures run to hundreds of MB), removed when the process exits. */
export function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (!scratchDirs.length) process.once('exit', () => { for (const d of scratchDirs) fs.rmSync(d, { recursive: true, force: true }); });
  scratchDirs.push(dir);
  return dir;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const nowNs = (): number => Number(process.hrtime.bigint());
