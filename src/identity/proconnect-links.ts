/** An account's ProConnect link, as its owner sees and removes it (docs/SECURITY.md, "Federation"). */
import type { Tx } from '../db/types.ts';
import type { Account } from './accounts.ts';
import { recordEvent } from './events.ts';

/** The account's link, if any (issuer and date; the sub stays in the database). */
export async function linkOf(
  tx: Tx,
  accountId: string,
): Promise<{ issuer: string; linkedAt: Date } | undefined> {
  const [row] = await tx.query<{ issuer: string; linked_at: Date }>(
    'SELECT issuer, linked_at FROM proconnect_links WHERE account_id = $1 ORDER BY linked_at LIMIT 1',
    [accountId],
  );
  return row ? { issuer: row.issuer, linkedAt: row.linked_at } : undefined;
}

/** Removes the account's links; records the event; returns how many were removed. */
export async function unlink(tx: Tx, account: Account, now: Date, address: string): Promise<number> {
  const removed = await tx.query('DELETE FROM proconnect_links WHERE account_id = $1 RETURNING 1', [
    account.id,
  ]);
  if (removed.length > 0) {
    await recordEvent(tx, {
      at: now,
      action: 'proconnect.unlinked',
      actorAccountId: account.id,
      targetAccountId: account.id,
      organisationId: account.organisationId,
      sourceAddress: address,
    });
  }
  return removed.length;
}
