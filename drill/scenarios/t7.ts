/**
 * T7 (docs/DESIGN.md section 2; 2024: the agency could not tell who was taken and announced the
 * maximum): after the T2-scope attack, the operator asks the audit log which persons and which
 * fields the victim's account received during the attack — `rempart audit scope --account <id>
 * --from <start> --to <end> --json`, on the drill's data folder and database — and the drill
 * compares that with what the attacker actually received, person for person, field for field.
 * It passes when both are equal (scopeExact).
 *
 * The attack is T2-scope's, run once per drill: after T2-scope, T7 compares with what that run
 * received; selected alone (`rempart drill T7`), T7 runs the attack itself first.
 * Then the notices (issue 12; drill/steps/incident-notices.ts): after T2 and T5 (run first when not
 * selected), the security officer opens an incident from each attacked account's alert in the
 * review queue, the operator runs `rempart notify send`, and the notices the persons got are
 * compared with what the attackers received (notified, notifiedExact).
 *
 * The window runs from a minute before the attack (the victim's own login included) to a minute
 * after it, in the server's simulated time (World.clock). In that window the victim's
 * account does nothing but log in (no read of anyone), so the scope is the attacker's alone; a
 * drill that gave the victim legitimate reads there would have to count them on both sides.
 */
import { type BreachRecord, breachRecord, ranOn } from '../breaches.ts';
import { notesOf, type ScenarioResult, type StepResult } from '../report.ts';
import type { Scenario, World } from '../scenario.ts';
import { compareScope, scopePersonsOf } from '../scope-compare.ts';
import { noticeSteps } from '../steps/incident-notices.ts';
import { step } from '../steps/stolen-password.ts';
import { T2_VICTIM, t2 } from './t2.ts';
import { SCOPE_VICTIM, scopeAttack, scopeAttacked } from './t2-scope.ts';
import { t5 } from './t5.ts';

/** Margin either side of the attack in the scope's window. */
export const WINDOW_MARGIN_MS = 60_000;

/** The records of T2 and T5 on this world, running them first when the drill did not select them. */
async function breaches(world: World, remarks: string[]): Promise<BreachRecord[]> {
  const records: BreachRecord[] = [];
  for (const scenario of [t2, t5]) {
    if (!ranOn(world, scenario.id)) {
      remarks.push(`${scenario.id} had not run in this drill: T7 ran it first`);
      const result = await scenario.run(world);
      remarks.push(`${scenario.id} ${result.passed ? 'passed' : 'FAILED'} (run by T7)`);
    }
    const record = breachRecord(world, scenario.id);
    if (record) records.push(record);
  }
  return records;
}

/** `a, b (+3 more)`: at most three items of a list. */
function few(items: readonly string[]): string {
  return items.length <= 3 ? items.join(', ') : `${items.slice(0, 3).join(', ')} (+${items.length - 3} more)`;
}

export const t7: Scenario = {
  id: 'T7',
  title:
    'after the breach: which persons, which fields — the audit log’s scope against what the attacker got',
  cast: [SCOPE_VICTIM, T2_VICTIM, ...t5.cast],
  async run(world) {
    const started = performance.now();
    const ranBefore = scopeAttacked(world);
    const attack = await scopeAttack(world);
    const { victim, received } = attack;
    const from = new Date(attack.startedAt.getTime() - WINDOW_MARGIN_MS);
    const to = new Date(attack.endedAt.getTime() + WINDOW_MARGIN_MS);
    const steps: StepResult[] = [];
    const remarks: string[] = [
      ranBefore
        ? 'compared with the attack T2-scope ran in this drill'
        : 'T2-scope had not run in this drill: T7 ran its attack first',
      'the victim only logged in during the window (no read of anyone): the scope is the attacker’s alone',
    ];

    world.progress(`T7 (a) rempart audit scope for the victim's account over the attack`);
    const printed = await world.operator([
      ...['audit', 'scope', '--account', victim.id],
      ...['--from', from.toISOString(), '--to', to.toISOString()],
    ]);
    const scope = scopePersonsOf(printed);
    const accounts = Array.isArray(printed.accounts) ? (printed.accounts as unknown[]) : [];
    const rightAccount =
      accounts.length === 1 && String(accounts[0]).toLowerCase() === victim.id.toLowerCase();
    const fieldCounts = (printed.fieldCounts ?? {}) as Record<string, number>;
    steps.push(
      step(
        '(a)',
        "the operator's breach scope",
        rightAccount,
        `rempart audit scope --account <victim> --from ${from.toISOString()} --to ${to.toISOString()}: ` +
          `${scope.length} persons in ${String(printed.events ?? '?')} allowed events; fields: ` +
          (Object.entries(fieldCounts)
            .map(([field, n]) => `${field} ${n}`)
            .join(', ') || 'none') +
          (rightAccount ? '' : `; the scope names accounts ${accounts.length} instead of the victim's alone`),
      ),
    );

    world.progress('T7 (b) the scope against what the attacker received');
    const comparison = compareScope(scope, received);
    const mismatchFields = [
      ...new Set(comparison.fieldMismatches.flatMap((m) => [...m.missingFields, ...m.extraFields])),
    ].sort();
    steps.push(
      step(
        '(b)',
        'person for person, field for field',
        comparison.scopeExact,
        `${comparison.personsReceived} persons received by the attacker, ${comparison.personsInScope} in the scope: ` +
          `${comparison.missing.length} received but missing from the scope, ${comparison.extra.length} in the scope ` +
          `but not received, ${comparison.fieldMismatches.length} with different fields` +
          (mismatchFields.length > 0 ? ` (${few(mismatchFields)})` : '') +
          (comparison.scopeExact ? ': the scope is exact' : ': the scope is NOT exact'),
      ),
    );

    const notices = await noticeSteps(world, await breaches(world, remarks));
    steps.push(...notices.steps);
    remarks.push(...notices.remarks);

    const t2 = attack.result;
    const result: ScenarioResult = {
      id: 'T7',
      title: t7.title,
      passed: steps.every((s) => s.skipped || s.passed),
      recordsExposed: t2.recordsExposed,
      outsideCaseload: t2.outsideCaseload,
      beyondBaseline: t2.beyondBaseline,
      // T7's own attacker requests: none when it compared with T2-scope's run.
      requestsToFirstResponse: ranBefore ? null : t2.requestsToFirstResponse,
      requestsToSuspension: ranBefore ? null : t2.requestsToSuspension,
      // The contract: suspended when requestsToSuspension is not null (none of T7's own then).
      suspended: ranBefore ? false : t2.suspended,
      requests: ranBefore ? 0 : t2.requests,
      steps,
      remarks,
      seconds: (performance.now() - started) / 1000,
      figures: {
        scopeExact: comparison.scopeExact,
        personsInScope: comparison.personsInScope,
        personsReceived: comparison.personsReceived,
        missing: comparison.missing.length,
        extra: comparison.extra.length,
        fieldMismatches: comparison.fieldMismatches.length,
        notified: notices.figures.notified,
        notifiedExact: notices.figures.notifiedExact,
        attackersExact: notices.figures.attackersExact,
        ownerOnly: notices.figures.ownerOnly,
        missingNotices: notices.figures.missingNotices,
        notices: notices.figures.notices,
        genuineNotices: notices.figures.genuine,
      },
    };
    world.progress(`T7 ${result.passed ? 'passed' : 'FAILED'}: ${notesOf(result).slice(0, 200)}…`);
    return result;
  },
};
