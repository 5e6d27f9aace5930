/**
 * The synthetic population (`rempart seed`): realistic French persons whose NIR agrees with their
 * sex, birth date and birth place (a real commune, or a country abroad), addresses in real
 * communes weighted by population, statuses (registered, deregistered up to 25 years ago,
 * candidate-only) and caseloads over agencies, partners and subcontractors.
 * Deterministic: chunk k of a seed is always the same persons, whichever worker makes it.
 */
import { randomUUID } from 'node:crypto';
import { base, Faker, fr } from '@faker-js/faker';
import { buildNir } from './nir.ts';
import type { OrganisationKind } from './organisations-plan.ts';
import type { CaseloadEntry, PersonEntry, PersonStatus, RegistrationPeriod } from './person.ts';
import { BIRTH_COUNTRIES, type Commune, communeAt, communeInDepartment, countryByCode } from './places.ts';

/** Persons per chunk: the unit of determinism, of work for a worker, and of one database batch. */
export const CHUNK = 1000;

/** The date a population is generated "as of" unless told otherwise, so that a seed gives the same persons every day. */
export const DEFAULT_AS_OF = '2026-01-01';

export interface SeedOrganisation {
  id: string;
  kind: OrganisationKind;
  department: string | null;
}

export interface PopulationSpec {
  seed: number;
  asOf: string;
  /** Global index of the first person (persons already in the registry), for unique agency ids. */
  offset: number;
  organisations: SeedOrganisation[];
}

const EMAIL_DOMAINS = [
  'gmail.com',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'hotmail.fr',
  'sfr.fr',
  'wanadoo.fr',
  'yahoo.fr',
  'outlook.fr',
];

/**
 * The agency id (identifiant France Travail: 7 digits and a letter) of the person with this global
 * index: a fixed bijection of [0, 10^7), so ids are unique but not sequential in seeding order.
 */
