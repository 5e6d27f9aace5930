/**
 * What the drill knows about the registry before an attack, as the operator of the throwaway server
 * (setup knowledge, never an attack): for a staff member's organisation, the ids of the persons it
 * may reach (its current caseload; for an agency, its registered persons too: the yardstick of
 * "outside caseload"), and the identities of a few persons inside it and of persons outside it —
 * those are what an attacker holds from an earlier leak (T2: the 2023 leak put NIRs, names and
 * birth dates in circulation). For the guard's scenarios it also notes a larger leaked file (T2,
 * T2b, ENUM-*: hundreds of identities inside and outside the reach, in the file's order), the
 * owner's worklist (the persons an honest owner of that organisation works on), the canary persons
 * the organisation reaches (CANARY: the operator knows which persons are canaries), and the partner
 * organisations a manager could widen a caseload to (T8). It reads them with the keyring of the
 * throwaway data folder, before `rempart serve` starts (PGlite is one process).
 * The attacks use only the HTTP API; they are given these identities the way an attacker has them.
 */
import { createHash } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import type { Tx } from '../src/db/types.ts';
import type { Identity } from '../src/registry/person.ts';
import { openSealedRow, type RegistryKeys, type SealedRow } from '../src/registry/persons.ts';

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

/** A person an honest owner of the organisation works on: the id (views) and the agency id (searches). */
export interface WorklistPerson {
  id: string;
  agencyId: string;
}

/** A partner organisation (T8: where a manager's stolen session would widen a caseload to). */
export interface PartnerOrganisation {
  id: string;
  code: string;
  kind: string;
}

/** What the drill knows about one organisation's reach. */
export interface CaseloadNotes {
  /** The organisation's code (`CE-75`). */
  organisation: string;
  /** Its id (what `GET /api/v1/me` shows its staff). */
  organisationId: string;
  /** Its kind (`agency`, `cap_emploi`, …). */
  kind: string;
  /**
   * Ids of the persons it may reach: its current caseload (until null or not yet past) and, for an
   * agency, the persons registered with it (a counselor's everyday scope, src/access/policy.ts).
   */
  caseload: ReadonlySet<string>;
  /** A few persons inside the caseload (to show the stolen session works). */
  inside: LeakedPerson[];
  /** Persons outside it, of every kind that could slip through a scope: the attack's targets. */
  outside: LeakedPerson[];
  /**
   * The earlier leak as the attacker holds it: up to FILE.inside persons the organisation reaches and
   * FILE.outside persons it does not (kind `elsewhere`), mixed in the file's order (fixed by the
   * ids). Canary persons are left out: T2 and T2b measure the volume signals (a canary in the file
   * would end them at once); CANARY is the canary's scenario.
   */
  file: LeakedPerson[];
  /** Up to FILE.worklist registered persons it reaches, canaries excepted: an honest owner's worklist. */
  worklist: WorklistPerson[];
  /** Canary persons it reaches (an agency: canaries registered with it); empty for a partner. */
  canaries: LeakedPerson[];
  /**
   * A few canary persons it does not reach (kind `elsewhere`): what a leaked file taken from the
   * registry would hold if the organisation reaches none (canaries are planted at random: a small
   * agency may hold none).
   */
  canariesElsewhere: LeakedPerson[];
  /** Partner organisations (Cap emploi, missions locales, training bodies) by code. */
  partners: PartnerOrganisation[];
  /**
   * How the persons it reaches are written to (T7: a notice delivered is matched to its person by
   * where it went): by email address (lower case), by the letter's address block (`Prénoms Nom`,
   * street line, `postcode city`, one per line) and by phone number, each to the person id.
   */
  contacts: PersonContacts;
}

/** Person ids by where their mail goes (CaseloadNotes.contacts). */
export interface PersonContacts {
  email: ReadonlyMap<string, string>;
  letter: ReadonlyMap<string, string>;
  phone: ReadonlyMap<string, string>;
}

const CONTACT_FIELDS = ['email', 'phone', 'address', 'firstNames', 'lastName'] as const;

