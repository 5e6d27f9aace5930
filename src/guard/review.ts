/**
 * Deciding an alert of the review queue (docs/DESIGN.md section 6): reinstating the account ends the
 * guard's pending responses on it; confirming a compromise keeps it suspended and opens an incident
 * whose scope (persons, fields) is computed from the audit log (incidents/incidents.ts), so the
 * GDPR article 33/34 notifications start from the exact set (T7). The queue itself is alerts.ts,
 * the evidence an officer decides on evidence.ts.
 *
 * Runs as the system actor (migration 0008: the guard tables admit a staff transaction to its own
 * rows only). Security officers only, and never on an alert about their own account: a stolen
 * officer session must not be able to clear itself (T2).
 */

import { appendAudit } from '../audit/append.ts';
import { breachScope } from '../audit/scope.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { type Account, accountById } from '../identity/accounts.ts';
import { recordEvent } from '../identity/events.ts';
import { revokeAllSessions } from '../identity/sessions.ts';
import { openIncident } from '../incidents/incidents.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { type AlertStatus, type Reviewer, requireSecurityOfficer } from './alerts.ts';
import { type GuardState, reinstateState } from './state.ts';

/** The decision note: long enough to say why, short enough to stay a note. */
export const NOTE_MIN = 10;
export const NOTE_MAX = 1000;
/** The default start of a compromise's window: this many days before the alert. */
export const COMPROMISE_DEFAULT_DAYS = 30;

const DAY_MS = 86_400_000;

/** Validates a decision note (the schema bounds it too; this refuses one made of spaces). */
export function checkNote(note: string): string {
  const text = note.trim();
  if (text.length < NOTE_MIN || text.length > NOTE_MAX) {
    throw new AppError('validation_failed', `note must be ${NOTE_MIN} to ${NOTE_MAX} characters`, {
      field: 'note',
    });
  }
  return text;
}

interface Locked {
  id: string;
  accountId: string;
  organisationId: string;
  raisedAt: Date;
  accountStatus: string;
  probationUntil: Date | null;
}

/**
 * The open alert `id`, locked for the decision (two officers deciding at once: the second waits,
 * then finds it decided). Unknown, or about the reviewer's own account: 404; decided: 409.
 */
async function lockOpenAlert(tx: Tx, reviewer: Reviewer, id: string): Promise<Locked> {
  requireSecurityOfficer(reviewer, true);
  const [row] = await tx.query<{
    id: string;
    account_id: string;
    organisation_id: string;
    raised_at: Date;
    status: AlertStatus;
    account_status: string;
    probation_until: Date | null;
  }>(
    `SELECT g.id, g.account_id, g.organisation_id, g.raised_at, g.status, a.status AS account_status,
       a.probation_until
     FROM guard_alerts g JOIN accounts a ON a.id = g.account_id WHERE g.id = $1 FOR UPDATE`,
    [id],
  );
  if (!row || row.account_id === reviewer.accountId) throw new AppError('not_found', 'no such alert for you');
  if (row.status !== 'open') throw new AppError('conflict', `the alert is already ${row.status}`);
  return {
    id: row.id,
    accountId: row.account_id,
    organisationId: row.organisation_id,
    raisedAt: row.raised_at,
    accountStatus: row.account_status,
    probationUntil: row.probation_until,
  };
}

/** What a reinstatement did; `account` is for the owner's notice (sent after commit). */
export interface Reinstated {
  alertId: string;
  status: 'reinstated';
  accountId: string;
  accountStatus: string;
  /** The account's other open alerts, closed as dismissed with the same note. */
  dismissed: string[];
  account: Account;
}

/**
 * Reinstates the account of an open alert: the alert 'reinstated', the account's other open alerts
 * 'dismissed' (same note); a suspended account back to active — or to probation if its probation
 * had not ended (a new or recovered account stays untrusted, T8); the guard's pending throttle and
 * step-up cleared. In the caller's transaction, with a security event.
 */
export async function reinstateAlert(
  tx: Tx,
  reviewer: Reviewer,
  id: string,
  note: string,
  now: Date,
): Promise<Reinstated> {
  const text = checkNote(note);
  const alert = await lockOpenAlert(tx, reviewer, id);
  await tx.query(
    `UPDATE guard_alerts SET status = 'reinstated', decided_at = $2, decided_by = $3, note = $4 WHERE id = $1`,
    [alert.id, now, reviewer.accountId, text],
  );
  const dismissed = await tx.query<{ id: string }>(
    `UPDATE guard_alerts SET status = 'dismissed', decided_at = $3, decided_by = $4, note = $5
     WHERE account_id = $1 AND status = 'open' AND id <> $2 RETURNING id`,
    [alert.accountId, alert.id, now, reviewer.accountId, text],
  );
  let accountStatus = alert.accountStatus;
  if (alert.accountStatus === 'suspended') {
    const onProbation = alert.probationUntil !== null && alert.probationUntil.getTime() > now.getTime();
    accountStatus = onProbation ? 'probation' : 'active';
    await tx.query(`UPDATE accounts SET status = $2 WHERE id = $1 AND status = 'suspended'`, [
      alert.accountId,
      accountStatus,
    ]);
    await recordEvent(tx, {
      at: now,
      action: 'account.reinstate',
      actorAccountId: reviewer.accountId,
      targetAccountId: alert.accountId,
      organisationId: alert.organisationId,
      sourceAddress: reviewer.sourceAddress,
      details: { by: 'review', alertId: alert.id },
    });
  }
  // The guard's pending responses end with the decision: no throttle in force, no step-up owed. The
  // version moves, so a gate write based on the state read before this one is redone, not kept.
  // The day's volume so far is forgiven (reinstateState): the account does not start one request
  // short of the level that suspended it.
  const [guardRow] = await tx.query<{ state: GuardState }>(
    'SELECT state FROM guard_accounts WHERE account_id = $1 FOR UPDATE',
    [alert.accountId],
  );
  if (guardRow) {
    reinstateState(guardRow.state);
    await tx.query(
      `UPDATE guard_accounts SET throttled_until = NULL, step_up_since = NULL, state = $2::jsonb,
         version = version + 1, updated_at = $3
       WHERE account_id = $1`,
      [alert.accountId, JSON.stringify(guardRow.state), now],
    );
  }
  await recordEvent(tx, {
    at: now,
    action: 'guard.reinstate',
    actorAccountId: reviewer.accountId,
    targetAccountId: alert.accountId,
    organisationId: alert.organisationId,
    sourceAddress: reviewer.sourceAddress,
    details: { alertId: alert.id, dismissed: dismissed.map((d) => d.id), accountStatus },
  });
  const account = await accountById(tx, alert.accountId);
  if (!account) throw new AppError('internal', 'the account of an alert has gone');
  return {
    alertId: alert.id,
    status: 'reinstated',
    accountId: alert.accountId,
    accountStatus,
    dismissed: dismissed.map((d) => d.id),
    account,
  };
}

