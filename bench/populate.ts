/**
 * `rempart bench populate`: a registry at size in the configured database, kept for the benchmarks
 * that read it (issue 18): persons seeded as `rempart seed` seeds them (canaries included), staff
 * accounts spread over the organisations, and an audit log of gate events spread over the last
 * MONTHS months, each with its person link and salt, sequenced into the Merkle tree by the real
 * sequencer and checkpointed with the keyring's signing key, so that `rempart audit verify` accepts
 * every event.
 *
 * The events are written by the server itself, set-based (INSERT ... SELECT over generate_series),
 * one transaction per chunk: no row crosses the wire, which is what COPY would save, and no
 * statement is parsed per row. A server's backend writes one chunk on one core, so on a server
 * several loaders (one connection each) write chunks side by side.
 *
 * Resumable: the run's parameters live in bench_population and each chunk of events loaded in
 * bench_population_chunks, written in the chunk's own transaction; the seed (src/registry/seed.ts) and the sequencer (its queue,
 * audit_pending) are resumable on their own. A run killed at any point and started again with the
 * same options completes the same population, with no duplicate and no gap in the tree; a
 * completed one adds nothing.
 *
 * Skew: HOT persons (the first of the population) each get about HOT_EVENTS events on top of the
 * others' even share, so that a person's access history is measured at 1,000 events.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { sequenceBatch, signCheckpointNow } from '../src/audit/sequencer.ts';
import type { Config } from '../src/config.ts';
import { openKeys } from '../src/crypto/open.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb } from '../src/db/open.ts';
import { openEmbedded } from '../src/db/open-embedded.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Driver } from '../src/db/types.ts';
import { AppError } from '../src/errors.ts';
import { defaultCanaryCount, plantCanaries } from '../src/guard/canaries.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { AUDIT_TABLES as VERIFY_AUDIT_TABLES } from './verify.ts';

export interface PopulateOptions {
  persons: number;
  events: number;
  /** Staff accounts the events are spread over (default 5,000). */
  accounts?: number;
  /** Months the events span, ending when the run started (default 24). */
  months?: number;
  /** Seed of the persons' generator (`rempart seed --seed`). */
  seed?: number;
  /** Events per transaction (default 500,000; a resumed run keeps its own). */
  chunk?: number;
  /** Chunks written side by side, one connection each (default: 2 on a server, 1 on PGlite). */
  loaders?: number;
  /** Seeding worker threads (`rempart seed --workers`). */
  workers?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** The figures (the JSON line of `rempart bench populate --json`). */
export interface PopulateSummary {
  bench: 'populate';
  engine: 'pglite' | 'postgres';
  /** `built`: a new population; `resumed`: a killed run completed; `complete`: nothing to do. */
  status: 'built' | 'resumed' | 'complete';
  persons: number;
  events: number;
  accounts: number;
  months: number;
  seed: number;
  /** Persons with about `hotEventsEach` events each (the access-history benchmark's subjects). */
  hotPersons: number;
  hotEventsEach: number;
  /** Seconds this call spent in each stage (0 for a stage done by an earlier, killed run). */
  seconds: { persons: number; accounts: number; events: number; sequencing: number; total: number };
  /** Events loaded and sequenced per second by this call (null when it did neither). */
  loadedPerSecond: number | null;
  sequencedPerSecond: number | null;
  treeSize: number;
  /** Whole database, audit tables, and the rest per person (registry, identity, guard, indexes). */
  databaseBytes: number;
  auditBytes: number;
  bytesPerEvent: number;
  bytesPerPerson: number;
}

