/**
 * A packet port: one backend (dpdk, af_xdp, af_packet, udp, pcap) opened with validated options,
 * its RX/TX rings in shared memory, and the poller that fills them.
 *
 * Options are checked here, in TypeScript, with messages naming the option, the value and what was
 * expected; the native side receives a flat string map it only parses. `backend: 'auto'` tries
 * dpdk, af_xdp, af_packet, udp in that order and logs why each one it passed over was passed over.
 */
import { isMainThread } from 'worker_threads';
import { binding, NativeDeviceStats, NativeQueueStats } from './native';
import { callNative } from './errors';
import { RxConsumer, RxQueueTransfer } from './rx-consumer';
import { TxProducer, TxQueueTransfer } from './tx-producer';
import { TickpathError, invalidOption } from '../errors';
import { dpdkEalArgs, DpdkOptions } from './dpdk-args';
import type { BackoffOptions, IdleStrategyName } from '../common/idle-strategy';

export type BackendName = 'dpdk' | 'af_xdp' | 'af_packet' | 'udp' | 'pcap';
export const kBackendNames: readonly BackendName[] = ['dpdk', 'af_xdp', 'af_packet', 'udp', 'pcap'];
export const kAutoOrder: readonly BackendName[] = ['dpdk', 'af_xdp', 'af_packet', 'udp'];

export interface AfXdpOptions {
  interface: string; queue?: number; mode?: 'auto' | 'native' | 'generic';
  zeroCopy?: 'auto' | boolean; frames?: number; frameSize?: number;
}
export interface AfPacketOptions {
  interface: string; blockSize?: number; blockCount?: number; frameSize?: number;
  retireUs?: number; fanout?: number; promiscuous?: boolean;
}
export interface UdpOptions {
  port: number; bind?: string; group?: string; source?: string; interface?: string;
  /**
   * Several multicast lines (A/B, snapshot...): one socket per line, each bound to its group and
   * port; a descriptor's aux carries the line's index here (bits 8-15), RxConsumer passes it on.
   * When given, port/group/source are ignored.
   */
  lines?: { group: string; port: number; source?: string }[];
  rcvbuf?: number; busyPollUs?: number; slots?: number; slotBytes?: number; txDest?: string;
}
export interface PcapOptions {
  file: string; pace?: 'fast' | 'recorded' | number; loops?: number; allowTruncated?: boolean; txFile?: string;
  /** false: the port only transmits (txFile); `file` is not replayed on RX (default true). */
  rx?: boolean;
  /** Descriptor timestamp: 'poll' (CLOCK_MONOTONIC at replay, default) or 'file' (capture time, epoch ns). */
  timestamps?: 'poll' | 'file';
  /** Drop at a full ring like a NIC would (default false: the replay waits for the consumer). */
  lossy?: boolean;
}

export interface PortOptions {
  backend: BackendName | 'auto';
  /** 'thread': a native poller per queue (EAL lcore for dpdk); 'inline': the consumer polls. */
  poller?: 'thread' | 'inline';
  /**
   * What a native poller thread does after an empty poll (thread mode; default 'spin'), with the
   * same meaning and parameters as lib/common/idle-strategy.ts: 'yield' parks minParkMicros per
   * empty turn, 'backoff' spins maxSpins turns, parks maxYields times for minParkMicros, then
   * doubles the park up to maxParkMicros. Inline mode: the consuming worker's own strategy rules.
   */
  idle?: IdleStrategyName;
  idleOptions?: BackoffOptions;
  burst?: number;
  ringSize?: number;
  /** CPU for each queue's poller thread (non-dpdk backends; dpdk uses its lcore map). */
  rxCpus?: number[];
  txSlots?: number;
  txSlotBytes?: number;
  dpdk?: DpdkOptions;
  afXdp?: AfXdpOptions;
  afPacket?: AfPacketOptions;
  udp?: UdpOptions;
  pcap?: PcapOptions;
}

export interface PortStats { queues: NativeQueueStats[]; device: NativeDeviceStats }

const kWhere = 'port options';

function checkInt(name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidOption(kWhere, name, v, `an integer from ${min} to ${max}`);
  }
}
function checkEnum(name: string, v: unknown, allowed: readonly unknown[]): void {
  if (v !== undefined && !allowed.includes(v)) {
    throw invalidOption(kWhere, name, v, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
}
function checkNumber(name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= min || v > max) {
    throw invalidOption(kWhere, name, v, `a number in (${min}, ${max}]`);
  }
}
function checkString(name: string, v: unknown, required: boolean): void {
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || v.length === 0) throw invalidOption(kWhere, name, v, 'a non-empty string');
}

