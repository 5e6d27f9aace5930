/**
 * WebAuthn as staff second factor (docs/DESIGN.md §5: passkeys and security keys, preferred over TOTP),
 * through the HTTP API with a software authenticator that signs for real: enrolment as the first
 * factor, login, replay, another account's key, a stale challenge, and the step-up rule for adding
 * a factor (T1: a stolen password must not be able to add the attacker's authenticator).
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import type { Account } from '../src/identity/accounts.ts';
import { recordWebauthnUse, webauthnCredentials } from '../src/identity/webauthn-factors.ts';
import { engine } from './helpers/db.ts';
import { enrolled, PASSWORD, StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';
import { VirtualAuthenticator } from './helpers/virtual-authenticator.ts';

const MINUTE = 60_000;
/** The origin the app expects, as staffWorld configures it (PUBLIC_URL unset: http://localhost:8080). */
const ORIGIN = loadConfig({ LOG_LEVEL: 'silent' }).publicUrl;
const system = systemCtx('test').actor;

/** An honest authenticator, in a browser on Rempart's own origin. */
const newKey = (): VirtualAuthenticator => new VirtualAuthenticator({ origin: ORIGIN });

function expectProblem(response: LightMyRequestResponse, status: number, code: string): void {
  expect({ status: response.statusCode, code: response.json().code }).toEqual({ status, code });
}

