/**
 * buildApp: the Fastify instance with Rempart's defaults. Several Fastify defaults are unsafe for a
 * registry where every read is audited (docs/DESIGN.md section 13); each one changed here says why.
 * The instance is returned before `ready()`, so callers (tests) may still add routes.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import pretty from 'pino-pretty';
import type { GateDeps } from '../access/gate.ts';
import type { Config } from '../config.ts';
import { type Clock, systemClock } from '../context.ts';
import type { Kms } from '../crypto/kms.ts';
import type { Db } from '../db/types.ts';
import { announceAlert } from '../guard/announce.ts';
import type { NoticeKeySource } from '../notify/verify-notice.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { consolePage, hasConsoleBuild, registerConsole } from './console.ts';
import { registerAuth } from './plugins/auth.ts';
import { handleError, registerErrorHandler } from './plugins/errors.ts';
import { registerInputCheck } from './plugins/input.ts';
import { registerSecurity } from './plugins/security.ts';
import { accountsRoutes } from './routes/accounts.routes.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { authRoutes } from './routes/auth.routes.ts';
import { exportsRoutes } from './routes/exports.routes.ts';
import { franceconnectRoutes } from './routes/franceconnect.routes.ts';
import {
  franceconnectSessionRoutes,
  openFranceConnectSession,
} from './routes/franceconnect-session.routes.ts';
import { guardRoutes } from './routes/guard.routes.ts';
import { guardDashboardRoutes } from './routes/guard-dashboard.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { incidentsRoutes } from './routes/incidents.routes.ts';
import { messagesRoutes } from './routes/messages.routes.ts';
import { noticesRoutes } from './routes/notices.routes.ts';
import { openapiRoutes } from './routes/openapi.routes.ts';
import { passkeyRoutes } from './routes/passkey.routes.ts';
import { personsRoutes } from './routes/persons.routes.ts';
import { portalRoutes } from './routes/portal.routes.ts';
import { proconnectRoutes } from './routes/proconnect.routes.ts';
import { recoveryRoutes } from './routes/recovery.routes.ts';
import { retentionRoutes } from './routes/retention.routes.ts';
import { webauthnRoutes } from './routes/webauthn.routes.ts';
import { workItemsRoutes } from './routes/work-items.routes.ts';

/** What the app needs from outside; passed in so tests run on real parts (CONVENTIONS.md). */
export interface AppDeps {
  db: Db;
  /** Wraps staff TOTP secrets (and persons' data keys). */
  kms: Kms;
  /** The registry's keys (data keys through the KMS, blind indexes): only the gate uses them. */
  registry: RegistryKeys;
  clock?: Clock;
  /** Where logs go; stdout when absent. Tests pass a stream to read them. */
  logStream?: NodeJS.WritableStream;
  /** Whether the log stream is a terminal (default: stdout's isTTY); decides LOG_FORMAT=auto. */
  logIsTerminal?: boolean;
  /** The web console's build (web/dist) to serve at `/`; none when absent or not built. */
  consoleDir?: string;
  /** The audit checkpoints' verifier key: the person's portal checks proofs against it. */
  checkpointVerifierKey?: string;
  /** The notice keys (src/notify/verify-notice.ts keyringNoticeKeys): the public notice check's. */
  noticeKeys?: NoticeKeySource;
}

/**
 * Where the log lines go, and in which form: readable lines (pino-pretty, in this process: no
 * worker thread) on a terminal or with LOG_FORMAT=pretty, JSON lines otherwise (a file, journald,
 * a log collector). Either form carries the same fields: the serializers below decide what is
 * logged, never the format.
 */
export function logDestination(
  format: Config['logFormat'],
  stream: NodeJS.WritableStream,
  isTerminal: boolean,
): NodeJS.WritableStream {
  if (format === 'json' || (format === 'auto' && !isTerminal)) return stream;
  return pretty({
    destination: stream,
    colorize: isTerminal,
    translateTime: 'SYS:HH:MM:ss',
    // One line a request: the same fields as the JSON form (method, route pattern, status, time, id).
    messageFormat:
      '{msg}{if req.method} {req.method} {req.url}{end}{if res.statusCode} {res.statusCode}{end}{if responseTime} in {responseTime} ms{end}{if requestId} [{requestId}]{end}',
    ignore: 'pid,hostname,req,res,responseTime,requestId',
    sync: true,
  });
}

