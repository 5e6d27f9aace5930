/** The console shows a birth date as the server's rule writes it (web/src/staff/fields.tsx, src/registry/birth-date.ts). */
import { describe, expect, it } from 'vitest';
import { formatBirthDate } from '../src/registry/birth-date.ts';
import { formatBirthDate as consoleFormat } from '../web/src/staff/birth-date.ts';

describe('birth dates in the console', () => {
  const values = ['1919-05-00', '1935-00-00', '1985-03-12', '1985-08-01', '2000-02-29', 'not a date'];

  it.each(['fr', 'en'] as const)('reads the same as the server writes them (%s)', (lang) => {
    for (const value of values) expect(consoleFormat(value, lang), value).toBe(formatBirthDate(value, lang));
    expect(consoleFormat('1919-05-00', lang)).toBe(lang === 'fr' ? 'mai 1919' : 'May 1919');
    expect(consoleFormat('1935-00-00', lang)).toBe('1935');
  });
});
