/**
 * A `rempart serve` on the embedded database shares its PGlite with the CLI run beside it (import,
 * seed, audit verify, audit scope...) over a Unix socket in the data folder, speaking the
 * PostgreSQL wire protocol: the CLI's writes go into the one PGlite there is, instead of into a
 * second copy whose checkpoints erase the other's (issue 10; pglite-lock.ts).
 *
 * Why not @electric-sql/pglite-socket (0.2.17, read before writing this): its queue keeps socket
 * clients apart from each other by PGlite's isInTransaction(), but not from the transactions the
 * server runs in-process through PGlite's own transaction(), whose statements a socket client's
 * statement can land between (and the reverse: the server's BEGIN inside a client's open
 * transaction, its COMMIT committing half of it); it also pins @electric-sql/pglite 0.5.14 exactly.
 * Here every transaction, in-process or from a socket, holds the SessionLock (pglite.ts) from its
 * first message to the ReadyForQuery that says the session is idle again.
 *
 * PGlite is one backend session: what a client leaves in it (prepared statements, SET, session
 * advisory locks, cursors, LISTEN) would be seen by the next. Rempart's socket clients prepare no
 * named statement and set nothing beyond their transaction (postgres.ts, `shared` mode); whatever a
 * client left is reset when it disconnects, and its open transaction is rolled back.
 *
 * Access: the socket is 0600 in a 0700 folder inside the 0700 data folder, so only the account the
 * server runs as (which can read the PGlite files and the keyring anyway) connects; there is no
 * password. It never listens on the network.
 */
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { AppError } from '../errors.ts';
import type { SessionLock } from './pglite.ts';

/** node-postgres and libpq look for `<host>/.s.PGSQL.<port>`. */
export const SOCKET_PORT = 5432;
export const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`;
/** sun_path is 108 bytes on Linux (104 on macOS), terminating NUL included. */
const MAX_SOCKET_PATH = 103;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'

/** The socket folder of a data folder. */
export function socketDirOf(dataDir: string): string {
  return path.join(dataDir, 'pglite-socket');
}

/** A database being shared; `close` stops it (see SharedSession.close). */
export interface SharedSession {
  readonly socketDir: string;
  readonly socketPath: string;
  /**
   * Stops sharing: no new connection; idle clients are disconnected at once, a client in a
   * transaction when its transaction ends (or after `graceMs`, rolled back); returns once every
   * client is gone and the socket file removed.
   */
  close(graceMs?: number): Promise<void>;
}

/** Options of shareSession. */
export interface ShareOptions {
  /** A client holding a transaction open with nothing sent for this long is disconnected (rolled back). */
  idleInTransactionMs?: number;
}

/** Listens on `<socketDir>/.s.PGSQL.5432` and serves PGlite's session to local clients. */
export async function shareSession(
  db: PGlite,
  session: SessionLock,
  socketDir: string,
  options: ShareOptions = {},
): Promise<SharedSession> {
  const socketPath = path.join(socketDir, SOCKET_NAME);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new AppError(
      'bad_configuration',
      `the data folder's path is too long for the socket the CLI reaches the server's database on (${socketPath}); use a shorter REMPART_DATA_DIR`,
    );
  }
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await chmod(socketDir, 0o700);
  // We hold the folder's lock: a socket file there was left by a server that died.
  await unlink(socketPath).catch(() => undefined);

  const connections = new Set<Connection>();
  let closing = false;
  const server: Server = createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const connection = serveConnection(db, session, socket, () => closing, options);
    connections.add(connection);
    void connection.done.then(() => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);

  return {
    socketDir,
    socketPath,
    async close(graceMs = 10_000) {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(socketPath).catch(() => undefined);
      for (const connection of connections) if (!connection.inTransaction()) connection.socket.destroy();
      const grace = setTimeout(() => {
        for (const connection of connections) connection.socket.destroy();
      }, graceMs);
      await Promise.all([...connections].map((c) => c.done));
      clearTimeout(grace);
      await stopped;
    },
  };
}

interface Connection {
  socket: Socket;
  inTransaction(): boolean;
  /** Resolves once the client is gone and the session cleaned after it. */
  done: Promise<void>;
}

/** Serves one client: its messages go to PGlite one by one, each transaction holding the session. */
function serveConnection(
  db: PGlite,
  session: SessionLock,
  socket: Socket,
  closing: () => boolean,
  options: ShareOptions,
): Connection {
  let buffer = Buffer.alloc(0);
  let started = false;
  let release: (() => void) | undefined;
  let status = 'I';
  let work: Promise<void> = Promise.resolve();
  let idle: NodeJS.Timeout | undefined;
  const idleMs = options.idleInTransactionMs ?? 60_000;

  const run = async (message: Buffer): Promise<void> => {
    if (release === undefined) {
      release = await session.acquire();
      // A transaction does not start on a server that is stopping, nor for a client gone meanwhile.
      if (socket.destroyed || (closing() && started)) {
        socket.destroy();
        return;
      }
    }
    const out = Buffer.from(await db.runExclusive(() => db.execProtocolRaw(new Uint8Array(message))));
    if (!socket.destroyed) socket.write(out);
    const ready = lastReadyStatus(out);
    if (ready !== undefined) status = ready;
    if (ready === 'I') {
      release();
      release = undefined;
      if (closing()) socket.end();
    }
  };

  const drain = async (): Promise<void> => {
    for (;;) {
      if (socket.destroyed) return;
      if (!started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        const code = buffer.readInt32BE(4);
        if (buffer.length < length) return;
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          socket.write('N'); // no encryption on a local socket
          continue;
        }
        if (code === CANCEL_REQUEST) {
          socket.end(); // one backend, nothing to signal
          return;
        }
        await run(Buffer.from(message));
        started = true;
        continue;
      }
      if (buffer.length < 5) return;
      const length = 1 + buffer.readInt32BE(1);
      if (buffer.length < length) return;
      const message = Buffer.from(buffer.subarray(0, length));
      buffer = buffer.subarray(length);
      if (message[0] === TERMINATE) {
        socket.end();
        return;
      }
      await run(message);
    }
  };

  const resetIdle = (): void => {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => {
      if (release !== undefined) socket.destroy();
    }, idleMs);
    idle.unref();
  };

  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    resetIdle();
    work = work.then(drain).catch(() => {
      socket.destroy();
    });
  });
  socket.on('error', () => undefined); // 'close' follows

  const done = new Promise<void>((resolve) => {
    socket.on('close', () => {
      if (idle) clearTimeout(idle);
      // After the last message: roll back what the client left open, then reset the session.
      work = work.then(async () => {
        const held = release ?? (await session.acquire());
        release = undefined;
        try {
          if (status !== 'I') await db.exec('ROLLBACK');
          await db.exec('DEALLOCATE ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); RESET ALL');
        } catch {
          // The database is closing under us: nothing more to clean.
        } finally {
          status = 'I';
          held();
        }
      });
      work.then(resolve, resolve);
    });
  });

  return { socket, inTransaction: () => release !== undefined, done };
}

/** The transaction status of the last ReadyForQuery in a backend's answer ('I', 'T', 'E'). */
function lastReadyStatus(out: Buffer): string | undefined {
  let status: string | undefined;
  for (let i = 0; i + 5 <= out.length; ) {
    const length = out.readInt32BE(i + 1);
    if (out[i] === READY_FOR_QUERY && length === 5 && i + 6 <= out.length)
      status = String.fromCharCode(out[i + 5]!);
    i += 1 + length;
  }
  return status;
}
