/**
 * Announcing a suspension (docs/DESIGN.md section 6): the security officers and the suspended account's
 * organisation managers get an in-app notice and an email naming the account and the signals (never
 * a person). Runs after the transaction that suspended has committed; the alert itself is already in
 * the review queue. The notices and their mails are written in one transaction; the mails go through
 * the outbox (notify/outbox.ts), sent after the answer and retried if the mail server fails.
 */
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { ACCOUNT_COLUMNS, type AccountRow, toAccount } from '../identity/accounts.ts';
import { queueNotice } from '../identity/notices.ts';
import type { RaisedAlert } from './guard.ts';

/** Tells the security officers and the account's organisation managers of a suspension. */
export async function announceAlert(db: Db, alert: RaisedAlert, now: Date): Promise<void> {
  if (alert.response !== 'suspend') return;
  const actor = systemCtx('guard').actor;
  await db.tx(actor, async (tx) => {
    const rows = await tx.query<AccountRow & { suspended_login: string }>(
      `SELECT ${ACCOUNT_COLUMNS}, (SELECT login FROM accounts WHERE id = $1) AS suspended_login
       FROM accounts a JOIN organisations o ON o.id = a.organisation_id
       WHERE a.status IN ('active', 'probation') AND a.id <> $1
         AND (a.role = 'security_officer' OR (a.role = 'org_manager' AND a.organisation_id = $2))`,
      [alert.accountId, alert.organisationId],
    );
    const signals = alert.signals.map((s) => `${s.name} (${s.value}, limit ${s.limit})`).join(', ');
    for (const row of rows) {
      await queueNotice(tx, toAccount(row), now, {
        kind: 'guard.suspension',
        subject: 'Rempart : compte suspendu par la surveillance / account suspended by the guard',
        text:
          `Le compte ${row.suspended_login} a été suspendu par la surveillance de Rempart.\n` +
          `The account ${row.suspended_login} was suspended by Rempart's guard.\n\n` +
          `Signaux / signals: ${signals}\n` +
          `Alerte / alert: ${alert.id}\n\n` +
          'Examinez-la dans la file de revue (GET /api/v1/guard/alerts) : réintégrer ou confirmer la compromission.\n' +
          'Review it in the queue: reinstate the account, or confirm a compromise to open an incident.',
      });
    }
  });
}
