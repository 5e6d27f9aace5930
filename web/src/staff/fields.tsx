/** How each field of a person is shown; only the fields the server returned are ever shown. */
import type { ReactNode } from 'react';

type Person = Record<string, unknown>;

/** The field `name` of `person`, formatted for reading. */
export function formatField(name: string, person: Person): ReactNode {
  const value = person[name];
  if (value === null || value === undefined || value === '') return '—';
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
