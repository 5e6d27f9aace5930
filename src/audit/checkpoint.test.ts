import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  ed25519KeyId,
  formatCheckpoint,
  generateSigningKey,
  newEd25519Signer,
  openNote,
  parseCheckpoint,
  signerFromPkcs8,
  signNote,
  verifierKeyFromString,
} from './checkpoint.ts';

const ORIGIN = 'rempart.example/audit';
const EMPTY_ROOT = createHash('sha256').digest(); // RFC 6962: the empty tree hashes to SHA-256("")
const root = createHash('sha256').update('some tree').digest();
const checkpoint: Checkpoint = { origin: ORIGIN, size: 1234, rootHash: root, extensions: [] };
const body = formatCheckpoint(checkpoint);
const rempart = newEd25519Signer(ORIGIN);
const witness = newEd25519Signer('witness.partner.example');
const stranger = newEd25519Signer('stranger.example');

/** Replaces the signature line of `name` with one whose decoded bytes went through `edit`. */
function editSignature(note: string, name: string, edit: (sig: Buffer) => void): string {
  return note.replace(new RegExp(`^— ${name} (\\S+)$`, 'm'), (_line, b64: string) => {
    const sig = Buffer.from(b64, 'base64');
    edit(sig);
    return `— ${name} ${sig.toString('base64')}`;
  });
}

describe('checkpoint body (c2sp.org/tlog-checkpoint)', () => {
  it('formats three newline-terminated lines and parses back', () => {
    expect(body).toBe(`${ORIGIN}\n1234\n${root.toString('base64')}\n`);
    expect(parseCheckpoint(body)).toEqual(checkpoint);
  });

  it('handles size 0 with the empty-tree root', () => {
    const empty = formatCheckpoint({ origin: ORIGIN, size: 0, rootHash: EMPTY_ROOT, extensions: [] });
    expect(empty).toBe(`${ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`);
    expect(parseCheckpoint(empty)).toEqual({ origin: ORIGIN, size: 0, rootHash: EMPTY_ROOT, extensions: [] });
  });

  it('reads extension lines', () => {
    const withExt = `${body}time 1700000000\nother ext\n`;
    expect(parseCheckpoint(withExt).extensions).toEqual(['time 1700000000', 'other ext']);
  });

  const b64 = root.toString('base64');
  it.each([
    ['empty origin', `\n1\n${b64}\n`, /origin is empty/],
    ['leading zeros in size', `${ORIGIN}\n012\n${b64}\n`, /size is not a decimal/],
    ['non-numeric size', `${ORIGIN}\n12a\n${b64}\n`, /size is not a decimal/],
    ['negative size', `${ORIGIN}\n-1\n${b64}\n`, /size is not a decimal/],
    ['size beyond 2^53', `${ORIGIN}\n18446744073709551615\n${b64}\n`, /size is too large/],
    ['bad base64 root', `${ORIGIN}\n1\n${b64.slice(1)}\n`, /root hash is not valid base64/],
    ['base64url root', `${ORIGIN}\n1\n${'_'.repeat(43)}=\n`, /root hash is not valid base64/],
    [
      'short root',
      `${ORIGIN}\n1\n${EMPTY_ROOT.subarray(0, 16).toString('base64')}\n`,
      /root hash must be 32/,
    ],
    ['missing root line', `${ORIGIN}\n1\n`, /origin, size and root hash/],
    ['missing final newline', `${ORIGIN}\n1\n${b64}`, /does not end with a newline/],
    ['CRLF line endings', `${ORIGIN}\r\n1\r\n${b64}\r\n`, /CRLF/],
    ['an empty extension line', `${ORIGIN}\n1\n${b64}\n\nx\n`, /extension line is empty/],
    ['a control character', `${ORIGIN}\u0000\n1\n${b64}\n`, /control character/],
    ['an empty body', '', /is empty/],
  ])('rejects %s', (_what, text, error) => {
    expect(() => parseCheckpoint(text)).toThrow(error);
  });

  it('refuses to format an invalid checkpoint', () => {
    expect(() => formatCheckpoint({ ...checkpoint, origin: '' })).toThrow(/origin/);
    expect(() => formatCheckpoint({ ...checkpoint, origin: 'a\nb' })).toThrow(/origin/);
    expect(() => formatCheckpoint({ ...checkpoint, size: -1 })).toThrow(/size/);
    expect(() => formatCheckpoint({ ...checkpoint, size: 1.5 })).toThrow(/size/);
    expect(() => formatCheckpoint({ ...checkpoint, rootHash: Buffer.alloc(31) })).toThrow(/root hash/);
  });
});

