/**
 * `tickpath replay`: the pcap replay testbench, transmit mode. Sends a capture out of a port's TX
 * queue (af_packet, af_xdp, dpdk, udp, or the pcap backend's tx file) at the recorded pace, a
 * multiple of it, a fixed packet rate or top speed, optionally rewriting the destination, with
 * progress on stderr and a report at the end. The logic is lib/tools/replayer.ts.
 * Exit codes: 0 everything sent, 1 bad input or some frames failed, 2 bad usage.
 */
import * as fs from 'fs';
import { Port, PortOptions } from '../lib/binding';
import { TickpathError } from '../lib/errors';
import { CaptureFile } from '../lib/tools/capture-file';
import { formatCount, terminalProgress } from '../lib/tools/progress';
import { ReplayPace, ReplayReport, Replayer, TxProducerSink } from '../lib/tools/replayer';
import { parseCommandLine, UsageError } from './args';

export const summary = 'Replay a pcap capture onto an interface through any backend (paced, looped, rewritten) and report';

const kHelp = `Usage: tickpath replay --pcap FILE --backend NAME [target] [pace] [options]

Transmits every frame of a classic pcap capture through a tickpath port's TX queue.

Target:
  --backend NAME         af_packet | af_xdp | dpdk | udp | pcap (required)
  --interface IF         af_packet, af_xdp: interface to send on; udp: multicast interface
  --queue N              af_xdp queue (default 0)
  --vdev ARGS            dpdk virtual device, e.g. net_pcap0,tx_pcap=out.pcap (or --dpdk-port PCI)
  --dpdk-port ID         dpdk PCI address or port id
  --udp-dest HOST:PORT   udp: where datagrams go (default: the rewritten or recorded destination);
                         the udp backend sends UDP payloads through a kernel socket, so the
                         Ethernet/IP/UDP headers on the wire are the kernel's, not the capture's
  --tx-file FILE         pcap backend: write the transmitted frames to FILE (a dry run)

Pace (one of; default: the recorded pace):
  --speed X              recorded pace times X (2 = twice as fast)
  --pps N                fixed rate of N packets per second
  --topspeed             as fast as the device takes them

Options:
  --pcap FILE            capture to replay (required; also accepted as the only positional)
  --loops N              times through the file, 0 = until SIGINT (default 1)
  --rewrite-group ADDR   new IPv4 destination for every UDP frame (a multicast group also sets the
                         destination MAC to its 01:00:5e mapping); IP checksum recomputed
  --rewrite-port N       new UDP destination port
  --udp-checksum MODE    fix (recompute, default) | zero (clear; allowed over IPv4)
  --no-progress          no progress on stderr (a bar with rate and ETA on a TTY, else a line a second)
  --json                 print the report as one JSON object on the last line
  --help                 this text

The report: frames sent and failed, duration, achieved rate; for MoldUDP64 captures the session(s),
the sequence range sent and any gaps present in the file itself. SIGINT stops after the current
batch and still reports. Exit codes: 0 all sent, 1 bad input or frames failed, 2 bad usage.`;

