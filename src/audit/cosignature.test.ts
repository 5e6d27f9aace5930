import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, newEd25519Signer, signNote } from './checkpoint.ts';
import { cosignatureVerifierFromString, findCosignature, newCosigner } from './cosignature.ts';

const body = formatCheckpoint({
  origin: 'rempart.test/audit',
  size: 42,
  rootHash: Buffer.alloc(32, 7),
  extensions: [],
});
const note = signNote(body, [newEd25519Signer('rempart.test/audit')]);

describe('tlog-cosignature v1 (Ed25519)', () => {
  it('follows the spec byte for byte: key ID with type 0x04, timestamp then signature, the signed message', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const cosigner = newCosigner('witness.example/w1', privateKey);
    const raw = Buffer.from(String(createPublicKey(privateKey).export({ format: 'jwk' }).x), 'base64url');
    const keyId = createHash('sha256')
      .update(Buffer.concat([Buffer.from('witness.example/w1\n'), Buffer.from([0x04]), raw]))
      .digest()
      .subarray(0, 4);
    expect(cosigner.verifierKey).toBe(
      `witness.example/w1+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([0x04]), raw]).toString('base64')}`,
    );
    const line = cosigner.cosign(body, 1679315147);
    expect(line.startsWith('\u2014 witness.example/w1 ')).toBe(true);
    const sig = Buffer.from(line.trim().split(' ')[2]!, 'base64');
    expect(sig.length).toBe(4 + 8 + 64);
    expect(sig.subarray(0, 4)).toEqual(keyId);
    expect(sig.readBigUInt64BE(4)).toBe(1679315147n);
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${body}`);
    expect(verify(null, message, createPublicKey(privateKey), sig.subarray(12))).toBe(true);
    expect(findCosignature(`${note}${line}`, cosignatureVerifierFromString(cosigner.verifierKey))).toBe(
      1679315147,
    );
  });

  it('finds no cosignature from another witness, and throws on one that does not verify', () => {
    const cosigner = newCosigner('witness.example/w1');
    const other = newCosigner('witness.example/w1');
    const line = cosigner.cosign(body, 1700000000);
    expect(
      findCosignature(`${note}${line}`, cosignatureVerifierFromString(other.verifierKey)),
    ).toBeUndefined();
    const forgedBody = note.replace('\n42\n', '\n43\n');
    expect(() =>
      findCosignature(`${forgedBody}${line}`, cosignatureVerifierFromString(cosigner.verifierKey)),
    ).toThrow(/invalid/);
  });

  it('refuses a log key (type 0x01) as a witness key, a wrong key ID, and a zero timestamp', () => {
    expect(() => cosignatureVerifierFromString(newEd25519Signer('w1').verifierKey)).toThrow(/0x04/);
    const key = newCosigner('w1').verifierKey;
    expect(() => cosignatureVerifierFromString(key.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(
      /key id/,
    );
    expect(() => newCosigner('w1').cosign(body, 0)).toThrow();
  });
});
