import { TickpathError } from '../errors';
import type { Clock } from './clock';
import { systemClock } from './clock';
import { SpscRing } from './spsc-ring';

export const kLogLevelDebug = 0;
export const kLogLevelInfo = 1;
export const kLogLevelWarn = 2;
export const kLogLevelError = 3;
const kLevelNames = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

// One log record in the ring: 48 bytes.
//   i32 [kLogLevelI32] [kLogEventI32]  f64 [kLogTimeF64] [kLogArg0F64 .. +3]
export const kLogRecordBytes = 48;
export const kLogLevelI32 = 0;
export const kLogEventI32 = 1;
export const kLogTimeF64 = 1;
export const kLogArg0F64 = 2;
export const kLogMaxArgs = 4;

/** A log event: declared once at start-up, referenced by id on the hot path. */
export interface LogEventDefinition {
  name: string;
  /** Text with {0}..{3} standing for the numeric arguments, e.g. 'gap from {0} to {1}'. */
  template: string;
}

/**
 * The table of events both sides agree on. Build it from the same list in the writer and in the
 * drain (it is plain data, so it can also travel by postMessage with the ring's buffer).
 */
export class LogEventTable {
  readonly events: readonly LogEventDefinition[];
  private readonly idByName = new Map<string, number>();

  constructor(events: readonly LogEventDefinition[]) {
    for (const e of events) {
      if (this.idByName.has(e.name)) {
        throw new TickpathError(
          'ERR_INVALID_OPTION',
          `LogEventTable: event name '${e.name}' appears twice, expected unique names`,
        );
      }
      const placeholders = e.template.match(/\{(\d+)\}/g) ?? [];
      for (const p of placeholders) {
        const n = Number(p.slice(1, -1));
        if (n >= kLogMaxArgs) {
          throw new TickpathError(
            'ERR_INVALID_OPTION',
            `LogEventTable: event '${e.name}' uses ${p}, expected placeholders {0} to {${kLogMaxArgs - 1}}`,
          );
        }
      }
      this.idByName.set(e.name, this.idByName.size);
    }
    this.events = events.map((e) => ({ ...e }));
  }

  idOf(name: string): number {
    const id = this.idByName.get(name);
    if (id === undefined) {
      throw new TickpathError('ERR_UNKNOWN_LOG_EVENT', `LogEventTable: no event named '${name}'`);
    }
    return id;
  }
}

/**
 * Writer side of the low-latency logger. A hot path logs an event id and up to four numbers; that
 * is one claim, six stores and one release store into an SpscRing, no string and no allocation.
 * Formatting and I/O happen in a LogDrain on another thread or on a timer.
 *
 * When the ring is full the record is dropped and counted (`dropped`): a trading thread must not
 * block on its logger.
 *
 * Threading contract: one writing thread per Logger (it is the ring's producer).
 */
export class Logger {
  readonly ring: SpscRing;
  /** Records below this level are discarded before touching the ring. */
  level: number;
  dropped = 0;
  private readonly clock: Clock;

  constructor(ring: SpscRing, options: { level?: number; clock?: Clock } = {}) {
    if (ring.recordBytes < kLogRecordBytes) {
      throw new TickpathError(
        'ERR_INVALID_OPTION',
        `Logger: ring recordBytes is ${ring.recordBytes}, expected at least ${kLogRecordBytes}`,
      );
    }
    this.ring = ring;
    this.level = options.level ?? kLogLevelInfo;
    this.clock = options.clock ?? systemClock;
  }

  /** Makes a ring for a logger: `capacity` records of kLogRecordBytes. */
  static createRing(capacity: number): SpscRing {
    return SpscRing.create({ capacity, recordBytes: kLogRecordBytes });
  }

  /** Returns false when the record was filtered by level or dropped because the ring was full. */
  log(level: number, eventId: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): boolean {
    if (level < this.level) return false;
    const ring = this.ring;
    if (ring.tryClaim(1) === 0) {
      this.dropped++;
      return false;
    }
    const off = ring.offsetOfClaimed(0);
    const i = off >> 2;
    const f = off >> 3;
    ring.i32[i + kLogLevelI32] = level;
    ring.i32[i + kLogEventI32] = eventId;
    ring.f64[f + kLogTimeF64] = this.clock.nowNs();
    ring.f64[f + kLogArg0F64] = a0;
    ring.f64[f + kLogArg0F64 + 1] = a1;
    ring.f64[f + kLogArg0F64 + 2] = a2;
    ring.f64[f + kLogArg0F64 + 3] = a3;
    ring.publish();
    return true;
  }

