/**
 * FranceConnect login to the person's portal (src/portal/franceconnect.ts; docs/FRANCECONNECT.md).
 * The browser is sent to FranceConnect by a 302 and comes back to the callback,
 * which opens the person's session through `openSession` (the portal's own session code) and sends
 * the browser on to the portal; a refusal goes to the portal's login page with
 * `?franceconnect=<code>`: no personal data ever sits in a URL. Off (404 franceconnect_disabled)
 * unless REMPART_FRANCECONNECT_* are set.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { FRANCECONNECT_CALLBACK_PATH } from '../../config-franceconnect.ts';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import {
  FLOW_MINUTES,
  type FranceConnectRefusal,
  finishFranceConnect,
  startFranceConnect,
} from '../../portal/franceconnect.ts';
import { FranceConnectClient, FranceConnectError } from '../../portal/franceconnect-client.ts';
import type { RegistryKeys } from '../../registry/persons.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

export interface FranceConnectRoutesOptions {
  db: Db;
  config: Pick<Config, 'franceconnect'>;
  clock: Clock;
  /** The registry's keys: the pivot identity is matched through the blind index, then confirmed. */
  keys: RegistryKeys;
  /**
   * Opens the person's portal session on the reply (its cookies) once FranceConnect's answer has
   * matched exactly one person: the portal's `startPersonSession(db, reply, personId,
   * 'franceconnect', now)`. Called at most once per flow; if it throws, no redirect to the portal.
   */
  openSession: (reply: FastifyReply, personId: string, request: FastifyRequest) => Promise<void>;
  /** Where the browser goes after a login (default /mon-espace). */
  portalPath?: string;
  /** The portal's login page, told the refusal as ?franceconnect=<code> (default /mon-espace/connexion). */
  loginPath?: string;
}

/** The flow cookie: sent back only to the callback, on FranceConnect's top-level redirect. */
export const FRANCECONNECT_FLOW_COOKIE = 'rempart_franceconnect';
export const FRANCECONNECT_LOGIN_PATH = '/api/v1/portal/franceconnect/login';
const REFUSALS: FranceConnectRefusal[] = ['refused', 'level_refused', 'cancelled', 'failed', 'unavailable'];
const redirectDoc = (description: string) => ({ description, type: 'null' });
const disabled = problemResponse('FranceConnect is not configured on this server (franceconnect_disabled)');

/** Registers the routes. */
export const franceconnectRoutes: FastifyPluginAsync<FranceConnectRoutesOptions> = async (app, deps) => {
  const { db, config, clock, keys, openSession } = deps;
  const portalPath = deps.portalPath ?? '/mon-espace';
  const loginPath = deps.loginPath ?? '/mon-espace/connexion';
  const client = config.franceconnect ? new FranceConnectClient(config.franceconnect) : undefined;
  const enabled = (): FranceConnectClient => {
    if (!client)
      throw new AppError('franceconnect_disabled', 'FranceConnect is not configured on this server');
    return client;
  };
  const toLogin = (reply: FastifyReply, result: FranceConnectRefusal) =>
    reply.redirect(`${loginPath}?franceconnect=${result}`, 302);
  /**
   * SameSite=Lax, not Strict: FranceConnect's redirect to the callback is a cross-site top-level
   * navigation, which carries Lax cookies and not Strict ones. Its path keeps it off every other
   * request; HttpOnly keeps it from scripts; it lives as long as a flow.
   */
  const cookieOptions = {
    path: FRANCECONNECT_CALLBACK_PATH,
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
  } as const;

  app.get(
    '/api/v1/portal/franceconnect',
    {
      schema: {
        tags: ['portal'],
        operationId: 'getFranceConnectStatus',
        summary: 'Whether FranceConnect login to the portal is offered on this server',
        security: [],
        response: { 200: obj({ enabled: { type: 'boolean' } }) },
      },
    },
    async () => ({ enabled: client !== undefined }),
  );

  app.get(
    FRANCECONNECT_LOGIN_PATH,
    {
      schema: {
        tags: ['portal'],
        operationId: 'startFranceConnectLogin',
        summary: 'Start a FranceConnect login to the portal: a 302 to FranceConnect (a browser navigation)',
        description:
          'Sets a short-lived flow cookie (HttpOnly, SameSite=Lax, path the callback) and redirects to ' +
          'FranceConnect with PKCE (S256), state, nonce, acr_values eidas1 and the pivot identity scopes. ' +
          `If FranceConnect cannot be reached, redirects to the portal's login page with franceconnect=unavailable.`,
        security: [],
        response: {
          302: redirectDoc('To FranceConnect, or to the login page with franceconnect=unavailable'),
          403: problemResponse('Started from another site (cross_site_refused)'),
          404: disabled,
        },
      },
    },
    async (_request, reply) => {
      const franceconnect = enabled();
      try {
        const flow = await startFranceConnect(db, franceconnect, clock.now());
        reply.setCookie(FRANCECONNECT_FLOW_COOKIE, flow.flowId, {
          ...cookieOptions,
          maxAge: FLOW_MINUTES * 60,
        });
        return reply.redirect(flow.url.href, 302);
      } catch (error) {
        if (error instanceof FranceConnectError) return toLogin(reply, 'unavailable');
        throw error;
      }
    },
  );

  app.get(
    FRANCECONNECT_CALLBACK_PATH,
    {
      schema: {
        tags: ['portal'],
        operationId: 'finishFranceConnectLogin',
        summary: 'Where FranceConnect sends the browser back (the registered redirect URI)',
        description:
          `On success, opens the person's portal session and redirects to the portal; otherwise redirects to ` +
          `the portal's login page with franceconnect=<code>, one of ${REFUSALS.join(', ')}. \`refused\` is the ` +
          'one answer for an identity that matches no person on file and for one that matches several. ' +
          'Accepted from another site (FranceConnect), as it counts only with the flow cookie.',
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
        response: {
          302: redirectDoc('To the portal, or to its login page with franceconnect=<code>'),
          404: disabled,
        },
      },
    },
    async (request, reply) => {
      const franceconnect = enabled();
      const query = new URL(request.url, 'http://callback.invalid').searchParams;
      const outcome = await finishFranceConnect(db, franceconnect, keys, clock.now(), {
        flowId: request.cookies[FRANCECONNECT_FLOW_COOKIE],
        query,
        address: request.ip,
      });
      reply.clearCookie(FRANCECONNECT_FLOW_COOKIE, cookieOptions);
      if (outcome.result !== 'ok') return toLogin(reply, outcome.result);
      await openSession(reply, outcome.personId, request);
      return reply.redirect(portalPath, 302);
    },
  );
};
