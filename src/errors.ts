/**
 * The one place where application errors are defined (CONVENTIONS.md, "Errors").
 * A message names fields, never their values: no NIR, email, name or phone ever reaches an error.
 */

/** Stable machine-readable error codes, part of the API contract. */
export type ErrorCode =
  | 'validation_failed'
  | 'bad_configuration'
  | 'not_found'
  | 'conflict'
  | 'keyring_exists'
  | 'keyring_missing'
  | 'keyring_invalid'
  | 'decryption_failed'
  | 'import_rejected'
  | 'database_unavailable'
  | 'unsupported_media_type'
  | 'cross_site_refused'
  | 'second_factor_failed'
  | 'login_failed'
  | 'unauthenticated'
  | 'csrf_failed'
  | 'second_factor_required'
  | 'step_up_required'
  | 'throttled'
  | 'account_suspended'
  | 'forbidden'
  | 'recovery_failed'
  | 'recovery_not_ready'
  | 'notification_failed'
  | 'proconnect_disabled'
  | 'proconnect_unavailable'
  | 'franceconnect_disabled'
  | 'internal';

const statusOf: Record<ErrorCode, number> = {
  validation_failed: 400,
  bad_configuration: 500,
  not_found: 404,
  conflict: 409,
  keyring_exists: 409,
  keyring_missing: 500,
  keyring_invalid: 500,
  decryption_failed: 500,
  import_rejected: 422,
  database_unavailable: 503,
  unsupported_media_type: 415,
  cross_site_refused: 403,
  second_factor_failed: 401,
  login_failed: 401,
  unauthenticated: 401,
  csrf_failed: 403,
  second_factor_required: 403,
  step_up_required: 403,
  throttled: 429,
  account_suspended: 403,
  forbidden: 403,
  recovery_failed: 400,
  recovery_not_ready: 409,
  notification_failed: 502,
  proconnect_disabled: 404,
  proconnect_unavailable: 502,
  franceconnect_disabled: 404,
  internal: 500,
};

/** One invalid field: `field` is a path such as `nir` or `birthDate`; `line` is a CSV line number. */
export interface FieldIssue {
  field: string;
  message: string;
  line?: number;
}

/** An error the application raises on purpose; mapped to application/problem+json in one place. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly issues: FieldIssue[];
  /** Seconds before trying again (`throttled`): sent as the Retry-After header. */
  readonly retryAfter: number | undefined;
  /** Which kind of limit a guard response reached (`throttled`, `step_up_required`), in words, never its value. */
  readonly limit: string | undefined;
  /** When a throttle ends (ISO 8601), with Retry-After. */
  readonly retryAt: string | undefined;
  /**
   * Which rule refused, as a stable word a client may branch on (`self_approval`,
   * `export_off_hours`…): the audit event's reason, never a value. Absent for most errors.
   */
  readonly reason: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      field?: string;
      issues?: FieldIssue[];
      cause?: unknown;
      retryAfter?: number;
      limit?: string;
      retryAt?: string;
      reason?: string;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = statusOf[code];
    this.field = options.field;
    this.issues = options.issues ?? (options.field ? [{ field: options.field, message }] : []);
    this.retryAfter = options.retryAfter;
    this.limit = options.limit;
    this.retryAt = options.retryAt;
    this.reason = options.reason;
  }
}

/** A validation failure for one or more fields. */
export class ValidationError extends AppError {
  constructor(issues: FieldIssue[]) {
    const first = issues[0];
    const where = first ? `${first.line === undefined ? '' : `line ${first.line}, `}${first.field}: ` : '';
    super('validation_failed', `${where}${first?.message ?? 'invalid input'}`, {
      issues,
      ...(first ? { field: first.field } : {}),
    });
    this.name = 'ValidationError';
  }
}

/** Narrowing helper for catch blocks. */
export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
