import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { describe, expect, it } from 'vitest';
import { VirtualAuthenticator } from '../../test/helpers/virtual-authenticator.ts';
import { AppError } from '../errors.ts';
import {
  authenticationOptions,
  findCredential,
  type RelyingParty,
  registrationOptions,
  type StoredCredential,
  verifyAuthentication,
  verifyRegistration,
} from './webauthn.ts';

const rp: RelyingParty = { id: 'localhost', name: 'Rempart', origin: 'http://localhost:8080' };
const alice = {
  accountId: '0b6f7a52-6c1e-4d0e-9a51-3f0b1c2d4e5f',
  login: 'a.martin',
  displayName: 'A. Martin',
};
const bob = {
  accountId: '7d1c2e3f-0a9b-4c8d-8e7f-6a5b4c3d2e1f',
  login: 'b.durand',
  displayName: 'B. Durand',
};

/** An honest authenticator on the real front end. */
function honest(): VirtualAuthenticator {
  return new VirtualAuthenticator({ origin: rp.origin });
}

async function enrol(
  authenticator: VirtualAuthenticator,
  user = alice,
  existing: StoredCredential[] = [],
): Promise<StoredCredential> {
  const { options, challenge } = await registrationOptions(rp, user, existing);
  return verifyRegistration(rp, challenge, authenticator.createCredential(options));
}

/** Every string value in a response, nested ones included: none may appear in an error. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.length >= 4 ? [value] : [];
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

/** Client data as the browser sent it, decoded: its challenge and origin must not leak either. */
function clientDataStrings(response: RegistrationResponseJSON | AuthenticationResponseJSON): string[] {
  try {
    return stringsOf(JSON.parse(isoBase64URL.toUTF8String(response.response.clientDataJSON)));
  } catch {
    return [];
  }
}

async function expectSecondFactorFailure(
  attempt: Promise<unknown>,
  response: RegistrationResponseJSON | AuthenticationResponseJSON,
): Promise<void> {
  const error = await attempt.then(
    () => expect.fail('verification should have failed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe('second_factor_failed');
  expect(appError.status).toBe(401);
  expect(appError.message).toBe('second factor verification failed');
  expect(appError.cause).toBeUndefined();
  for (const leaked of [...stringsOf(response), ...clientDataStrings(response)]) {
    expect(appError.message).not.toContain(leaked);
  }
}

describe('registration options', () => {
  it('require user verification, prefer a resident key, ask no attestation, exclude enrolled keys', async () => {
    const enrolled = await enrol(honest());
    const { options, challenge } = await registrationOptions(rp, alice, [enrolled]);
    expect(options.challenge).toBe(challenge);
    expect(isoBase64URL.toBuffer(challenge).length).toBeGreaterThanOrEqual(16);
    expect(options.rp).toEqual({ id: 'localhost', name: 'Rempart' });
    // The user handle is the opaque account id, not the login.
    expect(isoBase64URL.toUTF8String(options.user.id)).toBe(alice.accountId);
    expect(options.user.name).toBe(alice.login);
    expect(options.authenticatorSelection).toMatchObject({
      userVerification: 'required',
      residentKey: 'preferred',
    });
    expect(options.attestation).toBe('none');
    expect(options.timeout).toBe(300_000);
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-7, -8, -257]); // ES256, EdDSA, RS256
    expect(options.excludeCredentials).toEqual([
      { id: enrolled.credentialId, transports: ['usb'], type: 'public-key' },
    ]);
  });

  it('give each ceremony a fresh challenge', async () => {
    const first = await registrationOptions(rp, alice, []);
    const second = await registrationOptions(rp, alice, []);
    expect(first.challenge).not.toBe(second.challenge);
  });

  it('let an authenticator refuse to enrol twice for the same account', async () => {
    const authenticator = honest();
    const enrolled = await enrol(authenticator);
    const { options } = await registrationOptions(rp, alice, [enrolled]);
    expect(() => authenticator.createCredential(options)).toThrow(/InvalidStateError/);
  });
});

describe('registration then authentication', () => {
  it('round-trips with real verification and advances the counter', async () => {
    const authenticator = honest();
    const stored = await enrol(authenticator);
    expect(stored.credentialId).toBe(authenticator.credentialIds[0]);
    expect(stored.counter).toBe(0);
    expect(stored.transports).toEqual(['usb']);
    expect(stored.publicKey.length).toBeGreaterThan(64);

    let credential = stored;
    for (const expected of [1, 2, 3]) {
      const { options, challenge } = await authenticationOptions(rp, [credential]);
      expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'required', timeout: 300_000 });
      expect(options.allowCredentials).toEqual([
        { id: credential.credentialId, transports: ['usb'], type: 'public-key' },
      ]);
      const response = authenticator.getAssertion(options);
      const { newCounter } = await verifyAuthentication(rp, challenge, credential, response);
      expect(newCounter).toBe(expected);
      credential = { ...credential, counter: newCounter };
    }
  });

  it('finds the credential an assertion names among the account credentials', async () => {
    const first = honest();
    const second = honest();
    const credentials = [await enrol(first), await enrol(second)];
    const { options, challenge } = await authenticationOptions(rp, credentials);
    const response = second.getAssertion(options);
    const credential = findCredential(credentials, response);
    expect(credential).toBe(credentials[1]);
    await expect(verifyAuthentication(rp, challenge, credential, response)).resolves.toEqual({
      newCounter: 1,
    });
  });
});

