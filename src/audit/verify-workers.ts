/**
 * Where `audit verify` gets its chunks, in leaf order (verify.ts folds them into the tree one after
 * the other): read and recomputed in this thread, the next one read while this one is checked; or,
 * on a PostgreSQL server, by worker threads (verify.worker.ts), each with its own connection, a few
 * chunks ahead. Memory stays a few chunks whatever the log's size.
 */
import { Worker } from 'node:worker_threads';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { type CheckedChunk, checkChunk, type Window, windowTest } from './verify-rows.ts';

export interface ChunkPlan extends Window {
  size: number;
  chunkSize: number;
  /** Read the next chunk while checking this one (in this thread; default true). */
  readAhead?: boolean;
  /** Worker threads, each with its own connection to `databaseUrl` (0: this thread only). */
  workers?: number;
  databaseUrl?: string;
}

/** The chunks [lo, lo + chunkSize) of the log, in order. */
export async function* chunksInOrder(db: Db, plan: ChunkPlan): AsyncGenerator<CheckedChunk & { hi: number }> {
  const starts: number[] = [];
  for (let lo = 0; lo < plan.size; lo += plan.chunkSize) starts.push(lo);
  const hiOf = (lo: number): number => Math.min(plan.size, lo + plan.chunkSize);
  const workers = plan.databaseUrl === undefined ? 0 : (plan.workers ?? 0);
  if (workers === 0) {
    const inWindow = windowTest(plan);
    const ahead = plan.readAhead ?? true;
    const read = (i: number): Promise<CheckedChunk> | undefined => {
      const lo = starts[i];
      if (lo === undefined) return undefined;
      const pending = checkChunk(db, lo, hiOf(lo), inWindow);
      // A failed read ahead is reported when its turn comes, not as an unhandled rejection now.
      pending.catch(() => undefined);
      return pending;
    };
    let next = read(0);
    for (let i = 0; i < starts.length; i++) {
      const chunk = await next!;
      next = ahead ? read(i + 1) : undefined;
      yield { ...chunk, hi: hiOf(starts[i]!) };
      next ??= read(i + 1);
    }
    return;
  }
  const pool = await startWorkers(workers, plan);
  try {
    const inFlight: Promise<CheckedChunk>[] = [];
    const depth = 2 * workers;
    let sent = 0;
    const send = (): void => {
      const lo = starts[sent];
      if (lo === undefined) return;
      const pending = pool.ask(sent % workers, lo, hiOf(lo));
      pending.catch(() => undefined);
      inFlight.push(pending);
      sent += 1;
    };
    while (sent < Math.min(depth, starts.length)) send();
    for (let i = 0; i < starts.length; i++) {
      const chunk = await inFlight.shift()!;
      send();
      yield { ...chunk, hi: hiOf(starts[i]!) };
    }
  } finally {
    await pool.close();
  }
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** A chunk as it crossed from a worker: its byte strings are Uint8Arrays again, made Buffers here. */
function revive(chunk: CheckedChunk): CheckedChunk {
  return {
    ...chunk,
    leaves: chunk.leaves.map((l) => ({ ...l, hash: asBuffer(l.hash) })),
    recomputed: new Map([...chunk.recomputed].map(([id, h]) => [id, asBuffer(h)])),
    nodes: new Map([...chunk.nodes].map(([key, h]) => [key, asBuffer(h)])),
  };
}

interface Pool {
  ask(worker: number, lo: number, hi: number): Promise<CheckedChunk>;
  close(): Promise<void>;
}

async function startWorkers(count: number, plan: ChunkPlan): Promise<Pool> {
  const waiting = new Map<number, { resolve(chunk: CheckedChunk): void; reject(error: Error): void }>();
  let nextId = 0;
  const failAll = (error: Error): void => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  const started = await Promise.allSettled(
    Array.from(
      { length: count },
      () =>
        new Promise<Worker>((resolve, reject) => {
          const worker = new Worker(new URL('./verify.worker.ts', import.meta.url), {
            workerData: { databaseUrl: plan.databaseUrl, from: plan.from, to: plan.to },
          });
          worker.once('error', reject);
          worker.on(
            'message',
            (message: { ready?: true; id?: number; chunk?: CheckedChunk; error?: string }) => {
              if (message.ready) {
                worker.off('error', reject);
                worker.on('error', (error) => failAll(error));
                resolve(worker);
                return;
              }
              const w = waiting.get(message.id!);
              if (!w) return;
              waiting.delete(message.id!);
              if (message.error !== undefined) {
                w.reject(
                  new AppError(
                    'database_unavailable',
                    `audit verify: a worker could not read: ${message.error}`,
                  ),
                );
              } else {
                w.resolve(revive(message.chunk!));
              }
            },
          );
        }),
    ),
  );
  const threads = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // One could not start (its connection refused): the others are stopped, nothing is left running.
    await Promise.all(threads.map((t) => t.terminate()));
    throw new AppError(
      'database_unavailable',
      `audit verify: a worker could not start: ${(failed.reason as Error)?.message ?? String(failed.reason)}`,
    );
  }
  return {
    ask(worker, lo, hi) {
      const id = nextId++;
      return new Promise<CheckedChunk>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        threads[worker]!.postMessage({ id, lo, hi });
      });
    },
    async close() {
      await Promise.all(
        threads.map(
          (t) =>
            new Promise<void>((resolve) => {
              t.once('exit', () => resolve());
              t.postMessage({ close: true });
              // A worker that does not end by itself is stopped.
              setTimeout(() => void t.terminate(), 5000).unref();
            }),
        ),
      );
    },
  };
}
