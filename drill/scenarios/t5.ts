/**
 * T5 (docs/DESIGN.md section 2; October 2024: stolen credentials at a provider, the missions locales)
 * and, with another partner kind, T9 (2025: a training provider's stolen credentials on a partner
 * portal): the attacker phished the counselor's password and, separately, an infostealer on the
 * counselor's machine sent it the session cookie of a morning's login. It uses both from its own
 * address and browser. The owner works a week first (the guard learns the account's usual day),
 * then keeps working while the attack runs (drill/steps/theft.ts).
 * (a) The password alone, from the attacker's machine: the login stops at the second factor, and
 *     the person routes refuse that session.
 * (b) The stolen cookie from elsewhere: the bulk pull of T2 (drill/steps/bulk.ts), at once. The
 *     session was opened at the office and is used from another network: the guard asks for a
 *     step-up (session_address_changed), which the attacker cannot give; a script that keeps
 *     pushing is suspended.
 * Goal (issue 5, "as T2"): nothing from the password alone, no person outside the caseload, and
 * the account suspended before beyondBaseline reaches 50.
 */
import { statusSummary } from '../attack.ts';
import { runOnce } from '../breaches.ts';
import type { Exchange } from '../client.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, Scenario, World } from '../scenario.ts';
import { BulkPull } from '../steps/bulk.ts';
import { byAgencyId, view } from '../steps/moves.ts';
import { step } from '../steps/stolen-password.ts';
import { ATTACKER_BROWSER, ownerLeftAlone, runTheft, theftResult } from '../steps/theft.ts';
import { outsideAddress } from '../workstations.ts';
import { BEYOND_GOAL } from './t2.ts';

/** Working days the owner works alone before the theft. */
export const WARMUP_DAYS = 5;

/** The stolen-credentials attack on a partner counselor of `victimKind` (T5, T9). */
export function stolenCredentials(options: { id: string; title: string; victimKind: string }): Scenario {
  const { id } = options;
  const victim: CastSpec = {
    name: `${id.toLowerCase()}-partner`,
    role: 'partner_counselor',
    organisationKind: options.victimKind,
    leak: true,
  };
  return {
    id,
    title: options.title,
    cast: [victim],
    // Once per drill: T7 runs T5 when it was not selected (drill/breaches.ts).
    run: (world) => runOnce(world, id, () => attack(world)),
  };

  /** The attack, as described above. */
  async function attack(world: World): Promise<ScenarioResult> {
    const startedAt = performance.now();
    let password: { login: Exchange; calls: Exchange[]; assurance: string | undefined } | undefined;
    let stolenFrom: number | undefined;
    let bulk: BulkPull | undefined;
    const run = await runTheft(world, {
      id,
      victim: victim.name,
      role: 'partner_counselor',
      from: 'elsewhere',
      warmupDays: WARMUP_DAYS,
      maxAttackDays: 10,
      startAfterMinutes: 3,
      // (a) The phished password, from the attacker's own machine, before the cookie is used.
      beforeAttack: async ({ intruder, member, notes }) => {
        world.progress(`${id} (a) the phished password alone`);
        const client = world.client(`${id} attacker (password)`, intruder.tally, {
          address: outsideAddress(`${id} attacker`),
          userAgent: ATTACKER_BROWSER,
        });
        const login = await client.post('/api/v1/auth/login', {
          login: member.login,
          password: member.password,
        });
        const calls: Exchange[] = [];
        const me = await client.get('/api/v1/me');
        const inside = notes.inside[0];
        if (inside) {
          for (const move of [byAgencyId(inside.agencyId), view(inside.id)]) {
            calls.push(await client.request(move.method, move.path, move.body, { route: move.route }));
          }
        }
        password = { login, calls, assurance: (me.body as { assurance?: string } | undefined)?.assurance };
      },
      // (b) The stolen cookie, from the same machine: the bulk pull.
      attack: async ({ intruder, notes }) => {
        if (!bulk) {
          world.progress(`${id} (b) the stolen session cookie, from the attacker's machine`);
          stolenFrom = intruder.tally.requests;
          bulk = new BulkPull(
            notes,
            notes.inside.map((p) => p.id),
          );
        }
        return bulk.run(intruder);
      },
    });

    const steps: StepResult[] = [];
    // Any success of a person route with the password session is a failure of the second factor.
    const opened = password ? password.calls.filter((c) => c.status >= 200 && c.status < 300) : [];
    const next = (password?.login.body as { next?: string } | undefined)?.next;
    const passwordPassed = password !== undefined && opened.length === 0 && password.assurance !== 'mfa';
    steps.push(
      step(
        '(a)',
        'the phished password alone',
        passwordPassed,
        password
          ? `login ${password.login.status}${next ? ` (next: ${next})` : ''}, session assurance ${password.assurance ?? 'none'}; ` +
              `a search and a view of a person of the caseload: ${statusSummary(password.calls)}; ` +
              `${opened.length} answered`
          : 'never ran (the owner did not log in, so no cookie was stolen either)',
      ),
    );
    const beyond = run.days.beyondBaseline();
    const firstAfter =
      run.tally.requestsToFirstResponse !== null && stolenFrom !== undefined
        ? run.tally.requestsToFirstResponse - stolenFrom
        : null;
    const counts = bulk?.counts;
    steps.push(
      step(
        '(b)',
        'the stolen session cookie from the attacker’s machine',
        run.outside.length === 0 && run.tally.suspended && (beyond ?? 0) < BEYOND_GOAL,
        counts
          ? `the guard's first answer ${firstAfter === null ? 'never came' : `at the cookie's request ${firstAfter}`} ` +
              `(${run.tally.firstResponse ?? 'none'}); ${counts.searches} searches answered (${counts.emptySearches} by nobody), ` +
              `${counts.views} views of persons found, ${counts.outsideTries} tries outside the caseload, ` +
              `${counts.refusedByGuard} refused by the guard; ` +
              (run.tally.suspended
                ? `suspended at request ${run.tally.requestsToSuspension}`
                : 'NEVER suspended') +
              `; beyondBaseline ${beyond ?? '-'} (goal: under ${BEYOND_GOAL})`
          : 'the stolen cookie was never used',
      ),
    );
    const passed =
      passwordPassed &&
      run.outside.length === 0 &&
      run.tally.suspended &&
      (beyond ?? 0) < BEYOND_GOAL &&
      ownerLeftAlone(run);
    return theftResult(run, {
      id,
      title: options.title,
      passed,
      steps,
      remarks: [
        `${run.notes.organisation}: ${run.notes.caseload.size} persons in the caseload; the attacker holds ` +
          `${run.notes.file.length} leaked identities, ${run.notes.file.filter((p) => p.kind === 'inside').length} of them in it`,
      ],
      startedAt,
    });
  }
}

export const t5: Scenario = stolenCredentials({
  id: 'T5',
  title:
    'a mission locale counselor’s phished password and a session cookie stolen by an infostealer, used from the attacker’s machine (October 2024)',
  victimKind: 'mission_locale',
});