/** The contacts of persons by id, a thousand rows a query. */
async function contactsOf(tx: Tx, keys: RegistryKeys, ids: readonly string[]): Promise<PersonContacts> {
  const contacts = {
    email: new Map<string, string>(),
    letter: new Map<string, string>(),
    phone: new Map<string, string>(),
  };
  for (const part of chunk(ids, 1000)) {
    const rows = await tx.query<SealedRow>(
      'SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE id = ANY($1::uuid[])',
      [part],
    );
    for (const row of rows) {
      const who = await openSealedRow(keys, row, CONTACT_FIELDS);
      if (who.email) contacts.email.set(who.email.toLowerCase(), row.id);
      if (who.phone) contacts.phone.set(who.phone, row.id);
      if (who.address) {
        const block = [
          `${who.firstNames} ${who.lastName}`,
          who.address.line,
          `${who.address.postalCode} ${who.address.city}`,
        ];
        contacts.letter.set(block.join('\n'), row.id);
      }
    }
  }
  return contacts;
}

/** Sizes of the leaked file and of the worklist noted for each organisation. */
export const FILE = { inside: 300, outside: 300, worklist: 150 } as const;

const FIELDS = ['agencyId', 'nir', 'lastName', 'birthName', 'firstNames', 'birthDate'] as const;

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/** Opens the leaked fields of persons by id, a thousand rows a query, in the order given. */
async function openPersons(
  tx: Tx,
  keys: RegistryKeys,
  persons: readonly { id: string; kind: LeakedPerson['kind'] }[],
): Promise<LeakedPerson[]> {
  const opened = new Map<string, Pick<Identity, (typeof FIELDS)[number]>>();
  for (const part of chunk(persons, 1000)) {
    const rows = await tx.query<SealedRow>(
      'SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE id = ANY($1::uuid[])',
      [part.map((p) => p.id)],
    );
    for (const row of rows) {
      opened.set(row.id, (await openSealedRow(keys, row, FIELDS)) as Pick<Identity, (typeof FIELDS)[number]>);
    }
  }
  return persons.flatMap(({ id, kind }) => {
    const identity = opened.get(id);
    return identity ? [{ id, kind, ...identity }] : [];
  });
}

