/**
 * The public check of a message's code (T6), through POST /api/v1/messages/verify on a real
 * database: a registered code verifies however it is typed, a forged and a malformed code answer
 * alike, nothing personal is answered, the throttle holds per source address and overall, and the
 * portal's real login mail carries a code that verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { newMessageCode, registerMessage } from '../src/notify/codes.ts';
import type { Mail } from '../src/notify/mailer.ts';
import { VERIFY_PER_ADDRESS, verifyMessageCode } from '../src/notify/verify-message.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';

const URL = '/api/v1/messages/verify';

describe(`message verification (${engine})`, () => {
  let w: RegistryWorld;
  let person: KnownPerson;
  let registered: { id: string; code: string };
  const sentAt = new Date('2026-03-02T09:30:00.000Z');
  const verify = (payload: unknown, remoteAddress = '203.0.113.1') =>
    w.app.inject({ method: 'POST', url: URL, payload: payload as Record<string, unknown>, remoteAddress });

  beforeAll(async () => {
    w = await registryWorld(40, { guard: LENIENT_GUARD });
    person = w.persons.find((p) => p.identity.email)!;
    registered = await w.t.db.tx(systemCtx('test').actor, (tx) =>
      registerMessage(
        tx,
        { kind: 'incident_notice', channel: 'letter', at: sentAt, personId: person.id },
        (code) => `Votre notification. Code : ${code}`,
      ),
    );
  }, 120_000);
  afterAll(async () => w?.close());

  it('verifies a registered code with its kind, channel and date, however it is typed', async () => {
    const expected = {
      genuine: true,
      kind: 'incident_notice',
      channel: 'letter',
      sentAt: sentAt.toISOString(),
    };
    const exact = await verify({ code: registered.code }, '203.0.113.10');
    expect(exact.statusCode).toBe(200);
    expect(exact.json()).toEqual(expected);
    // Lower case, spaces instead of hyphens: the same message.
    const typed = registered.code.toLowerCase().replace(/-/g, ' ');
    const loose = await verify({ code: ` ${typed} ` }, '203.0.113.10');
    expect(loose.json()).toEqual(expected);
  });

  it('answers a forged code and a malformed one identically, with nothing but genuine: false', async () => {
    let forged = newMessageCode();
    while (forged === registered.code) forged = newMessageCode();
    const unknown = await verify({ code: forged }, '203.0.113.11');
    const malformed = await verify({ code: 'not a code!' }, '203.0.113.11');
    expect(unknown.statusCode).toBe(200);
    expect(malformed.statusCode).toBe(200);
    expect(unknown.json()).toEqual({ genuine: false });
    expect(malformed.body).toBe(unknown.body);
  });

  it('holds no person, account or message id in its answer', async () => {
    const answer = await verify({ code: registered.code }, '203.0.113.12');
    expect(answer.json().genuine).toBe(true);
    expect(answer.body).not.toContain(person.id);
    expect(answer.body).not.toContain(registered.id);
    expect(answer.body).not.toContain(person.identity.email!);
    expect(answer.body).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    expect(Object.keys(answer.json()).sort()).toEqual(['channel', 'genuine', 'kind', 'sentAt']);
  });

  it('refuses a body of the wrong shape with a 400 naming the field', async () => {
    for (const payload of [{}, { code: 12 }, { code: 'A'.repeat(65) }, { code: 'x', other: 1 }]) {
      const answer = await verify(payload, '203.0.113.13');
      expect(answer.statusCode).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
    const long = await verify({ code: 'A'.repeat(65) }, '203.0.113.13');
    expect(long.json().field).toBe('code');
  });

  it('throttles the eleventh check in a minute from one address, not another address', async () => {
    const address = '198.51.100.7';
    for (let i = 0; i < VERIFY_PER_ADDRESS; i++) {
      expect((await verify({ code: newMessageCode() }, address)).statusCode).toBe(200);
    }
    const refused = await verify({ code: registered.code }, address);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('throttled');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.body).not.toContain('incident_notice');
    expect((await verify({ code: registered.code }, '198.51.100.8')).json().genuine).toBe(true);
    // The window ends: the address may check again.
    w.clock.advance(61_000);
    expect((await verify({ code: registered.code }, address)).json().genuine).toBe(true);
  });

  it('caps checks from all addresses together', async () => {
    const limits = { perAddress: 100, global: 3, windowMs: 60_000 };
    const at = new Date(w.clock.now().getTime() + 3_600_000);
    for (let i = 0; i < 3; i++) {
      const ok = await verifyMessageCode(
        w.t.db,
        { code: registered.code, sourceAddress: `192.0.2.${i}`, now: at },
        limits,
      );
      expect(ok.genuine).toBe(true);
    }
    await expect(
      verifyMessageCode(w.t.db, { code: registered.code, sourceAddress: '192.0.2.99', now: at }, limits),
    ).rejects.toMatchObject({ code: 'throttled' });
  });

  it('verifies the code of a real portal login mail, with its kind', async () => {
    const started = await w.app.inject({
      method: 'POST',
      url: '/api/v1/portal/login/start',
      payload: { email: person.identity.email! },
      remoteAddress: '203.0.113.20',
    });
    expect(started.statusCode).toBe(202);
    await w.drainMail();
    const mail = (w.mailer as unknown as { sent: Mail[] }).sent
      .filter((m) => m.to === person.identity.email && /connexion/.test(m.subject))
      .at(-1);
    const code = /verification code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/.exec(mail?.text ?? '')?.[1];
    expect(code).toBeDefined();
    const answer = await verify({ code }, '203.0.113.21');
    expect(answer.json()).toEqual({
      genuine: true,
      kind: 'portal_login_code',
      channel: 'email',
      sentAt: w.clock.now().toISOString(),
    });
  });
});
