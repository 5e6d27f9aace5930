/**
 * Declaring an incident (docs/INCIDENTS.md), besides the review queue's (guard/review.ts): a security
 * officer names compromised accounts and a window (the scope comes from the audit log, T7), or hands
 * in a leaked file whose rows are matched to persons through the blind indexes. Either way the
 * incident opens in one transaction with its persons, fields and counts (categories.ts), or not at
 * all: a bad input is refused before anything is written.
 */
import { sessionRef } from '../access/gate.ts';
import { type AuditEntry, appendAudit } from '../audit/append.ts';
import { type BreachScope, breachScope, type ScopedPerson } from '../audit/scope.ts';
import type { Actor } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError, ValidationError } from '../errors.ts';
import { checkNote } from '../guard/review.ts';
import type { IdentityField } from '../registry/person.ts';
import { findPersonIds, type RegistryKeys } from '../registry/persons.ts';
import { INCIDENT_FIELD, openIncident } from './incidents.ts';
import { readLeakFile } from './leaked-file.ts';

/** Only security officers declare incidents (the DPO notifies; docs/INCIDENTS.md, "Roles"). */
export const INCIDENT_DECLARERS: readonly string[] = ['security_officer'];

/** Who declares, from where: a security officer's account (a CLI run has no session). */
export interface Declarer {
  accountId: string;
  organisationId: string;
  role: string;
  sessionIdHash: Buffer | null;
  requestId: string;
  sourceAddress: string | null;
}

/** What every declaration gives: the breach's window, when it was detected, and why. */
export interface Declaration {
  /** Start of the breach, inclusive. */
  from: Date;
  /** End of the breach, exclusive. */
  to: Date;
  /** When the breach was detected (the 72-hour clock starts); default now. */
  detectedAt?: Date;
  note: string;
}

/** What a declaration opened. */
export interface Declared {
  incidentId: string;
  kind: 'accounts_window' | 'leaked_file';
  personCount: number;
  fieldCounts: Record<string, number>;
}

/** What a leaked file's declaration opened, with the rows that matched no one (by line number only). */
export interface DeclaredFromFile extends Declared {
  rows: number;
  matchedRows: number;
  unmatchedLines: number[];
  /** Rows whose name and birth date match several persons: left out, to be checked by hand. */
  ambiguousLines: number[];
  columns: IdentityField[];
  ignoredColumns: number;
}

const SYSTEM: Actor = { kind: 'system', operation: 'incidents' };

/**
 * Appends an event of the declaring officer, in the officer's own transaction (a staff transaction
 * writes events in its own name only, migration 0006), with the officer's session and request.
 */
export async function appendDeclarerEvent(
  db: Db,
  declarer: Declarer,
  at: Date,
  entry: AuditEntry,
): Promise<void> {
  const staff = {
    kind: 'staff' as const,
    accountId: declarer.accountId,
    organisationId: declarer.organisationId,
    role: declarer.role,
  };
  await db.tx(staff, (tx) =>
    appendAudit(
      tx,
      {
        actor: staff,
        sessionRef: declarer.sessionIdHash ? sessionRef(declarer.sessionIdHash) : null,
        requestId: declarer.requestId,
        sourceAddress: declarer.sourceAddress,
        at,
      },
      entry,
    ),
  );
}

function checkDeclarer(declarer: Declarer): void {
  if (!INCIDENT_DECLARERS.includes(declarer.role)) {
    throw new AppError('forbidden', 'only security officers declare incidents');
  }
}

function checkDeclaration(d: Declaration, now: Date): { detectedAt: Date; note: string } {
  for (const [field, value] of [
    ['from', d.from],
    ['to', d.to],
    ['detectedAt', d.detectedAt ?? now],
  ] as const) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime()))
      throw new ValidationError([{ field, message: 'must be a valid date-time' }]);
  }
  if (d.from.getTime() >= d.to.getTime())
    throw new ValidationError([{ field: 'from', message: 'must be before to' }]);
  const detectedAt = d.detectedAt ?? now;
  if (detectedAt.getTime() > now.getTime())
    throw new ValidationError([{ field: 'detectedAt', message: 'must not be in the future' }]);
  return { detectedAt, note: checkNote(d.note) };
}

/**
 * Declares an incident from accounts and a window: the scope is the audit log's (audit/scope.ts),
 * computed and stored in one transaction with a system audit event of the read ('audit.scope', the
 * query's shape, the declaring officer and the incident).
 */
