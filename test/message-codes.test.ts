/**
 * Codes in every staff message (T6: phishing imitates Rempart's mails): a real lock (ten failed
 * logins through the API) sends a mail and an in-app notice, each with a code of its own and
 * "<PUBLIC_URL>/verifier"; each code verifies through POST /api/v1/messages/verify as what it is
 * (kind, channel, date), and a login that names no account registers no message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { outboxMailer } from '../src/notify/mailer.ts';
import { engine } from './helpers/db.ts';
import { StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';

const CODE = /Code de vérification de ce message : ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\n/;

describe(`codes in staff messages (${engine})`, () => {
  let world: StaffWorld;
  const mailer = outboxMailer();
  beforeAll(async () => {
    world = await staffWorld({ mailer, env: { PUBLIC_URL: 'https://rempart.example' } });
  });
  afterAll(() => world?.close());

  const check = (code: string, remoteAddress: string) =>
    world.app.inject({ method: 'POST', url: '/api/v1/messages/verify', payload: { code }, remoteAddress });
  const messages = () =>
    world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM messages'),
    );

  it('a real lock notice mail and its in-app notice each carry a code that verifies as what they are', async () => {
    const account = await world.account();
    let lockedAt = world.clock.now();
    for (let i = 1; i <= 10; i++) {
      world.clock.advance(300_000); // past each backoff: only the lock stops the owner
      lockedAt = world.clock.now();
      await new StaffClient(world.app, '198.51.100.7').login(account.login, `wrong ${i}`);
    }
    await world.drainMail();
    const mail = mailer.sent.find((m) => m.subject.includes('verrouillé'))!;
    expect(mail.text).toContain('Vérifiez-le sur https://rempart.example/verifier');
    const mailCode = CODE.exec(mail.text)![1]!;
    expect((await check(mailCode, '203.0.113.1')).json()).toEqual({
      genuine: true,
      kind: 'login_locked',
      channel: 'email',
      sentAt: lockedAt.toISOString(),
    });
    const [notice] = await world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ text: string }>('SELECT text FROM staff_notices WHERE account_id = $1', [account.id]),
    );
    const inAppCode = CODE.exec(notice!.text)![1]!;
    expect(inAppCode).not.toBe(mailCode);
    expect((await check(inAppCode.toLowerCase(), '203.0.113.2')).json()).toEqual({
      genuine: true,
      kind: 'login_locked',
      channel: 'in_app',
      sentAt: lockedAt.toISOString(),
    });
  });

  it('failed logins of an unknown login register no message (the same statements insert nothing)', async () => {
    const [before] = await messages();
    for (let i = 1; i <= 10; i++) {
      world.clock.advance(300_000);
      await new StaffClient(world.app, '198.51.100.8').login('nobody.here', `wrong ${i}`);
    }
    expect((await messages())[0]!.n).toBe(before!.n);
  });
});
