import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lettersInPdf } from '../../drill/letters-read.ts';
import { withNewNoticeKey } from '../crypto/keyring.ts';
import { IDENTITY_FIELDS } from '../registry/person.ts';
import { writeLetterBatch } from './letters.ts';
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

  it("reads the letters of a print batch back: each one's address block, reference and fields (T7)", async () => {
    const keys = withNewNoticeKey(undefined);
    const dir = await mkdtemp(path.join(tmpdir(), 'rempart-letters-'));
    try {
      const letter = (n: number, fields: string[], name: string) => ({
        noticeId: `7d1c2c4e-0000-4000-8000-00000000000${n}`,
        name,
        address: { line: `${n} rue de l’Église`, postalCode: '75001', city: 'Paris' },
        signedText: signedNoticeText(keys, { ...base, code: `ABCD-EFGH-JKM${n}`, fields }),
        date: new Date('2026-03-02T10:00:00Z'),
      });
      const file = await writeLetterBatch(dir, 'batch.pdf', [
        letter(1, ['lastName', 'address', 'nir'], 'Zoé Lefèvre'),
        letter(2, ['status'], 'Œdipe Ñandú'),
      ]);
      const read = lettersInPdf(await readFile(file));
      expect(read.map((l) => l.block)).toEqual([
        'Zoé Lefèvre\n1 rue de l’Église\n75001 Paris',
        'Œdipe Ñandú\n2 rue de l’Église\n75001 Paris',
      ]);
      expect(read.map((l) => l.reference)).toEqual([
        letter(1, ['nir'], '').noticeId,
        letter(2, ['nir'], '').noticeId,
      ]);
      // The intro's long line is wrapped on paper: the list is still read, exactly.
      expect(read.map((l) => parseNoticeText(l.lines.join('\n')))).toEqual([
        {
          incidentId: base.incidentId,
          code: 'ABCD-EFGH-JKM1',
          detectedOn: '2026-03-01',
          fields: ['address', 'lastName', 'nir'],
        },
        { incidentId: base.incidentId, code: 'ABCD-EFGH-JKM2', detectedOn: '2026-03-01', fields: ['status'] },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
