import { describe, expect, it } from 'vitest';
import { notificationClock } from '../src/incidents/clock.ts';

const detected = new Date('2026-03-01T10:00:00Z');

describe('the 72-hour clock (GDPR art. 33(1))', () => {
  it('runs from detection: 72 h later is the deadline, with the time left', () => {
    const clock = notificationClock(detected, null, new Date('2026-03-02T10:00:00Z'));
    expect(clock.deadline).toBe('2026-03-04T10:00:00.000Z');
    expect(clock.msLeft).toBe(48 * 3_600_000);
    expect(clock.status).toBe('running');
  });
  it('is overdue one millisecond after the deadline', () => {
    const clock = notificationClock(detected, null, new Date('2026-03-04T10:00:00.001Z'));
    expect(clock.status).toBe('overdue');
    expect(clock.msLeft).toBe(-1);
  });
  it('stops once the authority is notified, telling in time from late', () => {
    expect(
      notificationClock(detected, new Date('2026-03-04T09:59:59Z'), new Date('2026-03-09T00:00:00Z')).status,
    ).toBe('notified_in_time');
    expect(notificationClock(detected, new Date('2026-03-04T10:00:01Z'), detected).status).toBe(
      'notified_late',
    );
  });
});
