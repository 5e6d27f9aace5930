/**
 * Key-encryption key rotation for the local keyring: a new KEK becomes current; the registry's
 * wrapped data keys are then re-wrapped under it (src/registry/rewrap.ts). The data itself is never
 * re-encrypted. Old KEKs stay in the keyring until retired, because older database backups still
 * need them.
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import { type Keyring, newKeyId, saveKeyring } from './keyring.ts';

/** Adds a new current KEK to the keyring and saves it (atomically, mode 0600). Returns its id. */
export async function addCurrentKek(keyring: Keyring, now: Date = new Date()): Promise<string> {
  const id = newKeyId('kek', now);
  keyring.kek.keys.set(id, randomBytes(32));
  keyring.kek.current = id;
  await saveKeyring(keyring, now.toISOString());
  return id;
}

/** Removes KEKs that wrap no data key any more (`inUse` lists those still used). Never the current one. */
export async function retireKeks(
  keyring: Keyring,
  inUse: ReadonlySet<string>,
  now: Date = new Date(),
): Promise<string[]> {
  const retired = [...keyring.kek.keys.keys()].filter((id) => id !== keyring.kek.current && !inUse.has(id));
  if (!keyring.kek.keys.has(keyring.kek.current))
    throw new AppError('keyring_invalid', 'the current KEK is missing');
  for (const id of retired) keyring.kek.keys.delete(id);
  if (retired.length > 0) await saveKeyring(keyring, now.toISOString());
  return retired;
}
