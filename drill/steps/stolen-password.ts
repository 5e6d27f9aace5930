/**
 * The steps of an attack with a stolen password (T1, and T5/T9 for other partner kinds): the
 * attacker holds a staff member's login and password, not the second factor. Each step returns a
 * StepResult; a step passes when every attempt that must fail failed.
 */
import { randomUUID } from 'node:crypto';
import { generate } from 'otplib';
import { codeGuess, describeCall, statusSummary, succeeded, totpGuess } from '../attack.ts';
import type { DrillClient, Exchange } from '../client.ts';
import { type Operation, reachedBeyondOwnSummary, walkOperations } from '../openapi.ts';
import type { StepResult } from '../report.ts';
import type { StaffMember, World } from '../scenario.ts';

const TOTP_GUESSES = 20;
const RECOVERY_CODE_GUESSES = 10;
/** The attacker's choice of new password for the account it wants. */
export const ATTACKER_PASSWORD = 'attacker chosen passphrase 2024';

/** Values aimed at the victim, for every property a route's body may declare. */
export function aimedAt(victim: StaffMember): Record<string, unknown> {
  return {
    login: victim.login,
    accountId: victim.id,
    password: ATTACKER_PASSWORD,
    newPassword: ATTACKER_PASSWORD,
    code: codeGuess(),
    token: codeGuess(),
    role: 'administrator',
    kind: 'grant_role',
    attestation: 'in_person',
    factorId: randomUUID(),
    displayName: 'Attacker',
    email: 'attacker@evil.example',
    organisationId: randomUUID(),
    label: 'attacker key',
    reason: 'locked out, please help',
  };
}

/** The codes the owner's app would accept around `at` (the simulated time): excluded from the guesses (see step b). */
async function codesValidAt(secret: string, at: Date): Promise<Set<string>> {
  const now = Math.floor(at.getTime() / 1000);
  const codes = await Promise.all(
    [-60, -30, 0, 30, 60].map((offset) => generate({ secret, epoch: now + offset })),
  );
  return new Set(codes);
}

export const step = (
  label: string,
  title: string,
  passed: boolean,
  note: string,
  skipped = false,
): StepResult => ({
  label,
  title,
  passed,
  skipped,
  note,
});

export const has = (operations: Operation[], method: string, route: string): boolean =>
  operations.some((o) => o.method === method && o.route === route);

/** Logs the attacker in with the stolen password if its session has ended. */
export async function passwordSession(attacker: DrillClient, victim: StaffMember): Promise<Exchange> {
  const me = await attacker.get('/api/v1/me');
  if (me.status === 200) return me;
  attacker.forget();
  return attacker.post('/api/v1/auth/login', { login: victim.login, password: victim.password });
}

/** (a): password login, then every route with that session and its CSRF token. */
export async function passwordOnly(
  attacker: DrillClient,
  victim: StaffMember,
  operations: Operation[],
): Promise<StepResult> {
  const title = 'stolen password, every route';
  const login = await attacker.post('/api/v1/auth/login', { login: victim.login, password: victim.password });
  if (login.status !== 200) {
    return step('(a)', title, true, `the password login itself was refused (${login.status} ${login.code})`);
  }
  const next = (login.body as { next?: string }).next;
  // Logging out would end the session the rest of the walk uses; step (a) ends with it instead.
  const walked = operations.filter((o) => !(o.method === 'POST' && o.route.endsWith('/auth/logout')));
  const calls = await walkOperations(attacker, walked, aimedAt(victim));
  const reached = calls.filter((c) => reachedBeyondOwnSummary(c, victim.login));
  const me = await attacker.get('/api/v1/me');
  const assurance = (me.body as { assurance?: string } | undefined)?.assurance;
  const passed = next === 'verify_second_factor' && reached.length === 0 && assurance !== 'mfa';
  return step(
    '(a)',
    title,
    passed,
    `login answered next=${next}; ${calls.length} calls to ${walked.length} operations with the session's CSRF token, ` +
      `${reached.length} reached beyond the attacker's own account summary` +
      (reached.length > 0 ? ` (${reached.map(describeCall).join(', ')})` : '') +
      `; answers: ${statusSummary(calls)}; session assurance afterwards: ${assurance ?? `none (${me.status})`}`,
  );
}

