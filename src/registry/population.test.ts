/** Synthetic persons live near their agency: the demo and the drill look like a real registry. */
import { describe, expect, it } from 'vitest';
import { planOrganisations } from './organisations-plan.ts';
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

  it('is deterministic per seed: the same chunk twice is the same persons (ids aside)', () => {
    const strip = (list: ReturnType<typeof generateChunk>) =>
      list.map((p) => ({ ...p.entry, id: undefined, identity: p.entry.identity }));
    expect(strip(generateChunk(spec, 1, 200))).toEqual(strip(generateChunk(spec, 1, 200)));
    expect(strip(generateChunk({ ...spec, seed: 7 }, 1, 200))).not.toEqual(
      strip(generateChunk(spec, 1, 200)),
    );
  });
});
