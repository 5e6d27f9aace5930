/**
 * `rempart bench seed`: where the time of `rempart seed` goes, per person, on this machine. Measures
 * each stage alone on one thread, in CPU time (generation, sealing: per-field encryption and blind indexes,
 * writing to the database), then the whole pipeline (worker threads plus the database), all in one
 * run so the figures compare. The sum of the stages is the CPU one person costs; divided by the
 * cores, it bounds what the pipeline can reach.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import type { Tx } from '../src/db/types.ts';
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
  /**
   * CPU cost of each stage, microseconds per person: this thread's CPU time, and for the write the
   * PostgreSQL backend's too (read from /proc when the server is on this machine; PGlite runs in
   * this thread). CPU rather than elapsed time, so that other work on the machine does not count.
   */
  stages: { generateUs: number; sealUs: number; writeUs: number; writeDatabaseUs: number; totalUs: number };
  /** The same stages in elapsed time, microseconds per person (each alone on one thread). */
  wall: { generateUs: number; sealUs: number; writeUs: number; totalUs: number };
  /** Persons per second the stages allow if every core worked without pause: cores / total. */
  boundPersonsPerSecond: number;
  /** The real pipeline (`rempart seed`) on a fresh registry. */
  pipeline: { persons: number; seconds: number; personsPerSecond: number; workers: number };
}

const round = (n: number): number => Math.round(n * 10) / 10;
const cpuUs = (u: { user: number; system: number }): number => u.user + u.system;

/**
 * The CPU time of the transaction's PostgreSQL backend from now on: returns a function giving the
 * microseconds used since, or undefined when the server's processes cannot be read (another machine).
 */
async function backendCpu(tx: Tx): Promise<() => Promise<number | undefined>> {
  const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const read = async (): Promise<number | undefined> => {
    const stat = await readFile(`/proc/${row!.pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) return undefined;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks (100 a second on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  };
  const before = await read();
  return async () => {
    const after = await read();
    return before === undefined || after === undefined ? undefined : after - before;
  };
}

/** Runs the seed benchmark on `persons` persons (stages on a quarter of them, at least 5 chunks). */
export async function benchSeed(
  base: Config,
  options: { persons: number; seed: number },
): Promise<SeedBenchSummary> {
  const stagePersons = Math.max(5 * CHUNK, Math.floor(options.persons / 4 / CHUNK) * CHUNK);
  const chunks = stagePersons / CHUNK;
  const first = await throwaway(base);
  let stages: SeedBenchSummary['stages'];
  let wall: SeedBenchSummary['wall'];
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
      let cpu = process.threadCpuUsage();
      const generated = Array.from({ length: chunks }, (_, c) => generateChunk(spec, c, CHUNK));
      const generateUs = ((performance.now() - started) * 1000) / stagePersons;
      const generateCpu = cpuUs(process.threadCpuUsage(cpu)) / stagePersons;
      sealPersons(
        keys.registry.blindIndexKeyId,
        keys.registry.blindIndex,
        generated[0]!.slice(0, 100).map((p) => ({ ...p.entry, id: randomUUID() })),
      );
      started = performance.now();
      cpu = process.threadCpuUsage();
      const batches: PersonBatch[] = generated.map((chunk) =>
        sealPersons(
          keys.registry.blindIndexKeyId,
          keys.registry.blindIndex,
          chunk.map((p) => p.entry),
        ),
      );
      const sealUs = ((performance.now() - started) * 1000) / stagePersons;
      const sealCpu = cpuUs(process.threadCpuUsage(cpu)) / stagePersons;
      started = performance.now();
      cpu = process.threadCpuUsage();
      let serverCpu = 0;
      for (const batch of batches)
        await db.tx(actor, async (tx) => {
          const backend = db.kind === 'postgres' ? await backendCpu(tx) : undefined;
          await insertPersonBatch(tx, keys.kms, batch);
          if (backend) serverCpu += (await backend()) ?? 0;
        });
      const writeUs = ((performance.now() - started) * 1000) / stagePersons;
      const writeClientCpu = cpuUs(process.threadCpuUsage(cpu)) / stagePersons;
      const writeServerCpu = serverCpu / stagePersons;
      stages = {
        generateUs: round(generateCpu),
        sealUs: round(sealCpu),
        writeUs: round(writeClientCpu + writeServerCpu),
        writeDatabaseUs: round(writeServerCpu),
        totalUs: round(generateCpu + sealCpu + writeClientCpu + writeServerCpu),
      };
      wall = {
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
        wall,
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
