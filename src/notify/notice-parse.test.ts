import { describe, expect, it } from 'vitest';
import { withNewNoticeKey } from '../crypto/keyring.ts';
import { IDENTITY_FIELDS } from '../registry/person.ts';
import { parseNoticeText } from './notice-parse.ts';
import { renderNoticeText, signedNoticeText } from './notice-text.ts';

const base = {
  incidentId: '7d1c2c4e-0000-4000-8000-000000000001',
  code: 'ABCD-EFGH-JKMN',
  publicUrl: 'https://rempart.example/',
  detectedAt: new Date('2026-03-01T10:00:00Z'),
};

describe('reading a notice back (T7 compares what each person was told)', () => {
  it('gives back the incident, code, date and exactly the fields written, signed or not, CRLF or not', () => {
    const keys = withNewNoticeKey(undefined);
    for (const fields of [['lastName', 'email'], ['nir'], [...IDENTITY_FIELDS]]) {
      const signed = signedNoticeText(keys, { ...base, fields });
      const expected = {
        incidentId: base.incidentId,
        code: base.code,
        detectedOn: '2026-03-01',
        fields: [...fields].sort(),
      };
      expect(parseNoticeText(signed)).toEqual(expected);
      expect(parseNoticeText(signed.replace(/\n/g, '\r\n'))).toEqual(expected);
    }
  });

  it('refuses a text that is not a notice, or whose list is empty or names an unknown field', () => {
    const text = renderNoticeText({ ...base, fields: ['phone'] });
    expect(() => parseNoticeText('Bonjour\n')).toThrow(/not a Rempart notice/);
    expect(() =>
      parseNoticeText(text.replace('- votre numéro de téléphone', '- votre groupe sanguin')),
    ).toThrow(/unknown field "votre groupe sanguin"/);
    expect(() => parseNoticeText(text.replace('- votre numéro de téléphone\n', ''))).toThrow(/empty/);
    expect(() => parseNoticeText(text.replace(/^Incident : .*$/m, ''))).toThrow(/"Incident"/);
  });
});
