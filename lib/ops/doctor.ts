/**
 * `tickpath doctor`: what this machine can run right now, and what to do about what it cannot.
 *
 * Every fact is read from /proc and /sys through a `SystemView`, so tests can show the doctor a
 * machine without hugepages or root without changing the real one.
 */
import * as fs from 'fs';
import * as os from 'os';
import { binding, NativeBackendInfo } from '../binding/native';
import { burstBacklogPackets, burstDrainMs, type BurstSizing } from '../config/performance-config';

export interface SystemView {
  read(path: string): string | undefined;
  list(path: string): string[];
  euid(): number;
  cpuCount(): number;
  backends(): NativeBackendInfo[] | undefined;   // undefined: addon not built
}

export const realSystem: SystemView = {
  read: (p) => { try { return fs.readFileSync(p, 'utf8'); } catch { return undefined; } },
  list: (p) => { try { return fs.readdirSync(p); } catch { return []; } },
  euid: () => (process.geteuid ? process.geteuid() : -1),
  cpuCount: () => os.cpus().length,
  backends: () => { try { return binding().backends(); } catch { return undefined; } },
};

export type Severity = 'ok' | 'warn' | 'problem';
export interface Finding { area: string; severity: Severity; what: string; fix?: string }
export interface BackendStatus { name: string; compiledIn: boolean; usable: boolean; why: string; fix?: string }

export interface DoctorReport {
  backends: BackendStatus[];
  hugepages: { total: number; free: number; sizeKb: number; mounts: string[] };
  /**
   * Transparent huge pages: the mode in /sys/kernel/mm/transparent_hugepage/enabled ('always',
   * 'madvise', 'never'; '' when the kernel has none). performance.huge_pages needs 'madvise' or 'always'.
   */
  thp: { enabled: string };
  bpffs: boolean;
  cpus: { count: number; isolated: string; numaNodes: { node: number; cpus: string }[] };
  privileges: { euid: number; root: boolean; capabilities: string[] };
  rmemMax: number | undefined;
  /** What decides an order round trip's tail on this machine (latency(): read, never changed). */
  latency: LatencyView;
  findings: Finding[];
}

/**
 * The machine settings behind a round trip's tail, as measured by perf/router-rtt-sched: who may
 * run SCHED_FIFO (venue-sim --realtime, perf --realtime) and what the RT throttle takes back, where
 * interrupts and softirqs land (a pinned loop on a CPU that also takes the NIC's interrupts is
 * preempted by them), busy-poll defaults, and the isolation on the kernel command line. The doctor
 * reports them; changing them is the host's business (scripts/tune_network.sh, the boot loader).
 */
export interface LatencyView {
  realtime: { allowed: boolean; why: string; rtprioLimit: string; rtRuntimeUs: number | null; rtPeriodUs: number | null };
  /** Per IRQ line with interrupts: its name, the CPUs it may land on, and its count per CPU. */
  irqs: { irq: string; name: string; affinity: string; perCpu: number[] }[];
  defaultIrqAffinity: string;
  /** /proc/softirqs rows per CPU (NET_RX, NET_TX, TIMER, SCHED, RCU). */
  softirqs: Record<string, number[]>;
  busyPoll: { busyPollUs: number | null; busyReadUs: number | null; epollParams: boolean };
  cmdline: { isolcpus: string; nohzFull: string; rcuNocbs: string; irqaffinity: string };
  irqbalance: boolean;
}

function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return !!m && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}

