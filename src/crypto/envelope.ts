/**
 * Field encryption: AES-256-GCM under the person's own data key (DESIGN.md section 4).
 * Each ciphertext is bound to its person and field by the additional authenticated data, so a
 * value copied from one row or column to another fails to decrypt (DESIGN.md section 13,
 * "ciphertext swapping").
 * Layout: version (1 byte) | IV (12 bytes, random) | ciphertext | tag (16 bytes).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A fresh random 256-bit data key. */
export function newDataKey(): Buffer {
  return randomBytes(32);
}

function aad(personId: string, field: string): Buffer {
  return Buffer.from(`rempart/v${VERSION}/${personId}/${field}`, 'utf8');
}

/** Encrypts one field of one person. `iv` may be passed from a pre-drawn random pool (seed). */
export function encryptField(
  dataKey: Buffer,
  personId: string,
  field: string,
  plaintext: string,
  iv: Buffer = randomBytes(IV_BYTES),
): Buffer {
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(aad(personId, field));
  const body = cipher.update(plaintext, 'utf8');
  const final = cipher.final();
  return Buffer.concat([Buffer.of(VERSION), iv, body, final, cipher.getAuthTag()]);
}

/** Decrypts one field; a wrong key, person, field or any altered byte fails with decryption_failed. */
export function decryptField(dataKey: Buffer, personId: string, field: string, sealed: Uint8Array): string {
  const data = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== VERSION) {
    throw new AppError('decryption_failed', `field ${field} has an unknown ciphertext format`, { field });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, data.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(aad(personId, field));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES, data.length - TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch (error) {
    throw new AppError('decryption_failed', `field ${field} does not decrypt: wrong key or altered data`, {
      field,
      cause: error,
    });
  }
}
