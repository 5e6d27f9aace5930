/**
 * `rempart retention run|report` (docs/RETENTION.md): the operator's retention run (the server
 * also runs it daily) and the DPO's report. Counts only: no person is named or read.
 */
import type { Config } from '../config.ts';
import { openDb } from '../db/open.ts';
import { AppError } from '../errors.ts';
import { retentionDay } from '../retention/job.ts';
import { type RetentionOverview, retentionOverview } from '../retention/report.ts';
import type { RetentionReport } from '../retention/run.ts';
import { runRetention } from '../retention/run.ts';

/** Runs retention as of today (France), or counts what a run would do (`dryRun`, `asOf` allowed). */
export async function runRetentionCommand(
  config: Config,
  options: { dryRun: boolean; asOf?: string; onProgress?: (scanned: number) => void },
): Promise<RetentionReport> {
  // A real run counts from today only: a date in the future would destroy before the law says.
  if (options.asOf !== undefined && !options.dryRun) {
    throw new AppError('validation_failed', '--as-of goes with --dry-run only: a run counts from today', {
      field: 'as-of',
    });
  }
  const at = new Date();
  const db = await openDb(config);
  try {
    const report = await runRetention(db, {
      asOf: options.asOf ?? retentionDay(at),
      periods: config.retention.periods,
      dryRun: options.dryRun,
      trigger: 'cli',
      at,
      onProgress: options.onProgress,
    });
    // Only the server's runs are one per day; a command's always proceeds.
    if (!report) throw new AppError('internal', 'the run was not recorded');
    return report;
  } finally {
    await db.close();
  }
}

/** The DPO's report as of today (France). */
export async function runRetentionReport(config: Config): Promise<RetentionOverview> {
  const db = await openDb(config);
  try {
    return await retentionOverview(db, retentionDay(new Date()), config.retention.periods);
  } finally {
    await db.close();
  }
}

/** The report as a few readable lines. */
export function formatOverview(o: RetentionOverview): string {
  const actions = (a: Record<string, number>): string =>
    `archive ${a.archive}, destroy ${a.destroy}, expire_candidate ${a.expire_candidate}`;
  return [
    `retention as of ${o.asOf} (${o.legal.source}: at most ${o.legal.destroyYearsMax} years)`,
    `periods: archive after ${o.periods.archiveMonths} months, destroy after ${o.periods.destroyYears} years, candidate spaces after ${o.periods.candidateMonths} months inactive`,
    `persons: ${Object.entries(o.persons)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `oldest deregistration on file: ${o.oldestDeregistration ?? '—'}`,
    `due now: ${actions(o.dueNow)}`,
    `due by ${o.dueBy.date}: ${actions(o.dueBy.actions)}`,
    `last runs: ${o.runs.length === 0 ? 'none' : ''}`,
    ...o.runs
      .slice(0, 5)
      .map(
        (r) =>
          `  ${r.startedAt} ${r.trigger}${r.dryRun ? ' (dry run)' : ''} as of ${r.asOf}: ${r.actions ? actions(r.actions) : 'unfinished'}`,
      ),
  ].join('\n');
}