export const DEFAULT_ACCOUNTS = 5000;
export const DEFAULT_MONTHS = 24;
const DEFAULT_CHUNK = 500_000;
const HOT = 10;
const HOT_EVENTS = 1000;
/** The audit log's tables (docs/SCALING.md: bytes per event), its queue included. */
const AUDIT_TABLES = [...VERIFY_AUDIT_TABLES, 'audit_pending'];
const BENCH_TABLES = [
  'bench_population',
  'bench_population_persons',
  'bench_population_accounts',
  'bench_population_chunks',
];
/** The field sets of the events' person links (what a view or a search returned). */
const FIELD_SETS = [
  'lastName,firstNames,birthDate',
  'agencyId,lastName,firstNames,birthDate',
  'nirMasked,lastName,firstNames,status',
  'lastName,firstNames,birthDate,address,phone,email',
  'registrationPeriods,status',
  'nir,lastName,firstNames,birthDate,address',
];

interface Run {
  persons: string;
  events: string;
  accounts: number;
  months: number;
  seed: number;
  first_event: string;
  ends_at: Date;
  chunk: number;
  completed: boolean;
}

const round = (x: number): number => Math.round(x * 10) / 10;

function check(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new AppError('validation_failed', `${name} must be an integer of at least ${min}`, { field: name });
}

