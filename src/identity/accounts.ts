/** Staff accounts: roles, statuses, and whether an account may log in now. */
import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { recordEvent } from './events.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';

export const ROLES = [
  'counselor',
  'partner_counselor',
  'subcontractor_operator',
  'helpdesk',
  'org_manager',
  'security_officer',
  'dpo',
  'administrator',
  'archivist',
] as const;
export type Role = (typeof ROLES)[number];

export const ACCOUNT_STATUSES = [
  'pending_enrolment',
  'active',
  'probation',
  'suspended',
  'locked',
  'disabled',
] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** Days a new or recovered account stays on probation (reduced quotas, scored by the guard). */
export const PROBATION_DAYS = 7;

export interface Account {
  id: string;
  organisationId: string;
  login: string;
  displayName: string;
  email: string;
  role: Role;
  status: AccountStatus;
  probationUntil: Date | null;
  passwordHash: string | null;
  contractEndsOn: string | null;
  /** Made by `rempart serve --demo`: the guard's demo levels, no probation (docs/GUARD.md). */
  demo: boolean;
}

/** An account as read with ACCOUNT_COLUMNS (accounts a JOIN organisations o). */
export interface AccountRow {
  id: string;
  organisation_id: string;
  login: string;
  display_name: string;
  email: string;
  role: Role;
  status: AccountStatus;
  probation_until: Date | null;
  password_hash: string | null;
  contract_ends_on: string | null;
  demo: boolean;
}

/** The columns of an account, from `accounts a JOIN organisations o ON o.id = a.organisation_id`. */
export const ACCOUNT_COLUMNS = `a.id, a.organisation_id, a.login, a.display_name, a.email, a.role, a.status,
  a.probation_until, a.password_hash, o.contract_ends_on, a.demo`;

const SELECT = `SELECT ${ACCOUNT_COLUMNS} FROM accounts a JOIN organisations o ON o.id = a.organisation_id`;

/** The account of a row read with ACCOUNT_COLUMNS. */
export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    login: row.login,
    displayName: row.display_name,
    email: row.email,
    role: row.role,
    status: row.status,
    probationUntil: row.probation_until,
    passwordHash: row.password_hash,
    contractEndsOn: row.contract_ends_on,
    demo: row.demo === true,
  };
}

/** A login: 3 to 64 letters, digits, dots, hyphens or underscores (lowercase once normalised). */
export const LOGIN_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/** An account id's form (a UUID): a login never has it, so a tool taking either tells them apart. */
export const ACCOUNT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Logins are case-insensitive; stored lowercase. */
export function normaliseLogin(login: string): string {
  return login.trim().toLowerCase();
}

/** The account with this login, if any. */
export async function findAccountByLogin(tx: Tx, login: string): Promise<Account | undefined> {
  const rows = await tx.query<AccountRow>(`${SELECT} WHERE a.login = $1`, [normaliseLogin(login)]);
  return rows[0] ? toAccount(rows[0]) : undefined;
}

/** The account with this id, if any. */
export async function accountById(tx: Tx, id: string): Promise<Account | undefined> {
  const rows = await tx.query<AccountRow>(`${SELECT} WHERE a.id = $1`, [id]);
  return rows[0] ? toAccount(rows[0]) : undefined;
}

/**
 * Why this account may not log in now, or null. A disabled, suspended or locked account, or one of an
 * organisation whose contract has ended (the day after its end date, Paris time being close enough
 * to UTC for a date-level rule), cannot log in.
 */
export function loginRefusal(account: Account, now: Date): string | null {
  if (account.status === 'disabled' || account.status === 'suspended' || account.status === 'locked') {
    return `account ${account.status}`;
  }
  if (account.contractEndsOn !== null && now.toISOString().slice(0, 10) > account.contractEndsOn) {
    return 'contract ended';
  }
  if (account.passwordHash === null) return 'no password';
  return null;
}

export interface NewAccount {
  organisationId: string;
  login: string;
  displayName: string;
  email: string;
  role: Role;
  password: string;
  /** A demo account (`rempart serve --demo` only; the database refuses it from anyone but the operator). */
  demo?: boolean;
}

/**
 * Creates an account, pending enrolment of a second factor and then on probation (T8: a new account
 * is not trusted at once). Used by the operator's CLI and the demo; staff-requested creation goes
 * through a second person's approval.
 */
export async function createAccount(
  tx: Tx,
  input: NewAccount,
  now: Date,
  createdBy: string | null,
): Promise<Account> {
  const login = normaliseLogin(input.login);
  if (ACCOUNT_ID_PATTERN.test(login)) {
    throw new AppError('validation_failed', 'login must not have the form of an account id (a UUID)', {
      field: 'login',
    });
  }
  if (!LOGIN_PATTERN.test(login)) {
    throw new AppError(
      'validation_failed',
      'login must be 3 to 64 letters, digits, dots, hyphens or underscores',
      {
        field: 'login',
      },
    );
  }
  if (!ROLES.includes(input.role))
    throw new AppError('validation_failed', 'role is not a known role', { field: 'role' });
  checkPasswordPolicy(input.password, { login, email: input.email, displayName: input.displayName });
  const existing = await tx.query('SELECT 1 FROM accounts WHERE login = $1', [login]);
  if (existing.length > 0) throw new AppError('conflict', 'login is already taken', { field: 'login' });
  const id = randomUUID();
  await tx.query(
    `INSERT INTO accounts (id, organisation_id, login, display_name, email, role, status, password_hash,
       password_changed_at, created_at, created_by, demo)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending_enrolment', $7, $8, $8, $9, $10)`,
    [
      id,
      input.organisationId,
      login,
      input.displayName,
      input.email,
      input.role,
      await hashPassword(input.password),
      now,
      createdBy,
      input.demo === true,
    ],
  );
  await recordEvent(tx, {
    at: now,
    action: 'account.created',
    actorAccountId: createdBy,
    targetAccountId: id,
    organisationId: input.organisationId,
    details: { role: input.role, ...(input.demo ? { demo: true } : {}) },
  });
  return (await accountById(tx, id))!;
}

/** Ends a probation whose time is over (the account becomes active); returns the account as it now is. */
export async function endProbationIfDue(tx: Tx, account: Account, now: Date): Promise<Account> {
  if (account.status !== 'probation' || account.probationUntil === null || account.probationUntil > now)
    return account;
  await tx.query(
    `UPDATE accounts SET status = 'active', probation_until = NULL WHERE id = $1 AND status = 'probation'`,
    [account.id],
  );
  await recordEvent(tx, {
    at: now,
    action: 'account.probation_ended',
    targetAccountId: account.id,
    organisationId: account.organisationId,
  });
  return { ...account, status: 'active', probationUntil: null };
}
