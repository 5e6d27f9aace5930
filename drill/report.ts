/**
 * The drill's report: the honest month (what the guard did to honest work), then per scenario,
 * whether the attack failed and the figures that say how far it got. The JSON form is a contract
 * (issue "staff identity", item 9; issue 5, item 5): its field names do not change; a scenario may
 * add figures of its own (ScenarioFigures), which appear only in its entry.
 */

/** One step of a scenario: what the attacker tried and what happened. */
export interface StepResult {
  /** Short label, `(a)`, `(b)`, … */
  label: string;
  title: string;
  /** True when every must-fail attempt of the step failed (and every must-happen thing happened). */
  passed: boolean;
  /** True when the step could not run (a route not there yet); it then counts as neither. */
  skipped: boolean;
  /** What happened, in one line; no personal data. */
  note: string;
}

/** Figures some scenarios add to their entry (absent from the others' entries). */
export interface ScenarioFigures {
  /**
   * A stolen session's attack (T2, T2b, T5, T9, ENUM-*, CANARY, COLLUDE-*, RAMP, MIMIC): the working
   * day of attack (1: the first) by whose end the guard had answered the script other than allow
   * (a throttle, a step-up, a suspension); null: never.
   */
  daysToFirstResponse?: number | null;
  /** T2-scope, T4: attacker requests the server refused (any 4xx or 5xx answer). */
  refused?: number;
  /**
   * T4: the operator's own live items it opened before the attack — its work, through the gate and on
   * record, not counted in recordsExposed.
   */
  legitimateReads?: number;
  /** T7: the breach scope from the audit log equals what the attacker received, person for person, field for field. */
  scopeExact?: boolean;
  /** T7: persons in the scope `rempart audit scope` computed. */
  personsInScope?: number;
  /** T7: persons of whom the attacker received anything. */
  personsReceived?: number;
  /** T7: persons the attacker received that the scope leaves out (under-notification). */
  missing?: number;
  /** T7: persons in the scope the attacker did not receive (over-notification). */
  extra?: number;
  /** T7: persons in both whose field lists differ. */
  fieldMismatches?: number;
  /** T7: distinct persons notified for the incidents of T2 and T5. */
  notified?: number;
  /**
   * T7: every incident's notices (persons, fields) equal what left through its account in the attack's
   * window, and every notice checked genuine.
   */
  notifiedExact?: boolean;
  /** T7: every incident's notices equal the attackers' answers alone (the owners' reads excepted). */
  attackersExact?: boolean;
  /** T7: persons notified whom only the stolen account's owner read in the window. */
  ownerOnly?: number;
  /** T7: persons an attacker received who got no notice. */
  missingNotices?: number;
  /** T7: notices received (emails, letters, SMS). */
  notices?: number;
  /** T7: of those, genuine (an email's signature, a letter's or SMS's code). */
  genuineNotices?: number;
  /** T6: a phishing message's forged code was answered "not genuine", with nothing else. */
  forgedCodeRejected?: boolean;
  /** T6: a real code reused by a phisher was shown as what it is (kind, channel, earlier date), nothing personal. */
  reusedCodeShownAsIs?: boolean;
  /** T6: a real signed notice verified under a published key. */
  noticeGenuine?: boolean;
  /** T6: where that notice came from: delivered in the mailbox, or signed by the operator (fallback). */
  noticeSource?: 'mailbox' | 'operator';
  /** T6: the same notice with one field changed was answered "not genuine". */
  alteredNoticeRejected?: boolean;
  /** T6: guesses of one address until the code check answered 429; null: never throttled. */
  guessesToThrottle?: number | null;
  /** T3: files the insider obtained (downloads answered with the file). */
  files?: number;
  /**
   * T3: rows of those files that a second person (the agency's manager) approved — the four-eyes
   * rule working as meant, not counted in recordsExposed.
   */
  approvedRows?: number;
  /** T3: of those, rows of files made outside working hours before the guard stopped them. */
  offHoursRows?: number;
  /** T3: second factors the insider gave when the guard asked (they own their authenticator). */
  stepUpsGiven?: number;
}

