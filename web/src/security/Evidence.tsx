/**
 * An alert's evidence (GET /api/v1/guard/alerts/{id}): the signals, the account's timeline as a
 * chart (GET /api/v1/guard/accounts/{id}/timeline: its requests per minute or hour, allowed and
 * refused, and the persons they reached), the distinct persons per day, the latest events and the
 * sessions. Counts and field names only: the evidence carries no person's id or identity.
 */
import { Table } from '@codegouvfr/react-dsfr/Table';
import { type ReactNode, useEffect, useState } from 'react';
import { api, must } from '../api/client.ts';
import type { paths } from '../api/schema';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { type ChartSeries, TimeChart } from './Chart.tsx';
import { securityMessages } from './messages.ts';

export type EvidenceData =
  paths['/api/v1/guard/alerts/{id}']['get']['responses'][200]['content']['application/json'];
type TimelineEvent = EvidenceData['timeline'][number];
type Timeline =
  paths['/api/v1/guard/accounts/{id}/timeline']['get']['responses'][200]['content']['application/json'];

/** Events shown in the table under the chart. */
const EVENTS_SHOWN = 20;
/** The timeline route's longest reach, in hours (two weeks). */
const TIMELINE_MAX_HOURS = 336;

/**
 * The hours the chart covers: from the evidence's oldest event (at least an hour before the alert)
 * to now. Up to 6 hours the server counts per minute, beyond per hour.
 */
export function timelineHours(timeline: readonly TimelineEvent[], raisedAt: string, to: string): number {
  const first = Math.min(Date.parse(raisedAt) - 3_600_000, ...timeline.map((e) => Date.parse(e.at)));
  return Math.min(TIMELINE_MAX_HOURS, Math.max(1, Math.ceil((Date.parse(to) - first) / 3_600_000)));
}

/** The evidence of one alert. */
export function Evidence({ evidence }: { evidence: EvidenceData }): ReactNode {
  const t = useT(securityMessages);
  const when = useFormatDateTime();
  const [timeline, setTimeline] = useState<Timeline | undefined>();
  const accountId = evidence.alert.accountId;
  const hours = timelineHours(evidence.timeline, evidence.alert.raisedAt, evidence.window.to);
  useEffect(() => {
    // The whole activity, counted by the server: the evidence lists only the latest events.
    must(
      api.GET('/api/v1/guard/accounts/{id}/timeline', {
        params: { path: { id: accountId }, query: { hours: String(hours) } },
      }),
    ).then(setTimeline, () => setTimeline(undefined));
  }, [accountId, hours]);
  const series: ChartSeries[] = timeline
    ? [
        { label: t('allowed'), values: timeline.allowed },
        { label: t('refused'), values: timeline.refused },
        { label: t('persons'), values: timeline.persons },
      ]
    : [];
  const x = timeline
    ? timeline.allowed.map((_, i) => Date.parse(timeline.from) / 1000 + i * timeline.bucketSeconds)
    : [];
  return (
    <>
      <Table
        caption={t('signalsCaption')}
        headers={[t('signal'), t('value'), t('level'), t('response')]}
        data={evidence.alert.signals.map((s) => [
          s.name,
          String(s.value),
          String(s.limit),
          t(`response_${s.response}` as 'response_throttle'),
        ])}
      />
      <h2>{t('timelineTitle')}</h2>
      {timeline && (
        <TimeChart
          caption={t('timelineChart', {
            bucket: t(timeline.bucketSeconds === 60 ? 'bucket_minute' : 'bucket_hour'),
          })}
          summary={t('timelineSummary')}
          x={x}
          series={series}
          height={220}
        />
      )}
      <Table
        caption={t('personDaysCaption')}
        headers={[t('day'), t('persons')]}
        data={evidence.personDays.map((d) => [d.day, String(d.persons)])}
      />
      <Table
        caption={t('eventsCaption')}
        headers={[t('at'), t('action'), t('purpose'), t('decision'), t('persons'), t('fields'), t('address')]}
        data={evidence.timeline
          .slice(0, EVENTS_SHOWN)
          .map((e) => [
            when(e.at),
            e.action,
            e.purpose ?? '—',
            e.reason ? `${e.decision} (${e.reason})` : e.decision,
            String(e.personCount),
            e.fields.join(', ') || '—',
            e.sourceAddress ?? '—',
          ])}
      />
      <Table
        caption={t('sessionsCaption')}
        headers={[t('opened'), t('address'), t('browser'), t('revoked')]}
        data={evidence.sessions.map((s) => [
          when(s.createdAt),
          s.sourceAddress ?? '—',
          s.userAgent ?? '—',
          s.revokedAt ? `${when(s.revokedAt)} (${s.revokedReason ?? ''})` : '—',
        ])}
      />
      <OrganisationPicture picture={evidence.organisation} />
      <Baselines baselines={evidence.baselines} />
    </>
  );
}

