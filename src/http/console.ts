/**
 * The web console, served from its build (web/dist) on the API's origin: the console reaches the
 * server only through the documented API, with the session cookie and CSRF token (docs/API.md).
 * Paths outside /api that are no file answer the console's page (the browser routes them); hashed
 * assets are cached for a year, the page itself is checked again every time.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Whether `dir` holds a console build. */
export function hasConsoleBuild(dir: string): boolean {
  return existsSync(path.join(dir, 'index.html'));
}

/** Paths that never fall back to the page: the API, and the console's own files (a missing one is a 404). */
const NO_FALLBACK = /^\/(api|assets|dsfr)(\/|$)/;

/** The not-found handler's page: a GET for a document outside the API gets the console's page. */
export function consolePage(dir: string): {
  accepts(request: FastifyRequest): boolean;
  send(reply: FastifyReply): FastifyReply;
} {
  return {
    accepts: (request) =>
      (request.method === 'GET' || request.method === 'HEAD') &&
      !NO_FALLBACK.test((request.url.split('?')[0] ?? '').toLowerCase()) &&
      String(request.headers.accept ?? '').includes('text/html'),
    send: (reply) => reply.code(200).header('cache-control', 'no-cache').sendFile('index.html', dir),
  };
}

/** Serves the console's files from `dir` (a Vite build); `/` is its page. */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: dir,
    index: false,
    list: false,
    dotfiles: 'deny',
    // One route per built file, read at start: any other path reaches the not-found handler (the
    // page, or the API's 404), never a catch-all route that the API's own checks would not see.
    wildcard: false,
    // The hidden flag keeps the console's files out of the API's OpenAPI document.
    schemaHide: true,
    setHeaders(res, file) {
      const hashed = file.startsWith(path.join(dir, 'assets') + path.sep);
      res.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html', dir),
  );
}
