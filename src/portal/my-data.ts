/**
 * "My data" (GDPR art. 15, docs/DESIGN.md section 10): the person's record decrypted for them only,
 * in their own transaction (RLS: their row and nothing else), recorded in the audit log as their own
 * access, in the same transaction and before anything is decrypted (fail closed, as the gate).
 * Also the incidents that concern them, each with exactly their own fields exposed.
 */
import { type AuditCtx, appendAudit } from '../audit/append.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import {
  IDENTITY_FIELDS,
  type Identity,
  type PersonStatus,
  type RegistrationPeriod,
} from '../registry/person.ts';
import { openSealedRow, type RegistryKeys, type SealedRow } from '../registry/persons.ts';

/** The person's record as their portal shows it. */
export interface MyData {
  id: string;
  status: PersonStatus;
  identity: Identity;
  registrationPeriods: RegistrationPeriod[];
  /** Who accompanies them: the organisations of their current and past caseloads. */
  caseloads: { organisationName: string; organisationKind: string; since: string; until: string | null }[];
  agencyName: string;
}

/** Reads and decrypts the person's own record, audited as their access. */
export async function myData(
  db: Db,
  keys: RegistryKeys,
  personId: string,
  audit: Omit<AuditCtx, 'actor'>,
): Promise<MyData> {
  const actor = { kind: 'person', personId } as const;
  return db.tx(actor, async (tx) => {
    const [row] = await tx.query<SealedRow & { status: PersonStatus; agency_name: string }>(
      `SELECT p.id, p.status, p.kek_id, p.wrapped_key, p.sealed, o.name AS agency_name
       FROM persons p JOIN organisations o ON o.id = p.agency_organisation_id WHERE p.id = $1`,
      [personId],
    );
    if (!row) throw new AppError('not_found', 'no such record');
    await appendAudit(
      tx,
      { ...audit, actor },
      {
        action: 'portal.my_data',
        purpose: 'data_subject_access',
        query: {},
        decision: 'allow',
        resultCount: 1,
        persons: [{ personId, fields: [...IDENTITY_FIELDS, 'status', 'registrationPeriods'].sort() }],
      },
    );
    const periods = await tx.query<{ started_on: string; ended_on: string | null }>(
      'SELECT started_on, ended_on FROM registration_periods WHERE person_id = $1 ORDER BY started_on',
      [personId],
    );
    const caseloads = await tx.query<{ name: string; kind: string; since: string; until: string | null }>(
      `SELECT o.name, o.kind, c.since, c.until FROM caseloads c JOIN organisations o ON o.id = c.organisation_id
       WHERE c.person_id = $1 ORDER BY c.since DESC`,
      [personId],
    );
    const identity = (await openSealedRow(keys, row, IDENTITY_FIELDS)) as Identity;
    return {
      id: row.id,
      status: row.status,
      identity,
      registrationPeriods: periods.map((p) => ({ startedOn: p.started_on, endedOn: p.ended_on })),
      caseloads: caseloads.map((c) => ({
        organisationName: c.name,
        organisationKind: c.kind,
        since: c.since,
        until: c.until,
      })),
      agencyName: row.agency_name,
    };
  });
}

/** One incident that concerns the person, with exactly their fields exposed. */
export interface MyIncident {
  id: string;
  kind: string;
  detectedAt: string;
  openedAt: string;
  peopleNotifiedAt: string | null;
  /** The fields of theirs that the incident exposed (incident_persons), never more. */
  fields: string[];
}

/** The incidents whose scope holds the person (RLS: their own incident_persons rows only). */
export async function myIncidents(db: Db, personId: string): Promise<MyIncident[]> {
  const rows = await db.read<{
    id: string;
    kind: string;
    detected_at: Date;
    opened_at: Date;
    people_notified_at: Date | null;
    fields: string[];
  }>(
    { kind: 'person', personId },
    `SELECT i.id, i.kind, i.detected_at, i.opened_at, i.people_notified_at, ip.fields
     FROM incident_persons ip JOIN incidents i ON i.id = ip.incident_id
     WHERE ip.person_id = $1 ORDER BY i.detected_at DESC`,
    [personId],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    detectedAt: r.detected_at.toISOString(),
    openedAt: r.opened_at.toISOString(),
    peopleNotifiedAt: r.people_notified_at?.toISOString() ?? null,
    fields: r.fields,
  }));
}
