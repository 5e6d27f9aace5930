/**
 * The drill's honest traffic model and calendar (pure parts): French public holidays and Paris
 * wall-clock time, the simulated time's first Monday, the seeded random source, one owner's
 * working day (hours, volume, what counselors and partners do), and office workstations.
 */
import { describe, expect, it } from 'vitest';
import {
  addDays,
  isWorkingDay,
  mondayMorning,
  nextWorkingMorning,
  wallTime,
  zonedInstant,
} from '../drill/calendar.ts';
import {
  activity,
  DAY_MODEL,
  justification,
  mistyped,
  ORGANISATION_DAY,
  organisationFactor,
  planDay,
} from '../drill/honest-day.ts';
import type { HonestAccountPlan } from '../drill/honest-plan.ts';
import { Random } from '../drill/random.ts';
import { outsideAddress, Workstations } from '../drill/workstations.ts';
import { easterSunday, frenchPublicHolidays } from '../src/guard/calendar.ts';

describe('drill calendar', () => {
  it('knows the eleven French public holidays, Easter-based ones included', () => {
    // The drill's working days come from the guard's calendar.
    expect(easterSunday(2026)).toBe('2026-04-05');
    expect(easterSunday(2027)).toBe('2027-03-28');
    expect([...frenchPublicHolidays(2026)].sort()).toEqual([
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
    ]);
    expect(isWorkingDay({ year: 2026, month: 12, day: 25 })).toBe(false); // Friday, Christmas
    expect(isWorkingDay({ year: 2026, month: 12, day: 26 })).toBe(false); // Saturday
    expect(isWorkingDay({ year: 2026, month: 12, day: 28 })).toBe(true); // Monday
  });

  it('converts Paris wall-clock time both ways, summer time included', () => {
    expect(zonedInstant({ year: 2026, month: 1, day: 5 }, 8).toISOString()).toBe('2026-01-05T07:00:00.000Z');
    expect(zonedInstant({ year: 2026, month: 7, day: 6 }, 8, 30).toISOString()).toBe(
      '2026-07-06T06:30:00.000Z',
    );
    expect(wallTime(new Date('2026-03-29T01:30:00Z'))).toMatchObject({
      day: 29,
      hour: 3,
      minute: 30,
      weekday: 0,
    });
    expect(addDays({ year: 2026, month: 12, day: 30 }, 3)).toEqual({ year: 2027, month: 1, day: 2 });
  });

  it('starts the simulated time on the first Monday at 08:00 Paris at or after a time', () => {
    expect(mondayMorning(new Date('2026-11-24T10:00:00Z')).toISOString()).toBe('2026-11-30T07:00:00.000Z');
    expect(mondayMorning(new Date('2026-11-30T06:59:00Z')).toISOString()).toBe('2026-11-30T07:00:00.000Z');
    expect(mondayMorning(new Date('2026-11-30T07:00:01Z')).toISOString()).toBe('2026-12-07T07:00:00.000Z');
    expect(mondayMorning(new Date('2026-03-26T12:00:00Z')).toISOString()).toBe('2026-03-30T06:00:00.000Z');
  });

  it('finds the next working morning: today before 09:00, else the next working day, holidays skipped', () => {
    // Monday 07:30 Paris: today. Monday 09:00: tomorrow. Friday 10:00: Monday.
    expect(nextWorkingMorning(new Date('2026-11-30T06:30:00Z'))).toEqual({ year: 2026, month: 11, day: 30 });
    expect(nextWorkingMorning(new Date('2026-11-30T08:00:00Z'))).toEqual({ year: 2026, month: 12, day: 1 });
    expect(nextWorkingMorning(new Date('2026-12-04T09:00:00Z'))).toEqual({ year: 2026, month: 12, day: 7 });
    // Thursday 24 December, evening: Christmas (Friday) and the weekend skipped.
    expect(nextWorkingMorning(new Date('2026-12-24T18:00:00Z'))).toEqual({ year: 2026, month: 12, day: 28 });
  });
});

describe('drill random source', () => {
  it('gives the same draws for the same seed and label, others for others', () => {
    const a = new Random(7).fork('account 1');
    const b = new Random(7).fork('account 1');
    const c = new Random(7).fork('account 2');
    const draws = (r: Random) => Array.from({ length: 5 }, () => r.next());
    const first = draws(a);
    expect(draws(b)).toEqual(first);
    expect(draws(c)).not.toEqual(first);
    const r = new Random(1);
    for (let i = 0; i < 1000; i += 1) {
      const n = r.int(3, 5);
      expect(n >= 3 && n <= 5 && Number.isInteger(n)).toBe(true);
    }
    expect(new Set(r.sample([1, 2, 3, 4, 5], 3)).size).toBe(3);
    expect(r.sample([1, 2], 5).sort()).toEqual([1, 2]);
  });
});

