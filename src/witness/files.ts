/**
 * The witness's two files: its key (Ed25519, created once, owner only) and its state (the latest
 * checkpoint it cosigned per log origin). The state is written to a temporary file, fsynced, then
 * renamed over the old one and the folder fsynced, before any cosignature leaves (c2sp.org/tlog-witness:
 * "The witness MUST persist the new checkpoint before responding"): a crash leaves the old state or
 * the new one, never a mix, and never a cosignature the witness has forgotten (a rollback after restart).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { type Cosigner, cosignerFromPkcs8, newCosigner } from '../audit/cosignature.ts';
import { AppError } from '../errors.ts';

/** What the key file holds. */
interface KeyFile {
  name: string;
  /** base64 PKCS#8 DER of the Ed25519 private key. */
  privateKey: string;
}

/** Creates a new witness key file (mode 0600; refuses to overwrite one) and returns its cosigner. */
export async function createWitnessKey(file: string, name: string): Promise<Cosigner> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const cosigner = newCosigner(name, privateKey);
  const content: KeyFile = {
    name,
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppError(
      'bad_configuration',
      code === 'EEXIST'
        ? `${file} already exists: a witness key is never overwritten`
        : `cannot create ${file} (${code})`,
      { field: 'key' },
    );
  }
  try {
    await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return cosigner;
}

/** Reads a witness key file. */
export async function readWitnessKey(file: string): Promise<Cosigner> {
  let parsed: Partial<KeyFile>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<KeyFile>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppError('bad_configuration', `cannot read the witness key ${file} (${code ?? 'not JSON'})`, {
      field: 'key',
    });
  }
  if (typeof parsed.name !== 'string' || typeof parsed.privateKey !== 'string') {
    throw new AppError('bad_configuration', `${file} is not a witness key file`, { field: 'key' });
  }
  try {
    return cosignerFromPkcs8(parsed.name, parsed.privateKey);
  } catch (error) {
    throw new AppError('bad_configuration', `${file}: ${(error as Error).message}`, { field: 'key' });
  }
}

/** The latest checkpoint the witness cosigned for one log. */
export interface CosignedState {
  size: number;
  /** base64 root hash. */
  root: string;
  /** The checkpoint with the log's signature and the witness's cosignature (a signed note). */
  note: string;
}

/** The witness's state: per log origin, what it last cosigned. */
export interface WitnessState {
  logs: Record<string, CosignedState>;
}

/** Reads the state file; a missing file is an empty state (a new witness). */
export async function readWitnessState(file: string): Promise<WitnessState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { logs: {} };
    throw error;
  }
  const parsed = JSON.parse(text) as WitnessState;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.logs !== 'object') {
    throw new AppError('bad_configuration', `${file} is not a witness state file`, { field: 'state' });
  }
  for (const [origin, s] of Object.entries(parsed.logs)) {
    if (
      !Number.isSafeInteger(s.size) ||
      s.size < 0 ||
      typeof s.root !== 'string' ||
      typeof s.note !== 'string'
    ) {
      throw new AppError('bad_configuration', `${file}: the entry of ${origin} is malformed`, {
        field: 'state',
      });
    }
  }
  return parsed;
}

/** Writes the state atomically and durably: temporary file, fsync, rename, fsync of the folder. */
export async function writeWitnessState(file: string, state: WitnessState): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const folder = await open(path.dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
