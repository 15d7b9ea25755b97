/**
 * Live stats of a running tickpath process, readable by another process (`tickpath monitor`) through
 * a MAP_SHARED file: /dev/shm/tickpath-<instance>.stats.
 *
 * Layout (little-endian, i32 words):
 *   byte 0    header line: [kStatsMagicI32] 'TPST', [kStatsVersionI32] 1, [kStatsPidI32] writer pid, [kStatsCapacityI32]
 *             JSON bytes available; written once at creation (readers get the pid without mapping)
 *   byte 64   seqlock line: [kSequenceI32] odd while a snapshot is being written, even when done;
 *             [kLengthI32] bytes of the current JSON snapshot
 *   byte 128  the JSON snapshot (StatsSnapshot), UTF-8
 *
 * Threading contract: one writer, the main thread of the instance, once a second (`start`) or when
 * asked (`publish`); never a hot path, so JSON and a Buffer per snapshot are fine. Any number of
 * readers in any process; a reader copies the bytes out and retries while the sequence is odd or
 * moved under it, so it never sees half a snapshot and never blocks the writer.
 */
import * as fs from 'fs';
import * as path from 'path';
import { binding } from '../binding/native';
import { TickpathError } from '../errors';
import type { PipelineStats } from '../pipeline/pipeline';
import { bookFilePath } from '../pipeline/book-mailbox';

export const kStatsMagic = 0x54535054; // 'TPST'
export const kStatsVersion = 1;
export const kStatsMagicI32 = 0;
export const kStatsVersionI32 = 1;
export const kStatsPidI32 = 2;
export const kStatsCapacityI32 = 3;
export const kSequenceI32 = 16; // byte 64: its own cache line
export const kLengthI32 = 17;
export const kStatsHeaderBytes = 128;
export const kDefaultStatsDir = '/dev/shm';
export const kDefaultStatsCapacity = 256 * 1024;

const kFilePattern = /^tickpath-(.+)\.stats$/;

/** What a publisher writes and a reader gets back. */
export interface StatsSnapshot {
  instance: string;
  pid: number;
  /** Wall clock of the snapshot (ms since the epoch). */
  atMs: number;
  /** Monotonic time of the snapshot (ms, process.uptime-based), for rates between snapshots. */
  uptimeMs: number;
  /** Snapshots published so far, this one included. */
  sequence: number;
  stats: PipelineStats;
  /** Free-form extras (placement, config names...). */
  extra?: Record<string, unknown>;
}

export interface StatsInstance { instance: string; pid: number; path: string; alive: boolean }

/** TICKPATH_STATS_DIR overrides /dev/shm (tests, machines without /dev/shm). */
export function defaultStatsDir(): string {
  return process.env.TICKPATH_STATS_DIR || kDefaultStatsDir;
}

export function statsFilePath(instance: string, dir = defaultStatsDir()): string {
  return path.join(dir, `tickpath-${instance}.stats`);
}

function checkInstance(instance: string): void {
  if (typeof instance !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(instance) || instance.startsWith('.')) {
    throw new TickpathError('ERR_INVALID_OPTION',
      `stats instance is ${JSON.stringify(instance)}, expected 1 to 64 characters of A-Z a-z 0-9 _ . - (default: the process id)`);
  }
}

/** True when a process with this pid exists (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StatsPublisherOptions {
  /** Default: String(process.pid). */
  instance?: string;
  /** Default: TICKPATH_STATS_DIR or /dev/shm. */
  dir?: string;
  /** JSON bytes the file holds (default 256 KiB); a larger snapshot is refused and counted. */
  capacityBytes?: number;
}

export class StatsPublisher {
  readonly instance: string;
  readonly path: string;
  readonly capacityBytes: number;
  /** Snapshots refused because their JSON did not fit. */
  oversize = 0;
  private readonly header: Int32Array;
  private readonly body: Uint8Array;
  private published = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onExit = (): void => this.unlink();

