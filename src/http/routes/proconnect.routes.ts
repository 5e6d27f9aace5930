/**
 * ProConnect login and linking (src/identity/proconnect.ts; docs/SECURITY.md, "Federation"). The
 * browser is sent to the identity provider by a 302 and comes back to the callback, which sends it on
 * to the console's /connexion/proconnect?result=<code>: no personal data ever sits in a URL.
 * Off (404 proconnect_disabled) unless REMPART_PROCONNECT_* are set.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Config } from '../../config.ts';
import { type Clock, systemCtx } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { type CallbackResult, FLOW_MINUTES, finishFlow, startFlow } from '../../identity/proconnect.ts';
import { FederationError, ProConnectClient } from '../../identity/proconnect-client.ts';
import { linkOf, unlink } from '../../identity/proconnect-links.ts';
import { csrfMatches } from '../../identity/sessions.ts';
import { setSessionCookie } from '../plugins/auth.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

export interface ProConnectRoutesOptions {
  db: Db;
  config: Pick<Config, 'sessions' | 'guard' | 'proconnect'>;
  clock: Clock;
}

/** The flow cookie: sent back only to the callback, on the identity provider's top-level redirect. */
export const FLOW_COOKIE = 'rempart_proconnect';
const CALLBACK_PATH = '/api/v1/auth/proconnect/callback';
/** The console's page that shows a callback's outcome. */
export const CONSOLE_RESULT_PATH = '/connexion/proconnect';
/**
 * The CSRF token of a session opened by the callback reaches the console through this cookie, once:
 * the callback is a redirect, so it cannot answer the token in a body as the password login does.
 * HttpOnly, SameSite=Strict, its path the one route that hands it over (and clears it), two minutes.
 */
export const CSRF_HANDOFF_COOKIE = 'rempart_csrf_handoff';
const SESSION_PATH = '/api/v1/auth/proconnect/session';

const RESULTS: CallbackResult[] = [
  'ok',
  'linked',
  'not_linked',
  'already_linked',
  'mfa_required',
  'refused',
  'cancelled',
  'failed',
  'unavailable',
];
const redirectDoc = (description: string) => ({ description, type: 'null' });
const disabled = problemResponse('ProConnect is not configured on this server (proconnect_disabled)');
const staffErrors = {
  401: problemResponse('Not logged in'),
  403: problemResponse('CSRF token missing, or a (fresh) second factor is required'),
  404: disabled,
};

