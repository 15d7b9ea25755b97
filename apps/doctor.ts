/** `tickpath doctor [--json]`: which backends work here and now, and how to fix the rest. */
import { parseArgs } from 'util';
import * as path from 'path';
import { loadConfigs } from '../lib/config';
import { diagnose, diagnosePlan, formatReport } from '../lib/ops/doctor';

export const summary = 'check this machine: backends, hugepages, bpffs, CPUs/NUMA, privileges';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('Usage: tickpath doctor [--config DIR] [--json]\n\nWith --config, also checks the plan in DIR/performance.yml and feed_config.yml against\nthis machine (isolated CPUs, shared cores, NUMA, hugepages for the DPDK pool).\n\nReports which packet backends are compiled in and usable now, hugepages,\nbpffs, CPU/NUMA layout and privileges, each problem with the command that fixes it.\nExit code 0 when at least one live backend (dpdk, af_xdp, af_packet, udp) is usable.');
    return 0;
  }
  const report = diagnose();
  if (values.config) {
    const { feed, performance } = loadConfigs(path.resolve(values.config));
    report.findings.push(...diagnosePlan({
      stages: performance.stages, workers: performance.workers, idle: performance.idle.strategy, numaNode: performance.numaNode,
      backend: feed.backend, dpdk: feed.dpdk ? { noHuge: feed.dpdk.eal.noHuge, mbufs: feed.dpdk.mbufs, pciAllow: feed.dpdk.eal.pciAllow } : undefined,
    }));
  }
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.backends.some((b) => b.usable && b.name !== 'pcap') ? 0 : 1;
}
