/**
 * Regenerates the README's results table from perf/results/*.json (written by `npm run perf`), so
 * the figures in the README are the measured ones, never typed by hand. Each row shows our figure,
 * its baseline from the same run, and the seed target. `node dist/perf/results-table.js` rewrites
 * the block between the perf-table markers in README.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SplitLayoutPerCore, tenMillion } from './lib/ten-million';

const kRoot = path.join(__dirname, '..', '..');
const kStart = '<!-- perf-table:start -->';
const kEnd = '<!-- perf-table:end -->';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const n = (v: unknown, digits = 0): string => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a');
const rate = (v: unknown): string => (typeof v === 'number' ? (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(1)} k/s`) : 'n/a');
const usec = (v: unknown): string => (typeof v !== 'number' ? 'n/a' : v >= 1e9 ? `${(v / 1e9).toFixed(2)} s` : v >= 1e6 ? `${(v / 1e6).toFixed(1)} ms` : `${(v / 1000).toFixed(1)} µs`);

/** The README's words for perf/lib/ten-million.ts's arithmetic. */
function tenMillionText(per: J, shards: number): string {
  const t = tenMillion(per as SplitLayoutPerCore, shards);
  if (!t) return '';
  const s = t.strategy_per_shard;
  return `ceiling ${rate(t.ceiling_msgs_per_s)} (${t.limited_by}); with any number of shards at most ${rate(t.any_shards_ceiling_msgs_per_s)} (one ${t.any_shards_limited_by}), ` +
    `so 10 M msgs/s needs a strategy per shard (book+strategy ${rate(s.per_core_msgs_per_s)} per core): ${s.shard_workers} shard workers + 1 decoder + 1 router (${s.cores} cores)` +
    (s.decoder_short_of_10m ? `, and a decoder above this run's ${rate(per.decoder)}` : '');
}

/** perf/router-rtt's scheduler account of a round-trip run (absent in results from before it): what stole the tail. */
function stolen(v: J): string {
  const t = (x: J | undefined) => (x ? `${n(x.involuntary_switches)} involuntary switches, ${n(x.run_delay_ms, 0)} ms waiting for a CPU` : 'n/a');
  return v.sched ? `: sender ${t(v.sched.sender)}; venue ${t(v.sched.venue)} in ${n(v.sched.seconds, 1)} s (load ${n(v.sched.loadavg?.[0], 1)})` : '';
}

