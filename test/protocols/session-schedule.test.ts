import { expect } from 'chai';
import { SessionSchedule, SessionWindow } from '../../lib/protocols/session-schedule';

describe('SessionSchedule', () => {
  const t = (iso: string) => Date.parse(iso);

  it('UTC: the last reset at or before an instant and the next one after it', () => {
    const s = new SessionSchedule({ resetTime: '17:00' });
    expect(new Date(s.lastResetAtOrBefore(t('2025-03-04T16:59:59Z'))).toISOString()).to.equal('2025-03-03T17:00:00.000Z');
    expect(new Date(s.lastResetAtOrBefore(t('2025-03-04T17:00:00Z'))).toISOString()).to.equal('2025-03-04T17:00:00.000Z');
    expect(new Date(s.nextResetAfter(t('2025-03-04T17:00:00Z'))).toISOString()).to.equal('2025-03-05T17:00:00.000Z');
    expect(s.resetDueSince(t('2025-03-04T16:00:00Z'), t('2025-03-04T18:00:00Z'))).to.equal(true);
    expect(s.resetDueSince(t('2025-03-04T17:30:00Z'), t('2025-03-04T18:00:00Z'))).to.equal(false);
  });

  it('fixed offsets and IANA zones (DST follows the zone)', () => {
    expect(new Date(new SessionSchedule({ resetTime: '17:00', timeZone: '-05:00' }).lastResetAtOrBefore(t('2025-01-10T23:00:00Z'))).toISOString())
      .to.equal('2025-01-10T22:00:00.000Z');
    const ny = new SessionSchedule({ resetTime: '17:00', timeZone: 'America/New_York' });
    expect(new Date(ny.lastResetAtOrBefore(t('2025-01-10T23:00:00Z'))).toISOString()).to.equal('2025-01-10T22:00:00.000Z');
    expect(new Date(ny.lastResetAtOrBefore(t('2025-07-10T23:00:00Z'))).toISOString()).to.equal('2025-07-10T21:00:00.000Z');
  });

  it('names the option, the value and what was expected', () => {
    expect(() => new SessionSchedule({ resetTime: '25:00' })).to.throw(/schedule\.resetTime.*HH:MM/);
    expect(() => new SessionSchedule({ resetTime: '17:00', timeZone: 'Mars/Base' })).to.throw(/schedule\.timeZone.*IANA/);
  });
});

describe('SessionWindow', () => {
  const t = (iso: string) => Date.parse(iso);
  const iso = (ms: number | undefined) => (ms === undefined ? 'none' : new Date(ms).toISOString());

  it('a day window: open between start and end, next start after', () => {
    const w = new SessionWindow({ start: '09:30', end: '16:00' });
    expect(w.windowAt(t('2030-01-07T09:29:59Z'))).to.equal(null);
    const open = w.windowAt(t('2030-01-07T09:30:00Z'))!;
    expect([iso(open.start), iso(open.end)]).to.deep.equal(['2030-01-07T09:30:00.000Z', '2030-01-07T16:00:00.000Z']);
    expect(w.windowAt(t('2030-01-07T16:00:00Z'))).to.equal(null);
    expect(iso(w.nextStartAfter(t('2030-01-07T16:00:00Z')))).to.equal('2030-01-08T09:30:00.000Z');
    expect(iso(w.nextStartAfter(t('2030-01-07T09:00:00Z')))).to.equal('2030-01-07T09:30:00.000Z');
    expect(w.describe()).to.equal('09:30:00-16:00:00 UTC');
  });

  it('weekdays: Friday\'s window closes into Monday\'s; an overnight window belongs to the day it starts', () => {
    const w = new SessionWindow({ start: '09:30', end: '16:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] });
    expect(w.windowAt(t('2030-01-12T10:00:00Z'))).to.equal(null);                       // Saturday
    expect(iso(w.nextStartAfter(t('2030-01-11T16:00:00Z')))).to.equal('2030-01-14T09:30:00.000Z');   // Friday -> Monday
    const night = new SessionWindow({ start: '18:00', end: '17:00', days: ['sun', 'mon', 'tue', 'wed', 'thu'] });
    const sun = night.windowAt(t('2030-01-14T03:00:00Z'))!;                              // Monday 03:00: Sunday's window
    expect([iso(sun.start), iso(sun.end)]).to.deep.equal(['2030-01-13T18:00:00.000Z', '2030-01-14T17:00:00.000Z']);
    expect(night.windowAt(t('2030-01-14T17:30:00Z'))).to.equal(null);
    expect(night.windowAt(t('2030-01-18T20:00:00Z'))).to.equal(null);                   // Friday evening: no window
  });

  it('start == end: open around the clock, a new window (day) at that time; zones as SessionSchedule', () => {
    const w = new SessionWindow({ start: '17:00', end: '17:00', timeZone: 'America/New_York' });
    const a = w.windowAt(t('2030-07-10T20:59:59Z'))!;
    const b = w.windowAt(t('2030-07-10T21:00:00Z'))!;
    expect([iso(a.start), iso(a.end), iso(b.start)]).to.deep.equal(['2030-07-09T21:00:00.000Z', '2030-07-10T21:00:00.000Z', '2030-07-10T21:00:00.000Z']);
  });

  it('names the option, the value and what was expected', () => {
    expect(() => new SessionWindow({ start: '9:30', end: '16:00' })).to.throw(/window\.start.*HH:MM/);
    expect(() => new SessionWindow({ start: '09:30', end: '16:00', days: ['monday'] })).to.throw(/window\.days.*one of sun, mon/);
  });
});
