/**
 * The list of incidents (docs/INCIDENTS.md): counts, categories and the timeline of each, never a
 * person of a scope (those stay behind readIncident in incidents.ts, whose every read is audited).
 */
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { PersonCategories } from './categories.ts';
import { INCIDENT_READERS } from './incidents.ts';
import { type IncidentTimeline, TIMELINE_COLUMNS, type TimelineRow, timelineOf } from './timeline.ts';

/** Incidents in a list: newest first, at most this many. */
export const INCIDENTS_LIMIT = 200;

/** An incident in the list: its counts, no person of its scope. */
export interface IncidentSummary {
  id: string;
  openedAt: string;
  openedBy: string;
  kind: string;
  status: string;
  accounts: string[];
  windowFrom: string;
  windowTo: string;
  note: string | null;
  personCount: number;
  events: number;
  fieldCounts: Record<string, number>;
  records: number;
  categories: PersonCategories | null;
  timeline: IncidentTimeline;
}

/**
 * The incidents, newest first, for a security officer or the DPO (anyone else: forbidden, as the
 * review queue's lists answer). Counts only: the persons of a scope stay behind `readIncident`, whose
 * every read is an audit event, so listing needs none (docs/DESIGN.md section 3).
 */
export async function listIncidents(
  db: Db,
  role: string,
  now: Date = new Date(),
): Promise<IncidentSummary[]> {
  if (!INCIDENT_READERS.includes(role))
    throw new AppError('forbidden', 'only security officers and the DPO list incidents');
  return summaries(db, null, now);
}

/** One incident's summary (counts and timeline, no person): the operator's `rempart incident show`. */
export async function incidentSummary(db: Db, id: string, now: Date): Promise<IncidentSummary> {
  const [summary] = await summaries(db, id, now);
  if (!summary) throw new AppError('not_found', 'no such incident');
  return summary;
}

async function summaries(db: Db, id: string | null, now: Date): Promise<IncidentSummary[]> {
  const rows = await db.tx(systemCtx('incidents').actor, (tx) =>
    tx.query<
      TimelineRow & {
        id: string;
        opened_by: string;
        kind: string;
        status: string;
        accounts: string[];
        window_from: Date;
        window_to: Date;
        note: string | null;
        person_count: number | null;
        events: number | null;
        field_counts: Record<string, number> | null;
        records: number | null;
        categories: PersonCategories | null;
      }
    >(
      `SELECT id, opened_by, kind, status, accounts, window_from, window_to, note, ${TIMELINE_COLUMNS},
         (scope->>'personCount')::int AS person_count, (scope->>'events')::int AS events,
         scope->'fieldCounts' AS field_counts, (scope->>'records')::int AS records, scope->'categories' AS categories
       FROM incidents WHERE $2::uuid IS NULL OR id = $2::uuid ORDER BY opened_at DESC, id LIMIT $1`,
      [INCIDENTS_LIMIT, id],
    ),
  );
  return rows.map((row) => ({
    id: row.id,
    openedAt: row.opened_at.toISOString(),
    openedBy: row.opened_by,
    kind: row.kind,
    status: row.status,
    accounts: row.accounts,
    windowFrom: row.window_from.toISOString(),
    windowTo: row.window_to.toISOString(),
    note: row.note,
    personCount: row.person_count ?? 0,
    events: row.events ?? 0,
    fieldCounts: row.field_counts ?? {},
    records: row.records ?? 0,
    categories: row.categories ?? null,
    timeline: timelineOf(row, now),
  }));
}