/** The latency-relevant settings and their findings. */
export function latency(sys: SystemView, root: boolean, caps: string[], findings: Finding[]): LatencyView {
  const num = (p: string): number | null => { const v = sys.read(p); return v === undefined ? null : Number(v.trim()); };
  const limits = /^Max realtime priority\s+(\S+)/m.exec(sys.read('/proc/self/limits') ?? '')?.[1] ?? 'unknown';
  const rtRuntimeUs = num('/proc/sys/kernel/sched_rt_runtime_us');
  const rtPeriodUs = num('/proc/sys/kernel/sched_rt_period_us');
  const canNice = root || caps.includes('CAP_SYS_NICE');
  const byLimit = limits === 'unlimited' || Number(limits) >= 1;
  const allowed = (canNice || byLimit) && rtRuntimeUs !== 0;
  const why = rtRuntimeUs === 0 ? 'kernel.sched_rt_runtime_us is 0: no real-time runtime at all'
    : canNice ? `${root ? 'root' : 'CAP_SYS_NICE'}: SCHED_FIFO 1..49 allowed` : byLimit ? `RLIMIT_RTPRIO ${limits} allows SCHED_FIFO up to it` : `no CAP_SYS_NICE and RLIMIT_RTPRIO ${limits}`;
  findings.push(allowed
    ? { area: 'latency', severity: 'ok', what: `real-time scheduling (venue-sim --realtime, perf --realtime): ${why}` }
    : { area: 'latency', severity: 'warn', what: `real-time scheduling refused here: ${why}`, fix: 'run as root, setcap cap_sys_nice+ep "$(command -v node)", or raise RLIMIT_RTPRIO (ulimit -r 5; LimitRTPRIO=5 in a systemd unit)' });
  if (rtRuntimeUs === -1) {
    findings.push({ area: 'latency', severity: 'warn', what: 'RT throttling is off (sched_rt_runtime_us -1): a real-time thread that never sleeps can hang its CPU (tickpath\'s real-time loops sleep 50 us per ms)', fix: 'sudo sysctl -w kernel.sched_rt_runtime_us=950000' });
  } else if (rtRuntimeUs !== null && rtPeriodUs) {
    findings.push({ area: 'latency', severity: 'ok', what: `RT throttle: real-time threads get ${rtRuntimeUs / 1000} ms of each ${rtPeriodUs / 1000} ms per CPU; a SCHED_FIFO loop that never slept would lose ${(rtPeriodUs - rtRuntimeUs) / 1000} ms in one block` });
  }
  // Interrupts: /proc/interrupts rows with a count, and where each may land.
  const irqs: LatencyView['irqs'] = [];
  const lines = (sys.read('/proc/interrupts') ?? '').split('\n');
  const ncpu = (lines[0] ?? '').trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
  for (const line of lines.slice(1)) {
    const m = /^\s*(\d+):\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/);
    const perCpu = f.slice(0, ncpu).map(Number);
    if (perCpu.every((c) => c === 0)) continue;
    irqs.push({ irq: m[1], name: f.slice(ncpu).join(' '), affinity: (sys.read(`/proc/irq/${m[1]}/smp_affinity_list`) ?? '?').trim(), perCpu });
  }
  irqs.sort((a, b) => b.perCpu.reduce((x, y) => x + y, 0) - a.perCpu.reduce((x, y) => x + y, 0));
  const softirqs: Record<string, number[]> = {};
  for (const line of (sys.read('/proc/softirqs') ?? '').split('\n')) {
    const m = /^\s*(NET_RX|NET_TX|TIMER|SCHED|RCU):\s+(.*)$/.exec(line);
    if (m) softirqs[m[1]] = m[2].trim().split(/\s+/).map(Number);
  }
  const cmd = sys.read('/proc/cmdline') ?? '';
  const param = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S+)`).exec(cmd)?.[1] ?? '';
  const cmdline = { isolcpus: param('isolcpus'), nohzFull: param('nohz_full'), rcuNocbs: param('rcu_nocbs'), irqaffinity: param('irqaffinity') };
  const defaultIrqAffinity = (sys.read('/proc/irq/default_smp_affinity') ?? '').trim();
  const irqbalance = sys.list('/proc').some((pid) => /^\d+$/.test(pid) && (sys.read(`/proc/${pid}/comm`) ?? '').trim() === 'irqbalance');
  const busiest = irqs.slice(0, 4).map((i) => `${i.irq} ${i.name} -> CPUs ${i.affinity} (${i.perCpu.map((c, k) => `cpu${k} ${c}`).join(', ')})`).join('; ');
  const netRx = softirqs.NET_RX ? softirqs.NET_RX.map((c, k) => `cpu${k} ${c}`).join(', ') : 'n/a';
  findings.push({
    area: 'latency', severity: cmdline.isolcpus || cmdline.irqaffinity ? 'ok' : 'warn',
    what: `interrupts land on every CPU a pinned loop may use (busiest: ${busiest || 'none'}; NET_RX softirqs ${netRx}; default IRQ affinity ${defaultIrqAffinity || '?'}${irqbalance ? '; irqbalance running' : ''})`,
    fix: 'on a host with cores to spare, keep interrupts and softirqs on housekeeping CPUs: irqaffinity=0 isolcpus=... nohz_full=... rcu_nocbs=... on the kernel command line, or echo 0 | sudo tee /proc/irq/<n>/smp_affinity_list for each NIC queue (stop irqbalance first), then pin the router and the venue sessions to the isolated cores',
  });
  const release = (sys.read('/proc/sys/kernel/osrelease') ?? os.release()).trim();
  const busyPoll = { busyPollUs: num('/proc/sys/net/core/busy_poll'), busyReadUs: num('/proc/sys/net/core/busy_read'), epollParams: kernelAtLeast(release, 6, 9) };
  findings.push({
    area: 'latency', severity: 'ok',
    what: `busy poll: net.core.busy_poll ${busyPoll.busyPollUs ?? '?'} us, busy_read ${busyPoll.busyReadUs ?? '?'} us (per-socket SO_BUSY_POLL: busy_poll_us, venue-sim --busy-poll); epoll busy poll (EPIOCSPARAMS, venue-sim --epoll-busy-poll) ${busyPoll.epollParams ? 'available' : `needs Linux 6.9+ (this is ${release})`}; both engage only for NIC queues (NAPI), never on loopback`,
  });
  return { realtime: { allowed, why, rtprioLimit: limits, rtRuntimeUs, rtPeriodUs }, irqs: irqs.slice(0, 12), defaultIrqAffinity, softirqs, busyPoll, cmdline, irqbalance };
}

// Capability bit numbers from linux/capability.h that the backends need.
const kCaps: [number, string][] = [
  [12, 'CAP_NET_ADMIN'], [13, 'CAP_NET_RAW'], [14, 'CAP_IPC_LOCK'], [21, 'CAP_SYS_ADMIN'], [23, 'CAP_SYS_NICE'], [39, 'CAP_BPF'],
];

function meminfo(sys: SystemView, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(sys.read('/proc/meminfo') ?? '');
  return m ? Number(m[1]) : 0;
}

function capabilities(sys: SystemView): string[] {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(sys.read('/proc/self/status') ?? '');
  if (!m) return [];
  const eff = BigInt(`0x${m[1]}`);
  return kCaps.filter(([bit]) => (eff >> BigInt(bit)) & 1n).map(([, name]) => name);
}

/** The bracketed mode of /sys/kernel/mm/transparent_hugepage/enabled, e.g. 'madvise'; '' if absent. */
function thpMode(sys: SystemView): string {
  const m = /\[(\w+)\]/.exec(sys.read('/sys/kernel/mm/transparent_hugepage/enabled') ?? '');
  return m ? m[1] : '';
}

/**
 * performance.huge_pages (lib/pipeline/huge-pages.ts) madvises the process's own memory into
 * transparent huge pages; the kernel honours that in modes 'madvise' (the usual default) and
 * 'always', not in 'never'.
 */
function thpFinding(mode: string): Finding {
  const fix = 'echo madvise | sudo tee /sys/kernel/mm/transparent_hugepage/enabled (as root; add transparent_hugepage=madvise to the kernel command line to keep it)';
  if (mode === 'madvise' || mode === 'always') {
    return { area: 'thp', severity: 'ok', what: `transparent huge pages: ${mode}; performance.huge_pages (collapse, shipped) gives the run's own memory 2 MB pages (fewer TLB misses on an order after a quiet stretch)` };
  }
  if (mode === 'never') {
    return { area: 'thp', severity: 'warn', what: 'transparent huge pages are off (never): performance.huge_pages cannot take effect, so an order after a quiet stretch pays a page walk per 4 KB page it touches', fix };
  }
  return { area: 'thp', severity: 'warn', what: 'this kernel has no transparent huge pages (/sys/kernel/mm/transparent_hugepage/enabled is missing): performance.huge_pages does nothing', fix: 'a kernel built with CONFIG_TRANSPARENT_HUGEPAGE' };
}

