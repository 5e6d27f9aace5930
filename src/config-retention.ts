/**
 * The REMPART_RETENTION_* part of the configuration (docs/RETENTION.md). Called by loadConfig with
 * its environment: config.ts stays the only reader of process.env.
 */
import { integerVar } from './config-integer.ts';
import type { FieldIssue } from './errors.ts';
import type { RetentionPeriods } from './retention/periods.ts';
import { DEFAULT_PERIODS, LEGAL_MAX_DESTROY_YEARS } from './retention/periods.ts';

/** Retention: the periods, and when the server runs it. */
export interface RetentionConfig {
  periods: RetentionPeriods;
  /**
   * The local time (Europe/Paris) at which the server runs retention each day
   * (REMPART_RETENTION_DAILY_AT, HH:MM, default 02:30), or null with `off`: then only
   * `rempart retention run` applies it.
   */
  dailyAt: { hour: number; minute: number } | null;
}

/** Reads the REMPART_RETENTION_* variables; pushes an issue naming the variable for each bad one. */
export function loadRetention(env: NodeJS.ProcessEnv, issues: FieldIssue[]): RetentionConfig {
  const periods: RetentionPeriods = {
    archiveMonths: integerVar(
      env,
      'REMPART_RETENTION_ARCHIVE_MONTHS',
      DEFAULT_PERIODS.archiveMonths,
      1,
      12 * LEGAL_MAX_DESTROY_YEARS,
      issues,
    ),
    // The labour code's 20 years are a maximum: a shorter period is allowed, a longer one is not.
    destroyYears: integerVar(
      env,
      'REMPART_RETENTION_DESTROY_YEARS',
      DEFAULT_PERIODS.destroyYears,
      1,
      LEGAL_MAX_DESTROY_YEARS,
      issues,
    ),
    candidateMonths: integerVar(
      env,
      'REMPART_RETENTION_CANDIDATE_MONTHS',
      DEFAULT_PERIODS.candidateMonths,
      1,
      120,
      issues,
    ),
  };
  if (periods.archiveMonths > periods.destroyYears * 12) {
    issues.push({
      field: 'REMPART_RETENTION_ARCHIVE_MONTHS',
      message: 'must not be longer than REMPART_RETENTION_DESTROY_YEARS',
    });
  }
  const text = env.REMPART_RETENTION_DAILY_AT?.trim() || '02:30';
  let dailyAt: RetentionConfig['dailyAt'] = null;
  if (text !== 'off') {
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
    if (match) dailyAt = { hour: Number(match[1]), minute: Number(match[2]) };
    else
      issues.push({
        field: 'REMPART_RETENTION_DAILY_AT',
        message: 'must be a time HH:MM (00:00 to 23:59) or off',
      });
  }
  return { periods, dailyAt };
}