function num(name: string, v: string | undefined, min: number, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`option --${name} is ${JSON.stringify(v)}, expected ${integer ? 'an integer' : 'a number'} >= ${min}${min === 0 ? '' : ''}`);
  }
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('replay', kHelp, argv, {
    pcap: { type: 'string' }, backend: { type: 'string' }, interface: { type: 'string' }, queue: { type: 'string' },
    vdev: { type: 'string' }, 'dpdk-port': { type: 'string' }, 'udp-dest': { type: 'string' }, 'tx-file': { type: 'string' },
    speed: { type: 'string' }, pps: { type: 'string' }, topspeed: { type: 'boolean' }, loops: { type: 'string' },
    'rewrite-group': { type: 'string' }, 'rewrite-port': { type: 'string' }, 'udp-checksum': { type: 'string' },
    'no-progress': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  }, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  let file: string, pace: ReplayPace, loops: number, portOptions: PortOptions;
  let rewrite: { group?: string; port?: number; udpChecksum?: 'fix' | 'zero' } | undefined;
  try {
    if (positionals.length > 1 || (positionals.length === 1 && values.pcap)) throw new UsageError(`unexpected argument '${positionals[positionals.length - 1]}'`);
    file = values.pcap ?? positionals[0];
    if (!file) throw new UsageError('option --pcap FILE is required');
    const backend = values.backend;
    if (!backend) throw new UsageError('option --backend is required: af_packet, af_xdp, dpdk, udp or pcap');
    const paces = [values.speed !== undefined, values.pps !== undefined, values.topspeed === true].filter(Boolean).length;
    if (paces > 1) throw new UsageError('give at most one of --speed, --pps, --topspeed');
    const speed = num('speed', values.speed, 0, false);
    const pps = num('pps', values.pps, 0, false);
    if (speed === 0) throw new UsageError('option --speed is "0", expected a number > 0');
    if (pps === 0) throw new UsageError('option --pps is "0", expected a number > 0');
    pace = values.topspeed ? { mode: 'topspeed' } : pps !== undefined ? { mode: 'pps', pps } : { mode: 'recorded', speed: speed ?? 1 };
    loops = num('loops', values.loops, 0, true) ?? 1;
    const checksum = values['udp-checksum'];
    if (checksum !== undefined && checksum !== 'fix' && checksum !== 'zero') throw new UsageError(`option --udp-checksum is ${JSON.stringify(checksum)}, expected fix or zero`);
    const rewritePort = num('rewrite-port', values['rewrite-port'], 0, true);
    if (rewritePort !== undefined && rewritePort > 65535) throw new UsageError(`option --rewrite-port is ${rewritePort}, expected an integer from 0 to 65535`);
    if (values['rewrite-group'] !== undefined || rewritePort !== undefined || checksum !== undefined) {
      rewrite = { group: values['rewrite-group'], port: rewritePort, udpChecksum: checksum as 'fix' | 'zero' | undefined };
    }
    const needIf = (): string => { if (!values.interface) throw new UsageError(`--backend ${backend} needs --interface IF`); return values.interface; };
    switch (backend) {
      case 'af_packet': portOptions = { backend, afPacket: { interface: needIf() } }; break;
      case 'af_xdp': portOptions = { backend, afXdp: { interface: needIf(), queue: num('queue', values.queue, 0, true) } }; break;
      case 'dpdk':
        if (!values.vdev && !values['dpdk-port']) throw new UsageError('--backend dpdk needs --vdev ARGS or --dpdk-port ID');
        portOptions = { backend, dpdk: { vdev: values.vdev, port: values['dpdk-port'] } };
        break;
      case 'udp': portOptions = { backend, udp: { port: 0, interface: values.interface } }; break;
      case 'pcap':
        if (!values['tx-file']) throw new UsageError('--backend pcap needs --tx-file FILE (where the transmitted frames are written)');
        // Transmit only: the input is not also replayed on RX, where nobody would read it.
        portOptions = { backend, pcap: { file, txFile: values['tx-file'], rx: false } };
        break;
      default: throw new UsageError(`option --backend is ${JSON.stringify(backend)}, expected af_packet, af_xdp, dpdk, udp or pcap`);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tickpath replay: ${err.message}\n\nRun \`tickpath replay --help\` for the options.`);
    return 2;
  }

  let capture: CaptureFile;
  try {
    capture = new CaptureFile(fs.readFileSync(file), file);
    if (rewrite) capture.rewrite(rewrite);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof TickpathError) console.error(`tickpath replay: ${err.message} [${err.code}]`);
    else if (e.code && e.syscall) console.error(`tickpath replay: cannot read ${file}: ${e.code}`);
    else throw err;
    return err instanceof TickpathError && err.code === 'ERR_INVALID_OPTION' ? 2 : 1;
  }
  let maxFrame = 0;
  for (let i = 0; i < capture.count; i++) maxFrame = Math.max(maxFrame, capture.lengths[i]);
  portOptions.poller = 'inline';
  portOptions.txSlotBytes = Math.min(65536, Math.max(2048, 1 << Math.ceil(Math.log2(Math.max(maxFrame, 1)))));
  if (portOptions.udp) {
    let dest = values['udp-dest'];
    if (!dest) {
      const d = capture.firstUdpDestination();
      if (!d) { console.error(`tickpath replay: ${file} has no UDP frame to take a destination from; give --udp-dest HOST:PORT`); return 1; }
      dest = `${d.address}:${d.port}`;
    }
    portOptions.udp.txDest = dest;
  }

  const port = Port.open(portOptions);
  const sink = new TxProducerSink(port.producer(0), portOptions.udp ? 'l4-payload' : 'ethernet');
  // Progress only for a person at a terminal: piped or logged, replay prints its report and nothing else.
  const progress = values['no-progress'] ? undefined
    : terminalProgress({ unit: 'packets', total: loops === 0 ? 0 : capture.count * loops });
  const replayer = new Replayer(capture, sink, { pace, loops, onProgress: progress ? (n) => progress.update(n) : undefined });
  const onSignal = (): void => replayer.stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  console.error(`tickpath replay: ${capture.count} frames from ${file} via ${port.description}, ${describePace(pace)}, `
    + `${loops === 0 ? 'looping until SIGINT' : `${loops} loop(s)`}${rewrite ? `, rewritten (${capture.rewritten} UDP frames)` : ''}`);
  let report: ReplayReport;
  try {
    report = await replayer.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  progress?.finish(report.offered);
  const stats = port.stats();
  port.close();
  // Frames the port consumed without sending them (refused by the device, or too long for it).
  const deviceErrors = stats.device.oerrors + stats.queues[0].txFailed + stats.queues[0].txOversize;
  const failed = report.notDrained + deviceErrors;
  const sent = report.sent - deviceErrors;
  const out = { ...report, sent, failed, backend: port.backend, file };
  if (values.json) console.log(JSON.stringify(out));
  else console.log(formatReport(out));
  return failed > 0 ? 1 : 0;
}

