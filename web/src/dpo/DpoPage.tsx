/**
 * The DPO's screen: how a data-subject request is answered (the search with its purpose, the record,
 * then who accessed it: AccessHistory under the record), and the incidents with their scope in counts
 * (GET /api/v1/incidents: counts per field, no person id; the persons stay behind the audited
 * GET /api/v1/incidents/{id}, which the notifications of articles 33 and 34 will read).
 */
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, must } from '../api/client.ts';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { ClockBadge, Timeline } from '../incidents/Timeline.tsx';
import { searchMessages } from '../staff/search-messages.ts';
import { dpoMessages } from './messages.ts';

type Incident = Awaited<ReturnType<typeof loadIncidents>>['incidents'][number];
const loadIncidents = () => must(api.GET('/api/v1/incidents'));

/** The DPO's screen. */
export default function DpoPage(): ReactNode {
  const t = useT(dpoMessages);
  const tsearch = useT(searchMessages);
  const when = useFormatDateTime();
  const [incidents, setIncidents] = useState<Incident[] | undefined>();
  const [shown, setShown] = useState<Incident | undefined>();
  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);
  useEffect(() => {
    loadIncidents().then(
      (answer) => setIncidents(answer.incidents),
      () => setIncidents([]),
    );
  }, []);
  const fieldLabel = (field: string) => {
    const key = `col_${field}`;
    return key in searchMessages.fr ? tsearch(key as keyof typeof searchMessages.fr) : field;
  };

  return (
    <>
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <section aria-labelledby="requests-title" className="fr-mb-6w">
        <h2 id="requests-title">{t('requestsTitle')}</h2>
        <p>{t('requestsText')}</p>
        <Button iconId="fr-icon-search-line" linkProps={{ to: '/recherche' }}>
          {t('toSearch')}
        </Button>
      </section>
      <section aria-labelledby="incidents-title">
        <h2 id="incidents-title">{t('incidentsTitle')}</h2>
        {incidents && incidents.length === 0 && <p>{t('noIncident')}</p>}
        {incidents && incidents.length > 0 && (
          <Table
            caption={t('incidentsTitle')}
            noCaption
            headers={[
              t('colOpened'),
              t('colStatus'),
              t('colAccounts'),
              t('colPersons'),
              t('colWindow'),
              t('colDeadline'),
              '',
            ]}
            data={incidents.map((incident) => [
              when(incident.openedAt),
              <Badge key="s" severity={incident.status === 'open' ? 'warning' : 'info'} small noIcon>
                {incident.status === 'open' || incident.status === 'closed'
                  ? t(`status_${incident.status}`)
                  : incident.status}
              </Badge>,
              String(incident.accounts.length),
              String(incident.personCount),
              `${when(incident.windowFrom)} → ${when(incident.windowTo)}`,
              <ClockBadge key="clock" timeline={incident.timeline} />,
              <Button key="show" size="small" priority="secondary" onClick={() => setShown(incident)}>
                {t('show')}
              </Button>,
            ])}
          />
        )}
        {shown && (
          <div className="fr-mt-4w">
            <h3>{t('scopeTitle', { at: when(shown.openedAt) })}</h3>
            <p>
              {t('scopeIntro', {
                persons: shown.personCount,
                from: when(shown.windowFrom),
                to: when(shown.windowTo),
                events: shown.events,
              })}
            </p>
            <Table
              caption={t('scopeTitle', { at: when(shown.openedAt) })}
              noCaption
              headers={[t('colField'), t('colCount')]}
              data={Object.entries(shown.fieldCounts)
                .sort((a, b) => b[1] - a[1])
                .map(([field, count]) => [fieldLabel(field), String(count)])}
            />
            {shown.note && <p>{t('note', { note: shown.note })}</p>}
            <Timeline timeline={shown.timeline} />
            <p>
              <Link className="fr-link" to={`/incidents/${shown.id}`}>
                {t('openNotification')}
              </Link>
            </p>
          </div>
        )}
      </section>
    </>
  );
}
