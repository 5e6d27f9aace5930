/**
 * The honest month's cast and what each owner works on, as the operator notes it before the server
 * starts (like drill/leak.ts: setup knowledge read with the throwaway keyring, never an attack):
 * mostly agency counselors, spread over the agencies by how many registered persons each holds,
 * and partner counselors over the Cap emploi, missions locales and training bodies by the size of
 * their open caseloads. Each has a worklist — counselors 60–150 registered persons of their agency,
 * partners 30–100 of their organisation's caseload — with the agency ids they search by, and
 * counselors a few identities (last name, first names, birth date) of persons registered at other
 * agencies, for the occasional national search. Canary persons (guard_canaries, when the table
 * exists) are in no worklist: no honest workflow reaches them. The same seed gives the same plan.
 */
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import type { Tx } from '../src/db/types.ts';
import type { Identity, IdentityField } from '../src/registry/person.ts';
import { openSealedRow, type RegistryKeys, type SealedRow } from '../src/registry/persons.ts';
import { Random } from './random.ts';
import type { Workstation, Workstations } from './workstations.ts';

/** Share of honest accounts at agencies (the rest at partners, if the population has any). */
export const COUNSELOR_SHARE = 0.8;
/** Worklist sizes and personal daily means (distinct persons a day), by role. */
export const WORK = {
  counselor: { worklist: [60, 150], dailyMean: [10, 25] },
  partner_counselor: { worklist: [30, 100], dailyMean: [6, 15] },
} as const;
/** A partner organisation hosts honest accounts only with at least this many persons in its open caseload. */
const MIN_PARTNER_CASELOAD = 10;
/** Identities at other agencies a counselor may look up nationally. */
const ELSEWHERE = [4, 8] as const;

/** A person on a worklist: the id (views) and the agency id (searches). */
export interface WorkItem {
  id: string;
  agencyId: string;
}

/** Someone registered elsewhere, as a counselor would have them on a letter or a phone call. */
export interface ElsewhereIdentity {
  lastName: string;
  firstNames: string;
  birthDate: string;
}

/** One honest account as planned before the server starts. */
export interface HonestAccountPlan {
  /** 0-based, stable for a seed: names the account's random draws. */
  index: number;
  login: string;
  role: 'counselor' | 'partner_counselor';
  /** Organisation code. */
  organisation: string;
  workstation: Workstation;
  worklist: WorkItem[];
  /** Counselors only (empty for partners). */
  elsewhere: ElsewhereIdentity[];
  /** The owner's usual number of distinct persons a working day. */
  dailyMean: number;
}

/** What the notes found, in figures (no personal data). */
export interface HonestPlan {
  accounts: HonestAccountPlan[];
  /** `FT-75056 ×80, CE-75 ×12, …` and pool sizes, for a progress line. */
  summary: string;
  canariesExcluded: boolean;
}

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/** Opens the given fields of persons by id, a thousand rows a query. */
async function openFields<F extends IdentityField>(
  tx: Tx,
  keys: RegistryKeys,
  ids: readonly string[],
  fields: readonly F[],
): Promise<Map<string, Pick<Identity, F>>> {
  const opened = new Map<string, Pick<Identity, F>>();
  for (const part of chunk(ids, 1000)) {
    const rows = await tx.query<SealedRow>(
      'SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE id = ANY($1::uuid[])',
      [part],
    );
    for (const row of rows) opened.set(row.id, (await openSealedRow(keys, row, fields)) as Pick<Identity, F>);
  }
  return opened;
}

/** Counts of `items` by key, as `a ×3, b ×2`, most first. */
function spread(keys: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, n]) => `${key} ×${n}`)
    .join(', ');
}

/**
 * Plans `accounts` honest accounts on the drill's registry (read through `env`: the data folder and
 * DATABASE_URL of the drill's `rempart` commands). `loginPrefix` makes the logins unique per run.
 */
