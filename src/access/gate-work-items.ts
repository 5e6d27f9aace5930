/**
 * The gate's work-item acts (T4: subcontractors get work items, not datasets). Called only from
 * `passGate` (gate.ts), inside its transaction and between its steps, so an item is decided by the
 * policy, checked by the guard before and after, read under row-level security with the
 * application's clock (`rempart.now`), audited in the same transaction with the person and the exact
 * fields, and decrypted last:
 *
 * - `work_item.create`: a counselor hands a document for a person of their scope to a subcontractor,
 *   naming the task (work-tasks.ts: which fields the item will show) and a deadline. Nothing of the
 *   person is returned; the person is counted by the guard as reached.
 * - `work_item.view`: the operator the item is assigned to opens it while it is live (assigned, not
 *   done, before its deadline): only the task's fields, pseudonymised where the task allows, and
 *   never beyond the role's `items` cap. Not assigned to them, another organisation's, done, closed
 *   and unknown answer alike (404), and are refusals the guard counts.
 * - `work_item.complete`: the operator marks it done with an outcome; it shows nothing after that.
 */
import type { AuditEntry } from '../audit/append.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { GuardOutcome, ObservedRequest } from '../guard/guard.ts';
import { firstGivenName, normaliseName } from '../registry/normalise.ts';
import type { Address, Identity, IdentityField } from '../registry/person.ts';
import { openPerson, personInScope } from '../registry/person-reads.ts';
import { completeItem, insertWorkItem, liveItemOf } from '../registry/work-items.ts';
import { type Decision, denyEntry, type GateCtx, type GateDeps, Refusal } from './gate.ts';
import type { Rule, WorkItemField } from './policy.ts';
import type { Purpose } from './purposes.ts';
import { isWorkTask, WORK_OUTCOMES, WORK_TASKS, type WorkOutcome, type WorkTask } from './work-tasks.ts';

export type WorkItemRequest =
  | {
      action: 'work_item.create';
      /** The purpose under which the counselor hands the document over (accompaniment, payment). */
      purpose: string;
      personId: string;
      task: string;
      subcontractorId: string;
      deadline: Date;
    }
  | { action: 'work_item.view'; purpose: string; itemId: string }
  | { action: 'work_item.complete'; purpose: string; itemId: string; outcome: string };

/** The person as an item shows them: only the task's fields. */
export interface WorkItemPerson {
  initials?: string;
  birthYear?: string;
  agencyId?: string;
  lastName?: string;
  firstNames?: string;
  address?: Address | null;
}

export interface CreatedItem {
  item: {
    id: string;
    reference: string;
    task: WorkTask;
    state: 'open';
    deadline: Date;
    subcontractorId: string;
  };
}
export interface OpenedItem {
  item: {
    id: string;
    reference: string;
    task: WorkTask;
    state: 'assigned';
    deadline: Date;
    person: WorkItemPerson;
  };
  fields: WorkItemField[];
}
export interface CompletedItem {
  item: { id: string; state: 'done'; outcome: WorkOutcome };
}

export type WorkItemResult<R extends WorkItemRequest> = R['action'] extends 'work_item.create'
  ? CreatedItem
  : R['action'] extends 'work_item.view'
    ? OpenedItem
    : CompletedItem;

/** Any work-item act's result. */
export type AnyWorkItemResult = CreatedItem | OpenedItem | CompletedItem;

/** The gate's steps 6 and 7 as passGate's transaction offers them (gate.ts `run`). */
export interface GateSteps {
  /** Step 7: the guard counts the request with the persons it reaches; not allow refuses it. */
  after(personIds: string[], extra?: Partial<ObservedRequest>): Promise<GuardOutcome>;
  /** Step 6: the audit event (with the guard's state on the common path). */
  record(entry: AuditEntry): Promise<void>;
  /** The guard's refusal, on record. */
  stopped(outcome: GuardOutcome, query: Record<string, unknown>): Promise<Refusal>;
}

/** True for the work-item acts. */
export function isWorkItemRequest(request: { action: string }): request is WorkItemRequest {
  return request.action.startsWith('work_item.');
}

