/**
 * The REMPART_FRANCECONNECT_* part of the configuration (docs/FRANCECONNECT.md). Called by
 * loadConfig with its environment: config.ts stays the only reader of process.env.
 */
import type { FieldIssue } from './errors.ts';

/** The signing algorithms FranceConnect v2 offers for ID tokens and userinfo (ES256 recommended). */
export const FRANCECONNECT_SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type FranceConnectSigningAlg = (typeof FRANCECONNECT_SIGNING_ALGS)[number];

/** The OpenID Connect client Rempart's portal is at FranceConnect. */
export interface FranceConnectConfig {
  /**
   * The issuer (REMPART_FRANCECONNECT_ISSUER), as FranceConnect gives it with the client id (e.g.
   * https://fcp-low.integ01.dev-franceconnect.fr/api/v2 for integration): its discovery document is
   * read at the first login.
   */
  issuer: string;
  /** REMPART_FRANCECONNECT_CLIENT_ID. */
  clientId: string;
  /** REMPART_FRANCECONNECT_CLIENT_SECRET (sent as client_secret_post). */
  clientSecret: string;
  /**
   * REMPART_FRANCECONNECT_REDIRECT_URI, default <PUBLIC_URL>/api/v1/portal/franceconnect/callback:
   * the callback registered at FranceConnect, on PUBLIC_URL's origin, where the portal's cookie belongs.
   */
  redirectUri: string;
  /**
   * REMPART_FRANCECONNECT_SIGNING_ALG (ES256 or RS256, default ES256): the algorithm the client is
   * registered with for ID tokens and userinfo; any other is refused.
   */
  signingAlg: FranceConnectSigningAlg;
}

/** The callback's path: the redirect URI must end with it (it is the route that receives the code). */
export const FRANCECONNECT_CALLBACK_PATH = '/api/v1/portal/franceconnect/callback';

const PREFIX = 'REMPART_FRANCECONNECT_';

/** True for an https URL, or an http one on localhost / 127.0.0.1 (a local identity provider). */
function isSecureUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
}

/** Reads the REMPART_FRANCECONNECT_* variables; pushes an issue naming the variable for each bad one. */
export function loadFranceConnect(
  env: NodeJS.ProcessEnv,
  publicUrl: string,
  issues: FieldIssue[],
): FranceConnectConfig | undefined {
  const read = (name: string): string | undefined => env[`${PREFIX}${name}`]?.trim() || undefined;
  const issuer = read('ISSUER');
  const clientId = read('CLIENT_ID');
  const clientSecret = read('CLIENT_SECRET');
  const redirectText = read('REDIRECT_URI');
  const algText = read('SIGNING_ALG');
  const given = { ISSUER: issuer, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret };
  if (Object.values(given).every((v) => v === undefined)) {
    for (const [name, value] of [
      ['REDIRECT_URI', redirectText],
      ['SIGNING_ALG', algText],
    ] as const) {
      if (value !== undefined)
        issues.push({ field: `${PREFIX}${name}`, message: `is set without ${PREFIX}ISSUER` });
    }
    return undefined;
  }
  let complete = true;
  const problem = (name: string, message: string): void => {
    complete = false;
    issues.push({ field: `${PREFIX}${name}`, message });
  };
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) problem(name, `is required when any ${PREFIX} variable is set`);
  }
  if (issuer !== undefined) {
    let ok = false;
    try {
      const url = new URL(issuer);
      ok = isSecureUrl(url) && !url.username && !url.password && !url.search && !url.hash;
    } catch {
      ok = false;
    }
    if (!ok)
      problem('ISSUER', 'must be an https:// URL without credentials or query (http:// only for localhost)');
  }
  if (clientId !== undefined && !/^[\x21-\x7e]{1,200}$/.test(clientId))
    problem('CLIENT_ID', 'must be 1 to 200 printable characters');
  if (clientSecret !== undefined && !/^[\x21-\x7e]{16,500}$/.test(clientSecret))
    problem('CLIENT_SECRET', 'must be 16 to 500 printable characters');
  let signingAlg: FranceConnectSigningAlg = 'ES256';
  if (algText !== undefined) {
    if ((FRANCECONNECT_SIGNING_ALGS as readonly string[]).includes(algText))
      signingAlg = algText as FranceConnectSigningAlg;
    else problem('SIGNING_ALG', `must be one of ${FRANCECONNECT_SIGNING_ALGS.join(', ')}`);
  }
  let redirectUri = `${publicUrl}${FRANCECONNECT_CALLBACK_PATH}`;
  if (redirectText !== undefined) {
    let ok = false;
    try {
      const url = new URL(redirectText);
      // The callback opens the portal session, whose cookie belongs to PUBLIC_URL's host: another
      // origin would give the browser a session it never sends back.
      ok =
        url.origin === publicUrl && url.pathname === FRANCECONNECT_CALLBACK_PATH && !url.search && !url.hash;
      if (ok) redirectUri = url.href;
    } catch {
      ok = false;
    }
    if (!ok)
      problem('REDIRECT_URI', `must be PUBLIC_URL's origin followed by ${FRANCECONNECT_CALLBACK_PATH}`);
  }
  if (!complete) return undefined;
  return { issuer: issuer!, clientId: clientId!, clientSecret: clientSecret!, redirectUri, signingAlg };
}