  constructor(o: StatsPublisherOptions = {}) {
    this.instance = o.instance ?? String(process.pid);
    checkInstance(this.instance);
    const cap = o.capacityBytes ?? kDefaultStatsCapacity;
    if (!Number.isInteger(cap) || cap < 1024 || cap > 64 * 1024 * 1024) {
      throw new TickpathError('ERR_INVALID_OPTION', `StatsPublisher capacityBytes is ${cap}, expected an integer from 1024 to 67108864`);
    }
    this.capacityBytes = cap;
    this.path = statsFilePath(this.instance, o.dir ?? defaultStatsDir());
    const existing = readHeader(this.path);
    if (existing && existing.pid !== process.pid && pidAlive(existing.pid)) {
      throw new TickpathError('ERR_INSTANCE_IN_USE',
        `stats instance '${this.instance}' is already published by pid ${existing.pid} (${this.path}); pick another instance name`);
    }
    // A stale file of a dead process is replaced: unlink first so a reader still mapping it keeps the old inode.
    if (existing) fs.rmSync(this.path, { force: true });
    sweepStaleInstances(o.dir ?? defaultStatsDir());
    const sab = binding().mapSharedFile(this.path, kStatsHeaderBytes + cap, true);
    this.header = new Int32Array(sab, 0, kStatsHeaderBytes >> 2);
    this.body = new Uint8Array(sab, kStatsHeaderBytes, cap);
    Atomics.store(this.header, kStatsVersionI32, kStatsVersion);
    Atomics.store(this.header, kStatsPidI32, process.pid);
    Atomics.store(this.header, kStatsCapacityI32, cap);
    Atomics.store(this.header, kSequenceI32, 0);
    Atomics.store(this.header, kLengthI32, 0);
    Atomics.store(this.header, kStatsMagicI32, kStatsMagic);
    process.once('exit', this.onExit);
  }

  /** Writes one snapshot under the seqlock; false if its JSON is larger than the file holds. */
  publish(stats: PipelineStats, extra?: Record<string, unknown>): boolean {
    if (this.closed) throw new TickpathError('ERR_CLOSED', `StatsPublisher ${this.path} is closed`);
    const snapshot: StatsSnapshot = {
      instance: this.instance, pid: process.pid, atMs: Date.now(), uptimeMs: performance.now(),
      sequence: this.published + 1, stats, extra,
    };
    const bytes = Buffer.from(JSON.stringify(snapshot));
    if (bytes.length > this.capacityBytes) {
      this.oversize++;
      return false;
    }
    const h = this.header;
    const seq = Atomics.load(h, kSequenceI32);
    Atomics.store(h, kSequenceI32, (seq + 1) | 0); // odd: writing
    this.body.set(bytes);
    Atomics.store(h, kLengthI32, bytes.length);
    Atomics.store(h, kSequenceI32, (seq + 2) | 0); // even: consistent
    this.published++;
    return true;
  }

