/**
 * The OpenID Connect client side of FranceConnect v2 (docs/FRANCECONNECT.md), on
 * openid-client v6: authorization code flow with PKCE (S256), state and nonce; the ID token and the
 * userinfo answer both signed (ES256 or RS256, as registered) and verified against the issuer's
 * published keys; `acr_values=eidas1` asked for, and the level checked again here, whatever the
 * provider answers. The pivot identity comes from the signed userinfo only.
 */
import * as oidc from 'openid-client';
import type { FranceConnectConfig } from '../config.ts';

/**
 * The eIDAS levels accepted: eidas1 (low) is what FranceConnect offers; a higher level is more, not
 * less. Anything else (no acr, an unknown value) is refused: the person's record and the history of
 * who read it open only to an identity the State's federation vouches for (T6: no lookalike login).
 */
export const ACCEPTED_ACR = ['eidas1', 'eidas2', 'eidas3'] as const;

/**
 * The scopes of the pivot identity, one per claim as FranceConnect v2 names them: birth name
 * (family_name), given names, birth date, birthplace (INSEE commune code), birth country (INSEE
 * country code) and sex (gender). FranceConnect v2 no longer sends preferred_username (the usage
 * name) in the pivot identity; it is not needed: the match is on the birth name.
 */
export const PIVOT_SCOPE = 'openid given_name family_name birthdate birthplace birthcountry gender';

/** What a login needs to send the browser to FranceConnect and check its answer later. */
export interface FranceConnectRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The checked outcome of a callback: who FranceConnect says the person is, and at which level. */
export interface FranceConnectAnswer {
  issuer: string;
  subject: string;
  /** The ID token's acr (undefined when absent). */
  acr: string | undefined;
  /** The claims of the signed userinfo answer (verified signature, same sub as the ID token). */
  userinfo: Record<string, unknown>;
}

/** Why a callback was not accepted, in words safe for the security events (no token, no claim value). */
export class FranceConnectError extends Error {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super(`FranceConnect answer refused: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'FranceConnectError';
    this.reason = reason;
  }
}

/** An openid-client configuration for FranceConnect, discovered once and kept. */
export class FranceConnectClient {
  readonly config: FranceConnectConfig;
  #discovered: Promise<oidc.Configuration> | undefined;

  constructor(config: FranceConnectConfig) {
    this.config = config;
  }

  /** The issuer's metadata and keys (discovery is retried on the next call after a failure). */
  async configuration(): Promise<oidc.Configuration> {
    this.#discovered ??= this.#discover().catch((error: unknown) => {
      this.#discovered = undefined;
      throw new FranceConnectError('discovery failed', error);
    });
    return this.#discovered;
  }

  async #discover(): Promise<oidc.Configuration> {
    const server = new URL(this.config.issuer);
    const insecure = server.protocol === 'http:'; // only localhost (config-franceconnect.ts)
    const alg = this.config.signingAlg;
    const configuration = await oidc.discovery(
      server,
      this.config.clientId,
      {
        redirect_uris: [this.config.redirectUri],
        response_types: ['code'],
        id_token_signed_response_alg: alg,
        // FranceConnect v2 signs its userinfo answer: one that is not a JWT of this algorithm is
        // refused (oauth4webapi: "JWT UserInfo Response expected").
        userinfo_signed_response_alg: alg,
      },
      oidc.ClientSecretPost(this.config.clientSecret),
      { ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}), timeout: 10 },
    );
    // openid-client trusts an ID token received over TLS from the token endpoint without checking
    // its signature, and a JWT userinfo likewise; this verifies both against the issuer's JWKS, as
    // FranceConnect v2 requires of its service providers.
    oidc.enableNonRepudiationChecks(configuration);
    return configuration;
  }

  /** A new authorization request: fresh state, nonce and PKCE verifier, acr_values eidas1. */
  async authorizationRequest(): Promise<FranceConnectRequest> {
    const configuration = await this.configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUri,
      scope: PIVOT_SCOPE,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      acr_values: 'eidas1',
    });
    return { url, state, nonce, codeVerifier };
  }

  /**
   * Exchanges the code and checks everything: state, PKCE, the ID token (signature, issuer,
   * audience, expiry, nonce), then the signed userinfo (signature, same sub). Throws
   * FranceConnectError.
   */
  async complete(
    callbackQuery: string,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<FranceConnectAnswer> {
    const configuration = await this.configuration();
    const currentUrl = new URL(this.config.redirectUri);
    currentUrl.search = callbackQuery;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw new FranceConnectError(reasonOf(error, 'code exchange'), error);
    }
    const claims = tokens.claims();
    if (!claims) throw new FranceConnectError('no id token');
    let userinfo: Record<string, unknown>;
    try {
      userinfo = { ...(await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub)) };
    } catch (error) {
      throw new FranceConnectError(reasonOf(error, 'userinfo'), error);
    }
    return {
      issuer: claims.iss,
      subject: claims.sub,
      acr: typeof claims.acr === 'string' ? claims.acr : undefined,
      userinfo,
    };
  }
}

/**
 * A short reason for the security events: openid-client's error code and the name of the parameter
 * or claim it quotes ("state", "nonce", "signature"...), never the values, which may be tokens or
 * personal data from the identity provider's answer.
 */
function reasonOf(error: unknown, step: string): string {
  if (error instanceof oidc.AuthorizationResponseError)
    return `${step}: the identity provider answered an error`;
  const code = (error as { code?: unknown })?.code;
  let subject: string | undefined;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const claim = (e.cause as { claim?: unknown } | undefined)?.claim;
    const quoted = /signature/i.test(e.message) ? 'signature' : /"([a-z_]{1,30})"/.exec(e.message)?.[1];
    subject ??= typeof claim === 'string' ? claim : quoted;
  }
  const what = typeof code === 'string' ? code : 'failed';
  return subject && /^[a-z_]{1,30}$/.test(subject) ? `${step}: ${what} (${subject})` : `${step}: ${what}`;
}
