/**
 * FranceConnect login through the app as the server registers it (docs/FRANCECONNECT.md): the
 * callback opens the portal's own person session, and the page takes that session's CSRF token once
 * from GET /api/v1/portal/franceconnect/session, as the cross-site redirect cannot carry it in a body.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { PORTAL_CSRF_HANDOFF_COOKIE } from '../src/http/routes/franceconnect-session.routes.ts';
import { createAccount } from '../src/identity/accounts.ts';
import { openSession, SESSION_COOKIE } from '../src/identity/sessions.ts';
import { PERSON_SESSION_COOKIE } from '../src/portal/sessions.ts';
import { cookieOf, type FranceConnectWorld, franceconnectWorld } from './helpers/franceconnect.ts';
import { PASSWORD } from './helpers/staff.ts';

const SESSION_PATH = '/api/v1/portal/franceconnect/session';
const system = systemCtx('test').actor;

describe('FranceConnect login served by the app', () => {
  let w: FranceConnectWorld;
  beforeAll(async () => {
    w = await franceconnectWorld();
  }, 30_000);
  afterAll(async () => {
    await w?.close();
  });

  /** A login as `sub`: the person session cookie and the handoff cookie it left. */
  const login = async (sub: string) => {
    const { result, personId, response } = await w.loginAs(sub);
    expect(result).toBe('ok');
    const session = cookieOf(response, PERSON_SESSION_COOKIE);
    const handoff = cookieOf(response, PORTAL_CSRF_HANDOFF_COOKIE);
    expect(session).toBeDefined();
    expect(handoff).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: SESSION_PATH });
    expect(handoff!.maxAge).toBeLessThanOrEqual(120);
    return { personId: personId!, session: session!.value, handoff: handoff!.value };
  };
  const take = (cookies: Record<string, string>) =>
    w.app.inject({
      method: 'GET',
      url: SESSION_PATH,
      headers: {
        'sec-fetch-site': 'same-origin',
        cookie: Object.entries(cookies)
          .map(([name, value]) => `${name}=${value}`)
          .join('; '),
      },
    });

  it('opens a person session usable on /me and, with the handed-over token, on a CSRF-protected POST', async () => {
    const { personId, session, handoff } = await login('fc-married');
    expect(personId).toBe(w.ids.married);
    const cookie = `${PERSON_SESSION_COOKIE}=${session}`;
    const me = await w.app.inject({ method: 'GET', url: '/api/v1/portal/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ personId: w.ids.married, method: 'franceconnect' });

    const setting = (token?: string) =>
      w.app.inject({
        method: 'POST',
        url: '/api/v1/portal/receipts/settings',
        headers: { cookie, 'sec-fetch-site': 'same-origin', ...(token ? { 'x-csrf-token': token } : {}) },
        payload: { channel: 'portal' },
      });
    // Without the token the session cannot change anything (T3).
    expect((await setting()).statusCode).toBe(403);

    const taken = await take({ [PERSON_SESSION_COOKIE]: session, [PORTAL_CSRF_HANDOFF_COOKIE]: handoff });
    expect(taken.statusCode).toBe(200);
    expect(taken.json()).toEqual({ csrfToken: handoff });
    expect(cookieOf(taken, PORTAL_CSRF_HANDOFF_COOKIE)).toMatchObject({ value: '', path: SESSION_PATH });

    const changed = await setting(taken.json().csrfToken);
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ channel: 'portal' });

    // Once only: the cookie is gone, so the next read has nothing to hand over.
    const again = await take({ [PERSON_SESSION_COOKIE]: session });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('not_found');
  });

  it("hands over no other session's token", async () => {
    const first = await login('fc-abroad');
    const second = await login('fc-abroad');
    const crossed = await take({
      [PERSON_SESSION_COOKIE]: first.session,
      [PORTAL_CSRF_HANDOFF_COOKIE]: second.handoff,
    });
    expect(crossed.statusCode).toBe(404);
    expect(crossed.json().code).toBe('not_found');
    expect(crossed.body).not.toContain(second.handoff);
  });

  it('gives nothing to no session or a staff session', async () => {
    const { handoff } = await login('fc-married');
    const none = await take({ [PORTAL_CSRF_HANDOFF_COOKIE]: handoff });
    expect(none.statusCode).toBe(401);
    expect(none.body).not.toContain(handoff);

    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const now = w.app.clock.now();
    const staff = await w.t.db.tx(system, async (tx) => {
      const organisationId = randomUUID();
      await tx.query('INSERT INTO organisations (id, kind, code, name) VALUES ($1, $2, $3, $3)', [
        organisationId,
        'cap_emploi',
        `ORG-${organisationId.slice(0, 8)}`,
      ]);
      const account = await createAccount(
        tx,
        {
          organisationId,
          login: 'agent.fc-handoff',
          displayName: 'Agent',
          email: 'agent.fc-handoff@partner.example',
          role: 'partner_counselor',
          password: PASSWORD,
        },
        now,
        null,
      );
      return openSession(tx, account.id, { assurance: 'mfa', now, config });
    });
    const withStaff = await take({
      [SESSION_COOKIE]: staff.sessionId,
      [PORTAL_CSRF_HANDOFF_COOKIE]: handoff,
    });
    expect(withStaff.statusCode).toBe(401);
    expect(withStaff.body).not.toContain(handoff);
  });

  it('documents the handoff route in the OpenAPI schema', async () => {
    const document = (await w.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(document.paths[SESSION_PATH].get.operationId).toBe('takeFranceConnectSession');
    expect(Object.keys(document.paths[SESSION_PATH].get.responses).sort()).toEqual(['200', '401', '404']);
  });
});
