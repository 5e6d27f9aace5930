/**
 * The review queue's reading side (docs/DESIGN.md section 6): the alerts the guard raised (guard_alerts)
 * and the suspended accounts, for security officers. Deciding is review.ts; the evidence of one
 * alert is evidence.ts.
 *
 * Runs as the system actor: the guard tables' row-level security lets a staff transaction reach its
 * own account's rows only (migration 0008). Who may call is checked here, before any row is read:
 * security officers only.
 */
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';

/** An alert's state in the queue. */
export const ALERT_STATUSES = ['open', 'reinstated', 'compromised', 'dismissed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** At most this many alerts in one listing (newest first). */
export const ALERTS_LIMIT = 200;
/** At most this many suspended accounts in one listing. */
export const SUSPENDED_LIMIT = 500;

/** The staff member at the queue, and where from (for the security events). */
export interface Reviewer {
  accountId: string;
  organisationId: string;
  role: string;
  sourceAddress: string | null;
  /** The HTTP request, to link the audit event of a compromise's scope. */
  requestId: string;
}

/** One signal behind an alert, as the guard recorded it (guard/signals.ts). */
export interface AlertSignal {
  name: string;
  value: number;
  limit: number;
  response: string;
}

/** An alert as the queue lists it: the account it is about, what the guard did and why, the decision. */
export interface AlertSummary {
  id: string;
  accountId: string;
  login: string;
  organisationId: string;
  organisationCode: string;
  role: string;
  accountStatus: string;
  raisedAt: string;
  /** `person_report`: a person did not recognise this account's access to their record (the portal). */
  response: 'step_up' | 'throttle' | 'suspend' | 'person_report';
  signals: AlertSignal[];
  status: AlertStatus;
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
  incidentId: string | null;
}

/** The request that raised an alert, as the guard recorded it. */
export interface AlertContext {
  action: string | null;
  sourceAddress: string | null;
  sessionAddress: string | null;
  sessionFlags: string[];
}

export interface AlertRow {
  id: string;
  account_id: string;
  login: string;
  organisation_id: string;
  organisation_code: string;
  role: string;
  account_status: string;
  raised_at: Date;
  response: AlertSummary['response'];
  signals: AlertSignal[] | null;
  context: Partial<AlertContext> | null;
  status: AlertStatus;
  decided_at: Date | null;
  decided_by: string | null;
  note: string | null;
  incident_id: string | null;
}

/** The columns of AlertRow, from guard_alerts g, accounts a, organisations o. */
export const ALERT_SELECT = `SELECT g.id, g.account_id, a.login, g.organisation_id, o.code AS organisation_code,
    a.role, a.status AS account_status, g.raised_at, g.response, g.signals, g.context, g.status,
    g.decided_at, g.decided_by, g.note, g.incident_id
  FROM guard_alerts g JOIN accounts a ON a.id = g.account_id JOIN organisations o ON o.id = g.organisation_id`;

/** The summary of a row read with ALERT_SELECT. */
export function toAlertSummary(row: AlertRow): AlertSummary {
  return {
    id: row.id,
    accountId: row.account_id,
    login: row.login,
    organisationId: row.organisation_id,
    organisationCode: row.organisation_code,
    role: row.role,
    accountStatus: row.account_status,
    raisedAt: row.raised_at.toISOString(),
    response: row.response,
    signals: (row.signals ?? []).map((s) => ({
      name: String(s.name),
      value: Number(s.value),
      limit: Number(s.limit),
      response: String(s.response),
    })),
    status: row.status,
    decidedAt: row.decided_at?.toISOString() ?? null,
    decidedBy: row.decided_by,
    note: row.note,
    incidentId: row.incident_id,
  };
}

/** Refuses anyone but a security officer; `hide` answers 404 (an alert id is not confirmed to exist). */
export function requireSecurityOfficer(reviewer: Pick<Reviewer, 'role'>, hide: boolean): void {
  if (reviewer.role === 'security_officer') return;
  if (hide) throw new AppError('not_found', 'no such alert for you');
  throw new AppError('forbidden', 'only security officers review the guard’s alerts');
}

/** The alerts in a state ('all': every state), newest first, at most ALERTS_LIMIT. */
export async function listAlerts(
  tx: Tx,
  reviewer: Reviewer,
  status: AlertStatus | 'all',
): Promise<AlertSummary[]> {
  requireSecurityOfficer(reviewer, false);
  const rows = await tx.query<AlertRow>(
    `${ALERT_SELECT} WHERE ($1::text IS NULL OR g.status = $1)
     ORDER BY g.raised_at DESC, g.id DESC LIMIT $2`,
    [status === 'all' ? null : status, ALERTS_LIMIT],
  );
  return rows.map(toAlertSummary);
}

/** A suspended account with the alert that last concerned it (none if an officer suspended it by hand). */
export interface SuspendedAccount {
  id: string;
  login: string;
  organisationId: string;
  organisationCode: string;
  role: string;
  /** When it was last suspended (its latest 'account.suspend' security event). */
  suspendedAt: string | null;
  latestAlertId: string | null;
  openAlerts: number;
}

/** The suspended accounts, most recently suspended first, at most SUSPENDED_LIMIT. */
export async function listSuspended(tx: Tx, reviewer: Reviewer): Promise<SuspendedAccount[]> {
  requireSecurityOfficer(reviewer, false);
  const rows = await tx.query<{
    id: string;
    login: string;
    organisation_id: string;
    organisation_code: string;
    role: string;
    suspended_at: Date | null;
    latest_alert_id: string | null;
    open_alerts: number;
  }>(
    `SELECT a.id, a.login, a.organisation_id, o.code AS organisation_code, a.role,
       (SELECT max(e.at) FROM security_events e
        WHERE e.target_account_id = a.id AND e.action = 'account.suspend') AS suspended_at,
       (SELECT g.id FROM guard_alerts g WHERE g.account_id = a.id
        ORDER BY g.raised_at DESC, g.id DESC LIMIT 1) AS latest_alert_id,
       (SELECT count(*)::int FROM guard_alerts g WHERE g.account_id = a.id AND g.status = 'open') AS open_alerts
     FROM accounts a JOIN organisations o ON o.id = a.organisation_id
     WHERE a.status = 'suspended'
     ORDER BY suspended_at DESC NULLS LAST, a.login LIMIT $1`,
    [SUSPENDED_LIMIT],
  );
  return rows.map((r) => ({
    id: r.id,
    login: r.login,
    organisationId: r.organisation_id,
    organisationCode: r.organisation_code,
    role: r.role,
    suspendedAt: r.suspended_at?.toISOString() ?? null,
    latestAlertId: r.latest_alert_id,
    openAlerts: r.open_alerts,
  }));
}
