/**
 * T1 (docs/DESIGN.md section 2; the 2024 breach): the attacker knows a partner agent's login and even
 * the password (phished), and the agent's account is a normal two-factor account. The attacker
 * (a) logs in with the password and calls every route of the API with that session;
 * (b) guesses authenticator and recovery codes;
 * (c) tries to enrol its own authenticator app on the account;
 * (d) calls every route again as a stranger with no session;
 * (e) phones the helpdesk, which opens a recovery case, then tries to complete the recovery with
 *     guessed codes, without the manager's approval — and the owner must get the notice by mail.
 * It passes when no attacker session reached the second-factor level, no person's record came
 * back, and every must-fail attempt failed.
 */
import { Tally } from '../client.ts';
import { listOperations } from '../openapi.ts';
import { notesOf, type ScenarioResult, type StepResult } from '../report.ts';
import type { Scenario } from '../scenario.ts';
import { helpdeskRecovery } from '../steps/helpdesk-recovery.ts';
import { guesses, ownAuthenticator, passwordOnly, stranger } from '../steps/stolen-password.ts';

/** The stolen-password attack on a partner agent of the given organisation kind (T1; T5 and T9 reuse it). */
export function stolenPassword(options: { id: string; title: string; victimKind: string }): Scenario {
  const { id } = options;
  const scenario: Scenario = {
    id,
    title: options.title,
    cast: [
      { name: `${id.toLowerCase()}-victim`, role: 'partner_counselor', organisationKind: options.victimKind },
      { name: 'helpdesk', role: 'helpdesk', organisationKind: 'national' },
    ],
    async run(world) {
      const started = performance.now();
      const tally = new Tally();
      const attacker = world.client('attacker', tally);
      const victim = world.staff(`${id.toLowerCase()}-victim`);
      const operations = await listOperations(attacker);
      const steps: StepResult[] = [];
      const remarks: string[] = [];

      // After each step, the security officers' view of the account: suspended yet?
      let status: string | undefined;
      const watch = async (): Promise<void> => {
        status = await world.accountStatus(victim.login);
        if (status === 'suspended') tally.markSuspended();
      };

      world.progress(`${id} (a) the stolen password, then every route of the API`);
      steps.push(await passwordOnly(attacker, victim, operations));
      await watch();
      world.progress(`${id} (b) guessing authenticator and recovery codes`);
      steps.push(await guesses(world, attacker, victim));
      await watch();
      world.progress(`${id} (c) enrolling the attacker's own authenticator app`);
      steps.push(await ownAuthenticator(world, attacker, victim, operations));
      await watch();
      world.progress(`${id} (d) every route as a stranger`);
      steps.push(await stranger(world.client('stranger', tally), victim, operations));
      await watch();
      world.progress(`${id} (e) the helpdesk opens a recovery case; the attacker tries to complete it`);
      steps.push(await helpdeskRecovery(world, attacker, victim, operations));
      await watch();
      remarks.push(
        status === undefined
          ? "the account's status could not be read (no GET /api/v1/accounts)"
          : `the account ends the attack ${status}` +
              (tally.requestsToSuspension === null ? ', never suspended' : ''),
      );

      // The attacker's session, at the end: still no second factor.
      const me = await attacker.get('/api/v1/me');
      const assurance = (me.body as { assurance?: string } | undefined)?.assurance;
      if (me.status === 200) remarks.push(`the attacker's session ends at assurance ${assurance}`);
      await attacker.post('/api/v1/auth/logout');

      // Lockout as a weapon (docs/DESIGN.md section 13): the real owner must still get in.
      world.progress(`${id} the owner logs in afterwards`);
      try {
        await world.signIn(world.client('owner'), victim);
        remarks.push('the owner still logs in with password and authenticator app');
      } catch (error) {
        remarks.push(
          `the owner could not log in afterwards: ${error instanceof Error ? error.message : String(error)}`,
        );
      }

      // No caseload to compare with yet: any person the attacker saw is outside what it may see.
      const recordsExposed = tally.persons.size;
      const passed = !tally.mfaReached && recordsExposed === 0 && steps.every((s) => s.skipped || s.passed);
      if (tally.mfaReached) remarks.push('an attacker session REACHED the second-factor level');
      const result: ScenarioResult = {
        id,
        title: scenario.title,
        passed,
        recordsExposed,
        outsideCaseload: recordsExposed,
        // The account's owner reads no one here: there is no daily volume to compare with.
        beyondBaseline: null,
        ...tally.guardFigures(),
        requests: tally.requests,
        steps,
        remarks,
        seconds: (performance.now() - started) / 1000,
      };
      world.progress(`${id} ${passed ? 'passed' : 'FAILED'}: ${notesOf(result).slice(0, 200)}…`);
      return result;
    },
  };
  return scenario;
}

export const t1: Scenario = stolenPassword({
  id: 'T1',
  title: 'a partner agent’s login and password in the attacker’s hands, then a call to the helpdesk (2024)',
  victimKind: 'cap_emploi',
});
