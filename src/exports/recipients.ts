/**
 * The recipients' age public keys (https://age-encryption.org/v1): an export file is encrypted to
 * the key its recipient organisation registered, so that it can be opened with the standard `age`
 * tool and by nobody else. The DPO registers or replaces a key; the act is audited.
 */
import type { GateCtx, GateDeps } from '../access/gate.ts';
import { appendAudit } from '../audit/append.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { auditCtxOf } from './requests.ts';

/** An age recipient as the registry accepts it: "age1" and Bech32 characters (X25519 or hybrid post-quantum). */
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{10,2000}$/;

/** Registers (or replaces) an organisation's age public key. */
export async function registerRecipient(
  deps: GateDeps,
  ctx: GateCtx,
  organisationId: string,
  ageRecipient: string,
): Promise<{ organisationId: string; registeredAt: string }> {
  if (!AGE_RECIPIENT.test(ageRecipient))
    throw new AppError('validation_failed', 'ageRecipient is an age public key (age1...)', {
      field: 'ageRecipient',
    });
  const at = deps.clock.now();
  const audit = auditCtxOf(ctx, at);
  await deps.db.tx(audit.actor, async (tx) => {
    const [org] = await tx.query('SELECT 1 FROM organisations WHERE id = $1', [organisationId]);
    if (!org) throw new AppError('validation_failed', 'no such organisation', { field: 'organisationId' });
    await tx.query(
      `INSERT INTO export_recipients (organisation_id, age_recipient, registered_by, registered_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (organisation_id) DO UPDATE SET age_recipient = $2, registered_by = $3, registered_at = $4`,
      [organisationId, ageRecipient, ctx.accountId, at],
    );
    await appendAudit(tx, audit, {
      action: 'export.recipient_register',
      purpose: null,
      query: { organisationId },
      decision: 'allow',
      resultCount: 0,
      persons: [],
    });
  });
  return { organisationId, registeredAt: at.toISOString() };
}

/** The age public key registered for an organisation, or undefined. */
export async function recipientKey(tx: Tx, organisationId: string): Promise<string | undefined> {
  const [row] = await tx.query<{ age_recipient: string }>(
    'SELECT age_recipient FROM export_recipients WHERE organisation_id = $1',
    [organisationId],
  );
  return row?.age_recipient;
}