/** One scenario's outcome. */
export interface ScenarioResult {
  id: string;
  title: string;
  /** True when the attacker got no second-factor-level session, no record, and every must-fail step failed. */
  passed: boolean;
  /** Distinct persons of whom the attacker received any field. */
  recordsExposed: number;
  /** Of those, persons outside the caseload of the account the attacker used. */
  outsideCaseload: number;
  /**
   * Distinct persons read through the account beyond its normal daily volume (beyondBaseline());
   * null where it does not apply (nothing read, or an account with no history to compare with).
   */
  beyondBaseline: number | null;
  /** Attacker requests until the guard's first answer other than allow (throttle, step-up, suspension); null: none. */
  requestsToFirstResponse: number | null;
  /** Attacker requests until the account was suspended; null if it never was. */
  requestsToSuspension: number | null;
  /** Whether the account the attacker used was suspended. */
  suspended: boolean;
  /** Requests the attacker sent. */
  requests: number;
  steps: StepResult[];
  /** Extra observations outside the steps. */
  remarks: string[];
  /** Seconds the scenario took (setup excluded). */
  seconds: number;
  /** The scenario's own figures, if any (they join its JSON entry, before `notes`). */
  figures?: ScenarioFigures;
}

/** The honest month as the JSON contract gives it. */
export interface HonestSummary {
  /** Honest accounts that worked (0: the honest month was not run). */
  accounts: number;
  /** Accounts × working days simulated. */
  accountDays: number;
  /** Honest accounts the guard suspended. */
  suspensions: number;
  /** Fresh second factors the guard asked of honest owners. */
  stepUps: number;
  /** 429 answers honest owners got. */
  throttles: number;
}

/** The honest month, with what the text report adds. */
export interface HonestResult extends HonestSummary {
  /** Simulated calendar days, and the working days among them. */
  days: number;
  workingDays: number;
  /** Requests the honest owners sent (logins included). */
  requests: number;
  /** Person reads (views and national views) that came back. */
  reads: number;
  /** Searches sent (by agency id, mistyped, national). */
  searches: number;
  /** National searches that found the person, then read them nationally. */
  nationalReads: number;
  /** Answers the model did not expect (neither success, a guard response nor an ended session): the traffic proves little then. */
  unexpected: number;
  /** One line on what was unexpected (routes and statuses only; no personal data). */
  notes: string[];
  /** Simulated time the month started and ended. */
  from: string | null;
  to: string | null;
  seconds: number;
}

/** The honest month's result when it was not run. */
export const NO_HONEST: HonestResult = {
  accounts: 0,
  accountDays: 0,
  suspensions: 0,
  stepUps: 0,
  throttles: 0,
  days: 0,
  workingDays: 0,
  requests: 0,
  reads: 0,
  searches: 0,
  nationalReads: 0,
  unexpected: 0,
  notes: [],
  from: null,
  to: null,
  seconds: 0,
};

/**
 * The honest month meets issue 5's goal: no suspension, fewer than one step-up per 1,000
 * account-days, and the model's requests answered as it expected (else it proved nothing).
 */
export function honestPassed(honest: HonestResult): boolean {
  return (
    honest.suspensions === 0 &&
    honest.stepUps * 1000 < Math.max(honest.accountDays, 1) &&
    honest.unexpected === 0
  );
}

/**
 * Distinct persons read beyond an account's normal daily volume: `read` (distinct persons in the
 * day) less `baseline` (the account's usual distinct persons a day), never below 0; null when there
 * is no baseline (an account with no history) or nothing was read.
 */
export function beyondBaseline(read: number, baseline: number | null | undefined): number | null {
  if (baseline === null || baseline === undefined || read === 0) return null;
  return Math.max(0, Math.round(read - baseline));
}

/** A whole run. */
export interface DrillReport {
  passed: boolean;
  persons: number;
  database: 'pglite' | 'postgres';
  honest: HonestResult;
  scenarios: ScenarioResult[];
}

/** The one-line notes of a scenario: each step with its label and outcome, then remarks. */
export function notesOf(result: Pick<ScenarioResult, 'steps' | 'remarks'>): string {
  const steps = result.steps.map(
    (s) => `${s.label} ${s.title}: ${s.skipped ? 'skipped' : s.passed ? 'ok' : 'FAILED'}, ${s.note}`,
  );
  return [...steps, ...result.remarks].join('; ');
}

/** One scenario's entry in the JSON report. */
export type ScenarioJson = {
  id: string;
  passed: boolean;
  recordsExposed: number;
  outsideCaseload: number;
  beyondBaseline: number | null;
  requestsToFirstResponse: number | null;
  requestsToSuspension: number | null;
  suspended: boolean;
  requests: number;
} & ScenarioFigures & { notes: string };

