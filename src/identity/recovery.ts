/**
 * Account recovery without a backdoor (issue "staff identity" item 7; docs/DESIGN.md T1; NIST SP
 * 800-63B-4 on account recovery). Nobody sets, resets or reveals another account's password or
 * removes its second factor. The helpdesk can only open a case; the account's organisation manager
 * — another person, from a freshly verified session — approves it, attesting that they verified the
 * owner in person or by video (re-proofing); the owner is told at once on every channel and can
 * cancel; after a delay, only the owner, with the one-time code sent to the registered address, sets
 * a new password; every factor and session of the account is then revoked, and the account enrols a
 * new factor and stays on probation. Every step is a security event.
 */
import { randomUUID } from 'node:crypto';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { type Account, accountById, findAccountByLogin } from './accounts.ts';
import { recordEvent } from './events.ts';
import { queueNotice } from './notices.ts';
import { newOneTimeCode, oneTimeCodeHash } from './one-time-codes.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import { revokeAllSessions } from './sessions.ts';

/** Hours during which an approved case can be completed once its delay has passed. */
export const RECOVERY_WINDOW_HOURS = 72;

export type RecoveryStatus = 'open' | 'approved' | 'rejected' | 'cancelled' | 'completed';

export interface RecoveryCaseView {
  id: string;
  login: string;
  status: RecoveryStatus;
  openedAt: string;
  notBefore: string | null;
  attestation: string | null;
}

interface CaseRow {
  id: string;
  account_id: string;
  organisation_id: string;
  opened_by: string;
  opened_at: Date;
  status: RecoveryStatus;
  not_before: Date | null;
  expires_at: Date | null;
  attestation: string | null;
}

export interface RecoveryDeps {
  db: Db;
  now: Date;
  delayHours: number;
}

const actor = systemCtx('recovery').actor;

async function caseById(tx: Tx, id: string): Promise<CaseRow | undefined> {
  const rows = await tx.query<CaseRow>(
    `SELECT id, account_id, organisation_id, opened_by, opened_at, status, not_before, expires_at, attestation
     FROM recovery_cases WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0];
}

/** The helpdesk opens a case for the account with this login; its owner is told at once, with a cancel code. */
export async function openRecoveryCase(
  deps: RecoveryDeps,
  helpdesk: Account,
  login: string,
): Promise<{ id: string }> {
  if (helpdesk.role !== 'helpdesk') throw new AppError('forbidden', 'only the helpdesk opens recovery cases');
  const cancelCode = newOneTimeCode();
  const opened = await deps.db.tx(actor, async (tx) => {
    const target = await findAccountByLogin(tx, login);
    if (!target) throw new AppError('not_found', 'no account with this login', { field: 'login' });
    if (target.id === helpdesk.id)
      throw new AppError('forbidden', 'nobody opens a recovery case for their own account');
    if (target.status === 'suspended' || target.status === 'disabled') {
      throw new AppError(
        'conflict',
        `the account is ${target.status}: its recovery goes through the security officer`,
      );
    }
    const live = await tx.query(
      `SELECT 1 FROM recovery_cases WHERE account_id = $1 AND status IN ('open', 'approved')`,
      [target.id],
    );
    if (live.length > 0) throw new AppError('conflict', 'a recovery case is already open for this account');
    const id = randomUUID();
    await tx.query(
      `INSERT INTO recovery_cases (id, account_id, organisation_id, opened_by, opened_at, status, cancel_hash)
       VALUES ($1, $2, $3, $4, $5, 'open', $6)`,
      [id, target.id, target.organisationId, helpdesk.id, deps.now, oneTimeCodeHash(cancelCode)],
    );
    await recordEvent(tx, {
      at: deps.now,
      action: 'recovery.opened',
      actorAccountId: helpdesk.id,
      targetAccountId: target.id,
      organisationId: target.organisationId,
      details: { case: id },
    });
    await queueNotice(tx, target, deps.now, {
      kind: 'recovery_opened',
      subject: 'Demande de récupération de votre compte Rempart / Recovery of your Rempart account',
      text:
        "L'assistance a ouvert une demande de récupération de votre compte Rempart.\n" +
        "Votre responsable doit vérifier votre identité en personne ou en visioconférence avant qu'elle n'aboutisse.\n" +
        `Si vous n'avez rien demandé, annulez-la avec ce code : ${cancelCode}\n` +
        '(POST /api/v1/recovery/cancel), et prévenez votre responsable.\n\n' +
        'The helpdesk opened a recovery case for your Rempart account. Your manager must verify your identity ' +
        'in person or by video before it can proceed. If you did not ask for it, cancel it with the code above.',
    });
    return { id };
  });
  return { id: opened.id };
}

