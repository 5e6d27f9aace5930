/**
 * Checkpoints of the audit log in the C2SP formats (docs/DESIGN.md section 7), so that anyone holding a
 * published checkpoint can detect a rewritten history (T-audit: administrators forking the log).
 *
 * - https://c2sp.org/tlog-checkpoint: the body is `origin\nsize\nbase64(root)\n[extension\n...]`.
 * - https://c2sp.org/signed-note: body, a blank line, then `— <name> <base64(keyID ‖ signature)>\n`
 *   lines; for Ed25519 keys keyID = SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4], and verifier keys
 *   are written `<name>+<hex keyID>+<base64(0x01 ‖ public key)>`.
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

/** A parsed tlog checkpoint. */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  extensions: string[];
}

/** Something that signs note bodies under a named key. */
export interface NoteSigner {
  name: string;
  keyId: Buffer;
  /** The raw signature (without the key ID) over the exact note body. */
  sign(body: string): Buffer;
  /** The note verifier key, `<name>+<hex keyID>+<base64(0x01 ‖ public key)>`. */
  verifierKey: string;
}

/** A parsed note verifier key. */
export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
}

/** Thrown for every malformed checkpoint, note or key, and for notes that no known key verifies. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Signature type byte for Ed25519 in signed-note key IDs and verifier keys. */
const ALG_ED25519 = 0x01;
/** Rempart's tree hashes with SHA-256 (docs/DESIGN.md section 7). */
const ROOT_HASH_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
/** Bounds the work an attacker-supplied note can cause (the Go reference implementation uses 100). */
const MAX_SIGNATURES = 100;
const SIG_PREFIX = '\u2014 ';

// --- checkpoint body ---------------------------------------------------------------------------

/** Formats a checkpoint body (tlog-checkpoint), validating every field first. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === '' || !isValidLine(c.origin)) throw new CheckpointError('checkpoint origin is invalid');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new CheckpointError('checkpoint size is invalid');
  if (c.rootHash.length !== ROOT_HASH_BYTES) {
    throw new CheckpointError(`checkpoint root hash must be ${ROOT_HASH_BYTES} bytes`);
  }
  for (const ext of c.extensions) {
    if (ext === '' || !isValidLine(ext)) throw new CheckpointError('checkpoint extension line is invalid');
  }
  const lines = [c.origin, String(c.size), c.rootHash.toString('base64'), ...c.extensions];
  return lines.map((line) => `${line}\n`).join('');
}

/** Parses a checkpoint body strictly; throws a CheckpointError naming the first problem. */
export function parseCheckpoint(body: string): Checkpoint {
  assertNoteText(body, 'checkpoint');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('checkpoint must have origin, size and root hash lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw new CheckpointError('checkpoint origin is empty');
  // tlog-checkpoint: "ASCII decimal", and leading zeros would give one checkpoint two encodings.
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    throw new CheckpointError('checkpoint size is not a decimal number');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError('checkpoint size is too large');
  const rootHash = decodeBase64(rootText, 'checkpoint root hash');
  if (rootHash.length !== ROOT_HASH_BYTES) {
    throw new CheckpointError(`checkpoint root hash must be ${ROOT_HASH_BYTES} bytes`);
  }
  if (extensions.some((ext) => ext === '')) throw new CheckpointError('checkpoint extension line is empty');
  return { origin, size, rootHash, extensions };
}

// --- keys --------------------------------------------------------------------------------------

/** Computes the signed-note key ID of an Ed25519 key: SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[:4]. */
export function ed25519KeyId(name: string, rawPublicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ALG_ED25519]))
    .update(rawPublicKey)
    .digest()
    .subarray(0, 4);
}

/** Generates a new Ed25519 private key, returned as base64 PKCS#8 DER (for the keyring). */
export function generateSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

/** Builds a signer from a base64 PKCS#8 DER Ed25519 private key, as made by generateSigningKey. */
export function signerFromPkcs8(name: string, pkcs8Base64: string): NoteSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: decodeBase64(pkcs8Base64, 'private key'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new CheckpointError('private key is not a PKCS#8 Ed25519 key');
  }
  return newEd25519Signer(name, key);
}

