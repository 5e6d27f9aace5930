/**
 * Notices to a staff account's owner on every registered channel: in-app (staff_notices) and email.
 * Both are written in the transaction that decides them: the mail goes to the outbox
 * (notify/outbox.ts) and is sent after the answer, so no answer waits for, or depends on, a mail
 * server (T1, credential stuffing: the time of an answer must not tell a real account's lock from an unknown login).
 */
import { randomUUID } from 'node:crypto';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { registerAccountMessage } from '../notify/codes.ts';
import { queueMail } from '../notify/outbox.ts';

export interface Notice {
  kind: string;
  subject: string;
  text: string;
}

/**
 * Writes the in-app notice and queues the mail in the caller's transaction. A null account runs
 * the same statements and writes nothing (the login path of an unknown login, T1).
 */
export async function queueNotice(
  tx: Tx,
  account: { id: string } | null | undefined,
  now: Date,
  notice: Notice,
): Promise<void> {
  const accountId = account?.id ?? null;
  // The in-app notice carries a code of its own (T6): the same check as the mail's.
  const inApp = await registerAccountMessage(
    tx,
    { kind: notice.kind, channel: 'in_app', at: now, accountId },
    notice.text,
  );
  await tx.query(
    `INSERT INTO staff_notices (id, account_id, at, kind, text)
     SELECT $1, $2::uuid, $3, $4, $5 WHERE $2::uuid IS NOT NULL`,
    [randomUUID(), accountId, now, notice.kind, inApp],
  );
  await queueMail(tx, { accountId, kind: notice.kind, subject: notice.subject, text: notice.text }, now);
}

/** Notifies the account's owner in-app and by email, in a transaction of its own. */
export async function notifyAccount(
  db: Db,
  account: { id: string },
  now: Date,
  notice: Notice,
): Promise<void> {
  await db.tx(systemCtx('notify').actor, (tx) => queueNotice(tx, account, now, notice));
}