export function diagnose(sys: SystemView = realSystem): DoctorReport {
  const findings: Finding[] = [];
  const mounts = (sys.read('/proc/mounts') ?? '').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 2);
  const hugeMounts = mounts.filter((f) => f[2] === 'hugetlbfs').map((f) => f[1]);
  const bpffs = mounts.some((f) => f[2] === 'bpf');
  const hp = { total: meminfo(sys, 'HugePages_Total'), free: meminfo(sys, 'HugePages_Free'), sizeKb: meminfo(sys, 'Hugepagesize'), mounts: hugeMounts };
  const caps = capabilities(sys);
  const euid = sys.euid();
  const root = euid === 0;
  const has = (c: string) => root || caps.includes(c);
  const rmemRaw = sys.read('/proc/sys/net/core/rmem_max');
  const rmemMax = rmemRaw ? Number(rmemRaw.trim()) : undefined;

  if (hp.total === 0) {
    findings.push({ area: 'hugepages', severity: 'problem', what: 'no hugepages reserved: the dpdk backend cannot start (AF_XDP UMEM falls back to normal pages)', fix: 'sudo scripts/setup_hugepages.sh 512' });
  } else if (hp.free < 64) {
    findings.push({ area: 'hugepages', severity: 'warn', what: `only ${hp.free} of ${hp.total} hugepages free`, fix: 'stop other DPDK processes or sudo scripts/setup_hugepages.sh <more>' });
  } else {
    findings.push({ area: 'hugepages', severity: 'ok', what: `${hp.free} of ${hp.total} x ${hp.sizeKb} kB hugepages free` });
  }
  if (hugeMounts.length === 0) findings.push({ area: 'hugepages', severity: 'warn', what: 'hugetlbfs is not mounted (dpdk --file-prefix mode needs it; --in-memory does not)', fix: 'sudo scripts/setup_hugepages.sh (mounts /dev/hugepages)' });
  const thp = { enabled: thpMode(sys) };
  findings.push(thpFinding(thp.enabled));
  if (!bpffs) findings.push({ area: 'bpffs', severity: 'warn', what: 'bpffs is not mounted at /sys/fs/bpf (libxdp pins its XDP dispatcher there)', fix: 'sudo mount -t bpf bpf /sys/fs/bpf' });
  if (!root) findings.push({ area: 'privileges', severity: 'warn', what: `not root (euid ${euid}); capabilities: ${caps.join(', ') || 'none'}`, fix: 'run as root for dpdk/af_xdp/af_packet, or use the udp or pcap backends' });
  if (rmemMax !== undefined && rmemMax < 8 << 20) findings.push({ area: 'network', severity: 'warn', what: `net.core.rmem_max is ${rmemMax}: the udp backend's SO_RCVBUF is capped there`, fix: 'sudo sysctl -w net.core.rmem_max=67108864 (scripts/tune_network.sh does this)' });

  const compiled = sys.backends();
  if (!compiled) findings.push({ area: 'addon', severity: 'problem', what: 'the native addon is not built', fix: 'npm run build:native' });
  const backends: BackendStatus[] = (compiled ?? []).map((b) => {
    if (!b.compiledIn) return { name: b.name, compiledIn: false, usable: false, why: 'not compiled in', fix: b.missing };
    switch (b.name) {
      case 'dpdk':
        if (hp.free === 0) return { name: b.name, compiledIn: true, usable: false, why: 'no free hugepages', fix: 'sudo scripts/setup_hugepages.sh 512 (or dpdk.noHuge with memoryMb for a test run)' };
        if (!has('CAP_SYS_ADMIN') || !has('CAP_IPC_LOCK')) return { name: b.name, compiledIn: true, usable: false, why: 'needs root (or CAP_SYS_ADMIN + CAP_IPC_LOCK)', fix: 'run as root' };
        return { name: b.name, compiledIn: true, usable: true, why: 'compiled in, hugepages free, privileged: virtual devices ready; PCI NICs need binding with dpdk-devbind.py -b vfio-pci <pci>' };
      case 'af_xdp':
        if (!has('CAP_NET_ADMIN') || !(has('CAP_BPF') || has('CAP_SYS_ADMIN'))) return { name: b.name, compiledIn: true, usable: false, why: 'needs root (or CAP_NET_ADMIN + CAP_BPF)', fix: 'run as root' };
        if (!bpffs) return { name: b.name, compiledIn: true, usable: true, why: 'usable; bpffs missing, so libxdp cannot pin its dispatcher (multi-program XDP)', fix: 'sudo mount -t bpf bpf /sys/fs/bpf' };
        return { name: b.name, compiledIn: true, usable: true, why: 'compiled in, privileged, bpffs mounted' };
      case 'af_packet':
        if (!has('CAP_NET_RAW')) return { name: b.name, compiledIn: true, usable: false, why: 'needs root or CAP_NET_RAW', fix: 'run as root or: sudo setcap cap_net_raw+ep $(which node)' };
        return { name: b.name, compiledIn: true, usable: true, why: 'compiled in, CAP_NET_RAW' };
      default:
        return { name: b.name, compiledIn: true, usable: true, why: b.name === 'udp' ? 'kernel UDP socket: works without root' : 'reads capture files: works without root' };
    }
  });
  for (const b of backends) {
    findings.push({ area: `backend ${b.name}`, severity: b.usable ? 'ok' : b.compiledIn ? 'warn' : 'problem', what: `${b.usable ? 'usable' : 'unusable'}: ${b.why}`, fix: b.fix });
  }

  const nodes = sys.list('/sys/devices/system/node').filter((n) => /^node\d+$/.test(n))
    .map((n) => ({ node: Number(n.slice(4)), cpus: (sys.read(`/sys/devices/system/node/${n}/cpulist`) ?? '').trim() }));
  const isolated = (sys.read('/sys/devices/system/cpu/isolated') ?? '').trim();
  const count = sys.cpuCount();
  if (!isolated) findings.push({ area: 'cpus', severity: 'warn', what: `no isolated CPUs (of ${count}): pinned stages share cores with the kernel and other processes, so tail latency suffers`, fix: `add isolcpus=${count > 2 ? `1-${count - 1}` : '1'} nohz_full=... to the kernel command line on a production host` });
  const lat = latency(sys, root, caps, findings);
  return {
    backends, hugepages: hp, thp, bpffs,
    cpus: { count, isolated, numaNodes: nodes },
    privileges: { euid, root, capabilities: caps }, rmemMax, latency: lat, findings,
  };
}

