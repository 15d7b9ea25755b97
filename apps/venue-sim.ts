/**
 * `tickpath venue-sim`: run the venue simulator (OUCH 4.2 over SoupBinTCP 3.0 and FIX 4.2/4.4 on
 * 127.0.0.1, price-time matching, fault injection) until SIGINT/SIGTERM.
 *
 * Exit codes: 0 stopped by a signal (or --help), 1 could not listen, 2 bad usage.
 */
import { TickpathError } from '../lib/errors';
import { VenueSimulator, type VenueSimulatorOptions, type VenueFaults } from '../lib/venue-sim/venue-simulator';

export const summary = 'Run a simulated exchange (OUCH 4.2/SoupBinTCP + FIX 4.2/4.4, price-time matching, fault injection)';

const kUsage = `Usage: tickpath venue-sim [options]

Listens on 127.0.0.1 and matches orders per symbol in price-time priority. Prints the ports it
listens on, then runs until SIGINT or SIGTERM (exit 0).

Options:
  --ouch-port N           OUCH 4.2 / SoupBinTCP port (default 0 = ephemeral; 'off' disables)
  --fix-port N            FIX 4.2 / 4.4 acceptor port (default 0 = ephemeral; 'off' disables)
  --host ADDR             listen address, 127.0.0.0/8 only (default 127.0.0.1)
  --session NAME          SoupBinTCP session name, at most 10 characters (default: S and
                          the start time in base 36, a new session per start)
  --comp-id ID            the venue's FIX SenderCompID (default VENUE)
  --store-dir DIR         FIX sequence/message store directory (default: a new temp directory)
  --user NAME:PASSWORD    accept only these OUCH logins (repeatable; default: accept any)
  --latency-ms N          response latency for every order message (default 0)
  --heartbeat-ms N        heartbeat interval (default 1000)
  --drop-after N          drop a connection after it sent N order messages (default: never)
  --max-drops N           at most N such drops in total (default 1)
  --reject-rate R         reject this fraction (0..1) of new orders (default 0)
  --delay-ms N            extra delay for a fraction --delay-rate of order messages (default 0)
  --delay-rate R          fraction (0..1) of order messages delayed by --delay-ms (default 1)
  --gap-every N           lose every Nth outbound report in transit (a sequence gap) (default: never)
  --seed N                seed for the fault PRNG (default 1)
  --report FILE           on SIGTERM/SIGINT, write every order seen to FILE, one JSON line each
                          (session, token or ClOrdID, side, symbol, qty, price, filled, cancelled,
                          state, duplicates)
  --cancel-on-disconnect  cancel a session's open orders when it drops without a Logout (OUCH and
                          FIX; a FIX client can also ask per session with 8013=Y on its Logon)
  --verbose               log sessions and injected faults to stderr
  --help                  this text`;

