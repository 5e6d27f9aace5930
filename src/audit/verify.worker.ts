/**
 * Worker thread of `rempart audit verify` (verify-workers.ts): reads the chunks of leaves it is
 * asked for over its own connection, through the sequencer's role, and recomputes their events'
 * leaves; sends back the plain data the main thread folds into the tree in order. Reads only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDb } from '../db/open.ts';
import { openPostgres } from '../db/postgres.ts';
import { checkChunk, windowTest } from './verify-rows.ts';

const options = workerData as { databaseUrl: string; from?: Date; to?: Date };
const port = parentPort!;
const inWindow = windowTest(options);
const db = createDb(await openPostgres(options.databaseUrl, { max: 1 }));

port.on('message', async (request: { id: number; lo: number; hi: number } | { close: true }) => {
  if ('close' in request) {
    await db.close();
    port.close();
    return;
  }
  try {
    const chunk = await checkChunk(db, request.lo, request.hi, inWindow);
    port.postMessage({ id: request.id, chunk });
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
port.postMessage({ ready: true });
