/**
 * An incident's timeline and its 72-hour clock (GDPR art. 33(1)), shown on every screen that shows
 * an incident: the list (the clock as a badge), the incident's page and the security officers'
 * scope page. The clock's state comes from the server's answer (its time, not the browser's).
 */
import { Alert } from '@codegouvfr/react-dsfr/Alert';
import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import type { ReactNode } from 'react';
import type { paths } from '../api/schema';
import { useFormatDateTime, useT } from '../i18n/i18n.tsx';
import { incidentMessages } from './messages.ts';

/** The timeline as every incident answer carries it. */
export type IncidentTimeline =
  paths['/api/v1/incidents']['get']['responses'][200]['content']['application/json']['incidents'][number]['timeline'];

const SEVERITY = {
  running: 'warning',
  overdue: 'error',
  notified_in_time: 'success',
  notified_late: 'info',
} as const;

/** Hours and minutes of a duration in milliseconds (its absolute value). */
function useDuration(): (ms: number | null) => string {
  const t = useT(incidentMessages);
  return (ms) => {
    const abs = Math.abs(ms ?? 0);
    return t('hoursLeft', { h: Math.floor(abs / 3_600_000), m: Math.floor((abs % 3_600_000) / 60_000) });
  };
}

/** The clock in one sentence. */
export function useClockText(): (timeline: IncidentTimeline) => string {
  const t = useT(incidentMessages);
  const when = useFormatDateTime();
  const duration = useDuration();
  return (timeline) =>
    t(`clock_${timeline.clock.status}`, {
      deadline: when(timeline.clock.deadline),
      left: duration(timeline.clock.msLeft),
    });
}

/** The clock as a badge (the list). */
export function ClockBadge({ timeline }: { timeline: IncidentTimeline }): ReactNode {
  const duration = useDuration();
  const { status, msLeft } = timeline.clock;
  return (
    <Badge severity={SEVERITY[status]} small noIcon>
      {status === 'running' || status === 'overdue'
        ? `${status === 'overdue' ? '−' : ''}${duration(msLeft)}`
        : '✓'}
    </Badge>
  );
}

/** The timeline table and the clock's alert. */
export function Timeline({ timeline }: { timeline: IncidentTimeline }): ReactNode {
  const t = useT(incidentMessages);
  const when = useFormatDateTime();
  const text = useClockText();
  const at = (iso: string | null) => (iso ? when(iso) : t('notYet'));
  return (
    <>
      <Alert
        severity={SEVERITY[timeline.clock.status]}
        title={t('clockTitle')}
        description={text(timeline)}
        className="fr-mb-3w"
      />
      <Table
        caption={t('timelineCaption')}
        headers={[t('step'), t('date')]}
        data={[
          [t('detected'), at(timeline.detectedAt)],
          [t('declared'), at(timeline.declaredAt)],
          [t('authorityNotified'), at(timeline.authorityNotifiedAt)],
          [t('peopleNotified'), at(timeline.peopleNotifiedAt)],
        ]}
      />
    </>
  );
}
