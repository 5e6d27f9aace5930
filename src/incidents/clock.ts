/**
 * The 72-hour clock of GDPR art. 33(1): the authority is notified "not later than 72 hours after having become
 * aware" of the breach, so the deadline runs from `detected_at`, not from when the incident was opened.
 */

/** Hours the controller has to notify the authority (GDPR art. 33(1)). */
export const NOTIFICATION_HOURS = 72;

/** The state of an incident's 72-hour clock at a given instant. */
export interface NotificationClock {
  detectedAt: string;
  deadline: string;
  /** Milliseconds left before the deadline; negative once overdue; null once the authority was notified. */
  msLeft: number | null;
  status: 'running' | 'overdue' | 'notified_in_time' | 'notified_late';
}

/** Computes the 72-hour clock from the detection date, the authority's notification date (if any) and now. */
export function notificationClock(
  detectedAt: Date,
  authorityNotifiedAt: Date | null,
  now: Date,
): NotificationClock {
  const deadline = new Date(detectedAt.getTime() + NOTIFICATION_HOURS * 3_600_000);
  if (authorityNotifiedAt !== null) {
    const late = authorityNotifiedAt.getTime() > deadline.getTime();
    return {
      detectedAt: detectedAt.toISOString(),
      deadline: deadline.toISOString(),
      msLeft: null,
      status: late ? 'notified_late' : 'notified_in_time',
    };
  }
  const msLeft = deadline.getTime() - now.getTime();
  return {
    detectedAt: detectedAt.toISOString(),
    deadline: deadline.toISOString(),
    msLeft,
    status: msLeft >= 0 ? 'running' : 'overdue',
  };
}