export async function planHonestWork(
  env: NodeJS.ProcessEnv,
  options: { accounts: number; seed: number; loginPrefix: string; workstations: Workstations },
): Promise<HonestPlan> {
  const random = new Random(options.seed);
  const config = loadConfig(env);
  const keys = await openKeys(config);
  const db = await openDb(config);
  try {
    return await db.tx(systemCtx('drill-setup').actor, async (tx) => {
      const [canaryTable] = await tx.query<{ present: boolean }>(
        `SELECT to_regclass('guard_canaries') IS NOT NULL AS present`,
      );
      const canariesExcluded = canaryTable?.present === true;
      const notCanary = canariesExcluded ? 'AND p.id NOT IN (SELECT person_id FROM guard_canaries)' : '';
      const organisations = await tx.query<{ id: string; code: string; kind: string }>(
        'SELECT id, code, kind FROM organisations ORDER BY code',
      );
      const codeOf = new Map(organisations.map((o) => [o.id, o.code]));
      const pool = async (sql: string): Promise<Map<string, string[]>> => {
        const byOrganisation = new Map<string, string[]>();
        for (const row of await tx.query<{ id: string; organisation: string }>(sql)) {
          const list = byOrganisation.get(row.organisation) ?? [];
          list.push(row.id);
          byOrganisation.set(row.organisation, list);
        }
        return byOrganisation;
      };
      // Counselors work on the registered persons of their agency.
      const agencies = await pool(
        `SELECT p.id, p.agency_organisation_id AS organisation FROM persons p
         JOIN organisations o ON o.id = p.agency_organisation_id
         WHERE o.kind = 'agency' AND p.status = 'registered' ${notCanary} ORDER BY p.id`,
      );
      // Partners work on their open caseload (no end date: the accompaniment is ongoing).
      const partners = await pool(
        `SELECT c.person_id AS id, c.organisation_id AS organisation FROM caseloads c
         JOIN organisations o ON o.id = c.organisation_id
         JOIN persons p ON p.id = c.person_id
         WHERE o.kind IN ('cap_emploi', 'mission_locale', 'training_body') AND c.until IS NULL ${notCanary}
         ORDER BY c.person_id`,
      );
      const agencyList = [...agencies].filter(([, ids]) => ids.length > 0);
      if (agencyList.length === 0)
        throw new Error('the drill’s registry has no agency with registered persons');
      const partnerList = [...partners].filter(([, ids]) => ids.length >= MIN_PARTNER_CASELOAD);
      const counselors =
        partnerList.length === 0 ? options.accounts : Math.round(options.accounts * COUNSELOR_SHARE);

      const accounts: HonestAccountPlan[] = [];
      const plan = (role: HonestAccountPlan['role'], places: [string, string[]][]): void => {
        const weights = places.map(([, ids]) => ids.length);
        const index = accounts.length;
        const draw = random.fork(`account ${index}`);
        const [organisationId, ids] = places[draw.weighted(weights)]!;
        const work = WORK[role];
        const organisation = codeOf.get(organisationId)!;
        accounts.push({
          index,
          login: `${options.loginPrefix}.${String(index).padStart(4, '0')}`,
          role,
          organisation,
          workstation: options.workstations.next(organisation),
          worklist: draw
            .sample(ids, draw.int(work.worklist[0], work.worklist[1]))
            .map((id) => ({ id, agencyId: '' })),
          elsewhere: [],
          dailyMean: Math.round(draw.uniform(work.dailyMean[0], work.dailyMean[1]) * 10) / 10,
        });
      };
      for (let i = 0; i < options.accounts; i += 1) {
        plan(i < counselors ? 'counselor' : 'partner_counselor', i < counselors ? agencyList : partnerList);
      }

      // The agency ids of every worklist person (what a search by agency id types).
      const worked = [...new Set(accounts.flatMap((a) => a.worklist.map((w) => w.id)))];
      const agencyIds = await openFields(tx, keys.registry, worked, ['agencyId'] as const);
      for (const account of accounts) {
        for (const item of account.worklist) item.agencyId = agencyIds.get(item.id)?.agencyId ?? '';
      }

      // Identities of persons registered at other agencies, for counselors' national searches.
      const everyone = agencyList.flatMap(([organisation, ids]) => ids.map((id) => ({ id, organisation })));
      const nationalPool = random.fork('national').sample(everyone, 400);
      const identities = await openFields(
        tx,
        keys.registry,
        nationalPool.map((p) => p.id),
        ['lastName', 'firstNames', 'birthDate'] as const,
      );
      for (const account of accounts) {
        if (account.role !== 'counselor') continue;
        const draw = random.fork(`elsewhere ${account.index}`);
        const others = nationalPool.filter((p) => codeOf.get(p.organisation) !== account.organisation);
        for (const person of draw.sample(others, draw.int(ELSEWHERE[0], ELSEWHERE[1]))) {
          const identity = identities.get(person.id);
          if (identity) account.elsewhere.push({ ...identity });
        }
      }

      const summary =
        `${accounts.length} accounts: ${spread(accounts.map((a) => a.organisation))}; worklists of ` +
        `${Math.min(...accounts.map((a) => a.worklist.length))}–${Math.max(...accounts.map((a) => a.worklist.length))} persons` +
        (canariesExcluded ? '; canary persons excluded' : '; no canary table yet');
      return { accounts, summary, canariesExcluded };
    });
  } finally {
    await db.close();
  }
}
