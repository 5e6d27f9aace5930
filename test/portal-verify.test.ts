/** The browser's proof checks, run on Node's WebCrypto against the server's own signing and tree code. */
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, newEd25519Signer, signNote } from '../src/audit/checkpoint.ts';
import { inclusionProof, leafHash, rootOf } from '../src/audit/merkle.ts';
import { withNewNoticeKey } from '../src/crypto/keyring.ts';
import { noticeVerifierKeys } from '../src/crypto/notice-signing.ts';
import { renderNoticeText, signedNoticeText } from '../src/notify/notice-text.ts';
import { openSignedNote, verifyCheckpoint, verifyEntry } from '../web/src/portal/verify.ts';

describe('the portal page’s proof checks', () => {
  it('verifies entries against a signed checkpoint, whatever the key’s base64 holds, and refuses a changed one', async () => {
    const person = '00000000-0000-4000-8000-000000000001';
    // Many keys: some have '+' in their base64 (a split on every '+' broke those).
    for (let k = 0; k < 12; k++) {
      const signer = newEd25519Signer(`rempart/audit/test${k}`);
      const texts = Array.from({ length: 7 }, (_, i) =>
        JSON.stringify([
          'rempart/audit-event/v1',
          String(i + 1),
          'x',
          'staff',
          null,
          null,
          null,
          null,
          'r',
          null,
          'accompaniment',
          'person.view',
          {},
          null,
          'allow',
          null,
          1,
          [[person, ['nir']]],
        ]),
      );
      const leaves = texts.map((t) => leafHash(Buffer.from(t)));
      const note = signNote(
        formatCheckpoint({ origin: signer.name, size: 7, rootHash: rootOf(leaves), extensions: [] }),
        [signer],
      );
      const checkpoint = await verifyCheckpoint(note, signer.verifierKey);
      expect(checkpoint?.size).toBe(7);
      for (let i = 0; i < 7; i++) {
        const proof = {
          leafIndex: i,
          treeSize: 7,
          leafHash: '',
          hashes: inclusionProof(leaves, i, 7).map((h) => h.toString('hex')),
        };
        expect(
          await verifyEntry({ eventId: String(i + 1), canonical: texts[i]!, proof }, checkpoint, person),
        ).toBe('verified');
        const changed = texts[i]!.replace('accompaniment', 'payment');
        expect(
          await verifyEntry({ eventId: String(i + 1), canonical: changed, proof }, checkpoint, person),
        ).toBe('failed');
      }
      expect(await verifyCheckpoint(note.replace('\n7\n', '\n6\n'), signer.verifierKey)).toBeNull();
      expect(await verifyCheckpoint(note, newEd25519Signer(signer.name).verifierKey)).toBeNull();
    }
  });
});

describe('the portal page’s notice check', () => {
  it('verifies a signed notice (blank lines in its body) under any published key, old or new, and refuses a changed one', async () => {
    const first = withNewNoticeKey(undefined);
    const input = {
      incidentId: '7d1c2c4e-0000-4000-8000-000000000001',
      fields: ['lastName', 'nir'],
      code: 'ABCD-EFGH-JKMN',
      publicUrl: 'https://rempart.example',
      detectedAt: new Date('2026-03-01T10:00:00Z'),
    };
    const old = signedNoticeText(first, input);
    const rotated = withNewNoticeKey(first);
    const fresh = signedNoticeText(rotated, input);
    const published = noticeVerifierKeys(rotated);
    for (const note of [old, fresh]) {
      const opened = await openSignedNote(note, published);
      expect(opened?.body).toBe(renderNoticeText(input));
    }
    expect(await openSignedNote(old, noticeVerifierKeys(withNewNoticeKey(undefined)))).toBeNull();
    const changed = fresh
      .replace('- votre nom d’usage', '- votre nom')
      .replace("- votre nom d'usage", '- votre nom');
    expect(changed).not.toBe(fresh);
    expect(await openSignedNote(changed, published)).toBeNull();
    expect(await openSignedNote(fresh.replace(/\n/g, '\r\n'), published)).toBeNull();
  });
});
