/**
 * The venue simulators "on another host": a network namespace and a veth pair made for one run
 * (`tickpath run --venue-process MODE@CPU --venue-netns`, perf:latency's `venue_netns` variant),
 * so the router's send(2) to the venue leaves through a real kernel interface instead of loopback.
 *
 * Why: over loopback, send(2) runs the venue's whole TCP receive in softirq inside the sender's call
 * and, when the venue sleeps, its wakeup (an IPI: a VM exit here). perf/ref/send-variants.sh
 * measured where the time goes. veth alone changes nothing (veth_xmit hands the packet to netif_rx,
 * the sender CPU's backlog, so the receive still runs in the sender's call); what moves it off the
 * sender is the namespace side's NAPI (GRO on, and TSO off on the sending side, else veth refuses the
 * NAPI path for TCP) in threaded mode, its kthread pinned to the venue's CPU. That alone swaps the
 * softirq for a wakeup of the kthread (the IPI again); the deferral below removes that too: after a
 * poll that found packets the device keeps its notification masked for kDeferPolls more polls,
 * kFlushNs apart, run by a timer on the venue's CPU, so while orders keep coming within that window
 * veth_xmit only puts the packet in the peer's ring and the send(2) ends there, as a NIC's ends at
 * its TX queue. Cost: the venue sees a packet up to kFlushNs later (the next timer poll), and the
 * venue's CPU runs that timer poll every kFlushNs for kDeferPolls x kFlushNs after the last packet
 * (the run's last line says how long the NAPI thread ran).
 *
 * Names carry this process's pid (netns tpvenue-PID, veth tpvPIDh / tpvPIDn); addresses are a
 * 10.254.0.0/16 /30 nobody here uses. remove() deletes the namespace (which deletes the pair);
 * namespaces of runs that died without removing theirs (SIGKILL) are removed by the next create.
 *
 * Threading contract: created and removed from the run's main thread (synchronous `ip` calls).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';

import { TickpathError } from '../errors';

/**
 * The deferral's timer period on the venue's CPU: the longest a packet waits for the venue's NAPI.
 * Each timer poll is an hrtimer interrupt, a wakeup of the NAPI kthread and two context switches on
 * the venue's CPU, ~10-14 us each on this VM under load (the kthread's schedstat): at 50 us that
 * was 20-38 % of the CPU the RX lcore shares, at 200 us 8 %. 100 us: NIC-like interrupt moderation.
 */
export const kFlushNs = 100_000;
/** Timer polls with nothing new before the notification is unmasked: 1,000 x 100 us = 100 ms, longer than npm start's 20 ms between orders. */
export const kDeferPolls = 1000;

const kPrefix = 'tpvenue-';
/** The venue side's NAPI kthread's SCHED_FIFO priority (below the kernel's own threaded IRQs, 50). */
const kNapiFifoPriority = 10;

export interface VenueNetnsOptions {
  /** The venue's CPU: the namespace side's NAPI kthread is pinned there. */
  cpu: number;
  /** Tag in the names instead of this pid (tests); must be unique among runs at once. */
  tag?: string;
}

export interface VenueNetnsCounters {
  rxPackets: number; rxBytes: number; txPackets: number; txBytes: number;
  /** CPU time the venue side's NAPI kthread has used (its polls, the deferral's timer polls), ms; -1 unknown. */
  napiRunMs: number;
}

export interface VenueNetns {
  readonly name: string;
  /** The router's side of the pair, in this namespace. */
  readonly hostIf: string;
  /** The venue's side, inside `name`. */
  readonly venueIf: string;
  readonly hostAddr: string;
  readonly venueAddr: string;
  /** The venue side's NAPI kthread (pinned to the venue's CPU), -1 if none was found. */
  readonly napiPid: number;
  /** What ran: for logs. */
  readonly label: string;
  /** The venue side's interface counters, read inside the namespace. */
  counters(): VenueNetnsCounters;
  /** Deletes the namespace and the pair; safe to call twice. */
  remove(): void;
}

function ip(args: string[], what: string): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    if (err.code === 'ENOENT') {
      throw new TickpathError('ERR_VENUE_NETNS', `${what}: the ip command (iproute2) is not installed`, 'install iproute2 (apt-get install iproute2), or run without --venue-netns');
    }
    throw new TickpathError('ERR_VENUE_NETNS', `${what}: ip ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`,
      'run `tickpath doctor`; a kernel without veth or network namespaces cannot do --venue-netns, run without it');
  }
}

/** Throws unless this process may create namespaces (root); the message says how to run instead. */
export function checkVenueNetnsAllowed(uid: number | undefined = process.getuid?.()): void {
  if (uid !== 0) {
    throw new TickpathError('ERR_PERMISSION', `--venue-netns creates a network namespace and a veth pair, which needs root (running as uid ${uid ?? 'unknown'})`,
      'run it as root (sudo tickpath run ...), or drop --venue-netns to reach the venue over loopback');
  }
}

/** Deletes namespaces of earlier runs whose process is gone (a SIGKILLed run cannot remove its own). */
function removeStale(): void {
  for (const line of ip(['netns', 'list'], 'listing network namespaces').split('\n')) {
    const m = new RegExp(`^${kPrefix}(\\d+)\\b`).exec(line.trim());
    if (!m) continue;
    let alive = true;
    try { process.kill(Number(m[1]), 0); } catch (e) { alive = (e as NodeJS.ErrnoException).code === 'EPERM'; }
    if (!alive) { try { ip(['netns', 'del', `${kPrefix}${m[1]}`], 'removing a stale venue namespace'); } catch { /* raced with another run */ } }
  }
}

