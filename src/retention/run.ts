/**
 * A retention run (`rempart retention run`, and the server once a day): one pass over the registry
 * in slices of person ids, each slice one transaction of the system actor that reads the facts of
 * its deregistered, archived and candidate persons, decides (periods.ts) and applies:
 *
 * - archive: the search indexes move to `person_archive`, the status becomes 'archived', the
 *   partners' caseloads close; search and partner access no longer reach the person;
 * - destroy and expire_candidate: crypto-shredding. The wrapped data key and the sealed record are
 *   erased, the blind indexes removed, the periods, caseloads, archive row and portal rows deleted.
 *   What was encrypted under that key anywhere (a notice's text) cannot be decrypted by anyone,
 *   keyring included: the key existed nowhere else (DESIGN.md section 4).
 *
 * A slice is all or nothing; a run cut short leaves whole slices done, and the next run picks up
 * the rest (the rules only look at facts). The run is one row of `retention_runs` and one audit
 * event of the system actor with its counts; the persons' tombstones (status, date) say which.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/append.ts';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { eraseExpiredExportFiles } from '../exports/expiry.ts';
import {
  cutoffs,
  RETENTION_ACTIONS,
  type RetentionAction,
  type RetentionFacts,
  type RetentionPeriods,
  retentionAction,
} from './periods.ts';

/** Persons per slice (one transaction): big enough to amortise, small enough to keep locks short. */
export const SLICE = 20_000;
/** Slices at once on a PostgreSQL server. */
const SERVER_CONCURRENCY = 2;

export interface RetentionRunOptions {
  /** The day the periods are counted back from (YYYY-MM-DD): the local date in France, usually. */
  asOf: string;
  periods: RetentionPeriods;
  /** Count only: nothing is changed. */
  dryRun: boolean;
  trigger: 'cli' | 'server';
  /** When the run happens (the app's clock), for the run's row, the audit event and the tombstones. */
  at: Date;
  /** Persons per slice (tests use small slices to cross boundaries). */
  slice?: number;
  onProgress?: (scanned: number) => void;
}

/** What a run did (or, dry, would do). */
export interface RetentionReport {
  runId: string;
  asOf: string;
  dryRun: boolean;
  periods: RetentionPeriods;
  /** Persons looked at (every status). */
  scanned: number;
  /** Persons per action. */
  actions: Record<RetentionAction, number>;
  /** Deregistered or archived persons with an open period or no period at all: left for a person to fix. */
  inconsistent: number;
  /** Export files past their expiry erased (docs/EXPORTS.md); dry: how many would be. */
  exportFilesErased: number;
  seconds: number;
}

// The facts of one slice, in four range scans merged here (a join planned under row-level security
// misjudges the sizes and loops: 35 s for 5,000 persons): the slice's bounds (an index-only range),
// its non-registered persons, their last registration period, their last portal session, and which
// of them are canaries. A run that changes them locks the persons (FOR UPDATE), so a change made
// meanwhile (a re-registration) waits for the slice or is seen by it; a dry run only reads.
const SLICE_ENDS = `SELECT id::text AS id FROM (
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM persons) t
  WHERE n % $1 = 0 ORDER BY n`;
const SLICE_PERSONS = `SELECT id, status,
    (greatest(created_at, updated_at) AT TIME ZONE 'Europe/Paris')::date::text AS active_on
  FROM persons WHERE id > $1 AND id <= $2 AND status IN ('deregistered', 'archived', 'candidate')`;
const SLICE_PERIODS = `SELECT person_id, max(ended_on)::text AS last_end, bool_or(ended_on IS NULL) AS open
  FROM registration_periods WHERE person_id > $1 AND person_id <= $2 GROUP BY person_id`;
const SLICE_SESSIONS = `SELECT person_id, (max(last_seen_at) AT TIME ZONE 'Europe/Paris')::date::text AS seen_on
  FROM person_sessions WHERE person_id > $1 AND person_id <= $2 GROUP BY person_id`;
