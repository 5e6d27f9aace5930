/**
 * The synthetic audit log of `rempart bench scope` (bench/scope.ts): N events from ACCOUNTS accounts
 * over PERSONS person ids, and a planted breach whose exact scope is known, written by set-based
 * SQL through the owner connection of a throwaway database.
 */
import type { Driver } from '../src/db/types.ts';

/** Background accounts, in organisations of ACCOUNTS_PER_ORG. */
export const ACCOUNTS = 20_000;
const ACCOUNTS_PER_ORG = 20;
/** Distinct person ids the background events touch. */
export const PERSONS = 1_000_000;
/** The planted breach's accounts, in one partner organisation. */
export const ATTACKERS = [
  'a1000000-0000-4000-8000-000000000001',
  'a1000000-0000-4000-8000-000000000002',
  'a1000000-0000-4000-8000-000000000003',
];
const ATTACKER_ORG = 'c1000000-0000-4000-8000-000000000001';
/** Event i happens at T0 + i × 3 s (10,000,000 events: about 347 days). */
const T0 = new Date('2026-01-01T00:00:00Z');
const STEP_MS = 3000;
/** One event in STRIDE is the attackers' around and in the window. */
const STRIDE = 8;
/** Attacker events just before and from `to` on, outside the window. */
const OUTSIDE = 200;
/** Field sets of 1–5 fields, for background and planted links. */
const FIELD_SETS = [
  'lastName',
  'lastName,firstNames',
  'lastName,firstNames,birthDate',
  'agencyId,lastName,firstNames,birthDate',
  'nir,lastName,firstNames,birthDate,address',
  'email',
  'phone,email',
  'address,phone,email',
  'nirMasked,lastName,firstNames,status',
  'registrationPeriods,status',
  'birthName,birthPlace,sex',
  'nir',
];
const CHUNK = 1_000_000;

