/**
 * `rempart bench seed`: where the time of `rempart seed` goes, per person, on this machine. Times
 * each stage alone on one thread (generation, sealing: per-field encryption and blind indexes,
 * writing to the database), then the whole pipeline (worker threads plus the database), all in one
 * run so the figures compare. The sum of the stages is the CPU one person costs; divided by the
 * cores, it bounds what the pipeline can reach.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { upsertOrganisations } from '../src/registry/organisations.ts';
import { planOrganisations } from '../src/registry/organisations-plan.ts';
import { insertPersonBatch, type PersonBatch, sealPersons } from '../src/registry/persons.ts';
import { CHUNK, DEFAULT_AS_OF, generateChunk, type PopulationSpec } from '../src/registry/population.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { throwaway } from './throwaway.ts';

export interface SeedBenchSummary {
  bench: 'seed';
  engine: 'pglite' | 'postgres';
  cores: number;
  /** Single-thread cost of each stage, microseconds per person. */
  stages: { generateUs: number; sealUs: number; writeUs: number; totalUs: number };
  /** Persons per second the stages allow if every core worked without pause: cores / total. */
  boundPersonsPerSecond: number;
  /** The real pipeline (`rempart seed`) on a fresh registry. */
  pipeline: { persons: number; seconds: number; personsPerSecond: number; workers: number };
}

const round = (n: number): number => Math.round(n * 10) / 10;

/** Runs the seed benchmark on `persons` persons (stages on a quarter of them, at least 5 chunks). */
export async function benchSeed(
  base: Config,
  options: { persons: number; seed: number },
): Promise<SeedBenchSummary> {
  const stagePersons = Math.max(5 * CHUNK, Math.floor(options.persons / 4 / CHUNK) * CHUNK);
  const chunks = stagePersons / CHUNK;
  const first = await throwaway(base);
  let stages: SeedBenchSummary['stages'];
  let engine: SeedBenchSummary['engine'];
  try {
    const keys = await openKeys(first.config, { create: true });
    const db = await openDb(first.config);
    engine = db.kind;
    try {
      const actor = systemCtx('bench').actor;
      const organisations = await db.tx(actor, (tx) =>
        upsertOrganisations(tx, planOrganisations(options.seed, stagePersons)),
      );
      const spec: PopulationSpec = {
        seed: options.seed,
        asOf: DEFAULT_AS_OF,
        offset: 0,
        organisations: organisations.map((o) => ({ id: o.id, kind: o.kind, department: o.department })),
      };
      generateChunk(spec, chunks, CHUNK); // warm-up: places table, JIT
      let started = performance.now();
      const generated = Array.from({ length: chunks }, (_, c) => generateChunk(spec, c, CHUNK));
      const generateUs = ((performance.now() - started) * 1000) / stagePersons;
      sealPersons(
        keys.registry.blindIndexKeyId,
        keys.registry.blindIndex,
        generated[0]!.slice(0, 100).map((p) => ({ ...p.entry, id: randomUUID() })),
      );
      started = performance.now();
      const batches: PersonBatch[] = generated.map((chunk) =>
        sealPersons(
          keys.registry.blindIndexKeyId,
          keys.registry.blindIndex,
          chunk.map((p) => p.entry),
        ),
      );
      const sealUs = ((performance.now() - started) * 1000) / stagePersons;
      started = performance.now();
      for (const batch of batches) await db.tx(actor, (tx) => insertPersonBatch(tx, keys.kms, batch));
      const writeUs = ((performance.now() - started) * 1000) / stagePersons;
      stages = {
        generateUs: round(generateUs),
        sealUs: round(sealUs),
        writeUs: round(writeUs),
        totalUs: round(generateUs + sealUs + writeUs),
      };
    } finally {
      await db.close();
    }
  } finally {
    await first.cleanup();
  }
  const second = await throwaway(base);
  try {
    const keys = await openKeys(second.config, { create: true });
    const db = await openDb(second.config);
    try {
      const run = await seedPopulation(db, keys.registry, { persons: options.persons, seed: options.seed });
      const cores = availableParallelism();
      return {
        bench: 'seed',
        engine,
        cores,
        stages,
        boundPersonsPerSecond: Math.round((cores * 1e6) / stages.totalUs),
        pipeline: {
          persons: run.persons,
          seconds: run.seconds,
          personsPerSecond: run.personsPerSecond,
          workers: run.workers,
        },
      };
    } finally {
      await db.close();
    }
  } finally {
    await second.cleanup();
  }
}
