import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { diagnose, diagnosePlan, realSystem, SystemView } from '../../lib/ops/doctor';

const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');

/** The real machine, with some files replaced: a test double for what the doctor reads. */
function machine(overrides: Record<string, string>, euid = 0, backends: ReturnType<SystemView['backends']> | null | 'real' = 'real'): SystemView {
  const b = backends === 'real' ? realSystem.backends() : backends ?? undefined;
  return { ...realSystem, read: (p) => (p in overrides ? overrides[p] : realSystem.read(p)), euid: () => euid, backends: () => b };
}

const kNoHuge = 'MemTotal: 24000000 kB\nHugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n';
const kHuge = 'MemTotal: 24000000 kB\nHugePages_Total:     512\nHugePages_Free:      500\nHugepagesize:       2048 kB\n';

describe('ops/doctor', () => {
  it('without hugepages: dpdk unusable, with the setup command as the fix', () => {
    const r = diagnose(machine({ '/proc/meminfo': kNoHuge }));
    expect(r.hugepages).to.include({ total: 0, free: 0 });
    const dpdk = r.backends.find((b) => b.name === 'dpdk')!;
    if (dpdk.compiledIn) {
      expect(dpdk.usable).to.equal(false);
      expect(dpdk.fix).to.match(/setup_hugepages\.sh/);
    }
    expect(r.findings.find((f) => f.area === 'hugepages')!.severity).to.equal('problem');
  });

  it('with hugepages and root: dpdk usable when compiled in', () => {
    const r = diagnose(machine({ '/proc/meminfo': kHuge, '/proc/self/status': 'CapEff:\t000001ffffffffff\n' }));
    expect(r.hugepages).to.include({ total: 512, free: 500, sizeKb: 2048 });
    const dpdk = r.backends.find((b) => b.name === 'dpdk')!;
    expect(dpdk.usable).to.equal(dpdk.compiledIn);
  });

  it('without root or capabilities: only udp and pcap are usable, each problem has a fix', () => {
    const r = diagnose(machine({ '/proc/meminfo': kHuge, '/proc/self/status': 'CapEff:\t0000000000000000\n' }, 1000));
    const usable = r.backends.filter((b) => b.usable).map((b) => b.name);
    expect(usable).to.deep.equal(['udp', 'pcap']);
    for (const b of r.backends.filter((x) => !x.usable)) expect(b.fix, b.name).to.be.a('string').and.not.equal('');
    expect(r.privileges.root).to.equal(false);
  });

  it('transparent huge pages: madvise and always are fine for performance.huge_pages; never is a warning whose fix names the setting', () => {
    const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
    for (const mode of ['madvise', 'always']) {
      const r = diagnose(machine({ [thp]: mode === 'madvise' ? 'always [madvise] never\n' : '[always] madvise never\n' }));
      expect(r.thp.enabled).to.equal(mode);
      expect(r.findings.find((f) => f.area === 'thp')).to.include({ severity: 'ok' });
    }
    const never = diagnose(machine({ [thp]: 'always madvise [never]\n' }));
    expect(never.thp.enabled).to.equal('never');
    const f = never.findings.find((x) => x.area === 'thp')!;
    expect(f.severity).to.equal('warn');
    expect(f.what).to.match(/performance\.huge_pages cannot take effect/);
    expect(f.fix).to.match(/echo madvise \| sudo tee \/sys\/kernel\/mm\/transparent_hugepage\/enabled/);
    // A kernel without THP: the file is missing.
    const none = diagnose({ ...machine({}), read: (p) => (p === thp ? undefined : realSystem.read(p)) });
    expect(none.thp.enabled).to.equal('');
    expect(none.findings.find((x) => x.area === 'thp')).to.include({ severity: 'warn' });
  });

  it('tickpath doctor prints this machine\'s transparent huge page mode', () => {
    const mode = /\[(\w+)\]/.exec(realSystem.read('/sys/kernel/mm/transparent_hugepage/enabled') ?? '')?.[1] ?? 'not in this kernel';
    const out = spawnSync(process.execPath, [kCli, 'doctor'], { encoding: 'utf8', timeout: 60000 });
    expect(out.stdout).to.include(`Transparent huge pages: ${mode} (performance.huge_pages needs madvise or always)`);
  });

  it('without the addon: says to build it', () => {
    const r = diagnose(machine({}, 0, null));
    expect(r.findings.some((f) => f.area === 'addon' && f.fix === 'npm run build:native')).to.equal(true);
  });

  it('not compiled in: names the packages to install', () => {
    const r = diagnose(machine({}, 0, [{ name: 'dpdk', compiledIn: false, missing: 'install DPDK (apt-get install dpdk-dev)' }]));
    expect(r.backends[0]).to.include({ usable: false, fix: 'install DPDK (apt-get install dpdk-dev)' });
  });

  it('the CLI reports this machine as JSON and in text', () => {
    const json = spawnSync(process.execPath, [kCli, 'doctor', '--json'], { encoding: 'utf8' });
    const r = JSON.parse(json.stdout);
    expect(r.backends.map((b: { name: string }) => b.name)).to.deep.equal(['dpdk', 'af_xdp', 'af_packet', 'udp', 'pcap']);
    expect(r.cpus.count).to.be.greaterThan(0);
    const text = spawnSync(process.execPath, [kCli, 'doctor'], { encoding: 'utf8' });
    expect(text.stdout).to.match(/Backends:/).and.match(/Hugepages: \d+ total/);
    const help = spawnSync(process.execPath, [kCli, '--help'], { encoding: 'utf8' });
    expect(help.stdout).to.match(/doctor/);
  });
});

