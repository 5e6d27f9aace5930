/**
 * The REMPART_PROCONNECT_* part of the configuration (docs/SECURITY.md, "Federation"). Called by
 * loadConfig with its environment: config.ts stays the only reader of process.env.
 */
import type { FieldIssue } from './errors.ts';

/** The OpenID Connect client Rempart is at ProConnect. */
export interface ProConnectConfig {
  /** The issuer (REMPART_PROCONNECT_ISSUER): its discovery document is read at the first login. */
  issuer: string;
  /** REMPART_PROCONNECT_CLIENT_ID. */
  clientId: string;
  /** REMPART_PROCONNECT_CLIENT_SECRET (sent as client_secret_post). */
  clientSecret: string;
  /**
   * REMPART_PROCONNECT_REDIRECT_URI, default <PUBLIC_URL>/api/v1/auth/proconnect/callback: the
   * callback registered at ProConnect; on PUBLIC_URL's origin, where the session cookie belongs.
   */
  redirectUri: string;
}

/** The callback's path: the redirect URI must end with it (it is the route that receives the code). */
export const PROCONNECT_CALLBACK_PATH = '/api/v1/auth/proconnect/callback';

/** True for an https URL, or an http one on localhost / 127.0.0.1 (a local identity provider). */
function isSecureUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
}

/** Reads the REMPART_PROCONNECT_* variables; pushes an issue naming the variable for each bad one. */
export function loadProConnect(
  env: NodeJS.ProcessEnv,
  publicUrl: string,
  issues: FieldIssue[],
): ProConnectConfig | undefined {
  const issuer = env.REMPART_PROCONNECT_ISSUER?.trim() || undefined;
  const clientId = env.REMPART_PROCONNECT_CLIENT_ID?.trim() || undefined;
  const clientSecret = env.REMPART_PROCONNECT_CLIENT_SECRET?.trim() || undefined;
  const redirectText = env.REMPART_PROCONNECT_REDIRECT_URI?.trim() || undefined;
  const given = { issuer, clientId, clientSecret };
  if (Object.values(given).every((v) => v === undefined)) {
    if (redirectText !== undefined)
      issues.push({
        field: 'REMPART_PROCONNECT_REDIRECT_URI',
        message: 'is set without REMPART_PROCONNECT_ISSUER',
      });
    return undefined;
  }
  const names = { issuer: 'ISSUER', clientId: 'CLIENT_ID', clientSecret: 'CLIENT_SECRET' } as const;
  let complete = true;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) {
      complete = false;
      issues.push({
        field: `REMPART_PROCONNECT_${names[key as keyof typeof names]}`,
        message: 'is required when any REMPART_PROCONNECT_ variable is set',
      });
    }
  }
  try {
    const url = new URL(issuer ?? '');
    if (!isSecureUrl(url) || url.username || url.password || url.search || url.hash)
      throw new Error('issuer');
  } catch {
    if (issuer !== undefined) {
      complete = false;
      issues.push({
        field: 'REMPART_PROCONNECT_ISSUER',
        message: 'must be an https:// URL without credentials or query (http:// only for localhost)',
      });
    }
  }
  if (clientId !== undefined && !/^[\x21-\x7e]{1,200}$/.test(clientId)) {
    complete = false;
    issues.push({ field: 'REMPART_PROCONNECT_CLIENT_ID', message: 'must be 1 to 200 printable characters' });
  }
  if (clientSecret !== undefined && !/^[\x21-\x7e]{16,500}$/.test(clientSecret)) {
    complete = false;
    issues.push({
      field: 'REMPART_PROCONNECT_CLIENT_SECRET',
      message: 'must be 16 to 500 printable characters',
    });
  }
  let redirectUri = `${publicUrl}${PROCONNECT_CALLBACK_PATH}`;
  if (redirectText !== undefined) {
    try {
      const url = new URL(redirectText);
      // The callback sets the session cookie, which belongs to PUBLIC_URL's host: another origin
      // would give the browser a session it never sends back.
      if (url.origin !== publicUrl || url.pathname !== PROCONNECT_CALLBACK_PATH || url.search || url.hash)
        throw new Error('redirect');
      redirectUri = url.href;
    } catch {
      complete = false;
      issues.push({
        field: 'REMPART_PROCONNECT_REDIRECT_URI',
        message: `must be PUBLIC_URL's origin followed by ${PROCONNECT_CALLBACK_PATH}`,
      });
    }
  }
  if (!complete) return undefined;
  return { issuer: issuer!, clientId: clientId!, clientSecret: clientSecret!, redirectUri };
}
