/**
 * An incident's timeline (docs/INCIDENTS.md): detected (the 72-hour clock of GDPR art. 33(1) runs
 * from here), declared (opened), the authority notified, the people notified (art. 34), with the
 * clock's state at the moment of the answer. Every answer that shows an incident carries it: API,
 * CLI and console alike.
 */
import { type NotificationClock, notificationClock } from './clock.ts';

/** The incident's columns the timeline reads. */
export interface TimelineRow {
  detected_at: Date;
  opened_at: Date;
  authority_notified_at: Date | null;
  people_notified_at: Date | null;
}

/** The timeline as the API returns it (times as ISO-8601). */
export interface IncidentTimeline {
  detectedAt: string;
  declaredAt: string;
  authorityNotifiedAt: string | null;
  peopleNotifiedAt: string | null;
  /** The 72-hour clock (clock.ts) at `now`. */
  clock: NotificationClock;
}

/** The SQL columns a timeline needs, for the selects of incidents.ts and art33.ts. */
export const TIMELINE_COLUMNS = 'detected_at, opened_at, authority_notified_at, people_notified_at';

/** The timeline of an incident row at `now`. */
export function timelineOf(row: TimelineRow, now: Date): IncidentTimeline {
  return {
    detectedAt: row.detected_at.toISOString(),
    declaredAt: row.opened_at.toISOString(),
    authorityNotifiedAt: row.authority_notified_at?.toISOString() ?? null,
    peopleNotifiedAt: row.people_notified_at?.toISOString() ?? null,
    clock: notificationClock(row.detected_at, row.authority_notified_at, now),
  };
}
