/**
 * The one mapping from errors to HTTP (CONVENTIONS.md, "Errors"): every failure leaves as
 * `application/problem+json` (RFC 9457) with a stable `code` and the `requestId`.
 * Fastify's default handler sends `error.message` to the client (docs/DESIGN.md section 13); this one
 * sends AppError messages (written to name fields, never values) and generic text for the rest.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, type FieldIssue, isAppError } from '../../errors.ts';

const PROBLEM_BASE = 'https://rempart.invalid/problems/';

/** The body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  field?: string;
  issues?: FieldIssue[];
  /** A guard response: which kind of limit was reached, in words (never the threshold). */
  limit?: string;
  /** A throttle: when it ends (ISO 8601; Retry-After says the same in seconds). */
  retryAt?: string;
  /** Which rule refused, a stable word (the audit event's reason), for the few refusals that carry one. */
  reason?: string;
  requestId: string;
}

/** JSON schema of a problem, for route response schemas and the OpenAPI document. */
export const ProblemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail', 'requestId'],
  additionalProperties: false,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    field: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        additionalProperties: false,
        properties: { field: { type: 'string' }, message: { type: 'string' }, line: { type: 'integer' } },
      },
    },
    limit: { type: 'string', description: 'a guard response: which kind of limit was reached' },
    retryAt: { type: 'string', format: 'date-time', description: 'a throttle: when it ends' },
    reason: {
      type: 'string',
      description:
        'which rule refused, a stable word (the audit event’s reason), for the refusals that carry one',
    },
    requestId: { type: 'string' },
  },
} as const;

/** A response-schema entry documenting a problem+json answer. */
export function problemResponse(description: string): Record<string, unknown> {
  return { description, content: { 'application/problem+json': { schema: ProblemSchema } } };
}

interface Mapped {
  status: number;
  code: ErrorCode;
  detail: string;
  field?: string;
  issues?: FieldIssue[];
  /** Seconds, sent as Retry-After (a throttled answer). */
  retryAfter?: number;
  limit?: string;
  retryAt?: string;
  reason?: string;
}

/** Fastify's own client errors: their text is fixed here so that nothing from the request is echoed. */
const FRAMEWORK_ERRORS: Record<string, Mapped> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: 'only application/json request bodies are accepted',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'validation_failed',
    detail: 'body is not valid JSON',
    field: 'body',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'validation_failed',
    detail: 'body is empty',
    field: 'body',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'validation_failed',
    detail: 'body is too large',
    field: 'body',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'validation_failed',
    detail: 'body does not match its Content-Length',
    field: 'body',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'validation_failed', detail: 'url is not valid', field: 'url' },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'validation_failed',
    detail: 'url is too long',
    field: 'url',
  },
};

const INTERNAL: Mapped = { status: 500, code: 'internal', detail: 'internal error; quote the requestId' };

/** An Ajv error as Fastify attaches it to a validation failure. */
interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

// A property name the client sent is data: only echo it when it looks like an identifier.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * The field and a message for one schema violation. The message comes from the schema (Ajv
 * messages quote the constraint, never the instance), so a rejected NIR or email is not echoed.
 */
function describeSchemaIssue(issue: SchemaIssue, context: string): FieldIssue {
  const path = issue.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  let message = issue.message ?? 'is not valid';
  if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string') {
    path.push(issue.params.missingProperty);
    message = 'is required';
  } else if (issue.keyword === 'additionalProperties') {
    const name = issue.params.additionalProperty;
    if (typeof name === 'string' && IDENTIFIER.test(name)) {
      path.push(name);
      message = 'is not an accepted property';
    } else {
      message = 'has a property that is not accepted';
    }
  }
  return { field: path.length > 0 ? path.join('.') : context, message };
}

function mapError(error: unknown): Mapped {
  if (isAppError(error)) {
    return {
      status: error.status,
      code: error.code,
      // `internal` carries whatever went wrong inside; the other codes are written for the client.
      detail: error.code === 'internal' ? INTERNAL.detail : error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(error.issues.length > 0 ? { issues: error.issues } : {}),
      ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }),
      ...(error.limit === undefined ? {} : { limit: error.limit }),
      ...(error.retryAt === undefined ? {} : { retryAt: error.retryAt }),
      ...(error.reason === undefined ? {} : { reason: error.reason }),
    };
  }
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError && Array.isArray(fastifyError.validation)) {
    const context = fastifyError.validationContext ?? 'body';
    const first = fastifyError.validation[0] as SchemaIssue | undefined;
    const issue = first ? describeSchemaIssue(first, context) : { field: context, message: 'is not valid' };
    return {
      status: 400,
      code: 'validation_failed',
      detail: `${issue.field} ${issue.message}`,
      field: issue.field,
      issues: [issue],
    };
  }
  const code = fastifyError?.code;
  if (typeof code === 'string') {
    const known = FRAMEWORK_ERRORS[code];
    if (known) return known;
    const status = fastifyError?.statusCode;
    // Another client error raised by Fastify itself: keep its status, not its text.
    if (code.startsWith('FST_ERR_') && typeof status === 'number' && status >= 400 && status < 500) {
      return { status, code: 'validation_failed', detail: 'the request is not valid' };
    }
  }
  return INTERNAL;
}

/** Writes a problem+json answer. The body is serialised here so no route response schema can trim it. */
function sendProblem(request: FastifyRequest, reply: FastifyReply, mapped: Mapped): FastifyReply {
  const problem: Problem = {
    type: `${PROBLEM_BASE}${mapped.code}`,
    title: STATUS_CODES[mapped.status] ?? 'Error',
    status: mapped.status,
    code: mapped.code,
    detail: mapped.detail,
    ...(mapped.field === undefined ? {} : { field: mapped.field }),
    ...(mapped.issues === undefined ? {} : { issues: mapped.issues }),
    ...(mapped.limit === undefined ? {} : { limit: mapped.limit }),
    ...(mapped.retryAt === undefined ? {} : { retryAt: mapped.retryAt }),
    ...(mapped.reason === undefined ? {} : { reason: mapped.reason }),
    requestId: request.id,
  };
  if (mapped.retryAfter !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(mapped.retryAfter))));
  return reply
    .code(mapped.status)
    .header('x-request-id', request.id)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(problem));
}

/** Maps any error to a problem answer; 5xx are logged by name and code only (messages may hold data). */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = mapError(error);
  if (mapped.status >= 500) {
    const named = error as { name?: unknown; code?: unknown } | null;
    request.log.error(
      {
        error: {
          name: typeof named?.name === 'string' ? named.name : typeof error,
          ...(typeof named?.code === 'string' ? { code: named.code } : {}),
        },
      },
      'request failed',
    );
  }
  return sendProblem(request, reply, mapped);
}

/**
 * Installs the error and not-found handlers on the root instance (not encapsulated: they cover every
 * route). `page`, when given, answers the unmatched paths it accepts (the console's page, which
 * routes in the browser: http/console.ts); everything else is a 404 problem.
 */
export function registerErrorHandler(
  app: FastifyInstance,
  page?: { accepts(request: FastifyRequest): boolean; send(reply: FastifyReply): FastifyReply },
): void {
  app.setErrorHandler((error, request, reply) => handleError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    page?.accepts(request)
      ? page.send(reply)
      : sendProblem(request, reply, { status: 404, code: 'not_found', detail: 'no such resource' }),
  );
}
