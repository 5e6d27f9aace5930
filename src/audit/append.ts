/**
 * Appending to the audit log (docs/DESIGN.md section 7): one event and its person links, written in the
 * caller's transaction, in one statement. The gate calls it before it decrypts anything, so a read
 * whose audit row cannot be written returns nothing (fail closed, OWASP ASVS 16.5.3).
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../context.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { EventPerson } from './leaf.ts';

/** Who acts, from where, and when: the same for every event of one request. */
export interface AuditCtx {
  actor: Actor;
  /** The first 16 hex digits of SHA-256 of the session's id hash (links one session's events). */
  sessionRef: string | null;
  requestId: string;
  sourceAddress: string | null;
  at: Date;
}

/** What one event records. */
export interface AuditEntry {
  /** What was done: 'person.search', 'person.view', 'person.update_contact', 'audit.scope', ... */
  action: string;
  purpose: string | null;
  /**
   * The shape of the query: which filters were used, the cap, the scope; never an identifier's
   * value (no NIR, agency id, name or birth date), only opaque record ids. Times (a window's
   * bounds) go in as Date values, stored as ISO-8601 text.
   */
  query: Record<string, unknown>;
  justification?: string | null;
  decision: 'allow' | 'deny';
  /** Why a request was refused (a stable code), or null. */
  reason?: string | null;
  resultCount: number;
  /** One entry per person whose data was returned or changed, with the fields. */
  persons: readonly EventPerson[];
}

/** Characters an identifier's value may not hide in (a NIR, a phone): 6+ digits in a row. */
const LONG_DIGITS = /\d{6,}/;

/** Refuses a query shape that carries what looks like an identifier's value (defence in depth). */
function checkShape(query: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === 'string' && LONG_DIGITS.test(value.replace(/[-\s]/g, '')) && !key.endsWith('Id')) {
      throw new AppError('internal', `audit query shape field ${key} looks like an identifier's value`);
    }
  }
}

/**
 * The event with its salt and queue entry, in one statement; with `links`, its person links too
 * ($16 persons, $17 their fields, $18 the salt; without them, $16 the salt).
 */
function appendSql(links: boolean): string {
  const linkCte = `
     l AS (
       INSERT INTO audit_event_persons (event_id, person_id, fields, account_id, organisation_id, occurred_at)
       SELECT n.id, p.person_id, string_to_array(p.fields, ','), $3, $4, $1
       FROM n, unnest($16::uuid[], $17::text[]) AS p (person_id, fields)
     ),`;
  return `WITH n AS (SELECT nextval('audit_events_id_seq') AS id),
     e AS (
       INSERT INTO audit_events (id, occurred_at, actor_kind, account_id, organisation_id, role, session_ref,
         request_id, source_address, purpose, action, query, justification, decision, reason, result_count)
       SELECT n.id, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 FROM n
     ),${links ? linkCte : ''}
     s AS (INSERT INTO audit_event_salts (event_id, salt) SELECT n.id, ${links ? '$18' : '$16'} FROM n),
     q AS (INSERT INTO audit_pending (event_id) SELECT n.id FROM n)
     SELECT id::text AS id FROM n`;
}

const APPEND = appendSql(true);
/** On Citus the person links follow as their own statement (appendOnCitus). */
const APPEND_EVENT = appendSql(false);

/** Appends one event with its person links and salt in the caller's transaction; returns the event id. */
export async function appendAudit(tx: Tx, ctx: AuditCtx, entry: AuditEntry): Promise<string> {
  checkShape(entry.query);
  const staff = ctx.actor.kind === 'staff' ? ctx.actor : null;
  const personIds = entry.persons.map((p) => p.personId);
  // Each person's fields as one comma-joined text (field names hold no comma): unnest of a
  // two-dimensional array would need every row to have as many fields.
  const fieldLists = entry.persons.map((p) => p.fields.join(','));
  const event = [
    ctx.at,
    ctx.actor.kind,
    staff?.accountId ?? null,
    staff?.organisationId ?? null,
    staff?.role ?? null,
    ctx.sessionRef,
    ctx.requestId,
    ctx.sourceAddress,
    entry.purpose,
    entry.action,
    JSON.stringify(entry.query),
    entry.justification ?? null,
    entry.decision,
    entry.reason ?? null,
    entry.resultCount,
  ];
  // The event's secret salt (leaf format v2, src/audit/leaf.ts): the sequencer derives the leaf's
  // commitments from it, off the read path.
  const salt = randomBytes(32);
  if (!tx.distributed)
    return eventId(await tx.query<{ id: string }>(APPEND, [...event, personIds, fieldLists, salt]));
  const id = eventId(await tx.query<{ id: string }>(APPEND_EVENT, [...event, salt]));
  if (personIds.length > 0) await appendLinksOnCitus(tx, id, ctx.at, staff, personIds, fieldLists);
  return id;
}

function eventId(rows: { id: string }[]): string {
  const id = rows[0]?.id;
  if (id === undefined) throw new AppError('internal', 'the audit event was not written');
  return id;
}

/**
 * On Citus (docs/SCALING.md), after the event on the coordinator: its person links, distributed by
 * person, as one multi-row INSERT ... VALUES that Citus splits by shard. An INSERT ... SELECT into a
 * distributed table goes through COPY, which row-level security refuses. Same transaction, same
 * rows; one more round trip.
 */
async function appendLinksOnCitus(
  tx: Tx,
  id: string,
  at: Date,
  staff: { accountId: string; organisationId: string } | null,
  personIds: string[],
  fieldLists: string[],
): Promise<void> {
  const values: string[] = [];
  const linkParams: unknown[] = [id, staff?.accountId ?? null, staff?.organisationId ?? null, at];
  personIds.forEach((personId, i) => {
    linkParams.push(personId, fieldLists[i]);
    const p = 5 + 2 * i;
    values.push(
      `($1::bigint, $${p}::uuid, string_to_array($${p + 1}::text, ','), $2::uuid, $3::uuid, $4::timestamptz)`,
    );
  });
  await tx.query(
    `INSERT INTO audit_event_persons (event_id, person_id, fields, account_id, organisation_id, occurred_at)
     VALUES ${values.join(', ')}`,
    linkParams,
  );
}
