/**
 * A daily session schedule shared by the FIX and OUCH connectors: the time of day at which the
 * session ends and a new one starts from sequence number 1 (FIX: both sides reset, our Logon
 * carries ResetSeqNumFlag=Y; SoupBinTCP: the venue opens a new session each day).
 *
 * Times are "HH:MM" or "HH:MM:SS" in `timeZone`: 'UTC', a fixed offset '+HH:MM' / '-HH:MM', or an
 * IANA name ('America/New_York'), resolved through Intl at each computation so DST moves with it.
 * The clock is injected so tests need not wait for a real day.
 *
 * Threading: the connector's event loop; pure computation, no timers of its own.
 */
import { invalidOption } from '../errors';

export interface SessionScheduleOptions {
  /** Daily time at which the session is reset (logout, sequence numbers back to 1, logon). */
  resetTime: string;
  /** 'UTC' (default), '+HH:MM' / '-HH:MM', or an IANA zone name. */
  timeZone?: string;
}

const kDayMs = 86400000;

function parseTimeOfDay(where: string, name: string, v: unknown): number {
  const m = typeof v === 'string' ? /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v) : null;
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) throw invalidOption(where, name, v, "a time of day 'HH:MM' or 'HH:MM:SS'");
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3] ?? 0)) * 1000;
}

export class SessionSchedule {
  readonly resetMs: number;
  readonly timeZone: string;
  private readonly fixedOffsetMs: number | null;

  constructor(options: SessionScheduleOptions, where = 'SessionSchedule', private readonly now: () => number = Date.now) {
    if (typeof options !== 'object' || options === null) throw invalidOption(where, 'schedule', options, '{ resetTime, timeZone? }');
    this.resetMs = parseTimeOfDay(where, 'schedule.resetTime', options.resetTime);
    const tz = options.timeZone ?? 'UTC';
    this.timeZone = tz;
    const off = /^([+-])(\d{2}):(\d{2})$/.exec(tz);
    if (tz === 'UTC') this.fixedOffsetMs = 0;
    else if (off && Number(off[2]) <= 14 && Number(off[3]) <= 59) this.fixedOffsetMs = (off[1] === '-' ? -1 : 1) * (Number(off[2]) * 60 + Number(off[3])) * 60000;
    else {
      try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); } catch {
        throw invalidOption(where, 'schedule.timeZone', tz, "'UTC', an offset like '+02:00', or an IANA zone name like 'America/New_York'");
      }
      this.fixedOffsetMs = null;
    }
  }

  /** Offset of the zone from UTC at instant `t`, in ms. */
  private offsetAt(t: number): number {
    if (this.fixedOffsetMs !== null) return this.fixedOffsetMs;
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: this.timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    }).formatToParts(new Date(t));
    const n = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
    return asUtc - Math.floor(t / 1000) * 1000;
  }

  /** The most recent reset instant at or before `t`. */
  lastResetAtOrBefore(t = this.now()): number {
    const off = this.offsetAt(t);
    const local = t + off;
    let at = Math.floor(local / kDayMs) * kDayMs + this.resetMs - off;
    if (at > t) at -= kDayMs;
    return at;
  }

  /** The next reset instant after `t`. */
  nextResetAfter(t = this.now()): number {
    return this.lastResetAtOrBefore(t) + kDayMs;
  }

  /** True when a reset instant lies in (since, t]: a session last active at `since` is stale. */
  resetDueSince(since: number, t = this.now()): boolean {
    return this.lastResetAtOrBefore(t) > since;
  }
}
