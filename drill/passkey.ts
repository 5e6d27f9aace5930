/**
 * An owner's passkey, as the drill's honest staff use it through the API: enrolled once after a
 * first password login, then the daily passwordless login (POST /api/v1/auth/passkey/options and
 * /api/v1/auth/passkey: a user-verified assertion is two factors by itself), and the fresh second
 * factor the guard may ask for (POST /api/v1/auth/webauthn/options and /api/v1/auth/webauthn: the
 * step-up of an open session). The key is a software authenticator (virtual-authenticator.ts)
 * whose origin is the server's PUBLIC_URL, as a browser on that page reports it.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { DrillClient, Exchange } from './client.ts';
import { VirtualAuthenticator } from './virtual-authenticator.ts';

/** A passkey held by an owner, for the server at `origin`. */
export function passkeyFor(origin: string): VirtualAuthenticator {
  return new VirtualAuthenticator({ origin: new URL(origin).origin });
}

/**
 * From a password session of an account with no second factor yet: enrols the passkey (the
 * account's first factor, so no password again), which raises the session to mfa. Returns the
 * enrolment's answer (status 200 with the recovery codes on success).
 */
export async function enrolPasskey(client: DrillClient, key: VirtualAuthenticator): Promise<Exchange> {
  const options = await client.post('/api/v1/me/factors/webauthn/options', {});
  if (options.status !== 200) return options;
  const response = key.createCredential(options.body as PublicKeyCredentialCreationOptionsJSON);
  return client.post('/api/v1/me/factors/webauthn', { response, label: 'passkey' });
}

/** The passwordless login: options naming no account, then the assertion; an mfa session on success. */
export async function passkeyLogin(client: DrillClient, key: VirtualAuthenticator): Promise<Exchange> {
  client.forget();
  const options = await client.post('/api/v1/auth/passkey/options', {});
  if (options.status !== 200) return options;
  const response: AuthenticationResponseJSON = key.getAssertion(
    options.body as PublicKeyCredentialRequestOptionsJSON,
  );
  return client.post('/api/v1/auth/passkey', { response });
}

/**
 * The passkey as the second factor of the session open on `client` (after a password login), or
 * as a fresh one for a step-up: the session is raised to mfa, or its step-up time renewed.
 */
export async function passkeySecondFactor(client: DrillClient, key: VirtualAuthenticator): Promise<Exchange> {
  const options = await client.post('/api/v1/auth/webauthn/options', {});
  if (options.status !== 200) return options;
  const response = key.getAssertion(options.body as PublicKeyCredentialRequestOptionsJSON);
  return client.post('/api/v1/auth/webauthn', { response });
}
