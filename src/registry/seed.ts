/**
 * Seeding the registry with a synthetic population: organisations first, then persons in chunks,
 * generated and encrypted by worker threads and written in order by this thread, one transaction per
 * chunk (a chunk is all or nothing). Deterministic for a seed on an empty registry.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
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
}

export interface SeedSummary {
  persons: number;
  organisations: number;
  seconds: number;
  personsPerSecond: number;
  retried: number;
  workers: number;
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
  const { organisations, offset } = await db.tx(ctx.actor, async (tx) => {
    const organisations = await upsertOrganisations(tx, plans);
    const [row] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons');
    return { organisations, offset: row?.n ?? 0 };
  });
  const spec: PopulationSpec = {
    seed: options.seed,
    asOf: options.asOf ?? DEFAULT_AS_OF,
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
    for (let chunk = 0; chunk < chunks; chunk++) {
      for (let k = chunk; k < chunk + 2 * makers.length; k++) request(k);
      let batch = await ahead.get(chunk)!;
      ahead.delete(chunk);
      for (let attempt = 1; ; attempt++) {
        const current = batch;
        const inserted = await db.tx(ctx.actor, (tx) => insertPersonBatch(tx, keys.kms, current));
        written += inserted.size;
        options.onProgress?.(written, options.persons);
        const missing = current.ids.filter((id) => !inserted.has(id));
        if (missing.length === 0) break;
        if (attempt > 50)
          throw new AppError('conflict', 'seeding keeps colliding with registered identifiers');
        retried += missing.length;
        batch = await makerOf(chunk).retry(chunk, missing, attempt);
      }
      makerOf(chunk).done(chunk);
    }
  } finally {
    await Promise.all(makers.map((m) => m.close()));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    persons: written,
    organisations: organisations.length,
    seconds: Math.round(seconds * 1000) / 1000,
    personsPerSecond: Math.round(written / seconds),
    retried,
    workers: workerCount,
  };
}