/** What the audit records of a work-item act: ids and the task, never a value of the person. */
export function workItemShape(request: WorkItemRequest): Record<string, unknown> {
  if (request.action === 'work_item.create') {
    return {
      personId: request.personId,
      task: request.task,
      subcontractorId: request.subcontractorId,
      deadline: request.deadline,
    };
  }
  if (request.action === 'work_item.complete') return { itemId: request.itemId, outcome: request.outcome };
  return { itemId: request.itemId };
}

/** Step 3 for a work-item act (the purpose is already open to the role and held). */
export function decideWorkItem(
  ctx: GateCtx,
  request: WorkItemRequest,
  purpose: Purpose,
  rule: Rule,
  shape: Record<string, unknown>,
  at: Date,
): Decision | Refusal {
  const forbidden = (reason: string, message: string, field: string): Refusal =>
    new Refusal(reason, new AppError('forbidden', message, { field }), shape);
  const decision = { purpose, rule, national: false, justification: null };
  if (request.action !== 'work_item.create') {
    if (rule.scope !== 'work_item') {
      return forbidden(
        'work_item_role',
        'work items are opened and completed by the operators they are assigned to',
        'purpose',
      );
    }
    if (
      request.action === 'work_item.complete' &&
      !(WORK_OUTCOMES as readonly string[]).includes(request.outcome)
    ) {
      throw new AppError('validation_failed', `outcome must be one of ${WORK_OUTCOMES.join(', ')}`, {
        field: 'outcome',
      });
    }
    return { ...decision, scope: null };
  }
  if (!isWorkTask(request.task)) {
    throw new AppError('validation_failed', 'task is not one of the work-item tasks', { field: 'task' });
  }
  if ((rule.scope !== 'agency' && rule.scope !== 'caseload') || !rule.delegate?.includes(request.task)) {
    return forbidden(
      'task_not_allowed',
      'you may not hand this task to a subcontractor for this purpose',
      'task',
    );
  }
  const maxDays = WORK_TASKS[request.task].maxDays;
  const deadline = request.deadline.getTime();
  if (
    !Number.isFinite(deadline) ||
    deadline <= at.getTime() ||
    deadline > at.getTime() + maxDays * 86_400_000
  ) {
    throw new AppError(
      'validation_failed',
      `deadline must be in the future and at most ${maxDays} days away for this task`,
      { field: 'deadline' },
    );
  }
  return {
    ...decision,
    scope: { kind: rule.scope, organisationId: ctx.organisationId },
  };
}

