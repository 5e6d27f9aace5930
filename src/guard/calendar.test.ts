import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WORKING_HOURS,
  easterSunday,
  frenchPublicHolidays,
  isOffHours,
  localParts,
  type WorkingHours,
  workingHoursOf,
} from './calendar.ts';

// Easter Sundays from published tables (not computed with the function under test), including the
// earliest (22 March) and latest (25 April) possible dates.
const EASTER: [number, string][] = [
  [1818, '1818-03-22'],
  [1943, '1943-04-25'],
  [2000, '2000-04-23'],
  [2008, '2008-03-23'],
  [2011, '2011-04-24'],
  [2019, '2019-04-21'],
  [2024, '2024-03-31'],
  [2025, '2025-04-20'],
  [2026, '2026-04-05'],
  [2027, '2027-03-28'],
  [2038, '2038-04-25'],
  [2285, '2285-03-22'],
];

describe('easterSunday', () => {
  it.each(EASTER)('Easter %i is %s', (year, day) => {
    expect(easterSunday(year)).toBe(day);
  });
});

describe('frenchPublicHolidays (Code du travail, article L3133-1)', () => {
  // The eleven public holidays of metropolitan France, from the official calendars (service-public.fr).
  it.each([
    [
      2024,
      [
        '2024-01-01',
        '2024-04-01', // Easter Monday
        '2024-05-01',
        '2024-05-08',
        '2024-05-09', // Ascension
        '2024-05-20', // Whit Monday
        '2024-07-14',
        '2024-08-15',
        '2024-11-01',
        '2024-11-11',
        '2024-12-25',
      ],
    ],
    [
      2025,
      [
        '2025-01-01',
        '2025-04-21',
        '2025-05-01',
        '2025-05-08',
        '2025-05-29',
        '2025-06-09',
        '2025-07-14',
        '2025-08-15',
        '2025-11-01',
        '2025-11-11',
        '2025-12-25',
      ],
    ],
    [
      2026,
      [
        '2026-01-01',
        '2026-04-06',
        '2026-05-01',
        '2026-05-08',
        '2026-05-14',
        '2026-05-25',
        '2026-07-14',
        '2026-08-15',
        '2026-11-01',
        '2026-11-11',
        '2026-12-25',
      ],
    ],
  ])('%i: exactly the eleven', (year, days) => {
    expect([...frenchPublicHolidays(year)].sort()).toEqual(days);
  });

  it('Easter Sunday itself and Good Friday are not among them (Alsace-Moselle aside)', () => {
    const holidays = frenchPublicHolidays(2026);
    expect(holidays.has('2026-04-05')).toBe(false);
    expect(holidays.has('2026-04-03')).toBe(false);
  });
});

describe('localParts', () => {
  it('gives the local day, ISO weekday and minutes in the organisation’s time zone', () => {
    // 23:30 UTC on Sunday 1 March 2026 is already Monday 00:30 in Paris (CET, UTC+1).
    expect(localParts(new Date('2026-03-01T23:30:00Z'), 'Europe/Paris')).toEqual({
      day: '2026-03-02',
      weekday: 1,
      minutes: 30,
    });
    // Réunion is UTC+4: the same instant is 03:30 there.
    expect(localParts(new Date('2026-03-01T23:30:00Z'), 'Indian/Reunion')).toEqual({
      day: '2026-03-02',
      weekday: 1,
      minutes: 210,
    });
  });

  it('falls back on Europe/Paris for an unknown time zone', () => {
    const at = new Date('2026-03-01T23:30:00Z');
    expect(localParts(at, 'Mars/Olympus_Mons')).toEqual(localParts(at, 'Europe/Paris'));
  });
});

