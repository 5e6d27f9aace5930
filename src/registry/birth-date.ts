/**
 * Birth dates as civil status knows them: whole (1985-03-12), or with the day unknown (1919-05-00),
 * or with the day and the month unknown (1935-00-00). INSEE's files write an unknown part as 00
 * (19190500); the registry keeps that one form everywhere: stored, exported, imported and searched
 * (docs/IMPORT.md, "Partial birth dates"). A NIR then carries a special month code (20, 30–42,
 * 50–99) in place of an unknown month (nir.ts).
 *
 * Rules for what computes with a birth date:
 * - "is in the future" and "is before 1900" compare the first possible day (1919-05-00: 1919-05-01),
 *   so a partial date is refused only when every day it may stand for is;
 * - something that must come after the birth (a registration) must come after the last possible day
 *   (1919-05-00: 1919-05-31; 1935-00-00: 1935-12-31);
 * - the age on a day, and "is a minor", take the last possible day: someone who may still be a minor
 *   counts as one (an incident's notice to minors errs on the side of telling them).
 */

const FORM = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A birth date's parts: `month` and `day` are null when unknown. */
export interface BirthDateParts {
  year: number;
  month: number | null;
  day: number | null;
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();
const pad = (n: number): string => String(n).padStart(2, '0');

/** The parts of a birth date in the registry's form, or undefined if it is not one. */
export function parseBirthDate(value: string): BirthDateParts | undefined {
  const match = FORM.exec(value);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month === 0) return day === 0 ? { year, month: null, day: null } : undefined;
  if (month > 12) return undefined;
  if (day === 0) return { year, month, day: null };
  return day <= daysIn(year, month) ? { year, month, day } : undefined;
}

/** True for a whole or partial birth date in the registry's form (YYYY-MM-DD, YYYY-MM-00, YYYY-00-00). */
export function isBirthDate(value: string): boolean {
  return parseBirthDate(value) !== undefined;
}

/** True when the day (and perhaps the month) is unknown. */
export function isPartialBirthDate(value: string): boolean {
  const parts = parseBirthDate(value);
  return parts !== undefined && parts.day === null;
}

/** The first day a birth date may stand for (YYYY-MM-DD). */
export function earliestBirthDay(parts: BirthDateParts): string {
  return `${parts.year}-${pad(parts.month ?? 1)}-${pad(parts.day ?? 1)}`;
}

/** The last day a birth date may stand for (YYYY-MM-DD). */
export function latestBirthDay(parts: BirthDateParts): string {
  const month = parts.month ?? 12;
  return `${parts.year}-${pad(month)}-${pad(parts.day ?? daysIn(parts.year, month))}`;
}

/**
 * A birth date as typed in a search, in the registry's form: "1919-05" is 1919-05-00, "1935" is
 * 1935-00-00; the registry's own forms pass unchanged. Undefined when it is none of these.
 */
export function birthDateQuery(typed: string): string | undefined {
  const value = typed.trim();
  const form = /^\d{4}$/.test(value) ? `${value}-00-00` : /^\d{4}-\d{2}$/.test(value) ? `${value}-00` : value;
  return isBirthDate(form) ? form : undefined;
}

/** True when someone born on `birthDate` may be under 18 on `at`'s calendar day (UTC): the last possible birth day counts. */
export function isMinorOn(birthDate: string, at: Date): boolean {
  const parts = parseBirthDate(birthDate);
  if (!parts) throw new RangeError('not a birth date');
  const [y, m, d] = latestBirthDay(parts).split('-').map(Number) as [number, number, number];
  const eighteenth = Date.UTC(y + 18, m - 1, d);
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  return day < eighteenth;
}

const MONTHS: Record<'fr' | 'en', readonly string[]> = {
  fr: [
    'janvier',
    'février',
    'mars',
    'avril',
    'mai',
    'juin',
    'juillet',
    'août',
    'septembre',
    'octobre',
    'novembre',
    'décembre',
  ],
  en: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
};

/**
 * A birth date as a person reads it: "12 mai 1919", "mai 1919", "1935" (English: "12 May 1919",
 * "May 1919", "1935"). A value that is not a birth date is returned unchanged.
 */
export function formatBirthDate(value: string, lang: 'fr' | 'en' = 'fr'): string {
  const parts = parseBirthDate(value);
  if (!parts) return value;
  if (parts.month === null) return String(parts.year);
  const month = MONTHS[lang][parts.month - 1]!;
  if (parts.day === null) return `${month} ${parts.year}`;
  return `${lang === 'fr' && parts.day === 1 ? '1er' : parts.day} ${month} ${parts.year}`;
}
