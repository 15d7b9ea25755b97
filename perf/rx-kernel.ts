/**
 * Packets/s delivered into JavaScript by the kernel-path backends (af_xdp, af_packet, udp) on a veth
 * pair, each against a Node `dgram` socket receiving the same traffic in the same run (baseline),
 * and against the `cap` npm package (libpcap, one callback per packet copied into a Buffer: the
 * kind of addon tickpath replaces) on the same interface, measured once per run.
 *
 * Traffic: 1000 distinct 60-byte Ethernet/IPv4/UDP frames (64 on a real wire with FCS), looped from
 * inside a namespace at top speed for a fixed time, by trafgen (PACKET_MMAP TX ring, qdisc bypass)
 * when installed, else tcpreplay (--sender chooses). For every backend the run is:
 * baseline phase (dgram bound to the same address and port), then backend phase, identical sender.
 * The consumer is the production RxConsumer in a JS worker (perf/rx-worker.ts, as perf:rx uses for
 * dpdk), reading each packet's length and one 32-bit payload word in place; the port is opened
 * with lib/binding's Port in inline poller mode (the worker's read() polls: 2-core layout, the
 * sender has the other core).
 *
 * Highest lossless rate, same offered load for every receiver: the same sender paced at a ladder
 * of rates (tcpreplay --pps, which holds the asked rate; trafgen does not pace here, see
 * ladderSenderKind; --rates), each step --step-seconds long, into each receiver in turn
 * (ours per backend, dgram, cap); a step is lossless when the receiver counted at least as many
 * packets as the sender sent (counted from before the sender starts to 300 ms after it ends). The
 * ladder stops at the first lossy step; the rate the sender really achieved is what is reported.
 * With --rates none, only the top-speed comparison runs.
 *
 *   node dist/perf/rx-kernel.js [--seconds 3] [--backends af_xdp,af_packet,udp] [--rates 25k,50k,...] [--step-seconds 1.5] [--json]
 *   [--sender trafgen|tcpreplay] (top speed) [--ladder-sender tcpreplay|trafgen] (paced ladder)
 * Needs root and trafgen (netsniff-ng) or tcpreplay. Never asserts timings: it reports.
 */
import { spawn } from 'child_process';
import * as dgram from 'dgram';
import * as readline from 'readline';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Worker } from 'worker_threads';

import { Port, PortOptions } from '../lib/binding';
import { parseRate } from './lib/args';
import { VethPair, createVethPair, destroyVethPair, haveTool, netnsUnavailableReason, replayInNs, seqPayload, udpFrame, writePcap } from '../test/helpers/netns';

interface Result {
  backend: string;
  /** What sent the top-speed traffic and the paced ladder (trafgen or tcpreplay), the same for every receiver. */
  sender: string;
  ladder_sender?: string;
  pps: number;
  baseline: 'node-dgram';
  baseline_pps: number;
  ratio: number;
  drops: number;
  baseline_drops: number;
  sent_pps: number;
  baseline_sent_pps: number;
  /** The `cap` (libpcap) baseline on the same interface and traffic; cap_missing says why when it could not run. */
  cap_pps?: number;
  cap_missing?: string;
  ratio_cap?: number;
  describe: string;
  /** Highest paced rate each receiver took with no loss (the sender's achieved pps; 0: none of the ladder). */
  lossless_pps?: number;
  baseline_lossless_pps?: number;
  cap_lossless_pps?: number;
  lossless_sender_limited?: boolean;
  baseline_lossless_sender_limited?: boolean;
  cap_lossless_sender_limited?: boolean;
  ladder?: Record<string, LadderStep[]>;
}

/** sender_limited: the sender reached under 90 % of the asked rate (the receiver was not the limit). */
interface LadderStep { offered_pps: number; sent: number; sent_pps: number; received: number; lost: number; sender_limited: boolean }

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function udpRcvbufErrors(): number {
  const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const keys = lines[0].split(/\s+/);
  const vals = lines[1].split(/\s+/);
  return Number(vals[keys.indexOf('RcvbufErrors')]);
}