/** Makes an Ed25519 note signer; generates a fresh key when none is given. */
export function newEd25519Signer(name: string, privateKey?: KeyObject): NoteSigner {
  assertKeyName(name);
  const key = privateKey ?? generateKeyPairSync('ed25519').privateKey;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new CheckpointError('signer key must be an Ed25519 private key');
  }
  const raw = rawEd25519PublicKey(createPublicKey(key));
  const keyId = ed25519KeyId(name, raw);
  const verifierKey = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([ALG_ED25519]), raw]).toString('base64')}`;
  return {
    name,
    keyId,
    sign: (body) => sign(null, Buffer.from(body, 'utf8'), key),
    verifierKey,
  };
}

/** Parses a note verifier key `<name>+<hex keyID>+<base64(0x01 ‖ key)>`, checking the key ID. */
export function verifierKeyFromString(s: string): NoteVerifier {
  const { name, keyId, publicKey } = parseNoteKey(s, {
    what: 'verifier key',
    alg: ALG_ED25519,
    kind: 'an Ed25519 key',
    keyIdOf: ed25519KeyId,
  });
  return { name, keyId, publicKey };
}

/** How a kind of signed-note key is spelled: its type byte and how its key ID is derived. */
export interface NoteKeyKind {
  /** What the key is called in errors: 'verifier key', 'witness key'. */
  what: string;
  /** The signature type byte that starts the encoded key (0x01 Ed25519, 0x04 cosignature/v1). */
  alg: number;
  /** What the key must be, for the error when the type byte or length is wrong. */
  kind: string;
  keyIdOf(name: string, rawPublicKey: Buffer): Buffer;
}

/**
 * Parses a signed-note verifier key `<name>+<hex keyID>+<base64(type ‖ Ed25519 key)>` of the given
 * kind (c2sp.org/signed-note), checking the name, the type byte and that the key ID is the key's.
 */
export function parseNoteKey(
  s: string,
  kind: NoteKeyKind,
): { name: string; idHex: string; keyId: Buffer; publicKey: KeyObject } {
  // Only the first two "+" separate fields: names cannot hold one, but base64 keys can.
  const first = s.indexOf('+');
  const second = first < 0 ? -1 : s.indexOf('+', first + 1);
  if (second < 0) throw new CheckpointError(`${kind.what} must be name+keyid+key`);
  const name = s.slice(0, first);
  const idHex = s.slice(first + 1, second);
  assertKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex))
    throw new CheckpointError(`${kind.what} id must be 8 lowercase hex digits`);
  const key = decodeBase64(s.slice(second + 1), kind.what);
  if (key.length !== 1 + 32 || key[0] !== kind.alg) {
    throw new CheckpointError(`${kind.what} is not ${kind.kind}`);
  }
  const raw = key.subarray(1);
  const keyId = kind.keyIdOf(name, raw);
  if (!keyId.equals(Buffer.from(idHex, 'hex')))
    throw new CheckpointError(`${kind.what} id does not match key`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
  } catch {
    throw new CheckpointError(`${kind.what} is not a valid Ed25519 public key`);
  }
  return { name, idHex, keyId, publicKey };
}

// --- signed notes ------------------------------------------------------------------------------

/** Signs a note body with every signer and returns the full signed note. */
export function signNote(body: string, signers: NoteSigner[]): string {
  assertNoteText(body, 'note body');
  if (signers.length === 0) throw new CheckpointError('a note needs at least one signer');
  const seen = new Set<string>();
  let out = `${body}\n`;
  for (const signer of signers) {
    assertKeyName(signer.name);
    if (signer.keyId.length !== 4) throw new CheckpointError('signer key id must be 4 bytes');
    const id = `${signer.name}+${signer.keyId.toString('hex')}`;
    if (seen.has(id)) throw new CheckpointError('the same signer appears twice');
    seen.add(id);
    const sig = Buffer.concat([signer.keyId, signer.sign(body)]);
    out += `${SIG_PREFIX}${signer.name} ${sig.toString('base64')}\n`;
  }
  return out;
}

/**
 * Opens a signed note: checks its shape, verifies every signature from a known key (any failure
 * throws), ignores signatures from unknown keys (signed-note), and requires at least one verified.
 */
export function openNote(note: string, verifierKeys: string[]): { body: string; verifiedBy: string[] } {
  const known = new Map<string, NoteVerifier>();
  for (const s of verifierKeys) {
    const v = verifierKeyFromString(s);
    const id = `${v.name}+${v.keyId.toString('hex')}`;
    const prior = known.get(id);
    if (prior && !prior.publicKey.equals(v.publicKey)) throw new CheckpointError('ambiguous verifier keys');
    known.set(id, v);
  }

  assertUtf8(note, 'note');
  if (note.includes('\r')) throw new CheckpointError('note has a carriage return (CRLF line endings)');
  // The body has no blank line of its own when it is a checkpoint, and signature lines are never
  // empty, so the last blank line is the separator.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new CheckpointError('note has no blank line before its signatures');
  const body = note.slice(0, split + 1);
  const sigBlock = note.slice(split + 2);
  assertNoteText(body, 'note body');
  if (sigBlock === '') throw new CheckpointError('note has no signature lines');
  if (!sigBlock.endsWith('\n')) throw new CheckpointError('note does not end with a newline');
  if (hasControlChar(sigBlock)) throw new CheckpointError('note signatures contain a control character');
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new CheckpointError('note has too many signatures');

  const message = Buffer.from(body, 'utf8');
  const verifiedBy: string[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX))
      throw new CheckpointError('note signature line does not start with "— "');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space < 0) throw new CheckpointError('note signature line has no signature');
    const name = rest.slice(0, space);
    assertKeyName(name);
    const sig = decodeBase64(rest.slice(space + 1), 'note signature');
    if (sig.length < 5) throw new CheckpointError('note signature is too short');
    const verifier = known.get(`${name}+${sig.subarray(0, 4).toString('hex')}`);
    if (!verifier) continue; // signed-note: signatures from unknown keys are ignored
    const raw = sig.subarray(4);
    if (raw.length !== ED25519_SIGNATURE_BYTES || !verify(null, message, verifier.publicKey, raw)) {
      throw new CheckpointError(`note signature by ${name} is invalid`);
    }
    if (!verifiedBy.includes(name)) verifiedBy.push(name);
  }
  if (verifiedBy.length === 0) throw new CheckpointError('note has no signature from a known key');
  return { body, verifiedBy };
}

// --- helpers -----------------------------------------------------------------------------------

function rawEd25519PublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new CheckpointError('public key is not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** Standard base64 with padding, canonical only (Buffer.from alone accepts junk and base64url). */
function decodeBase64(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (text === '' || bytes.toString('base64') !== text)
    throw new CheckpointError(`${what} is not valid base64`);
  return bytes;
}

/** signed-note key names: non-empty, no whitespace, no "+". */
export function assertKeyName(name: string): void {
  if (name === '' || /[\s+]/u.test(name) || hasControlChar(name) || !isWellFormed(name)) {
    throw new CheckpointError('key name is invalid');
  }
}

/** signed-note text: non-empty UTF-8, ends with a newline, no control character but newline. */
function assertNoteText(text: string, what: string): void {
  if (text === '') throw new CheckpointError(`${what} is empty`);
  assertUtf8(text, what);
  if (!text.endsWith('\n')) throw new CheckpointError(`${what} does not end with a newline`);
  if (text.includes('\r')) throw new CheckpointError(`${what} has a carriage return (CRLF line endings)`);
  if (hasControlChar(text)) throw new CheckpointError(`${what} contains a control character`);
}

function assertUtf8(text: string, what: string): void {
  if (!isWellFormed(text)) throw new CheckpointError(`${what} is not valid UTF-8`);
}

function isWellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

function isValidLine(text: string): boolean {
  return !text.includes('\n') && !hasControlChar(text) && isWellFormed(text);
}

function hasControlChar(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  return /[\u0000-\u0009\u000b-\u001f\u007f]/.test(text);
}