/**
 * The JSON contract: `{"honest":{"accounts","accountDays","suspensions","stepUps","throttles"},
 * "scenarios":[{"id","passed","recordsExposed","outsideCaseload","beyondBaseline","requestsToFirstResponse",
 * "requestsToSuspension","suspended","requests", …figures,"notes"}]}`, a scenario's own figures
 * (ScenarioFigures) between `requests` and `notes` when it has any.
 */
export function toJson(report: DrillReport): { honest: HonestSummary; scenarios: ScenarioJson[] } {
  const h = report.honest;
  return {
    honest: {
      accounts: h.accounts,
      accountDays: h.accountDays,
      suspensions: h.suspensions,
      stepUps: h.stepUps,
      throttles: h.throttles,
    },
    scenarios: report.scenarios.map((s) => ({
      id: s.id,
      passed: s.passed,
      recordsExposed: s.recordsExposed,
      outsideCaseload: s.outsideCaseload,
      beyondBaseline: s.beyondBaseline,
      requestsToFirstResponse: s.requestsToFirstResponse,
      requestsToSuspension: s.requestsToSuspension,
      suspended: s.suspended,
      requests: s.requests,
      ...s.figures,
      notes: notesOf(s),
    })),
  };
}

/** The honest month in a line (or two): what the guard did to honest work. */
export function formatHonest(h: HonestResult): string[] {
  if (h.accounts === 0) return ['honest month: not run (--honest-accounts 0)'];
  const n = (x: number): string => x.toLocaleString('en');
  const lines = [
    `honest month: ${n(h.accounts)} accounts over ${h.days} days (${h.workingDays} working): ${n(h.accountDays)} account-days, ` +
      `${n(h.suspensions)} suspensions, ${n(h.stepUps)} step-ups, ${n(h.throttles)} throttles — ` +
      `${honestPassed(h) ? 'passed' : 'FAILED'}; ${n(h.requests)} requests, ${n(h.reads)} reads ` +
      `(${n(h.nationalReads)} national), ${n(h.searches)} searches, ` +
      `${n(h.unexpected)} unexpected answers; ${h.from ?? '?'} to ${h.to ?? '?'} simulated in ${h.seconds.toFixed(1)} s`,
  ];
  for (const note of h.notes) lines.push(`  note: ${note}`);
  return lines;
}

/** `scopeExact true, missing 0`: a scenario's own figures in one line, in the order it gave them. */
export function figuresOf(figures: ScenarioFigures): string {
  return Object.entries(figures)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(', ');
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/** A readable report: the honest month, a table of scenarios, then each scenario's steps. */
export function formatReport(report: DrillReport): string {
  const rows = [
    [
      'scenario',
      'result',
      'records exposed',
      'outside caseload',
      'beyond baseline',
      'to first response',
      'to suspension',
      'suspended',
      'requests',
      'seconds',
    ],
    ...report.scenarios.map((s) => [
      s.id,
      s.passed ? 'passed' : 'FAILED',
      String(s.recordsExposed),
      String(s.outsideCaseload),
      s.beyondBaseline === null ? '-' : String(s.beyondBaseline),
      s.requestsToFirstResponse === null ? 'never' : String(s.requestsToFirstResponse),
      s.requestsToSuspension === null ? 'never' : String(s.requestsToSuspension),
      s.suspended ? 'yes' : 'no',
      String(s.requests),
      s.seconds.toFixed(1),
    ]),
  ];
  const lines = [...formatHonest(report.honest), '', ...table(rows)];
  for (const s of report.scenarios) {
    lines.push('', `${s.id} — ${s.title}`);
    if (s.figures && figuresOf(s.figures) !== '') lines.push(`  figures: ${figuresOf(s.figures)}`);
    for (const step of s.steps) {
      const mark = step.skipped ? 'skip' : step.passed ? ' ok ' : 'FAIL';
      lines.push(`  [${mark}] ${step.label} ${step.title}: ${step.note}`);
    }
    for (const remark of s.remarks) lines.push(`  note: ${remark}`);
  }
  lines.push(
    '',
    `${report.scenarios.filter((s) => s.passed).length} of ${report.scenarios.length} scenarios passed ` +
      `(${report.persons.toLocaleString('en')} persons on ${report.database})`,
  );
  return lines.join('\n');
}
