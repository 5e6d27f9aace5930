/**
 * The console's only way to the server: the documented API (/api/openapi.json), typed from it
 * (schema.d.ts, generated), with the session cookie (HttpOnly, set by the server) and the CSRF token
 * of this session on every state-changing request. The token lives in sessionStorage for this tab:
 * it is not personal data, and a new tab logs in again rather than sharing it.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

const CSRF_KEY = 'rempart.csrf';

/** This tab's CSRF token, if a login in this tab set one. */
export function csrfToken(): string | null {
  try {
    return sessionStorage.getItem(CSRF_KEY);
  } catch {
    return null;
  }
}

/** Keeps (or forgets, with null) this tab's CSRF token. */
export function setCsrfToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(CSRF_KEY);
    else sessionStorage.setItem(CSRF_KEY, token);
  } catch {
    // Storage refused: the token then lives as long as this page (see memoryToken).
  }
  memoryToken = token;
}
let memoryToken: string | null = null;

/** A problem (RFC 9457) the API answered, with Rempart's stable `code`. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /** For throttles and step-ups: which kind of limit (words), and when a throttle ends. */
  readonly limit: string | undefined;
  readonly retryAt: string | undefined;
  /** Which rule refused, a stable word (`self_approval`, `export_off_hours`…), when the server says. */
  readonly reason: string | undefined;
  /** Every bad field (and line, for a file) of a refused input, as the server lists them. */
  readonly issues: { field: string; message: string; line?: number }[];
  constructor(status: number, body: Record<string, unknown>) {
    super(
      typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : 'error',
    );
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : `http_${status}`;
    this.field = typeof body.field === 'string' ? body.field : undefined;
    this.limit = typeof body.limit === 'string' ? body.limit : undefined;
    this.retryAt = typeof body.retryAt === 'string' ? body.retryAt : undefined;
    this.reason = typeof body.reason === 'string' ? body.reason : undefined;
    this.issues = Array.isArray(body.issues) ? (body.issues as ApiProblem['issues']) : [];
  }
}

/** Codes the whole console reacts to, wherever the request came from. */
export type GuardCode = 'step_up_required' | 'throttled' | 'account_suspended' | 'unauthenticated';

type Listener = (problem: ApiProblem) => void;
const listeners = new Set<Listener>();

/** Calls `listener` on every problem the API answers (the layout shows step-ups, throttles, ends of session). */
export function onProblem(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const middleware: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = csrfToken() ?? memoryToken;
      if (token) request.headers.set('x-csrf-token', token);
    }
    return request;
  },
  async onResponse({ response }) {
    const type = response.headers.get('content-type') ?? '';
    if (response.ok && type.includes('json')) {
      // Every answer that raises or renews the session carries its new CSRF token.
      const body = (await response.clone().json()) as { csrfToken?: unknown };
      if (typeof body.csrfToken === 'string') setCsrfToken(body.csrfToken);
    }
    return response;
  },
};

/** The typed client: `api.GET('/api/v1/me')`, `api.POST('/api/v1/persons/search', { body })`... */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(middleware);

type Answer<T> = { data?: T; error?: unknown; response: Response };

/**
 * Asks the person at the screen for a fresh second factor (the step-up dialog of the layout);
 * resolves true once verified, false if they gave up. Set by the layout.
 */
let stepUpHandler: ((problem: ApiProblem) => Promise<boolean>) | undefined;

/** Registers the step-up dialog (the layout does, once). */
export function setStepUpHandler(handler: ((problem: ApiProblem) => Promise<boolean>) | undefined): void {
  stepUpHandler = handler;
}

/**
 * The data of an openapi-fetch answer, or throws its problem (after telling the listeners).
 * Given a function rather than a promise, a `step_up_required` answer opens the step-up dialog and,
 * once the second factor is verified, sends the request again (once): the guard's step-up is a
 * pause in the work, not an error (docs/GUARD.md).
 * Use as `const me = await must(api.GET('/api/v1/me'))` or `must(() => api.POST(...))`.
 */
export async function must<T>(call: Promise<Answer<T>> | (() => Promise<Answer<T>>)): Promise<T> {
  const send = typeof call === 'function' ? call : () => call;
  let { data, error, response } = await send();
  if (!response.ok && typeof call === 'function' && stepUpHandler) {
    const problem = toProblem(response, error);
    if (problem.code === 'step_up_required' && (await stepUpHandler(problem))) {
      ({ data, error, response } = await send());
    }
  }
  // A 204 (logout) has no body: its data is undefined, and that is a success.
  if (response.ok) return data as T;
  const problem = toProblem(response, error);
  for (const listener of listeners) listener(problem);
  throw problem;
}

function toProblem(response: Response, error: unknown): ApiProblem {
  return new ApiProblem(
    response.status,
    error && typeof error === 'object' ? (error as Record<string, unknown>) : {},
  );
}
