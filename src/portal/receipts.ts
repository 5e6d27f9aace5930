/**
 * Access receipts (docs/PORTAL.md): a person who opts in is told (by email or in the portal) when an
 * organisation other than their own agency reads their record, and may answer "I don't recognise
 * this", which raises an alert in the security officers' review queue with the access attached.
 *
 * The gate's read path is unchanged: the audit event it already writes in the read's transaction is
 * the outbox. The receipts job reads the tree's new leaves in order (audit_leaves, appended by the
 * single sequencer after commit, so an event is never skipped for committing late), joins the
 * persons who opted in, and writes one receipt per read; a unique (person, event) makes a rerun
 * after a crash write nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { nameOrganisations } from '../audit/scope.ts';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { alertSecurityOfficers } from '../guard/audit-alerts.ts';
import { registerMessage } from '../notify/codes.ts';
import { queuePersonMail } from '../notify/outbox.ts';
import { openSealedRow, type RegistryKeys, type SealedRow } from '../registry/persons.ts';

export type ReceiptChannel = 'email' | 'portal';

/** Leaves read per job transaction. */
const BATCH_LEAVES = 5000;
const system = systemCtx('portal-receipts').actor;

/** The person's receipt setting: off (null) or the channel. */
export async function receiptSetting(db: Db, personId: string): Promise<ReceiptChannel | null> {
  const [row] = await db.read<{ channel: ReceiptChannel }>(
    { kind: 'person', personId },
    'SELECT channel FROM person_receipt_settings WHERE person_id = $1',
    [personId],
  );
  return row?.channel ?? null;
}

/** Opts in (a channel) or out (null); reads from `now` on are receipted. */
export async function setReceiptSetting(
  db: Db,
  personId: string,
  channel: ReceiptChannel | null,
  now: Date,
): Promise<void> {
  await db.tx({ kind: 'person', personId }, async (tx) => {
    if (channel === null) {
      await tx.query('DELETE FROM person_receipt_settings WHERE person_id = $1', [personId]);
      return;
    }
    await tx.query(
      `INSERT INTO person_receipt_settings (person_id, channel, since, updated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (person_id) DO UPDATE SET channel = $2, updated_at = $3`,
      [personId, channel, now],
    );
  });
}

interface FoundRead {
  person_id: string;
  event_id: string;
  occurred_at: Date;
  organisation_id: string | null;
  organisation_name: string | null;
  role: string | null;
  purpose: string | null;
  action: string;
  fields: string[];
  channel: ReceiptChannel;
}

/**
 * One pass of the receipts job: reads the leaves sequenced since the last pass and writes the
 * receipts due (queueing the emails); returns how many receipts were written.
 */
export async function processReceipts(
  db: Db,
  keys: RegistryKeys,
  now: Date,
  publicUrl: string,
): Promise<number> {
  let written = 0;
  for (;;) {
    const { count, more } = await db.tx(system, async (tx) => {
      const [cursor] = await tx.query<{ next_seq: string }>(
        'SELECT next_seq FROM person_receipt_cursor FOR UPDATE',
      );
      const from = Number(cursor?.next_seq ?? 0);
      const [top] = await tx.query<{ size: string | null }>('SELECT max(seq) + 1 AS size FROM audit_leaves');
      const size = Number(top?.size ?? 0);
      const to = Math.min(size, from + BATCH_LEAVES);
      if (to <= from) return { count: 0, more: false };
      // The window's allowed staff events first (tables of the coordinator on Citus), then their
      // links to persons who asked for receipts, then the organisations' names: one statement joining
      // the three crashes Citus 13.2's coordinator (ACCESS_HISTORY_SQL_CITUS); the same on every engine.
      const reads = await tx.query<FoundRead>(
        `WITH w AS MATERIALIZED (
           SELECT e.id, e.organisation_id, e.role, e.purpose, e.action
           FROM audit_leaves lf JOIN audit_events e ON e.id = lf.event_id
           WHERE lf.seq >= $1 AND lf.seq < $2 AND e.actor_kind = 'staff' AND e.decision = 'allow')
         SELECT l.person_id, l.event_id::text, l.occurred_at, w.organisation_id, NULL::text AS organisation_name,
           w.role, w.purpose, w.action, l.fields, s.channel
         FROM w
         JOIN audit_event_persons l ON l.event_id = w.id
         JOIN person_receipt_settings s ON s.person_id = l.person_id AND l.occurred_at >= s.since
         JOIN persons p ON p.id = l.person_id
         WHERE cardinality(l.fields) > 0 AND w.organisation_id IS DISTINCT FROM p.agency_organisation_id`,
        [from, to],
      );
      await nameOrganisations(tx, reads);
      let count = 0;
      for (const read of reads) {
        const id = randomUUID();
        const inserted = await tx.query(
          `INSERT INTO person_receipts (id, person_id, event_id, occurred_at, organisation_id, role, purpose, action,
             fields, channel, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (person_id, event_id) DO NOTHING
           RETURNING 1`,
          [
            id,
            read.person_id,
            read.event_id,
            read.occurred_at,
            read.organisation_id,
            read.role,
            read.purpose,
            read.action,
            read.fields,
            read.channel,
            now,
          ],
        );
        if (inserted.length === 0) continue;
        count += 1;
        if (read.channel === 'email') {
          const [row] = await tx.query<SealedRow>(
            'SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE id = $1',
            [read.person_id],
          );
          const email = row ? (await openSealedRow(keys, row, ['email'])).email : null;
          if (!email) continue;
          const message = await registerMessage(
            tx,
            { kind: 'access_receipt', channel: 'email', at: now, personId: read.person_id },
            (code) => receiptMail(read, code, publicUrl),
          );
          await queuePersonMail(
            tx,
            {
              personId: read.person_id,
              address: email,
              kind: 'access_receipt',
              subject: 'Rempart : votre dossier a été consulté / your record was read',
              text: message.content,
            },
            now,
          );
        }
      }
      await tx.query('UPDATE person_receipt_cursor SET next_seq = $1', [to]);
      return { count, more: to < size };
    });
    written += count;
    if (!more) return written;
  }
}

