/**
 * The review queue (docs/DESIGN.md section 6): security officers list the guard's alerts and the
 * suspended accounts, read an alert's evidence, and decide — reinstate the account with a note, or
 * confirm a compromise, which opens an incident whose scope comes from the audit log. Security
 * officers and the DPO read an incident. Deciding needs a second factor verified within
 * STEP_UP_MINUTES. Routes stay thin: guard/review.ts, guard/evidence.ts and incidents/incidents.ts
 * hold the rules; closed response schemas keep anything else from leaving.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type Clock, systemCtx } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import {
  ALERT_STATUSES,
  ALERTS_LIMIT,
  type AlertStatus,
  listAlerts,
  listSuspended,
  type Reviewer,
} from '../../guard/alerts.ts';
import { alertEvidence, PERSON_DAYS, TIMELINE_DAYS_BEFORE, TIMELINE_LIMIT } from '../../guard/evidence.ts';
import {
  COMPROMISE_DEFAULT_DAYS,
  confirmCompromise,
  NOTE_MAX,
  NOTE_MIN,
  reinstateAlert,
} from '../../guard/review.ts';
import { BUILT_IN, type GuardConfig } from '../../guard/thresholds.ts';
import { notifyAccount } from '../../identity/notices.ts';
import { INCIDENT_FIELD, INCIDENT_PAGE, readIncident } from '../../incidents/incidents.ts';
import type { RegistryKeys } from '../../registry/persons.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj } from '../schemas.ts';
import { CategoriesSchema, TimelineSchema } from './incident-schemas.ts';

export interface GuardRoutesOptions {
  db: Db;
  clock: Clock;
  /** The registry's keys: a confirmed compromise's incident counts its minors with them. */
  keys?: RegistryKeys;
  /** The guard's thresholds (an evidence's drivers and baselines are measured with them). */
  guard?: GuardConfig;
}

const errors = {
  400: problemResponse('Invalid input; `field` names it'),
  401: problemResponse('Not logged in'),
  403: problemResponse('Not allowed for your role, or a fresh second factor is required'),
  404: problemResponse('No such alert or incident for you'),
  409: problemResponse('The alert is already decided'),
};

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
const strings = { type: 'array', items: string } as const;
const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

