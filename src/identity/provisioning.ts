/**
 * Two-person provisioning (docs/DESIGN.md T8: in December 2025 one compromised manager account created
 * fake accesses reaching 1.6 million people). Creating an account or granting a role is a request;
 * it takes effect only when another manager of the same organisation, or an administrator, approves
 * it — never the requester, never for their own account. A manager can only ask for roles their
 * organisation's kind holds (a partner cannot mint agency counselors or administrators). A new
 * account has no password until its owner sets one with the code mailed to them, then enrols a
 * second factor, then is on probation.
 */
import { randomUUID } from 'node:crypto';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { queueMail } from '../notify/outbox.ts';
import { type Account, accountById, normaliseLogin, ROLES, type Role } from './accounts.ts';
import { recordEvent } from './events.ts';
import { newOneTimeCode, oneTimeCodeHash } from './one-time-codes.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';

/** The roles each kind of organisation holds: what its managers may request, and no more. */
export const ROLES_BY_KIND: Record<string, readonly Role[]> = {
  national: ['helpdesk', 'org_manager', 'security_officer', 'dpo', 'administrator', 'archivist'],
  agency: ['counselor', 'org_manager'],
  cap_emploi: ['partner_counselor', 'org_manager'],
  mission_locale: ['partner_counselor', 'org_manager'],
  training_body: ['partner_counselor', 'org_manager'],
  subcontractor: ['subcontractor_operator', 'org_manager'],
};

/** Days the activation code of a new account stays valid. */
export const ACTIVATION_DAYS = 7;

export type ProvisioningRequest =
  | {
      kind: 'create_account';
      login: string;
      displayName: string;
      email: string;
      role: Role;
      organisationId?: string;
    }
  | { kind: 'grant_role'; accountId: string; role: Role }
  | { kind: 'widen_caseload'; partnerOrganisationId: string; personIds: string[] };

/** At most this many persons in one caseload request: bulk transfers are not a manager's routine. */
export const MAX_CASELOAD_PERSONS = 200;

export interface ProvisioningView {
  id: string;
  kind: ProvisioningRequest['kind'];
  organisationId: string;
  requestedBy: string;
  requestedAt: string;
  status: 'pending' | 'approved' | 'rejected';
  /** The account a role change is about (null for the other kinds): what the approver decides on. */
  targetAccountId: string | null;
  payload: Record<string, unknown>;
}

const actor = systemCtx('provisioning').actor;

function mayProvision(account: Account): boolean {
  return account.role === 'org_manager' || account.role === 'administrator';
}

async function organisationKind(tx: Tx, id: string): Promise<string | undefined> {
  const rows = await tx.query<{ kind: string }>('SELECT kind FROM organisations WHERE id = $1', [id]);
  return rows[0]?.kind;
}

/**
 * Decides, in the request's transaction once it is valid and allowed, whether it may be filed: the
 * guard's count (src/guard/provisioning.ts). An error returned refuses it; the transaction still
 * commits (what the guard recorded stands) without the request, and the error is raised after.
 */
export type Admit = (tx: Tx) => Promise<AppError | null>;

/** Files a request; nothing changes until another person approves it. */
export async function requestProvisioning(
  db: Db,
  now: Date,
  requester: Account,
  request: ProvisioningRequest,
  admit?: Admit,
): Promise<{ id: string }> {
  if (!mayProvision(requester))
    throw new AppError('forbidden', 'only organisation managers and administrators request provisioning');
  const filed =
    request.kind === 'widen_caseload'
      ? await requestCaseload(db, now, requester, request, admit)
      : await requestAccountOrRole(db, now, requester, request, admit);
  if ('refused' in filed) throw filed.refused;
  return filed;
}

