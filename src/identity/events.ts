/** Security events of the identity flows: who did what to which account, when, from where. Append-only. */
import type { Tx } from '../db/types.ts';

export interface SecurityEvent {
  at: Date;
  action: string;
  actorAccountId?: string | null;
  targetAccountId?: string | null;
  organisationId?: string | null;
  sourceAddress?: string | null;
  /** Facts about the event; never a password, code, token or personal data of job seekers. */
  details?: Record<string, unknown>;
}

/** Appends an event in the caller's transaction (it commits or rolls back with the act it records). */
export async function recordEvent(tx: Tx, event: SecurityEvent): Promise<void> {
  await tx.query(
    `INSERT INTO security_events (at, action, actor_account_id, target_account_id, organisation_id, source_address, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      event.at,
      event.action,
      event.actorAccountId ?? null,
      event.targetAccountId ?? null,
      event.organisationId ?? null,
      event.sourceAddress ?? null,
      JSON.stringify(event.details ?? {}),
    ],
  );
}
