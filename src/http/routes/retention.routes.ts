/**
 * The DPO's retention report (docs/RETENTION.md): GET /api/v1/retention/report. Counts and dates
 * only, never a person; the closed response schema keeps anything else from leaving.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RetentionConfig } from '../../config-retention.ts';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { retentionDay } from '../../retention/job.ts';
import { RETENTION_ACTIONS } from '../../retention/periods.ts';
import { FORECAST_DAYS, REPORT_STATUSES, retentionOverview } from '../../retention/report.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

export interface RetentionRoutesOptions {
  db: Db;
  clock: Clock;
  retention: RetentionConfig;
}

const count = { type: 'integer', minimum: 0 } as const;
const date = { type: 'string', format: 'date' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const Actions = obj(Object.fromEntries(RETENTION_ACTIONS.map((a) => [a, count])));
const Periods = obj({
  archiveMonths: { type: 'integer', description: 'Months after deregistration before the archive' },
  destroyYears: {
    type: 'integer',
    description: 'Years after deregistration before destruction (at most 20)',
  },
  candidateMonths: {
    type: 'integer',
    description: 'Months of inactivity before a candidate space is destroyed',
  },
});

const Report = obj({
  asOf: { ...date, description: 'The day the periods are counted back from (local date in France)' },
  periods: Periods,
  legal: obj({ destroyYearsMax: { type: 'integer' }, source: { type: 'string' } }),
  persons: obj(Object.fromEntries(REPORT_STATUSES.map((s) => [s, count]))),
  oldestDeregistration: {
    type: ['string', 'null'],
    format: 'date',
    description: 'The earliest end of registration still on file (deregistered or archived)',
  },
  dueNow: { ...Actions, description: 'What a run today would do: 0 everywhere when the daily run keeps up' },
  dueBy: obj({
    date,
    actions: { ...Actions, description: `Due within ${FORECAST_DAYS} days (cumulative: includes dueNow)` },
  }),
  runs: {
    type: 'array',
    description: 'The last 20 runs, newest first',
    items: obj({
      id: { type: 'string', format: 'uuid' },
      startedAt: dateTime,
      finishedAt: { ...dateTime, type: ['string', 'null'], description: 'null: unfinished (cut short)' },
      asOf: date,
      dryRun: { type: 'boolean' },
      trigger: { type: 'string', enum: ['cli', 'server'] },
      actions: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: { ...Object.fromEntries(RETENTION_ACTIONS.map((a) => [a, count])), inconsistent: count },
      },
      scanned: { type: ['integer', 'null'] },
    }),
  },
});

/** Registers the route. */
export const retentionRoutes: FastifyPluginAsync<RetentionRoutesOptions> = async (
  app,
  { db, clock, retention },
) => {
  const staff = app.requireStaff({ assurance: 'mfa' });
  app.get(
    '/api/v1/retention/report',
    {
      preHandler: staff,
      schema: {
        tags: ['retention'],
        summary: 'DPO: the retention report (periods, persons by status, what is due, the last runs)',
        description:
          'The periods in force and their legal ground (Code du travail, art. R.5312-44: 20 years at most ' +
          `after deregistration), persons per status, what a run would do today and within ${FORECAST_DAYS} ` +
          'days, and the last runs of `rempart retention run` and of the daily job. Counts only. DPO only.',
        response: { 200: Report, ...errorsOf() },
      },
    },
    async (request) => {
      if (request.staff!.account.role !== 'dpo')
        throw new AppError('forbidden', 'the retention report is for the DPO');
      return retentionOverview(db, retentionDay(clock.now()), retention.periods);
    },
  );
};

function errorsOf() {
  return {
    401: problemResponse('Not logged in'),
    403: problemResponse('Not allowed for your role'),
  };
}