  debug(eventId: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): boolean {
    return this.log(kLogLevelDebug, eventId, a0, a1, a2, a3);
  }
  info(eventId: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): boolean {
    return this.log(kLogLevelInfo, eventId, a0, a1, a2, a3);
  }
  warn(eventId: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): boolean {
    return this.log(kLogLevelWarn, eventId, a0, a1, a2, a3);
  }
  error(eventId: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): boolean {
    return this.log(kLogLevelError, eventId, a0, a1, a2, a3);
  }
}

export interface LogDrainOptions {
  /** Receives each formatted line (no trailing newline). Default: process.stderr. */
  sink?: (line: string) => void;
  /**
   * Unix-epoch milliseconds at monotonic time 0, used to print wall time. Default: measured once
   * at construction from Date.now() and the clock (ms accuracy). Tests pass a fixed value.
   * Kept in ms, not ns: epoch ns (~1.7e18) is past 2**53 and a double would lose ~256 ns.
   */
  epochOffsetMs?: number;
  clock?: Clock;
  /** Records formatted per drain() call at most. Default 1024. */
  batchLimit?: number;
}

/**
 * Reader side: formats records as `<ISO time with us> <LEVEL> <event> <text>` and hands each line
 * to a sink. Runs where allocation is acceptable: a timer on the owning thread (start()) or a
 * logging worker that attached the ring.
 *
 * Threading contract: one draining thread per ring (it is the ring's consumer).
 */
export class LogDrain {
  readonly ring: SpscRing;
  readonly table: LogEventTable;
  /** Lines written so far. */
  written = 0;
  private readonly sink: (line: string) => void;
  private readonly epochOffsetMs: number;
  /** Sub-millisecond part of the offset, in ns (in (-1e6, 0]), so the sum stays exact. */
  private readonly epochOffsetSubNs: number;
  private readonly batchLimit: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly onRecord: (offset: number, endOfBatch: boolean) => void;

  constructor(ring: SpscRing, table: LogEventTable, options: LogDrainOptions = {}) {
    this.ring = ring;
    this.table = table;
    this.sink = options.sink ?? ((line) => process.stderr.write(line + '\n'));
    const clock = options.clock ?? systemClock;
    if (options.epochOffsetMs !== undefined) {
      this.epochOffsetMs = options.epochOffsetMs;
      this.epochOffsetSubNs = 0;
    } else {
      const mono = clock.nowNs();
      const monoMs = Math.floor(mono / 1e6);
      this.epochOffsetMs = Date.now() - monoMs;
      this.epochOffsetSubNs = -(mono - monoMs * 1e6);
    }
    this.batchLimit = options.batchLimit ?? 1024;
    // Bound once so drain() creates no closure per call.
    this.onRecord = (offset) => {
      this.sink(this.format(offset));
      this.written++;
    };
  }

  /** Formats and writes up to batchLimit waiting records; returns how many. */
  drain(): number {
    return this.ring.read(this.onRecord, this.batchLimit);
  }

  /** Drains until the ring is empty (shutdown, tests). */
  drainAll(): number {
    let total = 0;
    let n: number;
    while ((n = this.drain()) > 0) total += n;
    return total;
  }

  /** Drains every `intervalMs` on this thread's event loop; the timer does not keep the process alive. */
  start(intervalMs = 10): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.drainAll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.drainAll();
  }

  private format(offset: number): string {
    const ring = this.ring;
    const i = offset >> 2;
    const f = offset >> 3;
    const level = ring.i32[i + kLogLevelI32];
    const eventId = ring.i32[i + kLogEventI32];
    const timeNs = ring.f64[f + kLogTimeF64];
    const event = this.table.events[eventId];
    const levelName = (kLevelNames[level] ?? `L${level}`).padEnd(5);
    const text = event
      ? event.template.replace(/\{(\d)\}/g, (_m, d: string) => String(ring.f64[f + kLogArg0F64 + Number(d)]))
      : `unknown event ${eventId} args ${ring.f64[f + kLogArg0F64]} ${ring.f64[f + kLogArg0F64 + 1]} ${ring.f64[f + kLogArg0F64 + 2]} ${ring.f64[f + kLogArg0F64 + 3]}`;
    const sinceMs = timeNs + this.epochOffsetSubNs;
    const wholeMs = Math.floor(sinceMs / 1e6);
    const time = formatEpochTime(this.epochOffsetMs + wholeMs, sinceMs - wholeMs * 1e6);
    return `${time} ${levelName} ${event ? event.name : '?'} ${text}`;
  }
}

/** ISO-8601 with microseconds, e.g. 2026-11-24T08:10:04.123456Z, from epoch ms plus ns within it. */
export function formatEpochTime(epochMs: number, nsWithinMs: number): string {
  const iso = new Date(epochMs).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, -1)}${String(Math.floor(nsWithinMs / 1e3)).padStart(3, '0')}Z`;
}
