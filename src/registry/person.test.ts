/**
 * validateIdentity on births abroad: a country code must be in INSEE's table and is shown by its
 * name; a NIR with a North-African department code (nir.ts, NORTH_AFRICA) is consistent with a
 * birth there before independence. Every refusal names the field and never repeats the value.
 */
import { describe, expect, it } from 'vitest';
import { buildNir } from './nir.ts';
import { type RawPerson, validateIdentity } from './person.ts';

const TODAY = '2026-12-01';

/** A man born abroad on `birthDate` in `country`, with a NIR of this department (99: the country). */
function bornAbroad(
  country: string,
  birthDate: string,
  department = '99',
  commune = country.slice(2),
): RawPerson {
  return {
    agency_id: '1234567A',
    nir: buildNir({
      sex: '1',
      birthYear: Number(birthDate.slice(0, 4)),
      birthMonth: Number(birthDate.slice(5, 7)),
      department,
      commune,
      order: 41,
    }),
    last_name: 'Ben Ammar',
    first_names: 'Youssef',
    sex: 'M',
    birth_date: birthDate,
    birth_country_code: country,
    birth_place_name: 'Tunis',
  };
}

describe('validateIdentity: births abroad', () => {
  it('accepts a person born in Tunis in 1950 with 96 in the NIR, and names the country', () => {
    const { identity, issues } = validateIdentity(bornAbroad('99351', '1950-04-12', '96', '101'), TODAY);
    expect(issues).toEqual([]);
    expect(identity.birthPlace).toEqual({ countryCode: '99351', country: 'Tunisie', commune: 'Tunis' });
    expect(identity.nir.slice(5, 7)).toBe('96');
  });

  it.each([
    ['99352', 'Algérie', '91'],
    ['99352', 'Algérie', '94'],
    ['99350', 'Maroc', '95'],
    ['99352', 'Algérie', '99'],
  ])('accepts a birth in %s (%s) in 1955 with department %s', (country, name, department) => {
    const raw = bornAbroad(country, '1955-06-10', department, department === '99' ? country.slice(2) : '352');
    const { identity, issues } = validateIdentity(raw, TODAY);
    expect(issues).toEqual([]);
    expect(identity.birthPlace).toMatchObject({ countryCode: country, country: name });
  });

  it('names any INSEE country, not only the frequent ones', () => {
    expect(validateIdentity(bornAbroad('99157', '1990-01-01'), TODAY).identity.birthPlace).toMatchObject({
      country: 'Kosovo',
    });
    expect(validateIdentity(bornAbroad('99425', '1990-01-01'), TODAY).identity.birthPlace).toMatchObject({
      country: 'Territoires britanniques dans les Antilles et Bermudes',
    });
  });

  it.each([
    ['an unknown 99xxx code', '99999', 'birth_country_code', 'is not an INSEE country or territory code'],
    ['a code INSEE never gave', '99353', 'birth_country_code', 'is not an INSEE country or territory code'],
    [
      'France as a country abroad',
      '99100',
      'birth_country_code',
      'is France: a birth in France is given by birth_commune_code',
    ],
    ['not a 99xxx code', '75056', 'birth_country_code', 'must be an INSEE country code 99xxx'],
  ])('refuses %s, naming the field and not the value', (_label, country, field, message) => {
    const raw = bornAbroad('99351', '1950-04-12', '96', '101');
    const { issues } = validateIdentity({ ...raw, birth_country_code: country }, TODAY);
    expect(issues).toEqual([{ field, message }]);
    expect(JSON.stringify(issues)).not.toContain(country);
  });

  it.each([
    [
      '96 and a birth in Tunisia after its independence',
      bornAbroad('99351', '1956-03-25', '96', '101'),
      'birth department of Tunisia is only used for births before its independence',
    ],
    [
      '91 and a birth in Algeria after its independence',
      bornAbroad('99352', '1962-07-10', '91', '352'),
      'birth department of Algeria is only used for births before its independence',
    ],
    [
      '96 and a birth in Morocco',
      bornAbroad('99350', '1950-04-12', '96', '101'),
      'birth place is coded in France, or Tunisia before independence, but the birth is elsewhere abroad',
    ],
  ])('refuses %s on the NIR', (_label, raw, message) => {
    const { issues } = validateIdentity(raw, TODAY);
    expect(issues).toEqual([{ field: 'nir', message }]);
    expect(JSON.stringify(issues)).not.toMatch(/[0-9]/);
  });

  it('refuses 96 for a birth in France', () => {
    const raw = bornAbroad('99351', '1950-04-12', '96', '101');
    const { issues } = validateIdentity(
      { ...raw, birth_country_code: '', birth_place_name: '', birth_commune_code: '75056' },
      TODAY,
    );
    expect(issues).toEqual([
      {
        field: 'nir',
        message: 'birth department of Tunisia is only used for births in Tunisia before its independence',
      },
    ]);
  });

  it('keeps 91 for a birth in Essonne', () => {
    const raw = {
      ...bornAbroad('', '1985-05-17', '91', '228'),
      birth_country_code: '',
      birth_place_name: '',
      birth_commune_code: '91228',
    };
    const { identity, issues } = validateIdentity(raw, TODAY);
    expect(issues).toEqual([]);
    expect(identity.birthPlace).toMatchObject({ communeCode: '91228', department: '91' });
  });
});
