/** PGlite driver: PostgreSQL in WASM, one connection, in a data folder or in memory (tests). */
import { PGlite, type Transaction, types } from '@electric-sql/pglite';
import { type Driver, type OwnerTx, settingsQuery, type TxSettings } from './types.ts';

/** Type parsers every Rempart PGlite uses (also for test databases loaded from a dumped data folder). */
export const PGLITE_PARSERS = {
  // Dates stay 'YYYY-MM-DD' strings: a JS Date would shift them by the time zone.
  [types.DATE]: (value: string): string => value,
  // int8 stays a string, as node-postgres returns it (no precision loss, same type on both drivers).
  [types.INT8]: (value: string): string => value,
};

/**
 * PGlite is one backend session. Its own transaction() keeps in-process transactions apart, but
 * anything else reaching the session (the socket clients of pglite-share.ts) would run inside
 * them. Every transaction on the session, in-process or over the socket, holds this lock from its
 * start to its end, so no statement of one ever runs inside another.
 */
export interface SessionLock {
  /** Waits for the session and returns the function that gives it back. */
  acquire(): Promise<() => void>;
  /** Runs `fn` holding the session. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** A first-come first-served lock (a promise chain). */
export function sessionLock(): SessionLock {
  let tail: Promise<void> = Promise.resolve();
  const acquire = (): Promise<() => void> => {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = tail.then(() => release);
    tail = tail.then(() => next);
    return ready;
  };
  return {
    acquire,
    async run(fn) {
      const release = await acquire();
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}

/** Opens PGlite at `dir` (a folder) or in memory when `dir` is undefined. */
export async function openPglite(dir: string | undefined): Promise<Driver> {
  return pgliteDriver(await openPgliteInstance(dir));
}

/**
 * PGlite's settings for a process that holds the folder for one long streaming transaction
 * (`rempart import`): 16 MB of shared buffers instead of 128 MB. PGlite keeps its shared buffers in
 * the process's own WebAssembly memory, which never shrinks, so they count whole in the command's
 * peak memory (issue 10 §4: a 1,000,000-row import under 300 MB; docs/IMPORT.md, "Memory"). The
 * server keeps the defaults: it serves many reads from a warm cache.
 */
export const COMPACT_SETTINGS: readonly string[] = ['-c', 'shared_buffers=16MB'];

/**
 * The PGlite instance itself, with Rempart's type parsers. `settings` (`-c name=value` pairs) are
 * added to PGlite's own start parameters, which stay (single user, no parallel workers…).
 */
export async function openPgliteInstance(
  dir: string | undefined,
  settings: readonly string[] = [],
): Promise<PGlite> {
  const options = {
    parsers: PGLITE_PARSERS,
    ...(settings.length > 0 ? { startParams: [...PGlite.defaultStartParams, ...settings] } : {}),
  };
  const db = dir === undefined ? new PGlite(options) : new PGlite(dir, options);
  await db.waitReady;
  return db;
}

/**
 * Wraps an open PGlite instance. Queries run one at a time on its single connection; whole
 * transactions one at a time under `session` (shared with the socket clients, if any).
 */
export function pgliteDriver(
  db: PGlite,
  session: SessionLock = sessionLock(),
  beforeClose: () => Promise<void> = async () => undefined,
): Driver {
  const wrap = (tx: Transaction): OwnerTx => ({
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await tx.query<R>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await tx.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    transaction: (fn, settings = []) =>
      session.run(() =>
        db.transaction(async (tx) => {
          if (settings.length > 0) {
            const { sql, params } = settingsQuery(settings);
            await tx.query(sql, params);
          }
          return fn(wrap(tx));
        }),
      ),
    readOnly: <R>(sql: string, params: readonly unknown[], settings: TxSettings = []) =>
      session.run(() =>
        db.transaction(async (tx) => {
          await tx.query('SET TRANSACTION READ ONLY');
          if (settings.length > 0) {
            const setup = settingsQuery(settings);
            await tx.query(setup.sql, setup.params);
          }
          return (await tx.query<R>(sql, params as unknown[])).rows;
        }),
      ),
    async close() {
      // The socket clients' transactions end first; then no one else reaches the session.
      await beforeClose();
      await session.run(() => db.close());
    },
  };
}
