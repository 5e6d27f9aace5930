/**
 * The lock of an embedded (PGlite) data folder. PGlite is PostgreSQL in the process's own memory:
 * two processes opening one folder are two independent servers over the same files, and the
 * writes of one are lost when the other checkpoints (issue 10: imports and audited reads lost,
 * forked audit checkpoints, against T7). So exactly one process opens the folder: it holds
 * `<dataDir>/pglite.lock`, created with O_EXCL; a `rempart serve` holding it shares its database
 * with the CLI over a socket (pglite-share.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/** What the lock file says: who holds the folder, since when, and where it shares it. */
export interface LockHolder {
  pid: number;
  /** The command, without its arguments (no file names): `rempart serve`, `rempart import`. */
  command: string;
  startedAt: string;
  /** The folder of the Unix socket a server shares the database on (pglite-share.ts). */
  socketDir?: string;
  /** Tells this holding apart from an earlier one of a reused pid. */
  nonce: string;
}

/** A lock this process holds. */
export interface HeldLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Writes the socket folder into the lock, for clients to find (atomic replace). */
  announce(socketDir: string): Promise<void>;
  /** Removes the lock if it is still this one. Idempotent. */
  release(): Promise<void>;
}

/** The lock file of a data folder. */
export function lockFileOf(dataDir: string): string {
  return path.join(dataDir, 'pglite.lock');
}

/** The command line without arguments that could name files (personal data stays out of the lock). */
export function commandName(argv: readonly string[] = process.argv): string {
  const words = argv.slice(2, 4).filter((w) => /^[a-z][a-z-]*$/.test(w));
  return ['rempart', ...(argv[2] !== undefined && words[0] === argv[2] ? words : [])].join(' ');
}

/** The nonces of the locks this process holds: a lock with our pid and another nonce is stale. */
const heldHere = new Set<string>();

/**
 * True when the holder still runs: its pid exists (EPERM: it exists, owned by someone else). A
 * lock with this process's own pid is alive only if this process took it (a container restarted
 * with the same pid finds its predecessor's lock stale).
 */
export function isAlive(holder: Pick<LockHolder, 'pid' | 'nonce'>): boolean {
  if (holder.pid === process.pid) return heldHere.has(holder.nonce);
  return pidExists(holder.pid);
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the lock file; undefined when there is none, or none readable (being written). */
export async function readLock(file: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    return Number.isInteger(holder.pid) && holder.pid > 0 ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `holder` to a fresh temporary file next to `file` (0600, fsynced); returns its path. */
async function writeTemp(file: string, holder: LockHolder): Promise<string> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(holder)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/**
 * Takes the lock, or returns who holds it. The lock file appears complete or not at all: it is
 * written to a temporary file, then hard-linked to its name, which fails (EEXIST) if another
 * process got there first — of two takers exactly one wins. A lock whose pid is dead (kill -9,
 * power cut) is stale: it is removed under a second, short-lived lock (`.breaking`), after reading
 * it again there, so that two processes breaking it at once cannot remove the lock the first of
 * them has just taken.
 */
export async function tryLock(dataDir: string, command: string): Promise<HeldLock | LockHolder> {
  const file = lockFileOf(dataDir);
  const holder: LockHolder = {
    pid: process.pid,
    command,
    startedAt: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; ; attempt += 1) {
    const temp = await writeTemp(file, holder);
    try {
      await link(temp, file);
      return heldLock(file, holder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    const current = await readLock(file);
    if (current && isAlive(current)) return current;
    if (current === undefined && attempt < 5) {
      // The file is linked or renamed whole, so unreadable means gone meanwhile (retry at once)
      // or damaged (broken as stale after a few tries).
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    await breakStale(file, current);
  }
}

/** Removes `file` if it still holds `stale` (or is unreadable), under the `.breaking` lock. */
export async function breakStale(file: string, stale: LockHolder | undefined): Promise<void> {
  const guard = `${file}.breaking`;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(guard, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone is breaking it now; a guard older than 10 s was left by a process that died there.
    const info = await stat(guard).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > 10_000) await unlink(guard).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return;
  }
  try {
    const again = await readLock(file);
    const same = again?.nonce === stale?.nonce && again?.pid === stale?.pid;
    if (same && (again === undefined || !isAlive(again))) {
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  } finally {
    await handle.close();
    await unlink(guard).catch(() => undefined);
  }
}

function heldLock(file: string, holder: LockHolder): HeldLock {
  let released = false;
  heldHere.add(holder.nonce);
  // A process that exits without closing (process.exit, an uncaught error) still frees the folder.
  const onExit = (): void => {
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
      if (current.nonce === holder.nonce) unlinkSync(file);
    } catch {
      // gone already
    }
  };
  process.on('exit', onExit);
  return {
    file,
    holder,
    async announce(socketDir) {
      holder.socketDir = socketDir;
      const temp = await writeTemp(file, holder);
      await rename(temp, file);
    },
    async release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      heldHere.delete(holder.nonce);
      const current = await readLock(file);
      if (current?.nonce === holder.nonce) await unlink(file).catch(() => undefined);
    },
  };
}