const SLICE_CANARIES = 'SELECT person_id FROM guard_canaries WHERE person_id > $1 AND person_id <= $2';

/** The facts of the slice (after, last]: its deregistered, archived and candidate persons. */
async function sliceFacts(
  tx: Tx,
  after: string,
  last: string,
  lock: boolean,
): Promise<{ id: string; facts: RetentionFacts }[]> {
  const bounds = [after, last];
  const persons = await tx.query<{ id: string; status: string; active_on: string }>(
    lock ? `${SLICE_PERSONS} FOR UPDATE` : SLICE_PERSONS,
    bounds,
  );
  if (persons.length === 0) return [];
  const [periods, sessions, canaries] = await Promise.all([
    tx.query<{ person_id: string; last_end: string | null; open: boolean }>(SLICE_PERIODS, bounds),
    tx.query<{ person_id: string; seen_on: string }>(SLICE_SESSIONS, bounds),
    tx.query<{ person_id: string }>(SLICE_CANARIES, bounds),
  ]);
  const periodOf = new Map(periods.map((r) => [r.person_id, r]));
  const seenOn = new Map(sessions.map((r) => [r.person_id, r.seen_on]));
  const canary = new Set(canaries.map((r) => r.person_id));
  return persons.map((p) => {
    const period = periodOf.get(p.id);
    const seen = seenOn.get(p.id);
    return {
      id: p.id,
      facts: {
        status: p.status,
        lastEnd: period?.last_end ?? null,
        open: period?.open === true,
        activeOn: seen !== undefined && seen > p.active_on ? seen : p.active_on,
        canary: canary.has(p.id),
      },
    };
  });
}

// Archive: the indexes move, then the caseloads close, then the person's row loses its indexes,
// three statements in the caller's transaction, each reading the persons still 'deregistered'. Each
// joins persons on the person's id only, so that on Citus each runs on the person's shard (an
// INSERT ... SELECT through the coordinator goes through COPY, which row-level security refuses).
const ARCHIVE_MOVE = `
  INSERT INTO person_archive (person_id, archived_on, bi_key_id, agency_id_bi, nir_bi, name_birth_bi,
    birth_name_birth_bi, name_key)
  -- the name key's version moves with the keys (migration 0029: a version-1 key not yet reindexed)
  SELECT id, $2::date, bi_key_id, agency_id_bi, nir_bi, name_birth_bi, birth_name_birth_bi, name_key
  FROM persons WHERE id = ANY($1::uuid[]) AND status = 'deregistered'`;
const ARCHIVE_CLOSE = `
  UPDATE caseloads c SET until = greatest(c.since, $2::date - 1)
  FROM persons p
  WHERE c.person_id = p.id AND p.id = ANY($1::uuid[]) AND p.status = 'deregistered'
    AND (c.until IS NULL OR c.until >= $2::date)`;
const ARCHIVE_DONE = `
  UPDATE persons SET status = 'archived', archived_on = $2::date, agency_id_bi = NULL, nir_bi = NULL,
    name_birth_bi = NULL, birth_name_birth_bi = NULL, name_key = 2, updated_at = $3
  WHERE id = ANY($1::uuid[]) AND status = 'deregistered'
  RETURNING id`;

// Crypto-shredding: the key and everything that found or described the person go; the tombstone stays.
const SHRED = `UPDATE persons SET status = 'destroyed', destroyed_on = $2::date, kek_id = NULL, wrapped_key = NULL,
     sealed = NULL, bi_key_id = NULL, agency_id_bi = NULL, nir_bi = NULL, name_birth_bi = NULL,
     birth_name_birth_bi = NULL, email_bi = NULL, name_key = 2, updated_at = $3
   WHERE id = ANY($1::uuid[]) AND status IN ('deregistered', 'archived', 'candidate')`;
