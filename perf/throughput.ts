/**
 * perf:throughput: the largest sustained market-data message rate through RX, decode, books and
 * conflation with zero loss.
 *
 * Headline (lossless source at top speed): the pcap backend replays a generated ITCH session
 * (SessionGenerator) `pace: 'fast'` and waits for the consumer when the ring is full, so nothing
 * can be lost and the rate it reaches is the pipeline's ceiling. The backend is 'pcap', not dpdk:
 * dpdk vdevs here either replay as fast as polled and drop at a full ring (net_pcap) or need a JS
 * sender sharing the two CPUs (net_ring).
 * Also measured: the same capture through dpdk net_pcap (rx_pcap=the capture) into the same
 * pipeline at top speed: the rate the pipeline drained and the loss at the ring.
 * Baseline, same run: dpdk-testpmd --forward-mode=rxonly on net_pcap over the same capture.
 *
 * The sample strategy runs (it is fused with the book) but sends no orders (maxOrders 0): the
 * order path is perf:latency's subject, and its cost would hide the market-data ceiling.
 */
import { BenchArgs } from './lib/args';
import { dpdkUnavailable, nowNs, sleep, tmpDir } from './lib/machine';
import { dpdkPortOptions, loadBenchConfigs, pcapPortOptions, startPipeline, waitForDrain } from './lib/pipeline-harness';
import { RingMonitor } from './lib/ring-monitor';
import { generateSession, SessionCapture } from './lib/session-capture';
import { testpmdRxOnly } from './lib/testpmd';
import { fmtRate, report, Row } from './report';

const args = new BenchArgs();
const messages = args.number('messages', 2e6, 1000);
const seconds = args.number('seconds', 2, 0.1);
const symbols = args.number('symbols', 100, 1);
// Spin by default: a latency/throughput figure with the stage parked on a back-off timer measures the
// timer. (The shipped performance.yml uses backoff so an idle 2-core box stays usable.) --idle to change.
const idle = (args.string('idle') ?? 'spin') as 'spin' | 'yield' | 'backoff';
const log = args.has('verbose') ? (l: string) => console.error(l) : undefined;
const noOrders = { maxOrders: 0 };

interface RunResult { msgs_per_s: number; packets_per_s: number; loss: number; messages: number; packets: number; drops: number; seconds: number; complete: boolean }

/** pcap backend, pace fast, holds when the ring is full: time from RX start to the end of the file. */
async function lossless(cap: SessionCapture): Promise<RunResult> {
  const { performance: perf } = loadBenchConfigs({ idle });
  const p = await startPipeline(pcapPortOptions(perf, cap.file, { pace: 'fast', loops: 1 }), { idle, log, strategyParams: noOrders });
  const t0 = nowNs();
  let t1 = 0;
  const deadline = Date.now() + 600_000;
  while (!p.sourceDone && Date.now() < deadline) await sleep(1);
  t1 = nowNs();
  const st = await p.stop();
  const c = st.counters, s = (t1 - t0) / 1e9;
  return {
    msgs_per_s: c.itch_messages / s, packets_per_s: c.rx_packets / s, loss: 1 - c.itch_messages / cap.messages,
    messages: c.itch_messages, packets: c.rx_packets, drops: c.rx_ring_drops, seconds: s, complete: c.itch_messages === cap.messages,
  };
}

/** dpdk net_pcap over the same file, as fast as the RX lcore polls: drained rate and ring loss. */
async function dpdkTopSpeed(cap: SessionCapture): Promise<RunResult> {
  const { performance: perf } = loadBenchConfigs({ idle });
  const p = await startPipeline(dpdkPortOptions(perf, `net_pcap_tput,rx_pcap=${cap.file}`), { idle, log, strategyParams: noOrders });
  const monitor = new RingMonitor(p.port.rxTransfer(0).ring);
  const t0 = nowNs();
  const complete = await waitForDrain(monitor, cap.packets, 600_000);
  const t1 = nowNs();
  const st = await p.stop();
  const c = st.counters, s = (t1 - t0) / 1e9;
  const offered = c.rx_packets + c.rx_ring_drops;
  return {
    msgs_per_s: c.itch_messages / s, packets_per_s: c.rx_packets / s, loss: offered ? c.rx_ring_drops / offered : 0,
    messages: c.itch_messages, packets: c.rx_packets, drops: c.rx_ring_drops, seconds: s, complete,
  };
}

async function main(): Promise<void> {
  const dir = tmpDir('tp-perf-tput-');
  // Generated at 10 M msgs/s of capture time so packets are as full as the generator makes them.
  const cap = generateSession(dir, { rate: 10e6, seconds: messages / 10e6, symbols });
  const ours = await lossless(cap);
  const why = dpdkUnavailable();
  const dpdk = why ? { error: why } : await dpdkTopSpeed(cap);
  const base = why ? { error: why } : await testpmdRxOnly(cap.file, cap.packets, seconds);
  const bpps = 'pps' in base ? base.pps : NaN;
  const bmsgs = bpps * cap.messagesPerPacket;
  const result = {
    msgs_per_s: Math.round(ours.msgs_per_s), packets_per_s: Math.round(ours.packets_per_s), loss: ours.loss, backend: 'pcap',
    source: 'pcap backend, pace fast, waits for the consumer (lossless)', complete: ours.complete, messages: ours.messages, seconds: ours.seconds,
    baseline: 'dpdk-testpmd rxonly, net_pcap infinite_rx over the same capture',
    baseline_msgs_per_s: Math.round(bmsgs), baseline_packets_per_s: Math.round(bpps), ratio: Number((ours.msgs_per_s / bmsgs).toFixed(4)),
    baseline_error: 'error' in base ? base.error : undefined,
    dpdk: 'error' in dpdk ? dpdk : { ...dpdk, msgs_per_s: Math.round(dpdk.msgs_per_s), packets_per_s: Math.round(dpdk.packets_per_s), backend: 'dpdk net_pcap (top speed, drops at a full ring)' },
    capture: { messages: cap.messages, packets: cap.packets, messages_per_packet: Number(cap.messagesPerPacket.toFixed(2)), symbols },
    target_msgs_per_s: 10e6,
  };
  const rows: Row[] = [
    { label: 'RX+decode+books+conflation, lossless pcap source', ours: `${fmtRate(ours.msgs_per_s)} msgs (${fmtRate(ours.packets_per_s)} pkts)`, baseline: `${fmtRate(bmsgs)} msgs (${fmtRate(bpps)} pkts) testpmd rxonly`, ratio: ours.msgs_per_s / bmsgs, note: `loss ${ours.loss}; target > 10 M msgs/s` },
  ];
  if ('error' in dpdk) rows.push({ label: 'same, dpdk net_pcap top speed', ours: 'n/a', baseline: '', note: dpdk.error });
  else rows.push({ label: 'same, dpdk net_pcap top speed', ours: `${fmtRate(dpdk.msgs_per_s)} msgs drained`, baseline: `${fmtRate(bmsgs)} msgs testpmd`, ratio: dpdk.msgs_per_s / bmsgs, note: `loss ${(dpdk.loss * 100).toFixed(2)}% at the ring` });
  report('throughput', rows, result);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
