/**
 * Lockout is not a weapon (docs/DESIGN.md section 13): whoever fails an agent's password ten times locks
 * it, but the owner still gets in with a bound passkey, without a helpdesk call. The passkey path is
 * no way around a suspension, a replay, or someone else's key.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import type { Account } from '../src/identity/accounts.ts';
import { engine } from './helpers/db.ts';
import { StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';
import { VirtualAuthenticator } from './helpers/virtual-authenticator.ts';

const ORIGIN = loadConfig({ LOG_LEVEL: 'silent' }).publicUrl;

describe(`passkey login on ${engine}`, () => {
  let world: StaffWorld;
  beforeAll(async () => {
    world = await staffWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  /** An account whose first factor is a passkey held by `key`. */
  const passkeyOwner = async (): Promise<{ account: Account; key: VirtualAuthenticator }> => {
    const account = await world.account();
    const key = new VirtualAuthenticator({ origin: ORIGIN });
    const client = new StaffClient(world.app);
    await client.login(account.login);
    const options = await client.request('POST', '/api/v1/me/factors/webauthn/options');
    const response: RegistrationResponseJSON = key.createCredential(options.json());
    expect((await client.request('POST', '/api/v1/me/factors/webauthn', { response })).statusCode).toBe(200);
    return { account, key };
  };

  const passkeyAssertion = async (key: VirtualAuthenticator): Promise<AuthenticationResponseJSON> => {
    const options = await new StaffClient(world.app).request('POST', '/api/v1/auth/passkey/options');
    expect(options.statusCode).toBe(200);
    expect(options.json().allowCredentials ?? []).toEqual([]); // names no account
    return key.getAssertion(options.json());
  };

  it('lets the owner in with the passkey while the password is locked by someone else', async () => {
    const { account, key } = await passkeyOwner();
    for (let i = 0; i < 10; i++) {
      world.clock.advance(300_000);
      await new StaffClient(world.app, '203.0.113.99').login(account.login, `wrong ${i}`);
    }
    world.clock.advance(60_000);
    expect((await new StaffClient(world.app, '192.0.2.10').login(account.login)).json().code).toBe(
      'login_failed',
    );
    const owner = new StaffClient(world.app, '192.0.2.10');
    const response = await owner.request('POST', '/api/v1/auth/passkey', {
      response: await passkeyAssertion(key),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ assurance: 'mfa', account: { login: account.login } });
    expect((await owner.request('GET', '/api/v1/me/sessions')).statusCode).toBe(200);
    // The owner's success clears the lock.
    expect((await new StaffClient(world.app, '192.0.2.11').login(account.login)).statusCode).toBe(200);
  });

  it('refuses a replayed assertion, an unknown key, and a suspended account', async () => {
    const { account, key } = await passkeyOwner();
    const assertion = await passkeyAssertion(key);
    expect(
      (await new StaffClient(world.app).request('POST', '/api/v1/auth/passkey', { response: assertion }))
        .statusCode,
    ).toBe(200);
    const replay = await new StaffClient(world.app).request('POST', '/api/v1/auth/passkey', {
      response: assertion,
    });
    expect(replay.json().code).toBe('second_factor_failed');

    const stranger = new VirtualAuthenticator({ origin: ORIGIN });
    stranger.createCredential({
      rp: { id: 'localhost', name: 'Rempart' },
      user: { id: 'c3RyYW5nZXI', name: 'stranger', displayName: 'Stranger' },
      challenge: 'Y2hhbGxlbmdlY2hhbGxlbmdl',
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    });
    const unknown = await new StaffClient(world.app).request('POST', '/api/v1/auth/passkey', {
      response: await passkeyAssertion(stranger),
    });
    expect(unknown.json().code).toBe('second_factor_failed');

    await world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query(`UPDATE accounts SET status = 'suspended' WHERE id = $1`, [account.id]),
    );
    const suspended = await new StaffClient(world.app).request('POST', '/api/v1/auth/passkey', {
      response: await passkeyAssertion(key),
    });
    expect(suspended.json().code).toBe('second_factor_failed');
  });
});
