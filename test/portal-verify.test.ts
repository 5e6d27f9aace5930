/** The browser's proof checks, run on Node's WebCrypto against the server's own leaf, signing and tree code. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, newEd25519Signer, signNote } from '../src/audit/checkpoint.ts';
import { discloseTo, eventLeafHash, LEAF_FORMAT_V1, type StoredEvent } from '../src/audit/leaf.ts';
import { inclusionProof, rootOf } from '../src/audit/merkle.ts';
import { withNewNoticeKey } from '../src/crypto/keyring.ts';
import { noticeVerifierKeys } from '../src/crypto/notice-signing.ts';
import { renderNoticeText, signedNoticeText } from '../src/notify/notice-text.ts';
import {
  openSignedNote,
  type ProvableEntry,
  verifyCheckpoint,
  verifyEntry,
} from '../web/src/portal/verify.ts';

const person = '00000000-0000-4000-8000-000000000001';
const other = '00000000-0000-4000-8000-000000000002';

/**
 * A v2 event as the sequencer would hash it: a staff search that returned `person` and `other`, or
 * (every third) the person's own read, whose organisation and role are null.
 */
function event(i: number): StoredEvent {
  if (i % 3 === 2)
    return {
      ...staffEvent(i),
      actorKind: 'person',
      accountId: null,
      organisationId: null,
      role: null,
      sessionRef: null,
      purpose: 'data_subject_access',
      action: 'portal.my_data',
      persons: [{ personId: person, fields: ['nir'] }],
    };
  return staffEvent(i);
}

function staffEvent(i: number): StoredEvent {
  return {
    id: String(i + 1),
    occurredAt: new Date(Date.UTC(2026, 11, 1, 9, i)),
    actorKind: 'staff',
    accountId: '00000000-0000-4000-8000-0000000000aa',
    organisationId: '00000000-0000-4000-8000-0000000000bb',
    role: 'counselor',
    sessionRef: '0123456789abcdef',
    requestId: `req-${i}`,
    sourceAddress: '192.0.2.7',
    purpose: 'accompaniment',
    action: 'person.search',
    query: { by: 'name', cap: 20 },
    justification: null,
    decision: 'allow',
    reason: null,
    resultCount: 2,
    persons: [
      { personId: other, fields: ['lastName', 'nir'] },
      { personId: person, fields: ['nir', 'firstNames'] },
    ],
    salt: randomBytes(32),
  };
}

describe('the portal page’s proof checks', () => {
  it('verifies v2 entries against a signed checkpoint, whatever the key’s base64 holds, and refuses a forged one', async () => {
    // Many keys: some have '+' in their base64 (a split on every '+' broke those).
    for (let k = 0; k < 12; k++) {
      const signer = newEd25519Signer(`rempart/audit/test${k}`);
      const events = Array.from({ length: 7 }, (_, i) => event(i));
      const leaves = events.map(eventLeafHash);
      const note = signNote(
        formatCheckpoint({ origin: signer.name, size: 7, rootHash: rootOf(leaves), extensions: [] }),
        [signer],
      );
      const checkpoint = await verifyCheckpoint(note, signer.verifierKey);
      expect(checkpoint?.size).toBe(7);
      for (let i = 0; i < 7; i++) {
        const d = discloseTo(events[i]!, person)!;
        const entry: ProvableEntry = {
          ...d,
          at: d.occurredAt,
          proof: {
            leafIndex: i,
            treeSize: 7,
            leafHash: '',
            hashes: inclusionProof(leaves, i, 7).map((h) => h.toString('hex')),
          },
        };
        expect(await verifyEntry(entry, checkpoint, person)).toBe('verified');
        if (k > 0) continue;
        // A forged entry (another organisation, purpose, action or time, more fields, a dropped
        // commitment) or another person's claim of it: each fails on the page.
        const forged: Partial<ProvableEntry>[] = [
          { organisationId: '00000000-0000-4000-8000-0000000000cc' },
          { purpose: 'payment' },
          { action: 'person.view' },
          { at: new Date(Date.UTC(2026, 10, 1)).toISOString() },
          { fields: [...d.fields, 'email'] },
          { commitments: d.commitments.slice(1) },
          { privateDigest: '0'.repeat(64) },
        ];
        for (const change of forged)
          expect(await verifyEntry({ ...entry, ...change }, checkpoint, person)).toBe('failed');
        expect(await verifyEntry(entry, checkpoint, other)).toBe('failed');
        // The entry names neither the other person nor the staff member's details.
        const text = JSON.stringify(entry);
        for (const secret of [other, '0000000000aa', '0123456789abcdef', 'req-', '192.0.2.7', 'lastName'])
          expect(text).not.toContain(secret);
      }
      expect(await verifyCheckpoint(note.replace('\n7\n', '\n6\n'), signer.verifierKey)).toBeNull();
      expect(await verifyCheckpoint(note, newEd25519Signer(signer.name).verifierKey)).toBeNull();
    }
  });

  it('says an entry of leaf format v1 cannot be checked, rather than asking for its clear text', async () => {
    const d = discloseTo(event(0), person)!;
    const entry: ProvableEntry = {
      ...d,
      at: d.occurredAt,
      leafFormat: LEAF_FORMAT_V1,
      proof: { leafIndex: 0, treeSize: 1, leafHash: '', hashes: [] },
    };
    expect(await verifyEntry(entry, null, person)).toBe('unprovable');
    expect(discloseTo({ ...event(0), salt: null }, person)).toBeNull();
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
