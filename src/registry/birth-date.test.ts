import { describe, expect, it } from 'vitest';
import {
  birthDateQuery,
  formatBirthDate,
  isBirthDate,
  isMinorOn,
  latestBirthDay,
  parseBirthDate,
} from './birth-date.ts';
import { nirKey, nirMatchesPerson, parseNir } from './nir.ts';
import { nameBirthKey } from './normalise.ts';
import { validateIdentity } from './person.ts';

describe('birth dates, whole or partial', () => {
  it.each([
    ['1985-03-12', { year: 1985, month: 3, day: 12 }],
    ['1919-05-00', { year: 1919, month: 5, day: null }],
    ['1935-00-00', { year: 1935, month: null, day: null }],
    ['2000-02-29', { year: 2000, month: 2, day: 29 }],
  ])('%s is a birth date', (value, parts) => {
    expect(parseBirthDate(value)).toEqual(parts);
    expect(isBirthDate(value)).toBe(true);
  });

  it.each([
    '1935-00-12', // a day without its month
    '1919-13-00', // month 13
    '1919-02-31', // 31 February
    '1900-02-29', // 1900 was not a leap year
    '1919-05',
    '1919',
    '19190500',
    '',
  ])('%s is not', (value) => {
    expect(parseBirthDate(value)).toBeUndefined();
    expect(isBirthDate(value)).toBe(false);
  });

  it('a search typed without the unknown parts finds the stored form', () => {
    expect(birthDateQuery('1919-05')).toBe('1919-05-00');
    expect(birthDateQuery('1935')).toBe('1935-00-00');
    expect(birthDateQuery(' 1919-05-00 ')).toBe('1919-05-00');
    expect(birthDateQuery('1985-03-12')).toBe('1985-03-12');
    expect(birthDateQuery('1919-13')).toBeUndefined();
    expect(birthDateQuery('1935-00-12')).toBeUndefined();
    expect(birthDateQuery('05/1919')).toBeUndefined();
  });

  it('reads as a person writes it, in French and English', () => {
    expect(formatBirthDate('1919-05-00')).toBe('mai 1919');
    expect(formatBirthDate('1935-00-00')).toBe('1935');
    expect(formatBirthDate('1985-03-12')).toBe('12 mars 1985');
    expect(formatBirthDate('1985-08-01')).toBe('1er août 1985');
    expect(formatBirthDate('1919-05-00', 'en')).toBe('May 1919');
    expect(formatBirthDate('1985-03-12', 'en')).toBe('12 March 1985');
  });

  it('the last possible day: a registration must come after it, and a possible minor counts as one', () => {
    expect(latestBirthDay(parseBirthDate('1919-05-00')!)).toBe('1919-05-31');
    expect(latestBirthDay(parseBirthDate('1936-02-00')!)).toBe('1936-02-29');
    expect(latestBirthDay(parseBirthDate('1935-00-00')!)).toBe('1935-12-31');
    // Born some day of 2008: on 2026-06-01 they may still be 17.
    expect(isMinorOn('2008-00-00', new Date('2026-06-01T12:00:00Z'))).toBe(true);
    expect(isMinorOn('2008-00-00', new Date('2026-12-31T12:00:00Z'))).toBe(false);
    expect(isMinorOn('2008-03-00', new Date('2026-03-30T12:00:00Z'))).toBe(true);
    expect(isMinorOn('2008-03-00', new Date('2026-03-31T12:00:00Z'))).toBe(false);
    expect(isMinorOn('2008-03-02', new Date('2026-03-02T00:00:00Z'))).toBe(false);
  });

  it('the name + birth date key takes the stored form and refuses others', () => {
    expect(nameBirthKey('Martin', 'Paul', '1919-05-00')).not.toBe(
      nameBirthKey('Martin', 'Paul', '1919-05-01'),
    );
    expect(nameBirthKey('Martin', 'Paul', '1935-00-00')).toContain('1935-00-00');
    expect(() => nameBirthKey('Martin', 'Paul', '1935-00-12')).toThrow();
    expect(() => nameBirthKey('Martin', 'Paul', '1919-05')).toThrow();
  });
});

/** A NIR for a man born in Paris (75) in the given year and month code. */
const nirOf = (year: number, month: string): string => {
  const body = `1${String(year % 100).padStart(2, '0')}${month}75056123`;
  return body + nirKey(body);
};

describe("a partial birth date against the NIR's month code", () => {
  const man = (birthDate: string) => ({ sex: 'M' as const, birthDate, birthDepartment: '75' });

  it('a month-unknown date needs a special month code (20, 30–42, 50–99)', () => {
    for (const code of ['20', '30', '42', '50', '99'])
      expect(nirMatchesPerson(parseNir(nirOf(1935, code)), man('1935-00-00'))).toEqual([]);
    expect(nirMatchesPerson(parseNir(nirOf(1935, '05')), man('1935-00-00'))).toEqual([
      { field: 'nir', message: 'birth month does not match the birth date' },
    ]);
  });

  it('a day-unknown date compares its month as a whole date does', () => {
    expect(nirMatchesPerson(parseNir(nirOf(1919, '05')), man('1919-05-00'))).toEqual([]);
    expect(nirMatchesPerson(parseNir(nirOf(1919, '06')), man('1919-05-00'))).toEqual([
      { field: 'nir', message: 'birth month does not match the birth date' },
    ]);
    expect(nirMatchesPerson(parseNir(nirOf(1920, '05')), man('1919-05-00'))).toEqual([
      { field: 'nir', message: 'birth year does not match the birth date' },
    ]);
  });
});

describe('validateIdentity with a partial birth date', () => {
  const raw = (birth_date: string, nir: string) => ({
    agency_id: '1234567A',
    nir,
    last_name: 'Martin',
    first_names: 'Paul',
    sex: 'M',
    birth_date,
    birth_commune_code: '75056',
  });

  it('registers a person born in May 1919, day unknown', () => {
    const { identity, issues } = validateIdentity(raw('1919-05-00', nirOf(1919, '05')), '2026-12-07');
    expect(issues).toEqual([]);
    expect(identity.birthDate).toBe('1919-05-00');
  });

  it('refuses impossible dates, naming the field without echoing the value', () => {
    for (const value of ['1919-13-00', '1919-02-31', '1935-00-12']) {
      const { issues } = validateIdentity(raw(value, nirOf(1919, '05')), '2026-12-07');
      expect(issues.map((i) => i.field)).toContain('birth_date');
      expect(JSON.stringify(issues)).not.toContain(value);
    }
  });

  it('a partial date is in the future or before 1900 only when its first possible day is', () => {
    expect(validateIdentity(raw('2026-12-00', nirOf(2026, '12')), '2026-12-07').issues).toEqual([]);
    expect(validateIdentity(raw('2027-00-00', nirOf(2027, '20')), '2026-12-07').issues).toContainEqual({
      field: 'birth_date',
      message: 'is in the future',
    });
    expect(validateIdentity(raw('1899-00-00', nirOf(1899, '20')), '2026-12-07').issues).toContainEqual({
      field: 'birth_date',
      message: 'is before 1900',
    });
  });
});