/** A free /30 in 10.254.0.0/16: none of its addresses on any interface here. */
function pickSubnet(seed: number): number {
  const used = ip(['-o', '-4', 'addr', 'show'], 'listing addresses');
  for (let k = 0; k < 16384; k++) {
    const i = (seed + k) % 16384;
    const base = `10.254.${i >> 6}.`;
    const lo = (i & 63) * 4;
    if (![1, 2].some((d) => used.includes(` ${base}${lo + d}/`))) return i;
  }
  throw new TickpathError('ERR_VENUE_NETNS', 'no free /30 left in 10.254.0.0/16 for the venue namespace', 'remove stale tpvenue-* namespaces (ip netns del NAME)');
}

function writeSys(ns: string, file: string, value: string | number): void {
  ip(['netns', 'exec', ns, 'sh', '-c', `echo ${value} > ${file}`], `setting ${file}`);
}

export function createVenueNetns(o: VenueNetnsOptions): VenueNetns {
  checkVenueNetnsAllowed();
  const tag = o.tag ?? String(process.pid);
  if (!/^\d{1,9}$/.test(tag)) throw new TickpathError('ERR_INVALID_OPTION', `venue namespace tag '${tag}' is not 1-9 digits`, 'leave tag unset: the pid is used');
  removeStale();
  const name = `${kPrefix}${tag}`, hostIf = `tpv${tag}h`, venueIf = `tpv${tag}n`;
  const i = pickSubnet(Number(tag));
  const base = `10.254.${i >> 6}.`, lo = (i & 63) * 4;
  const hostAddr = `${base}${lo + 1}`, venueAddr = `${base}${lo + 2}`;
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); } catch { /* already gone */ }
    try { execFileSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' }); } catch { /* went with the namespace */ }
  };
  try {
    ip(['netns', 'add', name], 'creating the venue namespace');
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', venueIf, 'netns', name], 'creating the veth pair');
    ip(['addr', 'add', `${hostAddr}/30`, 'dev', hostIf], 'addressing the router side');
    ip(['-n', name, 'addr', 'add', `${venueAddr}/30`, 'dev', venueIf], 'addressing the venue side');
    ip(['-n', name, 'link', 'set', 'lo', 'up'], 'bringing up the namespace loopback');
    ip(['-n', name, 'link', 'set', venueIf, 'up'], 'bringing up the venue side');
    ip(['link', 'set', hostIf, 'up'], 'bringing up the router side');
    // The NAPI path (see the header): TSO off on the sending side, GRO on the receiving side, threaded.
    ip(['netns', 'exec', name, 'ethtool', '-K', venueIf, 'gro', 'on'], 'turning GRO on for the venue side');
    execFileSync('ethtool', ['-K', hostIf, 'tso', 'off'], { stdio: 'ignore' });
    writeSys(name, `/sys/class/net/${venueIf}/threaded`, 1);
    writeSys(name, `/sys/class/net/${venueIf}/napi_defer_hard_irqs`, kDeferPolls);
    writeSys(name, `/sys/class/net/${venueIf}/gro_flush_timeout`, kFlushNs);
  } catch (e) {
    remove();
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TickpathError('ERR_VENUE_NETNS', 'ethtool is not installed (needed to turn TSO off and GRO on for the veth pair)', 'install ethtool, or run without --venue-netns');
    }
    throw e;
  }
  // The NAPI kthread is named napi/DEV-ID; pinned beside the venue so its polls (and the timer it
  // arms) stay off the router's CPU.
  let napiPid = -1;
  for (const pid of execFileSync('sh', ['-c', `pgrep '^napi/${venueIf}-' || true`], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    try { execFileSync('taskset', ['-pc', String(o.cpu), pid], { stdio: 'ignore' }); napiPid = Number(pid); } catch { /* exited */ }
    // SCHED_FIFO: the deferral's timer wakes it on the venue's CPU, where the venue (spinning) and
    // others run; as a CFS thread it waited for their slices (deliveries p99 4 ms in
    // send-variants.sh), as FIFO it preempts them at once, as a NIC's softirq would (p99 110 us).
    try { execFileSync('chrt', ['-f', '-p', String(kNapiFifoPriority), pid], { stdio: 'ignore' }); } catch { /* stays SCHED_OTHER: slower deliveries, same send(2) */ }
  }
  const counters = (): VenueNetnsCounters => {
    const j = JSON.parse(ip(['-n', name, '-s', '-j', 'link', 'show', venueIf], 'reading the venue side counters')) as { stats64: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } } }[];
    const s = j[0].stats64;
    let napiRunMs = -1;
    try { napiRunMs = Number(fs.readFileSync(`/proc/${napiPid}/schedstat`, 'utf8').split(' ')[0]) / 1e6; } catch { /* no kthread found */ }
    return { rxPackets: s.rx.packets, rxBytes: s.rx.bytes, txPackets: s.tx.packets, txBytes: s.tx.bytes, napiRunMs };
  };
  const label = `netns ${name}, veth ${hostIf} ${hostAddr} <-> ${venueIf} ${venueAddr}, venue side GRO + threaded NAPI on CPU ${o.cpu} (napi pid ${napiPid}, SCHED_FIFO ${kNapiFifoPriority}), notifications deferred ${kDeferPolls} x ${kFlushNs / 1000} us`;
  return { name, hostIf, venueIf, hostAddr, venueAddr, napiPid, label, counters, remove };
}