const ONE_MIB = 1024 * 1024;

/** The logger's `stream` option: none for JSON on stdout (pino's own fast writer), else logDestination's. */
function logStreamOption(config: Config, deps: AppDeps): { stream?: NodeJS.WritableStream } {
  const isTerminal = deps.logIsTerminal ?? (deps.logStream === undefined && process.stdout.isTTY === true);
  const format = config.logFormat ?? 'auto';
  if (deps.logStream === undefined && (format === 'json' || (format === 'auto' && !isTerminal))) return {};
  return { stream: logDestination(format, deps.logStream ?? process.stdout, isTerminal) };
}

/**
 * The path without query string, with any segment holding a digit, '@' or '%' masked: an
 * unmatched URL is whatever the client typed, possibly a NIR or an email (docs/DESIGN.md section 12).
 */
function loggablePath(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  return path
    .split('/')
    .map((segment) => (/[0-9@%]/.test(segment) ? ':masked' : segment))
    .join('/');
}

/**
 * Fastify's own log lines for the default 404 and error handlers print the raw URL (query string
 * included) and error messages; Rempart replaces both handlers, and this keeps them quiet anyway.
 */
class RempartLogController extends LogController {
  override routeNotFound(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.info('route not found');
  }
  override defaultErrorLog(error: Error, request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.error({ err: error }, 'request failed');
  }
  override writeHeadError(error: Error, request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.warn({ err: error }, 'could not write the response head');
  }
}

/** Log serializers: method, route pattern, request id, status; never headers, cookies, bodies or queries. */
const serializers = {
  req(request: FastifyRequest) {
    const pattern = request.is404 ? undefined : request.routeOptions?.url;
    return { method: request.method, url: pattern ?? loggablePath(request.url), requestId: request.id };
  },
  res(reply: { statusCode: number }) {
    return { statusCode: reply.statusCode };
  },
  // Error messages may quote the data that caused them: name and code only.
  err(error: { name?: unknown; code?: unknown }) {
    return {
      type: typeof error?.name === 'string' ? error.name : 'Error',
      ...(typeof error?.code === 'string' ? { code: error.code } : {}),
    };
  },
};

