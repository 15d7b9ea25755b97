/**
 * Builds the EAL argument list from typed options. The EAL is initialised once per process, by
 * the first dpdk port; later ports must ask for the same arguments (native refuses otherwise).
 * Virtual devices are not EAL arguments here: each port probes its own vdev, so ports can be
 * opened and closed repeatedly without re-initialising the EAL.
 */
import * as os from 'os';
import { invalidOption } from '../errors';

export interface DpdkOptions {
  /** A virtual device with its arguments, e.g. "net_null0,size=64" or "net_pcap0,rx_pcap=a.pcap". */
  vdev?: string;
  /** A port by name (PCI address such as 0000:03:00.0) or numeric port id. */
  port?: string;
  /** PCI allow list (-a). Without it, PCI probing is off (--no-pci), so DPDK never grabs a NIC by accident. */
  pci?: string[];
  /** EAL --lcores map. Default: main lcore 0 floating over every CPU, one worker lcore per rx lcore CPU. */
  lcores?: string;
  /** CPUs for the RX worker lcores (default: the last CPU). */
  rxCpus?: number[];
  /** Which worker lcore runs each RX queue (default: the first idle ones). */
  rxLcores?: number[];
  inMemory?: boolean;
  filePrefix?: string;
  noHuge?: boolean;
  memoryMb?: number;
  logLevel?: number;
  rxQueues?: number;
  mbufs?: number;
  /**
   * How the mbuf pool's memory is laid out. 'span' (default): one memzone, so JavaScript maps one
   * region and the RX lcore computes a packet's offset with a subtraction; a pool that cannot get
   * one span (4 KiB pages, fragmented hugepages) falls back to 'chunks'. 'chunks':
   * rte_pktmbuf_pool_create's own memzones, one region each (dozens), found per packet through an
   * address index.
   */
  poolLayout?: 'span' | 'chunks';
  rxDesc?: number;
  txDesc?: number;
  promiscuous?: boolean;
  allmulticast?: boolean;
  extraEalArgs?: string[];
}

export function defaultLcores(rxCpus: number[] | undefined): string {
  const n = os.cpus().length;
  const cpus = rxCpus && rxCpus.length ? rxCpus : [n - 1];
  // lcore 0 is the Node main thread: let it float over every CPU instead of pinning it.
  const parts = [`0@(0-${n - 1})`];
  cpus.forEach((c, i) => parts.push(`${i + 1}@${c}`));
  return parts.join(',');
}

export function dpdkEalArgs(d: DpdkOptions): string[] {
  const args: string[] = ['--lcores', d.lcores ?? defaultLcores(d.rxCpus)];
  if (d.filePrefix) args.push('--file-prefix', d.filePrefix);
  else if (d.inMemory !== false) args.push('--in-memory');
  args.push('--no-telemetry');
  args.push(`--log-level=${d.logLevel ?? 4}`);
  if (d.noHuge) {
    if (!d.memoryMb || !Number.isInteger(d.memoryMb) || d.memoryMb < 64) {
      throw invalidOption('port options', 'dpdk.memoryMb', d.memoryMb, 'an integer >= 64 when dpdk.noHuge is set (EAL -m)');
    }
    args.push('--no-huge', '-m', String(d.memoryMb));
  }
  if (d.pci && d.pci.length) for (const p of d.pci) args.push('-a', p);
  else args.push('--no-pci');
  if (d.extraEalArgs) args.push(...d.extraEalArgs);
  return args;
}
