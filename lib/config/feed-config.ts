import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigReader } from './config-reader';
import { loadFastTemplates } from '../feed/fast/fast-templates';

export type FeedBackendName = 'dpdk' | 'af_xdp' | 'af_packet' | 'udp' | 'pcap';
export const kFeedBackendNames: readonly FeedBackendName[] = ['dpdk', 'af_xdp', 'af_packet', 'udp', 'pcap'];

export interface DpdkEalConfig {
  /** EAL --lcores map; undefined lets lib/binding derive it from the RX CPU. */
  lcores: string | undefined;
  inMemory: boolean;
  filePrefix: string | undefined;
  noHuge: boolean;
  /** EAL -m; required with noHuge. */
  memoryMb: number | undefined;
  /** Virtual devices with their arguments, e.g. "net_pcap0,rx_pcap=/tmp/a.pcap" (rx_pcap/tx_pcap made absolute). */
  vdevs: string[];
  /** PCI allow list (-a); empty means no PCI probing at all. */
  pciAllow: string[];
}

export interface DpdkFeedConfig {
  eal: DpdkEalConfig;
  /** A port id ("0"), a PCI address, or the name of one of eal.vdevs ("net_pcap0"). */
  port: string;
  rxQueues: number;
  mbufs: number;
  promiscuous: boolean;
}

export interface AfXdpFeedConfig {
  interface: string;
  queue: number;
  mode: 'auto' | 'native' | 'generic';
  zeroCopy: 'auto' | boolean;
}

export interface AfPacketFeedConfig {
  interface: string;
  /** PACKET_FANOUT group id when several sockets share the interface. */
  fanout: number | undefined;
  promiscuous: boolean;
}

export interface UdpFeedConfig {
  /** Interface (name or local address) to join the lines' groups on. */
  interface: string | undefined;
  /** Default source-specific-multicast source for every line (a line's own `source` wins). */
  source: string | undefined;
  /** Local address to bind; default any. */
  bind: string | undefined;
  /** SO_RCVBUF bytes. */
  rcvbuf: number | undefined;
}

export interface PcapFeedConfig {
  /** Absolute path (relative paths in the file are resolved against the config file's directory). */
  file: string;
  /** 'fast' (no pacing), 'recorded' (capture timing) or a speed multiple of the recorded pace. */
  pace: 'fast' | 'recorded' | number;
  /** Replays of the file; 0 replays forever. */
  loops: number;
  /** Replay the complete frames of a capture whose last frame was cut short (default false: refuse it). */
  allowTruncated: boolean;
}

export interface FeedLine {
  /** "A", "B", ... */
  name: string;
  group: string;
  port: number;
  /** Source-specific-multicast source, if the line uses SSM. */
  source: string | undefined;
}

export interface RerequestConfig {
  host: string;
  port: number;
  timeoutMs: number;
}

export interface MoldUdp64Config {
  /** Accepted session names (10 characters on the wire, right-padded with spaces); empty accepts any. */
  sessions: string[];
}

/** MOEX FIX/FAST feed (feed.protocol: moex-fast). */
export interface FastFeedConfig {
  /** The venue's FAST 1.1 template XML (absolute; relative paths are resolved against the config file). */
  templates: string;
  /** Its text, read and checked when the config is loaded. */
  templatesXml: string;
  /** Names of feed.lines carrying the incremental channel (A/B arbitrated). */
  incremental: string[];
  /** Names of feed.lines carrying the snapshot channel. */
  snapshot: string[];
  /** Names of feed.lines carrying trades (X-TLR): TRADE events and each book's last trade. */
  trades: string[];
  /** Names of feed.lines carrying security status (f): STATUS events with the trading state. */
  status: string[];
  /** Book prices are MDEntryPx scaled to this many decimals (default 5). */
  priceDecimals: number;
  market: 'CURR' | 'FOND' | 'ANY';
}

