/**
 * Incidents (docs/DESIGN.md section 9): a confirmed compromise — the accounts, the window, and the scope
 * the audit log gives for them (persons, fields: T7). The review queue opens them
 * (guard/review.ts); the notifications of GDPR articles 33 and 34 (the authority, each person, with
 * exactly the fields exposed) come with the incidents issue and start from the stored scope.
 *
 * The scope names persons by id. Person ids are pseudonymous, still personal data (GDPR recital 26),
 * so reading an incident is itself an audit event of the reader, with one link per person returned
 * (field INCIDENT_FIELD: the fact of being in the incident, no field of the record), committed
 * before the answer leaves: the person's access history shows it, and a later breach scope of the
 * reader's account would count it (docs/DESIGN.md section 3: no personal data leaves without an audit
 * event).
 */

import { randomUUID } from 'node:crypto';
import { sessionRef } from '../access/gate.ts';
import { appendAudit } from '../audit/append.ts';
import { byCodeUnit } from '../audit/leaf.ts';
import type { BreachScope, ScopedPerson } from '../audit/scope.ts';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { categoriseIncident, type PersonCategories } from './categories.ts';
import { type IncidentTimeline, TIMELINE_COLUMNS, type TimelineRow, timelineOf } from './timeline.ts';

/** The audit field of a person whose membership in an incident was read (like 'accessHistory'). */
export const INCIDENT_FIELD = 'incident';
/** Persons in one page of an incident's scope. */
export const INCIDENT_PAGE = 1000;
/** The roles that read incidents: security officers (investigation) and the DPO (notification). */
export const INCIDENT_READERS: readonly string[] = ['security_officer', 'dpo'];

/** One person of an incident's scope, as stored (times as ISO-8601). */
export interface IncidentPerson {
  personId: string;
  /** The fields the compromised accounts received about this person, sorted. */
  fields: string[];
  firstAt: string;
  lastAt: string;
  events: number;
}

/** An incident's scope, as stored: the contract of `rempart audit scope` (audit/scope.ts). */
export interface IncidentScope {
  personCount: number;
  /** Allowed events of the accounts in the window. */
  events: number;
  fieldCounts: Record<string, number>;
  /** Person × field exposures: the "approximate number of records" of GDPR art. 33(3)(a). */
  records: number;
  /** Counts by category of person (absent on incidents opened before they were counted). */
  categories: PersonCategories | null;
  /** Sorted by personId. */
  persons: IncidentPerson[];
}

/** How an incident was declared: the review queue, accounts and a window, or a leaked file's persons. */
export type IncidentKind = 'compromised_account' | 'accounts_window' | 'leaked_file';

export interface NewIncident {
  openedAt: Date;
  /** When the breach was detected (the 72-hour clock of GDPR article 33 runs from here); default openedAt. */
  detectedAt?: Date;
  openedBy: string;
  kind: IncidentKind;
  /** The breach scope: its accounts and window become the incident's. */
  scope: BreachScope;
  note: string | null;
  /** The registry's keys: with them the minors on the detection date are counted (categories.ts). */
  keys?: RegistryKeys | null;
  /** The request that opens it (the categorising audit event's). */
  requestId?: string;
}

/** Rows of incident_persons written per statement. */
const INSERT_BATCH = 5000;

/**
 * On Citus (docs/SCALING.md) incident_persons is distributed by person: the rows go as one multi-row
 * INSERT ... VALUES that Citus splits by shard (an INSERT ... SELECT into a distributed table goes
 * through COPY, which row-level security refuses). The same rows as the single-server statement.
 */
async function insertIncidentPersonsOnCitus(tx: Tx, id: string, batch: ScopedPerson[]): Promise<void> {
  const params: unknown[] = [id];
  const values = batch.map((p) => {
    const k = params.length + 1;
    params.push(
      p.personId,
      [...p.fields].sort(byCodeUnit),
      new Date(p.firstAt),
      new Date(p.lastAt),
      p.events,
    );
    return `($1::uuid, $${k}::uuid, $${k + 1}::text[], $${k + 2}::timestamptz, $${k + 3}::timestamptz, $${k + 4}::int)`;
  });
  await tx.query(
    `INSERT INTO incident_persons (incident_id, person_id, fields, first_at, last_at, events) VALUES ${values.join(', ')}`,
    params,
  );
}