export function agencyIdOf(globalIndex: number): string {
  const n = (globalIndex * 7_919 + 1_234_567) % 10_000_000;
  const digits = String(n).padStart(7, '0');
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += Number(digits[i]) * (i + 2);
  return `${digits}${String.fromCharCode(65 + (sum % 26))}`;
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of an ISO date. */
function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/** The ISO date of a day number (proleptic Gregorian, H. Hinnant's civil_from_days): no Date objects in the hot loop. */
function isoDay(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** A small fast generator (SplitMix32) for the many uniform draws; faker keeps the names and streets. */
function splitmix(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4_294_967_296;
  };
}

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Indexes organisations by kind and department for caseload assignment. */
class OrganisationIndex {
  readonly byKind = new Map<OrganisationKind, SeedOrganisation[]>();
  readonly byKindDepartment = new Map<string, SeedOrganisation[]>();

  constructor(organisations: readonly SeedOrganisation[]) {
    for (const org of organisations) {
      this.byKind.set(org.kind, [...(this.byKind.get(org.kind) ?? []), org]);
      const key = `${org.kind}:${org.department}`;
      this.byKindDepartment.set(key, [...(this.byKindDepartment.get(key) ?? []), org]);
    }
  }

  /** An organisation of this kind, in the department if there is one there. */
  pick(kind: OrganisationKind, department: string, u: number): SeedOrganisation | undefined {
    const list = this.byKindDepartment.get(`${kind}:${department}`) ?? this.byKind.get(kind);
    return list?.[Math.floor(u * list.length)];
  }
}

/** One generated person and what a retry needs to give it another NIR and agency id. */
export interface GeneratedPerson {
  entry: PersonEntry;
  globalIndex: number;
  nirParts: Parameters<typeof buildNir>[0];
}

/** Generates chunk `chunk` of the population: persons `offset + chunk*CHUNK` up to `count` of them. */
export function generateChunk(spec: PopulationSpec, chunk: number, count: number): GeneratedPerson[] {
  const faker = new Faker({ locale: [fr, base] });
  faker.seed([spec.seed, chunk]);
  const orgs = new OrganisationIndex(spec.organisations);
  const asOfYear = Number(spec.asOf.slice(0, 4));
  const u = splitmix(faker.number.int({ min: 0, max: 0xffffffff }));
  const asOfDay = dayNumber(spec.asOf);
  const out: GeneratedPerson[] = [];
  for (let k = 0; k < count; k++) {
    const globalIndex = spec.offset + chunk * CHUNK + k;
    const sex: 'M' | 'F' = u() < 0.5 ? 'M' : 'F';
    const age = 16 + Math.floor(u() * 52);
    const birthDay = dayNumber(`${asOfYear - age - 1}-01-01`) + Math.floor(u() * 365);
    const birthDate = isoDay(birthDay);
    const birthYear = Number(birthDate.slice(0, 4));
    const birthMonth = Number(birthDate.slice(5, 7));

    // Birth place: about one in six born abroad; in France, a commune drawn by population.
    let birthPlace: PersonEntry['identity']['birthPlace'];
    let nirDepartment: string;
    let nirCommune: string;
    if (u() < 0.16) {
      const country = pickCountry(u());
      birthPlace = { countryCode: country.code, country: countryByCode(country.code)!.name };
      nirDepartment = '99';
      nirCommune = country.code.slice(2);
    } else {
      const commune = communeAt(u());
      birthPlace = { communeCode: commune.code, commune: commune.name, department: commune.department };
      ({ nirDepartment, nirCommune } = nirPlace(commune, birthYear));
    }
    const nirParts = {
      sex: sex === 'M' ? ('1' as const) : ('2' as const),
      birthYear,
      birthMonth,
      department: nirDepartment,
      commune: nirCommune,
      order: 1 + Math.floor(u() * 999),
    };

    const firstCount = u() < 0.55 ? 1 : u() < 0.8 ? 2 : 3;
    const given = Array.from({ length: firstCount }, () =>
      faker.person.firstName(sex === 'M' ? 'male' : 'female'),
    );
    const familyName = faker.person.lastName();
    const married = sex === 'F' && age > 24 && u() < 0.45;
    const lastName = married ? faker.person.lastName() : familyName;

    // Home: a commune drawn by population; the agency is one of its department's. Where the
    // department has no agency (a small population plans a few), the person lives in the
    // department of the agency they are given instead: people register near home.
    let home = communeAt(u());
    const agency = orgs.pick('agency', home.department, u())!;
    if (agency.department !== null && agency.department !== home.department)
      home = communeInDepartment(agency.department, u()) ?? home;
    const email =
      u() < 0.92
        ? `${slug(given[0]!)}.${slug(lastName)}${globalIndex}@${EMAIL_DOMAINS[Math.floor(u() * EMAIL_DOMAINS.length)]}`
        : null;
    const phone =
      u() < 0.95 ? `+33${u() < 0.7 ? 6 : 7}${String(Math.floor(u() * 1e8)).padStart(8, '0')}` : null;
    const address =
      u() < 0.97
        ? {
            line: `${1 + Math.floor(u() * 180)} ${faker.location.street()}`,
            postalCode: home.postalCodes[Math.floor(u() * home.postalCodes.length)]!,
            city: home.name,
          }
        : null;

    const { status, periods } = registration(u, asOfDay, birthDay);
    const caseloads = caseloadsOf(u, orgs, agency.id, home.department, status, periods, age);

    out.push({
      globalIndex,
      nirParts,
      entry: {
        id: randomUUID(),
        identity: {
          agencyId: agencyIdOf(globalIndex),
          nir: buildNir(nirParts),
          lastName,
          birthName: married ? familyName : null,
          firstNames: given.join(', '),
          sex,
          birthDate,
          birthPlace,
          email,
          phone,
          address,
        },
        status,
        agencyOrganisationId: agency.id,
        registrationPeriods: periods,
        caseloads,
      },
    });
  }
  return out;
}

/**
 * Gives a person whose NIR or agency id collided with a registered one new ones (attempt n):
 * another order number in the same commune and month, another agency id.
 */
export function retryIdentifiers(person: GeneratedPerson, attempt: number): void {
  const order = ((person.nirParts.order - 1 + attempt * 331) % 999) + 1;
  person.nirParts = { ...person.nirParts, order };
  person.entry.identity.nir = buildNir(person.nirParts);
  person.entry.identity.agencyId = agencyIdOf((person.globalIndex + attempt * 3_000_017) % 10_000_000);
  person.entry.id = randomUUID();
}

function pickCountry(u: number): { code: string; weight: number } {
  const total = BIRTH_COUNTRIES.reduce((sum, c) => sum + c.weight, 0);
  let target = u * total;
  for (const country of BIRTH_COUNTRIES) {
    target -= country.weight;
    if (target < 0) return country;
  }
  return BIRTH_COUNTRIES[0]!;
}

/** NIR department and commune digits for a birth in this commune (Corsica was '20' before 1976). */
export function nirPlace(commune: Commune, birthYear: number): { nirDepartment: string; nirCommune: string } {
  if (commune.department.length === 3)
    return { nirDepartment: commune.department, nirCommune: commune.code.slice(3) };
  if ((commune.department === '2A' || commune.department === '2B') && birthYear < 1976) {
    return { nirDepartment: '20', nirCommune: commune.code.slice(2) };
  }
  return { nirDepartment: commune.department, nirCommune: commune.code.slice(2) };
}

function registration(
  u: () => number,
  asOf: number,
  birthDay: number,
): { status: PersonStatus; periods: RegistrationPeriod[] } {
  const sixteen = birthDay + 16 * 365 + 4;
  const draw = u();
  if (draw < 0.1) return { status: 'candidate', periods: [] };
  const registered = draw < 0.65;
  // The last event: today (registered) or a deregistration up to 25 years ago, never before the
  // sixteenth birthday plus a first period.
  const drawn = registered ? asOf : asOf - Math.floor(u() * 25 * 365);
  const lastEnd = Math.max(drawn, Math.min(sixteen + 60, asOf));
  const periods: RegistrationPeriod[] = [];
  let end = lastEnd;
  const count = 1 + Math.floor(u() * 3);
  for (let i = 0; i < count; i++) {
    const start = end - (60 + Math.floor(u() * 700));
    if (start < sixteen) break;
    periods.unshift({ startedOn: isoDay(start), endedOn: i === 0 && registered ? null : isoDay(end) });
    end = start - (30 + Math.floor(u() * 900));
  }
  if (periods.length === 0) {
    periods.push({
      startedOn: isoDay(Math.min(sixteen, lastEnd)),
      endedOn: registered ? null : isoDay(lastEnd),
    });
  }
  return { status: registered ? 'registered' : 'deregistered', periods };
}

function caseloadsOf(
  u: () => number,
  orgs: OrganisationIndex,
  agencyId: string,
  department: string,
  status: PersonStatus,
  periods: RegistrationPeriod[],
  age: number,
): CaseloadEntry[] {
  if (status === 'candidate' || periods.length === 0) return [];
  const last = periods[periods.length - 1]!;
  const first = periods[0]!;
  const entries: CaseloadEntry[] = [
    { organisationId: agencyId, counselorId: null, since: first.startedOn, until: last.endedOn },
  ];
  const add = (kind: OrganisationKind, probability: number): void => {
    if (u() >= probability) return;
    const org = orgs.pick(kind, department, u());
    if (org)
      entries.push({ organisationId: org.id, counselorId: null, since: last.startedOn, until: last.endedOn });
  };
  add('cap_emploi', 0.08);
  if (age < 26) add('mission_locale', 0.35);
  add('training_body', 0.04);
  if (status === 'registered') add('subcontractor', 0.02);
  return entries;
}
