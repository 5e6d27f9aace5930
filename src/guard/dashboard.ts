/**
 * The security officers' live dashboard (docs/DESIGN.md section 6, docs/GUARD.md "Dashboard"): reads
 * per minute by organisation and role from the audit log, the open alerts and suspended accounts,
 * and the accounts furthest above their usual day (the guard's EWMA baseline, guard_accounts). A
 * bulk pull (T2, T5) or a slow drift (T9) shows here before anyone opens an alert.
 *
 * No job seeker leaves through it: counts per organisation, role and minute, and staff accounts with
 * their counts of distinct persons, never a person id. Runs as the system actor (the guard tables
 * admit a staff transaction to its own rows only, migration 0008); who may call is checked first:
 * security officers only.
 */
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { recordEvent } from '../identity/events.ts';
import { type Reviewer, requireSecurityOfficer } from './alerts.ts';
import { expectedPersons } from './signals.ts';
import type { GuardState } from './state.ts';
import { type GuardConfig, thresholdsFor } from './thresholds.ts';

/** The reads the dashboard counts: the gate's actions on personal data (access/gate.ts). */
export const READ_ACTIONS = [
  'person.search',
  'person.view',
  'person.access_history',
  'person.update_contact',
] as const;

/** The activity window: 1 to ACTIVITY_MAX_HOURS hours back from the current minute. */
export const ACTIVITY_MAX_HOURS = 24;
/** At most this many accounts in the "furthest above baseline" list. */
export const BASELINES_MAX = 50;
/** Accounts read from guard_accounts before the exact ordering (the SQL's order is an approximation). */
const BASELINE_CANDIDATES = 500;

const MINUTE_MS = 60_000;

/** One organisation and role's reads, one number per minute of the window. */
export interface ActivitySeries {
  organisationId: string;
  organisationCode: string;
  role: string;
  /** Reads the gate allowed, per minute (index 0: the window's first minute). */
  reads: number[];
  /** Reads refused (by the policy or the guard), per minute. */
  refused: number[];
}

/** The dashboard's figures over a window. */
export interface Activity {
  /** The window's first minute (inclusive) and its end (exclusive): `hours` × 60 minutes, the last one the current. */
  from: string;
  to: string;
  bucketSeconds: 60;
  series: ActivitySeries[];
  /** Open alerts of the review queue, by what the guard did. */
  openAlerts: { step_up: number; throttle: number; suspend: number };
  suspendedAccounts: number;
}

