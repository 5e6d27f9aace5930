/**
 * `rempart bench lookup`: lookup latency at scale. Seeds a throwaway registry (a temporary PGlite
 * folder, or a new database on the PostgreSQL server of DATABASE_URL), then times exact lookups
 * by NIR, by name + first name + birth date, and by agency id, each as the application runs them:
 * a transaction under the application role, the blind-index query, unwrapping the candidate's data
 * key and decrypting the matched fields to confirm.
 */
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { findPersonIds, openIdentity, type PersonQuery } from '../src/registry/persons.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { throwaway } from './throwaway.ts';

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface LookupBenchSummary {
  bench: 'lookup';
  engine: 'pglite' | 'postgres';
  persons: number;
  seedSeconds: number;
  personsPerSecond: number;
  samples: number;
  nir: LatencySummary;
  nameBirth: LatencySummary;
  agencyId: LatencySummary;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function summarise(times: number[]): LatencySummary {
  const sorted = [...times].sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    meanMs: round(sorted.reduce((s, t) => s + t, 0) / sorted.length),
  };
}

export interface LookupBenchOptions {
  persons: number;
  seed: number;
  samples: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** Runs the lookup benchmark. */
export async function benchLookup(base: Config, options: LookupBenchOptions): Promise<LookupBenchSummary> {
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
      const actor = systemCtx('bench').actor;
      // Sample persons spread over the registry, and read their identifiers (not timed).
      const ids = await db.tx(actor, (tx) =>
        tx.query<{ id: string }>(`SELECT id FROM persons ORDER BY md5(id::text || $1) LIMIT $2`, [
          String(options.seed),
          options.samples,
        ]),
      );
      const identities = await db.tx(actor, async (tx) => {
        const out = [];
        for (const { id } of ids) {
          out.push({
            id,
            identity: (await openIdentity(tx, keys.registry, id, [
              'nir',
              'agencyId',
              'lastName',
              'firstNames',
              'birthDate',
            ]))!,
          });
        }
        return out;
      });
      const time = async (
        label: string,
        make: (i: (typeof identities)[number]) => PersonQuery,
      ): Promise<number[]> => {
        const times: number[] = [];
        // Warm-up: the first queries plan statements and fill caches.
        for (const sample of identities.slice(0, 50))
          await db.tx(actor, (tx) => findPersonIds(tx, keys.registry, make(sample)));
        for (const [i, sample] of identities.entries()) {
          const started = performance.now();
          const found = await db.tx(actor, (tx) => findPersonIds(tx, keys.registry, make(sample)));
          times.push(performance.now() - started);
          if (!found.includes(sample.id)) throw new Error(`bench: a ${label} lookup missed its person`);
          options.onProgress?.(label, i + 1, identities.length);
        }
        return times;
      };
      const nir = await time('nir', (s) => ({ by: 'nir', nir: s.identity.nir }));
      const nameBirth = await time('nameBirth', (s) => ({
        by: 'nameBirth',
        lastName: s.identity.lastName,
        firstName: s.identity.firstNames,
        birthDate: s.identity.birthDate,
      }));
      const agencyId = await time('agencyId', (s) => ({ by: 'agencyId', agencyId: s.identity.agencyId }));
      return {
        bench: 'lookup',
        engine: db.kind,
        persons: seeded.persons,
        seedSeconds: seeded.seconds,
        personsPerSecond: seeded.personsPerSecond,
        samples: identities.length,
        nir: summarise(nir),
        nameBirth: summarise(nameBirth),
        agencyId: summarise(agencyId),
      };
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}
