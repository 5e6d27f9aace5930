/**
 * The mail outbox (migration 0010, docs/OPERATIONS.md "The mail outbox"). A mail is queued in the
 * transaction that decides it and sent later by `drainOutbox`, run by the server's outbox job
 * (outbox-job.ts). Why: an answer that waited for the mail server told, by its time, that a login
 * was a real account's tenth failure (T1: it lets credential stuffing pick real accounts; docs/SECURITY.md); and a mail sent after the
 * commit was lost if the process died in between. Delivery is at least once: rows are claimed for a
 * lease (FOR UPDATE SKIP LOCKED), so several server processes on one database never send a row twice
 * unless a sender dies after the mail server accepted the mail and before it could record it.
 */
import { randomUUID } from 'node:crypto';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { isAppError } from '../errors.ts';
import { recordEvent } from '../identity/events.ts';
import { registerAccountMessage } from './codes.ts';
import type { Mailer } from './mailer.ts';

/** How long a claimed row is kept from other senders: longer than the mailer's three 10 s timeouts. */
export const CLAIM_LEASE_MS = 120_000;
/** A mail not sent after this long is given up: its body is cleared and an event recorded. */
export const RETENTION_MS = 7 * 86_400_000;
/** Rows of sent or abandoned mails (no body left) are deleted after this long. */
export const KEEP_DONE_MS = 30 * 86_400_000;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 3_600_000;
const BATCH = 20;

/** One mail to queue: to the owner of `accountId` (null: to nobody, see queueMail). */
export interface QueuedMail {
  accountId: string | null;
  kind: string;
  subject: string;
  text: string;
}

let queuedGeneration = 0;

/** Increases whenever a mail is queued in this process: the outbox job drains when it has moved. */
export function queuedMark(): number {
  return queuedGeneration;
}

/**
 * Queues a mail in the caller's transaction (it is sent only if the transaction commits). With a
 * null account the same statement runs and inserts nothing: the login path of an unknown login
 * runs exactly the statements of a real account's (T1: no enumeration by timing).
 */
export async function queueMail(tx: Tx, mail: QueuedMail, now: Date): Promise<void> {
  // Every staff mail carries a verification code anyone can check (T6: phishing imitates Rempart's mails).
  const text = await registerAccountMessage(
    tx,
    { kind: mail.kind, channel: 'email', at: now, accountId: mail.accountId },
    mail.text,
  );
  await tx.query(
    `INSERT INTO mail_outbox (id, account_id, kind, subject, body, queued_at, next_attempt_at)
     SELECT $1, $2::uuid, $3, $4, $5, $6, $6 WHERE $2::uuid IS NOT NULL`,
    [randomUUID(), mail.accountId, mail.kind, mail.subject, text, now],
  );
  queuedGeneration += 1;
}

/**
 * Queues a mail to a person (the portal's login code, an access receipt) in the caller's
 * transaction. The address, decrypted by the caller for this mail only, is kept in the row until
 * the mail is sent or given up, then cleared with the body. With a null person nothing is inserted,
 * by the same statement (the portal's login answers alike for unknown addresses).
 */