export type FeedProtocol = 'itch' | 'moex-fast';

export interface FeedConfig {
  file: string;
  /** 'itch' (MoldUDP64 / ITCH 5.0, the default) or 'moex-fast' (MOEX FIX/FAST, needs a fast section). */
  protocol: FeedProtocol;
  fast: FastFeedConfig | undefined;
  backend: FeedBackendName | 'auto';
  dpdk: DpdkFeedConfig | undefined;
  afXdp: AfXdpFeedConfig | undefined;
  afPacket: AfPacketFeedConfig | undefined;
  udp: UdpFeedConfig | undefined;
  pcap: PcapFeedConfig | undefined;
  lines: FeedLine[];
  rerequest: RerequestConfig | undefined;
  moldudp64: MoldUdp64Config;
  /**
   * How long a sequence hole on one A/B line waits for the other line's copy before it is a gap
   * (ms, default 2; ITCH MoldUDP64 and MOEX FAST MsgSeqNum alike). A loaded host may need more.
   */
  lineWaitMs: number;
}

export interface FeedConfigLoadOptions {
  /** Check that pcap.file exists (default true). */
  checkFiles?: boolean;
}

const kTopKeys = ['feed'];
const kFeedKeys = ['backend', 'dpdk', 'af_xdp', 'af_packet', 'udp', 'pcap', 'lines', 'rerequest', 'moldudp64', 'protocol', 'fast', 'line_wait_ms'];
const kDpdkKeys = ['eal', 'port', 'rx_queues', 'mbufs', 'promiscuous'];
const kEalKeys = ['lcores', 'in_memory', 'file_prefix', 'no_huge', 'memory_mb', 'vdevs', 'pci_allow'];
const kAfXdpKeys = ['interface', 'queue', 'mode', 'zero_copy'];
const kAfPacketKeys = ['interface', 'fanout', 'promiscuous'];
const kUdpKeys = ['interface', 'source', 'bind', 'rcvbuf'];
const kPcapKeys = ['file', 'pace', 'loops', 'allow_truncated'];
const kLineKeys = ['name', 'group', 'port', 'source'];
const kRerequestKeys = ['host', 'port', 'timeout_ms'];
const kMoldKeys = ['sessions'];
const kFastKeys = ['templates', 'incremental', 'snapshot', 'trades', 'status', 'price_decimals', 'market'];

const kPciAddress = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

/** Reads and validates `file`; throws a ConfigError (a TickpathError) naming the first problem. */
export function loadFeedConfig(file: string, options: FeedConfigLoadOptions = {}): FeedConfig {
  const r = ConfigReader.read(file);
  const config = feedConfigFrom(r, options);
  r.throwIfProblems();
  return config;
}

/** Same as loadFeedConfig for text already in memory; `file` is used in messages and to resolve paths. */
export function parseFeedConfig(text: string, file: string, options: FeedConfigLoadOptions = {}): FeedConfig {
  const r = ConfigReader.parse(text, file);
  const config = feedConfigFrom(r, options);
  r.throwIfProblems();
  return config;
}