/** Reads per minute by organisation and role over the last `hours` hours, open alerts, suspensions. */
export async function guardActivity(tx: Tx, reviewer: Reviewer, hours: number, now: Date): Promise<Activity> {
  requireSecurityOfficer(reviewer, false);
  if (!Number.isInteger(hours) || hours < 1 || hours > ACTIVITY_MAX_HOURS) {
    throw new AppError('validation_failed', `hours must be an integer from 1 to ${ACTIVITY_MAX_HOURS}`, {
      field: 'hours',
    });
  }
  const minutes = hours * 60;
  const to = new Date((Math.floor(now.getTime() / MINUTE_MS) + 1) * MINUTE_MS);
  const from = new Date(to.getTime() - minutes * MINUTE_MS);
  // Through organisations, so that each organisation's slice is a range scan of
  // audit_events_organisation (organisation_id, occurred_at): the log has no index on time alone.
  const rows = await tx.query<{
    organisation_id: string;
    organisation_code: string;
    role: string;
    bucket: number;
    reads: number;
    refused: number;
  }>(
    `SELECT o.id AS organisation_id, o.code AS organisation_code, coalesce(e.role, '') AS role,
       floor(extract(epoch FROM (e.occurred_at - $1::timestamptz)) / 60)::int AS bucket,
       count(*) FILTER (WHERE e.decision = 'allow')::int AS reads,
       count(*) FILTER (WHERE e.decision = 'deny')::int AS refused
     FROM organisations o
     JOIN audit_events e ON e.organisation_id = o.id AND e.occurred_at >= $1 AND e.occurred_at < $2
     WHERE e.actor_kind = 'staff' AND e.action = ANY ($3::text[])
     GROUP BY 1, 2, 3, 4`,
    [from, to, [...READ_ACTIONS]],
  );
  const byKey = new Map<string, ActivitySeries>();
  for (const row of rows) {
    if (row.bucket < 0 || row.bucket >= minutes) continue;
    const key = `${row.organisation_id} ${row.role}`;
    let series = byKey.get(key);
    if (!series) {
      series = {
        organisationId: row.organisation_id,
        organisationCode: row.organisation_code,
        role: row.role,
        reads: new Array<number>(minutes).fill(0),
        refused: new Array<number>(minutes).fill(0),
      };
      byKey.set(key, series);
    }
    series.reads[row.bucket] = row.reads;
    series.refused[row.bucket] = row.refused;
  }
  const alerts = await tx.query<{ response: keyof Activity['openAlerts']; n: number }>(
    `SELECT response, count(*)::int AS n FROM guard_alerts WHERE status = 'open' GROUP BY response`,
  );
  const [suspended] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM accounts WHERE status = 'suspended'`,
  );
  const openAlerts = { step_up: 0, throttle: 0, suspend: 0 };
  for (const a of alerts) openAlerts[a.response] = a.n;
  const series = [...byKey.values()].sort(
    (a, b) => a.organisationCode.localeCompare(b.organisationCode) || a.role.localeCompare(b.role),
  );
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    bucketSeconds: 60,
    series,
    openAlerts,
    suspendedAccounts: suspended?.n ?? 0,
  };
}

/** An account's day against its usual day, as the guard sees it now. */
export interface BaselineEntry {
  accountId: string;
  login: string;
  organisationCode: string;
  role: string;
  accountStatus: string;
  /** The organisation's local day these counts are for. */
  day: string;
  /** Distinct persons reached today (less what a reinstatement forgave). */
  personsToday: number;
  /** The usual day the guard compares with (its own EWMA, else its peers' or the floor). */
  expected: number;
  /** Where `expected` comes from: the account's own history, or (too short a history) its peers or the floor. */
  expectedFrom: 'own' | 'peers' | 'floor';
  /** personsToday − expected (the `beyond_baseline` signal's value), at least 0. */
  beyond: number;
  /** The account's EWMA and how many working days it folded (null: no finished day yet). */
  baseline: number | null;
  baselineDays: number;
}

/**
 * The `limit` accounts furthest above their usual day today (beyond_baseline, then persons today),
 * among those that reached at least one person today.
 */
export async function furthestAboveBaseline(
  tx: Tx,
  reviewer: Reviewer,
  config: GuardConfig,
  limit: number,
  now: Date,
): Promise<BaselineEntry[]> {
  requireSecurityOfficer(reviewer, false);
  if (!Number.isInteger(limit) || limit < 1 || limit > BASELINES_MAX) {
    throw new AppError('validation_failed', `limit must be an integer from 1 to ${BASELINES_MAX}`, {
      field: 'limit',
    });
  }
  const rows = await tx.query<{
    account_id: string;
    login: string;
    organisation_code: string;
    role: string;
    status: string;
    demo: boolean;
    state: Omit<GuardState, 'seen'>;
  }>(
    `SELECT g.account_id, a.login, o.code AS organisation_code, g.role, a.status, coalesce(a.demo, false) AS demo,
       g.state
     FROM guard_accounts g
     JOIN accounts a ON a.id = g.account_id
     JOIN organisations o ON o.id = g.organisation_id
     WHERE g.state->>'day' = (($1::timestamptz AT TIME ZONE o.time_zone)::date)::text
       AND coalesce((g.state->'d'->>'persons')::int, 0) > 0
     ORDER BY coalesce((g.state->'d'->>'persons')::int, 0) - coalesce(g.baseline, 0) DESC
     LIMIT $2`,
    [now, BASELINE_CANDIDATES],
  );
  const entries = rows.map((row): BaselineEntry => {
    const state = row.state as GuardState;
    const t = thresholdsFor(config, row.role, row.organisation_code, row.demo);
    const persons = Math.max(0, (state.d?.persons ?? 0) - (state.pardon?.persons ?? 0));
    const expected = expectedPersons(state, t);
    const own =
      state.baseline !== null &&
      (state.days >= t.parameters.baselineMinDays ||
        state.baseline >= (state.peer ?? t.parameters.baselineFloor));
    return {
      accountId: row.account_id,
      login: row.login,
      organisationCode: row.organisation_code,
      role: row.role,
      accountStatus: row.status,
      day: state.day,
      personsToday: persons,
      expected: Math.round(expected * 10) / 10,
      expectedFrom: own ? 'own' : state.peer !== null ? 'peers' : 'floor',
      beyond: Math.max(0, Math.round((persons - expected) * 10) / 10),
      baseline: state.baseline === null ? null : Math.round(state.baseline * 10) / 10,
      baselineDays: state.days,
    };
  });
  entries.sort(
    (a, b) => b.beyond - a.beyond || b.personsToday - a.personsToday || a.login.localeCompare(b.login),
  );
  return entries.slice(0, limit);
}

/** An account's timeline reaches back at most this many hours (two weeks: the evidence's person days). */
export const TIMELINE_MAX_HOURS = 336;
/** Up to this many hours a timeline counts per minute; beyond, per hour. */
export const TIMELINE_MINUTE_HOURS = 6;

/** One account's requests per minute or hour. */
export interface AccountTimeline {
  accountId: string;
  from: string;
  to: string;
  bucketSeconds: 60 | 3600;
  /** Requests the gate allowed, per bucket (any audited action of the account). */
  allowed: number[];
  /** Requests refused (policy or guard), per bucket. */
  refused: number[];
  /** Persons whose data the account received, per bucket (one per person and event; no id). */
  persons: number[];
}

/**
 * Account `accountId`'s audit events over the last `hours` hours, counted per minute (up to
 * TIMELINE_MINUTE_HOURS) or per hour: the shape of its activity, whole, where an alert's evidence
 * lists at most its latest events. Reading a staff member's activity is recorded as a security
 * event of the reader (as the evidence is).
 */
export async function accountTimeline(
  tx: Tx,
  reviewer: Reviewer,
  accountId: string,
  hours: number,
  now: Date,
): Promise<AccountTimeline> {
  requireSecurityOfficer(reviewer, true);
  if (!Number.isInteger(hours) || hours < 1 || hours > TIMELINE_MAX_HOURS) {
    throw new AppError('validation_failed', `hours must be an integer from 1 to ${TIMELINE_MAX_HOURS}`, {
      field: 'hours',
    });
  }
  const [account] = await tx.query<{ organisation_id: string }>(
    'SELECT organisation_id FROM accounts WHERE id = $1',
    [accountId],
  );
  if (!account) throw new AppError('not_found', 'no such account for you');
  const size = hours <= TIMELINE_MINUTE_HOURS ? 60 : 3600;
  const buckets = (hours * 3600) / size;
  const to = new Date((Math.floor(now.getTime() / (size * 1000)) + 1) * size * 1000);
  const from = new Date(to.getTime() - buckets * size * 1000);
  const rows = await tx.query<{ bucket: number; allowed: number; refused: number; persons: number }>(
    `SELECT floor(extract(epoch FROM (e.occurred_at - $2::timestamptz)) / $4)::int AS bucket,
       count(*) FILTER (WHERE e.decision = 'allow')::int AS allowed,
       count(*) FILTER (WHERE e.decision = 'deny')::int AS refused,
       coalesce(sum((SELECT count(*) FROM audit_event_persons l
                     WHERE l.event_id = e.id AND cardinality(l.fields) > 0)) FILTER (WHERE e.decision = 'allow'), 0)::int
         AS persons
     FROM audit_events e
     WHERE e.account_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3
     GROUP BY 1`,
    [accountId, from, to, size],
  );
  const allowed = new Array<number>(buckets).fill(0);
  const refused = new Array<number>(buckets).fill(0);
  const persons = new Array<number>(buckets).fill(0);
  for (const row of rows) {
    if (row.bucket < 0 || row.bucket >= buckets) continue;
    allowed[row.bucket] = row.allowed;
    refused[row.bucket] = row.refused;
    persons[row.bucket] = row.persons;
  }
  // Looking is on record: which officer read whose activity, from where, and when.
  await recordEvent(tx, {
    at: now,
    action: 'guard.timeline_viewed',
    actorAccountId: reviewer.accountId,
    targetAccountId: accountId,
    organisationId: account.organisation_id,
    sourceAddress: reviewer.sourceAddress,
    details: { hours },
  });
  return {
    accountId,
    from: from.toISOString(),
    to: to.toISOString(),
    bucketSeconds: size,
    allowed,
    refused,
    persons,
  };
}
