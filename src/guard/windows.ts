/**
 * Windows longer than a day (issue 13): a patient attacker lives just under every daily level — a
 * few national reads a day, a usual day raised a little each week — so the guard keeps the account's
 * past active days (persons, national reads, off-hours persons, the day it was expected to have) and
 * sums them over 7 and 30 calendar days. It also remembers the step-ups the owner gave and the days
 * the account drew a response, so that a response the owner's routine login clears is not the end
 * of it (escalation, signals.ts). Pure: state.ts folds, signals.ts measures.
 */

/** One past active day of the account. */
export interface PastDay {
  /** The organisation's local day (YYYY-MM-DD). */
  day: string;
  /** Distinct persons reached that day. */
  persons: number;
  /** Of those, through justified national reads. */
  national: number;
  /** Reached outside working hours. */
  offHours: number;
  /** The usual day the account was held to that day (null: it had no history of its own yet). */
  expected: number | null;
  /** Rows of approved exports produced that day (absent: none). */
  exported?: number;
  /** Of those, made outside working hours (absent: none). */
  offHoursExported?: number;
}

/** Past days kept: the longest window. */
export const PAST_DAYS = 30;
/** The window of escalation and of the "week" signals, in calendar days (today included). */
export const WEEK_DAYS = 7;
/** The window of the "month" signals, in calendar days (today included). */
export const MONTH_DAYS = 30;

/** Days since the epoch of a YYYY-MM-DD day (calendar arithmetic, no time zone involved). */
export function dayNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000);
}

/** Whether `day` falls in the `span` calendar days that end with `today` (today included). */
export function within(day: string, today: string, span: number): boolean {
  const age = dayNumber(today) - dayNumber(day);
  return age >= 0 && age < span;
}

/** Appends a finished day, keeping the last PAST_DAYS. */
export function pushPast(past: readonly PastDay[] | undefined, day: PastDay): PastDay[] {
  return [...(past ?? []), day].slice(-PAST_DAYS);
}

/** The sum of `pick` over the past days in the window that ends today (today's own counters excluded). */
export function pastSum(
  past: readonly PastDay[] | undefined,
  today: string,
  span: number,
  pick: (d: PastDay) => number,
): number {
  let sum = 0;
  for (const d of past ?? []) if (within(d.day, today, span)) sum += pick(d);
  return sum;
}

/**
 * Persons beyond the usual over a window: the past days' signed differences (a quiet day makes up
 * for a busy one, so honest variance mostly cancels) plus today's excess once there is one (today
 * is not over: a morning below the usual day proves nothing). Days without a history of its own
 * do not count. Never below zero.
 */
export function excessOver(
  past: readonly PastDay[] | undefined,
  today: string,
  span: number,
  todayPersons: number,
  todayExpected: number | null,
): number {
  const before = pastSum(past, today, span, (d) => (d.expected === null ? 0 : d.persons - d.expected));
  const now = todayExpected === null ? 0 : Math.max(0, todayPersons - todayExpected);
  return Math.max(0, Math.round(before + now));
}

/** Days of the window that count in excessOver (past days with a history of its own, and today). */
export function daysCounted(past: readonly PastDay[] | undefined, today: string, span: number): number {
  return 1 + (past ?? []).filter((d) => d.expected !== null && within(d.day, today, span)).length;
}

/** A step-up the owner gave: the value proven and the day (escalation, and the acks of long windows). */
export interface Given {
  value: number;
  day: string;
}

/** Keeps only what falls in the week that ends today. */
export function recentGiven(given: Record<string, Given> | undefined, today: string): Record<string, Given> {
  return Object.fromEntries(Object.entries(given ?? {}).filter(([, g]) => within(g.day, today, WEEK_DAYS)));
}

/**
 * A signal's family: the same measure over a minute, an hour, a day, a week or a month
 * (`national_persons`, `national_persons_week`, `national_persons_month`). A step-up given for one
 * is an answer the owner already gave about that measure (escalation, signals.ts).
 */
export function signalFamily(name: string): string {
  return name.replace(/_(per_)?(minute|hour|day|week|month)$/, '');
}

/**
 * Whether the owner gave a step-up for a signal of `name`'s family within the last `span` calendar
 * days (today included): the next step-up for that family escalates.
 */
export function gaveForFamily(
  given: Record<string, Given> | undefined,
  name: string,
  today: string,
  span: number,
): boolean {
  const family = signalFamily(name);
  return Object.entries(given ?? {}).some(
    ([other, g]) => signalFamily(other) === family && within(g.day, today, span),
  );
}

/** Days of the week that ends today on which the account drew a response, with today if `now` is one. */
export function responseDays(responded: readonly string[] | undefined, today: string, now: boolean): number {
  const days = new Set((responded ?? []).filter((d) => within(d, today, WEEK_DAYS)));
  if (now) days.add(today);
  return days.size;
}

/** Adds today to the days with a response (the week's only). */
export function noteResponse(responded: readonly string[] | undefined, today: string): string[] {
  const kept = (responded ?? []).filter((d) => within(d, today, WEEK_DAYS) && d !== today);
  return [...kept, today];
}
