/**
 * The local keyring: the embedded default's key material, in one JSON file with mode 0600
 * (docs/DESIGN.md section 4). Production keeps key-encryption keys in a KMS (see kms.ts); the keyring
 * format already carries key identifiers so that keys can rotate.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { generateSigningKey, signerFromPkcs8 } from '../audit/checkpoint.ts';
import { AppError } from '../errors.ts';

export const KEYRING_FORMAT = 'rempart-keyring/1';

/** A set of 256-bit keys by identifier, one of them current (used for new data). */
export interface KeySet {
  current: string;
  keys: Record<string, string>; // id -> base64 key
}

/**
 * The audit log's checkpoint signing key (docs/DESIGN.md section 7): Ed25519, base64 PKCS#8 DER. Its
 * name is the log's origin in every checkpoint (c2sp.org/tlog-checkpoint) and the signer's name in
 * the signed note, so a log rewritten and re-signed under another key carries another name.
 */
export interface AuditSigningKey {
  /** `rempart/audit/<8 hex digits>`: no space and no '+' (c2sp.org/signed-note key names). */
  name: string;
  pkcs8: string;
  createdAt: string;
}

/**
 * Signs the messages Rempart sends to persons (the notices of GDPR article 34: src/crypto/notice-signing.ts):
 * Ed25519 keys by signed-note name (`rempart/notices/<8 hex digits>`), one current. Rotation adds a
 * key and makes it current; the older ones stay, so that notices signed before still verify.
 */
export interface NoticeSigningKeys {
  current: string;
  keys: Record<string, { pkcs8: string; createdAt: string }>;
}

export interface KeyringFile {
  format: typeof KEYRING_FORMAT;
  createdAt: string;
  /** Key-encryption keys: wrap each person's data key. */
  kek: KeySet;
  /** Blind-index keys: keyed HMAC for exact lookups without plaintext. */
  blindIndex: KeySet;
  /** Signs the audit log's checkpoints; absent from keyrings written before the audit log. */
  auditSigning?: AuditSigningKey;
  /** Signs notices to persons; absent from keyrings written before the notices, until added. */
  noticeSigning?: NoticeSigningKeys;
}

/** Loaded key material, as buffers. */
export interface Keyring {
  path: string;
  /** When the keyring file was first written (kept by saveKeyring's callers that do not rotate). */
  createdAt: string;
  kek: { current: string; keys: Map<string, Buffer> };
  blindIndex: { current: string; keys: Map<string, Buffer> };
  /** Undefined only for a keyring written before the audit log, until addAuditSigningKey runs. */
  auditSigning: AuditSigningKey | undefined;
  /** Undefined only for a keyring written before the notices, until addNoticeSigningKey runs. */
  noticeSigning: NoticeSigningKeys | undefined;
}

