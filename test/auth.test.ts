/**
 * Staff authentication (issue "staff identity", docs/DESIGN.md section 5), through the HTTP API on the
 * engine under test: first factor, mandatory second factor, TOTP replay, sessions (cookie flags,
 * CSRF, idle and absolute timeouts, logout everywhere), brute force, and no account enumeration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import type { Account } from '../src/identity/accounts.ts';
import { SESSION_TOUCH_SECONDS } from '../src/identity/sessions.ts';
import { engine } from './helpers/db.ts';
import { enrolled, PASSWORD, StaffClient, type StaffWorld, staffWorld, totpAt } from './helpers/staff.ts';

const MINUTE = 60_000;

describe(`staff authentication on ${engine}`, () => {
  let world: StaffWorld;
  beforeAll(async () => {
    world = await staffWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('opens a password-level session with a HttpOnly, Secure, SameSite=Strict cookie', async () => {
    const account = await world.account();
    const client = new StaffClient(world.app);
    const response = await client.login(account.login.toUpperCase());
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      next: 'enrol_second_factor',
      factors: [],
      account: { login: account.login },
    });
    const cookie = response.cookies.find((c) => c.name === 'rempart_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookie.value.length).toBeGreaterThanOrEqual(40);
    // Only the hash of the session id is stored.
    const stored = await world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ id_hash: Uint8Array }>('SELECT id_hash FROM sessions WHERE account_id = $1', [account.id]),
    );
    expect(stored.length).toBe(1);
    expect(Buffer.from(stored[0]!.id_hash).toString('base64url')).not.toBe(cookie.value);
  });

  it('a password alone reaches nothing beyond enrolment and the second factor', async () => {
    const account = await world.account();
    const client = new StaffClient(world.app);
    await client.login(account.login);
    const sessions = await client.request('GET', '/api/v1/me/sessions');
    expect(sessions.statusCode).toBe(403);
    expect(sessions.json().code).toBe('second_factor_required');
    const everywhere = await client.request('POST', '/api/v1/auth/logout-everywhere');
    expect(everywhere.json().code).toBe('second_factor_required');
  });

  describe('no account enumeration', () => {
    let known: Account;
    let locked: Account;
    let ended: Account;
    beforeAll(async () => {
      known = await world.account();
      locked = await world.account();
      await world.t.db.tx(systemCtx('test').actor, (tx) =>
        tx.query(`UPDATE accounts SET status = 'locked' WHERE id = $1`, [locked.id]),
      );
      const closed = await world.organisation({ contractEndsOn: '2026-03-01' });
      ended = await world.account({ organisationId: closed });
    });

    it('answers a wrong password, an unknown login, a locked account and an ended contract alike', async () => {
      const answers = [];
      for (const [login, password] of [
        [known.login, 'not the right password'],
        ['nobody.here', PASSWORD],
        [locked.login, PASSWORD],
        [ended.login, PASSWORD],
      ] as const) {
        const response = await new StaffClient(world.app, `10.0.0.${answers.length + 1}`).login(
          login,
          password,
        );
        const { requestId: _ignored, ...body } = response.json();
        answers.push({ status: response.statusCode, body, cookie: response.cookies.length });
      }
      expect(answers[0]).toEqual({
        status: 401,
        body: expect.objectContaining({ code: 'login_failed' }),
        cookie: 0,
      });
      for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
    });

    it('spends as long on an unknown login as on a known one (one argon2id verification each)', async () => {
      const time = async (login: string): Promise<number> => {
        const started = performance.now();
        await new StaffClient(world.app, '10.1.0.1').login(login, 'wrong password again');
        return performance.now() - started;
      };
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const knownTimes: number[] = [];
      const unknownTimes: number[] = [];
      for (let i = 0; i < 7; i++) {
        knownTimes.push(await time(known.login));
        unknownTimes.push(await time(`ghost.${i}`));
      }
      const ratio = median(unknownTimes) / median(knownTimes);
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
      // And the verification really runs: an argon2id verification costs milliseconds.
      expect(median(unknownTimes)).toBeGreaterThan(3);
    });
  });

  describe('second factor: TOTP', () => {
    it('enrols an authenticator app, issues ten recovery codes once, and puts the account on probation', async () => {
      const account = await world.account();
      const { client, recoveryCodes } = await enrolled(world, account);
      expect(recoveryCodes).toHaveLength(10);
      expect(new Set(recoveryCodes).size).toBe(10);
      const me = (await client.request('GET', '/api/v1/me')).json();
      expect(me).toMatchObject({ assurance: 'mfa', account: { status: 'probation' } });
      expect((await client.request('GET', '/api/v1/me/sessions')).statusCode).toBe(200);
      const stored = await world.t.db.tx(systemCtx('test').actor, (tx) =>
        tx.query<{ code_hash: string }>('SELECT code_hash FROM recovery_codes WHERE account_id = $1', [
          account.id,
        ]),
      );
      expect(stored.map((r) => r.code_hash)).not.toContain(recoveryCodes[0]);
    });

    it('ends probation after seven days: the next login finds the account active', async () => {
      const account = await world.account();
      const { client } = await enrolled(world, account);
      expect((await client.request('GET', '/api/v1/me')).json().account.status).toBe('probation');
      world.clock.advance(6 * 24 * 60 * MINUTE);
      expect((await new StaffClient(world.app).login(account.login)).json().account.status).toBe('probation');
      world.clock.advance(24 * 60 * MINUTE + MINUTE);
      expect((await new StaffClient(world.app).login(account.login)).json().account.status).toBe('active');
    });

    it('changes the session id when the second factor is verified (the old id is worthless)', async () => {
      const account = await world.account();
      const client = new StaffClient(world.app);
      await client.login(account.login);
      const before = client.cookie;
      const started = (await client.request('POST', '/api/v1/me/factors/totp')).json();
      await client.request('POST', '/api/v1/me/factors/totp/confirm', {
        factorId: started.factorId,
        code: await totpAt(started.secret, world.clock.now()),
      });
      expect(client.cookie).not.toBe(before);
      const stale = new StaffClient(world.app);
      stale.cookie = before;
      expect((await stale.request('GET', '/api/v1/me')).statusCode).toBe(401);
    });

    it('refuses a TOTP code used once already, and an older one', async () => {
      const account = await world.account();
      const { secret } = await enrolled(world, account);
      const login = async () => {
        const client = new StaffClient(world.app);
        expect((await client.login(account.login)).json().next).toBe('verify_second_factor');
        return client;
      };
      // The enrolment used the code of this 30-second step: it cannot be used again.
      const replay = await (await login()).request('POST', '/api/v1/auth/totp', {
        code: await totpAt(secret, world.clock.now()),
      });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().code).toBe('second_factor_failed');
      world.clock.advance(30_000);
      const fresh = await (await login()).request('POST', '/api/v1/auth/totp', {
        code: await totpAt(secret, world.clock.now()),
      });
      expect(fresh.statusCode).toBe(200);
      const older = await (await login()).request('POST', '/api/v1/auth/totp', {
        code: await totpAt(secret, new Date(world.clock.now().getTime() - 30_000)),
      });
      expect(older.statusCode).toBe(401);
      const wrong = await (await login()).request('POST', '/api/v1/auth/totp', { code: '000000' });
      expect(wrong.statusCode).toBe(401);
    });

    it('accepts each recovery code once', async () => {
      const account = await world.account();
      const { recoveryCodes } = await enrolled(world, account);
      const use = async (code: string) => {
        const client = new StaffClient(world.app);
        await client.login(account.login);
        return client.request('POST', '/api/v1/auth/recovery-code', { code });
      };
      expect((await use(recoveryCodes[3]!.toLowerCase())).statusCode).toBe(200);
      expect((await use(recoveryCodes[3]!)).statusCode).toBe(401);
      expect((await use(recoveryCodes[4]!)).statusCode).toBe(200);
    });

    it('needs the existing factor, freshly verified, to add another one (a stolen password cannot add an authenticator)', async () => {
      const account = await world.account();
      await enrolled(world, account);
      const thief = new StaffClient(world.app);
      await thief.login(account.login);
      const attempt = await thief.request('POST', '/api/v1/me/factors/totp');
      expect(attempt.statusCode).toBe(403);
      expect(attempt.json().code).toBe('step_up_required');
    });

    it('a session stolen right after login (second factor fresh) cannot add an authenticator without the password', async () => {
      const account = await world.account();
      const { client: owner } = await enrolled(world, account);
      // The thief holds the owner's fresh mfa session (cookie and CSRF token), not the password.
      const thief = new StaffClient(world.app, '203.0.113.9').adopt(owner);
      const bare = await thief.request('POST', '/api/v1/me/factors/totp', {});
      expect(bare.statusCode).toBe(403);
      expect(bare.json()).toMatchObject({ code: 'step_up_required', field: 'password' });
      const guessed = await thief.request('POST', '/api/v1/me/factors/totp', {
        password: 'azertyuiop123456',
      });
      expect(guessed.json()).toMatchObject({ code: 'step_up_required', field: 'password' });
      // The owner, typing the password again, adds one, and is told by mail.
      await world.drainMail();
      const sent = (world.mailer as unknown as { sent: { to: string; subject: string }[] }).sent;
      const before = sent.length;
      const started = await owner.request('POST', '/api/v1/me/factors/totp', { password: PASSWORD });
      expect(started.statusCode).toBe(200);
      const confirmed = await owner.request('POST', '/api/v1/me/factors/totp/confirm', {
        factorId: started.json().factorId,
        code: await totpAt(started.json().secret, world.clock.now()),
      });
      expect(confirmed.statusCode).toBe(200);
      await world.drainMail();
      expect(
        sent.slice(before).filter((m) => m.to === account.email && /ajouté/.test(m.subject)),
      ).toHaveLength(1);
    });
  });

  it('an enrolment started before the owner enrolled a factor cannot be finished after (no factor added without the existing one)', async () => {
    const account = await world.account();
    const early = new StaffClient(world.app, '198.51.100.77');
    await early.login(account.login);
    const started = (await early.request('POST', '/api/v1/me/factors/totp')).json();
    await enrolled(world, account); // the owner enrols their own factor meanwhile
    world.clock.advance(30_000);
    const late = await early.request('POST', '/api/v1/me/factors/totp/confirm', {
      factorId: started.factorId,
      code: await totpAt(started.secret, world.clock.now()),
    });
    expect(late.statusCode).toBe(403);
    expect(late.json().code).toBe('step_up_required');
  });

  describe('sessions', () => {
    it('refuses a state-changing request without the CSRF token, or with another session’s', async () => {
      const account = await world.account();
      const { client } = await enrolled(world, account);
      const other = await enrolled(world, await world.account());
      for (const csrf of [null, 'x'.repeat(43), other.client.csrf!]) {
        const response = await client.request('POST', '/api/v1/auth/logout', undefined, { csrf });
        expect(response.statusCode).toBe(403);
        expect(response.json().code).toBe('csrf_failed');
      }
      expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(200);
      expect((await client.request('POST', '/api/v1/auth/logout')).statusCode).toBe(204);
      expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(401);
    });

    it('ends a session idle for 15 minutes', async () => {
      const { client } = await enrolled(world, await world.account());
      world.clock.advance(14 * MINUTE);
      expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(200);
      world.clock.advance(15 * MINUTE);
      const response = await client.request('GET', '/api/v1/me');
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('unauthenticated');
    });

    it('records a use at most once a minute: idle time counts from the last record, ending a session early, never late', async () => {
      const account = await world.account();
      const { client } = await enrolled(world, account);
      const lastSeen = async (): Promise<number> => {
        const [row] = await world.t.db.tx(systemCtx('test').actor, (tx) =>
          tx.query<{ at: Date }>(
            'SELECT last_seen_at AS at FROM sessions WHERE account_id = $1 AND revoked_at IS NULL',
            [account.id],
          ),
        );
        return row!.at.getTime();
      };
      const recorded = await lastSeen();
      // A use less than SESSION_TOUCH_SECONDS after the last record is not written...
      world.clock.advance((SESSION_TOUCH_SECONDS - 1) * 1000);
      expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(200);
      expect(await lastSeen()).toBe(recorded);
      // ... so the idle timeout runs from the record: 15 minutes after it, the session has ended,
      // though its last use was less than 15 minutes ago.
      world.clock.advance(15 * MINUTE - (SESSION_TOUCH_SECONDS - 1) * 1000);
      const response = await client.request('GET', '/api/v1/me');
      expect(response.statusCode).toBe(401);
    });

    it('writes a use once the record is a minute old, which restarts the idle timeout', async () => {
      const { client } = await enrolled(world, await world.account());
      world.clock.advance(SESSION_TOUCH_SECONDS * 1000);
      expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(200);
      world.clock.advance(15 * MINUTE - 1000);
      expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(200);
    });

    it('ends a session 10 hours after login, however busy', async () => {
      const { client } = await enrolled(world, await world.account());
      for (let elapsed = 0; elapsed < 9 * 60 + 50; elapsed += 10) {
        world.clock.advance(10 * MINUTE);
        expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(200);
      }
      world.clock.advance(10 * MINUTE);
      expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(401);
    });

    it('lists my sessions and ends them all at once', async () => {
      const account = await world.account();
      const first = await enrolled(world, account);
      world.clock.advance(30_000);
      const second = new StaffClient(world.app, '192.0.2.7');
      await second.login(account.login);
      await second.request('POST', '/api/v1/auth/recovery-code', { code: first.recoveryCodes[0] });
      const listed = (await first.client.request('GET', '/api/v1/me/sessions')).json().sessions;
      expect(listed).toHaveLength(2);
      expect(listed.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
      expect(JSON.stringify(listed)).not.toContain(first.client.cookie);
      expect((await first.client.request('POST', '/api/v1/auth/logout-everywhere')).json()).toEqual({
        ended: 2,
      });
      expect((await second.request('GET', '/api/v1/me')).statusCode).toBe(401);
      expect((await first.client.request('GET', '/api/v1/me')).statusCode).toBe(401);
    });
  });

  describe('brute force', () => {
    it('backs off from the third failure, locks at the tenth, tells the owner, and lets them in after the lock', async () => {
      const account = await world.account();
      const client = () => new StaffClient(world.app, '198.51.100.9');
      for (let i = 1; i <= 2; i++)
        expect((await client().login(account.login, `wrong ${i}`)).statusCode).toBe(401);
      expect((await client().login(account.login)).statusCode).toBe(200); // two failures: no delay yet
      for (let i = 1; i <= 3; i++) await client().login(account.login, `wrong ${i}`);
      // Third failure: even the right password must wait a second.
      expect((await client().login(account.login)).statusCode).toBe(401);
      world.clock.advance(1_100);
      expect((await client().login(account.login)).statusCode).toBe(200);
      for (let i = 1; i <= 10; i++) {
        world.clock.advance(300_000); // wait out each backoff: only the lock should stop the owner
        await client().login(account.login, `wrong again ${i}`);
      }
      world.clock.advance(60_000);
      expect((await client().login(account.login)).statusCode).toBe(401); // locked
      const notices = await world.t.db.tx(systemCtx('test').actor, (tx) =>
        tx.query<{ kind: string }>('SELECT kind FROM staff_notices WHERE account_id = $1', [account.id]),
      );
      expect(notices.map((n) => n.kind)).toEqual(['login_locked']);
      await world.drainMail();
      const mails = (world.mailer as unknown as { sent: { to: string; subject: string }[] }).sent.filter(
        (m) => m.to === account.email,
      );
      expect(mails).toHaveLength(1);
      world.clock.advance(15 * MINUTE);
      expect((await client().login(account.login)).statusCode).toBe(200);
    });

    it('throttles second-factor guessing from a stolen password: backoff, then a lock that ends the session and tells the owner', async () => {
      const account = await world.account();
      const { secret } = await enrolled(world, account);
      const attacker = new StaffClient(world.app, '198.51.100.23');
      world.clock.advance(31_000);
      await attacker.login(account.login);
      for (let i = 0; i < 3; i++) {
        expect((await attacker.request('POST', '/api/v1/auth/totp', { code: '000000' })).statusCode).toBe(
          401,
        );
      }
      // In the backoff, even the right code is not checked.
      const blocked = await attacker.request('POST', '/api/v1/auth/totp', {
        code: await totpAt(secret, world.clock.now()),
      });
      expect(blocked.json().code).toBe('second_factor_failed');
      for (let i = 3; i < 10; i++) {
        world.clock.advance(300_000);
        const me = await attacker.request('GET', '/api/v1/me');
        if (me.statusCode === 401) break; // idle timeout would also end it; keep the session alive below
        await attacker.request('POST', '/api/v1/auth/recovery-code', {
          code: `GUES-SING-CODE-${String(i).padStart(4, '0')}`,
        });
      }
      expect((await attacker.request('GET', '/api/v1/me')).statusCode).toBe(401);
      const notices = await world.t.db.tx(systemCtx('test').actor, (tx) =>
        tx.query<{ kind: string }>(`SELECT kind FROM staff_notices WHERE account_id = $1`, [account.id]),
      );
      expect(notices.map((n) => n.kind)).toContain('login_locked');
      world.clock.advance(60_000);
      expect((await new StaffClient(world.app, '192.0.2.50').login(account.login)).json().code).toBe(
        'login_failed',
      );
      world.clock.advance(15 * MINUTE);
      const owner = new StaffClient(world.app, '192.0.2.50');
      expect((await owner.login(account.login)).statusCode).toBe(200);
      expect(
        (await owner.request('POST', '/api/v1/auth/totp', { code: await totpAt(secret, world.clock.now()) }))
          .statusCode,
      ).toBe(200);
    });

    it('counts failures per source address too, across accounts', async () => {
      const address = '203.0.113.44';
      const victims = await Promise.all([1, 2, 3, 4, 5].map(() => world.account()));
      for (const victim of victims) {
        for (let i = 0; i < 2; i++) {
          world.clock.advance(300_000);
          await new StaffClient(world.app, address).login(victim.login, 'spray guess 2026!');
        }
      }
      const fresh = await world.account();
      world.clock.advance(60_000);
      expect((await new StaffClient(world.app, address).login(fresh.login)).statusCode).toBe(401);
      expect((await new StaffClient(world.app, '203.0.113.45').login(fresh.login)).statusCode).toBe(200);
    });
  });
});
