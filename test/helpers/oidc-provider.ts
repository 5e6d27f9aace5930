/**
 * A real, local OpenID Connect identity provider (oidc-provider) that behaves like ProConnect where
 * Rempart depends on it: one confidential client (client_secret_post), PKCE required, the claims
 * parameter, ID tokens and userinfo signed RS256 (userinfo as a JWT), the `iss` authorization response
 * parameter. Its login page asks for an identifier (the `sub`) and the authentication level (`acr`)
 * to claim, so that a test — in Node with `login()`, or in Chromium by filling the form — chooses
 * both per login. By default it does NOT enforce the acr the client asks for, as a federated
 * identity provider might not: the relying party's own check is what the tests prove.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { interactionPolicy } from 'oidc-provider';

/** The authentication levels the provider's login page offers. */
export const ACR_LEVELS = ['eidas1', 'eidas1-mfa', 'eidas2', 'eidas3'] as const;

/**
 * How the provider's userinfo answer reaches the client (anything but `signed` is an attack or a
 * fault): `unsigned` plain JSON; `tampered` a claim changed after signing; `foreign-key` signed by
 * another key under the provider's key id; `alg-none` a JWT with alg "none" and no signature.
 */
export type UserinfoMode = 'signed' | 'unsigned' | 'tampered' | 'foreign-key' | 'alg-none';

/** The signing algorithms the provider can use for ID tokens and userinfo. */
export type SigningAlg = 'RS256' | 'ES256';

export interface OidcProviderOptions {
  /** The redirect URI registered for the client (Rempart's PUBLIC_URL + /api/v1/auth/proconnect/callback). */
  redirectUri: string;
  /** The acr the login page selects by default (default eidas1-mfa). */
  acr?: string;
  /** Whether the provider itself refuses an acr outside the requested essential values (default false). */
  enforceAcr?: boolean;
  /** The port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** The algorithm of the provider's key, ID tokens and userinfo (default RS256). */
  signingAlg?: SigningAlg;
  /** The authentication levels the login page offers (default ACR_LEVELS). */
  acrLevels?: readonly string[];
  /**
   * The provider's scopes and the claims each releases (default: email), and each account's
   * claims by sub (default: an email made from the sub). FranceConnect's pivot identity is given so.
   */
  claims?: { scopes: Record<string, string[]>; of: (sub: string) => Record<string, unknown> };
  /** The claims a `tampered` userinfo answer carries instead (default: another email). */
  tamper?: Record<string, unknown>;
}

