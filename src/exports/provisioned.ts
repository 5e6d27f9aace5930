/**
 * "Never an account the requester provisioned that week" (T3 with T8: a manager who creates a
 * helper account, or grants a role to one, must not then have that account approve their export).
 * An account counts as provisioned by the requester if, within PROVISIONED_DAYS before the decision,
 * the requester created it (accounts.created_by) or asked for or approved its creation or a role
 * for it (provisioning_requests, src/identity/provisioning.ts).
 */
import type { Tx } from '../db/types.ts';

/** The window, in days, in which an account provisioned by the requester may not approve their exports. */
export const PROVISIONED_DAYS = 7;

/** True if `requesterId` provisioned `approverId` in the PROVISIONED_DAYS before `at`. */
export async function provisionedBy(
  tx: Tx,
  requesterId: string,
  approverId: string,
  at: Date,
): Promise<boolean> {
  const since = new Date(at.getTime() - PROVISIONED_DAYS * 86_400_000);
  const rows = await tx.query<{ one: number }>(
    `SELECT 1 AS one FROM accounts a
       WHERE a.id = $2 AND a.created_by = $1 AND a.created_at >= $3
     UNION ALL
     SELECT 1 FROM provisioning_requests r
       WHERE r.kind IN ('create_account', 'grant_role') AND r.status = 'approved'
         AND (r.requested_by = $1 OR r.decided_by = $1) AND r.decided_at >= $3
         AND (r.target_account_id = $2
              OR (r.kind = 'create_account' AND EXISTS (
                    SELECT 1 FROM accounts c WHERE c.id = $2 AND c.login = r.payload->>'login')))
     LIMIT 1`,
    [requesterId, approverId, since],
  );
  return rows.length > 0;
}