function describePace(p: ReplayPace): string {
  return p.mode === 'topspeed' ? 'top speed' : p.mode === 'pps' ? `${p.pps} packets/s` : `recorded pace x${p.speed ?? 1}`;
}

function formatReport(r: ReplayReport & { failed: number; backend: string; file: string }): string {
  const lines = [
    `replay report: ${r.file} via ${r.backend}`,
    `  sent      ${r.sent} frames (${r.bytes} bytes) of ${r.framesInCapture} in the file x ${r.loops} loop(s)${r.stopped ? ', stopped early' : ''}`,
    `  failed    ${r.failed}${r.skipped ? `, skipped ${r.skipped} non-UDP frames` : ''}`,
    `  duration  ${r.durationSeconds.toFixed(3)} s`,
    `  rate      ${formatCount(r.packetsPerSecond)} packets/s, ${r.megabitsPerSecond.toFixed(1)} Mb/s`,
  ];
  if (r.mold) {
    const m = r.mold;
    lines.push(`  moldudp64 session ${m.sessions.join(', ')}: ${m.messages} messages in ${m.packets} packets, sequence ${m.firstSequence}..${m.lastSequence}`
      + `${m.endOfSession ? ', end of session' : ''}`);
    lines.push(m.gaps.length === 0 ? '  gaps      none in the file'
      : `  gaps      ${m.missing} messages missing in the file: ${m.gaps.slice(0, 10).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')}${m.gaps.length > 10 ? ', ...' : ''}`);
  }
  return lines.join('\n');
}