  /** Publishes `provider()` now and then every `intervalMs` (default 1000) from a timer that does not keep the process alive. */
  start(provider: () => PipelineStats, intervalMs = 1000, extra?: () => Record<string, unknown>): void {
    if (!(intervalMs >= 10)) throw new TickpathError('ERR_INVALID_OPTION', `StatsPublisher interval is ${intervalMs} ms, expected >= 10`);
    this.stop();
    const tick = (): void => {
      try {
        this.publish(provider(), extra?.());
      } catch {
        // The provider may fail while the pipeline stops; the next tick (or close) settles it.
      }
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get publishedCount(): number {
    return this.published;
  }

  /** Stops publishing and removes the file (readers see the instance disappear). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    process.removeListener('exit', this.onExit);
    this.unlink();
  }

  private unlink(): void {
    // Only remove the file if it is still ours (another process may have replaced a stale one).
    const h = readHeader(this.path);
    if (h && h.pid === process.pid) fs.rmSync(this.path, { force: true });
  }
}

/**
 * Removes the files of instances whose writer has exited: the stats file and the book mailbox beside
 * it. A SIGKILLed run cannot remove its own, and they would otherwise stay in /dev/shm until reboot
 * (about 330 KB an instance). Runs when a publisher starts, so `tickpath run` cleans up after the
 * runs before it; a file whose pid is alive (or reused by a live process) is kept. Returns how many
 * instances were swept.
 */
export function sweepStaleInstances(dir = defaultStatsDir()): number {
  let swept = 0;
  for (const i of StatsReader.list(dir, true)) {
    if (i.alive || i.pid === process.pid) continue;
    fs.rmSync(i.path, { force: true });
    fs.rmSync(bookFilePath(i.instance, dir), { force: true });
    swept++;
  }
  return swept;
}

/** Header of a stats file read with plain fs (no mapping), or undefined if absent or not a stats file. */
function readHeader(file: string): { pid: number; capacity: number } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const b = Buffer.alloc(16);
    if (fs.readSync(fd, b, 0, 16, 0) < 16 || b.readInt32LE(kStatsMagicI32 * 4) !== kStatsMagic) return undefined;
    return { pid: b.readInt32LE(kStatsPidI32 * 4), capacity: b.readInt32LE(kStatsCapacityI32 * 4) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reader side of a stats file: `StatsReader.attach('1234')`, then `read()` as often as wanted. */
export class StatsReader {
  readonly path: string;
  readonly instance: string;
  readonly pid: number;
  private readonly header: Int32Array;
  private readonly body: Uint8Array;
  private copy: Uint8Array;
  /** Attempts the last read() threw away because a write overlapped it (diagnostics, tests). */
  lastRetries = 0;

  /** Running instances in `dir`: files named tickpath-*.stats whose writer pid is alive (stale ones with `includeStale`). */
  static list(dir = defaultStatsDir(), includeStale = false): StatsInstance[] {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: StatsInstance[] = [];
    for (const name of names.sort()) {
      const m = kFilePattern.exec(name);
      if (!m) continue;
      const file = path.join(dir, name);
      const h = readHeader(file);
      if (!h) continue;
      const alive = pidAlive(h.pid);
      if (alive || includeStale) out.push({ instance: m[1], pid: h.pid, path: file, alive });
    }
    return out;
  }

  /**
   * Maps an instance's file: `instanceOrPath` is an instance name (looked up in `dir`) or a path
   * (anything containing a '/'). Throws ERR_NO_INSTANCE when there is no such file or its writer
   * has exited.
   */
  static attach(instanceOrPath: string, dir = defaultStatsDir()): StatsReader {
    const file = instanceOrPath.includes('/') ? instanceOrPath : statsFilePath(instanceOrPath, dir);
    const h = readHeader(file);
    if (!h) {
      throw new TickpathError('ERR_NO_INSTANCE',
        `no tickpath instance '${instanceOrPath}' (${file} is missing or not a stats file); start one with \`tickpath run\``);
    }
    if (!pidAlive(h.pid)) {
      throw new TickpathError('ERR_NO_INSTANCE',
        `tickpath instance '${instanceOrPath}' is not running (pid ${h.pid} has exited; ${file} is stale); start one with \`tickpath run\``);
    }
    return new StatsReader(file, binding().mapSharedFile(file, 0, false), h.pid);
  }

  private constructor(file: string, sab: SharedArrayBuffer, pid: number) {
    this.path = file;
    const m = kFilePattern.exec(path.basename(file));
    this.instance = m ? m[1] : path.basename(file);
    this.pid = pid;
    this.header = new Int32Array(sab, 0, kStatsHeaderBytes >> 2);
    const cap = Math.min(Atomics.load(this.header, kStatsCapacityI32), sab.byteLength - kStatsHeaderBytes);
    this.body = new Uint8Array(sab, kStatsHeaderBytes, cap);
    this.copy = new Uint8Array(4096);
  }

  /** True while the writer process exists. */
  alive(): boolean {
    return pidAlive(this.pid);
  }

  /**
   * A consistent snapshot, or undefined before the first publish. Retries while the writer is
   * mid-write (odd sequence) or wrote during the copy; gives up with ERR_STATS_BUSY after `maxTries`.
   */
  read(maxTries = 1000): StatsSnapshot | undefined {
    const h = this.header;
    for (let i = 0; i < maxTries; i++) {
      const before = Atomics.load(h, kSequenceI32);
      if (before & 1) continue;
      if (before === 0) { this.lastRetries = i; return undefined; }
      const len = Atomics.load(h, kLengthI32);
      if (len < 0 || len > this.body.length) continue;
      if (this.copy.length < len) this.copy = new Uint8Array(Math.max(len, this.copy.length * 2));
      this.copy.set(this.body.subarray(0, len));
      if (Atomics.load(h, kSequenceI32) !== before) continue;
      this.lastRetries = i;
      try {
        return JSON.parse(Buffer.from(this.copy.buffer, 0, len).toString('utf8')) as StatsSnapshot;
      } catch {
        continue; // cannot happen with a consistent copy; retry rather than surface garbage
      }
    }
    throw new TickpathError('ERR_STATS_BUSY', `stats file ${this.path}: no consistent snapshot after ${maxTries} tries`);
  }

  /** The seqlock sequence now (even = consistent); changes on every publish. */
  sequence(): number {
    return Atomics.load(this.header, kSequenceI32);
  }
}
