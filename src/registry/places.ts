/**
 * French places from the official geographic code (INSEE COG, via @etalab/decoupage-administratif):
 * communes with their codes, postal codes and populations, for birth places and addresses that are
 * real, and NIRs whose department and commune codes match them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';

export interface Commune {
  /** INSEE code, 5 characters: '75056', '2A004', '97101'. */
  code: string;
  name: string;
  department: string;
  postalCodes: string[];
  population: number;
}

export interface Department {
  code: string;
  name: string;
}

/** A country of birth abroad, with its INSEE code (the 99xxx of the NIR). */
export interface Country {
  code: string;
  name: string;
}

interface RawCommune {
  code: string;
  nom: string;
  departement?: string;
  type: string;
  codesPostaux?: string[];
  population?: number;
  anciensCodes?: string[];
}

/**
 * Frequent countries of birth among residents born abroad, with their INSEE country codes and a
 * weight for the synthetic population; their names come from the INSEE table (`countryByCode`).
 */
export const BIRTH_COUNTRIES: readonly { code: string; weight: number }[] = [
  { code: '99350', weight: 20 }, // Maroc
  { code: '99352', weight: 20 }, // Algérie
  { code: '99351', weight: 8 }, // Tunisie
  { code: '99139', weight: 10 }, // Portugal
  { code: '99134', weight: 4 }, // Espagne
  { code: '99127', weight: 4 }, // Italie
  { code: '99208', weight: 5 }, // Turquie
  { code: '99341', weight: 4 }, // Sénégal
  { code: '99335', weight: 4 }, // Mali
  { code: '99326', weight: 4 }, // Côte d'Ivoire
  { code: '99322', weight: 3 }, // Cameroun
  { code: '99109', weight: 3 }, // Allemagne
  { code: '99131', weight: 3 }, // Belgique
  { code: '99132', weight: 2 }, // Royaume-Uni
  { code: '99114', weight: 4 }, // Roumanie
  { code: '99122', weight: 2 }, // Pologne
];

interface Places {
  byCode: Map<string, Commune>;
  /** Communes where people are born and live, weighted by population (Paris, Lyon, Marseille by arrondissement). */
  inhabited: Commune[];
  cumulative: Float64Array;
  departments: Map<string, Department>;
}

let cache: Places | undefined;

/** Loads the geographic tables once (about 0.3 s). */
export function places(): Places {
  if (cache) return cache;
  // Read, not require()d: require keeps the parsed file in its cache for the life of the process,
  // 10 MB that a long import would carry to its end (docs/IMPORT.md, "Memory").
  const require = createRequire(import.meta.url);
  const json = (name: string): unknown =>
    JSON.parse(readFileSync(require.resolve(`@etalab/decoupage-administratif/data/${name}`), 'utf8'));
  const raw = json('communes.json') as RawCommune[];
  const rawDepartments = json('departements.json') as { code: string; nom: string }[];
  const byCode = new Map<string, Commune>();
  const inhabited: Commune[] = [];
  const withArrondissements = new Set(['75056', '13055', '69123']);
  for (const entry of raw) {
    if (!entry.departement) continue;
    const commune: Commune = {
      code: entry.code,
      name: entry.nom,
      department: entry.departement,
      postalCodes: entry.codesPostaux ?? [],
      population: entry.population ?? 0,
    };
    if (!byCode.has(commune.code) || entry.type === 'commune-actuelle') byCode.set(commune.code, commune);
    // Former codes (merged communes; Corsica's 20xxx before 1976) stay valid birth places.
    for (const old of entry.anciensCodes ?? []) {
      if (!byCode.has(old))
        byCode.set(old, {
          ...commune,
          code: old,
          department: old.slice(0, 2) === '20' ? '20' : commune.department,
        });
    }
    const isPlace =
      (entry.type === 'commune-actuelle' && !withArrondissements.has(entry.code)) ||
      entry.type === 'arrondissement-municipal';
    if (isPlace && commune.population > 0 && commune.postalCodes.length > 0) inhabited.push(commune);
  }
  const cumulative = new Float64Array(inhabited.length);
  let total = 0;
  inhabited.forEach((commune, i) => {
    total += commune.population;
    cumulative[i] = total;
  });
  const departments = new Map(rawDepartments.map((d) => [d.code, { code: d.code, name: d.nom }]));
  cache = { byCode, inhabited, cumulative, departments };
  return cache;
}

/** The commune with this INSEE code (current or former), if any. */
export function communeByCode(code: string): Commune | undefined {
  return places().byCode.get(code);
}

/** A commune drawn with probability proportional to its population; `u` is uniform in [0, 1). */
export function communeAt(u: number): Commune {
  const { inhabited, cumulative } = places();
  return inhabited[weightedIndex(cumulative, u)]!;
}

/** The index whose share of the cumulative weights holds `u` (uniform in [0, 1)): a binary search. */
function weightedIndex(cumulative: Float64Array, u: number): number {
  const target = u * cumulative[cumulative.length - 1]!;
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (cumulative[mid]! <= target) low = mid + 1;
    else high = mid;
  }
  return low;
}

const byDepartment = new Map<string, { communes: Commune[]; cumulative: Float64Array }>();

/** The inhabited communes of a department (arrondissements for Paris, Lyon, Marseille). */
export function communesOf(department: string): readonly Commune[] {
  return departmentPlaces(department).communes;
}

function departmentPlaces(department: string): { communes: Commune[]; cumulative: Float64Array } {
  let entry = byDepartment.get(department);
  if (!entry) {
    const communes = places().inhabited.filter((c) => c.department === department);
    const cumulative = new Float64Array(communes.length);
    let total = 0;
    communes.forEach((commune, i) => {
      total += commune.population;
      cumulative[i] = total;
    });
    entry = { communes, cumulative };
    byDepartment.set(department, entry);
  }
  return entry;
}

/**
 * A commune of this department drawn with probability proportional to its population (`u`
 * uniform in [0, 1)); undefined for a department with no inhabited commune known.
 */
export function communeInDepartment(department: string, u: number): Commune | undefined {
  const { communes, cumulative } = departmentPlaces(department);
  if (communes.length === 0) return undefined;
  return communes[weightedIndex(cumulative, u)]!;
}

/** Department name by code ('2A' → 'Corse-du-Sud'). */
export function departmentByCode(code: string): Department | undefined {
  return places().departments.get(code);
}

/** The INSEE code of France in the table of countries: not a birth abroad. */
export const FRANCE_COUNTRY_CODE = '99100';

let countryCache: Map<string, Country> | undefined;

/**
 * Every country and territory abroad of INSEE's geographic code (COG 2025, 229 codes), by code:
 * src/registry/insee/README.md gives the source and the date it was taken. The name is `LIBCOG`,
 * the usual French name in proper case ("Algérie", "Royaume-Uni"), which a person reads in the
 * portal and in notices.
 */
export function countries(): ReadonlyMap<string, Country> {
  if (countryCache) return countryCache;
  const text = readFileSync(new URL('./insee/v_pays_territoire_2025.csv', import.meta.url), 'utf8');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as { COG: string; LIBCOG: string }[];
  countryCache = new Map(rows.map((row) => [row.COG, { code: row.COG, name: row.LIBCOG }]));
  return countryCache;
}

/** The country or territory abroad with this INSEE code ('99350' → Maroc), if INSEE knows it. */
export function countryByCode(code: string): Country | undefined {
  return countries().get(code);
}
