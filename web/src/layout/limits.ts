/**
 * The guard's kinds of limit (problem+json `limit`, in English words: src/guard/signals.ts,
 * LIMIT_LABELS) in French, for the French console. test/console-limits.test.ts checks that every
 * label the server can send has its translation here.
 */
export const LIMIT_FR: Record<string, string> = {
  'records opened this minute': 'dossiers ouverts cette minute',
  'records opened this hour': 'dossiers ouverts cette heure',
  'records opened today': 'dossiers ouverts aujourd’hui',
  'searches this minute': 'recherches cette minute',
  'searches this hour': 'recherches cette heure',
  'searches today': 'recherches aujourd’hui',
  'persons read this minute': 'personnes consultées cette minute',
  'persons read this hour': 'personnes consultées cette heure',
  'persons read today': 'personnes consultées aujourd’hui',
  'persons read today beyond your usual day':
    'personnes consultées aujourd’hui au-delà de votre journée habituelle',
  'persons read today beyond your colleagues’ usual day':
    'personnes consultées aujourd’hui au-delà de la journée habituelle de vos collègues',
  'requests refused today': 'demandes refusées aujourd’hui',
  'requests refused this week': 'demandes refusées cette semaine',
  'searches that found nobody this hour': 'recherches sans résultat cette heure',
  'searches that found nobody today': 'recherches sans résultat aujourd’hui',
  'searches that found nobody this week': 'recherches sans résultat cette semaine',
  'agency ids searched in sequence': 'identifiants recherchés à la suite',
  'names searched in alphabetical order': 'noms recherchés par ordre alphabétique',
  'persons read outside working hours today': 'personnes consultées hors des heures de travail aujourd’hui',
  'persons read through national searches today': 'personnes consultées par recherche nationale aujourd’hui',
  'requests refused by the guard this hour': 'demandes refusées par la protection cette heure',
  'a request from another address than the session’s':
    'une demande venue d’une autre adresse que celle de la session',
  'sessions open from other addresses': 'des sessions ouvertes depuis d’autres adresses',
  'a protected record': 'un dossier protégé',
  'accounts and roles requested today': 'comptes et rôles demandés aujourd’hui',
  'persons added to caseloads today': 'personnes ajoutées aux portefeuilles aujourd’hui',
  'provisioning outside working hours': 'demandes de comptes hors des heures de travail',
};

/** The `limit` words of a guard answer in `lang` (several kinds are joined by "; "). */
export function limitIn(lang: 'fr' | 'en', limit: string): string {
  if (lang === 'en') return limit;
  return limit
    .split('; ')
    .map((part) => LIMIT_FR[part] ?? part)
    .join(' ; ');
}
