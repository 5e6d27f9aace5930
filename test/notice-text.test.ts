import { describe, expect, it } from 'vitest';
import { VIEW_FIELDS, WORK_ITEM_FIELDS } from '../src/access/policy.ts';
import { withNewNoticeKey } from '../src/crypto/keyring.ts';
import { noticeVerifierKeys, verifyNotice } from '../src/crypto/notice-signing.ts';
import { FIELD_NAMES_FR, renderNoticeText, signedNoticeText } from '../src/notify/notice-text.ts';
import { IDENTITY_FIELDS } from '../src/registry/person.ts';

const base = {
  incidentId: '7d1c2c4e-0000-4000-8000-000000000001',
  code: 'ABCD-EFGH-JKMN',
  publicUrl: 'https://rempart.example/',
  detectedAt: new Date('2026-03-01T10:00:00Z'),
};

function listedFields(text: string): string[] {
  const names = Object.values(FIELD_NAMES_FR);
  return text
    .split('\n')
    .filter((line) => names.includes(line.replace(/^- /, '')))
    .map((line) => line.replace(/^- /, ''));
}

describe('incident notice text', () => {
  it('names every field the gate returns and the audit log records, in French', () => {
    // A person's record's fields, and what a subcontractor's work item shows instead (initials, birth year).
    expect(Object.keys(FIELD_NAMES_FR).sort()).toEqual(
      [...new Set([...VIEW_FIELDS, ...WORK_ITEM_FIELDS])].sort(),
    );
    expect(VIEW_FIELDS).toEqual(expect.arrayContaining([...IDENTITY_FIELDS]));
  });

  it('lists exactly the fields exposed, never more, never "potentially"', () => {
    const text = renderNoticeText({ ...base, fields: ['lastName', 'email'] });
    expect(listedFields(text).sort()).toEqual([FIELD_NAMES_FR.email, FIELD_NAMES_FR.lastName].sort());
    expect(text).not.toMatch(/potentiellement|potentially|susceptible/i);
    expect(text).not.toContain(FIELD_NAMES_FR.nir);
  });

  it('derives the risks from the fields: identity theft only when NIR/birth date/address', () => {
    expect(renderNoticeText({ ...base, fields: ['email'] })).not.toContain("usurpation d'identité :");
    expect(renderNoticeText({ ...base, fields: ['nir'] })).toContain("l'usurpation d'identité :");
    expect(renderNoticeText({ ...base, fields: ['phone'] })).toContain('appels ou SMS frauduleux');
    expect(renderNoticeText({ ...base, fields: ['email'] })).not.toContain('appels ou SMS frauduleux');
  });

  it('says how to complain and how to check it', () => {
    const text = renderNoticeText({ ...base, fields: ['email'] });
    expect(text).toContain('www.cnil.fr/plaintes');
    expect(text).toContain('226-17');
    expect(text).toContain('ABCD-EFGH-JKMN sur https://rempart.example/verifier');
  });

  it('refuses an unknown field or none, naming the field', () => {
    expect(() => renderNoticeText({ ...base, fields: ['salary'] })).toThrow(/fields: unknown field "salary"/);
    expect(() => renderNoticeText({ ...base, fields: [] })).toThrow(/fields:/);
  });

  it('is signed: verifies as is, fails with one field changed', () => {
    const keys = withNewNoticeKey(undefined);
    const note = signedNoticeText(keys, { ...base, fields: ['birthDate', 'lastName'] });
    expect(verifyNotice(note, noticeVerifierKeys(keys))).toMatchObject({ genuine: true });
    const forged = note.replace(FIELD_NAMES_FR.birthDate as string, FIELD_NAMES_FR.nir as string);
    expect(verifyNotice(forged, noticeVerifierKeys(keys)).genuine).toBe(false);
  });
});
