/**
 * ProConnect logins and links (docs/SECURITY.md, "Federation"). A ProConnect identity (issuer + sub)
 * reaches an existing account only once its owner has linked it from an mfa session with a fresh
 * second factor; federation never creates an account. A flow's state, nonce and PKCE verifier stay in
 * the database, one use each, found through the SHA-256 of a random value held in the browser's flow
 * cookie, so that an answer from the identity provider counts only in the browser that asked for it
 * (no login CSRF, no linking of someone else's identity by a forged callback). Every outcome is a
 * security event.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { type Account, accountById, endProbationIfDue, loginRefusal } from './accounts.ts';
import { recordEvent } from './events.ts';
import { queueNotice } from './notices.ts';
import { ACCEPTED_ACR, FederationError, type ProConnectClient } from './proconnect-client.ts';
import { openSession } from './sessions.ts';

/** A flow must come back within ten minutes (ProConnect's own authorization codes live 30 s). */
export const FLOW_MINUTES = 10;

/** What the console is told after a callback (a query value: never personal data). */
export type CallbackResult =
  | 'ok'
  | 'linked'
  | 'not_linked'
  | 'already_linked'
  | 'mfa_required'
  | 'refused'
  | 'cancelled'
  | 'failed'
  | 'unavailable';

const actor = systemCtx('proconnect').actor;
const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Who starts a flow: anyone for a login; the owner's mfa session for a link. */
export type FlowStart = { kind: 'login' } | { kind: 'link'; account: Account; sessionIdHash: Buffer };