export interface LocalOidcProvider {
  /** The issuer, http://127.0.0.1:<port> (the discovery document is at /.well-known/openid-configuration). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The REMPART_PROCONNECT_* variables that point Rempart at this provider. */
  env: Record<string, string>;
  /** The same for FranceConnect: REMPART_FRANCECONNECT_* (with the signing algorithm). */
  franceconnectEnv: Record<string, string>;
  /** The acr selected by default on the login page (can be changed between logins). */
  acr: string;
  /** How the next userinfo answers are sent (default `signed`). */
  userinfo: UserinfoMode;
  /** The authentication levels the login page offers. */
  acrLevels: readonly string[];
  /**
   * Drives a login over HTTP as a browser would: follows the redirects from `authorizationUrl`,
   * submits the login page with `sub` and `acr` (or presses "Annuler" with `cancel`), and returns the
   * URL the provider redirects to (the client's callback with `code`, `state` and `iss`, or with `error`).
   */
  login(authorizationUrl: string, as: { sub: string; acr?: string; cancel?: boolean }): Promise<URL>;
  close(): Promise<void>;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function formBody(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Starts the provider on 127.0.0.1 (a free port) with one client registered for `redirectUri`. */
export async function startOidcProvider(options: OidcProviderOptions): Promise<LocalOidcProvider> {
  const clientId = 'rempart-test';
  const clientSecret = randomBytes(24).toString('base64url');
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const alg = options.signingAlg ?? 'RS256';
  const newKey = (): KeyObject =>
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const privateKey = newKey();
  const kid = `test-${alg.toLowerCase()}`;
  const jwk = { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid };
  const acrLevels = options.acrLevels ?? ACR_LEVELS;

  const policy = interactionPolicy.base();
  if (!options.enforceAcr) {
    const login = policy.get('login');
    login?.checks.remove('essential_acrs');
    login?.checks.remove('essential_acr');
  }

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: alg,
        userinfo_signed_response_alg: alg,
      },
    ],
    jwks: { keys: [jwk] },
    acrValues: [...acrLevels],
    claims: {
      openid: ['sub'],
      ...(options.claims?.scopes ?? { email: ['email', 'email_verified'] }),
      acr: null,
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      jwtUserinfo: { enabled: true },
      userinfo: { enabled: true },
    },
    pkce: { required: () => true },
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        claims: async () =>
          options.claims
            ? { ...options.claims.of(sub), sub }
            : { sub, email: `${sub}@agents.example`, email_verified: true },
      };
    },
    // The client is first-party: no consent screen, the grant is made on the spot.
    async loadExistingGrant(ctx) {
      const grantId =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      // What the client asked for, as a consent screen would grant it (ProConnect: openid email).
      grant.addOIDCScope(String(ctx.oidc.params?.scope ?? 'openid'));
      grant.addOIDCClaims(['acr', 'email', 'email_verified']);
      await grant.save();
      return grant;
    },
  });

  const idp: LocalOidcProvider = {
    issuer,
    clientId,
    clientSecret,
    env: {
      REMPART_PROCONNECT_ISSUER: issuer,
      REMPART_PROCONNECT_CLIENT_ID: clientId,
      REMPART_PROCONNECT_CLIENT_SECRET: clientSecret,
    },
    franceconnectEnv: {
      REMPART_FRANCECONNECT_ISSUER: issuer,
      REMPART_FRANCECONNECT_CLIENT_ID: clientId,
      REMPART_FRANCECONNECT_CLIENT_SECRET: clientSecret,
      REMPART_FRANCECONNECT_SIGNING_ALG: alg,
    },
    acr: options.acr ?? 'eidas1-mfa',
    userinfo: 'signed',
    acrLevels,
    async login(authorizationUrl, as) {
      return driveLogin(authorizationUrl, issuer, {
        login: as.sub,
        acr: as.acr ?? idp.acr,
        ...(as.cancel ? { cancel: '1' } : {}),
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  // What a faulty or hostile provider (or someone between it and Rempart) might send as userinfo.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/me' || ctx.status !== 200 || typeof ctx.body !== 'string') return;
    const [header, payload, signature] = ctx.body.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    if (idp.userinfo === 'unsigned') {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(claims);
    } else if (idp.userinfo === 'tampered') {
      const tamper = options.tamper ?? { email: 'someone.else@agents.example' };
      const changed = Buffer.from(JSON.stringify({ ...claims, ...tamper }));
      ctx.body = `${header}.${changed.toString('base64url')}.${signature}`;
    } else if (idp.userinfo === 'foreign-key') {
      // Same header (alg, kid), same claims, signed by a key the provider never published.
      const input = `${header}.${payload}`;
      const foreign = sign('sha256', Buffer.from(input), {
        key: newKey(),
        ...(alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
      });
      ctx.body = `${input}.${foreign.toString('base64url')}`;
    } else if (idp.userinfo === 'alg-none') {
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      ctx.body = `${none}.${payload}.`;
    }
  });

  const callback = provider.callback();
  handler = (req, res) => {
    const match = /^\/interaction\/([\w-]+)$/.exec(req.url ?? '');
    if (!match) {
      callback(req, res);
      return;
    }
    interaction(provider, idp, req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String((error as Error).message));
    });
  };
  return idp;
}

/** The provider's login page: an identifier and an authentication level, then "Se connecter". */
async function interaction(
  provider: Provider,
  idp: LocalOidcProvider,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    const form = await formBody(req);
    const sub = form.get('login')?.trim() ?? '';
    const acr = form.get('acr') ?? idp.acr;
    if (form.get('cancel') !== null) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'cancelled',
      });
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: sub, acr, amr: ['pwd'] } },
      {
        mergeWithLastSubmission: false,
      },
    );
    return;
  }
  const options = idp.acrLevels
    .map((level) => `<option value="${level}"${level === idp.acr ? ' selected' : ''}>${level}</option>`)
    .join('');
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Fournisseur d'identité de test</title></head>
<body><main><h1>Fournisseur d'identité de test</h1>
<form method="post" action="/interaction/${escapeHtml(details.uid)}">
<label for="login">Identifiant</label><input id="login" name="login" required autocomplete="off">
<label for="acr">Niveau d'authentification</label><select id="acr" name="acr">${options}</select>
<button type="submit">Se connecter</button>
<button type="submit" name="cancel" value="1" formnovalidate>Annuler</button>
</form></main></body></html>`);
}

/** Follows redirects by hand with a cookie jar for the provider, submitting its login page once. */
async function driveLogin(
  authorizationUrl: string,
  issuer: string,
  form: Record<string, string>,
): Promise<URL> {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  let url = new URL(authorizationUrl);
  let submitted = false;
  for (let hop = 0; hop < 10; hop++) {
    if (url.origin !== issuer) return url; // back at the client: its callback
    let response = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader() } });
    remember(response);
    if (response.status === 200 && /^\/interaction\//.test(url.pathname)) {
      if (submitted) throw new Error('the provider asked for a second login');
      submitted = true;
      await response.text();
      response = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      remember(response);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      throw new Error(`the provider answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    await response.body?.cancel();
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}