function sentPackets(tcpreplayOut: string): number {
  const m = /Actual: (\d+) packets/.exec(tcpreplayOut);
  return m ? Number(m[1]) : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The sender: trafgen (netsniff-ng: a PACKET_MMAP TX ring, qdisc bypassed, one process with -P 1)
 * when installed, else tcpreplay (one sendto per packet); `--sender` chooses. Both send the same
 * 1000 frames from the namespace end, looped; what each sent is its own count over its own time.
 */
type SenderKind = 'trafgen' | 'tcpreplay';
let senderKind: SenderKind = 'tcpreplay';
/**
 * The paced ladder's sender: tcpreplay unless --ladder-sender trafgen. trafgen 0.6.8 does not pace
 * here: asked -b 10000pps it sent 62-99 k/s (bursts), and -t 10us (one sleep per packet) reached
 * 14 k/s, so a step's "lossless at X" would not mean X; tcpreplay --pps holds the asked rate.
 */
let ladderSenderKind: SenderKind = 'tcpreplay';

/**
 * trafgen runs in its own process group (below), outside `tickpath bench`'s, so a signal that stops
 * the benchmark must stop it here, and remove the veth pair and namespace while at it.
 */
const liveSenderGroups = new Set<number>();
let activePair: VethPair | undefined;
function stopOnSignal(signal: NodeJS.Signals): void {
  for (const pgid of liveSenderGroups) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } }
  if (activePair) { try { destroyVethPair(activePair); } catch { /* best effort */ } }
  process.exit(128 + (os.constants.signals[signal] ?? 0));
}
process.on('SIGINT', stopOnSignal);
process.on('SIGTERM', stopOnSignal);
let trafgenConfig = '';

/** The frames as a trafgen packet configuration: one `{ bytes }` block per frame, sent round robin. */
function writeTrafgenConfig(file: string, frames: Uint8Array[]): void {
  fs.writeFileSync(file, frames.map((f) => `{ ${Array.from(f, (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')} }`).join('\n') + '\n');
}

/**
 * trafgen from the namespace end: `pps` 0 for top speed (stopped with SIGINT after `seconds`), else
 * paced at `pps` for `count` packets. --no-sock-mem, --notouch-irq: it changes no system socket memory or IRQ affinity.
 */
function trafgenInNs(pair: VethPair, pps: number, count: number, seconds: number): Promise<{ sent: number; seconds: number }> {
  return new Promise((resolve) => {
    // stdbuf: its "Running!" arrives when printed. Its own group: trafgen forks the sender, and
    // SIGINT must reach both, as a terminal's ^C would.
    const args = ['netns', 'exec', pair.ns, 'stdbuf', '-oL', 'trafgen', '-P', '1', '--no-sock-mem', '--notouch-irq', '-i', trafgenConfig, '-o', pair.nsIf, '-n', String(count), ...(pps > 0 ? ['-b', `${Math.round(pps)}pps`] : [])];
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const signal = (sig: NodeJS.Signals): void => { try { process.kill(-child.pid!, sig); } catch { /* gone */ } };
    liveSenderGroups.add(child.pid!);
    let out = '';
    // trafgen's own time line is CPU time; the sending time is from "Running!" to its exit, ours.
    let running = 0n;
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!running && out.includes('Running!')) running = process.hrtime.bigint();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const stop = pps > 0 ? undefined : setTimeout(() => signal('SIGINT'), seconds * 1000);
    const hard = setTimeout(() => signal('SIGKILL'), (seconds * 20 + 10) * 1000);
    child.on('exit', () => {
      signal('SIGKILL'); // the forked sender, should it outlive its parent
      liveSenderGroups.delete(child.pid!);
      if (stop) clearTimeout(stop);
      clearTimeout(hard);
      const n = /(\d+) packets outgoing/.exec(out);
      resolve({ sent: n ? Number(n[1]) : NaN, seconds: running ? Number(process.hrtime.bigint() - running) / 1e9 : seconds });
    });
  });
}

