/**
 * What the audit log answers without scanning (docs/DESIGN.md section 7, last point): the breach scope
 * ("which persons, which fields, seen by these accounts in this window": T7, and the GDPR
 * article 33/34 notifications of section 9 go to exactly that set) and a person's access history
 * ("who saw me, when, from which organisation and role, for which purpose": section 10). Both are
 * index range scans on audit_event_persons, whose rows repeat their event's account and time for
 * this purpose (migration 0006). Readable by system actors and, under RLS, by security officers and
 * the DPO only; any other actor gets empty answers.
 */

import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { byCodeUnit } from './leaf.ts';

/** At most this many accounts in one scope (an incident names a few compromised accounts). */
export const MAX_SCOPE_ACCOUNTS = 100;
/** At most this many entries in one page of a person's history. */
export const MAX_HISTORY_LIMIT = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One person in a breach scope: the fields the accounts received about them, and when. */
export interface ScopedPerson {
  personId: string;
  /** The union of the fields returned over all the events, distinct, sorted. */
  fields: string[];
  firstAt: Date;
  lastAt: Date;
  /** How many allowed events returned at least one field of this person. */
  events: number;
}

/** What a set of accounts received in a window: the input of an incident's notifications. */
export interface BreachScope {
  accounts: string[];
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  /** Sorted by personId. */
  persons: ScopedPerson[];
  personCount: number;
  /** Allowed events by these accounts in the window (with or without persons). */
  events: number;
  /** For each field, how many persons received it (the "categories and number" of GDPR art. 33(3)(a)). */
  fieldCounts: Record<string, number>;
}

/** The accounts and window of a breach scope. */
export interface ScopeRequest {
  accounts: readonly string[];
  from: Date;
  to: Date;
}

function checkDate(value: Date, field: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new AppError('validation_failed', `${field} must be a valid date-time`, { field });
  }
}

function checkScopeRequest(request: ScopeRequest): string[] {
  const accounts = [...new Set(request.accounts.map((a) => a.toLowerCase()))];
  if (accounts.length === 0) {
    throw new AppError('validation_failed', 'give at least one account', { field: 'accounts' });
  }
  if (accounts.length > MAX_SCOPE_ACCOUNTS) {
    throw new AppError('validation_failed', `at most ${MAX_SCOPE_ACCOUNTS} accounts in one scope`, {
      field: 'accounts',
    });
  }
  for (const account of accounts) {
    if (!UUID.test(account)) {
      throw new AppError('validation_failed', 'every account must be an account id (a UUID)', {
        field: 'accounts',
      });
    }
  }
  checkDate(request.from, 'from');
  checkDate(request.to, 'to');
  if (request.from.getTime() >= request.to.getTime()) {
    throw new AppError('validation_failed', 'from must be before to', { field: 'from' });
  }
  return accounts;
}

/**
 * The scope's person query ($1 accounts, $2 from, $3 to), exported so that `rempart bench scope`
 * EXPLAINs exactly what runs. A range scan of audit_event_persons (account_id, occurred_at) per
 * account, then each link's event by primary key; never a scan of the log (docs/DESIGN.md section 7).
 */
export const SCOPE_PERSONS_SQL = `SELECT l.person_id, array_agg(DISTINCT f.field) AS fields,
    min(l.occurred_at) AS first_at, max(l.occurred_at) AS last_at, count(DISTINCT l.event_id)::int AS events
  FROM audit_event_persons l
  JOIN audit_events e ON e.id = l.event_id
  CROSS JOIN LATERAL unnest(l.fields) AS f (field)
  WHERE l.account_id = ANY($1::uuid[]) AND l.occurred_at >= $2 AND l.occurred_at < $3
    AND e.decision = 'allow' AND e.account_id = l.account_id AND e.occurred_at = l.occurred_at
  GROUP BY l.person_id`;