/** The window of a confirmed compromise; defaults: from COMPROMISE_DEFAULT_DAYS before the alert, to now. */
export interface CompromiseWindow {
  from?: Date;
  to?: Date;
}

/** What confirming a compromise did. */
export interface Confirmed {
  alertId: string;
  status: 'compromised';
  incidentId: string;
  from: string;
  to: string;
  personCount: number;
  fieldCounts: Record<string, number>;
}

/**
 * Confirms that the account of an open alert was compromised: the account stays suspended (is
 * suspended now, sessions revoked, if it was not); an incident opens with the breach scope of the
 * account over the window, computed from the audit log exactly as `rempart audit scope` does (T7);
 * the account's open alerts (this one included) become 'compromised' and point to the incident.
 * Reading the log is itself logged ('audit.scope', as the CLI does); the decision is a security event.
 */
export async function confirmCompromise(
  tx: Tx,
  reviewer: Reviewer,
  id: string,
  note: string,
  window: CompromiseWindow,
  now: Date,
  keys: RegistryKeys | null = null,
): Promise<Confirmed> {
  const text = checkNote(note);
  const alert = await lockOpenAlert(tx, reviewer, id);
  const from = window.from ?? new Date(alert.raisedAt.getTime() - COMPROMISE_DEFAULT_DAYS * DAY_MS);
  const to = window.to ?? now;
  const scope = await breachScope(tx, { accounts: [alert.accountId], from, to });
  if (alert.accountStatus !== 'suspended' && alert.accountStatus !== 'disabled') {
    await tx.query(`UPDATE accounts SET status = 'suspended' WHERE id = $1`, [alert.accountId]);
    await recordEvent(tx, {
      at: now,
      action: 'account.suspend',
      actorAccountId: reviewer.accountId,
      targetAccountId: alert.accountId,
      organisationId: alert.organisationId,
      sourceAddress: reviewer.sourceAddress,
      details: { by: 'review', alertId: alert.id },
    });
  }
  // Whatever the status said, no session of a compromised account survives the decision.
  await revokeAllSessions(tx, alert.accountId, 'compromise');
  const incidentId = await openIncident(tx, {
    openedAt: now,
    // The alert is when the compromise was detected: the 72-hour clock runs from it.
    detectedAt: alert.raisedAt < now ? alert.raisedAt : now,
    openedBy: reviewer.accountId,
    kind: 'compromised_account',
    scope,
    note: text,
    // With the registry's keys, the minors on the detection date are counted too (incidents/categories.ts).
    keys,
    requestId: reviewer.requestId,
  });
  const decided = await tx.query<{ id: string }>(
    `UPDATE guard_alerts SET status = 'compromised', decided_at = $2, decided_by = $3, note = $4, incident_id = $5
     WHERE account_id = $1 AND status = 'open' RETURNING id`,
    [alert.accountId, now, reviewer.accountId, text, incidentId],
  );
  await appendAudit(
    tx,
    {
      actor: { kind: 'system', operation: 'guard-review' },
      sessionRef: null,
      requestId: reviewer.requestId,
      sourceAddress: reviewer.sourceAddress,
      at: now,
    },
    {
      action: 'audit.scope',
      purpose: 'incident_investigation',
      // the shape, as `rempart audit scope` records it, and which incident it went to
      query: { accounts: scope.accounts.length, from, to, incidentId },
      decision: 'allow',
      resultCount: scope.personCount,
      persons: [],
    },
  );
  await recordEvent(tx, {
    at: now,
    action: 'guard.compromise_confirmed',
    actorAccountId: reviewer.accountId,
    targetAccountId: alert.accountId,
    organisationId: alert.organisationId,
    sourceAddress: reviewer.sourceAddress,
    details: {
      alertId: alert.id,
      alerts: decided.map((d) => d.id),
      incidentId,
      from: from.toISOString(),
      to: to.toISOString(),
      personCount: scope.personCount,
    },
  });
  return {
    alertId: alert.id,
    status: 'compromised',
    incidentId,
    from: from.toISOString(),
    to: to.toISOString(),
    personCount: scope.personCount,
    fieldCounts: scope.fieldCounts,
  };
}
