/** Synthetic persons live near their agency: the demo and the drill look like a real registry. */
import { describe, expect, it } from 'vitest';
import { NORTH_AFRICA, parseNir } from './nir.ts';
import { planOrganisations } from './organisations-plan.ts';
import { type RawPerson, validateIdentity } from './person.ts';
import { communesOf } from './places.ts';
import { generateChunk, type SeedOrganisation } from './population.ts';

/** The organisations a 10,000-person demo plans (5 agencies: most departments have none). */
function demoOrganisations(seed: number): SeedOrganisation[] {
  return planOrganisations(seed, 10_000).map((plan) => ({
    id: plan.code,
    kind: plan.kind,
    department: plan.department,
  }));
}

describe('generateChunk', () => {
  const organisations = demoOrganisations(2024);
  const departmentOf = new Map(organisations.map((o) => [o.id, o.department]));
  const spec = { seed: 2024, asOf: '2026-12-01', offset: 0, organisations };

  it("gives every person an address (commune and postal code) in the agency's department", () => {
    const persons = generateChunk(spec, 0, 1000);
    const agencyDepartments = new Set(
      organisations.filter((o) => o.kind === 'agency').map((o) => o.department),
    );
    expect(agencyDepartments.size).toBeGreaterThan(1);
    let checked = 0;
    for (const person of persons) {
      const address = person.entry.identity.address;
      if (address === null) continue;
      const department = departmentOf.get(person.entry.agencyOrganisationId)!;
      const communes = communesOf(department);
      const home = communes.find(
        (c) => c.name === address.city && c.postalCodes.includes(address.postalCode),
      );
      expect(home, `${address.postalCode} ${address.city} is not in department ${department}`).toBeDefined();
      checked++;
    }
    expect(checked).toBeGreaterThan(900);
  });

  it('partners of a person are in its department when there is one there', () => {
    const persons = generateChunk(spec, 0, 1000);
    for (const person of persons) {
      const department = departmentOf.get(person.entry.agencyOrganisationId);
      for (const caseload of person.entry.caseloads) {
        const org = organisations.find((o) => o.id === caseload.organisationId)!;
        if (org.kind === 'cap_emploi') expect(org.department).toBe(department);
      }
    }
  });

  // NIR departments 91–96 for births in French North Africa before independence (nir.ts): every
  // test and benchmark of a few thousand persons meets them, and every one of them is valid.
  it('makes persons born in Algeria, Morocco and Tunisia before independence with the old department codes', () => {
    const persons = [0, 1, 2, 3, 4].flatMap((chunk) =>
      generateChunk({ ...spec, asOf: '2026-01-01' }, chunk, 1000),
    );
    const byCountry = new Map<string, number>();
    for (const { entry } of persons) {
      const { identity } = entry;
      const nir = parseNir(identity.nir);
      const place = identity.birthPlace;
      const northAfrica = NORTH_AFRICA.find((n) => n.departments.includes(nir.department));
      if (!('countryCode' in place) || northAfrica === undefined) continue;
      expect(place.countryCode).toBe(northAfrica.countryCode);
      expect(identity.birthDate < northAfrica.independence).toBe(true);
      byCountry.set(place.country, (byCountry.get(place.country) ?? 0) + 1);
      const raw: RawPerson = {
        agency_id: identity.agencyId,
        nir: identity.nir,
        last_name: identity.lastName,
        first_names: identity.firstNames,
        sex: identity.sex,
        birth_date: identity.birthDate,
        birth_country_code: place.countryCode,
      };
      expect(validateIdentity(raw, '2026-01-01').issues).toEqual([]);
    }
    expect(byCountry.get('Algérie')).toBeGreaterThanOrEqual(10);
    expect(byCountry.get('Maroc')).toBeGreaterThanOrEqual(2);
    expect(byCountry.get('Tunisie')).toBeGreaterThanOrEqual(2);
    // ... and others born there before independence carry 99 and the country, as INSEE also did.
    const algeria99 = persons.filter(
      ({ entry: { identity } }) => identity.nir.slice(5, 10) === '99352' && identity.birthDate < '1962-07-03',
    );
    expect(algeria99.length).toBeGreaterThan(0);
  });

  it('makes former job seekers aged 70 to 79, deregistered before their 67th birthday', () => {
    const persons = generateChunk({ ...spec, asOf: '2026-01-01' }, 0, 1000);
    const retired = persons.filter(({ entry }) => entry.identity.birthDate < '1956-01-01');
    expect(retired.length).toBeGreaterThan(20);
    for (const { entry } of retired) {
      expect(entry.identity.birthDate >= '1946-01-01').toBe(true);
      expect(entry.status).toBe('deregistered');
      const last = entry.registrationPeriods.at(-1)!;
      const sixtySeventh = `${Number(entry.identity.birthDate.slice(0, 4)) + 67}${entry.identity.birthDate.slice(4)}`;
      expect(last.endedOn! <= sixtySeventh).toBe(true);
    }
  });

  it('is deterministic per seed: the same chunk twice is the same persons (ids aside)', () => {
    const strip = (list: ReturnType<typeof generateChunk>) =>
      list.map((p) => ({ ...p.entry, id: undefined, identity: p.entry.identity }));
    expect(strip(generateChunk(spec, 1, 200))).toEqual(strip(generateChunk(spec, 1, 200)));
    expect(strip(generateChunk({ ...spec, seed: 7 }, 1, 200))).not.toEqual(
      strip(generateChunk(spec, 1, 200)),
    );
  });
});

describe('generateChunk: birth dates known in part', () => {
  const organisations = demoOrganisations(2024);
  const spec = { seed: 2024, asOf: '2026-12-01', offset: 0, organisations };

  // docs/IMPORT.md, "Partial birth dates": every test and benchmark of a few thousand persons meets them.
  it('makes births abroad with an unknown day, or day and month, each consistent with its NIR', () => {
    const persons = [0, 1, 2, 3, 4].flatMap((chunk) => generateChunk(spec, chunk, 1000));
    const dayUnknown = persons.filter(({ entry }) =>
      /^\d{4}-(0[1-9]|1[0-2])-00$/.test(entry.identity.birthDate),
    );
    const monthUnknown = persons.filter(({ entry }) => entry.identity.birthDate.endsWith('-00-00'));
    expect(dayUnknown.length).toBeGreaterThanOrEqual(10);
    expect(monthUnknown.length).toBeGreaterThanOrEqual(3);
    for (const { entry } of [...dayUnknown, ...monthUnknown]) {
      const { identity } = entry;
      const place = identity.birthPlace;
      expect('countryCode' in place).toBe(true);
      if (!('countryCode' in place)) continue;
      const raw: RawPerson = {
        agency_id: identity.agencyId,
        nir: identity.nir,
        last_name: identity.lastName,
        first_names: identity.firstNames,
        sex: identity.sex,
        birth_date: identity.birthDate,
        birth_country_code: place.countryCode,
      };
      expect(validateIdentity(raw, spec.asOf).issues).toEqual([]);
    }
    for (const { entry } of monthUnknown)
      expect(Number(parseNir(entry.identity.nir).month)).toBeGreaterThan(12);
  });
});
