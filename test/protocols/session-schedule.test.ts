import { expect } from 'chai';
import { SessionSchedule } from '../../lib/protocols/session-schedule';

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
