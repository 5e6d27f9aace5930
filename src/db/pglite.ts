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

/** Opens PGlite at `dir` (a folder) or in memory when `dir` is undefined. */
export async function openPglite(dir: string | undefined): Promise<Driver> {
  const db =
    dir === undefined
      ? new PGlite({ parsers: PGLITE_PARSERS })
      : new PGlite(dir, { parsers: PGLITE_PARSERS });
  await db.waitReady;
  return pgliteDriver(db);
}

/** Wraps an open PGlite instance. Queries run one at a time on its single connection. */
export function pgliteDriver(db: PGlite): Driver {
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
      db.transaction(async (tx) => {
        if (settings.length > 0) {
          const { sql, params } = settingsQuery(settings);
          await tx.query(sql, params);
        }
        return fn(wrap(tx));
      }),
    readOnly: <R>(sql: string, params: readonly unknown[], settings: TxSettings = []) =>
      db.transaction(async (tx) => {
        await tx.query('SET TRANSACTION READ ONLY');
        if (settings.length > 0) {
          const setup = settingsQuery(settings);
          await tx.query(setup.sql, setup.params);
        }
        return (await tx.query<R>(sql, params as unknown[])).rows;
      }),
    async close() {
      await db.close();
    },
  };
}