describe('registration is refused', () => {
  it('for another challenge', async () => {
    const { options } = await registrationOptions(rp, alice, []);
    const other = await registrationOptions(rp, alice, []);
    const response = honest().createCredential(options);
    await expectSecondFactorFailure(verifyRegistration(rp, other.challenge, response), response);
  });

  it.each([
    ['from another origin (phishing page)', { origin: 'https://rempart-login.example' }],
    ['for another RP id', { origin: rp.origin, rpId: 'evil.example' }],
    ['without user verification', { origin: rp.origin, userVerified: false }],
    ['inside a cross-origin frame', { origin: rp.origin, crossOrigin: true }],
  ])('%s', async (_case, behaviour) => {
    const { options, challenge } = await registrationOptions(rp, alice, []);
    const response = new VirtualAuthenticator(behaviour).createCredential(options);
    await expectSecondFactorFailure(verifyRegistration(rp, challenge, response), response);
  });

  it('when the JSON id does not name the credential in the authenticator data', async () => {
    const { options, challenge } = await registrationOptions(rp, alice, []);
    const response = honest().createCredential(options);
    const otherId = honest().createCredential(options).id;
    const swapped = { ...response, id: otherId, rawId: otherId };
    await expectSecondFactorFailure(verifyRegistration(rp, challenge, swapped), swapped);
  });
});

describe('authentication is refused', () => {
  async function enrolled(): Promise<{ authenticator: VirtualAuthenticator; credential: StoredCredential }> {
    const authenticator = honest();
    return { authenticator, credential: await enrol(authenticator) };
  }

  it('for another challenge', async () => {
    const { authenticator, credential } = await enrolled();
    const { options } = await authenticationOptions(rp, [credential]);
    const other = await authenticationOptions(rp, [credential]);
    const response = authenticator.getAssertion(options);
    await expectSecondFactorFailure(
      verifyAuthentication(rp, other.challenge, credential, response),
      response,
    );
  });

  it.each([
    ['from another origin (phishing page)', { origin: 'https://rempart-login.example' }],
    ['for another RP id', { rpId: 'evil.example' }],
    ['without user verification', { userVerified: false }],
  ])('%s', async (_case, behaviour) => {
    const { authenticator, credential } = await enrolled();
    const { options, challenge } = await authenticationOptions(rp, [credential]);
    const response = authenticator.clone(behaviour).getAssertion(options);
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, credential, response), response);
  });

  it('when signed by another key under this credential id', async () => {
    const { credential } = await enrolled();
    const attacker = honest();
    const attackerCredential = await enrol(attacker, bob);
    const { options, challenge } = await authenticationOptions(rp, [credential]);
    const forged = attacker.getAssertion({
      ...options,
      allowCredentials: [{ id: attackerCredential.credentialId, type: 'public-key' }],
    });
    const swapped = { ...forged, id: credential.credentialId, rawId: credential.credentialId };
    expect(findCredential([credential], swapped)).toBe(credential);
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, credential, swapped), swapped);
  });

  it('when the same assertion is replayed', async () => {
    const { authenticator, credential } = await enrolled();
    const { options, challenge } = await authenticationOptions(rp, [credential]);
    const response = authenticator.getAssertion(options);
    const { newCounter } = await verifyAuthentication(rp, challenge, credential, response);
    const updated = { ...credential, counter: newCounter };
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, updated, response), response);
  });

  it('when a clone reports a counter that does not increase', async () => {
    const { authenticator, credential } = await enrolled();
    let current = credential;
    for (let i = 0; i < 2; i += 1) {
      const { options, challenge } = await authenticationOptions(rp, [current]);
      const { newCounter } = await verifyAuthentication(
        rp,
        challenge,
        current,
        authenticator.getAssertion(options),
      );
      current = { ...current, counter: newCounter };
    }
    // Copied when the counter read 1; the original has since reached 2.
    const clone = authenticator.cloneWithCounter(1);
    const { options, challenge } = await authenticationOptions(rp, [current]);
    const response = clone.getAssertion(options);
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, current, response), response);
    // A clone that lags further behind fails the same way.
    const older = authenticator.cloneWithCounter(0).getAssertion(options);
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, current, older), older);
  });

  it('for a credential outside the allowCredentials sent', async () => {
    const { credential } = await enrolled();
    const other = honest();
    const otherCredential = await enrol(other, bob);
    const { options, challenge } = await authenticationOptions(rp, [credential]);
    // An honest authenticator has nothing to offer for this list...
    expect(() => other.getAssertion(options)).toThrow(/NotAllowedError/);
    // ...so the attacker's client ignores the list and signs with its own discoverable credential.
    const response = other.getAssertion({ ...options, allowCredentials: [] });
    expect(response.id).toBe(otherCredential.credentialId);
    const lookup = Promise.resolve().then(() => findCredential([credential], response));
    await expectSecondFactorFailure(lookup, response);
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, credential, response), response);
  });

  it('when the ceremony ran inside a cross-origin frame', async () => {
    const { authenticator, credential } = await enrolled();
    const { options, challenge } = await authenticationOptions(rp, [credential]);
    const response = authenticator.clone({ crossOrigin: true }).getAssertion(options);
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, credential, response), response);
  });

  it('when the response is malformed', async () => {
    const { credential } = await enrolled();
    const { challenge } = await authenticationOptions(rp, [credential]);
    const garbage = {
      id: credential.credentialId,
      rawId: credential.credentialId,
      type: 'public-key',
      response: { clientDataJSON: 'bm90IGpzb24', authenticatorData: '', signature: '' },
      clientExtensionResults: {},
    } as AuthenticationResponseJSON;
    await expectSecondFactorFailure(verifyAuthentication(rp, challenge, credential, garbage), garbage);
  });
});