/** Reads the feed config from `r`, recording every problem in `r.problems` (the result is only usable when there are none). */
export function feedConfigFrom(r: ConfigReader, options: FeedConfigLoadOptions = {}): FeedConfig {
  const top = r.object('(top level)', r.root, kTopKeys);
  const f = r.object('feed', top.feed, kFeedKeys);
  const backend = r.oneOf('feed.backend', f.backend, [...kFeedBackendNames, 'auto'] as const);

  const protocol = r.oneOf('feed.protocol', f.protocol, ['itch', 'moex-fast'] as const, 'itch');
  const config: FeedConfig = {
    file: r.file,
    protocol,
    fast: undefined,
    backend,
    dpdk: f.dpdk === undefined ? undefined : readDpdk(r, f.dpdk),
    afXdp: f.af_xdp === undefined ? undefined : readAfXdp(r, f.af_xdp),
    afPacket: f.af_packet === undefined ? undefined : readAfPacket(r, f.af_packet),
    udp: f.udp === undefined ? undefined : readUdp(r, f.udp),
    pcap: f.pcap === undefined ? undefined : readPcap(r, f.pcap, options),
    lines: readLines(r, f.lines),
    rerequest: f.rerequest === undefined ? undefined : readRerequest(r, f.rerequest),
    moldudp64: readMold(r, f.moldudp64),
    lineWaitMs: r.int('feed.line_wait_ms', f.line_wait_ms, 0, 10000, 2),
  };

  if (protocol === 'moex-fast' && !r.failed('feed.protocol')) {
    if (f.fast === undefined || f.fast === null) {
      r.problem('feed.fast', undefined, "a mapping with templates, incremental and snapshot because feed.protocol is 'moex-fast'",
        'add feed.fast: { templates: FILE.xml, incremental: [A, B], snapshot: [S] } naming feed.lines');
    } else {
      config.fast = readFast(r, f.fast, config.lines, options);
      refuseIgnoredByFast(r, f, config);
    }
  } else if (f.fast !== undefined && f.fast !== null && !r.failed('feed.protocol')) {
    r.problem('feed.fast', '(a mapping)', "no fast section unless feed.protocol is 'moex-fast'", 'set feed.protocol: moex-fast, or remove feed.fast');
  }

  // The chosen backend needs its section; 'auto' needs at least one to choose from.
  if (r.failed('feed.backend')) return config;
  if (backend === 'auto') {
    if (!config.dpdk && !config.afXdp && !config.afPacket && !config.udp && !config.pcap) {
      r.problem('feed.backend', backend, 'a named backend, or at least one backend section (dpdk, af_xdp, af_packet, udp, pcap) for auto to choose from',
        'add a section for the source you have (udp: { interface: ... } needs no privileges)');
    }
  } else {
    const section = backend;
    const present = { dpdk: config.dpdk, af_xdp: config.afXdp, af_packet: config.afPacket, udp: config.udp, pcap: config.pcap }[section];
    if (!present) r.problem(`feed.${section}`, undefined, `a mapping of ${section} options because feed.backend is '${backend}'`, `add a feed.${section} section, or choose another feed.backend`);
  }
  return config;
}

function readDpdk(r: ConfigReader, value: unknown): DpdkFeedConfig {
  const d = r.object('feed.dpdk', value, kDpdkKeys);
  const e = r.object('feed.dpdk.eal', d.eal ?? {}, kEalKeys);
  const noHuge = r.bool('feed.dpdk.eal.no_huge', e.no_huge, false);
  const memoryMb = r.optionalInt('feed.dpdk.eal.memory_mb', e.memory_mb, 64, 1 << 20);
  if (noHuge && memoryMb === undefined && !r.failed('feed.dpdk.eal.no_huge')) {
    r.problem('feed.dpdk.eal.memory_mb', e.memory_mb, 'an integer from 64 to 1048576 when feed.dpdk.eal.no_huge is true (EAL -m)', 'add memory_mb: 256 under feed.dpdk.eal');
  }
  const vdevs = r.list('feed.dpdk.eal.vdevs', e.vdevs, 0, 32, 'device strings such as "net_pcap0,rx_pcap=a.pcap"')
    .map((v, i) => resolveVdevFiles(r, r.string(`feed.dpdk.eal.vdevs[${i}]`, v, 'a device string such as "net_pcap0,rx_pcap=a.pcap"')));
  const pciAllow = r.list('feed.dpdk.eal.pci_allow', e.pci_allow, 0, 64, 'PCI addresses such as "0000:03:00.0"').map((v, i) =>
    r.string(`feed.dpdk.eal.pci_allow[${i}]`, v, 'a PCI address such as "0000:03:00.0"', 12, kPciAddress));
  const portValue = typeof d.port === 'number' ? String(d.port) : d.port;
  const port = r.string('feed.dpdk.port', portValue, 'a port id, a PCI address or the name of a vdev in feed.dpdk.eal.vdevs');
  if (port.startsWith('net_') && !vdevs.some((v) => v.split(',')[0] === port) && !r.failed('feed.dpdk.eal.vdevs')) {
    r.problem('feed.dpdk.port', d.port, `the name of a vdev in feed.dpdk.eal.vdevs (have: ${vdevs.map((v) => v.split(',')[0]).join(', ') || 'none'})`,
      `add a vdev named ${port} to feed.dpdk.eal.vdevs, or set feed.dpdk.port to one of them`);
  }
  return {
    eal: {
      lcores: r.optionalString('feed.dpdk.eal.lcores', e.lcores),
      inMemory: r.bool('feed.dpdk.eal.in_memory', e.in_memory, true),
      filePrefix: r.optionalString('feed.dpdk.eal.file_prefix', e.file_prefix),
      noHuge,
      memoryMb,
      vdevs,
      pciAllow,
    },
    port,
    rxQueues: r.int('feed.dpdk.rx_queues', d.rx_queues, 1, 64, 1),
    mbufs: r.int('feed.dpdk.mbufs', d.mbufs, 1023, 1 << 22, 8191),
    promiscuous: r.bool('feed.dpdk.promiscuous', d.promiscuous, false),
  };
}