async function requestAccountOrRole(
  db: Db,
  now: Date,
  requester: Account,
  request: Exclude<ProvisioningRequest, { kind: 'widen_caseload' }>,
  admit: Admit | undefined,
): Promise<{ id: string } | { refused: AppError }> {
  return db.tx(actor, async (tx) => {
    let organisationId: string;
    let targetAccountId: string | null = null;
    let payload: Record<string, unknown>;
    if (request.kind === 'create_account') {
      organisationId =
        requester.role === 'administrator'
          ? (request.organisationId ?? requester.organisationId)
          : requester.organisationId;
      if (
        requester.role !== 'administrator' &&
        request.organisationId &&
        request.organisationId !== requester.organisationId
      ) {
        throw new AppError('forbidden', 'a manager provisions only their own organisation', {
          field: 'organisationId',
        });
      }
      const login = normaliseLogin(request.login);
      if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(login)) {
        throw new AppError(
          'validation_failed',
          'login must be 3 to 64 letters, digits, dots, hyphens or underscores',
          { field: 'login' },
        );
      }
      if ((await tx.query('SELECT 1 FROM accounts WHERE login = $1', [login])).length > 0) {
        throw new AppError('conflict', 'login is already taken', { field: 'login' });
      }
      payload = {
        login,
        displayName: request.displayName,
        email: request.email.trim().toLowerCase(),
        role: request.role,
      };
    } else {
      const target = await accountById(tx, request.accountId);
      if (
        !target ||
        (requester.role !== 'administrator' && target.organisationId !== requester.organisationId)
      ) {
        throw new AppError('not_found', 'no account with this id in your organisation', {
          field: 'accountId',
        });
      }
      if (target.id === requester.id)
        throw new AppError('forbidden', 'nobody changes the roles of their own account');
      organisationId = target.organisationId;
      targetAccountId = target.id;
      payload = { role: request.role, previousRole: target.role };
    }
    const kind = await organisationKind(tx, organisationId);
    if (!kind) throw new AppError('not_found', 'no such organisation', { field: 'organisationId' });
    if (!ROLES.includes(request.role) || !(ROLES_BY_KIND[kind] ?? []).includes(request.role)) {
      throw new AppError(
        'forbidden',
        `an organisation of kind ${kind} does not hold the role ${request.role}`,
        { field: 'role' },
      );
    }
    const refused = admit ? await admit(tx) : null;
    if (refused) return { refused };
    const id = randomUUID();
    await tx.query(
      `INSERT INTO provisioning_requests (id, kind, organisation_id, requested_by, requested_at, target_account_id, payload, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')`,
      [id, request.kind, organisationId, requester.id, now, targetAccountId, JSON.stringify(payload)],
    );
    await recordEvent(tx, {
      at: now,
      action: `provisioning.requested`,
      actorAccountId: requester.id,
      targetAccountId,
      organisationId,
      details: { request: id, kind: request.kind, role: request.role },
    });
    return { id };
  });
}

/**
 * An agency manager asks to entrust persons of the agency to a partner organisation (a caseload):
 * only persons registered with the manager's own agency (a manager never grants more than their
 * organisation holds), to an organisation that accompanies persons (not an agency, not national).
 */
async function requestCaseload(
  db: Db,
  now: Date,
  requester: Account,
  request: Extract<ProvisioningRequest, { kind: 'widen_caseload' }>,
  admit: Admit | undefined,
): Promise<{ id: string } | { refused: AppError }> {
  const ids = [...new Set(request.personIds)];
  if (ids.length === 0 || ids.length > MAX_CASELOAD_PERSONS) {
    throw new AppError('validation_failed', `personIds must hold 1 to ${MAX_CASELOAD_PERSONS} persons`, {
      field: 'personIds',
    });
  }
  return db.tx(actor, async (tx) => {
    if (
      requester.role !== 'org_manager' ||
      (await organisationKind(tx, requester.organisationId)) !== 'agency'
    ) {
      throw new AppError('forbidden', "only an agency's manager entrusts its persons to a partner");
    }
    const partnerKind = await organisationKind(tx, request.partnerOrganisationId);
    if (!partnerKind || partnerKind === 'agency' || partnerKind === 'national') {
      throw new AppError(
        'validation_failed',
        'the caseload goes to a partner, training body or subcontractor',
        {
          field: 'partnerOrganisationId',
        },
      );
    }
    const held = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM persons WHERE id = ANY($1::uuid[]) AND agency_organisation_id = $2',
      [ids, requester.organisationId],
    );
    if ((held[0]?.n ?? 0) !== ids.length) {
      throw new AppError('forbidden', 'some of these persons are not registered with your agency', {
        field: 'personIds',
      });
    }
    const refused = admit ? await admit(tx) : null;
    if (refused) return { refused };
    const id = randomUUID();
    await tx.query(
      `INSERT INTO provisioning_requests (id, kind, organisation_id, requested_by, requested_at, payload, status)
       VALUES ($1, 'widen_caseload', $2, $3, $4, $5, 'pending')`,
      [
        id,
        requester.organisationId,
        requester.id,
        now,
        JSON.stringify({ partnerOrganisationId: request.partnerOrganisationId, personIds: ids }),
      ],
    );
    await recordEvent(tx, {
      at: now,
      action: 'provisioning.requested',
      actorAccountId: requester.id,
      organisationId: requester.organisationId,
      details: {
        request: id,
        kind: 'widen_caseload',
        partner: request.partnerOrganisationId,
        persons: ids.length,
      },
    });
    return { id };
  });
}