/** A new key identifier: kind, date, and random suffix (never derived from the key). */
export function newKeyId(kind: 'kek' | 'bi', now: Date = new Date()): string {
  return `${kind}-${now.toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
}

/** A new checkpoint signing key, named after a random log origin (never derived from the key). */
export function newAuditSigningKey(now: Date = new Date()): AuditSigningKey {
  return {
    name: `rempart/audit/${randomBytes(4).toString('hex')}`,
    pkcs8: generateSigningKey(),
    createdAt: now.toISOString(),
  };
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
    auditSigning: newAuditSigningKey(now),
    noticeSigning: withNewNoticeKey(undefined, now),
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
    ...(keyring.auditSigning ? { auditSigning: keyring.auditSigning } : {}),
    ...(keyring.noticeSigning ? { noticeSigning: keyring.noticeSigning } : {}),
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

/** How long addAuditSigningKey waits for another process that is adding the key. */
const LOCK_WAIT_MS = 10_000;

/**
 * Gives a keyring written before the audit log its checkpoint signing key, and saves it (atomically,
 * mode 0600). Under a lock file next to the keyring, re-reading it first: two processes starting
 * together on one old keyring must not each sign checkpoints with a key of their own.
 */
export async function addAuditSigningKey(keyring: Keyring, now: Date = new Date()): Promise<AuditSigningKey> {
  if (keyring.auditSigning) return keyring.auditSigning;
  const onDisk = await updateKeyring(keyring, 'audit signing key', (k) => {
    if (k.auditSigning) return false;
    k.auditSigning = newAuditSigningKey(now);
    return true;
  });
  keyring.auditSigning = onDisk.auditSigning;
  return onDisk.auditSigning as AuditSigningKey;
}

/**
 * The notice signing keys, adding the first one to a keyring written before the notices (under the
 * same lock as addAuditSigningKey: two processes must not each sign with a key of their own).
 */
export async function ensureNoticeSigningKeys(
  keyring: Keyring,
  now: Date = new Date(),
): Promise<NoticeSigningKeys> {
  if (keyring.noticeSigning) return keyring.noticeSigning;
  const onDisk = await updateKeyring(keyring, 'notice signing key', (k) => {
    if (k.noticeSigning) return false;
    k.noticeSigning = withNewNoticeKey(undefined, now);
    return true;
  });
  keyring.noticeSigning = onDisk.noticeSigning;
  return onDisk.noticeSigning as NoticeSigningKeys;
}

/** Rotates the notice signing key: a new current key; the older ones stay to verify older notices. */
export async function rotateNoticeSigningKey(
  keyring: Keyring,
  now: Date = new Date(),
): Promise<NoticeSigningKeys> {
  const onDisk = await updateKeyring(keyring, 'notice signing key', (k) => {
    k.noticeSigning = withNewNoticeKey(k.noticeSigning, now);
    return true;
  });
  keyring.noticeSigning = onDisk.noticeSigning;
  return onDisk.noticeSigning as NoticeSigningKeys;
}

/**
 * Re-reads the keyring under a lock file next to it, lets `change` alter it, and saves it when
 * `change` says it did (atomically, mode 0600); returns the keyring as saved.
 */
async function updateKeyring(
  keyring: Keyring,
  what: string,
  change: (onDisk: Keyring) => boolean,
): Promise<Keyring> {
  const lock = `${keyring.path}.lock`;
  const started = Date.now();
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    for (;;) {
      try {
        handle = await open(lock, 'wx', 0o600);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (Date.now() - started > LOCK_WAIT_MS) {
          throw new AppError('keyring_invalid', `${lock} is held by another process; remove it if none runs`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const onDisk = await loadKeyring(keyring.path);
    if (change(onDisk)) await saveKeyring(onDisk, onDisk.createdAt);
    return onDisk;
  } catch (error) {
    if (error instanceof AppError) throw error;
    // A read-only keyring cannot take the key: refuse rather than sign with a key nobody keeps.
    throw new AppError(
      'keyring_invalid',
      `the keyring ${keyring.path} cannot be rewritten to add its ${what} (${(error as NodeJS.ErrnoException).code ?? 'error'}): make it and its folder writable once`,
      { cause: error },
    );
  } finally {
    if (handle) {
      await handle.close();
      await rm(lock, { force: true });
    }
  }
}

function toKeyring(file: string, content: KeyringFile): Keyring {
  return {
    path: file,
    createdAt: typeof content.createdAt === 'string' ? content.createdAt : new Date(0).toISOString(),
    kek: toKeys(content.kek, 'kek'),
    blindIndex: toKeys(content.blindIndex, 'blindIndex'),
    auditSigning: toAuditSigning(content.auditSigning),
    noticeSigning: toNoticeSigning(content.noticeSigning),
  };
}

/** The notice keys with a new current key added (the first one when `keys` is undefined). */
export function withNewNoticeKey(
  keys: NoticeSigningKeys | undefined,
  now: Date = new Date(),
): NoticeSigningKeys {
  const name = `rempart/notices/${randomBytes(4).toString('hex')}`;
  return {
    current: name,
    keys: { ...(keys?.keys ?? {}), [name]: { pkcs8: generateSigningKey(), createdAt: now.toISOString() } },
  };
}

function toNoticeSigning(value: NoticeSigningKeys | undefined): NoticeSigningKeys | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof value.keys !== 'object' || value.keys === null)
    throw new AppError('keyring_invalid', "the keyring's notice signing keys are malformed");
  for (const [name, key] of Object.entries(value.keys)) {
    try {
      if (typeof key?.pkcs8 !== 'string' || typeof key.createdAt !== 'string') throw new Error('shape');
      signerFromPkcs8(name, key.pkcs8);
    } catch {
      throw new AppError(
        'keyring_invalid',
        `the keyring's notice signing key ${name} is not an Ed25519 PKCS#8 key`,
      );
    }
  }
  if (!(value.current in value.keys))
    throw new AppError('keyring_invalid', "the keyring's current notice signing key is missing");
  return { current: value.current, keys: { ...value.keys } };
}

function toAuditSigning(value: AuditSigningKey | undefined): AuditSigningKey | undefined {
  if (value === undefined) return undefined;
  const valid =
    typeof value === 'object' &&
    value !== null &&
    typeof value.name === 'string' &&
    /^[\x21-\x2a\x2c-\x7e]{1,200}$/.test(value.name) &&
    typeof value.pkcs8 === 'string' &&
    typeof value.createdAt === 'string';
  if (!valid) throw new AppError('keyring_invalid', "the keyring's audit signing key is malformed");
  try {
    signerFromPkcs8(value.name, value.pkcs8);
  } catch {
    throw new AppError('keyring_invalid', "the keyring's audit signing key is not an Ed25519 PKCS#8 key");
  }
  return { name: value.name, pkcs8: value.pkcs8, createdAt: value.createdAt };
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
