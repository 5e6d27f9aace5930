/**
 * Seeding the registry with a synthetic population: organisations first, then persons in chunks,
 * generated and encrypted by worker threads and written in order by this thread, one transaction per
 * chunk (a chunk is all or nothing). Deterministic for a seed on an empty registry.
 *
 * Resumable: a run records its parameters (seed, persons, as-of date) and the registry's size when
 * it started in seed_runs, and each chunk's transaction also records the chunk done. A run killed
 * midway and started again with the same parameters regenerates the same persons from where it
 * stopped (the generator is deterministic for a seed, a chunk and that offset), so it completes one
 * population instead of adding a second; a completed run is not repeated.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { ChunkMaker, type ChunkMakerOptions } from './chunk-maker.ts';
import { upsertOrganisations } from './organisations.ts';
import { planOrganisations } from './organisations-plan.ts';
import { insertPersonBatch, type PersonBatch, type RegistryKeys } from './persons.ts';
import { CHUNK, DEFAULT_AS_OF, type PopulationSpec, type SeedOrganisation } from './population.ts';

export interface SeedOptions {
  persons: number;
  seed: number;
  asOf?: string;
  /** Worker threads; 0 generates in this thread. Default: one per core for large populations. */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Runs in the transaction that marks the run complete (planting canaries: `rempart seed`), so it
   * runs once per run even across a kill; returns the number recorded as the run's canaries.
   */
  finish?: (tx: Tx) => Promise<number>;
}

/** A run's key in seed_runs. */
export interface SeedRun {
  seed: number;
  persons: number;
  asOf: string;
}

export interface SeedSummary {
  /** Persons written by this call (fewer than asked when it resumes a killed run; 0 when complete). */
  persons: number;
  organisations: number;
  seconds: number;
  personsPerSecond: number;
  retried: number;
  workers: number;
  /** `seeded`: a new run; `resumed`: a killed run completed; `complete`: done before, nothing added. */
  status: 'seeded' | 'resumed' | 'complete';
  run: SeedRun;
}

/** A source of sealed batches: inline, or a worker thread. */
interface Maker {
  make(chunk: number, count: number): Promise<PersonBatch>;
  retry(chunk: number, ids: string[], attempt: number): Promise<PersonBatch>;
  done(chunk: number): void;
  close(): Promise<void>;
}

function inlineMaker(options: ChunkMakerOptions): Maker {
  const maker = new ChunkMaker(options);
  return {
    make: async (chunk, count) => maker.make(chunk, count),
    retry: async (chunk, ids, attempt) => maker.retry(chunk, ids, attempt),
    done: (chunk) => maker.done(chunk),
    close: async () => undefined,
  };
}

