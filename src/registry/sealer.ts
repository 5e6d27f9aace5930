/**
 * Sealing for `rempart import`: in this thread, or in a worker thread so that sealing (per-field
 * AES-256-GCM and blind indexes, about half the CPU of a row) runs beside the reading, the checks
 * and the database's writes (docs/BENCHMARKS.md, "Issue 15: the bulk path"). Each person
 * keeps a data key of its own and each field its own ciphertext (sealPersons): only where the
 * work runs changes.
 */
import { Worker } from 'node:worker_threads';
import type { BlindIndexKind } from '../crypto/blind-index.ts';
import { AppError } from '../errors.ts';
import type { PersonEntry } from './person.ts';
import { type PersonBatch, sealPersons } from './persons.ts';

/** A sealed batch and the CPU time its sealing took (the thread's, microseconds). */
export interface Sealed {
  batch: PersonBatch;
  cpuMicros: number;
}

/** Seals batches of persons, in order of request. */
export interface Sealer {
  seal(entries: PersonEntry[]): Promise<Sealed>;
  close(): Promise<void>;
}

/** Seals in this thread. */
export function inlineSealer(blindIndexKeyId: string, keys: Record<BlindIndexKind, Buffer>): Sealer {
  return {
    seal: async (entries) => {
      const cpu = process.threadCpuUsage();
      const batch = sealPersons(blindIndexKeyId, keys, entries);
      const used = process.threadCpuUsage(cpu);
      return { batch, cpuMicros: used.user + used.system };
    },
    close: async () => undefined,
  };
}

/** Seals in a worker thread of its own (the keys are copied to it once). */
export function workerSealer(blindIndexKeyId: string, keys: Record<BlindIndexKind, Buffer>): Sealer {
  const worker = new Worker(new URL('./seal.worker.ts', import.meta.url), {
    workerData: { blindIndexKeyId, blindIndexKeys: keys },
  });
  const waiting = new Map<number, { resolve: (s: Sealed) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.on('message', (message: { id: number; batch?: PersonBatch; cpuMicros?: number; error?: string }) => {
    const w = waiting.get(message.id);
    waiting.delete(message.id);
    if (!w) return;
    if (message.error !== undefined || !message.batch)
      w.reject(new AppError('internal', `sealing worker: ${message.error}`));
    else {
      const k = message.batch.dataKeys as Uint8Array;
      w.resolve({
        batch: { ...message.batch, dataKeys: Buffer.from(k.buffer, k.byteOffset, k.byteLength) },
        cpuMicros: message.cpuMicros ?? 0,
      });
    }
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => {
    if (code !== 0) failAll(new AppError('internal', `sealing worker exited with code ${code}`));
  });
  return {
    seal: (entries) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const id = next++;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, entries });
      }),
    close: async () => {
      failure ??= new AppError('internal', 'the sealing worker is closed');
      await worker.terminate();
    },
  };
}
