/**
 * The evidence a security officer decides an alert on (docs/DESIGN.md section 6; the 2024 breach went
 * unnoticed for weeks because nobody looked at the slow probing before the bulk transfer): the
 * alert and the account's other alerts, the account's timeline from the audit log, the distinct
 * persons it received per day (from the audit log too), its sessions (addresses, devices, what the guard noticed) and its
 * security events.
 *
 * No job seeker leaves through it: a timeline event carries the number of persons and the field
 * names, never a person id (the audit query shape's record ids are dropped; the persons of an
 * incident are read through incidents/incidents.ts, audited). What it does show — a staff member's
 * activity, addresses and devices — is itself a security-relevant read: each one is recorded as a
 * security event ('guard.evidence_viewed') in the same transaction.
 */
import { sessionRef } from '../access/gate.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { recordEvent } from '../identity/events.ts';
import {
  ALERT_SELECT,
  type AlertContext,
  type AlertRow,
  type AlertSummary,
  type Reviewer,
  requireSecurityOfficer,
  toAlertSummary,
} from './alerts.ts';
import {
  type BaselineHistory,
  baselineHistory,
  type OrganisationPicture,
  organisationPicture,
} from './evidence-organisation.ts';
import { BUILT_IN, type GuardConfig } from './thresholds.ts';

/** The timeline starts this many days before the alert and runs to now. */
export const TIMELINE_DAYS_BEFORE = 7;
/** At most this many events in a timeline (newest first). */
export const TIMELINE_LIMIT = 500;
/** Distinct persons per day: from the alert's day minus this many days plus one, to now. */
export const PERSON_DAYS = 14;
/** At most this many of the account's other alerts, sessions and security events. */
export const EVIDENCE_LIST_LIMIT = 200;

const DAY_MS = 86_400_000;

/**
 * The keys of an audit query shape shown in a timeline: filters, caps, flags, field names, the
 * guard's response. Whatever else a shape holds (a person's id, under `personId`) stays out.
 */
export const TIMELINE_QUERY_KEYS = [
  'by',
  'cap',
  'national',
  'more',
  'changed',
  'before',
  'after',
  'guard',
  'accounts',
  'from',
  'to',
] as const;

/** One audit event of the account: what it did, not whom it reached. */
export interface TimelineEvent {
  eventId: string;
  at: string;
  action: string;
  purpose: string | null;
  decision: 'allow' | 'deny';
  reason: string | null;
  resultCount: number;
  /** The query's shape (TIMELINE_QUERY_KEYS only): no value, no person id. */
  query: Record<string, unknown>;
  requestId: string;
  sessionRef: string | null;
  sourceAddress: string | null;
  /** Persons whose data the event returned or changed (no ids). */
  personCount: number;
  /** The union of the fields it returned or changed. */
  fields: string[];
}

export interface SessionEvidence {
  /** Links the session to its audit events (their sessionRef). */
  sessionRef: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  assurance: string;
  sourceAddress: string | null;
  userAgent: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
  guardFlags: string[];
}

export interface SecurityEventEvidence {
  at: string;
  action: string;
  /** Who acted (null: the system, or the account itself in a flow without a session). */
  actorAccountId: string | null;
  sourceAddress: string | null;
}

export interface Evidence {
  alert: AlertSummary & { context: AlertContext };
  otherAlerts: AlertSummary[];
  /** The timeline's window: from TIMELINE_DAYS_BEFORE before the alert to now. */
  window: { from: string; to: string };
  timeline: TimelineEvent[];
  /** More events than TIMELINE_LIMIT in the window: the oldest are left out. */
  timelineTruncated: boolean;
  /** Distinct persons the account received per day (its organisation's day, audit log), newest first. */
  personDays: { day: string; persons: number }[];
  sessions: SessionEvidence[];
  securityEvents: SecurityEventEvidence[];
  /** The organisation's last days against its usual, the alert's day by hour, the accounts driving it. */
  organisation: OrganisationPicture;
  /** The account's baseline, reviewed reference, peers' median and past days (null: the guard never saw it). */
  baselines: BaselineHistory | null;
}

