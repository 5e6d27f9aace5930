/**
 * Reading audit events for their leaves (src/audit/leaf.ts): the event rows, their person links and
 * their salts, as the sequencer, `audit verify` and the portal's history hash them.
 */
import type { Tx } from '../db/types.ts';
import type { StoredEvent } from './leaf.ts';

interface EventRow {
  id: string;
  occurred_at: Date;
  actor_kind: 'staff' | 'system' | 'person';
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
  salt: Uint8Array | null;
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
 * Loads events by id, with their person links and salts, in id order (salts are readable by the
 * system actor and the sequencer only: migration 0021). A link whose repeated account,
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
       purpose, action, query, justification, decision, reason, result_count, s.salt
     FROM audit_events LEFT JOIN audit_event_salts s ON s.event_id = audit_events.id
     WHERE id = ANY($1::bigint[]) ORDER BY id`,
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
      salt: row.salt === null ? null : Buffer.from(row.salt),
    };
  });
  return { events, mismatches };
}