/**
 * Opens an incident in the caller's transaction (system actor: incidents are under FORCE RLS); returns
 * its id. The scope's persons go to incident_persons, one row each; the incident keeps the counts.
 */
export async function openIncident(tx: Tx, incident: NewIncident): Promise<string> {
  const id = randomUUID();
  const { scope } = incident;
  const records = scope.persons.reduce((n, p) => n + p.fields.length, 0);
  const counts = {
    personCount: scope.personCount,
    events: scope.events,
    fieldCounts: scope.fieldCounts,
    records,
  };
  await tx.query(
    `INSERT INTO incidents (id, opened_at, detected_at, opened_by, kind, accounts, window_from, window_to, scope, note)
     VALUES ($1, $2, $3, $4, $5, $6::uuid[], $7, $8, $9::jsonb, $10)`,
    [
      id,
      incident.openedAt,
      incident.detectedAt ?? incident.openedAt,
      incident.openedBy,
      incident.kind,
      scope.accounts,
      scope.from,
      scope.to,
      JSON.stringify(counts),
      incident.note,
    ],
  );
  const persons = scope.persons.filter((p) => p.fields.length > 0);
  for (let i = 0; i < persons.length; i += INSERT_BATCH) {
    const batch = persons.slice(i, i + INSERT_BATCH);
    if (tx.distributed) {
      await insertIncidentPersonsOnCitus(tx, id, batch);
      continue;
    }
    await tx.query(
      `INSERT INTO incident_persons (incident_id, person_id, fields, first_at, last_at, events)
       SELECT $1, p.person_id, ARRAY(SELECT jsonb_array_elements_text(p.fields) ORDER BY 1), p.first_at, p.last_at, p.events
       FROM jsonb_to_recordset($2::jsonb)
         AS p(person_id uuid, fields jsonb, first_at timestamptz, last_at timestamptz, events int)`,
      [
        id,
        JSON.stringify(
          batch.map((p) => ({
            person_id: p.personId,
            fields: p.fields,
            first_at: new Date(p.firstAt).toISOString(),
            last_at: new Date(p.lastAt).toISOString(),
            events: p.events,
          })),
        ),
      ],
    );
  }
  await categoriseIncident(tx, incident.keys ?? null, id, incident.detectedAt ?? incident.openedAt, {
    requestId: incident.requestId ?? 'incident-open',
    now: incident.openedAt,
  });
  return id;
}

/**
 * One page of an incident's persons, by person id after `afterPersonId` (null: from the first), at
 * most `limit`; in the caller's transaction (system actor). What the notices of article 34 page
 * through, and what readIncident shows.
 */
export async function incidentPersonsPage(
  tx: Tx,
  incidentId: string,
  afterPersonId: string | null,
  limit: number,
): Promise<IncidentPerson[]> {
  const rows = await tx.query<PersonRow>(
    `SELECT person_id, fields, first_at, last_at, events FROM incident_persons
     WHERE incident_id = $1 AND ($2::uuid IS NULL OR person_id > $2::uuid)
     ORDER BY person_id LIMIT $3`,
    [incidentId, afterPersonId, limit],
  );
  return rows.map(toIncidentPerson);
}

/** A row of incident_persons. */
interface PersonRow {
  person_id: string;
  fields: string[];
  first_at: Date;
  last_at: Date;
  events: number;
}

/** A row of incident_persons as the API and the notices see it. */
function toIncidentPerson(r: PersonRow): IncidentPerson {
  return {
    personId: r.person_id,
    fields: r.fields,
    firstAt: r.first_at.toISOString(),
    lastAt: r.last_at.toISOString(),
    events: r.events,
  };
}

/** Records when the people were notified (the notices' job, once every notice is delivered or given up). */
export async function markPeopleNotified(tx: Tx, incidentId: string, at: Date): Promise<void> {
  await tx.query(`UPDATE incidents SET people_notified_at = COALESCE(people_notified_at, $2) WHERE id = $1`, [
    incidentId,
    at,
  ]);
}

