/**
 * Enumeration as an attacker scripts it (ENUM-ID, ENUM-NAME, and T2's bulk): sequential agency ids
 * from a leaked one, and common French surnames in alphabetical order with a first name and a
 * birth date. The agency id is 7 digits and a check letter; the attacker works the letter out from
 * the ids it already holds (a weighted sum of the digits, modulo 26: a few leaked ids are enough to
 * find it) and checks the rule on them before using it.
 */

/** The check letter of seven digits: Σ digit × (position + 2), modulo 26, as a letter. */
export function checkLetter(digits: string): string {
  let sum = 0;
  for (let i = 0; i < 7; i += 1) sum += Number(digits[i]) * (i + 2);
  return String.fromCharCode(65 + (sum % 26));
}

/** True if the rule gives the letter of every well-formed id in the list (the attacker's check). */
export function letterRuleHolds(ids: readonly string[]): boolean {
  const wellFormed = ids.filter((id) => /^\d{7}[A-Z]$/.test(id));
  return wellFormed.length > 0 && wellFormed.every((id) => checkLetter(id.slice(0, 7)) === id[7]);
}

/** The `count` agency ids after `from` (numbers from+1, from+2, …), each with its check letter. */
export function followingAgencyIds(from: string, count: number): string[] {
  const start = Number(from.slice(0, 7));
  const out: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    const digits = String((start + i) % 10_000_000).padStart(7, '0');
    out.push(`${digits}${checkLetter(digits)}`);
  }
  return out;
}

/** The most common French surnames (INSEE), in alphabetical order: what a name sweep walks through. */
export const COMMON_SURNAMES: readonly string[] = [
  'André',
  'Bernard',
  'Bertrand',
  'Blanc',
  'Bonnet',
  'Chevalier',
  'David',
  'Dubois',
  'Dupont',
  'Durand',
  'Fontaine',
  'Fournier',
  'Francois',
  'Garcia',
  'Gauthier',
  'Girard',
  'Guerin',
  'Lambert',
  'Laurent',
  'Lefebvre',
  'Leroy',
  'Martin',
  'Martinez',
  'Mercier',
  'Michel',
  'Morel',
  'Moreau',
  'Muller',
  'Perrin',
  'Petit',
  'Richard',
  'Robert',
  'Robin',
  'Rousseau',
  'Roux',
  'Simon',
  'Thomas',
  'Vincent',
].sort((a, b) => a.localeCompare(b, 'fr'));

/** Common first names a sweep pairs with each surname. */
export const COMMON_FIRST_NAMES: readonly string[] = [
  'Marie',
  'Jean',
  'Nathalie',
  'Pierre',
  'Isabelle',
  'Michel',
  'Sylvie',
  'Philippe',
];

/**
 * A name sweep: each surname in alphabetical order, with a first name and a birth date in the
 * working ages (a date per surname, walking through the years): exact searches mostly answered by
 * nobody, which is what an enumeration looks like.
 */
export function nameSweep(count: number): { lastName: string; firstName: string; birthDate: string }[] {
  const out: { lastName: string; firstName: string; birthDate: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    const lastName = COMMON_SURNAMES[i % COMMON_SURNAMES.length]!;
    const round = Math.floor(i / COMMON_SURNAMES.length);
    const year = 1965 + ((i * 7 + round) % 40);
    const month = 1 + ((i * 5) % 12);
    const day = 1 + ((i * 11) % 28);
    out.push({
      lastName,
      firstName: COMMON_FIRST_NAMES[(i + round) % COMMON_FIRST_NAMES.length]!,
      birthDate: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    });
  }
  return out;
}
