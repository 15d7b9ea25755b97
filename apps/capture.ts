/**
 * `tickpath capture`: writes what a backend receives to a pcap file Wireshark reads
 * (lib/tools/packet-capture.ts). Exit codes: 0 captured, 1 cannot open the port or the file,
 * 2 bad usage.
 */
import { PortOptions } from '../lib/binding';
import { TickpathError } from '../lib/errors';
import { parseIpv4Address } from '../lib/feed/wire/udp-frame-parser';
import { CaptureFilter } from '../lib/tools/capture-filter';
import { runCapture } from '../lib/tools/packet-capture';
import { intOption, parseCommandLine, UsageError } from './args';

export const summary = 'Capture what a backend receives (af_packet, af_xdp, dpdk, udp) to a pcap file';

const kHelp = `Usage: tickpath capture --backend NAME [source] --out FILE [--count N] [--duration S]

Writes every packet a tickpath port receives to a classic pcap file (nanosecond timestamps,
Ethernet link type) that Wireshark, tshark and tcpdump read.

Source:
  --backend NAME       af_packet | af_xdp | dpdk | udp (required)
  --interface IF       af_packet, af_xdp: interface; udp: interface for the multicast join
  --queue N            af_xdp queue (default 0)
  --vdev ARGS          dpdk virtual device (e.g. net_pcap0,rx_pcap=in.pcap), or --dpdk-port ID
  --dpdk-port ID       dpdk PCI address or port id
  --port N             udp: port to bind
  --group A.B.C.D      udp: multicast group to join (and bind)
  --bind A.B.C.D       udp: address to bind (default the group, else 0.0.0.0)

Options:
  --out FILE           pcap file to write (required)
  --filter EXPR        keep only frames that pass this BPF expression (pcap-filter(7), as tcpdump
                       takes it; compiled by libpcap in-process, the same on every backend), e.g.
                       'udp and dst host 233.54.12.111 and dst port 26477' or 'udp[8:2] = 0 or vlan'.
                       Frames that fail (IPv6 neighbour discovery, ARP, other traffic) are not
                       written and not counted. With the udp backend it sees the synthetic headers.
  --count N            stop after N packets (that pass the filter)
  --duration S         stop after S seconds (default: until --count, SIGINT or SIGTERM)
  --json               print the report as one JSON object
  --help               this text

The udp backend receives UDP payloads only (the kernel strips the headers): each one is written
behind SYNTHETIC Ethernet/IPv4/UDP headers (source 0.0.0.0:0, destination the group or bind
address and --port), so the file is valid but the headers are not what was on the wire.
Other backends write the frames exactly as received; af_packet puts back the 802.1Q tag the
kernel strips and hands over beside the frame (as libpcap does), so files and filters match the wire. A line "capturing on ..." goes to stderr
once the port receives. Exit codes: 0 captured, 1 cannot open the port or the file, 2 bad usage.`;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('capture', kHelp, argv, {
    backend: { type: 'string' }, interface: { type: 'string' }, queue: { type: 'string' }, vdev: { type: 'string' },
    'dpdk-port': { type: 'string' }, port: { type: 'string' }, group: { type: 'string' }, bind: { type: 'string' },
    out: { type: 'string' }, count: { type: 'string' }, filter: { type: 'string' }, duration: { type: 'string' }, json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  let port: PortOptions;
  let count: number, duration: number;
  let filter: CaptureFilter | undefined;
  let synthetic = { sourceAddress: '0.0.0.0', destinationAddress: '127.0.0.1', sourcePort: 0, destinationPort: 0 };
  try {
    if (!values.out) throw new UsageError('option --out FILE is required');
    count = intOption('count', values.count, 1, Number.MAX_SAFE_INTEGER) ?? 0;
    duration = values.duration === undefined ? 0 : Number(values.duration);
    if (!(duration > 0) && values.duration !== undefined) throw new UsageError(`option --duration is ${JSON.stringify(values.duration)}, expected seconds > 0`);
    const backend = values.backend;
    const needIf = (): string => { if (!values.interface) throw new UsageError(`--backend ${backend} needs --interface IF`); return values.interface; };
    switch (backend) {
      case 'af_packet': port = { backend, afPacket: { interface: needIf(), retireUs: 1000 } }; break;
      case 'af_xdp': port = { backend, afXdp: { interface: needIf(), queue: intOption('queue', values.queue, 0, 1023) } }; break;
      case 'dpdk':
        if (!values.vdev && !values['dpdk-port']) throw new UsageError('--backend dpdk needs --vdev ARGS or --dpdk-port ID');
        port = { backend, dpdk: { vdev: values.vdev, port: values['dpdk-port'] } };
        break;
      case 'udp': {
        const p = intOption('port', values.port, 1, 65535);
        if (p === undefined) throw new UsageError('--backend udp needs --port N');
        for (const k of ['group', 'bind'] as const) {
          if (values[k] !== undefined && parseIpv4Address(values[k]!) === undefined) throw new UsageError(`option --${k} is ${JSON.stringify(values[k])}, expected a dotted-quad IPv4 address`);
        }
        port = { backend, udp: { port: p, group: values.group, bind: values.bind, interface: values.interface } };
        synthetic = { ...synthetic, destinationAddress: values.group ?? (values.bind && values.bind !== '0.0.0.0' ? values.bind : '127.0.0.1'), destinationPort: p };
        break;
      }
      case undefined: throw new UsageError('option --backend is required: af_packet, af_xdp, dpdk or udp');
      default: throw new UsageError(`option --backend is ${JSON.stringify(backend)}, expected af_packet, af_xdp, dpdk or udp`);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tickpath capture: ${err.message}\n\nRun \`tickpath capture --help\` for the options.`);
    return 2;
  }
  if (values.filter !== undefined) {
    try {
      filter = CaptureFilter.compile(values.filter);
    } catch (err) {
      if (!(err instanceof TickpathError)) throw err;
      console.error(`tickpath capture: option --filter: ${err.message} [${err.code}]`);
      return 2;
    }
  }
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await runCapture({
      port, out: values.out!, count, filter, durationSeconds: duration, syntheticHeaders: synthetic, signal: abort.signal,
      onStarted: (d) => console.error(`tickpath capture: capturing on ${d}`),
    });
    if (values.json) console.log(JSON.stringify(report));
    else {
      console.log(`tickpath capture: wrote ${report.packets} packets (${report.bytes} bytes) to ${report.file} in ${report.durationSeconds.toFixed(3)} s `
        + `(stopped by ${report.reason}); ${filter ? `${report.filtered} frames filtered out; ` : ''}ring drops ${report.ringFullDrops}, kernel/NIC drops ${report.kernelDrops}`
        + `${report.wrapped ? `; ${report.wrapped} UDP payloads given synthetic headers` : ''}${report.truncated ? `; ${report.truncated} truncated` : ''}`);
    }
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof TickpathError) { console.error(`tickpath capture: ${err.message} [${err.code}]`); return 1; }
    if (e.code && e.syscall) { console.error(`tickpath capture: cannot write ${values.out}: ${e.code}`); return 1; }
    throw err;
  } finally {
    filter?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
