/**
 * Retention periods and the rule that says what happens to one person on a given day
 * (docs/RETENTION.md; DESIGN.md section 8). Pure: the run (run.ts) reads the facts, this decides.
 *
 * - archive: a deregistered person leaves search and partner access `archiveMonths` after the end
 *   of their last registration period, and moves to the archive (pension proofs only);
 * - destroy: `destroyYears` after that end (at most 20: article R.5312-44 of the labour code, "une
 *   durée maximale de vingt ans après la cessation d'inscription"), the person is crypto-shredded;
 * - expire_candidate: a candidate-only space (never registered) inactive for `candidateMonths` is
 *   crypto-shredded too.
 */

/** The periods in force. */
export interface RetentionPeriods {
  /** Months after deregistration before a person leaves search and partner access (archive). */
  archiveMonths: number;
  /** Years after deregistration before a person is destroyed (crypto-shredding); at most 20. */
  destroyYears: number;
  /** Months of inactivity after which a candidate-only space is destroyed. */
  candidateMonths: number;
}

/** Article R.5312-44 of the labour code: the data of a job seeker are kept at most 20 years after deregistration. */
export const LEGAL_MAX_DESTROY_YEARS = 20;

/**
 * The defaults. 12 months in search: a person deregistered often comes back within the year, and
 * their counselor needs the record then; past that, only pension proofs need it. 20 years: the
 * legal maximum, kept because pension rights are proven from these periods. 24 months for a
 * candidate-only space: the CNIL's recruitment guidance (two years after the last contact).
 */
export const DEFAULT_PERIODS: RetentionPeriods = {
  archiveMonths: 12,
  destroyYears: LEGAL_MAX_DESTROY_YEARS,
  candidateMonths: 24,
};

/** What retention does to a person. */
export const RETENTION_ACTIONS = ['archive', 'destroy', 'expire_candidate'] as const;
export type RetentionAction = (typeof RETENTION_ACTIONS)[number];

/** The facts about one person that retention decides on. */
export interface RetentionFacts {
  status: string;
  /** The end of the last registration period (YYYY-MM-DD), or null without one. */
  lastEnd: string | null;
  /** Whether a registration period is still open. */
  open: boolean;
  /** The last sign of activity (creation, a change, a portal session), as a date YYYY-MM-DD. */
  activeOn: string;
  /** Canary persons belong to no workflow and are the guard's: retention leaves them alone. */
  canary: boolean;
}

/** The last day (inclusive) before which each period has run out, as of `asOf` (YYYY-MM-DD). */
export interface Cutoffs {
  /** Deregistered on or before this day: archived. */
  archive: string;
  /** Deregistered on or before this day: destroyed. */
  destroy: string;
  /** A candidate last active on or before this day: destroyed. */
  candidate: string;
}

/**
 * `asOf` minus whole months, as PostgreSQL's `date - interval 'n months'` counts: the same day of
 * the month, or the month's last day when it has fewer days (31 March minus one month: 28 or 29
 * February).
 */
export function minusMonths(asOf: string, months: number): string {
  const [y, m, d] = asOf.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) - months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(d, last);
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The cutoffs of `periods` as of `asOf`. */
export function cutoffs(asOf: string, periods: RetentionPeriods): Cutoffs {
  return {
    archive: minusMonths(asOf, periods.archiveMonths),
    destroy: minusMonths(asOf, periods.destroyYears * 12),
    candidate: minusMonths(asOf, periods.candidateMonths),
  };
}

/** What retention does to this person as of the cutoffs, or null (nothing yet). */
export function retentionAction(facts: RetentionFacts, due: Cutoffs): RetentionAction | null {
  if (facts.canary) return null;
  if (facts.status === 'candidate') return facts.activeOn <= due.candidate ? 'expire_candidate' : null;
  if (facts.status !== 'deregistered' && facts.status !== 'archived') return null;
  // A deregistered person with an open period, or none at all, is a registry inconsistency: left
  // for a person to look at (counted as `skipped` by the run), never destroyed on a guess.
  if (facts.open || facts.lastEnd === null) return null;
  if (facts.lastEnd <= due.destroy) return 'destroy';
  if (facts.status === 'deregistered' && facts.lastEnd <= due.archive) return 'archive';
  return null;
}
