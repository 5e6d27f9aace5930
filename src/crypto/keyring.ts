/**
 * The local keyring: the embedded default's key material, in one JSON file with mode 0600
 * (DESIGN.md section 4). Production keeps key-encryption keys in a KMS (see kms.ts); the keyring
 * format already carries key identifiers so that keys can rotate.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';

export const KEYRING_FORMAT = 'rempart-keyring/1';

/** A set of 256-bit keys by identifier, one of them current (used for new data). */
export interface KeySet {
  current: string;
  keys: Record<string, string>; // id -> base64 key
}

export interface KeyringFile {
  format: typeof KEYRING_FORMAT;
  createdAt: string;
  /** Key-encryption keys: wrap each person's data key. */
  kek: KeySet;
  /** Blind-index keys: keyed HMAC for exact lookups without plaintext. */
  blindIndex: KeySet;
}

/** Loaded key material, as buffers. */
export interface Keyring {
  path: string;
  kek: { current: string; keys: Map<string, Buffer> };
  blindIndex: { current: string; keys: Map<string, Buffer> };
}

/** A new key identifier: kind, date, and random suffix (never derived from the key). */
export function newKeyId(kind: 'kek' | 'bi', now: Date = new Date()): string {
  return `${kind}-${now.toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
}

function freshKeySet(kind: 'kek' | 'bi', now: Date): KeySet {
  const id = newKeyId(kind, now);
  return { current: id, keys: { [id]: randomBytes(32).toString('base64') } };
}

/**
 * Creates the keyring file (and its folder, 0700). Refuses to overwrite an existing one: losing the
 * key-encryption key loses every record, so `init` never replaces it (AppError keyring_exists).
 */
export async function createKeyring(file: string, now: Date = new Date()): Promise<Keyring> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const content: KeyringFile = {
    format: KEYRING_FORMAT,
    createdAt: now.toISOString(),
    kek: freshKeySet('kek', now),
    blindIndex: freshKeySet('bi', now),
  };
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // 'wx': fails if the file exists, atomically; mode 0600 from the first byte.
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AppError('keyring_exists', `a keyring already exists at ${file}; it is never overwritten`);
    }
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return toKeyring(file, content);
}

/** Writes a new version of the keyring file (rotation): write to a temporary file, then rename. */
export async function saveKeyring(keyring: Keyring, createdAt: string): Promise<void> {
  const content: KeyringFile = {
    format: KEYRING_FORMAT,
    createdAt,
    kek: fromKeys(keyring.kek),
    blindIndex: fromKeys(keyring.blindIndex),
  };
  const temporary = `${keyring.path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, keyring.path);
}

/** Reads and checks the keyring: format, key sizes, and a mode that no other user can read. */
export async function loadKeyring(file: string): Promise<Keyring> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch {
    throw new AppError('keyring_missing', `no keyring at ${file}: run "rempart init" first`);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new AppError('keyring_invalid', `the keyring ${file} is readable by other users: chmod 600 it`);
  }
  // A folder others may write to lets them replace the keyring with one of their own.
  if (((await stat(path.dirname(file))).mode & 0o022) !== 0) {
    throw new AppError(
      'keyring_invalid',
      `the keyring's folder ${path.dirname(file)} is writable by other users: chmod 700 it`,
    );
  }
  let content: KeyringFile;
  try {
    content = JSON.parse(await readFile(file, 'utf8')) as KeyringFile;
  } catch {
    throw new AppError('keyring_invalid', `the keyring ${file} is not valid JSON`);
  }
  if (typeof content !== 'object' || content === null || content.format !== KEYRING_FORMAT) {
    throw new AppError('keyring_invalid', `the keyring ${file} has an unknown format`);
  }
  return toKeyring(file, content);
}

/** Loads the keyring, creating it first if it does not exist (seed, demo start). */
export async function loadOrCreateKeyring(file: string): Promise<{ keyring: Keyring; created: boolean }> {
  try {
    return { keyring: await loadKeyring(file), created: false };
  } catch (error) {
    if (error instanceof AppError && error.code === 'keyring_missing') {
      return { keyring: await createKeyring(file), created: true };
    }
    throw error;
  }
}

function toKeyring(file: string, content: KeyringFile): Keyring {
  return {
    path: file,
    kek: toKeys(content.kek, 'kek'),
    blindIndex: toKeys(content.blindIndex, 'blindIndex'),
  };
}

function toKeys(set: KeySet | undefined, name: string): { current: string; keys: Map<string, Buffer> } {
  if (!set || typeof set.current !== 'string' || typeof set.keys !== 'object' || set.keys === null) {
    throw new AppError('keyring_invalid', `the keyring has no ${name} key set`);
  }
  const keys = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(set.keys)) {
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(value)) {
      throw new AppError('keyring_invalid', `the keyring's ${name} key ${id} is not 256 bits in base64`);
    }
    const key = Buffer.from(value, 'base64');
    if (key.length !== 32)
      throw new AppError('keyring_invalid', `the keyring's ${name} key ${id} is not 256 bits`);
    keys.set(id, key);
  }
  if (!keys.has(set.current)) {
    throw new AppError('keyring_invalid', `the keyring's current ${name} key is missing`);
  }
  return { current: set.current, keys };
}

function fromKeys(set: { current: string; keys: Map<string, Buffer> }): KeySet {
  return {
    current: set.current,
    keys: Object.fromEntries([...set.keys].map(([id, key]) => [id, key.toString('base64')])),
  };
}
