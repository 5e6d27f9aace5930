/** Worker thread of `rempart import`: seals batches of persons on request (see sealer.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { BlindIndexKind } from '../crypto/blind-index.ts';
import type { PersonEntry } from './person.ts';
import { sealPersons } from './persons.ts';

const options = workerData as { blindIndexKeyId: string; blindIndexKeys: Record<BlindIndexKind, Uint8Array> };
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const keys: Record<BlindIndexKind, Buffer> = {
  nir: buf(options.blindIndexKeys.nir),
  agency_id: buf(options.blindIndexKeys.agency_id),
  name_birth: buf(options.blindIndexKeys.name_birth),
  email: buf(options.blindIndexKeys.email),
};
const port = parentPort!;

port.on('message', (request: { id: number; entries: PersonEntry[] }) => {
  try {
    const cpu = process.threadCpuUsage();
    const batch = sealPersons(options.blindIndexKeyId, keys, request.entries);
    const used = process.threadCpuUsage(cpu);
    port.postMessage({ id: request.id, batch, cpuMicros: used.user + used.system }, [
      batch.dataKeys.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    // The message of a sealing error names a field at most (AppError), never a value.
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
