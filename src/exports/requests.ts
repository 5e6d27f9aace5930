/**
 * Export requests (T3: in 2021 one agent exported large files for years to a third party, alone). A
 * request names a purpose, the fields, a filter and the recipient organisation; it returns no person
 * and is an audit event. A different person decides it (decision.ts); lists show what was asked and
 * by whom, never a person.
 */
import { randomUUID } from 'node:crypto';
import type { GateCtx, GateDeps } from '../access/gate.ts';
import { sessionRef } from '../access/gate.ts';
import { type Rule, ruleFor, type ViewField } from '../access/policy.ts';
import { isPurpose, PURPOSES, type Purpose } from '../access/purposes.ts';
import { type AuditCtx, appendAudit } from '../audit/append.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { isIsoDate } from '../iso-dates.ts';

/** The statuses an export may select: the live ones (archived and destroyed persons are in no scope). */
export const EXPORT_STATUSES = ['registered', 'deregistered', 'candidate'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** Which persons of the requester's scope: by status and by the start of a registration period. No free text. */
export interface ExportFilter {
  statuses?: ExportStatus[];
  /** A registration period started on or after this day (YYYY-MM-DD). */
  registeredFrom?: string;
  /** A registration period started on or before this day (YYYY-MM-DD). */
  registeredTo?: string;
}

export interface ExportInput {
  purpose: string;
  fields: string[];
  filter: ExportFilter;
  recipientOrganisationId: string;
}

export type ExportState = 'pending' | 'approved' | 'rejected' | 'produced' | 'expired';

/** An export as lists and decisions show it: what was asked and by whom; never a person. */
export interface ExportView {
  id: string;
  purpose: Purpose;
  fields: ViewField[];
  filter: ExportFilter;
  requestedBy: string;
  organisationId: string;
  recipientOrganisationId: string;
  requestedAt: string;
  state: ExportState;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  producedAt: string | null;
  expiresAt: string | null;
  rowCount: number | null;
}

/** The roles that may request an export: those whose rule reads persons in an everyday scope. */
function exportRule(role: string, purpose: Purpose): Rule | undefined {
  const rule = ruleFor(role, purpose);
  return rule && (rule.scope === 'agency' || rule.scope === 'caseload') ? rule : undefined;
}

/** The fields a role may export for a purpose: its rule's view fields (nothing it could not read), or none. */
export function exportableFields(role: string, purpose: string): readonly ViewField[] {
  if (!isPurpose(purpose)) return [];
  return exportRule(role, purpose)?.view ?? [];
}

/** The audit context of a staff request, as the gate builds it. */
export function auditCtxOf(ctx: GateCtx, at: Date): AuditCtx {
  return {
    actor: { kind: 'staff', accountId: ctx.accountId, organisationId: ctx.organisationId, role: ctx.role },
    sessionRef: sessionRef(ctx.sessionIdHash),
    requestId: ctx.requestId,
    sourceAddress: ctx.sourceAddress,
    at,
  };
}

/** Checks the filter: known keys, known statuses, real dates in order; the error names the field. */
export function checkFilter(filter: ExportFilter): ExportFilter {
  const out: ExportFilter = {};
  if (filter.statuses !== undefined) {
    const bad = filter.statuses.find((s) => !(EXPORT_STATUSES as readonly string[]).includes(s));
    if (bad !== undefined || filter.statuses.length === 0)
      throw new AppError('validation_failed', 'statuses lists registered, deregistered or candidate', {
        field: 'filter.statuses',
      });
    out.statuses = [...new Set(filter.statuses)].sort();
  }
  for (const key of ['registeredFrom', 'registeredTo'] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    if (!isIsoDate(value))
      throw new AppError('validation_failed', `${key} is a date (YYYY-MM-DD)`, { field: `filter.${key}` });
    out[key] = value;
  }
  if (out.registeredFrom && out.registeredTo && out.registeredFrom > out.registeredTo)
    throw new AppError('validation_failed', 'registeredFrom comes after registeredTo', {
      field: 'filter.registeredTo',
    });
  return out;
}

/** Records an export request (no person is read: the file is made once it is approved). */
export async function requestExport(deps: GateDeps, ctx: GateCtx, input: ExportInput): Promise<ExportView> {
  const at = deps.clock.now();
  if (!isPurpose(input.purpose))
    throw new AppError('validation_failed', 'purpose is not one of the declared purposes', {
      field: 'purpose',
    });
  const purpose = input.purpose;
  if (!(PURPOSES[purpose].roles as readonly string[]).includes(ctx.role) || !exportRule(ctx.role, purpose))
    throw new AppError('forbidden', 'exports for this purpose are not open to your role', {
      field: 'purpose',
    });
  if (!ctx.organisationPurposes.includes(purpose))
    throw new AppError('forbidden', 'your organisation does not hold this purpose', { field: 'purpose' });
  const allowed = exportableFields(ctx.role, purpose);
  if (input.fields.length === 0)
    throw new AppError('validation_failed', 'name at least one field', { field: 'fields' });
  const refused = input.fields.find((f) => !(allowed as readonly string[]).includes(f));
  if (refused !== undefined)
    throw new AppError('forbidden', `${refused} is not a field you may read for this purpose`, {
      field: 'fields',
    });
  // In the policy's order, each once: the file's columns do not depend on how the request listed them.
  const fields = allowed.filter((f) => input.fields.includes(f));
  const filter = checkFilter(input.filter);
  const id = randomUUID();
  return deps.db.tx(auditCtxOf(ctx, at).actor, async (tx) => {
    const [recipient] = await tx.query<{ kind: string }>('SELECT kind FROM organisations WHERE id = $1', [
      input.recipientOrganisationId,
    ]);
    if (!recipient)
      throw new AppError('validation_failed', 'no such recipient organisation', {
        field: 'recipientOrganisationId',
      });
    await tx.query(
      `INSERT INTO export_requests (id, requested_by, organisation_id, purpose, fields, filter,
         recipient_organisation_id, requested_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')`,
      [
        id,
        ctx.accountId,
        ctx.organisationId,
        purpose,
        fields,
        JSON.stringify(filter),
        input.recipientOrganisationId,
        at,
      ],
    );
    await appendAudit(tx, auditCtxOf(ctx, at), {
      action: 'export.request',
      purpose,
      query: exportShape(id, fields, filter, input.recipientOrganisationId),
      decision: 'allow',
      resultCount: 0,
      persons: [],
    });
    return (await exportById(tx, id))!;
  });
}

/** What the audit records of an export: its id, fields, filter keys and statuses, recipient; no dates' values in text. */
export function exportShape(
  exportId: string,
  fields: readonly string[],
  filter: ExportFilter,
  recipientOrganisationId: string,
): Record<string, unknown> {
  return {
    exportId,
    fields: [...fields],
    filter: Object.keys(filter).sort(),
    statuses: filter.statuses ?? null,
    ...(filter.registeredFrom ? { registeredFrom: new Date(`${filter.registeredFrom}T00:00:00Z`) } : {}),
    ...(filter.registeredTo ? { registeredTo: new Date(`${filter.registeredTo}T00:00:00Z`) } : {}),
    recipientOrganisationId,
  };
}

/** An export_requests row as read (without the file). */
export interface ExportRow {
  id: string;
  purpose: Purpose;
  fields: ViewField[];
  filter: ExportFilter;
  requested_by: string;
  organisation_id: string;
  recipient_organisation_id: string;
  requested_at: Date;
  status: 'pending' | 'approved' | 'rejected' | 'produced';
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  produced_at: Date | null;
  expires_at: Date | null;
  row_count: number | null;
}

/** The columns of ExportRow. */
export const COLUMNS = `id, purpose, fields, filter, requested_by, organisation_id, recipient_organisation_id,
  requested_at, status, decided_by, decided_at, decision_note, produced_at, expires_at, row_count`;

/** An export by id, or undefined. */
export async function exportById(tx: Tx, id: string, at?: Date): Promise<ExportView | undefined> {
  const [row] = await tx.query<ExportRow>(`SELECT ${COLUMNS} FROM export_requests WHERE id = $1`, [id]);
  return row ? viewOf(row, at) : undefined;
}

function viewOf(row: ExportRow, at?: Date): ExportView {
  const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);
  const expired =
    row.status === 'produced' && at !== undefined && row.expires_at !== null && row.expires_at <= at;
  return {
    id: row.id,
    purpose: row.purpose,
    fields: row.fields,
    filter: typeof row.filter === 'string' ? JSON.parse(row.filter) : row.filter,
    requestedBy: row.requested_by,
    organisationId: row.organisation_id,
    recipientOrganisationId: row.recipient_organisation_id,
    requestedAt: iso(row.requested_at)!,
    state: expired ? 'expired' : row.status,
    decidedBy: row.decided_by,
    decidedAt: iso(row.decided_at),
    decisionNote: row.decision_note,
    producedAt: iso(row.produced_at),
    expiresAt: iso(row.expires_at),
    rowCount: row.row_count,
  };
}

