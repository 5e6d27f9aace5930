/**
 * Key management: wraps and unwraps each person's data key under a key-encryption key (KEK).
 * The interface is what a production KMS offers (Vault transit, an HSM: batch encrypt/decrypt by
 * key id); LocalKms keeps the KEKs in the local keyring file for the embedded default.
 * Rotation: a new current KEK wraps new keys; `rewrap` moves old wrapped keys to it, after which the
 * old KEK can be retired. The data itself is never re-encrypted.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { Keyring } from './keyring.ts';

export interface WrappedKey {
  kekId: string;
  wrapped: Buffer;
}

export interface Kms {
  /** The KEK that wraps new data keys. */
  currentKekId(): string;
  /** Wraps data keys, each bound to its person id (a wrapped key moved to another person fails). */
  wrapKeys(items: readonly { personId: string; dataKey: Buffer }[]): Promise<WrappedKey[]>;
  /** Unwraps one data key; fails with decryption_failed if the KEK is unknown or the data altered. */
  unwrapKey(personId: string, key: WrappedKey): Promise<Buffer>;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

function aad(personId: string): Buffer {
  return Buffer.from(`rempart/dek/v1/${personId}`, 'utf8');
}

/** The KMS backed by the local keyring (embedded default and tests). */
export class LocalKms implements Kms {
  readonly #keyring: Keyring;
  /**
   * Each KEK as a KeyObject, made once per KEK: on Node.js 24 a cipher keyed by a Buffer costs about
   * 25 µs more than one keyed by a KeyObject (importing the key each time), and every person
   * written or read wraps or unwraps one key (docs/BENCHMARKS.md, "Issue 15: the bulk path").
   */
  readonly #keyObjects = new Map<string, { raw: Buffer; key: KeyObject }>();

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  #kek(kekId: string): KeyObject | undefined {
    const raw = this.#keyring.kek.keys.get(kekId);
    if (!raw) return undefined;
    const cached = this.#keyObjects.get(kekId);
    // keyed by the Buffer too: a keyring reloaded with a different key under the same id is not served stale
    if (cached && cached.raw === raw) return cached.key;
    const key = createSecretKey(raw);
    this.#keyObjects.set(kekId, { raw, key });
    return key;
  }

  currentKekId(): string {
    return this.#keyring.kek.current;
  }

  async wrapKeys(items: readonly { personId: string; dataKey: Buffer }[]): Promise<WrappedKey[]> {
    return this.wrapKeysSync(items);
  }

  /** Synchronous batch wrap for the local keyring (used by the bulk seeder to avoid a promise per row). */
  wrapKeysSync(items: readonly { personId: string; dataKey: Buffer }[]): WrappedKey[] {
    const kekId = this.#keyring.kek.current;
    const kek = this.#kek(kekId)!;
    const ivs = randomBytes(IV_BYTES * items.length);
    return items.map((item, i) => {
      const iv = ivs.subarray(i * IV_BYTES, (i + 1) * IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', kek, iv);
      cipher.setAAD(aad(item.personId));
      const body = Buffer.concat([cipher.update(item.dataKey), cipher.final()]);
      return { kekId, wrapped: Buffer.concat([iv, body, cipher.getAuthTag()]) };
    });
  }

  async unwrapKey(personId: string, key: WrappedKey): Promise<Buffer> {
    return this.unwrapKeySync(personId, key);
  }

  /** Synchronous unwrap for the local keyring. */
  unwrapKeySync(personId: string, key: WrappedKey): Buffer {
    const kek = this.#kek(key.kekId);
    if (!kek) throw new AppError('decryption_failed', `unknown key-encryption key ${key.kekId}`);
    const data = key.wrapped;
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, data.subarray(0, IV_BYTES));
      decipher.setAAD(aad(personId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (error) {
      throw new AppError('decryption_failed', 'a data key does not unwrap: wrong key or altered data', {
        cause: error,
      });
    }
  }
}
