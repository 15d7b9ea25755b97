/**
 * Network namespaces and veth pairs for kernel-backend tests (af_packet, af_xdp, udp), plus the
 * frames they send. Everything created here is named `tp` + a random suffix and lives only on the
 * veth pair it creates: one end (`hostIf`) in this process's namespace, the other (`nsIf`) in a new
 * namespace `ns`. Addresses are link-local 169.254.x.y/30; IPv6 is off on both ends so the only
 * frames on the wire are the ones a test sends, and counts can be exact.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface VethPair {
  ns: string;
  hostIf: string;
  nsIf: string;
  hostMac: Uint8Array;
  nsMac: Uint8Array;
  hostIp: string;
  nsIp: string;
  tmpDir: string;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function macOf(ns: string | null, ifname: string): Uint8Array {
  const args = ns ? ['netns', 'exec', ns, 'cat', `/sys/class/net/${ifname}/address`] : [];
  const text = ns
    ? execFileSync('ip', args, { encoding: 'utf8' })
    : fs.readFileSync(`/sys/class/net/${ifname}/address`, 'utf8');
  return Uint8Array.from(text.trim().split(':').map((h) => parseInt(h, 16)));
}

/** Why veth/netns tests cannot run here, or null when they can. */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root to create network namespaces and veth pairs';
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.status !== 0) return 'needs iproute2 (`ip`): apt-get install iproute2';
  return null;
}

/** Why tests that replay a pcap out of a veth pair's namespace end cannot run here, or null. */
export function replayUnavailableReason(): string | null {
  return netnsUnavailableReason() ?? (haveTool('tcpreplay') ? null : 'needs tcpreplay (apt-get install tcpreplay)');
}

/** Skips (this.skip()) with a reason, or fails when CI requires this backend to be exercised. */
export function requireOrSkip(ctx: Mocha.Context, backend: string, reason: string): never {
  const required = (process.env.TICKPATH_REQUIRE_BACKENDS ?? '').split(',').map((s) => s.trim());
  if (required.includes(backend)) throw new Error(`backend '${backend}' is required (TICKPATH_REQUIRE_BACKENDS) but cannot be exercised: ${reason}`);
  ctx.skip();
  throw new Error('unreachable');
}

/**
 * Until the kernel's link watch has seen the carrier (it runs from a workqueue, rate-limited to once
 * a second and later under load), a veth end that is "up" keeps the noop qdisc, which drops every
 * frame sent to it, so a test that transmits at once could lose its first frames. Wait for
 * operstate UP and a real qdisc, at most 10 s.
 */
function waitLinkReady(ns: string | null, dev: string): void {
  const until = Date.now() + 10_000;
  let last = '';
  for (;;) {
    const args = ns ? ['netns', 'exec', ns, 'ip', '-j', 'link', 'show', 'dev', dev] : ['-j', 'link', 'show', 'dev', dev];
    const j = JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as { operstate: string; qdisc: string }[];
    last = `operstate ${j[0].operstate}, qdisc ${j[0].qdisc}`;
    if (j[0].operstate === 'UP' && j[0].qdisc !== 'noop') return;
    if (Date.now() > until) throw new Error(`veth ${dev}${ns ? ` in ${ns}` : ''} not ready after 10 s (${last})`);
    execFileSync('sleep', ['0.02']);
  }
}

