/**
 * Response hardening headers and the refusal of cross-site requests to the API.
 * Registered on the root instance, before any route, so that every answer (404s and errors too)
 * carries the headers, and the cross-site check runs before routing to the gate.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';

const ONE_YEAR = 365 * 24 * 60 * 60;

/** SHA-256 of `:root { color-scheme: dark; }` and of `... light; }`, the style react-dsfr writes. */
const COLOR_SCHEME_STYLE_HASHES = [
  "'sha256-xVQ4mcypV0CvOtZpQgVcKpcoNvdUkR9BrwZBrtBbU+w='",
  "'sha256-HzhUjVBe6Oi2wcxUM7bmy2Rp9VdLMHYDdYr9MalNmOY='",
];

/**
 * Routes under /api that carry no personal data, so a cross-site read of them burns nothing.
 * Keyed by method and route pattern (not the raw URL), so no spelling of a path can match by accident.
 */
const CROSS_SITE_ALLOWED = new Set([
  'GET /api/health',
  'GET /api/openapi.json',
  // ProConnect's redirect back is a cross-site top-level navigation by nature. The callback reads no
  // personal data and is not scored by the guard; it counts only with the flow cookie set by a
  // same-origin start, and its state, PKCE verifier and nonce (docs/SECURITY.md, "Federation").
  // The start of a login or a link stays same-origin only.
  'GET /api/v1/auth/proconnect/callback',
  // FranceConnect's redirect back to the person's portal, likewise (docs/FRANCECONNECT.md):
  // it counts only with the flow cookie of a same-origin start, one use, state, PKCE and nonce.
  'GET /api/v1/portal/franceconnect/callback',
]);

/**
 * Sec-Fetch-Site values a browser sends for requests the agent made from Rempart itself
 * (`same-origin`) or by typing the address / opening a bookmark (`none`). `same-site` is refused
 * too: a sibling subdomain is another application. Absent header: not a browser (curl, the CLI).
 */
const SAME_ORIGIN_FETCH = new Set(['same-origin', 'none']);

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Whether the request targets the API; for unmatched routes, judged on the decoded raw path. */
function isApiRequest(request: FastifyRequest): boolean {
  const pattern = request.is404 ? undefined : request.routeOptions.url;
  const path = pattern ?? safeDecode(request.url.split('?')[0] ?? '').toLowerCase();
  return path === '/api' || path.startsWith('/api/');
}

/** Helmet with a strict policy, no-store on the API, and the Sec-Fetch-Site check. */
export async function registerSecurity(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        // The design system's start code writes one <style> for the colour scheme (react-dsfr,
        // useIsDark): allowed by its two exact hashes, never by 'unsafe-inline'.
        'style-src': ["'self'", ...COLOR_SCHEME_STYLE_HASHES],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'"],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        // DOM XSS sinks take only values made by the named Trusted Types policies: those react-dsfr
        // creates (react-dsfr, react-dsfr-asap). The console itself writes no HTML.
        'require-trusted-types-for': ["'script'"],
        'trusted-types': ['react-dsfr', 'react-dsfr-asap'],
      },
    },
    strictTransportSecurity: { maxAge: ONE_YEAR, includeSubDomains: true, preload: false },
    referrerPolicy: { policy: 'no-referrer' },
    xContentTypeOptions: true,
    xFrameOptions: { action: 'deny' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    if (!isApiRequest(request)) return;
    // Personal data must not sit in a browser or proxy cache on a shared agency workstation.
    reply.header('cache-control', 'no-store');

    // T-cross-site (docs/DESIGN.md section 13): every read is audited and scored, so a link or an
    // <img> on another site that makes an agent's browser read a person (a canary, say) would burn
    // the agent's quota or get them suspended. Refused before routing reaches the gate, GET included.
    const site = request.headers['sec-fetch-site'];
    if (site === undefined) return;
    if (SAME_ORIGIN_FETCH.has(String(site))) return;
    if (!request.is404 && CROSS_SITE_ALLOWED.has(`${request.method} ${request.routeOptions.url}`)) return;
    throw new AppError('cross_site_refused', 'cross-site requests to the API are refused');
  });
}
