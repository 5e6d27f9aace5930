/**
 * The REMPART_EXPORT_* part of the configuration (docs/EXPORTS.md). Called by loadConfig with its
 * environment: config.ts stays the only reader of process.env.
 */
import { integerVar } from './config-integer.ts';
import type { FieldIssue } from './errors.ts';

/** Exports: how long a file lives, how large one may be, and what counts as large (T3). */
export interface ExportsConfig {
  /** Days a produced file can be downloaded before it is erased (REMPART_EXPORT_EXPIRY_DAYS, default 7). */
  expiryDays: number;
  /**
   * The most rows one export may hold (REMPART_EXPORT_MAX_ROWS, default 10000: the guard's
   * export_persons_week suspends at 10,000 rows a week, so a larger file could never be made).
   */
  maxRows: number;
  /**
   * Above this many rows an export is large, and a large export is refused outside the requester
   * organisation's working hours (REMPART_EXPORT_LARGE_ROWS, default 50: the 2021 files were made
   * off-hours, and off-hours rows count as persons read, which suspend a counselor at 50 a day).
   */
  largeRows: number;
  /** Canary rows seeded into each file (REMPART_EXPORT_CANARY_ROWS, default 3). */
  canaryRows: number;
}

/** Reads the REMPART_EXPORT_* variables; pushes an issue naming the variable for each bad one. */
export function loadExports(env: NodeJS.ProcessEnv, issues: FieldIssue[]): ExportsConfig {
  return {
    expiryDays: integerVar(env, 'REMPART_EXPORT_EXPIRY_DAYS', 7, 1, 90, issues),
    maxRows: integerVar(env, 'REMPART_EXPORT_MAX_ROWS', 10_000, 1, 10_000_000, issues),
    largeRows: integerVar(env, 'REMPART_EXPORT_LARGE_ROWS', 50, 1, 10_000_000, issues),
    canaryRows: integerVar(env, 'REMPART_EXPORT_CANARY_ROWS', 3, 1, 50, issues),
  };
}