function rows(name: string, r: J): string[][] {
  switch (name) {
    case 'decode': return [['ITCH decode (perf:decode)', `${n(r.ns_per_msg, 1)} ns/msg (${rate(r.msgs_per_s)})`, `C reference -O2: ${n(r.ref_ns_per_msg, 1)} ns/msg`, `C/TS ${n(r.ratio, 2)}`, '≤ 20 ns, C/TS ≥ 0.25']];
    case 'book': {
      const label: Record<string, string> = { generated: 'generated session', market: 'market-like flow', day: 'day: 10 M msgs, 8,000 locates', captures: 'real NASDAQ captures (repeated)' };
      const sessions = (r.sessions ?? { generated: r }) as J;
      return Object.entries(sessions).map(([k, v]) => [`decode + full books (perf:book): ${label[k] ?? k}`,
        `${n(v.ns_per_msg, 1)} ns/msg (${rate(v.msgs_per_s)}); CPU ${n(v.cpu_ns_per_msg, 1)}`,
        `decode only: ${n(v.baseline_decode_ns_per_msg, 1)} ns/msg${v.sorted_levels_cpu_ns_per_msg !== undefined ? `; books with sorted levels (before the price ladder): CPU ${n(v.sorted_levels_cpu_ns_per_msg, 1)}, ladder/sorted ${n(v.ladder_over_sorted_cpu_per_round, 2)} per round` : ''}${v.previous_orders_cpu_ns_per_msg !== undefined ? `; previous order table: CPU ${n(v.previous_orders_cpu_ns_per_msg, 1)}, ours/previous ${n(v.over_previous_orders_cpu_per_round, 2)} per round` : ''}`,
        `${n(v.ratio, 2)}x`, `≤ 100 ns (CppTrader L3 102-120)${r.load_average ? `; load ${n(r.load_average.before, 1)}-${n(r.load_average.after, 1)} on ${r.load_average.cpus} CPUs` : ''}`]);
    }
    case 'fast': return [['FAST (MOEX X-OLR) decode + books (perf:fast)', `${n(r.ns_per_msg, 1)} ns/msg${r.clock === 'process cpu time' ? ' (CPU time)' : ''}${r.mixed_process ? ` (median ${n(r.median?.ns_per_msg, 1)}; in a process of tickpath run's paths only; beside the split rows ${n(r.mixed_process.ns_per_msg, 1)})` : ''}; decode only ${n(r.fast_decode_only_ns_per_msg, 1)}${r.multi_entry ? `; ${r.multi_entry.entries_per_msg} entries/msg: ${n(r.multi_entry.ns_per_entry, 1)} ns/entry` : ''} (interpreted, with books: ${n(r.interpreted_ns_per_msg, 1)})`, `ITCH decode + books, same updates: ${n(r.itch_books_ns_per_msg, 1)} ns/msg`, `${n(r.ratio_fast_over_itch, 2)}x ITCH`, `≤ 150 ns${r.load_average ? `; load ${n(r.load_average.before, 1)}-${n(r.load_average.after, 1)} on ${r.load_average.cpus} CPUs` : ''}`]];
    case 'ring': return [['SPSC ring between workers (perf:ring)', rate(r.records_per_s), `postMessage: ${rate(r.baseline_records_per_s)}`, `${n(r.ratio, 1)}x`, '']];
    case 'router': {
      const quiet = r.quiet_chunk_lifecycles_per_s !== undefined
        ? `; quietest tenth of chunks ${rate(r.quiet_chunk_lifecycles_per_s)}, router thread CPU ${n(r.thread_cpu_ns_per_order)} ns; load ${n(r.load_avg?.[0], 1)}` : '';
      const out = [['order lifecycles in process, send + ack + fill (perf:router)', `${rate(r.orders_per_s)} (${n(r.ns_per_order)} ns each; journal ${r.journal_fsync ?? ''} on ${r.journal_fs ?? 'disk'}${r.journal_ring ? ' through the /dev/shm ring' : ''}${quiet})`,
        `previous string-id path: ${n(r.strings_path_ns_per_order)} ns; encode only: ${n(r.baseline_ns_per_order)} ns`, r.strings_path_ns_per_order ? `${n(r.strings_path_ns_per_order / r.ns_per_order, 2)}x faster` : '', '≥ 1 M/s']];
      const lat = (r.latency ?? {}) as J;
      if (lat.send_to_encoded_ns) {
        out.push(['order send: sendOrder to encoded bytes (perf:router)', `p50 ${n(lat.send_to_encoded_ns.p50)} ns, p99 ${n(lat.send_to_encoded_ns.p99)} ns`, `encode alone: p50 ${n(lat.encode_only_ns.p50)} ns, p99 ${n(lat.encode_only_ns.p99)} ns`, '', '< 500 ns / < 2 µs']);
        out.push(['order send: sendOrder to socket write returned', `p50 ${usec(lat.send_to_kernel_ns.p50)}, p99 ${usec(lat.send_to_kernel_ns.p99)}`, 'loopback TCP, libuv write', '', '']);
      }
      const rttName: Record<string, string> = { ouch: 'OUCH to tickpath venue-sim', fix: 'FIX 4.4 to tickpath venue-sim', fix_quickfix: 'FIX 4.2 to the QuickFIX C++ acceptor', echo_node: 'a Node echo server (floor of a Node venue)',
        echo_native: 'our native echo server, no codec (floor of our transport)' };
      const rttTarget: Record<string, string> = { ouch: 'p50 ≤ 15 µs, p99 ≤ 50 µs', fix: 'p50 ≤ 25 µs', fix_quickfix: '', echo_node: '', echo_native: '' };
      for (const [proto, v] of Object.entries((r.rtt ?? {}) as J)) {
        if (v.skipped) { out.push([`order RTT over loopback: ${rttName[proto] ?? proto}`, `not measured: ${v.skipped}`, '', '', rttTarget[proto] ?? '']); continue; }
        const q = r.rtt?.fix_quickfix?.rtt_p50_ns;
        out.push([`order RTT over loopback: ${rttName[proto] ?? proto}`, `p50 ${usec(v.rtt_p50_ns)}, p99 ${usec(v.rtt_p99_ns)}${stolen(v)}`,
          proto === 'fix_quickfix' ? 'the independent peer (Philadelphia 7.7 µs p50)' : `QuickFIX acceptor p50 ${usec(q)}`, proto === 'fix_quickfix' || !q ? '' : `${n(q / v.rtt_p50_ns, 2)}x`, rttTarget[proto] ?? '']);
      }
      for (const [proto, v] of Object.entries((r.rtt_spin ?? {}) as J)) {
        if (v.skipped || v.rtt_p50_ns === undefined) continue;
        const q = r.rtt_spin?.fix_quickfix?.rtt_p50_ns;
        out.push([`order RTT over loopback, both ends spinning, pinned to CPU 0 and 1 (the isolated-core placement; p99 is the 2 shared vCPUs): ${rttName[proto] ?? proto}`, `p50 ${usec(v.rtt_p50_ns)}, p99 ${usec(v.rtt_p99_ns)}${stolen(v)}`,
          proto === 'fix_quickfix' ? 'the independent peer (Philadelphia 7.7 µs p50)' : `QuickFIX acceptor, same placement, p50 ${usec(q)}`, proto === 'fix_quickfix' || !q ? '' : `${n(q / v.rtt_p50_ns, 2)}x`, rttTarget[proto] ? `${rttTarget[proto]}; ≥ 3x QuickFIX` : '']);
      }
      return out;
    }
    case 'router-rtt-sched': {
      // perf/router-rtt-sched: the OUCH round trip per placement/scheduling variant, and what stole its tail.
      const out: string[][] = [];
      const load = `load ${n(r.load_avg_before?.[0], 1)}-${n(r.load_avg_after?.[0], 1)} on 2 CPUs`;
      for (const v of Object.values((r.variants ?? {}) as J)) {
        const base = v.baseline ? r.variants?.[v.baseline] : undefined;
        const t = (x: J | undefined) => (x ? `${n(x.involuntary_switches)} involuntary switches, ${n(x.run_delay_ms, 0)} ms waiting for a CPU` : 'n/a');
        const e = v.explained as J | null;
        const trace = e ? `; of ${n(e.trips)} trips > ${n(r.slow_us)} µs, ${n(e.overlapping_a_wait)} overlapped a CPU wait of the sender, the venue or ksoftirqd (${n(e.waited_ms, 0)} of ${n(e.slow_ms, 0)} ms), CPU held by ${((e.held_by ?? []) as J[]).slice(0, 3).map((h) => `${h.comm} ${n(h.ms, 0)} ms`).join(', ')}` : '';
        out.push([`order RTT over loopback, OUCH, ${v.what} (perf/router-rtt-sched, ${load})`,
          `p50 ${usec(v.rtt_p50_ns)}, p99 ${usec(v.rtt_p99_ns)}: sender ${t(v.sched?.sender)}, venue ${t(v.sched?.venue)} in ${n(v.sched?.seconds, 1)} s${trace}`,
          base ? `${v.baseline}, same run: p50 ${usec(base.rtt_p50_ns)}, p99 ${usec(base.rtt_p99_ns)}` : 'the baseline of the rows below it',
          base ? `p99 ${n(v.rtt_p99_ns / base.rtt_p99_ns, 2)}x ${v.baseline}'s` : '', 'p50 ≤ 15 µs, p99 ≤ 50 µs']);
      }
      return out;
    }
    case 'rx': return ((r.results ?? []) as J[]).map((x) => [`RX into a JS worker: ${x.backend} (perf:rx)${x.backend === 'dpdk' && x.worker_cpu !== undefined ? ', RX lcore + worker on CPU 0, count and length' : ''}`, rate(x.pps), `${x.baseline}: ${x.baseline_error ? `failed (${x.baseline_error})` : rate(x.baseline_pps)}${x.backend === 'dpdk' && x.burst ? ` (burst ${x.burst} both, median of ${x.rounds}, load ${n(x.loadavg_1m, 1)} on 2 CPUs)` : ''}${x.sender ? ` (${x.sender} at top speed, load ${n(x.loadavg_1m, 1)})` : ''}${x.cap_pps !== undefined ? `; cap (libpcap): ${rate(x.cap_pps)}` : x.cap_missing !== undefined ? '; cap (libpcap): missing, not built' : x.backend !== 'dpdk' ? '; cap (libpcap): not measured' : ''}`, `ratio ${n(x.ratio, 3)}${x.ratio_cap !== undefined ? `; vs cap ${n(x.ratio_cap, 2)}` : ''}`, x.backend === 'dpdk' ? '≥ 0.8 x testpmd' : x.backend === 'udp' ? '≥ 1.5x dgram' : '≥ 5x dgram'])
      .concat(((r.results ?? []) as J[]).filter((x) => x.backend === 'dpdk' && x.pps_inline_one_cpu !== undefined).flatMap((x) => [
        ['RX into a JS worker: dpdk, the worker polling the port inline (1 CPU, as testpmd)', rate(x.pps_inline_one_cpu), `testpmd-rxonly: ${rate(x.baseline_pps)}`, `ratio ${n(x.ratio_inline_one_cpu, 3)}`, '≥ 0.8 x testpmd'],
        ['RX into a JS worker: dpdk, per CPU-second the threads had (what each side did while it ran)', `inline ${rate(x.pps_inline_per_cpu_second)}; lcore + worker ${rate(x.pps_per_cpu_second)}`, `testpmd-rxonly: ${rate(x.baseline_pps_per_cpu_second)} per lcore CPU-second`, `ratio ${n(x.ratio_inline_per_cpu_second, 3)}; ${n(x.ratio_per_cpu_second, 3)}`, '≥ 0.8 x testpmd'],
      ]))
      .concat(((r.results ?? []) as J[]).filter((x) => x.lossless_pps !== undefined).map((x) => [`highest lossless paced rate: ${x.backend} (perf:rx, same load for all)`, `${rate(x.lossless_pps)}${x.lossless_sender_limited ? ' (sender-limited: ≥)' : ''}${x.loadavg_1m !== undefined ? ` (load ${n(x.loadavg_1m, 1)})` : ''}`, `dgram: ${rate(x.baseline_lossless_pps)}${x.baseline_lossless_sender_limited ? ' (≥)' : ''}; cap: ${x.cap_lossless_pps !== undefined ? rate(x.cap_lossless_pps) + (x.cap_lossless_sender_limited ? ' (≥)' : '') : 'n/a'}`, `ratio ${n(x.lossless_pps / x.baseline_lossless_pps, 2)}`, 'sender tcpreplay --pps ladder']));
    case 'throughput': {
      const pct = (v: unknown) => (typeof v === 'number' ? `${n(v * 100, 3)} %` : 'n/a');
      const out: string[][] = [];
      if (r.lossless_offered_msgs_per_s !== undefined) {
        out.push(['max offered rate with zero loss, source that drops like a NIC (perf:throughput)',
          `${rate(r.lossless_offered_msgs_per_s)} msgs offered, 0 loss over ${n(r.messages_per_trial)} msgs; loss at 1.5x (${rate(r.offered_at_1_5x)}): ${pct(r.loss_at_1_5x)} (lossy paced pcap; ${r.layout ?? '1 JS core'})`,
          `testpmd rxonly: ${rate(r.baseline_msgs_per_s)} msgs`, `ratio ${n(r.lossless_offered_msgs_per_s / r.baseline_msgs_per_s, 3)}`, '≥ 10 M msgs/s, zero loss over ≥ 10 M msgs']);
      }
      out.push(['same, source that waits for the consumer (lossless by construction)', `${rate(r.msgs_per_s)} msgs, ${rate(r.packets_per_s)} pkts, loss ${n(r.loss, 6)} (${r.backend})`, `testpmd rxonly: ${rate(r.baseline_packets_per_s)} pkts`, `ratio ${n(r.ratio, 3)}`, 'not a NIC-like source']);
      if (r.dpdk && r.dpdk.msgs_per_s !== undefined) {
        out.push(['same, dpdk net_pcap at top speed', `${rate(r.dpdk.msgs_per_s)} msgs drained, loss ${pct(r.dpdk.loss)} at the ring`, `testpmd rxonly: ${rate(r.baseline_msgs_per_s)} msgs`, '', '']);
      }
      const sl = r.shipped_layouts as J | undefined;
      if (sl && Array.isArray(sl.layouts)) {
        // The like-for-like baseline: fused with the sharded layouts' idle strategy when it was measured, else as shipped.
        const fusedAll = (sl.layouts as J[]).filter((x) => x.book_shards === 0);
        const fused = fusedAll[fusedAll.length - 1];
        for (const x of (sl.layouts as J[]).filter((l) => l.book_shards > 0)) {
          const per = x.per_core_msgs_per_s ?? {};
          const shards = x.book_shards as number;
          out.push([`split pipeline, fusion [[decoder], [book], [strategy, router]]: ${x.layout ?? `${shards} book shards`}; highest lossless offered rate, lossy paced pcap (perf:throughput; load ${n(sl.loadavg_before?.[0], 1)} on ${sl.cpus} CPUs)`,
            `${rate(x.lossless_offered_msgs_per_s)} msgs, 0 loss over ${n(sl.capture?.messages)} msgs; loss at 1.5x: ${pct(x.loss_at_1_5x)}; per core: decoder ${rate(per.decoder)}, book worker ${rate(per.book_worker)} (of its shard's messages), strategy+router ${rate(per.strategy_router)}`,
            fused ? `fused, idle ${fused.idle}, same run: ${rate(fused.lossless_offered_msgs_per_s)}; loss at 1.5x ${pct(fused.loss_at_1_5x)}; ${rate(fused.per_core_msgs_per_s?.fused_worker)} per core${fusedAll.length > 1 ? ` (as shipped, idle ${fusedAll[0].idle}: ${rate(fusedAll[0].lossless_offered_msgs_per_s)})` : ''}` : '',
            fused && fused.lossless_offered_msgs_per_s ? `ratio ${n(x.lossless_offered_msgs_per_s / fused.lossless_offered_msgs_per_s, 2)}` : '',
            tenMillionText(per, shards)]);
        }
      }
      const sb = r.sharded_books as J | undefined;
      if (sb && Array.isArray(sb.shards)) {
        out.push([`decode + books + conflation sharded by stock locate, in memory (perf:throughput; load ${n(sb.loadavg?.[0], 1)} on ${sb.cpus} CPUs)`,
          `CPU per message: book worker ${sb.shards.map((x: J) => x.worker_cpu_ns_per_msg.join('/')).join(', ')} ns (${rate(sb.book_worker_cpu_msgs_per_s)} per core); decoder fanning out ${n(sb.fanout_ceiling?.decoder_cpu_ns_per_msg, 1)} ns (${rate(sb.decoder_fanout_cpu_msgs_per_s)} per core); wall with ${sb.shards.map((x: J) => `${x.shards} worker${x.shards > 1 ? 's' : ''}: ${rate(x.msgs_per_s)}`).join(', ')}`,
          `fused on one thread: ${rate(sb.fused_cpu_msgs_per_s)} per core; wall ${rate(sb.fused?.msgs_per_s)}`, '',
          `decode + books only (no RX, strategy or router): 10 M msgs/s with ${sb.layout_for_10m?.how} (${sb.layout_for_10m?.cores} cores)`]);
      }
      return out;
    }
    case 'latency': return ((r.rates ?? []) as J[]).map((x) => {
      const stage = ((x.scheduler?.threads ?? []) as J[]).find((t) => String(t.role ?? '').startsWith('stage worker'));
      const stolen = stage ? `; stage worker waited ${n(stage.run_delay_ms, 0)} ms for a CPU (ran ${n(stage.run_ms, 0)} ms, load ${n(x.scheduler?.loadavg?.[0], 1)})` : '';
      return [`latency at ${rate(x.rate)} offered (perf:latency)`, `wire→handler p50 ${usec(x.stages?.wire_to_handler?.p50_ns)} p99 ${usec(x.stages?.wire_to_handler?.p99_ns)}; md→order p50 ${usec(x.stages?.md_to_order?.p50_ns)} p99 ${usec(x.stages?.md_to_order?.p99_ns)}${x.stages?.md_to_wire?.p50_ns !== undefined ? `; md→wire (kernel TX stamp) p50 ${usec(x.stages.md_to_wire.p50_ns)} p99 ${usec(x.stages.md_to_wire.p99_ns)}` : ''}; loss ${n((x.loss ?? 0) * 100, 2)} %${stolen}`, `bare read (no pipeline): p50 ${usec(x.baseline?.wire_to_read?.p50_ns)} p99 ${usec(x.baseline?.wire_to_read?.p99_ns)}`, '', '< 1/5 µs; < 5/10 µs'];
    });
    case 'burst': {
      const ph = (r.by_sequence?.phases ?? []) as J[];
      const pct = (v: unknown) => n((typeof v === 'number' ? v : NaN) * 100, 4);
      if (!ph.length) return [['100x burst for 100 ms (perf:burst)', `burst loss ${pct(r.burst_loss)} %, normal loss ${pct(r.normal_loss)} %`, `high water ${n(r.high_water)}`, '', '< 0.01 % / < 0.001 %']];
      return [
        [`100x burst for ${n(r.burst_ms)} ms (perf:burst), loss by sequence`, `burst ${pct(r.burst_loss)} % of ${n(ph[1]?.packets)} pkts${r.burst_offered_as_asked === false ? ` (sender reached only ${rate(r.burst_sent_msgs_per_s)})` : ''}; after ${pct(r.after_loss)} % of ${n(ph[2]?.packets)}; drained in ${n(r.drain_ms, 0)} ms; high water ${n(r.high_water)} / ${n(r.ring_capacity)}`, `bare read: burst ${pct(r.baseline?.burst_loss)} %, high water ${n(r.baseline?.high_water)}`, '', '< 0.01 %'],
        [`normal load ${rate(r.rate)} (perf:burst)`, `loss ${pct(r.normal_loss)} % of ${n(r.normal_packets)} pkts${r.normal_sample_sufficient ? '' : ' (fewer than 1 M packets)'}`, `bare read: ${pct(r.baseline?.normal_loss)} %`, '', '< 0.001 % over ≥ 1 M pkts'],
      ];
    }
    case 'failover': return [
      ['journal append streamed to a hot standby, record before the wire (perf:failover)', `${n(r.before_wire_append_ns, 1)} ns/record (+${n(r.before_wire_cost_ns, 1)}: one send(2))`,
        `no standby: ${n(r.baseline_append_ns, 1)} ns/record`, `${n(r.before_wire_ratio, 2)}x`, `load ${n(r.load_avg_1m, 1)} while measured`],
      ['journal append streamed to a hot standby, acks/fills batched per loop turn (perf:failover)', `${n(r.append_ns, 1)} ns/record (${r.streaming_cost_ns > 0 ? `+${n(r.streaming_cost_ns, 1)}` : 'no cost above the noise'})`,
        `no standby: ${n(r.baseline_append_ns, 1)} ns/record`, `${n(r.ratio, 2)}x`, `load ${n(r.load_avg_1m, 1)} while measured`],
    ];
    default: return [];
  }
}

export function renderTable(dir = path.join(kRoot, 'perf', 'results')): string {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  const order = ['rx', 'throughput', 'latency', 'burst', 'decode', 'book', 'fast', 'ring', 'router', 'router-rtt-sched', 'failover'];
  const results = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as J)
    .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  if (!results.length) return '_No results yet: run `npm run perf`._';
  const machines = [...new Set(results.map((r) => `${r.machine?.cpus} x ${r.machine?.cpu}, Node ${r.machine?.node}, kernel ${r.machine?.kernel}`))];
  const lines = [`Measured on: ${machines.join('; ')} (from perf/results/, ${results.map((r) => r.at?.slice(0, 10)).sort().pop()}).`, '',
    '| benchmark | tickpath | baseline (same run) | ratio | seed target |', '| --- | --- | --- | --- | --- |'];
  for (const r of results) for (const row of rows(r.name, r)) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export function writeReadmeTable(readme = path.join(kRoot, 'README.md')): void {
  const text = fs.readFileSync(readme, 'utf8');
  const a = text.indexOf(kStart), b = text.indexOf(kEnd);
  if (a < 0 || b < a) throw new Error(`README.md has no ${kStart} ... ${kEnd} block`);
  fs.writeFileSync(readme, `${text.slice(0, a + kStart.length)}\n${renderTable()}\n${text.slice(b)}`);
}

if (require.main === module) writeReadmeTable();
