/**
 * The helpdesk step of T1: the attacker phones the helpdesk, which opens a recovery case for the
 * victim (that is the helpdesk's job, and all it can do); the attacker then tries to complete the
 * recovery with guessed codes, before any manager approved, and to approve it itself; the owner
 * must get the notice in their mailbox at once, and cancels the case from it.
 */
import { codeGuess, statusSummary, succeeded } from '../attack.ts';
import type { DrillClient, Exchange } from '../client.ts';
import { bodiesFor, type Operation } from '../openapi.ts';
import type { StepResult } from '../report.ts';
import type { StaffMember, World } from '../scenario.ts';
import { ATTACKER_PASSWORD, has, step } from './stolen-password.ts';

const COMPLETION_GUESSES = 10;

/** (e): the helpdesk opens a case for the victim; the attacker tries to complete it; the owner is told. */
export async function helpdeskRecovery(
  world: World,
  attacker: DrillClient,
  victim: StaffMember,
  operations: Operation[],
): Promise<StepResult> {
  const title = 'helpdesk recovery';
  const desk = world.client('helpdesk');
  await world.signIn(desk, world.staff('helpdesk'));
  const mailsBefore = world.mailbox.to(victim.email).length;
  const opened = await desk.post('/api/v1/recovery-cases', { login: victim.login });
  if (opened.status === 404 && !has(operations, 'POST', '/api/v1/recovery-cases')) {
    return step('(e)', title, true, 'skipped: POST /api/v1/recovery-cases is not there yet (404)', true);
  }
  const notes: string[] = [];
  let passed = true;
  const caseId = succeeded(opened) ? (opened.body as { id?: string }).id : undefined;
  notes.push(
    succeeded(opened)
      ? `the helpdesk opened a case (${opened.status})`
      : `the helpdesk could not open a case (${opened.status} ${opened.code ?? ''})`.trimEnd(),
  );

  // The owner's mailbox: the notice must arrive, at once.
  const notice = caseId
    ? await world.mailbox.waitFor(
        victim.email,
        (m) => /récupération|recovery/i.test(`${m.subject}\n${m.text}`),
        {
          skip: mailsBefore,
        },
      )
    : undefined;
  if (caseId) {
    if (notice) notes.push('the owner received the notice by mail');
    else {
      passed = false;
      notes.push('NO notice reached the owner’s mailbox within 10 s');
    }
  }

  // The attacker completes the recovery with guessed codes, and before any manager approved.
  const completeRoute = '/api/v1/recovery/complete';
  const completion = operations.find((o) => o.method === 'POST' && o.route === completeRoute);
  const completeWith = (code: string): Promise<Exchange> => {
    const values = { code, token: code, password: ATTACKER_PASSWORD, newPassword: ATTACKER_PASSWORD };
    const body = completion ? bodiesFor(completion, values)[0] : values;
    return attacker.post(completeRoute, body, { route: completeRoute });
  };
  const tries: Exchange[] = [];
  for (let i = 0; i < COMPLETION_GUESSES; i += 1) tries.push(await completeWith(codeGuess()));
  if (tries.every((t) => t.status === 404) && !completion) {
    notes.push(`${completeRoute} is not there yet (404): completion skipped`);
  } else {
    const accepted = tries.filter(succeeded).length;
    if (accepted > 0) passed = false;
    notes.push(
      `${tries.length} completions with guessed codes before approval, ${accepted} accepted (${statusSummary(tries)})`,
    );
    // Even the code the owner got (as if the mailbox were compromised too) does not complete an unapproved case.
    const mailed = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/.exec(notice?.text ?? '')?.[0];
    if (mailed) {
      const withMailed = await completeWith(mailed);
      if (succeeded(withMailed)) passed = false;
      notes.push(
        `with the code from the owner's notice, unapproved: ${withMailed.status} ${withMailed.code ?? ''}`.trimEnd(),
      );
    }
  }

  if (caseId) {
    // Approval is the manager's alone: not the attacker's password session, not the helpdesk.
    const approve = `/api/v1/recovery-cases/${caseId}/approve`;
    const route = '/api/v1/recovery-cases/{id}/approve';
    const byAttacker = await attacker.post(approve, { attestation: 'in_person' }, { route });
    const byDesk = await desk.post(approve, { attestation: 'in_person' }, { route });
    if (succeeded(byAttacker) || succeeded(byDesk)) passed = false;
    notes.push(`approval by the attacker ${byAttacker.status}, by the helpdesk ${byDesk.status}`);

    // The real owner objects with the code from the notice (this also leaves the account as it was).
    const cancelCode = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/.exec(notice?.text ?? '')?.[0];
    if (cancelCode) {
      const owner = world.client('owner (mailbox)');
      const cancelled = await owner.post('/api/v1/recovery/cancel', { code: cancelCode });
      notes.push(`the owner cancelled the case from the notice (${cancelled.status})`);
    }
  }
  return step('(e)', title, passed, notes.join('; '));
}
