/**
 * `tickpath decode --pcap FILE [--jsonl]`: decode every ITCH 5.0 message of a capture.
 *
 * A tool, not the hot path: it uses the production parser, framing and decoder, then builds one
 * object per message for printing. Exit codes: 0 decoded, 1 bad input (missing file, not a pcap,
 * truncated capture), 2 bad usage.
 */
import * as fs from 'fs';
import { TickpathError } from '../lib/errors';
import { ItchDecoder } from '../lib/feed/itch/itch-decoder';
import { itchMessageToObject } from '../lib/feed/itch/itch-json';
import { MoldUdp64Packet } from '../lib/feed/wire/moldudp64-packet';
import { PcapReader } from '../lib/feed/pcap/pcap-reader';
import { kUdpFrameOk, UdpFrameFilterOptions, UdpFrameParser } from '../lib/feed/wire/udp-frame-parser';
import { formatItchTime, formatPrice } from '../lib/ops/units';
import { terminalProgress } from '../lib/tools/progress';

export const summary = 'Decode the ITCH 5.0 messages of a pcap capture (MoldUDP64 over UDP)';

const kUsage = `Usage: tickpath decode --pcap FILE [--jsonl] [--symbol S] [--type T[,T...]] [--dst-address A.B.C.D]... [--dst-port N]...

Decodes every ITCH 5.0 message carried by MoldUDP64 over UDP/IPv4 in a classic pcap file
(microsecond or nanosecond, either byte order, Ethernet with optional 802.1Q tags).

Options:
  --pcap FILE           capture to read (required)
  --jsonl               one JSON object per message: frame, session, seq, type and every field in
                        camelCase; prices are integers in spec units (Price(4) = 1e-4 dollars)
  --symbol S            only messages about this stock (messages that carry only a stock locate
                        are matched through the locate's symbol seen earlier in the capture)
  --type T[,T...]       only these message types, e.g. A,F,E,C,X,D,U (repeatable)
  --dst-address ADDR    accept only UDP to this destination address (repeatable)
  --dst-port PORT       accept only UDP to this destination port (repeatable)
  --help                this text

Without --jsonl, prints one readable line per message: prices in dollars, timestamps as clock
time (HH:MM:SS.nnnnnnnnn since midnight); --jsonl keeps the raw integers. A summary of counts goes
to stderr, and on a terminal a progress line while a big file decodes.
Exit codes: 0 ok, 1 bad input (missing, not a pcap, truncated), 2 bad usage.`;

interface DecodeArgs {
  pcap: string;
  jsonl: boolean;
  symbol?: string;
  types?: Set<string>;
  filter: UdpFrameFilterOptions;
}

