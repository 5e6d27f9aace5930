/**
 * `rempart bench replica`: what a streaming replica (scripts/standby.sh) gives the portal's and the
 * history's reads, on the population of `rempart bench populate` in DATABASE_URL (the primary):
 *  - under the gate's write (audit events with their person links and queue rows, CLIENTS at a
 *    time, durable commits) for SECONDS on the primary, how far the replica lags: sampled every
 *    100 ms from the primary's pg_stat_replication (WAL bytes not yet replayed, replay lag);
 *  - then, the replica caught up, a person's access history (the hot persons) and one account's
 *    month of scope read from the primary and from the replica, each pair checked equal.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { type AuditCtx, appendAudit } from '../src/audit/append.ts';
import { breachScope, personAccessHistory } from '../src/audit/scope.ts';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { createDb, openDb } from '../src/db/open.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Db } from '../src/db/types.ts';
import { AppError } from '../src/errors.ts';
import { percentile } from './lookup.ts';

export interface ReplicaBenchOptions {
  standbyUrl: string;
  /** Seconds of write load on the primary (default 20). */
  seconds?: number;
  /** Concurrent writers (default 16). */
  clients?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface ReplicaBenchSummary {
  bench: 'replica';
  writesPerSecond: number;
  /** WAL the replica had not replayed, sampled every 100 ms under the load. */
  lagBytes: { p50: number; p99: number; max: number };
  /** The primary's replay_lag (time for a commit to be replayed on the replica), same samples. */
  lagMs: { p50: number; p99: number; max: number };
  /** Seconds for the replica to replay everything once the load stopped. */
  catchUpSeconds: number;
  historyMs: { primary: number; replica: number };
  scopeMs: { primary: number; replica: number };
  /** Reads compared between primary and replica, all equal. */
  compared: number;
}

const round = (x: number): number => Math.round(x * 10) / 10;
const p = (xs: number[]): { p50: number; p99: number; max: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1] ?? 0) };
};

