/**
 * Work items outside the gate (T4): what holds no personal data — the lists (an item's pseudonym,
 * task, deadline and state; never the person, not even their id), the subcontractors a counselor can
 * hand a document to, and a subcontractor manager's assignment of an item to one of its operators.
 * Reading or handing over a person goes through the gate (gate-work-items.ts). Each transaction runs
 * as the staff actor under row-level security, with the application's clock for the deadlines.
 */
import { type AuditCtx, appendAudit } from '../audit/append.ts';
import type { Clock } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { Role } from '../identity/accounts.ts';
import {
  assignItem,
  type ItemViewer,
  listItems,
  setPolicyClock,
  subcontractors,
  type WorkItemSummary,
} from '../registry/work-items.ts';
import { type GateCtx, sessionRef } from './gate.ts';
import { POLICY } from './policy.ts';
import { WORK_TASK_IDS, WORK_TASKS, type WorkTask, type WorkTaskInfo } from './work-tasks.ts';

/** Who lists: counselors their organisation's items, a subcontractor's managers theirs, operators their own. */
function viewerOf(ctx: GateCtx): ItemViewer {
  if (ctx.role === 'subcontractor_operator') {
    return { kind: 'operator', accountId: ctx.accountId, organisationId: ctx.organisationId };
  }
  if (ctx.role === 'org_manager') return { kind: 'subcontractor', organisationId: ctx.organisationId };
  if (mayDelegate(ctx.role)) return { kind: 'creator', organisationId: ctx.organisationId };
  throw new AppError('forbidden', 'work items are not open to your role');
}

/** True if the role may hand some task to a subcontractor for some purpose (policy.ts `delegate`). */
function mayDelegate(role: Role): boolean {
  return Object.values(POLICY[role] ?? {}).some((rule) => (rule?.delegate?.length ?? 0) > 0);
}

/** The tasks, each with the purposes for which this role may hand it over (policy.ts `delegate`; none: not theirs). */
export function workTasksFor(role: Role): (WorkTaskInfo & { id: WorkTask; purposes: string[] })[] {
  return WORK_TASK_IDS.map((id) => ({
    id,
    ...WORK_TASKS[id],
    purposes: Object.entries(POLICY[role] ?? {})
      .filter(([, rule]) => rule?.delegate?.includes(id))
      .map(([purpose]) => purpose),
  }));
}

const actorOf = (ctx: GateCtx) =>
  ({ kind: 'staff', accountId: ctx.accountId, organisationId: ctx.organisationId, role: ctx.role }) as const;

/** The items the caller deals with, without personal data, live ones first. */
export async function listWorkItems(db: Db, clock: Clock, ctx: GateCtx): Promise<WorkItemSummary[]> {
  const viewer = viewerOf(ctx);
  const now = clock.now();
  return db.tx(actorOf(ctx), async (tx) => {
    await setPolicyClock(tx, now);
    return listItems(tx, viewer, now);
  });
}

/** The subcontractors a counselor may hand documents to. */
export async function workItemSubcontractors(
  db: Db,
  clock: Clock,
  ctx: GateCtx,
): Promise<{ id: string; code: string; name: string }[]> {
  if (!mayDelegate(ctx.role))
    throw new AppError('forbidden', 'only counselors hand documents to subcontractors');
  return db.tx(actorOf(ctx), (tx) => subcontractors(tx, clock.now().toISOString().slice(0, 10)));
}

/**
 * A subcontractor's manager assigns a live item of their organisation to one of its operators (or
 * hands it to another). On record as an audit event (no person in it: nothing is read); an item or
 * operator not theirs, or an item done or closed, answers 404 and is on record too.
 */
export async function assignWorkItem(
  db: Db,
  clock: Clock,
  ctx: GateCtx,
  itemId: string,
  operatorId: string,
): Promise<{ id: string; state: 'assigned'; operatorId: string }> {
  if (ctx.role !== 'org_manager') {
    throw new AppError('forbidden', "only the subcontractor's managers assign work items");
  }
  const now = clock.now();
  const audit: AuditCtx = {
    actor: actorOf(ctx),
    sessionRef: sessionRef(ctx.sessionIdHash),
    requestId: ctx.requestId,
    sourceAddress: ctx.sourceAddress,
    at: now,
  };
  const query = { itemId, operatorId };
  const assigned = await db.tx(audit.actor, async (tx) => {
    await setPolicyClock(tx, now);
    const done = await assignItem(tx, ctx.organisationId, itemId, operatorId, now);
    if (done) {
      await appendAudit(tx, audit, {
        action: 'work_item.assign',
        purpose: null,
        query: { ...query, task: done.task },
        decision: 'allow',
        resultCount: 0,
        persons: [],
      });
    }
    return done;
  });
  if (!assigned) {
    await db.tx(audit.actor, (tx) =>
      appendAudit(tx, audit, {
        action: 'work_item.assign',
        purpose: null,
        query,
        decision: 'deny',
        reason: 'work_item_not_assignable',
        resultCount: 0,
        persons: [],
      }),
    );
    throw new AppError('not_found', 'no such live work item, or no such operator, in your organisation');
  }
  return { id: itemId, state: 'assigned', operatorId };
}
