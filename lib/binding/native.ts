/**
 * Loads the native addon (build/Release/tickpath.node) once per thread. Worker threads load it
 * too (the addon is context-aware), which is how a worker polls a port by its integer id.
 *
 * Tests and tools may inject another implementation with `setBinding` (better-sqlite3's habit):
 * everything in lib/binding goes through `binding()`.
 */
import * as path from 'path';
import * as fs from 'fs';
import { TickpathError } from '../errors';
import type { QueueCounterName } from './layout';

export interface NativeBackendInfo { name: string; compiledIn: boolean; missing: string }
/** One queue's counters, named as in ring_layout.h (see kQueueCounter). */
export type NativeQueueStats = Record<QueueCounterName, number>;
export interface NativeDeviceStats {
  imissed: number; ierrors: number; rxNoMbuf: number; kernelDrops: number; oerrors: number;
  malformed: number; poolSize: number; poolFree: number;
}
export interface NativeLayout {
  ringHeaderBytes: number; prodPosI32: number; consPosI32: number; capacityI32: number; maskI32: number;
  descBytesI32: number; queueI32: number; stateI32: number; eofI32: number; txSlotBytesI32: number;
  countersByte: number; descBytes: number; txDescWords: number;
  flagTruncated: number; flagTsHw: number; flagTsSw: number; flagTsFile: number; flagTsPoll: number; flagL4Payload: number;
  queueCounterCount: number;
}

export interface NativeBinding {
  backends(): NativeBackendInfo[];
  openPort(backend: string, options: Record<string, string>): number;
  portQueues(id: number): number;
  portDescribe(id: number): string;
  portRegions(id: number): SharedArrayBuffer[];
  portRxRing(id: number, queue: number): SharedArrayBuffer;
  portTxRing(id: number, queue: number): SharedArrayBuffer;
  portTxSlots(id: number, queue: number): SharedArrayBuffer;
  portStart(id: number): void;
  portStop(id: number): void;
  /** One poller turn; with `want`, turns until that many packets wait on the RX ring or a turn finds nothing. */
  portPoll(id: number, queue: number, want?: number): number;
  portClose(id: number): void;
  portStats(id: number): { queues: NativeQueueStats[]; device: NativeDeviceStats };
  pinCurrentThread(cpu: number): number;
  threadAffinity(): number[];
  setThreadAffinity(cpus: number[]): void;
  currentTid(): number;
  numaNodeOfCpu(cpu: number): number;
  nowNs(): number;
  mapSharedFile(path: string, bytes: number, create: boolean): SharedArrayBuffer;
  shutdown(): void;
  /** Capture filters (bpf_glue.cc): libpcap's compiler and interpreter over frames in memory. */
  bpfCompile(expression: string, linkType: number, snapLength: number): number;
  bpfMatch(id: number, bytes: Uint8Array, offset: number, length: number, wireLength: number): number;
  bpfFree(id: number): void;
  dpdkEalState?(): { initialized: boolean; args: string };
  layout: NativeLayout;
  queueCounters: Record<QueueCounterName, number>;
}

const kAddonPath = path.join(__dirname, '..', '..', '..', 'build', 'Release', 'tickpath.node');

let injected: NativeBinding | undefined;
let loaded: NativeBinding | undefined;

/** The addon, loaded on first use. Throws ERR_ADDON_MISSING with the build command when absent. */
export function binding(): NativeBinding {
  if (injected) return injected;
  if (loaded) return loaded;
  if (!fs.existsSync(kAddonPath)) {
    throw new TickpathError('ERR_ADDON_MISSING', `native addon not built (${kAddonPath} is missing)`,
      'npm run build:native (needs python3, make and g++; DPDK/libxdp are optional)');
  }
  loaded = require(kAddonPath) as NativeBinding;
  return loaded;
}

/**
 * One of the addon's optional functions, bound to it, or undefined when the addon is missing, an
 * injected test binding lacks it, or this build has none (features that are only optimisations or
 * counters: huge pages, GC counts).
 */
export function optionalAddonFunction<F extends (...args: never[]) => unknown>(name: string): F | undefined {
  try {
    const b = binding() as unknown as Record<string, unknown>;
    const f = b[name];
    return typeof f === 'function' ? (f as F).bind(b) as F : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the addon for this thread (tests); pass undefined to go back to the real one. */
export function setBinding(b: NativeBinding | undefined): void {
  injected = b;
}

export function addonPath(): string {
  return kAddonPath;
}
