/**
 * Field encryption: AES-256-GCM under the person's own data key (docs/DESIGN.md section 4).
 * Every field is encrypted on its own (own IV, own tag), so a reader decrypts only the fields it is
 * allowed (docs/DESIGN.md section 3, step 8). Each ciphertext is bound to its person and field by the
 * additional authenticated data: a value copied to another person or field fails to decrypt
 * (docs/DESIGN.md section 13, "ciphertext swapping").
 *
 * The sealed fields of one person are stored together in one value ("sealed record"), which keeps the
 * bulk load to one column instead of one per field:
 *   version (1 byte = 1), then per present field: code (1 byte) | length (2 bytes, big-endian) |
 *   IV (12 bytes) | ciphertext | tag (16 bytes).
 * Each field's AAD is `rempart/v1/<person id>/<code>:<name>/<codes of every field in the record>`:
 * it binds the person, the field (its stable code and its name), and the record as a whole — a
 * field removed, added, renumbered or cut off changes the list, and every field then fails to
 * decrypt. A field absent from an authenticated record is null.
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

function aad(personId: string, code: number, name: string, list: string): Buffer {
  return Buffer.from(`rempart/v${VERSION}/${personId}/${code}:${name}/${list}`, 'utf8');
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
  if (fields.length === 0) throw new AppError('internal', 'a sealed record needs at least one field');
  const codes = fields.map((f) => f.code);
  if (codes.some((c, i) => !Number.isInteger(c) || c < 1 || c > 255 || codes.indexOf(c) !== i)) {
    throw new AppError('internal', 'field codes must be distinct integers from 1 to 255');
  }
  const list = codes.join('.');
  const key = Buffer.isBuffer(dataKey) ? createSecretKey(dataKey) : dataKey;
  const pool = ivs ?? randomBytes(IV_BYTES * fields.length);
  if (pool.length < IV_BYTES * fields.length) throw new AppError('internal', 'the IV pool is too short');
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
    cipher.setAAD(aad(personId, field.code, field.name, list));
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
 * Decrypts only the requested fields of a sealed record (`wanted`: code → name); a field not in the
 * record is null. At least one field is always decrypted, so the record's field list is
 * authenticated even when every requested field is absent: `names` (every known code → name,
 * default `wanted`) names the field used for that. A wrong key, person, code or name, a field
 * removed, added or cut off, or any altered byte, fails with decryption_failed.
 */
export function openFields(
  dataKey: Buffer,
  personId: string,
  sealed: Uint8Array,
  wanted: ReadonlyMap<number, string>,
  names: ReadonlyMap<number, string> = wanted,
): Map<number, string | null> {
  const data = Buffer.isBuffer(sealed)
    ? sealed
    : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (data.length < 1 || data[0] !== VERSION) {
    throw new AppError('decryption_failed', 'a sealed record has an unknown format');
  }
  const segments: { code: number; start: number; end: number }[] = [];
  for (let offset = 1; offset < data.length; ) {
    if (offset + HEADER_BYTES > data.length)
      throw new AppError('decryption_failed', 'a sealed record is truncated');
    const code = data[offset]!;
    const length = data.readUInt16BE(offset + 1);
    const start = offset + HEADER_BYTES;
    const end = start + length;
    if (length < IV_BYTES + TAG_BYTES || end > data.length) {
      throw new AppError('decryption_failed', 'a sealed record is truncated');
    }
    segments.push({ code, start, end });
    offset = end;
  }
  if (segments.length === 0) throw new AppError('decryption_failed', 'a sealed record holds no field');
  const list = segments.map((s) => s.code).join('.');
  const key = createSecretKey(dataKey);
  const open = (segment: { code: number; start: number; end: number }, name: string): string => {
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        key,
        data.subarray(segment.start, segment.start + IV_BYTES),
      );
      decipher.setAAD(aad(personId, segment.code, name, list));
      decipher.setAuthTag(data.subarray(segment.end - TAG_BYTES, segment.end));
      const body = data.subarray(segment.start + IV_BYTES, segment.end - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new AppError('decryption_failed', `field ${name} does not decrypt: wrong key or altered data`, {
        field: name,
        cause: error,
      });
    }
  };
  const result = new Map<number, string | null>();
  for (const code of wanted.keys()) result.set(code, null);
  let opened = 0;
  for (const segment of segments) {
    const name = wanted.get(segment.code);
    if (name === undefined) continue;
    result.set(segment.code, open(segment, name));
    opened++;
  }
  // Nothing requested was present: authenticate the field list through the first field anyway,
  // so that removing a field cannot pass for a field that was never there.
  if (opened === 0) {
    const first = segments[0]!;
    const name = names.get(first.code);
    if (name === undefined) throw new AppError('decryption_failed', 'a sealed record holds an unknown field');
    open(first, name);
  }
  return result;
}
