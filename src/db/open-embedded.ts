/**
 * Opening the embedded database (PGlite in `<dataDir>/pglite`): one process only ever opens the
 * folder (pglite-lock.ts). The process that takes the lock opens PGlite; a `rempart serve` also
 * shares it over a socket (pglite-share.ts). A process that finds the folder held by a live server
 * sharing it connects to that server's socket instead; held by anything else (a CLI command, a
 * server still starting or stopping), it waits a few seconds for the folder, then refuses with one
 * line naming the holder.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError } from '../errors.ts';
import { COMPACT_SETTINGS, openPgliteInstance, pgliteDriver, sessionLock } from './pglite.ts';
import { commandName, type HeldLock, type LockHolder, tryLock } from './pglite-lock.ts';
import { type SharedSession, SOCKET_PORT, shareSession, socketDirOf } from './pglite-share.ts';
import { openPostgres } from './postgres.ts';
import type { Driver, TxSettings } from './types.ts';

/** How long a process waits for a folder held by another (a server starting, a short command). */
export const LOCK_WAIT_MS = 10_000;

/** Opens the PGlite folder of `dataDir`, or the server's socket when a server holds it. */
export async function openEmbedded(
  dataDir: string,
  options: { share?: boolean; compact?: boolean; waitMs?: number } = {},
): Promise<Driver> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
  let lastError: unknown;
  for (;;) {
    const got = await tryLock(dataDir, commandName());
    if ('release' in got) return openHeld(dataDir, got, options.share === true, options.compact === true);
    if (got.socketDir !== undefined) {
      try {
        return await openServed(got);
      } catch (error) {
        // The server is stopping (its socket is gone) or not yet listening: try the lock again.
        lastError = error;
      }
    }
    if (Date.now() >= deadline) throw inUse(dataDir, got, lastError);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * We hold the folder: open PGlite (with small buffers if `compact`), share it if asked; closing
 * releases the lock last.
 */
async function openHeld(dataDir: string, lock: HeldLock, share: boolean, compact: boolean): Promise<Driver> {
  let shared: SharedSession | undefined;
  try {
    const dir = path.join(dataDir, 'pglite');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const pglite = await openPgliteInstance(dir, compact ? COMPACT_SETTINGS : []);
    const session = sessionLock();
    try {
      if (share) {
        shared = await shareSession(pglite, session, socketDirOf(dataDir));
        await lock.announce(shared.socketDir);
      }
    } catch (error) {
      await shared?.close(0);
      await pglite.close();
      throw error;
    }
    const driver = pgliteDriver(pglite, session, async () => {
      await shared?.close();
    });
    return {
      ...driver,
      async close() {
        try {
          await driver.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** A live server shares the folder: reach its PGlite through its socket, one connection. */
async function openServed(holder: LockHolder): Promise<Driver> {
  // One connection: the server runs one transaction at a time anyway, and a second connection of
  // this process would wait for the first forever if the first waited for it.
  const driver = await openPostgres({ socketDir: holder.socketDir!, port: SOCKET_PORT }, { max: 1 });
  const lost = (error: unknown): unknown =>
    isConnectionLoss(error)
      ? new AppError(
          'database_unavailable',
          `the connection to the Rempart server sharing the embedded database (process ${holder.pid}) was lost: it stopped or restarted before this command finished; its transaction under way is rolled back; run the command again`,
          { cause: error },
        )
      : error;
  return {
    kind: 'pglite',
    servedBy: holder.pid,
    transaction: (fn, settings) =>
      driver.transaction(fn, settings).catch((error: unknown) => {
        throw lost(error);
      }),
    readOnly: <R>(sql: string, params: readonly unknown[], settings?: TxSettings) =>
      driver.readOnly<R>(sql, params, settings).catch((error: unknown) => {
        throw lost(error);
      }),
    close: () => driver.close(),
  };
}

/** A broken or refused connection, as opposed to an error the database answered with. */
function isConnectionLoss(error: unknown): boolean {
  if (isAppError(error) || typeof error !== 'object' || error === null) return false;
  if ('severity' in error) return false; // pg's DatabaseError: the server answered
  const { code, message } = error as { code?: string; message?: string };
  return (
    ['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ENOENT'].includes(code ?? '') ||
    /Connection terminated|not queryable|connection error/i.test(message ?? '')
  );
}

/** One line: who holds the folder, and what to do. */
function inUse(dataDir: string, holder: LockHolder, lastError: unknown): AppError {
  const who = `process ${holder.pid} (${holder.command}, since ${holder.startedAt})`;
  const what =
    holder.socketDir !== undefined
      ? `is served by ${who}, whose socket does not answer (${(lastError as Error | undefined)?.message ?? 'no answer'}); if that server is stopping, run this again once it has stopped`
      : `is in use by ${who}; only one process opens it at a time: wait for that one to finish (or stop it), then run this again`;
  return new AppError(
    'database_unavailable',
    `the embedded database in ${dataDir} ${what}. A lock left by a process that no longer runs is taken over by itself (see docs/OPERATIONS.md)`,
  );
}
