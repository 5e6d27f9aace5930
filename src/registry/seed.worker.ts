/** Worker thread of `rempart seed`: generates and seals chunks on request (see chunk-maker.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkMaker, type ChunkMakerOptions } from './chunk-maker.ts';

export type WorkerRequest =
  | { id: number; type: 'make'; chunk: number; count: number }
  | { id: number; type: 'retry'; chunk: number; ids: string[]; attempt: number }
  | { id: number; type: 'done'; chunk: number };

const maker = new ChunkMaker(workerData as ChunkMakerOptions);
const port = parentPort!;

port.on('message', (request: WorkerRequest) => {
  try {
    if (request.type === 'done') {
      maker.done(request.chunk);
      return;
    }
    const batch =
      request.type === 'make'
        ? maker.make(request.chunk, request.count)
        : maker.retry(request.chunk, request.ids, request.attempt);
    port.postMessage({ id: request.id, batch }, [batch.dataKeys.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