export function formatReport(r: DoctorReport): string {
  const mark = { ok: 'ok     ', warn: 'warn   ', problem: 'PROBLEM' } as const;
  const lines: string[] = ['tickpath doctor', ''];
  lines.push('Backends:');
  for (const b of r.backends) lines.push(`  ${b.name.padEnd(10)} ${b.usable ? 'usable  ' : 'unusable'} ${b.why}${b.fix && !b.usable ? `\n  ${''.padEnd(10)}          fix: ${b.fix}` : ''}`);
  lines.push('', `Hugepages: ${r.hugepages.total} total, ${r.hugepages.free} free, ${r.hugepages.sizeKb} kB each; hugetlbfs mounts: ${r.hugepages.mounts.join(', ') || 'none'}`);
  lines.push(`Transparent huge pages: ${r.thp.enabled || 'not in this kernel'} (performance.huge_pages needs madvise or always)`);
  lines.push(`bpffs: ${r.bpffs ? 'mounted' : 'not mounted'}`);
  lines.push(`CPUs: ${r.cpus.count}; isolated: ${r.cpus.isolated || 'none'}; NUMA: ${r.cpus.numaNodes.map((n) => `node${n.node}=${n.cpus}`).join(' ') || 'no NUMA info'}`);
  lines.push(`Privileges: euid ${r.privileges.euid}${r.privileges.root ? ' (root)' : ''}; capabilities: ${r.privileges.capabilities.join(', ') || 'none'}`);
  if (r.rmemMax !== undefined) lines.push(`net.core.rmem_max: ${r.rmemMax}`);
  const l = r.latency;
  lines.push(`Real-time scheduling: ${l.realtime.allowed ? 'allowed' : 'refused'} (${l.realtime.why}); RT throttle ${l.realtime.rtRuntimeUs ?? '?'} of ${l.realtime.rtPeriodUs ?? '?'} us`);
  lines.push(`Interrupts (busiest): ${l.irqs.slice(0, 4).map((i) => `${i.irq} ${i.name} -> CPUs ${i.affinity} [${i.perCpu.join('/')}]`).join('; ') || 'none'}`);
  lines.push(`Softirqs per CPU: ${Object.entries(l.softirqs).map(([k, v]) => `${k} ${v.join('/')}`).join(', ') || 'n/a'}`);
  lines.push(`Kernel command line: isolcpus=${l.cmdline.isolcpus || '-'} nohz_full=${l.cmdline.nohzFull || '-'} rcu_nocbs=${l.cmdline.rcuNocbs || '-'} irqaffinity=${l.cmdline.irqaffinity || '-'}${l.irqbalance ? '; irqbalance running' : ''}`);
  lines.push('', 'Findings:');
  for (const f of r.findings) lines.push(`  ${mark[f.severity]} ${f.area}: ${f.what}${f.fix && f.severity !== 'ok' ? `\n          fix: ${f.fix}` : ''}`);
  return lines.join('\n');
}