/** Keeps the shown keys of a query shape. */
function shownQuery(query: unknown): Record<string, unknown> {
  if (query === null || typeof query !== 'object' || Array.isArray(query)) return {};
  const out: Record<string, unknown> = {};
  for (const key of TIMELINE_QUERY_KEYS) {
    const value = (query as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The evidence of alert `id` for a security officer (anyone else: 404), recorded as a security
 * event of the reader in the caller's transaction.
 */
export async function alertEvidence(
  tx: Tx,
  reviewer: Reviewer,
  id: string,
  now: Date,
  config: GuardConfig = BUILT_IN,
): Promise<Evidence> {
  requireSecurityOfficer(reviewer, true);
  const [row] = await tx.query<AlertRow>(`${ALERT_SELECT} WHERE g.id = $1`, [id]);
  if (!row) throw new AppError('not_found', 'no such alert for you');
  const alert = toAlertSummary(row);
  const accountId = row.account_id;
  const from = new Date(row.raised_at.getTime() - TIMELINE_DAYS_BEFORE * DAY_MS);

  const others = await tx.query<AlertRow>(
    `${ALERT_SELECT} WHERE g.account_id = $1 AND g.id <> $2 ORDER BY g.raised_at DESC, g.id DESC LIMIT $3`,
    [accountId, id, EVIDENCE_LIST_LIMIT],
  );
  const events = await tx.query<{
    id: string;
    occurred_at: Date;
    action: string;
    purpose: string | null;
    decision: 'allow' | 'deny';
    reason: string | null;
    result_count: number;
    query: unknown;
    request_id: string;
    session_ref: string | null;
    source_address: string | null;
    persons: number;
    fields: string[] | null;
  }>(
    `SELECT e.id::text AS id, e.occurred_at, e.action, e.purpose, e.decision, e.reason, e.result_count, e.query,
       e.request_id, e.session_ref, e.source_address,
       (SELECT count(*)::int FROM audit_event_persons l WHERE l.event_id = e.id) AS persons,
       (SELECT array_agg(DISTINCT f.field ORDER BY f.field)
        FROM audit_event_persons l CROSS JOIN LATERAL unnest(l.fields) AS f (field)
        WHERE l.event_id = e.id) AS fields
     FROM audit_events e
     WHERE e.account_id = $1 AND e.occurred_at >= $2 AND e.occurred_at <= $3
     ORDER BY e.occurred_at DESC, e.id DESC LIMIT $4`,
    [accountId, from, now, TIMELINE_LIMIT + 1],
  );
  // Distinct persons per day of the account's organisation, from the audit log (what the account
  // received: links of allowed events with at least one field, as in a breach scope).
  const days = await tx.query<{ day: string; persons: number }>(
    `SELECT (l.occurred_at AT TIME ZONE o.time_zone)::date::text AS day, count(DISTINCT l.person_id)::int AS persons
     FROM audit_event_persons l
     JOIN audit_events e ON e.id = l.event_id
     JOIN organisations o ON o.id = $2
     WHERE l.account_id = $1 AND l.occurred_at >= $3 AND l.occurred_at <= $4
       AND e.decision = 'allow' AND cardinality(l.fields) > 0
       AND (l.occurred_at AT TIME ZONE o.time_zone)::date >= ($5::timestamptz AT TIME ZONE o.time_zone)::date - $6::int
     GROUP BY 1 ORDER BY 1 DESC`,
    [
      accountId,
      row.organisation_id,
      new Date(row.raised_at.getTime() - (PERSON_DAYS + 1) * DAY_MS),
      now,
      row.raised_at,
      PERSON_DAYS - 1,
    ],
  );
  const sessions = await tx.query<{
    id_hash: Uint8Array;
    created_at: Date;
    last_seen_at: Date;
    expires_at: Date;
    assurance: string;
    source_address: string | null;
    user_agent: string | null;
    revoked_at: Date | null;
    revoked_reason: string | null;
    guard_flags: string[] | null;
  }>(
    `SELECT id_hash, created_at, last_seen_at, expires_at, assurance, source_address, user_agent,
       revoked_at, revoked_reason, guard_flags
     FROM sessions
     WHERE account_id = $1 AND created_at <= $3
       AND (created_at >= $2 OR ((revoked_at IS NULL OR revoked_at >= $2) AND expires_at >= $2))
     ORDER BY created_at DESC LIMIT $4`,
    [accountId, from, now, EVIDENCE_LIST_LIMIT],
  );
  const security = await tx.query<{
    at: Date;
    action: string;
    actor_account_id: string | null;
    source_address: string | null;
  }>(
    `SELECT at, action, actor_account_id, source_address FROM security_events
     WHERE target_account_id = $1 AND at >= $2 AND at <= $3
     ORDER BY at DESC, id DESC LIMIT $4`,
    [accountId, from, now, EVIDENCE_LIST_LIMIT],
  );
  const organisation = await organisationPicture(tx, config, row.organisation_id, row.raised_at, now);
  const baselines = await baselineHistory(tx, config, accountId);
  // Looking is on record too: which officer read whose activity, from where, and when.
  await recordEvent(tx, {
    at: now,
    action: 'guard.evidence_viewed',
    actorAccountId: reviewer.accountId,
    targetAccountId: accountId,
    organisationId: row.organisation_id,
    sourceAddress: reviewer.sourceAddress,
    details: { alertId: id },
  });

  const context = row.context ?? {};
  return {
    alert: {
      ...alert,
      context: {
        action: typeof context.action === 'string' ? context.action : null,
        sourceAddress: typeof context.sourceAddress === 'string' ? context.sourceAddress : null,
        sessionAddress: typeof context.sessionAddress === 'string' ? context.sessionAddress : null,
        sessionFlags: Array.isArray(context.sessionFlags) ? context.sessionFlags.map(String) : [],
      },
    },
    otherAlerts: others.map(toAlertSummary),
    window: { from: from.toISOString(), to: now.toISOString() },
    timeline: events.slice(0, TIMELINE_LIMIT).map((e) => ({
      eventId: e.id,
      at: e.occurred_at.toISOString(),
      action: e.action,
      purpose: e.purpose,
      decision: e.decision,
      reason: e.reason,
      resultCount: e.result_count,
      query: shownQuery(e.query),
      requestId: e.request_id,
      sessionRef: e.session_ref,
      sourceAddress: e.source_address,
      personCount: e.persons,
      fields: e.fields ?? [],
    })),
    timelineTruncated: events.length > TIMELINE_LIMIT,
    personDays: days,
    sessions: sessions.map((s) => ({
      sessionRef: sessionRef(Buffer.from(s.id_hash)),
      createdAt: s.created_at.toISOString(),
      lastSeenAt: s.last_seen_at.toISOString(),
      expiresAt: s.expires_at.toISOString(),
      assurance: s.assurance,
      sourceAddress: s.source_address,
      userAgent: s.user_agent,
      revokedAt: s.revoked_at?.toISOString() ?? null,
      revokedReason: s.revoked_reason,
      guardFlags: s.guard_flags ?? [],
    })),
    securityEvents: security.map((s) => ({
      at: s.at.toISOString(),
      action: s.action,
      actorAccountId: s.actor_account_id,
      sourceAddress: s.source_address,
    })),
    organisation,
    baselines,
  };
}
