/**
 * Alerts about the audit log itself (issue 10, section 2): a stalled sequencer, a witness that
 * refuses a checkpoint. They concern no staff account, so they do not enter guard_alerts (one row
 * per account); they reach the security officers the way the guard's suspensions do (announce.ts):
 * an in-app notice and an email each (queued in the outbox), and a security event that records the
 * episode, all in one transaction.
 */
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { ACCOUNT_COLUMNS, type AccountRow, toAccount } from '../identity/accounts.ts';
import { recordEvent } from '../identity/events.ts';
import { queueNotice } from '../identity/notices.ts';

/** An alert about the audit log: what the officers read, and the facts kept in security_events. */
export interface AuditLogAlert {
  /** Security event action, also the notice's kind: 'audit.lag_alert', 'audit.witness_refused', ... */
  action: string;
  subject: string;
  text: string;
  /** Counts, sizes, witness names: never personal data. */
  details: Record<string, unknown>;
}

/** Records the alert as a security event and notifies every active security officer; returns how many. */
export async function alertSecurityOfficers(db: Db, now: Date, alert: AuditLogAlert): Promise<number> {
  const actor = systemCtx('audit').actor;
  return db.tx(actor, async (tx) => {
    await recordEvent(tx, { at: now, action: alert.action, details: alert.details });
    const officers = await tx.query<AccountRow>(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts a JOIN organisations o ON o.id = a.organisation_id
       WHERE a.status IN ('active', 'probation') AND a.role = 'security_officer'`,
    );
    for (const row of officers) {
      await queueNotice(tx, toAccount(row), now, {
        kind: alert.action,
        subject: alert.subject,
        text: alert.text,
      });
    }
    return officers.length;
  });
}

const LAG_ACTIONS = ['audit.lag_alert', 'audit.lag_cleared'] as const;

/**
 * Whether a lag episode is open: the latest of 'audit.lag_alert' / 'audit.lag_cleared' is an
 * alert. Kept in the database, so that several server processes, or a restarted one, raise one
 * alert per episode rather than one per check.
 */
export async function lagEpisodeOpen(db: Db): Promise<boolean> {
  const [row] = await db.read<{ action: string }>(
    systemCtx('audit').actor,
    `SELECT action FROM security_events WHERE action = ANY($1::text[]) ORDER BY at DESC, id DESC LIMIT 1`,
    [LAG_ACTIONS],
  );
  return row?.action === 'audit.lag_alert';
}

/** Records the end of a lag episode (the sequencer caught up): the next lag raises a new alert. */
export async function closeLagEpisode(db: Db, now: Date, details: Record<string, unknown>): Promise<void> {
  await db.tx(systemCtx('audit').actor, (tx) =>
    recordEvent(tx, { at: now, action: 'audit.lag_cleared', details }),
  );
}
