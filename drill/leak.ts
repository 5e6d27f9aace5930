/**
 * What the drill knows about the registry before an attack, as the operator of the throwaway server
 * (setup knowledge, never an attack): for a staff member's organisation, the ids of the persons in
 * its current caseload (the yardstick of "outside caseload"), and the identities of a few persons
 * inside it and of persons outside it — those are what an attacker holds from an earlier leak
 * (T2: the 2023 leak put NIRs, names and birth dates in circulation). It reads them with the
 * keyring of the throwaway data folder, before `rempart serve` starts (PGlite is one process).
 * The attacks use only the HTTP API; they are given these identities the way an attacker has them.
 */
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import type { Identity } from '../src/registry/person.ts';
import { openIdentity } from '../src/registry/persons.ts';

/** A person as the attacker knows them from the leak: the identifiers the API searches by, and the id. */
export interface LeakedPerson {
  id: string;
  agencyId: string;
  nir: string;
  lastName: string;
  birthName: string | null;
  firstNames: string;
  birthDate: string;
  /** Why this person is outside (or inside) the caseload: the kind of case it tests. */
  kind: 'inside' | 'former caseload' | 'other partner' | 'same agency' | 'no caseload' | 'elsewhere';
}

/** What the drill knows about one organisation's reach. */
export interface CaseloadNotes {
  /** The organisation's code (`CE-75`). */
  organisation: string;
  /** Ids of the persons in its current caseload (until null or not yet past): what it may reach. */
  caseload: ReadonlySet<string>;
  /** A few persons inside the caseload (to show the stolen session works). */
  inside: LeakedPerson[];
  /** Persons outside it, of every kind that could slip through a scope: the attack's targets. */
  outside: LeakedPerson[];
}

const FIELDS = ['agencyId', 'nir', 'lastName', 'birthName', 'firstNames', 'birthDate'] as const;

/**
 * Notes the caseload of each organisation (by code) with `inside` persons in it and `outside`
 * persons outside it, spread over the kinds of outsider (former caseload of the organisation, an
 * other partner's caseload, the organisation's department's agency, nobody's caseload, anyone else).
 * `env` is the environment the drill's `rempart` commands get (data folder, DATABASE_URL).
 */
export async function noteCaseloads(
  env: NodeJS.ProcessEnv,
  organisations: readonly string[],
  counts: { inside: number; outside: number },
): Promise<Map<string, CaseloadNotes>> {
  const config = loadConfig(env);
  const keys = await openKeys(config);
  const db = await openDb(config);
  const notes = new Map<string, CaseloadNotes>();
  try {
    await db.tx(systemCtx('drill-setup').actor, async (tx) => {
      for (const code of new Set(organisations)) {
        const [org] = await tx.query<{ id: string; department: string | null }>(
          'SELECT id, department FROM organisations WHERE code = $1',
          [code],
        );
        if (!org) throw new Error(`the drill's registry has no organisation ${code}`);
        const current = `(c.until IS NULL OR c.until >= current_date)`;
        const caseload = await tx.query<{ id: string }>(
          `SELECT c.person_id AS id FROM caseloads c WHERE c.organisation_id = $1 AND ${current} ORDER BY c.person_id`,
          [org.id],
        );
        const inCaseload = new Set(caseload.map((r) => r.id));
        // Outsiders by kind, each list in id order (deterministic for a database, varied across runs).
        const notIn = `NOT EXISTS (SELECT 1 FROM caseloads c WHERE c.person_id = p.id AND c.organisation_id = $1 AND ${current})`;
        const kinds: { kind: LeakedPerson['kind']; sql: string; params: unknown[] }[] = [
          {
            kind: 'former caseload',
            sql: `SELECT p.id FROM persons p WHERE ${notIn} AND EXISTS (SELECT 1 FROM caseloads c
                    WHERE c.person_id = p.id AND c.organisation_id = $1 AND c.until < current_date)`,
            params: [org.id],
          },
          {
            kind: 'other partner',
            sql: `SELECT p.id FROM persons p WHERE ${notIn} AND EXISTS (SELECT 1 FROM caseloads c
                    JOIN organisations o ON o.id = c.organisation_id
                    WHERE c.person_id = p.id AND c.organisation_id <> $1 AND ${current}
                      AND o.kind IN ('cap_emploi', 'mission_locale', 'training_body'))`,
            params: [org.id],
          },
          {
            kind: 'same agency',
            sql: `SELECT p.id FROM persons p JOIN organisations a ON a.id = p.agency_organisation_id
                  WHERE ${notIn} AND a.department = $2`,
            params: [org.id, org.department ?? ''],
          },
          {
            kind: 'no caseload',
            sql: `SELECT p.id FROM persons p WHERE ${notIn}
                  AND NOT EXISTS (SELECT 1 FROM caseloads c WHERE c.person_id = p.id)`,
            params: [org.id],
          },
          { kind: 'elsewhere', sql: `SELECT p.id FROM persons p WHERE ${notIn}`, params: [org.id] },
        ];
        const pools: { kind: LeakedPerson['kind']; ids: string[] }[] = [];
        for (const { kind, sql, params } of kinds) {
          const rows = await tx.query<{ id: string }>(
            `${sql} ORDER BY p.id LIMIT ${Math.trunc(counts.outside)}`,
            params,
          );
          pools.push({ kind, ids: rows.map((r) => r.id) });
        }
        const chosen = new Map<string, LeakedPerson['kind']>();
        // Round-robin over the kinds until `outside` persons are chosen.
        for (let i = 0; chosen.size < counts.outside && pools.some((p) => i < p.ids.length); i += 1) {
          for (const pool of pools) {
            const id = pool.ids[i];
            if (id !== undefined && !chosen.has(id) && chosen.size < counts.outside)
              chosen.set(id, pool.kind);
          }
        }
        const open = async (id: string, kind: LeakedPerson['kind']): Promise<LeakedPerson> => {
          const identity = (await openIdentity(tx, keys.registry, id, FIELDS)) as Pick<
            Identity,
            (typeof FIELDS)[number]
          >;
          return { id, kind, ...identity };
        };
        const inside: LeakedPerson[] = [];
        for (const id of [...inCaseload].slice(0, counts.inside)) inside.push(await open(id, 'inside'));
        const outside: LeakedPerson[] = [];
        for (const [id, kind] of chosen) outside.push(await open(id, kind));
        notes.set(code, { organisation: code, caseload: inCaseload, inside, outside });
      }
    });
  } finally {
    await db.close();
  }
  return notes;
}
