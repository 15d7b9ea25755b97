/**
 * `tickpath run`: the main job. With no arguments it runs the bundled default: the real NASDAQ
 * ITCH capture shipped in test/fixtures, looped through the best backend this machine has (dpdk
 * net_pcap when DPDK and hugepages are there, else the pcap backend), decoded in a worker, with a
 * one-line status every second and final stats on exit (SIGINT/SIGTERM stop it cleanly, exit 0).
 */
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { Worker } from 'worker_threads';
import { Port, PortOptions, warmUpThreadPool } from '../lib/binding';
import { kStatAddOrders, kStatBadFrames, kStatBytes, kStatCount, kStatDone, kStatMessages, kStatPackets } from './run-stats';

export const summary = 'run the feed handler (default: bundled ITCH capture through the best backend)';

export const kBundledCapture = path.join(__dirname, '..', '..', 'test', 'fixtures', 'itch', 'Nasdaq.Equities.TotalView.Itch.v5.0', 'Multiple.Packets.pcap');

const kHelp = `Usage: tickpath run [options]

  --backend NAME   auto (default) | dpdk | pcap
  --pcap FILE      capture to replay (default: the bundled NASDAQ ITCH 5.0 capture)
  --loops N        replay loops, 0 = until stopped (default 0)
  --duration S     stop after S seconds (default 10; 0 = until SIGINT)
  --json           print the final stats as one JSON object on the last line

Prints a status line every second: packets/s, ITCH messages/s, drops. SIGINT or SIGTERM
stops RX, drains the ring and prints final stats, exit code 0.`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'auto' }, pcap: { type: 'string' }, loops: { type: 'string', default: '0' },
      duration: { type: 'string', default: '10' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(kHelp);
    return 0;
  }
  const file = path.resolve(values.pcap ?? kBundledCapture);
  const loops = Number(values.loops);
  const duration = Number(values.duration);
  if (!Number.isInteger(loops) || loops < 0) throw new Error(`--loops is '${values.loops}', expected a whole number >= 0`);
  if (!(duration >= 0)) throw new Error(`--duration is '${values.duration}', expected seconds >= 0`);
  if (!['auto', 'dpdk', 'pcap'].includes(values.backend!)) throw new Error(`--backend is '${values.backend}', expected auto, dpdk or pcap (live backends run from configs in a later release)`);

  await warmUpThreadPool();
  const cpus = os.cpus().length;
  const options: PortOptions = {
    backend: values.backend as PortOptions['backend'],
    idle: 'backoff',
    // dpdk: net_pcap replays the file from memory; infinite_rx loops it for as long as we run.
    dpdk: { vdev: `net_pcap_run0,rx_pcap=${file}${loops === 0 ? ',infinite_rx=1' : ''}`, rxCpus: [cpus - 1] },
    pcap: { file, loops },
  };
  const port = Port.open(options, (line) => console.log(line));
  const stats = new SharedArrayBuffer(kStatCount * 8);
  const control = new SharedArrayBuffer(4);
  const worker = new Worker(path.join(__dirname, 'run-worker.js'), { workerData: { transfer: port.rxTransfer(0), stats, control } });
  const done = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  port.start();

  const s = new Float64Array(stats);
  const t0 = process.hrtime.bigint();
  let last = [0, 0, 0];
  let seconds = 0;
  const tick = setInterval(() => {
    seconds++;
    const q = port.stats().queues[0];
    const now = [s[kStatPackets], s[kStatMessages], s[kStatBytes]];
    console.log(`[${String(seconds).padStart(3)}s] ${port.backend}: ${fmt(now[0] - last[0])} pkts/s, ${fmt(now[1] - last[1])} ITCH msgs/s, ` +
      `${fmt((now[2] - last[2]) * 8 / 1e6)} Mb/s, total ${fmt(now[0])} pkts, ring drops ${q.ringFullDrops}`);
    last = now;
    if (duration > 0 && seconds >= duration) stop();
  }, 1000);

  let stopping = false;
  function stop(): void {
    if (stopping) return;
    stopping = true;
    clearInterval(tick);
    port.stop();
    Atomics.store(new Int32Array(control), 0, 1);
  }
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await done;
  stop();
  await worker.terminate();
  const q = port.stats().queues[0];
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  port.close();
  const final = {
    backend: port.backend, seconds: Number(secs.toFixed(3)), packets: s[kStatPackets], itch_messages: s[kStatMessages],
    add_orders: s[kStatAddOrders], bad_frames: s[kStatBadFrames], ring_drops: q.ringFullDrops, rx_packets: q.rxPackets,
    packets_per_s: Math.round(s[kStatPackets] / secs), messages_per_s: Math.round(s[kStatMessages] / secs), finished: s[kStatDone] === 1,
  };
  console.log(`final: ${fmt(final.packets)} packets, ${fmt(final.itch_messages)} ITCH messages in ${final.seconds} s ` +
    `(${fmt(final.packets_per_s)} pkts/s, ${fmt(final.messages_per_s)} msgs/s), ring drops ${final.ring_drops}, bad frames ${final.bad_frames}`);
  if (values.json) console.log(JSON.stringify(final));
  process.removeListener('SIGINT', stop);
  process.removeListener('SIGTERM', stop);
  return 0;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));
}
