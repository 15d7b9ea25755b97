/**
 * `tickpath gen`: writes a synthetic TotalView-ITCH 5.0 session over MoldUDP64 to a pcap file
 * (lib/tools/session-generator.ts has the model). Same seed and options, same bytes.
 * Exit codes: 0 written, 1 cannot write the file, 2 bad usage, 130/143 interrupted by SIGINT/SIGTERM
 * (the file is written beside the output and renamed when complete: an interrupted run leaves nothing).
 */
import { terminalProgress } from '../lib/tools/progress';
import { TickpathError } from '../lib/errors';
import { SessionGenerator, SessionGeneratorOptions } from '../lib/tools/session-generator';
import { intOption, parseCommandLine, UsageError } from './args';
import * as fs from 'fs';
import { FastTemplateError, loadFastTemplates } from '../lib/feed/fast/fast-templates';
import type { MoexSessionPcapOptions } from '../lib/feed/fast/moex/moex-session-pcap';
import { writeInterruptibly } from '../lib/tools/interruptible-write';
import * as os from 'os';

export const summary = 'Write a synthetic MoldUDP64 / ITCH 5.0 or MOEX FIX/FAST session (seeded, realistic order flow) to a pcap file';

const kHelp = `Usage: tickpath gen --out FILE [options]
       tickpath gen --fast-templates FILE --out FILE [FAST options]

Writes a synthetic NASDAQ TotalView-ITCH 5.0 session carried by MoldUDP64 over UDP/IPv4 to a
classic pcap file (nanosecond timestamps, Ethernet). The session opens with System Event 'O', a
Stock Directory 'R' and a Trading Action 'H' per symbol, System Events 'S' and 'Q'; then adds,
cancels, deletes, replaces, executions and trades around a per-symbol random-walk mid price
(tick $0.01); then System Events 'M', 'E' and a MoldUDP64 end-of-session packet. Sequence numbers
run from 1 without gaps and every reference is to an open order.

Options:
  --out FILE                 pcap file to write (required)
  --symbols N                symbols, stock locates 1..N (default 50)
  --rate N                   ITCH messages per second of capture time (default 100000)
  --duration S               seconds of capture time (default 2); messages = rate x duration
  --seed N                   PRNG seed, 0..4294967295 (default 1): same seed, same bytes
  --group A.B.C.D            destination multicast group (default 233.54.12.111)
  --port N                   destination UDP port (default 26477)
  --source A.B.C.D           source address (default 10.1.1.1)
  --source-port N            source UDP port (default 26400)
  --session NAME             MoldUDP64 session, up to 10 characters (default TICKPATH01)
  --max-msgs-per-packet N    ITCH messages per packet at most (default 20)
  --max-packet-size N        UDP payload bytes at most (default 1400)
  --flush-us N               a packet leaves at most N us after its first message (default 1000)
  --start-epoch S            capture time of the first packet, epoch seconds (default 1704205800)
  --json                     print the summary as one JSON object
  --help                     this text

FIX/FAST (MOEX ASTS order-list channel) with --fast-templates FILE, the venue's template XML:
X-OLR-<market> incremental refreshes (new orders, size and price changes, deletes; RptSeq per
instrument, MsgSeqNum per datagram, every datagram from a reset FAST state behind the 4-byte
MsgSeqNum prefix), optionally followed by one W-OLS snapshot cycle on the snapshot channel.
  --messages N               incremental datagrams (default 10000)
  --symbols N                instruments (default 20)
  --entries-per-message N    MDEntries per message, or MIN-MAX (default 1-3)
  --market CURR|FOND         template suffix (default CURR)
  --seed N                   PRNG seed (default 20170301)
  --rate N                   datagrams per second of capture time (default 10000)
  --snapshots                append a snapshot cycle (W-OLS) of every book
  --group A.B.C.D / --port N incremental channel (default 239.195.1.1:16001)
  --snapshot-group A.B.C.D / --snapshot-port N   snapshot channel (default 239.195.1.2:16002)
  --source A.B.C.D           source address (default 10.50.129.200)

The file is written beside FILE and renamed onto it once complete; SIGINT/SIGTERM stop at once and
leave nothing. Exit codes: 0 written, 1 cannot write the file, 2 bad usage, 130/143 interrupted.`;

function numberOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`option --${name} is ${JSON.stringify(v)}, expected a number > 0`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--fast-templates') && !argv.includes('--help') && !argv.includes('-h')) return genFast(argv);
  const parsed = parseCommandLine('gen', kHelp, argv, {
    out: { type: 'string' }, symbols: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' },
    seed: { type: 'string' }, group: { type: 'string' }, port: { type: 'string' }, source: { type: 'string' },
    'source-port': { type: 'string' }, session: { type: 'string' }, 'max-msgs-per-packet': { type: 'string' },
    'max-packet-size': { type: 'string' }, 'flush-us': { type: 'string' }, 'start-epoch': { type: 'string' },
    json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  let generator: SessionGenerator;
  try {
    if (!values.out) throw new UsageError('option --out FILE is required');
    const options: SessionGeneratorOptions = {
      symbols: intOption('symbols', values.symbols, 1, 65535) ?? 50,
      rate: numberOption('rate', values.rate) ?? 100000,
      durationSeconds: numberOption('duration', values.duration) ?? 2,
      seed: intOption('seed', values.seed, 0, 0xffffffff),
      group: values.group,
      port: intOption('port', values.port, 0, 65535),
      sourceAddress: values.source,
      sourcePort: intOption('source-port', values['source-port'], 0, 65535),
      session: values.session,
      maxMessagesPerPacket: intOption('max-msgs-per-packet', values['max-msgs-per-packet'], 1, 65534),
      maxPayloadBytes: intOption('max-packet-size', values['max-packet-size'], 72, 65507),
      flushMicros: numberOption('flush-us', values['flush-us']),
      startEpochSeconds: intOption('start-epoch', values['start-epoch'], 0, 0xffffffff),
    };
    for (const k of Object.keys(options) as (keyof SessionGeneratorOptions)[]) if (options[k] === undefined) delete options[k];
    generator = new SessionGenerator(options);
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TickpathError)) throw err;
    console.error(`tickpath gen: ${err.message}\n\nRun \`tickpath gen --help\` for the options.`);
    return 2;
  }
  const t0 = process.hrtime.bigint();
  let result;
  try {
    // Progress for a person at a terminal; piped or logged, gen stays quiet until its summary.
    const progress = terminalProgress({ unit: 'messages', total: 0 });
    result = await whileNotInterrupted((signal) => writeInterruptibly('itchSession', { options: generator.options }, values.out!,
      { signal, onProgress: progress ? (n) => progress.update(n) : undefined }));
    if (typeof result === 'string') return interrupted(result, values.out!);
    progress?.finish(result.messages);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!e.code || !e.syscall) throw err;
    console.error(`tickpath gen: cannot write ${values.out}: ${e.code} (${e.message})`);
    return 1;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (values.json) {
    console.log(JSON.stringify({ file: values.out, ...result, writeSeconds: seconds }));
  } else {
    const types = Object.entries(result.byType).map(([t, n]) => `${t}=${n}`).join(' ');
    console.log(`tickpath gen: wrote ${values.out}: ${result.messages} messages (seq ${result.firstSequence}..${result.lastSequence}) `
      + `in ${result.packets} packets, ${result.bytes} bytes, ${result.symbols} symbols, ${result.spanSeconds} s of capture time; ${types}`);
    console.log(`tickpath gen: generated in ${seconds.toFixed(3)} s (${Math.round(result.messages / seconds)} messages/s)`);
  }
  return 0;
}