/**
 * Approves or rejects a request: another manager of the organisation or an administrator, never the
 * requester, never about their own account. Approving a creation makes the account (no password yet)
 * and mails its owner the activation code.
 */
export async function decideProvisioning(
  db: Db,
  now: Date,
  approver: Account,
  requestId: string,
  approve: boolean,
): Promise<{ status: 'approved' | 'rejected'; accountId: string | null }> {
  const activationCode = newOneTimeCode();
  const result = await db.tx(actor, async (tx) => {
    const rows = await tx.query<{
      id: string;
      kind: ProvisioningRequest['kind'];
      organisation_id: string;
      requested_by: string;
      target_account_id: string | null;
      payload: {
        login?: string;
        displayName?: string;
        email?: string;
        role?: Role;
        partnerOrganisationId?: string;
        personIds?: string[];
      };
      status: string;
    }>(
      'SELECT id, kind, organisation_id, requested_by, target_account_id, payload, status FROM provisioning_requests WHERE id = $1 FOR UPDATE',
      [requestId],
    );
    const row = rows[0];
    const sameOrganisation = row !== undefined && row.organisation_id === approver.organisationId;
    if (!row || !mayProvision(approver) || (approver.role !== 'administrator' && !sameOrganisation)) {
      throw new AppError('not_found', 'no provisioning request with this id for your organisation');
    }
    if (row.requested_by === approver.id)
      throw new AppError('forbidden', 'a request is approved by another person than its requester');
    if (row.target_account_id === approver.id)
      throw new AppError('forbidden', 'nobody approves a change to their own account');
    if (row.status !== 'pending') throw new AppError('conflict', `the request is ${row.status}`);
    const status = approve ? 'approved' : 'rejected';
    await tx.query(
      'UPDATE provisioning_requests SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1',
      [requestId, status, approver.id, now],
    );
    let accountId = row.target_account_id;
    if (approve && row.kind === 'create_account') {
      accountId = randomUUID();
      await tx.query(
        `INSERT INTO accounts (id, organisation_id, login, display_name, email, role, status, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending_enrolment', $7, $8)`,
        [
          accountId,
          row.organisation_id,
          row.payload.login,
          row.payload.displayName,
          row.payload.email,
          row.payload.role,
          now,
          row.requested_by,
        ],
      );
      await tx.query(
        'INSERT INTO account_activations (account_id, code_hash, expires_at) VALUES ($1, $2, $3)',
        [accountId, oneTimeCodeHash(activationCode), new Date(now.getTime() + ACTIVATION_DAYS * 86_400_000)],
      );
    } else if (approve && row.kind === 'grant_role') {
      await tx.query('UPDATE accounts SET role = $2 WHERE id = $1', [
        row.target_account_id,
        row.payload.role,
      ]);
    } else if (approve && row.kind === 'widen_caseload') {
      await tx.query(
        `INSERT INTO caseloads (person_id, organisation_id, counselor_id, since)
         SELECT p, $2, NULL, $3::date FROM unnest($1::uuid[]) AS p ON CONFLICT DO NOTHING`,
        [row.payload.personIds, row.payload.partnerOrganisationId, now.toISOString().slice(0, 10)],
      );
    }
    if (approve && row.kind === 'create_account') {
      // The activation code goes in the outbox with the account: sent after the answer, and never
      // lost between the commit and the mail server (notify/outbox.ts).
      await queueMail(
        tx,
        {
          accountId,
          kind: 'account_activation',
          subject: 'Votre compte Rempart / Your Rempart account',
          text:
            `Un compte Rempart a été créé pour vous. Choisissez votre mot de passe avec ce code (valable ${ACTIVATION_DAYS} jours) : ${activationCode}\n` +
            '(POST /api/v1/activation), puis enregistrez un second facteur (clé de sécurité ou application).\n\n' +
            `A Rempart account was created for you. Set your password with the code above (valid ${ACTIVATION_DAYS} days), then enrol a second factor.`,
        },
        now,
      );
    }
    await recordEvent(tx, {
      at: now,
      action: `provisioning.${status}`,
      actorAccountId: approver.id,
      targetAccountId: accountId,
      organisationId: row.organisation_id,
      details: {
        request: requestId,
        kind: row.kind,
        requestedBy: row.requested_by,
        ...(row.payload.role ? { role: row.payload.role } : {}),
        ...(row.payload.personIds
          ? { persons: row.payload.personIds.length, partner: row.payload.partnerOrganisationId }
          : {}),
      },
    });
    return { status: status as 'approved' | 'rejected', accountId };
  });
  return { status: result.status, accountId: result.accountId };
}

