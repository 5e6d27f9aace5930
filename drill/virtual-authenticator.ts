/**
 * A software WebAuthn authenticator plus the client (browser) half of the ceremony, for tests and
 * the drill harness (the honest owners' passkeys: drill/passkey.ts). It produces exactly what a browser posts back (RegistrationResponseJSON,
 * AuthenticationResponseJSON), so the server verifies it with the real library, signatures included.
 *
 * ES256 (P-256) keys from node:crypto, "none" attestation, AAGUID zero. It can be told to misbehave
 * the way attacks do: wrong origin (phishing page), wrong RP id, no user verification, a framed
 * ceremony, and a clone
 * whose signature counter lags behind the original.
 *
 * Spec: WebAuthn Level 3 §6.1 (authenticator data), §6.5 (attestation object), §5.8.1 (client data).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomInt, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

/** How the authenticator (and the browser around it) behaves; defaults are an honest one. */
export interface VirtualAuthenticatorOptions {
  /** Origin the "browser" reports in clientDataJSON; defaults to https://<rp id of the request>. */
  origin?: string;
  /** RP id hashed into authenticator data instead of the one requested (a forged response). */
  rpId?: string;
  /** Whether the user is verified (PIN, biometrics): the UV flag. Default true. */
  userVerified?: boolean;
  /** Whether the "browser" ran the ceremony inside a cross-origin iframe. Default false. */
  crossOrigin?: boolean;
}

interface HeldCredential {
  id: Uint8Array;
  privateKey: KeyObject;
  /** COSE_Key of the public key, CBOR-encoded. */
  cosePublicKey: Uint8Array;
  /** RP id the credential was created for: an authenticator never uses it for another RP. */
  rpId: string;
  userHandle: string;
  signCount: number;
}

// Authenticator data flags, WebAuthn §6.1.
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

const ES256 = -7;

function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

function uint16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value);
  return out;
}

function b64url(bytes: Uint8Array): string {
  return isoBase64URL.fromBuffer(new Uint8Array(bytes));
}

/** CBOR COSE_Key for an EC2 P-256 public key (RFC 9053 §7.1), keys in CTAP2 canonical order. */
function coseEC2(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) throw new Error('virtual authenticator: EC key without coordinates');
  const cose = new Map<number, number | Uint8Array>([
    [1, 2], // kty: EC2
    [3, ES256], // alg
    [-1, 1], // crv: P-256
    [-2, isoBase64URL.toBuffer(jwk.x)],
    [-3, isoBase64URL.toBuffer(jwk.y)],
  ]);
  return isoCBOR.encode(cose);
}

/** A software authenticator holding ES256 credentials in memory. */
export class VirtualAuthenticator {
  private readonly options: VirtualAuthenticatorOptions;
  private readonly credentials: HeldCredential[] = [];

  constructor(options: VirtualAuthenticatorOptions = {}) {
    this.options = { ...options };
  }

  /** Base64url ids of the credentials this authenticator holds, oldest first. */
  get credentialIds(): string[] {
    return this.credentials.map((c) => b64url(c.id));
  }

  /**
   * A copy holding the same keys with different behaviour; `counter` sets every credential's
   * signature counter, as if the keys had been copied off the device when it read that value.
   */
  clone(overrides: VirtualAuthenticatorOptions & { counter?: number } = {}): VirtualAuthenticator {
    const { counter, ...behaviour } = overrides;
    const copy = new VirtualAuthenticator({ ...this.options, ...behaviour });
    for (const c of this.credentials) copy.credentials.push({ ...c, signCount: counter ?? c.signCount });
    return copy;
  }

  /** A clone of this authenticator taken when its counter read `n`: its next assertion reports n + 1. */
  cloneWithCounter(n: number): VirtualAuthenticator {
    return this.clone({ counter: n });
  }

  /** navigator.credentials.create(): makes a new ES256 credential and its "none" attestation. */
  createCredential(options: PublicKeyCredentialCreationOptionsJSON): RegistrationResponseJSON {
    const requestedRpId = options.rp.id;
    if (!requestedRpId) throw new Error('virtual authenticator: rp.id is required');
    if (!options.pubKeyCredParams.some((p) => p.type === 'public-key' && p.alg === ES256)) {
      throw new Error('NotSupportedError: ES256 not offered');
    }
    // §6.3.2 step 3: an authenticator holding an excluded credential refuses to make another.
    const excluded = new Set((options.excludeCredentials ?? []).map((d) => d.id));
    if (this.credentials.some((c) => c.rpId === requestedRpId && excluded.has(b64url(c.id)))) {
      throw new Error('InvalidStateError: authenticator already registered');
    }

    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const credential: HeldCredential = {
      id: new Uint8Array(randomBytes(randomInt(16, 33))),
      privateKey,
      cosePublicKey: coseEC2(publicKey),
      rpId: requestedRpId,
      userHandle: options.user.id,
      signCount: 0,
    };
    this.credentials.push(credential);

    const clientDataJSON = this.clientData('webauthn.create', options.challenge, requestedRpId);
    const attestedCredentialData = concat(
      new Uint8Array(16), // AAGUID: zero, no attestation
      uint16(credential.id.length),
      credential.id,
      credential.cosePublicKey,
    );
    const authData = concat(
      this.authDataHeader(requestedRpId, FLAG_AT, credential.signCount),
      attestedCredentialData,
    );
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    const id = b64url(credential.id);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ['usb'],
        publicKeyAlgorithm: ES256,
        publicKey: b64url(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }))),
      },
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: { credProps: { rk: true } },
    };
  }

  /** navigator.credentials.get(): signs the challenge with an allowed credential for the RP. */
  getAssertion(options: PublicKeyCredentialRequestOptionsJSON): AuthenticationResponseJSON {
    const requestedRpId = options.rpId;
    if (!requestedRpId) throw new Error('virtual authenticator: rpId is required');
    const allowed = (options.allowCredentials ?? []).map((d) => d.id);
    const usable = this.credentials.filter((c) => c.rpId === requestedRpId);
    // With an allow list, only a listed credential; without one, the newest discoverable credential.
    const credential =
      allowed.length > 0 ? usable.find((c) => allowed.includes(b64url(c.id))) : usable[usable.length - 1];
    if (!credential) throw new Error('NotAllowedError: no matching credential');

    credential.signCount += 1;
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, requestedRpId);
    const authData = this.authDataHeader(requestedRpId, 0, credential.signCount);
    // §6.3.3 step 11: the signature covers authData || SHA-256(clientDataJSON); ES256 is DER-encoded.
    const signature = sign('sha256', concat(authData, sha256(clientDataJSON)), {
      key: credential.privateKey,
      dsaEncoding: 'der',
    });
    const id = b64url(credential.id);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(new Uint8Array(signature)),
        userHandle: credential.userHandle,
      },
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
    };
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, rpId: string): Uint8Array {
    const origin = this.options.origin ?? `https://${rpId}`;
    const crossOrigin = this.options.crossOrigin === true;
    return new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin }));
  }

  /** rpIdHash (32) | flags (1) | signCount (4, big-endian): §6.1. */
  private authDataHeader(requestedRpId: string, extraFlags: number, signCount: number): Uint8Array {
    const flags = FLAG_UP | (this.options.userVerified === false ? 0 : FLAG_UV) | extraFlags;
    return concat(sha256(this.options.rpId ?? requestedRpId), Uint8Array.of(flags), uint32(signCount));
  }
}
