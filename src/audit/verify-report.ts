/**
 * What `audit verify` reports (verify.ts): the problems it finds, capped per kind so a log altered
 * everywhere still gives a readable report, and the first event that does not match.
 */

/** What kind of mismatch a problem is (docs/ARCHITECTURE.md, "Audit log"). */
export type ProblemKind =
  | 'altered'
  | 'reordered'
  | 'deleted'
  | 'missing_leaf'
  | 'link'
  | 'inserted'
  | 'stuck'
  | 'orphan_link'
  | 'node'
  | 'checkpoint'
  | 'consistency'
  | 'published'
  | 'witness';

/** One thing that does not match, with the event, position or checkpoint size it concerns. */
export interface AuditProblem {
  kind: ProblemKind;
  message: string;
  eventId?: string;
  /** The leaf's position in the log. */
  seq?: number;
  treeSize?: number;
}

/** The outcome of `audit verify`: ok only when no problem at all was found. */
export interface AuditReport {
  ok: boolean;
  /** Events whose leaf was recomputed. */
  events: number;
  leaves: number;
  checkpoints: number;
  publishedCheckpoints: number;
  /** The first event (lowest position; then events without a leaf, lowest id) that does not match. */
  firstMismatch?: { eventId: string; seq: number | null; reason: ProblemKind };
  /** Up to 20 problems of each kind; problemCount counts them all. */
  problems: AuditProblem[];
  problemCount: number;
  /** What was not checked, and why (no published file, a window). */
  notes: string[];
  /**
   * With witness keys (`--witness`): the newest tree size that every given witness cosigned and
   * that matches the log (null when one of them vouches for none: the verification fails).
   */
  witnessedSize?: number | null;
  /** With witness keys: each witness (`name+keyid`) and the newest size it vouches for. */
  witnesses?: { witness: string; witnessedSize: number | null; cosignatures: number }[];
}

/** Problems listed per kind; the rest are only counted. */
const PER_KIND = 20;
/** The kinds that name an event: the first of them is the report's firstMismatch. */
const EVENT_KINDS = new Set<ProblemKind>([
  'altered',
  'reordered',
  'deleted',
  'missing_leaf',
  'link',
  'inserted',
  'stuck',
]);

/** The problems found, capped per kind, and the first event that does not match. */
export class Findings {
  readonly list: AuditProblem[] = [];
  /** What was not checked, and why. */
  readonly notes: string[] = [];
  count = 0;
  first: AuditReport['firstMismatch'];
  readonly #perKind = new Map<ProblemKind, number>();

  /** Records one problem. */
  add(problem: AuditProblem): void {
    this.count += 1;
    if (this.first === undefined && problem.eventId !== undefined && EVENT_KINDS.has(problem.kind)) {
      this.first = { eventId: problem.eventId, seq: problem.seq ?? null, reason: problem.kind };
    }
    const n = this.#perKind.get(problem.kind) ?? 0;
    this.#perKind.set(problem.kind, n + 1);
    if (n < PER_KIND) this.list.push(problem);
  }
}
