/**
 * Work items' storage (T4; migration 0026): one document to process for one person, handed by an
 * agency to a subcontractor, assigned to one of its operators. Every function takes the transaction
 * first and who is asking second, and writes that into the SQL (the row-level security policies of
 * migration 0026 apply on top of it). Deadlines are compared with `now`, the application's clock,
 * which the caller also sets as `rempart.now` for the policies (`setPolicyClock`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.ts';
import type { StoredPerson } from './person-reads.ts';

export type WorkItemState = 'open' | 'assigned' | 'done' | 'closed';

/** A work item as lists show it: no personal data, only the item's pseudonym (its reference). */
export interface WorkItemSummary {
  id: string;
  reference: string;
  task: string;
  state: WorkItemState;
  deadline: Date;
  createdAt: Date;
  subcontractor: { id: string; name: string };
  /** The operator it is assigned to (null: open); operators' lists show their own name. */
  assignedTo: { id: string; displayName: string } | null;
  outcome: string | null;
}

/** Who lists items, and which ones that reaches (the caller's role decides). */
export type ItemViewer =
  | { kind: 'creator'; organisationId: string }
  | { kind: 'subcontractor'; organisationId: string }
  | { kind: 'operator'; accountId: string; organisationId: string };

/**
 * Sets the clock the policies compare deadlines with (`rempart.now`, transaction-local). A SET LOCAL
 * command, which takes no parameter: on Citus only SET commands reach the workers' shards. The
 * value is an ISO 8601 time made here (digits, '-', ':', '.', 'T', 'Z'), checked before it is sent.
 */
export async function setPolicyClock(tx: Tx, now: Date): Promise<void> {
  const iso = now.toISOString();
  if (!/^[0-9T:.Z+-]+$/.test(iso)) throw new Error('not an ISO time');
  await tx.query(`SET LOCAL rempart.now = '${iso}'`);
}

/** Crockford's base 32 without I, L, O, U: a reference read over the phone is not misread. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new random item reference, `DOS-XXXX-XXXX` (40 bits): the item's pseudonym, unrelated to the person. */
export function newReference(): string {
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => ALPHABET[b % 32]!);
  return `DOS-${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}`;
}

/** The state an item has at `now` (parameter `$now`): open and assigned items close at their deadline. */
const stateSql = (now: string): string =>
  `CASE WHEN w.state <> 'done' AND w.deadline <= ${now} THEN 'closed' ELSE w.state END`;

/** A new item, open (not assigned yet). */
export interface NewWorkItem {
  personId: string;
  task: string;
  purpose: string;
  createdBy: string;
  creatorOrganisationId: string;
  subcontractorId: string;
  deadline: Date;
  createdAt: Date;
}

/** Creates an open item; returns its id and reference. */
export async function insertWorkItem(tx: Tx, item: NewWorkItem): Promise<{ id: string; reference: string }> {
  const id = randomUUID();
  const reference = newReference();
  await tx.query(
    `INSERT INTO work_items (id, person_id, reference, task, purpose, created_by, creator_organisation_id,
       subcontractor_id, state, deadline, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10)`,
    [
      id,
      item.personId,
      reference,
      item.task,
      item.purpose,
      item.createdBy,
      item.creatorOrganisationId,
      item.subcontractorId,
      item.deadline,
      item.createdAt,
    ],
  );
  return { id, reference };
}

/** An item open to its operator now, with its person's sealed row. */
export interface LiveItem {
  id: string;
  reference: string;
  task: string;
  deadline: Date;
  person: StoredPerson;
}

/**
 * The item `id` if it is assigned to this operator, of their organisation, not done and before its
 * deadline — with its person, read under the persons policies (an operator sees a person only
 * through such an item). Undefined otherwise: not assigned to them, another organisation's, done,
 * closed and unknown look the same.
 */
export async function liveItemOf(
  tx: Tx,
  operator: { accountId: string; organisationId: string },
  id: string,
  now: Date,
): Promise<LiveItem | undefined> {
  const rows = await tx.query<{
    id: string;
    reference: string;
    task: string;
    deadline: Date;
    person_id: string;
    status: StoredPerson['status'];
    kek_id: string;
    wrapped_key: Uint8Array;
    sealed: Uint8Array;
  }>(
    `SELECT w.id, w.reference, w.task, w.deadline, p.id AS person_id, p.status, p.kek_id, p.wrapped_key, p.sealed
     FROM work_items w JOIN persons p ON p.id = w.person_id
     WHERE w.id = $1 AND w.assigned_to = $2 AND w.subcontractor_id = $3
       AND w.state = 'assigned' AND w.deadline > $4`,
    [id, operator.accountId, operator.organisationId, now],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    reference: row.reference,
    task: row.task,
    deadline: new Date(row.deadline),
    person: {
      id: row.person_id,
      status: row.status,
      kek_id: row.kek_id,
      wrapped_key: row.wrapped_key,
      sealed: row.sealed,
    },
  };
}

