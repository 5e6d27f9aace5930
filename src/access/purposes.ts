/**
 * The purposes for which personal data may be read (GDPR article 5(1)(b), purpose limitation):
 * a fixed list. Every read through the gate names one; the policy (policy.ts) says, per role and
 * purpose, which persons and fields it opens; an organisation may declare only the purposes listed
 * for it (organisations.purposes, filled by kind in migration 0006; a test keeps both in step).
 */
import type { Role } from '../identity/accounts.ts';

export interface PurposeInfo {
  label: { fr: string; en: string };
  /** What the purpose covers, for the people on file and for reviewers. */
  description: string;
  /** The roles that may declare it. */
  roles: readonly Role[];
  /** The organisation kinds whose agents may be granted it. */
  kinds: readonly string[];
}

export const PURPOSES = {
  accompaniment: {
    label: { fr: 'Accompagnement', en: 'Accompaniment' },
    description: 'Following a job seeker: appointments, job search support, training plans.',
    roles: ['counselor', 'partner_counselor'],
    kinds: ['agency', 'cap_emploi', 'mission_locale', 'training_body'],
  },
  payment: {
    label: { fr: 'Indemnisation', en: 'Payment' },
    description: 'Computing and paying allowances: identity, address and registration periods.',
    roles: ['counselor'],
    kinds: ['agency'],
  },
  pension_proof: {
    label: { fr: 'Justificatif retraite', en: 'Pension proof' },
    description:
      'Certifying periods of registration for pension rights, also of former job seekers (the archive: archivists only).',
    roles: ['counselor', 'archivist'],
    kinds: ['agency', 'national'],
  },
  work_item: {
    label: { fr: 'Traitement de dossier', en: 'Work item' },
    description: 'Processing an assigned document or case (subcontractors): no search, item fields only.',
    roles: ['subcontractor_operator'],
    kinds: ['subcontractor'],
  },
  incident_investigation: {
    label: { fr: 'Enquête sur incident', en: 'Incident investigation' },
    description: 'Investigating a security alert or incident: who was reached, by whom.',
    roles: ['security_officer'],
    kinds: ['national'],
  },
  data_subject_request: {
    label: { fr: 'Demande de droit d’accès', en: 'Data-subject request' },
    description: 'Answering a person exercising their GDPR rights (articles 15 to 22).',
    roles: ['dpo'],
    kinds: ['national'],
  },
} as const satisfies Record<string, PurposeInfo>;

export type Purpose = keyof typeof PURPOSES;

/** Every purpose id, in a stable order (for schemas and docs). */
export const PURPOSE_IDS = Object.keys(PURPOSES) as Purpose[];

/** True if `value` names a purpose of the fixed list. */
export function isPurpose(value: unknown): value is Purpose {
  return typeof value === 'string' && Object.hasOwn(PURPOSES, value);
}

/** The purposes an organisation of this kind holds by default (the SQL default mirrors this). */
export function defaultPurposes(kind: string): Purpose[] {
  return PURPOSE_IDS.filter((p) => (PURPOSES[p].kinds as readonly string[]).includes(kind));
}