const uuidOf = (prefix: string, n: number): string =>
  `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
/** The id of synthetic person n. */
export const personUuid = (n: number): string => uuidOf('b0000000', n);
/** The time of event i. */
export const atOf = (i: number): Date => new Date(T0.getTime() + i * STEP_MS);

/**
 * The planted breach: the attackers hold one event in STRIDE from event `lo` to `hi`; slot k (event
 * a + k × STRIDE) is, in order: before the window (k < 0), 2 × scopePersons allowed events (each
 * planted person twice, with different fields), refused events, events that matched a person but
 * returned no field, then from `to` on (k ≥ slots). fillAuditLog writes them in SQL; the
 * expected scope is computed here, independently.
 */
export function planBreach(events: number, scopePersons: number) {
  const allowed = 2 * scopePersons;
  const denied = Math.ceil(scopePersons / 10);
  const empty = Math.ceil(scopePersons / 10);
  const slots = allowed + denied + empty;
  const a = Math.floor(events / 2);
  const b = a + STRIDE * slots;
  const lo = a - STRIDE * OUTSIDE;
  const hi = b + STRIDE * OUTSIDE;
  if (lo < 1 || hi > events || scopePersons + empty + 2 * OUTSIDE > PERSONS) {
    throw new Error(`bench scope: --events ${events} is too small for --scope-persons ${scopePersons}`);
  }
  const expected = new Map<string, Set<string>>();
  for (let k = 0; k < allowed; k++) {
    const j = k % scopePersons;
    const fields = FIELD_SETS[(j * 3 + Math.floor(k / scopePersons) * 7) % FIELD_SETS.length]!;
    const set = expected.get(personUuid(j)) ?? new Set<string>();
    for (const f of fields.split(',')) set.add(f);
    expected.set(personUuid(j), set);
  }
  return { scopePersons, allowed, denied, empty, slots, a, b, lo, hi, expected };
}

/** Drops the indexes of the audit tables; returns the statements that rebuild them as they were. */
async function dropAuditIndexes(driver: Driver): Promise<string[]> {
  return driver.transaction(async (tx) => {
    const rows = await tx.query<{
      tbl: string;
      idx: string;
      def: string;
      con: string | null;
      condef: string | null;
    }>(
      `SELECT c.relname AS tbl, i.relname AS idx, pg_get_indexdef(i.oid) AS def,
         con.conname AS con, pg_get_constraintdef(con.oid) AS condef
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
       LEFT JOIN pg_constraint con ON con.conindid = i.oid AND con.conrelid = c.oid AND con.contype IN ('p', 'u')
       WHERE c.relname IN ('audit_events', 'audit_event_persons') AND c.relnamespace = 'public'::regnamespace
       ORDER BY c.relname, i.relname`,
    );
    const rebuild: string[] = [];
    for (const row of rows) {
      if (row.con !== null) {
        await tx.query(`ALTER TABLE ${row.tbl} DROP CONSTRAINT ${row.con}`);
        rebuild.push(`ALTER TABLE ${row.tbl} ADD CONSTRAINT ${row.con} ${row.condef}`);
      } else {
        await tx.query(`DROP INDEX ${row.idx}`);
        rebuild.push(row.def);
      }
    }
    return rebuild;
  });
}

const PERSON_SQL = (n: string): string => `('b0000000-0000-4000-8000-' || lpad(to_hex(${n}), 12, '0'))::uuid`;
/** Event i, and whether it is an attacker's slot (s.att) and which (s.k): $3 lo, $4 hi, $5 a. */
const SLOT_SQL = `generate_series($1::bigint, $2::bigint) i,
  LATERAL (SELECT (i >= $3 AND i < $4 AND (i - $5) % ${STRIDE} = 0) AS att, (i - $5) / ${STRIDE} AS k) s`;
/** The account and organisation of event i: an attacker's ($7, $8), or one of ACCOUNTS in turn. */
const ACCOUNT_SQL = `CASE WHEN s.att THEN ($7::uuid[])[1 + (s.k % 3 + 3) % 3]
  ELSE ('a0000000-0000-4000-8000-' || lpad(to_hex((i * 7919) % ${ACCOUNTS}), 12, '0'))::uuid END`;
const ORG_SQL = `CASE WHEN s.att THEN $8::uuid
  ELSE ('c0000000-0000-4000-8000-' || lpad(to_hex(((i * 7919) % ${ACCOUNTS}) / ${ACCOUNTS_PER_ORG}), 12, '0'))::uuid END`;
const AT_SQL = `$6::timestamptz + i * interval '${STEP_MS} milliseconds'`;

/** What planBreach returns: the slots of the attackers' events and the expected scope. */
export type PlantedBreach = ReturnType<typeof planBreach>;

/**
 * Fills the log by set-based SQL in chunks of CHUNK events, indexes dropped and rebuilt after, then
 * ANALYZE; returns the seconds spent filling and rebuilding.
 */
export async function fillAuditLog(
  driver: Driver,
  events: number,
  p: PlantedBreach,
  onProgress?: (stage: string, done: number, total: number) => void,
): Promise<{ fillSeconds: number; indexSeconds: number }> {
  const started = performance.now();
  await driver.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO organisations (id, kind, code, name)
       SELECT ('c0000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'agency', 'BENCH-' || n,
         'Agence bench ' || n
       FROM generate_series(0, $1::int - 1) n
       UNION ALL SELECT $2::uuid, 'mission_locale', 'BENCH-ML', 'Mission locale bench'`,
      [ACCOUNTS / ACCOUNTS_PER_ORG, ATTACKER_ORG],
    );
  });
  const rebuild = await dropAuditIndexes(driver);
  const total = 2 * Math.ceil(events / CHUNK);
  let done = 0;
  for (const table of ['audit_events', 'audit_event_persons'] as const) {
    for (let start = 1; start <= events; start += CHUNK) {
      const end = Math.min(events, start + CHUNK - 1);
      const common = [start, end, p.lo, p.hi, p.a, T0, ATTACKERS, ATTACKER_ORG, p.allowed, p.denied];
      await driver.transaction((tx) =>
        table === 'audit_events'
          ? tx.query(
              `INSERT INTO audit_events (id, occurred_at, actor_kind, account_id, organisation_id, role, session_ref,
                 request_id, source_address, purpose, action, query, decision, reason, result_count)
               SELECT i, ${AT_SQL}, 'staff', ${ACCOUNT_SQL}, ${ORG_SQL},
                 CASE WHEN s.att THEN 'partner_counselor' ELSE 'counselor' END,
                 lpad(to_hex(i / 40), 16, '0'), 'bench-' || i, '10.0.0.1', 'accompaniment',
                 CASE WHEN i % 4 = 0 THEN 'person.search' ELSE 'person.view' END, '{"by":"agencyId","cap":10}',
                 d.decision, CASE d.decision WHEN 'deny' THEN 'out_of_caseload' END,
                 CASE d.decision WHEN 'deny' THEN 0 ELSE 1 END
               FROM ${SLOT_SQL},
                 LATERAL (SELECT CASE WHEN s.att AND s.k >= $9::bigint AND s.k < $9::bigint + $10::bigint THEN 'deny' ELSE 'allow' END
                   AS decision) d`,
              common,
            )
          : // One link per event, the attackers' interleaved with the others as the application
            // writes them; refused events get none. $9 allowed, $10 denied, $11 slots,
            // $12 scopePersons, $13 empty, $14 field sets (the same slots as planBreach).
            tx.query(
              `INSERT INTO audit_event_persons (event_id, person_id, fields, account_id, organisation_id, occurred_at)
               SELECT i, l.person_id, string_to_array(l.fields, ','), ${ACCOUNT_SQL}, ${ORG_SQL}, ${AT_SQL}
               FROM ${SLOT_SQL},
                 LATERAL (SELECT
                   CASE WHEN NOT s.att THEN ${PERSON_SQL(`(i * 104729 + 17) % ${PERSONS}`)}
                     WHEN s.k < 0 THEN ${PERSON_SQL('$12::bigint + $13::bigint + 2 * (-s.k - 1)')}
                     WHEN s.k < $9::bigint THEN ${PERSON_SQL('s.k % $12::bigint')}
                     WHEN s.k < $9::bigint + $10::bigint THEN NULL
                     WHEN s.k < $11::bigint THEN ${PERSON_SQL('$12::bigint + s.k - $9::bigint - $10::bigint')}
                     ELSE ${PERSON_SQL('$12::bigint + $13::bigint + 2 * (s.k - $11::bigint) + 1')} END AS person_id,
                   CASE WHEN NOT s.att THEN ($14::text[])[1 + i % ${FIELD_SETS.length}]
                     WHEN s.k < 0 THEN ($14::text[])[1 + (-s.k - 1) % ${FIELD_SETS.length}]
                     WHEN s.k < $9::bigint THEN ($14::text[])[1 + ((s.k % $12::bigint) * 3 + (s.k / $12::bigint) * 7) % ${FIELD_SETS.length}]
                     WHEN s.k < $11::bigint THEN ''
                     ELSE ($14::text[])[1 + (s.k - $11::bigint) % ${FIELD_SETS.length}] END AS fields) l
               WHERE l.person_id IS NOT NULL`,
              [...common, p.slots, p.scopePersons, p.empty, FIELD_SETS],
            ),
      );
      onProgress?.(`filling ${table}`, ++done, total);
    }
  }
  const fillSeconds = (performance.now() - started) / 1000;
  const indexStarted = performance.now();
  for (const [n, statement] of rebuild.entries()) {
    await driver.transaction(async (tx) => {
      // enough to sort 10,000,000 index entries in memory on a server (PGlite keeps its default)
      if (driver.kind === 'postgres') await tx.query(`SET LOCAL maintenance_work_mem = '512MB'`);
      await tx.query(statement);
    });
    onProgress?.('indexing', n + 1, rebuild.length);
  }
  await driver.transaction((tx) => tx.query(`SELECT setval('audit_events_id_seq', $1::bigint)`, [events]));
  for (const table of ['audit_events', 'audit_event_persons', 'organisations'])
    await driver.transaction((tx) => tx.query(`ANALYZE ${table}`));
  return { fillSeconds, indexSeconds: (performance.now() - indexStarted) / 1000 };
}