const Signal = obj({ name: string, value: { type: 'number' }, limit: { type: 'number' }, response: string });
const alertProperties = {
  id: { type: 'string', format: 'uuid' },
  accountId: { type: 'string', format: 'uuid' },
  login: string,
  organisationId: { type: 'string', format: 'uuid' },
  organisationCode: string,
  role: string,
  accountStatus: string,
  raisedAt: dateTime,
  response: { type: 'string', enum: ['step_up', 'throttle', 'suspend', 'person_report'] },
  signals: { type: 'array', items: Signal },
  status: { type: 'string', enum: ALERT_STATUSES },
  decidedAt: nullableDateTime,
  decidedBy: nullableString,
  note: nullableString,
  incidentId: nullableString,
};
const Alert = obj(alertProperties);
const AlertWithContext = obj({
  ...alertProperties,
  context: obj({
    action: nullableString,
    sourceAddress: nullableString,
    sessionAddress: nullableString,
    sessionFlags: strings,
  }),
});
/** An audit query shape as a timeline shows it (guard/evidence.ts TIMELINE_QUERY_KEYS): all optional. */
const QueryShape = obj(
  {
    by: string,
    cap: { type: 'integer' },
    national: { type: 'boolean' },
    more: { type: 'boolean' },
    changed: strings,
    before: strings,
    after: strings,
    guard: obj(
      { response: string, signals: { type: 'array', items: Signal }, retryAfter: { type: 'number' } },
      ['response', 'signals'],
    ),
    accounts: { type: 'integer' },
    from: string,
    to: string,
  },
  [],
);
const TimelineEvent = obj({
  eventId: string,
  at: dateTime,
  action: string,
  purpose: nullableString,
  decision: { type: 'string', enum: ['allow', 'deny'] },
  reason: nullableString,
  resultCount: { type: 'integer' },
  query: QueryShape,
  requestId: string,
  sessionRef: nullableString,
  sourceAddress: nullableString,
  personCount: { type: 'integer' },
  fields: strings,
});
const Evidence = obj({
  alert: AlertWithContext,
  otherAlerts: { type: 'array', items: Alert },
  window: obj({ from: dateTime, to: dateTime }),
  timeline: { type: 'array', items: TimelineEvent },
  timelineTruncated: { type: 'boolean' },
  personDays: {
    type: 'array',
    items: obj({ day: { type: 'string', format: 'date' }, persons: { type: 'integer' } }),
  },
  sessions: {
    type: 'array',
    items: obj({
      sessionRef: string,
      createdAt: dateTime,
      lastSeenAt: dateTime,
      expiresAt: dateTime,
      assurance: string,
      sourceAddress: nullableString,
      userAgent: nullableString,
      revokedAt: nullableDateTime,
      revokedReason: nullableString,
      guardFlags: strings,
    }),
  },
  securityEvents: {
    type: 'array',
    items: obj({
      at: dateTime,
      action: string,
      actorAccountId: nullableString,
      sourceAddress: nullableString,
    }),
  },
  organisation: obj({
    organisationCode: string,
    day: { type: 'string', format: 'date' },
    usualDays: { type: 'integer' },
    days: {
      type: 'array',
      items: obj({
        day: { type: 'string', format: 'date' },
        persons: { type: 'integer' },
        usual: nullableNumber,
        empty: { type: 'integer' },
        refused: { type: 'integer' },
        accounts: { type: 'integer' },
        alerted: { type: 'boolean' },
      }),
    },
    byHour: {
      type: 'array',
      items: obj({
        hour: { type: 'integer' },
        persons: { type: 'integer' },
        cumulative: { type: 'integer' },
        usual: nullableNumber,
        spread: nullableNumber,
      }),
    },
    drivers: {
      type: 'array',
      items: obj({
        accountId: { type: 'string', format: 'uuid' },
        login: string,
        role: string,
        persons: { type: 'integer' },
        usual: nullableNumber,
        drives: { type: 'boolean' },
        answered: { type: 'boolean' },
      }),
    },
    coverage: {
      ...obj({
        weeks: { type: 'array', items: { type: 'integer' } },
        caseloads: { type: 'array', items: { type: 'integer' } },
      }),
      type: ['object', 'null'],
    },
  }),
  baselines: {
    ...obj({
      baseline: nullableNumber,
      days: { type: 'integer' },
      ref: nullableNumber,
      refCap: nullableNumber,
      growth: { type: 'number' },
      expected: { type: 'number' },
      peer: nullableNumber,
      peers: { type: 'integer' },
      past: {
        type: 'array',
        items: obj({
          day: { type: 'string', format: 'date' },
          persons: { type: 'integer' },
          expected: nullableNumber,
        }),
      },
    }),
    type: ['object', 'null'],
  },
});
const Suspended = obj({
  id: { type: 'string', format: 'uuid' },
  login: string,
  organisationId: { type: 'string', format: 'uuid' },
  organisationCode: string,
  role: string,
  suspendedAt: nullableDateTime,
  latestAlertId: nullableString,
  openAlerts: { type: 'integer' },
});
const note = {
  type: 'string',
  minLength: NOTE_MIN,
  maxLength: NOTE_MAX,
  description: `Why, in ${NOTE_MIN}–${NOTE_MAX} characters: kept with the decision, for the record`,
};
const Incident = obj({
  id: { type: 'string', format: 'uuid' },
  openedAt: dateTime,
  openedBy: string,
  kind: string,
  status: string,
  accounts: strings,
  windowFrom: dateTime,
  windowTo: dateTime,
  note: nullableString,
  timeline: TimelineSchema,
  scope: obj({
    personCount: { type: 'integer' },
    events: { type: 'integer' },
    fieldCounts: counts,
    records: { type: 'integer' },
    categories: CategoriesSchema,
    persons: {
      type: 'array',
      items: obj({
        personId: { type: 'string', format: 'uuid' },
        fields: strings,
        firstAt: dateTime,
        lastAt: dateTime,
        events: { type: 'integer' },
      }),
    },
    offset: { type: 'integer' },
    nextOffset: { type: ['integer', 'null'] },
  }),
});

