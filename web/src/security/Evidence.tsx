/**
 * An alert's evidence (GET /api/v1/guard/alerts/{id}): the signals, the account's timeline as a
 * chart (its audit events binned by minute or hour, allowed and refused, and the persons they
 * reached), the distinct persons per day, the latest events and the sessions. Counts and field
 * names only: the evidence carries no person's id or identity.
 */
import { Table } from '@codegouvfr/react-dsfr/Table';
import type { ReactNode } from 'react';
import type { paths } from '../api/schema';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { type ChartSeries, TimeChart } from './Chart.tsx';
import { securityMessages } from './messages.ts';

export type EvidenceData =
  paths['/api/v1/guard/alerts/{id}']['get']['responses'][200]['content']['application/json'];
type TimelineEvent = EvidenceData['timeline'][number];

/** Events shown in the table under the chart. */
const EVENTS_SHOWN = 20;
/** Up to this span the chart counts per minute; beyond, per hour. */
const MINUTE_SPAN_S = 3 * 3600;

/**
 * Bins the timeline: from its first event (at least an hour before the alert) to the window's end,
 * per minute when that is short, else per hour.
 */
export function binTimeline(
  timeline: readonly TimelineEvent[],
  raisedAt: string,
  to: string,
): { bucket: 'minute' | 'hour'; x: number[]; allowed: number[]; refused: number[]; persons: number[] } {
  const end = Math.ceil(Date.parse(to) / 60_000) * 60;
  const times = timeline.map((e) => Date.parse(e.at) / 1000);
  const first = Math.min(Date.parse(raisedAt) / 1000 - 3600, ...times);
  const bucket = end - first <= MINUTE_SPAN_S ? 'minute' : 'hour';
  const size = bucket === 'minute' ? 60 : 3600;
  const start = Math.floor(first / size) * size;
  const length = Math.max(1, Math.ceil((end - start) / size));
  const x = Array.from({ length }, (_, i) => start + i * size);
  const allowed = new Array<number>(length).fill(0);
  const refused = new Array<number>(length).fill(0);
  const persons = new Array<number>(length).fill(0);
  timeline.forEach((event, i) => {
    const index = Math.min(length - 1, Math.floor((times[i]! - start) / size));
    if (index < 0) return;
    if (event.decision === 'allow') allowed[index]! += 1;
    else refused[index]! += 1;
    persons[index]! += event.personCount;
  });
  return { bucket, x, allowed, refused, persons };
}

/** The evidence of one alert. */
export function Evidence({ evidence }: { evidence: EvidenceData }): ReactNode {
  const t = useT(securityMessages);
  const when = useFormatDateTime();
  const binned = binTimeline(evidence.timeline, evidence.alert.raisedAt, evidence.window.to);
  const series: ChartSeries[] = [
    { label: t('allowed'), values: binned.allowed },
    { label: t('refused'), values: binned.refused },
    { label: t('persons'), values: binned.persons },
  ];
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
      <h3>{t('timelineTitle')}</h3>
      <TimeChart
        caption={t('timelineChart', { bucket: t(`bucket_${binned.bucket}`) })}
        summary={t('timelineSummary')}
        x={binned.x}
        series={series}
        height={220}
      />
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
    </>
  );
}
