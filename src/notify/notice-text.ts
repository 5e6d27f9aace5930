/**
 * The text of an incident notice to one person (GDPR art. 34; docs/DESIGN.md section 2, T6/T7): in
 * plain French, exactly the fields that person had exposed (never more, never "potentially"), the
 * risks that follow from those fields, what to do, how to complain, and how to check it is genuine.
 */

import type { NoticeSigningKeys } from '../crypto/keyring.ts';
import { signNotice } from '../crypto/notice-signing.ts';
import { AppError } from '../errors.ts';

/** French names of the fields a notice may list: every field the gate returns (src/access/policy.ts VIEW_FIELDS and WORK_ITEM_FIELDS, the audit log's names). */
export const FIELD_NAMES_FR: Readonly<Record<string, string>> = {
  agencyId: 'votre identifiant France Travail',
  nir: 'votre numéro de sécurité sociale (NIR)',
  lastName: "votre nom d'usage",
  birthName: 'votre nom de naissance',
  firstNames: 'vos prénoms',
  sex: 'votre sexe',
  birthDate: 'votre date de naissance',
  birthPlace: 'votre lieu de naissance',
  email: 'votre adresse électronique',
  phone: 'votre numéro de téléphone',
  address: 'votre adresse postale',
  // What the gate returns beyond the identity fields (src/access/policy.ts VIEW_FIELDS): a notice
  // names every field the audit log says was returned, these included (never less either).
  nirMasked: 'le début de votre numéro de sécurité sociale (sexe, année et mois de naissance)',
  status: 'votre situation (inscrit ou non comme demandeur d’emploi)',
  registrationPeriods: 'vos périodes d’inscription comme demandeur d’emploi',
  // What a subcontractor's work item shows in place of a name or birth date (src/access/work-tasks.ts).
  initials: 'vos initiales',
  birthYear: 'votre année de naissance',
};

/** What one notice says: the person's exposed fields and how to check the notice. */
export interface NoticeInput {
  incidentId: string;
  /** The fields this person had exposed (incident_persons.fields, audit log names). */
  fields: readonly string[];
  /** The message's verification code (codes.ts). */
  code: string;
  /** Where a code is checked: <PUBLIC_URL>/verifier. */
  publicUrl: string;
  /** When the breach was detected (the notice states the facts, not the person's data). */
  detectedAt: Date;
}

// The risks follow from the fields (art. 34 asks for the likely consequences): accurate data makes
// phishing credible (T6); NIR, birth date or address allow identity theft; a phone number calls/SMS.
function risksOf(fields: ReadonlySet<string>): string[] {
  const risks = [
    "- de l'hameçonnage : des messages qui se font passer pour France Travail ou un autre organisme en citant vos vraies données pour gagner votre confiance ;",
  ];
  if (['nir', 'birthDate', 'address', 'birthPlace'].some((f) => fields.has(f)))
    risks.push(
      "- l'usurpation d'identité : ouverture de comptes, demandes de crédit ou de prestations en votre nom ;",
    );
  if (fields.has('phone')) risks.push('- des appels ou SMS frauduleux sur votre téléphone ;');
  if (fields.has('email')) risks.push('- des courriels frauduleux à votre adresse ;');
  if (fields.has('address')) risks.push('- des courriers frauduleux à votre domicile ;');
  return risks;
}

/** The notice's text (UTF-8, lines ending with a newline), ready to be signed. Unknown field: error. */
export function renderNoticeText(input: NoticeInput): string {
  if (input.fields.length === 0)
    throw new AppError('validation_failed', 'fields: a notice names at least one exposed field');
  const unique = [...new Set(input.fields)].sort();
  for (const field of unique)
    if (!(field in FIELD_NAMES_FR))
      throw new AppError('validation_failed', `fields: unknown field "${field.slice(0, 40)}"`);
  const verifier = `${input.publicUrl.replace(/\/+$/, '')}/verifier`;
  const lines = [
    'Rempart - Information sur une violation de vos données personnelles',
    `Incident : ${input.incidentId}`,
    `Code de vérification : ${input.code}`,
    '',
    'Madame, Monsieur,',
    '',
    `Le ${input.detectedAt.toISOString().slice(0, 10)}, nous avons constaté qu'un accès illégitime a eu lieu à votre dossier.`,
    'Les données suivantes vous concernant ont été consultées par une personne non autorisée, et seulement celles-ci :',
    ...unique.map((field) => `- ${FIELD_NAMES_FR[field]}`),
    '',
    'Les risques pour vous :',
    ...risksOf(new Set(unique)),
    '',
    'Ce que nous vous conseillons de faire :',
    '- ne communiquez jamais vos mots de passe ou codes reçus par SMS : nous ne vous les demanderons jamais ;',
    '- méfiez-vous de tout message citant vos données et vous demandant d’agir vite, de payer ou de cliquer sur un lien ;',
    '- vérifiez le code de tout message qui se réclame de nous, à l’adresse ci-dessous ;',
    '- en cas de doute sur une usurpation d’identité, déposez plainte auprès de la police ou de la gendarmerie.',
    '',
    'Vos droits : vous pouvez adresser une réclamation à la CNIL (www.cnil.fr/plaintes).',
    "Le fait de ne pas protéger des données personnelles est puni par l'article 226-17 du code pénal.",
    '',
    'Comment vérifier que ce message est authentique :',
    `- saisissez le code ${input.code} sur ${verifier} ;`,
    '- ce texte est signé (Ed25519) : la signature ci-dessous se vérifie avec les clés publiées.',
  ];
  return `${lines.join('\n')}\n`;
}

/** The notice's text signed under the keyring's current notice key (c2sp.org/signed-note). */
export function signedNoticeText(keys: NoticeSigningKeys, input: NoticeInput): string {
  return signNotice(keys, renderNoticeText(input));
}
