/**
 * Blind indexes: keyed HMAC-SHA-256 of a normalised value, truncated to 8 bytes, so that exact
 * lookups (NIR, agency id, name + birth date) need no plaintext column (docs/DESIGN.md section 4).
 * Each kind of value has its own sub-key (HKDF), so equal strings of different kinds do not link.
 * 64 bits keep accidental collisions negligible (about 3e-8 at a million persons, and every match
 * is confirmed by decrypting the candidate) while revealing nothing without the key.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

/** `email`: the person's portal finds them by the address they type (docs/PORTAL.md). */
export type BlindIndexKind = 'nir' | 'agency_id' | 'name_birth' | 'email';

export const BLIND_INDEX_BYTES = 8;

/** Derives the sub-keys of one blind-index master key. */
export function blindIndexKeys(master: Buffer): Record<BlindIndexKind, Buffer> {
  const derive = (kind: BlindIndexKind): Buffer =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `rempart blind index ${kind}`, 32));
  return {
    nir: derive('nir'),
    agency_id: derive('agency_id'),
    name_birth: derive('name_birth'),
    email: derive('email'),
  };
}

/**
 * Each sub-key as a KeyObject, made once: on Node.js 24 (OpenSSL 3.5) an HMAC keyed by a Buffer
 * costs about 35 µs, mostly importing the key, against about 6 µs keyed by a KeyObject; a seeded
 * person takes four or five (docs/BENCHMARKS.md, "Issue 15: the bulk path"). The same HMAC.
 */
const keyObjects = new WeakMap<Buffer, KeyObject>();

function keyObjectOf(subKey: Buffer): KeyObject {
  let key = keyObjects.get(subKey);
  if (key === undefined) {
    key = createSecretKey(subKey);
    keyObjects.set(subKey, key);
  }
  return key;
}

/** The truncated HMAC of an already normalised value. */
export function blindIndex(subKey: Buffer, normalised: string): Buffer {
  return createHmac('sha256', keyObjectOf(subKey))
    .update(normalised, 'utf8')
    .digest()
    .subarray(0, BLIND_INDEX_BYTES);
}

/** An email address as the blind index takes it: trimmed, lower case (as the registry stores it). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