/** The organisation's manager approves (attesting the owner's identity was verified) or rejects a case. */
export async function decideRecoveryCase(
  deps: RecoveryDeps,
  manager: Account,
  caseId: string,
  decision: { approve: true; attestation: 'in_person' | 'video' } | { approve: false },
): Promise<{ status: RecoveryStatus; notBefore: string | null }> {
  const resetCode = newOneTimeCode();
  const decided = await deps.db.tx(actor, async (tx) => {
    const row = await caseById(tx, caseId);
    // Cases of other organisations do not exist for this manager (404, not 403).
    if (!row || manager.role !== 'org_manager' || row.organisation_id !== manager.organisationId) {
      throw new AppError('not_found', 'no recovery case with this id for your organisation');
    }
    if (row.account_id === manager.id)
      throw new AppError('forbidden', 'nobody decides on the recovery of their own account');
    if (row.status !== 'open') throw new AppError('conflict', `the case is ${row.status}`);
    const target = (await accountById(tx, row.account_id))!;
    if (!decision.approve) {
      await tx.query(
        `UPDATE recovery_cases SET status = 'rejected', decided_by = $2, decided_at = $3, closed_at = $3 WHERE id = $1`,
        [caseId, manager.id, deps.now],
      );
      await recordEvent(tx, {
        at: deps.now,
        action: 'recovery.rejected',
        actorAccountId: manager.id,
        targetAccountId: target.id,
        organisationId: row.organisation_id,
        details: { case: caseId },
      });
      await queueNotice(tx, target, deps.now, {
        kind: 'recovery_rejected',
        subject: 'Demande de récupération refusée / Recovery case rejected',
        text: 'Votre responsable a refusé la demande de récupération de votre compte.\n\nYour manager rejected the recovery case of your account.',
      });
      return { status: 'rejected' as const, notBefore: null };
    }
    const notBefore = new Date(deps.now.getTime() + deps.delayHours * 3_600_000);
    const expiresAt = new Date(notBefore.getTime() + RECOVERY_WINDOW_HOURS * 3_600_000);
    await tx.query(
      `UPDATE recovery_cases SET status = 'approved', decided_by = $2, decided_at = $3, attestation = $4, not_before = $5,
         expires_at = $6, reset_hash = $7 WHERE id = $1`,
      [caseId, manager.id, deps.now, decision.attestation, notBefore, expiresAt, oneTimeCodeHash(resetCode)],
    );
    await recordEvent(tx, {
      at: deps.now,
      action: 'recovery.approved',
      actorAccountId: manager.id,
      targetAccountId: target.id,
      organisationId: row.organisation_id,
      details: { case: caseId, attestation: decision.attestation, notBefore: notBefore.toISOString() },
    });
    const from = notBefore.toISOString();
    await queueNotice(tx, target, deps.now, {
      kind: 'recovery_approved',
      subject: 'Récupération de votre compte Rempart approuvée / Recovery approved',
      text:
        `Votre responsable a approuvé la récupération de votre compte. À partir du ${from}, et pendant ${RECOVERY_WINDOW_HOURS} heures,\n` +
        `choisissez un nouveau mot de passe avec ce code à usage unique : ${resetCode}\n` +
        '(POST /api/v1/recovery/complete), puis enregistrez un nouveau second facteur. ' +
        "Si vous n'avez rien demandé, annulez avec le code du premier message.\n\n" +
        `Your manager approved the recovery of your account. From ${from}, for ${RECOVERY_WINDOW_HOURS} hours, set a new ` +
        'password with the one-time code above, then enrol a new second factor.',
    });
    return { status: 'approved' as const, notBefore };
  });
  if (decided.status === 'rejected') return { status: 'rejected', notBefore: null };
  return { status: 'approved', notBefore: decided.notBefore!.toISOString() };
}

