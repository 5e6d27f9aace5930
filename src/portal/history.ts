/**
 * "Who accessed my record" (docs/DESIGN.md section 10, docs/PORTAL.md): the person's access history
 * from the audit log, each entry with what the page needs to check it was not rewritten, and no
 * more. For an event of leaf format v2 (src/audit/leaf.ts) that is the opening of the person's own
 * link: the public part (time, actor kind, organisation, role, purpose, action, decision), the
 * private part's salted digest, the person's salt and fields, and the list of the event's link
 * commitments (opaque hashes); plus its inclusion proof (RFC 6962) against the latest signed
 * checkpoint, and the checkpoint with its verifier key. The console recomputes the person's
 * commitment, the leaf, the root and the Ed25519 signature in the browser.
 *
 * Never sent: the reading account's id, its session reference, the request id, the source address,
 * the query, the justification, and the other persons (ids and fields) a search returned. A v1
 * event (written before migration 0021) holds those in clear in its leaf: its entry comes without
 * a proof (`leafFormat` v1) rather than with them.
 */
import { type AuditCtx, appendAudit } from '../audit/append.ts';
import { discloseTo, LEAF_FORMAT_V1, LEAF_FORMAT_V2, loadEvents } from '../audit/leaf.ts';
import { inclusionProofsFor, latestCheckpoint } from '../audit/proofs.ts';
import { personAccessHistory } from '../audit/scope.ts';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';

/** One access to the person's record, with its proof. */
export interface HistoryEntry {
  eventId: string;
  /** The leaf's format: v2 entries come with their opening; v1 ones with no proof. */
  leafFormat: typeof LEAF_FORMAT_V1 | typeof LEAF_FORMAT_V2;
  at: string;
  actorKind: string;
  organisationId: string | null;
  organisationName: string | null;
  role: string | null;
  purpose: string | null;
  action: string;
  decision: string;
  /** This person's fields (those of their own link: the opening of their commitment). */
  fields: string[];
  /** The reading staff member's display name, only with REMPART_PORTAL_SHOW_STAFF_NAMES=on. */
  staffName: string | null;
  /** v2: the private part's salted digest (hex); null for v1. */
  privateDigest: string | null;
  /** v2: this person's salt in the event, HMAC-SHA-256(event salt, person id) (hex); null for v1. */
  personSalt: string | null;
  /** v2: every link's commitment (hex, sorted): tells how many persons the event touched, no more. */
  commitments: string[];
  /** Null while the event is not yet covered by a signed checkpoint (seconds, normally). */
  proof: { leafIndex: number; treeSize: number; leafHash: string; hashes: string[] } | null;
}

/** The history page: the entries and the checkpoint their proofs lead to. */
export interface PersonHistory {
  personId: string;
  entries: HistoryEntry[];
  checkpoint: { treeSize: number; note: string; verifierKey: string } | null;
}

/** How many accesses one page shows (newest first). */
export const HISTORY_PAGE = 100;

/**
 * The person's own history, read in their own transaction (RLS: only links that name them), itself
 * recorded as their access (GDPR art. 15) before it is read, so it shows as "you, just now".
 */
export async function myHistory(
  db: Db,
  personId: string,
  audit: Omit<AuditCtx, 'actor'>,
  options: { verifierKey: string | undefined; showStaffNames: boolean },
): Promise<PersonHistory> {
  const actor = { kind: 'person', personId } as const;
  const { entries, checkpoint } = await db.tx(actor, async (tx) => {
    await appendAudit(
      tx,
      { ...audit, actor },
      {
        action: 'portal.access_history',
        purpose: 'data_subject_access',
        query: {},
        decision: 'allow',
        resultCount: 1,
        persons: [{ personId, fields: ['accessHistory'] }],
      },
    );
    const history = await personAccessHistory(tx, personId, { limit: HISTORY_PAGE });
    return { entries: history, checkpoint: await latestCheckpoint(tx) };
  });
  const ids = entries.map((e) => e.eventId);
  // The commitments need every link of each event (a search's other records too) and the event's
  // salt, which the person's RLS hides: read by the system actor, for the events the person's own
  // query returned; only the person's own opening leaves this function.
  const system = systemCtx('portal-history').actor;
  const { disclosed, kinds, proofs, names } = await db.tx(system, async (tx) => {
    const loaded = await loadEvents(tx, ids);
    const disclosed = new Map(loaded.events.map((e) => [e.id, discloseTo(e, personId)]));
    const kinds = new Map(loaded.events.map((e) => [e.id, e.actorKind]));
    const proofs = new Map<string, HistoryEntry['proof']>();
    if (checkpoint) {
      for (const [eventId, p] of await inclusionProofsFor(tx, ids, checkpoint.treeSize)) {
        // A v1 leaf cannot be checked without its clear text: no proof rather than a leak.
        if (!disclosed.get(eventId)) continue;
        proofs.set(eventId, {
          leafIndex: p.leafIndex,
          treeSize: p.treeSize,
          leafHash: p.leafHash,
          hashes: p.proof,
        });
      }
    }
    const names = new Map<string, string>();
    if (options.showStaffNames) {
      const accounts = [...new Set(entries.map((e) => e.accountId).filter((a): a is string => a !== null))];
      const rows = await tx.query<{ id: string; display_name: string }>(
        'SELECT id, display_name FROM accounts WHERE id = ANY($1::uuid[])',
        [accounts],
      );
      for (const row of rows) names.set(row.id, row.display_name);
    }
    return { disclosed, kinds, proofs, names };
  });
  return {
    personId,
    entries: entries.map((e): HistoryEntry => {
      const d = disclosed.get(e.eventId) ?? null;
      // The shown values are the disclosed ones when there are: what the page verifies is what it shows.
      return {
        eventId: e.eventId,
        leafFormat: d ? LEAF_FORMAT_V2 : LEAF_FORMAT_V1,
        at: d?.occurredAt ?? e.at.toISOString(),
        actorKind: d?.actorKind ?? kinds.get(e.eventId) ?? 'system',
        organisationId: d ? d.organisationId : e.organisationId,
        organisationName: e.organisationName,
        role: d ? d.role : e.role,
        purpose: d ? d.purpose : e.purpose,
        action: d?.action ?? e.action,
        decision: d?.decision ?? 'allow',
        fields: d?.fields ?? e.fields,
        staffName: e.accountId === null ? null : (names.get(e.accountId) ?? null),
        privateDigest: d?.privateDigest ?? null,
        personSalt: d?.personSalt ?? null,
        commitments: d?.commitments ?? [],
        proof: proofs.get(e.eventId) ?? null,
      };
    }),
    checkpoint:
      checkpoint && options.verifierKey
        ? { treeSize: checkpoint.treeSize, note: checkpoint.note, verifierKey: options.verifierKey }
        : null,
  };
}