describe('signed note (c2sp.org/signed-note)', () => {
  it('derives the Ed25519 key id as SHA-256(name ‖ "\\n" ‖ 0x01 ‖ key)[:4]', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const name = 'rempart.example/audit';
    // Independent of the module: the raw key is the last 32 bytes of the SPKI DER.
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, 0x01]), raw]))
      .digest()
      .subarray(0, 4);
    const signer = newEd25519Signer(name, privateKey);
    expect(signer.keyId).toEqual(expected);
    expect(ed25519KeyId(name, raw)).toEqual(expected);
    expect(signer.verifierKey).toBe(
      `${name}+${expected.toString('hex')}+${Buffer.concat([Buffer.from([1]), raw]).toString('base64')}`,
    );
    const note = signNote(body, [signer]);
    const line = note.split('\n').at(-2)!;
    expect(Buffer.from(line.split(' ')[2]!, 'base64').subarray(0, 4)).toEqual(expected);
  });

  it('writes body, blank line, and an em-dash signature line; the signature verifies', () => {
    const note = signNote(body, [rempart]);
    expect(note.startsWith(`${body}\n\u2014 ${ORIGIN} `)).toBe(true);
    expect(note.endsWith('\n')).toBe(true);
    expect(openNote(note, [rempart.verifierKey])).toEqual({ body, verifiedBy: [ORIGIN] });
    expect(parseCheckpoint(openNote(note, [rempart.verifierKey]).body)).toEqual(checkpoint);
  });

  it('opens the signed-note example from golang.org/x/mod/sumdb/note (interoperability)', () => {
    const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const text =
      'If you think cryptography is the answer to your problem,\n' +
      "then you don't know what your problem is.\n";
    const note = `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    expect(openNote(note, [vkey])).toEqual({ body: text, verifiedBy: ['PeterNeumann'] });
  });

  it('fails when any character of the body is altered', () => {
    const note = signNote(body, [rempart]);
    for (let i = 0; i < body.length; i++) {
      const altered = body.slice(0, i) + (body[i] === 'A' ? 'B' : 'A') + body.slice(i + 1);
      expect(() => openNote(altered + note.slice(body.length), [rempart.verifierKey])).toThrow();
    }
  });

  it('fails when any byte of the signature is altered', () => {
    const note = signNote(body, [rempart]);
    for (let i = 4; i < 68; i++) {
      const altered = editSignature(note, ORIGIN, (sig) => {
        sig[i]! ^= 0x01;
      });
      expect(() => openNote(altered, [rempart.verifierKey])).toThrow(/signature by .* is invalid/);
    }
  });

  it('fails when any byte of the key id is altered (the key becomes unknown)', () => {
    const note = signNote(body, [rempart]);
    for (let i = 0; i < 4; i++) {
      const altered = editSignature(note, ORIGIN, (sig) => {
        sig[i]! ^= 0x80;
      });
      expect(() => openNote(altered, [rempart.verifierKey])).toThrow(/no signature from a known key/);
    }
  });

  it('fails when any character of the signer name is altered', () => {
    const note = signNote(body, [rempart]);
    const at = note.indexOf(`— ${ORIGIN} `) + 2;
    for (let i = 0; i < ORIGIN.length; i++) {
      const altered = note.slice(0, at + i) + (ORIGIN[i] === 'x' ? 'y' : 'x') + note.slice(at + i + 1);
      expect(() => openNote(altered, [rempart.verifierKey])).toThrow(/no signature from a known key/);
    }
  });

  it('refuses a note signed only by an unknown key', () => {
    const note = signNote(body, [stranger]);
    expect(() => openNote(note, [rempart.verifierKey])).toThrow(/no signature from a known key/);
  });

  it('ignores an unknown signature next to a valid known one', () => {
    const note = signNote(body, [stranger, rempart]);
    expect(openNote(note, [rempart.verifierKey])).toEqual({ body, verifiedBy: [ORIGIN] });
  });

  it('verifies two signers (Rempart and a partner witness)', () => {
    const note = signNote(body, [rempart, witness]);
    expect(openNote(note, [rempart.verifierKey, witness.verifierKey]).verifiedBy).toEqual([
      ORIGIN,
      'witness.partner.example',
    ]);
    expect(openNote(note, [witness.verifierKey]).verifiedBy).toEqual(['witness.partner.example']);
  });

  it('refuses a known key whose signature is invalid even when another known key verifies', () => {
    const note = editSignature(signNote(body, [rempart, witness]), 'witness.partner.example', (sig) => {
      sig[10]! ^= 0x01;
    });
    expect(() => openNote(note, [rempart.verifierKey, witness.verifierKey])).toThrow(/witness.* is invalid/);
  });

  const good = signNote(body, [rempart]);
  const sigLine = good.slice(body.length + 1);
  it.each([
    ['a missing blank line', body + sigLine, /no blank line/],
    ['no signature lines', `${body}\n`, /no signature lines/],
    ['bad base64', `${body}\n— ${ORIGIN} !!notbase64\n`, /signature is not valid base64/],
    ['a too-short signature', `${body}\n— ${ORIGIN} AAAA\n`, /signature is too short/],
    ['CRLF line endings', good.replaceAll('\n', '\r\n'), /CRLF/],
    ['a missing final newline', good.slice(0, -1), /does not end with a newline/],
    ['a hyphen instead of an em dash', good.replace('—', '-'), /does not start with/],
    ['a signature line without a signature', `${body}\n— ${ORIGIN}\n`, /has no signature/],
    // The last blank line is the separator (as in Go's note.Open), so the first signature falls into the body.
    ['an empty line among signatures', `${good}\n${sigLine}`, /signature by .* is invalid/],
  ])('rejects a note with %s', (_what, note, error) => {
    expect(() => openNote(note, [rempart.verifierKey])).toThrow(error);
  });

  it('refuses to sign without signers or with an invalid body', () => {
    expect(() => signNote(body, [])).toThrow(/at least one signer/);
    expect(() => signNote('no newline', [rempart])).toThrow(/does not end with a newline/);
    expect(() => signNote('a\r\n', [rempart])).toThrow(/CRLF/);
    expect(() => signNote(body, [rempart, rempart])).toThrow(/twice/);
  });
});

describe('keys', () => {
  it('round-trips a PKCS#8 signing key through base64', () => {
    const stored = generateSigningKey();
    const a = signerFromPkcs8(ORIGIN, stored);
    const b = signerFromPkcs8(ORIGIN, stored);
    expect(a.verifierKey).toBe(b.verifierKey);
    expect(openNote(signNote(body, [a]), [b.verifierKey]).verifiedBy).toEqual([ORIGIN]);
  });

  it('parses a verifier key and checks its key id', () => {
    const v = verifierKeyFromString(rempart.verifierKey);
    expect(v.name).toBe(ORIGIN);
    expect(v.keyId).toEqual(rempart.keyId);
    // Only the first two '+' separate the fields: the base64 key may hold '+' itself.
    const first = witness.verifierKey.indexOf('+');
    const second = witness.verifierKey.indexOf('+', first + 1);
    const name = witness.verifierKey.slice(0, first);
    const key = witness.verifierKey.slice(second + 1);
    expect(() => verifierKeyFromString(`${name}+${rempart.keyId.toString('hex')}+${key}`)).toThrow(
      /key id does not match/,
    );
  });

  it.each([
    ['too few parts', 'name+00000000'],
    ['an uppercase or short key id', 'name+ABC+AQ=='],
    ['a non-Ed25519 algorithm byte', `name+00000000+${Buffer.alloc(33, 2).toString('base64')}`],
    ['a name with a space', `a b+00000000+${Buffer.alloc(33, 1).toString('base64')}`],
    ['an empty name', `+00000000+${Buffer.alloc(33, 1).toString('base64')}`],
  ])('rejects a verifier key with %s', (_what, s) => {
    expect(() => verifierKeyFromString(s)).toThrow();
  });

  it('rejects invalid signer names and non-Ed25519 keys', () => {
    expect(() => newEd25519Signer('has space')).toThrow(/key name/);
    expect(() => newEd25519Signer('a+b')).toThrow(/key name/);
    expect(() => newEd25519Signer('')).toThrow(/key name/);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => newEd25519Signer('x', privateKey)).toThrow(/Ed25519 private key/);
    expect(() => newEd25519Signer('x', createPublicKey(generateSigningKeyObject()))).toThrow(/private key/);
    expect(() => signerFromPkcs8('x', 'AAAA')).toThrow(/PKCS#8 Ed25519/);
  });
});

function generateSigningKeyObject() {
  return generateKeyPairSync('ed25519').privateKey;
}