describe('an honest working day', () => {
  const worklist = Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, agencyId: `${1000000 + i}A` }));
  const account = (role: HonestAccountPlan['role'], dailyMean: number): HonestAccountPlan => ({
    index: 0,
    login: 'honest.x.0000',
    role,
    organisation: 'FT-00000',
    workstation: { address: '10.20.0.2', userAgent: 'browser' },
    worklist,
    elsewhere: [{ lastName: 'Martin', firstNames: 'Jeanne', birthDate: '1990-01-01' }],
    dailyMean,
  });

  it('starts 08:30–09:30 with a login, ends by 19:30, at a realistic volume around the personal mean', () => {
    const counselor = account('counselor', 18);
    const random = new Random(2024);
    const volumes: number[] = [];
    let late = 0;
    let national = 0;
    let absent = 0;
    for (let day = 0; day < 400; day += 1) {
      const actions = planDay(counselor, random.fork(day));
      if (actions.length === 0) {
        absent += 1;
        continue;
      }
      expect(actions[0]!.kind).toBe('login');
      expect(actions[0]!.minute).toBeGreaterThanOrEqual(8 * 60 + 30);
      expect(actions[0]!.minute).toBeLessThanOrEqual(9 * 60 + 30);
      const last = actions.at(-1)!.minute;
      expect(last).toBeLessThanOrEqual(19 * 60 + 30);
      if (last > 18 * 60 + 15) late += 1;
      for (let i = 1; i < actions.length; i += 1)
        expect(actions[i]!.minute).toBeGreaterThanOrEqual(actions[i - 1]!.minute);
      const persons = new Set(
        actions.flatMap((a) => (a.kind === 'view' || a.kind === 'lookup' ? [a.item.id] : [])),
      );
      volumes.push(persons.size);
      if (actions.some((a) => a.kind === 'national')) national += 1;
    }
    const mean = volumes.reduce((a, b) => a + b, 0) / volumes.length;
    expect(mean).toBeGreaterThan(15);
    expect(mean).toBeLessThan(21);
    // No bursts: never more than 1.8 × the mean.
    expect(Math.max(...volumes)).toBeLessThanOrEqual(Math.round(18 * DAY_MODEL.spreadRange[1]));
    expect(Math.min(...volumes)).toBeGreaterThanOrEqual(Math.round(18 * DAY_MODEL.spreadRange[0]));
    // A national search about one day in three; a few days away; work past 18:15 rarely.
    expect(national / volumes.length).toBeGreaterThan(0.25);
    expect(national / volumes.length).toBeLessThan(0.42);
    expect(absent).toBeGreaterThan(5);
    expect(absent).toBeLessThan(40);
    expect(late).toBeLessThan(30);
  });

  it('partners never search nationally; the same seed gives the same day', () => {
    const partner = account('partner_counselor', 10);
    for (let day = 0; day < 200; day += 1) {
      expect(planDay(partner, new Random(5).fork(day)).some((a) => a.kind === 'national')).toBe(false);
    }
    expect(planDay(partner, new Random(9).fork('d'))).toEqual(planDay(partner, new Random(9).fork('d')));
  });

  it('an organisation has quieter and busier days, and a campaign day about one in thirty: its day scales every account’s', () => {
    const random = new Random(13);
    const factors = Array.from({ length: 3000 }, (_, day) => organisationFactor(random.fork(`org ${day}`)));
    const campaigns = factors.filter((f) => f > Math.exp(3 * ORGANISATION_DAY.spread)).length;
    expect(campaigns / factors.length).toBeGreaterThan(0.02);
    expect(campaigns / factors.length).toBeLessThan(0.05);
    const ordinary = factors.filter((f) => f <= Math.exp(3 * ORGANISATION_DAY.spread)).map(Math.log);
    const sd = Math.sqrt(ordinary.reduce((a, x) => a + x * x, 0) / ordinary.length);
    expect(sd).toBeGreaterThan(0.08);
    expect(sd).toBeLessThan(0.12);
    expect(Math.max(...factors)).toBeLessThan(1.5 * Math.exp(4 * ORGANISATION_DAY.spread));
    // The same owner and day's draw reads about 1.4 times as many persons on a 1.4 day.
    const partner = account('partner_counselor', 20);
    const persons = (factor: number): number => {
      let total = 0;
      for (let day = 0; day < 200; day += 1) {
        const actions = planDay(partner, new Random(21).fork(day), factor);
        total += new Set(
          actions.flatMap((a) => (a.kind === 'view' || a.kind === 'lookup' ? [a.item.id] : [])),
        ).size;
      }
      return total;
    };
    expect(persons(1.4) / persons(1)).toBeGreaterThan(1.3);
    expect(persons(1.4) / persons(1)).toBeLessThan(1.5);
  });

  it('peaks in the morning and dips at lunch; justifications are 15–500 characters; typos change one character', () => {
    expect(activity(10 * 60)).toBeGreaterThan(activity(15 * 60));
    expect(activity(12 * 60 + 30)).toBeLessThan(activity(15 * 60) / 4);
    const random = new Random(3);
    for (let i = 0; i < 20; i += 1) {
      const text = justification(random);
      expect(text.length).toBeGreaterThanOrEqual(15);
      expect(text.length).toBeLessThanOrEqual(500);
      const typo = mistyped('1234567A', random);
      expect(typo).toHaveLength(8);
      expect([...typo].filter((ch, j) => ch !== '1234567A'[j])).toHaveLength(1);
    }
  });
});

describe('drill workstations', () => {
  it('gives each staff member a fixed office seat per organisation, and outsiders an address outside', () => {
    const seats = new Workstations(['FT-DG', 'FT-75056', 'CE-75']);
    expect(seats.next('FT-75056').address).toBe('10.20.1.2');
    expect(seats.next('FT-75056').address).toBe('10.20.1.3');
    expect(seats.next('CE-75').address).toBe('10.20.2.2');
    expect(seats.next('FT-DG').userAgent).toMatch(/^Mozilla\/5\.0/);
    expect(outsideAddress('attacker')).toMatch(/^203\.0\.113\.\d+$/);
    expect(outsideAddress('attacker')).toBe(outsideAddress('attacker'));
  });
});