/** The owner cancels a case with the code of the first notice. */
export async function cancelRecoveryCase(deps: RecoveryDeps, code: string): Promise<void> {
  const hash = oneTimeCodeHash(code);
  const cancelled = await deps.db.tx(actor, async (tx) => {
    const rows = hash
      ? await tx.query<{ id: string; account_id: string; organisation_id: string }>(
          `UPDATE recovery_cases SET status = 'cancelled', closed_at = $2 WHERE cancel_hash = $1 AND status IN ('open', 'approved')
           RETURNING id, account_id, organisation_id`,
          [hash, deps.now],
        )
      : [];
    const row = rows[0];
    if (!row) return undefined;
    await recordEvent(tx, {
      at: deps.now,
      action: 'recovery.cancelled',
      actorAccountId: row.account_id,
      targetAccountId: row.account_id,
      organisationId: row.organisation_id,
      details: { case: row.id },
    });
    return row;
  });
  if (!cancelled)
    throw new AppError('recovery_failed', 'this code does not cancel any open recovery case', {
      field: 'code',
    });
}

/**
 * The owner completes an approved case after its delay with the code sent to the registered address:
 * sets a new password; every second factor, recovery code and session of the account is revoked;
 * the account must enrol a new factor and is then on probation.
 */
export async function completeRecovery(deps: RecoveryDeps, code: string, password: string): Promise<void> {
  const hash = oneTimeCodeHash(code);
  await deps.db.tx(actor, async (tx) => {
    const rows = hash
      ? await tx.query<CaseRow>(
          `SELECT id, account_id, organisation_id, opened_by, opened_at, status, not_before, expires_at, attestation
           FROM recovery_cases WHERE reset_hash = $1 AND status = 'approved' FOR UPDATE`,
          [hash],
        )
      : [];
    const row = rows[0];
    if (!row || row.expires_at === null || deps.now >= row.expires_at) {
      throw new AppError('recovery_failed', 'this code does not complete any approved recovery case', {
        field: 'code',
      });
    }
    if (row.not_before !== null && deps.now < row.not_before) {
      throw new AppError(
        'recovery_not_ready',
        `the recovery can be completed from ${row.not_before.toISOString()}`,
      );
    }
    const account = (await accountById(tx, row.account_id))!;
    checkPasswordPolicy(password, {
      login: account.login,
      email: account.email,
      displayName: account.displayName,
    });
    await tx.query(
      `UPDATE accounts SET password_hash = $2, password_changed_at = $3, status = 'pending_enrolment', probation_until = NULL
       WHERE id = $1`,
      [account.id, await hashPassword(password), deps.now],
    );
    await tx.query('UPDATE second_factors SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL', [
      account.id,
      deps.now,
    ]);
    await tx.query('UPDATE recovery_codes SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL', [
      account.id,
      deps.now,
    ]);
    await revokeAllSessions(tx, account.id, 'recovery');
    await tx.query(`UPDATE recovery_cases SET status = 'completed', closed_at = $2 WHERE id = $1`, [
      row.id,
      deps.now,
    ]);
    await recordEvent(tx, {
      at: deps.now,
      action: 'recovery.completed',
      actorAccountId: account.id,
      targetAccountId: account.id,
      organisationId: account.organisationId,
      details: { case: row.id },
    });
    await queueNotice(tx, account, deps.now, {
      kind: 'recovery_completed',
      subject: 'Nouveau mot de passe Rempart / New Rempart password',
      text:
        'Un nouveau mot de passe a été choisi pour votre compte ; vos anciens seconds facteurs sont révoqués.\n' +
        "Si ce n'était pas vous, prévenez immédiatement l'officier de sécurité.\n\n" +
        'A new password was set for your account; your former second factors are revoked. If this was not you, ' +
        'tell the security officer at once.',
    });
  });
}

/** The cases this account may see: the manager's organisation's, or those the helpdesk member opened. */
export async function listRecoveryCases(db: Db, viewer: Account): Promise<RecoveryCaseView[]> {
  const rows = await db.tx(actor, (tx) =>
    tx.query<{
      id: string;
      login: string;
      status: RecoveryStatus;
      opened_at: Date;
      not_before: Date | null;
      attestation: string | null;
    }>(
      `SELECT c.id, a.login, c.status, c.opened_at, c.not_before, c.attestation FROM recovery_cases c
       JOIN accounts a ON a.id = c.account_id
       WHERE ($3::text = 'org_manager' AND c.organisation_id = $1::uuid) OR ($3::text = 'helpdesk' AND c.opened_by = $2::uuid)
       ORDER BY c.opened_at DESC LIMIT 200`,
      [viewer.organisationId, viewer.id, viewer.role],
    ),
  );
  return rows.map((r) => ({
    id: r.id,
    login: r.login,
    status: r.status,
    openedAt: r.opened_at.toISOString(),
    notBefore: r.not_before?.toISOString() ?? null,
    attestation: r.attestation,
  }));
}
