/** `tickpath doctor [--json]`: which backends work here and now, and how to fix the rest. */
import { parseArgs } from 'util';
import * as path from 'path';
import { checkConfigDir } from '../lib/config/check';
import { diagnose, diagnosePlan, formatReport } from '../lib/ops/doctor';

export const summary = 'check this machine: backends, hugepages, bpffs, CPUs/NUMA, privileges';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('Usage: tickpath doctor [--config DIR] [--json]\n\nWith --config, also checks the three config files in DIR as \`tickpath config check\` does, and\nthe plan in them against this machine (isolated CPUs, shared cores, NUMA, hugepages for the DPDK pool,\nand whether the RX ring and mbuf pool hold the burst in performance.burst).\n\nReports which packet backends are compiled in and usable now, hugepages,\nbpffs, CPU/NUMA layout and privileges, each problem with the command that fixes it.\nExit code 0 when at least one live backend (dpdk, af_xdp, af_packet, udp) is usable and\nthe configs given with --config have no problems.');
    return 0;
  }
  const report = diagnose();
  const check = values.config ? checkConfigDir(path.resolve(values.config)) : undefined;
  const configProblems = check?.problems.length ?? 0;
  for (const p of check?.problems ?? []) report.findings.push({ area: 'config', severity: 'problem', what: p.message, fix: p.fix });
  if (check?.configs) {
    const { feed, performance } = check.configs;
    report.findings.push(...diagnosePlan({
      stages: performance.stages, workers: performance.workers, idle: performance.idle.strategy, numaNode: performance.numaNode,
      backend: feed.backend, dpdk: feed.dpdk ? { noHuge: feed.dpdk.eal.noHuge, mbufs: feed.dpdk.mbufs, pciAllow: feed.dpdk.eal.pciAllow } : undefined,
      rxDescriptors: performance.rings.rxDescriptors, burst: performance.burst,
    }));
  }
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return configProblems === 0 && report.backends.some((b) => b.usable && b.name !== 'pcap') ? 0 : 1;
}
