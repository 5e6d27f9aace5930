/**
 * The tasks a subcontractor's work item can be (T4, docs/SECURITY.md): a fixed list, each fixing the
 * person's fields an operator sees for it — the fewest the task needs, pseudonymised where the task
 * allows (initials and a birth year instead of a name and a birth date; never the NIR, an email or a
 * phone) — and how long an item may stay open. A counselor names the task when handing a document
 * over; the policy (policy.ts) says which tasks each role may hand over for each purpose, and caps
 * what any item may show to an operator (`Rule.items`). migration 0026 lists the same ids.
 */
import type { WorkItemField } from './policy.ts';

export interface WorkTaskInfo {
  label: { fr: string; en: string };
  /** What the operator does with the document. */
  description: string;
  /** The person's fields the operator sees while the item is assigned to them. */
  fields: readonly WorkItemField[];
  /** True when no name is shown (initials and other partial fields instead). */
  pseudonymised: boolean;
  /** The longest an item may stay open, in days from its creation (its deadline is at most this far). */
  maxDays: number;
}

export const WORK_TASKS = {
  payslip_entry: {
    label: { fr: 'Saisie d’une attestation employeur', en: 'Keying in an employer certificate' },
    description:
      'Key the dates and amounts of a payslip or employer certificate into the file; the operator checks that the document bears the same initials and birth year.',
    fields: ['initials', 'birthYear'],
    pseudonymised: true,
    maxDays: 5,
  },
  document_indexing: {
    label: { fr: 'Numérisation et indexation d’un courrier', en: 'Scanning and indexing a letter' },
    description:
      'Scan a letter and file it under the person’s agency id, which it quotes; initials to check it, no name.',
    fields: ['agencyId', 'initials'],
    pseudonymised: true,
    maxDays: 5,
  },
  address_proof_check: {
    label: { fr: 'Contrôle d’un justificatif de domicile', en: 'Checking a proof of address' },
    description:
      'Check that a proof of address names the person at the address on file: the names and the address, nothing else.',
    fields: ['lastName', 'firstNames', 'address'],
    pseudonymised: false,
    maxDays: 3,
  },
} as const satisfies Record<string, WorkTaskInfo>;

export type WorkTask = keyof typeof WORK_TASKS;

/** Every task id, in a stable order (for schemas and docs). */
export const WORK_TASK_IDS = Object.keys(WORK_TASKS) as WorkTask[];

/** True if `value` names a task of the fixed list. */
export function isWorkTask(value: unknown): value is WorkTask {
  return typeof value === 'string' && Object.hasOwn(WORK_TASKS, value);
}

/** How an operator closes an item: the document was processed, or could not be (unreadable, not theirs). */
export const WORK_OUTCOMES = ['processed', 'rejected'] as const;
export type WorkOutcome = (typeof WORK_OUTCOMES)[number];