const SHRED_ROWS = [
  'DELETE FROM person_archive WHERE person_id = ANY($1::uuid[])',
  'DELETE FROM registration_periods WHERE person_id = ANY($1::uuid[])',
  'DELETE FROM caseloads WHERE person_id = ANY($1::uuid[])',
  'DELETE FROM person_sessions WHERE person_id = ANY($1::uuid[])',
  'DELETE FROM person_login_challenges WHERE person_id = ANY($1::uuid[])',
  'DELETE FROM person_receipts WHERE person_id = ANY($1::uuid[])',
  'DELETE FROM person_receipt_settings WHERE person_id = ANY($1::uuid[])',
];
// a mail still queued for the person (a receipt, a code) is dropped with its text
const SHRED_MAIL = `UPDATE mail_outbox SET subject = NULL, body = NULL, abandoned_at = coalesce(abandoned_at, $2)
   WHERE person_id = ANY($1::uuid[]) AND sent_at IS NULL`;

/** The lowest uuid, below every id: the first slice starts after it. */
const BEFORE_ALL = '00000000-0000-0000-0000-000000000000';
/** The highest uuid: the last slice ends there. */
const AFTER_ALL = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** What one pass over the registry found (and, unless dry, did). */
interface Sweep {
  scanned: number;
  actions: Record<RetentionAction, number>;
  inconsistent: number;
}

/** One pass over the registry, slice by slice; applies the actions unless `dryRun`. */
async function sweep(
  db: Db,
  options: Pick<RetentionRunOptions, 'asOf' | 'periods' | 'dryRun' | 'at' | 'slice' | 'onProgress'>,
): Promise<Sweep> {
  const system = systemCtx('retention').actor;
  const due = cutoffs(options.asOf, options.periods);
  const actions = Object.fromEntries(RETENTION_ACTIONS.map((a) => [a, 0])) as Record<RetentionAction, number>;
  let inconsistent = 0;
  let done = 0;
  const slice = options.slice ?? SLICE;
  // The slices' bounds, in one index-only pass: every slice-th id, then the end of the ids.
  const { ends, total } = await sliceEnds(db, slice);
  const one = async (after: string, last: string): Promise<void> => {
    const outcome = await db.tx(system, async (tx) => {
      const facts = await sliceFacts(tx, after, last, !options.dryRun);
      const chosen: Record<RetentionAction, string[]> = { archive: [], destroy: [], expire_candidate: [] };
      let odd = 0;
      for (const { id, facts: f } of facts) {
        const action = retentionAction(f, due);
        if (action) chosen[action].push(id);
        else if (f.status !== 'candidate' && (f.open || f.lastEnd === null)) odd++;
      }
      if (!options.dryRun) await apply(tx, chosen, options.asOf, options.at);
      return { chosen, odd };
    });
    inconsistent += outcome.odd;
    for (const action of RETENTION_ACTIONS) actions[action] += outcome.chosen[action].length;
    done = Math.min(total, done + slice);
    options.onProgress?.(done);
  };
  // Slices are disjoint ranges of person ids, each its own transaction: on a server, two at a time
  // (the database works on both at once); PGlite is one connection.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ends.length) {
      const i = next++;
      await one(i === 0 ? BEFORE_ALL : ends[i - 1]!, ends[i]!);
    }
  };
  const concurrency = db.kind === 'postgres' ? SERVER_CONCURRENCY : 1;
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { scanned: total, actions, inconsistent };
}

/** The upper bound of each slice (every slice-th id; the last slice ends past every id), and how many persons. */
async function sliceEnds(db: Db, slice: number): Promise<{ ends: string[]; total: number }> {
  const system = systemCtx('retention').actor;
  const rows = await db.read<{ id: string }>(system, SLICE_ENDS, [slice]);
  const [count] = await db.read<{ n: number }>(system, 'SELECT count(*)::int AS n FROM persons');
  const total = count?.n ?? 0;
  if (total === 0) return { ends: [], total };
  const ends = rows.map((r) => r.id);
  if (total % slice !== 0 || ends.length === 0) ends.push(AFTER_ALL);
  return { ends, total };
}

