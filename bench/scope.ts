/**
 * `rempart bench scope`: the audit log's breach scope and person history at scale (docs/DESIGN.md
 * section 7; T7). Fills a throwaway database's audit_events and audit_event_persons with N synthetic
 * events by set-based SQL through the owner connection (indexes dropped during the fill and rebuilt
 * after, so the measured queries run on ordinary logged tables with the real indexes), plants a
 * known breach (attacker accounts whose window touches exactly `scopePersons` persons, with refused
 * events, matches without fields, and events just outside the window), then times `breachScope` and
 * `personAccessHistory` as the CLI runs them (application role, RLS) and checks the answers.
 */
import path from 'node:path';
import {
  ACCESS_HISTORY_SQL,
  breachScope,
  personAccessHistory,
  SCOPE_PERSONS_SQL,
} from '../src/audit/scope.ts';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb } from '../src/db/open.ts';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { ACCOUNTS, ATTACKERS, atOf, fillAuditLog, PERSONS, personUuid, planBreach } from './audit-fill.ts';
import { percentile } from './lookup.ts';
import { throwaway } from './throwaway.ts';

/** The size of the synthetic log and of the planted breach. */
export interface ScopeBenchOptions {
  events: number;
  scopePersons: number;
  /** Timed runs of the scope query. */
  runs?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** The figures (the JSON line of `rempart bench scope --json`). */
export interface ScopeBenchSummary {
  bench: 'scope';
  engine: 'pglite' | 'postgres';
  events: number;
  scopePersons: number;
  /** Events (allowed) by the attacker accounts in the window. */
  scopeEvents: number;
  accounts: number;
  persons: number;
  runs: number;
  scopeMs: { p50: number; max: number };
  historyMs: { p50: number; max: number };
  fillSeconds: number;
  indexSeconds: number;
  /** EXPLAIN ANALYZE of the scope's person query, under the application role. */
  plan: string[];
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
const stats = (times: number[]): { p50: number; max: number } => {
  const sorted = [...times].sort((x, y) => x - y);
  return { p50: round(percentile(sorted, 50)), max: round(sorted[sorted.length - 1]!) };
};

/** Runs the scope benchmark; throws if a scope or a history is not exactly the planted one. */
export async function benchScope(base: Config, options: ScopeBenchOptions): Promise<ScopeBenchSummary> {
  const p = planBreach(options.events, options.scopePersons);
  const runs = options.runs ?? 7;
  const { config, cleanup } = await throwaway(base);
  try {
    const driver =
      config.databaseUrl !== undefined
        ? await openPostgres(config.databaseUrl, { max: 2 })
        : await openPglite(path.join(config.dataDir, 'pglite'));
    const db = createDb(driver);
    try {
      await migrate(driver);
      const { fillSeconds, indexSeconds } = await fillAuditLog(driver, options.events, p, options.onProgress);
      const actor = systemCtx('bench-scope').actor;
      const request = { accounts: ATTACKERS, from: atOf(p.a), to: atOf(p.b) };
      const scopeTimes: number[] = [];
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        const scope = await db.tx(actor, (tx) => breachScope(tx, request));
        scopeTimes.push(performance.now() - started);
        const wrong = scope.persons.filter((person) => {
          const want = p.expected.get(person.personId);
          return !want || person.events !== 2 || [...want].sort().join(',') !== person.fields.join(',');
        });
        if (
          scope.personCount !== options.scopePersons ||
          wrong.length > 0 ||
          scope.events !== p.allowed + p.empty
        ) {
          throw new Error(
            `bench scope: wrong scope: ${scope.personCount} persons (planted ${options.scopePersons}), ` +
              `${wrong.length} with wrong fields or events, ${scope.events} events (planted ${p.allowed + p.empty})`,
          );
        }
        options.onProgress?.('scope', run + 1, runs);
      }
      const explained = await db.tx(actor, (tx) =>
        tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${SCOPE_PERSONS_SQL}`, [
          request.accounts,
          request.from,
          request.to,
        ]),
      );
      const planLines = explained.map((row) => row['QUERY PLAN']);
      if (!planLines.some((line) => line.includes('audit_event_persons_account'))) {
        throw new Error(
          `bench scope: the scope does not use audit_event_persons_account:\n${planLines.join('\n')}`,
        );
      }
      // Histories: planted persons (their two attacker events among ~10 others) and background ones.
      const historyTimes: number[] = [];
      const sample = [0, 1, 2, 3, 4].map((j) => Math.floor((j * options.scopePersons) / 5));
      const people = [
        ...sample.map((j) => ({ id: personUuid(j), planted: true })),
        ...[101, 20_202, 303_303, 404_404, 999_999].map((n) => ({ id: personUuid(n), planted: false })),
      ];
      for (const person of [...people, ...people]) {
        const started = performance.now();
        const history = await db.tx(actor, (tx) => personAccessHistory(tx, person.id));
        historyTimes.push(performance.now() - started);
        const attackers = history.filter((e) => e.accountId !== null && ATTACKERS.includes(e.accountId));
        const ordered = history.every((e, i) => i === 0 || history[i - 1]!.at.getTime() >= e.at.getTime());
        if (!ordered || (person.planted && attackers.length !== 2)) {
          throw new Error(`bench scope: wrong history for ${person.id}`);
        }
        if (attackers.some((e) => e.organisationName !== 'Mission locale bench')) {
          throw new Error('bench scope: a history entry lacks its organisation name');
        }
      }
      const historyPlan = await db.tx(actor, (tx) =>
        tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${ACCESS_HISTORY_SQL}`, [
          personUuid(0),
          '-infinity',
          'infinity',
          200,
        ]),
      );
      if (!historyPlan.some((row) => row['QUERY PLAN'].includes('audit_event_persons_person'))) {
        throw new Error('bench scope: the history does not use audit_event_persons_person');
      }
      return {
        bench: 'scope',
        engine: db.kind,
        events: options.events,
        scopePersons: options.scopePersons,
        scopeEvents: p.allowed + p.empty,
        accounts: ACCOUNTS + ATTACKERS.length,
        persons: PERSONS,
        runs,
        scopeMs: stats(scopeTimes),
        historyMs: stats(historyTimes),
        fillSeconds: Math.round(fillSeconds * 10) / 10,
        indexSeconds: Math.round(indexSeconds * 10) / 10,
        plan: planLines,
      };
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}
