/**
 * The synthetic population (`rempart seed`): realistic French persons whose NIR agrees with their
 * sex, birth date and birth place (a real commune, or a country abroad), addresses in real
 * communes weighted by population, statuses (registered, deregistered up to 25 years ago,
 * candidate-only) and caseloads over agencies, partners and subcontractors.
 * Deterministic: chunk k of a seed is always the same persons, whichever worker makes it.
 */
import { randomUUID } from 'node:crypto';
import { base, Faker, fr } from '@faker-js/faker';
import { buildNir, NORTH_AFRICA } from './nir.ts';
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

/** The share of births abroad whose date civil status knows only in part (a quarter of them: the year only). */
const PARTIAL_DATE_SHARE = 0.04;
/** Share of the persons drawn at 58 to 67 who are made twelve years older (former job seekers). */
const RETIRED_SHARE = 0.3;

/** Share of the persons born before 1962 who were born in French North Africa with French civil status. */
const REPATRIATE_SHARE = 0.06;

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
    // Working age, 16 to 67; a share of those drawn at 58 or older are former job seekers twelve
    // years older (70 to 79), deregistered before 67: the registry keeps them for 20 years
    // (docs/RETENTION.md) and pension proofs concern them. The share is read from the age draw
    // (no draw added); a retired person's registration history takes other draws than before, so
    // the persons after one in its chunk differ from earlier versions of the generator.
    const ageDraw = u() * 52;
    const drawnAge = 16 + Math.floor(ageDraw);
    const retired = drawnAge >= 58 && ageDraw % 1 < RETIRED_SHARE;
    const age = retired ? drawnAge + 12 : drawnAge;
    const birthDay = dayNumber(`${asOfYear - age - 1}-01-01`) + Math.floor(u() * 365);
    const birthDate = isoDay(birthDay);
    const birthYear = Number(birthDate.slice(0, 4));
    const birthMonth = Number(birthDate.slice(5, 7));

    // Birth place: about one in six born abroad; in France, a commune drawn by population. Of those
    // born before 1962, 6 in 100 more were born in French North Africa before independence and
    // came to France with French civil status (the repatriates of 1956–1962): their NIR has the old
    // department code (NORTH_AFRICA in nir.ts). Their country is read from the same draw.
    let birthPlace: PersonEntry['identity']['birthPlace'];
    let nirDepartment: string;
    let nirCommune: string;
    let abroadCode: string | undefined;
    let repatriate = false;
    const placeDraw = u();
    if (placeDraw < 0.16) {
      const country = pickCountry(u());
      birthPlace = { countryCode: country.code, country: countryByCode(country.code)!.name };
      abroadCode = country.code;
      nirDepartment = '99';
      nirCommune = country.code.slice(2);
    } else if (placeDraw < 0.16 + REPATRIATE_SHARE && birthYear < 1962) {
      u(); // the draw the other branches make, so that the persons after this one stay as they were
      const share = (placeDraw - 0.16) / REPATRIATE_SHARE;
      const drawn = NORTH_AFRICA[share < 2 / 3 ? 0 : share < 5 / 6 ? 1 : 2]!;
      // Morocco and Tunisia were independent from 1956: a later birth is one in Algeria.
      abroadCode = birthDate < drawn.independence ? drawn.countryCode : NORTH_AFRICA[0]!.countryCode;
      birthPlace = { countryCode: abroadCode, country: countryByCode(abroadCode)!.name };
      repatriate = true;
      nirDepartment = '99';
      nirCommune = abroadCode.slice(2);
    } else {
      const commune = communeAt(u());
      birthPlace = { communeCode: commune.code, commune: commune.name, department: commune.department };
      ({ nirDepartment, nirCommune } = nirPlace(commune, birthYear));
    }
    // Civil status sometimes knows only the month, or only the year, of a birth abroad (declared
    // late, or by a judgement): 3 in 100 of the births abroad have no day, 1 in 100 neither day
    // nor month, and the NIR then carries the unknown-month code 20 (birth-date.ts; docs/IMPORT.md,
    // "Partial birth dates"). Read from the place draw: no draw added.
    let civilDate = birthDate;
    let nirMonth = birthMonth;
    if (placeDraw < 0.16 * PARTIAL_DATE_SHARE) {
      const partial = placeDraw / 0.16 / PARTIAL_DATE_SHARE;
      if (partial < 0.25) {
        civilDate = `${birthYear}-00-00`;
        nirMonth = 20;
      } else civilDate = `${birthDate.slice(0, 7)}-00`;
    }
    const order = 1 + Math.floor(u() * 999);
    if (abroadCode !== undefined)
      ({ nirDepartment, nirCommune } = nirAbroad(abroadCode, civilDate, order, repatriate));
    const nirParts = {
      sex: sex === 'M' ? ('1' as const) : ('2' as const),
      birthYear,
      birthMonth: nirMonth,
      department: nirDepartment,
      commune: nirCommune,
      order,
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

    const { status, periods } = registration(u, asOfDay, birthDay, retired);
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
          birthDate: civilDate,
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

/**
 * NIR department and commune digits for a birth abroad. A birth in Algeria, Morocco or Tunisia
 * before independence carries the old department code (91–94, 95, 96; NORTH_AFRICA in nir.ts) and
 * a commune of it: always for a repatriate, for one in two of the others; everyone else, like every
 * later birth, carries 99 and the country. The choice and the digits are read from the order
 * number, so no draw is added.
 */
export function nirAbroad(
  countryCode: string,
  birthDate: string,
  order: number,
  repatriate = false,
): { nirDepartment: string; nirCommune: string } {
  const northAfrica = NORTH_AFRICA.find((entry) => entry.countryCode === countryCode);
  if (
    northAfrica === undefined ||
    birthDate >= northAfrica.independence ||
    (!repatriate && order % 2 === 0)
  ) {
    return { nirDepartment: '99', nirCommune: countryCode.slice(2) };
  }
  // Algeria's departments by their weight in its population of the 1950s: Alger, Oran,
  // Constantine, and the Territoires du Sud.
  const spread = Math.floor(order / 2) % 20;
  const departments = northAfrica.departments;
  const nirDepartment =
    departments.length === 1
      ? departments[0]!
      : spread < 8
        ? '91'
        : spread < 14
          ? '92'
          : spread < 19
            ? '93'
            : '94';
  return { nirDepartment, nirCommune: String(1 + ((order * 37) % 350)).padStart(3, '0') };
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
  retired: boolean,
): { status: PersonStatus; periods: RegistrationPeriod[] } {
  const sixteen = birthDay + 16 * 365 + 4;
  const draw = u();
  if (draw < 0.1 && !retired) return { status: 'candidate', periods: [] };
  const registered = draw < 0.65 && !retired;
  // The last event: today (registered) or a deregistration up to 25 years ago, never before the
  // sixteenth birthday plus a first period; a retired person's before their 67th birthday.
  const drawn = registered ? asOf : asOf - Math.floor(u() * 25 * 365);
  const lastEnd = retired
    ? Math.min(drawn, birthDay + 67 * 365 + 16)
    : Math.max(drawn, Math.min(sixteen + 60, asOf));
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
