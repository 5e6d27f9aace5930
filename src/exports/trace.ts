/**
 * Leak tracing (T3; docs/EXPORTS.md, "Tracing a leak"): a leaked CSV, whole or in part, names the
 * export it came from. Headers are not trusted (they may be renamed, columns reordered or dropped):
 * each column is recognised by its values — a NIR, an agency id, a date, or text that, paired with
 * another text column and a date column, forms a name + birth date. Every identifying value is
 * turned into its blind index and looked up in two places:
 *
 * - export_canaries: a canary row exists in exactly one export, so one canary names it;
 * - the audit log: the persons matched are compared with each export's audited rows (the
 *   `person.export` event's links), which survives shuffling, sampling and dropped columns as long
 *   as one identifying column remains; exports whose rows hold every matched person rank first.
 *
 * The trace is read by the system actor; the officer's act is an audit event ('export.trace'), and
 * with a declarer an incident opens whose scope is the named export's rows, with their fields.
 */
import type { BreachScope, ScopedPerson } from '../audit/scope.ts';
import type { Actor } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError, ValidationError } from '../errors.ts';
import { appendDeclarerEvent, type Declarer } from '../incidents/declare.ts';
import { openIncident } from '../incidents/incidents.ts';
import { MAX_LEAK_ROWS } from '../incidents/leaked-file.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import {
  columnWhere,
  indexesOf,
  isAgencyId,
  type LeakColumns,
  lookup,
  nameBirthColumns,
  nirOf,
  records,
} from './leak-columns.ts';

const SYSTEM: Actor = { kind: 'system', operation: 'export-trace' };

/** One export a leak may have come from, with the evidence. */
export interface TraceCandidate {
  exportId: string;
  recipientOrganisationId: string;
  recipientName: string;
  requestedBy: string;
  approvedBy: string | null;
  producedAt: string | null;
  /** Canary rows of this export found in the file: one is enough to name it. */
  canaries: number;
  /** Persons matched in the file that this export's rows hold. */
  rowsMatched: number;
  /** The export's row count (persons), to read rowsMatched against. */
  exportRows: number;
}

export interface TraceResult {
  rows: number;
  /** How the columns were recognised (by content, not by header), by index. */
  columns: LeakColumns;
  matchedPersons: number;
  canaryRows: number;
  /** The export the evidence names, or null (no canary, and the row set fits several or none). */
  exportId: string | null;
  /** 'canary': named by its canaries; 'rows': the only export holding every matched person. */
  basis: 'canary' | 'rows' | null;
  candidates: TraceCandidate[];
  incidentId: string | null;
}