/** Validates `o` for backend `b` and flattens it into the native option map. */
export function nativeOptions(b: BackendName, o: PortOptions): Record<string, string> {
  checkEnum('poller', o.poller, ['thread', 'inline']);
  checkEnum('idle', o.idle, ['spin', 'yield', 'backoff']);
  const io = o.idleOptions ?? {};
  checkInt('idleOptions.maxSpins', io.maxSpins, 0, 1_000_000);
  checkInt('idleOptions.maxYields', io.maxYields, 0, 1_000_000);
  checkNumber('idleOptions.minParkMicros', io.minParkMicros, 0, 1_000_000);
  checkNumber('idleOptions.maxParkMicros', io.maxParkMicros, 0, 1_000_000);
  if (io.maxParkMicros !== undefined && io.maxParkMicros < (io.minParkMicros ?? 1)) {
    throw invalidOption(kWhere, 'idleOptions.maxParkMicros', io.maxParkMicros, `a number >= idleOptions.minParkMicros (${io.minParkMicros ?? 1})`);
  }
  checkInt('burst', o.burst, 1, 512);
  checkInt('ringSize', o.ringSize, 64, 1 << 22);
  checkInt('txSlots', o.txSlots, 16, 1 << 20);
  checkInt('txSlotBytes', o.txSlotBytes, 64, 65536);
  if (o.rxCpus !== undefined) {
    if (!Array.isArray(o.rxCpus) || o.rxCpus.some((c) => !Number.isInteger(c) || c < 0)) {
      throw invalidOption(kWhere, 'rxCpus', o.rxCpus, 'an array of CPU numbers');
    }
  }
  const m: Record<string, string> = {};
  const put = (k: string, v: unknown) => { if (v !== undefined) m[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v); };
  put('poller', o.poller);
  put('idle', o.idle);
  put('idle_max_spins', io.maxSpins);
  put('idle_max_yields', io.maxYields);
  // Nanoseconds: fractions of a microsecond survive the trip as integers.
  if (io.minParkMicros !== undefined) put('idle_min_park_ns', Math.max(1, Math.round(io.minParkMicros * 1000)));
  if (io.maxParkMicros !== undefined) put('idle_max_park_ns', Math.max(1, Math.round(io.maxParkMicros * 1000)));
  put('burst', o.burst);
  put('ring_size', o.ringSize);
  put('tx_slots', o.txSlots);
  put('tx_slot_bytes', o.txSlotBytes);
  if (o.rxCpus) put('rx_cpus', o.rxCpus.join(','));
  switch (b) {
    case 'dpdk': {
      const d = o.dpdk;
      if (!d || (!d.vdev && !d.port)) throw invalidOption(kWhere, 'dpdk', d, "an object with 'vdev' (e.g. \"net_null0\") or 'port' (a PCI address or port id)");
      checkString('dpdk.vdev', d.vdev, false);
      checkString('dpdk.port', d.port, false);
      checkInt('dpdk.rxQueues', d.rxQueues, 1, 64);
      checkInt('dpdk.mbufs', d.mbufs, 1023, 1 << 22);
      checkEnum('dpdk.poolLayout', d.poolLayout, ['span', 'chunks']);
      checkInt('dpdk.rxDesc', d.rxDesc, 32, 16384);
      checkInt('dpdk.txDesc', d.txDesc, 32, 16384);
      put('eal_args', dpdkEalArgs(d).join('\n'));
      put('vdev', d.vdev);
      put('port', d.port);
      put('rx_queues', d.rxQueues);
      put('mbufs', d.mbufs);
      put('pool_layout', d.poolLayout);
      put('rx_desc', d.rxDesc);
      put('tx_desc', d.txDesc);
      put('promiscuous', d.promiscuous);
      put('allmulticast', d.allmulticast);
      if (d.rxLcores) put('rx_lcores', d.rxLcores.join(','));
      break;
    }
    case 'af_xdp': {
      const x = o.afXdp;
      if (!x) throw invalidOption(kWhere, 'afXdp', x, "an object with 'interface'");
      checkString('afXdp.interface', x.interface, true);
      checkInt('afXdp.queue', x.queue, 0, 1023);
      checkEnum('afXdp.mode', x.mode, ['auto', 'native', 'generic']);
      checkEnum('afXdp.zeroCopy', x.zeroCopy, ['auto', true, false]);
      checkInt('afXdp.frames', x.frames, 64, 1 << 20);
      checkEnum('afXdp.frameSize', x.frameSize, [2048, 4096]);
      put('interface', x.interface); put('queue', x.queue); put('mode', x.mode);
      put('zero_copy', x.zeroCopy === 'auto' ? undefined : x.zeroCopy);
      put('frames', x.frames); put('frame_size', x.frameSize);
      break;
    }
    case 'af_packet': {
      const p = o.afPacket;
      if (!p) throw invalidOption(kWhere, 'afPacket', p, "an object with 'interface'");
      checkString('afPacket.interface', p.interface, true);
      checkInt('afPacket.blockSize', p.blockSize, 4096, 1 << 26);
      checkInt('afPacket.blockCount', p.blockCount, 2, 1 << 16);
      checkInt('afPacket.frameSize', p.frameSize, 128, 65536);
      checkInt('afPacket.retireUs', p.retireUs, 0, 10_000_000);
      checkInt('afPacket.fanout', p.fanout, 0, 65535);
      put('interface', p.interface); put('block_size', p.blockSize); put('block_count', p.blockCount);
      put('frame_size', p.frameSize); put('retire_us', p.retireUs); put('fanout', p.fanout); put('promiscuous', p.promiscuous);
      break;
    }
    case 'udp': {
      const u = o.udp;
      if (!u) throw invalidOption(kWhere, 'udp', u, "an object with 'port'");
      checkInt('udp.port', u.port, 0, 65535);
      checkString('udp.bind', u.bind, false);
      checkString('udp.group', u.group, false);
      checkString('udp.source', u.source, false);
      checkString('udp.interface', u.interface, false);
      checkInt('udp.rcvbuf', u.rcvbuf, 4096, 1 << 30);
      checkInt('udp.busyPollUs', u.busyPollUs, 0, 1_000_000);
      checkInt('udp.slots', u.slots, 64, 1 << 22);
      checkInt('udp.slotBytes', u.slotBytes, 64, 65536);
      checkString('udp.txDest', u.txDest, false);
      if (u.lines !== undefined) {
        if (!Array.isArray(u.lines) || u.lines.length < 1 || u.lines.length > 64) throw invalidOption(kWhere, 'udp.lines', u.lines, 'an array of 1 to 64 lines {group, port, source?}');
        u.lines.forEach((l, i) => {
          if (typeof l.group !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(l.group)) throw invalidOption(kWhere, `udp.lines[${i}].group`, l.group, 'an IPv4 multicast address');
          checkInt(`udp.lines[${i}].port`, l.port, 1, 65535);
          if (l.source !== undefined && (typeof l.source !== 'string' || !/^\d+\.\d+\.\d+\.\d+$/.test(l.source))) throw invalidOption(kWhere, `udp.lines[${i}].source`, l.source, 'an IPv4 address');
        });
        put('lines', u.lines.map((l) => `${l.group}:${l.port}${l.source ? `/${l.source}` : ''}`).join(','));
      }
      put('port', u.port); put('bind', u.bind); put('group', u.group); put('source', u.source);
      put('interface', u.interface); put('rcvbuf', u.rcvbuf); put('busy_poll_us', u.busyPollUs);
      put('slots', u.slots); put('slot_bytes', u.slotBytes); put('tx_dest', u.txDest);
      break;
    }
    case 'pcap': {
      const p = o.pcap;
      if (!p) throw invalidOption(kWhere, 'pcap', p, "an object with 'file'");
      checkString('pcap.file', p.file, true);
      if (p.pace !== undefined && p.pace !== 'fast' && p.pace !== 'recorded' && !(typeof p.pace === 'number' && p.pace > 0)) {
        throw invalidOption(kWhere, 'pcap.pace', p.pace, "'fast', 'recorded' or a positive speed multiple");
      }
      checkInt('pcap.loops', p.loops, 0, 1 << 30);
      checkEnum('pcap.timestamps', p.timestamps, ['poll', 'file']);
      put('file', p.file); put('pace', p.pace); put('loops', p.loops);
      put('allow_truncated', p.allowTruncated); put('tx_file', p.txFile); put('timestamps', p.timestamps); put('lossy', p.lossy);
      put('rx', p.rx);
      break;
    }
  }
  return m;
}