async function replayFor(pair: VethPair, pcap: string, seconds: number): Promise<{ sent: number; seconds: number }> {
  if (senderKind === 'trafgen') return trafgenInNs(pair, 0, 0, seconds);
  const res = await replayInNs(pair, pcap, ['--topspeed', '--loop=0', `--duration=${seconds}`], (seconds + 10) * 1000, true);
  return { sent: sentPackets(res.stdout), seconds };
}

/** Baseline: Node dgram, one 'message' event per datagram. */
async function runDgram(pair: VethPair, pcap: string, port: number, seconds: number): Promise<{ pps: number; drops: number; sentPps: number }> {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  await new Promise<void>((r) => sock.bind(port, pair.hostIp, () => r()));
  let packets = 0;
  let counting = false;
  let sink = 0;
  sock.on('message', (msg: Buffer) => {
    if (!counting) return;
    packets++;
    sink += msg.length + msg.readUInt32BE(0);
  });
  const drops0 = udpRcvbufErrors();
  const sender = replayFor(pair, pcap, seconds);
  await sleep(200); // let the sender reach speed before counting
  counting = true;
  const t0 = process.hrtime.bigint();
  await sleep((seconds - 0.5) * 1000);
  counting = false;
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const s = await sender;
  sock.close();
  if (sink === -1) console.log(sink);
  return { pps: packets / dt, drops: udpRcvbufErrors() - drops0, sentPps: s.sent / s.seconds };
}

/**
 * Second baseline: the `cap` npm package (libpcap), the usual Node packet addon: one 'packet' event
 * per packet, copied into a Buffer. It runs in a child process (perf/lib/cap-receiver.ts says why);
 * `missing` names why it could not run (not installed, not built), so the table can say so.
 */
async function runCap(pair: VethPair, pcap: string, port: number, seconds: number): Promise<{ pps: number; sentPps: number } | { missing: string }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'lib', 'cap-receiver.js'), pair.hostIf, `udp and dst port ${port}`],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  readline.createInterface({ input: child.stdout! }).on('line', (l) => { if (waiting) { const w = waiting; waiting = undefined; w(l); } else lines.push(l); });
  const nextLine = (): Promise<string> => new Promise((resolve, reject) => {
    if (lines.length) { resolve(lines.shift()!); return; }
    waiting = resolve;
    child.once('exit', (code, signal) => reject(new Error(`cap-receiver exited (${signal ?? code}) before answering`)));
  });
  const first = await nextLine();
  if (first !== 'ready') { child.kill('SIGKILL'); return { missing: (JSON.parse(first) as { missing: string }).missing }; }
  const sender = replayFor(pair, pcap, seconds);
  await sleep(200);
  child.stdin!.write('start\n');
  await sleep((seconds - 0.5) * 1000);
  child.stdin!.write('stop\n');
  const r = JSON.parse(await nextLine()) as { packets: number; seconds: number };
  if (child.exitCode === null) child.kill('SIGKILL');
  const s = await sender;
  return { pps: r.packets / r.seconds, sentPps: s.sent / s.seconds };
}