/** The receipt mail: who read what, when, why; no field value; how to react; its code (T6). */
function receiptMail(read: FoundRead, code: string, publicUrl: string): string {
  return (
    'Bonjour,\n\n' +
    `Votre dossier a été consulté le ${read.occurred_at.toISOString()} par ${read.organisation_name ?? 'un organisme'} ` +
    `(rôle : ${read.role ?? '?'}, motif : ${read.purpose ?? '?'}). Éléments consultés : ${read.fields.join(', ')}.\n` +
    `Si vous ne reconnaissez pas cet accès, signalez-le depuis votre espace : ${publicUrl}/mon-espace\n\n` +
    `Your record was read on ${read.occurred_at.toISOString()} by ${read.organisation_name ?? 'an organisation'}. ` +
    `If you do not recognise this access, report it from your space: ${publicUrl}/mon-espace\n\n` +
    `Code de vérification de ce message / this message's verification code: ${code}\n` +
    `Vérifiez-le sur / check it at ${publicUrl}/verifier\n`
  );
}

/** A receipt as the person sees it. */
export interface Receipt {
  id: string;
  at: string;
  organisationName: string | null;
  role: string | null;
  purpose: string | null;
  action: string;
  fields: string[];
  channel: ReceiptChannel;
  disownedAt: string | null;
}

/** The person's receipts, newest first (RLS: their own). */
export async function myReceipts(db: Db, personId: string): Promise<Receipt[]> {
  const rows = await db.read<{
    id: string;
    occurred_at: Date;
    organisation_name: string | null;
    role: string | null;
    purpose: string | null;
    action: string;
    fields: string[];
    channel: ReceiptChannel;
    disowned_at: Date | null;
  }>(
    { kind: 'person', personId },
    `SELECT r.id, r.occurred_at, o.name AS organisation_name, r.role, r.purpose, r.action, r.fields, r.channel,
       r.disowned_at
     FROM person_receipts r LEFT JOIN organisations o ON o.id = r.organisation_id
     WHERE r.person_id = $1 ORDER BY r.occurred_at DESC LIMIT 200`,
    [personId],
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.occurred_at.toISOString(),
    organisationName: r.organisation_name,
    role: r.role,
    purpose: r.purpose,
    action: r.action,
    fields: r.fields,
    channel: r.channel,
    disownedAt: r.disowned_at?.toISOString() ?? null,
  }));
}

/**
 * "I don't recognise this": marks the person's receipt (their own only: RLS; another's id is
 * not_found, like an absent one) and raises an alert in the review queue about the account that
 * read, with the access attached (event id, time, action, the reporting person's record id); the
 * security officers are notified. A second click raises nothing more.
 */
export async function disownReceipt(db: Db, personId: string, receiptId: string, now: Date): Promise<string> {
  if (!/^[0-9a-f-]{36}$/i.test(receiptId)) throw new AppError('not_found', 'no such receipt');
  const marked = await db.tx({ kind: 'person', personId }, (tx) =>
    tx.query<{ event_id: string; alert_id: string | null }>(
      `UPDATE person_receipts SET disowned_at = coalesce(disowned_at, $3)
       WHERE id = $1 AND person_id = $2 RETURNING event_id::text, alert_id`,
      [receiptId, personId, now],
    ),
  );
  const receipt = marked[0];
  if (!receipt) throw new AppError('not_found', 'no such receipt');
  if (receipt.alert_id) return receipt.alert_id;
  const alertId = randomUUID();
  const raised = await db.tx(system, async (tx) => {
    const [event] = await tx.query<{
      account_id: string;
      organisation_id: string;
      action: string;
      request_id: string;
      occurred_at: Date;
      source_address: string | null;
    }>(
      `SELECT account_id, organisation_id, action, request_id, occurred_at, source_address FROM audit_events
       WHERE id = $1 AND actor_kind = 'staff'`,
      [receipt.event_id],
    );
    if (!event) return false;
    await tx.query(
      `INSERT INTO guard_alerts (id, account_id, organisation_id, raised_at, response, signals, context)
       VALUES ($1, $2, $3, $4, 'person_report', $5, $6)`,
      [
        alertId,
        event.account_id,
        event.organisation_id,
        now,
        JSON.stringify([{ name: 'person_report', value: 1, limit: 0, response: 'person_report' }]),
        JSON.stringify({
          action: event.action,
          requestId: event.request_id,
          eventId: receipt.event_id,
          accessAt: event.occurred_at.toISOString(),
          sourceAddress: event.source_address,
          personId,
        }),
      ],
    );
    const updated = await tx.query(
      'UPDATE person_receipts SET alert_id = $2 WHERE id = $1 AND alert_id IS NULL RETURNING 1',
      [receiptId, alertId],
    );
    if (updated.length === 0) throw new AppError('conflict', 'this receipt was reported meanwhile');
    return true;
  });
  if (raised) {
    await alertSecurityOfficers(db, now, {
      action: 'portal.person_report',
      subject: 'Rempart : une personne ne reconnaît pas un accès / a person does not recognise an access',
      text:
        "Une personne signale un accès à son dossier qu'elle ne reconnaît pas. Examinez l'alerte dans la file de revue.\n" +
        'A person reports an access to their record they do not recognise. Examine the alert in the review queue.',
      details: { alertId, eventId: receipt.event_id },
    });
  }
  return alertId;
}
