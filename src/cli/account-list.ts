/**
 * `rempart account list [--organisation CODE] [--json]`: the staff accounts as the operator needs
 * them (login, id, organisation, role, status, whether a second factor is enrolled, last login).
 * No password material, no e-mail address: the list is meant to be pasted into a ticket.
 */
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import { openDb } from '../db/open.ts';
import { AppError } from '../errors.ts';

/** One account as `account list` shows it. */
export interface ListedAccount {
  login: string;
  id: string;
  organisation: string;
  role: string;
  status: string;
  /** At least one confirmed, unrevoked second factor (authenticator app or passkey). */
  secondFactor: boolean;
  /** When the account last logged in (its newest session), or null. */
  lastLogin: string | null;
  /** Made by `rempart serve --demo` (the guard's demo levels). */
  demo: boolean;
}

/** The accounts, by organisation code then login; only one organisation's with `organisation`. */
export async function listAccounts(
  config: Config,
  options: { organisation?: string } = {},
): Promise<ListedAccount[]> {
  const db = await openDb(config);
  try {
    return await db.tx(systemCtx('account-list').actor, async (tx) => {
      if (options.organisation !== undefined) {
        const known = await tx.query('SELECT 1 FROM organisations WHERE code = $1', [options.organisation]);
        if (known.length === 0)
          throw new AppError('not_found', 'no organisation with this code', { field: 'organisation' });
      }
      const rows = await tx.query<{
        login: string;
        id: string;
        organisation: string;
        role: string;
        status: string;
        second_factor: boolean;
        last_login: Date | null;
        demo: boolean;
      }>(
        `SELECT a.login, a.id, o.code AS organisation, a.role, a.status, a.demo,
           EXISTS (SELECT 1 FROM second_factors f WHERE f.account_id = a.id
                   AND f.confirmed_at IS NOT NULL AND f.revoked_at IS NULL) AS second_factor,
           (SELECT max(s.created_at) FROM sessions s WHERE s.account_id = a.id) AS last_login
         FROM accounts a JOIN organisations o ON o.id = a.organisation_id
         WHERE $1::text IS NULL OR o.code = $1
         ORDER BY o.code, a.login`,
        [options.organisation ?? null],
      );
      return rows.map((r) => ({
        login: r.login,
        id: r.id,
        organisation: r.organisation,
        role: r.role,
        status: r.status,
        secondFactor: r.second_factor,
        lastLogin: r.last_login === null ? null : new Date(r.last_login).toISOString(),
        demo: r.demo,
      }));
    });
  } finally {
    await db.close();
  }
}

/** The list as a table for a terminal. */
export function formatAccounts(accounts: ListedAccount[]): string {
  if (accounts.length === 0) return 'no accounts';
  const header = ['login', 'id', 'organisation', 'role', 'status', '2nd factor', 'last login'];
  const rows = accounts.map((a) => [
    a.login + (a.demo ? ' (demo)' : ''),
    a.id,
    a.organisation,
    a.role,
    a.status,
    a.secondFactor ? 'yes' : 'no',
    a.lastLogin ?? 'never',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
