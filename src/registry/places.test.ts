/** INSEE's table of countries and territories abroad (src/registry/insee/README.md): every code named. */
import { describe, expect, it } from 'vitest';
import { BIRTH_COUNTRIES, countries, countryByCode, FRANCE_COUNTRY_CODE } from './places.ts';

describe('countries', () => {
  it('holds the 229 codes of COG 2025: 212 countries and 17 territories, each 99xxx and named once', () => {
    const table = countries();
    expect(table.size).toBe(229);
    for (const [code, country] of table) {
      expect(code).toMatch(/^99[1-7][0-9]{2}$/);
      expect(country.code).toBe(code);
      expect(country.name.trim()).toBe(country.name);
      expect(country.name).toMatch(/^\p{Lu}/u); // proper case, not INSEE's former upper-case LIBCOG
      expect(country.name).not.toBe(country.name.toUpperCase());
    }
  });

  it.each([
    ['99352', 'Algérie'],
    ['99350', 'Maroc'],
    ['99351', 'Tunisie'],
    ['99132', 'Royaume-Uni'],
    ['99109', 'Allemagne'],
    ['99326', 'Côte d’Ivoire'],
    ['99243', 'Vietnam'],
    ['99230', 'Hong Kong'],
    ['99157', 'Kosovo'],
    ['99100', 'France'],
  ])('names %s %s', (code, name) => {
    expect(countryByCode(code)?.name).toBe(name);
  });

  it.each(['99000', '99999', '99353', '99115', '99200', '2A004', ''])('knows no country %j', (code) => {
    expect(countryByCode(code)).toBeUndefined();
  });

  it('names every country the synthetic population is born in', () => {
    for (const { code } of BIRTH_COUNTRIES) {
      expect(code).not.toBe(FRANCE_COUNTRY_CODE);
      expect(countryByCode(code)).toBeDefined();
    }
  });
});
