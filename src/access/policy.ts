/**
 * Who may see which persons and which fields, for which purpose (docs/DESIGN.md section 3, step 3):
 * one table, read top to bottom. Deny by default: a role and purpose with no entry open nothing.
 * Row-level security (migration 0006) enforces the person scope again in the database.
 *
 * - agency counselors: the persons of their agency and of their organisation's caseload; any
 *   person through a national read that names a purpose and a written justification (T2b: logged,
 *   scored by the guard);
 * - partner counselors (Cap emploi, missions locales, training bodies): only the persons their
 *   organisation accompanies, and only the fields accompaniment needs (T2, T5, T9);
 * - subcontractor operators: no search and no record at all; only the work items assigned to them,
 *   each showing its task's fields (work-tasks.ts), while assigned and before its deadline (T4);
 *   helpdesk, managers, administrators: nothing (T1, T8);
 * - security officers and the DPO: national reads only, justified, for their one purpose;
 * - archivists: pension proofs of archived persons (deregistered past the retention period,
 *   src/retention), and nothing else; no other role reaches the archive.
 */
import type { Role } from '../identity/accounts.ts';
import { IDENTITY_FIELDS, type IdentityField } from '../registry/person.ts';
import type { PersonQuery } from '../registry/persons.ts';
import type { Purpose } from './purposes.ts';
import type { WorkTask } from './work-tasks.ts';

/**
 * The fields of a person the gate can return, by name (the unit of the audit log's field lists):
 * the identity fields, the NIR masked (sex, year and month of birth only: OWASP ASVS 14.2.6), and
 * the plain administrative facts.
 */
export type ViewField = IdentityField | 'nirMasked' | 'status' | 'registrationPeriods';
export const VIEW_FIELDS: readonly ViewField[] = [
  ...IDENTITY_FIELDS,
  'nirMasked',
  'status',
  'registrationPeriods',
];

/**
 * The fields a work item can show an operator (T4): identity fields, and pseudonymised ones derived
 * from them inside the gate — `initials` (of the first given name and the last name) and `birthYear`.
 * They are the audit log's field names for an operator's read.
 */
export type WorkItemField = 'initials' | 'birthYear' | 'agencyId' | 'lastName' | 'firstNames' | 'address';
export const WORK_ITEM_FIELDS: readonly WorkItemField[] = [
  'initials',
  'birthYear',
  'agencyId',
  'lastName',
  'firstNames',
  'address',
];

/** The contact fields a counselor may change. */
export const CONTACT_FIELDS = ['email', 'phone', 'address'] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

export type SearchBy = PersonQuery['by'];

/** What one role may do for one purpose. */
export interface Rule {
  /** The searches it may run (exact match only; never a prefix or wildcard). */
  search: readonly SearchBy[];
  /**
   * Its everyday scope: its agency and caseload, its caseload only, the archive (archived persons
   * only), none (national reads only), or work items (no person route at all: only the items
   * assigned to it, T4).
   */
  scope: 'agency' | 'caseload' | 'archive' | 'none' | 'work_item';
  /** Whether it may read outside that scope with a written justification. */
  national: boolean;
  /** Fields in a list of search results: enough to tell persons apart, no contact details. */
  list: readonly ViewField[];
  /** Fields in one person's record. */
  view: readonly ViewField[];
  /** Fields it may change. */
  update: readonly ContactField[];
  /** Whether it may read who accessed a person's record (GDPR article 15; incident investigation). */
  history: boolean;
  /** The tasks it may hand to a subcontractor as work items, for persons in its scope (absent: none). */
  delegate?: readonly WorkTask[];
  /** With scope 'work_item': the most any item may show it (each item shows its task's fields). */
  items?: readonly WorkItemField[];
}

const IDENTIFY: readonly ViewField[] = ['agencyId', 'lastName', 'firstNames', 'birthDate', 'status'];
const EVERYTHING: readonly ViewField[] = VIEW_FIELDS.filter((f) => f !== 'nirMasked');

/**
 * A pension proof, by whoever gives it (a counselor for persons on file, the archivist for the
 * archive): exact searches, and the fields the proof certifies (identity and registration periods).
 */
const PENSION_PROOF: Omit<Rule, 'scope' | 'national'> = {
  search: ['nir', 'nameBirth'],
  list: [...IDENTIFY, 'nirMasked'],
  view: [
    'agencyId',
    'nir',
    'lastName',
    'birthName',
    'firstNames',
    'birthDate',
    'status',
    'registrationPeriods',
  ],
  update: [],
  history: false,
};

/** The policy table: role → purpose → rule. Anything absent is refused. */
export const POLICY: Partial<Record<Role, Partial<Record<Purpose, Rule>>>> = {
  counselor: {
    accompaniment: {
      search: ['nir', 'agencyId', 'nameBirth'],
      scope: 'agency',
      national: true,
      list: [...IDENTIFY, 'nirMasked'],
      view: EVERYTHING,
      update: ['email', 'phone', 'address'],
      history: false,
      delegate: ['document_indexing', 'address_proof_check'],
    },
    payment: {
      search: ['nir', 'agencyId'],
      scope: 'agency',
      national: false,
      list: [...IDENTIFY, 'nirMasked'],
      view: [
        'agencyId',
        'nir',
        'lastName',
        'firstNames',
        'birthDate',
        'address',
        'status',
        'registrationPeriods',
      ],
      update: [],
      history: false,
      delegate: ['payslip_entry', 'document_indexing', 'address_proof_check'],
    },
    pension_proof: { ...PENSION_PROOF, scope: 'agency', national: true },
  },
  partner_counselor: {
    accompaniment: {
      // no NIR: a partner neither sees nor searches it (the 2024 attack pulled NIRs through it)
      search: ['agencyId', 'nameBirth'],
      scope: 'caseload',
      national: false,
      list: IDENTIFY,
      view: [...IDENTIFY, 'email', 'phone', 'address'],
      update: [],
      history: false,
    },
  },
  subcontractor_operator: {
    // T4: no search and no record; the items assigned to it, each with its task's fields only.
    work_item: {
      search: [],
      scope: 'work_item',
      national: false,
      list: [],
      view: [],
      update: [],
      history: false,
      items: WORK_ITEM_FIELDS,
    },
  },
  security_officer: {
    incident_investigation: {
      search: ['agencyId'],
      scope: 'none',
      national: true,
      list: ['agencyId', 'lastName', 'firstNames', 'status'],
      view: ['agencyId', 'lastName', 'firstNames', 'birthDate', 'status'],
      update: [],
      history: true,
    },
  },
  archivist: {
    // the archive's own indexes, never a national read: archived persons, for their pension proofs
    pension_proof: { ...PENSION_PROOF, scope: 'archive', national: false },
  },
  dpo: {
    data_subject_request: {
      search: ['nir', 'agencyId', 'nameBirth'],
      scope: 'none',
      national: true,
      list: [...IDENTIFY, 'nirMasked'],
      view: EVERYTHING,
      update: [],
      history: true,
    },
  },
};

/** The rule for a role and purpose, or undefined (refused). */
export function ruleFor(role: string, purpose: Purpose): Rule | undefined {
  return POLICY[role as Role]?.[purpose];
}

/** Minimum length of a national read's justification: a sentence, not "x". */
export const JUSTIFICATION_MIN = 15;
export const JUSTIFICATION_MAX = 500;
/** Results of one search, at most (then "refine your search"); no pagination past it. */
export const SEARCH_CAP = 10;
