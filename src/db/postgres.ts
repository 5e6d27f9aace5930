/** PostgreSQL server driver (node-postgres pool), used when DATABASE_URL is set. */
import type { Writable } from 'node:stream';
import pg from 'pg';
import type { Driver, OwnerTx, TxSettings } from './types.ts';

const DATE_OID = 1082;
const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // Dates stay 'YYYY-MM-DD' strings; int8 stays a string (no precision loss), as on PGlite.
    if (oid === DATE_OID || oid === INT8_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * Parameterised statements run as named prepared statements, each parsed and planned once per
 * connection instead of at every call: the statements behind the row-level security policies cost
 * more to plan than to run. The SQL texts are the application's own (values always travel as
 * parameters), so they are few; past this many, further texts run unnamed.
 */
const MAX_NAMED_STATEMENTS = 2000;
const statementNames = new Map<string, string>();

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `rempart_${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Round trips to the server, counted by this process: a statement sent while none of its
 * connection's statements awaits an answer starts one; a statement sent behind others (pipelined)
 * joins theirs. Read by `rempart bench gate` and by the tests that hold the gate to its round trips.
 */
export const wire = { roundTrips: 0 };
const inFlight = new WeakMap<pg.PoolClient, number>();

/** Sends one statement on `client`, counting the round trip it starts (see `wire`). */
function send(client: pg.PoolClient, query: pg.QueryConfig | string): Promise<pg.QueryResult> {
  const waiting = inFlight.get(client) ?? 0;
  if (waiting === 0) wire.roundTrips += 1;
  inFlight.set(client, waiting + 1);
  const settle = (): void => {
    inFlight.set(client, (inFlight.get(client) ?? 1) - 1);
  };
  const sent = client.query(query);
  sent.then(settle, settle);
  return sent;
}

/** A setting's name as the application writes them: `role`, `rempart.actor_kind`, `plan_cache_mode`. */
const SETTING_NAME = /^[a-z_]+(\.[a-z_]+)?$/;

/**
 * BEGIN and the transaction's settings as one simple-protocol message. SET LOCAL takes no
 * parameters: each value is quoted by node-postgres' escapeLiteral, and each name is checked.
 * Cheaper than BEGIN then a parameterised set_config: one message, no result row to parse.
 */
function beginWith(settings: TxSettings, mode: '' | ' READ ONLY' = ''): string {
  const statements = [`BEGIN${mode}`];
  for (const [name, value] of settings) {
    if (!SETTING_NAME.test(name)) throw new Error(`not a setting name: ${JSON.stringify(name)}`);
    statements.push(`SET LOCAL ${name} = ${pg.escapeLiteral(value)}`);
  }
  return statements.join('; ');
}

/** The client's socket, to send several statements in one write (node-postgres keeps it there). */
function socketOf(client: pg.PoolClient): Writable | undefined {
  const stream = (client as unknown as { connection?: { stream?: Partial<Writable> } }).connection?.stream;
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as Writable)
    : undefined;
}

/** Where openPostgres connects: a URL, or the socket folder of a server sharing its PGlite. */
export type PostgresTarget = string | { socketDir: string; port: number };

/** Opens a pool to `target` and checks that one connection can be made. */
export async function openPostgres(target: PostgresTarget, options: { max?: number } = {}): Promise<Driver> {
  // Pipeline mode: a statement is sent without waiting for the answer to the one before (the
  // server still runs them in order), so a transaction's BEGIN, settings and first statement
  // cost one round trip.
  const common = { max: options.max ?? 8, types, pipeline: true };
  // A shared PGlite (pglite-share.ts) is one backend session for every client: a named statement
  // would outlive this connection's transaction and clash with another client's of the same name,
  // so statements there run unnamed.
  const shared = typeof target !== 'string';
  const pool = new pg.Pool(
    shared
      ? { ...common, host: target.socketDir, port: target.port, user: 'postgres', database: 'postgres' }
      : { ...common, connectionString: target },
  );
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  // Nor a client in use (a write to a socket the server closed: EPIPE): its query fails with it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // On a Citus coordinator (the citus extension installed), see Driver.distributed.
  let distributed = false;
  try {
    const first = await pool.connect();
    try {
      const citus = await first.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citus'`);
      distributed = citus.rows[0]?.n === 1;
    } finally {
      first.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }

  const wrap = (client: pg.PoolClient): OwnerTx => ({
    distributed,
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const name = params.length > 0 && !shared ? statementName(sql) : undefined;
      const result = await send(
        client,
        name === undefined
          ? { text: sql, values: params as unknown[] }
          : { name, text: sql, values: params as unknown[] },
      );
      return result.rows as R[];
    },
    async exec(sql: string): Promise<void> {
      await send(client, sql);
    },
    together<T>(fn: () => T): T {
      const socket = socketOf(client);
      socket?.cork();
      try {
        return fn();
      } finally {
        socket?.uncork();
      }
    },
  });

  return {
    kind: 'postgres',
    distributed,
    async transaction<T>(fn: (tx: OwnerTx) => Promise<T>, settings: TxSettings = []): Promise<T> {
      const client = await pool.connect();
      // Set once `commitWith` has sent COMMIT: the transaction is over, committed or rolled back.
      let ended = false;
      const tx: OwnerTx = {
        ...wrap(client),
        async commitWith<R>(last: () => Promise<R>): Promise<R> {
          if (ended) throw new Error('the transaction is already over');
          const socket = socketOf(client);
          socket?.cork();
          let work: Promise<R>;
          let commit: Promise<pg.QueryResult>;
          try {
            // A synchronous throw sends nothing, COMMIT included: the caller's ROLLBACK follows.
            work = last();
            commit = send(client, 'COMMIT');
            ended = true;
          } finally {
            socket?.uncork();
          }
          const [done, committed] = await Promise.allSettled([work, commit]);
          // The first failure in the order sent is the cause; COMMIT then answers ROLLBACK.
          if (done.status === 'rejected') throw done.reason;
          if (committed.status === 'rejected') throw committed.reason;
          if (committed.value.command !== 'COMMIT') throw new Error('the transaction was rolled back');
          return done.value;
        },
      };
      let broken = false;
      try {
        // BEGIN with the settings, and whatever `fn` sends before its first await, leave in one write.
        const socket = socketOf(client);
        socket?.cork();
        let opening: Promise<unknown>[];
        let work: Promise<T>;
        try {
          opening = [tx.exec(beginWith(settings))];
          try {
            work = fn(tx);
          } catch (error) {
            work = Promise.reject(error);
          }
        } finally {
          socket?.uncork();
        }
        // The first failure wins (a failed BEGIN or setting comes before the work's own errors).
        const [result] = await Promise.all([work, ...opening]);
        if (!ended) await send(client, 'COMMIT');
        return result;
      } catch (error) {
        // After commitWith, the server has ended the transaction (a failed COMMIT rolls back).
        if (!ended) {
          await send(client, 'ROLLBACK').catch(() => {
            broken = true;
          });
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async readOnly<R>(sql: string, params: readonly unknown[], settings: TxSettings = []): Promise<R[]> {
      const client = await pool.connect();
      const tx = wrap(client);
      let broken = false;
      try {
        // All four leave in one write; COMMIT ends the transaction even if the statement failed
        // (PostgreSQL then rolls back), so the connection goes back to the pool clean.
        const socket = socketOf(client);
        socket?.cork();
        const sent: Promise<unknown>[] = [];
        let rows: Promise<R[]>;
        try {
          sent.push(tx.exec(beginWith(settings, ' READ ONLY')));
          rows = tx.query<R>(sql, params);
          sent.push(rows, tx.exec('COMMIT'));
        } finally {
          socket?.uncork();
        }
        const settled = await Promise.allSettled(sent);
        // The first failure in the order sent is the cause; the ones behind it follow from it.
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed) {
          await send(client, 'ROLLBACK').catch(() => {
            broken = true;
          });
          throw failed.reason;
        }
        return await rows;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * One connection to `url`, outside any pool, for what an administrator runs once (CREATE DATABASE,
 * a Citus node's set-up): `fn` gets the client, which is closed after it, whatever happens.
 */
export async function withConnection<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** One statement (or several, without parameters) on a connection of its own: see withConnection. */
export function runOnce(url: string, sql: string): Promise<void> {
  return withConnection(url, async (client) => {
    await client.query(sql);
  });
}
