/**
 * `rempart bench retention`: a retention run over a seeded registry. Seeds a throwaway registry (a
 * temporary PGlite folder, or a new database on the PostgreSQL server of DATABASE_URL) whose
 * deregistrations spread over 25 years (src/registry/population.ts), then times the first run as of
 * today, the worst one: every archive and destruction due since the oldest deregistration at once.
 * A second run follows, as the daily job's would the next day (nothing or little to do: the cost of
 * the scan alone). Seeding is not counted.
 */
import type { Config } from '../src/config.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { retentionDay } from '../src/retention/job.ts';
import type { RetentionAction } from '../src/retention/periods.ts';
import { runRetention } from '../src/retention/run.ts';
import { throwaway } from './throwaway.ts';

export interface RetentionBenchSummary {
  bench: 'retention';
  engine: 'pglite' | 'postgres';
  persons: number;
  seedSeconds: number;
  asOf: string;
  /** The first run: everything due at once. */
  runSeconds: number;
  actions: Record<RetentionAction, number>;
  inconsistent: number;
  /** The next day's run: the scan, with (almost) nothing left to do. */
  nextRunSeconds: number;
  nextActions: Record<RetentionAction, number>;
}

/** Runs the retention benchmark. */
export async function benchRetention(
  base: Config,
  options: {
    persons: number;
    seed: number;
    onProgress?: (stage: string, done: number, total: number) => void;
  },
): Promise<RetentionBenchSummary> {
  const { config, cleanup } = await throwaway(base);
  try {
    const keys = await openKeys(config, { create: true });
    const db = await openDb(config);
    try {
      const seeded = await seedPopulation(db, keys.registry, {
        persons: options.persons,
        seed: options.seed,
        onProgress: (done, total) => options.onProgress?.('seeding', done, total),
      });
      const at = new Date();
      const asOf = retentionDay(at);
      const run = async (day: string, when: Date) => {
        const report = await runRetention(db, {
          asOf: day,
          periods: config.retention.periods,
          dryRun: false,
          trigger: 'cli',
          at: when,
          onProgress: (done) => options.onProgress?.('retention', done, options.persons),
        });
        if (!report) throw new Error('the run was not recorded');
        return report;
      };
      const first = await run(asOf, at);
      const tomorrow = new Date(at.getTime() + 86_400_000);
      const next = await run(retentionDay(tomorrow), tomorrow);
      return {
        bench: 'retention',
        engine: db.kind,
        persons: options.persons,
        seedSeconds: seeded.seconds,
        asOf,
        runSeconds: first.seconds,
        actions: first.actions,
        inconsistent: first.inconsistent,
        nextRunSeconds: next.seconds,
        nextActions: next.actions,
      };
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}
