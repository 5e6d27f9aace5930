/**
 * The OpenID Connect client side of ProConnect (docs/SECURITY.md, "Federation"), on openid-client v6:
 * authorization code flow with PKCE (S256), state and nonce; ID token and userinfo both signed and
 * checked against the issuer's published keys; multi-factor authentication asked for through the
 * `claims` parameter (OpenID Connect Core 5.5.1.1, essential `acr` with values) and checked again here.
 */
import * as oidc from 'openid-client';
import type { ProConnectConfig } from '../config.ts';

/**
 * The authentication levels that count as two factors at ProConnect. Plain `eidas1` (a password
 * alone) is refused whatever the identity provider answers (T1: a phished password must not be a
 * way in that skips the second factor Rempart otherwise demands).
 */
export const ACCEPTED_ACR = ['eidas1-mfa', 'eidas2', 'eidas3'] as const;

/** What Rempart asks for: an identifier only (sub) and the email the federation requires with it. */
const SCOPE = 'openid email';

/** ProConnect signs ID tokens and userinfo with RS256. */
const SIGNING_ALG = 'RS256';

/** What a login needs to send the browser to the identity provider and check its answer later. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The checked outcome of a callback: who the identity provider says it is, and at which level. */
export interface FederatedIdentity {
  issuer: string;
  subject: string;
  /** The ID token's acr (absent when the provider sent none). */
  acr: string | undefined;
}

/** Why a callback was not accepted, in words safe for the security events (no token, no code). */
export class FederationError extends Error {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super(`ProConnect answer refused: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'FederationError';
    this.reason = reason;
  }
}

/** An openid-client configuration for ProConnect, discovered once and kept. */
export class ProConnectClient {
  readonly config: ProConnectConfig;
  #discovered: Promise<oidc.Configuration> | undefined;

  constructor(config: ProConnectConfig) {
    this.config = config;
  }

  /** The issuer's metadata and keys (discovery is retried on the next call after a failure). */
  async configuration(): Promise<oidc.Configuration> {
    this.#discovered ??= this.#discover().catch((error: unknown) => {
      this.#discovered = undefined;
      throw new FederationError('discovery failed', error);
    });
    return this.#discovered;
  }

  async #discover(): Promise<oidc.Configuration> {
    const server = new URL(this.config.issuer);
    const insecure = server.protocol === 'http:'; // only localhost (config.ts): a local identity provider
    const configuration = await oidc.discovery(
      server,
      this.config.clientId,
      {
        redirect_uris: [this.config.redirectUri],
        response_types: ['code'],
        id_token_signed_response_alg: SIGNING_ALG,
        // A userinfo answer that is not a signed JWT is refused (oauth4webapi: JWT UserInfo Response expected).
        userinfo_signed_response_alg: SIGNING_ALG,
      },
      oidc.ClientSecretPost(this.config.clientSecret),
      { ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}), timeout: 10 },
    );
    // openid-client trusts an ID token received over TLS from the token endpoint without checking its
    // signature, and a JWT userinfo likewise; these checks verify both against the issuer's JWKS.
    oidc.enableNonRepudiationChecks(configuration);
    return configuration;
  }

  /** A new authorization request: fresh state, nonce and PKCE verifier, acr required by `claims`. */
  async authorizationRequest(): Promise<AuthorizationRequest> {
    const configuration = await this.configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const acr = { essential: true, values: [...ACCEPTED_ACR] };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUri,
      scope: SCOPE,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      claims: JSON.stringify({ id_token: { acr } }),
    });
    return { url, state, nonce, codeVerifier };
  }

  /**
   * Exchanges the code and checks everything: state, PKCE, the ID token (signature, issuer,
   * audience, expiry, nonce), then the signed userinfo (signature, same sub). Throws FederationError.
   */
  async complete(
    callbackQuery: string,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<FederatedIdentity> {
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
      throw new FederationError(reasonOf(error, 'code exchange'), error);
    }
    const claims = tokens.claims();
    if (!claims) throw new FederationError('no id token');
    try {
      await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
    } catch (error) {
      throw new FederationError(reasonOf(error, 'userinfo'), error);
    }
    return {
      issuer: claims.iss,
      subject: claims.sub,
      acr: typeof claims.acr === 'string' ? claims.acr : undefined,
    };
  }
}

/**
 * A short reason for the security events: openid-client's error code and the name of the parameter
 * or claim it quotes ("state", "nonce", "aud"...), never the values, which may be tokens or come
 * from the identity provider's answer.
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
