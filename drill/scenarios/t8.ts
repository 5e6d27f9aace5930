/**
 * T8 (docs/DESIGN.md section 2; December 2025: a compromised manager account used to create fake
 * accesses reaching 1.6 million people): an agency manager logs in with password and authenticator
 * app at the office; malware on the machine copies the session at once, so the attacker holds a
 * session with a fresh second factor (the freshness sensitive acts ask for: STEP_UP_MINUTES) and
 * uses it from the same machine. It holds the ids of persons of the agency (the leaked file,
 * drill/leak.ts) and the id of a partner organisation. Back to back, as a script does, it
 * (a) files requests for new counselor accounts and for widening a partner's caseload with the
 *     agency's persons (200 at most a request), and tries to approve its own requests;
 * (b) — the drill, as an administrator — checks that nothing took effect: every request it filed is
 *     still pending (no second person approved it) and none of its accounts exists;
 * and the guard is to suspend the manager (provisioning volume: provisioned_accounts_per_day,
 * caseload_persons_per_day; a script pushing on past a step-up: blocked_per_hour).
 * Goal: no request takes effect, the account is suspended, no person's record exposed.
 * requestsToFirstResponse here counts the guard's answers on the provisioning route too (a 429,
 * `account_suspended`, or `step_up_required` while the session's second factor is still fresh: it
 * is then the guard's, not the freshness rule's).
 */
import { randomBytes } from 'node:crypto';
import { statusSummary } from '../attack.ts';
import { nextWorkingMorning, zonedInstant } from '../calendar.ts';
import { type Exchange, Tally } from '../client.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, Scenario } from '../scenario.ts';
import { describeAlerts, guardAlerts, suspendingSignals } from '../steps/alerts.ts';
import { step } from '../steps/stolen-password.ts';

export const T8_MANAGER: CastSpec = {
  name: 't8-manager',
  role: 'org_manager',
  organisationKind: 'agency',
  leak: true,
};
/** The administrator who, after the attack, looks at the provisioning requests (a second person). */
export const T8_ADMIN: CastSpec = { name: 't8-admin', role: 'administrator', organisationKind: 'national' };

const PROVISIONING = '/api/v1/provisioning-requests';
/** Account requests and caseload requests the script files at most. */
const ACCOUNTS = 30;
const CASELOADS = 10;
/** Persons in one caseload request (the route takes 200 at most). */
const BATCH = 100;
/** The freshness of a second factor for sensitive acts (STEP_UP_MINUTES, default 5), with a margin. */
const FRESH_MS = 4.5 * 60_000;

const TITLE =
  'a manager session stolen right after its second factor: fake accounts and caseload widening (2025)';

