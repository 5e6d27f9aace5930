/**
 * Request and response schemas of the incident routes (incidents.routes.ts; the timeline and
 * categories also in guard.routes.ts): closed objects, so nothing else leaves.
 */
import { BREACH_TYPES, INFORM_CHANNELS, INFORMED, TEXT_ITEMS } from '../../incidents/art33.ts';
import { obj } from '../schemas.ts';

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
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

export const IncidentSummary = obj({
  id: uuid,
  openedAt: dateTime,
  openedBy: string,
  kind: string,
  status: string,
  accounts: { type: 'array', items: string },
  windowFrom: dateTime,
  windowTo: dateTime,
  note: nullableString,
  personCount: { type: 'integer' },
  events: { type: 'integer' },
  fieldCounts: counts,
  records: { type: 'integer' },
  categories: CategoriesSchema,
  timeline: TimelineSchema,
});

export const declarationProperties = {
  from: { ...dateTime, description: 'Start of the breach, inclusive' },
  to: { ...dateTime, description: 'End of the breach, exclusive' },
  detectedAt: { ...dateTime, description: 'When it was detected (the 72-hour clock starts); default now' },
  note: {
    type: 'string',
    minLength: 10,
    maxLength: 1000,
    description: 'Why, for the record (10–1000 characters)',
  },
};

export const Declared = obj({
  incidentId: uuid,
  kind: { type: 'string', enum: ['accounts_window', 'leaked_file'] },
  personCount: { type: 'integer' },
  fieldCounts: counts,
});
export const DeclaredFromFile = obj({
  ...Declared.properties,
  rows: { type: 'integer' },
  matchedRows: { type: 'integer' },
  unmatchedLines: { type: 'array', items: { type: 'integer' } },
  ambiguousLines: { type: 'array', items: { type: 'integer' } },
  columns: { type: 'array', items: string },
  ignoredColumns: { type: 'integer' },
});

const text = (max: number) => ({ type: ['string', 'null'], maxLength: max }) as const;
export const editProperties = {
  ...Object.fromEntries(Object.entries(TEXT_ITEMS).map(([k, max]) => [k, text(max)])),
  natureTypes: { type: ['array', 'null'], items: { type: 'string', enum: BREACH_TYPES } },
  personsInformed: { type: ['string', 'null'], enum: [...INFORMED, null] },
  informChannels: { type: ['array', 'null'], items: { type: 'string', enum: INFORM_CHANNELS } },
  crossBorder: { type: ['boolean', 'null'] },
};
export const Draft = obj({
  incidentId: uuid,
  status: { type: 'string', enum: ['draft', 'sent'] },
  sentAt: { type: ['string', 'null'], format: 'date-time' },
  updatedAt: { type: ['string', 'null'], format: 'date-time' },
  timeline: TimelineSchema,
  controllerName: nullableString,
  dpoName: nullableString,
  dpoEmail: nullableString,
  nature: string,
  natureTypes: { type: 'array', items: { type: 'string', enum: BREACH_TYPES } },
  cause: string,
  breachStartedAt: dateTime,
  breachEndedAt: dateTime,
  detectedAt: dateTime,
  personCount: { type: 'integer' },
  personCategories: { ...CategoriesSchema.properties.byStatus, type: ['object', 'null'] },
  minors: { type: ['integer', 'null'] },
  recordCount: { type: 'integer' },
  dataCategories: counts,
  consequences: string,
  measuresTaken: string,
  measuresProposed: string,
  personsInformed: { type: 'string', enum: INFORMED },
  informChannels: { type: 'array', items: { type: 'string', enum: INFORM_CHANNELS } },
  notInformedReason: nullableString,
  crossBorder: { type: 'boolean' },
  crossBorderCountries: nullableString,
  delayReasons: nullableString,
  missing: {
    type: 'array',
    items: string,
    description: 'Required items still empty: sending is refused until none',
  },
});
