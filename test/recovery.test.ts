/**
 * T1 in detail (issue "staff identity"): the attacker knows a partner agent's login and password and
 * tries every route a helpdesk or a stranger can reach; recovery needs the manager's approval from a
 * fresh session, a delay, and the code sent to the owner's registered address (a real SMTP exchange
 * with a local server). And T8: a single compromised manager cannot create a working account alone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import type { Account } from '../src/identity/accounts.ts';
import { smtpMailer } from '../src/notify/mailer.ts';
import { engine } from './helpers/db.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { enrolled, PASSWORD, StaffClient, type StaffWorld, staffWorld, totpAt } from './helpers/staff.ts';

const HOUR = 3_600_000;
const NEW_PASSWORD = 'copper meadow signal 81';

/** A code of the form XXXX-XXXX-XXXX-XXXX found in a mail after a label. */
function codeIn(text: string): string {
  const match = /([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/.exec(text);
  if (!match) throw new Error('no code in the mail');
  return match[1]!;
}

describe(`recovery and provisioning on ${engine}`, () => {
  let world: StaffWorld;
  let smtp: TestSmtpServer;
  let partner: string;
  let otherPartner: string;
  let national: string;
  let victim: Account;
  let manager: Account;
  let secondManager: Account;
  let foreignManager: Account;
  let helpdesk: Account;
  let victimSecret: string;

  const credentials = async (accountId: string) =>
    world.t.db.tx(systemCtx('test').actor, async (tx) => ({
      password: (
        await tx.query<{ password_hash: string }>('SELECT password_hash FROM accounts WHERE id = $1', [
          accountId,
        ])
      )[0]!.password_hash,
      factors: await tx.query('SELECT id, revoked_at FROM second_factors WHERE account_id = $1 ORDER BY id', [
        accountId,
      ]),
      codes: await tx.query(
        'SELECT code_hash, used_at FROM recovery_codes WHERE account_id = $1 ORDER BY code_hash',
        [accountId],
      ),
      role: (await tx.query<{ role: string }>('SELECT role FROM accounts WHERE id = $1', [accountId]))[0]!
        .role,
    }));
  /** The mails delivered to `address`, once the outbox has been drained (as the server's job does). */
  const mailsTo = async (address: string) => {
    await world.drainMail();
    return smtp.messages.filter((m) => m.to.includes(address));
  };
  /** A fresh mfa session for an enrolled account (TOTP of the current step, after moving the clock on). */
  const freshClient = async (account: Account, secret: string): Promise<StaffClient> => {
    world.clock.advance(31_000);
    const client = new StaffClient(world.app);
    await client.login(account.login);
    const verified = await client.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(secret, world.clock.now()),
    });
    expect(verified.statusCode, verified.body).toBe(200);
    return client;
  };
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    smtp = await startSmtpServer();
    world = await staffWorld({
      mailer: smtpMailer({ url: `${smtp.url}?tls=off`, from: 'Rempart <no-reply@rempart.test>' }),
    });
    partner = await world.organisation({ kind: 'cap_emploi' });
    otherPartner = await world.organisation({ kind: 'mission_locale' });
    national = await world.organisation({ kind: 'national' });
    victim = await world.account({ organisationId: partner, role: 'partner_counselor' });
    manager = await world.account({ organisationId: partner, role: 'org_manager' });
    secondManager = await world.account({ organisationId: partner, role: 'org_manager' });
    foreignManager = await world.account({ organisationId: otherPartner, role: 'org_manager' });
    helpdesk = await world.account({ organisationId: national, role: 'helpdesk' });
    for (const account of [victim, manager, secondManager, foreignManager, helpdesk]) {
      secrets.set(account.id, (await enrolled(world, account)).secret);
    }
    victimSecret = secrets.get(victim.id)!;
  });
  afterAll(async () => {
    await world.close();
    await smtp.close();
  });

  /** Values aimed at the victim, for every property a route's body may declare. */
  const aimedAtVictim = (): Record<string, unknown> => ({
    login: victim.login,
    accountId: victim.id,
    password: 'attacker chosen password 99',
    code: '0000-0000-0000-0000',
    role: 'administrator',
    kind: 'grant_role',
    attestation: 'in_person',
    factorId: randomUUID(),
    displayName: 'Attacker',
    email: 'attacker@evil.example',
    organisationId: randomUUID(),
    label: 'attacker key',
  });

  /** The bodies to try for an operation: its declared properties filled from aimedAtVictim (each oneOf branch). */
  function bodiesFor(operation: {
    requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
  }): unknown[] {
    const schema = operation.requestBody?.content?.['application/json']?.schema;
    if (!schema) return [undefined];
    const variants = (schema.oneOf as Record<string, unknown>[] | undefined) ?? [schema];
    return variants.map((variant) => {
      const properties = (variant.properties ?? {}) as Record<string, { const?: unknown; enum?: unknown[] }>;
      const values = aimedAtVictim();
      return Object.fromEntries(
        Object.entries(properties).map(([name, p]) => [
          name,
          p.const ?? (p.enum && !p.enum.includes(values[name]) ? p.enum[0] : (values[name] ?? 'x')),
        ]),
      );
    });
  }

  /** Every route of the OpenAPI document, called with the client, with bodies aimed at the victim. */
  async function walkEveryRoute(
    client: StaffClient,
  ): Promise<{ method: string; url: string; status: number }[]> {
    const document = (await client.request('GET', '/api/openapi.json')).json();
    const calls = [];
    for (const [path, operations] of Object.entries(
      document.paths as Record<string, Record<string, Record<string, never>>>,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        if (method !== 'get' && method !== 'post') continue;
        if (path.endsWith('/logout') || path.endsWith('/logout-everywhere')) continue; // would end the walk
        const url = path.replace(/\{[^}]+\}/g, randomUUID());
        for (const body of method === 'post' ? bodiesFor(operation) : [undefined]) {
          const response = await client.request(method.toUpperCase() as 'GET' | 'POST', url, body);
          calls.push({ method, url: path, status: response.statusCode });
        }
      }
    }
    return calls;
  }

  it('a stolen password alone reaches nothing: every route answers without a second factor, and the credentials stay', async () => {
    const before = await credentials(victim.id);
    const attacker = new StaffClient(world.app, '198.51.100.66');
    expect((await attacker.login(victim.login)).json().next).toBe('verify_second_factor');
    const calls = await walkEveryRoute(attacker);
    expect(calls.length).toBeGreaterThan(15);
    const me = (await attacker.request('GET', '/api/v1/me')).json();
    expect(me.assurance).toBe('password');
    expect(await credentials(victim.id)).toEqual(before);
    // Nothing that needs the second factor answered 2xx.
    const allowed = new Set([
      '/api/health',
      '/api/openapi.json',
      '/api/v1/me',
      '/api/v1/auth/login',
      '/api/v1/auth/webauthn/options',
      '/api/v1/auth/passkey/options', // public: a challenge, naming no account
      '/api/v1/auth/proconnect', // public: whether ProConnect is offered
      '/api/v1/portal/login/start', // public: the person's portal login, the same answer for any address
      '/api/v1/portal/franceconnect', // public: whether the portal offers FranceConnect
      '/api/v1/messages/verify', // public: a message code's kind, channel and date (T6)
      '/api/v1/notices/verify', // public: a signed notice's check, nothing personal (T6)
      '/api/v1/notices/keys', // public: the notice verifier keys (T6)
    ]);
    expect(calls.filter((c) => c.status < 300 && !allowed.has(c.url))).toEqual([]);
  });

  it('the helpdesk, calling every route, cannot change or reveal another account’s credentials', async () => {
    const before = await credentials(victim.id);
    const desk = await freshClient(helpdesk, secrets.get(helpdesk.id)!);
    const calls = await walkEveryRoute(desk);
    expect(calls.length).toBeGreaterThan(15);
    expect(await credentials(victim.id)).toEqual(before);
    // Opening a case was possible (that is the helpdesk's job); it changed nothing yet. Cancel it for the next tests.
    expect(calls.find((c) => c.url === '/api/v1/recovery-cases' && c.method === 'post')?.status).toBe(201);
    const opened = (await mailsTo(victim.email)).at(-1)!;
    expect(opened.subject).toContain('récupération');
    expect(
      (await desk.request('POST', '/api/v1/recovery/cancel', { code: codeIn(opened.text) })).statusCode,
    ).toBe(204);
  });

  it('recovery: helpdesk opens, the owner is told at once; another organisation’s manager, a stale session, the owner, a guessed code all fail; the manager approves; the owner completes after the delay only', async () => {
    const desk = await freshClient(helpdesk, secrets.get(helpdesk.id)!);
    const mailsBefore = (await mailsTo(victim.email)).length;
    const opened = await desk.request('POST', '/api/v1/recovery-cases', { login: victim.login });
    expect(opened.statusCode).toBe(201);
    const caseId = opened.json().id;
    const notice = (await mailsTo(victim.email)).at(-1)!;
    expect((await mailsTo(victim.email)).length).toBe(mailsBefore + 1);
    expect(notice.text).toContain('annulez');
    // The notice carries a verification code (T6) that the public check knows as what it is.
    const verification = /Code de vérification de ce message : ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\n/.exec(
      notice.text,
    )?.[1];
    expect(notice.text).toContain('Vérifiez-le sur http://localhost:8080/verifier'); // PUBLIC_URL (default)
    expect(
      (
        await world.app.inject({
          method: 'POST',
          url: '/api/v1/messages/verify',
          payload: { code: verification },
        })
      ).json(),
    ).toEqual({
      genuine: true,
      kind: 'recovery_opened',
      channel: 'email',
      sentAt: world.clock.now().toISOString(),
    });
    const inApp = await world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ kind: string }>(
        `SELECT kind FROM staff_notices WHERE account_id = $1 AND kind = 'recovery_opened'`,
        [victim.id],
      ),
    );
    expect(inApp.length).toBeGreaterThanOrEqual(2);
    // The helpdesk's view of the case holds no code.
    const listed = (await desk.request('GET', '/api/v1/recovery-cases')).json();
    // Codes are four groups of four (ABCD-EFGH-JKMN-PQRS); a UUID's groups are 8-4-4-4-12, so the
    // word boundaries keep an identifier from looking like one.
    const codePattern = /\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b/;
    expect(notice.text).toMatch(codePattern); // the pattern finds a real code where there is one
    expect(JSON.stringify(listed)).not.toMatch(codePattern);

    const guess = await new StaffClient(world.app).request('POST', '/api/v1/recovery/complete', {
      code: 'ABCD-EFGH-JKMN-PQRS',
      password: NEW_PASSWORD,
    });
    expect(guess.json().code).toBe('recovery_failed');

    const foreign = await freshClient(foreignManager, secrets.get(foreignManager.id)!);
    expect(
      (await foreign.request('POST', `/api/v1/recovery-cases/${caseId}/approve`, { attestation: 'video' }))
        .statusCode,
    ).toBe(404);
    const owner = await freshClient(victim, victimSecret);
    expect(
      (await owner.request('POST', `/api/v1/recovery-cases/${caseId}/approve`, { attestation: 'video' }))
        .statusCode,
    ).toBe(404);
    expect(
      (await desk.request('POST', `/api/v1/recovery-cases/${caseId}/approve`, { attestation: 'video' }))
        .statusCode,
    ).toBe(404);

    const boss = await freshClient(manager, secrets.get(manager.id)!);
    world.clock.advance(6 * 60_000); // the manager's second factor is no longer fresh
    await totpAt(secrets.get(manager.id)!, world.clock.now()); // (keep the clock's step moving)
    const stale = await boss.request('POST', `/api/v1/recovery-cases/${caseId}/approve`, {
      attestation: 'in_person',
    });
    expect(stale.json().code).toBe('step_up_required');
    const approver = await freshClient(manager, secrets.get(manager.id)!);
    const approved = await approver.request('POST', `/api/v1/recovery-cases/${caseId}/approve`, {
      attestation: 'in_person',
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json().status).toBe('approved');
    const resetMail = (await mailsTo(victim.email)).at(-1)!;
    expect(resetMail.subject).toContain('approuvée');
    const resetCode = codeIn(resetMail.text);

    const early = await new StaffClient(world.app).request('POST', '/api/v1/recovery/complete', {
      code: resetCode,
      password: NEW_PASSWORD,
    });
    expect(early.json().code).toBe('recovery_not_ready');
    world.clock.advance(24 * HOUR + 60_000);
    const done = await new StaffClient(world.app).request('POST', '/api/v1/recovery/complete', {
      code: resetCode,
      password: NEW_PASSWORD,
    });
    expect(done.statusCode).toBe(204);
    const again = await new StaffClient(world.app).request('POST', '/api/v1/recovery/complete', {
      code: resetCode,
      password: 'another fine password 12',
    });
    expect(again.json().code).toBe('recovery_failed');

    // Old password out, old factor revoked, old sessions ended; a new factor, then probation.
    expect((await new StaffClient(world.app).login(victim.login, PASSWORD)).statusCode).toBe(401);
    expect((await owner.request('GET', '/api/v1/me')).statusCode).toBe(401);
    const back = new StaffClient(world.app);
    expect((await back.login(victim.login, NEW_PASSWORD)).json()).toMatchObject({
      next: 'enrol_second_factor',
      factors: [],
    });
    const started = (await back.request('POST', '/api/v1/me/factors/totp')).json();
    victimSecret = started.secret;
    const confirmed = await back.request('POST', '/api/v1/me/factors/totp/confirm', {
      factorId: started.factorId,
      code: await totpAt(started.secret, world.clock.now()),
    });
    expect(confirmed.json().recoveryCodes).toHaveLength(10);
    expect((await back.request('GET', '/api/v1/me')).json().account.status).toBe('probation');
  });

  it('the owner cancels a case with the code of the first notice; a manager never decides on their own account', async () => {
    const desk = await freshClient(helpdesk, secrets.get(helpdesk.id)!);
    const own = (await desk.request('POST', '/api/v1/recovery-cases', { login: manager.login })).json().id;
    const boss = await freshClient(manager, secrets.get(manager.id)!);
    const self = await boss.request('POST', `/api/v1/recovery-cases/${own}/approve`, {
      attestation: 'in_person',
    });
    expect(self.json().code).toBe('forbidden');
    const cancel = codeIn((await mailsTo(manager.email)).at(-1)!.text);
    expect(
      (await new StaffClient(world.app).request('POST', '/api/v1/recovery/cancel', { code: cancel }))
        .statusCode,
    ).toBe(204);
    const other = await freshClient(secondManager, secrets.get(secondManager.id)!);
    const late = await other.request('POST', `/api/v1/recovery-cases/${own}/approve`, {
      attestation: 'in_person',
    });
    expect(late.json().code).toBe('conflict');
  });

  it('lists cases to the organisation’s manager and to the helpdesk member who opened them, and to nobody else', async () => {
    const desk = await freshClient(helpdesk, secrets.get(helpdesk.id)!);
    const target = await world.account({ organisationId: partner, role: 'partner_counselor' });
    const opened = (await desk.request('POST', '/api/v1/recovery-cases', { login: target.login })).json().id;
    const ids = async (client: StaffClient) =>
      ((await client.request('GET', '/api/v1/recovery-cases')).json().cases as { id: string }[]).map(
        (c) => c.id,
      );
    expect(await ids(desk)).toContain(opened);
    expect(await ids(await freshClient(manager, secrets.get(manager.id)!))).toContain(opened);
    expect(await ids(await freshClient(foreignManager, secrets.get(foreignManager.id)!))).not.toContain(
      opened,
    );
    const colleague = (
      await enrolled(world, await world.account({ organisationId: partner, role: 'partner_counselor' }))
    ).client;
    expect(await ids(colleague)).toEqual([]);
  });

  it('T8: one manager alone cannot create a working account, grant a role to themselves, or grant what the organisation does not hold', async () => {
    const boss = await freshClient(manager, secrets.get(manager.id)!);
    const email = `new.agent.${randomUUID().slice(0, 6)}@partner.example`;
    const asked = await boss.request('POST', '/api/v1/provisioning-requests', {
      kind: 'create_account',
      login: `new.${randomUUID().slice(0, 8)}`,
      displayName: 'Nouvel Agent',
      email,
      role: 'partner_counselor',
    });
    expect(asked.statusCode).toBe(201);
    const requestId = asked.json().id;
    expect(
      (await boss.request('POST', `/api/v1/provisioning-requests/${requestId}/approve`)).json().code,
    ).toBe('forbidden');
    const foreign = await freshClient(foreignManager, secrets.get(foreignManager.id)!);
    expect(
      (await foreign.request('POST', `/api/v1/provisioning-requests/${requestId}/approve`)).statusCode,
    ).toBe(404);
    expect(await mailsTo(email)).toEqual([]); // nothing exists yet: no account, no activation code

    for (const body of [
      { kind: 'grant_role', accountId: manager.id, role: 'org_manager' },
      { kind: 'grant_role', accountId: victim.id, role: 'administrator' },
      {
        kind: 'create_account',
        login: 'evil.admin',
        displayName: 'Evil',
        email: 'evil@x.example',
        role: 'administrator',
      },
      {
        kind: 'create_account',
        login: 'evil.counselor',
        displayName: 'Evil',
        email: 'evil@x.example',
        role: 'counselor',
      },
      {
        kind: 'create_account',
        login: 'evil.other',
        displayName: 'Evil',
        email: 'evil@x.example',
        role: 'partner_counselor',
        organisationId: otherPartner,
      },
    ]) {
      const refused = await boss.request('POST', '/api/v1/provisioning-requests', body);
      expect(refused.json().code, JSON.stringify(body)).toBe('forbidden');
    }

    const second = await freshClient(secondManager, secrets.get(secondManager.id)!);
    const approved = await second.request('POST', `/api/v1/provisioning-requests/${requestId}/approve`);
    expect(approved.json()).toMatchObject({ status: 'approved' });
    const activation = codeIn((await mailsTo(email)).at(-1)!.text);
    expect(
      (
        await new StaffClient(world.app).request('POST', '/api/v1/activation', {
          code: activation,
          password: NEW_PASSWORD,
        })
      ).statusCode,
    ).toBe(204);
    const newcomer = new StaffClient(world.app);
    const login = await newcomer.login(
      approved.json().accountId ? await accountLogin(approved.json().accountId) : '',
      NEW_PASSWORD,
    );
    expect(login.json().next).toBe('enrol_second_factor');
  });

  it('lists a role change with the account it is about, so that the approver knows whom it concerns', async () => {
    const boss = await freshClient(manager, secrets.get(manager.id)!);
    const target = await world.account({ organisationId: partner, role: 'partner_counselor' });
    const asked = await boss.request('POST', '/api/v1/provisioning-requests', {
      kind: 'grant_role',
      accountId: target.id,
      role: 'org_manager',
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const second = await freshClient(secondManager, secrets.get(secondManager.id)!);
    const listed = (await second.request('GET', '/api/v1/provisioning-requests')).json().requests as {
      id: string;
      targetAccountId: string | null;
      kind: string;
    }[];
    expect(listed.find((r) => r.id === asked.json().id)).toMatchObject({
      kind: 'grant_role',
      targetAccountId: target.id,
    });
    expect(listed.filter((r) => r.kind === 'create_account').every((r) => r.targetAccountId === null)).toBe(
      true,
    );
  });

  async function accountLogin(id: string): Promise<string> {
    const rows = await world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ login: string }>('SELECT login FROM accounts WHERE id = $1', [id]),
    );
    return rows[0]!.login;
  }
});
