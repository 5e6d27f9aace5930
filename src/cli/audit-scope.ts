/**
 * `rempart audit scope`: the operator's breach scope (docs/DESIGN.md sections 7 and 9, T7): which
 * persons, which fields, the given accounts received in a window. It runs as a system actor and
 * appends its own audit event in the same transaction: reading the log is itself logged.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { appendAudit } from '../audit/append.ts';
import { type BreachScope, breachScope, type ScopeRequest } from '../audit/scope.ts';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import { openDb } from '../db/open.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { ACCOUNT_ID_PATTERN, normaliseLogin } from '../identity/accounts.ts';

export { parseIsoDateTime } from '../iso-dates.ts';

/**
 * The account ids of `--account` values: a UUID is an id as given (an account since deleted still
 * has its events), anything else a login looked up (logins never have a UUID's form). An unknown
 * login stops the run, naming its position, not its value.
 */
export async function resolveAccounts(tx: Tx, refs: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, ref] of refs.entries()) {
    if (ACCOUNT_ID_PATTERN.test(ref)) {
      ids.push(ref.toLowerCase());
      continue;
    }
    const [row] = await tx.query<{ id: string }>('SELECT id FROM accounts WHERE login = $1', [
      normaliseLogin(ref),
    ]);
    if (!row) {
      throw new AppError('not_found', `--account (number ${index + 1}): no account has this login`, {
        field: 'account',
      });
    }
    ids.push(row.id);
  }
  return ids;
}

/** What `audit scope` did: the scope, and the file holding it in full when one was written. */
export interface AuditScopeRun {
  scope: BreachScope;
  file: string | undefined;
}

/**
 * Computes the scope (accounts by login or id) as a system actor and records the run (action 'audit.scope', the query's
 * shape only) in the same transaction; writes the whole scope to `out` (0600) when given.
 */
export async function runAuditScope(
  config: Config,
  request: ScopeRequest,
  options: { out?: string; now?: Date } = {},
): Promise<AuditScopeRun> {
  const ctx = systemCtx('audit-scope');
  const db = await openDb(config);
  let scope: BreachScope;
  try {
    scope = await db.tx(ctx.actor, async (tx) => {
      const accounts = await resolveAccounts(tx, request.accounts);
      const result = await breachScope(tx, { ...request, accounts });
      await appendAudit(
        tx,
        {
          actor: ctx.actor,
          sessionRef: null,
          requestId: ctx.requestId,
          sourceAddress: null,
          at: options.now ?? ctx.clock.now(),
        },
        {
          action: 'audit.scope',
          purpose: 'incident_investigation',
          // the shape: how many accounts and the window, not which accounts
          query: {
            accounts: result.accounts.length,
            from: result.from,
            to: result.to,
          },
          decision: 'allow',
          resultCount: result.personCount,
          persons: [],
        },
      );
      return result;
    });
  } finally {
    await db.close();
  }
  let file: string | undefined;
  if (options.out !== undefined) {
    file = path.resolve(options.out);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Person ids are pseudonymous but still personal data (GDPR recital 26): owner-only.
    await writeFile(file, `${JSON.stringify(scope, null, 2)}\n`, { mode: 0o600 });
  }
  return { scope, file };
}

/** The default place of the full list: a file named after the run's time under the data folder. */
export function defaultScopeFile(config: Pick<Config, 'dataDir'>, at: Date): string {
  return path.join(config.dataDir, 'scopes', `scope-${at.toISOString().replace(/[:.]/g, '-')}.json`);
}

/** A human summary: the window, the counts, one line per field with its number of persons. */
export function formatScope(run: AuditScopeRun): string {
  const { scope } = run;
  const lines = [
    `accounts: ${scope.accounts.join(', ')}`,
    `window:   ${scope.from.toISOString()} (inclusive) to ${scope.to.toISOString()} (exclusive)`,
    `events:   ${scope.events} allowed`,
    `persons:  ${scope.personCount}`,
  ];
  const fields = Object.entries(scope.fieldCounts).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  if (fields.length > 0) {
    const width = Math.max(5, ...fields.map(([f]) => f.length));
    lines.push('', `${'field'.padEnd(width)}  persons`);
    for (const [field, count] of fields) lines.push(`${field.padEnd(width)}  ${String(count).padStart(7)}`);
  }
  if (run.file !== undefined)
    lines.push('', `full list (persons, fields, first and last access): ${run.file}`);
  return lines.join('\n');
}
