/**
 * Brute force (docs/DESIGN.md section 5; CNIL's 2026 sanction criticised a 50-attempt threshold):
 * failed logins are counted per account and per source address. After the third failure the next
 * attempt must wait 1 s, then 2 s, 4 s, … (at most 5 min); the tenth locks the key for 15 minutes and,
 * for an account, its owner is told. A success clears both counters.
 * The account counter is keyed by the login as typed (normalised), so unknown logins are counted
 * exactly like known ones and the responses cannot tell them apart.
 */
import type { Tx } from '../db/types.ts';

export const BACKOFF_FROM_FAILURE = 3;
export const LOCK_AT_FAILURE = 10;
export const LOCK_MINUTES = 15;
const MAX_BACKOFF_SECONDS = 300;

export type ThrottleScope = 'account' | 'address';

/** When the key may try again after `failures` failures (null: now). */
export function blockedUntil(failures: number, now: Date): Date | null {
  if (failures >= LOCK_AT_FAILURE) return new Date(now.getTime() + LOCK_MINUTES * 60_000);
  if (failures < BACKOFF_FROM_FAILURE) return null;
  const seconds = Math.min(MAX_BACKOFF_SECONDS, 2 ** (failures - BACKOFF_FROM_FAILURE));
  return new Date(now.getTime() + seconds * 1000);
}

/** True if any of the keys is blocked at `now`. */
export async function isBlocked(
  tx: Tx,
  keys: { scope: ThrottleScope; key: string }[],
  now: Date,
): Promise<boolean> {
  const rows = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM auth_throttle
     WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND blocked_until > $3`,
    [keys.map((k) => k.scope), keys.map((k) => k.key), now],
  );
  return (rows[0]?.n ?? 0) > 0;
}

/** Counts a failure for the key; returns the new count and whether this failure locked it. */
export async function recordFailure(
  tx: Tx,
  scope: ThrottleScope,
  key: string,
  now: Date,
): Promise<{ failures: number; locked: boolean }> {
  const rows = await tx.query<{ failures: number }>(
    `INSERT INTO auth_throttle (scope, key, failures, last_failure_at) VALUES ($1, $2, 1, $3)
     ON CONFLICT (scope, key) DO UPDATE SET
       -- a lock that has run out starts a new count; otherwise failures accumulate
       failures = CASE WHEN auth_throttle.failures >= ${LOCK_AT_FAILURE} AND auth_throttle.blocked_until <= $3
                       THEN 1 ELSE auth_throttle.failures + 1 END,
       last_failure_at = $3
     RETURNING failures`,
    [scope, key, now],
  );
  const failures = rows[0]!.failures;
  await tx.query('UPDATE auth_throttle SET blocked_until = $3 WHERE scope = $1 AND key = $2', [
    scope,
    key,
    blockedUntil(failures, now),
  ]);
  return { failures, locked: failures === LOCK_AT_FAILURE };
}

/** Clears the counters after a successful login. */
export async function clearFailures(tx: Tx, keys: { scope: ThrottleScope; key: string }[]): Promise<void> {
  await tx.query(
    `UPDATE auth_throttle SET failures = 0, blocked_until = NULL
     WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [keys.map((k) => k.scope), keys.map((k) => k.key)],
  );
}
