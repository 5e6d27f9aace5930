/**
 * One incident, for security officers and the DPO: its timeline and 72-hour clock, the persons
 * concerned by category and by field (counts only), and the notification to the CNIL (GDPR art. 33,
 * DraftEditor.tsx), all from GET /api/v1/incidents/{id}/draft — which reads no person, so it is no
 * audit event. The path carries the incident's id, which names no person.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useEffect, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { useSession } from '../session.tsx';
import { type Draft, DraftEditor } from './DraftEditor.tsx';
import { incidentMessages } from './messages.ts';
import { Timeline } from './Timeline.tsx';

const STATUSES = ['registered', 'deregistered', 'candidate', 'archived'] as const;

/** The incident's page. */
export default function IncidentFilePage(): ReactNode {
  const t = useT(incidentMessages);
  const when = useFormatDateTime();
  const { id } = useParams();
  const location = useLocation();
  const { me } = useSession();
  const unmatched = (location.state as { unmatched?: number[] } | null)?.unmatched ?? [];
  const [draft, setDraft] = useState<Draft | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!id) return;
    must(api.GET('/api/v1/incidents/{id}/draft', { params: { path: { id } } })).then(setDraft, (e: unknown) =>
      setError((e as Error).message),
    );
  }, [id]);
  useEffect(() => {
    document.title = `${draft ? t('incidentTitle', { at: when(draft.timeline.declaredAt) }) : t('listTitle')} — Rempart`;
  }, [t, when, draft]);

  if (!draft) return error ? <Alert severity="error" small description={error} /> : <p>{t('loading')}</p>;
  return (
    <>
      <h1>{t('incidentTitle', { at: when(draft.timeline.declaredAt) })}</h1>
      {unmatched.length > 0 && (
        <Alert
          severity="info"
          small
          description={t('unmatched', { n: unmatched.length, lines: unmatched.join(', ') })}
          className="fr-mb-3w"
        />
      )}
      <Timeline timeline={draft.timeline} />
      <p>
        {t('breachDates', {
          from: when(draft.breachStartedAt),
          to: when(draft.breachEndedAt),
          detected: when(draft.detectedAt),
        })}{' '}
        {t('recordCount', { persons: draft.personCount, records: draft.recordCount })}
      </p>
      <div className="fr-grid-row fr-grid-row--gutters">
        <div className="fr-col-12 fr-col-md-6">
          <Table
            caption={t('countsCaption')}
            headers={[t('category'), t('count')]}
            data={[
              ...STATUSES.map((s) => [
                t(s),
                draft.personCategories ? String(draft.personCategories[s]) : t('notCounted'),
              ]),
              [t('minors'), draft.minors === null ? t('notCounted') : String(draft.minors)],
              [t('total'), String(draft.personCount)],
            ]}
          />
        </div>
        <div className="fr-col-12 fr-col-md-6">
          <Table
            caption={t('fieldsCaption')}
            headers={[t('field'), t('count')]}
            data={Object.entries(draft.dataCategories).map(([f, n]) => [f, String(n)])}
          />
        </div>
      </div>
      {me?.account.role === 'security_officer' && (
        <p>
          <Link className="fr-link" to={`/securite/incidents/${draft.incidentId}`}>
            {t('personsLink')}
          </Link>
        </p>
      )}

      <DraftEditor draft={draft} onChange={setDraft} />
    </>
  );
}