describe('isOffHours', () => {
  const paris = (iso: string): boolean => isOffHours(new Date(iso), 'Europe/Paris', DEFAULT_WORKING_HOURS);

  it.each([
    // Monday 2 March 2026, CET (UTC+1)
    ['2026-03-02T06:59:00Z', true, 'Monday 07:59, before hours'],
    ['2026-03-02T07:00:00Z', false, 'Monday 08:00, the first minute'],
    ['2026-03-02T09:00:00Z', false, 'Monday 10:00'],
    ['2026-03-02T17:59:00Z', false, 'Monday 18:59, the last minute'],
    ['2026-03-02T18:00:00Z', true, 'Monday 19:00, after hours'],
    ['2026-03-02T22:00:00Z', true, 'Monday 23:00'],
    ['2026-03-07T09:00:00Z', true, 'Saturday 10:00'],
    ['2026-03-08T09:00:00Z', true, 'Sunday 10:00'],
    // Holidays on weekdays, in working hours
    ['2026-04-06T08:00:00Z', true, 'Easter Monday 10:00 (CEST)'],
    ['2026-05-14T08:00:00Z', true, 'Ascension Thursday 10:00'],
    ['2026-07-14T08:00:00Z', true, 'Bastille Day (Tuesday) 10:00'],
    ['2026-12-25T09:00:00Z', true, 'Christmas (Friday) 10:00'],
    ['2026-04-07T08:00:00Z', false, 'the Tuesday after Easter Monday'],
  ])('%s → %s (%s)', (iso, off) => {
    expect(paris(iso)).toBe(off);
  });

  it('follows the change to summer time in Europe/Paris (29 March 2026): the same UTC time is an hour later locally', () => {
    // Friday 27 March: CET, UTC+1. Monday 30 March: CEST, UTC+2.
    expect(paris('2026-03-27T06:30:00Z')).toBe(true); // 07:30 CET
    expect(paris('2026-03-30T06:30:00Z')).toBe(false); // 08:30 CEST
    expect(paris('2026-03-27T17:30:00Z')).toBe(false); // 18:30 CET
    expect(paris('2026-03-30T17:30:00Z')).toBe(true); // 19:30 CEST
    // The night of the change: 01:59 UTC is 03:59 CEST on Sunday (weekend anyway), and the local day is right.
    expect(localParts(new Date('2026-03-29T01:59:00Z'), 'Europe/Paris')).toEqual({
      day: '2026-03-29',
      weekday: 7,
      minutes: 3 * 60 + 59,
    });
  });

  it('follows the change back to winter time (25 October 2026)', () => {
    // Friday 23 October: CEST, UTC+2. Monday 26 October: CET, UTC+1.
    expect(paris('2026-10-23T06:30:00Z')).toBe(false); // 08:30 CEST
    expect(paris('2026-10-26T06:30:00Z')).toBe(true); // 07:30 CET
    expect(paris('2026-10-23T17:30:00Z')).toBe(true); // 19:30 CEST
    expect(paris('2026-10-26T17:30:00Z')).toBe(false); // 18:30 CET
  });

  it('uses the organisation’s own days and hours', () => {
    const saturdays: WorkingHours = { days: [2, 3, 4, 5, 6], from: '09:30', to: '12:00' };
    const at = (iso: string): boolean => isOffHours(new Date(iso), 'Europe/Paris', saturdays);
    expect(at('2026-03-07T09:00:00Z')).toBe(false); // Saturday 10:00
    expect(at('2026-03-02T09:00:00Z')).toBe(true); // Monday: not a working day there
    expect(at('2026-03-03T08:29:00Z')).toBe(true); // Tuesday 09:29
    expect(at('2026-03-03T08:30:00Z')).toBe(false); // Tuesday 09:30
    expect(at('2026-03-03T11:00:00Z')).toBe(true); // Tuesday 12:00
  });

  it('reads the holiday in the organisation’s time zone, not in UTC', () => {
    // 23:30 UTC on 13 July is 01:30 on 14 July in Paris: a holiday (and off hours anyway); and
    // 22:30 UTC on 14 July is 00:30 on 15 July, a working day (but at night).
    const allDay: WorkingHours = { days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '23:59' };
    expect(isOffHours(new Date('2026-07-13T23:30:00Z'), 'Europe/Paris', allDay)).toBe(true);
    expect(isOffHours(new Date('2026-07-14T22:30:00Z'), 'Europe/Paris', allDay)).toBe(false);
    expect(isOffHours(new Date('2026-07-14T21:30:00Z'), 'Europe/Paris', allDay)).toBe(true);
  });
});

describe('workingHoursOf', () => {
  it('keeps a well-formed value', () => {
    expect(workingHoursOf({ days: [1, 2, 3], from: '07:30', to: '16:00' })).toEqual({
      days: [1, 2, 3],
      from: '07:30',
      to: '16:00',
    });
    expect(workingHoursOf({ days: [6], from: '00:00', to: '24:00' })).toEqual({
      days: [6],
      from: '00:00',
      to: '24:00',
    });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'Mon-Fri 8-19'],
    ['an array', [1, 2, 3]],
    ['days not an array', { days: '1-5', from: '08:00', to: '19:00' }],
    ['a weekday 0', { days: [0, 1], from: '08:00', to: '19:00' }],
    ['a weekday 8', { days: [1, 8], from: '08:00', to: '19:00' }],
    ['a fractional weekday', { days: [1.5], from: '08:00', to: '19:00' }],
    ['an hour without leading zero', { days: [1], from: '8:00', to: '19:00' }],
    ['a missing end', { days: [1], from: '08:00' }],
    ['a numeric hour', { days: [1], from: 8, to: 19 }],
    ['an hour 25:00', { days: [1], from: '08:00', to: '25:00' }],
    ['a minute 61', { days: [1], from: '08:61', to: '19:00' }],
    ['no working day at all', { days: [], from: '08:00', to: '19:00' }],
    ['hours that end before they start', { days: [1], from: '19:00', to: '08:00' }],
  ])('falls back on the defaults for %s', (_label, raw) => {
    expect(workingHoursOf(raw)).toEqual(DEFAULT_WORKING_HOURS);
  });
});
