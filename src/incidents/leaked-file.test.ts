import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { isMinorOn } from '../registry/birth-date.ts';
import { nirKey } from '../registry/nir.ts';
import { readLeakFile } from './leaked-file.ts';

/** The ValidationError readLeakFile throws for `text`. */
function refused(text: string): ValidationError {
  try {
    readLeakFile(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('the file was accepted');
}

const NIR = `1800175101001${nirKey('1800175101001')}`;

describe('readLeakFile', () => {
  it('reads French column names (accents, spaces, case), picks the NIR key, ignores other columns', () => {
    const spaced = `${NIR.slice(0, 13)} ${NIR.slice(13)}`;
    const file = readLeakFile(`\uFEFFNuméro Sécu;Prénoms;Téléphone;Remarque\n${spaced};Ann;;x\n`);
    expect(file).toMatchObject({ key: 'nir', columns: ['nir', 'firstNames', 'phone'], ignoredColumns: 1 });
    expect(file.rows).toEqual([{ line: 2, query: { by: 'nir', nir: NIR }, fields: ['nir', 'firstNames'] }]);
  });

  it('falls back to the agency id, then to name + birth date', () => {
    expect(readLeakFile('identifiant,email\n1234567A,a@b.fr\n').key).toBe('agencyId');
    const byName = readLeakFile('nom,prenom,date de naissance\nMartin,Léa,2001-04-05\n');
    expect(byName.rows[0]!.query).toEqual({
      by: 'nameBirth',
      lastName: 'Martin',
      firstName: 'Léa',
      birthDate: '2001-04-05',
    });
  });

  it('lists every bad row by line and field, never its value, and counts those past 100', () => {
    const bad = Array.from({ length: 103 }, () => '999').join('\n');
    const error = refused(`nir\n${NIR}\n${bad}\n`);
    expect(error.issues.slice(0, 2)).toEqual([
      { line: 3, field: 'nir', message: 'is not a valid NIR (15 characters with a matching key)' },
      { line: 4, field: 'nir', message: 'is not a valid NIR (15 characters with a matching key)' },
    ]);
    expect(error.issues).toHaveLength(101);
    expect(error.issues[100]).toEqual({ field: 'csv', message: '3 more bad rows not listed' });
    expect(JSON.stringify(error.issues)).not.toContain('999');
  });

  it('refuses a file without a key column, without rows, or a bad birth date', () => {
    expect(refused('email\na@b.fr\n').issues[0]!.field).toBe('csv');
    expect(refused('nir\n').issues[0]).toEqual({ field: 'csv', message: 'has no row after its header' });
    expect(refused('lastName,firstNames,birthDate\nA,B,05/04/2001\n').issues[0]).toMatchObject({
      line: 2,
      field: 'birthDate',
    });
  });
});

describe('isMinorOn', () => {
  it('is under 18 until the 18th birthday, on the detection day (UTC)', () => {
    expect(isMinorOn('2008-03-02', new Date('2026-03-01T23:59:00Z'))).toBe(true);
    expect(isMinorOn('2008-03-02', new Date('2026-03-02T00:00:00Z'))).toBe(false);
    expect(isMinorOn('1990-01-01', new Date('2026-03-02T00:00:00Z'))).toBe(false);
  });
});