async function genFast(argv: string[]): Promise<number> {
  const parsed = parseCommandLine('gen', kHelp, argv, {
    'fast-templates': { type: 'string' }, out: { type: 'string' }, messages: { type: 'string' }, symbols: { type: 'string' },
    'entries-per-message': { type: 'string' }, market: { type: 'string' }, seed: { type: 'string' }, rate: { type: 'string' },
    snapshots: { type: 'boolean' }, group: { type: 'string' }, port: { type: 'string' }, 'snapshot-group': { type: 'string' },
    'snapshot-port': { type: 'string' }, source: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  let xml: string;
  let options: MoexSessionPcapOptions;
  try {
    if (!values.out) throw new UsageError('option --out FILE is required');
    const market = values.market ?? 'CURR';
    if (market !== 'CURR' && market !== 'FOND') throw new UsageError(`option --market is ${JSON.stringify(market)}, expected CURR or FOND`);
    let entries: number | [number, number] | undefined;
    if (values['entries-per-message'] !== undefined) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(values['entries-per-message']);
      const lo = m ? Number(m[1]) : 0; const hi = m ? Number(m[2] ?? m[1]) : 0;
      if (!m || lo < 1 || hi < lo || hi > 100) throw new UsageError(`option --entries-per-message is ${JSON.stringify(values['entries-per-message'])}, expected N or MIN-MAX from 1 to 100`);
      entries = [lo, hi];
    }
    options = {
      market, messages: intOption('messages', values.messages, 1, 100_000_000) ?? 10000,
      instruments: intOption('symbols', values.symbols, 1, 10000) ?? 20, entriesPerMessage: entries,
      seed: intOption('seed', values.seed, 0, 0xffffffff), rate: numberOption('rate', values.rate),
      snapshots: values.snapshots === true, incrementalGroup: values.group, incrementalPort: intOption('port', values.port, 1, 65535),
      snapshotGroup: values['snapshot-group'], snapshotPort: intOption('snapshot-port', values['snapshot-port'], 1, 65535),
      sourceAddress: values.source,
    };
    for (const k of Object.keys(options) as (keyof typeof options)[]) if (options[k] === undefined) delete options[k];
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tickpath gen: ${err.message}\n\nRun \`tickpath gen --help\` for the options.`);
    return 2;
  }
  try {
    xml = fs.readFileSync(values['fast-templates']!, 'utf8');
  } catch (err) {
    console.error(`tickpath gen: cannot read --fast-templates ${values['fast-templates']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  let result;
  try {
    loadFastTemplates(xml); // template errors before any thread or file
    result = await whileNotInterrupted((signal) => writeInterruptibly('moexSession', { xml, options }, values.out!, { signal }));
    if (typeof result === 'string') return interrupted(result, values.out!);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code && e.syscall) { console.error(`tickpath gen: cannot write ${values.out}: ${e.code} (${e.message})`); return 1; }
    if (err instanceof TickpathError || err instanceof FastTemplateError) { console.error(`tickpath gen: ${e.message}`); return 1; }
    throw err;
  }
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`tickpath gen: wrote ${result.file}: ${result.incrementals} ${result.template} datagrams (${result.entries} entries, MsgSeqNum 1..${result.incrementals}) `
      + `and ${result.snapshots} snapshot datagrams for ${result.instruments} instruments, ${result.bytes} bytes`);
  }
  return 0;
}

/** Runs `write` with SIGINT/SIGTERM turned into an abort; resolves with its result or the signal's name. */
async function whileNotInterrupted<T>(write: (signal: AbortSignal) => Promise<T | undefined>): Promise<T | NodeJS.Signals> {
  const abort = new AbortController();
  let received: NodeJS.Signals = 'SIGINT';
  const onSignal = (signal: NodeJS.Signals): void => { received = signal; abort.abort(signal); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await write(abort.signal);
    return r === undefined ? received : r;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function interrupted(signal: NodeJS.Signals, out: string): number {
  console.error(`tickpath gen: interrupted by ${signal}; nothing written (${out} untouched)`);
  return 128 + (os.constants.signals[signal] ?? 0);
}