export const t8: Scenario = {
  id: 'T8',
  title: TITLE,
  cast: [T8_MANAGER, T8_ADMIN],
  async run(world): Promise<ScenarioResult> {
    const startedAt = performance.now();
    const manager = world.staff(T8_MANAGER.name);
    const notes = world.caseload(T8_MANAGER.name);
    const partner = notes.partners[0];
    const steps: StepResult[] = [];
    const remarks: string[] = [];

    // The next working day, 09:00 (Paris): the manager arrives at the office.
    const date = nextWorkingMorning(world.clock.now());
    await world.clock.set(zonedInstant(date, 9, 0));

    world.progress('T8 (a) the manager logs in; the malware copies the fresh session');
    const owner = world.client(`${manager.name} (owner)`);
    await world.signIn(owner, manager);
    const loggedInAt = world.clock.now().getTime();
    const tally = new Tally();
    tally.knownPersons = new Set(notes.caseload);
    const attacker = world.client('attacker', tally, {
      address: manager.workstation.address,
      userAgent: manager.workstation.userAgent,
    });
    attacker.adopt(owner);

    const personIds = [
      ...new Set([
        ...notes.worklist.map((p) => p.id),
        ...notes.file.filter((p) => p.kind === 'inside').map((p) => p.id),
      ]),
    ];
    const batches = Array.from({ length: CASELOADS }, (_, i) => {
      const from = (i * BATCH) % Math.max(1, personIds.length);
      return [
        ...personIds.slice(from, from + BATCH),
        ...personIds.slice(0, Math.max(0, from + BATCH - personIds.length)),
      ];
    }).filter((b) => b.length > 0);
    const tag = randomBytes(3).toString('hex');
    const logins = Array.from(
      { length: ACCOUNTS },
      (_, i) => `conseiller.${tag}.${String(i).padStart(2, '0')}`,
    );

    const filed: string[] = [];
    const calls: Exchange[] = [];
    const approvals: Exchange[] = [];
    let firstGuard: number | null = null;
    let accountsAsked = 0;
    let persons = 0;
    const guardish = (call: Exchange): boolean =>
      call.status === 429 ||
      call.code === 'account_suspended' ||
      (call.code === 'step_up_required' && world.clock.now().getTime() - loggedInAt < FRESH_MS);
    const file = async (body: Record<string, unknown>): Promise<Exchange> => {
      const call = await attacker.post(PROVISIONING, body, { route: PROVISIONING });
      calls.push(call);
      if (firstGuard === null && guardish(call)) firstGuard = tally.requests;
      const id = (call.body as { id?: string } | undefined)?.id;
      if (call.status === 201 && id) filed.push(id);
      return call;
    };
    // Two accounts, then a caseload, and so on; what is left of either at the end.
    const bodies: Record<string, unknown>[] = [];
    for (let i = 0, w = 0; i < logins.length || (partner && w < batches.length); ) {
      for (let k = 0; k < 2 && i < logins.length; k += 1, i += 1) {
        bodies.push({
          kind: 'create_account',
          login: logins[i],
          displayName: `Conseiller ${i + 1}`,
          email: `${logins[i]}@mail.attacker.example`,
          role: 'counselor',
        });
      }
      if (partner && w < batches.length) {
        bodies.push({ kind: 'widen_caseload', partnerOrganisationId: partner.id, personIds: batches[w] });
        w += 1;
      }
    }
    for (const body of bodies) {
      if (tally.suspended || calls.at(-1)?.status === 401) break;
      await file(body);
      if (body.kind === 'create_account') accountsAsked += 1;
      else persons += (body.personIds as string[]).length;
      // After its first requests, the script tries to approve its own.
      if (filed.length === 2 && approvals.length === 0) {
        for (const id of filed) {
          const call = await attacker.post(
            `${PROVISIONING}/${id}/approve`,
            {},
            {
              route: `${PROVISIONING}/{id}/approve`,
            },
          );
          approvals.push(call);
          if (firstGuard === null && guardish(call)) firstGuard = tally.requests;
        }
      }
    }
    const status = await world.accountStatus(manager.login);
    if (status === 'suspended') tally.markSuspended();
    steps.push(
      step(
        '(a)',
        'fake accounts and caseload widening, filed back to back',
        tally.suspended && !approvals.some((c) => c.status >= 200 && c.status < 300),
        `${calls.length} provisioning requests (${accountsAsked} accounts asked for, ${persons} persons for ` +
          `${partner?.code ?? 'no partner'}'s caseload): ${filed.length} filed (pending), answers: ${statusSummary(calls)}; ` +
          `approving its own: ${approvals.length === 0 ? 'not tried' : statusSummary(approvals)}; ` +
          (tally.suspended ? `suspended at request ${tally.requestsToSuspension}` : 'NEVER suspended'),
      ),
    );

    world.progress('T8 (b) an administrator looks at what took effect');
    const admin = world.client('administrator (T8)');
    await world.signIn(admin, world.staff(T8_ADMIN.name));
    const listed = await admin.get(PROVISIONING);
    const requests =
      (listed.body as { requests?: { id: string; status: string }[] } | undefined)?.requests ?? [];
    const mine = requests.filter((r) => filed.includes(r.id));
    const approved = mine.filter((r) => r.status === 'approved');
    const accounts = await admin.get('/api/v1/accounts');
    const existing = (
      (accounts.body as { accounts?: { login: string }[] } | undefined)?.accounts ?? []
    ).filter((a) => logins.includes(a.login.toLowerCase()));
    await admin.post('/api/v1/auth/logout', {});
    const nothingTookEffect =
      listed.status === 200 &&
      accounts.status === 200 &&
      mine.length === filed.length &&
      approved.length === 0 &&
      existing.length === 0;
    steps.push(
      step(
        '(b)',
        'nothing took effect',
        nothingTookEffect,
        `the administrator sees ${mine.length} of the ${filed.length} filed requests ` +
          `(${mine.filter((r) => r.status === 'pending').length} pending, ${approved.length} approved); ` +
          `${existing.length} of the ${accountsAsked} accounts asked for exist` +
          (listed.status === 200 && accounts.status === 200
            ? ''
            : ` (lists answered ${listed.status} and ${accounts.status})`),
      ),
    );

    const alerts = await guardAlerts(world, manager);
    remarks.push(
      `the guard's alerts on the account: ${describeAlerts(alerts)}`,
      `the account ends the scenario ${status ?? 'in an unknown state'}` +
        (tally.suspended
          ? `, suspended by ${suspendingSignals(alerts).join(', ') || 'the guard'}`
          : ', never suspended'),
    );
    const recordsExposed = tally.persons.size;
    const passed = steps.every((s) => s.passed) && recordsExposed === 0;
    return {
      id: 'T8',
      title: TITLE,
      passed,
      recordsExposed,
      outsideCaseload: recordsExposed,
      // A manager reads no person: no daily volume to exceed.
      beyondBaseline: null,
      ...tally.guardFigures(),
      requestsToFirstResponse: firstGuard ?? tally.requestsToFirstResponse,
      requests: tally.requests,
      steps,
      remarks,
      seconds: (performance.now() - startedAt) / 1000,
    };
  },
};