/** rx_pcap=/tx_pcap= files in a vdev follow the same rule as pcap.file: relative to the config file. */
function resolveVdevFiles(r: ConfigReader, vdev: string): string {
  const base = path.dirname(path.resolve(r.file));
  return vdev
    .split(',')
    .map((arg) => {
      const m = /^(rx_pcap|tx_pcap)=(.+)$/.exec(arg);
      return m ? `${m[1]}=${path.resolve(base, m[2])}` : arg;
    })
    .join(',');
}

function readAfXdp(r: ConfigReader, value: unknown): AfXdpFeedConfig {
  const x = r.object('feed.af_xdp', value, kAfXdpKeys);
  let zeroCopy: 'auto' | boolean = 'auto';
  if (x.zero_copy !== undefined && x.zero_copy !== null) {
    if (x.zero_copy !== 'auto' && typeof x.zero_copy !== 'boolean') r.problem('feed.af_xdp.zero_copy', x.zero_copy, 'auto, true or false');
    else zeroCopy = x.zero_copy as 'auto' | boolean;
  }
  return {
    interface: r.string('feed.af_xdp.interface', x.interface, 'a network interface name such as eth0'),
    queue: r.int('feed.af_xdp.queue', x.queue, 0, 1023, 0),
    mode: r.oneOf('feed.af_xdp.mode', x.mode, ['auto', 'native', 'generic'] as const, 'auto'),
    zeroCopy,
  };
}

function readAfPacket(r: ConfigReader, value: unknown): AfPacketFeedConfig {
  const p = r.object('feed.af_packet', value, kAfPacketKeys);
  return {
    interface: r.string('feed.af_packet.interface', p.interface, 'a network interface name such as eth0'),
    fanout: r.optionalInt('feed.af_packet.fanout', p.fanout, 0, 65535),
    promiscuous: r.bool('feed.af_packet.promiscuous', p.promiscuous, false),
  };
}

function readUdp(r: ConfigReader, value: unknown): UdpFeedConfig {
  const u = r.object('feed.udp', value, kUdpKeys);
  return {
    interface: r.optionalString('feed.udp.interface', u.interface),
    source: u.source === undefined || u.source === null ? undefined : r.ipv4('feed.udp.source', u.source),
    bind: u.bind === undefined || u.bind === null ? undefined : r.ipv4('feed.udp.bind', u.bind),
    rcvbuf: r.optionalInt('feed.udp.rcvbuf', u.rcvbuf, 4096, 1 << 30),
  };
}

