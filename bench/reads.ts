/**
 * `rempart bench reads`: the reads that must hold at size (issue 18), timed on the population that
 * `rempart bench populate` built in the configured database:
 *  - `rempart audit scope` for one account over one month (breachScope, as the CLI runs it), for
 *    accounts spread over the population, each checked against an independent count of the
 *    account's events and persons in the month;
 *  - a person's access history as the portal serves it (myHistory: the page of the newest 100
 *    accesses, each with its inclusion proof against the latest checkpoint), for the population's
 *    hot persons (about 1,000 events each at 10,000,000 events), each page checked complete;
 *  - with `verify`, `rempart audit verify` over the whole log (worker threads on a server).
 * The portal reads are real accesses: each one adds its own audit event (`portal.access_history`),
 * sequenced before the verification, as in service.
 */
import { availableParallelism } from 'node:os';
import { breachScope } from '../src/audit/scope.ts';
import { sequenceBatch, signCheckpointNow } from '../src/audit/sequencer.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { AppError } from '../src/errors.ts';
import { HISTORY_PAGE, myHistory } from '../src/portal/history.ts';
import { percentile } from './lookup.ts';

export interface ReadsBenchOptions {
  /** Accounts whose month is scoped (default 20). */
  accounts?: number;
  /** Passes over the accounts and the hot persons (default 3); the first is reported apart (cold). */
  rounds?: number;
  /** Also time `audit verify` over the whole log. */
  verify?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
}

interface Timing {
  p50: number;
  p95: number;
  max: number;
  /** The first pass alone (pages not yet in memory). */
  firstP50: number;
}

export interface ReadsBenchSummary {
  bench: 'reads';
  engine: 'pglite' | 'postgres';
  persons: number;
  events: number;
  /** Milliseconds per scope of one account over one month; how many events and persons it found. */
  scopeMs: Timing & { accounts: number; eventsEach: number; personsEach: number };
  /** Milliseconds per portal history page; how many accesses each hot person has, and per page. */
  historyMs: Timing & { persons: number; accessesEach: number; entriesPerPage: number };
  verify: { seconds: number; eventsPerSecond: number; workers: number } | null;
}

const round = (x: number): number => Math.round(x * 10) / 10;

function timing(all: number[], first: number[]): Timing {
  const sorted = [...all].sort((a, b) => a - b);
  const firstSorted = [...first].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    max: round(sorted[sorted.length - 1]!),
    firstP50: round(percentile(firstSorted, 50)),
  };
}