/**
 * SCOPE_PERSONS_SQL on Citus (docs/SCALING.md): the events stay on the coordinator and the links are
 * distributed by person, and Citus joins them only through an intermediate result (joined directly,
 * its coordinator fails). The accounts' allowed events in the window are selected first, by
 * audit_events (account_id, occurred_at), and sent to the shards, where each link range scan joins
 * them.
 */
export const SCOPE_PERSONS_SQL_CITUS = `WITH e AS MATERIALIZED (
    SELECT id, account_id, occurred_at FROM audit_events
    WHERE account_id = ANY($1::uuid[]) AND occurred_at >= $2 AND occurred_at < $3 AND decision = 'allow')
  SELECT l.person_id, array_agg(DISTINCT f.field) AS fields,
    min(l.occurred_at) AS first_at, max(l.occurred_at) AS last_at, count(DISTINCT l.event_id)::int AS events
  FROM audit_event_persons l
  JOIN e ON e.id = l.event_id AND e.account_id = l.account_id AND e.occurred_at = l.occurred_at
  CROSS JOIN LATERAL unnest(l.fields) AS f (field)
  WHERE l.account_id = ANY($1::uuid[]) AND l.occurred_at >= $2 AND l.occurred_at < $3
  GROUP BY l.person_id`;

/**
 * A person's history query ($1 person, $2 from, $3 to, $4 limit), exported for the same reason: a
 * backward range scan of audit_event_persons (person_id, occurred_at).
 */
export const ACCESS_HISTORY_SQL = `SELECT l.occurred_at AS at, l.event_id::text AS event_id, e.account_id,
    e.organisation_id, o.name AS organisation_name, e.role, e.purpose, e.action, l.fields
  FROM audit_event_persons l
  JOIN audit_events e ON e.id = l.event_id
  LEFT JOIN organisations o ON o.id = e.organisation_id
  WHERE l.person_id = $1 AND l.occurred_at >= $2::timestamptz AND l.occurred_at < $3::timestamptz
    AND e.decision = 'allow'
  ORDER BY l.occurred_at DESC, l.event_id DESC
  LIMIT $4`;

/**
 * ACCESS_HISTORY_SQL on Citus: the person's links in the window first (one shard's range scan), as
 * an intermediate result joined on the coordinator with their events. The organisations' names
 * follow in their own statement (personAccessHistory): Citus 13.2's coordinator fails on the
 * intermediate result, the events and the organisations in one statement under row-level security.
 */
export const ACCESS_HISTORY_SQL_CITUS = `WITH l AS MATERIALIZED (
    SELECT event_id, occurred_at, fields FROM audit_event_persons
    WHERE person_id = $1 AND occurred_at >= $2::timestamptz AND occurred_at < $3::timestamptz)
  SELECT l.occurred_at AS at, l.event_id::text AS event_id, e.account_id,
    e.organisation_id, NULL::text AS organisation_name, e.role, e.purpose, e.action, l.fields
  FROM l
  JOIN audit_events e ON e.id = l.event_id
  WHERE e.decision = 'allow'
  ORDER BY l.occurred_at DESC, l.event_id DESC
  LIMIT $4`;

