/**
 * The DPO's retention report (`rempart retention report`, GET /api/v1/retention/report): the periods
 * in force and their legal grounds, how many persons are in each status, the oldest deregistration
 * still on file, what is due now and what will be due within 30 days, and the last runs. Counts and
 * dates only: nothing of any person.
 */
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { LEGAL_MAX_DESTROY_YEARS, type RetentionAction, type RetentionPeriods } from './periods.ts';
import { forecastRetention } from './run.ts';

/** The statuses a report counts, in order. */
export const REPORT_STATUSES = ['registered', 'deregistered', 'candidate', 'archived', 'destroyed'] as const;

/** Days ahead the report forecasts. */
export const FORECAST_DAYS = 30;

export interface RetentionRunRow {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  asOf: string;
  dryRun: boolean;
  trigger: 'cli' | 'server';
  actions: (Record<RetentionAction, number> & { inconsistent: number }) | null;
  scanned: number | null;
}

export interface RetentionOverview {
  asOf: string;
  periods: RetentionPeriods;
  legal: { destroyYearsMax: number; source: string };
  persons: Record<(typeof REPORT_STATUSES)[number], number>;
  /** The earliest end of registration of a deregistered or archived person still on file. */
  oldestDeregistration: string | null;
  /** What a run today would do (0 everywhere when the daily run is keeping up). */
  dueNow: Record<RetentionAction, number>;
  /** What will be due by `dueBy.date` (cumulative: includes what is due now). */
  dueBy: { date: string; actions: Record<RetentionAction, number> };
  /** The last 20 runs, newest first. */
  runs: RetentionRunRow[];
}

/** `asOf` plus `days` days (YYYY-MM-DD). */
function plusDays(asOf: string, days: number): string {
  return new Date(Date.parse(`${asOf}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The report as of `asOf` (the local date in France). */
export async function retentionOverview(
  db: Db,
  asOf: string,
  periods: RetentionPeriods,
): Promise<RetentionOverview> {
  const system = systemCtx('retention-report').actor;
  const statusRows = await db.read<{ status: string; n: number }>(
    system,
    'SELECT status, count(*)::int AS n FROM persons GROUP BY status',
  );
  const persons = Object.fromEntries(REPORT_STATUSES.map((s) => [s, 0])) as RetentionOverview['persons'];
  for (const row of statusRows) {
    if ((REPORT_STATUSES as readonly string[]).includes(row.status))
      persons[row.status as keyof typeof persons] = row.n;
  }
  const [oldest] = await db.read<{ at: string | null }>(
    system,
    `SELECT min(last_end)::text AS at FROM (
       SELECT max(r.ended_on) AS last_end FROM registration_periods r
       JOIN persons p ON p.id = r.person_id AND p.status IN ('deregistered', 'archived')
       GROUP BY r.person_id) t`,
  );
  const runs = await db.read<{
    id: string;
    started_at: Date;
    finished_at: Date | null;
    as_of: string;
    dry_run: boolean;
    trigger: 'cli' | 'server';
    actions: RetentionRunRow['actions'];
    persons_scanned: string | number | null;
  }>(
    system,
    `SELECT id, started_at, finished_at, as_of::text AS as_of, dry_run, trigger, actions, persons_scanned
     FROM retention_runs ORDER BY started_at DESC LIMIT 20`,
  );
  const now = await forecastRetention(db, asOf, periods);
  const date = plusDays(asOf, FORECAST_DAYS);
  const ahead = await forecastRetention(db, date, periods);
  return {
    asOf,
    periods,
    legal: {
      destroyYearsMax: LEGAL_MAX_DESTROY_YEARS,
      source: 'Code du travail, article R.5312-44',
    },
    persons,
    oldestDeregistration: oldest?.at ?? null,
    dueNow: now.actions,
    dueBy: { date, actions: ahead.actions },
    runs: runs.map((r) => ({
      id: r.id,
      startedAt: new Date(r.started_at).toISOString(),
      finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
      asOf: r.as_of,
      dryRun: r.dry_run,
      trigger: r.trigger,
      actions: r.actions,
      scanned: r.persons_scanned === null ? null : Number(r.persons_scanned),
    })),
  };
}
