/**
 * Notices to a staff account's owner on every registered channel: in-app (staff_notices) and email.
 * The in-app notice is written first and always; a mail server that fails is recorded as an event
 * and does not undo what the notice reports.
 */
import { randomUUID } from 'node:crypto';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import type { Mailer } from '../notify/mailer.ts';
import type { Account } from './accounts.ts';
import { recordEvent } from './events.ts';

export interface Notice {
  kind: string;
  subject: string;
  text: string;
}

/** Notifies the account's owner in-app and by email. */
export async function notifyAccount(
  db: Db,
  mailer: Mailer,
  account: Account,
  now: Date,
  notice: Notice,
): Promise<void> {
  const actor = systemCtx('notify').actor;
  await db.tx(actor, (tx) =>
    tx.query('INSERT INTO staff_notices (id, account_id, at, kind, text) VALUES ($1, $2, $3, $4, $5)', [
      randomUUID(),
      account.id,
      now,
      notice.kind,
      notice.text,
    ]),
  );
  try {
    await mailer.send({ to: account.email, subject: notice.subject, text: notice.text });
  } catch {
    await db.tx(actor, (tx) =>
      recordEvent(tx, {
        at: now,
        action: 'notice.mail_failed',
        targetAccountId: account.id,
        details: { kind: notice.kind },
      }),
    );
  }
}