function workerMaker(options: ChunkMakerOptions): Maker {
  const worker = new Worker(new URL('./seed.worker.ts', import.meta.url), { workerData: options });
  const waiting = new Map<number, { resolve: (b: PersonBatch) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  const failAll = (error: Error): void => {
    failure = error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  worker.on('message', (message: { id: number; batch?: PersonBatch; error?: string }) => {
    const w = waiting.get(message.id);
    waiting.delete(message.id);
    if (!w) return;
    if (message.error !== undefined || !message.batch)
      w.reject(new AppError('internal', `seeding worker: ${message.error}`));
    else {
      const keys = message.batch.dataKeys as Uint8Array;
      w.resolve({ ...message.batch, dataKeys: Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength) });
    }
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => {
    if (code !== 0) failAll(new AppError('internal', `seeding worker exited with code ${code}`));
  });
  const call = (request: Record<string, unknown>): Promise<PersonBatch> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  return {
    make: (chunk, count) => call({ type: 'make', chunk, count }),
    retry: (chunk, ids, attempt) => call({ type: 'retry', chunk, ids, attempt }),
    done: (chunk) => worker.postMessage({ id: -1, type: 'done', chunk }),
    close: async () => {
      await worker.terminate();
    },
  };
}

/** Seeds `persons` persons (and the organisations they need) into the registry. */
export async function seedPopulation(db: Db, keys: RegistryKeys, options: SeedOptions): Promise<SeedSummary> {
  if (!Number.isInteger(options.persons) || options.persons < 1) {
    throw new AppError('validation_failed', 'persons must be a positive integer', { field: 'persons' });
  }
  if (!Number.isInteger(options.seed) || options.seed < 0) {
    throw new AppError('validation_failed', 'seed must be a non-negative integer', { field: 'seed' });
  }
  const started = performance.now();
  const ctx = systemCtx('seed');
  const plans = planOrganisations(options.seed, options.persons);
  const run: SeedRun = { seed: options.seed, persons: options.persons, asOf: options.asOf ?? DEFAULT_AS_OF };
  const { organisations, offset, chunksDone, status } = await db.tx(ctx.actor, async (tx) => {
    const organisations = await upsertOrganisations(tx, plans);
    return { organisations, ...(await startRun(tx, run)) };
  });
  const spec: PopulationSpec = {
    seed: options.seed,
    asOf: run.asOf,
    offset,
    organisations: organisations.map(
      (o): SeedOrganisation => ({ id: o.id, kind: o.kind, department: o.department }),
    ),
  };
  const makerOptions: ChunkMakerOptions = {
    spec,
    blindIndexKeyId: keys.blindIndexKeyId,
    blindIndexKeys: keys.blindIndex,
  };
  const chunks = Math.ceil(options.persons / CHUNK);
  const workerCount =
    options.workers ?? (options.persons >= 5 * CHUNK ? Math.min(4, availableParallelism()) : 0);
  const makers =
    workerCount === 0
      ? [inlineMaker(makerOptions)]
      : Array.from({ length: workerCount }, () => workerMaker(makerOptions));
  const sizeOf = (chunk: number): number => Math.min(CHUNK, options.persons - chunk * CHUNK);
  const makerOf = (chunk: number): Maker => makers[chunk % makers.length]!;

  const ahead = new Map<number, Promise<PersonBatch>>();
  const request = (chunk: number): void => {
    if (chunk < chunks && !ahead.has(chunk)) {
      const promise = makerOf(chunk).make(chunk, sizeOf(chunk));
      promise.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
      ahead.set(chunk, promise);
    }
  };
  let written = 0;
  let retried = 0;
  try {
    for (let chunk = status === 'complete' ? chunks : chunksDone; chunk < chunks; chunk++) {
      for (let k = chunk; k < chunk + 2 * makers.length; k++) request(k);
      const first = await ahead.get(chunk)!;
      ahead.delete(chunk);
      // The chunk, its retries and its progress mark in one transaction: a kill leaves the chunk
      // either wholly written and counted, or not at all, and a re-run makes it again identically.
      const added = await db.tx(ctx.actor, async (tx) => {
        let batch = first;
        let count = 0;
        for (let attempt = 1; ; attempt++) {
          const inserted = await insertPersonBatch(tx, keys.kms, batch);
          count += inserted.size;
          const missing = batch.ids.filter((id) => !inserted.has(id));
          if (missing.length === 0) break;
          if (attempt > 50)
            throw new AppError('conflict', 'seeding keeps colliding with registered identifiers');
          retried += missing.length;
          batch = await makerOf(chunk).retry(chunk, missing, attempt);
        }
        await tx.query(
          'UPDATE seed_runs SET chunks_done = $4 WHERE seed = $1 AND persons = $2 AND as_of = $3',
          [run.seed, run.persons, run.asOf, chunk + 1],
        );
        return count;
      });
      written += added;
      options.onProgress?.(chunk * CHUNK + sizeOf(chunk), options.persons);
      makerOf(chunk).done(chunk);
    }
  } finally {
    await Promise.all(makers.map((m) => m.close()));
  }
  if (status !== 'complete') await completeRun(db, run, options.finish);
  const seconds = (performance.now() - started) / 1000;
  return {
    persons: written,
    organisations: organisations.length,
    seconds: Math.round(seconds * 1000) / 1000,
    personsPerSecond: Math.round(written / seconds),
    retried,
    workers: workerCount,
    status,
    run,
  };
}

/**
 * Finds or records the run: a new one starts at chunk 0 with the registry's size as its offset; a
 * killed one resumes at its next chunk with its own offset; a completed one has nothing to do.
 */
async function startRun(
  tx: Tx,
  run: SeedRun,
): Promise<{ offset: number; chunksDone: number; status: SeedSummary['status'] }> {
  // One run of a given key at a time: a second `rempart seed` with the same parameters waits here.
  await tx.query('SELECT pg_advisory_xact_lock(7236011, $1::int)', [run.seed % 2 ** 31]);
  const [existing] = await tx.query<{ person_offset: number; chunks_done: number; complete: boolean }>(
    `SELECT person_offset, chunks_done, completed_at IS NOT NULL AS complete FROM seed_runs
     WHERE seed = $1 AND persons = $2 AND as_of = $3`,
    [run.seed, run.persons, run.asOf],
  );
  if (existing) {
    return {
      offset: existing.person_offset,
      chunksDone: existing.chunks_done,
      status: existing.complete ? 'complete' : 'resumed',
    };
  }
  const [row] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons');
  const offset = row?.n ?? 0;
  await tx.query('INSERT INTO seed_runs (seed, persons, as_of, person_offset) VALUES ($1, $2, $3, $4)', [
    run.seed,
    run.persons,
    run.asOf,
    offset,
  ]);
  return { offset, chunksDone: 0, status: 'seeded' };
}

/**
 * Marks a run complete, after `finish` (planting its canaries) in the same transaction, so that they
 * are planted once: a run killed before this point plants them when it is resumed.
 */
async function completeRun(
  db: Db,
  run: SeedRun,
  finish: ((tx: Tx) => Promise<number>) | undefined,
): Promise<void> {
  await db.tx(systemCtx('seed').actor, async (tx) => {
    const canaries = finish ? await finish(tx) : null;
    await tx.query(
      `UPDATE seed_runs SET completed_at = now(), canaries = $4 WHERE seed = $1 AND persons = $2 AND as_of = $3`,
      [run.seed, run.persons, run.asOf, canaries],
    );
  });
}
