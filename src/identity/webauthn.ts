/**
 * WebAuthn second factor for staff (docs/DESIGN.md §5): a thin, storage-agnostic layer over
 * @simplewebauthn/server. The caller persists challenges (single use, short-lived) and credentials;
 * this module only builds options and verifies responses.
 *
 * Every failure is the same `AppError('second_factor_failed')` with a fixed message: the library's
 * messages quote the response (challenge, origin, counter), and an error that differs by cause
 * would tell an attacker which part of a forged response to fix next.
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { COSEALG, decodeClientDataJSON } from '@simplewebauthn/server/helpers';
import { AppError } from '../errors.ts';

/** The relying party: this deployment, as browsers and authenticators see it. */
export interface RelyingParty {
  /** Registrable domain the credentials are scoped to, e.g. 'localhost'. */
  id: string;
  /** Name shown by the authenticator. */
  name: string;
  /** Exact origin of the web front end, e.g. 'http://localhost:8080'. */
  origin: string;
}

/** What the caller stores per registered authenticator. */
export interface StoredCredential {
  /** Credential id, base64url. */
  credentialId: string;
  /** COSE-encoded public key. */
  publicKey: Uint8Array;
  /** Last signature counter seen; 0 for authenticators that do not count. */
  counter: number;
  /** Transport hints, only the values the spec defines. */
  transports: string[];
}

/** ES256 first: every security key and platform authenticator supports it. */
const SUPPORTED_ALGORITHMS: number[] = [COSEALG.ES256, COSEALG.EdDSA, COSEALG.RS256];

/** Five minutes to touch the key; the caller expires the stored challenge on the same clock. */
const TIMEOUT_MS = 5 * 60 * 1000;

/** WebAuthn §5.8.4 AuthenticatorTransport values; anything else from the client is dropped. */
const KNOWN_TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/** WebAuthn §5.4.3: a user handle is at most 64 bytes. */
const MAX_USER_HANDLE_BYTES = 64;

/** One message for every failure, so responses are no oracle for forging one (T1, T5: stolen passwords). */
function failed(): AppError {
  return new AppError('second_factor_failed', 'second factor verification failed');
}

function descriptors(credentials: StoredCredential[]): { id: string; transports: string[] }[] {
  return credentials.map((c) => ({ id: c.credentialId, transports: c.transports }));
}

/**
 * The login page is never framed (frame-ancestors 'none'), so a ceremony run from inside another
 * site's iframe is refused, whatever the library's topOrigin rules would allow (WebAuthn §13.4.2).
 */
function assertNotCrossOrigin(clientDataJSON: string): void {
  if (decodeClientDataJSON(clientDataJSON).crossOrigin === true) throw failed();
}

/** Builds the options for navigator.credentials.create() to enrol a new authenticator. */
export async function registrationOptions(
  rp: RelyingParty,
  user: { accountId: string; login: string; displayName: string },
  existing: StoredCredential[],
): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; challenge: string }> {
  // The user handle is the opaque account id, never the login or a name (WebAuthn §14.6.1).
  const userID = new TextEncoder().encode(user.accountId);
  if (userID.length === 0 || userID.length > MAX_USER_HANDLE_BYTES) {
    throw new AppError('validation_failed', 'accountId must be 1 to 64 bytes', { field: 'accountId' });
  }
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID,
    userName: user.login,
    userDisplayName: user.displayName,
    timeout: TIMEOUT_MS,
    attestationType: 'none',
    // An authenticator already enrolled for this account is not enrolled twice.
    excludeCredentials: descriptors(existing),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
  return { options, challenge: options.challenge };
}

/** Verifies a registration response against the challenge issued for it; returns what to store. */
export async function verifyRegistration(
  rp: RelyingParty,
  expectedChallenge: string,
  response: RegistrationResponseJSON,
): Promise<StoredCredential> {
  try {
    assertNotCrossOrigin(response.response.clientDataJSON);
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    if (!result.verified) throw failed();
    const { credential } = result.registrationInfo;
    // The library takes the id from authenticator data; the JSON id must name the same credential.
    if (credential.id !== response.id) throw failed();
    return {
      credentialId: credential.id,
      publicKey: credential.publicKey,
      counter: credential.counter,
      transports: (credential.transports ?? []).filter((t) => KNOWN_TRANSPORTS.has(t)),
    };
  } catch {
    // The library's message quotes the response: replaced, and not kept as a cause.
    throw failed();
  }
}

/** Builds the options for navigator.credentials.get(), limited to the account's credentials. */
export async function authenticationOptions(
  rp: RelyingParty,
  credentials: StoredCredential[],
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challenge: string }> {
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    allowCredentials: descriptors(credentials),
    userVerification: 'required',
    timeout: TIMEOUT_MS,
  });
  return { options, challenge: options.challenge };
}

/**
 * The account's stored credential that an assertion names. A credential outside the account's
 * list (the allowCredentials sent) is refused here, before any signature is checked.
 */
export function findCredential(
  credentials: StoredCredential[],
  response: AuthenticationResponseJSON,
): StoredCredential {
  const found = credentials.find((c) => c.credentialId === response.id);
  if (!found) throw failed();
  return found;
}

/**
 * Verifies an assertion made with `credential` (the stored credential whose id the response names)
 * and returns the counter to store. A counter that does not increase, when either side is non-zero,
 * means a cloned authenticator or a replayed assertion (WebAuthn §6.1.1) and fails.
 */
export async function verifyAuthentication(
  rp: RelyingParty,
  expectedChallenge: string,
  credential: StoredCredential,
  response: AuthenticationResponseJSON,
): Promise<{ newCounter: number }> {
  try {
    // The library verifies with whichever key it is given: the response must name this credential.
    if (response.id !== credential.credentialId || response.rawId !== credential.credentialId) {
      throw failed();
    }
    assertNotCrossOrigin(response.response.clientDataJSON);
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: credential.credentialId,
        publicKey: new Uint8Array(credential.publicKey),
        counter: credential.counter,
        transports: credential.transports,
      },
      requireUserVerification: true,
    });
    if (!result.verified || !result.authenticationInfo.userVerified) throw failed();
    const { newCounter } = result.authenticationInfo;
    // Checked here as well as in the library: this is the clone detection the design relies on.
    if ((newCounter > 0 || credential.counter > 0) && newCounter <= credential.counter) throw failed();
    return { newCounter };
  } catch {
    throw failed();
  }
}
