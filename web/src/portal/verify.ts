/**
 * Checks an access history entry in the browser, trusting nothing the server computed (docs/PORTAL.md,
 * "Proofs"): the person's own commitment from their salt and fields, its presence among the event's
 * commitments, the leaf of format rempart/audit-event/v2 rebuilt from the entry's public part (the
 * very values the page shows), its hash (SHA-256 via WebCrypto), the RFC 9162 inclusion path to the
 * checkpoint's root, and the checkpoint's Ed25519 signature (WebCrypto) under the verifier key
 * (c2sp.org/signed-note). The key is shown to the person, so that it can be compared with the one the
 * operator publishes (docs/OPERATIONS.md). The layout is src/audit/leaf.ts's, written again here.
 */

const utf8 = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}
const equal = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** A checkpoint verified under its key: its size and root. */
export interface VerifiedCheckpoint {
  size: number;
  root: Uint8Array;
  keyName: string;
}

/** A verifier key `<name>+<hex key id>+<base64(0x01 ‖ key)>`, parsed; null if malformed. */
function parseVerifierKey(
  verifierKey: string,
): { name: string; keyIdHex: string; key: Uint8Array<ArrayBuffer> } | null {
  // The base64 key may itself hold '+': only the first two separate the fields.
  const first = verifierKey.indexOf('+');
  const second = verifierKey.indexOf('+', first + 1);
  if (first <= 0 || second <= first) return null;
  let keyBytes: Uint8Array<ArrayBuffer>;
  try {
    keyBytes = fromBase64(verifierKey.slice(second + 1));
  } catch {
    return null;
  }
  if (keyBytes.length !== 33 || keyBytes[0] !== 1) return null;
  return {
    name: verifierKey.slice(0, first),
    keyIdHex: verifierKey.slice(first + 1, second),
    key: keyBytes.slice(1),
  };
}

/**
 * Opens a signed note (c2sp.org/signed-note): its body and the name of the first of
 * `verifierKeys` whose Ed25519 signature verifies over it, or null. The last blank line separates
 * the body from the signatures (a checkpoint has no blank line; a notice has several of its own).
 */
export async function openSignedNote(
  note: string,
  verifierKeys: readonly string[],
): Promise<{ body: string; keyName: string } | null> {
  if (note.includes('\r')) return null;
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return null;
  const body = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '');
  for (const verifierKey of verifierKeys) {
    const parsed = parseVerifierKey(verifierKey);
    if (!parsed) continue;
    const key = await crypto.subtle.importKey('raw', parsed.key, { name: 'Ed25519' }, false, ['verify']);
    for (const line of signatures) {
      const match = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!match || match[1] !== parsed.name) continue;
      const sig = fromBase64(match[2]!);
      if (sig.length !== 68 || hex(sig.slice(0, 4)) !== parsed.keyIdHex) continue;
      if (await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.slice(4), utf8.encode(body)))
        return { body, keyName: parsed.name };
    }
  }
  return null;
}

/** Opens a signed checkpoint with the verifier key `<name>+<hex key id>+<base64(0x01 ‖ key)>`; null if it does not verify. */
export async function verifyCheckpoint(
  note: string,
  verifierKey: string,
): Promise<VerifiedCheckpoint | null> {
  const opened = await openSignedNote(note, [verifierKey]);
  if (!opened) return null;
  const lines = opened.body.slice(0, -1).split('\n');
  if (lines.length < 3 || lines[0] !== opened.keyName) return null;
  return { size: Number(lines[1]), root: fromBase64(lines[2]!), keyName: opened.keyName };
}

/** RFC 9162 §2.1.3.2, as the server's merkle.ts, written again here. */
async function rootFromInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: Uint8Array[],
): Promise<Uint8Array | null> {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const one = new Uint8Array([1]);
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(one, p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(one, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** The leaf format whose entries the page can check (src/audit/leaf.ts LEAF_FORMAT_V2). */
const LEAF_FORMAT_V2 = 'rempart/audit-event/v2';

/** What the page needs of an entry: the public part it shows and the opening of the person's link. */
export interface ProvableEntry {
  eventId: string;
  leafFormat: string;
  at: string;
  actorKind: string;
  organisationId: string | null;
  role: string | null;
  purpose: string | null;
  action: string;
  decision: string;
  fields: string[];
  privateDigest: string | null;
  personSalt: string | null;
  commitments: string[];
  proof: { leafIndex: number; treeSize: number; leafHash: string; hashes: string[] } | null;
}

/** What a check found. */
export type EntryCheck = 'verified' | 'pending' | 'failed' | 'unprovable';

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * 'verified' (the person's commitment is among the event's, and the leaf rebuilt from what the page
 * shows, the path and the signed root agree), 'pending' (no proof yet), 'unprovable' (an event of the
 * older format, whose leaf cannot be shown without others' data) or 'failed'.
 */
export async function verifyEntry(
  entry: ProvableEntry,
  checkpoint: VerifiedCheckpoint | null,
  personId: string,
): Promise<EntryCheck> {
  if (entry.leafFormat !== LEAF_FORMAT_V2) return 'unprovable';
  if (!entry.proof) return 'pending';
  if (!checkpoint || entry.proof.treeSize !== checkpoint.size) return 'failed';
  const { personSalt, privateDigest, commitments } = entry;
  if (personSalt === null || !HEX64.test(personSalt) || privateDigest === null || !HEX64.test(privateDigest))
    return 'failed';
  // The JSON texts hold only strings and nulls: JSON.stringify writes them as the server's canonicalJson.
  const mine = hex(
    await sha256(fromHex(personSalt), utf8.encode(JSON.stringify([personId, [...entry.fields].sort()]))),
  );
  if (!commitments.includes(mine)) return 'failed';
  const canonical = JSON.stringify([
    LEAF_FORMAT_V2,
    entry.eventId,
    entry.at,
    entry.actorKind,
    entry.organisationId,
    entry.role,
    entry.purpose,
    entry.action,
    entry.decision,
    privateDigest,
    [...commitments].sort(),
  ]);
  const leaf = await sha256(new Uint8Array([0]), utf8.encode(canonical));
  const root = await rootFromInclusion(
    leaf,
    entry.proof.leafIndex,
    checkpoint.size,
    entry.proof.hashes.map(fromHex),
  );
  return root !== null && equal(root, checkpoint.root) ? 'verified' : 'failed';
}