/** Backend: inline poller, polled and drained by the production RxConsumer in a JS worker. */
async function runBackend(options: PortOptions, pair: VethPair, pcap: string, seconds: number, wordOffset: number): Promise<{ pps: number; drops: number; sentPps: number; describe: string }> {
  const port = Port.open({ ...options, poller: 'inline', burst: 64 });
  const control = new SharedArrayBuffer(4);
  const ctl = new Int32Array(control);
  const worker = new Worker(path.join(__dirname, 'rx-worker.js'), { workerData: { transfer: port.rxTransfer(0), cpu: -1, control, wordOffset } });
  const done = new Promise<{ packets: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  const exited = new Promise((resolve) => worker.once('exit', resolve));  // listened to from the start: it may come early
  const sender = replayFor(pair, pcap, seconds);
  await sleep(200); // warm-up: the sender ramps up, the worker's JIT settles; not counted
  const st0 = port.stats();
  Atomics.store(ctl, 0, 1);
  const t0 = process.hrtime.bigint();
  await sleep((seconds - 0.5) * 1000);
  Atomics.store(ctl, 0, 2);
  const t1 = process.hrtime.bigint();
  const res = await done;
  const st1 = port.stats();
  const s = await sender;
  // The worker ends by itself once it has reported; wait for that rather than terminate() it,
  // which tearing down an isolate that holds addon-backed SharedArrayBuffers made crash at exit.
  await exited;
  port.close();
  const drops = st1.device.kernelDrops - st0.device.kernelDrops + st1.queues[0].ringFullDrops - st0.queues[0].ringFullDrops;
  return { pps: res.packets / (Number(t1 - t0) / 1e9), drops, sentPps: s.sent / s.seconds, describe: port.description };
}

/** The sender at a set rate for `seconds`, from the namespace side; resolves with what it sent. */
async function replayPaced(pair: VethPair, pcap: string, pps: number, seconds: number): Promise<{ sent: number; seconds: number }> {
  if (ladderSenderKind === 'trafgen') return trafgenInNs(pair, pps, Math.max(1, Math.round(pps * seconds)), seconds);
  const res = await replayInNs(pair, pcap, [`--pps=${Math.round(pps)}`, '--loop=0', `--limit=${Math.max(1, Math.round(pps * seconds))}`], (seconds * 20 + 10) * 1000, true);
  const m = /Actual: (\d+) packets \(\d+ bytes\) sent in ([\d.]+) seconds/.exec(res.stdout);
  return { sent: m ? Number(m[1]) : sentPackets(res.stdout), seconds: m ? Number(m[2]) : seconds };
}

type Counter = { begin(): Promise<void>; end(): Promise<number>; describe?: string };

/** One receiver counting everything from begin() to end(): dgram, cap (child process) or one of ours. */
async function openCounter(kind: string, options: PortOptions | undefined, pair: VethPair, port: number, wordOffset: number): Promise<Counter | { missing: string }> {
  if (kind === 'dgram') {
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => sock.bind(port, pair.hostIp, () => r()));
    let packets = 0, counting = false, sink = 0;
    sock.on('message', (msg: Buffer) => { if (counting) { packets++; sink += msg.readUInt32BE(0); } });
    return { begin: async () => { counting = true; }, end: async () => { counting = false; sock.close(); if (sink === -1) console.log(sink); return packets; } };
  }
  if (kind === 'cap') {
    const child = spawn(process.execPath, [path.join(__dirname, 'lib', 'cap-receiver.js'), pair.hostIf, `udp and dst port ${port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let waiting: ((line: string) => void) | undefined;
    readline.createInterface({ input: child.stdout! }).on('line', (l) => { if (waiting) { const w = waiting; waiting = undefined; w(l); } else lines.push(l); });
    const nextLine = (): Promise<string> => new Promise((resolve, reject) => {
      if (lines.length) { resolve(lines.shift()!); return; }
      waiting = resolve;
      child.once('exit', (code, signal) => reject(new Error(`cap-receiver exited (${signal ?? code}) before answering`)));
    });
    const first = await nextLine();
    if (first !== 'ready') { child.kill('SIGKILL'); return { missing: (JSON.parse(first) as { missing: string }).missing }; }
    return {
      begin: async () => { child.stdin!.write('start\n'); await sleep(50); },
      end: async () => {
        child.stdin!.write('stop\n');
        const r = JSON.parse(await nextLine()) as { packets: number };
        if (child.exitCode === null) child.kill('SIGKILL');
        return r.packets;
      },
    };
  }
  const p = Port.open({ ...options!, poller: 'inline', burst: 64 });
  const control = new SharedArrayBuffer(4);
  const ctl = new Int32Array(control);
  const worker = new Worker(path.join(__dirname, 'rx-worker.js'), { workerData: { transfer: p.rxTransfer(0), cpu: -1, control, wordOffset } });
  const done = new Promise<{ packets: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  return {
    describe: p.description,
    begin: async () => { await sleep(100); Atomics.store(ctl, 0, 1); await sleep(20); },
    end: async () => { Atomics.store(ctl, 0, 2); const r = await done; await exited; p.close(); return r.packets; },
  };
}

/** The paced ladder into one receiver; stops at the first step that lost packets. */
async function ladder(kind: string, options: PortOptions | undefined, pair: VethPair, pcap: string, port: number, wordOffset: number, rates: number[], stepSeconds: number): Promise<{ steps: LadderStep[]; lossless: number; senderLimited: boolean } | { missing: string }> {
  const steps: LadderStep[] = [];
  let lossless = 0;
  for (const rate of rates) {
    const c = await openCounter(kind, options, pair, port, wordOffset);
    if ('missing' in c) return c;
    await c.begin();
    const s = await replayPaced(pair, pcap, rate, stepSeconds);
    await sleep(300);
    const received = await c.end();
    const sentPps = Math.round(s.sent / s.seconds);
    const step = { offered_pps: rate, sent: s.sent, sent_pps: sentPps, received, lost: Math.max(0, s.sent - received), sender_limited: !(sentPps >= 0.9 * rate) };
    steps.push(step);
    if (step.lost > 0 || !(s.sent > 0)) break;
    lossless = Math.max(lossless, step.sent_pps); // a sender-limited last step may have achieved less than the one before
    if (step.sender_limited) break; // the sender cannot go higher
  }
  return { steps, lossless, senderLimited: steps.length > 0 && steps[steps.length - 1].sender_limited && steps[steps.length - 1].lost === 0 };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const seconds = Math.max(1, Number(arg('seconds', '3')));
  const backends = arg('backends', 'af_xdp,af_packet,udp').split(',');
  const ratesArg = arg('rates', '25k,50k,100k,200k,400k,800k');
  const rates = ratesArg === 'none' ? [] : ratesArg.split(',').map(parseRate);
  const stepSeconds = Math.max(0.5, Number(arg('step-seconds', '1.5')));
  const asked = arg('sender', haveTool('trafgen') ? 'trafgen' : 'tcpreplay');
  if (asked !== 'trafgen' && asked !== 'tcpreplay') {
    console.error(`rx-kernel: --sender ${asked}: expected trafgen or tcpreplay`);
    process.exit(2);
  }
  senderKind = asked;
  const askedLadder = arg('ladder-sender', 'tcpreplay');
  if (askedLadder !== 'trafgen' && askedLadder !== 'tcpreplay') {
    console.error(`rx-kernel: --ladder-sender ${askedLadder}: expected trafgen or tcpreplay`);
    process.exit(2);
  }
  ladderSenderKind = askedLadder;
  const missing = [...new Set([senderKind, ...(rates.length ? [ladderSenderKind] : [])])].find((t) => !haveTool(t));
  const reason = netnsUnavailableReason() ?? (missing ? `needs ${missing} (apt-get install ${missing === 'trafgen' ? 'netsniff-ng' : 'tcpreplay'})` : null);
  if (reason) {
    console.error(`rx-kernel: ${reason}`);
    process.exit(2);
  }
  const pair = createVethPair();
  activePair = pair;
  const results: Result[] = [];
  try {
    const port = 47000 + Math.floor(Math.random() * 1000);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) frames.push(udpFrame(pair.nsMac, pair.hostMac, pair.nsIp, pair.hostIp, 40000, port, seqPayload(i, 18)));
    const pcap = path.join(pair.tmpDir, 'rx-kernel-64.pcap');
    writePcap(pcap, frames);
    trafgenConfig = path.join(pair.tmpDir, 'rx-kernel-64.trafgen');
    writeTrafgenConfig(trafgenConfig, frames);
    const capBase = await runCap(pair, pcap, port, seconds);
    const baseLadders: Record<string, { steps: LadderStep[]; lossless: number; senderLimited: boolean } | { missing: string }> = {};
    if (rates.length) for (const kind of ['dgram', 'cap']) baseLadders[kind] = await ladder(kind, undefined, pair, pcap, port, 0, rates, stepSeconds);
    const losslessOf = (l: { steps: LadderStep[]; lossless: number } | { missing: string } | undefined) => (l && !('missing' in l) ? l.lossless : undefined);
    const limitedOf = (l: { senderLimited: boolean } | { missing: string } | undefined) => (l && !('missing' in l) ? l.senderLimited : undefined);
    for (const name of backends) {
      const options: PortOptions =
        name === 'udp' ? { backend: 'udp', udp: { bind: pair.hostIp, port, rcvbuf: 4 << 20 } }
          : name === 'af_packet' ? { backend: 'af_packet', afPacket: { interface: pair.hostIf, blockSize: 1 << 20, blockCount: 16 } }
            : { backend: 'af_xdp', afXdp: { interface: pair.hostIf, queue: 0, frames: 4096 } };
      const base = await runDgram(pair, pcap, port, seconds);
      const r = await runBackend(options, pair, pcap, seconds, name === 'udp' ? 0 : 42);
      const ours = rates.length ? await ladder(name, options, pair, pcap, port, name === 'udp' ? 0 : 42, rates, stepSeconds) : undefined;
      const ladders: Record<string, LadderStep[]> = {};
      for (const [k, l] of Object.entries({ [name]: ours, ...baseLadders })) if (l && !('missing' in l)) ladders[k] = l.steps;
      const res: Result = {
        backend: name, sender: senderKind, ladder_sender: rates.length ? ladderSenderKind : undefined, pps: Math.round(r.pps), baseline: 'node-dgram', baseline_pps: Math.round(base.pps),
        ratio: Number((r.pps / base.pps).toFixed(2)), drops: r.drops, baseline_drops: base.drops,
        sent_pps: Math.round(r.sentPps), baseline_sent_pps: Math.round(base.sentPps), describe: r.describe,
        ...(rates.length ? {
          lossless_pps: losslessOf(ours), baseline_lossless_pps: losslessOf(baseLadders.dgram), cap_lossless_pps: losslessOf(baseLadders.cap), ladder: ladders,
          // true: the receiver lost nothing at the sender's top paced rate; its own limit is higher than shown
          lossless_sender_limited: limitedOf(ours), baseline_lossless_sender_limited: limitedOf(baseLadders.dgram), cap_lossless_sender_limited: limitedOf(baseLadders.cap),
        } : {}),
        ...('missing' in capBase ? { cap_missing: capBase.missing }
          : { cap_pps: Math.round(capBase.pps), ratio_cap: Number((r.pps / capBase.pps).toFixed(2)) }),
      };
      results.push(res);
      if (!json || process.stderr.isTTY) {
        console.log(`${name.padEnd(10)} ${res.pps.toLocaleString().padStart(12)} pps   node-dgram ${res.baseline_pps.toLocaleString().padStart(10)} pps   x${res.ratio}   cap ${res.cap_pps !== undefined ? `${res.cap_pps.toLocaleString()} pps x${res.ratio_cap}` : `missing (${res.cap_missing})`}   drops ${res.drops} (dgram ${res.baseline_drops})   sender ${res.sent_pps.toLocaleString()} / ${res.baseline_sent_pps.toLocaleString()} pps   [${res.describe}]${rates.length ? `   lossless paced: ours ${res.lossless_pps} dgram ${res.baseline_lossless_pps} cap ${res.cap_lossless_pps} pps` : ''}`);
      }
    }
  } finally {
    destroyVethPair(pair);
  }
  if (json) console.log(JSON.stringify({ results }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
