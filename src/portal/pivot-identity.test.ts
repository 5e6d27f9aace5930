import { describe, expect, it } from 'vitest';
import type { Identity } from '../registry/person.ts';
import { PivotIdentityError, parsePivotIdentity, sameIdentity } from './pivot-identity.ts';

const claims = {
  sub: 'abc',
  family_name: 'DUPONT',
  given_name: 'Marie-Claire Louise',
  birthdate: '1985-04-12',
  gender: 'female',
  birthplace: '69123',
  birthcountry: '99100',
};

const record: Partial<Identity> = {
  lastName: 'Martin',
  birthName: 'Dupont',
  firstNames: 'Marie-Claire, Louise',
  sex: 'F',
  birthDate: '1985-04-12',
  birthPlace: { communeCode: '69123', commune: 'Lyon', department: '69' },
};

describe('the FranceConnect pivot identity', () => {
  it('reads the claims FranceConnect v2 sends', () => {
    expect(parsePivotIdentity(claims)).toEqual({
      birthName: 'DUPONT',
      givenNames: 'Marie-Claire Louise',
      birthDate: '1985-04-12',
      sex: 'F',
      birthCommuneCode: '69123',
      birthCountryCode: '99100',
    });
    // Born abroad: an empty birthplace, the country's code.
    expect(parsePivotIdentity({ ...claims, birthplace: '', birthcountry: '99243' })).toMatchObject({
      birthCommuneCode: null,
      birthCountryCode: '99243',
    });
  });

  it.each([
    ['family_name', { family_name: '' }],
    ['given_name', { given_name: 42 }],
    ['birthdate', { birthdate: '12/04/1985' }],
    ['birthdate', { birthdate: '1985-13-40' }],
    ['gender', { gender: 'F' }],
    ['birthcountry', { birthcountry: 'FR' }],
    ['birthplace', { birthplace: '' }],
    ['birthplace', { birthplace: 'Lyon' }],
  ])('refuses a bad %s, naming the claim and never its value', (claim, change) => {
    const parse = () => parsePivotIdentity({ ...claims, ...change });
    expect(parse).toThrow(PivotIdentityError);
    expect(parse).toThrow(new RegExp(`^FranceConnect pivot identity: ${claim} missing or malformed$`));
  });

  it('confirms the record: birth name, given names (accents, case, hyphens, commas aside), date, sex, place', () => {
    const pivot = parsePivotIdentity(claims);
    expect(sameIdentity(pivot, record)).toBe(true);
    expect(
      sameIdentity(
        parsePivotIdentity({ ...claims, family_name: 'Dupônt', given_name: 'marie claire louise' }),
        record,
      ),
    ).toBe(true);
    // The registry may hold only the first given names, not others nor in another order.
    expect(sameIdentity(pivot, { ...record, firstNames: 'Marie-Claire' })).toBe(true);
    expect(sameIdentity(pivot, { ...record, firstNames: 'Marie-Claire, Louise, Anne' })).toBe(false);
    expect(sameIdentity(pivot, { ...record, firstNames: 'Louise, Marie-Claire' })).toBe(false);
  });

  it.each<[string, Partial<Identity>]>([
    ['the usage name only (the pivot identity carries the birth name)', { birthName: 'Durand' }],
    ['another birth date', { birthDate: '1985-04-13' }],
    ['another sex', { sex: 'M' }],
    ['another commune', { birthPlace: { communeCode: '75056', commune: 'Paris', department: '75' } }],
    ['a birth abroad', { birthPlace: { countryCode: '99243', country: 'Viêt Nam' } }],
  ])('does not confirm a record with %s', (_what, change) => {
    expect(sameIdentity(parsePivotIdentity(claims), { ...record, ...change })).toBe(false);
  });

  it('matches a record without a separate birth name on its name, and a birth abroad on the country', () => {
    const abroad = parsePivotIdentity({
      ...claims,
      family_name: 'Martin',
      birthplace: '',
      birthcountry: '99243',
    });
    const own = { ...record, birthName: null, birthPlace: { countryCode: '99243', country: 'Viêt Nam' } };
    expect(sameIdentity(abroad, own)).toBe(true);
    expect(sameIdentity(abroad, { ...own, birthPlace: { countryCode: '99244', country: 'x' } })).toBe(false);
  });
});