export async function declareFromAccounts(
  db: Db,
  keys: RegistryKeys,
  declarer: Declarer,
  d: Declaration & { accounts: readonly string[] },
  now: Date,
): Promise<Declared> {
  checkDeclarer(declarer);
  const { detectedAt, note } = checkDeclaration(d, now);
  return db.tx(SYSTEM, async (tx) => {
    const scope = await breachScope(tx, { accounts: d.accounts, from: d.from, to: d.to });
    const incidentId = await openIncident(tx, {
      openedAt: now,
      detectedAt,
      openedBy: declarer.accountId,
      kind: 'accounts_window',
      scope,
      note,
      keys,
      requestId: declarer.requestId,
    });
    await appendAudit(
      tx,
      {
        actor: SYSTEM,
        sessionRef: null,
        requestId: declarer.requestId,
        sourceAddress: declarer.sourceAddress,
        at: now,
      },
      {
        action: 'audit.scope',
        purpose: 'incident_investigation',
        query: {
          accounts: scope.accounts.length,
          from: d.from,
          to: d.to,
          incidentId,
          declaredByAccountId: declarer.accountId,
        },
        decision: 'allow',
        resultCount: scope.personCount,
        persons: [],
      },
    );
    return {
      incidentId,
      kind: 'accounts_window',
      personCount: scope.personCount,
      fieldCounts: scope.fieldCounts,
    };
  });
}

/**
 * Declares an incident from a leaked file (leaked-file.ts). The whole file is checked first (bad
 * rows: refused, by line); each row is matched through the blind indexes by the system actor; the
 * match is then an audit event of the declaring officer (action 'incident.match', one link per
 * matched person with the field `incident`: the officer learns that these persons are on file),
 * committed before the incident opens (fail closed, like every read of the registry). A person's
 * fields are the identity fields non-empty in their rows.
 */
export async function declareFromFile(
  db: Db,
  keys: RegistryKeys,
  declarer: Declarer,
  d: Declaration & { csv: string },
  now: Date,
): Promise<DeclaredFromFile> {
  checkDeclarer(declarer);
  const { detectedAt, note } = checkDeclaration(d, now);
  const file = readLeakFile(d.csv);
  const fieldsOf = new Map<string, Set<IdentityField>>();
  const unmatchedLines: number[] = [];
  const ambiguousLines: number[] = [];
  let matchedRows = 0;
  await db.tx(SYSTEM, async (tx) => {
    for (const row of file.rows) {
      const ids = await findPersonIds(tx, keys, row.query, 2);
      if (ids.length === 0) unmatchedLines.push(row.line);
      else if (ids.length > 1) ambiguousLines.push(row.line);
      else {
        matchedRows++;
        const set = fieldsOf.get(ids[0]!) ?? new Set();
        for (const f of row.fields) set.add(f);
        fieldsOf.set(ids[0]!, set);
      }
    }
  });
  const personIds = [...fieldsOf.keys()].sort();
  await appendDeclarerEvent(db, declarer, now, {
    action: 'incident.match',
    purpose: 'incident_investigation',
    query: { by: file.key, rows: file.rows.length, matched: personIds.length },
    decision: 'allow',
    resultCount: personIds.length,
    persons: personIds.map((personId) => ({ personId, fields: [INCIDENT_FIELD] })),
  });
  if (personIds.length === 0) {
    throw new ValidationError([
      { field: 'csv', message: 'no row matches a person on file; no incident was opened' },
    ]);
  }
  const persons: ScopedPerson[] = personIds.map((personId) => ({
    personId,
    fields: [...fieldsOf.get(personId)!].sort(),
    firstAt: d.from,
    lastAt: d.to,
    events: 0,
  }));
  const fieldCounts: Record<string, number> = {};
  for (const p of persons) for (const f of p.fields) fieldCounts[f] = (fieldCounts[f] ?? 0) + 1;
  const scope: BreachScope = {
    accounts: [],
    from: d.from,
    to: d.to,
    persons,
    personCount: persons.length,
    events: 0,
    fieldCounts: Object.fromEntries(Object.entries(fieldCounts).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  const incidentId = await db.tx(SYSTEM, (tx) =>
    openIncident(tx, {
      openedAt: now,
      detectedAt,
      openedBy: declarer.accountId,
      kind: 'leaked_file',
      scope,
      note,
      keys,
      requestId: declarer.requestId,
    }),
  );
  return {
    incidentId,
    kind: 'leaked_file',
    personCount: scope.personCount,
    fieldCounts: scope.fieldCounts,
    rows: file.rows.length,
    matchedRows,
    unmatchedLines,
    ambiguousLines,
    columns: file.columns,
    ignoredColumns: file.ignoredColumns,
  };
}
