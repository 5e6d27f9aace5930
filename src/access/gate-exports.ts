/**
 * The gate's export read (T3; docs/EXPORTS.md): the rows of an approved export, read through passGate
 * like any other read, so that one audit event names every person of the file with the exact fields,
 * the export's id in its query shape, in the same transaction as the read (fail closed). Only the
 * requester reads their export, once, under their own scope and policy as they stand now (a field
 * the policy no longer opens, a scope that shrank, are not in the file); a large export outside the
 * organisation's working hours is refused; the guard scores the rows by its export windows
 * (export_persons_week, _month), and outside working hours as persons read too, like any read.
 */
import type { ExportsConfig } from '../config-exports.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { isOffHours } from '../guard/calendar.ts';
import { listInScope, type ReadScope } from '../registry/person-reads.ts';
import type { Decision, GateCtx, GateDeps, PersonView } from './gate.ts';
import { denyEntry, Refusal, reveal } from './gate.ts';
import type { GateSteps } from './gate-work-items.ts';
import type { Rule, ViewField } from './policy.ts';
import type { Purpose } from './purposes.ts';

/** Reading an approved export's rows (the requester, once). */
export interface ExportReadRequest {
  action: 'person.export';
  purpose: string;
  exportId: string;
}

/** What the gate hands the export module: the rows, minimised to the export's fields. */
export interface ExportReadResult {
  exportId: string;
  fields: ViewField[];
  rows: PersonView[];
  recipientOrganisationId: string;
  producedAt: Date;
  expiresAt: Date;
}

/** The defaults when the gate is built without an exports configuration. */
export const DEFAULT_EXPORTS: ExportsConfig = {
  expiryDays: 7,
  maxRows: 10_000,
  largeRows: 50,
  canaryRows: 3,
};

/** True for an export read. */
export function isExportRequest(request: { action: string }): request is ExportReadRequest {
  return request.action === 'person.export';
}

/** Steps 2 and 3 for an export read: a role whose rule reads an everyday scope (agency, caseload). */
export function decideExportRead(
  ctx: GateCtx,
  purpose: Purpose,
  rule: Rule,
  shape: Record<string, unknown>,
): Decision | Refusal {
  if (rule.scope !== 'agency' && rule.scope !== 'caseload') {
    return new Refusal(
      'export_not_allowed',
      new AppError('forbidden', 'exports are not open to your role for this purpose', { field: 'purpose' }),
      shape,
    );
  }
  const scope: ReadScope =
    rule.scope === 'agency'
      ? { kind: 'agency', organisationId: ctx.organisationId }
      : { kind: 'caseload', organisationId: ctx.organisationId };
  return { purpose, rule, scope, national: false, justification: null };
}

interface ExportRow {
  requested_by: string;
  purpose: string;
  status: string;
  fields: string[];
  filter: { statuses?: string[]; registeredFrom?: string; registeredTo?: string } | string;
  recipient_organisation_id: string;
}

/** Steps 5 to 8 for an export read, inside passGate's transaction. */
export async function runExportRead(
  tx: Tx,
  deps: GateDeps,
  ctx: GateCtx,
  request: ExportReadRequest,
  decision: Decision,
  shape: Record<string, unknown>,
  steps: GateSteps,
): Promise<{ result: ExportReadResult | Refusal; guard: Awaited<ReturnType<GateSteps['after']>> }> {
  const config = deps.exports ?? DEFAULT_EXPORTS;
  const at = deps.clock.now();
  const refuse = async (reason: string, error: AppError, extra: Record<string, unknown> = {}) => {
    const guard = await steps.after([], { refused: true });
    if (guard.response !== 'allow') return { result: await steps.stopped(guard, shape), guard };
    const refusal = new Refusal(reason, error, { ...shape, ...extra });
    await steps.record(denyEntry(request, decision.purpose, refusal));
    return { result: refusal, guard };
  };
  const [row] = await tx.query<ExportRow>(
    `SELECT requested_by, purpose, status, fields, filter, recipient_organisation_id
     FROM export_requests WHERE id = $1 FOR UPDATE`,
    [request.exportId],
  );
  // Someone else's export, or one under another purpose, looks like none (no probing of ids).
  if (!row || row.requested_by !== ctx.accountId || row.purpose !== decision.purpose)
    return refuse('not_found', new AppError('not_found', 'no such export'));
  if (row.status !== 'approved')
    return refuse(
      `export_${row.status}`,
      new AppError('conflict', `the export is ${row.status}, not approved`),
    );
  // The policy as it stands now: a field it no longer opens is not exported.
  const fields = decision.rule.view.filter((f) => row.fields.includes(f));
  const filter = typeof row.filter === 'string' ? JSON.parse(row.filter) : row.filter;
  const scope = decision.scope!;
  const found = await listInScope(tx, scope, filter, config.maxRows + 1);
  // The registry's canary persons (src/guard/canaries.ts) are no one a file serves: left out, and
  // the file's own canary rows trace it. An approved export is not the sweep they are there to catch.
  const [planted] = await tx.query<{ ids: string[] | string | null }>(
    'SELECT rempart_guard_canaries($1::uuid[]) AS ids',
    [found.map((p) => p.id)],
  );
  const canaryIds = new Set(parseUuidArray(planted?.ids ?? null));
  const persons = canaryIds.size === 0 ? found : found.filter((p) => !canaryIds.has(p.id));
  if (persons.length > config.maxRows)
    return refuse(
      'export_too_large',
      new AppError('forbidden', `an export holds at most ${config.maxRows} rows: narrow the filter`, {
        field: 'filter',
        reason: 'export_too_large',
      }),
    );
  // T3: the 2021 files left off-hours. A large export is made in the organisation's working hours only.
  if (persons.length > config.largeRows && isOffHours(at, ctx.guard.timeZone, ctx.guard.workingHours))
    return refuse(
      'export_off_hours',
      new AppError(
        'forbidden',
        `an export of more than ${config.largeRows} rows is made during your organisation's working hours`,
        { reason: 'export_off_hours' },
      ),
      { rows: persons.length },
    );
  const ids = persons.map((p) => p.id);
  const guard = await steps.after(ids);
  if (guard.response !== 'allow') return { result: await steps.stopped(guard, shape), guard };
  const expiresAt = new Date(at.getTime() + config.expiryDays * 86_400_000);
  await steps.record({
    action: request.action,
    purpose: decision.purpose,
    query: { ...shape, fields, rows: persons.length, recipientOrganisationId: row.recipient_organisation_id },
    decision: 'allow',
    resultCount: persons.length,
    persons: ids.map((personId) => ({ personId, fields })),
  });
  // Read once: the export is produced in this transaction (a second read is refused as 'produced').
  await tx.query(
    `UPDATE export_requests SET status = 'produced', produced_at = $2, expires_at = $3, row_count = $4 WHERE id = $1`,
    [request.exportId, at, expiresAt, persons.length],
  );
  const rows = await reveal(tx, deps.keys, persons, fields);
  return {
    result: {
      exportId: request.exportId,
      fields,
      rows,
      recipientOrganisationId: row.recipient_organisation_id,
      producedAt: at,
      expiresAt,
    },
    guard,
  };
}

/** A uuid[] as the driver gives it: an array, or PostgreSQL's text form `{a,b}`. */
function parseUuidArray(value: string[] | string | null): string[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',');
}
