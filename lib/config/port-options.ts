import type { PortOptions } from '../binding/port';
import type { FeedConfig, FeedLine } from './feed-config';
import type { PerformanceConfig } from './performance-config';

/**
 * Translates the two config files into lib/binding's PortOptions for one feed line, so the YAML
 * stays in operator terms (snake_case, lines, stages) and the binding stays in port terms.
 * udp: with several feed.lines, one socket per line (each descriptor tagged with the line's index,
 * which the receivers map back to a line by group and port); with one, `line`'s socket. Other
 * backends see every line's packets.
 */
export function portOptionsFrom(feed: FeedConfig, perf: PerformanceConfig, line: FeedLine = feed.lines[0]): PortOptions {
  const o: PortOptions = {
    backend: feed.backend,
    poller: perf.stages.rx.poller,
    idle: perf.stages.rx.idle,
    idleOptions: {
      maxSpins: perf.idle.maxSpins, maxYields: perf.idle.maxYields,
      minParkMicros: perf.idle.minParkMicros, maxParkMicros: perf.idle.maxParkMicros,
    },
    burst: perf.stages.rx.burst,
    ringSize: perf.rings.rxDescriptors,
    rxCpus: [perf.stages.rx.cpu],
  };
  if (feed.dpdk) {
    const d = feed.dpdk;
    const vdev = d.eal.vdevs.find((v) => v.split(',')[0] === d.port);
    // --no-huge implies the EAL's legacy memory mode, which it refuses with --in-memory. Without
    // hugepages there are no hugepage files to keep off disk, so in-memory's remaining promise
    // (no shared config files under /var/run) is exactly --no-shconf.
    const inMemoryWithoutHuge = d.eal.noHuge && d.eal.inMemory && !d.eal.filePrefix;
    o.dpdk = {
      vdev,
      port: vdev ? undefined : d.port,
      pci: d.eal.pciAllow,
      lcores: d.eal.lcores,
      rxCpus: [perf.stages.rx.cpu],
      inMemory: inMemoryWithoutHuge ? false : d.eal.inMemory,
      extraEalArgs: inMemoryWithoutHuge ? ['--no-shconf'] : undefined,
      filePrefix: d.eal.filePrefix,
      noHuge: d.eal.noHuge,
      memoryMb: d.eal.memoryMb,
      rxQueues: d.rxQueues,
      mbufs: d.mbufs,
      promiscuous: d.promiscuous,
    };
  }
  if (feed.afXdp) {
    o.afXdp = { interface: feed.afXdp.interface, queue: feed.afXdp.queue, mode: feed.afXdp.mode, zeroCopy: feed.afXdp.zeroCopy };
  }
  if (feed.afPacket) {
    o.afPacket = { interface: feed.afPacket.interface, fanout: feed.afPacket.fanout, promiscuous: feed.afPacket.promiscuous };
  }
  if (feed.udp) {
    o.udp = {
      port: line.port,
      group: line.group,
      source: line.source ?? feed.udp.source,
      interface: feed.udp.interface,
      bind: feed.udp.bind,
      rcvbuf: feed.udp.rcvbuf,
      lines: feed.lines.length > 1 ? feed.lines.map((l) => ({ group: l.group, port: l.port, source: l.source ?? feed.udp!.source })) : undefined,
    };
  }
  if (feed.pcap) {
    o.pcap = { file: feed.pcap.file, pace: feed.pcap.pace, loops: feed.pcap.loops, allowTruncated: feed.pcap.allowTruncated };
  }
  return o;
}