describe(`WebAuthn second factor on ${engine}`, () => {
  let world: StaffWorld;
  beforeAll(async () => {
    world = await staffWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  const passwordSession = async (account: Account): Promise<StaffClient> => {
    const client = new StaffClient(world.app);
    expect((await client.login(account.login)).statusCode).toBe(200);
    return client;
  };

  /** The browser half of enrolment: options, navigator.credentials.create(), the answer. */
  const enrolKey = async (
    client: StaffClient,
    key: VirtualAuthenticator,
    label?: string,
  ): Promise<LightMyRequestResponse> => {
    const options = await client.request('POST', '/api/v1/me/factors/webauthn/options');
    expect(options.statusCode).toBe(200);
    const response: RegistrationResponseJSON = key.createCredential(options.json());
    return client.request('POST', '/api/v1/me/factors/webauthn', {
      response,
      ...(label === undefined ? {} : { label }),
    });
  };

  /** Options, then navigator.credentials.get(): the assertion, not yet sent. */
  const assertion = async (
    client: StaffClient,
    key: VirtualAuthenticator,
  ): Promise<AuthenticationResponseJSON> => {
    const options = await client.request('POST', '/api/v1/auth/webauthn/options');
    expect(options.statusCode).toBe(200);
    return key.getAssertion(options.json());
  };

  const send = (client: StaffClient, response: AuthenticationResponseJSON): Promise<LightMyRequestResponse> =>
    client.request('POST', '/api/v1/auth/webauthn', { response });

  /** A new account that enrolled `key` as its first factor; the client is at 'mfa'. */
  const passkeyUser = async (key = newKey(), organisationId?: string) => {
    const account = await world.account(organisationId ? { organisationId } : {});
    const client = await passwordSession(account);
    const enrolment = await enrolKey(client, key);
    expect(enrolment.statusCode).toBe(200);
    return { account, client, key, recoveryCodes: enrolment.json().recoveryCodes as string[] };
  };

  const events = (accountId: string, action: string) =>
    world.t.db.tx(system, (tx) =>
      tx.query<{ action: string; details: Record<string, unknown> }>(
        'SELECT action, details FROM security_events WHERE target_account_id = $1 AND action = $2 ORDER BY id',
        [accountId, action],
      ),
    );

  const storedKeys = (accountId: string) =>
    world.t.db.tx(system, (tx) =>
      tx.query<{
        credential_id: string;
        label: string;
        sign_count: string | number;
        transports: string[];
        confirmed_at: Date | null;
        last_used_at: Date | null;
      }>(
        `SELECT credential_id, label, sign_count, transports, confirmed_at, last_used_at FROM second_factors
         WHERE account_id = $1 AND kind = 'webauthn' ORDER BY created_at`,
        [accountId],
      ),
    );

  it('enrols a passkey as the first factor: ten recovery codes, probation, an mfa session', async () => {
    const account = await world.account();
    const client = await passwordSession(account);
    const key = newKey();
    const options = (await client.request('POST', '/api/v1/me/factors/webauthn/options')).json();
    expect(options).toMatchObject({
      rp: { id: 'localhost', name: 'Rempart' },
      // The user handle is the opaque account id, never the login (WebAuthn §14.6.1).
      user: { id: isoBase64URL.fromUTF8String(account.id), name: account.login },
      authenticatorSelection: { userVerification: 'required' },
      attestation: 'none',
      excludeCredentials: [],
    });
    const before = client.cookie;
    const enrolment = await client.request('POST', '/api/v1/me/factors/webauthn', {
      response: key.createCredential(options),
      label: 'YubiKey bureau',
    });
    expect(enrolment.statusCode).toBe(200);
    const body = enrolment.json();
    expect(body.assurance).toBe('mfa');
    expect(body.recoveryCodes).toHaveLength(10);
    expect(client.cookie).not.toBe(before);

    const me = (await client.request('GET', '/api/v1/me')).json();
    expect(me).toMatchObject({ assurance: 'mfa', account: { status: 'probation' } });
    expect((await client.request('GET', '/api/v1/me/sessions')).statusCode).toBe(200);
    const [stored] = await storedKeys(account.id);
    expect(stored).toMatchObject({
      credential_id: key.credentialIds[0],
      label: 'YubiKey bureau',
      transports: ['usb'],
    });
    expect(Number(stored!.sign_count)).toBe(0);
    expect(stored!.confirmed_at).not.toBeNull();
    expect((await events(account.id, 'factor.webauthn_enrolled')).length).toBe(1);
    expect((await events(account.id, 'factor.recovery_codes_issued')).length).toBe(1);
    expect((await events(account.id, 'account.probation_started')).length).toBe(1);
    expect((await events(account.id, 'login.second_factor_ok')).map((e) => e.details)).toEqual([
      { method: 'webauthn_enrolment' },
    ]);
    // The next login asks for it.
    const next = (await new StaffClient(world.app).login(account.login)).json();
    expect(next).toMatchObject({ next: 'verify_second_factor', factors: ['webauthn', 'recovery_code'] });
  });

  it('refuses a passkey made on another origin (a phishing page), and stores nothing', async () => {
    const account = await world.account();
    const client = await passwordSession(account);
    const phished = new VirtualAuthenticator({ origin: 'https://rempart-connexion.example' });
    const attempt = await enrolKey(client, phished);
    expectProblem(attempt, 401, 'second_factor_failed');
    expect(await storedKeys(account.id)).toEqual([]);
    expect((await client.request('GET', '/api/v1/me')).json()).toMatchObject({
      assurance: 'password',
      account: { status: 'pending_enrolment' },
    });
    expect((await events(account.id, 'factor.webauthn_enrolment_failed')).length).toBe(1);
  });

  it('logs in with password then passkey: mfa, a new session id, the counter stored', async () => {
    const { account, key } = await passkeyUser(newKey());
    world.clock.advance(MINUTE);
    const client = await passwordSession(account);
    const options = (await client.request('POST', '/api/v1/auth/webauthn/options')).json();
    expect(options).toMatchObject({
      rpId: 'localhost',
      userVerification: 'required',
      allowCredentials: [{ id: key.credentialIds[0], type: 'public-key' }],
    });
    const before = client.cookie;
    const verified = await send(client, key.getAssertion(options));
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toEqual({ assurance: 'mfa', csrfToken: expect.any(String) });
    expect(client.cookie).not.toBe(before);
    expect((await client.request('GET', '/api/v1/me/sessions')).statusCode).toBe(200);
    const stale = new StaffClient(world.app);
    stale.cookie = before;
    expect((await stale.request('GET', '/api/v1/me')).statusCode).toBe(401);

    const [stored] = await storedKeys(account.id);
    expect(Number(stored!.sign_count)).toBe(1);
    expect(stored!.last_used_at?.getTime()).toBe(world.clock.now().getTime());
    expect((await events(account.id, 'login.second_factor_ok')).map((e) => e.details)).toEqual([
      { method: 'webauthn_enrolment' },
      { method: 'webauthn' },
    ]);
  });

  it('refuses a replayed assertion, even sent with a fresh challenge pending', async () => {
    const { account, key } = await passkeyUser();
    const first = await passwordSession(account);
    const used = await assertion(first, key);
    expect((await send(first, used)).statusCode).toBe(200);

    const replayer = await passwordSession(account);
    await replayer.request('POST', '/api/v1/auth/webauthn/options'); // a fresh challenge on this session
    const replay = await send(replayer, used);
    expectProblem(replay, 401, 'second_factor_failed');
    expectProblem(await replayer.request('GET', '/api/v1/me/sessions'), 403, 'second_factor_required');
    expect((await events(account.id, 'login.second_factor_failed')).map((e) => e.details)).toEqual([
      { method: 'webauthn' },
    ]);
  });

  it("refuses an assertion made with another account's credential (another organisation)", async () => {
    const victim = await passkeyUser();
    const attacker = await passkeyUser(newKey(), await world.organisation());
    const client = await passwordSession(victim.account);
    const options = (await client.request('POST', '/api/v1/auth/webauthn/options')).json();
    // The attacker's authenticator signs the victim's challenge with the attacker's own key.
    const forged = attacker.key.getAssertion({ ...options, allowCredentials: [] });
    expect(forged.id).toBe(attacker.key.credentialIds[0]);
    expectProblem(await send(client, forged), 401, 'second_factor_failed');
    expect((await client.request('GET', '/api/v1/me')).json().assurance).toBe('password');
    expect((await events(victim.account.id, 'login.second_factor_failed')).length).toBe(1);
    // The attacker's stored counter did not move either.
    expect(Number((await storedKeys(attacker.account.id))[0]!.sign_count)).toBe(0);
  });

  it('lets one of two requests racing with the same assertion through', async () => {
    const { account, key } = await passkeyUser();
    const client = await passwordSession(account);
    const response = await assertion(client, key);
    const results = await Promise.all([send(client, response), send(client, response)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
    expect(Number((await storedKeys(account.id))[0]!.sign_count)).toBe(1);
  });

  it('stores a new counter once for a given old one, so two uses of one counter cannot both pass', async () => {
    const { account } = await passkeyUser();
    const [credential] = await world.t.db.tx(system, (tx) => webauthnCredentials(tx, account.id));
    const use = (newCounter: number) =>
      world.t.db.tx(system, (tx) =>
        recordWebauthnUse(tx, account.id, credential!, newCounter, world.clock.now()),
      );
    expect(await use(1)).toBe(true);
    expect(await use(1)).toBe(false);
    expect(await use(2)).toBe(false); // still the old counter (0) in hand: stale
  });

  it('refuses a cloned key whose counter lags behind the stored one (WebAuthn §6.1.1)', async () => {
    const { account, key } = await passkeyUser();
    const clone = key.cloneWithCounter(0);
    for (let i = 0; i < 2; i++) {
      const client = await passwordSession(account);
      expect((await send(client, await assertion(client, key))).statusCode).toBe(200);
    }
    const client = await passwordSession(account);
    expectProblem(await send(client, await assertion(client, clone)), 401, 'second_factor_failed');
  });

  it('refuses an answer to an old challenge, and a failed answer uses up the pending one', async () => {
    const { account, key } = await passkeyUser();
    const client = await passwordSession(account);
    const old = (await client.request('POST', '/api/v1/auth/webauthn/options')).json();
    const current = (await client.request('POST', '/api/v1/auth/webauthn/options')).json();
    expect(current.challenge).not.toBe(old.challenge);
    expectProblem(await send(client, key.getAssertion(old)), 401, 'second_factor_failed');
    // One challenge, one attempt: the current challenge went with the failed answer.
    expectProblem(await send(client, key.getAssertion(current)), 401, 'second_factor_failed');
    expect((await send(client, await assertion(client, key))).statusCode).toBe(200);
  });

  it('refuses an answer after the five minutes of its challenge', async () => {
    const { account, key } = await passkeyUser();
    const client = await passwordSession(account);
    const options = (await client.request('POST', '/api/v1/auth/webauthn/options')).json();
    world.clock.advance(5 * MINUTE + 1_000);
    expectProblem(await send(client, key.getAssertion(options)), 401, 'second_factor_failed');
  });

  describe('adding a passkey to an account that has a factor', () => {
    it('is refused to a password-only session (step_up_required), whatever the existing factor', async () => {
      const withKey = await passkeyUser();
      const withApp = await world.account();
      await enrolled(world, withApp);
      for (const account of [withKey.account, withApp]) {
        const thief = await passwordSession(account);
        expectProblem(
          await thief.request('POST', '/api/v1/me/factors/webauthn/options'),
          403,
          'step_up_required',
        );
      }
      expect(await storedKeys(withApp.id)).toEqual([]);
    });

    it('is refused at the answer if a factor was enrolled after the options were given', async () => {
      const account = await world.account();
      const thief = await passwordSession(account);
      const options = (await thief.request('POST', '/api/v1/me/factors/webauthn/options')).json();
      const owner = await passwordSession(account);
      expect((await enrolKey(owner, newKey())).statusCode).toBe(200);
      const late = await thief.request('POST', '/api/v1/me/factors/webauthn', {
        response: newKey().createCredential(options),
      });
      expectProblem(late, 403, 'step_up_required');
      expect(await storedKeys(account.id)).toHaveLength(1);
    });

    it('needs a passkey verified within five minutes; a new assertion (step-up) allows it', async () => {
      const { account, client, key } = await passkeyUser();
      world.clock.advance(6 * MINUTE);
      expectProblem(
        await client.request('POST', '/api/v1/me/factors/webauthn/options'),
        403,
        'step_up_required',
      );

      // Step-up from the mfa session: the same two routes as the login.
      const stepUp = await send(client, await assertion(client, key));
      expect(stepUp.statusCode).toBe(200);
      const [live] = await world.t.db.tx(system, (tx) =>
        tx.query<{ mfa_at: Date; assurance: string }>(
          'SELECT mfa_at, assurance FROM sessions WHERE account_id = $1 AND revoked_at IS NULL',
          [account.id],
        ),
      );
      expect(live).toEqual({ mfa_at: world.clock.now(), assurance: 'mfa' });

      // A fresh second factor is not enough: a session stolen right after its owner's login is
      // fresh too. The password is typed again (full re-authentication, ASVS 7.5.1).
      const bare = await client.request('POST', '/api/v1/me/factors/webauthn/options');
      expectProblem(bare, 403, 'step_up_required');
      expect(bare.json().field).toBe('password');
      expectProblem(
        await client.request('POST', '/api/v1/me/factors/webauthn/options', {
          password: 'not the password at all',
        }),
        403,
        'step_up_required',
      );
      const failures = await world.t.db.tx(system, (tx) =>
        tx.query<{ failures: number }>(
          `SELECT failures FROM auth_throttle WHERE scope = 'account' AND key = $1`,
          [account.login],
        ),
      );
      expect(failures[0]?.failures).toBe(1);
      const options = (
        await client.request('POST', '/api/v1/me/factors/webauthn/options', { password: PASSWORD })
      ).json();
      // The enrolled key is excluded: an authenticator is not enrolled twice.
      expect(options.excludeCredentials.map((d: { id: string }) => d.id)).toEqual(key.credentialIds);
      expect(() => key.createCredential(options)).toThrow(/InvalidStateError/);
      const second = newKey();
      const added = await client.request('POST', '/api/v1/me/factors/webauthn', {
        response: second.createCredential(options),
      });
      expect(added.statusCode).toBe(200);
      // Recovery codes are issued once, with the first factor.
      expect(added.json()).toEqual({ assurance: 'mfa', csrfToken: expect.any(String) });
      // The owner is told (ASVS 6.3.7): a factor they did not add means a stolen session.
      await world.drainMail();
      const sent = (world.mailer as unknown as { sent: { to: string; subject: string }[] }).sent;
      expect(
        sent.filter((m) => m.to === account.email && /facteur a été ajouté/.test(m.subject)),
      ).toHaveLength(1);
      expect((await storedKeys(account.id)).map((k) => k.label)).toEqual([
        'Clé de sécurité',
        'Clé de sécurité',
      ]);

      // And the new key logs in.
      const later = await passwordSession(account);
      expect((await send(later, await assertion(later, second))).statusCode).toBe(200);
    });
  });

  it('refuses a body that is not the WebAuthn JSON serialisation', async () => {
    const { account, key } = await passkeyUser();
    const client = await passwordSession(account);
    const response = await assertion(client, key);
    const cases: [unknown, string][] = [
      [{ response, extra: 1 }, 'extra'],
      [{ response: { ...response, type: 'password' } }, 'type'],
      [
        { response: { ...response, response: { ...response.response, signature: 'not base64url!' } } },
        'signature',
      ],
    ];
    for (const [body, field] of cases) {
      const refused = await client.request('POST', '/api/v1/auth/webauthn', body);
      expectProblem(refused, 400, 'validation_failed');
      expect(refused.json().field).toContain(field);
    }
  });

  it('documents the four routes in /api/openapi.json, tagged auth, with response schemas', async () => {
    const document = (await world.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    for (const path of [
      '/api/v1/me/factors/webauthn/options',
      '/api/v1/me/factors/webauthn',
      '/api/v1/auth/webauthn/options',
      '/api/v1/auth/webauthn',
    ]) {
      const operation = document.paths[path]?.post;
      expect(operation, path).toBeDefined();
      expect(operation.tags).toEqual(['auth']);
      expect(operation.responses['200'].content['application/json'].schema.additionalProperties).toBe(false);
    }
  });
});
