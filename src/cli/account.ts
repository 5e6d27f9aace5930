/**
 * `rempart account create`: the operator's way to create an account (the first administrator and
 * managers of a new deployment; demo accounts). Staff create accounts through the API, with a second
 * person's approval (T8). The password is read from a file or the environment, never from the
 * command line, where process lists and shell history would keep it.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import { openDb } from '../db/open.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { createAccount, type Role } from '../identity/accounts.ts';
import { ROLES_BY_KIND } from '../identity/provisioning.ts';

export interface AccountCreateOptions {
  login: string;
  organisation: string;
  role: Role;
  email: string;
  displayName: string;
  passwordFile?: string;
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
  return db.tx(systemCtx('account-create').actor, async (tx) => {
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
  });
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