/** Steps 5 to 8 of a work-item act, inside passGate's transaction. */
export async function runWorkItem(
  tx: Tx,
  deps: GateDeps,
  ctx: GateCtx,
  request: WorkItemRequest,
  decision: Decision,
  shape: Record<string, unknown>,
  steps: GateSteps,
): Promise<{ result: AnyWorkItemResult | Refusal; guard: GuardOutcome }> {
  const at = deps.clock.now();
  const base = { action: request.action, purpose: decision.purpose, justification: null };
  // Absent, not theirs and no longer live answer alike; the attempt is on record and counted.
  const notOpen = async (
    reason: string,
    error: AppError,
  ): Promise<{ result: Refusal; guard: GuardOutcome }> => {
    const guard = await steps.after([], { refused: true });
    if (guard.response !== 'allow') return { result: await steps.stopped(guard, shape), guard };
    const refusal = new Refusal(reason, error, shape);
    await steps.record(denyEntry(request, decision.purpose, refusal));
    return { result: refusal, guard };
  };
  const operator = { accountId: ctx.accountId, organisationId: ctx.organisationId };

  if (request.action === 'work_item.create') {
    const [subcontractor] = await tx.query<{ id: string }>(
      `SELECT id FROM organisations WHERE id = $1 AND kind = 'subcontractor' AND 'work_item' = ANY (purposes)
         AND (contract_ends_on IS NULL OR contract_ends_on >= $2::date)`,
      [request.subcontractorId, at.toISOString().slice(0, 10)],
    );
    if (!subcontractor) {
      throw new AppError('validation_failed', 'subcontractorId is not a subcontractor taking work items', {
        field: 'subcontractorId',
      });
    }
    const person = decision.scope ? await personInScope(tx, decision.scope, request.personId) : undefined;
    if (!person) return notOpen('not_found_or_out_of_scope', new AppError('not_found', 'no such person'));
    // The person is reached (handed to a third party), though nothing of them is returned.
    const guard = await steps.after([person.id]);
    if (guard.response !== 'allow') return { result: await steps.stopped(guard, shape), guard };
    const task = request.task as WorkTask;
    const created = await insertWorkItem(tx, {
      personId: person.id,
      task,
      purpose: decision.purpose,
      createdBy: ctx.accountId,
      creatorOrganisationId: ctx.organisationId,
      subcontractorId: request.subcontractorId,
      deadline: request.deadline,
      createdAt: at,
    });
    await steps.record({
      ...base,
      query: { ...shape, itemId: created.id },
      decision: 'allow',
      resultCount: 0,
      persons: [],
    });
    return {
      result: {
        item: {
          id: created.id,
          reference: created.reference,
          task,
          state: 'open',
          deadline: request.deadline,
          subcontractorId: request.subcontractorId,
        },
      },
      guard,
    };
  }

  if (request.action === 'work_item.complete') {
    const done = await completeItem(tx, operator, request.itemId, request.outcome, at);
    if (!done)
      return notOpen('work_item_not_open', new AppError('not_found', 'no such work item open to you'));
    // Not a read: nothing of the person is returned, nothing more for the guard to count.
    await steps.record({
      ...base,
      query: { ...shape, task: done.task },
      decision: 'allow',
      resultCount: 0,
      persons: [],
    });
    return {
      result: { item: { id: request.itemId, state: 'done', outcome: request.outcome as WorkOutcome } },
      guard: { response: 'allow', signals: [], raised: null },
    };
  }

  const item = await liveItemOf(tx, operator, request.itemId, at);
  if (!item || !isWorkTask(item.task)) {
    return notOpen('work_item_not_open', new AppError('not_found', 'no such work item open to you'));
  }
  // The task's fields, never beyond what the role may ever see of an item.
  const fields = WORK_TASKS[item.task].fields.filter((f) => decision.rule.items?.includes(f));
  const guard = await steps.after([item.person.id]);
  if (guard.response !== 'allow') return { result: await steps.stopped(guard, shape), guard };
  await steps.record({
    ...base,
    query: { ...shape, task: item.task },
    decision: 'allow',
    resultCount: 1,
    persons: [{ personId: item.person.id, fields }],
  });
  const identity = await openPerson(deps.keys, item.person, identityFieldsOf(fields));
  return {
    result: {
      item: {
        id: item.id,
        reference: item.reference,
        task: item.task,
        state: 'assigned',
        deadline: item.deadline,
        person: itemPerson(identity, fields),
      },
      fields,
    },
    guard,
  };
}

/** The identity fields to decrypt for an item's fields (initials and birth year are derived). */
function identityFieldsOf(fields: readonly WorkItemField[]): IdentityField[] {
  const out = new Set<IdentityField>();
  for (const field of fields) {
    if (field === 'initials') {
      out.add('firstNames');
      out.add('lastName');
    } else if (field === 'birthYear') out.add('birthDate');
    else out.add(field);
  }
  return [...out];
}

/** Step 8: the item's view of the person, exactly its fields. */
function itemPerson(identity: Partial<Identity>, fields: readonly WorkItemField[]): WorkItemPerson {
  const person: WorkItemPerson = {};
  for (const field of fields) {
    if (field === 'initials')
      person.initials = initialsOf(identity.firstNames ?? '', identity.lastName ?? '');
    else if (field === 'birthYear') person.birthYear = (identity.birthDate ?? '').slice(0, 4);
    else if (field === 'address') person.address = identity.address ?? null;
    else person[field] = identity[field] ?? '';
  }
  return person;
}

/** "J. D." for Jean-Pierre, Louis Dupont: first given name's and last name's first letters, no accent. */
export function initialsOf(firstNames: string, lastName: string): string {
  return `${firstGivenName(firstNames).charAt(0)}. ${normaliseName(lastName).charAt(0)}.`;
}
