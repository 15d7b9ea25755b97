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
import { FastDecoder, kFastDecodeErrorNames } from '../lib/feed/fast/fast-decoder';
import { FastRecord, FastValue } from '../lib/feed/fast/fast-encoder';
import { fastMessageToObject } from '../lib/feed/fast/fast-json';
import { FastTemplateRegistry, loadFastTemplates } from '../lib/feed/fast/fast-templates';
import { kMoexPacketTooShort, MoexPacket } from '../lib/feed/fast/moex/moex-packet';
import { terminalProgress } from '../lib/tools/progress';

export const summary = 'Decode the ITCH 5.0 (MoldUDP64) or FIX/FAST (--fast-templates) messages of a pcap capture';

const kUsage = `Usage: tickpath decode --pcap FILE [--jsonl] [--symbol S] [--type T[,T...]] [--dst-address A.B.C.D]... [--dst-port N]...
       tickpath decode --fast-templates FILE --pcap FILE [--jsonl] [--symbol S] [--type NAME[,NAME...]] [--dst-address A.B.C.D]... [--dst-port N]...

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
  --fast-templates FILE decode FIX/FAST instead: the venue's FAST 1.1 template XML. Each UDP payload
                        is a MOEX datagram (4-byte MsgSeqNum, one message from a reset FAST state);
                        one line per message with its template name and every field by its template
                        name (decimals as {mantissa, exponent}, uInt64 beyond 2^53 and byteVectors
                        as strings, sequences as arrays); --type takes template names, --symbol
                        matches a message's or an entry's Symbol
  --help                this text

Without --jsonl, prints one readable line per message: prices in dollars, timestamps as clock
time (HH:MM:SS.nnnnnnnnn since midnight); --jsonl keeps the raw integers. A summary of counts goes
to stderr, and on a terminal a progress line while a big file decodes.
Exit codes: 0 ok, 1 bad input (missing, not a pcap, truncated), 2 bad usage. SIGINT/SIGTERM end it
at once, by the signal (it only reads: nothing to release).`;

interface DecodeArgs {
  pcap: string;
  jsonl: boolean;
  symbol?: string;
  types?: Set<string>;
  filter: UdpFrameFilterOptions;
  fastTemplates?: string;
}