/** What retention would do as of `asOf`, changing and recording nothing (the DPO's forecast). */
export function forecastRetention(db: Db, asOf: string, periods: RetentionPeriods): Promise<Sweep> {
  return sweep(db, { asOf, periods, dryRun: true, at: new Date() });
}

/**
 * Runs retention over the whole registry, on the record; returns its report, or null when it is the
 * server's run of a day that another server process already started.
 */
export async function runRetention(db: Db, options: RetentionRunOptions): Promise<RetentionReport | null> {
  const started = performance.now();
  const runId = randomUUID();
  const system = systemCtx('retention').actor;
  const claimed = await db.tx(system, (tx) =>
    tx.query(
      `INSERT INTO retention_runs (id, started_at, as_of, dry_run, trigger, periods)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`,
      [runId, options.at, options.asOf, options.dryRun, options.trigger, JSON.stringify(options.periods)],
    ),
  );
  if (claimed.length === 0) return null;
  const { scanned, actions, inconsistent } = await sweep(db, options);
  const exportFilesErased = await eraseExpiredExportFiles(db, options.at, options.dryRun);
  const seconds = Math.round(performance.now() - started) / 1000;
  const report: RetentionReport = {
    runId,
    asOf: options.asOf,
    dryRun: options.dryRun,
    periods: options.periods,
    scanned,
    actions,
    inconsistent,
    exportFilesErased,
    seconds,
  };
  await db.tx(system, async (tx) => {
    await tx.query(
      `UPDATE retention_runs SET finished_at = $2, actions = $3, persons_scanned = $4 WHERE id = $1`,
      [
        runId,
        new Date(options.at.getTime() + seconds * 1000),
        JSON.stringify({ ...actions, inconsistent }),
        scanned,
      ],
    );
    // The run on the record: counts only (the persons' tombstones say which; nothing of anyone is read).
    await appendAudit(
      tx,
      {
        actor: system,
        sessionRef: null,
        requestId: `retention-${runId}`,
        sourceAddress: null,
        at: options.at,
      },
      {
        action: options.dryRun ? 'retention.dry_run' : 'retention.run',
        purpose: null,
        query: {
          runId,
          asOf: new Date(`${options.asOf}T00:00:00Z`),
          trigger: options.trigger,
          ...options.periods,
          ...actions,
          inconsistent,
          exportFilesErased,
          scanned,
        },
        decision: 'allow',
        resultCount: 0,
        persons: [],
      },
    );
  });
  return report;
}

async function apply(
  tx: Tx,
  chosen: Record<RetentionAction, string[]>,
  asOf: string,
  at: Date,
): Promise<void> {
  await destroyPersons(tx, [...chosen.destroy, ...chosen.expire_candidate], asOf, at);
  await archivePersons(tx, chosen.archive, asOf, at);
}

/** Crypto-shreds these persons (system actor), in the caller's transaction. */
export async function destroyPersons(tx: Tx, ids: readonly string[], asOf: string, at: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(SHRED, [ids, asOf, at]);
  for (const sql of SHRED_ROWS) await tx.query(sql, [ids]);
  await tx.query(SHRED_MAIL, [ids, at]);
}

/** Moves these deregistered persons to the archive (system actor), in the caller's transaction; returns how many. */
export async function archivePersons(
  tx: Tx,
  ids: readonly string[],
  asOf: string,
  at: Date,
): Promise<number> {
  if (ids.length === 0) return 0;
  await tx.query(ARCHIVE_MOVE, [ids, asOf]);
  await tx.query(ARCHIVE_CLOSE, [ids, asOf]);
  return (await tx.query(ARCHIVE_DONE, [ids, asOf, at])).length;
}