export async function queuePersonMail(
  tx: Tx,
  mail: { personId: string | null; address: string | null; kind: string; subject: string; text: string },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO mail_outbox (id, person_id, address, kind, subject, body, queued_at, next_attempt_at)
     SELECT $1, $2::uuid, $3::text, $4, $5, $6, $7, $7 WHERE $2::uuid IS NOT NULL AND $3::text IS NOT NULL`,
    [randomUUID(), mail.personId, mail.address, mail.kind, mail.subject, mail.text, now],
  );
  queuedGeneration += 1;
}

/** Delay before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, … at most 1 h. */
export function retryDelayMs(attempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

export interface DrainResult {
  sent: number;
  failed: number;
  abandoned: number;
}

interface Claimed {
  id: string;
  account_id: string | null;
  kind: string;
  subject: string;
  body: string;
  attempts: number;
  email: string;
}

const actor = systemCtx('outbox').actor;

/** Takes up to BATCH due rows for CLAIM_LEASE_MS: other senders skip them meanwhile. */
export function claimDue(db: Db, now: Date): Promise<Claimed[]> {
  return db.tx(actor, async (tx) => {
    // A staff mail goes to the account's address; a person's (the portal, migration 0019) to the
    // address copied into the row when it was queued. The accounts' addresses are read in a second
    // statement: on Citus, accounts is a reference table and the outbox a table of the coordinator,
    // and an UPDATE of the one that reads the other is sent to a worker, where the outbox is not.
    const claimed = await tx.query<Omit<Claimed, 'email'> & { address: string | null }>(
      `UPDATE mail_outbox o SET next_attempt_at = $2, attempts = o.attempts + 1
       WHERE o.id IN (
         SELECT id FROM mail_outbox
         WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING o.id, o.account_id, o.kind, o.subject, o.body, o.attempts, o.address`,
      [now, new Date(now.getTime() + CLAIM_LEASE_MS), BATCH],
    );
    const staff = [
      ...new Set(claimed.filter((c) => c.address === null && c.account_id).map((c) => c.account_id)),
    ];
    const emails =
      staff.length === 0
        ? new Map<string, string>()
        : new Map(
            (
              await tx.query<{ id: string; email: string }>(
                'SELECT id, email FROM accounts WHERE id = ANY($1::uuid[])',
                [staff],
              )
            ).map((a) => [a.id, a.email]),
          );
    return claimed.map(({ address, ...row }) => ({
      ...row,
      email: (address ?? (row.account_id ? emails.get(row.account_id) : undefined)) as string,
    }));
  });
}

/** The mail server's error as an operator reads it: codes only (mailer.ts keeps text out). */
function errorCode(error: unknown): string {
  if (!isAppError(error)) return 'error';
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error.code;
}

/** Gives up mails queued before the retention period; deletes old finished rows. */
async function housekeep(db: Db, now: Date): Promise<number> {
  return db.tx(actor, async (tx) => {
    const given = await tx.query<{ account_id: string | null; kind: string; attempts: number }>(
      `UPDATE mail_outbox SET abandoned_at = $2, subject = NULL, body = NULL, address = NULL
       WHERE sent_at IS NULL AND abandoned_at IS NULL AND queued_at < $1
       RETURNING account_id, kind, attempts`,
      [new Date(now.getTime() - RETENTION_MS), now],
    );
    for (const row of given) {
      await recordEvent(tx, {
        at: now,
        action: 'notice.mail_abandoned',
        targetAccountId: row.account_id,
        details: { kind: row.kind, attempts: row.attempts },
      });
    }
    await tx.query('DELETE FROM mail_outbox WHERE (sent_at < $1 OR abandoned_at < $1)', [
      new Date(now.getTime() - KEEP_DONE_MS),
    ]);
    return given.length;
  });
}

/** Sends one claimed row and records the outcome. */
async function sendOne(db: Db, mailer: Mailer, row: Claimed, now: Date): Promise<boolean> {
  try {
    await mailer.send({ to: row.email, subject: row.subject, text: row.body });
  } catch (error) {
    await db.tx(actor, async (tx) => {
      await tx.query('UPDATE mail_outbox SET next_attempt_at = $2, last_error = $3 WHERE id = $1', [
        row.id,
        new Date(now.getTime() + retryDelayMs(row.attempts)),
        errorCode(error),
      ]);
      await recordEvent(tx, {
        at: now,
        action: 'notice.mail_failed',
        targetAccountId: row.account_id,
        details: { kind: row.kind, attempt: row.attempts, error: errorCode(error) },
      });
    });
    return false;
  }
  // The body may hold a one-time code: it goes as soon as it has been delivered.
  await db.tx(actor, (tx) =>
    tx.query(
      'UPDATE mail_outbox SET sent_at = $2, subject = NULL, body = NULL, address = NULL, last_error = NULL WHERE id = $1',
      [row.id, now],
    ),
  );
  return true;
}

/** Sends every due mail (retrying failed ones once their backoff is over); returns what happened. */
export async function drainOutbox(db: Db, mailer: Mailer, now: Date): Promise<DrainResult> {
  const result: DrainResult = { sent: 0, failed: 0, abandoned: await housekeep(db, now) };
  for (;;) {
    const rows = await claimDue(db, now);
    for (const row of rows) {
      if (await sendOne(db, mailer, row, now)) result.sent += 1;
      else result.failed += 1;
    }
    if (rows.length < BATCH) return result;
  }
}
