/** `tickpath doctor [--json]`: which backends work here and now, and how to fix the rest. */
import { parseArgs } from 'util';
import { diagnose, formatReport } from '../lib/ops/doctor';

export const summary = 'check this machine: backends, hugepages, bpffs, CPUs/NUMA, privileges';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('Usage: tickpath doctor [--json]\n\nReports which packet backends are compiled in and usable now, hugepages,\nbpffs, CPU/NUMA layout and privileges, each problem with the command that fixes it.\nExit code 0 when at least one live backend (dpdk, af_xdp, af_packet, udp) is usable.');
    return 0;
  }
  const report = diagnose();
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.backends.some((b) => b.usable && b.name !== 'pcap') ? 0 : 1;
}
