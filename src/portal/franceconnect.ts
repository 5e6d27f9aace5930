/**
 * FranceConnect v2 login to the person's portal (docs/FRANCECONNECT.md). A flow's state,
 * nonce and PKCE verifier stay in the database, one use each, found through the SHA-256 of a random
 * value held in the browser's flow cookie, so that FranceConnect's answer counts only in the browser
 * that asked for it (no login CSRF) and only once (no replay). The answer is checked (signed ID token
 * and userinfo, nonce, PKCE, acr eidas1 or above), then its pivot identity is matched to exactly one
 * person on file, or refused: no match and several matches are the same refusal. Federation never
 * creates a person. Every outcome is a security event, with no personal data in it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { recordEvent } from '../identity/events.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { ACCEPTED_ACR, type FranceConnectClient, FranceConnectError } from './franceconnect-client.ts';
import { matchPivotIdentity, PivotIdentityError, parsePivotIdentity } from './pivot-identity.ts';

/** A flow must come back within ten minutes. */
export const FLOW_MINUTES = 10;

/**
 * What the portal's login page is told after a callback (a query value: never personal data).
 * `refused`: no one, or more than one person, on file has this identity (the same answer for both).
 * `level_refused`: the authentication level is below eidas1. `cancelled`: the person stopped at
 * FranceConnect. `failed`: the answer did not pass the checks. `unavailable`: FranceConnect cannot
 * be reached.
 */
export type FranceConnectRefusal = 'refused' | 'level_refused' | 'cancelled' | 'failed' | 'unavailable';

/** The outcome of a callback: the matched person, or why not. */
export type FranceConnectOutcome = { result: 'ok'; personId: string } | { result: FranceConnectRefusal };

const actor = systemCtx('franceconnect').actor;
const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Keeps only a short token of what an outside party sent (an error code, an acr) for the events. */
const token = (value: string | undefined): string | null =>
  value === undefined ? null : value.replace(/[^A-Za-z0-9_.:/-]/g, '?').slice(0, 60);

/**
 * Starts a login: stores a new flow and returns the value for the browser's flow cookie and the
 * FranceConnect URL to send the browser to. Throws FranceConnectError when discovery fails.
 */
export async function startFranceConnect(
  db: Db,
  client: FranceConnectClient,
  now: Date,
): Promise<{ flowId: string; url: URL }> {
  const request = await client.authorizationRequest();
  const flowId = randomBytes(32).toString('base64url');
  await db.tx(actor, async (tx) => {
    await tx.query('DELETE FROM franceconnect_flows WHERE expires_at < $1', [
      new Date(now.getTime() - 3_600_000),
    ]);
    await tx.query(
      `INSERT INTO franceconnect_flows (flow_hash, state, nonce, code_verifier, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        sha256(flowId),
        request.state,
        request.nonce,
        request.codeVerifier,
        now,
        new Date(now.getTime() + FLOW_MINUTES * 60_000),
      ],
    );
  });
  return { flowId, url: request.url };
}

/** What the callback received: the flow cookie, FranceConnect's query, and where it came from. */
export interface FranceConnectCallback {
  flowId: string | undefined;
  query: URLSearchParams;
  address: string;
}

/**
 * Finishes a login from FranceConnect's redirect: the flow (one use), the error answer if any, the
 * code exchange and signatures, the acr, the pivot identity, then the match. Never throws for a
 * refusal (the browser is sent back to the portal with the result); each outcome is recorded.
 */
export async function finishFranceConnect(
  db: Db,
  client: FranceConnectClient,
  keys: RegistryKeys,
  now: Date,
  input: FranceConnectCallback,
): Promise<FranceConnectOutcome> {
  const record = (action: string, details: Record<string, unknown>) =>
    db.tx(actor, (tx) => recordEvent(tx, { at: now, action, sourceAddress: input.address, details }));
  const refuse = async (
    result: FranceConnectRefusal,
    reason: string,
    details: Record<string, unknown> = {},
  ): Promise<FranceConnectOutcome> => {
    await record('portal.franceconnect_failed', { reason, ...details });
    return { result };
  };

  const flowId = input.flowId;
  if (!flowId || flowId.length > 100) return refuse('failed', 'no flow cookie');
  // Taken before anything is checked: one use, whatever the outcome (a replayed callback finds nothing).
  const [flow] = await db.tx(actor, (tx) =>
    tx.query<{ state: string; nonce: string; code_verifier: string }>(
      `UPDATE franceconnect_flows SET used_at = $2 WHERE flow_hash = $1 AND used_at IS NULL AND expires_at > $2
       RETURNING state, nonce, code_verifier`,
      [sha256(flowId), now],
    ),
  );
  if (!flow) return refuse('failed', 'unknown, expired or used flow');
  const error = input.query.get('error');
  if (error !== null) {
    // An error answer is believed only with this flow's state; else it is someone else's redirect.
    if (input.query.get('state') !== flow.state) return refuse('failed', 'state mismatch');
    const cancelled = error === 'access_denied' || error === 'login_required';
    return refuse(cancelled ? 'cancelled' : 'failed', 'identity provider error', { error: token(error) });
  }

  let answer: Awaited<ReturnType<FranceConnectClient['complete']>>;
  try {
    answer = await client.complete(input.query.toString(), {
      state: flow.state,
      nonce: flow.nonce,
      codeVerifier: flow.code_verifier,
    });
  } catch (caught) {
    if (!(caught instanceof FranceConnectError)) throw caught;
    return refuse(caught.reason === 'discovery failed' ? 'unavailable' : 'failed', caught.reason);
  }
  // acr_values asks for eidas1, but a provider may answer with another level: the check that
  // counts is this one (OpenID Connect Core 3.1.2.1 leaves enforcement to the client). It comes
  // before the match, so that it says nothing about who is on file.
  if (answer.acr === undefined || !(ACCEPTED_ACR as readonly string[]).includes(answer.acr))
    return refuse('level_refused', 'acr not accepted', { acr: token(answer.acr) });
  const details = { issuer: answer.issuer, acr: answer.acr };

  let pivot: ReturnType<typeof parsePivotIdentity>;
  try {
    pivot = parsePivotIdentity(answer.userinfo);
  } catch (caught) {
    if (!(caught instanceof PivotIdentityError)) throw caught;
    return refuse('failed', `pivot identity: ${caught.claim}`, details);
  }
  const personId = await db.tx(actor, (tx) => matchPivotIdentity(tx, keys, pivot));
  // No person and several persons are one refusal, with one reason: the event log, which the
  // security officers read, does not tell them apart either.
  if (personId === null) return refuse('refused', 'no single person on file', details);
  // The person's id stays out of the security events (they concern staff accounts); the portal's
  // session records the person's own access (GDPR art. 15) when it opens.
  await record('portal.franceconnect_ok', details);
  return { result: 'ok', personId };
}
