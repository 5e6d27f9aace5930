/**
 * The DPO's retention screen (GET /api/v1/retention/report): the periods in force and their legal
 * ground, persons by status, what is due today and within 30 days, the last runs. Counts only.
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useEffect, useState } from 'react';
import { api, must } from '../api/client.ts';
import { useFormatDateTime, useLang, useT } from '../i18n/i18n.tsx';
import { retentionMessages } from './retention-messages.ts';

type Report = Awaited<ReturnType<typeof loadReport>>;
const loadReport = () => must(api.GET('/api/v1/retention/report'));

const STATUSES = ['registered', 'deregistered', 'candidate', 'archived', 'destroyed'] as const;
const ACTIONS = ['archive', 'destroy', 'expire_candidate'] as const;

/** The DPO's retention screen. */
export default function RetentionPage(): ReactNode {
  const t = useT(retentionMessages);
  const when = useFormatDateTime();
  const { lang } = useLang();
  const [report, setReport] = useState<Report | null | undefined>();
  useEffect(() => {
    document.title = `${t('title')} — Rempart`;
  }, [t]);
  useEffect(() => {
    loadReport().then(setReport, () => setReport(null));
  }, []);
  const number = (n: number) => n.toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB');
  const day = (iso: string) =>
    new Date(`${iso}T12:00:00Z`).toLocaleDateString(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long' });

  if (report === undefined) return <p>{t('loading')}</p>;
  if (report === null) return <Alert severity="error" small description={t('failed')} />;
  const late = ACTIONS.some((a) => report.dueNow[a] > 0);
  return (
    <>
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <section aria-labelledby="periods-title" className="fr-mb-4w">
        <h2 id="periods-title">{t('periodsTitle')}</h2>
        <ul>
          <li>{t('archive', { months: report.periods.archiveMonths })}</li>
          <li>
            {t('destroy', {
              years: report.periods.destroyYears,
              max: report.legal.destroyYearsMax,
              source: report.legal.source,
            })}
          </li>
          <li>{t('candidate', { months: report.periods.candidateMonths })}</li>
        </ul>
      </section>
      <section aria-labelledby="persons-title" className="fr-mb-4w">
        <h2 id="persons-title">{t('personsTitle')}</h2>
        <Table
          caption={t('personsTitle')}
          noCaption
          headers={[t('colStatus'), t('colCount')]}
          data={STATUSES.map((s) => [t(`status_${s}`), number(report.persons[s])])}
        />
        <p>
          {report.oldestDeregistration
            ? t('oldest', { date: day(report.oldestDeregistration) })
            : t('oldestNone')}
        </p>
      </section>
      <section aria-labelledby="due-title" className="fr-mb-4w">
        <h2 id="due-title">{t('dueTitle')}</h2>
        <Alert
          severity={late ? 'warning' : 'success'}
          small
          description={late ? t('late') : t('upToDate')}
          className="fr-mb-2w"
        />
        <Table
          caption={t('dueTitle')}
          noCaption
          headers={[t('colAction'), t('colNow'), t('colBy', { date: day(report.dueBy.date) })]}
          data={ACTIONS.map((a) => [
            t(`action_${a}`),
            number(report.dueNow[a]),
            number(report.dueBy.actions[a]),
          ])}
        />
      </section>
      <section aria-labelledby="runs-title">
        <h2 id="runs-title">{t('runsTitle')}</h2>
        {report.runs.length === 0 ? (
          <p>{t('noRun')}</p>
        ) : (
          <Table
            caption={t('runsTitle')}
            noCaption
            headers={[t('colStarted'), t('colAsOf'), t('colTrigger'), t('colDone')]}
            data={report.runs.map((r) => [
              when(r.startedAt),
              day(r.asOf),
              <span key="trigger">
                {t(`trigger_${r.trigger}`)}{' '}
                {r.dryRun && (
                  <Badge small severity="info" noIcon>
                    {t('dryRun')}
                  </Badge>
                )}
              </span>,
              r.actions
                ? ACTIONS.map((a) => `${t(`action_${a}`)} ${number(r.actions?.[a] ?? 0)}`).join(' · ')
                : t('unfinished'),
            ])}
          />
        )}
      </section>
    </>
  );
}