/** The owner of a new account sets its password with the mailed activation code. */
export async function activateAccount(db: Db, now: Date, code: string, password: string): Promise<void> {
  const hash = oneTimeCodeHash(code);
  await db.tx(actor, async (tx) => {
    const rows = hash
      ? await tx.query<{ account_id: string }>(
          'SELECT account_id FROM account_activations WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 FOR UPDATE',
          [hash, now],
        )
      : [];
    const row = rows[0];
    if (!row)
      throw new AppError(
        'recovery_failed',
        'this activation code is not valid (or was used, or has expired)',
        { field: 'code' },
      );
    const account = (await accountById(tx, row.account_id))!;
    checkPasswordPolicy(password, {
      login: account.login,
      email: account.email,
      displayName: account.displayName,
    });
    await tx.query('UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE id = $1', [
      account.id,
      await hashPassword(password),
      now,
    ]);
    await tx.query('UPDATE account_activations SET used_at = $2 WHERE account_id = $1', [account.id, now]);
    await recordEvent(tx, {
      at: now,
      action: 'account.activated',
      actorAccountId: account.id,
      targetAccountId: account.id,
      organisationId: account.organisationId,
    });
  });
}

/** Pending and recent requests of the viewer's organisation (all organisations for an administrator). */
export async function listProvisioning(db: Db, viewer: Account): Promise<ProvisioningView[]> {
  if (!mayProvision(viewer))
    throw new AppError(
      'forbidden',
      'only organisation managers and administrators see provisioning requests',
    );
  const rows = await db.tx(actor, (tx) =>
    tx.query<{
      id: string;
      kind: ProvisioningView['kind'];
      organisation_id: string;
      requested_by: string;
      requested_at: Date;
      status: ProvisioningView['status'];
      target_account_id: string | null;
      payload: Record<string, unknown>;
    }>(
      `SELECT id, kind, organisation_id, requested_by, requested_at, status, target_account_id, payload FROM provisioning_requests
       WHERE ($1 OR organisation_id = $2) ORDER BY requested_at DESC LIMIT 200`,
      [viewer.role === 'administrator', viewer.organisationId],
    ),
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    organisationId: r.organisation_id,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at.toISOString(),
    status: r.status,
    targetAccountId: r.target_account_id,
    payload: r.payload,
  }));
}
