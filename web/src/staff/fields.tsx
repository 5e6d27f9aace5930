/** How each field of a person is shown; only the fields the server returned are ever shown. */
import type { ReactNode } from 'react';
import { formatBirthDate } from './birth-date.ts';

type Person = Record<string, unknown>;

/** Registration statuses in words (the API gives codes). */
const STATUS: Record<string, [string, string]> = {
  registered: ['inscrit', 'registered'],
  deregistered: ['désinscrit', 'deregistered'],
  candidate: ['candidat', 'candidate'],
  archived: ['archivé', 'archived'],
};

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