/** `tag` (at most 4 characters) goes into every name, so a test's namespaces and links say whose they are. */
export function createVethPair(tag = ''): VethPair {
  const suffix = `${tag.slice(0, 4)}${crypto.randomBytes(3).toString('hex')}`;
  const ns = `tp${suffix}`;
  const hostIf = `tpa${suffix}`;
  const nsIf = `tpb${suffix}`;
  // 169.254.X.(4k+1)/30: random /30 inside link-local, avoiding 169.254.169.x (cloud metadata).
  let x = 1 + crypto.randomInt(253);
  if (x === 169) x = 170;
  const k = crypto.randomInt(63);
  const hostIp = `169.254.${x}.${4 * k + 1}`;
  const nsIp = `169.254.${x}.${4 * k + 2}`;
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `${ns}-`));
  const pair: VethPair = { ns, hostIf, nsIf, hostMac: new Uint8Array(6), nsMac: new Uint8Array(6), hostIp, nsIp, tmpDir };
  try {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    run('ip', ['link', 'set', nsIf, 'netns', ns]);
    // No IPv6 and no link-local autoconfiguration: nothing but the test's own frames on the wire.
    run('ip', ['link', 'set', 'dev', hostIf, 'addrgenmode', 'none']);
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'dev', nsIf, 'addrgenmode', 'none']);
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${hostIf}/disable_ipv6`, '1');
    run('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${nsIf}/disable_ipv6`]);
    run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf]);
    run('ip', ['link', 'set', hostIf, 'up']);
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up']);
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    pair.hostMac = macOf(null, hostIf);
    pair.nsMac = macOf(ns, nsIf);
    // Static neighbours: no ARP on the wire either.
    run('ip', ['neigh', 'replace', nsIp, 'lladdr', macString(pair.nsMac), 'dev', hostIf, 'nud', 'permanent']);
    run('ip', ['netns', 'exec', ns, 'ip', 'neigh', 'replace', hostIp, 'lladdr', macString(pair.hostMac), 'dev', nsIf, 'nud', 'permanent']);
    waitLinkReady(null, hostIf);
    waitLinkReady(ns, nsIf);
  } catch (e) {
    destroyVethPair(pair);
    throw e;
  }
  return pair;
}

/** Removes the namespace (which removes both veth ends) and the temp dir. Safe to call twice. */
export function destroyVethPair(pair: VethPair | undefined): void {
  if (!pair) return;
  spawnSync('ip', ['link', 'del', pair.hostIf], { stdio: 'ignore', timeout: 10_000 });
  spawnSync('ip', ['netns', 'del', pair.ns], { stdio: 'ignore', timeout: 10_000 });
  fs.rmSync(pair.tmpDir, { recursive: true, force: true });
}

/** Frames that reached the namespace end: its rx_packets, which nothing else moves (IPv6 and ARP are off). */
export function nsRxPackets(pair: VethPair): number {
  return nsRxStat(pair, 'rx_packets');
}

/** A receive counter of the namespace end (rx_packets, rx_bytes, ...). */
export function nsRxStat(pair: VethPair, stat: 'rx_packets' | 'rx_bytes'): number {
  return Number(execFileSync('ip', ['netns', 'exec', pair.ns, 'cat', `/sys/class/net/${pair.nsIf}/statistics/${stat}`], { encoding: 'utf8' }).trim());
}

