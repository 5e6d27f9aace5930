/**
 * The files around an import (src/registry/import.ts): the input and rejects paths checked before
 * anything is read, and the rejects written first to a temporary file in a folder of Rempart's own,
 * renamed into place only once the transaction has committed. The temporary file holds personal
 * data (the rejected rows): it is owner-only, and a file left by an import that was killed is
 * removed by the next import at the latest (its process is gone).
 */
import { randomUUID } from 'node:crypto';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';

function refuse(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field}: ${message}; nothing was imported`, { field });
}

/** The `(dev, ino)` of a path, or undefined if nothing is there. */
async function identity(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Checks the input file (exists, is a file) and, when rejects may be written, the rejects path: its
 * folder exists, and it is not the input file under any name (a hard or symbolic link, `./`…),
 * which the rename would overwrite.
 */
export async function checkImportPaths(file: string, rejectsFile: string | undefined): Promise<void> {
  let input: Awaited<ReturnType<typeof stat>>;
  try {
    input = await stat(file);
  } catch {
    throw refuse('file', 'does not exist or cannot be read');
  }
  if (input.isDirectory()) throw refuse('file', 'is a folder, not a CSV file');
  if (!input.isFile()) throw refuse('file', 'is not a regular file');
  if (rejectsFile === undefined) return;
  const folder = await stat(path.dirname(path.resolve(rejectsFile))).catch(() => undefined);
  if (!folder?.isDirectory()) throw refuse('rejects', 'its folder does not exist');
  const existing = await stat(rejectsFile).catch(() => undefined);
  if (existing?.isDirectory()) throw refuse('rejects', 'is a folder, not a file');
  if ((await identity(rejectsFile)) === `${input.dev}:${input.ino}`)
    throw refuse('rejects', 'is the input file; choose another path');
}

/** True while process `pid` runs (signal 0 tests without signalling). */
function alive(pid: number): boolean {
  if (pid === process.pid) return false; // our own files from before a restart under a reused pid
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

const TEMP_NAME = /^(\d+)-[0-9a-f-]{36}\.csv$/;

/**
 * Removes what killed imports left in the temporary folder: every file of ours whose process is
 * gone. Run at the start of every import, whether or not it will write rejects.
 */
export async function clearTempFolder(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (match && !alive(Number(match[1]))) await rm(path.join(folder, name), { force: true });
  }
}

/** Creates the temporary folder (owner only) and returns a fresh temporary path in it. */
export async function newTempFile(folder: string): Promise<string> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
  return path.join(folder, `${process.pid}-${randomUUID()}.csv`);
}

/** Opens the temporary rejects file: created new, readable by the operator only. */
export function openTempFile(file: string): WriteStream {
  const stream = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  // A failed write surfaces where the import waits on the stream (drain, finished); without a
  // listener, one failing between two waits would end the process instead of rolling back.
  stream.on('error', () => undefined);
  return stream;
}

/** Moves the committed rejects into place (a copy when the folders are on different devices). */
export async function moveIntoPlace(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EXDEV') throw error;
    await rm(to, { force: true });
    await copyFile(from, to, constants.COPYFILE_EXCL);
    await chmod(to, 0o600);
    await rm(from, { force: true });
  }
}