function parseArgs(argv: string[]): DecodeArgs | string {
  let pcap: string | undefined;
  let jsonl = false;
  let symbol: string | undefined;
  let types: Set<string> | undefined;
  let fastTemplates: string | undefined;
  const addresses: string[] = [];
  const ports: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    switch (arg) {
      case '--pcap': { const v = value(); if (v === undefined) return 'option --pcap needs a file'; pcap = v; break; }
      case '--jsonl': jsonl = true; break;
      case '--fast-templates': { const v = value(); if (v === undefined) return 'option --fast-templates needs a template XML file'; fastTemplates = v; break; }
      case '--symbol': { const v = value(); if (v === undefined || !(argv.includes('--fast-templates') ? /^[\x21-\x7e]{1,31}$/ : /^[\x21-\x7e]{1,8}$/).test(v)) return `option --symbol is ${JSON.stringify(v)}, expected a symbol of 1 to ${argv.includes("--fast-templates") ? 31 : 8} characters`; symbol = v; break; }
      case '--type': {
        const v = value();
        const list = v === undefined ? [] : v.split(',');
        if (list.length === 0 || (!argv.includes('--fast-templates') && list.some((t) => !/^[A-Za-z]$/.test(t)))) return `option --type is ${JSON.stringify(v)}, expected ITCH message type letters such as A or A,F,E`;
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
  return { pcap, jsonl, symbol, types, fastTemplates, filter: { destinationAddresses: addresses, destinationPorts: ports } };
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
  let registry: FastTemplateRegistry | undefined;
  if (args.fastTemplates !== undefined) {
    try {
      registry = loadFastTemplates(fs.readFileSync(args.fastTemplates, 'utf8'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      console.error(`tickpath decode: --fast-templates ${args.fastTemplates}: ${e.code !== undefined ? `cannot read: ${e.code}` : e.message}`);
      return 1;
    }
    const unknown = [...(args.types ?? [])].filter((t) => !registry!.byName.has(t));
    if (unknown.length > 0) {
      console.error(`tickpath decode: option --type names ${unknown.join(', ')}, not templates of ${args.fastTemplates} (have: ${[...registry.byName.keys()].join(', ')})`);
      return 2;
    }
  }
  let data: Buffer;
  try {
    data = fs.readFileSync(args.pcap);
  } catch (err) {
    console.error(`tickpath decode: cannot read ${args.pcap}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  if (registry !== undefined) return decodeFast(args, registry, frames, data);
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

/** FIX/FAST over MOEX datagrams: one line per message, fields by their template names. */
function decodeFast(args: DecodeArgs, registry: FastTemplateRegistry, frames: UdpFrameParser, data: Buffer): number {
  const packet = new MoexPacket();
  const decoder = new FastDecoder(registry);
  const out: string[] = [];
  const flush = (): void => { if (out.length) { fs.writeSync(1, out.join('\n') + '\n'); out.length = 0; } };
  let datagrams = 0; let tooShort = 0; let shown = 0; let trailing = 0;
  const byTemplate = new Map<string, number>();
  let status = 0;
  try {
    const reader = new PcapReader(data, args.pcap);
    while (reader.next()) {
      if (frames.parse(reader.data, reader.frameOffset, reader.capturedLength) !== kUdpFrameOk) continue;
      datagrams++;
      if (packet.wrap(reader.data, frames.payloadOffset, frames.payloadLength) === kMoexPacketTooShort) { tooShort++; continue; }
      // MOEX encodes every datagram from a reset state.
      decoder.resetDictionaries();
      const id = decoder.decode(reader.data, packet.messageOffset, packet.messageLength);
      if (id < 0) {
        const line = { frame: reader.frameNumber, msgSeqNum: packet.msgSeqNum, error: kFastDecodeErrorNames[id] ?? String(id) };
        out.push(args.jsonl ? JSON.stringify(line) : `#${line.frame} ${line.msgSeqNum} error ${line.error}`);
        continue;
      }
      if (decoder.position < packet.messageOffset + packet.messageLength) trailing++;
      const template = decoder.template!.name;
      byTemplate.set(template, (byTemplate.get(template) ?? 0) + 1);
      if (args.types && !args.types.has(template)) continue;
      const fields = fastMessageToObject(decoder);
      if (args.symbol !== undefined && !mentionsSymbol(fields, args.symbol)) continue;
      shown++;
      const record = { frame: reader.frameNumber, msgSeqNum: packet.msgSeqNum, template, templateId: id, ...jsonFields(fields) };
      out.push(args.jsonl ? JSON.stringify(record) : formatFastLine(record));
      if (out.length >= 4096) flush();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    if (!(err instanceof TickpathError)) throw err;
    flush();
    console.error(`tickpath decode: ${err.message} [${err.code}]`);
    status = 1;
  }
  try {
    flush();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    throw err;
  }
  const c = decoder.counters;
  const f = frames.counters;
  if (args.symbol !== undefined || args.types) console.error(`tickpath decode: ${shown} of ${c.messages} messages match${args.symbol ? ` --symbol ${args.symbol}` : ''}${args.types ? ` --type ${[...args.types].join(',')}` : ''}`);
  const templates = [...byTemplate].map(([t, n]) => `${t}=${n}`).join(' ');
  console.error(`tickpath decode: ${c.messages} FAST messages in ${datagrams} datagrams (${f.accepted} UDP frames accepted, ${f.filtered} filtered, `
    + `${f.truncated + f.notIpv4 + f.notUdp + f.badIpHeader + f.badUdpLength + f.fragment} not decodable; ${tooShort} too short; ${trailing} with trailing bytes; `
    + `errors: ${c.errors} (truncated ${c.truncated}, unknownTemplate ${c.unknownTemplate}, overflow ${c.overflow}, missingValue ${c.missingValue}))${templates ? `; ${templates}` : ''}`);
  return status;
}

function mentionsSymbol(fields: FastRecord, symbol: string): boolean {
  if (fields.Symbol === symbol) return true;
  for (const v of Object.values(fields)) {
    if (Array.isArray(v) && v.some((e) => typeof e === 'object' && e !== null && (e as FastRecord).Symbol === symbol)) return true;
  }
  return false;
}

/** JSON-safe values: uInt64 beyond 2^53 as a decimal string, byte vectors as hex. */
function jsonFields(r: FastRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k] = jsonValue(v);
  return out;
}

function jsonValue(v: FastValue | FastRecord[] | unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map((e) => jsonValue(e));
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if ('mantissa' in o && 'exponent' in o) return o;
    if ('template' in o && 'values' in o) return { template: o.template, values: jsonFields(o.values as FastRecord) };
    return jsonFields(o as FastRecord);
  }
  return v;
}

/** Readable FAST line: decimals as decimal numbers, sequences as [k=v ...] per element. */
export function formatFastLine(record: Record<string, unknown>): string {
  const { frame, msgSeqNum, template, templateId, ...fields } = record;
  return `#${frame} ${msgSeqNum} ${template}(${templateId}) ${formatFastFields(fields)}`;
}

function formatFastFields(fields: Record<string, unknown>): string {
  return Object.entries(fields).map(([k, v]) => `${k}=${formatFastValue(v)}`).join(' ');
}

function formatFastValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((e) => `{${formatFastFields(e as Record<string, unknown>)}}`).join(' ')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.mantissa === 'number' && typeof o.exponent === 'number') return decimalText(o.mantissa, o.exponent);
    return `{${formatFastFields(o)}}`;
  }
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** mantissa x 10^exponent as exact decimal text (65.1225 from 651225e-4). */
function decimalText(m: number, e: number): string {
  if (e >= 0) return `${m}${'0'.repeat(e)}`;
  const neg = m < 0;
  const digits = String(Math.abs(m)).padStart(-e + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, digits.length + e)}.${digits.slice(digits.length + e)}`;
}
