/**
 * Reading, editing and sending the art. 33 draft (art33.ts) in the database (migration 0016). Both
 * readers of incidents read it; only the DPO edits it and marks it sent (docs/INCIDENTS.md, "Roles").
 * Marking it sent records the date once (the incident's authority_notified_at: its timeline stops
 * the 72-hour clock there); a second time is refused, and so is any edit afterwards: the record of
 * what was sent stays as it was sent.
 */
import type { ControllerConfig } from '../config-controller.ts';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError, ValidationError } from '../errors.ts';
import { type Art33Draft, type Art33Edits, buildDraft, checkEdits } from './art33.ts';
import type { PersonCategories } from './categories.ts';
import { INCIDENT_READERS } from './incidents.ts';
import { TIMELINE_COLUMNS, type TimelineRow, timelineOf } from './timeline.ts';

/** Only the DPO edits and sends the authority's notification. */
export const DRAFT_EDITORS: readonly string[] = ['dpo'];

interface Row extends TimelineRow {
  id: string;
  kind: string;
  accounts: string[];
  window_from: Date;
  window_to: Date;
  scope: {
    personCount: number;
    records?: number;
    fieldCounts: Record<string, number>;
    categories?: PersonCategories;
  };
  edits: Art33Edits | null;
  updated_at: Date | null;
  sent_at: Date | null;
}

async function load(tx: Tx, id: string, lock: boolean): Promise<Row> {
  const [row] = await tx.query<Row>(
    `SELECT i.id, i.kind, i.accounts, i.window_from, i.window_to, i.scope, ${TIMELINE_COLUMNS.split(', ')
      .map((c) => `i.${c}`)
      .join(', ')}, d.edits, d.updated_at, d.sent_at
     FROM incidents i LEFT JOIN incident_drafts d ON d.incident_id = i.id
     WHERE i.id = $1 ${lock ? 'FOR UPDATE OF i' : ''}`,
    [id],
  );
  if (!row) throw new AppError('not_found', 'no such incident for you');
  return row;
}

function draftOf(row: Row, controller: ControllerConfig, now: Date): Art33Draft {
  return buildDraft(
    {
      incidentId: row.id,
      kind: row.kind,
      accounts: row.accounts.length,
      windowFrom: row.window_from,
      windowTo: row.window_to,
      personCount: row.scope.personCount,
      records: row.scope.records ?? 0,
      fieldCounts: row.scope.fieldCounts,
      categories: row.scope.categories ?? null,
      timeline: timelineOf(row, now),
      edits: row.edits ?? {},
      updatedAt: row.updated_at,
      sentAt: row.sent_at,
    },
    controller,
  );
}

/** The draft of an incident, for a security officer or the DPO (anyone else: 404, as for an unknown id). */
export async function readDraft(
  db: Db,
  role: string,
  id: string,
  controller: ControllerConfig,
  now: Date,
): Promise<Art33Draft> {
  if (!INCIDENT_READERS.includes(role)) throw new AppError('not_found', 'no such incident for you');
  const row = await db.tx(systemCtx('incidents').actor, (tx) => load(tx, id, false));
  return draftOf(row, controller, now);
}

/** Who edits or sends: the DPO's account. */
export interface DraftEditor {
  accountId: string;
  role: string;
}

function checkEditor(editor: DraftEditor): void {
  if (!DRAFT_EDITORS.includes(editor.role))
    throw new AppError('forbidden', 'only the DPO edits and sends the notification to the authority');
}

/** Stores the DPO's edits (checked, art33.ts checkEdits) and returns the draft; refused once sent (409). */
export async function editDraft(
  db: Db,
  editor: DraftEditor,
  id: string,
  body: Record<string, unknown>,
  controller: ControllerConfig,
  now: Date,
): Promise<Art33Draft> {
  checkEditor(editor);
  const edits = checkEdits(body);
  const row = await db.tx(systemCtx('incidents').actor, async (tx) => {
    const current = await load(tx, id, true);
    if (current.sent_at)
      throw new AppError('conflict', 'the notification was already sent: it is kept as sent');
    await tx.query(
      `INSERT INTO incident_drafts (incident_id, edits, updated_at, updated_by) VALUES ($1, $2::jsonb, $3, $4)
       ON CONFLICT (incident_id) DO UPDATE SET edits = jsonb_strip_nulls(incident_drafts.edits || EXCLUDED.edits),
         updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
      [id, JSON.stringify(edits), now, editor.accountId],
    );
    return load(tx, id, false);
  });
  return draftOf(row, controller, now);
}

/**
 * Marks the draft sent to the authority at `now`: refused (409) if it already was, refused (400,
 * naming the items) while a required item is missing — the reasons for the delay among them once
 * the 72 hours are past. Sets the incident's authority_notified_at.
 */
export async function markDraftSent(
  db: Db,
  editor: DraftEditor,
  id: string,
  controller: ControllerConfig,
  now: Date,
): Promise<Art33Draft> {
  checkEditor(editor);
  const row = await db.tx(systemCtx('incidents').actor, async (tx) => {
    const current = await load(tx, id, true);
    if (current.sent_at || current.authority_notified_at)
      throw new AppError('conflict', 'the notification was already marked sent');
    // Judged as if sent now: late if now is past the deadline.
    const draft = draftOf({ ...current, authority_notified_at: now }, controller, now);
    if (draft.missing.length > 0)
      throw new ValidationError(
        draft.missing.map((field) => ({ field, message: 'is required before sending' })),
      );
    await tx.query(
      `INSERT INTO incident_drafts (incident_id, updated_at, updated_by, sent_at, sent_by) VALUES ($1, $2, $3, $2, $3)
       ON CONFLICT (incident_id) DO UPDATE SET sent_at = $2, sent_by = $3`,
      [id, now, editor.accountId],
    );
    await tx.query('UPDATE incidents SET authority_notified_at = $2 WHERE id = $1', [id, now]);
    return load(tx, id, false);
  });
  return draftOf(row, controller, now);
}
