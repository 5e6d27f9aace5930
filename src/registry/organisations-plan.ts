/**
 * The organisations of a synthetic population: France Travail agencies, Cap emploi and missions
 * locales (partners), training bodies, and document-processing subcontractors. Deterministic for a
 * seed and a population size; identified by code, so seeding again reuses what exists.
 */
import { base, Faker, fr } from '@faker-js/faker';
import { communeAt, departmentByCode } from './places.ts';

export type OrganisationKind =
  | 'national'
  | 'agency'
  | 'cap_emploi'
  | 'mission_locale'
  | 'training_body'
  | 'subcontractor';

export interface OrganisationPlan {
  code: string;
  kind: OrganisationKind;
  name: string;
  parentCode: string | null;
  department: string | null;
}

const clamp = (value: number, low: number, high: number): number => Math.max(low, Math.min(high, value));

/** Plans the organisations for `persons` persons: about one agency per 2,000 persons (France has ~900). */
export function planOrganisations(seed: number, persons: number): OrganisationPlan[] {
  const faker = new Faker({ locale: [fr, base] });
  faker.seed([seed, 0x0e6a]);
  const plans: OrganisationPlan[] = [
    {
      code: 'FT-DG',
      kind: 'national',
      name: 'France Travail — Direction générale',
      parentCode: null,
      department: null,
    },
  ];
  const seen = new Set<string>();
  const add = (plan: OrganisationPlan): void => {
    if (seen.has(plan.code)) return;
    seen.add(plan.code);
    plans.push(plan);
  };

  const agencies = clamp(Math.round(persons / 2000), 3, 900);
  for (let tries = 0; plans.length - 1 < agencies && tries < agencies * 20; tries++) {
    const commune = communeAt(faker.number.float({ min: 0, max: 1 }));
    const code = `FT-${commune.code}`;
    if (seen.has(code)) continue;
    add({
      code,
      kind: 'agency',
      name: `France Travail ${commune.name}`,
      parentCode: 'FT-DG',
      department: commune.department,
    });
  }
  const departments = [...new Set(plans.filter((p) => p.kind === 'agency').map((p) => p.department!))].sort();
  for (const department of departments) {
    const name = departmentByCode(department)?.name ?? department;
    add({
      code: `CE-${department}`,
      kind: 'cap_emploi',
      name: `Cap emploi ${name}`,
      parentCode: null,
      department,
    });
  }
  const missions = clamp(Math.round(persons / 5000), 2, 430);
  for (let made = 0, tries = 0; made < missions && tries < missions * 20; tries++) {
    const commune = communeAt(faker.number.float({ min: 0, max: 1 }));
    const code = `ML-${commune.code}`;
    if (seen.has(code)) continue;
    add({
      code,
      kind: 'mission_locale',
      name: `Mission locale de ${commune.name}`,
      parentCode: null,
      department: commune.department,
    });
    made++;
  }
  const trainingBodies = clamp(Math.round(persons / 20000), 1, 50);
  for (let i = 1; i <= trainingBodies; i++) {
    add({
      code: `OF-${String(i).padStart(3, '0')}`,
      kind: 'training_body',
      name: `${faker.company.name()} Formation`,
      parentCode: null,
      department: null,
    });
  }
  for (let i = 1; i <= 2; i++) {
    add({
      code: `ST-${String(i).padStart(2, '0')}`,
      kind: 'subcontractor',
      name: `${faker.company.name()} Numérisation`,
      parentCode: null,
      department: null,
    });
  }
  return plans;
}