describe('ops/doctor plan check', () => {
  const base = {
    stages: { rx: { cpu: 1 }, decoder: { cpu: 0 }, book: { cpu: 0 }, strategy: { cpu: 0 }, router: { cpu: 0 } },
    workers: [['decoder', 'book', 'strategy', 'router']], idle: 'backoff', numaNode: 0, backend: 'pcap',
  };
  const iso = (cpus: string) => machine({ '/sys/devices/system/cpu/isolated': `${cpus}\n`, '/proc/meminfo': kHuge });

  it('a spinning poller and a spinning worker on one CPU is a problem with the fix', () => {
    const f = diagnosePlan({ ...base, idle: 'spin', stages: { ...base.stages, rx: { cpu: 0 } } }, iso(''));
    const shared = f.find((x) => /CPU 0 is shared by rx poller and worker/.test(x.what))!;
    expect(shared.severity).to.equal('problem');
    expect(shared.fix).to.match(/own CPU|backoff/);
  });

  it('names CPUs that are not isolated, with the kernel parameters to add', () => {
    const f = diagnosePlan(base, iso(''));
    expect(f.some((x) => /CPU 1, 0 run pinned stages but are not isolated/.test(x.what) && /isolcpus=1,0/.test(x.fix ?? ''))).to.equal(true);
    const g = diagnosePlan({ ...base, stages: { rx: { cpu: 1 }, decoder: { cpu: 1 }, book: { cpu: 1 }, strategy: { cpu: 1 }, router: { cpu: 1 } } }, iso('1'));
    expect(g.some((x) => /not isolated/.test(x.what))).to.equal(false);
  });

  it('a NUMA node that does not exist, and a dpdk pool larger than the free hugepages, are problems', () => {
    const f = diagnosePlan({ ...base, numaNode: 7, backend: 'dpdk', dpdk: { noHuge: false, mbufs: 1 << 20, pciAllow: [] } }, iso(''));
    expect(f.find((x) => /numa_node 7 does not exist/.test(x.what))!.severity).to.equal('problem');
    expect(f.find((x) => /dpdk pool needs about \d+ free 2 MB hugepages, 500 are free/.test(x.what))!.fix).to.match(/setup_hugepages\.sh \d+/);
  });

  it('a burst the RX ring or the dpdk pool cannot hold is a problem with the sizes to set', () => {
    const burst = { normalMsgsPerS: 100_000, multiplier: 100, durationMs: 100, msgsPerPacket: 20, drainMsgsPerS: 1_000_000 };
    // (10 M - 1 M msgs/s) x 0.1 s / 20 msgs per packet = 45,000 packets waiting at the end of the burst
    const small = diagnosePlan({ ...base, rxDescriptors: 4096, burst }, iso(''));
    const ring = small.find((x) => x.area === 'burst')!;
    expect(ring.severity).to.equal('problem');
    expect(ring.what).to.match(/leaves 45000 packets waiting; performance.rings.rx_descriptors is 4096/);
    expect(ring.fix).to.equal('set performance.rings.rx_descriptors: 65536');
    const fits = diagnosePlan({ ...base, rxDescriptors: 65536, burst }, iso(''));
    expect(fits.find((x) => x.area === 'burst')!.severity).to.equal('ok');
    const pool = diagnosePlan({ ...base, backend: 'dpdk', dpdk: { noHuge: false, mbufs: 8191, pciAllow: [] }, rxDescriptors: 65536, burst }, iso(''));
    expect(pool.find((x) => /dpdk pool has 8191 mbufs/.test(x.what))!.fix).to.equal('set feed.dpdk.mbufs: 131071');
    const never = diagnosePlan({ ...base, rxDescriptors: 65536, burst: { ...burst, drainMsgsPerS: 100_000 } }, iso(''));
    expect(never.some((x) => x.severity === 'problem' && /never drains/.test(x.what))).to.equal(true);
  });

  it('tickpath doctor --config checks the shipped plan', () => {
    const r = spawnSync(process.execPath, [kCli, 'doctor', '--config', path.join(__dirname, '..', '..', '..', 'configs'), '--json'], { encoding: 'utf8' });
    const report = JSON.parse(r.stdout);
    expect(report.findings.some((x: { area: string }) => x.area === 'plan')).to.equal(true);
    // The shipped performance.yml sizes the RX ring for its burst.
    expect(report.findings.find((x: { area: string }) => x.area === 'burst')?.severity).to.equal('ok');
  });

  describe('latency: what decides a round trip\'s tail (read, never changed)', () => {
    const kInterrupts = '           CPU0       CPU1\n 24:          1          0  IO-APIC   5-edge      ACPI:Ged\n 36:          0   13195714  PCI-MSIX-0000:00:02.0 1-edge  virtio1-req.0\n 40:          0          0  PCI-MSIX  0-edge  virtio3-config\n';
    const kSoftirqs = '                    CPU0       CPU1\n       TIMER:    1677253    1932536\n      NET_RX:  212105281  104502123\n';

    it('real-time scheduling: allowed for root, refused without CAP_SYS_NICE and RLIMIT_RTPRIO, refused when the RT runtime is 0', () => {
      const rootView = diagnose(machine({ '/proc/sys/kernel/sched_rt_runtime_us': '950000\n', '/proc/sys/kernel/sched_rt_period_us': '1000000\n' }));
      expect(rootView.latency.realtime).to.include({ allowed: true, rtRuntimeUs: 950000, rtPeriodUs: 1000000 });
      expect(rootView.findings.some((f) => f.area === 'latency' && /lose 50 ms in one block/.test(f.what))).to.equal(true);
      const user = diagnose(machine({ '/proc/self/status': 'CapEff:\t0000000000000000\n', '/proc/self/limits': 'Max realtime priority     0                    0\n' }, 1000));
      expect(user.latency.realtime).to.include({ allowed: false, rtprioLimit: '0' });
      const f = user.findings.find((x) => x.area === 'latency' && /real-time scheduling refused/.test(x.what))!;
      expect(f.severity).to.equal('warn');
      expect(f.fix).to.match(/setcap cap_sys_nice\+ep.*ulimit -r/);
      const limited = diagnose(machine({ '/proc/self/status': 'CapEff:\t0000000000000000\n', '/proc/self/limits': 'Max realtime priority     10                   10\n' }, 1000));
      expect(limited.latency.realtime.allowed).to.equal(true);
      const none = diagnose(machine({ '/proc/sys/kernel/sched_rt_runtime_us': '0\n' }));
      expect(none.latency.realtime).to.include({ allowed: false });
      expect(none.latency.realtime.why).to.match(/sched_rt_runtime_us is 0/);
      const unthrottled = diagnose(machine({ '/proc/sys/kernel/sched_rt_runtime_us': '-1\n' }));
      expect(unthrottled.findings.find((x) => /RT throttling is off/.test(x.what))!.fix).to.equal('sudo sysctl -w kernel.sched_rt_runtime_us=950000');
    });

    it('interrupts and softirqs per CPU, busiest first, with where each may land; isolation from the kernel command line', () => {
      const r = diagnose(machine({
        '/proc/interrupts': kInterrupts, '/proc/softirqs': kSoftirqs, '/proc/irq/36/smp_affinity_list': '0-1\n', '/proc/irq/24/smp_affinity_list': '0\n',
        '/proc/cmdline': 'quiet isolcpus=1 nohz_full=1 irqaffinity=0\n',
      }));
      expect(r.latency.irqs.map((i) => i.irq)).to.deep.equal(['36', '24']);
      expect(r.latency.irqs[0]).to.deep.include({ name: 'PCI-MSIX-0000:00:02.0 1-edge virtio1-req.0', affinity: '0-1', perCpu: [0, 13195714] });
      expect(r.latency.softirqs.NET_RX).to.deep.equal([212105281, 104502123]);
      expect(r.latency.cmdline).to.include({ isolcpus: '1', nohzFull: '1', irqaffinity: '0' });
      expect(r.findings.find((x) => /interrupts land/.test(x.what))!.severity).to.equal('ok');
      const shared = diagnose(machine({ '/proc/interrupts': kInterrupts, '/proc/cmdline': 'quiet\n' }));
      const f = shared.findings.find((x) => /interrupts land/.test(x.what))!;
      expect(f.severity).to.equal('warn');
      expect(f.fix).to.match(/irqaffinity=0 isolcpus=.*smp_affinity_list/);
    });

    it('busy poll: sysctls and whether the kernel has epoll busy poll (6.9+)', () => {
      const old = diagnose(machine({ '/proc/sys/kernel/osrelease': '6.1.0\n', '/proc/sys/net/core/busy_poll': '50\n' }));
      expect(old.latency.busyPoll).to.deep.equal({ busyPollUs: 50, busyReadUs: old.latency.busyPoll.busyReadUs, epollParams: false });
      expect(old.findings.some((x) => /needs Linux 6\.9\+ \(this is 6\.1\.0\)/.test(x.what))).to.equal(true);
      expect(diagnose(machine({ '/proc/sys/kernel/osrelease': '6.18.44\n' })).latency.busyPoll.epollParams).to.equal(true);
    });

    it('the CLI prints the section', () => {
      const text = spawnSync(process.execPath, [kCli, 'doctor'], { encoding: 'utf8' });
      expect(text.stdout).to.match(/Real-time scheduling: (allowed|refused)/).and.match(/Interrupts \(busiest\): /).and.match(/Kernel command line: isolcpus=/);
      const json = JSON.parse(spawnSync(process.execPath, [kCli, 'doctor', '--json'], { encoding: 'utf8' }).stdout);
      expect(json.latency.realtime).to.have.property('allowed');
      expect(json.latency.irqs.length).to.be.greaterThan(0);
    });
  });
});
