/**
 * `tickpath venue-sim`: run the venue simulator (OUCH 4.2 over SoupBinTCP 3.0 and FIX 4.2/4.4 on
 * 127.0.0.1, price-time matching, fault injection) until SIGINT/SIGTERM.
 *
 * Exit codes: 0 stopped by a signal (or --help), 1 could not listen, 2 bad usage.
 */
import { TickpathError } from '../lib/errors';
import { VenueSimulator, type VenueSimulatorOptions, type VenueFaults } from '../lib/venue-sim/venue-simulator';
import { SessionTrace, setSessionTrace } from '../lib/protocols/transport/session-trace';

const kSimHost = /^(127\.\d{1,3}|10\.\d{1,3}|172\.(1[6-9]|2\d|3[01])|192\.168|169\.254)\.\d{1,3}\.\d{1,3}$/;

export const summary = 'Run a simulated exchange (OUCH 4.2/SoupBinTCP + FIX 4.2/4.4, price-time matching, fault injection)';

const kUsage = `Usage: tickpath venue-sim [options]

Listens on 127.0.0.1 and matches orders per symbol in price-time priority. Prints the ports it
listens on, then runs until SIGINT or SIGTERM (exit 0).

Options:
  --ouch-port N           OUCH 4.2 / SoupBinTCP port (default 0 = ephemeral; 'off' disables)
  --fix-port N            FIX 4.2 / 4.4 acceptor port (default 0 = ephemeral; 'off' disables)
  --host ADDR             listen address: 127.0.0.0/8, or a private or link-local address
                          of this host (default 127.0.0.1)
  --session NAME          SoupBinTCP session name, at most 10 characters (default: S and
                          the start time in base 36, a new session per start)
  --comp-id ID            the venue's FIX SenderCompID (default VENUE)
  --store-dir DIR         FIX sequence/message store directory (default: a new temp directory)
  --fix-store KIND        mapped (default with the addon: one memory-mapped file, no system
                          call per message) or files (three files, a pwrite per write)
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
  --transport KIND        native (default: sessions accepted and read by the addon's polled
                          sockets from the simulator's own loop, no event-loop wakeup per order)
                          or libuv (net.Server, the fallback)
  --idle MODE             native: what the loop does when there is nothing to do: block (default:
                          after --spin-turns empty turns, sleep in epoll until a session or
                          the event loop has something; no CPU when idle), spin (never sleeps:
                          one CPU busy all the time), backoff (spin, then park 1..--max-park-us)
  --spin-turns N          native, block: empty turns spun before sleeping (default 0: on a shared
                          machine spinning makes the scheduler wake the simulator later)
  --spin-us N             native, block: keep spinning N microseconds after the last message
                          before sleeping (default 0); an adaptive spin: a busy session is
                          never slept on, an idle one costs no CPU after N us
  --max-park-us N         native, backoff: longest park in microseconds (default 20)
  --realtime PRIO         native: run the loop's thread SCHED_FIFO at PRIO (1..49; read back from
                          the kernel, an error when refused). With --idle spin the loop sleeps
                          --realtime-sleep-us after every ms of spinning (the kernel's own threads
                          need that CPU time); with block it sleeps when idle (--spin-us <= 1000)
  --realtime-sleep-us N   native, --realtime with --idle spin: the sleep budget (default 50, 1..500)
  --epoll-busy-poll US    native: epoll busy poll (EPIOCSPARAMS, Linux 6.9+) on the loop's wait set;
                          engages only for sockets fed by a NIC queue (not loopback)
  --busy-poll US          native: SO_BUSY_POLL microseconds on accepted sockets (default 0 = off;
                          a refused setting is reported in the stats, not fatal)
  --report FILE           on SIGTERM/SIGINT, write every order seen to FILE, one JSON line each
                          (session, token or ClOrdID, side, symbol, qty, price, filled, cancelled,
                          state, duplicates)
  --trace FILE            native: record when each session wakes, reads and sends (CLOCK_MONOTONIC
                          ns, up to 1 M points) and write the timeline to FILE when stopped
                          (perf/router-rtt.js --split lines it up with the client's)
  --cancel-on-disconnect  cancel a session's open orders when it drops without a Logout (OUCH and
                          FIX; a FIX client can also ask per session with 8013=Y on its Logon)
  --stop-with-parent      stop (as on SIGTERM) when the process that started it has exited, e.g.
                          a killed \`tickpath run --venue-process\`: a spinning simulator must not
                          outlive it
  --verbose               log sessions and injected faults to stderr
  --help                  this text`;