/**
 * Marks the operator's live item done with its outcome; returns its person's id (for the audit), or
 * undefined when the item is not theirs, not live, or unknown.
 */
export async function completeItem(
  tx: Tx,
  operator: { accountId: string; organisationId: string },
  id: string,
  outcome: string,
  now: Date,
): Promise<{ personId: string; task: string } | undefined> {
  const rows = await tx.query<{ person_id: string; task: string }>(
    `UPDATE work_items w SET state = 'done', outcome = $4, done_at = $5
     WHERE w.id = $1 AND w.assigned_to = $2 AND w.subcontractor_id = $3
       AND w.state = 'assigned' AND w.deadline > $5
     RETURNING w.person_id, w.task`,
    [id, operator.accountId, operator.organisationId, outcome, now],
  );
  const row = rows[0];
  return row ? { personId: row.person_id, task: row.task } : undefined;
}

/**
 * Assigns (or reassigns) a live item of the subcontractor to one of its active operators; returns
 * the item's task, or undefined when the item or the operator is not theirs, or the item is done
 * or closed.
 */
export async function assignItem(
  tx: Tx,
  subcontractorId: string,
  id: string,
  operatorId: string,
  now: Date,
): Promise<{ task: string } | undefined> {
  const rows = await tx.query<{ task: string }>(
    `UPDATE work_items w SET state = 'assigned', assigned_to = a.id, assigned_at = $4
     FROM accounts a
     WHERE w.id = $1 AND w.subcontractor_id = $2 AND w.state IN ('open', 'assigned') AND w.deadline > $4
       AND a.id = $3 AND a.organisation_id = $2 AND a.role = 'subcontractor_operator'
       AND a.status IN ('active', 'probation')
     RETURNING w.task`,
    [id, subcontractorId, operatorId, now],
  );
  return rows[0];
}

/** At most this many items in a list (the newest deadlines first after the live ones). */
export const LIST_CAP = 200;

/** The items a viewer deals with, live ones first (soonest deadline first), without personal data. */
export async function listItems(tx: Tx, viewer: ItemViewer, now: Date): Promise<WorkItemSummary[]> {
  const where =
    viewer.kind === 'creator'
      ? { sql: 'w.creator_organisation_id = $2', params: [viewer.organisationId] }
      : viewer.kind === 'subcontractor'
        ? { sql: 'w.subcontractor_id = $2', params: [viewer.organisationId] }
        : {
            sql: 'w.subcontractor_id = $2 AND w.assigned_to = $3',
            params: [viewer.organisationId, viewer.accountId],
          };
  const rows = await tx.query<{
    id: string;
    reference: string;
    task: string;
    state: WorkItemState;
    deadline: Date;
    created_at: Date;
    subcontractor_id: string;
    subcontractor_name: string;
    assigned_to: string | null;
    assigned_name: string | null;
    outcome: string | null;
  }>(
    `SELECT w.id, w.reference, w.task, ${stateSql('$1')} AS state, w.deadline, w.created_at,
       w.subcontractor_id, o.name AS subcontractor_name, w.assigned_to, a.display_name AS assigned_name, w.outcome
     FROM work_items w JOIN organisations o ON o.id = w.subcontractor_id
       LEFT JOIN accounts a ON a.id = w.assigned_to
     WHERE ${where.sql}
     ORDER BY (w.state <> 'done' AND w.deadline > $1) DESC,
       CASE WHEN w.state <> 'done' AND w.deadline > $1 THEN w.deadline END ASC,
       w.deadline DESC, w.id
     LIMIT ${LIST_CAP}`,
    [now, ...where.params],
  );
  return rows.map((r) => ({
    id: r.id,
    reference: r.reference,
    task: r.task,
    state: r.state,
    deadline: new Date(r.deadline),
    createdAt: new Date(r.created_at),
    subcontractor: { id: r.subcontractor_id, name: r.subcontractor_name },
    assignedTo: r.assigned_to === null ? null : { id: r.assigned_to, displayName: r.assigned_name ?? '' },
    outcome: r.outcome,
  }));
}

/** The subcontractor organisations that hold the work-item purpose and whose contract runs on `today`, by name. */
export async function subcontractors(
  tx: Tx,
  today: string,
): Promise<{ id: string; code: string; name: string }[]> {
  return tx.query<{ id: string; code: string; name: string }>(
    `SELECT id, code, name FROM organisations
     WHERE kind = 'subcontractor' AND 'work_item' = ANY (purposes)
       AND (contract_ends_on IS NULL OR contract_ends_on >= $1::date)
     ORDER BY name, code`,
    [today],
  );
}
