/**
 * `tickpath venue-sim` as a child process, for runs and benchmarks that want the venue out of the
 * router's process (`tickpath run --venue-process`, perf:latency's venue variants, perf:order-warm): on a CPU of its own choosing (taskset) and idling its own way (--idle, --spin-us), so
 * the router's send(2) over loopback finds a receiver that is already running instead of one it has
 * to wake. One process serves both protocols of configs/routing_config.yml (OUCH for NSDQ, FIX for
 * ARCA, whose SenderCompID it answers with).
 *
 * Threading contract: started and stopped from the benchmark's main thread.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';

import { TickpathError } from '../errors';

// dist/lib/venue-sim -> the package root's launcher.
const kCli = path.join(__dirname, '..', '..', '..', 'bin', 'tickpath.js');

export interface VenueProcessOptions {
  /** CPU to run on (taskset -c); -1: wherever the scheduler puts it. */
  cpu: number;
  idle: 'block' | 'spin' | 'backoff';
  /** block: keep spinning this long after each message. */
  spinUs?: number;
  /** The FIX acceptor's SenderCompID (routing_config.yml's target_id of the FIX venue). */
  fixCompId: string;
}

export interface VenueProcess {
  readonly ouchPort: number;
  readonly fixPort: number;
  /** The simulator's process (taskset execs into it, so this is node's pid). */
  readonly pid: number;
  /** What ran: e.g. "venue-sim child, CPU 1, idle spin". */
  readonly label: string;
  /** SIGTERM; resolves with the simulator's closing stats (null if it printed none). */
  stop(): Promise<Record<string, unknown> | null>;
}

/** Parses MODE@CPU (block@1, spin@1): what `--venue-process` and `--venue-variants` take. */
export function parseVenuePlacement(option: string, text: string, cpus: number): { idle: 'block' | 'spin'; cpu: number } {
  const m = /^(block|spin)@(\d+)$/.exec(text);
  if (!m || Number(m[2]) >= cpus) {
    throw new TickpathError('ERR_INVALID_OPTION', `option ${option} is '${text}', expected MODE@CPU with MODE block or spin and CPU 0..${cpus - 1}`,
      `e.g. ${option} spin@${cpus - 1}: the venue simulators spin on the last CPU`);
  }
  return { idle: m[1] as 'block' | 'spin', cpu: Number(m[2]) };
}

export async function startVenueProcess(o: VenueProcessOptions): Promise<VenueProcess> {
  const args = [kCli, 'venue-sim', '--ouch-port', '0', '--fix-port', '0', '--comp-id', o.fixCompId, '--transport', 'native', '--idle', o.idle, '--stop-with-parent'];
  if (o.spinUs !== undefined) args.push('--spin-us', String(o.spinUs));
  const child: ChildProcess = o.cpu >= 0
    ? spawn('taskset', ['-c', String(o.cpu), process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = /SoupBinTCP listening on 127\.0\.0\.1:(\d+)[\s\S]*FIX 4\.2\/4\.4 listening on 127\.0\.0\.1:(\d+)[\s\S]*venue-sim: transport native/;
  const until = Date.now() + 15_000;
  let m: RegExpExecArray | null = null;
  while ((m = ready.exec(out)) === null) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new TickpathError('ERR_VENUE_PROCESS', `venue-sim child process did not start within 15 s (exit ${child.exitCode}): ${out.slice(0, 500)}`,
        'run `tickpath venue-sim --idle spin` by hand to see why; a CPU that taskset refuses is named in its output');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const label = `venue-sim child process, ${o.cpu >= 0 ? `CPU ${o.cpu}` : 'unpinned'}, idle ${o.idle}${o.spinUs ? ` spin-us ${o.spinUs}` : ''}`;
  return {
    ouchPort: Number(m[1]), fixPort: Number(m[2]), label, pid: child.pid ?? -1,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      const s = /venue-sim: SIGTERM, stopping; (.*)/.exec(out);
      try { return s ? JSON.parse(s[1]) as Record<string, unknown> : null; } catch { return null; }
    },
  };
}