function readPcap(r: ConfigReader, value: unknown, options: FeedConfigLoadOptions): PcapFeedConfig {
  const p = r.object('feed.pcap', value, kPcapKeys);
  const given = r.string('feed.pcap.file', p.file, 'a path to a .pcap file');
  const file = path.resolve(path.dirname(path.resolve(r.file)), given);
  if (options.checkFiles !== false && given && !fs.existsSync(file)) {
    r.problem('feed.pcap.file', p.file, `an existing pcap file (resolved to ${file}, relative to the config file)`,
      'give the capture\'s path, absolute or relative to this config file');
  }
  let pace: PcapFeedConfig['pace'] = 'fast';
  if (p.pace !== undefined && p.pace !== null) {
    if (p.pace !== 'fast' && p.pace !== 'recorded' && !(typeof p.pace === 'number' && p.pace > 0 && Number.isFinite(p.pace))) {
      r.problem('feed.pcap.pace', p.pace, 'fast, recorded or a positive speed multiple such as 2.5');
    } else {
      pace = p.pace as PcapFeedConfig['pace'];
    }
  }
  return {
    file,
    pace,
    loops: r.int('feed.pcap.loops', p.loops, 0, 1 << 30, 1),
    allowTruncated: r.bool('feed.pcap.allow_truncated', p.allow_truncated, false),
  };
}

function readLines(r: ConfigReader, value: unknown): FeedLine[] {
  const lines = r.list('feed.lines', value, 1, 4, 'feed lines (A, B) with name, group and port').map((v, i): FeedLine => {
    const at = `feed.lines[${i}]`;
    const l = r.object(at, v, kLineKeys);
    return {
      name: r.string(`${at}.name`, l.name, 'a line name such as A'),
      group: r.multicastGroup(`${at}.group`, l.group),
      port: r.int(`${at}.port`, l.port, 1, 65535),
      source: l.source === undefined || l.source === null ? undefined : r.ipv4(`${at}.source`, l.source),
    };
  });
  for (let i = 1; i < lines.length; i++) {
    if (r.failed(`feed.lines[${i}]`)) continue;
    for (let j = 0; j < i; j++) {
      if (r.failed(`feed.lines[${j}]`)) continue;
      if (lines[i].name === lines[j].name) {
        r.problem(`feed.lines[${i}].name`, lines[i].name, `a name not used by feed.lines[${j}]`, 'give each line its own name (A, B)');
      } else if (lines[i].group === lines[j].group && lines[i].port === lines[j].port) {
        r.problem(`feed.lines[${i}].group`, lines[i].group, `a group/port pair not used by feed.lines[${j}]`, 'check the groups against the circuit\'s connectivity sheet');
      }
    }
  }
  return lines;
}

function readRerequest(r: ConfigReader, value: unknown): RerequestConfig {
  const q = r.object('feed.rerequest', value, kRerequestKeys);
  return {
    host: r.string('feed.rerequest.host', q.host, 'a host name or address'),
    port: r.int('feed.rerequest.port', q.port, 1, 65535),
    timeoutMs: r.int('feed.rerequest.timeout_ms', q.timeout_ms, 1, 60_000, 1000),
  };
}

function readMold(r: ConfigReader, value: unknown): MoldUdp64Config {
  if (value === undefined || value === null) return { sessions: [] };
  const m = r.object('feed.moldudp64', value, kMoldKeys);
  const sessions = r.list('feed.moldudp64.sessions', m.sessions, 0, 64, 'session names').map((v, i) => {
    // YAML reads 000010059B as a string but 0000100591 as a number: insist on quotes for digits-only names.
    const name = r.string(`feed.moldudp64.sessions[${i}]`, v, 'a quoted string of 1 to 10 printable ASCII characters such as "000010059B"', 10, /^[\x20-\x7e]+$/);
    return name.padEnd(10, ' ');
  });
  return { sessions };
}

