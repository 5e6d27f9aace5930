/**
 * Field encryption: AES-256-GCM under the person's own data key (DESIGN.md section 4).
 * Every field is encrypted on its own (own IV, own tag), so a reader decrypts only the fields it is
 * allowed (DESIGN.md section 3, step 8). Each ciphertext is bound to its person and field by the
 * additional authenticated data: a value copied to another person or field fails to decrypt
 * (DESIGN.md section 13, "ciphertext swapping").
 *
 * The sealed fields of one person are stored together in one value ("sealed record"), which keeps the
 * bulk load to one column instead of one per field:
 *   version (1 byte = 1), then per present field: code (1 byte) | length (2 bytes, big-endian) |
 *   IV (12 bytes) | ciphertext | tag (16 bytes).
 * A field absent from the record is null. Codes are stable; names are part of the AAD.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 3;

/** One field to seal: a stable code (1–255), its name (bound in the AAD), and its text. */
export interface PlainField {
  code: number;
  name: string;
  value: string;
}

/** A fresh random 256-bit data key. */
export function newDataKey(): Buffer {
  return randomBytes(32);
}

function aad(personId: string, name: string): Buffer {
  return Buffer.from(`rempart/v${VERSION}/${personId}/${name}`, 'utf8');
}

/**
 * Seals the given fields of one person into a sealed record. `ivs` (12 bytes per field) may come
 * from a pool drawn in one call by the bulk seeder; by default each IV is drawn here.
 */
export function sealFields(
  dataKey: Buffer | KeyObject,
  personId: string,
  fields: readonly PlainField[],
  ivs?: Buffer,
): Buffer {
  const key = Buffer.isBuffer(dataKey) ? createSecretKey(dataKey) : dataKey;
  const pool = ivs ?? randomBytes(IV_BYTES * fields.length);
  // One allocation for the record: GCM's ciphertext is exactly as long as the plaintext.
  const lengths = fields.map((field) => Buffer.byteLength(field.value, 'utf8'));
  const out = Buffer.allocUnsafe(
    1 + lengths.reduce((sum, n) => sum + HEADER_BYTES + IV_BYTES + n + TAG_BYTES, 0),
  );
  out[0] = VERSION;
  let offset = 1;
  fields.forEach((field, i) => {
    const iv = pool.subarray(i * IV_BYTES, (i + 1) * IV_BYTES);
    const length = IV_BYTES + lengths[i]! + TAG_BYTES;
    if (length > 0xffff)
      throw new AppError('validation_failed', `field ${field.name} is too long`, { field: field.name });
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(personId, field.name));
    out[offset] = field.code;
    out.writeUInt16BE(length, offset + 1);
    iv.copy(out, offset + HEADER_BYTES);
    cipher.update(field.value, 'utf8').copy(out, offset + HEADER_BYTES + IV_BYTES);
    cipher.final(); // GCM is a stream mode: final() emits nothing, it computes the tag
    cipher.getAuthTag().copy(out, offset + HEADER_BYTES + IV_BYTES + lengths[i]!);
    offset += HEADER_BYTES + length;
  });
  return out;
}

/**
 * Decrypts only the requested fields of a sealed record (by code → name); a field not in the record
 * is null. A wrong key, person or field, or any altered byte, fails with decryption_failed.
 */
export function openFields(
  dataKey: Buffer,
  personId: string,
  sealed: Uint8Array,
  wanted: ReadonlyMap<number, string>,
): Map<number, string | null> {
  const data = Buffer.isBuffer(sealed)
    ? sealed
    : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (data.length < 1 || data[0] !== VERSION) {
    throw new AppError('decryption_failed', 'a sealed record has an unknown format');
  }
  const result = new Map<number, string | null>();
  for (const code of wanted.keys()) result.set(code, null);
  let key: KeyObject | undefined;
  let offset = 1;
  while (offset < data.length) {
    if (offset + HEADER_BYTES > data.length)
      throw new AppError('decryption_failed', 'a sealed record is truncated');
    const code = data[offset]!;
    const length = data.readUInt16BE(offset + 1);
    const start = offset + HEADER_BYTES;
    const end = start + length;
    if (length < IV_BYTES + TAG_BYTES || end > data.length) {
      throw new AppError('decryption_failed', 'a sealed record is truncated');
    }
    const name = wanted.get(code);
    if (name !== undefined) {
      key ??= createSecretKey(dataKey);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(start, start + IV_BYTES));
        decipher.setAAD(aad(personId, name));
        decipher.setAuthTag(data.subarray(end - TAG_BYTES, end));
        const text = Buffer.concat([
          decipher.update(data.subarray(start + IV_BYTES, end - TAG_BYTES)),
          decipher.final(),
        ]);
        result.set(code, text.toString('utf8'));
      } catch (error) {
        throw new AppError('decryption_failed', `field ${name} does not decrypt: wrong key or altered data`, {
          field: name,
          cause: error,
        });
      }
    }
    offset = end;
  }
  return result;
}
