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
  'persons read this week beyond your usual days':
    'personnes consultées cette semaine au-delà de vos journées habituelles',
  'persons read this month beyond your usual days':
    'personnes consultées ce mois-ci au-delà de vos journées habituelles',
  'persons read through national searches this week':
    'personnes consultées par recherche nationale cette semaine',
  'persons read through national searches this month':
    'personnes consultées par recherche nationale ce mois-ci',
  'persons read outside working hours this week':
    'personnes consultées hors des heures de travail cette semaine',
  'limits reached on several days this week': 'limites atteintes plusieurs jours cette semaine',
  'persons read so far today beyond your usual day':
    'personnes consultées depuis ce matin au-delà de votre journée habituelle',
  'persons read by your organisation today beyond its usual':
    'personnes consultées aujourd’hui par votre organisme au-delà de son habitude',
  'persons read by your organisation today beyond organisations of its kind':
    'personnes consultées aujourd’hui par votre organisme au-delà des organismes de même nature',
  'persons read by your organisation this week beyond its usual':
    'personnes consultées cette semaine par votre organisme au-delà de son habitude',
  'searches of your organisation that found nobody this week':
    'recherches de votre organisme sans résultat cette semaine',
  'requests of your organisation refused this week': 'demandes de votre organisme refusées cette semaine',
  'persons of your organisation’s caseload read this week beyond its usual share':
    'personnes du portefeuille de votre organisme consultées cette semaine au-delà de sa part habituelle',
  'persons exported this week': 'personnes exportées cette semaine',
  'persons exported this month': 'personnes exportées ce mois-ci',
  'persons exported outside working hours this month':
    'personnes exportées hors des heures de travail ce mois-ci',
};

/** The `limit` words of a guard answer in `lang` (several kinds are joined by "; "). */
export function limitIn(lang: 'fr' | 'en', limit: string): string {
  if (lang === 'en') return limit;
  return limit
    .split('; ')
    .map((part) => LIMIT_FR[part] ?? part)
    .join(' ; ');
}