/** Registers the routes. */
export const proconnectRoutes: FastifyPluginAsync<ProConnectRoutesOptions> = async (app, deps) => {
  const { db, config, clock } = deps;
  const client = config.proconnect ? new ProConnectClient(config.proconnect) : undefined;
  const actor = systemCtx('proconnect').actor;
  const enabled = (): ProConnectClient => {
    if (!client) throw new AppError('proconnect_disabled', 'ProConnect is not configured on this server');
    return client;
  };
  const toConsole = (reply: FastifyReply, result: CallbackResult) =>
    reply.redirect(`${CONSOLE_RESULT_PATH}?result=${result}`, 302);
  /**
   * SameSite=Lax, not Strict: the identity provider's redirect to the callback is a cross-site
   * top-level navigation, which carries Lax cookies and not Strict ones. Its path keeps it off
   * every other request; HttpOnly keeps it from scripts; it lives as long as a flow.
   */
  const setFlowCookie = (reply: FastifyReply, flowId: string) =>
    reply.setCookie(FLOW_COOKIE, flowId, {
      path: CALLBACK_PATH,
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      maxAge: FLOW_MINUTES * 60,
    });

  app.get(
    '/api/v1/auth/proconnect',
    {
      schema: {
        tags: ['auth'],
        operationId: 'getProConnectStatus',
        summary: 'Whether ProConnect login is offered on this server',
        security: [],
        response: { 200: obj({ enabled: { type: 'boolean' } }) },
      },
    },
    async () => ({ enabled: client !== undefined }),
  );

  app.get(
    '/api/v1/auth/proconnect/login',
    {
      schema: {
        tags: ['auth'],
        operationId: 'startProConnectLogin',
        summary: 'Start a ProConnect login: a 302 to the identity provider (a browser navigation)',
        description:
          'Sets a short-lived flow cookie (HttpOnly, SameSite=Lax, path the callback) and redirects to ProConnect ' +
          'with PKCE (S256), state, nonce and acr eidas1-mfa, eidas2 or eidas3 required through the claims parameter. ' +
          `If the identity provider cannot be reached, redirects to ${CONSOLE_RESULT_PATH}?result=unavailable.`,
        security: [],
        response: {
          302: redirectDoc('To the identity provider, or to the console with result=unavailable'),
          403: problemResponse('Started from another site (cross_site_refused)'),
          404: disabled,
        },
      },
    },
    async (_request, reply) => {
      try {
        const flow = await startFlow(db, enabled(), { kind: 'login' }, clock.now());
        setFlowCookie(reply, flow.flowId);
        return reply.redirect(flow.url.href, 302);
      } catch (error) {
        if (error instanceof FederationError) return toConsole(reply, 'unavailable');
        throw error;
      }
    },
  );

  app.get(
    CALLBACK_PATH,
    {
      schema: {
        tags: ['auth'],
        operationId: 'finishProConnectLogin',
        summary: 'Where ProConnect sends the browser back (the registered redirect URI)',
        description:
          `Always a 302 to ${CONSOLE_RESULT_PATH}?result=<code>, one of ${RESULTS.join(', ')}. On \`ok\` the ` +
          'session cookie is set (an mfa session, as after a password and a second factor); on `linked` the ' +
          'identity is now linked to the account that started the link. Accepted from another site ' +
          '(the identity provider), as it reads no personal data and counts only with the flow cookie.',
        security: [],
        querystring: {
          type: 'object',
          additionalProperties: true,
          properties: {
            code: { type: 'string', maxLength: 2000 },
            state: { type: 'string', maxLength: 500 },
            iss: { type: 'string', maxLength: 500 },
            error: { type: 'string', maxLength: 200 },
            error_description: { type: 'string', maxLength: 2000 },
          },
        },
        response: { 302: redirectDoc(`To ${CONSOLE_RESULT_PATH}?result=<code>`), 404: disabled },
      },
    },
    async (request, reply) => {
      const proconnect = enabled();
      const now = clock.now();
      const userAgent = request.headers['user-agent'];
      const query = new URL(request.url, 'http://callback.invalid').searchParams;
      const outcome = await finishFlow(
        db,
        proconnect,
        { config, now },
        {
          flowId: request.cookies[FLOW_COOKIE],
          query,
          address: request.ip,
          ...(userAgent ? { userAgent } : {}),
        },
      );
      reply.clearCookie(FLOW_COOKIE, { path: CALLBACK_PATH, httpOnly: true, secure: true, sameSite: 'lax' });
      if (outcome.session) {
        setSessionCookie(reply, outcome.session.sessionId, outcome.session.expiresAt, now);
        reply.setCookie(CSRF_HANDOFF_COOKIE, outcome.session.csrfToken, {
          path: SESSION_PATH,
          httpOnly: true,
          secure: true,
          sameSite: 'strict',
          maxAge: 120,
        });
      }
      return toConsole(reply, outcome.result);
    },
  );

  app.get(
    SESSION_PATH,
    {
      preHandler: app.requireStaff({ assurance: 'mfa' }),
      schema: {
        tags: ['auth'],
        operationId: 'takeProConnectSession',
        summary: 'The CSRF token of the session a ProConnect login just opened (once)',
        description:
          'After `result=ok`, the console reads here the CSRF token of its new session, which the callback left in ' +
          'a short-lived HttpOnly cookie limited to this path; the cookie is cleared. 404 not_found when there is ' +
          "none, or when it is not this session's. Same-origin only, like every API route.",
        response: {
          200: obj({ csrfToken: { type: 'string' } }),
          ...staffErrors,
          404: problemResponse('No token to hand over (not_found)'),
        },
      },
    },
    async (request, reply) => {
      enabled();
      const token = request.cookies[CSRF_HANDOFF_COOKIE];
      reply.clearCookie(CSRF_HANDOFF_COOKIE, {
        path: SESSION_PATH,
        httpOnly: true,
        secure: true,
        sameSite: 'strict',
      });
      if (!token || !csrfMatches(request.staff!.session, token)) {
        throw new AppError('not_found', 'no session token to hand over');
      }
      return { csrfToken: token };
    },
  );

  app.post(
    '/api/v1/auth/proconnect/link',
    {
      preHandler: app.requireStaff({ assurance: 'mfa', fresh: true }),
      schema: {
        tags: ['auth'],
        operationId: 'startProConnectLink',
        summary: 'Start linking a ProConnect identity to my account (fresh second factor)',
        description:
          'Returns the identity provider URL to send the browser to, and sets the flow cookie. After the ' +
          `ProConnect login, the callback links the identity and redirects to ${CONSOLE_RESULT_PATH}?result=linked ` +
          '(or already_linked, mfa_required, refused, cancelled, failed). The owner is notified by mail.',
        response: {
          200: obj({ authorizationUrl: { type: 'string', format: 'uri' } }),
          ...staffErrors,
          502: problemResponse('The identity provider cannot be reached (proconnect_unavailable)'),
        },
      },
    },
    async (request, reply) => {
      const proconnect = enabled();
      const { account, session } = request.staff!;
      try {
        const flow = await startFlow(
          db,
          proconnect,
          { kind: 'link', account, sessionIdHash: session.idHash },
          clock.now(),
        );
        setFlowCookie(reply, flow.flowId);
        return { authorizationUrl: flow.url.href };
      } catch (error) {
        if (error instanceof FederationError)
          throw new AppError('proconnect_unavailable', 'the identity provider cannot be reached now');
        throw error;
      }
    },
  );

  app.get(
    '/api/v1/auth/proconnect/link',
    {
      preHandler: app.requireStaff({ assurance: 'mfa' }),
      schema: {
        tags: ['auth'],
        operationId: 'getProConnectLink',
        summary: 'Whether a ProConnect identity is linked to my account',
        response: {
          200: obj(
            { linked: { type: 'boolean' }, issuer: { type: 'string' }, linkedAt: { type: 'string' } },
            ['linked'],
          ),
          ...staffErrors,
        },
      },
    },
    async (request) => {
      enabled();
      const found = await db.tx(actor, (tx) => linkOf(tx, request.staff!.account.id));
      return found
        ? { linked: true, issuer: found.issuer, linkedAt: found.linkedAt.toISOString() }
        : { linked: false };
    },
  );

  app.post(
    '/api/v1/auth/proconnect/unlink',
    {
      preHandler: app.requireStaff({ assurance: 'mfa', fresh: true }),
      schema: {
        tags: ['auth'],
        operationId: 'unlinkProConnect',
        summary: 'Unlink the ProConnect identity from my account (fresh second factor)',
        response: { 200: obj({ removed: { type: 'integer' } }), ...staffErrors },
      },
    },
    async (request) => {
      enabled();
      const removed = await db.tx(actor, (tx) => unlink(tx, request.staff!.account, clock.now(), request.ip));
      return { removed };
    },
  );
};