/** Builds (or completes) the population; returns its figures. */
export async function benchPopulate(config: Config, options: PopulateOptions): Promise<PopulateSummary> {
  const accounts = options.accounts ?? DEFAULT_ACCOUNTS;
  const months = options.months ?? DEFAULT_MONTHS;
  const seed = options.seed ?? 1;
  const chunk = options.chunk ?? DEFAULT_CHUNK;
  check('persons', options.persons, HOT);
  check('events', options.events, 1);
  check('accounts', accounts, 1);
  check('months', months, 1);
  check('chunk', chunk, 1);
  const loaders = options.loaders ?? (config.databaseUrl === undefined ? 1 : 2);
  check('loaders', loaders, 1);
  const started = performance.now();
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = await openKeys(config, { create: true });
  const driver: Driver =
    config.databaseUrl !== undefined
      ? await openPostgres(config.databaseUrl, { max: loaders + 1 })
      : await openEmbedded(config.dataDir);
  const db = createDb(driver);
  try {
    await migrate(driver);
    const { run, fresh } = await startRun(driver, {
      persons: options.persons,
      events: options.events,
      accounts,
      months,
      seed,
      chunk,
    });
    const seconds = { persons: 0, accounts: 0, events: 0, sequencing: 0, total: 0 };
    const stageTime = async (stage: keyof typeof seconds, fn: () => Promise<void>): Promise<void> => {
      const t = performance.now();
      await fn();
      seconds[stage] = round((performance.now() - t) / 1000);
    };
    let loadedNow = 0;
    let sequencedNow = 0;
    if (!run.completed) {
      // 1. Persons, as `rempart seed` seeds them, then their order for the events.
      await stageTime('persons', async () => {
        await seedPopulation(db, keys.registry, {
          persons: options.persons,
          seed,
          ...(options.workers === undefined ? {} : { workers: options.workers }),
          onProgress: (done, total) => options.onProgress?.('persons', done, total),
          finish: (tx) => plantCanaries(tx, defaultCanaryCount(options.persons), seed, new Date()),
        });
        await driver.transaction(async (tx) => {
          const [have] = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM bench_population_persons',
          );
          if (have!.n > 0) return;
          await tx.query(`INSERT INTO bench_population_persons (n, person_id)
                            SELECT row_number() OVER (ORDER BY id) - 1, id FROM persons`);
        });
      });
      // 2. Staff accounts over the organisations, in turn: counselors in agencies, partners elsewhere.
      await stageTime('accounts', async () => {
        options.onProgress?.('accounts', 0, accounts);
        await driver.transaction(async (tx) => {
          await tx.query(
            `WITH o AS (SELECT id, kind, row_number() OVER (ORDER BY code) - 1 AS k
                          FROM organisations WHERE kind <> 'national'),
                  c AS (SELECT count(*) AS c FROM o)
             INSERT INTO accounts (id, organisation_id, login, display_name, email, role, status, created_at)
             SELECT ('a2000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, o.id,
               'populate-' || n, 'Agent ' || n, 'populate-' || n || '@bench.invalid',
               CASE o.kind WHEN 'agency' THEN 'counselor' WHEN 'subcontractor' THEN 'subcontractor_operator'
                 ELSE 'partner_counselor' END, 'active', $2::timestamptz
             FROM generate_series(0, $1::int - 1) n CROSS JOIN c JOIN o ON o.k = n % c.c
             ON CONFLICT (id) DO NOTHING`,
            [accounts, new Date(run.ends_at.getTime() - months * 31 * 86_400_000)],
          );
          await tx.query(
            `INSERT INTO bench_population_accounts (n, account_id, organisation_id, role)
             SELECT n, a.id, a.organisation_id, a.role FROM generate_series(0, $1::int - 1) n
               JOIN accounts a ON a.id = ('a2000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid
             ON CONFLICT (n) DO NOTHING`,
            [accounts],
          );
        });
        options.onProgress?.('accounts', accounts, accounts);
      });
      // 3. The events, chunk by chunk, each chunk with its progress in one transaction.
      await stageTime('events', async () => {
        loadedNow = await loadEvents(driver, run, loaders, options.onProgress);
      });
      // 4. The sequencer folds them into the tree and signs checkpoints, then one for the whole tree.
      await stageTime('sequencing', async () => {
        const sequencing = {
          signer: keys.checkpointSigner,
          checkpointEvents: 100_000,
          checkpointSeconds: 3600,
          checkpointFile: config.audit.checkpointFile,
        };
        const total = Number(run.events);
        for (;;) {
          const batch = await sequenceBatch(db, sequencing);
          if (batch.busy) {
            await new Promise((resolve) => setTimeout(resolve, 200));
            continue;
          }
          sequencedNow += batch.sequenced;
          options.onProgress?.('sequencing', Math.min(total, batch.treeSize), total);
          if (batch.sequenced === 0) break;
        }
        while ((await signCheckpointNow(db, sequencing)) === undefined) {
          // undefined: the tree's size is signed already, or another sequencer holds the lock
          const [held] = await driver.transaction((tx) =>
            tx.query<{ signed: boolean }>(
              `SELECT EXISTS (SELECT 1 FROM audit_checkpoints
                 WHERE tree_size = (SELECT count(*) FROM audit_leaves)) AS signed`,
            ),
          );
          if (held!.signed) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      });
      await driver.transaction((tx) => tx.query('UPDATE bench_population SET completed = true'));
      await driver.transaction((tx) =>
        tx.exec(`ANALYZE ${[...AUDIT_TABLES, 'persons', 'accounts'].join(', ')}`),
      );
    }
    seconds.total = round((performance.now() - started) / 1000);
    const [size] = await driver.transaction((tx) =>
      tx.query<{ database: string; audit: string; bench: string; tree: string }>(
        `SELECT pg_database_size(current_database())::text AS database,
           (SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest($1::text[]) t)::text AS audit,
           (SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest($2::text[]) t)::text AS bench,
           (SELECT count(*) FROM audit_leaves)::text AS tree`,
        [AUDIT_TABLES, BENCH_TABLES],
      ),
    );
    const events = Number(run.events);
    const persons = Number(run.persons);
    const audit = Number(size!.audit);
    const stride = hotStride(events);
    return {
      bench: 'populate',
      engine: driver.kind,
      status: run.completed ? 'complete' : fresh ? 'built' : 'resumed',
      persons,
      events,
      accounts,
      months,
      seed,
      hotPersons: HOT,
      hotEventsEach: Math.floor(events / stride / HOT),
      seconds,
      loadedPerSecond: loadedNow > 0 && seconds.events > 0 ? Math.round(loadedNow / seconds.events) : null,
      sequencedPerSecond:
        sequencedNow > 0 && seconds.sequencing > 0 ? Math.round(sequencedNow / seconds.sequencing) : null,
      treeSize: Number(size!.tree),
      databaseBytes: Number(size!.database),
      auditBytes: audit,
      bytesPerEvent: Math.round(audit / events),
      bytesPerPerson: Math.round((Number(size!.database) - audit - Number(size!.bench)) / persons),
    };
  } finally {
    await db.close();
  }
}

