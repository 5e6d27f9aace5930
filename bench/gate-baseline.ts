/**
 * The baseline of `rempart bench gate`: a bare Fastify + pg server doing the gate's indexed lookup
 * by NIR (the same blind-index query on `persons`, with the same pool size) and nothing else: no
 * session, no policy, no audit, no decryption. Not part of the product: the bench starts it as a
 * child process (`node bench/gate-baseline.ts`), so that it and `rempart serve` are
 * measured the same way. Reads DATABASE_URL, REMPART_KEYRING, HOST, PORT and REMPART_DB_POOL_SIZE
 * through loadConfig, like the product.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { openKeys } from '../src/crypto/open.ts';
import { byteaArray } from '../src/registry/columns.ts';
import { indexLookup } from '../src/registry/persons.ts';

const config = loadConfig();
if (config.databaseUrl === undefined) throw new Error('gate-baseline: DATABASE_URL is required');
const keys = await openKeys(config);
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.databasePoolSize });
pool.on('error', () => undefined);

const app = Fastify({ logger: false });
app.get('/api/health', async () => ({ status: 'ok' }));
app.post<{ Body: { nir: string } }>('/api/v1/persons/search', async (request) => {
  const lookup = indexLookup(keys.registry, { by: 'nir', nir: request.body.nir });
  const { rows } = await pool.query<{ id: string }>(
    `SELECT p.id, p.status, p.kek_id, p.wrapped_key, p.sealed FROM persons p
     WHERE ${lookup.where('$1')} ORDER BY p.id LIMIT 18`,
    [byteaArray(lookup.hashes)],
  );
  return { results: rows.map((row) => ({ id: row.id })) };
});

await app.listen({ host: config.host, port: config.port });
const stop = (): void => {
  app.close().then(
    () => pool.end(),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
