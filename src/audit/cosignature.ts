/**
 * Witness cosignatures, c2sp.org/tlog-cosignature v1 (Ed25519): a witness's statement that it
 * verified a checkpoint's consistency with the last one it cosigned. Against T-audit: whoever holds
 * both the database and the published file can truncate or rewrite the log and re-sign it, but not
 * obtain a witness's cosignature on the rewritten history.
 *
 * - key ID: SHA-256(name ‖ "\n" ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4];
 * - verifier key (vkey): `<name>+<hex key ID>+<base64(0x04 ‖ public key)>`;
 * - signature line: `— <name> base64(key ID ‖ u64 big-endian timestamp ‖ Ed25519 signature)`;
 * - signed message: "cosignature/v1\n" ‖ "time <timestamp>\n" ‖ the checkpoint body.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { assertKeyName, CheckpointError, parseNoteKey } from './checkpoint.ts';

/** The signature type byte of Ed25519 cosignature/v1 keys (tlog-cosignature). */
const ALG_COSIGNATURE_V1 = 0x04;
const SIG_PREFIX = '\u2014 ';

/** A witness's signing side. */
export interface Cosigner {
  name: string;
  keyId: Buffer;
  /** `name+keyid+base64(0x04 ‖ key)`: what a log operator and auditors are given. */
  verifierKey: string;
  /** The cosignature line (ending with a newline) over `body` at `timestamp` (POSIX seconds). */
  cosign(body: string, timestamp: number): string;
}

/** A parsed cosignature verifier key. */
export interface CosignatureVerifier {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
  /** `name+hex keyid`: how the log's database names the witness. */
  id: string;
}

/** The message a cosignature signs (tlog-cosignature, "Ed25519 signed message"). */
export function cosignedMessage(body: string, timestamp: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${body}`, 'utf8');
}

function keyIdOf(name: string, raw: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ALG_COSIGNATURE_V1]))
    .update(raw)
    .digest()
    .subarray(0, 4);
}

/** Makes a cosigner from an Ed25519 private key (a fresh one when none is given). */
export function newCosigner(name: string, privateKey?: KeyObject): Cosigner {
  assertKeyName(name);
  const key = privateKey ?? generateKeyPairSync('ed25519').privateKey;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new CheckpointError('witness key must be an Ed25519 private key');
  }
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const raw = Buffer.from(String(jwk.x), 'base64url');
  const keyId = keyIdOf(name, raw);
  const verifierKey = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([ALG_COSIGNATURE_V1]), raw]).toString('base64')}`;
  return {
    name,
    keyId,
    verifierKey,
    cosign(body, timestamp) {
      if (!Number.isSafeInteger(timestamp) || timestamp <= 0) throw new CheckpointError('bad timestamp');
      const time = Buffer.alloc(8);
      time.writeBigUInt64BE(BigInt(timestamp));
      const signature = sign(null, cosignedMessage(body, timestamp), key);
      return `${SIG_PREFIX}${name} ${Buffer.concat([keyId, time, signature]).toString('base64')}\n`;
    },
  };
}

/** A cosigner from a base64 PKCS#8 DER Ed25519 private key. */
export function cosignerFromPkcs8(name: string, pkcs8Base64: string): Cosigner {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pkcs8Base64, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new CheckpointError('witness private key is not a PKCS#8 Ed25519 key');
  }
  return newCosigner(name, key);
}

/** Parses a cosignature vkey `name+keyid+base64(0x04 ‖ key)`, checking its key ID. */
export function cosignatureVerifierFromString(s: string): CosignatureVerifier {
  const { name, idHex, keyId, publicKey } = parseNoteKey(s, {
    what: 'witness key',
    alg: ALG_COSIGNATURE_V1,
    kind: 'an Ed25519 cosignature/v1 key (type 0x04)',
    keyIdOf,
  });
  return { name, keyId, publicKey, id: `${name}+${idHex}` };
}

/**
 * The timestamp of the witness's valid cosignature among the note's signature lines, or undefined
 * when it has none. A line with the witness's name and key ID that does not verify throws (a
 * malformed note, per signed-note).
 */
export function findCosignature(note: string, witness: CosignatureVerifier): number | undefined {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new CheckpointError('note has no blank line before its signatures');
  const body = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split('\n');
  for (const line of lines) {
    if (!line.startsWith(`${SIG_PREFIX}${witness.name} `)) continue;
    const text = line.slice(SIG_PREFIX.length + witness.name.length + 1);
    const sig = Buffer.from(text, 'base64');
    if (sig.toString('base64') !== text || sig.length < 4 || !sig.subarray(0, 4).equals(witness.keyId)) {
      continue; // another key under the same name: not this witness's
    }
    if (sig.length !== 4 + 8 + 64) throw new CheckpointError(`cosignature by ${witness.name} is malformed`);
    const timestamp = sig.readBigUInt64BE(4);
    if (timestamp === 0n || timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CheckpointError(`cosignature by ${witness.name} has an invalid timestamp`);
    }
    const at = Number(timestamp);
    if (!verify(null, cosignedMessage(body, at), witness.publicKey, sig.subarray(12))) {
      throw new CheckpointError(`cosignature by ${witness.name} is invalid`);
    }
    return at;
  }
  return undefined;
}