/** One event in hotStride(events) goes to a hot person, in turn: HOT_EVENTS each at most. */
function hotStride(events: number): number {
  return Math.max(10, Math.floor(events / (HOT * HOT_EVENTS)));
}

/**
 * Records the run, or finds the one recorded: the same options continue it; other options are
 * refused, naming the first that differs (a database holds one population).
 */
async function startRun(
  driver: Driver,
  wanted: { persons: number; events: number; accounts: number; months: number; seed: number; chunk: number },
): Promise<{ run: Run; fresh: boolean }> {
  const { persons, events, accounts, months, seed, chunk } = wanted;
  return driver.transaction(async (tx) => {
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS bench_population (
        id int PRIMARY KEY CHECK (id = 1),
        persons bigint NOT NULL, events bigint NOT NULL, accounts int NOT NULL, months int NOT NULL,
        seed int NOT NULL,
        first_event bigint NOT NULL,
        ends_at timestamptz NOT NULL,
        chunk int NOT NULL,
        completed boolean NOT NULL DEFAULT false);
      CREATE TABLE IF NOT EXISTS bench_population_chunks (k bigint PRIMARY KEY, events int NOT NULL);
      CREATE TABLE IF NOT EXISTS bench_population_persons (n bigint PRIMARY KEY, person_id uuid NOT NULL);
      CREATE TABLE IF NOT EXISTS bench_population_accounts (
        n int PRIMARY KEY, account_id uuid NOT NULL, organisation_id uuid NOT NULL, role text NOT NULL);
      LOCK TABLE bench_population IN EXCLUSIVE MODE`);
    const [existing] = await tx.query<Run>('SELECT * FROM bench_population');
    if (existing) {
      const same = { persons, events, accounts, months, seed };
      for (const [name, value] of Object.entries(same)) {
        const have = Number(existing[name as keyof typeof same]);
        if (have !== value)
          throw new AppError(
            'conflict',
            `${name}: this database holds a population of ${have} (not ${value}); run with the same options, or on another database`,
            { field: name },
          );
      }
      return { run: existing, fresh: false };
    }
    // The events' ids are reserved now, so that the gate's events, if any, come after them.
    const [first] = await tx.query<{ first: string }>(
      `SELECT greatest((SELECT coalesce(max(id), 0) FROM audit_events),
                       (SELECT last_value FROM audit_events_id_seq))::text AS first`,
    );
    await tx.query(`SELECT setval('audit_events_id_seq', $1::bigint)`, [Number(first!.first) + events]);
    const [run] = await tx.query<Run>(
      `INSERT INTO bench_population (id, persons, events, accounts, months, seed, first_event, ends_at, chunk)
       VALUES (1, $1, $2, $3, $4, $5, $6, date_trunc('second', now()), $7) RETURNING *`,
      [persons, events, accounts, months, seed, first!.first, chunk],
    );
    return { run: run!, fresh: true };
  });
}

/**
 * Loads the chunks of events not loaded yet, `loaders` transactions side by side; returns how many
 * events this call loaded. Event i (1 ≤ i ≤ events) has the id first_event + i and happens at an
 * even step from the start of the period to its end; its person and account are spread by
 * multiplicative hashing. Chunk k holds events k × chunk + 1 to (k + 1) × chunk.
 */
async function loadEvents(
  driver: Driver,
  run: Run,
  loaders: number,
  onProgress?: (stage: string, done: number, total: number) => void,
): Promise<number> {
  const events = Number(run.events);
  const persons = Number(run.persons);
  const chunk = run.chunk;
  const stride = hotStride(events);
  const start = new Date(run.ends_at.getTime() - run.months * 30.44 * 86_400_000);
  const stepMs = (run.ends_at.getTime() - start.getTime()) / events;
  // Salts: 32 bytes per event, from this process's secret (the gate draws random ones).
  const secret = randomBytes(32);
  const done = await driver.transaction((tx) =>
    tx.query<{ k: string; events: number }>('SELECT k::text, events FROM bench_population_chunks'),
  );
  const doneSet = new Set(done.map((d) => Number(d.k)));
  let loaded = done.reduce((sum, d) => sum + d.events, 0);
  const todo = Array.from({ length: Math.ceil(events / chunk) }, (_, k) => k).filter((k) => !doneSet.has(k));
  let next = 0;
  let now = 0;
  onProgress?.('events', loaded, events);
  const loadChunk = async (k: number): Promise<void> => {
    const lo = k * chunk + 1;
    const hi = Math.min(events, (k + 1) * chunk);
    await driver.transaction(async (tx) => {
      // Another process loading the same population takes the same chunk: one of them fails here.
      const taken = await tx.query(
        'INSERT INTO bench_population_chunks (k, events) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING RETURNING k',
        [k, hi - lo + 1],
      );
      if (taken.length === 0)
        throw new AppError('conflict', 'another bench populate is loading this population');
      await tx.query(
        `CREATE TEMP TABLE populate_chunk ON COMMIT DROP AS
         SELECT $1::bigint + i AS id, i,
           $2::timestamptz + (i - 1) * ($3::double precision * interval '1 millisecond') AS at,
           p.person_id, a.account_id, a.organisation_id, a.role
         FROM generate_series($4::bigint, $5::bigint) i
           JOIN bench_population_persons p
             ON p.n = CASE WHEN i % $6 = 0 THEN (i / $6) % ${HOT} ELSE (i * 104729 + 17) % $7 END
           JOIN bench_population_accounts a ON a.n = (i * 7919) % $8`,
        [run.first_event, start, stepMs, lo, hi, stride, persons, run.accounts],
      );
      await tx.query(
        `INSERT INTO audit_events (id, occurred_at, actor_kind, account_id, organisation_id, role, session_ref,
           request_id, source_address, purpose, action, query, decision, reason, result_count)
         SELECT id, at, 'staff', account_id, organisation_id, role, lpad(to_hex(i / 40), 16, '0'),
           'populate-' || id, '10.0.0.1', 'accompaniment',
           CASE WHEN i % 4 = 0 THEN 'person.search' ELSE 'person.view' END,
           CASE WHEN i % 4 = 0 THEN '{"by":"nameBirthDate","cap":10}' ELSE '{"by":"id"}' END::jsonb,
           'allow', NULL, 1
         FROM populate_chunk ORDER BY id`,
      );
      await tx.query(
        `INSERT INTO audit_event_persons (event_id, person_id, fields, account_id, organisation_id, occurred_at)
         SELECT id, person_id, string_to_array(($1::text[])[1 + i % ${FIELD_SETS.length}], ','),
           account_id, organisation_id, at
         FROM populate_chunk ORDER BY id`,
        [FIELD_SETS],
      );
      await tx.query(
        `INSERT INTO audit_event_salts (event_id, salt)
         SELECT id, sha256(int8send(id) || $1::bytea) FROM populate_chunk ORDER BY id`,
        [secret],
      );
      await tx.query('INSERT INTO audit_pending (event_id) SELECT id FROM populate_chunk ORDER BY id');
    });
    now += hi - lo + 1;
    loaded += hi - lo + 1;
    onProgress?.('events', loaded, events);
  };
  // The first failure stops the other loaders before their next chunk.
  let failed = false;
  const loader = async (): Promise<void> => {
    try {
      while (!failed && next < todo.length) await loadChunk(todo[next++]!);
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(loaders, todo.length) }, loader));
  return now;
}
