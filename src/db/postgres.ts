/** PostgreSQL server driver (node-postgres pool), used when DATABASE_URL is set. */
import pg from 'pg';
import type { Driver, OwnerTx } from './types.ts';

const DATE_OID = 1082;
const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // Dates stay 'YYYY-MM-DD' strings; int8 stays a string (no precision loss), as on PGlite.
    if (oid === DATE_OID || oid === INT8_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format);
  },
};

/** Opens a pool to `url` and checks that one connection can be made. */
export async function openPostgres(url: string, options: { max?: number } = {}): Promise<Driver> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 8, types });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    (await pool.connect()).release();
  } catch (error) {
    await pool.end();
    throw error;
  }

  const wrap = (client: pg.PoolClient): OwnerTx => ({
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await client.query(sql, params as unknown[]);
      return result.rows as R[];
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  });

  return {
    kind: 'postgres',
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
