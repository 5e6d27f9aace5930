/**
 * The security officers' dashboard (docs/GUARD.md "Dashboard"): reads per minute by organisation and
 * role, open alerts and suspensions, the accounts furthest above their usual day. Counts and staff
 * accounts only, never a job seeker. Routes stay thin: guard/dashboard.ts holds the queries and the
 * role check; closed response schemas keep anything else from leaving.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type Clock, systemCtx } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import type { Reviewer } from '../../guard/alerts.ts';
import {
  ACTIVITY_MAX_HOURS,
  accountTimeline,
  BASELINES_MAX,
  furthestAboveBaseline,
  guardActivity,
  READ_ACTIONS,
  TIMELINE_MAX_HOURS,
  TIMELINE_MINUTE_HOURS,
} from '../../guard/dashboard.ts';
import type { GuardConfig } from '../../guard/thresholds.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj } from '../schemas.ts';

export interface GuardDashboardRoutesOptions {
  db: Db;
  clock: Clock;
  /** The guard's thresholds (their baseline parameters decide each account's usual day). */
  guard: GuardConfig;
}

const errors = {
  400: problemResponse('Invalid input; `field` names it'),
  401: problemResponse('Not logged in'),
  403: problemResponse('Not allowed for your role'),
  404: problemResponse('No such account for you'),
};

const string = { type: 'string' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const perMinute = { type: 'array', items: { type: 'integer', minimum: 0 } } as const;

const Activity = obj({
  from: { ...dateTime, description: "The window's first minute (inclusive)" },
  to: { ...dateTime, description: "The window's end (exclusive): the end of the current minute" },
  bucketSeconds: { type: 'integer', enum: [60] },
  series: {
    type: 'array',
    items: obj({
      organisationId: { type: 'string', format: 'uuid' },
      organisationCode: string,
      role: string,
      reads: { ...perMinute, description: 'Reads allowed, one number per minute from `from`' },
      refused: { ...perMinute, description: 'Reads refused (policy or guard), one number per minute' },
    }),
  },
  openAlerts: obj({
    step_up: { type: 'integer' },
    throttle: { type: 'integer' },
    suspend: { type: 'integer' },
  }),
  suspendedAccounts: { type: 'integer' },
});

const perBucket = { type: 'array', items: { type: 'integer', minimum: 0 } } as const;
const Timeline = obj({
  accountId: { type: 'string', format: 'uuid' },
  from: dateTime,
  to: dateTime,
  bucketSeconds: { type: 'integer', enum: [60, 3600] },
  allowed: { ...perBucket, description: 'Requests allowed, one number per bucket from `from`' },
  refused: { ...perBucket, description: 'Requests refused (policy or guard), per bucket' },
  persons: { ...perBucket, description: 'Persons received (one per person and event), per bucket' },
});

const Baseline = obj({
  accountId: { type: 'string', format: 'uuid' },
  login: string,
  organisationCode: string,
  role: string,
  accountStatus: string,
  day: { type: 'string', format: 'date' },
  personsToday: { type: 'integer' },
  expected: { type: 'number' },
  expectedFrom: { type: 'string', enum: ['own', 'peers', 'floor'] },
  beyond: { type: 'number' },
  baseline: { type: ['number', 'null'] },
  baselineDays: { type: 'integer' },
});

/** Registers the routes. */
export const guardDashboardRoutes: FastifyPluginAsync<GuardDashboardRoutesOptions> = async (
  app,
  { db, clock, guard },
) => {
  const actor = systemCtx('guard-dashboard').actor;
  const staff = app.requireStaff({ assurance: 'mfa' });
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

  app.get<{ Querystring: { hours?: string } }>(
    '/api/v1/guard/activity',
    {
      preHandler: staff,
      schema: {
        tags: ['guard'],
        summary: 'Security officers: reads per minute by organisation and role, open alerts, suspensions',
        description:
          `From the audit log: the staff's ${READ_ACTIONS.join(', ')} events per minute over the last ` +
          `\`hours\` hours (1–${ACTIVITY_MAX_HOURS}, default 3; the last minute is the current one), ` +
          'allowed and refused, by organisation and role (the role at the time of the read). Only the ' +
          'organisations and roles that read in the window have a series. No person, no account.',
        querystring: obj(
          {
            hours: {
              type: 'string',
              pattern: '^[0-9]{1,2}$',
              description: `Hours back, 1–${ACTIVITY_MAX_HOURS} (default 3)`,
            },
          },
          [],
        ),
        response: { 200: Activity, ...errors },
      },
    },
    (request) =>
      db.tx(actor, (tx) =>
        guardActivity(tx, reviewerOf(request), Number(request.query.hours ?? '3'), clock.now()),
      ),
  );

  app.get<{ Querystring: { limit?: string } }>(
    '/api/v1/guard/baselines',
    {
      preHandler: staff,
      schema: {
        tags: ['guard'],
        summary: 'Security officers: the accounts furthest above their usual day, today',
        description:
          "Distinct persons each account reached today (its organisation's day) against its usual day: " +
          'its own baseline (EWMA over its past working days) once it has enough history, else its ' +
          "peers' or the floor (docs/GUARD.md). `beyond` is the `beyond_baseline` signal's value. " +
          `At most \`limit\` accounts (1–${BASELINES_MAX}, default 10), furthest first. Counts, never a person.`,
        querystring: obj(
          {
            limit: {
              type: 'string',
              pattern: '^[0-9]{1,2}$',
              description: `Accounts, 1–${BASELINES_MAX} (default 10)`,
            },
          },
          [],
        ),
        response: { 200: obj({ accounts: { type: 'array', items: Baseline } }), ...errors },
      },
    },
    async (request) => ({
      accounts: await db.tx(actor, (tx) =>
        furthestAboveBaseline(
          tx,
          reviewerOf(request),
          guard,
          Number(request.query.limit ?? '10'),
          clock.now(),
        ),
      ),
    }),
  );

  app.get<{ Params: { id: string }; Querystring: { hours?: string } }>(
    '/api/v1/guard/accounts/:id/timeline',
    {
      preHandler: staff,
      schema: {
        tags: ['guard'],
        summary: "Security officers: one account's requests per minute or per hour",
        description:
          `The account's audit events over the last \`hours\` hours (1–${TIMELINE_MAX_HOURS}, default 24), ` +
          `per minute up to ${TIMELINE_MINUTE_HOURS} hours, else per hour: allowed, refused, and the persons ` +
          "received (counts, no id). The whole shape of the account's activity, where an alert's evidence " +
          'lists its latest events. Other roles and unknown accounts: 404. Reading it is a security event ' +
          '(guard.timeline_viewed).',
        params: idParams,
        querystring: obj(
          {
            hours: {
              type: 'string',
              pattern: '^[0-9]{1,3}$',
              description: `Hours back, 1–${TIMELINE_MAX_HOURS} (default 24)`,
            },
          },
          [],
        ),
        response: { 200: Timeline, ...errors },
      },
    },
    (request) =>
      db.tx(actor, (tx) =>
        accountTimeline(
          tx,
          reviewerOf(request),
          request.params.id,
          Number(request.query.hours ?? '24'),
          clock.now(),
        ),
      ),
  );
};