export async function benchReads(config: Config, options: ReadsBenchOptions): Promise<ReadsBenchSummary> {
  const wantedAccounts = options.accounts ?? 20;
  const rounds = options.rounds ?? 3;
  const keys = await openKeys(config);
  const db = await openDb(config);
  const system = systemCtx('bench-reads').actor;
  try {
    const [population] = await db.tx(system, (tx) =>
      tx.query<{ t: string | null }>(`SELECT to_regclass('bench_population')::text AS t`),
    );
    if (population!.t === null)
      throw new AppError('not_found', 'no population in this database: run `rempart bench populate` first');
    // The population's own tables are the owner's: read through the system actor's view of
    // accounts and the log instead (the populate accounts are named populate-N).
    const accounts = await db.tx(system, (tx) =>
      tx.query<{ id: string }>(
        `SELECT id FROM accounts WHERE login LIKE 'populate-%' ORDER BY md5(id::text) LIMIT $1`,
        [wantedAccounts],
      ),
    );
    const [span] = await db.tx(system, (tx) =>
      tx.query<{ persons: number; events: number; last: Date }>(
        `SELECT (SELECT count(*)::int FROM persons) AS persons, (SELECT count(*)::int FROM audit_leaves) AS events,
           (SELECT max(occurred_at) FROM audit_events WHERE request_id LIKE 'populate-%') AS last`,
      ),
    );
    if (accounts.length === 0 || span!.last === null)
      throw new AppError('not_found', 'the population is not complete: run `rempart bench populate` again');
    // The month before the log's last event.
    const to = span!.last;
    const from = new Date(to.getTime() - 30 * 86_400_000);
    // The hot persons: the first of the population in id order (bench/populate.ts, HOT).
    const hot = await db.tx(system, (tx) =>
      tx.query<{ person_id: string; n: number }>(
        `SELECT p.id AS person_id, (SELECT count(*)::int FROM audit_event_persons l WHERE l.person_id = p.id) AS n
         FROM (SELECT id FROM persons ORDER BY id LIMIT 10) p ORDER BY p.id`,
      ),
    );
    // Accesses recorded since the population was built (earlier runs of this bench) go into the tree
    // and a checkpoint first, so that every page's proofs lead to one.
    const sequencing = { signer: keys.checkpointSigner, checkpointEvents: 100_000, checkpointSeconds: 3600 };
    while ((await sequenceBatch(db, sequencing)).sequenced > 0);
    await signCheckpointNow(db, sequencing);

    const scopeAll: number[] = [];
    const scopeFirst: number[] = [];
    const historyAll: number[] = [];
    const historyFirst: number[] = [];
    let eventsFound = 0;
    let personsFound = 0;
    let entries = 0;
    const total = rounds * (accounts.length + hot.length);
    let done = 0;
    for (let pass = 0; pass < rounds; pass++) {
      for (const { id } of accounts) {
        const started = performance.now();
        const scope = await db.tx(system, (tx) => breachScope(tx, { accounts: [id], from, to }));
        const ms = performance.now() - started;
        scopeAll.push(ms);
        if (pass === 0) {
          scopeFirst.push(ms);
          // Checked against a count that does not use the scope's query.
          const [want] = await db.tx(system, (tx) =>
            tx.query<{ events: number; persons: number }>(
              `SELECT count(*)::int AS events, count(DISTINCT l.person_id)::int AS persons
               FROM audit_events e JOIN audit_event_persons l ON l.event_id = e.id
               WHERE e.account_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.decision = 'allow'`,
              [id, from, to],
            ),
          );
          if (scope.events !== want!.events || scope.personCount !== want!.persons)
            throw new Error(
              `bench reads: the scope of an account found ${scope.events} events and ${scope.personCount} persons, ` +
                `the log holds ${want!.events} and ${want!.persons}`,
            );
          eventsFound += scope.events;
          personsFound += scope.personCount;
        }
        options.onProgress?.('reads', ++done, total);
      }
      for (const { person_id, n } of hot) {
        const started = performance.now();
        const page = await myHistory(
          db,
          person_id,
          { sessionRef: null, requestId: `bench-reads-${pass}`, sourceAddress: null, at: new Date() },
          { verifierKey: keys.checkpointSigner.verifierKey, showStaffNames: false },
        );
        const ms = performance.now() - started;
        historyAll.push(ms);
        if (pass === 0) historyFirst.push(ms);
        const proved = page.entries.filter((e) => e.proof !== null).length;
        // Each call records the person's own access first, newest, not yet in a checkpoint: the
        // earlier passes' and this one's have no proof.
        const want = Math.min(HISTORY_PAGE, n + pass + 1);
        if (page.entries.length !== want || proved < want - pass - 1)
          throw new Error(
            `bench reads: a history page holds ${page.entries.length} entries (${proved} with proofs) for ${n} accesses`,
          );
        entries += page.entries.length;
        options.onProgress?.('reads', ++done, total);
      }
    }

    let verify: ReadsBenchSummary['verify'] = null;
    if (options.verify) {
      while ((await sequenceBatch(db, sequencing)).sequenced > 0);
      const workers = config.databaseUrl === undefined ? 0 : availableParallelism();
      const started = performance.now();
      const report = await verifyAudit(db, {
        verifierKey: keys.checkpointSigner.verifierKey,
        ...(workers > 0 && config.databaseUrl !== undefined
          ? { workers, databaseUrl: config.databaseUrl }
          : {}),
        onProgress: (d, t) => options.onProgress?.('verifying', d, t),
      });
      const seconds = (performance.now() - started) / 1000;
      if (!report.ok) throw new Error(`bench reads: audit verify found ${report.problemCount} problems`);
      verify = { seconds: round(seconds), eventsPerSecond: Math.round(report.events / seconds), workers };
    }
    return {
      bench: 'reads',
      engine: db.kind,
      persons: span!.persons,
      events: span!.events,
      scopeMs: {
        ...timing(scopeAll, scopeFirst),
        accounts: accounts.length,
        eventsEach: Math.round(eventsFound / accounts.length),
        personsEach: Math.round(personsFound / accounts.length),
      },
      historyMs: {
        ...timing(historyAll, historyFirst),
        persons: hot.length,
        accessesEach: Math.round(hot.reduce((s, h) => s + h.n, 0) / Math.max(1, hot.length)),
        entriesPerPage: Math.round(entries / Math.max(1, hot.length * rounds)),
      },
      verify,
    };
  } finally {
    await db.close();
  }
}
