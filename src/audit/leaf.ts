/**
 * The canonical form of an audit event: the exact bytes whose RFC 6962 leaf hash goes into the
 * Merkle tree (docs/DESIGN.md section 7). It covers the event and every person link with its fields, so
 * changing, adding or removing any of them changes the leaf. The sequencer and `audit verify`
 * both read events with `loadEvents` and hash them with `eventLeafHash`: one definition.
 */
import type { Tx } from '../db/types.ts';
import { leafHash } from './merkle.ts';

/** Version tag of the canonical form; a new form gets a new tag, old leaves keep theirs. */
export const LEAF_FORMAT = 'rempart/audit-event/v1';

export interface EventPerson {
  personId: string;
  /** The fields returned (or changed), by name. */
  fields: string[];
}

/** An audit event as stored, with its person links. */
export interface StoredEvent {
  id: string;
  occurredAt: Date;
  actorKind: 'staff' | 'system';
  accountId: string | null;
  organisationId: string | null;
  role: string | null;
  sessionRef: string | null;
  requestId: string;
  sourceAddress: string | null;
  purpose: string | null;
  action: string;
  query: unknown;
  justification: string | null;
  decision: 'allow' | 'deny';
  reason: string | null;
  resultCount: number;
  persons: EventPerson[];
}

/** JSON with object keys sorted at every depth: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The canonical bytes of an event: a JSON array in a fixed order, persons sorted by id, fields sorted. */
export function canonicalEvent(event: StoredEvent): Buffer {
  const persons = [...event.persons]
    .sort((a, b) => (a.personId < b.personId ? -1 : a.personId > b.personId ? 1 : 0))
    .map((p) => [p.personId, [...p.fields].sort()]);
  return Buffer.from(
    canonicalJson([
      LEAF_FORMAT,
      event.id,
      event.occurredAt.toISOString(),
      event.actorKind,
      event.accountId,
      event.organisationId,
      event.role,
      event.sessionRef,
      event.requestId,
      event.sourceAddress,
      event.purpose,
      event.action,
      event.query,
      event.justification,
      event.decision,
      event.reason,
      event.resultCount,
      persons,
    ]),
    'utf8',
  );
}

/** RFC 6962 leaf hash of an event's canonical form. */
export function eventLeafHash(event: StoredEvent): Buffer {
  return leafHash(canonicalEvent(event));
}

interface EventRow {
  id: string;
  occurred_at: Date;
  actor_kind: 'staff' | 'system';
  account_id: string | null;
  organisation_id: string | null;
  role: string | null;
  session_ref: string | null;
  request_id: string;
  source_address: string | null;
  purpose: string | null;
  action: string;
  query: unknown;
  justification: string | null;
  decision: 'allow' | 'deny';
  reason: string | null;
  result_count: number;
}

interface LinkRow {
  event_id: string;
  person_id: string;
  fields: string[];
  account_id: string | null;
  organisation_id: string | null;
  occurred_at: Date;
}

/**
 * Loads events by id, with their person links, in id order. A link whose repeated account,
 * organisation or time differs from its event is reported in `mismatches` (the scope queries read
 * those columns, so a tampered copy would skew a breach scope without changing the leaf).
 */
export async function loadEvents(
  tx: Tx,
  ids: readonly string[],
): Promise<{ events: StoredEvent[]; mismatches: { eventId: string; personId: string }[] }> {
  if (ids.length === 0) return { events: [], mismatches: [] };
  const rows = await tx.query<EventRow>(
    `SELECT id, occurred_at, actor_kind, account_id, organisation_id, role, session_ref, request_id, source_address,
       purpose, action, query, justification, decision, reason, result_count
     FROM audit_events WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  const links = await tx.query<LinkRow>(
    `SELECT event_id, person_id, fields, account_id, organisation_id, occurred_at
     FROM audit_event_persons WHERE event_id = ANY($1::bigint[])`,
    [ids],
  );
  const byEvent = new Map<string, LinkRow[]>();
  for (const link of links) {
    const list = byEvent.get(link.event_id);
    if (list) list.push(link);
    else byEvent.set(link.event_id, [link]);
  }
  const mismatches: { eventId: string; personId: string }[] = [];
  const events = rows.map((row): StoredEvent => {
    const own = byEvent.get(row.id) ?? [];
    for (const link of own) {
      if (
        link.account_id !== row.account_id ||
        link.organisation_id !== row.organisation_id ||
        link.occurred_at.getTime() !== row.occurred_at.getTime()
      ) {
        mismatches.push({ eventId: row.id, personId: link.person_id });
      }
    }
    return {
      id: row.id,
      occurredAt: row.occurred_at,
      actorKind: row.actor_kind,
      accountId: row.account_id,
      organisationId: row.organisation_id,
      role: row.role,
      sessionRef: row.session_ref,
      requestId: row.request_id,
      sourceAddress: row.source_address,
      purpose: row.purpose,
      action: row.action,
      query: row.query,
      justification: row.justification,
      decision: row.decision,
      reason: row.reason,
      resultCount: row.result_count,
      persons: own.map((l) => ({ personId: l.person_id, fields: l.fields })),
    };
  });
  return { events, mismatches };
}