const figure = (n: number | null): string => (n === null ? '—' : String(n));

/** The organisation's days against its usual, the alert's day by hour, the accounts driving it. */
function OrganisationPicture({ picture }: { picture: EvidenceData['organisation'] }): ReactNode {
  const t = useT(securityMessages);
  const yesNo = (b: boolean): string => t(b ? 'yes' : 'no');
  // The hours in which something happened, or was expected to.
  const hours = picture.byHour.filter(
    (h, i) => h.persons > 0 || (h.usual ?? 0) !== (i === 0 ? 0 : (picture.byHour[i - 1]!.usual ?? 0)),
  );
  return (
    <section aria-labelledby="organisation-picture">
      <h2 id="organisation-picture">{t('orgTitle', { code: picture.organisationCode })}</h2>
      <p>{picture.usualDays > 0 ? t('orgIntro', { days: picture.usualDays }) : t('orgNoUsual')}</p>
      <Table
        caption={t('orgDaysCaption')}
        headers={[
          t('day'),
          t('persons'),
          t('orgUsual'),
          t('orgEmpty'),
          t('refused'),
          t('orgAccounts'),
          t('orgAlerted'),
        ]}
        data={picture.days.map((d) => [
          d.day,
          String(d.persons),
          figure(d.usual),
          String(d.empty),
          String(d.refused),
          String(d.accounts),
          yesNo(d.alerted),
        ])}
      />
      <Table
        caption={t('orgHoursCaption', { day: picture.day })}
        headers={[t('hour'), t('persons'), t('orgCumulative'), t('orgUsual'), t('orgSpread')]}
        data={hours.map((h) => [
          `${String(h.hour).padStart(2, '0')} h`,
          String(h.persons),
          String(h.cumulative),
          figure(h.usual),
          figure(h.spread),
        ])}
      />
      {picture.drivers.length === 0 ? (
        <p>{t('noDrivers')}</p>
      ) : (
        <Table
          caption={t('driversCaption', { day: picture.day })}
          headers={[t('account'), t('role'), t('personsToday'), t('expected'), t('drives'), t('answered')]}
          data={picture.drivers.map((d) => [
            d.login,
            d.role,
            String(d.persons),
            figure(d.usual),
            yesNo(d.drives),
            yesNo(d.answered),
          ])}
        />
      )}
      {picture.coverage && (
        <Table
          caption={t('coverageCaption', { day: picture.day })}
          headers={[t('coverageWeek'), t('coverageDistinct'), t('coverageCaseload'), t('coverageShare')]}
          data={picture.coverage.weeks.map((n, i) => {
            const caseload = picture.coverage!.caseloads[i] ?? 0;
            return [
              i === 0 ? t('coverageWeek0') : t('coverageWeekN', { n: `−${i}` }),
              String(n),
              String(caseload),
              caseload > 0 ? `${Math.round((100 * n) / caseload)} %` : '—',
            ];
          })}
        />
      )}
    </section>
  );
}

/** The account's usual day, its reviewed reference, its peers' median and its past days. */
function Baselines({ baselines }: { baselines: EvidenceData['baselines'] }): ReactNode {
  const t = useT(securityMessages);
  return (
    <section aria-labelledby="baselines-history">
      <h2 id="baselines-history">{t('baselinesHistoryTitle')}</h2>
      {baselines === null ? (
        <p>{t('baselinesNone')}</p>
      ) : (
        <>
          <p>
            {t('baselinesSummary', {
              baseline: figure(baselines.baseline),
              days: baselines.days,
              ref: figure(baselines.ref),
              cap: figure(baselines.refCap),
              growth: Math.round(baselines.growth * 100),
              expected: baselines.expected,
              peers: baselines.peers,
              peer: figure(baselines.peer),
            })}
          </p>
          {baselines.past.length === 0 ? (
            <p>{t('noPastDays')}</p>
          ) : (
            <Table
              caption={t('pastCaption')}
              headers={[t('day'), t('persons'), t('expected')]}
              data={baselines.past.map((d) => [d.day, String(d.persons), figure(d.expected)])}
            />
          )}
        </>
      )}
    </section>
  );
}
