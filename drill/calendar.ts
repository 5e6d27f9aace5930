/**
 * The drill's calendar: wall-clock time in the organisations' time zone (Europe/Paris) and French
 * public holidays (Code du travail, article L3133-1), to place honest work on working days and
 * hours, and the simulated time's start on a Monday morning. Pure functions; Intl gives the offsets
 * (summer time included), so no time-zone table is kept here.
 */
import { frenchPublicHolidays } from '../src/guard/calendar.ts';

export const PARIS = 'Europe/Paris';
const DAY_MS = 86_400_000;

/** A wall-clock date and time in a zone. */
export interface WallTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 Sunday … 6 Saturday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall-clock time of an instant in `zone`. */
export function wallTime(at: Date, zone = PARIS): WallTime {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(String(parts.weekday)),
  };
}

/** The instant at which the wall clock in `zone` reads this date and time (the first, on a change of offset). */
export function zonedInstant(
  date: { year: number; month: number; day: number },
  hour: number,
  minute = 0,
  zone = PARIS,
): Date {
  const wanted = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  // Two corrections by the zone's offset converge (offsets change by at most an hour).
  let guess = wanted;
  for (let i = 0; i < 3; i += 1) {
    const seen = wallTime(new Date(guess), zone);
    const shown = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute);
    if (shown === wanted) break;
    guess += wanted - shown;
  }
  return new Date(guess);
}

/** The calendar date `days` after `date` (no time zone involved). */
export function addDays(
  date: { year: number; month: number; day: number },
  days: number,
): { year: number; month: number; day: number } {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day) + days * DAY_MS);
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** `2026-12-07` */
export function isoDay(date: { year: number; month: number; day: number }): string {
  return `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/** The weekday (0 Sunday … 6 Saturday) of a calendar date. */
export function weekdayOf(date: { year: number; month: number; day: number }): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** True on Monday to Friday, public holidays excepted (the guard's calendar: both agree by construction). */
export function isWorkingDay(date: { year: number; month: number; day: number }): boolean {
  const weekday = weekdayOf(date);
  return weekday >= 1 && weekday <= 5 && !frenchPublicHolidays(date.year).has(isoDay(date));
}

/**
 * The next working day (Paris) at whose `hour`:00 it is not yet: today if it is a working day and
 * that hour is still ahead. A scenario sets the clock there to start a day at the office.
 */
export function nextWorkingMorning(now: Date, hour = 9): { year: number; month: number; day: number } {
  const wall = wallTime(now);
  let date: { year: number; month: number; day: number } = {
    year: wall.year,
    month: wall.month,
    day: wall.day,
  };
  if (wall.hour >= hour) date = addDays(date, 1);
  while (!isWorkingDay(date)) date = addDays(date, 1);
  return date;
}

/** The first Monday at `hour`:00 (Paris) that is at or after `notBefore`. */
export function mondayMorning(notBefore: Date, hour = 8): Date {
  let date: { year: number; month: number; day: number } = wallTime(notBefore);
  for (let i = 0; i < 15; i += 1) {
    if (weekdayOf(date) === 1) {
      const at = zonedInstant(date, hour);
      if (at.getTime() >= notBefore.getTime()) return at;
    }
    date = addDays(date, 1);
  }
  throw new Error('no Monday within two weeks');
}

/** `Mon 2026-12-07`: a calendar day for progress lines. */
export function dayLabel(date: { year: number; month: number; day: number }): string {
  return `${WEEKDAYS[weekdayOf(date)]} ${isoDay(date)}`;
}
