/** How each field of a person is shown; only the fields the server returned are ever shown. */
import type { ReactNode } from 'react';

type Person = Record<string, unknown>;

/** Registration statuses in words (the API gives codes). */
const STATUS: Record<string, [string, string]> = {
  registered: ['inscrit', 'registered'],
  deregistered: ['désinscrit', 'deregistered'],
  candidate: ['candidat', 'candidate'],
  archived: ['archivé', 'archived'],
};

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

/** The field `name` of `person`, formatted for reading in `lang`. */
export function formatField(name: string, person: Person, lang: 'fr' | 'en' = 'fr'): ReactNode {
  const value = person[name];
  if (name === 'status' && typeof value === 'string' && STATUS[value])
    return STATUS[value][lang === 'fr' ? 0 : 1];
  if (value === null || value === undefined || value === '') return '—';
  if (name === 'birthDate' && typeof value === 'string') return formatBirthDate(value, lang);
  if (name === 'address' && typeof value === 'object') {
    const a = value as { line: string; postalCode: string; city: string };
    return `${a.line}, ${a.postalCode} ${a.city}`;
  }
  if (name === 'birthPlace' && typeof value === 'object') {
    const p = value as { commune?: string; department?: string; country?: string };
    return [p.commune, p.department, p.country].filter(Boolean).join(', ') || '—';
  }
  if (name === 'registrationPeriods' && Array.isArray(value)) {
    return (
      <ul className="fr-mb-0">
        {(value as { startedOn: string; endedOn: string | null }[]).map((period) => (
          <li key={period.startedOn}>
            {period.startedOn} → {period.endedOn ?? '…'}
          </li>
        ))}
      </ul>
    );
  }
  return String(value);
}
