/** Birth dates in the console: whole or partial, as a person writes them. */

const MONTHS = {
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
} as const;

/**
 * A birth date as civil status gives it (the API's form: 00 for an unknown day or month):
 * "12 mai 1919", "mai 1919", "1935" (src/registry/birth-date.ts, formatBirthDate, on the server).
 */
export function formatBirthDate(value: string, lang: 'fr' | 'en' = 'fr'): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return value;
  const [, year, mm, dd] = match as unknown as [string, string, string, string];
  const month = MONTHS[lang][Number(mm) - 1];
  if (Number(mm) === 0 || month === undefined) return year;
  if (Number(dd) === 0) return `${month} ${year}`;
  return `${lang === 'fr' && Number(dd) === 1 ? '1er' : Number(dd)} ${month} ${year}`;
}
