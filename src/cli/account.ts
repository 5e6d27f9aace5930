/**
 * `rempart account create`: the operator's way to create an account (the first administrator and
 * managers of a new deployment; demo accounts; the drill's staff), one at a time or a batch from a
 * JSON-lines file (all or nothing). Staff create accounts through the API, with a second person's
 * approval (T8). The password is read from a file or the environment, never from the command line,
 * where process lists and shell history would keep it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import { openDb } from '../db/open.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError, type FieldIssue, isAppError } from '../errors.ts';
import { createAccount, ROLES, type Role } from '../identity/accounts.ts';
import { ROLES_BY_KIND } from '../identity/provisioning.ts';

export interface AccountCreateOptions {
  login: string;
  organisation: string;
  role: Role;
  email: string;
  displayName: string;
  passwordFile?: string;
  /** A demo account (`rempart serve --demo` only). */
  demo?: boolean;
}

export interface AccountCreated {
  id: string;
  login: string;
  organisation: string;
  role: Role;
  status: string;
}

/** Creates an account in an organisation given by code; the role must be one the organisation's kind holds. */
export async function createAccountAs(
  db: Db,
  now: Date,
  options: AccountCreateOptions & { password: string },
): Promise<AccountCreated> {
  return db.tx(systemCtx('account-create').actor, (tx) => createInTx(tx, now, options));
}

/** The creation itself, in the caller's transaction. */
async function createInTx(
  tx: Tx,
  now: Date,
  options: AccountCreateOptions & { password: string },
): Promise<AccountCreated> {
  const [organisation] = await tx.query<{ id: string; kind: string }>(
    'SELECT id, kind FROM organisations WHERE code = $1',
    [options.organisation],
  );
  if (!organisation)
    throw new AppError('not_found', 'no organisation with this code', { field: 'organisation' });
  if (!(ROLES_BY_KIND[organisation.kind] ?? []).includes(options.role)) {
    throw new AppError(
      'validation_failed',
      `an organisation of kind ${organisation.kind} does not hold this role`,
      { field: 'role' },
    );
  }
  const account = await createAccount(
    tx,
    {
      organisationId: organisation.id,
      login: options.login,
      displayName: options.displayName,
      email: options.email,
      role: options.role,
      password: options.password,
      ...(options.demo ? { demo: true } : {}),
    },
    now,
    null,
  );
  return {
    id: account.id,
    login: account.login,
    organisation: options.organisation,
    role: account.role,
    status: account.status,
  };
}

/** The command: reads the password, opens the database, creates the account. */
export async function runAccountCreate(
  config: Config,
  options: AccountCreateOptions,
  env: NodeJS.ProcessEnv,
): Promise<AccountCreated> {
  let password: string | undefined;
  if (options.passwordFile) password = (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '');
  else password = env.REMPART_NEW_PASSWORD;
  if (!password) {
    throw new AppError(
      'validation_failed',
      'give the password in a file (--password-file) or in REMPART_NEW_PASSWORD',
      {
        field: 'password',
      },
    );
  }
  const db = await openDb(config);
  try {
    return await createAccountAs(db, new Date(), { ...options, password });
  } finally {
    await db.close();
  }
}

/** The fields of one line of a batch file, in the order the documentation gives them. */
const BATCH_FIELDS = ['login', 'organisation', 'role', 'email', 'displayName', 'passwordFile'] as const;

/** What `account create --batch` prints. */
export interface BatchCreated {
  created: number;
  accounts: { login: string; id: string }[];
}

/** Reads and checks a batch file: one JSON object per line (blank lines skipped), every problem named by line and field. */
export async function readAccountBatch(
  file: string,
): Promise<{ lines: (AccountCreateOptions & { password: string; line: number })[]; issues: FieldIssue[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new AppError('validation_failed', 'the batch file cannot be read', { field: 'batch' });
  }
  const issues: FieldIssue[] = [];
  const lines: (AccountCreateOptions & { password: string; line: number })[] = [];
  const logins = new Map<string, number>();
  const folder = path.dirname(path.resolve(file));
  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i += 1) {
    const line = i + 1;
    const raw = rows[i]!.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ line, field: 'line', message: 'is not a JSON object' });
      continue;
    }
    const record = value as Record<string, unknown>;
    const problems: FieldIssue[] = [];
    for (const key of Object.keys(record)) {
      if (!(BATCH_FIELDS as readonly string[]).includes(key)) {
        problems.push({ line, field: key, message: `is not a field (fields: ${BATCH_FIELDS.join(', ')})` });
      }
    }
    for (const field of BATCH_FIELDS) {
      const given = record[field];
      if (typeof given !== 'string' || given.trim() === '') {
        problems.push({
          line,
          field,
          message: given === undefined ? 'is missing' : 'must be a non-empty string',
        });
      }
    }
    if (typeof record.role === 'string' && record.role !== '' && !ROLES.includes(record.role as Role)) {
      problems.push({ line, field: 'role', message: `must be one of ${ROLES.join(', ')}` });
    }
    if (typeof record.login === 'string' && record.login.trim() !== '') {
      const key = record.login.trim().toLowerCase();
      const first = logins.get(key);
      if (first !== undefined) problems.push({ line, field: 'login', message: `is also on line ${first}` });
      else logins.set(key, line);
    }
    let password = '';
    if (typeof record.passwordFile === 'string' && record.passwordFile.trim() !== '') {
      try {
        password = (await readFile(path.resolve(folder, record.passwordFile), 'utf8')).replace(/\r?\n$/, '');
        if (password === '') problems.push({ line, field: 'passwordFile', message: 'is empty' });
      } catch {
        problems.push({ line, field: 'passwordFile', message: 'cannot be read' });
      }
    }
    if (problems.length > 0) {
      issues.push(...problems);
      continue;
    }
    lines.push({
      line,
      login: String(record.login),
      organisation: String(record.organisation),
      role: record.role as Role,
      email: String(record.email),
      displayName: String(record.displayName),
      password,
    });
  }
  if (lines.length === 0 && issues.length === 0) {
    issues.push({ field: 'batch', message: 'holds no account' });
  }
  return { lines, issues };
}

/**
 * `rempart account create --batch FILE`: every account of the file in one transaction, or none.
 * Password files are read relative to the batch file's folder.
 */
export async function runAccountBatch(config: Config, file: string): Promise<BatchCreated> {
  const refuse = (issues: FieldIssue[]): AppError =>
    new AppError(
      'validation_failed',
      `account batch refused (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}): nothing was created`,
      { issues },
    );
  const { lines, issues } = await readAccountBatch(file);
  if (issues.length > 0) throw refuse(issues);
  const db = await openDb(config);
  try {
    const now = new Date();
    return await db.tx(systemCtx('account-create').actor, async (tx) => {
      const accounts: { login: string; id: string }[] = [];
      const problems: FieldIssue[] = [];
      for (const { line, ...options } of lines) {
        try {
          const created = await createInTx(tx, now, options);
          accounts.push({ login: created.login, id: created.id });
        } catch (error) {
          // What createAccount refuses (the login's form or a taken login, the password policy, an
          // unknown organisation, a role its kind does not hold): named by line, before any SQL
          // error could leave the transaction unusable.
          if (!isAppError(error)) throw error;
          problems.push({ line, field: error.field ?? 'line', message: error.message });
        }
      }
      // Throwing rolls the whole batch back: all or nothing.
      if (problems.length > 0) throw refuse(problems);
      return { created: accounts.length, accounts };
    });
  } finally {
    await db.close();
  }
}