/** An ISO-8601 date-time of the body (the schema checked its form), as a Date. */
function dateOf(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new AppError('validation_failed', `${field} must be a date-time with an offset`, { field });
  }
  return date;
}

/** Registers the routes. */
export const guardRoutes: FastifyPluginAsync<GuardRoutesOptions> = async (
  app,
  { db, clock, keys, guard = BUILT_IN },
) => {
  const actor = systemCtx('guard-review').actor;
  const staff = app.requireStaff({ assurance: 'mfa' });
  const fresh = app.requireStaff({ assurance: 'mfa', fresh: true });
  const reviewerOf = (request: FastifyRequest): Reviewer => {
    const account = request.staff!.account;
    return {
      accountId: account.id,
      organisationId: account.organisationId,
      role: account.role,
      sourceAddress: request.ip,
      requestId: request.id,
    };
  };

  app.get<{ Querystring: { status: AlertStatus | 'all' } }>(
    '/api/v1/guard/alerts',
    {
      preHandler: staff,
      schema: {
        tags: ['guard'],
        summary: "Security officers: the guard's alerts (step-up, throttle, suspension), newest first",
        description: `At most ${ALERTS_LIMIT}. Each names the account, what the guard did, the signals behind it and the decision.`,
        querystring: obj(
          { status: { type: 'string', enum: [...ALERT_STATUSES, 'all'], default: 'open' } },
          [],
        ),
        response: { 200: obj({ alerts: { type: 'array', items: Alert } }), ...errors },
      },
    },
    async (request) => ({
      alerts: await db.tx(actor, (tx) => listAlerts(tx, reviewerOf(request), request.query.status)),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/guard/alerts/:id',
    {
      preHandler: staff,
      schema: {
        tags: ['guard'],
        summary: "Security officers: an alert's evidence (the account's timeline, persons per day, sessions)",
        description:
          `The account's audit events from ${TIMELINE_DAYS_BEFORE} days before the alert to now (at most ` +
          `${TIMELINE_LIMIT}, newest first: counts of persons and field names, never who), distinct persons ` +
          `per day from ${PERSON_DAYS} days before the alert, sessions and security events. Reading it is a ` +
          "security event (guard.evidence_viewed). Then `organisation`: the organisation's last 28 days against its usual, " +
          "the alert's day by hour against the usual by hour, the accounts driving that day's rise; and `baselines`: the " +
          "account's usual day, its reviewed reference, its peers' median and its past days (null: never seen by the guard).",
        params: idParams,
        response: { 200: Evidence, ...errors },
      },
    },
    (request) =>
      db.tx(actor, (tx) => alertEvidence(tx, reviewerOf(request), request.params.id, clock.now(), guard)),
  );

  app.get(
    '/api/v1/guard/suspended',
    {
      preHandler: staff,
      schema: {
        tags: ['guard'],
        summary: 'Security officers: the suspended accounts, with their latest alert',
        response: { 200: obj({ accounts: { type: 'array', items: Suspended } }), ...errors },
      },
    },
    async (request) => ({
      accounts: await db.tx(actor, (tx) => listSuspended(tx, reviewerOf(request))),
    }),
  );

  app.post<{ Params: { id: string }; Body: { note: string } }>(
    '/api/v1/guard/alerts/:id/reinstate',
    {
      preHandler: fresh,
      schema: {
        tags: ['guard'],
        summary: "Security officer: reinstate the alert's account (the guard's pending responses end)",
        description:
          "The alert becomes 'reinstated', the account's other open alerts 'dismissed' with the same note; " +
          'a suspended account is active again (on probation if its probation had not ended); the owner is ' +
          'notified. Not on an alert about your own account. Needs a fresh second factor.',
        params: idParams,
        body: obj({ note }),
        response: {
          200: obj({
            alertId: string,
            status: { type: 'string', enum: ['reinstated'] },
            accountId: string,
            accountStatus: string,
            dismissed: strings,
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const now = clock.now();
      const done = await db.tx(actor, (tx) =>
        reinstateAlert(tx, reviewerOf(request), request.params.id, request.body.note, now),
      );
      // After commit: a mail server that fails loses nothing (notifyAccount records it).
      await notifyAccount(db, done.account, now, {
        kind: 'guard.reinstated',
        subject: 'Rempart : votre compte est rétabli / your account is reinstated',
        text:
          'Un responsable de la sécurité a examiné l’alerte qui avait arrêté votre compte et l’a rétabli : ' +
          'vous pouvez vous reconnecter.\n' +
          'A security officer reviewed the alert that stopped your account and reinstated it: you may log in again.\n\n' +
          'Si vous ne reconnaissez pas l’activité qui a déclenché l’alerte, prévenez votre responsable.\n' +
          'If you do not recognise the activity that raised the alert, tell your manager.',
      });
      const { account: _, ...answer } = done;
      return answer;
    },
  );

  app.post<{ Params: { id: string }; Body: { note: string; from?: string; to?: string } }>(
    '/api/v1/guard/alerts/:id/confirm',
    {
      preHandler: fresh,
      schema: {
        tags: ['guard'],
        summary:
          'Security officer: confirm a compromise; opens an incident with its scope from the audit log',
        description:
          'The account stays suspended (is suspended now if it was not; its sessions end). The incident ' +
          'holds what the account received in [from, to) — persons and fields, as `rempart audit scope` ' +
          `computes it. Defaults: from ${COMPROMISE_DEFAULT_DAYS} days before the alert, to now. Not on an ` +
          'alert about your own account. Needs a fresh second factor.',
        params: idParams,
        body: obj(
          {
            note,
            from: { ...dateTime, description: 'Start of the window (inclusive), ISO 8601 with an offset' },
            to: { ...dateTime, description: 'End of the window (exclusive), ISO 8601 with an offset' },
          },
          ['note'],
        ),
        response: {
          200: obj({
            alertId: string,
            status: { type: 'string', enum: ['compromised'] },
            incidentId: { type: 'string', format: 'uuid' },
            from: dateTime,
            to: dateTime,
            personCount: { type: 'integer' },
            fieldCounts: counts,
          }),
          ...errors,
        },
      },
    },
    (request) => {
      const { note: text, from, to } = request.body;
      const window = { from: dateOf(from, 'from'), to: dateOf(to, 'to') };
      return db.tx(actor, (tx) =>
        confirmCompromise(
          tx,
          reviewerOf(request),
          request.params.id,
          text,
          {
            ...(window.from ? { from: window.from } : {}),
            ...(window.to ? { to: window.to } : {}),
          },
          clock.now(),
          keys ?? null,
        ),
      );
    },
  );

  app.get<{ Params: { id: string }; Querystring: { offset?: string } }>(
    '/api/v1/incidents/:id',
    {
      preHandler: staff,
      schema: {
        tags: ['guard'],
        summary:
          'Security officers and the DPO: an incident with its scope (person ids and fields, no identities)',
        description:
          `The persons of the scope by page of ${INCIDENT_PAGE} from \`offset\`. Reading it is an audit event ` +
          `of the reader with one link per person returned (field \`${INCIDENT_FIELD}\`). With its timeline and ` +
          '72-hour clock (GDPR art. 33(1)) and its counts by category of person.',
        params: idParams,
        querystring: obj(
          { offset: { type: 'string', pattern: '^(0|[1-9][0-9]{0,8})$', description: 'Default 0' } },
          [],
        ),
        response: { 200: Incident, ...errors },
      },
    },
    (request) => {
      const auth = request.staff!;
      return readIncident(
        db,
        {
          accountId: auth.account.id,
          organisationId: auth.account.organisationId,
          role: auth.account.role,
          sessionIdHash: auth.session.idHash,
          requestId: request.id,
          sourceAddress: request.ip,
        },
        request.params.id,
        Number(request.query.offset ?? '0'),
        clock.now(),
      );
    },
  );
};