/**
 * Settings a MOEX FIX/FAST feed would otherwise ignore, refused with the fix: the MoldUDP64
 * re-request server and sessions (FAST recovers from the snapshot channel; the exchange's TCP
 * replay service is not implemented). Several lines over the udp backend are fine: it opens one socket
 * per line and tags each datagram with its line.
 */
function refuseIgnoredByFast(r: ConfigReader, f: Record<string, unknown>, config: FeedConfig): void {
  if (f.rerequest !== undefined && f.rerequest !== null) {
    r.problem('feed.rerequest', '(a mapping)', "no MoldUDP64 re-request server with feed.protocol 'moex-fast': a FAST feed recovers from its snapshot channel (the MOEX TCP replay service is not implemented)",
      'remove feed.rerequest and list the snapshot line in feed.fast.snapshot');
  }
  if (f.moldudp64 !== undefined && f.moldudp64 !== null) {
    r.problem('feed.moldudp64', '(a mapping)', "no MoldUDP64 settings with feed.protocol 'moex-fast' (MOEX datagrams carry their own MsgSeqNum)", 'remove feed.moldudp64');
  }
}

function readFast(r: ConfigReader, value: unknown, lines: FeedLine[], options: FeedConfigLoadOptions): FastFeedConfig {
  const x = r.object('feed.fast', value, kFastKeys);
  const given = r.string('feed.fast.templates', x.templates, 'the venue\'s FAST template XML file');
  const templates = path.resolve(path.dirname(path.resolve(r.file)), given);
  let templatesXml = '';
  if (given && options.checkFiles !== false) {
    try {
      templatesXml = fs.readFileSync(templates, 'utf8');
      loadFastTemplates(templatesXml);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') {
        r.problem('feed.fast.templates', x.templates, `a readable template file (resolved to ${templates}: ${e.code})`, 'give the XML path, absolute or relative to this config file');
      } else {
        r.problem('feed.fast.templates', x.templates, `a valid FAST 1.1 template file (${e.message})`, 'use the template file the venue publishes for this channel');
      }
    }
  }
  const names = new Set(lines.map((l) => l.name));
  const lineList = (key: 'incremental' | 'snapshot' | 'trades' | 'status', min: number): string[] => r.list(`feed.fast.${key}`, x[key] ?? (min === 0 ? [] : undefined), min, 4, 'names of feed.lines').map((v, i) => {
    const name = r.string(`feed.fast.${key}[${i}]`, v, 'the name of one of feed.lines');
    if (name && !names.has(name) && !r.failed('feed.lines')) {
      r.problem(`feed.fast.${key}[${i}]`, v, `the name of one of feed.lines (have: ${[...names].join(', ') || 'none'})`, 'add the line to feed.lines with its group and port');
    }
    return name;
  });
  const incremental = lineList('incremental', 1);
  const snapshot = lineList('snapshot', 0);
  const trades = lineList('trades', 0);
  const status = lineList('status', 0);
  // Each line carries one channel: its MsgSeqNum space and its decoder state are the channel's.
  const taken = new Map<string, string>();
  for (const [key, list] of [['incremental', incremental], ['snapshot', snapshot], ['trades', trades], ['status', status]] as const) {
    list.forEach((n, i) => {
      const other = taken.get(n);
      if (other !== undefined && other !== key) r.problem(`feed.fast.${key}[${i}]`, n, `a line not also listed in feed.fast.${other}`, `give the ${key} channel its own line`);
      else taken.set(n, key);
    });
  }
  return {
    templates,
    templatesXml,
    incremental,
    snapshot,
    trades,
    status,
    priceDecimals: r.int('feed.fast.price_decimals', x.price_decimals, 0, 9, 5),
    market: r.oneOf('feed.fast.market', x.market, ['CURR', 'FOND', 'ANY'] as const, 'ANY'),
  };
}