/**
 * Notes the caseload of each organisation (by code) with `inside` persons in it and `outside`
 * persons outside it, spread over the kinds of outsider (former caseload of the organisation, an
 * other partner's caseload, the organisation's department's agency, nobody's caseload, anyone else),
 * and the leaked file, worklist, canaries and partner organisations (CaseloadNotes).
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
      const [canaryTable] = await tx.query<{ present: boolean }>(
        `SELECT to_regclass('guard_canaries') IS NOT NULL AS present`,
      );
      const canaryIds = new Set(
        canaryTable?.present
          ? (await tx.query<{ id: string }>('SELECT person_id AS id FROM guard_canaries')).map((r) => r.id)
          : [],
      );
      const partners = await tx.query<PartnerOrganisation>(
        `SELECT id, code, kind FROM organisations
         WHERE kind IN ('cap_emploi', 'mission_locale', 'training_body') ORDER BY code`,
      );
      for (const code of new Set(organisations)) {
        const [org] = await tx.query<{ id: string; department: string | null; kind: string }>(
          'SELECT id, department, kind FROM organisations WHERE code = $1',
          [code],
        );
        if (!org) throw new Error(`the drill's registry has no organisation ${code}`);
        const current = `(c.until IS NULL OR c.until >= current_date)`;
        // An agency reaches the persons registered with it as well as its caseload (policy: scope 'agency').
        const reaches = `(EXISTS (SELECT 1 FROM caseloads c WHERE c.person_id = p.id AND c.organisation_id = $1 AND ${current})
          ${org.kind === 'agency' ? 'OR p.agency_organisation_id = $1' : ''})`;
        const reach = await tx.query<{ id: string; status: string }>(
          `SELECT p.id, p.status FROM persons p WHERE ${reaches} ORDER BY p.id`,
          [org.id],
        );
        const inCaseload = new Set(reach.map((r) => r.id));
        // Outsiders by kind, each list in id order (deterministic for a database, varied across runs).
        const notIn = `NOT ${reaches}`;
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
        const inside = await openPersons(
          tx,
          keys.registry,
          [...inCaseload].slice(0, counts.inside).map((id) => ({ id, kind: 'inside' as const })),
        );
        const outside = await openPersons(
          tx,
          keys.registry,
          [...chosen].map(([id, kind]) => ({ id, kind })),
        );

        // The leaked file: persons inside and outside the reach, canaries left out. Each part is
        // chosen by md5 of the id (neither the ids' order nor the registry's); the file is then
        // ordered by an other hash (md5 of 'file:' + id), so that insiders and outsiders are
        // interleaved (sorting by the hash that chose them put every outsider first: they are
        // the smallest hashes of a much larger pool).
        const fileInside = await tx.query<{ id: string }>(
          `SELECT p.id FROM persons p WHERE ${reaches} AND NOT (p.id = ANY($2::uuid[]))
           ORDER BY md5(p.id::text) LIMIT ${FILE.inside}`,
          [org.id, [...canaryIds]],
        );
        const fileOutside = await tx.query<{ id: string }>(
          `SELECT p.id FROM persons p WHERE ${notIn} AND NOT (p.id = ANY($2::uuid[]))
           ORDER BY md5(p.id::text) LIMIT ${FILE.outside}`,
          [org.id, [...canaryIds]],
        );
        const mixed = mixFile(
          fileInside.map((r) => r.id),
          fileOutside.map((r) => r.id),
        );
        const file = await openPersons(tx, keys.registry, mixed);

        // The worklist: registered persons it reaches, canaries excepted (no honest work reaches one).
        const registered = reach.filter((r) => r.status === 'registered' && !canaryIds.has(r.id));
        const worklistIds = registered
          .map((r) => r.id)
          .sort((a, b) => fileOrder(`w${a}`).localeCompare(fileOrder(`w${b}`)))
          .slice(0, FILE.worklist);
        const worklist = (
          await openPersons(
            tx,
            keys.registry,
            worklistIds.map((id) => ({ id, kind: 'inside' as const })),
          )
        ).map((p) => ({ id: p.id, agencyId: p.agencyId }));
        const canaries = await openPersons(
          tx,
          keys.registry,
          [...canaryIds].filter((id) => inCaseload.has(id)).map((id) => ({ id, kind: 'inside' as const })),
        );
        const canariesElsewhere = await openPersons(
          tx,
          keys.registry,
          [...canaryIds]
            .filter((id) => !inCaseload.has(id))
            .sort((a, b) => fileOrder(a).localeCompare(fileOrder(b)))
            .slice(0, 5)
            .map((id) => ({ id, kind: 'elsewhere' as const })),
        );
        notes.set(code, {
          organisation: code,
          organisationId: org.id,
          kind: org.kind,
          caseload: inCaseload,
          inside,
          outside,
          file,
          worklist,
          canaries,
          canariesElsewhere,
          partners,
          contacts: await contactsOf(tx, keys.registry, [...inCaseload]),
        });
      }
    });
  } finally {
    await db.close();
  }
  return notes;
}

/**
 * The leaked file's order: insiders (kind `inside`) and outsiders (kind `elsewhere`) interleaved by
 * md5 of 'file:' + id, a hash other than the one that chose them (deterministic by the ids).
 */
export function mixFile(
  inside: readonly string[],
  outside: readonly string[],
): { id: string; kind: 'inside' | 'elsewhere' }[] {
  return [
    ...inside.map((id) => ({ id, kind: 'inside' as const })),
    ...outside.map((id) => ({ id, kind: 'elsewhere' as const })),
  ].sort((a, b) => fileOrder(`file:${a.id}`).localeCompare(fileOrder(`file:${b.id}`)));
}

/** A stable order for a list of ids that is neither theirs nor the registry's. */
function fileOrder(id: string): string {
  return createHash('md5').update(id).digest('hex');
}