/** Why a backend cannot even be tried with these options (auto mode), or undefined if it can. */
function notConfigured(b: BackendName, o: PortOptions): string | undefined {
  switch (b) {
    case 'dpdk': return o.dpdk && (o.dpdk.vdev || o.dpdk.port) ? undefined : 'no dpdk.vdev or dpdk.port configured';
    case 'af_xdp': return o.afXdp?.interface ? undefined : 'no afXdp.interface configured';
    case 'af_packet': return o.afPacket?.interface ? undefined : 'no afPacket.interface configured';
    case 'udp': return o.udp ? undefined : 'no udp.port configured';
    case 'pcap': return o.pcap?.file ? undefined : 'no pcap.file configured';
  }
}

let exitHookInstalled = false;

export class Port {
  readonly id: number;
  readonly backend: BackendName;
  readonly queues: number;
  readonly description: string;
  readonly inline: boolean;
  private closed = false;

  /** udp with several lines: each line's group and port, by the index its descriptors carry. */
  readonly lines: { group: string; port: number }[] | undefined;

  private constructor(id: number, backend: BackendName, inline: boolean, lines?: { group: string; port: number }[]) {
    this.id = id;
    this.lines = lines?.map((l) => ({ group: l.group, port: l.port }));
    this.backend = backend;
    this.inline = inline;
    this.queues = binding().portQueues(id);
    this.description = binding().portDescribe(id);
  }

