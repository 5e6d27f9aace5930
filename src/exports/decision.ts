/**
 * The four-eyes decision on an export request (T3; docs/EXPORTS.md): the DPO, or a manager of the
 * requester's organisation, approves or rejects it — never the requester, never an account the
 * requester provisioned in the last PROVISIONED_DAYS (provisioned.ts). The route asks for a second
 * factor within STEP_UP_MINUTES. A refusal is an audit event with decision 'deny' and a guard refusal.
 */
import type { GateCtx, GateDeps } from '../access/gate.ts';
import { announce, observe } from '../access/gate-guard.ts';
import { appendAudit } from '../audit/append.ts';
import { AppError } from '../errors.ts';
import { guardError } from '../guard/guard.ts';
import { provisionedBy } from './provisioned.ts';
import { auditCtxOf, COLUMNS, type ExportRow, type ExportView, exportById } from './requests.ts';

/** A decision's refusal, audited and counted before it is raised. */
class DecisionRefused {
  readonly reason: string;
  readonly error: AppError;
  constructor(reason: string, error: AppError) {
    this.reason = reason;
    // The client is told which rule refused (a stable word), as the audit records it.
    this.error =
      reason === 'not_found'
        ? error
        : new AppError(error.code, error.message, { reason, ...(error.field ? { field: error.field } : {}) });
  }
}

/**
 * Approves or rejects a pending export (four eyes, T3). The DPO decides any export; a manager, their
 * organisation's; nobody else sees it (404, as for an unknown id). The requester and accounts they
 * provisioned in the last week are refused: the refusal is an audit event and a guard refusal.
 */
export async function decideExport(
  deps: GateDeps,
  ctx: GateCtx,
  id: string,
  decision: { approve: boolean; note?: string },
): Promise<ExportView> {
  const at = deps.clock.now();
  const audit = auditCtxOf(ctx, at);
  const action = decision.approve ? 'export.approve' : 'export.reject';
  const outcome = await deps.db.tx(audit.actor, async (tx) => {
    const [row] = await tx.query<ExportRow>(
      `SELECT ${COLUMNS} FROM export_requests WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const visible =
      row !== undefined &&
      (ctx.role === 'dpo' ||
        (ctx.role === 'org_manager' && row.organisation_id === ctx.organisationId) ||
        row.requested_by === ctx.accountId);
    if (!row || !visible)
      return new DecisionRefused('not_found', new AppError('not_found', 'no such export'));
    if (row.requested_by === ctx.accountId)
      return new DecisionRefused(
        'self_approval',
        new AppError('forbidden', 'an export is decided by another person than its requester'),
      );
    if (ctx.role !== 'dpo' && ctx.role !== 'org_manager')
      return new DecisionRefused(
        'not_a_decider',
        new AppError('forbidden', 'exports are decided by the DPO or a manager'),
      );
    if (await provisionedBy(tx, row.requested_by, ctx.accountId, at))
      return new DecisionRefused(
        'provisioned_by_requester',
        new AppError(
          'forbidden',
          'an account the requester provisioned this week may not decide their export',
        ),
      );
    if (row.status !== 'pending') throw new AppError('conflict', `the export is ${row.status}`);
    await tx.query(
      `UPDATE export_requests SET status = $2, decided_by = $3, decided_at = $4, decision_note = $5 WHERE id = $1`,
      [id, decision.approve ? 'approved' : 'rejected', ctx.accountId, at, decision.note ?? null],
    );
    await appendAudit(tx, audit, {
      action,
      purpose: row.purpose,
      query: { exportId: id, requesterId: row.requested_by },
      decision: 'allow',
      resultCount: 0,
      persons: [],
    });
    return (await exportById(tx, id, at))!;
  });
  if (!(outcome instanceof DecisionRefused)) return outcome;
  // The refusal on record, counted by the guard as a refused request (refusals are a signal).
  const verdict = await deps.db.tx(audit.actor, async (tx) => {
    const seen = await observe(
      tx,
      deps,
      ctx,
      {
        action,
        views: 0,
        searches: 0,
        personIds: [],
        national: false,
        refused: true,
        blocked: false,
        empty: false,
      },
      at,
    );
    await appendAudit(tx, audit, {
      action,
      purpose: null,
      query: { exportId: id },
      decision: 'deny',
      reason: outcome.reason,
      resultCount: 0,
      persons: [],
    });
    return seen;
  });
  await announce(deps, verdict.raised);
  if (verdict.response !== 'allow') throw guardError(verdict);
  throw outcome.error;
}