/**
 * Checks a deployment plan (performance.yml + feed_config.yml) against this machine: which CPUs
 * the stages take, whether they are isolated, what shares a core, NUMA placement, hugepages for
 * the DPDK pool. Each finding says what to change.
 */
export interface PlanInput {
  stages: Record<'rx' | 'decoder' | 'book' | 'strategy' | 'router', { cpu: number }>;
  workers: string[][];
  idle: string;
  numaNode: number;
  backend: string;
  dpdk?: { noHuge: boolean; mbufs: number; pciAllow: string[] };
  /** performance.rings.rx_descriptors and performance.burst: can the RX buffering hold that burst? */
  rxDescriptors?: number;
  burst?: BurstSizing;
}

function cpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

export function diagnosePlan(plan: PlanInput, sys: SystemView = realSystem): Finding[] {
  const f: Finding[] = [];
  const report = diagnose(sys);
  const isolated = new Set(cpuList(report.cpus.isolated));
  const groupCpu = plan.workers.map((g) => plan.stages[g[0] as keyof PlanInput['stages']].cpu);
  const rxCpu = plan.stages.rx.cpu;
  const used = [rxCpu, ...groupCpu];
  const notIsolated = [...new Set(used.filter((c) => !isolated.has(c)))];
  if (notIsolated.length) {
    f.push({ area: 'plan', severity: 'warn', what: `CPU ${notIsolated.join(', ')} run pinned stages but are not isolated: the scheduler and interrupts share them`,
      fix: `boot with isolcpus=${notIsolated.join(',')} nohz_full=${notIsolated.join(',')} rcu_nocbs=${notIsolated.join(',')} and keep IRQs off them (scripts/tune_network.sh prints the IRQ affinity)` });
  }
  if (used.includes(0)) f.push({ area: 'plan', severity: 'warn', what: 'CPU 0 runs a pinned stage; it also takes most interrupts and housekeeping', fix: 'move stages off CPU 0 when the machine has more cores' });
  const perCpu = new Map<number, string[]>();
  used.forEach((c, i) => perCpu.set(c, [...(perCpu.get(c) ?? []), i === 0 ? 'rx poller' : `worker [${plan.workers[i - 1].join('+')}]`]));
  for (const [cpu, who] of perCpu) {
    if (who.length > 1) {
      f.push({ area: 'plan', severity: plan.idle === 'spin' ? 'problem' : 'warn',
        what: `CPU ${cpu} is shared by ${who.join(' and ')}${plan.idle === 'spin' ? ' with idle strategy spin: they will take turns in scheduler time slices (milliseconds of latency)' : ''}`,
        fix: plan.idle === 'spin' ? 'give each spinning thread its own CPU, or use idle: backoff' : 'give each its own CPU when the machine has them' });
    }
  }
  const nodes = report.cpus.numaNodes;
  if (nodes.length > 0) {
    const node = nodes.find((n) => n.node === plan.numaNode);
    if (!node) {
      f.push({ area: 'plan', severity: 'problem', what: `numa_node ${plan.numaNode} does not exist (nodes: ${nodes.map((n) => n.node).join(', ')})`, fix: 'set performance.numa_node to the NIC\'s node' });
    } else {
      const onNode = new Set(cpuList(node.cpus));
      const off = [...new Set(used.filter((c) => !onNode.has(c)))];
      if (off.length) f.push({ area: 'plan', severity: 'warn', what: `CPU ${off.join(', ')} are not on NUMA node ${plan.numaNode}: every packet crosses the interconnect`, fix: `use CPUs ${node.cpus}` });
    }
  }
  for (const pci of plan.dpdk?.pciAllow ?? []) {
    const nicNode = Number((sys.read(`/sys/bus/pci/devices/${pci}/numa_node`) ?? '-1').trim());
    if (nicNode >= 0 && nicNode !== plan.numaNode) f.push({ area: 'plan', severity: 'warn', what: `NIC ${pci} is on NUMA node ${nicNode}, the plan uses node ${plan.numaNode}`, fix: `set performance.numa_node: ${nicNode} and pick CPUs on it` });
  }
  if (plan.backend === 'dpdk' && plan.dpdk && !plan.dpdk.noHuge) {
    // mbufs of 2176 bytes data room + 128 header + 64 private, plus the mempool's headers: ~2.5 KiB
    const needPages = Math.ceil((plan.dpdk.mbufs * 2560) / (2 << 20)) + 16;
    if (report.hugepages.free < needPages) {
      f.push({ area: 'plan', severity: 'problem', what: `the dpdk pool needs about ${needPages} free 2 MB hugepages, ${report.hugepages.free} are free`, fix: `sudo scripts/setup_hugepages.sh ${Math.max(512, needPages + report.hugepages.total - report.hugepages.free)}` });
    }
  }
  if (plan.burst) f.push(...burstFindings(plan, report.hugepages.free));
  if (!f.some((x) => x.severity !== 'ok')) f.push({ area: 'plan', severity: 'ok', what: 'the plan fits this machine' });
  return f;
}