  /**
   * Opens a port. With backend 'auto', tries dpdk, af_xdp, af_packet, udp (then pcap when a file
   * is configured) and reports each decision through `log`.
   */
  static open(options: PortOptions, log: (line: string) => void = () => {}): Port {
    checkEnum('backend', options.backend, [...kBackendNames, 'auto']);
    const native = binding();
    const compiled = new Map(native.backends().map((b) => [b.name, b]));
    const candidates: BackendName[] = options.backend === 'auto' ? [...kAutoOrder, 'pcap'] : [options.backend];
    const passed: string[] = [];
    for (const b of candidates) {
      const info = compiled.get(b);
      if (options.backend === 'auto') {
        const why = !info?.compiledIn ? `not compiled in (${info?.missing})` : notConfigured(b, options);
        if (why) {
          passed.push(`${b}: ${why}`);
          log(`backend auto: passed over ${b}: ${why}`);
          continue;
        }
      }
      const opts = nativeOptions(b, options);
      try {
        const id = callNative(b, () => native.openPort(b, opts));
        installExitHook();
        const port = new Port(id, b, opts.poller === 'inline', b === 'udp' ? options.udp?.lines : undefined);
        log(`backend ${options.backend === 'auto' ? 'auto: chose' : ''}${options.backend === 'auto' ? ' ' : ''}${b}: ${port.description}`);
        return port;
      } catch (err) {
        if (options.backend !== 'auto') throw err;
        const msg = (err as Error).message;
        passed.push(`${b}: ${msg}`);
        log(`backend auto: passed over ${b}: ${msg}`);
      }
    }
    throw new TickpathError('ERR_NO_BACKEND', `no packet backend could be opened:\n  ${passed.join('\n  ')}`,
      'configure one of the backends above (see `tickpath doctor`)');
  }

  /** Starts the pollers (thread mode). In inline mode the consumer polls and this is a no-op. */
  start(): void {
    callNative(this.backend, () => binding().portStart(this.id));
  }

  stop(): void {
    binding().portStop(this.id);
  }

  /** Stops, returns every buffer and closes the device. Shared views stay valid until collected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    binding().portClose(this.id);
  }

  /** One poller iteration on `queue` from the calling thread (inline mode). */
  poll(queue = 0): number {
    return binding().portPoll(this.id, queue);
  }

  stats(): PortStats {
    return binding().portStats(this.id);
  }

  regions(): SharedArrayBuffer[] {
    return binding().portRegions(this.id);
  }

  /** What a worker needs to read `queue` (post it; then `new RxConsumer(t)` in the worker). */
  rxTransfer(queue = 0): RxQueueTransfer {
    return {
      portId: this.id, queue, backend: this.backend, inline: this.inline, lines: this.lines,
      ring: callNative(this.backend, () => binding().portRxRing(this.id, queue)),
      regions: this.regions(),
    };
  }

  txTransfer(queue = 0): TxQueueTransfer {
    return {
      portId: this.id, queue, inline: this.inline,
      ring: callNative(this.backend, () => binding().portTxRing(this.id, queue)),
      slots: callNative(this.backend, () => binding().portTxSlots(this.id, queue)),
    };
  }

  consumer(queue = 0): RxConsumer {
    return new RxConsumer(this.rxTransfer(queue));
  }

  producer(queue = 0): TxProducer {
    return new TxProducer(this.txTransfer(queue));
  }
}

/** On exit of the main thread: close every port and clean up the DPDK EAL, once. */
function installExitHook(): void {
  if (exitHookInstalled || !isMainThread) return;
  exitHookInstalled = true;
  process.once('exit', () => binding().shutdown());
}
