import {
  ACCESS_HISTORY_SQL,
  breachScope,
  personAccessHistory,
  SCOPE_PERSONS_SQL,
} from '../src/audit/scope.ts';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { ACCOUNTS, ATTACKERS, atOf, fillAuditLog, PERSONS, personUuid, planBreach } from './audit-fill.ts';
import { percentile } from './lookup.ts';
import { withThrowawayDb } from './throwaway.ts';

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
  return withThrowawayDb(base, async (driver, db, _config) => {
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
  });
}