export async function benchReplica(
  config: Config,
  options: ReplicaBenchOptions,
): Promise<ReplicaBenchSummary> {
  if (config.databaseUrl === undefined)
    throw new AppError('validation_failed', 'bench replica needs DATABASE_URL (the primary)', {
      field: 'DATABASE_URL',
    });
  const seconds = options.seconds ?? 20;
  const clients = options.clients ?? 16;
  const primary = await openDb({ ...config, databasePoolSize: clients + 2 });
  // The replica is read as it is: no migration (a standby refuses writes).
  const replica: Db = createDb(await openPostgres(options.standbyUrl, { max: 2 }));
  const admin = new pg.Client({ connectionString: config.databaseUrl });
  await admin.connect();
  const system = systemCtx('bench-replica').actor;
  try {
    const [link] = await admin
      .query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_replication WHERE state = 'streaming'`)
      .then((r) => r.rows);
    if (Number(link!.n) === 0)
      throw new AppError(
        'validation_failed',
        'no streaming replica of DATABASE_URL: start one (scripts/standby.sh)',
        {
          field: 'standby',
        },
      );
    const accounts = await primary.tx(system, (tx) =>
      tx.query<{ id: string; organisation_id: string }>(
        `SELECT id, organisation_id FROM accounts WHERE login LIKE 'populate-%' ORDER BY id LIMIT $1`,
        [clients],
      ),
    );
    const persons = await primary.tx(system, (tx) =>
      tx.query<{ id: string }>('SELECT id FROM persons ORDER BY id LIMIT 10'),
    );
    if (accounts.length === 0 || persons.length === 0)
      throw new AppError('not_found', 'no population in this database: run `rempart bench populate` first');

    // 1. The gate's write, CLIENTS at a time, while the lag is sampled.
    let writes = 0;
    let stop = false;
    const writer = async (c: number): Promise<void> => {
      const account = accounts[c % accounts.length]!;
      const actor = {
        kind: 'staff',
        accountId: account.id,
        organisationId: account.organisation_id,
        role: 'counselor',
      } as const;
      while (!stop) {
        const ctx: AuditCtx = {
          actor,
          sessionRef: null,
          requestId: randomUUID(),
          sourceAddress: null,
          at: new Date(),
        };
        await primary.tx(actor, (tx) =>
          appendAudit(tx, ctx, {
            action: 'person.view',
            purpose: 'accompaniment',
            query: { by: 'id' },
            decision: 'allow',
            resultCount: 1,
            persons: [{ personId: persons[writes % persons.length]!.id, fields: ['lastName', 'firstNames'] }],
          }),
        );
        writes++;
      }
    };
    const lagBytes: number[] = [];
    const lagMs: number[] = [];
    const started = performance.now();
    const load = Promise.all(Array.from({ length: clients }, (_, c) => writer(c)));
    while (performance.now() - started < seconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { rows } = await admin.query<{ bytes: string; ms: number | null }>(
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS bytes,
           extract(epoch FROM replay_lag) * 1000 AS ms
         FROM pg_stat_replication WHERE state = 'streaming' LIMIT 1`,
      );
      if (rows[0]) {
        lagBytes.push(Number(rows[0].bytes));
        lagMs.push(rows[0].ms ?? 0);
      }
      options.onProgress?.('writing', Math.round((performance.now() - started) / 1000), seconds);
    }
    stop = true;
    await load;
    const elapsed = (performance.now() - started) / 1000;
    const stopped = performance.now();
    for (;;) {
      const { rows } = await admin.query<{ bytes: string }>(
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS bytes FROM pg_stat_replication
         WHERE state = 'streaming' LIMIT 1`,
      );
      if (Number(rows[0]?.bytes ?? 0) <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const catchUpSeconds = (performance.now() - stopped) / 1000;

    // 2. The reads, from both, each pair compared.
    const [last] = await primary.tx(system, (tx) =>
      tx.query<{ at: Date }>(
        `SELECT max(occurred_at) AS at FROM audit_events WHERE request_id LIKE 'populate-%'`,
      ),
    );
    const to = last!.at;
    const from = new Date(to.getTime() - 30 * 86_400_000);
    const times = {
      historyPrimary: [] as number[],
      historyReplica: [] as number[],
      scopePrimary: [] as number[],
      scopeReplica: [] as number[],
    };
    let compared = 0;
    for (let pass = 0; pass < 3; pass++) {
      for (const { id } of persons) {
        const read = async (db: Db, into: number[]) => {
          const t = performance.now();
          const history = await db.tx(system, (tx) => personAccessHistory(tx, id, { limit: 100 }));
          into.push(performance.now() - t);
          return JSON.stringify(history);
        };
        const a = await read(primary, times.historyPrimary);
        const b = await read(replica, times.historyReplica);
        if (a !== b)
          throw new Error('bench replica: a history read from the replica differs from the primary');
        compared++;
      }
      for (const { id } of accounts.slice(0, 10)) {
        const read = async (db: Db, into: number[]) => {
          const t = performance.now();
          const scope = await db.tx(system, (tx) => breachScope(tx, { accounts: [id], from, to }));
          into.push(performance.now() - t);
          return JSON.stringify(scope);
        };
        const a = await read(primary, times.scopePrimary);
        const b = await read(replica, times.scopeReplica);
        if (a !== b) throw new Error('bench replica: a scope read from the replica differs from the primary');
        compared++;
      }
      options.onProgress?.('reading', pass + 1, 3);
    }
    const median = (xs: number[]): number =>
      round(
        percentile(
          [...xs].sort((x, y) => x - y),
          50,
        ),
      );
    return {
      bench: 'replica',
      writesPerSecond: Math.round(writes / elapsed),
      lagBytes: p(lagBytes),
      lagMs: p(lagMs),
      catchUpSeconds: Math.round(catchUpSeconds * 100) / 100,
      historyMs: { primary: median(times.historyPrimary), replica: median(times.historyReplica) },
      scopeMs: { primary: median(times.scopePrimary), replica: median(times.scopeReplica) },
      compared,
    };
  } finally {
    await admin.end();
    await replica.close();
    await primary.close();
  }
}