/**
 * performance.burst against the buffering: the packets that pile up during the burst must fit in
 * the RX descriptor ring, and on dpdk every one of them holds an mbuf (on hugepages) until the
 * decoder has passed it.
 */
function burstFindings(plan: PlanInput, hugepagesFree: number): Finding[] {
  const b = plan.burst!, f: Finding[] = [];
  const backlog = burstBacklogPackets(b), drainMs = burstDrainMs(b);
  const what = `a burst of ${b.multiplier}x ${b.normalMsgsPerS} msgs/s for ${b.durationMs} ms drained at ${b.drainMsgsPerS} msgs/s leaves ${backlog} packets waiting`;
  let ring = 64;
  while (ring < backlog + 64) ring *= 2;
  if (drainMs === Infinity) {
    f.push({ area: 'burst', severity: 'problem', what: `performance.burst.drain_msgs_per_s (${b.drainMsgsPerS}) is not above the normal rate (${b.normalMsgsPerS}): the backlog never drains`, fix: 'measure the drain rate with npm run perf:throughput, or shard the books across workers' });
  }
  if (plan.rxDescriptors !== undefined && plan.rxDescriptors < backlog + 64) {
    f.push({ area: 'burst', severity: 'problem', what: `${what}; performance.rings.rx_descriptors is ${plan.rxDescriptors}`, fix: `set performance.rings.rx_descriptors: ${ring}` });
  } else if (plan.rxDescriptors !== undefined) {
    f.push({ area: 'burst', severity: 'ok', what: `${what}; ${plan.rxDescriptors} RX descriptors hold it${drainMs !== Infinity ? `, drained in about ${Math.round(drainMs)} ms` : ''}` });
  }
  if (plan.backend === 'dpdk' && plan.dpdk) {
    const needMbufs = Math.max(backlog, plan.rxDescriptors ?? 0) + 2048;
    if (plan.dpdk.mbufs < needMbufs) {
      f.push({ area: 'burst', severity: 'problem', what: `the dpdk pool has ${plan.dpdk.mbufs} mbufs; the RX ring and the burst backlog need about ${needMbufs}`, fix: `set feed.dpdk.mbufs: ${2 ** Math.ceil(Math.log2(needMbufs + 1)) - 1}` });
    }
    const pages = Math.ceil((needMbufs * 2560) / (2 << 20)) + 16;
    if (!plan.dpdk.noHuge && hugepagesFree < pages) {
      f.push({ area: 'burst', severity: 'problem', what: `holding the burst takes about ${pages} free 2 MB hugepages for mbufs, ${hugepagesFree} are free`, fix: `sudo scripts/setup_hugepages.sh ${Math.max(512, pages)}` });
    }
  }
  return f;
}