/** Traces a leaked CSV to the export(s) it came from; opens an incident when a declarer is given. */
export async function traceLeak(
  db: Db,
  keys: RegistryKeys,
  csv: string,
  now: Date,
  declarer?: Declarer,
): Promise<TraceResult> {
  const all = records(csv);
  if (all.length === 0) throw new ValidationError([{ field: 'csv', message: 'is empty' }]);
  if (all.length > MAX_LEAK_ROWS + 1)
    throw new ValidationError([{ field: 'csv', message: `has more than ${MAX_LEAK_ROWS} rows` }]);
  const width = Math.max(...all.map((r) => r.length));
  // Columns are recognised on the rows after the first (most likely a header, never trusted); every
  // row, the first too, is looked up (a copy without a header loses nothing).
  const body = all.length > 1 ? all.slice(1) : all;
  const result = await db.tx(SYSTEM, async (tx) => {
    const nir = columnWhere(body, width, (v) => nirOf(v) !== null, new Set());
    const agencyId = columnWhere(body, width, isAgencyId, new Set(nir === null ? [] : [nir]));
    const taken = new Set([nir, agencyId].filter((c): c is number => c !== null));
    const nameBirth = await nameBirthColumns(tx, keys, body, width, taken);
    const columns = { nir, agencyId, nameBirth };
    if (nir === null && agencyId === null && nameBirth === null)
      throw new ValidationError([
        { field: 'csv', message: 'has no column of NIRs, agency ids, or names with birth dates' },
      ]);
    const found = await lookup(tx, indexesOf(keys, all, columns));
    const fromRows = await tx.query<{ export_id: string; n: number }>(
      `SELECT e.query->>'exportId' AS export_id, count(DISTINCT l.person_id)::int AS n
       FROM audit_event_persons l JOIN audit_events e ON e.id = l.event_id
       WHERE l.person_id = ANY($1::uuid[]) AND e.action = 'person.export' AND e.decision = 'allow'
       GROUP BY 1`,
      [found.persons],
    );
    const ids = [...new Set([...found.canaries.keys(), ...fromRows.map((r) => r.export_id)])];
    const details = await tx.query<{
      id: string;
      recipient_organisation_id: string;
      recipient_name: string;
      requested_by: string;
      decided_by: string | null;
      produced_at: Date | null;
      row_count: number | null;
    }>(
      `SELECT x.id, x.recipient_organisation_id, o.name AS recipient_name, x.requested_by, x.decided_by,
         x.produced_at, x.row_count
       FROM export_requests x JOIN organisations o ON o.id = x.recipient_organisation_id
       WHERE x.id = ANY($1::uuid[])`,
      [ids],
    );
    const rowsMatched = new Map(fromRows.map((r) => [r.export_id, r.n]));
    const candidates: TraceCandidate[] = details
      .map((d) => ({
        exportId: d.id,
        recipientOrganisationId: d.recipient_organisation_id,
        recipientName: d.recipient_name,
        requestedBy: d.requested_by,
        approvedBy: d.decided_by,
        producedAt: d.produced_at ? new Date(d.produced_at).toISOString() : null,
        canaries: found.canaries.get(d.id) ?? 0,
        rowsMatched: rowsMatched.get(d.id) ?? 0,
        exportRows: d.row_count ?? 0,
      }))
      .sort(
        (a, b) =>
          b.canaries - a.canaries ||
          b.rowsMatched - a.rowsMatched ||
          a.exportRows - b.exportRows ||
          (a.exportId < b.exportId ? -1 : 1),
      );
    const withCanaries = candidates.filter((c) => c.canaries > 0);
    const holdingAll = candidates.filter(
      (c) => found.persons.length > 0 && c.rowsMatched === found.persons.length,
    );
    let exportId: string | null = null;
    let basis: TraceResult['basis'] = null;
    if (withCanaries.length === 1) {
      exportId = withCanaries[0]!.exportId;
      basis = 'canary';
    } else if (withCanaries.length === 0 && holdingAll.length === 1) {
      exportId = holdingAll[0]!.exportId;
      basis = 'rows';
    }
    return {
      rows: all.length - 1,
      columns,
      matchedPersons: found.persons.length,
      canaryRows: [...found.canaries.values()].reduce((s, n) => s + n, 0),
      exportId,
      basis,
      candidates,
      incidentId: null as string | null,
    };
  });
  if (!declarer) return result;
  if (declarer.role !== 'security_officer')
    throw new AppError('forbidden', 'leaks are traced by security officers');
  if (result.exportId !== null) result.incidentId = await openExportIncident(db, keys, result, now, declarer);
  await appendDeclarerEvent(db, declarer, now, {
    action: 'export.trace',
    purpose: 'incident_investigation',
    query: {
      rows: result.rows,
      matched: result.matchedPersons,
      canaryRows: result.canaryRows,
      ...(result.exportId ? { exportId: result.exportId, basis: result.basis } : {}),
      ...(result.incidentId ? { incidentId: result.incidentId } : {}),
    },
    decision: 'allow',
    resultCount: result.candidates.length,
    persons: [],
  });
  return result;
}

/** Opens the incident of a traced export: its persons are the export's rows, with the fields exported. */
async function openExportIncident(
  db: Db,
  keys: RegistryKeys,
  result: TraceResult,
  now: Date,
  declarer: Declarer,
): Promise<string> {
  return db.tx(SYSTEM, async (tx) => {
    const links = await tx.query<{ person_id: string; fields: string[] }>(
      `SELECT l.person_id, l.fields FROM audit_event_persons l JOIN audit_events e ON e.id = l.event_id
       WHERE e.action = 'person.export' AND e.decision = 'allow' AND e.query->>'exportId' = $1
       ORDER BY l.person_id`,
      [result.exportId],
    );
    const from = new Date(result.candidates.find((c) => c.exportId === result.exportId)?.producedAt ?? now);
    const persons: ScopedPerson[] = links.map((l) => ({
      personId: l.person_id,
      fields: [...l.fields].sort(),
      firstAt: from,
      lastAt: now,
      events: 1,
    }));
    const fieldCounts: Record<string, number> = {};
    for (const p of persons) for (const f of p.fields) fieldCounts[f] = (fieldCounts[f] ?? 0) + 1;
    const scope: BreachScope = {
      accounts: [],
      from,
      to: now,
      persons,
      personCount: persons.length,
      events: 1,
      fieldCounts: Object.fromEntries(Object.entries(fieldCounts).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
    return openIncident(tx, {
      openedAt: now,
      openedBy: declarer.accountId,
      kind: 'leaked_file',
      scope,
      note: `Leak traced to export ${result.exportId} (${result.basis}).`,
      keys,
      requestId: declarer.requestId,
    });
  });
}
