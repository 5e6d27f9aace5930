/**
 * `rempart trace FILE [--json] [--by LOGIN]` (docs/EXPORTS.md, "Tracing a leak"): names the export a
 * leaked CSV came from, by its canary rows and its row set; with `--by` (a security officer), the
 * trace is on their record and an incident opens whose scope is the export's rows.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { AppError } from '../errors.ts';
import { type TraceResult, traceLeak } from '../exports/trace.ts';
import { normaliseLogin } from '../identity/accounts.ts';
import type { Declarer } from '../incidents/declare.ts';

/** Traces the file; opens an incident on behalf of `by` when given. */
export async function runTrace(config: Config, file: string, by?: string): Promise<TraceResult> {
  const csv = await readFile(file, 'utf8').catch(() => {
    throw new AppError('validation_failed', 'FILE cannot be read', { field: 'file' });
  });
  const keys = await openKeys(config);
  const db = await openDb(config);
  try {
    let declarer: Declarer | undefined;
    if (by !== undefined) {
      const [row] = await db.tx({ kind: 'system', operation: 'export-trace' }, (tx) =>
        tx.query<{ id: string; organisation_id: string; role: string }>(
          'SELECT id, organisation_id, role FROM accounts WHERE login = $1',
          [normaliseLogin(by)],
        ),
      );
      if (!row) throw new AppError('not_found', '--by: no account has this login', { field: 'by' });
      declarer = {
        accountId: row.id,
        organisationId: row.organisation_id,
        role: row.role,
        sessionIdHash: null,
        requestId: `cli-trace-${Date.now()}`,
        sourceAddress: null,
      };
    }
    return await traceLeak(db, keys.registry, csv, new Date(), declarer);
  } finally {
    await db.close();
  }
}

/** The result for a person reading a terminal. */
export function formatTrace(r: TraceResult): string {
  const lines = [
    `${r.rows} rows, ${r.matchedPersons} persons on file, ${r.canaryRows} canary rows`,
    r.exportId
      ? `from export ${r.exportId} (by ${r.basis})`
      : r.candidates.length > 0
        ? 'no single export: see the candidates'
        : 'from no export',
  ];
  for (const c of r.candidates.slice(0, 10)) {
    lines.push(
      `  ${c.exportId}  to ${c.recipientName}  produced ${c.producedAt ?? '-'}  canaries ${c.canaries}  rows ${c.rowsMatched}/${c.exportRows}`,
    );
  }
  if (r.incidentId) lines.push(`incident ${r.incidentId} opened`);
  return lines.join('\n');
}
