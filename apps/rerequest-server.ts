/**
 * `tickpath rerequest-server (--pcap FILE | --generate N) [--port P] [--host H]`: a MoldUDP64
 * re-request server answering retransmission requests from a capture's messages (indexed by session
 * and sequence) or from a generated session kept in memory.
 *
 * Exit codes: 0 stopped by a signal (or --exit-after elapsed), 1 bad input, 2 bad usage.
 */
import * as fs from 'fs';
import { TickpathError } from '../lib/errors';
import { MessageJournal } from '../lib/feed/recovery/message-journal';
import { RerequestServer } from '../lib/feed/recovery/rerequest-server';
import { SessionGenerator } from '../lib/tools/session-generator';

export const summary = 'Serve MoldUDP64 retransmission requests from a pcap or a generated session';

const kUsage = `Usage: tickpath rerequest-server (--pcap FILE | --generate N [--session NAME]) [options]

Answers MoldUDP64 request packets (session, sequence, count) on UDP with MoldUDP64 packets holding
the requested messages.

Options:
  --pcap FILE                index every MoldUDP64 message of this capture by session and sequence
  --generate N               serve a generated ITCH session of N messages instead (4 symbols, never fewer
                             than its opening and closing messages; session GEN1 or --session)
  --session NAME             session name for --generate (up to 10 characters)
  --host ADDR                address to bind (default 127.0.0.1)
  --port N                   UDP port (default 0: ephemeral, printed at start)
  --max-packet-size N        largest response payload in bytes (default 1400)
  --max-packets-per-request N  response packets per request (default 1)
  --exit-after MS            stop after MS milliseconds (tests, demos)
  --help                     this text`;

const kGeneratedSymbols = 4;

interface Args {
  pcap?: string; generate?: number; session: string; host: string; port: number;
  maxPacketSize: number; maxPackets: number; exitAfter?: number;
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { session: 'GEN1', host: '127.0.0.1', port: 0, maxPacketSize: 1400, maxPackets: 1 };
  const int = (name: string, v: string | undefined, min: number, max: number): number | string => {
    const n = v === undefined ? NaN : Number(v);
    return Number.isInteger(n) && n >= min && n <= max ? n : `option ${name} needs an integer from ${min} to ${max}, got ${JSON.stringify(v)}`;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    let r: number | string;
    switch (arg) {
      case '--pcap': { const v = next(); if (v === undefined) return 'option --pcap needs a file'; a.pcap = v; break; }
      case '--generate': r = int(arg, next(), 1, 10_000_000); if (typeof r === 'string') return r; a.generate = r; break;
      case '--session': { const v = next(); if (v === undefined || v.length > 10) return 'option --session needs a name of up to 10 characters'; a.session = v; break; }
      case '--host': { const v = next(); if (v === undefined) return 'option --host needs an address'; a.host = v; break; }
      case '--port': r = int(arg, next(), 0, 65535); if (typeof r === 'string') return r; a.port = r; break;
      case '--max-packet-size': r = int(arg, next(), 23, 65507); if (typeof r === 'string') return r; a.maxPacketSize = r; break;
      case '--max-packets-per-request': r = int(arg, next(), 1, 1000); if (typeof r === 'string') return r; a.maxPackets = r; break;
      case '--exit-after': r = int(arg, next(), 0, 86_400_000); if (typeof r === 'string') return r; a.exitAfter = r; break;
      default: return `unknown option ${JSON.stringify(arg)}`;
    }
  }
  if ((a.pcap === undefined) === (a.generate === undefined)) return 'give exactly one of --pcap FILE or --generate N';
  return a;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { console.log(kUsage); return 0; }
  const args = parseArgs(argv);
  if (typeof args === 'string') { console.error(`tickpath rerequest-server: ${args}\n\n${kUsage}`); return 2; }
  let journal = new MessageJournal();
  try {
    if (args.pcap !== undefined) {
      journal = MessageJournal.fromPcap(fs.readFileSync(args.pcap), {}, args.pcap);
    } else if (args.generate !== undefined) {
      const j = journal.session(args.session);
      new SessionGenerator({ symbols: kGeneratedSymbols, rate: args.generate, durationSeconds: 1, session: args.session })
        .forEachMessage((sequence, b, length) => { j.append(sequence, b, 0, length); });
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    console.error(`tickpath rerequest-server: ${err instanceof TickpathError ? err.message : `cannot read ${args.pcap}: ${err.code ?? err.message}`}`);
    return 1;
  }
  const server = new RerequestServer(journal, { maxPacketSize: args.maxPacketSize, maxPacketsPerRequest: args.maxPackets });
  const port = await server.listen(args.port, args.host);
  for (const name of journal.sessionNames) {
    const j = journal.find(name)!;
    console.log(`session ${JSON.stringify(name)}: sequences ${j.first}..${j.next - 1}`);
  }
  console.log(`listening on udp ${args.host}:${port}`);
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    // Whichever comes first; the other is cancelled, so a signal never waits for --exit-after.
    const stop = (): void => { clearTimeout(timer); process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (args.exitAfter !== undefined) timer = setTimeout(stop, args.exitAfter);
  });
  const c = server.counters;
  console.error(`requests ${c.requests}, bad ${c.badRequests}, unknown session ${c.unknownSession}, unavailable ${c.unavailable}, packets ${c.packetsSent}, messages ${c.messagesSent}`);
  await server.close();
  return 0;
}