/** An export in a list: with the requester's and the recipient's names, so a decider knows who asks for whom. */
export interface ExportListItem extends ExportView {
  requesterLogin: string;
  requesterName: string;
  recipientName: string;
}

/**
 * The exports a staff member may see: their own requests; a manager's, those of their organisation;
 * the DPO's, all. Newest first, at most 200.
 */
export async function listExports(deps: GateDeps, ctx: GateCtx): Promise<ExportListItem[]> {
  const at = deps.clock.now();
  return deps.db.tx(auditCtxOf(ctx, at).actor, async (tx) => {
    const where =
      ctx.role === 'dpo'
        ? 'TRUE'
        : ctx.role === 'org_manager'
          ? 'organisation_id = $1::uuid OR requested_by = $2::uuid'
          : '$1::uuid IS NOT NULL AND requested_by = $2::uuid';
    const rows = await tx.query<
      ExportRow & { requester_login: string; requester_name: string; recipient_name: string }
    >(
      `SELECT ${COLUMNS},
         (SELECT a.login FROM accounts a WHERE a.id = export_requests.requested_by) AS requester_login,
         (SELECT a.display_name FROM accounts a WHERE a.id = export_requests.requested_by) AS requester_name,
         (SELECT o.name FROM organisations o WHERE o.id = export_requests.recipient_organisation_id) AS recipient_name
       FROM export_requests WHERE ${where} ORDER BY requested_at DESC, id LIMIT 200`,
      ctx.role === 'dpo' ? [] : [ctx.organisationId, ctx.accountId],
    );
    return rows.map((r) => ({
      ...viewOf(r, at),
      requesterLogin: r.requester_login,
      requesterName: r.requester_name,
      recipientName: r.recipient_name,
    }));
  });
}