/** Stores a new flow and returns the cookie value that finds it and the identity provider's URL. */
export async function startFlow(
  db: Db,
  client: ProConnectClient,
  start: FlowStart,
  now: Date,
): Promise<{ flowId: string; url: URL }> {
  const request = await client.authorizationRequest();
  const flowId = randomBytes(32).toString('base64url');
  await db.tx(actor, async (tx) => {
    await tx.query('DELETE FROM proconnect_flows WHERE expires_at < $1', [
      new Date(now.getTime() - 3_600_000),
    ]);
    await tx.query(
      `INSERT INTO proconnect_flows (flow_hash, state, nonce, code_verifier, kind, account_id, session_hash,
         created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        sha256(flowId),
        request.state,
        request.nonce,
        request.codeVerifier,
        start.kind,
        start.kind === 'link' ? start.account.id : null,
        start.kind === 'link' ? start.sessionIdHash : null,
        now,
        new Date(now.getTime() + FLOW_MINUTES * 60_000),
      ],
    );
  });
  return { flowId, url: request.url };
}

interface FlowRow {
  state: string;
  nonce: string;
  code_verifier: string;
  kind: 'login' | 'link';
  account_id: string | null;
  session_hash: Uint8Array | null;
}

/** The outcome of a callback; `session` only for a successful login. */
export interface CallbackOutcome {
  result: CallbackResult;
  session?: { sessionId: string; csrfToken: string; expiresAt: Date };
}

/** The notice the owner gets when an identity is linked: a new way into the account (T1). */
const LINK_NOTICE = {
  kind: 'proconnect_linked',
  subject: 'Une identité ProConnect a été liée à votre compte Rempart / A ProConnect identity was linked',
  text:
    'Une identité ProConnect a été liée à votre compte Rempart : elle permet désormais de vous connecter.\n' +
    "Si ce n'était pas vous, prévenez votre responsable et l'officier de sécurité.\n\n" +
    'A ProConnect identity was linked to your Rempart account: it can now be used to log in.\n' +
    'If this was not you, tell your manager and the security officer.',
};

/** Keeps only a short token of what an outside party sent (an error code, an acr) for the events. */
const token = (value: string | undefined): string | null =>
  value === undefined ? null : value.replace(/[^A-Za-z0-9_.:/-]/g, '?').slice(0, 60);

/**
 * Finishes a flow from the identity provider's redirect: checks the flow cookie, then state, PKCE,
 * the signed ID token and userinfo, then the acr, then the link. Never throws for a refusal: the
 * browser is sent back to the console with the result, and the refusal is a security event.
 */
export async function finishFlow(
  db: Db,
  client: ProConnectClient,
  deps: { config: Pick<Config, 'sessions' | 'guard'>; now: Date },
  input: { flowId: string | undefined; query: URLSearchParams; address: string; userAgent?: string },
): Promise<CallbackOutcome> {
  const { now } = deps;
  const event = async (
    tx: Tx | null,
    action: string,
    details: Record<string, unknown>,
    account?: Account,
  ): Promise<void> => {
    const write = (t: Tx) =>
      recordEvent(t, {
        at: now,
        action,
        actorAccountId:
          action.endsWith('_ok') || action === 'proconnect.linked' ? (account?.id ?? null) : null,
        targetAccountId: account?.id ?? null,
        organisationId: account?.organisationId ?? null,
        sourceAddress: input.address,
        details,
      });
    await (tx ? write(tx) : db.tx(actor, write));
  };
  const refuse = async (
    result: CallbackResult,
    reason: string,
    extra: { kind?: 'login' | 'link'; account?: Account; details?: Record<string, unknown> } = {},
  ): Promise<CallbackOutcome> => {
    const action = extra.kind === 'link' ? 'proconnect.link_failed' : 'login.proconnect_failed';
    await event(null, action, { reason, ...extra.details }, extra.account);
    return { result };
  };

  const flowId = input.flowId;
  if (!flowId || flowId.length > 100) return refuse('failed', 'no flow cookie');
  // Taken before anything is checked: one use, whatever the outcome (a replayed callback finds nothing).
  const [flow] = await db.tx(actor, (tx) =>
    tx.query<FlowRow>(
      `UPDATE proconnect_flows SET used_at = $2 WHERE flow_hash = $1 AND used_at IS NULL AND expires_at > $2
       RETURNING state, nonce, code_verifier, kind, account_id, session_hash`,
      [sha256(flowId), now],
    ),
  );
  if (!flow) return refuse('failed', 'unknown, expired or used flow');
  const kind = flow.kind;
  const linking = flow.account_id ? await db.tx(actor, (tx) => accountById(tx, flow.account_id!)) : undefined;
  const error = input.query.get('error');
  if (error !== null) {
    // An error answer is believed only with this flow's state; else it is someone else's redirect.
    if (input.query.get('state') !== flow.state)
      return refuse('failed', 'state mismatch', { kind, account: linking });
    const cancelled = error === 'access_denied' || error === 'login_required';
    return refuse(cancelled ? 'cancelled' : 'failed', 'identity provider error', {
      kind,
      account: linking,
      details: { error: token(error) },
    });
  }

  let identity: Awaited<ReturnType<ProConnectClient['complete']>>;
  try {
    identity = await client.complete(input.query.toString(), {
      state: flow.state,
      nonce: flow.nonce,
      codeVerifier: flow.code_verifier,
    });
  } catch (caught) {
    if (!(caught instanceof FederationError)) throw caught;
    const result = caught.reason === 'discovery failed' ? 'unavailable' : 'failed';
    return refuse(result, caught.reason, { kind, account: linking });
  }
  // The claims request asks for these values, but an identity provider may answer with another:
  // the check that counts is this one (OpenID Connect Core 5.5.1.1 leaves enforcement to the client).
  if (identity.acr === undefined || !(ACCEPTED_ACR as readonly string[]).includes(identity.acr)) {
    return refuse('mfa_required', 'acr not accepted', {
      kind,
      account: linking,
      details: { acr: token(identity.acr) },
    });
  }
  const details = { issuer: identity.issuer, acr: identity.acr };

  if (kind === 'link') return link(db, deps, flow, linking, identity, details, { event, refuse });

  return db.tx(actor, async (tx) => {
    const [linked] = await tx.query<{ account_id: string }>(
      'SELECT account_id FROM proconnect_links WHERE issuer = $1 AND subject = $2',
      [identity.issuer, identity.subject],
    );
    const account = linked ? await accountById(tx, linked.account_id) : undefined;
    if (!account) {
      await event(tx, 'login.proconnect_failed', { reason: 'identity not linked', ...details });
      return { result: 'not_linked' as const };
    }
    const refusal = loginRefusal(account, now);
    if (refusal !== null) {
      await event(tx, 'login.proconnect_failed', { reason: refusal, ...details }, account);
      return { result: 'refused' as const };
    }
    const found = await endProbationIfDue(tx, account, now);
    await event(tx, 'login.proconnect_ok', details, found);
    // acr eidas1-mfa or above: two factors were verified at the identity provider, so the session
    // starts at 'mfa' (docs/SECURITY.md, "Federation").
    const session = await openSession(tx, found.id, {
      assurance: 'mfa',
      now,
      config: deps.config,
      address: input.address,
      ...(input.userAgent ? { userAgent: input.userAgent } : {}),
    });
    return { result: 'ok' as const, session };
  });
}

/** How a callback's outcome is recorded: a security event, and a refusal with its result. */
interface Recorder {
  event(tx: Tx | null, action: string, details: Record<string, unknown>, account?: Account): Promise<void>;
  refuse(
    result: CallbackResult,
    reason: string,
    extra: { kind?: 'login' | 'link'; account?: Account; details?: Record<string, unknown> },
  ): Promise<CallbackOutcome>;
}

/** The link step of a 'link' flow: the asking session must still be live at 'mfa'. */
async function link(
  db: Db,
  deps: { now: Date },
  flow: FlowRow,
  account: Account | undefined,
  identity: { issuer: string; subject: string },
  details: Record<string, unknown>,
  { event, refuse }: Recorder,
): Promise<CallbackOutcome> {
  const { now } = deps;
  if (!account || loginRefusal(account, now) !== null)
    return refuse('refused', 'account cannot log in', {
      kind: 'link',
      ...(account ? { account } : {}),
      details,
    });
  const outcome = await db.tx(actor, async (tx) => {
    // Logged out (or suspended, which revokes sessions) since the link began: no link.
    const live = await tx.query(
      `SELECT 1 FROM sessions WHERE id_hash = $1 AND account_id = $2 AND revoked_at IS NULL AND expires_at > $3
         AND assurance = 'mfa'`,
      [flow.session_hash, account.id, now],
    );
    if (live.length === 0) return 'session ended' as const;
    const inserted = await tx.query(
      `INSERT INTO proconnect_links (issuer, subject, account_id, linked_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [identity.issuer, identity.subject, account.id, now],
    );
    if (inserted.length === 0) return 'already linked' as const;
    await event(tx, 'proconnect.linked', details, account);
    await queueNotice(tx, account, now, LINK_NOTICE);
    return 'linked' as const;
  });
  if (outcome === 'linked') return { result: 'linked' };
  return refuse(outcome === 'session ended' ? 'refused' : 'already_linked', outcome, {
    kind: 'link',
    account,
    details,
  });
}