/** Builds the HTTP application (not yet listening, not yet ready). */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...logStreamOption(config, deps),
      // The declared serializer types describe Node's raw request; Fastify passes its own objects.
      serializers: serializers as never,
    },
    logController: new RempartLogController({ requestIdLogLabel: 'requestId' }),
    genReqId: () => randomUUID(),
    // A client-chosen request id could collide with or impersonate another request in the logs.
    requestIdHeader: false,
    // Fastify adds a HEAD route for every GET; a HEAD would run the GET handler without the
    // audit seeing a read of its own (docs/DESIGN.md section 13). No implicit routes.
    exposeHeadRoutes: false,
    bodyLimit: ONE_MIB,
    // request.ip decides throttles, session records and the guard's address signals: the
    // X-Forwarded-For client address counts only when the peer is one of the operator's proxies
    // (TRUST_PROXY), else anyone could choose the address they are seen from.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: {
      // Ajv's Fastify defaults coerce types and drop unknown properties silently; input must be
      // exactly what the schema says, and route schemas say additionalProperties: false.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, useDefaults: true },
    },
    // Bad URL encodings and over-long parameters: answered by the same mapping, not Fastify's
    // default body that echoes the path.
    frameworkErrors: (error, request, reply) => {
      handleError(error, request, reply);
    },
  });
  const clock = deps.clock ?? systemClock;
  app.decorate('clock', clock);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // JSON only: a text/plain body is what a cross-site HTML form can send without a CORS preflight.
  app.removeContentTypeParser('text/plain');

  const consoleDir = deps.consoleDir && hasConsoleBuild(deps.consoleDir) ? deps.consoleDir : undefined;
  registerErrorHandler(app, consoleDir ? consolePage(consoleDir) : undefined);
  // Control characters are refused in every string of every request (plugins/input.ts).
  registerInputCheck(app);
  await registerSecurity(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rempart API',
        version: '0.1.0',
        description:
          'Registry of job seekers with purpose-bound, audited access. Every read of personal data goes ' +
          'through one gate and is audited. Errors are application/problem+json with a stable `code`.',
      },
      tags: [
        { name: 'system', description: 'Server status and this document' },
        { name: 'auth', description: 'Staff login, second factors and sessions' },
        {
          name: 'recovery',
          description: 'Account recovery: helpdesk opens, manager approves, owner completes',
        },
        { name: 'provisioning', description: 'Accounts and roles, approved by a second person' },
        {
          name: 'portal',
          description: "The person's portal: their data, access history with proofs, receipts",
        },
        {
          name: 'messages',
          description: 'Checking that a message (mail, SMS, letter) really comes from Rempart, by its code',
        },
        {
          name: 'persons',
          description:
            'Job seekers: every read and change goes through the gate, for a declared purpose, and is audited',
        },
        {
          name: 'work-items',
          description:
            'Subcontractor work items: one document for one person, the task’s fields only, while assigned and before the deadline (T4)',
        },
        {
          name: 'incidents',
          description:
            "Incidents: declared, their 72-hour clock, and the authority's notification (GDPR art. 33)",
        },
        {
          name: 'retention',
          description: 'Retention: the archive, crypto-shredding after 20 years, the DPO report',
        },
      ],
    },
  });
  await registerAuth(app, { db: deps.db, config, clock });
  await app.register(healthRoutes, {
    db: deps.db,
    lagAlertSeconds: config.audit.lagAlertSeconds,
  });
  await app.register(authRoutes, { db: deps.db, config, clock, kms: deps.kms });
  await app.register(webauthnRoutes, { db: deps.db, config, clock });
  await app.register(passkeyRoutes, { db: deps.db, config, clock });
  await app.register(proconnectRoutes, { db: deps.db, config, clock });
  await app.register(recoveryRoutes, { db: deps.db, config, clock });
  await app.register(accountsRoutes, { db: deps.db, clock });
  const gateDeps: GateDeps = {
    db: deps.db,
    keys: deps.registry,
    clock,
    guard: config.guardEnabled ? config.guard : null,
    announce: (alert) => announceAlert(deps.db, alert, clock.now(), config.publicUrl),
    exports: config.exports,
  };
  await app.register(personsRoutes, { ...gateDeps, sessions: config });
  await app.register(workItemsRoutes, gateDeps);
  await app.register(exportsRoutes, gateDeps);
  await app.register(auditRoutes, { db: deps.db });
  await app.register(guardRoutes, { db: deps.db, clock, keys: deps.registry, guard: config.guard });
  await app.register(incidentsRoutes, {
    db: deps.db,
    clock,
    keys: deps.registry,
    controller: config.controller,
  });
  await app.register(guardDashboardRoutes, { db: deps.db, clock, guard: config.guard });
  await app.register(retentionRoutes, { db: deps.db, clock, retention: config.retention });
  await app.register(portalRoutes, {
    db: deps.db,
    keys: deps.registry,
    config,
    clock,
    ...(deps.checkpointVerifierKey ? { checkpointVerifierKey: deps.checkpointVerifierKey } : {}),
  });
  await app.register(messagesRoutes, { db: deps.db, clock });
  await app.register(noticesRoutes, {
    db: deps.db,
    clock,
    ...(deps.noticeKeys ? { keys: deps.noticeKeys } : {}),
  });
  // FranceConnect opens the same person session as the email code; its CSRF token reaches the page
  // through a one-time handoff, as the callback is a cross-site redirect (docs/FRANCECONNECT.md).
  const fcSession = { db: deps.db, config, clock };
  await app.register(franceconnectRoutes, {
    db: deps.db,
    config,
    clock,
    keys: deps.registry,
    openSession: openFranceConnectSession(fcSession),
  });
  await app.register(franceconnectSessionRoutes, fcSession);
  await app.register(openapiRoutes);
  if (consoleDir) await registerConsole(app, consoleDir);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The application's source of time (injectable: the guard and retention run on it). */
    clock: Clock;
  }
}
