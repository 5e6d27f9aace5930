/**
 * Plain words for the codes the portal shows a person (GDPR art. 12: concise, intelligible, in clear
 * and plain language): the fields read, the purpose of a read, the reader's role and the record's
 * status, in French and English. A code without a label is shown as it is, never hidden.
 */
import { useMemo } from 'react';
import { type Lang, useLang } from '../i18n/i18n.tsx';

type Labels = Record<Lang, Readonly<Record<string, string>>>;

/** The audit log's field names (src/access/policy.ts VIEW_FIELDS, the history and incident fields). */
const FIELDS: Labels = {
  fr: {
    agencyId: 'identifiant France Travail',
    nir: 'numéro de sécurité sociale',
    nirMasked: 'début du numéro de sécurité sociale',
    lastName: 'nom d’usage',
    birthName: 'nom de naissance',
    firstNames: 'prénoms',
    sex: 'sexe',
    birthDate: 'date de naissance',
    birthPlace: 'lieu de naissance',
    email: 'adresse électronique',
    phone: 'téléphone',
    address: 'adresse postale',
    status: 'situation',
    registrationPeriods: 'périodes d’inscription',
    accessHistory: 'historique des consultations',
    incident: 'incidents',
    agency: 'agence',
    initials: 'initiales',
    birthYear: 'année de naissance',
  },
  en: {
    agencyId: 'France Travail identifier',
    nir: 'social security number',
    nirMasked: 'start of the social security number',
    lastName: 'last name',
    birthName: 'birth name',
    firstNames: 'first names',
    sex: 'sex',
    birthDate: 'birth date',
    birthPlace: 'birthplace',
    email: 'email address',
    phone: 'phone',
    address: 'postal address',
    status: 'status',
    registrationPeriods: 'registration periods',
    accessHistory: 'access history',
    incident: 'incidents',
    agency: 'agency',
    initials: 'initials',
    birthYear: 'birth year',
  },
};

/** The purposes of src/access/purposes.ts, and the person's own access (art. 15). */
const PURPOSES: Labels = {
  fr: {
    accompaniment: 'accompagnement',
    payment: 'indemnisation',
    pension_proof: 'attestation pour la retraite',
    work_item: 'traitement d’un dossier confié',
    incident_investigation: 'enquête sur un incident de sécurité',
    data_subject_request: 'réponse à une demande d’exercice de vos droits',
    data_subject_access: 'votre propre consultation',
  },
  en: {
    accompaniment: 'job search support',
    payment: 'benefits payment',
    pension_proof: 'pension certificate',
    work_item: 'handling an entrusted file',
    incident_investigation: 'security incident investigation',
    data_subject_request: 'answering a request about your rights',
    data_subject_access: 'your own access',
  },
};

/** The staff roles (web/src/session.tsx ROLES). */
const ROLES: Labels = {
  fr: {
    counselor: 'conseiller ou conseillère',
    partner_counselor: 'conseiller ou conseillère d’un partenaire',
    subcontractor_operator: 'agent d’un prestataire',
    helpdesk: 'assistance',
    org_manager: 'responsable d’équipe',
    security_officer: 'responsable de la sécurité',
    dpo: 'délégué ou déléguée à la protection des données',
    administrator: 'administration',
  },
  en: {
    counselor: 'counselor',
    partner_counselor: 'partner counselor',
    subcontractor_operator: 'subcontractor operator',
    helpdesk: 'helpdesk',
    org_manager: 'team manager',
    security_officer: 'security officer',
    dpo: 'data protection officer',
    administrator: 'administration',
  },
};

/** The registry's statuses (migration 0001). */
const STATUSES: Labels = {
  fr: {
    registered: 'inscrit comme demandeur d’emploi',
    deregistered: 'désinscrit',
    candidate: 'candidat à l’inscription',
    archived: 'dossier archivé',
  },
  en: {
    registered: 'registered as a job seeker',
    deregistered: 'deregistered',
    candidate: 'applying for registration',
    archived: 'archived record',
  },
};

export interface PortalLabels {
  field(name: string): string;
  /** Field names as one comma-separated list, in the order given. */
  fields(names: readonly string[]): string;
  purpose(code: string | null | undefined): string;
  role(code: string | null | undefined): string;
  status(code: string | null | undefined): string;
}

/** The labels in the current language. */
export function usePortalLabels(): PortalLabels {
  const { lang } = useLang();
  return useMemo(() => {
    const of =
      (labels: Labels) =>
      (code: string | null | undefined): string =>
        code === null || code === undefined ? '—' : (labels[lang][code] ?? code);
    const field = (name: string): string => FIELDS[lang][name] ?? name;
    return {
      field,
      fields: (names) => names.map(field).join(', '),
      purpose: of(PURPOSES),
      role: of(ROLES),
      status: of(STATUSES),
    };
  }, [lang]);
}