function parseArgs(argv: string[]): DecodeArgs | string {
  let pcap: string | undefined;
  let jsonl = false;
  let symbol: string | undefined;
  let types: Set<string> | undefined;
  const addresses: string[] = [];
  const ports: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    switch (arg) {
      case '--pcap': { const v = value(); if (v === undefined) return 'option --pcap needs a file'; pcap = v; break; }
      case '--jsonl': jsonl = true; break;
      case '--symbol': { const v = value(); if (v === undefined || !/^[\x21-\x7e]{1,8}$/.test(v)) return `option --symbol is ${JSON.stringify(v)}, expected a symbol of 1 to 8 characters`; symbol = v; break; }
      case '--type': {
        const v = value();
        const list = v === undefined ? [] : v.split(',');
        if (list.length === 0 || list.some((t) => !/^[A-Za-z]$/.test(t))) return `option --type is ${JSON.stringify(v)}, expected ITCH message type letters such as A or A,F,E`;
        types ??= new Set();
        for (const t of list) types.add(t);
        break;
      }
      case '--dst-address': { const v = value(); if (v === undefined) return 'option --dst-address needs an address'; addresses.push(v); break; }
      case '--dst-port': {
        const v = value();
        if (v === undefined || !/^\d+$/.test(v)) return `option --dst-port is ${JSON.stringify(v)}, expected an integer from 1 to 65535`;
        ports.push(Number(v));
        break;
      }
      default: return `unknown option '${arg}'`;
    }
  }
  if (pcap === undefined) return 'option --pcap FILE is required';
  return { pcap, jsonl, symbol, types, filter: { destinationAddresses: addresses, destinationPorts: ports } };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(kUsage);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    console.error(`tickpath decode: ${args}\n\n${kUsage}`);
    return 2;
  }
  let frames: UdpFrameParser;
  try {
    frames = new UdpFrameParser(args.filter);
  } catch (err) {
    console.error(`tickpath decode: ${(err as Error).message}`);
    return 2;
  }
  let data: Buffer;
  try {
    data = fs.readFileSync(args.pcap);
  } catch (err) {
    console.error(`tickpath decode: cannot read ${args.pcap}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  const packet = new MoldUdp64Packet();
  const decoder = new ItchDecoder();
  const out: string[] = [];
  const flush = (): void => { if (out.length) { fs.writeSync(1, out.join('\n') + '\n'); out.length = 0; } };
  let status = 0;
  // --symbol: the symbol of each stock locate, learnt from the messages that name it.
  const symbolOfLocate = new Map<number, string>();
  let shown = 0;
  const progress = data.length > 16 * 1024 * 1024 ? terminalProgress({ unit: 'MB', total: data.length / 1e6 }) : undefined;
  try {
    const reader = new PcapReader(data, args.pcap);
    while (reader.next()) {
      if (progress !== undefined && (reader.frameNumber & 8191) === 0) progress.update(reader.frameOffset / 1e6);
      if (frames.parse(reader.data, reader.frameOffset, reader.capturedLength) !== kUdpFrameOk) continue;
      if (packet.wrap(reader.data, frames.payloadOffset, frames.payloadLength) <= 0) continue;
      const session = packet.session;
      while (packet.nextMessage()) {
        const type = decoder.decode(reader.data, packet.messageOffset, packet.messageLength);
        if (type <= 0) continue;
        const fields = itchMessageToObject(decoder.messageFor(type)!);
        if (args.types && !args.types.has(String(fields.type))) continue;
        if (args.symbol !== undefined) {
          const locate = Number(fields.stockLocate);
          if (typeof fields.stock === 'string') symbolOfLocate.set(locate, fields.stock);
          if ((typeof fields.stock === 'string' ? fields.stock : symbolOfLocate.get(locate)) !== args.symbol) continue;
        }
        shown++;
        const record = { frame: reader.frameNumber, session, seq: packet.messageSequence, ...fields };
        out.push(args.jsonl ? JSON.stringify(record) : formatLine(record));
        if (out.length >= 4096) flush();
      }
    }
  } catch (err) {
    // The reader went away (`| head`): not an error, and nothing more to print.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    if (!(err instanceof TickpathError)) throw err;
    flush();
    console.error(`tickpath decode: ${err.message} [${err.code}]`);
    status = 1;
  }
  progress?.finish(data.length / 1e6);
  try {
    flush();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    throw err;
  }
  const c = decoder.counters;
  const f = frames.counters;
  const p = packet.counters;
  if (args.symbol !== undefined || args.types) console.error(`tickpath decode: ${shown} of ${c.messages} messages match${args.symbol ? ` --symbol ${args.symbol}` : ''}${args.types ? ` --type ${[...args.types].join(',')}` : ''}`);
  console.error(`tickpath decode: ${c.messages} messages in ${p.packets} MoldUDP64 packets (${f.accepted} UDP frames accepted, `
    + `${f.filtered} filtered, ${f.truncated + f.notIpv4 + f.notUdp + f.badIpHeader + f.badUdpLength + f.fragment} not decodable; `
    + `${p.heartbeats} heartbeats, ${p.endOfSession} end-of-session; ${p.truncatedHeader + p.truncatedBlock} truncated packets/blocks; `
    + `messages: ${c.truncated} truncated, ${c.unknownType} unknown type, ${c.zeroLength} zero length)`);
  return status;
}

/**
 * The readable line: Price(4) fields (every numeric field whose name says price) in dollars, the
 * timestamp as clock time; everything else as decoded. MWCB levels are Price(8) and named level1..3,
 * so they stay integers.
 */
export function formatLine(record: Record<string, unknown>): string {
  const { frame, session, seq, type, timestamp, ...fields } = record;
  const rest = Object.entries(fields).map(([k, v]) => {
    if (typeof v === 'number' && /price/i.test(k)) return `${k}=$${formatPrice(v)}`;
    return `${k}=${typeof v === 'string' ? JSON.stringify(v) : v}`;
  }).join(' ');
  const time = typeof timestamp === 'number' ? ` ${formatItchTime(timestamp)}` : '';
  return `#${frame} ${session ?? '-'}:${seq}${time} ${type} ${rest}`;
}
