/**
 * The console as the server serves it (src/http/console.ts): its page at `/` and at any console path,
 * under a Content-Security-Policy with no inline script, no eval and Trusted Types; hashed assets
 * cached, the page never; the API's unknown paths still answer the API's 404, never the page; the
 * console's files stay out of the OpenAPI document; and the console's typed client
 * (web/src/api/schema.d.ts) is exactly what the served document generates, so a route change
 * cannot reach the console unnoticed (its type check then fails where a screen uses it).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleApiTypes } from '../scripts/console-api-types.ts';
import { CONSOLE_DIST } from '../src/http/console-build.ts';
import { type StaffWorld, staffWorld } from './helpers/staff.ts';

let world: StaffWorld;
let app: FastifyInstance;
const html = { accept: 'text/html,application/xhtml+xml' };

beforeAll(async () => {
  world = await staffWorld({ consoleDir: CONSOLE_DIST });
  app = world.app;
});
afterAll(async () => {
  await world?.close();
});

describe('the console served by the API server', () => {
  it.each(['/', '/connexion', '/recherche', '/dossier', '/mon-espace/dossier', '/no/such/screen'])(
    'GET %s answers the console page, never cached, under the strict policy',
    async (url) => {
      const response = await app.inject({ method: 'GET', url, headers: html });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="root"></div>');
      const csp = String(response.headers['content-security-policy']);
      const directive = (name: string) =>
        csp
          .split(';')
          .map((d) => d.trim())
          .find((d) => d.startsWith(`${name} `));
      expect(directive('script-src')).toBe("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(directive('require-trusted-types-for')).toBe("require-trusted-types-for 'script'");
      expect(directive('trusted-types')).toBe('trusted-types react-dsfr react-dsfr-asap');
      expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
    },
  );

  it('the page has no inline script and no inline style: every script is a file of the build', async () => {
    const page = await readFile(path.join(CONSOLE_DIST, 'index.html'), 'utf8');
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/assets\/[\w.-]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(page).not.toMatch(/<style\b|\sstyle="|\son\w+="/i);
  });

  it('hashed assets are cached for a year; a missing asset is a 404, not the page', async () => {
    const name = (await readdir(path.join(CONSOLE_DIST, 'assets'))).find((n) => n.endsWith('.js'))!;
    const asset = await app.inject({ method: 'GET', url: `/assets/${name}` });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const url of ['/assets/missing.js', '/dsfr/missing.css']) {
      const missing = await app.inject({ method: 'GET', url, headers: html });
      expect(missing.statusCode).toBe(404);
      expect(missing.body).not.toContain('<div id="root">');
    }
  });

  it('the API keeps its own answers: an unknown API path is a 404 problem, with no-store, even for a browser', async () => {
    for (const url of ['/api/v1/nothing', '/api', '/API/v1/persons']) {
      const response = await app.inject({ method: 'GET', url, headers: html });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['cache-control']).toBe('no-store');
    }
    const crossSite = await app.inject({
      method: 'GET',
      url: '/api/v1/nothing',
      headers: { ...html, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.statusCode).toBe(403);
    // Only reads fall back to the page: a POST to a console path is the API's 404.
    const post = await app.inject({ method: 'POST', url: '/recherche', headers: html, payload: {} });
    expect(post.statusCode).toBe(404);
  });

  it("the console's files are not API operations, and its typed client matches the served document", async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths).every((p) => p.startsWith('/api/'))).toBe(true);
    const committed = await readFile(
      path.join(import.meta.dirname, '..', 'web', 'src', 'api', 'schema.d.ts'),
      'utf8',
    );
    expect(await consoleApiTypes(document)).toBe(committed);
  });
});
