/**
 * Daily session schedules shared by the FIX and OUCH connectors.
 *  SessionSchedule: the time of day at which the session ends and a new one starts from sequence
 *    number 1 (FIX: both sides reset, our Logon carries ResetSeqNumFlag=Y; SoupBinTCP: the venue
 *    opens a new session each day).
 *  SessionWindow: when the session is open at all: a start and an end time of day, optionally on
 *    some weekdays only. Outside it the connector does not log on and the router refuses orders
 *    for the venue (SESSION_CLOSED); each window's start begins a new session day. An end at or
 *    before the start crosses midnight (the window belongs to the day it starts); start == end is
 *    open around the clock with a new day at that time.
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
  offsetAt(t: number): number {
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

export interface SessionWindowOptions {
  /** Time of day the session opens ("HH:MM" or "HH:MM:SS"). */
  start: string;
  /** Time of day it closes; at or before `start`: the next day. */
  end: string;
  /** Weekdays on which a window starts ('mon'..'sun'); default every day. */
  days?: readonly string[];
  /** As SessionSchedule's (default 'UTC'). */
  timeZone?: string;
}

export const kWeekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** One open period of a SessionWindow, as instants (ms since epoch). */
export interface WindowSpan { start: number; end: number }

export class SessionWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly timeZone: string;
  /** 1 where a window may start on that weekday (0 = Sunday). */
  private readonly days = new Uint8Array(7);
  private readonly zone: SessionSchedule;
  private readonly lengthMs: number;
  private readonly daysText: string;

  constructor(options: SessionWindowOptions, where = 'SessionWindow') {
    if (typeof options !== 'object' || options === null) throw invalidOption(where, 'window', options, '{ start, end, days?, timeZone? }');
    this.startMs = parseTimeOfDay(where, 'window.start', options.start);
    this.endMs = parseTimeOfDay(where, 'window.end', options.end);
    this.zone = new SessionSchedule({ resetTime: options.start, timeZone: options.timeZone }, where);
    this.timeZone = this.zone.timeZone;
    const days = options.days ?? kWeekdays;
    if (!Array.isArray(days) || days.length === 0) throw invalidOption(where, 'window.days', days, "a non-empty list of weekdays like ['mon', 'tue']");
    for (const d of days) {
      const i = kWeekdays.indexOf(String(d).toLowerCase() as typeof kWeekdays[number]);
      if (i < 0) throw invalidOption(where, 'window.days', d, `one of ${kWeekdays.join(', ')}`);
      this.days[i] = 1;
    }
    this.lengthMs = this.endMs > this.startMs ? this.endMs - this.startMs : this.endMs - this.startMs + kDayMs;
    this.daysText = options.days === undefined ? '' : ` ${kWeekdays.filter((_, i) => this.days[i]).join(',')}`;
  }

  private static weekday(localDay: number): number { return ((localDay + 4) % 7 + 7) % 7; } // 1970-01-01 was a Thursday

  /** The window containing `t`, or null when the session is closed at `t`. */
  windowAt(t: number): WindowSpan | null {
    const off = this.zone.offsetAt(t);
    const local = t + off;
    const day = Math.floor(local / kDayMs);
    // The latest window starting at or before t that covers it (today's, else yesterday's overnight one).
    for (let d = day; d >= day - 1; d--) {
      if (this.days[SessionWindow.weekday(d)] === 0) continue;
      const ws = d * kDayMs + this.startMs;
      if (ws <= local && local < ws + this.lengthMs) return { start: ws - off, end: ws + this.lengthMs - off };
    }
    return null;
  }

  /** The first window start after `t`. */
  nextStartAfter(t: number): number {
    const day = Math.floor((t + this.zone.offsetAt(t)) / kDayMs);
    for (let d = day - 1; d <= day + 8; d++) {
      if (this.days[SessionWindow.weekday(d)] === 0) continue;
      const local = d * kDayMs + this.startMs;
      const at = local - this.zone.offsetAt(local - this.zone.offsetAt(t));
      if (at > t) return at;
    }
    return Number.POSITIVE_INFINITY; // unreachable: days has at least one weekday
  }

  /** "09:30:00-16:00:00 mon,tue UTC" for messages. */
  describe(): string {
    const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);
    return `${hms(this.startMs)}-${hms(this.endMs)}${this.daysText} ${this.timeZone}`;
  }
}