/** Fills organisation_name from organisations (on Citus, see ACCESS_HISTORY_SQL_CITUS; receipts on every engine). */
export async function nameOrganisations(
  tx: Tx,
  rows: { organisation_id: string | null; organisation_name: string | null }[],
): Promise<void> {
  const ids = [...new Set(rows.map((r) => r.organisation_id).filter((id): id is string => id !== null))];
  if (ids.length === 0) return;
  const names = await tx.query<{ id: string; name: string }>(
    'SELECT id, name FROM organisations WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const byId = new Map(names.map((n) => [n.id, n.name]));
  for (const row of rows)
    row.organisation_name = row.organisation_id ? (byId.get(row.organisation_id) ?? null) : null;
}

/**
 * The exact persons and fields that `accounts` received in [from, to): the union of the fields of
 * every person link of their allowed events. A link whose field list is empty (the person was
 * matched but no field of theirs was returned) is not a disclosure and is left out, by the join on
 * unnest(fields). Only allowed events count: refused events carry no links, and the join on the
 * event's decision says so in the query too. The link's repeated account and time must equal its
 * event's (`rempart audit verify` reports any that do not).
 */
export async function breachScope(tx: Tx, request: ScopeRequest): Promise<BreachScope> {
  const accounts = checkScopeRequest(request);
  const { from, to } = request;
  const rows = await tx.query<{
    person_id: string;
    fields: string[];
    first_at: Date;
    last_at: Date;
    events: number;
  }>(tx.distributed ? SCOPE_PERSONS_SQL_CITUS : SCOPE_PERSONS_SQL, [accounts, from, to]);
  const [counted] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_events
     WHERE account_id = ANY($1::uuid[]) AND occurred_at >= $2 AND occurred_at < $3 AND decision = 'allow'`,
    [accounts, from, to],
  );
  const persons = rows
    .map(
      (row): ScopedPerson => ({
        personId: row.person_id,
        fields: [...row.fields].sort(byCodeUnit),
        firstAt: row.first_at,
        lastAt: row.last_at,
        events: row.events,
      }),
    )
    .sort((a, b) => byCodeUnit(a.personId, b.personId));
  const counts = new Map<string, number>();
  for (const person of persons)
    for (const field of person.fields) counts.set(field, (counts.get(field) ?? 0) + 1);
  const fieldCounts = Object.fromEntries([...counts].sort(([a], [b]) => byCodeUnit(a, b)));
  return {
    accounts,
    from,
    to,
    persons,
    personCount: persons.length,
    events: counted?.n ?? 0,
    fieldCounts,
  };
}

/** One access to a person's record, as their portal and the security officers see it. */
export interface AccessEntry {
  at: Date;
  eventId: string;
  /** Null for an operator's command (system actor), such as an import. */
  accountId: string | null;
  organisationId: string | null;
  organisationName: string | null;
  role: string | null;
  purpose: string | null;
  action: string;
  /** The fields returned or changed; empty when the record was matched but nothing of it returned. */
  fields: string[];
}

/** The window and page size of a history. */
export interface HistoryOptions {
  /** Inclusive; default: the beginning. */
  from?: Date;
  /** Exclusive; default: no end. */
  to?: Date;
  /** Default 200, at most MAX_HISTORY_LIMIT. */
  limit?: number;
}

/**
 * Who accessed a person's record, newest first (docs/DESIGN.md section 10): a backward range scan of
 * audit_event_persons (person_id, occurred_at), each link with its allowed event and the
 * organisation's name.
 */
export async function personAccessHistory(
  tx: Tx,
  personId: string,
  options: HistoryOptions = {},
): Promise<AccessEntry[]> {
  if (!UUID.test(personId)) {
    throw new AppError('validation_failed', 'personId must be a person id (a UUID)', { field: 'personId' });
  }
  const limit = options.limit ?? 200;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    throw new AppError('validation_failed', `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`, {
      field: 'limit',
    });
  }
  if (options.from !== undefined) checkDate(options.from, 'from');
  if (options.to !== undefined) checkDate(options.to, 'to');
  const rows = await tx.query<{
    at: Date;
    event_id: string;
    account_id: string | null;
    organisation_id: string | null;
    organisation_name: string | null;
    role: string | null;
    purpose: string | null;
    action: string;
    fields: string[];
  }>(tx.distributed ? ACCESS_HISTORY_SQL_CITUS : ACCESS_HISTORY_SQL, [
    personId.toLowerCase(),
    options.from ?? '-infinity',
    options.to ?? 'infinity',
    limit,
  ]);
  if (tx.distributed) await nameOrganisations(tx, rows);
  return rows.map((row) => ({
    at: row.at,
    eventId: row.event_id,
    accountId: row.account_id,
    organisationId: row.organisation_id,
    organisationName: row.organisation_name,
    role: row.role,
    purpose: row.purpose,
    action: row.action,
    fields: [...row.fields].sort(byCodeUnit),
  }));
}