/** An incident as the API returns it: one page of its scope's persons. */
export interface IncidentView {
  id: string;
  openedAt: string;
  openedBy: string;
  kind: string;
  status: string;
  accounts: string[];
  windowFrom: string;
  windowTo: string;
  note: string | null;
  timeline: IncidentTimeline;
  scope: IncidentScope & { offset: number; nextOffset: number | null };
}

/** Who reads, from where: the audit event's actor and context. */
export interface IncidentReader {
  accountId: string;
  organisationId: string;
  role: string;
  sessionIdHash: Buffer;
  requestId: string;
  sourceAddress: string | null;
}

/**
 * Reads an incident for a security officer or the DPO (anyone else: 404, as for an unknown id),
 * with the persons of its scope from `offset` (INCIDENT_PAGE at most). The read is recorded as an
 * audit event of the reader ('incident.view', one link per person returned) in its own transaction,
 * committed before this returns: if it cannot be written, nothing is returned (fail closed).
 */
export async function readIncident(
  db: Db,
  reader: IncidentReader,
  id: string,
  offset: number,
  now: Date,
): Promise<IncidentView> {
  if (!INCIDENT_READERS.includes(reader.role)) throw new AppError('not_found', 'no such incident for you');
  const [row] = await db.tx(systemCtx('incidents').actor, (tx) =>
    tx.query<
      TimelineRow & {
        id: string;
        opened_at: Date;
        opened_by: string;
        kind: string;
        status: string;
        accounts: string[];
        window_from: Date;
        window_to: Date;
        note: string | null;
        scope: Omit<IncidentScope, 'persons' | 'records' | 'categories'> &
          Partial<Pick<IncidentScope, 'records' | 'categories'>>;
      }
    >(
      `SELECT id, opened_by, kind, status, accounts, window_from, window_to, note, scope, ${TIMELINE_COLUMNS}
       FROM incidents WHERE id = $1`,
      [id],
    ),
  );
  if (!row) throw new AppError('not_found', 'no such incident for you');
  const persons = await db.tx(systemCtx('incidents').actor, (tx) =>
    tx
      .query<PersonRow>(
        `SELECT person_id, fields, first_at, last_at, events FROM incident_persons
         WHERE incident_id = $1 ORDER BY person_id OFFSET $2 LIMIT $3`,
        [id, offset, INCIDENT_PAGE + 1],
      )
      .then((rows) => rows.map(toIncidentPerson)),
  );
  const more = persons.length > INCIDENT_PAGE;
  if (more) persons.pop();
  // The incidents table admits the system actor only; the audit event is the reader's own (a staff
  // transaction may write events in its own name only, migration 0006).
  await db.tx(
    { kind: 'staff', accountId: reader.accountId, organisationId: reader.organisationId, role: reader.role },
    (tx) =>
      appendAudit(
        tx,
        {
          actor: {
            kind: 'staff',
            accountId: reader.accountId,
            organisationId: reader.organisationId,
            role: reader.role,
          },
          sessionRef: sessionRef(reader.sessionIdHash),
          requestId: reader.requestId,
          sourceAddress: reader.sourceAddress,
          at: now,
        },
        {
          action: 'incident.view',
          purpose: 'incident_investigation',
          query: { incidentId: row.id, offset, page: INCIDENT_PAGE },
          decision: 'allow',
          resultCount: persons.length,
          persons: persons.map((p) => ({ personId: p.personId, fields: [INCIDENT_FIELD] })),
        },
      ),
  );
  return {
    id: row.id,
    openedAt: row.opened_at.toISOString(),
    openedBy: row.opened_by,
    kind: row.kind,
    status: row.status,
    accounts: row.accounts,
    windowFrom: row.window_from.toISOString(),
    windowTo: row.window_to.toISOString(),
    note: row.note,
    timeline: timelineOf(row, now),
    scope: {
      personCount: row.scope.personCount,
      events: row.scope.events,
      fieldCounts: row.scope.fieldCounts,
      records: row.scope.records ?? 0,
      categories: row.scope.categories ?? null,
      persons,
      offset,
      nextOffset: more ? offset + INCIDENT_PAGE : null,
    },
  };
}

// The list moved to list.ts; these names stay importable from here (other modules import them so).
export { INCIDENTS_LIMIT, type IncidentSummary, incidentSummary, listIncidents } from './list.ts';
