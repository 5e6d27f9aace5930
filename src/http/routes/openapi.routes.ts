/** GET /api/openapi.json: the OpenAPI 3.1 document built by @fastify/swagger from the route schemas. */
import type { FastifyPluginAsync } from 'fastify';

/** Registers GET /api/openapi.json (hidden from the document it serves). */
export const openapiRoutes: FastifyPluginAsync = async (app) => {
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
