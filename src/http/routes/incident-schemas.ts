/** Response schemas shared by the incident routes (incidents.routes.ts, guard.routes.ts): timeline, categories. */
import { obj } from '../schemas.ts';

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** The 72-hour clock of GDPR art. 33(1) (incidents/clock.ts). */
export const NotificationClockSchema = obj({
  detectedAt: dateTime,
  deadline: dateTime,
  msLeft: {
    type: ['integer', 'null'],
    description: 'Milliseconds before the deadline (negative: overdue); null once notified',
  },
  status: { type: 'string', enum: ['running', 'overdue', 'notified_in_time', 'notified_late'] },
});

/** An incident's timeline (incidents/timeline.ts). */
export const TimelineSchema = obj({
  detectedAt: dateTime,
  declaredAt: dateTime,
  authorityNotifiedAt: nullableDateTime,
  peopleNotifiedAt: nullableDateTime,
  clock: NotificationClockSchema,
});

/** Counts by category of person (incidents/categories.ts); null on incidents opened before they were counted. */
export const CategoriesSchema = {
  type: ['object', 'null'],
  required: ['byStatus', 'minors'],
  additionalProperties: false,
  properties: {
    byStatus: obj({
      registered: { type: 'integer' },
      deregistered: { type: 'integer' },
      candidate: { type: 'integer' },
      archived: { type: 'integer' },
    }),
    minors: { type: ['integer', 'null'], description: 'Minors on the detection date; null: not counted' },
  },
} as const;
