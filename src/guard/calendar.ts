/**
 * The organisation's calendar as the guard sees it: its local day (the unit of daily counters and
 * baselines), and whether a moment falls outside its working hours (`organisations.working_hours`,
 * in its time zone) or on a French public holiday (Code du travail, article L3133-1).
 */

/** An organisation's working week: ISO weekdays (1 = Monday) and local hours "HH:MM". */
export interface WorkingHours {
  days: number[];
  from: string;
  to: string;
}

export const DEFAULT_WORKING_HOURS: WorkingHours = { days: [1, 2, 3, 4, 5], from: '08:00', to: '19:00' };

export interface LocalParts {
  /** YYYY-MM-DD */
  day: string;
  /** ISO weekday, 1 = Monday */
  weekday: number;
  /** Minutes since local midnight */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The local date, weekday and time of `at` in `timeZone` (an IANA name; unknown names fall back to Europe/Paris). */
export function localParts(at: Date, timeZone: string): LocalParts {
  // The answer changes once a minute: every request of that minute shares it (Intl is slow).
  const minute = Math.floor(at.getTime() / 60_000);
  const cached = lastParts.get(timeZone);
  if (cached && cached.minute === minute) return cached.parts;
  const parts = computeParts(at, timeZone);
  lastParts.set(timeZone, { minute, parts });
  return parts;
}

const lastParts = new Map<string, { minute: number; parts: LocalParts }>();

function computeParts(at: Date, timeZone: string): LocalParts {
  let f: Intl.DateTimeFormat;
  try {
    f = formatter(timeZone);
  } catch {
    f = formatter('Europe/Paris');
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  return {
    day: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: WEEKDAYS[parts.weekday ?? 'Mon'] ?? 1,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Easter Sunday of `year` (Gregorian; the anonymous algorithm of Meeus/Jones/Butcher), as YYYY-MM-DD. */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function addDays(day: string, n: number): string {
  const t = Date.parse(`${day}T12:00:00Z`) + n * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

const holidayCache = new Map<number, Set<string>>();

/** The eleven French public holidays of `year` (metropolitan France). */
export function frenchPublicHolidays(year: number): Set<string> {
  let set = holidayCache.get(year);
  if (!set) {
    const easter = easterSunday(year);
    const fixed = ['01-01', '05-01', '05-08', '07-14', '08-15', '11-01', '11-11', '12-25'].map(
      (md) => `${year}-${md}`,
    );
    set = new Set([...fixed, addDays(easter, 1), addDays(easter, 39), addDays(easter, 50)]);
    holidayCache.set(year, set);
  }
  return set;
}

/** True when `at` is outside the organisation's working hours, or on a public holiday. */
export function isOffHours(
  at: Date,
  timeZone: string,
  hours: WorkingHours,
  local: LocalParts = localParts(at, timeZone),
): boolean {
  if (!hours.days.includes(local.weekday)) return true;
  if (frenchPublicHolidays(Number(local.day.slice(0, 4))).has(local.day)) return true;
  return local.minutes < minutesOf(hours.from) || local.minutes >= minutesOf(hours.to);
}

/** Reads `organisations.working_hours` defensively (a malformed value means the defaults). */
export function workingHoursOf(raw: unknown): WorkingHours {
  const value = raw as Partial<WorkingHours> | null;
  // A real time of day ("24:00" closes a day that ends at midnight); no working day at all, or
  // hours that end before they start, would make every moment off-hours: malformed too.
  const hhmm = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
  if (
    value &&
    Array.isArray(value.days) &&
    value.days.length > 0 &&
    value.days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7) &&
    typeof value.from === 'string' &&
    hhmm.test(value.from) &&
    typeof value.to === 'string' &&
    hhmm.test(value.to) &&
    minutesOf(value.from) < minutesOf(value.to)
  ) {
    return { days: value.days, from: value.from, to: value.to };
  }
  return DEFAULT_WORKING_HOURS;
}
