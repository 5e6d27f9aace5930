/** The export screens' calls (GET /api/v1/exports, /options) and how an export's request is put in words. */
import { api, must } from '../api/client.ts';
import type { exportMessages } from './messages.ts';

export type ExportItem = Awaited<ReturnType<typeof loadExports>>['exports'][number];
export type ExportOptions = Awaited<ReturnType<typeof loadOptions>>;
type Translate = (
  key: keyof (typeof exportMessages)['fr'],
  values?: Record<string, string | number>,
) => string;

/** The exports the caller may see (own; a manager's organisation's; all for the DPO). */
export const loadExports = () => must(api.GET('/api/v1/exports'));

/** The caller's purposes with their exportable fields, and the recipient organisations. */
export const loadOptions = () => must(api.GET('/api/v1/exports/options'));

/** A day (YYYY-MM-DD) for people. */
export function dayOf(iso: string, lang: 'fr' | 'en'): string {
  return new Date(`${iso}T12:00:00Z`).toLocaleDateString(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
  });
}

/** The fields of an export, by their names for people. */
export function fieldsOf(t: Translate, fields: readonly string[]): string {
  return fields.map((f) => t(`field_${f}` as 'field_nir')).join(', ');
}

/** Which persons an export selects, in words: statuses and registration dates only (no free text). */
export function filterOf(t: Translate, filter: ExportItem['filter'], lang: 'fr' | 'en'): string {
  const parts = [
    ...(filter.statuses
      ? [t('filterStatuses', { statuses: filter.statuses.map((s) => t(`status_${s}`)).join(', ') })]
      : []),
    ...(filter.registeredFrom ? [t('filterFrom', { date: dayOf(filter.registeredFrom, lang) })] : []),
    ...(filter.registeredTo ? [t('filterTo', { date: dayOf(filter.registeredTo, lang) })] : []),
  ];
  return parts.length === 0 ? t('filterAll') : parts.join(' ; ');
}
