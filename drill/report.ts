/**
 * The drill's report: per scenario, whether the attack failed and the figures that say how far it
 * got. The JSON form is a contract (issue "staff identity", item 9): its field names do not change;
 * a scenario may add figures of its own (ScenarioFigures), which appear only in its entry.
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
  /** T2-scope: attacker requests the server refused (any 4xx or 5xx answer). */
  refused?: number;
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
  /** Requests the attacker sent. */
  requests: number;
  /** Attacker requests until the account was suspended; null if it never was. */
  requestsToSuspension: number | null;
  steps: StepResult[];
  /** Extra observations outside the steps. */
  remarks: string[];
  /** Seconds the scenario took (setup excluded). */
  seconds: number;
  /** The scenario's own figures, if any (they join its JSON entry, before `notes`). */
  figures?: ScenarioFigures;
}

/** A whole run. */
export interface DrillReport {
  passed: boolean;
  persons: number;
  database: 'pglite' | 'postgres';
  scenarios: ScenarioResult[];
}

/** The one-line notes of a scenario: each step with its label and outcome, then remarks. */
export function notesOf(result: Pick<ScenarioResult, 'steps' | 'remarks'>): string {
  const steps = result.steps.map(
    (s) => `${s.label} ${s.title}: ${s.skipped ? 'skipped' : s.passed ? 'ok' : 'FAILED'}, ${s.note}`,
  );
  return [...steps, ...result.remarks].join('; ');
}

/**
 * The JSON contract: `{"scenarios":[{"id","passed","recordsExposed","outsideCaseload","requests","requestsToSuspension","notes"}]}`,
 * a scenario's own figures (ScenarioFigures) between `requestsToSuspension` and `notes` when it has any.
 */
export function toJson(report: DrillReport): {
  scenarios: ({
    id: string;
    passed: boolean;
    recordsExposed: number;
    outsideCaseload: number;
    requests: number;
    requestsToSuspension: number | null;
  } & ScenarioFigures & { notes: string })[];
} {
  return {
    scenarios: report.scenarios.map((s) => ({
      id: s.id,
      passed: s.passed,
      recordsExposed: s.recordsExposed,
      outsideCaseload: s.outsideCaseload,
      requests: s.requests,
      requestsToSuspension: s.requestsToSuspension,
      ...s.figures,
      notes: notesOf(s),
    })),
  };
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

/** A readable report: a table of scenarios, then each scenario's steps. */
export function formatReport(report: DrillReport): string {
  const rows = [
    ['scenario', 'result', 'records exposed', 'outside caseload', 'requests', 'to suspension', 'seconds'],
    ...report.scenarios.map((s) => [
      s.id,
      s.passed ? 'passed' : 'FAILED',
      String(s.recordsExposed),
      String(s.outsideCaseload),
      String(s.requests),
      s.requestsToSuspension === null ? 'never' : String(s.requestsToSuspension),
      s.seconds.toFixed(1),
    ]),
  ];
  const lines = table(rows);
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