export function macString(m: Uint8Array): string {
  return Array.from(m, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** Ethernet + IPv4 + UDP frame, IP checksum filled in, UDP checksum 0 (allowed over IPv4). */
export function udpFrame(srcMac: Uint8Array, dstMac: Uint8Array, srcIp: string, dstIp: string, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payload.length);
  const dv = new DataView(f.buffer);
  f.set(dstMac, 0);
  f.set(srcMac, 6);
  dv.setUint16(12, 0x0800);
  f[14] = 0x45;
  dv.setUint16(16, 20 + 8 + payload.length);
  dv.setUint16(18, 0);
  dv.setUint16(20, 0x4000); // don't fragment
  f[22] = 64;
  f[23] = 17;
  f.set(ipBytes(srcIp), 26);
  f.set(ipBytes(dstIp), 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += dv.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(24, ~sum & 0xffff);
  dv.setUint16(34, srcPort);
  dv.setUint16(36, dstPort);
  dv.setUint16(38, 8 + payload.length);
  f.set(payload, 42);
  return f;
}

/** Multicast MAC for an IPv4 group: 01:00:5e + low 23 bits. */
export function multicastMac(group: string): Uint8Array {
  const b = ipBytes(group);
  return Uint8Array.from([0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]]);
}

/** Payload carrying a sequence number in its first 4 bytes (big endian), then a fixed pattern. */
export function seqPayload(seq: number, len: number): Uint8Array {
  const p = new Uint8Array(len);
  new DataView(p.buffer).setUint32(0, seq);
  for (let i = 4; i < len; i++) p[i] = (seq + i) & 0xff;
  return p;
}

/** Writes frames as a classic microsecond pcap (Ethernet). */
export function writePcap(file: string, frames: Uint8Array[]): void {
  const size = 24 + frames.reduce((a, f) => a + 16 + f.length, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(1, 20);
  let off = 24;
  frames.forEach((f, i) => {
    out.writeUInt32LE(1_700_000_000, off);
    out.writeUInt32LE(i, off + 4);
    out.writeUInt32LE(f.length, off + 8);
    out.writeUInt32LE(f.length, off + 12);
    out.set(f, off + 16);
    off += 16 + f.length;
  });
  fs.writeFileSync(file, out);
}

export interface SequencedReplay {
  frames: Uint8Array[];
  pcap: string;
  /** Sum of the frames' lengths. */
  bytes: number;
}

/**
 * `count` UDP frames from the namespace end to the host end (port 40000 -> 9000), frame i carrying
 * seqPayload(i, 18 + i % 700): sizes 60..759, written to `name` in the pair's temp dir for replayInNs.
 */
export function writeSequencedReplay(pair: VethPair, name: string, count: number): SequencedReplay {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) frames.push(udpFrame(pair.nsMac, pair.hostMac, pair.nsIp, pair.hostIp, 40000, 9000, seqPayload(i, 18 + (i % 700))));
  const pcap = path.join(pair.tmpDir, name);
  writePcap(pcap, frames);
  return { frames, pcap, bytes: frames.reduce((a, f) => a + f.length, 0) };
}

/**
 * Checks frames read back from a port against a SequencedReplay: a frame is ours when it is
 * IPv4/UDP (its sequence number follows the UDP header); ours must match length and contents
 * (sampled every 97 bytes and the last), and each must be seen exactly once.
 */
export class SequencedFrameCheck {
  readonly seen: Uint8Array;
  /** Frames that are not IPv4/UDP. */
  others = 0;
  /** Ours with a wrong length, content or descriptor. */
  mismatches = 0;

  constructor(private readonly frames: readonly Uint8Array[]) {
    this.seen = new Uint8Array(frames.length);
  }

  /** Counts one received frame; true when it is ours, intact, and `descriptorOk` (flags the caller checked). */
  accept(r: Uint8Array, off: number, len: number, wire: number, descriptorOk = true): boolean {
    // Ethernet 14 + IPv4 20 + UDP 8, then our sequence number.
    if (len < 46 || r[off + 12] !== 0x08 || r[off + 13] !== 0x00 || r[off + 23] !== 17) { this.others++; return false; }
    const seq = ((r[off + 42] << 24) | (r[off + 43] << 16) | (r[off + 44] << 8) | r[off + 45]) >>> 0;
    const f = this.frames[seq];
    if (!f || f.length !== len || wire !== len || !descriptorOk) { this.mismatches++; return false; }
    for (let i = 0; i < len; i += 97) if (r[off + i] !== f[i]) { this.mismatches++; return false; }
    if (r[off + len - 1] !== f[len - 1]) { this.mismatches++; return false; }
    this.seen[seq]++;
    return true;
  }

  /** Every frame of the replay was accepted exactly once. */
  get eachOnce(): boolean {
    return this.seen.every((c) => c === 1);
  }
}

/** Replays a pcap out of the namespace end of the veth with tcpreplay. Resolves with its exit. */
export function replayInNs(pair: VethPair, pcap: string, extra: string[] = [], timeoutMs = 15_000, withStats = false): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const args = ['netns', 'exec', pair.ns, 'tcpreplay', ...(withStats ? [] : ['-q']), '-i', pair.nsIf, ...extra, pcap];
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