function parseArgs(argv: string[]): (VenueSimulatorOptions & { report?: string; trace?: string; stopWithParent?: boolean }) | string {
  const o: VenueSimulatorOptions & { report?: string; trace?: string; stopWithParent?: boolean } = { ouchPort: 0, fixPort: 0, transport: 'native' };
  const faults: VenueFaults = {};
  const users: Record<string, string> = {};
  let anyUser = false;
  let rtSleepUs: number | undefined;
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
        // Loopback, or a private or link-local address (a test exchange reached from another
        // network namespace, e.g. by a hot standby): never a public one.
        if (v === undefined || !kSimHost.test(v)) return `option --host is ${JSON.stringify(v)}, expected an address in 127.0.0.0/8 or a private (10/8, 172.16/12, 192.168/16) or link-local (169.254/16) address`;
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
      case '--fix-store': {
        const v = next();
        if (v !== 'mapped' && v !== 'files') return `option --fix-store is ${JSON.stringify(v ?? '')}, expected mapped or files`;
        o.fixStoreKind = v;
        break;
      }
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
      case '--trace': { const v = next(); if (!v) return 'option --trace needs a file path'; o.trace = v; break; }
      case '--cancel-on-disconnect': o.cancelOnDisconnect = true; break;
      case '--stop-with-parent': o.stopWithParent = true; break;
      case '--transport': {
        const v = next();
        if (v !== 'native' && v !== 'libuv') return `option --transport is ${JSON.stringify(v)}, expected native or libuv`;
        o.transport = v;
        break;
      }
      case '--idle': {
        const v = next();
        if (v !== 'block' && v !== 'spin' && v !== 'backoff') return `option --idle is ${JSON.stringify(v)}, expected block, spin or backoff`;
        o.idle = v;
        break;
      }
      case '--spin-turns': r = int(arg, 0, 1e9); if (typeof r === 'number') o.spinTurns = r; break;
      case '--spin-us': r = int(arg, 0, 1000000); if (typeof r === 'number') o.spinUs = r; break;
      case '--max-park-us': r = int(arg, 1, 1000000); if (typeof r === 'number') o.maxParkUs = r; break;
      case '--busy-poll': r = int(arg, 0, 1000000); if (typeof r === 'number') o.busyPollUs = r; break;
      case '--realtime': r = int(arg, 1, 49); if (typeof r === 'number') o.realtime = { priority: r, sleepUs: o.realtime?.sleepUs ?? 50 }; break;
      case '--realtime-sleep-us': r = int(arg, 1, 500); if (typeof r === 'number') rtSleepUs = r; break;
      case '--epoll-busy-poll': r = int(arg, 1, 1000000); if (typeof r === 'number') o.epollBusyPollUs = r; break;
      case '--verbose': o.log = (line) => process.stderr.write(`${line}\n`); break;
      default: return `unknown option '${arg}'`;
    }
    if (typeof r === 'string') return r;
  }
  if (o.ouchPort === null && o.fixPort === null) return 'both --ouch-port and --fix-port are off: nothing to run';
  if (o.transport === 'libuv' && (o.idle !== undefined || o.maxParkUs !== undefined || o.spinTurns !== undefined || o.spinUs !== undefined || o.busyPollUs || o.trace || o.realtime || o.epollBusyPollUs)) {
    return 'options --idle, --spin-turns, --spin-us, --max-park-us, --busy-poll, --realtime, --epoll-busy-poll and --trace apply to --transport native only';
  }
  if (rtSleepUs !== undefined) {
    if (!o.realtime) return 'option --realtime-sleep-us applies with --realtime only';
    o.realtime.sleepUs = rtSleepUs;
  }
  if (o.realtime && o.idle === 'backoff') return "option --realtime applies to --idle block or spin, not backoff (a real-time thread's sleeps must be the loop's own budget)";
  if (o.realtime && (o.spinUs ?? 0) > 1000) return `option --spin-us ${o.spinUs} with --realtime: at most 1000 (a SCHED_FIFO thread that keeps spinning starves the kernel's threads until the RT throttle stalls it; use --idle spin, which sleeps --realtime-sleep-us per ms)`;
  if (o.epollBusyPollUs && o.idle !== undefined && o.idle !== 'block' && !o.realtime) return `option --epoll-busy-poll applies when the loop sleeps on its wait set (--idle block, or spin with --realtime), not --idle ${o.idle}`;
  if (o.spinUs && o.idle !== undefined && o.idle !== 'block') {
    return `option --spin-us applies to --idle block (the default), not --idle ${o.idle}: spin never sleeps, backoff parks by its own schedule`;
  }
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
  const trace = opts.trace ? new SessionTrace(1 << 20) : null;
  setSessionTrace(trace);
  try {
    sim = new VenueSimulator(opts);
    const { ouchPort, fixPort } = await sim.start();
    const host = opts.host ?? '127.0.0.1';
    if (opts.ouchPort !== null) console.log(`venue-sim: OUCH 4.2/SoupBinTCP listening on ${host}:${ouchPort} (session ${sim.session})`);
    if (opts.fixPort !== null) console.log(`venue-sim: FIX 4.2/4.4 listening on ${host}:${fixPort} (SenderCompID ${opts.fixCompId ?? 'VENUE'})`);
    const ts = sim.transportStats();
    console.log(ts.transport === 'native'
      ? `venue-sim: transport native (idle ${ts.loop?.idle}${ts.loop?.idle === 'backoff' ? `, max park ${opts.maxParkUs ?? 20} us`
        : ts.loop?.idle === 'spin' ? (ts.loop.sched?.policy === 'fifo' ? `, one CPU busy but ${ts.loop.realtimeSleepUs} us asleep per ms` : ', one CPU busy') : `, ${opts.spinTurns ?? 0} spin turns${opts.spinUs ? ` and ${opts.spinUs} us after the last message` : ''} then epoll`}, busy-poll ${ts.busyPollUs ? `${ts.busyPollUs} us` : 'off'}${opts.epollBusyPollUs ? `, epoll busy-poll ${opts.epollBusyPollUs} us` : ''}, scheduler ${ts.loop?.sched ? `SCHED_${ts.loop.sched.policy.toUpperCase()} ${ts.loop.sched.priority} (read back)` : 'SCHED_OTHER'})`
      : 'venue-sim: transport libuv (event loop)');
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
      // What the clients sent before they stopped may still sit in our sockets (a supervisor stops
      // its router first, then us; a loaded machine leaves this loop behind): the loop keeps
      // serving until the counts have not moved for kSettleMs, at most kSettleMaxMs, so the report
      // counts every order that reached this host.
      const kSettleMs = 50, kSettleMaxMs = 2000;
      const t0 = Date.now();
      let seen = JSON.stringify(sim.stats()), since = t0;
      const settle = setInterval(() => {
        const now = JSON.stringify(sim.stats()), t = Date.now();
        if (now !== seen) { seen = now; since = t; }
        if (t - since >= kSettleMs || t - t0 >= kSettleMaxMs) { clearInterval(settle); finish(signal); }
      }, 10);
    };
    const finish = (signal: string) => {
      console.log(`venue-sim: ${signal}, stopping; ${JSON.stringify({ ...sim.stats(), transport: sim.transportStats() })}`);
      if (trace && opts.trace) {
        try {
          trace.writeFile(opts.trace);
          console.log(`venue-sim: ${trace.count} trace point(s) written to ${opts.trace}${trace.dropped ? ` (${trace.dropped} dropped: full)` : ''}`);
        } catch (e) {
          console.error(`tickpath venue-sim: cannot write --trace ${opts.trace}: ${(e as Error).message}`);
        }
      }
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
    if (opts.stopWithParent) {
      // Reparented (to init or a subreaper) means the parent is gone; checked 5 times a second.
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (process.ppid !== parent) { clearInterval(watch); if (stopNow) stopNow('parent exited'); }
      }, 200);
      watch.unref();
    }
  });
}

// Runnable directly too: node dist/apps/venue-sim.js [options]
if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