function parseArgs(argv: string[]): (VenueSimulatorOptions & { report?: string }) | string {
  const o: VenueSimulatorOptions & { report?: string } = { ouchPort: 0, fixPort: 0 };
  const faults: VenueFaults = {};
  const users: Record<string, string> = {};
  let anyUser = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    const int = (name: string, min: number, max: number): number | string => {
      const v = next();
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
        return `option ${name} is ${JSON.stringify(v)}, expected an integer from ${min} to ${max}`;
      }
      return Number(v);
    };
    const ratio = (name: string): number | string => {
      const v = next();
      const n = Number(v);
      if (v === undefined || v.trim() === '' || !(n >= 0 && n <= 1)) return `option ${name} is ${JSON.stringify(v)}, expected a number from 0 to 1`;
      return n;
    };
    const port = (name: string): number | null | string => {
      if (argv[i + 1] === 'off') { i++; return null; }
      return int(name, 0, 65535);
    };
    let r: number | null | string = 0;
    switch (arg) {
      case '--ouch-port': r = port(arg); if (typeof r !== 'string') o.ouchPort = r; break;
      case '--fix-port': r = port(arg); if (typeof r !== 'string') o.fixPort = r; break;
      case '--host': {
        const v = next();
        if (v === undefined || !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v)) return `option --host is ${JSON.stringify(v)}, expected an address in 127.0.0.0/8`;
        o.host = v;
        break;
      }
      case '--session': {
        const v = next();
        if (v === undefined || v.length === 0 || v.length > 10) return `option --session is ${JSON.stringify(v)}, expected 1 to 10 characters`;
        o.session = v;
        break;
      }
      case '--comp-id': { const v = next(); if (!v) return 'option --comp-id needs a value'; o.fixCompId = v; break; }
      case '--store-dir': { const v = next(); if (!v) return 'option --store-dir needs a directory'; o.fixStoreDir = v; break; }
      case '--user': {
        const v = next();
        const m = v === undefined ? null : /^([^:]{1,6}):(.{0,10})$/.exec(v);
        if (!m) return `option --user is ${JSON.stringify(v)}, expected NAME:PASSWORD (name at most 6, password at most 10 characters)`;
        users[m[1]] = m[2];
        anyUser = true;
        break;
      }
      case '--latency-ms': r = int(arg, 0, 600000); if (typeof r === 'number') o.latencyMs = r; break;
      case '--heartbeat-ms': r = int(arg, 10, 600000); if (typeof r === 'number') o.heartbeatIntervalMs = r; break;
      case '--drop-after': r = int(arg, 1, 1e9); if (typeof r === 'number') faults.dropAfterMessages = r; break;
      case '--max-drops': r = int(arg, 0, 1e9); if (typeof r === 'number') faults.maxDrops = r; break;
      case '--reject-rate': r = ratio(arg); if (typeof r === 'number') faults.rejectRate = r; break;
      case '--delay-ms': r = int(arg, 0, 600000); if (typeof r === 'number') faults.delayMs = r; break;
      case '--delay-rate': r = ratio(arg); if (typeof r === 'number') faults.delayRate = r; break;
      case '--gap-every': r = int(arg, 1, 1e9); if (typeof r === 'number') faults.gapEvery = r; break;
      case '--seed': r = int(arg, 0, 0xffffffff); if (typeof r === 'number') faults.seed = r; break;
      case '--report': { const v = next(); if (!v) return 'option --report needs a file path'; o.report = v; break; }
      case '--cancel-on-disconnect': o.cancelOnDisconnect = true; break;
      case '--verbose': o.log = (line) => process.stderr.write(`${line}\n`); break;
      default: return `unknown option '${arg}'`;
    }
    if (typeof r === 'string') return r;
  }
  if (o.ouchPort === null && o.fixPort === null) return 'both --ouch-port and --fix-port are off: nothing to run';
  if (anyUser) o.users = users;
  o.faults = faults;
  return o;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { console.log(kUsage); return 0; }
  const opts = parseArgs(argv);
  if (typeof opts === 'string') { console.error(`tickpath venue-sim: ${opts}\n\n${kUsage}`); return 2; }
  let sim: VenueSimulator;
  // Signals are taken from before the ports are printed: a supervisor that stops the simulator as
  // soon as it has read them must still get the report.
  let stopRequested = '';
  let stopNow: ((signal: string) => void) | null = null;
  const onInt = () => { if (stopNow) stopNow('SIGINT'); else stopRequested = 'SIGINT'; };
  const onTerm = () => { if (stopNow) stopNow('SIGTERM'); else stopRequested = 'SIGTERM'; };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    sim = new VenueSimulator(opts);
    const { ouchPort, fixPort } = await sim.start();
    const host = opts.host ?? '127.0.0.1';
    if (opts.ouchPort !== null) console.log(`venue-sim: OUCH 4.2/SoupBinTCP listening on ${host}:${ouchPort} (session ${sim.session})`);
    if (opts.fixPort !== null) console.log(`venue-sim: FIX 4.2/4.4 listening on ${host}:${fixPort} (SenderCompID ${opts.fixCompId ?? 'VENUE'})`);
  } catch (err) {
    const e = err as TickpathError & NodeJS.ErrnoException;
    console.error(`tickpath venue-sim: ${e.message}${e.code === 'EADDRINUSE' ? ' (fix: pick another port or pass 0 for an ephemeral one)' : ''}`);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    return e.code === 'ERR_INVALID_OPTION' ? 2 : 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      stopNow = () => undefined;
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      console.log(`venue-sim: ${signal}, stopping; ${JSON.stringify(sim.stats())}`);
      if (opts.report) {
        try {
          const n = sim.writeReport(opts.report);
          console.log(`venue-sim: ${n} order(s) written to ${opts.report}`);
        } catch (e) {
          console.error(`tickpath venue-sim: cannot write --report ${opts.report}: ${(e as Error).message}`);
        }
      }
      sim.stop().then(() => resolve(0), () => resolve(0));
    };
    stopNow = stop;
    if (stopRequested) stop(stopRequested);
  });
}

// Runnable directly too: node dist/apps/venue-sim.js [options]
if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
