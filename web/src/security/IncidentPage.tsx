/**
 * An incident (GET /api/v1/incidents/{id}): the confirmed compromise, its window, its scope (persons
 * per field) and the persons concerned by internal id, never by identity; each one's access history
 * (POST /api/v1/persons/{id}/access-history, a justified national read for an incident
 * investigation, on record). The path carries the incident's id, which names no person.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useEffect, useState } from 'react';
import { useParams } from 'react-router';
import { api, must } from '../api/client.ts';
import type { paths } from '../api/schema';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { Timeline } from '../incidents/Timeline.tsx';
import { securityMessages } from './messages.ts';

type Incident = paths['/api/v1/incidents/{id}']['get']['responses'][200]['content']['application/json'];
type History =
  paths['/api/v1/persons/{id}/access-history']['post']['responses'][200]['content']['application/json'];

/** The incident screen. */
export function IncidentPage(): ReactNode {
  const t = useT(securityMessages);
  const when = useFormatDateTime();
  const { id } = useParams();
  const [offset, setOffset] = useState(0);
  const [incident, setIncident] = useState<Incident | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [justification, setJustification] = useState('');
  const [history, setHistory] = useState<{ n: number; answer: History } | undefined>();

  useEffect(() => {
    document.title = `${t('incidentTitle')} — Rempart`;
  }, [t]);
  useEffect(() => {
    if (!id) return;
    must(
      api.GET('/api/v1/incidents/{id}', { params: { path: { id }, query: { offset: String(offset) } } }),
    ).then(setIncident, (e: unknown) => setError((e as Error).message));
  }, [id, offset]);

  const readHistory = async (personId: string, n: number) => {
    setError(undefined);
    try {
      const answer = await must(() =>
        api.POST('/api/v1/persons/{id}/access-history', {
          params: { path: { id: personId } },
          body: { purpose: 'incident_investigation', justification: justification.trim() },
        }),
      );
      setHistory({ n, answer });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (!id) return <p>{t('incidentMissing')}</p>;
  const scope = incident?.scope;
  return (
    <>
      <h1>{t('incidentTitle')}</h1>
      {error && <Alert severity="error" small description={error} className="fr-mb-3w" />}
      {incident && scope && (
        <>
          <p>
            {t('incidentIntro', {
              at: when(incident.openedAt),
              from: when(incident.windowFrom),
              to: when(incident.windowTo),
              persons: scope.personCount,
              events: scope.events,
            })}
          </p>
          {incident.note && <p className="fr-text--sm">« {incident.note} »</p>}
          <Timeline timeline={incident.timeline} />
          <Table
            caption={t('scopeCaption')}
            headers={[t('field'), t('count')]}
            data={Object.entries(scope.fieldCounts)
              .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
              .map(([field, count]) => [field, String(count)])}
          />
          <Input
            label={t('justification')}
            hintText={t('justificationHint')}
            nativeInputProps={{ value: justification, onChange: (e) => setJustification(e.target.value) }}
          />
          <Table
            caption={t('personsCaption')}
            headers={['#', t('person'), t('fields'), t('first'), t('last'), t('events'), '']}
            data={scope.persons.map((p, i) => {
              const n = scope.offset + i + 1;
              return [
                String(n),
                p.personId,
                p.fields.join(', '),
                when(p.firstAt),
                when(p.lastAt),
                String(p.events),
                <Button
                  key="history"
                  size="small"
                  priority="secondary"
                  title={t('historyOf', { n })}
                  disabled={justification.trim().length === 0}
                  onClick={() => void readHistory(p.personId, n)}
                >
                  {t('history')}
                </Button>,
              ];
            })}
          />
          {scope.nextOffset !== null && (
            <Button priority="secondary" onClick={() => setOffset(scope.nextOffset ?? 0)}>
              {t('more')}
            </Button>
          )}
          {history && (
            <Table
              caption={t('historyCaption', { n: history.n })}
              headers={[t('at'), t('organisationName'), t('role'), t('purpose'), t('action'), t('fields')]}
              data={history.answer.accessHistory.map((h) => [
                when(h.at),
                h.organisationName ?? '—',
                h.role ?? '—',
                h.purpose ?? '—',
                h.action,
                h.fields.join(', '),
              ])}
            />
          )}
        </>
      )}
    </>
  );
}