/** (b): guesses of authenticator codes and recovery codes from the password session. */
export async function guesses(world: World, attacker: DrillClient, victim: StaffMember): Promise<StepResult> {
  const title = 'second-factor guesses';
  const session = await passwordSession(attacker, victim);
  if (session.status !== 200) {
    return step('(b)', title, true, `the password login was refused (${session.status} ${session.code})`);
  }
  // The drill also plays the owner, so it knows the codes the owner's app shows now. A random guess
  // hits one of them with probability 3 in a million; leaving them out keeps the drill's verdict
  // about the server (does it accept wrong codes, does it stop the guessing), not about luck.
  const valid = await codesValidAt(victim.secret, world.clock.now());
  const attempts: { route: string; code: () => string }[] = [
    ...Array.from({ length: TOTP_GUESSES }, () => ({
      route: '/api/v1/auth/totp',
      code: () => totpGuess(valid),
    })),
    ...Array.from({ length: RECOVERY_CODE_GUESSES }, () => ({
      route: '/api/v1/auth/recovery-code',
      code: codeGuess,
    })),
  ];
  const calls: Exchange[] = [];
  let stopped: Exchange | undefined;
  const started = performance.now();
  for (const attempt of attempts) {
    const call = await attacker.post(attempt.route, { code: attempt.code() });
    calls.push(call);
    // Stopped: throttled, locked, or the session ended under the attacker.
    if (
      call.status === 429 ||
      call.code === 'unauthenticated' ||
      /lock|throttl|suspend/.test(call.code ?? '')
    ) {
      stopped = call;
      break;
    }
  }
  const ms = (performance.now() - started) / calls.length;
  const accepted = calls.filter(succeeded);
  // The answers are the same whether a guess was checked or refused unchecked (no oracle), so the
  // drill measures the throttle by its effect: it plays the owner and sends the right code — one
  // the owner has not used — from the guessing session. A server that still checks it lets
  // guessing run at full speed.
  const rightCode = await world.totpCode(victim);
  const probe = await attacker.post('/api/v1/auth/totp', { code: rightCode });
  const throttled = !succeeded(probe);
  if (!throttled) await attacker.post('/api/v1/auth/logout', {});
  return step(
    '(b)',
    title,
    accepted.length === 0 && throttled,
    `${calls.length} guesses (${TOTP_GUESSES} authenticator codes, ${RECOVERY_CODE_GUESSES} recovery codes), ` +
      `${accepted.length} accepted; answers: ${statusSummary(calls)}; ${Math.round(ms)} ms per guess; ` +
      (stopped
        ? `the guessing session was stopped after ${calls.length} (${stopped.status} ${stopped.code ?? ''})`.trimEnd()
        : 'every answer identical') +
      (throttled
        ? `; then even the right code was refused (${probe.status} ${probe.code ?? ''}): the guessing is throttled`.trimEnd()
        : '; then the right code was accepted: the guessing is NOT throttled'),
  );
}

/** (c): the attacker's own authenticator app on the account, from the password session. */
export async function ownAuthenticator(
  world: World,
  attacker: DrillClient,
  victim: StaffMember,
  operations: Operation[],
): Promise<StepResult> {
  const title = "attacker's own authenticator";
  const session = await passwordSession(attacker, victim);
  if (session.status !== 200) {
    return step('(c)', title, true, `the password login was refused (${session.status} ${session.code})`);
  }
  const notes: string[] = [];
  let passed = true;
  const started = await attacker.post('/api/v1/me/factors/totp', {});
  notes.push(`TOTP enrolment ${started.status}${started.code ? ` ${started.code}` : ''}`);
  if (succeeded(started)) {
    passed = false;
    const factor = started.body as { factorId?: string; secret?: string };
    if (factor.secret && factor.factorId) {
      const confirmed = await attacker.post('/api/v1/me/factors/totp/confirm', {
        factorId: factor.factorId,
        code: await generate({
          secret: factor.secret,
          epoch: Math.floor(world.clock.now().getTime() / 1000),
        }),
      });
      notes.push(`confirmation with the attacker's app ${confirmed.status}`);
    }
  }
  const webauthn = '/api/v1/me/factors/webauthn/options';
  if (has(operations, 'POST', webauthn)) {
    const options = await attacker.post(webauthn, {});
    notes.push(`WebAuthn enrolment options ${options.status}${options.code ? ` ${options.code}` : ''}`);
    if (succeeded(options)) passed = false;
  } else {
    notes.push('no WebAuthn enrolment route in the document');
  }
  return step('(c)', title, passed, notes.join(', '));
}

/** (d): every route again, as a stranger with no session at all. */
export async function stranger(
  client: DrillClient,
  victim: StaffMember,
  operations: Operation[],
): Promise<StepResult> {
  const calls = await walkOperations(client, operations, aimedAt(victim));
  const reached = calls.filter((c) => reachedBeyondOwnSummary(c, undefined));
  return step(
    '(d)',
    'stranger, every route',
    reached.length === 0,
    `${calls.length} calls to ${operations.length} operations without a session, ${reached.length} succeeded beyond the public ones` +
      (reached.length > 0 ? ` (${reached.map(describeCall).join(', ')})` : '') +
      `; answers: ${statusSummary(calls)}`,
  );
}
